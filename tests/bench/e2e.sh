#!/usr/bin/env bash
# End-to-end benchmark: analyze-logs against the grep/awk baseline, rg, grep, wc -l and cat on one
# generated log, in one hyperfine run, with the tool's numbers checked while it is fast.
#
#   tests/bench/e2e.sh SIZE [BUILD_DIR]        e.g. tests/bench/e2e.sh 1G
#
# SIZE is gen_log.py's --size (64M, 1G, ...). The log (seed 1) and its .gz/.zst copies are cached
# in BUILD_DIR/bench-data/ (git-ignored; delete it to regenerate). Results go to
# BUILD_DIR/bench-results/e2e-SIZE-<stamp>/: hyperfine JSON, /usr/bin/time -v output, the report
# folders, and table.md (also printed). Environment:
#   RUNS=5 WARMUP=1     hyperfine --runs / --warmup
#   QUICK=1             check correctness and identity only, no timing (used by smoke.sh)
#   HUNG=SHARE          a log where that share of the weight updates never completes (gen_log.py
#                       --hung): each stays in flight through every later generation batch
#   NO_BASELINE=1       leave out the (slow) baseline script
#   BASELINE=PATH       the baseline script (default: ../shared/baseline/analyze_logs.sh from the
#                       project's root)
#   KEEP_DATA=0         delete the generated log and its copies afterwards (scaling.sh)
#   KEEP_REPORTS=1      keep the report folder of every variant (else deleted after the checks)
set -euo pipefail

size=${1:?usage: e2e.sh SIZE [BUILD_DIR]}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${2:-$root/build-bench}" && pwd)
bin=$build/analyze-logs
# The baseline script sits beside the checkout (../shared/baseline/ from the project's root).
baseline=${BASELINE:-$root/../shared/baseline/analyze_logs.sh}
runs=${RUNS:-5}
warmup=${WARMUP:-1}
[[ -x $bin ]] || { echo "e2e.sh: $bin not built (cmake --build $build)" >&2; exit 2; }
if [[ -z ${QUICK:-} && -z ${NO_BASELINE:-} && ! -f $baseline ]]; then
  echo "e2e.sh: the baseline script $baseline is missing: set BASELINE=PATH, or NO_BASELINE=1" >&2
  exit 2
