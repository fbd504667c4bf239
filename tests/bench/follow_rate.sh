#!/usr/bin/env bash
# --follow under load (docs/PERFORMANCE.md, "Following a running job"): a log that grows at RATE
# MB/s for SECONDS, followed on one core (taskset -c 0), and then left idle.
#   catch-up  the tool starts on a LOG already CATCHUP MB long: seconds until its `caught_up` line;
#   growth    while the writer appends RATE MB/s: bytes behind the writer each 5 s (the --metrics
#             file's analyze_logs_follow_read_bytes_total against the file's size: at most one
#             --interval old), the tool's CPU (its threads: the tail, and the analysis so far) and RSS;
#   idle      CPU ticks over 30 s once nothing is appended.
#
#   follow_rate.sh BINARY SOURCE_LOG [RATE_MBPS=50] [SECONDS=60] [CATCHUP_MB=1024]
# SOURCE_LOG is replayed (tests/bench/e2e.sh generates one: build/bench-data/bench-1G.log).
set -euo pipefail
bin=${1:?usage: follow_rate.sh BINARY SOURCE_LOG [RATE] [SECONDS] [CATCHUP_MB]}
srclog=${2:?usage}
rate=${3:-50}
secs=${4:-60}
catchup=${5:-1024}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/run/logs"
log=$tmp/run/logs/orchestrator.log
head -c $((catchup << 20)) "$srclog" | sed '$d' >"$log"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "start: $(du -m "$log" | cut -f1) MB already written"
taskset -c 0 "$bin" -f --json --interval 2 --stall-after 1h -j1 --metrics "$tmp/m.prom" -o "$tmp" "$tmp/run" >"$tmp/out.jsonl" 2>"$tmp/err.txt" &
fpid=$!
for _ in $(seq 600); do grep -q caught_up "$tmp/out.jsonl" && break; sleep 0.1; done
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "caught_up":
        b, t = e["bytes"] / 1e6, e["seconds"]
        print("catch-up: %.0f MB in %.2f s = %.0f MB/s" % (b, t, b / t))' "$tmp/out.jsonl"
# The writer: whole lines of the source log, RATE MB each second, in 10 pieces a second.
python3 - "$srclog" "$log" "$rate" "$secs" <<'PYEOF' &
import sys, time
src, dst, rate, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
piece = int(rate * 1e6 / 10)
with open(src, "rb") as s, open(dst, "ab") as d:
    s.seek(0)
    start = time.time()
    n = 0
    while time.time() - start < secs:
        buf = s.read(piece)
        if not buf:
            s.seek(0)
            continue
        buf += s.readline()
        d.write(buf)
        d.flush()
        n += 1
        wait = start + n / 10 - time.time()
        if wait > 0:
            time.sleep(wait)
PYEOF
wpid=$!
ticks() { awk '{print $14+$15}' /proc/$fpid/stat; }
hz=$(getconf CLK_TCK)
echo "   t   written MB   read MB   behind MB   CPU %   RSS MB"
t0=$(ticks)
for i in $(seq 5 5 "$secs"); do
  sleep 5
  t1=$(ticks)
  size=$(stat -c %s "$log")
  read_b=$(awk '/^analyze_logs_follow_read_bytes_total/ {print $2}' "$tmp/m.prom")
  rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$fpid/status)
  awk -v t="$i" -v s="$size" -v r="${read_b:-0}" -v c=$((t1 - t0)) -v hz="$hz" -v rss="$rss" \
    'BEGIN { printf "%4d %12.0f %9.0f %11.0f %7.0f %8d\n", t, s/1e6, r/1e6, (s-r)/1e6, 100*c/hz/5, rss }'
  t0=$t1
done
wait "$wpid"
sleep 20
t1=$(ticks)
sleep 30
t2=$(ticks)
echo "idle: $((t2 - t1)) ticks of 1/$hz s in 30 s ($(awk -v c=$((t2 - t1)) -v hz="$hz" 'BEGIN { printf "%.2f", 100*c/hz/30 }') % of a core), RSS $(awk '/VmRSS/ {print int($2/1024)}' /proc/$fpid/status) MB"
kill -TERM "$fpid"
wait "$fpid" || true
tail -1 "$tmp/out.jsonl" | cut -c1-200
