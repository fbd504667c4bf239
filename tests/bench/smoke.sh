#!/usr/bin/env bash
# The benchmarks in smoke mode, as tests/run.sh (and so CI) runs them: every Google Benchmark
# micro-benchmark once for a few milliseconds (it must run, not be timed), then the end-to-end
# script's correctness half on a small generated log: the tool's figures against the generator's
# exact ones, and byte-identical reports for 1 and 2 threads, file and standard input, plain, gzip
# and zstd copies and a run folder. No timing is asserted anywhere. Takes well under a minute.
#
#   tests/bench/smoke.sh [BUILD_DIR]      (default build-ci; SMOKE_SIZE=8M)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-ci}" && pwd)
size=${SMOKE_SIZE:-8M}

if [[ -x $build/tests/bench/alog_bench ]]; then
  echo "== micro-benchmarks (smoke: each runs once, briefly)"
  "$build/tests/bench/alog_bench" --benchmark_min_time=0.005 --benchmark_format=console \
    --benchmark_color=false >"$build/bench-smoke.txt" 2>&1 || { cat "$build/bench-smoke.txt"; exit 1; }
  n=$(grep -cE '^BM_' "$build/bench-smoke.txt" || true)
  ((n > 0)) || { cat "$build/bench-smoke.txt"; echo "FAIL: no micro-benchmark ran" >&2; exit 1; }
  echo "ok   $n micro-benchmarks ran"
else
  echo "FAIL: $build/tests/bench/alog_bench is not built (configure with -DALOG_BENCH=ON)" >&2
  exit 1
fi

echo "== end-to-end check on a $size generated log"
QUICK=1 KEEP_DATA=0 bash "$root/tests/bench/e2e.sh" "$size" "$build"