fi
need() { command -v "$1" >/dev/null || { echo "e2e.sh: needs $1 ($2)" >&2; exit 2; }; }
need python3 "apt-get install python3"
need gzip "apt-get install gzip"
need zstd "apt-get install zstd"
if [[ -z ${QUICK:-} ]]; then
  need hyperfine "apt-get install hyperfine"
  need rg "apt-get install ripgrep"
  [[ -x /usr/bin/time ]] || { echo "e2e.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
fi

data=$build/bench-data
mkdir -p "$data"
hung=${HUNG:-}
name=bench-$size${hung:+-hung$hung}.log
log=$data/$name
# The cache is keyed by the generator's text too: a changed generator makes new data.
gen_sum=$(sha256sum "$root/tests/bench/gen_log.py" | cut -c1-16)
if [[ ! -s $log || ! -s $log.expected.json || $(cat "$log.gen" 2>/dev/null) != "$gen_sum" ]]; then
  echo "== generating $name (seed 1)" >&2
  rm -f "$log.gz" "$log.zst"
  python3 "$root/tests/bench/gen_log.py" --size "$size" --seed 1 ${hung:+--hung "$hung"} --out "$log" >&2
  echo "$gen_sum" >"$log.gen"
fi
[[ -s $log.gz && $log.gz -nt $log ]] || { echo "== gzip" >&2; gzip -c -6 "$log" >"$log.gz.tmp" && mv "$log.gz.tmp" "$log.gz"; }
[[ -s $log.zst && $log.zst -nt $log ]] || { echo "== zstd" >&2; zstd -q -f -3 -T0 "$log" -o "$log.zst"; }

stamp=$(date +%Y%m%d_%H%M%S)
res=$build/bench-results/e2e-$size${hung:+-hung$hung}-$stamp
mkdir -p "$res"
scratch=$(mktemp -d "$build/bench-results/tmp.XXXXXX")
cleanup() {
  rm -rf "$scratch"
  if [[ ${KEEP_DATA:-1} == 0 ]]; then rm -rf "$log" "$log.gz" "$log.zst" "$log.gen" "$log.expected.json" "$data/run-$size"; fi
}
trap cleanup EXIT
cd "$data"  # inputs are named by their base name, as a user would type them

# ---- correctness and identity ------------------------------------------------------------------
# One run per variant into its own folder; the report folders are kept in $res/reports.
declare -A variant=(
  [j1]="-j1 $name"
  [j2]="-j2 $name"
  [stdin]="- <$name"
  [gz]="$name.gz"
  [zst]="$name.zst"
  [stdin_gz]="- <$name.gz"
  [folder_zst]="run-$size"
)
order=(j1 j2 stdin gz zst stdin_gz folder_zst)
# A run folder as prime-rl writes it, holding the compressed log.
mkdir -p "run-$size/logs"
ln -sf "../../$name.zst" "run-$size/logs/orchestrator.log.zst"
mkdir -p "$res/reports"
for v in "${order[@]}"; do
  mkdir -p "$res/reports/$v"
  # shellcheck disable=SC2086
  eval "\"$bin\" -q -o \"$res/reports/$v\" ${variant[$v]}" >/dev/null
  if [[ -z ${QUICK:-} ]]; then
    eval "/usr/bin/time -v \"$bin\" -q -o \"$scratch\" ${variant[$v]}" >/dev/null 2>"$res/time-$v.txt"
    rm -rf "${scratch:?}"/analysis_*
  fi
done
dir_of() { find "$res/reports/$1" -mindepth 1 -maxdepth 1 -type d -name 'analysis_*' | head -1; }
args=()
for v in "${order[@]:1}"; do args+=("$(dir_of "$v")"); done
echo "== correctness: $name against $name.expected.json; 1 vs 2 threads, file vs stdin, plain vs gz vs zst"
check_rc=0
set +o pipefail
python3 "$root/tests/bench/check_results.py" "$log.expected.json" "$(dir_of j1)" "${args[@]}" |
  tee "$res/checks.txt"
check_rc=${PIPESTATUS[0]}
set -o pipefail
[[ -n ${KEEP_REPORTS:-} ]] || rm -rf "$res/reports"
if [[ -n ${QUICK:-} ]]; then
  rm -rf "$res"
  exit $check_rc
fi

# ---- timing ------------------------------------------------------------------------------------
out=$scratch/out
tags='\[weights\]|\[gen\]|\[ckpt\]|\[rollout\]'
cmds=(
  "analyze-logs -j1" "$bin -q -j1 -o $out $name"
  "analyze-logs -j2" "$bin -q -j2 -o $out $name"
  "analyze-logs stdin" "$bin -q -o $out - < $name"
  "analyze-logs .gz" "$bin -q -o $out $name.gz"
  "analyze-logs .zst" "$bin -q -o $out $name.zst"
  "rg -c" "rg -c '$tags' $name"
  "grep -cE" "grep -cE '$tags' $name"
  "wc -l" "wc -l $name"
  "cat" "cat $name > /dev/null"
  "zcat | wc -l" "zcat $name.gz | wc -l"
  "zstdcat | wc -l" "zstdcat $name.zst | wc -l"
)
if [[ -z ${NO_BASELINE:-} ]]; then cmds+=("baseline script" "bash $baseline $name '' $out"); fi
hf=()
for ((i = 0; i < ${#cmds[@]}; i += 2)); do hf+=(--command-name "${cmds[i]}" "${cmds[i + 1]}"); done
cat "$name" >/dev/null  # warm the page cache
# --output=pipe: with its output on /dev/null, GNU grep stops at the first match (grep -c too).
echo "== hyperfine (--warmup $warmup --runs $runs), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine --warmup "$warmup" --runs "$runs" --style basic --output=pipe --prepare "rm -rf $out && mkdir -p $out" \
  --export-json "$res/hyperfine.json" "${hf[@]}" >"$res/hyperfine.txt" 2>&1 || { cat "$res/hyperfine.txt"; exit 1; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- table -------------------------------------------------------------------------------------
python3 - "$res" "$log" "$load_after" "$check_rc" <<'EOF' | tee "$res/table.md"
import json, os, re, subprocess, sys
res, log, load_after, check_rc = sys.argv[1:5]
runs = {r["command"]: r for r in json.load(open(os.path.join(res, "hyperfine.json")))["results"]}
def med(n): return runs[n]["median"] if n in runs else float("nan")
def rss(v):
    try:
        t = open(os.path.join(res, f"time-{v}.txt")).read()
        return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    except (OSError, AttributeError):
        return float("nan")
size = os.path.getsize(log)
cpu = subprocess.run("lscpu | sed -n 's/^Model name: *//p' | head -1", shell=True, capture_output=True, text=True).stdout.strip()
print(f"**{os.path.basename(log)}**: {size/2**30:.2f} GiB, {sum(1 for _ in open(log, 'rb'))/1e6:.2f} M lines; "
      f"machine: {os.cpu_count()} × {cpu}; {subprocess.run(['date', '-u', '+%Y-%m-%d %H:%M UTC'], capture_output=True, text=True).stdout.strip()}; "
      f"load after: {load_after}; checks: {'passed' if check_rc == '0' else 'FAILED'}\n")
print("| command | median s | min–max s | MB/s | × wc -l | RSS MB |")
print("|---|---:|---:|---:|---:|---:|")
rssmap = {"analyze-logs -j1": "j1", "analyze-logs -j2": "j2", "analyze-logs stdin": "stdin", "analyze-logs .gz": "gz", "analyze-logs .zst": "zst"}
wc = med("wc -l")
for name, r in runs.items():
    m = r["median"]
    print(f"| `{name}` | {m:.3f} | {r['min']:.3f}–{r['max']:.3f} | {size/m/1e6:,.0f} | {m/wc:.2f} | "
          f"{rss(rssmap[name]) if name in rssmap else float('nan'):.0f} |".replace("| nan |", "| – |"))
tool = med("analyze-logs -j2")
print()
print(f"- analyze-logs (2 threads) vs `wc -l`: {tool/wc:.2f}× its time (target ≤ 2×)")
if "baseline script" in runs: print(f"- vs the baseline script: {med('baseline script')/tool:.1f}× faster (target ≥ 15×)")
print(f"- vs `rg -c`: {med('rg -c')/tool:.1f}× faster; vs `grep -cE`: {med('grep -cE')/tool:.1f}× faster")
print(f"- 1 → 2 threads: {med('analyze-logs -j1')/tool:.2f}× ; stdin / file: {med('analyze-logs stdin')/tool:.2f}")
print(f"- .gz: {med('analyze-logs .gz'):.2f} s vs `zcat | wc -l` {med('zcat | wc -l'):.2f} s ({med('analyze-logs .gz')/med('zcat | wc -l'):.2f}×); "
      f".zst: {med('analyze-logs .zst'):.2f} s vs `zstdcat | wc -l` {med('zstdcat | wc -l'):.2f} s ({med('analyze-logs .zst')/med('zstdcat | wc -l'):.2f}×)")
EOF
echo "results: $res" >&2
exit $check_rc
