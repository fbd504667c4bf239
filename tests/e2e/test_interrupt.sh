#!/usr/bin/env bash
# Issue 22, "Interruption must never hang": SIGINT and SIGTERM sent at many points in time across a
# run (discovery, scan, correlation, every writer, the rename into place), the way it failed
# (`timeout -s INT 0.1 analyze-logs -q big.log` hung when the old handler allocated inside an
# interrupted malloc). On every try the process must end within a second of the signal with 130
# (SIGINT) or 143 (SIGTERM), or 0 when it finished first, and leave no `.analysis_*` staging folder,
# no partial `analysis_*` folder and no copy of standard input.
#
#   bash tests/e2e/test_interrupt.sh BINARY SOURCE_DIR
#
# ALOG_INTERRUPT_TRIES sets the number of tries on the log: 200 by default, 50 under a sanitizer
# build (each run is several times slower there; the Release stage of tests/run.sh runs all 200).
set -u
BIN=$(readlink -f "$1")
SRC=$(readlink -f "${2:-.}")
[ -x "$BIN" ] || { echo "usage: $0 BINARY SOURCE_DIR" >&2; exit 2; }
sanitized=0
if grep -aqm1 -e __asan_init -e __ubsan_handle "$BIN" 2>/dev/null; then sanitized=1; fi
default_tries=200
[ "$sanitized" = 1 ] && default_tries=50
tries=${ALOG_INTERRUPT_TRIES:-$default_tries}

