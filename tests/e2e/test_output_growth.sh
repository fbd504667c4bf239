#!/usr/bin/env bash
# Nothing in the analysis folder grows faster than the input, and the summaries do not grow with
# it at all. Two prime-rl runs with hung updates (tests/bench/gen_log.py --hung 0.2: an engine that
# never answers a fifth of the updates, each of which then overlaps every later generation batch;
# enough for both runs to have more incomplete updates than SUMMARY.md lists) are generated at
# 4 MiB and 16 MiB of orchestrator log, with their inference logs, and analysed; then, file by
# file:
#   - every file of the folder: size(large) / size(small) <= 1.2 x input(large) / input(small);
#   - the summaries (SUMMARY.md, slowest_updates.txt, *_stats.txt) at most 1.25x larger: their
#     lists are capped (SUMMARY.md lists 50 incomplete updates, then "… and N more", and the
#     large run has more than 50), their charts downsampled; report.html at most 2.5x (its charts
#     fill up to 500 points per series);
#   - shares of the large input: report.json <= 10 %, timeline.txt <= 10 %, report.html <= 2 %,
#     SUMMARY.md <= 0.5 %.
# A quarter of a minute on a loaded machine (most of it generating the logs).
#
# Usage: test_output_growth.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail

bin=${1:?usage: test_output_growth.sh BINARY SOURCE_DIR}
src=${2:?usage: test_output_growth.sh BINARY SOURCE_DIR}
if ! command -v python3 >/dev/null; then
  echo "SKIP: python3 not installed (needed by tests/bench/gen_log.py)"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

# run NAME SIZE: generate the run into $tmp/NAME/in and analyse it into $tmp/NAME/out; sets
# in_bytes (the input's size) and dir (the analysis folder).
run() {
  local d=$tmp/$1 out
  mkdir -p "$d/in"
  python3 "$src/tests/bench/gen_log.py" --size "$2" --seed 7 --hung 0.2 --out "$d/in/orchestrator.log" \
    --inference "$d/in/inference.log" >"$d/gen.log" 2>&1 || fail "gen_log.py --size $2 failed: $(tail -3 "$d/gen.log")"
  rm -f "$d/in/"*.expected.json
  out=$("$bin" -q --color never -o "$d/out" "$d/in") || fail "analyze-logs exited with $? on the $2 run"
  in_bytes=$(cat "$d/in/orchestrator.log" "$d/in/inference.log" | wc -c)
  dir=$(tail -n 1 <<<"$out")
}
run small 4M
in_s=$in_bytes dir_s=$dir
run large 16M
in_l=$in_bytes dir_l=$dir
[[ -d $dir_s && -d $dir_l ]] || fail "no analysis folders ($dir_s, $dir_l)"
for f in SUMMARY.md report.html report.json timeline.txt slowest_updates.txt queue_ms_stats.txt; do
  [[ -s $dir_l/$f ]] || fail "$f missing or empty in $dir_l"
done
grep -q '^- … and [0-9]* more (see report.json)$' "$dir_l/SUMMARY.md" ||
  fail "the large run's SUMMARY.md lists every incomplete update (or the run has too few to test the cap)"

in_ratio=$(awk -v a="$in_l" -v b="$in_s" 'BEGIN { printf "%.3f", a / b }')
echo "input: $in_s -> $in_l bytes (x$in_ratio)"
printf '%-26s %10s %10s %7s %9s\n' file small large ratio "% input"
bad=()
for path in "$dir_l"/*; do
  f=$(basename "$path")
  [[ -f $dir_s/$f ]] || fail "$f is in the large run's folder only"
  s=$(stat -c %s "$dir_s/$f")
  l=$(stat -c %s "$path")
  ratio=$(awk -v a="$l" -v b="$s" 'BEGIN { printf "%.3f", b ? a / b : (a ? 1e9 : 1) }')
  share=$(awk -v a="$l" -v b="$in_l" 'BEGIN { printf "%.4f", 100 * a / b }')
  printf '%-26s %10s %10s %7s %9s\n' "$f" "$s" "$l" "x$ratio" "$share"
  limit=$(awk -v r="$in_ratio" 'BEGIN { printf "%.3f", 1.2 * r }')
  case $f in
    SUMMARY.md | slowest_updates.txt | *_stats.txt) limit=1.25 ;;
    report.html) limit=2.5 ;;
  esac
  awk -v r="$ratio" -v m="$limit" 'BEGIN { exit !(r <= m) }' || bad+=("$f grew x$ratio (limit x$limit)")
  max_share=
  case $f in
    report.json | timeline.txt) max_share=10 ;;
    report.html) max_share=2 ;;
    SUMMARY.md) max_share=0.5 ;;
  esac
  if [[ -n $max_share ]]; then
    awk -v s="$share" -v m="$max_share" 'BEGIN { exit !(s <= m) }' || bad+=("$f is $share % of the input (limit $max_share %)")
  fi
done
if ((${#bad[@]})); then
  printf 'FAIL: %s\n' "${bad[@]}"
  exit 1
fi
echo "PASS: no output grows faster than the input; the summaries stay the same size"
