#!/usr/bin/env python3
"""A job of any kind written again as if it were running, for the --follow tests.

    follow_replay.py SOURCE_DIR DEST_DIR [--lines N] [--tick S] [--until FRACTION]

Recreates SOURCE_DIR's tree under DEST_DIR. Files that are not logs (*.json, *.yaml, ...) are
copied first. Every log (*.log, *.out, *.err, *.txt, *.jsonl) is then written N lines at a time,
all logs in turn, a tick of S seconds apart; a log's file appears with its first line, so the
follow sees files that appear later. With --until F (0 < F < 1) it stops after the first F of every
log's lines and leaves the job silent (a hang); otherwise it writes everything, ending the job the
way the job ended. DEST_DIR/replay.log records `EPOCH what` for each tick.
"""
import argparse
import os
import shutil
import time

LOGS = (".log", ".out", ".err", ".txt", ".jsonl")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--lines", type=int, default=20)
    ap.add_argument("--tick", type=float, default=0.05)
    ap.add_argument("--until", type=float, default=1.0)
    a = ap.parse_args()
    logs = []
    for root, _, files in os.walk(a.src):
        for name in sorted(files):
            src = os.path.join(root, name)
            dst = os.path.join(a.dst, os.path.relpath(src, a.src))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if name.endswith(LOGS) and not os.path.islink(src):
                with open(src, "rb") as f:
                    lines = f.read().splitlines(keepends=True)
                logs.append([dst, lines[: max(1, int(len(lines) * a.until))] if a.until < 1 else lines, 0])
            else:
                shutil.copy(src, dst, follow_symlinks=True)
    out = open(os.path.join(a.dst, "replay.log"), "a", buffering=1)
    handles = {}
    while any(pos < len(lines) for _, lines, pos in logs):
        for entry in logs:
            dst, lines, pos = entry
            if pos >= len(lines):
                continue
            f = handles.get(dst)
            if f is None:
                f = handles[dst] = open(dst, "ab")
            f.write(b"".join(lines[pos : pos + a.lines]))
            f.flush()
            entry[2] = pos + a.lines
        out.write(f"{time.time():.3f} tick\n")
        time.sleep(a.tick)
    out.write(f"{time.time():.3f} done\n")
    for f in handles.values():
        f.close()


if __name__ == "__main__":
    main()