work=$(mktemp -d "${TMPDIR:-/tmp}/alog-interrupt.XXXXXX")
# Only this shell removes the folder: a child forked for `cmd &` that the signal reaches before it
# has exec'd the binary runs bash's EXIT trap too (bash catches fatal signals to run it), and would
# remove the folder under the tries still to come.
main_shell=$BASHPID
trap '[ "$BASHPID" = "$main_shell" ] && rm -rf "$work"' EXIT
cd "$work" || exit 2
export TMPDIR=$work/tmp  # where copies of standard input go
mkdir -p "$TMPDIR"

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A prime-rl run: a 32 MB orchestrator log and its inference log (updates to correlate, every
# writer busy).
mkdir -p run
python3 "$SRC/tests/bench/gen_log.py" --size 32M --seed 7 --out run/orchestrator.log \
  --inference run/inference.log >/dev/null 2>&1 || { echo "gen_log.py failed" >&2; exit 2; }
rm -f run/*.expected.json

# How long a whole run takes here (the sanitizer build is slower): the signals are spread over it.
# The shortest of three runs, so a load spike on a shared machine does not stretch the spread.
full_ms=
for k in 1 2 3; do
  rm -rf full.out && mkdir -p full.out
  t0=$(now_ms)
  "$BIN" -q --color never -o full.out run >/dev/null 2>&1
  rc=$?
  ms=$(($(now_ms) - t0))
  [ -z "$full_ms" ] || [ "$ms" -lt "$full_ms" ] && full_ms=$ms
done
full=$(find full.out -maxdepth 1 -name 'analysis_*' -type d)
expected_files=$(ls "$full" | sort | tr '\n' ' ')
echo "a whole run: exit $rc in ${full_ms} ms (shortest of 3), writes: $expected_files"
[ "$rc" -le 1 ] && [ -n "$full" ] || { bad "the uninterrupted run (exit $rc)"; exit 1; }

# A non-interactive shell starts `cmd &` with SIGINT and SIGQUIT ignored, and the tool keeps a
# signal that is ignored when it starts (as `nohup` needs): each try goes through
# `env --default-signal`. A signal that reached the forked shell before that exec would still be
# lost, so the delay counts from the moment the process is the tool itself (/proc/PID/exe); from
# then on a signal either comes before the tool's own handling (the default action: killed, 130/143)
# or is handled.
launch=(env --default-signal=INT,TERM,HUP)
wait_for_exec() {
  local pid=$1 k
  for k in $(seq 1000); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BIN" ] && return
    kill -0 "$pid" 2>/dev/null || return
    sleep 0.002
  done
}

# try OUT SIGNAL DELAY_S COMMAND...: starts COMMAND in the background, sends SIGNAL DELAY_S after
# it has exec'd the tool, and checks how it ended. Sets last_rc; counts a failure with its reason.
interrupted=0
finished=0
try() {
  local out=$1 sig=$2 delay=$3
  shift 3
  mkdir -p "$out"
  "$@" >/dev/null 2>"$out.stderr" &
  local pid=$!
  wait_for_exec "$pid"
  sleep "$delay"
  kill -s "$sig" "$pid" 2>/dev/null
  local t_sig k alive=1
  t_sig=$(now_ms)
  for k in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || { alive=0; break; }
    [ $(($(now_ms) - t_sig)) -gt 1000 ] && break
    sleep 0.005
  done
  if [ "$alive" = 1 ]; then
    # What it was doing: the command line, the signal masks and each thread's state.
    local what
    what="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null); $(grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)' "/proc/$pid/status" 2>/dev/null | tr '\n\t' '  ')"
    what+="; threads: $(cat /proc/"$pid"/task/*/stat 2>/dev/null | awk '{printf "%s ", $3}') wchan: $(cat /proc/"$pid"/task/*/wchan 2>/dev/null | tr '\0' ' ')"
    kill -s KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    bad "$out: SIG$sig after ${delay}s: still running a second later (killed): $what; stderr: $(head -c 300 "$out.stderr")"
    rm -rf "${TMPDIR:?}"/*  # the killed run's copy of standard input, not the next try's
    last_rc=137
    return
  fi
  wait "$pid"
  last_rc=$?
  local want=130
  [ "$sig" = TERM ] && want=143
  local staging complete=1 d
  staging=$(find "$out" -maxdepth 1 -name '.analysis_*' | wc -l)
  for d in $(find "$out" -maxdepth 1 -name 'analysis_*' -type d); do
    [ "$(ls "$d" | sort | tr '\n' ' ')" = "$expected_files" ] || complete=0
  done
  if [ "$staging" != 0 ]; then
    bad "$out: SIG$sig after ${delay}s: a staging folder was left (exit $last_rc)"
  elif [ "$complete" != 1 ]; then
    bad "$out: SIG$sig after ${delay}s: a partial analysis_* folder was left (exit $last_rc)"
  elif [ -n "$(ls -A "$TMPDIR")" ]; then
    bad "$out: SIG$sig after ${delay}s: a copy of standard input was left: $(ls -A "$TMPDIR")"
    rm -rf "${TMPDIR:?}"/*
  elif [ "$last_rc" = "$want" ]; then
    interrupted=$((interrupted + 1))
  elif [ "$last_rc" -le 1 ]; then
    finished=$((finished + 1))  # it ended before the signal: a complete folder is right
  else
    bad "$out: SIG$sig after ${delay}s: exit $last_rc, not $want: $(head -c 300 "$out.stderr")"
  fi
  rm -rf "$out" "$out.stderr"
}

# Delays from 0 to the length of a whole run, in even steps, SIGINT and SIGTERM in turn.
for i in $(seq 1 "$tries"); do
  sig=INT
  [ $((i % 2)) = 0 ] && sig=TERM
  delay_us=$((full_ms * 1000 * (i - 1) / tries))
  delay=$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))
  try "t$i.out" "$sig" "$delay" "${launch[@]}" "$BIN" -q --color never -o "t$i.out" run
done
# Runs that finish before their signal are fine; but a fifth at least must land inside a run, or the
# test would prove nothing.
if [ "$interrupted" -ge $((tries / 5)) ]; then
  ok "$tries signals across a run: $interrupted interrupted (130/143), $finished finished first, every one ended within a second and left nothing behind"
else
  bad "$tries signals across a run: only $interrupted interrupted ($finished finished first): the signals missed the run"
fi

# Standard input still being copied (a Ray driver log from a pipe that stays open): the process
# is blocked in read(2) when the signal comes; it ends at once and the copy is removed.
ray_log=$(find "$SRC/testdata/ray/nccl_timeout/running_logs" -type f -name '*.log' | head -n 1)
mkfifo feed
for sig in INT TERM; do
  (cat "$ray_log"; exec sleep 30) >feed &
  writer=$!
  # exec: the signal goes to the tool itself, not to a shell in front of it.
  try "stdin$sig.out" "$sig" 0.3 bash -c "exec ${launch[*]} '$BIN' -q --color never -o 'stdin$sig.out' - <feed"
  kill "$writer" 2>/dev/null
  wait "$writer" 2>/dev/null
  want=130
  [ "$sig" = TERM ] && want=143
  if [ "$last_rc" = "$want" ]; then ok "SIG$sig while standard input is copied: exit $last_rc, the copy removed"
  else bad "SIG$sig while standard input is copied: exit $last_rc, not $want"; fi
done

# A second Ctrl-C ends at once, whatever the first one is doing.
mkdir -p twice.out
"${launch[@]}" "$BIN" -q --color never -o twice.out run >/dev/null 2>&1 &
pid=$!
wait_for_exec "$pid"
sleep "$(printf '0.%03d' $((full_ms / 3 % 1000)))"
kill -s INT "$pid" 2>/dev/null
kill -s INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [ "$rc" = 130 ] || [ "$rc" -le 1 ]; then ok "two SIGINTs in a row: exit $rc"; else bad "two SIGINTs in a row: exit $rc"; fi

# Under nohup (SIGHUP ignored when the tool starts) a hangup is not an interruption: the run
# finishes and its folder is complete.
mkdir -p nohup.out
(trap '' HUP; exec "$BIN" -q --color never -o nohup.out run) >/dev/null 2>&1 &
pid=$!
wait_for_exec "$pid"
sleep "$(printf '0.%03d' $((full_ms / 3 % 1000)))"
kill -s HUP "$pid" 2>/dev/null
wait "$pid"
rc=$?
d=$(find nohup.out -maxdepth 1 -name 'analysis_*' -type d)
if [ "$rc" -le 1 ] && [ -n "$d" ] && [ "$(ls "$d" | sort | tr '\n' ' ')" = "$expected_files" ]; then
  ok "SIGHUP ignored at start (nohup): still ignored, exit $rc, the folder complete"
else
  bad "SIGHUP ignored at start (nohup): exit $rc, folder '${d}'"
fi

echo "== $fails failed"
[ "$fails" = 0 ]
