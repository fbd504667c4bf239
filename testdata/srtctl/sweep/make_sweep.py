#!/usr/bin/env python3
"""Writes the srtctl sweep test jobs (testdata/srtctl/sweep/): three jobs of one ISL/OSL whose
points and frontier are known by construction.

* 5001_1A: aggregated, 1 node x 4 GPUs, old-shape batch lines (`Decode batch. ...`).
  c16: 800 out tok/s (200/GPU), TPOT 12.5 ms (80 tok/s/user); c64: 2000 (500/GPU), TPOT 20 (50).
* 5002_1P_1D: disaggregated, 2 nodes x 4 GPUs. c16: 1200 (150/GPU), TPOT 25 (40);
  c64: 3200 (400/GPU), TPOT 50 (20). Both dominated by 5001 c64. Its decode queue grows while
  the prefill waits at c64 (decode-limited).
* 5003_2P_1D: 3 nodes x 4 GPUs. c128: 7200 (600/GPU), TPOT 62.5 (16). At c256 the decode worker
  runs 96 requests per DP rank, above cuda-graph-max-bs 64 (cuda graph: False), then dies of CUDA OOM.

Frontier: 5003 c128 (16 tok/s/user), 5001 c64 (50), 5001 c16 (80). Run it from this folder.
"""
import json, os

ISL, OSL = 1024, 1024

def block(conc, out_tps, tpot, n=None):
    n = n or conc * 5
    dur = n * OSL / out_tps
    rows = [("Successful requests:", n), ("Benchmark duration (s):", f"{dur:.2f}"),
            ("Total input tokens:", n * ISL), ("Total generated tokens:", n * OSL),
            ("Request throughput (req/s):", f"{n / dur:.2f}"),
            ("Output token throughput (tok/s):", f"{out_tps:.2f}"),
            ("Total Token throughput (tok/s):", f"{2 * out_tps:.2f}")]
    o = ["============ Serving Benchmark Result ============"]
    o += [f"{a:<40} {str(b):<10}" for a, b in rows]
    def sec(title, key, mean):
        o.append(title.center(50, "-"))
        o.append(f"{'Mean ' + key + ' (ms):':<40} {mean:<10.2f}")
        o.append(f"{'Median ' + key + ' (ms):':<40} {mean * 0.98:<10.2f}")
        o.append(f"{'P99 ' + key + ' (ms):':<40} {mean * 1.5:<10.2f}")
    sec("Time to First Token", "TTFT", 100 + conc * 2.0)
    sec("Time per Output Token (excl. 1st token)", "TPOT", tpot)
    sec("Inter-token Latency", "ITL", tpot * 1.01)
    sec("End-to-end Latency", "E2EL", tpot * OSL + 100 + conc * 2.0)
    o.append("=" * 50)
    return o

def hms(t):  # seconds after 10:00:00 -> stamp
    return f"2025-12-01 {10 + t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"

def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")

