#!/usr/bin/env bash
# The whole test suite, as CI runs it: warnings-as-errors builds; every end-to-end test on the
# Release (-O3, static) binary; every unit test and every end-to-end test of the binary under
# AddressSanitizer + UndefinedBehaviorSanitizer (not the `env` ones: docs, completions, packaging,
# mermaid and chromium reading the output); the fuzzers for a bounded time; the benchmarks in
# smoke mode. Exits non-zero on the first failure.
# It first installs what building and testing need (quick when it is all there), so a fresh clone
# runs it as is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-deps.sh --test
jobs=$(nproc)
fuzz_seconds=${ALOG_FUZZ_SECONDS:-6}  # per fuzzer (10 of them): CI has 2 cores and a 30-minute budget for the whole run

# ccache (Debian's) when present: CCACHE_BASEDIR makes the cache hit across clones in other folders.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

# Two builds, both with warnings as errors. The unit tests are built once, in the sanitizer build,
# and run there; the Release build makes the tool as users get it (-O3) and the benchmarks, and
# the end-to-end tests run on both binaries. (Compiling the unit tests twice was about 8 of the
# 30 minutes CI has on 2 cores.)
echo "== build (Release, -Werror): the tool and the benchmarks"
# (-DALOG_UNIT_TESTS=OFF: "all" is the tool and the benchmarks, so what the end-to-end tests build
# from this folder, e.g. cpack's install in test_install.sh, is already built.)
# -DALOG_STATIC_DEPS=ON: the binary the wheel ships (only glibc needed; docs/WHEEL.md), so the
# end-to-end tests and the benchmarks run on it, and test_wheel.sh packs this folder's binary
# instead of compiling the tool a second time.
cmake -S . -B build-ci -DCMAKE_BUILD_TYPE=Release -DALOG_WERROR=ON -DALOG_BENCH=ON -DALOG_UNIT_TESTS=OFF \
  -DALOG_STATIC_DEPS=ON "${launcher[@]}" >/dev/null
cmake --build build-ci -j"$jobs"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# ctest lists a skipped test (exit 77: test_wheel.sh off build-ci, test_slurm.sh where SLURM cannot
# start) without its output: print each one's "SKIP: <reason>" line.
skip_reasons() {
  awk '/^[0-9]+\/[0-9]+ Testing: / { t = $3 } /^SKIP: / { print "skipped: " t ": " substr($0, 7) }' \
    "$1/Testing/Temporary/LastTest.log" 2>/dev/null || true
}
echo "== end-to-end tests on the Release binary"
ctest --test-dir build-ci -L e2e -j"$jobs" --output-on-failure --timeout 900 | tee -a "$log"
skip_reasons build-ci

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer (-Werror) and run every test"
# -O1 -g1: line tables for the sanitizers' stack traces at a fraction of -O2 -g's compile time.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DALOG_SANITIZE=ON -DALOG_WERROR=ON -DALOG_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$jobs"
# -LE wheel: the wheel ships the static Release binary; it was built and tested from build-ci.
# -LE env: tests of the project around the binary (mermaid and chromium reading its output, docs,
# completions, package lists, cpack; CMakeLists.txt lists them): they ran on the Release binary.
# test_partial.sh: two splits a job under the sanitizers (every split ran on build-ci above).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ALOG_PARTIAL_SPLITS=quick \
  ctest --test-dir build-asan -LE 'wheel|env' -j"$jobs" --output-on-failure --timeout 1800 | tee -a "$log"
skip_reasons build-asan

if [ -x tests/fuzz/run_fuzzers.sh ] || [ -f tests/fuzz/run_fuzzers.sh ]; then
  echo "== fuzzers (${fuzz_seconds}s each)"
  bash tests/fuzz/run_fuzzers.sh "$fuzz_seconds"
fi
if [ -f tests/bench/smoke.sh ]; then
  echo "== benchmarks, smoke mode"
  bash tests/bench/smoke.sh build-ci
fi
total=$(grep -Eo 'tests failed out of [0-9]+' "$log" | awk '{s+=$5} END {print s+0}')
echo "== all test stages passed (end-to-end tests on the Release binary, every test under the sanitizers, fuzzers, benchmark smoke)"
echo "tests: $total passed, 0 failed"
