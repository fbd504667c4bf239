#!/usr/bin/env python3
"""Writes a large srtctl job folder for memory and speed measurements (docs/PERFORMANCE.md):
log.out, benchmark.out with a warm-up and eight runs spread over the workers' time, and
WORKERS decode worker logs of about MB megabytes each, two DP ranks per worker.

Each DP rank logs --per-second decode lines a second: with --per-second 1 every line starts
a new bucket (the worst case for memory before batch lines were folded as they are read).

    gen_srtctl_job.py OUT_PARENT [--workers 4] [--mb 256] [--per-second 1]
"""
import argparse
import datetime
import os

ap = argparse.ArgumentParser()
ap.add_argument("parent")
ap.add_argument("--workers", type=int, default=4)
ap.add_argument("--mb", type=int, default=256)
ap.add_argument("--per-second", type=int, default=1, help="lines per DP rank per second")
a = ap.parse_args()

T0 = datetime.datetime(2025, 12, 1, 10, 0, 0)
job = os.path.join(a.parent, "7001_1P_%dD_20251201_100000" % a.workers)
os.makedirs(job, exist_ok=True)


def stamp(s):
    return (T0 + datetime.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")


LINE = ("[{ts} DP{dp} TP{dp} EP{dp}] Decode batch, #running-req: {run}, #token: {tok}, token usage: "
        "0.{u:02d}, pre-allocated usage: 0.00, #prealloc-req: 0, #transfer-req: {tr}, #retracted-req: 0, "
        "cuda graph: True, gen throughput (token/s): {g}.{gf:02d}, #queue-req: {q}, \n")
# One line is about 255 bytes: the seconds the logs cover.
lines_per_rank = a.mb * (1 << 20) // 255 // 2
seconds = max(1, lines_per_rank // a.per_second)

hosts = ["gen-cn%02d" % i for i in range(a.workers + 1)]
with open(os.path.join(job, "log.out"), "w") as f:
    for i, h in enumerate(hosts):
        f.write("Node %d: %s\n" % (i, h))
    f.write("Script finished at Mon Dec  8 11:00:00 UTC 2025 with exit code 0\n")


def block(conc):
    n = conc * 5
    o = ["============ Serving Benchmark Result ============",
         "Successful requests:                     %d" % n,
         "Benchmark duration (s):                  100.00",
         "Output token throughput (tok/s):         %.2f" % (conc * 30.0),
         "Total Token throughput (tok/s):          %.2f" % (conc * 60.0),
         "-----Time per Output Token (excl. 1st token)------",
         "Mean TPOT (ms):                          %.2f" % (20 + conc / 10),
         "Median TPOT (ms):                        %.2f" % (20 + conc / 10),
         "P99 TPOT (ms):                           %.2f" % (30 + conc / 10),
         "=================================================="]
    return o


concs = [8, 16, 32, 64, 128, 256, 512, 1024]
slot = seconds // (len(concs) + 1)
b = ["Config 1024; 1024; %s; inf" % " ".join(map(str, concs)),
     "Polling http://localhost:8000/health every 5 seconds to check whether workers are alive",
     "Model is ready.", "Warming up model with concurrency 8", stamp(10),
     "Maximum request concurrency: 8"] + block(8) + [stamp(slot // 2)]
for k, c in enumerate(concs):
    s, e = (k + 1) * slot, (k + 2) * slot - 1
    b += ["Running benchmark with concurrency: %d and num-prompts: %d, writing to file "
          "/logs/sa-bench_isl_1024_osl_1024/isl_1024_osl_1024_concurrency_%d_req_rate_inf.json" % (c, c * 5, c),
          stamp(s), "Maximum request concurrency: %d" % c] + block(c) + [
          stamp(e), "Completed benchmark with concurrency: %d" % c, "-" * 41]
with open(os.path.join(job, "benchmark.out"), "w") as f:
    f.write("\n".join(b) + "\n")

for w in range(a.workers):
    path = os.path.join(job, "%s_decode_w%d.err" % (hosts[w + 1], w))
    with open(path, "w") as f:
        f.write("[%s] server_args=ServerArgs(model_path='/model/', tp_size=2, dp_size=2, "
                "cuda_graph_max_bs=512)\n" % stamp(0))
        buf = []
        i = 0
        for s in range(seconds):
            ts = stamp(s)
            for _ in range(a.per_second):
                for dp in (0, 1):
                    buf.append(LINE.format(ts=ts, dp=dp, run=32 + i % 64, tok=40000 + i % 9000, u=i % 90,
                                           tr=i % 7, g=1500 + i % 700, gf=i % 100, q=i % 13))
                    i += 1
            if len(buf) > 20000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
print(job)