def job(job_id, folder, mode, nodes, runs, workers, warmup=None, unfinished=None):
    os.makedirs(folder, exist_ok=True)
    meta = {"slurm_job_id": str(job_id), "run_date": "20251201_100000", "job_name": f"sweep-{job_id}",
            "model_dir": "/models/DeepSeek-R1", "gpus_per_node": 4, "gpu_type": "gb200",
            "mode": mode}
    if mode == "aggregated":
        meta.update(agg_nodes=nodes, agg_workers=1)
    else:
        meta.update(prefill_nodes=nodes - 1, decode_nodes=1, prefill_workers=nodes - 1, decode_workers=1)
    concs = [r[0] for r in runs] + ([unfinished] if unfinished else [])
    json.dump({"version": "1.0", "generated_at": "2025-12-01 10:00:00", "run_metadata": meta,
               "profiler_metadata": {"type": "sa-bench", "isl": str(ISL), "osl": str(OSL),
                                     "concurrencies": "x".join(map(str, concs)), "req-rate": "inf"}},
              open(f"{folder}/{job_id}.json", "w"), indent=2)
    hosts = [f"sw{job_id}-cn{i:02d}" for i in range(nodes)]
    write(f"{folder}/log.out", [f"Node {i}: {h}" for i, h in enumerate(hosts)] +
          [f"Master IP address: 10.0.0.{job_id % 100}", "Frontend available at: http://%s:8000" % hosts[0],
           f"Script finished at Mon Dec  1 11:00:00 UTC 2025 with exit code 0"])
    b = [f"Config {ISL}; {OSL}; {' '.join(map(str, concs))}; inf",
         "Polling http://localhost:8000/health every 5 seconds to check whether workers are alive",
         'Model is ready. Response: {"status":"healthy","instances":[]}']
    if warmup:
        s, e, conc = warmup
        b += [f"Warming up model with concurrency {conc}", hms(s), "Traffic request rate: 250.0",
              f"Maximum request concurrency: {conc}"] + block(conc, 500, 20, n=conc) + [hms(e)]
    for conc, out_tps, tpot, s, e in runs:
        b += [f"Running benchmark with concurrency: {conc} and num-prompts: {conc * 5}, writing to file "
              f"/logs/sa-bench_isl_{ISL}_osl_{OSL}/isl_{ISL}_osl_{OSL}_concurrency_{conc}_req_rate_inf.json",
              hms(s), "Traffic request rate: inf", f"Maximum request concurrency: {conc}"]
        b += block(conc, out_tps, tpot) + [hms(e), f"Completed benchmark with concurrency: {conc}",
                                           "-----------------------------------------"]
    if unfinished:
        conc, s = unfinished
        b += [f"Running benchmark with concurrency: {conc} and num-prompts: {conc * 5}, writing to file "
              f"/logs/sa-bench_isl_{ISL}_osl_{OSL}/isl_{ISL}_osl_{OSL}_concurrency_{conc}_req_rate_inf.json",
              hms(s)]
    write(f"{folder}/benchmark.out", b)
    for name, lines in workers(hosts).items():
        write(f"{folder}/{name}", lines)

def server_args(t, max_bs):
    return (f"[{hms(t)}] server_args=ServerArgs(model_path='/model/', tp_size=4, dp_size=2, "
            f"enable_dp_attention=True, cuda_graph_max_bs={max_bs}, disable_cuda_graph=False, "
            f"decode_log_interval=40)")

def new_decode(t, dp, run, tok, usage, gen, queue, graph=True, pre=None):
    pd = "" if pre is None else (f"pre-allocated usage: 0.00, #prealloc-req: {pre[0]}, "
                                 f"#transfer-req: {pre[1]}, #retracted-req: {pre[2]}, ")
    return (f"[{hms(t)} DP{dp} TP{dp} EP{dp}] Decode batch, #running-req: {run}, #token: {tok}, "
            f"token usage: {usage:.2f}, {pd}cuda graph: {graph}, gen throughput (token/s): {gen:.2f}, "
            f"#queue-req: {queue}, ")

def new_prefill(t, dp, seq, tok, usage, run, queue, inp, pre=(0, 0)):
    return (f"[{hms(t)} DP{dp} TP{dp} EP{dp}] Prefill batch, #new-seq: {seq}, #new-token: {tok}, "
            f"#cached-token: 0, token usage: {usage:.2f}, #running-req: {run}, #queue-req: {queue}, "
            f"#prealloc-req: {pre[0]}, #inflight-req: {pre[1]}, input throughput (token/s): {inp:.2f}, ")

# ---- 5001: aggregated, old-shape lines ----
def w5001(hosts):
    L = ["2025-12-01 10:00:05| root: Aggregated worker setup started", server_args(10, 256)]
    for t in (130, 150, 170):  # warm-up c16 at 120-180
        L.append(f"[{hms(t)} TP0] Decode batch. #running-req: 16, #token: 16384, token usage: 0.05, cuda graph: True, gen throughput (token/s): 790.00, #queue-req: 0")
    for t in (210, 230, 250, 270):  # c16 at 200-300
        L.append(f"[{hms(t)} TP0] Prefill batch. #new-seq: 4, #new-token: 4096, #cached-token: 0, token usage: 0.05, #running-req: 12, #queue-req: 0")
        L.append(f"[{hms(t + 1)} TP0] Decode batch. #running-req: 16, #token: 16384, token usage: 0.05, cuda graph: True, gen throughput (token/s): 800.00, #queue-req: 0")
    for t, g in ((410, 1900.0), (430, 2000.0), (450, 2100.0)):  # c64 at 400-500
        L.append(f"[{hms(t)} TP0] Decode batch. #running-req: 64, #token: 65536, token usage: 0.20, cuda graph: True, gen throughput (token/s): {g:.2f}, #queue-req: 0")
    return {f"{hosts[0]}_agg_w0.err": L, f"{hosts[0]}_agg_w0.out": []}

