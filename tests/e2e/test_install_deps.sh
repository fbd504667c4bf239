#!/usr/bin/env bash
# README's first command installs only what building and running need; the test command installs
# the rest. Checks the two package lists of tests/install-deps.sh, that README, tests/run.sh and
# .ci/run call it as documented, and that the build configures with none of the test-only
# libraries (GTest and benchmark made unfindable).
#
# Usage: test_install_deps.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
src=${2:?usage: test_install_deps.sh BINARY SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

build_list=$(bash "$src/tests/install-deps.sh" --print)
test_list=$(bash "$src/tests/install-deps.sh" --print --test)
for p in cmake g++ pkg-config libcli11-dev libre2-dev libfmt-dev nlohmann-json3-dev zlib1g-dev libzstd-dev; do
  grep -qx -- "$p" <<<"$build_list" || fail "the build list lacks $p"
done
for p in chromium hyperfine ripgrep clang libgtest-dev libbenchmark-dev python3-jsonschema libxml2-utils zsh fish \
  python3-build python3-venv pipx slurmctld slurmd slurm-client munge; do
  grep -qx -- "$p" <<<"$build_list" && fail "the build list (README's first command) installs $p, which only the tests use"
  grep -qx -- "$p" <<<"$test_list" || fail "the --test list lacks $p"
done
# --test is a superset of the build list.
missing=$(comm -23 <(sort <<<"$build_list") <(sort <<<"$test_list"))
[[ -z $missing ]] || fail "--test lacks build packages: $missing"
if bash "$src/tests/install-deps.sh" --bogus 2>"$tmp/err"; then fail "--bogus accepted"; fi
grep -q "unknown argument '--bogus'" "$tmp/err" || fail "no clear error for --bogus: $(cat "$tmp/err")"

# The documented commands.
first=$(grep -m1 '^bash tests/install-deps.sh' "$src/README.md")
[[ $first == "bash tests/install-deps.sh && cmake -S . -B build -DALOG_TESTS=OFF -DALOG_BENCH=OFF && "* ]] ||
  fail "README's first command is not the build-only install and build: $first"
grep -qx 'bash tests/run.sh' "$src/README.md" || fail "README lacks the test command"
grep -qx 'bash tests/install-deps.sh --test' "$src/tests/run.sh" || fail "tests/run.sh does not install the test packages"
grep -qx 'bash tests/run.sh' "$src/.ci/run" || fail ".ci/run does not run README's test command"

# The build needs nothing from the test list: configure with GTest and benchmark unfindable.
cmake -S "$src" -B "$tmp/b" -DALOG_TESTS=OFF -DALOG_BENCH=OFF -DALOG_FUZZ=OFF \
  -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON >"$tmp/conf.log" 2>&1 ||
  { cat "$tmp/conf.log"; fail "the build does not configure without the test-only libraries"; }
echo "ok: build list ($(wc -l <<<"$build_list") packages) and --test list ($(wc -l <<<"$test_list")) as documented"
