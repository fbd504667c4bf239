#!/usr/bin/env python3
"""Write the prime-rl sample runs under testdata/runs/ (deterministic, stdlib only).

    python3 testdata/gen/make_prime_rl.py [--out testdata/runs]

Three runs, each a prime-rl output folder (`logs/orchestrator.log`, `logs/inference.log`, a
trainer log) plus `expected.json`:

  healthy  ~40 fast updates; every metric inside the seeds' "good" ranges.
  prefix   the seeds' run before the dedicated admin client: queue_ms ~30 s (mean exactly
           28453.2), rpc_ms mean exactly 1234.5, generation batches that spike while a slow update
           is in flight, two reloads with the -1.0 sentinel, one update hung in the engine.
  postfix  after the fix: queue_ms mean exactly 87.2, rpc_ms mean exactly 1234.5, plain
           (uncoloured) orchestrator log, crosses midnight.

The logs are simulated, not parsed back: every time is an integer number of microseconds on the
orchestrator's monotonic clock, every duration of a weight update an integer number of tenths
of a millisecond (what the logs print with one decimal), so all the identities hold exactly:

    server t        = client t + offset                   (offset per inference log)
    rpc.done - rpc.start = rpc_ms / 1000
    client.done     = client.send + wall_ms / 1000,   wall_ms = queue_ms + rpc_ms
    queue_ms        = client->server + server pre-rpc + server->client

expected.json is computed from the simulated values (exact rational arithmetic, percentiles by
linear interpolation between closest ranks: numpy's default), never from the written text.
Running the script again rewrites the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
from fractions import Fraction
from pathlib import Path

US = 1_000_000
TENTH = 100  # microseconds in 0.1 ms

# ---------------------------------------------------------------------------------------------
# formatting helpers


def ft(us: int) -> str:
    """Seconds with six decimals from integer microseconds."""
    assert us >= 0, us
    return f"{us // US}.{us % US:06d}"


def f1(tenths: int) -> str:
    """A non-negative number of tenths printed with one decimal (exact)."""
    assert tenths >= 0, tenths
    return f"{tenths // 10}.{tenths % 10}"


def hms(sec: int) -> str:
    sec %= 86400
    return f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"


LOGURU_COLOUR = {
    "INFO": "\x1b[1m",
    "SUCCESS": "\x1b[32m\x1b[1m",
    "WARNING": "\x1b[33m\x1b[1m",
    "ERROR": "\x1b[31m\x1b[1m",
    "DEBUG": "\x1b[34m\x1b[1m",
}


def loguru(tod: str, level: str, msg: str, colour: bool) -> str:
    if colour:
        c = LOGURU_COLOUR[level]
        return f"\x1b[2m{tod}\x1b[0m {c}{level:>7}\x1b[0m {c}\x1b[22m{msg}\x1b[0m\x1b[0m"
    return f"{tod} {level:>7} {msg}"


class Clock:
    """Maps the orchestrator's monotonic clock (µs) to wall time of day and date."""

    def __init__(self, t0_us: int, wall0_us: int, month: int, day: int):
        self.t0_us = t0_us
        self.wall0_us = wall0_us  # µs since midnight of (month, day) at t0
        self.month = month
        self.day = day

    def wall_sec(self, t_us: int) -> int:
        return (self.wall0_us + (t_us - self.t0_us)) // US

    def tod(self, t_us: int) -> str:
        return hms(self.wall_sec(t_us))

    def mmdd(self, t_us: int) -> str:
        return f"{self.month:02d}-{self.day + self.wall_sec(t_us) // 86400:02d}"

    def ymd(self, t_us: int) -> str:
        return f"2025-{self.mmdd(t_us)}"


class Log:
    """Lines with a time; rendered in time order (ties keep insertion order)."""

    def __init__(self):
        self.entries: list[tuple[int, int, str]] = []
        self.seq = 0

    def add(self, t_us: int, text: str):
        self.entries.append((t_us, self.seq, text))
        self.seq += 1

    def render(self) -> bytes:
        self.entries.sort()
        return "".join(text + "\n" for _, _, text in self.entries).encode("utf-8")

    def last_time(self) -> int:
        return max(t for t, _, _ in self.entries)


# ---------------------------------------------------------------------------------------------
# statistics (independent of the log text)

QUANTILES = (("p50", Fraction(1, 2)), ("p90", Fraction(9, 10)), ("p95", Fraction(19, 20)), ("p99", Fraction(99, 100)))


def stats(values: list[Fraction]) -> dict:
    n = len(values)
    if n == 0:
        return {"count": 0, "mean": None, "min": None, "p50": None, "p90": None, "p95": None, "p99": None, "max": None}
    xs = sorted(values)
    out = {"count": n, "mean": float(sum(xs) / n), "min": float(xs[0])}
    for name, q in QUANTILES:
        pos = (n - 1) * q
        lo = pos.numerator // pos.denominator
        frac = pos - lo
        v = xs[lo] if frac == 0 else xs[lo] + (xs[lo + 1] - xs[lo]) * frac
        out[name] = float(v)
    out["max"] = float(xs[-1])
    return out


def tenths_frac(v: int) -> Fraction:
    return Fraction(v, 10)