job(5001, "5001_1A_20251201_100000", "aggregated", 1,
    [(16, 800, 12.5, 200, 300), (64, 2000, 20, 400, 500)], w5001, warmup=(120, 180, 16))

# ---- 5002: 1P/1D, decode-limited at c64 ----
def w5002(hosts):
    P = ["2025-12-01 10:00:05| root: Prefill worker setup started", server_args(10, 256).replace("dp_size=2", "dp_size=1")]
    D = ["2025-12-01 10:00:05| root: Decode worker setup started", server_args(10, 256)]
    for t in (210, 240, 270):  # c16 at 200-300: balanced
        P.append(new_prefill(t, 0, 4, 4096, 0.02, 0, 0, 2400.0))
        for dp in (0, 1):
            D.append(new_decode(t + 2, dp, 8, 8192, 0.03, 600.0, 0, pre=(0, 0, 0)))
    for k, t in enumerate((410, 440, 470)):  # c64 at 400-500: decode queue grows, prefill idles
        P.append(new_prefill(t, 0, 2, 2048, 0.02, 0, 0, 900.0))
        for dp in (0, 1):
            D.append(new_decode(t + 2, dp, 32, 32768, 0.90 + 0.03 * k, 1600.0, 10 * (k + 1), pre=(4, 6 * (k + 1), 0)))
    return {f"{hosts[0]}_prefill_w0.err": P, f"{hosts[1]}_decode_w0.err": D}

job(5002, "5002_1P_1D_20251201_100000", "disaggregated", 2,
    [(16, 1200, 25, 200, 300), (64, 3200, 50, 400, 500)], w5002)

# ---- 5003: 2P/1D, decode worker over cuda-graph-max-bs, then CUDA OOM ----
def w5003(hosts):
    out = {}
    for i in (0, 1):
        P = [f"2025-12-01 10:00:05| root: Prefill worker setup started", server_args(10, 256).replace("dp_size=2", "dp_size=1")]
        for t in (210, 250, 290):
            P.append(new_prefill(t, 0, 8, 8192, 0.05, 0, 0, 9000.0))
        for t in (410, 430):
            P.append(new_prefill(t, 0, 16, 16384, 0.08, 0, 4, 12000.0))
        out[f"{hosts[i]}_prefill_w{i}.err"] = P
    D = ["2025-12-01 10:00:05| root: Decode worker setup started", server_args(10, 64)]
    for t in (215, 255, 295):  # c128 at 200-300: 64 per DP rank, cuda graph on
        for dp in (0, 1):
            D.append(new_decode(t, dp, 64, 65536, 0.40, 3600.0, 0, pre=(0, 0, 0)))
    for t in (410, 425, 440):  # c256 from 400: 96 per DP rank, above cuda-graph-max-bs 64
        for dp in (0, 1):
            D.append(new_decode(t, dp, 96, 98304, 0.93, 2100.0, 30, graph=False, pre=(0, 0, 0)))
    D.append(f"[{hms(441)} DP1 TP1 EP1] KV cache pool is full. Retract requests. #retracted_reqs: 3, #new_token_ratio: 0.4000 -> 0.6000")
    D.append(new_decode(442, 1, 93, 95232, 0.97, 1900.0, 33, graph=False, pre=(0, 0, 3)))
    D.append(f"[{hms(450)} DP1 TP1 EP1] Scheduler hit an exception: Traceback (most recent call last):")
    D.append('  File "/sgl-workspace/sglang/python/sglang/srt/managers/scheduler.py", line 2567, in run_scheduler_process')
    D.append("    scheduler.event_loop_overlap()")
    D.append("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 1 has a total capacity of 184.00 GiB of which 1.02 GiB is free.")
    D.append(f"[{hms(451)}] Received sigquit from a child process. It usually means the child failed.")
    out[f"{hosts[2]}_decode_w0.err"] = D
    return out

job(5003, "5003_2P_1D_20251201_100000", "disaggregated", 3, [(128, 7200, 62.5, 200, 300)], w5003,
    unfinished=(256, 400))
