#!/usr/bin/env python3
"""Generate a large, realistic prime-rl orchestrator log for benchmarks (stdlib only).

    gen_log.py --size 1G --seed 1 --out FILE [--inference FILE2] [--offset SECONDS] [--hung SHARE]

Writes FILE (and FILE2 when asked) as a stream, plus FILE.expected.json with the exact count,
sum, mean, min and max of every metric the log carries, so a benchmark can check the tool's
numbers as well as its speed. Same arguments, same bytes.

The orchestrator log is loguru's coloured format (ANSI codes on every loguru line). About 93.5 %
of the lines are untagged chatter (info/debug/warning lines, tracebacks, tqdm bars glued with
`\\r`, now and then a very long line, and one v0.5-shape step summary per step, `Step N | Time:
X.XXs | ...`, whose times are the step.orchestrator_s figures) and 6.5 % tagged lines: per step
`[ckpt] wait.start/wait.done`, `[gen] batch.start/batch.done`, `[weights] client.send/client.done`
(unique 16-hex trace ids; now and then a reload whose client.done carries the -1.0 sentinel)
and `[rollout]`. Lines average about 150 bytes, so 1 GiB is about 7.2 million lines. The
optional inference log holds the server half of every update (`server.recv`, `rpc.start`,
`rpc.done` on a clock shifted by --offset) among `[weights][-]` noise, uvicorn access lines and
engine statistics.

Speed: chatter comes from a pool of pre-rendered chunks (a few thousand, rendered once with
random numbers); each use only substitutes the time of day and the step number with two
bytes.replace calls, so the generator runs at a few hundred MB/s. Every value of a tagged line
is printed with one decimal from an integer number of tenths, and the sums are kept as integers
of tenths: the expected sums and means are exact.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from fractions import Fraction

US = 1_000_000
TOD = b"\x00T"  # placeholder: time of day HH:MM:SS
STEP = b"\x00S"  # placeholder: current step number (orchestrator) / server seconds (inference)
E = "\x1b"
COL = {"INFO": f"{E}[1m", "SUCCESS": f"{E}[32m{E}[1m", "WARNING": f"{E}[33m{E}[1m",
       "ERROR": f"{E}[31m{E}[1m", "DEBUG": f"{E}[34m{E}[1m"}


def parse_size(s: str) -> int:
    s = s.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def loguru_t(level: str, msg: str) -> str:
    """A coloured loguru line with the time-of-day placeholder (as text; encoded later)."""
    c = COL[level]
    return f"{E}[2m\x00T{E}[0m {c}{level:>7}{E}[0m {c}{E}[22m{msg}{E}[0m{E}[0m\n"


def tods() -> list[bytes]:
    return [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}".encode() for s in range(86400)]


# ---------------------------------------------------------------------------------------------
# chatter pool

WORDS = ["reward", "advantage", "rollout", "sampler", "buffer", "tokenizer", "scheduler", "client",
         "dataset", "problem", "completion", "policy", "checkpoint", "batch", "micro-batch", "epoch"]
REWARD_FNS = ["math_verify", "gsm8k_reward", "format_reward", "length_penalty", "code_exec"]


def chatter_line(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.16:
        # (The step summary itself is written once per step, by main(), as prime-rl does.)
        return loguru_t("INFO", f"Rollout stats for step \x00S: throughput {rng.uniform(500, 4000):.1f} tokens/s | "
                        f"seq. length {rng.uniform(200, 2000):.1f} tokens/sample | reward {rng.uniform(0, 1):.4f} | "
                        f"async level 2 | off-policy steps {rng.randint(0, 2)}")
    if r < 0.40:
        return loguru_t("DEBUG", f"Computed rewards for step \x00S: mean={rng.uniform(0, 1):.4f} "
                        f"std={rng.uniform(0.1, 0.4):.4f} min={rng.uniform(0, 0.2):.4f} max={rng.uniform(0.8, 1):.4f} "
                        f"({rng.choice([64, 128, 256])} samples, {rng.choice(REWARD_FNS)})")
    if r < 0.55:
        return loguru_t("DEBUG", f"Wrote {rng.choice([64, 128])} rollouts to /models/run/rollouts/step_\x00S/rank_{rng.randint(0, 7)}.pt "
                        f"({rng.uniform(1, 90):.1f} MB)")
    if r < 0.68:
        return loguru_t("INFO", f"Sampled {rng.choice([64, 128])} problems from openai/gsm8k (epoch {rng.randint(0, 3)}, "
                        f"{rng.uniform(0, 100):.1f}% seen, {rng.randint(0, 64)} filtered by difficulty)")
    if r < 0.78:
        a, b = rng.sample(WORDS, 2)
        return loguru_t("DEBUG", f"{a.capitalize()} {b} stats: p50={rng.uniform(0, 5):.3f}s p90={rng.uniform(3, 8):.3f}s "
                        f"p99={rng.uniform(5, 30):.3f}s n={rng.randint(1, 5000)}")
    if r < 0.86:
        return loguru_t("INFO", f"Advantage stats: mean={rng.uniform(-0.05, 0.05):.5f} std={rng.uniform(0.5, 1.5):.5f} "
                        f"min={rng.uniform(-4, -1):.3f} max={rng.uniform(1, 4):.3f}")
    if r < 0.93:
        return loguru_t("WARNING", f"{rng.randint(1, 40)}/{rng.choice([64, 128])} completions were truncated at "
                        f"max_tokens={rng.choice([1024, 2048, 4096])}")
    if r < 0.97:
        return loguru_t("INFO", f"Inference pool: {rng.randint(64, 140)} requests in flight, "
                        f"{rng.randint(0, 40)} queued, {rng.uniform(0, 50):.1f} ms median wait, "
                        f"{rng.uniform(0, 500):.1f} ms p99 wait, keep-alive connections {rng.randint(1, 128)}/128")
    return loguru_t("DEBUG", f"Evicted {rng.randint(1, 500)} cached prompts from the {rng.choice(WORDS)} cache")


def traceback_block(rng: random.Random) -> str:
    n = rng.randint(2, 5)
    out = [loguru_t("ERROR", f"Reward function failed for completion {rng.randint(0, 255)} of step \x00S; assigning reward 0.0"),
           "Traceback (most recent call last):\n"]
    for _ in range(n):
        mod = rng.choice(["advantage", "rewards/math_verify", "client", "buffer", "orchestrator"])
        out.append(f'  File "/app/src/prime_rl/orchestrator/{mod}.py", line {rng.randint(10, 900)}, in {rng.choice(WORDS).replace("-", "_")}\n')
        out.append(f"    {rng.choice(['result = await fn(x)', 'parsed = parse_answer(text)', 'return self._buffer[idx]'])}\n")
    out.append(rng.choice([
        "ValueError: could not parse a boxed answer\n",
        "KeyError: 'rpc_ms'\n",
        "httpx.ReadTimeout: timed out (queue_ms=99999 so far, [weights] client busy)\n",
        "IndexError: list index out of range\n",
    ]))
    return "".join(out)


def tqdm_line(rng: random.Random) -> str:
    total = rng.choice([64, 128, 256])
    desc = rng.choice(["Generating rollouts", "Scoring", "Evaluating"])
    n, segs = 0, []
    rate = rng.uniform(2, 40)
    while True:
        pct = 100 * n // total
        full = 10 * n // total
        bar = ("█" * full).ljust(10)
        el, left = int(n / rate), int((total - n) / rate)
        tail = "?, ?it/s" if n == 0 else f"{left // 60:02d}:{left % 60:02d}, {rate * rng.uniform(0.9, 1.1):5.2f}it/s"
        segs.append(f"{desc}: {pct:3d}%|{bar}| {n}/{total} [{el // 60:02d}:{el % 60:02d}<{tail}]")
        if n >= total:
            break
        n = min(total, n + rng.randint(total // 12, total // 4))
    return "\r" + "\r".join(segs) + "\n"


def long_line(rng: random.Random) -> str:
    k = rng.randint(300, 4000)
    vals = ", ".join(f"{rng.uniform(-3, 3):.4f}" for _ in range(k))
    return loguru_t("DEBUG", f"logits sample (step \x00S): tensor([{vals}], device='cuda:0', dtype=torch.bfloat16)")


def make_pool(rng: random.Random, n_chunks: int) -> list[tuple[list[bytes], list[bytes] | None, int]]:
    """Chunks of chatter as (head, tail, newline count): head and tail are the text split at the
    time-of-day placeholder (so `tod.join(head)` renders them), and the step number goes between
    head and tail (tail is None when the chunk names no step). Only the first step placeholder
    follows the current step; any other one is fixed when the pool is built."""
    pool = []
    for _ in range(n_chunks):
        n = rng.randint(4, 24)
        parts = []
        for _ in range(n):
            r = rng.random()
            if r < 0.004:
                parts.append(traceback_block(rng))
            elif r < 0.013:
                parts.append(tqdm_line(rng))
            elif r < 0.0132:
                parts.append(long_line(rng))
            else:
                parts.append(chatter_line(rng))
        b = "".join(parts).encode("utf-8")
        head, sep, tail = b.partition(STEP)
        while STEP in tail:
            tail = tail.replace(STEP, str(rng.randint(1, 99999)).encode(), 1)
        pool.append((head.split(TOD), tail.split(TOD) if sep else None, b.count(b"\n")))
    return pool


def make_noise_pool(rng: random.Random, n_chunks: int, api: str) -> list[tuple[bytes, int]]:
    """Inference-log chunks: `[weights][-]` middleware lines, access lines, engine stats.
    \x00T is the vLLM time of day, \x00S the server clock's whole seconds."""
    pool = []
    for _ in range(n_chunks):
        parts = []
        for _ in range(rng.randint(4, 30)):
            r = rng.random()
            path = "/v1/chat/completions" if rng.random() < 0.9 else "/v1/completions"
            if r < 0.62:
                parts.append(f"{api}INFO \x00T [server.py:88] [weights][-] server.recv path={path} t=\x00S.{rng.randrange(US):06d}\n")
            elif r < 0.95:
                parts.append(f'{api}INFO:     10.0.0.2:{rng.randint(30000, 65000)} - "POST {path} HTTP/1.1" 200 OK\n')
            else:
                parts.append(f"{api}INFO \x00T [loggers.py:123] Engine 000: Avg prompt throughput: {rng.uniform(500, 3000):.1f} tokens/s, "
                             f"Avg generation throughput: {rng.uniform(1000, 5000):.1f} tokens/s, Running: {rng.randint(60, 140)} reqs, "
                             f"Waiting: {rng.randint(0, 40)} reqs, GPU KV cache usage: {rng.uniform(10, 90):.1f}%, "
                             f"Prefix cache hit rate: {rng.uniform(0, 50):.1f}%\n")
        b = "".join(parts).encode()
        pool.append((b, b.count(b"\n")))
    return pool


