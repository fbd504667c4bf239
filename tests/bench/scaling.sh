#!/usr/bin/env bash
# Scaling table for docs/PERFORMANCE.md: analyze-logs (2 threads) and `wc -l` on generated logs
# of several sizes, with the tool's peak RSS, to show time linear in input size and flat memory.
#
#   tests/bench/scaling.sh [BUILD_DIR] [SIZES...]     (default sizes: 64M 256M 1G 4G)
#
# Each log is generated (seed 1), checked once against the generator's figures, timed with
# hyperfine (RUNS=3 by default) beside `wc -l`, measured with /usr/bin/time -v, and deleted
# before the next size (a 4 GiB log needs 4 GiB free in BUILD_DIR). Prints a Markdown table.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-bench}" && pwd)
shift || true
sizes=("$@")
((${#sizes[@]})) || sizes=(64M 256M 1G 4G)
bin=$build/analyze-logs
runs=${RUNS:-3}
for t in hyperfine python3; do command -v $t >/dev/null || { echo "scaling.sh: needs $t" >&2; exit 2; }; done
[[ -x /usr/bin/time ]] || { echo "scaling.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

data=$build/bench-data
out=$(mktemp -d "$build/scaling.XXXXXX")
trap 'rm -rf "$out"' EXIT
mkdir -p "$data"
rows=()
for s in "${sizes[@]}"; do
  log=$data/scale-$s.log
  echo "== $s: generating" >&2
  python3 "$root/tests/bench/gen_log.py" --size "$s" --seed 1 --out "$log" >&2
  mkdir -p "$out/check"
  "$bin" -q -o "$out/check" "$log" >/dev/null
  python3 "$root/tests/bench/check_results.py" "$log.expected.json" "$(ls -d "$out"/check/analysis_*)" >&2
  rm -rf "$out/check"
  cat "$log" >/dev/null 2>&1 || true
  hyperfine --warmup 1 --runs "$runs" --style none --output=pipe --prepare "rm -rf $out/r && mkdir -p $out/r" \
    --export-json "$out/hf-$s.json" \
    --command-name tool "$bin -q -j2 -o $out/r $log" --command-name wc "wc -l $log" >/dev/null 2>&1
  /usr/bin/time -v "$bin" -q -j2 -o "$out" "$log" >/dev/null 2>"$out/time-$s.txt"
  rm -rf "$out"/analysis_*
  rows+=("$(python3 - "$out/hf-$s.json" "$out/time-$s.txt" "$log" "$log.expected.json" <<'PY'
import json, os, re, sys
hf, tm, log, exp = sys.argv[1:5]
r = {x["command"]: x for x in json.load(open(hf))["results"]}
size = os.path.getsize(log)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(tm).read()).group(1)) / 1024
e = json.load(open(exp))
events = e.get("tagged_lines", e.get("events", 0))
t = r["tool"]["median"]
print(f"| {size/2**20:,.0f} MiB | {e.get('lines', 0)/1e6:.2f} M | {events/1e3:,.0f} k | {t:.3f} | "
      f"{r['tool']['min']:.3f}–{r['tool']['max']:.3f} | {size/t/1e6:,.0f} | {r['wc']['median']:.3f} | "
      f"{t/r['wc']['median']:.2f} | {t/size*2**30:.3f} | {rss:.0f} |")
PY
)")
  rm -f "$log" "$log.expected.json"
done
echo "machine: $(nproc) × $(lscpu | sed -n 's/^Model name: *//p' | head -1); $(date -u '+%Y-%m-%d %H:%M UTC'); hyperfine --runs $runs"
echo
echo "| input | lines | tagged | tool median s | min–max s | MB/s | wc -l s | × wc -l | s per GiB | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