def force_mean(vals: list[int], mean_tenths: int, lo: int, hi: int, idxs: list[int]) -> None:
    """Shift vals[idxs] so that sum(vals) == mean_tenths * len(vals) exactly."""
    diff = mean_tenths * len(vals) - sum(vals)
    q, r = divmod(diff, len(idxs))
    for j, i in enumerate(idxs):
        vals[i] += q + (1 if j < r else 0)
    assert sum(vals) == mean_tenths * len(vals)
    assert all(lo <= v <= hi for v in vals), (min(vals), max(vals))


# ---------------------------------------------------------------------------------------------
# run configurations

RUNS = {
    "healthy": dict(
        seed=1001,
        colour=True,
        steps=43,  # steps 0..42; updates at 3..42 -> 40 updates
        t0=53712_884100,
        wall0=(18, 30, 40, 250000),
        date=(10, 14),
        offset=0,  # inference server on the same host as the orchestrator
        trainer="single",
        trainer_colour=False,
        api_pid_prefix="none",
        reloads=[("start", "value")],
        hung=False,
        noise_lines=700,
        traceback_step=17,
        glued_step=None,
    ),
    "prefix": dict(
        seed=2002,
        colour=True,
        steps=34,  # updates at 3..33 -> 31 sent, the last one hangs in the engine
        t0=1834_221700,
        wall0=(11, 20, 5, 500000),
        date=(10, 14),
        offset=51234_567800,
        trainer="ranks",
        trainer_colour=True,
        api_pid_prefix="all",
        reloads=[("start", "sentinel"), (17, "sentinel")],
        hung=True,
        noise_lines=520,
        traceback_step=9,
        glued_step=12,
    ),
    "postfix": dict(
        seed=3003,
        colour=False,
        steps=34,  # updates at 3..33 -> 31 updates, all complete
        t0=98765_432100,
        wall0=(23, 59, 1, 250000),
        date=(10, 14),
        offset=-7301_246800,
        trainer="single",
        trainer_colour=False,
        api_pid_prefix="mixed",
        reloads=[("start", "sentinel"), (20, "sentinel")],
        hung=False,
        noise_lines=650,
        traceback_step=14,
        glued_step=None,
    ),
}

HOST_URL = "http://10.0.0.5:8000"
CKPT_DIR = "/models/run/checkpoints"
ASYNC_LEVEL = 2


def weight_values(name: str, rng: random.Random, n_complete: int):
    """queue_ms and rpc_ms (tenths of ms) of the completed updates, in order."""
    if name == "healthy":
        queue = [rng.randint(120, 620) for _ in range(n_complete)]
        rpc = [rng.randint(11500, 12950) for _ in range(n_complete)]
        return queue, rpc
    rpc = [rng.randint(11000, 14000) for _ in range(n_complete)]
    force_mean(rpc, 12345, 10000, 15000, list(range(n_complete)))
    if name == "prefix":
        # Two updates got through before the pool filled up; the rest waited ~30 s.
        low = {0, 19}
        queue = []
        for i in range(n_complete):
            if i in low:
                queue.append(rng.randint(1800, 9000))
            else:
                queue.append(max(210000, min(390000, int(rng.gauss(300000, 40000)))))
        high = [i for i in range(n_complete) if i not in low]
        force_mean(queue, 284532, 1000, 400000, high)
        return queue, rpc
    # postfix: a dedicated admin client, every update well under 300 ms
    queue = [rng.randint(300, 1500) for _ in range(n_complete)]
    force_mean(queue, 872, 300, 2800, list(range(n_complete)))
    return queue, rpc


# ---------------------------------------------------------------------------------------------
# chatter

REWARD_FNS = ["math_verify", "gsm8k_reward", "format_reward"]


def tqdm_segments(rng: random.Random, desc: str, total: int, secs: float) -> list[str]:
    """tqdm refreshes of one bar, as they are written (each one preceded by a carriage return)."""
    segs = []
    n = 0
    parts = "▏▎▍▌▋▊▉"
    while True:
        frac = n / total
        full = int(frac * 10)
        rem = int((frac * 10 - full) * 8)
        bar = "█" * full + (parts[rem - 1] if rem > 0 and full < 10 else "") 
        bar = bar.ljust(10)
        el = secs * frac * (1 + (rng.uniform(-0.12, 0.12) if 0 < n < total else 0))
        rate = (n / el) if el > 0 else 0.0
        left = (total - n) / rate if rate > 0 else 0
        el_s = f"{int(el) // 60:02d}:{int(el) % 60:02d}"
        if n == 0:
            tail = f"[{el_s}<?, ?it/s]"
        else:
            tail = f"[{el_s}<{int(left) // 60:02d}:{int(left) % 60:02d}, {rate:5.2f}it/s]"
        segs.append(f"{desc}: {int(frac * 100):3d}%|{bar}| {n}/{total} {tail}")
        if n >= total:
            break
        n = min(total, n + rng.randint(5, 17))
    return segs


