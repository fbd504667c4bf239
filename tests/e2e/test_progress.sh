#!/usr/bin/env bash
# The progress bar (issue 7): on a terminal, for an input that takes more than about half a
# second, stderr shows bytes done of total, MB/s and an ETA; for standard input, bytes and rate
# only; never with --quiet and never when stderr is not a terminal.
#
# A terminal comes from script(1) (util-linux). The slow file is a sparse 2 GiB file of NUL bytes
# (no disk space, read at memory speed, one endless unterminated "line" that the scanner streams
# through); the slow pipe is a producer that sleeps a second in the middle.
#
# Usage: test_progress.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_progress.sh BINARY SOURCE_DIR}
src=${2:?usage: test_progress.sh BINARY SOURCE_DIR}
if ! command -v script >/dev/null; then
  echo "SKIP: script(1) (util-linux) not installed"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # name, command...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
has() { grep -qa -- "$2" "$1"; }
lacks() { ! grep -qa -- "$2" "$1"; }

truncate -s 2G "$tmp/big.log"
mkdir -p "$tmp/out"
sample=$src/testdata/runs/prefix/logs/orchestrator.log
[[ -f $sample ]] || { echo "FAIL: $sample missing"; exit 1; }

# 1. A file on a terminal: bar with total, rate and ETA; cleared before the summary.
script -qec "'$bin' -j1 -o '$tmp/out' '$tmp/big.log'" /dev/null >"$tmp/tty_file.txt" 2>&1 </dev/null || true
check "file on a terminal: rate shown" has "$tmp/tty_file.txt" "MB/s"
check "file on a terminal: ETA shown" has "$tmp/tty_file.txt" "ETA"
check "file on a terminal: total size shown" has "$tmp/tty_file.txt" "/ 2.0 GiB"
check "file on a terminal: input named" has "$tmp/tty_file.txt" "big.log"

# 2. Standard input on a terminal: bytes and rate, no total, no ETA.
cat >"$tmp/slow.sh" <<EOS
{ head -c 20000 '$sample'; sleep 1.2; cat '$sample'; } | '$bin' -o '$tmp/out' -
EOS
script -qec "bash '$tmp/slow.sh'" /dev/null >"$tmp/tty_stdin.txt" 2>&1 </dev/null || true
check "stdin on a terminal: rate shown" has "$tmp/tty_stdin.txt" "MB/s"
check "stdin on a terminal: no ETA" lacks "$tmp/tty_stdin.txt" "ETA"
check "stdin on a terminal: the run was analysed" has "$tmp/tty_stdin.txt" "queue_ms"

# 3. --quiet on a terminal: no bar.
script -qec "'$bin' -q -j1 -o '$tmp/out' '$tmp/big.log'" /dev/null >"$tmp/tty_quiet.txt" 2>&1 </dev/null || true
check "--quiet on a terminal: no bar" lacks "$tmp/tty_quiet.txt" "MB/s"

# 4. stderr not a terminal: no bar, no carriage returns.
"$bin" -j1 -o "$tmp/out" "$tmp/big.log" >"$tmp/stdout.txt" 2>"$tmp/stderr.txt" || true
check "stderr to a file: no bar" lacks "$tmp/stderr.txt" "MB/s"
check "stderr to a file: no carriage return" bash -c "! tr -d '\n' <'$tmp/stderr.txt' | grep -q \$'\r'"

if ((fails)); then
  echo "--- terminal output of case 1:"; cat -v "$tmp/tty_file.txt" | tail -c 2000
  echo "$fails check(s) failed"
  exit 1
fi
echo "all progress checks passed"
