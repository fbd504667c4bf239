#!/usr/bin/env python3
"""Writes the srtctl batch-finding test jobs (testdata/srtctl/findings/), with the helpers of
../sweep/make_sweep.py. Each job is built to raise one finding, with known figures.

* 5101_1A: aggregated, 1 node x 4 GPUs, DP2. Warm-up c64 at 120-180, then c16 at 200-300 and c32
  at 400-500. At 202 the worker still runs the warm-up's requests: DP0 28 running + 2 queued,
  DP1 26 running = 56 in flight at concurrency 16 (warmup_traffic); 38 at 212, 16 from 232 on.
  c32 runs 16 + 16 = 32: not above. Nothing fails: the job is degraded by that finding.
* 5102_1P_1D: disaggregated, 2 nodes x 4 GPUs. c16 (200-300) is normal. c32 (400-500): the result
  says 160 requests completed at 1600 tok/s, but the decode worker, whose log goes on until 690,
  prints no decode batch line between 400 and 500 (result_mismatch, zero generation). c64
  (600-700): the result says 0 requests completed and 0.00 tok/s (all 320 failed), while decode
  batches generate up to 1500 tok/s per rank from 610 (result_mismatch, the reverse).
* 5103_1A: as 5101 up to 212, then the worker dies of CUDA OOM at 220 during c16 (unfinished):
  the warm-up traffic is named as the OOM's likely trigger.
Run it from this folder.
"""
import os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sweep"))
from make_sweep import ISL, OSL, block, hms, job, new_decode, new_prefill, server_args, write  # noqa: E402


def zero_block(conc, n):
    """sa-bench's block when every request failed: 0 completed, zero throughput and latencies."""
    rows = [("Successful requests:", 0), ("Benchmark duration (s):", "100.00"),
            ("Total input tokens:", 0), ("Total generated tokens:", 0),
            ("Request throughput (req/s):", "0.00"), ("Output token throughput (tok/s):", "0.00"),
            ("Total Token throughput (tok/s):", "0.00")]
    o = ["============ Serving Benchmark Result ============"]
    o += [f"{a:<40} {str(b):<10}" for a, b in rows]
    for title, key in (("Time to First Token", "TTFT"),
                       ("Time per Output Token (excl. 1st token)", "TPOT"),
                       ("Inter-token Latency", "ITL"), ("End-to-end Latency", "E2EL")):
        o.append(title.center(50, "-"))
        for stat in ("Mean", "Median", "P99"):
            o.append(f"{stat + ' ' + key + ' (ms):':<40} {0.0:<10.2f}")
    o.append("=" * 50)
    return o


def agg_decode(t, dp, run, queue, gen):
    return (f"[{hms(t)} DP{dp} TP{dp} EP{dp}] Decode batch, #running-req: {run}, #token: {run * 1024}, "
            f"token usage: 0.10, cuda graph: True, gen throughput (token/s): {gen:.2f}, #queue-req: {queue}, ")


def leftover(L):
    """The warm-up's requests still running at the start of c16 (200-300)."""
    L += [agg_decode(202, 0, 28, 2, 900.0), agg_decode(202, 1, 26, 0, 880.0),
          agg_decode(212, 0, 20, 0, 800.0), agg_decode(212, 1, 18, 0, 780.0)]


def w5101(hosts):
    L = ["2025-12-01 10:00:05| root: Aggregated worker setup started", server_args(10, 256)]
    for t in (130, 150, 170):  # warm-up c64 at 120-180
        L += [agg_decode(t, 0, 32, 0, 1500.0), agg_decode(t, 1, 32, 0, 1500.0)]
    leftover(L)
    for t in (232, 252, 272):
        L += [agg_decode(t, 0, 8, 0, 600.0), agg_decode(t, 1, 8, 0, 600.0)]
    for t in (410, 430, 450):  # c32 at 400-500
        L += [agg_decode(t, 0, 16, 0, 1000.0), agg_decode(t, 1, 16, 0, 1000.0)]
    return {f"{hosts[0]}_agg_w0.err": L}


def w5102(hosts):
    P = ["2025-12-01 10:00:05| root: Prefill worker setup started",
         server_args(10, 256).replace("dp_size=2", "dp_size=1")]
    D = ["2025-12-01 10:00:05| root: Decode worker setup started", server_args(10, 256)]
    for t in (210, 240, 270):  # c16: normal
        P.append(new_prefill(t, 0, 4, 4096, 0.02, 0, 0, 2400.0))
        for dp in (0, 1):
            D.append(new_decode(t + 2, dp, 8, 8192, 0.03, 600.0, 0, pre=(0, 0, 0)))
    for t in (410, 440, 470):  # c32: prefill works, decode prints nothing
        P.append(new_prefill(t, 0, 8, 8192, 0.04, 0, 0, 1800.0))
    for t in (610, 640, 670, 690):  # c64: decode generates, the client saw nothing complete
        for dp in (0, 1):
            D.append(new_decode(t, dp, 32, 32768, 0.30, 1500.0 if t < 690 else 1400.0, 0, pre=(0, 0, 0)))
    return {f"{hosts[0]}_prefill_w0.err": P, f"{hosts[1]}_decode_w0.err": D}


def w5103(hosts):
    L = ["2025-12-01 10:00:05| root: Aggregated worker setup started", server_args(10, 256)]
    for t in (130, 150, 170):
        L += [agg_decode(t, 0, 32, 0, 1500.0), agg_decode(t, 1, 32, 0, 1500.0)]
    leftover(L)
    L.append(f"[{hms(220)} DP0 TP0 EP0] Scheduler hit an exception: Traceback (most recent call last):")
    L.append('  File "/sgl-workspace/sglang/python/sglang/srt/managers/scheduler.py", line 2567, in run_scheduler_process')
    L.append("    scheduler.event_loop_overlap()")
    L.append("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
             "184.00 GiB of which 0.98 GiB is free.")
    L.append(f"[{hms(221)}] Received sigquit from a child process. It usually means the child failed.")
    return {f"{hosts[0]}_agg_w0.err": L}


def patch_zero_block(folder, conc):
    """Replaces the result block of run `conc` in benchmark.out by an all-failed one."""
    path = f"{folder}/benchmark.out"
    lines = open(path).read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith(f"Running benchmark with concurrency: {conc} "))
    b = next(i for i in range(start, len(lines)) if "Serving Benchmark Result" in lines[i])
    e = next(i for i in range(b + 1, len(lines)) if lines[i] == "=" * 50)
    lines[b:e + 1] = zero_block(conc, conc * 5)
    open(path, "w").write("\n".join(lines))


def main():
    job(5101, "5101_1A_20251201_100000", "aggregated", 1,
        [(16, 800, 12.5, 200, 300), (32, 1400, 15, 400, 500)], w5101, warmup=(120, 180, 64))
    job(5102, "5102_1P_1D_20251201_100000", "disaggregated", 2,
        [(16, 1200, 25, 200, 300), (32, 1600, 30, 400, 500), (64, 1, 50, 600, 700)], w5102)
    patch_zero_block("5102_1P_1D_20251201_100000", 64)
    job(5103, "5103_1A_20251201_100000", "aggregated", 1, [], w5103, warmup=(120, 180, 64),
        unfinished=(16, 200))


if __name__ == "__main__":
    main()
