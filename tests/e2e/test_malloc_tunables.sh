#!/usr/bin/env bash
# The binary starts itself once more with glibc's malloc tunables set (src/main.cpp,
# docs/PERFORMANCE.md "Memory the kernel has to fault in"): huge pages for the heap and freed
# memory kept for reuse. Checked on the running process's own environment (/proc/PID/environ; glibc
# parses GLIBC_TUNABLES in place, so its ':' may read as NUL there: the tokens are looked for):
#   - with no GLIBC_TUNABLES, the process runs with ours, and it is the same pid (exec, no fork);
#   - a user's other tunables are kept, ours appended;
#   - a user's own choice of malloc's huge page mode wins: nothing is changed;
#   - standard input read through the restart loses no byte, and the report is the same.
#
# Usage: test_malloc_tunables.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_malloc_tunables.sh BINARY SOURCE_DIR}
src=${2:?usage: test_malloc_tunables.sh BINARY SOURCE_DIR}
if ! ldd "$bin" 2>/dev/null | grep -q 'libc.so.6'; then
  echo "SKIP: not linked against glibc"
  exit 0
fi
tmp=$(mktemp -d)
trap 'exec 7>&- 2>/dev/null || true; rm -rf "$tmp"' EXIT
fails=0
check() {  # name, command...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# Runs the tool on a pipe it waits on, reads its environment once it is the tool again after the
# restart, then lets it finish. $1: GLIBC_TUNABLES to start with ("-" for none).
environ_of_run() {
  local start=$1
  rm -f "$tmp/fifo"
  mkfifo "$tmp/fifo"
  if [[ $start == - ]]; then
    env -u GLIBC_TUNABLES "$bin" -q --no-folder --json - <"$tmp/fifo" >"$tmp/out.json" 2>"$tmp/err" &
  else
    env GLIBC_TUNABLES="$start" "$bin" -q --no-folder --json - <"$tmp/fifo" >"$tmp/out.json" 2>"$tmp/err" &
  fi
  local pid=$!
  exec 7>"$tmp/fifo"  # the tool blocks reading standard input until this is closed
  local env=""
  for _ in $(seq 1 200); do
    env=$(tr '\0:' '\n\n' <"/proc/$pid/environ" 2>/dev/null | grep -E '^(GLIBC_TUNABLES=)?glibc\.' | LC_ALL=C sort | tr '\n' ' ' || true)
    # The restart is over once the environment holds ours, or (a user's choice) after a moment.
    [[ $env == *glibc.malloc.hugetlb* ]] && break
    sleep 0.01
  done
  [[ -e /proc/$pid ]] && echo "alive" >"$tmp/alive" || rm -f "$tmp/alive"
  cat "$src/testdata/runs/prefix/logs/orchestrator.log" >&7
  exec 7>&-
  wait "$pid" && echo 0 >"$tmp/status" || echo $? >"$tmp/status"
  printf '%s\n' "$env"
}

env1=$(environ_of_run -)
check "no GLIBC_TUNABLES: the running tool has ours" \
  test "$env1" = "GLIBC_TUNABLES=glibc.malloc.hugetlb=1 glibc.malloc.mmap_threshold=268435456 glibc.malloc.trim_threshold=1073741824 "
check "the restart keeps the pid (the tool was still that process)" test -e "$tmp/alive"
check "exit status 0" test "$(cat "$tmp/status")" = 0
"$bin" -q --no-folder --json - <"$src/testdata/runs/prefix/logs/orchestrator.log" >"$tmp/direct.json" 2>/dev/null
check "standard input read through the restart: the same report.json as a direct run" cmp -s "$tmp/out.json" "$tmp/direct.json"
check "the report holds updates (standard input was read)" grep -q '"trace_id"' "$tmp/out.json"

env2=$(environ_of_run glibc.malloc.arena_max=2)
check "a user's other tunables are kept, ours appended" \
  test "$env2" = "GLIBC_TUNABLES=glibc.malloc.arena_max=2 glibc.malloc.hugetlb=1 glibc.malloc.mmap_threshold=268435456 glibc.malloc.trim_threshold=1073741824 "

env3=$(environ_of_run glibc.malloc.hugetlb=0)
check "a user's own huge page mode wins: the environment is left alone" test "$env3" = "GLIBC_TUNABLES=glibc.malloc.hugetlb=0 "
check "exit status 0 with the user's setting" test "$(cat "$tmp/status")" = 0
check "the same report with the user's setting" cmp -s "$tmp/out.json" "$tmp/direct.json"

if ((fails)); then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all malloc tunable checks passed"
