#!/usr/bin/env python3
"""Write testdata/shapes/: one tiny file per real-world line shape, and its README.md table.

    python3 testdata/gen/make_shapes.py [--out testdata/shapes]

Deterministic (the binary garbage comes from a fixed seed); running it again rewrites the same
bytes. Each entry below is the file's exact bytes and what a parser must get from it; the README
table is generated from the same entries so the two cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

E = "\x1b"
TID = "54127134d8134dbd"
TID2 = "bae4d097d7704bc7"
TID3 = "0a1b2c3d4e5f6071"
URL = "http://10.0.0.5:8000"
CK = "/models/run/checkpoints"

LEVEL_COLOUR = {"INFO": f"{E}[1m", "SUCCESS": f"{E}[32m{E}[1m", "WARNING": f"{E}[33m{E}[1m",
                "ERROR": f"{E}[31m{E}[1m", "DEBUG": f"{E}[34m{E}[1m"}


def ansi(tod: str, level: str, msg: str) -> str:
    c = LEVEL_COLOUR[level]
    return f"{E}[2m{tod}{E}[0m {c}{level:>7}{E}[0m {c}{E}[22m{msg}{E}[0m{E}[0m"


def plain(tod: str, level: str, msg: str) -> str:
    return f"{tod} {level:>7} {msg}"


def lines(*ls: str, eol: str = "\n") -> bytes:
    return "".join(x + eol for x in ls).encode("utf-8")


SEND = f"[weights][{TID}] client.send url={URL} path={CK}/step_42 t=53712.884100"
DONE = f"[weights][{TID}] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4"
SEND_V = f"`client.send` {TID}, path step 42, t=53712.8841"
DONE_V = f"`client.done` {TID}: wall_ms 447.9, rpc_ms 422.5, queue_ms 25.4"


def shapes(rng: random.Random):
    out = []

    # ---- loguru, coloured ----------------------------------------------------------------
    out.append((
        "loguru_ansi.log",
        "orchestrator, loguru `HH:MM:SS LEVEL message` with the ANSI colour codes loguru writes to the file",
        lines(
            ansi("18:30:47", "INFO", SEND),
            ansi("18:30:48", "INFO", DONE),
            ansi("18:30:48", "SUCCESS", "Step 42 | Time: 34.21s | Reward: 0.4312 | Throughput: 1834.2 tokens/s | Seq. Length: 812.4 tokens/sample"),
            ansi("18:30:49", "WARNING", "[ckpt] wait.done target_step=42 wait_ms=12.3"),
            ansi("18:30:50", "ERROR", "Reward function failed for completion 17 of step 42; assigning reward 0.0"),
        ),
        f"5 lines, 3 events, 0 skipped: {SEND_V} at 18:30:47; {DONE_V} at 18:30:48; `wait.done` "
        "target_step 42, wait_ms 12.3 at 18:30:49 (WARNING level). The SUCCESS and ERROR lines are "
        "not events. No escape byte may reach a value.",
    ))

    # ---- loguru, plain ---------------------------------------------------------------------
    out.append((
        "loguru_plain.log",
        "orchestrator, loguru without colours (`11:22:20    INFO message`)",
        lines(
            plain("11:22:19", "INFO", f"[weights][{TID2}] client.send url={URL} path={CK}/step_7 t=4077.120000"),
            plain("11:22:19", "INFO", "[gen] batch.start inflight=96 target_batch=64"),
            plain("11:22:20", "INFO", f"[weights][{TID2}] client.done wall_ms=433.5 rpc_ms=422.5 queue_ms=11.1"),
            plain("11:22:22", "INFO", "[gen] batch.done completions=64 dur_ms=2345.6 inflight=96"),
            plain("11:22:22", "INFO", "[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1"),
            plain("11:22:22", "SUCCESS", "Step 10 | Time: 3.02s | Reward: 0.5120"),
        ),
        f"6 lines, 5 events: `client.send` {TID2} step 7 t=4077.12 (11:22:19); `batch.start` inflight 96 "
        f"target_batch 64; `client.done` {TID2} wall_ms 433.5, rpc_ms 422.5, queue_ms 11.1 (11:22:20); "
        "`batch.done` completions 64, dur_ms 2345.6, inflight 96 (11:22:22); `rollout` trunc_pct 2.3, "
        "current_step 10, ckpt_step 9, staleness 1.",
    ))

    # ---- vLLM ------------------------------------------------------------------------------
    out.append((
        "vllm.log",
        "inference server, vLLM `LEVEL MM-DD HH:MM:SS [file.py:N] message`, with and without `(APIServer pid=N) `",
        lines(
            f"INFO 10-14 18:30:47 [server.py:88] [weights][{TID}] server.recv path=/update_weights t=53712.884100",
            f"(APIServer pid=4242) INFO 10-14 18:30:47 [server.py:131] [weights][{TID}] rpc.start op=update_weights t=53712.884300",
            f"(EngineCore_0 pid=4388) INFO 10-14 18:30:47 [worker.py:57] Updating weights from {CK}/step_42/pytorch_model.bin",
            f"(APIServer pid=4242) INFO 10-14 18:30:48 [server.py:139] [weights][{TID}] rpc.done op=update_weights t=53713.306800 rpc_ms=422.5",
            'INFO:     10.0.0.2:51234 - "POST /update_weights HTTP/1.1" 200 OK',
            "INFO 10-14 18:30:49 [server.py:88] [weights][-] server.recv path=/v1/chat/completions t=53714.901200",
            "(APIServer pid=4242) INFO 10-14 18:30:57 [loggers.py:123] Engine 000: Avg prompt throughput: 1234.5 tokens/s, "
            "Avg generation throughput: 2345.6 tokens/s, Running: 128 reqs, Waiting: 12 reqs, GPU KV cache usage: 45.6%, "
            "Prefix cache hit rate: 12.3%",
            f"INFO 10-14 18:31:02 [server.py:88] [weights][{TID3}] server.recv path=/reload_weights t=53727.099800",
            f"INFO 10-14 18:31:02 [server.py:131] [weights][{TID3}] rpc.start op=reload_weights t=53727.100000",
            f"WARNING 10-14 18:31:02 [server.py:139] [weights][{TID3}] rpc.done op=reload_weights t=53727.512300 rpc_ms=412.3",
        ),
        f"10 lines, 6 events, all dated 10-14: {TID} `server.recv` path /update_weights t=53712.8841 "
        f"(18:30:47); `rpc.start` op update_weights t=53712.8843; `rpc.done` op update_weights "
        f"t=53713.3068 rpc_ms 422.5 (18:30:48; rpc.done − rpc.start = 0.4225 s); {TID3} `server.recv` "
        "/reload_weights t=53727.0998, `rpc.start` op reload_weights t=53727.1, `rpc.done` op "
        "reload_weights t=53727.5123 rpc_ms 412.3 (WARNING level; a `weights.reload_rpc_ms` sample). "
        "One `[weights][-]` noise line (not an event, not skipped); the uvicorn access line, the "
        "engine line and the stats line are not events.",
    ))

    # ---- trainer rank prefix ---------------------------------------------------------------
    out.append((
        "trainer_rank_prefix.log",
        "trainer, torchrun `[trainerN]:` rank prefix before loguru's own (plain and coloured)",
        lines(
            "[trainer0]:18:31:01 SUCCESS Step 42 | Time: 8.21s | Loss: 0.0123 | Entropy: 0.8120",
            "[trainer0]:18:31:01    INFO Saving weight checkpoint to /models/run/checkpoints/step_42",
            "[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4",
            "[trainer1]:18:31:02   DEBUG Rank 1 finished step 42 (peak memory 61.34 GiB)",
            "[trainer0]:[rank0]:[W1014 18:31:03.412381 ProcessGroupNCCL.cpp:4715] [PG ID 0 PG GUID 0 Rank 0]  using GPU 0 to perform barrier",
            "[trainer0]:" + ansi("18:31:40", "INFO", "[ckpt] write.done step=43 write_ms=8234.5"),
            "[trainer1]: 18:31:41    INFO [ckpt] write.done step=43 write_ms=8240.1",
        ),
        "7 lines, 3 events: `write.done` step 42 write_ms 823.4 (18:31:02); `write.done` step 43 "
        "write_ms 8234.5 (18:31:40, colour codes after the rank prefix); `write.done` step 43 write_ms "
        "8240.1 (18:31:41, rank 1, a space after the colon). The `[rank0]:[W1014 ...]` NCCL line is not an event.",
    ))

    # ---- JSON lines ------------------------------------------------------------------------
    rec = {"text": "18:30:50 | INFO | [rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1\n",
           "record": {"elapsed": {"repr": "0:00:03.120000", "seconds": 3.12},
                      "level": {"icon": "ℹ️", "name": "INFO", "no": 20},
                      "message": "[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1",
                      "module": "orchestrator", "name": "prime_rl.orchestrator.orchestrator",
                      "time": {"repr": "2025-10-14 18:30:50.000000+00:00", "timestamp": 1760466650.0}}}
    out.append((
        "jsonl.log",
        "orchestrator in JSON-lines mode: one object per line with `timestamp`, `level`, `message` "
        "(and one loguru `serialize=True` record, message under `record`)",
        lines(
            json.dumps({"timestamp": "2025-10-14T18:30:47.123456+00:00", "level": "INFO", "message": SEND}),
            json.dumps({"timestamp": "2025-10-14T18:30:48.001234+00:00", "level": "INFO", "message": DONE}),
            json.dumps({"timestamp": "2025-10-14T18:30:48.500000+00:00", "level": "SUCCESS", "message": "Step 42 | Time: 34.21s"}),
            json.dumps({"timestamp": "2025-10-14T18:30:49.000001+00:00", "level": "DEBUG",
                        "message": f"{E}[1m[gen] batch.done completions=64 dur_ms=2345.6 inflight=96{E}[0m"}),
            '{"timestamp": "2025-10-14T18:30:49.500000+00:00", "level": "INFO", "message": "[weights][' + TID + '] client.done wall_ms=1.0',
            json.dumps(rec, ensure_ascii=False),
            json.dumps({"timestamp": "2025-10-14T18:30:51.000000+00:00", "level": "WARNING",
                        "message": "[ckpt] wait.done target_step=42 wait_ms=12.3", "extra": {"step": 42}}),
        ),
        f"7 lines, 5 events: {SEND_V} (18:30:47, 10-14); {DONE_V} (18:30:48); `batch.done` dur_ms "
        "2345.6, inflight 96 (18:30:49; the message holds `\\u001b` colour codes, stripped); `rollout` "
        "trunc_pct 2.3, staleness 1 (loguru serialize record: message under `record.message`; "
        "its time is in `record.time`, not required); `wait.done` target_step 42, wait_ms 12.3 "
        "(18:30:51). Line 5 is a record cut mid-string: skipped, counted (bad JSON), no event. "
        "The SUCCESS line is not an event.",
    ))

    # ---- CRLF ------------------------------------------------------------------------------
    out.append((
        "crlf.log",
        "orchestrator with CRLF line endings",
        lines(
            plain("18:30:47", "INFO", SEND),
            plain("18:30:48", "INFO", DONE),
            plain("18:30:50", "INFO", "[gen] batch.done completions=64 dur_ms=2345.6 inflight=96"),
            plain("18:30:50", "INFO", "[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1"),
            eol="\r\n",
        ),
        f"4 lines (not 8), 4 events, values with no `\\r`: {SEND_V}; {DONE_V} (the last field is "
        "25.4, not `25.4\\r`); `batch.done` dur_ms 2345.6, inflight 96; `rollout` trunc_pct 2.3, "
        "staleness 1.",
    ))

    # ---- tqdm ------------------------------------------------------------------------------
    bar0 = "Generating rollouts:   0%|          | 0/64 [00:00<?, ?it/s]"
    bar1 = "Generating rollouts:  50%|█████     | 32/64 [00:01<00:01, 21.30it/s]"
    bar2 = "Generating rollouts: 100%|██████████| 64/64 [00:02<00:00, 27.31it/s]"
    ev0 = "Evaluating:   0%|          | 0/8 [00:00<?, ?it/s]"
    ev1 = "Evaluating: 100%|██████████| 8/8 [00:01<00:00,  6.02it/s]"
    out.append((
        "tqdm_cr.log",
        "tqdm progress bars whose refreshes are glued with `\\r` on one physical line; tagged messages after a `\\r`",
        lines(
            plain("18:30:47", "INFO", "[gen] batch.start inflight=96 target_batch=64"),
            "\r" + bar0 + "\r" + bar1 + "\r" + bar2 + "\r" + plain("18:30:50", "INFO", "[gen] batch.done completions=64 dur_ms=2345.6 inflight=96"),
            "\r" + bar0 + "\r" + bar2 + "\r" + " " * len(bar2) + "\r" + ansi("18:30:51", "INFO", "[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1"),
            "\r" + ev0 + "\r" + ev1,
            "\r" + ev0 + "\r" + ev1 + "\r[ckpt] wait.done target_step=43 wait_ms=5432.1",
            plain("18:30:58", "INFO", "[ckpt] wait.start target_step=44"),
        ),
        "6 lines (`\\n`), 5 events: `batch.start` inflight 96 (18:30:47); `batch.done` dur_ms 2345.6, "
        "inflight 96 (18:30:50, after three bar segments); `rollout` trunc_pct 2.3, staleness 1 "
        "(18:30:51, coloured, after a blank-padding segment); `wait.done` target_step 43, wait_ms "
        "5432.1 (bare message after a `\\r`, no prefix, no time of day); `wait.start` target_step 44 "
        "(18:30:58). Bar segments are not events; line numbers count `\\n` only (the tagged ones "
        "are on lines 1, 2, 3, 5, 6).",
    ))

    # ---- truncated last line ---------------------------------------------------------------
    out.append((
        "truncated_last_line.log",
        "a job killed mid-write: the last line is cut mid-value and has no trailing newline",
        lines(
            plain("18:30:47", "INFO", "[gen] batch.start inflight=128 target_batch=64"),
            plain("18:30:47", "INFO", f"[weights][{TID}] client.send url={URL} path={CK}/step_42 t=53712.884100"),
            plain("18:30:48", "INFO", "[ckpt] wait.done target_step=42 wait_ms=12.3"),
        ) + plain("18:30:52", "INFO", f"[weights][{TID}] client.done wall_ms=1255.6 rpc_ms=12").encode(),
        f"4 lines (the last one counted although it has no `\\n`), 3 events (`batch.start`, "
        f"`client.send` {TID} step 42, `wait.done` wait_ms 12.3). The last line (`rpc_ms=12`, cut "
        "from 1255.4, and no queue_ms) is not an event: skipped and counted (missing field); the "
        "update has no client.done (incomplete); no wall_ms/rpc_ms sample.",
    ))

    # ---- NUL and binary garbage ------------------------------------------------------------
    garbage1 = bytes(rng.randrange(256) for _ in range(300))
    garbage2 = bytes(rng.randrange(256) for _ in range(200))
    data = (
        lines(plain("18:30:47", "INFO", SEND))
        + b"\x00" * 64 + b"\n"
        + garbage1 + b"\n"
        + lines(plain("18:30:48", "INFO", DONE))
        + plain("18:30:48", "INFO", "Step 42 summary \x00\x00\x00\x00 written").encode() + b"\n"
        + b"\xff\xfe\xfd\x1b[\x1b[31\x1b" + b"\n"
        + lines(plain("18:30:50", "INFO", "[gen] batch.done completions=64 dur_ms=2345.6 inflight=96"))
        + garbage2 + b"\x00\x00\n"
        + lines(plain("18:30:51", "INFO", "[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1"))
    )
    n_lines = data.count(b"\n")
    for tag in (b"[weights]", b"[gen]", b"[ckpt]", b"[rollout]"):
        assert garbage1.count(tag) == 0 and garbage2.count(tag) == 0
    out.append((
        "nul_garbage.log",
        "NUL runs, random binary bytes (fixed seed), invalid UTF-8 and stray escape bytes between tagged lines",
        data,
        f"{n_lines} lines, 4 events, exactly: {SEND_V}; {DONE_V}; `batch.done` dur_ms 2345.6, inflight 96; `rollout` "
        "trunc_pct 2.3, staleness 1. Nothing else is an event; the garbage neither stops the scan "
        "nor shifts a value.",
    ))

    # ---- [weights][-] noise ----------------------------------------------------------------
    noise = []
    t = 53700_000000
    for i in range(24):
        t += rng.randint(20_000, 400_000)
        sec = 47 + (t - 53700_000000) // 1_000_000
        pre = "(APIServer pid=4242) " if i % 3 == 0 else ""
        path = "/v1/chat/completions" if i % 5 else "/v1/completions"
        noise.append(f"{pre}INFO 10-14 18:30:{sec:02d} [server.py:88] [weights][-] server.recv path={path} t={t // 1_000_000}.{t % 1_000_000:06d}")
        if i == 11:
            noise.append(f"INFO 10-14 18:30:{sec:02d} [server.py:88] [weights][{TID}] server.recv path=/update_weights t={(t + 1) // 1_000_000}.{(t + 1) % 1_000_000:06d}")
        if i % 4 == 1:
            noise.append(f'{pre}INFO:     10.0.0.2:{51000 + i} - "POST {path} HTTP/1.1" 200 OK')
    out.append((
        "weights_dash_noise.log",
        "the inference middleware's `[weights][-] server.recv` lines for every untraced request",
        lines(*noise),
        f"{len(noise)} lines: 24 `[weights][-]` noise lines (counted as noise: not updates, not "
        f"skipped, never joined), 6 uvicorn access lines, and 1 event: `server.recv` {TID} path "
        "/update_weights.",
    ))

    # ---- sentinel --------------------------------------------------------------------------
    out.append((
        "sentinel.log",
        "`rpc_ms=-1.0 queue_ms=-1.0`: the client's \"server reported no rpc_ms\" sentinel",
        lines(
            plain("18:30:40", "INFO", f"[weights][{TID3}] client.send url={URL} t=53705.000000"),
            plain("18:30:40", "INFO", f"[weights][{TID3}] client.done wall_ms=412.3 rpc_ms=-1.0 queue_ms=-1.0"),
            plain("18:30:47", "INFO", SEND),
            plain("18:30:48", "INFO", DONE),
            plain("18:31:10", "INFO", f"[weights][{TID2}] client.send url={URL} path={CK}/step_43 t=53735.500000"),
            plain("18:31:11", "INFO", f"[weights][{TID2}] client.done wall_ms=1302.2 rpc_ms=-1.0 queue_ms=-1.0"),
        ),
        f"6 events: {TID3} is a reload (no `path=`), {TID} and {TID2} updates (steps 42, 43); all "
        "three complete. `weights.wall_ms` has 3 samples (412.3, 447.9, 1302.2; mean 720.8); "
        "`weights.rpc_ms` and `weights.queue_ms` have 1 sample each (422.5 and 25.4): -1.0 is never a "
        "sample, and nothing is skipped.",
    ))

    # ---- malformed fields ------------------------------------------------------------------
    bad = [
        (f"[weights][{TID}] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4", "event (control)"),
        ("[weights][1000000000000001] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=", "skipped: bad number (empty)"),
        ("[weights][1000000000000002] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=abc", "skipped: bad number"),
        ("[weights][1000000000000003] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=1e999", "skipped: bad number (overflows to inf)"),
        ("[weights][1000000000000004] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=nan", "skipped: bad number"),
        ("[weights][1000000000000005] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=inf", "skipped: bad number"),
        ("[weights][1000000000000006] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=-0", "skipped: negative value (-0 is not the -1.0 sentinel)"),
        ("[ckpt] wait.done target_step=42 wait_ms=-5", "skipped: negative value"),
        ("[weights][1000000000000007] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4 queue_ms=30.0", "skipped: duplicate field"),
        (f"[weights][{TID}0] client.send url={URL} path={CK}/step_42 t=53712.884100", "skipped: bad trace id (17 characters)"),
        (f"[weights][54127134d8134dbz] client.send url={URL} path={CK}/step_42 t=53712.884100", "skipped: bad trace id (not hex)"),
        (f"[weights][{TID}] client.retry attempt=2 t=53713.000000", "skipped: unknown op"),
        ("[weights][1000000000000008] client.done wall_ms=447.9 rpc_ms=422.5", "skipped: missing field (queue_ms)"),
        ("[gen] batch.done completions=64 dur_ms=2345.6 inflight=96", "event (control)"),
    ]
    rows = "; ".join(f"line {i + 1} {what}" for i, (_, what) in enumerate(bad))
    out.append((
        "malformed_fields.log",
        "one tagged line per defect: empty, non-numeric, overflowing, nan, inf, -0 and negative values, "
        "a repeated field, 17-character and non-hex trace ids, an unknown op, a missing field",
        lines(*(plain(f"18:30:{10 + i:02d}", "INFO", m) for i, (m, _) in enumerate(bad))),
        f"14 lines, 2 events ({DONE_V}; `batch.done` dur_ms 2345.6), 12 skipped and counted by "
        f"reason (bad number 5, negative value 2, duplicate field 1, bad trace id 2, unknown op 1, "
        f"missing field 1); no statistic sees a skipped value. {rows}.",
    ))

    # ---- DEBUG level -----------------------------------------------------------------------
    out.append((
        "debug_level.log",
        "tagged lines written at DEBUG level (coloured and plain)",
        lines(
            ansi("18:30:47", "DEBUG", "[ckpt] wait.start target_step=42"),
            ansi("18:30:47", "DEBUG", "[ckpt] wait.done target_step=42 wait_ms=12.3"),
            plain("18:30:48", "DEBUG", "[gen] batch.start inflight=96 target_batch=64"),
            plain("18:30:50", "DEBUG", "[gen] batch.done completions=64 dur_ms=2345.6 inflight=96"),
            plain("18:30:50", "DEBUG", "Computed rewards: mean=0.4312 std=0.2211"),
        ),
        "5 lines, 4 events, the level does not matter: `wait.start` target_step 42; `wait.done` "
        "wait_ms 12.3 (18:30:47); `batch.start` inflight 96; `batch.done` dur_ms 2345.6, inflight 96 (18:30:50).",
    ))

    # ---- fields in any order ---------------------------------------------------------------
    out.append((
        "fields_any_order.log",
        "fields permuted, unknown extra fields, integers, long decimals, and `[~11ms gap]`-style annotations",
        lines(
            plain("18:30:47", "INFO", f"[weights][{TID}] client.send t=53712.884100 path={CK}/step_42 url={URL}"),
            plain("18:30:47", "INFO", f"[weights][{TID}] server.recv path=/update_weights t=53712.894100  [~10ms gap]"),
            plain("18:30:48", "INFO", f"[weights][{TID}] client.done queue_ms=25.4 attempt=1 rpc_ms=422.5 host=gpu-3 wall_ms=447.9"),
            plain("18:30:49", "INFO", f"[weights][{TID2}] client.done rpc_ms=423 wall_ms=448 queue_ms=25"),
            plain("18:30:50", "INFO", "[gen] batch.done inflight=96 dur_ms=2345 note=warm completions=64"),
            plain("18:30:50", "INFO", "[gen] batch.done dur_ms=2345.678901 completions=64 inflight=97"),
            plain("18:30:50", "INFO", "[rollout] staleness=1 ckpt_step=9 current_step=10 trunc_pct=2"),
            plain("18:30:51", "INFO", "[ckpt] write.done write_ms=823.40 step=42 rank=0"),
            plain("18:30:52", "INFO", "[ckpt] wait.done wait_ms=12.3 poll_interval_ms=100 target_step=42"),
        ),
        f"9 lines, 9 events: `client.send` {TID} step 42 t=53712.8841; `server.recv` t=53712.8941 "
        f"(annotation ignored); `client.done` {TID} wall_ms 447.9, rpc_ms 422.5, queue_ms 25.4; "
        f"`client.done` {TID2} wall_ms 448, rpc_ms 423, queue_ms 25; `batch.done` dur_ms 2345, "
        "inflight 96; `batch.done` dur_ms 2345.678901, inflight 97; `rollout` trunc_pct 2, "
        "current_step 10, ckpt_step 9, staleness 1; `write.done` step 42, write_ms 823.4; `wait.done` "
        "target_step 42, wait_ms 12.3. Unknown keys are ignored, nothing is skipped.",
    ))

    # ---- a traceback quoting tagged text ---------------------------------------------------
    out.append((
        "traceback_with_tag_text.log",
        "a Python traceback (and an error message) quoting `[weights]` and `queue_ms=99999` text not at the start of a message",
        lines(
            plain("18:30:47", "INFO", SEND),
            plain("18:30:52", "ERROR", f"Weight update failed: [weights][{TID}] client.done wall_ms=99999.0 rpc_ms=-1.0 queue_ms=99999"),
            "Traceback (most recent call last):",
            '  File "/app/src/prime_rl/orchestrator/client.py", line 152, in update_weights',
            '    logger.info(f"[weights][{trace_id}] client.done wall_ms={wall_ms:.1f} rpc_ms={rpc_ms:.1f} queue_ms={queue_ms:.1f}")',
            '  File "/app/src/prime_rl/orchestrator/client.py", line 148, in update_weights',
            '    queue_ms = wall_ms - payload["rpc_ms"]',
            f"KeyError: 'rpc_ms' (response: {{\"detail\": \"[weights][{TID}] queue_ms=99999 rejected\"}})",
            "",
            "During handling of the above exception, another exception occurred:",
            "",
            "RuntimeError: update failed; last log: [gen] batch.done dur_ms=99999 queue_ms=99999 inflight=1",
            plain("18:30:53", "INFO", "[gen] batch.done completions=64 dur_ms=2345.6 inflight=96"),
        ),
        f"13 lines, 2 events: `client.send` {TID} step 42 (line 1) and `batch.done` dur_ms 2345.6 "
        "(line 13). No client.done (the update stays incomplete), no queue_ms, wall_ms or dur_ms of "
        "99999 anywhere, nothing skipped: the ERROR message and the traceback lines only quote tags.",
    ))

    # ---- loguru's default full format ------------------------------------------------------
    out.append((
        "loguru_full_format.log",
        "loguru's default format `YYYY-MM-DD HH:mm:ss.SSS | LEVEL    | module:function:line - message` (plain and coloured)",
        lines(
            "2025-10-14 18:30:47.123 | INFO     | prime_rl.orchestrator.orchestrator:orchestrate:212 - [gen] batch.start inflight=96 target_batch=64",
            "2025-10-14 18:30:49.468 | INFO     | prime_rl.orchestrator.orchestrator:orchestrate:240 - [gen] batch.done completions=64 dur_ms=2345.6 inflight=96",
            "2025-10-14 18:30:49.470 | SUCCESS  | prime_rl.orchestrator.orchestrator:orchestrate:301 - Step 42 | Time: 2.35s",
            f"{E}[32m2025-10-14 18:30:50.001{E}[0m | {E}[1mINFO    {E}[0m | {E}[36mprime_rl.orchestrator.client{E}[0m:"
            f"{E}[36mupdate_weights{E}[0m:{E}[36m152{E}[0m - {E}[1m{DONE}{E}[0m",
            "2025-10-14 18:30:51.000 | DEBUG    | __main__:<module>:12 - [rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1",
        ),
        f"5 lines, 4 events, all dated 10-14: `batch.start` inflight 96 (18:30:47); `batch.done` "
        f"dur_ms 2345.6, inflight 96 (18:30:49); {DONE_V} (18:30:50, coloured); `rollout` "
        "trunc_pct 2.3, staleness 1 (18:30:51). Milliseconds are not part of the time of day.",
    ))
    return out


README_HEAD = """# Line shapes

One tiny file per shape of line the parser meets in real prime-rl logs. Generated by `testdata/gen/make_shapes.py`
(deterministic; edit the script, not the files, then run it again). Binary files (`nul_garbage.log`)
and files with `\\r` are exact bytes; view them with `cat -A`.

"Lines" counts `\\n`-terminated lines plus a final unterminated one. An "event" is a tagged line
the parser must turn into a typed event with the values listed; "skipped" lines look tagged but
cannot be read and must be counted, never guessed. Times of day are `HH:MM:SS`.

| file | shape | what the parser must get |
|---|---|---|
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "shapes"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20251014)
    table = []
    for name, shape, data, expect in shapes(rng):
        assert len(data) < 100_000
        (out / name).write_bytes(data)
        cell = expect.replace("|", "\\|")
        table.append(f"| `{name}` | {shape} | {cell} |")
        print(f"{name}: {len(data)} bytes")
    (out / "README.md").write_bytes((README_HEAD + "\n".join(table) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