def traceback_lines(kind: str, step: int) -> list[str]:
    if kind == "httpx":
        return [
            "Traceback (most recent call last):",
            '  File "/app/src/prime_rl/orchestrator/client.py", line 141, in update_weights',
            "    response = await client.post(url, json=payload, headers=headers)",
            '  File "/app/.venv/lib/python3.12/site-packages/httpx/_client.py", line 1859, in post',
            "    return await self.request(",
            '  File "/app/.venv/lib/python3.12/site-packages/httpx/_transports/default.py", line 394, in handle_async_request',
            "    with map_httpcore_exceptions():",
            '  File "/usr/lib/python3.12/contextlib.py", line 158, in __exit__',
            "    self.gen.throw(value)",
            '  File "/app/src/prime_rl/orchestrator/client.py", line 152, in update_weights',
            '    logger.info(f"[weights][{trace_id}] client.done wall_ms={wall_ms:.1f} rpc_ms={rpc_ms:.1f} queue_ms={queue_ms:.1f}")',
            "httpx.PoolTimeout: all connections in the pool are busy (max_connections=128, queue_ms=99999 so far)",
        ]
    return [
        "Traceback (most recent call last):",
        '  File "/app/src/prime_rl/orchestrator/advantage.py", line 77, in compute_rewards',
        "    rewards = await asyncio.gather(*[reward_fn(c) for c in completions])",
        '  File "/app/src/prime_rl/orchestrator/rewards/math_verify.py", line 42, in reward_fn',
        "    parsed = parse_answer(completion.text)",
        '  File "/app/src/prime_rl/orchestrator/rewards/math_verify.py", line 18, in parse_answer',
        '    raise ValueError(f"could not parse a boxed answer from {text[:40]!r}")',
        f"ValueError: could not parse a boxed answer from 'The answer is \\\\boxed{{\\\\frac{{3}}{{' (step {step})",
    ]


# ---------------------------------------------------------------------------------------------
# the simulation