# ---------------------------------------------------------------------------------------------


class Metric:
    __slots__ = ("count", "sum", "min", "max", "scale")

    def __init__(self, scale: int = 10):
        self.count = 0
        self.sum = 0  # in 1/scale units (tenths, or hundredths for step times)
        self.min = None
        self.max = None
        self.scale = scale

    def add(self, v: int):
        self.count += 1
        self.sum += v
        if self.min is None or v < self.min:
            self.min = v
        if self.max is None or v > self.max:
            self.max = v

    def json(self) -> dict:
        if not self.count:
            return {"count": 0, "sum": None, "mean": None, "min": None, "max": None}
        sc = self.scale
        digits = len(str(sc)) - 1
        return {"count": self.count, "sum": f"{self.sum // sc}.{self.sum % sc:0{digits}d}",
                "mean": float(Fraction(self.sum, sc * self.count)), "min": self.min / sc, "max": self.max / sc}


def f1(v: int) -> str:
    return f"{v // 10}.{v % 10}"


def ft(us: int) -> str:
    return f"{us // US}.{us % US:06d}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", required=True, help="target size of FILE, e.g. 200M, 1G (K/M/G suffixes are powers of 1024)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--inference", help="also write the inference server's log here")
    ap.add_argument("--offset", type=float, default=51234.5678, help="server clock minus client clock, seconds")
    ap.add_argument("--hung", type=float, default=0.0,
                    help="share of weight updates that never complete (no client.done, no rpc.done): each "
                         "stays in flight through every later generation batch")
    args = ap.parse_args()
    target = parse_size(args.size)
    started = time.perf_counter()

    rng = random.Random(args.seed)
    pool = make_pool(rng, 6000)
    npool = len(pool)
    irng = random.Random(args.seed * 7919 + 17)  # the inference log's own stream: FILE is the same with or without it
    noise_pool = make_noise_pool(irng, 1500, "(APIServer pid=4242) ") if args.inference else []
    irand = irng.random
    TODS = tods()
    rand = rng.random
    pool_s = time.perf_counter() - started
    offset_us = round(args.offset * US)

    t0 = 1834_221700 + rng.randrange(10_000) * US
    wall0 = (8 * 3600 + 12 * 60) * US  # 08:12:00 at t0; ~1 GiB spans into the next day
    mask = (1 << 64) - 1
    salt = rng.getrandbits(64)

    m = {k: Metric() for k in ("weights.wall_ms", "weights.rpc_ms", "weights.queue_ms", "ckpt.wait_ms",
                               "gen.dur_ms", "gen.inflight", "rollout.trunc_pct", "rollout.staleness")}
    m["step.orchestrator_s"] = Metric(100)
    reload_rpc = Metric()
    ev = {k: 0 for k in ("client.send", "client.done", "wait.start", "wait.done", "batch.start", "batch.done", "rollout")}
    sev = {"server.recv": 0, "rpc.start": 0, "rpc.done": 0, "noise": 0}
    reloads = sentinel = hung_n = 0

    out = open(args.out, "wb", buffering=0)
    inf = open(args.inference, "wb", buffering=0) if args.inference else None
    buf: list[bytes] = []
    ibuf: list[bytes] = []
    size = isize = 0
    lines = ilines = 0
    blen = 0
    FLUSH = 8 << 20

    col_info = f"{E}[0m {COL['INFO']}   INFO{E}[0m {COL['INFO']}{E}[22m".encode()
    pre0 = f"{E}[2m".encode()
    suf = f"{E}[0m{E}[0m\n".encode()
    api = b"(APIServer pid=4242) INFO "
    dates = [f"10-{14 + d:02d} ".encode() for d in range(17)]  # the run starts on 10-14

    t = t0
    step = 0
    ckpt = 0
    while size < target:
        step += 1
        stepb = str(step).encode()
        step_start = t

        def tod(tu: int) -> bytes:
            return TODS[((wall0 + tu - t0) // US) % 86400]

        def dtod(tu: int) -> bytes:  # vLLM's "MM-DD HH:MM:SS"
            sec = (wall0 + tu - t0) // US
            return dates[sec // 86400] + TODS[sec % 86400]

        def chunk(tu: int) -> None:
            nonlocal blen, lines
            head, tail, n = pool[int(rand() * npool)]
            tb = tod(tu)
            b = tb.join(head)
            buf.append(b)
            blen += len(b)
            if tail is not None:
                b = tb.join(tail)
                buf.append(stepb)
                buf.append(b)
                blen += len(b) + len(stepb)
            lines += n

        def tagged(tu: int, msg: str) -> None:
            nonlocal blen, lines
            b = pre0 + tod(tu) + col_info + msg.encode() + suf
            buf.append(b)
            blen += len(b)
            lines += 1

        def server(tc: int, src: str, msg: str) -> None:
            nonlocal isize, ilines
            b = api + dtod(tc) + f" [{src}] {msg}\n".encode()
            ibuf.append(b)
            isize += len(b)
            ilines += 1

        # --- checkpoint wait
        chunk(t)
        target_step = max(0, step - 2)
        tagged(t, f"[ckpt] wait.start target_step={target_step}")
        ev["wait.start"] += 1
        wait = int(5 + rand() * 2995) if rand() < 0.85 else int(3000 + rand() * 57000)
        t += wait * 100
        tagged(t, f"[ckpt] wait.done target_step={target_step} wait_ms={f1(wait)}")
        ev["wait.done"] += 1
        m["ckpt.wait_ms"].add(wait)
        ckpt = target_step
        chunk(t)

        # --- generation batch with a weight update in flight
        b_start = t
        inflight0 = 64 + int(rand() * 77)
        tagged(t, f"[gen] batch.start inflight={inflight0} target_batch=64")
        ev["batch.start"] += 1
        chunk(t)
        t_send = t + 5000 + int(rand() * 145000)
        tid = f"{((step * 0x9E3779B97F4A7C15) ^ salt) & mask:016x}"
        is_reload = rand() < 0.002
        hung = args.hung > 0 and rand() < args.hung  # no draw at all without --hung: same bytes
        u = rand()
        q = int(50 + rand() * 2950) if u < 0.90 else (int(3000 + rand() * 17000) if u < 0.98 else int(100000 + rand() * 300000))
        r = int(9000 + rand() * 7000) if rand() < 0.99 else int(20000 + rand() * 60000)
        wall = q + r
        if is_reload:
            reloads += 1
            tagged(t_send, f"[weights][{tid}] client.send url=http://10.0.0.5:8000 t={ft(t_send)}")
        else:
            tagged(t_send, f"[weights][{tid}] client.send url=http://10.0.0.5:8000 path=/models/run/checkpoints/step_{target_step} t={ft(t_send)}")
        ev["client.send"] += 1
        if inf is not None:
            s2c = 5 + int(irand() * 30)
            pre = 1 + int(irand() * 3)
            c2s = q - pre - s2c
            recv = t_send + c2s * 100
            rs = recv + pre * 100
            rd = rs + r * 100
            op = "reload_weights" if is_reload else "update_weights"
            nb, nn = noise_pool[int(irand() * len(noise_pool))]
            nb = nb.replace(TOD, dtod(recv)).replace(STEP, str((recv + offset_us) // US).encode())
            ibuf.append(nb)
            isize += len(nb)
            ilines += nn
            sev["noise"] += nb.count(b"[weights][-]")
            server(recv, "server.py:88", f"[weights][{tid}] server.recv path=/{op} t={ft(recv + offset_us)}")
            server(rs, "server.py:131", f"[weights][{tid}] rpc.start op={op} t={ft(rs + offset_us)}")
            sev["server.recv"] += 1
            sev["rpc.start"] += 1
            if not hung:
                server(rd, "server.py:139", f"[weights][{tid}] rpc.done op={op} t={ft(rd + offset_us)} rpc_ms={f1(r)}")
                sev["rpc.done"] += 1
                if is_reload:
                    reload_rpc.add(r)
        chunk(t_send)
        t_done = t_send + wall * 100
        if hung:
            hung_n += 1
        elif is_reload:
            sentinel += 1
            tagged(t_done, f"[weights][{tid}] client.done wall_ms={f1(wall)} rpc_ms=-1.0 queue_ms=-1.0")
        else:
            tagged(t_done, f"[weights][{tid}] client.done wall_ms={f1(wall)} rpc_ms={f1(r)} queue_ms={f1(q)}")
            m["weights.rpc_ms"].add(r)
            m["weights.queue_ms"].add(q)
        if not hung:
            m["weights.wall_ms"].add(wall)
            ev["client.done"] += 1
        chunk(t_done)
        need = (t_done - b_start) // 100
        dur = max(int(10000 + rand() * 40000), need + int(500 + rand() * 19500))
        t = b_start + dur * 100
        inflight1 = 64 + int(rand() * 77)
        tagged(t, f"[gen] batch.done completions=64 dur_ms={f1(dur)} inflight={inflight1}")
        ev["batch.done"] += 1
        m["gen.dur_ms"].add(dur)
        m["gen.inflight"].add(inflight1 * 10)
        chunk(t)

        # --- rollout quality
        t += 2000 + int(rand() * 20000)
        trunc = int(rand() * 400)
        stale = step - ckpt if step - ckpt <= 3 else 3
        tagged(t, f"[rollout] trunc_pct={f1(trunc)} current_step={step} ckpt_step={ckpt} staleness={stale}")
        ev["rollout"] += 1
        m["rollout.trunc_pct"].add(trunc)
        m["rollout.staleness"].add(stale * 10)
        chunk(t)
        t += 20000 + int(rand() * 200000)

        # --- the step summary: the step's time from its first line to here, in hundredths
        took = (t - step_start + 5000) // 10000
        b = (pre0 + tod(t) + f"{E}[0m {COL['SUCCESS']}SUCCESS{E}[0m {COL['SUCCESS']}{E}[22m".encode() +
             f"Step {step} | Time: {took // 100}.{took % 100:02d}s | Reward: {rand():.4f} | Throughput: "
             f"{500 + rand() * 3500:.1f} tokens/s | Seq. Length: {200 + rand() * 1800:.1f} tokens/sample | "
             f"Async level: 2 | Off-policy steps: {int(rand() * 3)}".encode() + suf)
        buf.append(b)
        blen += len(b)
        lines += 1
        m["step.orchestrator_s"].add(took)

        if blen >= FLUSH:
            data = b"".join(buf)
            out.write(data)
            size += len(data)
            buf.clear()
            blen = 0
            if inf is not None:
                inf.write(b"".join(ibuf))
                ibuf.clear()
        elif size + blen >= target:
            break
    if buf:
        data = b"".join(buf)
        out.write(data)
        size += len(data)
    out.close()
    if inf is not None:
        inf.write(b"".join(ibuf))
        inf.close()

    tagged_lines = sum(ev.values())
    expected = {
        "generator": "tests/bench/gen_log.py",
        "args": {"size": args.size, "seed": args.seed, "offset": args.offset,
                 **({"hung": args.hung} if args.hung > 0 else {})},
        "file": args.out,
        "bytes": size,
        "lines": lines,
        "tagged_lines": tagged_lines,
        "tagged_fraction": round(tagged_lines / lines, 6),
        "avg_line_bytes": round(size / lines, 2),
        "steps": step,
        "events": ev,
        "updates": {"sent": ev["client.send"], "complete": ev["client.done"], "reloads": reloads,
                    "sentinel_client_done": sentinel, **({"hung": hung_n} if args.hung > 0 else {})},
        "metrics": {k: v.json() for k, v in m.items()},
        "note": "values are printed with one decimal (step times with two); sums are exact (kept in "
                "integer tenths or hundredths); "
                "mean is the exact sum/count rounded to the nearest double; the -1.0 sentinel is "
                "in no metric except weights.wall_ms",
    }
    if inf is not None:
        expected["inference"] = {
            "file": args.inference, "bytes": isize, "lines": ilines, "offset_s": args.offset,
            "events": sev, "metrics": {"weights.reload_rpc_ms": reload_rpc.json()},
        }
    with open(args.out + ".expected.json", "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    el = time.perf_counter() - started
    total = size + isize
    print(f"wrote {size} bytes, {lines} lines ({tagged_lines} tagged, {100 * tagged_lines / lines:.2f} %, "
          f"{size / lines:.1f} B/line){f' + inference {isize} bytes' if inf else ''} in {el:.2f}s "
          f"({total / el / 1e6:.0f} MB/s; {(total) / (el - pool_s) / 1e6:.0f} MB/s after {pool_s:.2f}s building the pools)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
