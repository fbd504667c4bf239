#!/usr/bin/env bash
# `analyze-logs --follow` on srtctl and Ray jobs written again as if they were running
# (tests/e2e/follow_replay.py: the bundled testdata jobs, a few lines of every log at a time, logs
# appearing with their first line):
#   1. an srtctl job written whole: the follow ends by itself at the batch script's last line,
#      workers and benchmark concurrencies finished on the way, and the report equals a one-shot
#      run over the same folder (verdict, cause, findings, the benchmark points);
#   2. an srtctl job that stops half-way: a `stalled` worker or benchmark, --exit-on stalled: 1;
#   3. a Ray job whose driver raises: the follow ends at the driver's exception; report as one-shot;
#   4. a Ray job stuck loading shards: `stalled` on its phase or an actor; SIGTERM: report, stuck;
#   5. a Ray driver log piped in: read by the Ray classifier once the analysis tells its kind.
# About 30 s; every wait is bounded.
#
# Usage: test_follow_kinds.sh BINARY SOURCE_DIR   (as ctest runs it)
set -uo pipefail

bin=${1:?usage: test_follow_kinds.sh BINARY SOURCE_DIR}
src=${2:?usage: test_follow_kinds.sh BINARY SOURCE_DIR}
replay=$src/tests/e2e/follow_replay.py
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
if ! command -v "$py" >/dev/null; then
  echo "SKIP: python3 not installed (needed by tests/e2e/follow_replay.py)"
  exit 0
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*/out.jsonl "$tmp"/*/err.txt; do
    [[ -f $f ]] && { echo "--- $f"; tail -n 12 "$f" | cut -c1-300; }
  done
  exit 1
}
ok() { echo "ok   $*"; }
wait_pid() {
  local end=$((SECONDS + $2))
  while ((SECONDS < end)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      return $?
    fi
    sleep 0.1
  done
  return 124
}
wait_for() {
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# same_report FOLLOW_REPORT ONESHOT_REPORT: verdict, cause, finding ids and summaries, and the kind's
# body are equal.
same_report() {
  "$py" - "$1" "$2" <<'PYEOF'
import json, re, sys
# Where standard input was copied to be read: a new folder each run.
load = lambda p: json.loads(re.sub(r"analyze-logs-stdin-[A-Za-z0-9]{6}", "analyze-logs-stdin-XXXXXX", open(p).read()))
a, b = (load(p) for p in sys.argv[1:3])
assert a["verdict"] == b["verdict"], (a["verdict"], b["verdict"])
assert a["cause"] == b["cause"], (a["cause"], b["cause"])
fa = [(f["id"], f["severity"], f["summary"]) for f in a["findings"]]
fb = [(f["id"], f["severity"], f["summary"]) for f in b["findings"]]
assert fa == fb, (fa, fb)
for key in ("srtctl", "ray"):
    if key in b:
        assert json.dumps(a[key], sort_keys=True) == json.dumps(b[key], sort_keys=True), f"{key} bodies differ"
print(len(fa))
PYEOF
}

# ---- 1. srtctl, written whole ---------------------------------------------------------------------
d=$tmp/srtctl
job=4460_2P_1D_20251122_061502
mkdir -p "$d/logs/$job"
"$py" "$replay" "$src/testdata/srtctl/logs/$job" "$d/logs/$job" --lines 1 --tick 0 --until 0.02 >/dev/null
"$bin" -f --json --interval 0.2 -o "$d" "$d/logs/$job" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
sleep 0.5
# The rest of every log appended in 4 KiB pieces (lines cut anywhere), all logs in turn.
"$py" - "$src/testdata/srtctl/logs/$job" "$d/logs/$job" <<'PYEOF' &
import os, sys, time
src, dst = sys.argv[1:3]
logs = []
for root, _, files in os.walk(src):
    for n in sorted(files):
        if n.endswith((".log", ".out", ".err", ".txt", ".jsonl")):
            s = os.path.join(root, n)
            d = os.path.join(dst, os.path.relpath(s, src))
            have = os.path.getsize(d) if os.path.exists(d) else 0
            data = open(s, "rb").read()
            logs.append([d, data[have:], 0])
step = 4096
while any(pos < len(data) for _, data, pos in logs):
    for e in logs:
        d, data, pos = e
        if pos < len(data):
            os.makedirs(os.path.dirname(d), exist_ok=True)
            with open(d, "ab") as f:
                f.write(data[pos : pos + step])
            e[2] = pos + step
    time.sleep(0.02)
PYEOF
pids+=($!)
wait_pid "$fpid" 40
rc=$?
[[ $rc == 0 ]] || fail "srtctl written whole: exit status $rc, expected 0 (the job ended)"
grep -q '"event":"job_ended"' "$d/out.jsonl" || fail "srtctl: no job_ended event"
grep -q '"event":"finished","job":"[^"]*","component":"worker ' "$d/out.jsonl" || fail "srtctl: no worker finished"
grep -q '"event":"finished","job":"[^"]*","component":"benchmark c=' "$d/out.jsonl" || fail "srtctl: no benchmark concurrency finished"
grep -q '"event":"stalled"' "$d/out.jsonl" && fail "srtctl written whole: a component was called stalled"
dir=$(ls -d "$d"/analysis_* | head -1)
"$bin" --json --no-folder "$d/logs/$job" >"$d/oneshot.json" 2>/dev/null
n=$(same_report "$dir/report.json" "$d/oneshot.json" 2>&1) || fail "srtctl: the follow's report differs from a one-shot run: $n"
ok "srtctl written as it runs: workers and benchmarks finish, the script's end ends it; report = one-shot ($n findings)"

# ---- 2. srtctl, stopped half-way -------------------------------------------------------------------
d=$tmp/srtctl_half
mkdir -p "$d/job"
"$py" "$replay" "$src/testdata/srtctl/logs/$job" "$d/job/$job" --lines 40 --tick 0.02 --until 0.5 >/dev/null
"$bin" -f --json --interval 0.25 --stall-after 1 --exit-on stalled -o "$d" "$d/job/$job" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
wait_pid "$fpid" 20
rc=$?
[[ $rc == 1 ]] || fail "srtctl stopped half-way: exit status $rc, expected 1 (--exit-on stalled)"
grep -Eq '"event":"stalled","job":"[^"]*","component":"(worker|serving|benchmark|health)' "$d/out.jsonl" ||
  fail "srtctl: no stalled worker, serving or benchmark component"
dir=$(ls -d "$d"/analysis_* | head -1)
"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="stuck", d["verdict"]; assert d["findings"][0]["id"]=="stalled"' "$dir/report.json" ||
  fail "srtctl stopped half-way: the report is not stuck with the stalled finding first"
ok "srtctl stopped half-way: $(grep -c '"event":"stalled"' "$d/out.jsonl") stalled components, exit 1, report stuck"

# ---- 3. Ray, the driver raises -----------------------------------------------------------------------
d=$tmp/ray
mkdir -p "$d/job"
"$bin" -f --json --interval 0.2 -o "$d" "$d/job" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
"$py" "$replay" "$src/testdata/ray/nccl_timeout" "$d/job" --lines 30 --tick 0.02 >/dev/null &
pids+=($!)
wait_pid "$fpid" 40
rc=$?
[[ $rc == 0 ]] || fail "Ray, the driver raises: exit status $rc, expected 0"
grep -q '"event":"job_ended".*driver exited' "$d/out.jsonl" || fail "Ray: no job_ended at the driver's exception"
grep -q '"component":"Ray phase"' "$d/out.jsonl" || fail "Ray: no 'Ray phase' component"
dir=$(ls -d "$d"/analysis_* | head -1)
"$bin" --json --no-folder "$d/job" >"$d/oneshot.json" 2>/dev/null
n=$(same_report "$dir/report.json" "$d/oneshot.json" 2>&1) || fail "Ray: the follow's report differs from a one-shot run: $n"
ok "Ray job written as it runs (folder empty at the start): ends at the driver's exception; report = one-shot ($n findings)"

# ---- 4. Ray, stuck loading shards ---------------------------------------------------------------------
d=$tmp/ray_stuck
mkdir -p "$d/job"
"$py" "$replay" "$src/testdata/ray/stuck_shards" "$d/job" --lines 50 --tick 0 >/dev/null
"$bin" -f --json --interval 0.2 --stall-after 1 -o "$d" "$d/job" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
wait_for "$d/out.jsonl" '"event":"stalled"' 15 || fail "Ray stuck: no stalled event"
kill -TERM "$fpid"
wait_pid "$fpid" 20
rc=$?
[[ $rc == 0 ]] || fail "Ray stuck, SIGTERM: exit status $rc, expected 0"
dir=$(ls -d "$d"/analysis_* | head -1)
"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="stuck", d["verdict"]; assert any(f["id"]=="stalled" for f in d["findings"])' "$dir/report.json" ||
  fail "Ray stuck: the report is not stuck with a stalled finding"
ok "Ray stuck loading shards: stalled ($(grep -o '"component":"[^"]*","silent' "$d/out.jsonl" | head -2 | tr '\n' ' ')); SIGTERM: report, stuck"
# ---- 5. a Ray driver log on standard input ------------------------------------------------------------
d=$tmp/ray_stdin
mkdir -p "$d"
driver=$(ls "$src"/testdata/ray/nccl_timeout/running_logs/*.log | head -1)
"$py" -c '
import sys, time
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
try:
    for i in range(0, len(lines), 5):
        sys.stdout.buffer.write(b"".join(lines[i:i + 5]))
        sys.stdout.buffer.flush()
        time.sleep(0.05)
except BrokenPipeError:
    pass  # the follow ends at the exception of the driver, maybe before the last lines
' "$driver" | "$bin" -f --json --interval 0.2 -o "$d" - >"$d/out.jsonl" 2>"$d/err.txt"
rc=${PIPESTATUS[1]}
[[ $rc == 0 ]] || fail "Ray driver log on stdin: exit status $rc"
grep -q '"component":"Ray phase"' "$d/out.jsonl" || fail "Ray driver log on stdin: not read as a Ray job (no 'Ray phase')"
dir=$(ls -d "$d"/analysis_* | head -1)
"$bin" --json --no-folder - <"$driver" >"$d/oneshot.json" 2>/dev/null
n=$(same_report "$dir/report.json" "$d/oneshot.json" 2>&1) || fail "Ray on stdin: the follow's report differs from a one-shot run: $n"
ok "a Ray driver log piped in: read as Ray once the analysis tells its kind; report = one-shot ($n findings)"
echo "all --follow kinds passed"