def build_run(name: str, cfg: dict):
    rng = random.Random(cfg["seed"])
    colour = cfg["colour"]
    h, m, s, frac_us = cfg["wall0"]
    clock = Clock(cfg["t0"], ((h * 60 + m) * 60 + s) * US + frac_us, *cfg["date"])
    offset = cfg["offset"]
    N = cfg["steps"]

    orch = Log()
    inf = Log()  # keyed by CLIENT time; rendered with server t= values
    tr0 = Log()
    tr1 = Log()

    def O(t, level, msg):
        orch.add(t, loguru(clock.tod(t), level, msg, colour))

    def O_raw(t, text):
        orch.add(t, text)

    pid_mode = cfg["api_pid_prefix"]

    def api_prefix(kind: str) -> str:
        if pid_mode == "none":
            return ""
        if pid_mode == "all" or kind != "startup":
            return "(APIServer pid=4242) "
        return ""

    engine_prefix = "" if pid_mode == "none" else "(EngineCore_0 pid=4388) "

    def I(t_client, src, msg, kind="api", level="INFO"):
        pre = api_prefix(kind) if kind != "engine" else engine_prefix
        inf.add(t_client, f"{pre}{level} {clock.mmdd(t_client)} {clock.tod(t_client)} [{src}] {msg}")

    def I_access(t_client, path, status="200 OK", port=None):
        port = port if port is not None else rng.randint(40000, 60999)
        pre = api_prefix("api")
        inf.add(t_client, f'{pre}INFO:     10.0.0.2:{port} - "POST {path} HTTP/1.1" {status}')

    def srv(t_client):
        return t_client + offset

    def T(rank: int, t, level, msg):
        log = tr0 if rank == 0 or cfg["trainer"] == "single" else tr1
        log.add(t, f"[trainer{rank}]:" + loguru(clock.tod(t), level, msg, cfg["trainer_colour"]))

    def T_raw(rank: int, t, text):
        log = tr0 if rank == 0 or cfg["trainer"] == "single" else tr1
        log.add(t, f"[trainer{rank}]:" + text)

    # ---- values fixed up front ------------------------------------------------------------
    update_steps = list(range(ASYNC_LEVEL + 1, N))
    n_sent = len(update_steps)
    n_complete = n_sent - (1 if cfg["hung"] else 0)
    queue_vals, rpc_vals = weight_values(name, rng, n_complete)

    used_ids: set[str] = set()

    def new_id() -> str:
        while True:
            x = f"{rng.getrandbits(64):016x}"
            if x not in used_ids:
                used_ids.add(x)
                return x

    updates = []  # in order of client.send
    metrics = {k: [] for k in (
        "weights.wall_ms", "weights.rpc_ms", "weights.queue_ms", "weights.reload_rpc_ms",
        "ckpt.write_ms", "ckpt.wait_ms", "gen.dur_ms", "gen.inflight", "rollout.trunc_pct",
        "rollout.staleness")}
    counts = {"weights_dash_noise_lines": 0, "uvicorn_access_lines": 0, "engine_stats_lines": 0,
              "batches_started": 0, "batches_done": 0, "tqdm_lines": 0, "glued_tagged_after_cr": 0,
              "traceback_lines": 0}

    def split_queue(q_tenths: int, saturated: bool):
        """queue_ms -> (client->server, server pre-rpc, server->client), tenths of ms."""
        pre = rng.randint(1, 4)
        s2c = rng.randint(5, 40) if not saturated else rng.randint(8, 60)
        c2s = q_tenths - pre - s2c
        assert c2s >= 20, (q_tenths, c2s)
        return c2s, pre, s2c

    def do_weights(t_send: int, step: int | None, q: int | None, r: int, sentinel: bool,
                   hung: bool = False, c2s_override: int | None = None):
        """Write one update or reload (client and server side); returns client.done time."""
        tid = new_id()
        op = "update" if step is not None else "reload"
        if q is None:  # sentinel reload: the queue part is still physical
            c2s = c2s_override if c2s_override is not None else rng.randint(60, 400)
            pre = rng.randint(1, 4)
            s2c = rng.randint(5, 40)
            qt = c2s + pre + s2c
        else:
            c2s, pre, s2c = split_queue(q, q > 10000)
            qt = q
        wall = qt + r
        if step is not None:
            O(t_send, "INFO", f"[weights][{tid}] client.send url={HOST_URL} path={CKPT_DIR}/step_{step} t={ft(t_send)}")
        else:
            O(t_send, "INFO", f"[weights][{tid}] client.send url={HOST_URL} t={ft(t_send)}")
        recv = t_send + c2s * TENTH
        rpc_start = recv + pre * TENTH
        rpc_done = rpc_start + r * TENTH
        t_done = rpc_done + s2c * TENTH
        assert t_done == t_send + wall * TENTH
        path = "/update_weights" if op == "update" else "/reload_weights"
        rop = "update_weights" if op == "update" else "reload_weights"
        I(recv, "server.py:88", f"[weights][{tid}] server.recv path={path} t={ft(srv(recv))}")
        I(rpc_start, "server.py:131", f"[weights][{tid}] rpc.start op={rop} t={ft(srv(rpc_start))}")
        if op == "update":
            I(rpc_start + rng.randint(200, 900), "worker.py:57",
              f"Updating weights from {CKPT_DIR}/step_{step}/pytorch_model.bin", kind="engine")
        else:
            I(rpc_start + rng.randint(200, 900), "worker.py:74", "Reloading base weights from Qwen/Qwen3-8B", kind="engine")
        rec = {
            "trace_id": tid, "op": op, "step": step,
            "wall_ms": None, "rpc_ms": None, "queue_ms": None, "complete": not hung,
            "client": {"send_t": t_send / US, "done_t": None},
            "server": {"log": "logs/inference.log", "recv_t": srv(recv) / US,
                       "rpc_start_t": srv(rpc_start) / US, "rpc_done_t": None, "rpc_ms": None},
            "phases_ms": {"client_to_server_ms": c2s / 10, "server_pre_rpc_ms": pre / 10,
                          "engine_ms": None, "server_to_client_ms": None},
        }
        updates.append(rec)
        if hung:
            return None
        I(rpc_done - rng.randint(1000, 20000), "worker.py:61" if op == "update" else "worker.py:80",
          f"Loaded weights in {r / 10000:.2f} seconds", kind="engine")
        I(rpc_done, "server.py:139", f"[weights][{tid}] rpc.done op={rop} t={ft(srv(rpc_done))} rpc_ms={f1(r)}")
        I_access(rpc_done + rng.randint(100, 900), path)
        counts["uvicorn_access_lines"] += 1
        if sentinel:
            O(t_done, "INFO", f"[weights][{tid}] client.done wall_ms={f1(wall)} rpc_ms=-1.0 queue_ms=-1.0")
        else:
            O(t_done, "INFO", f"[weights][{tid}] client.done wall_ms={f1(wall)} rpc_ms={f1(r)} queue_ms={f1(qt)}")
            metrics["weights.rpc_ms"].append(tenths_frac(r))
            metrics["weights.queue_ms"].append(tenths_frac(qt))
            rec["rpc_ms"] = r / 10
            rec["queue_ms"] = qt / 10
        if op == "reload":
            metrics["weights.reload_rpc_ms"].append(tenths_frac(r))
        metrics["weights.wall_ms"].append(tenths_frac(wall))
        rec["wall_ms"] = wall / 10
        rec["client"]["done_t"] = t_done / US
        rec["server"]["rpc_done_t"] = srv(rpc_done) / US
        rec["server"]["rpc_ms"] = r / 10
        rec["phases_ms"]["engine_ms"] = r / 10
        rec["phases_ms"]["server_to_client_ms"] = s2c / 10
        return t_done

    # ---- startup ----------------------------------------------------------------------------
    t = cfg["t0"]
    inf_start = t - 95 * US
    I(inf_start, "api_server.py:1805", "vLLM API server version 0.10.1.1", kind="startup")
    I(inf_start + 2100, "utils.py:326", "non-default args: {'model': 'Qwen/Qwen3-8B', 'host': '0.0.0.0', 'port': 8000, "
      "'max_model_len': 8192, 'tensor_parallel_size': 1, 'data_parallel_size': 1, 'gpu_memory_utilization': 0.9, "
      "'enable_prefix_caching': True, 'max_num_seqs': 256, 'worker_extension_cls': "
      "'prime_rl.inference.vllm.worker.CheckpointWorker'}", kind="startup")
    I(inf_start + 3_400_000, "model.py:547", "Resolved architecture: Qwen3ForCausalLM", kind="startup")
    I(inf_start + 9_800_000, "core.py:74", "Initializing a V1 LLM engine (v0.10.1.1) with config: model='Qwen/Qwen3-8B', "
      "speculative_config=None, tokenizer='Qwen/Qwen3-8B', skip_tokenizer_init=False, dtype=torch.bfloat16, "
      "max_seq_len=8192, download_dir=None, load_format=auto, tensor_parallel_size=1, seed=0", kind="engine")
    I(inf_start + 31_500_000, "gpu_model_runner.py:1892", "Model loading took 15.2683 GiB and 19.412331 seconds", kind="engine")
    I(inf_start + 44_000_000, "kv_cache_utils.py:849", "GPU KV cache size: 401,632 tokens", kind="engine")
    I(inf_start + 44_100_000, "kv_cache_utils.py:853", "Maximum concurrency for 8,192 tokens per request: 49.03x", kind="engine")
    I(inf_start + 52_000_000, "api_server.py:1847", f"Starting vLLM API server 0 on {HOST_URL.replace('10.0.0.5', '0.0.0.0')}")
    for k, route in enumerate(["/health", "/v1/models", "/v1/chat/completions", "/v1/completions", "/update_weights", "/reload_weights"]):
        I(inf_start + 52_000_000 + 10 * k, "launcher.py:37", f"Route: {route}, Methods: {'GET' if route in ('/health', '/v1/models') else 'POST'}")
    pre = api_prefix("api")
    inf.add(inf_start + 52_100_000, f"{pre}INFO:     Started server process [4242]")
    inf.add(inf_start + 52_100_010, f"{pre}INFO:     Waiting for application startup.")
    inf.add(inf_start + 52_100_020, f"{pre}INFO:     Application startup complete.")
    inf.add(inf_start + 70_000_000, f'{pre}INFO:     10.0.0.2:39814 - "GET /health HTTP/1.1" 200 OK')

    tr_start = t - 80 * US
    T(0, tr_start, "INFO", "Starting RL trainer on 2 GPUs (world_size=2, rank=0)")
    T(1, tr_start + 1200, "INFO", "Starting RL trainer on 2 GPUs (world_size=2, rank=1)")
    T(0, tr_start + 14_000_000, "INFO", "Loaded model Qwen/Qwen3-8B (8.19B parameters) in 13.87s")
    T(1, tr_start + 14_100_000, "INFO", "Loaded model Qwen/Qwen3-8B (8.19B parameters) in 13.92s")
    T_raw(0, tr_start + 15_000_000, f"[rank0]:[W{clock.mmdd(tr_start).replace('-', '')} {clock.tod(tr_start + 15_000_000)}.412381 "
          "ProcessGroupNCCL.cpp:4715] [PG ID 0 PG GUID 0 Rank 0]  using GPU 0 to perform barrier as devices used by "
          "this process are currently unknown. This can potentially cause a hang if this rank to GPU mapping is incorrect.")
    T_raw(1, tr_start + 15_000_300, f"[rank1]:[W{clock.mmdd(tr_start).replace('-', '')} {clock.tod(tr_start + 15_000_300)}.412702 "
          "ProcessGroupNCCL.cpp:4715] [PG ID 0 PG GUID 0 Rank 1]  using GPU 1 to perform barrier as devices used by "
          "this process are currently unknown. This can potentially cause a hang if this rank to GPU mapping is incorrect.")
    T(0, tr_start + 16_000_000, "INFO", "Initialized optimizer AdamW (lr=1.00e-06, weight_decay=0.01)")
    T(0, tr_start + 16_500_000, "INFO", "Waiting for rollouts of step 1 in /models/run/rollouts/step_0")

    O(t, "INFO", "Starting orchestrator")
    O(t + 1800, "INFO", "Loading config from configs/reverse_text/orch.toml")
    O(t + 2500, "DEBUG", "Config: {'model': {'name': 'Qwen/Qwen3-8B'}, 'client': {'base_url': 'http://10.0.0.5:8000/v1', "
      "'timeout': 1200, 'max_connections': 128}, 'sampling': {'temperature': 1.0, 'max_tokens': 2048}, "
      "'batch_size': 64, 'micro_batch_size': 8, 'seq_len': 4096, 'async_level': 2, 'max_steps': "
      f"{N}, 'ckpt': {{'path': '/models/run/checkpoints', 'interval': 1}}, 'log': {{'level': 'debug', 'file': True}}}}")
    O(t + 40_000, "INFO", f"Connecting to inference server at {HOST_URL}")
    O(t + 52_300, "INFO", "Inference server is ready")
    O(t + 310_000, "INFO", "Loaded 7473 problems from dataset openai/gsm8k (split=train)")
    O(t + 312_000, "INFO", f"Using async level {ASYNC_LEVEL}: rollouts may be at most {ASYNC_LEVEL} steps off-policy")
    t += 400_000

    reloads = {where: kind for where, kind in cfg["reloads"]}
    reload_rpc_iter = iter({"healthy": [3124], "prefix": [3881, 15237], "postfix": [3519, 4216]}[name])

    def do_reload(t0: int, kind: str, saturated: bool) -> int:
        r = next(reload_rpc_iter)
        if kind == "value":
            q = rng.randint(150, 420)
            return do_weights(t0, None, q, r, sentinel=False)
        c2s = rng.randint(250000, 290000) if saturated else None
        return do_weights(t0, None, None, r, sentinel=True, c2s_override=c2s)

    if "start" in reloads:
        O(t, "INFO", "Resetting inference server to base weights")
        t = do_reload(t + 900, reloads["start"], saturated=False) + rng.randint(300, 3000)

    # ---- steps ------------------------------------------------------------------------------
    R: dict[int, int] = {}  # step -> time its rollouts were handed to the trainer
    W: dict[int, int] = {}  # checkpoint -> trainer's write.done time
    write_ms: dict[int, int] = {}
    ckpt = 0
    upd_i = 0  # index into the completed-update value arrays
    trunc_hi_done = False
    end_t = None

    for s in range(N):
        step_start = t
        is_update = s - ckpt > ASYNC_LEVEL
        hung = cfg["hung"] and s == N - 1

        if s in reloads and isinstance(s, int):
            O(t, "WARNING", "Inference server reported a stale adapter cache; reloading weights")
            t = do_reload(t + 1500, reloads[s], saturated=(name == "prefix")) + rng.randint(500, 4000)
            O(t, "INFO", "Orchestrator resumed: weights reloaded")
            t += rng.randint(1000, 5000)

        if is_update:
            target = s - ASYNC_LEVEL
            A = t
            O(A, "INFO", f"[ckpt] wait.start target_step={target}")
            # the trainer's checkpoint `target` (trained on the rollouts of step target-1)
            base = R[target - 1]
            if name == "healthy":
                frac = rng.uniform(0.55, 1.02)
            elif name == "prefix":
                frac = rng.uniform(0.35, 1.04)
            else:
                frac = rng.uniform(0.5, 1.03)
            w_ms = rng.randint(6200, 9400) if name != "prefix" else rng.randint(7200, 14200)
            cand = base + int(frac * (A - base))
            prev = W.get(target - 1, 0)
            cand = max(cand, prev + w_ms * TENTH + 150_000)
            if cand > A:
                tail = rng.randint(5, 400)  # polling interval remainder, tenths
                wait = (cand - A) // TENTH + tail
                Wt = A + wait * TENTH - tail * TENTH
            else:
                wait = rng.randint(8, 250)
                Wt = cand
            W[target] = Wt
            write_ms[target] = w_ms
            paused = wait >= 3000
            if paused:
                O(A + 500, "INFO", f"Orchestrator paused: waiting for trainer to write checkpoint {target}")
            t_wd = A + wait * TENTH
            O(t_wd, "INFO", f"[ckpt] wait.done target_step={target} wait_ms={f1(wait)}")
            metrics["ckpt.wait_ms"].append(tenths_frac(wait))
            if paused:
                O(t_wd + 200, "INFO", f"Orchestrator resumed: checkpoint {target} ready (after {wait / 10000:.2f}s)")
            t = t_wd + rng.randint(300, 4000)
            O(t, "DEBUG", f"Updating weights to checkpoint {target}")
            ckpt = target
            t += rng.randint(100, 900)

        # generation batch
        B = t
        O(B - 50, "DEBUG", f"Sampled 64 problems for step {s} (epoch 0, {100 * (s + 1) * 64 / 7473:.1f}% seen)")
        if name == "healthy":
            inflight0 = rng.randint(64, 92)
        else:
            inflight0 = rng.randint(128, 134)
        O(B, "INFO", f"[gen] batch.start inflight={inflight0} target_batch=64")
        counts["batches_started"] += 1

        need = 0
        saturated = False
        if is_update:
            t_send = B + rng.randint(5000, 150000)
            if hung:
                c2s = rng.randint(260000, 300000)
                r_h = rng.randint(11000, 14000)
                do_weights(t_send, target, c2s + 3 + 20, r_h, sentinel=False, hung=True)
                end_t = t_send
                break
            q, r = queue_vals[upd_i], rpc_vals[upd_i]
            upd_i += 1
            saturated = q > 10000
            t_done = do_weights(t_send, target, q, r, sentinel=False)
            need = t_done - B

        # duration of the batch (tenths of ms)
        if saturated:
            dur = need // TENTH + rng.randint(15000, 140000)
        elif name == "healthy":
            lo = max(10050, need // TENTH + 1500)
            dur = rng.randint(lo, 48500)
        elif name == "prefix":
            lo = max(25000, need // TENTH + 2000)
            dur = rng.randint(lo, max(lo, 49000))
        else:
            lo = max(18000, need // TENTH + 2000)
            dur = rng.randint(lo, 55000)
        t_bd = B + dur * TENTH
        inflight1 = rng.randint(64, 96) if name == "healthy" else rng.randint(128, 140)
        done_msg = f"[gen] batch.done completions=64 dur_ms={f1(dur)} inflight={inflight1}"
        metrics["gen.dur_ms"].append(tenths_frac(dur))
        metrics["gen.inflight"].append(Fraction(inflight1))
        counts["batches_done"] += 1

        # a tqdm bar now and then; in one run the batch.done line is glued after its last \r
        if s == cfg["glued_step"]:
            segs = tqdm_segments(rng, f"Generating rollouts (step {s})", 64, dur / 10000)
            text = "\r" + "\r".join(segs) + "\r" + " " * len(segs[-1]) + "\r" + loguru(clock.tod(t_bd), "INFO", done_msg, colour)
            O_raw(t_bd, text)
            counts["tqdm_lines"] += 1
            counts["glued_tagged_after_cr"] += 1
        else:
            if s % 5 == 2:
                segs = tqdm_segments(rng, f"Generating rollouts (step {s})", 64, dur / 10000)
                O_raw(t_bd - 800, "\r" + "\r".join(segs))
                counts["tqdm_lines"] += 1
            O(t_bd, "INFO", done_msg)
        R[s] = t_bd

        # rollout quality
        if name == "healthy":
            trunc = rng.randint(5, 60)
        elif name == "prefix":
            trunc = rng.randint(10, 95)
            if s == 21 and not trunc_hi_done:
                trunc, trunc_hi_done = 123, True
        else:
            trunc = rng.randint(8, 80)
        stale = s - ckpt
        tr_t = t_bd + rng.randint(2000, 20000)
        if trunc >= 50:
            O(tr_t - 500, "WARNING", f"{round(64 * trunc / 1000)}/64 completions were truncated at max_tokens=2048")
        O(tr_t, "INFO", f"[rollout] trunc_pct={f1(trunc)} current_step={s} ckpt_step={ckpt} staleness={stale}")
        metrics["rollout.trunc_pct"].append(tenths_frac(trunc))
        metrics["rollout.staleness"].append(Fraction(stale))

        t2 = tr_t + rng.randint(3000, 30000)
        reward = rng.uniform(0.2, 0.8)
        O(t2, "DEBUG", f"Computed rewards: mean={reward:.4f} std={rng.uniform(0.15, 0.35):.4f} (64 samples, {REWARD_FNS[s % 3]})")
        if s == cfg["traceback_step"]:
            O(t2 + 100, "ERROR", f"Reward function failed for completion 17 of step {s}; assigning reward 0.0")
            for line in traceback_lines("reward", s):
                O_raw(t2 + 100, line)
                counts["traceback_lines"] += 1
        if name == "prefix" and s == 26:
            O(t2 + 200, "WARNING", "Inference request failed, retrying (1/3)")
            for line in traceback_lines("httpx", s):
                O_raw(t2 + 200, line)
                counts["traceback_lines"] += 1
        t3 = t2 + rng.randint(20000, 120000)
        O(t3, "DEBUG", f"Wrote 64 rollouts to /models/run/rollouts/step_{s}/rank_0.pt")
        t4 = t3 + rng.randint(1000, 9000)
        toks = rng.uniform(600, 1100)
        O(t4, "SUCCESS", f"Step {s} | Time: {(t4 - step_start) / US:.2f}s | Reward: {reward:.4f} | "
          f"Throughput: {64 * toks / ((t4 - step_start) / US):.1f} tokens/s | Seq. Length: {toks:.1f} tokens/sample")
        t = t4 + rng.randint(2000, 60000)

    # ---- the end of the orchestrator log ----------------------------------------------------
    if cfg["hung"]:
        hid = updates[-1]["trace_id"]
        for k in (1, 2, 3):
            O(end_t + k * 60 * US, "WARNING", f"update_weights(step_{N - 1 - ASYNC_LEVEL}) has not returned after {k * 60}s (trace {hid})")
        end_t = end_t + 200 * US
        O(end_t, "ERROR", "Received SIGTERM, shutting down")
    else:
        end_t = t
        O(end_t, "SUCCESS", f"Orchestrator finished after {N} steps")

    # ---- trainer: every checkpoint, in order ------------------------------------------------
    last_target = max(W)
    k = last_target + 1
    while k - 1 in R:  # checkpoints trained after the orchestrator's last wait
        w_ms = rng.randint(6200, 9400) if name != "prefix" else rng.randint(7200, 14200)
        cand = max(R[k - 1], W[k - 1]) + rng.randint(2_000_000, 6_000_000) + w_ms * TENTH
        if cand >= end_t:
            break
        W[k] = cand
        write_ms[k] = w_ms
        k += 1
    for ck in sorted(W):
        w_end = W[ck]
        w_start = w_end - write_ms[ck] * TENTH
        tr_step_t = w_start - rng.randint(2000, 30000)
        began = max(R[ck - 1], W.get(ck - 1, 0))
        T(0, tr_step_t, "SUCCESS", f"Step {ck} | Time: {max(0.5, (tr_step_t - began) / US):.2f}s | Loss: {rng.uniform(-0.02, 0.02):.4f} | "
          f"Entropy: {rng.uniform(0.4, 0.9):.4f} | Grad. Norm: {rng.uniform(0.05, 0.4):.4f} | LR: 1.00e-06 | "
          f"Throughput: {rng.randint(9000, 15000)} tokens/s | MFU: {rng.uniform(28, 45):.1f}%")
        T(1, tr_step_t + rng.randint(100, 3000), "DEBUG", f"Rank 1 finished step {ck} (peak memory 61.{rng.randint(10, 99)} GiB)")
        T(0, w_start, "INFO", f"Saving weight checkpoint to {CKPT_DIR}/step_{ck}")
        T(0, w_end, "INFO", f"[ckpt] write.done step={ck} write_ms={f1(write_ms[ck])}")
        metrics["ckpt.write_ms"].append(tenths_frac(write_ms[ck]))
        T(0, w_end + rng.randint(500, 5000), "INFO", f"Waiting for rollouts of step {ck + 1} in /models/run/rollouts/step_{ck}")
        if ck % 11 == 4:
            T(0, w_end + 8000, "WARNING", f"Deleting old checkpoint {CKPT_DIR}/step_{ck - 3} (keep_last=3)")

    # ---- inference noise: generation traffic through the same middleware --------------------
    lo_t, hi_t = cfg["t0"], end_t + 4 * US
    for _ in range(cfg["noise_lines"]):
        tn = rng.randint(lo_t, hi_t)
        path = "/v1/chat/completions" if rng.random() < 0.93 else "/v1/completions"
        I(tn, "server.py:88", f"[weights][-] server.recv path={path} t={ft(srv(tn))}")
        counts["weights_dash_noise_lines"] += 1
        if rng.random() < 0.45:
            I_access(tn + rng.randint(2000, 80000), path)
            counts["uvicorn_access_lines"] += 1
    ts = inf_start + 75 * US
    while ts < hi_t:
        run = rng.randint(100, 140) if name != "healthy" else rng.randint(60, 96)
        I(ts, "loggers.py:123", f"Engine 000: Avg prompt throughput: {rng.uniform(800, 2400):.1f} tokens/s, "
          f"Avg generation throughput: {rng.uniform(1800, 4200):.1f} tokens/s, Running: {run} reqs, "
          f"Waiting: {rng.randint(0, 30)} reqs, GPU KV cache usage: {rng.uniform(20, 80):.1f}%, "
          f"Prefix cache hit rate: {rng.uniform(5, 40):.1f}%")
        counts["engine_stats_lines"] += 1
        ts += 10 * US
    if cfg["hung"]:
        I(hi_t + 1 * US, "launcher.py:80", "Shutting down FastAPI HTTP server.")

    # ---- files ------------------------------------------------------------------------------
    files = {
        "logs/orchestrator.log": orch.render(),
        "logs/inference.log": inf.render(),
    }
    if cfg["trainer"] == "single":
        files["logs/trainer.log"] = tr0.render()
        trainer_files = ["logs/trainer.log"]
    else:
        files["logs/trainer/rank_0.log"] = tr0.render()
        files["logs/trainer/rank_1.log"] = tr1.render()
        trainer_files = ["logs/trainer/rank_0.log", "logs/trainer/rank_1.log"]

    first_tod = clock.wall_sec(min(e[0] for e in orch.entries))
    last_tod = clock.wall_sec(end_t)
    expected = {
        "run": name,
        "generator": "testdata/gen/make_prime_rl.py",
        "note": "computed from the simulated values, not by parsing the logs; statistics are exact "
                "rationals rounded to the nearest double; percentiles interpolate linearly between "
                "closest ranks (numpy's default)",
        "files": {"orchestrator": "logs/orchestrator.log", "inference": ["logs/inference.log"],
                  "trainer": trainer_files},
        "orchestrator_colour": colour,
        "async_level": ASYNC_LEVEL,
        "time_of_day": {"first": hms(first_tod), "last": hms(last_tod),
                        "crosses_midnight": last_tod // 86400 != first_tod // 86400},
        "clocks": [{"log": "logs/inference.log", "offset_s": offset / US, "offset_us": offset}],
        "metrics": {k: stats(v) for k, v in metrics.items()},
        "updates_sent": len(updates),
        "updates_complete": sum(1 for u in updates if u["complete"]),
        "reloads": sum(1 for u in updates if u["op"] == "reload"),
        "sentinel_client_done": sum(1 for u in updates if u["complete"] and u["rpc_ms"] is None),
        "counts": counts,
        "updates": updates,
    }
    return files, expected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "runs"))
    args = ap.parse_args()
    out = Path(args.out)
    for name, cfg in RUNS.items():
        files, expected = build_run(name, cfg)
        for rel, data in files.items():
            p = out / name / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        (out / name / "expected.json").write_bytes((json.dumps(expected, indent=2) + "\n").encode())
        m = expected["metrics"]
        print(f"{name}: updates sent={expected['updates_sent']} complete={expected['updates_complete']} "
              f"queue_ms mean={m['weights.queue_ms']['mean']} (n={m['weights.queue_ms']['count']}) "
              f"rpc_ms mean={m['weights.rpc_ms']['mean']} (n={m['weights.rpc_ms']['count']}) "
              f"offset={expected['clocks'][0]['offset_s']} "
              f"sizes=" + ",".join(f"{rel.split('/')[-1]}:{len(d)}" for rel, d in files.items()))


if __name__ == "__main__":
    main()
