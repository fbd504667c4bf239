#!/usr/bin/env python3
"""Checks analyze-logs report folders from one log against the generator's expected figures and
against each other (used by e2e.sh, scaling.sh and smoke.sh; stdlib only).

    check_results.py EXPECTED.json REF_DIR [OTHER_DIR ...]

Each *_DIR is an analysis_* folder of a run on one input (a file, a .gz/.zst copy, standard input
or a run folder holding it). Checks:
  - REF_DIR/report.json: per metric, count exact, mean within 1e-6 relative, min and max exact;
    the input's lines, bytes and events equal the generator's lines, bytes and tagged lines;
  - every OTHER_DIR: report.json, SUMMARY.md and timeline.txt byte-identical to REF_DIR's once
    the input's name (inputs[0].path, as each format writes it) and the compression field are
    masked.
Prints one line per check; exits 1 if any fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys


def labels(shown: str) -> list[str]:
    """Every spelling of an input name the reports use."""
    out = {shown, html.escape(shown), html.escape(shown, quote=False)}
    md = re.sub(r"([\\`*_\[\]<>|&])", r"\\\1", shown)
    out |= {md, md.replace("\\<", "&lt;").replace("\\>", "&gt;"), shown.replace("<", "&lt;").replace(">", "&gt;")}
    return sorted(out, key=len, reverse=True)


def input_name(folder: str) -> str:
    with open(os.path.join(folder, "report.json")) as f:
        return json.load(f)["inputs"][0]["path"]


def masked(folder: str, name: str) -> bytes:
    label = input_name(folder)
    with open(os.path.join(folder, name), "rb") as f:
        data = f.read()
    if name == "report.json":
        # Each job is named after what the user gave (the file, "-", the run folder): mask that,
        # as the input's own name is masked below.
        doc = json.loads(data)
        for job in doc.get("jobs", []):
            job["name"] = job["path"] = "@JOB@"
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    for spelling in labels(label):
        data = data.replace(spelling.encode(), b"@INPUT@")
    data = re.sub(rb'"compression": "[a-z]+"', b'"compression": "@C@"', data)
    return re.sub(rb"\| (none|gzip|zstd) \|", b"| @C@ |", data)  # SUMMARY.md's inputs table


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    expected_path, ref_dir = sys.argv[1:3]
    others = sys.argv[3:]
    with open(expected_path) as f:
        exp = json.load(f)
    with open(os.path.join(ref_dir, "report.json")) as f:
        rep = json.load(f)
    ok = True

    def check(cond: bool, what: str) -> None:
        nonlocal ok
        ok &= cond
        print(("ok    " if cond else "FAIL  ") + what)

    inp = rep["inputs"][0]
    check(inp["lines"] == exp["lines"], f"lines {inp['lines']} == {exp['lines']}")
    check(inp["bytes"] == exp["bytes"], f"bytes {inp['bytes']} == {exp['bytes']}")
    check(inp["events"] == exp["tagged_lines"], f"events {inp['events']} == tagged lines {exp['tagged_lines']}")
    check(inp["skipped"] == 0 and not inp["partial"], f"skipped {inp['skipped']}, partial {inp['partial']}")
    for name, e in exp["metrics"].items():
        m = rep["metrics"].get(name)
        if m is None:
            check(False, f"{name}: missing from report.json")
            continue
        rel = abs(m["mean"] - e["mean"]) / max(abs(e["mean"]), 1e-300)
        check(m["count"] == e["count"] and rel <= 1e-6 and m["min"] == e["min"] and m["max"] == e["max"],
              f"{name}: count {m['count']}/{e['count']} mean rel.err {rel:.1e} min {m['min']}/{e['min']} max {m['max']}/{e['max']}")
    for other in others:
        for name in ("report.json", "SUMMARY.md", "timeline.txt"):
            if not os.path.exists(os.path.join(ref_dir, name)):
                continue
            same = masked(ref_dir, name) == masked(other, name)
            check(same, f"{name} identical: {input_name(ref_dir)} vs {input_name(other)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
