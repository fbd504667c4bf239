#!/usr/bin/env bash
# `analyze-logs --follow` on a prime-rl run that is still being written (tests/e2e/follow_writer.py
# writes its logs a step at a time, then pauses, rotates, truncates, adds a file or ends the run).
# Each case asserts on what the tool printed, the report folder it wrote and its exit status:
#   1. stall latency: a pause is a `stalled` event within two --interval of --stall-after passing,
#      naming the component and its last line; --exit-on stalled then exits 1 with the folder;
#   2. no false stall when the writer slows down within the expectation; the run's last line ends
#      the follow by itself (exit 0, folder written, no stalled finding);
#   3. rotation (rename + create), copytruncate, a file that appears later, a line written in two
#      halves: no line lost or counted twice (steps, updates and batches in the final report.json
#      and in the live counts equal what the writer wrote);
#   4. the numbers while it runs equal a one-shot run over the same bytes (the writer pauses; the
#      `analysis` event's metrics are compared with `analyze-logs --json` on a copy of the run);
#   5. SIGINT and SIGTERM: the report folder of everything read, exit 0;
#   6. --metrics FILE parsed with prometheus_client's text parser (python3-prometheus-client);
#   7. lines (not a terminal, no --json) and the folder's path as the last line;
#   8. standard input followed until its end; a compressed input and option misuse: exit 2;
#   9. on a terminal (a pseudo-terminal): screens redrawn every interval, at most 100 columns, the
#      verdict so far naming the stalled component, its last line; the report printed at the end.
# About 40 s; every wait is bounded.
#
# Usage: test_follow.sh BINARY SOURCE_DIR   (as ctest runs it)
set -uo pipefail

bin=${1:?usage: test_follow.sh BINARY SOURCE_DIR}
src=${2:?usage: test_follow.sh BINARY SOURCE_DIR}
writer=$src/tests/e2e/follow_writer.py
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3  # Debian's, where python3-prometheus-client is
if ! command -v "$py" >/dev/null; then
  echo "SKIP: python3 not installed (needed by tests/e2e/follow_writer.py)"
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
  for f in "$tmp"/*/out.jsonl "$tmp"/*/out.txt "$tmp"/*/err.txt; do
    [[ -f $f ]] && { echo "--- $f"; tail -n 15 "$f" | cut -c1-300; }
  done
  exit 1
}
ok() { echo "ok   $*"; }

# wait_for FILE PATTERN SECONDS: until a line of FILE matches the extended regex.
wait_for() {
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# wait_pid PID SECONDS: the exit status of PID, or 124 if it is still running then.
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
jq_py() { "$py" -c "$1" "${@:2}"; }

# ---- 1. stall latency, --exit-on stalled ------------------------------------------------------
d=$tmp/stall
mkdir -p "$d/run"
"$py" "$writer" "$d/run" steps:3:0.1 >/dev/null
"$bin" -f --json --interval 0.5 --stall-after 2 --exit-on stalled -o "$d" "$d/run" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
"$py" "$writer" "$d/run" steps:10:0.1 pause:4 &
pids+=($!)
wait_pid "$fpid" 20
rc=$?
[[ $rc == 1 ]] || fail "--exit-on stalled: exit status $rc, expected 1"
last=$(awk '$2 ~ /^step/ { t = $1 } END { print t }' "$d/run/writer.log")
jq_py '
import json, sys
last = float(sys.argv[2])
ev = [json.loads(l) for l in open(sys.argv[1])]
st = [e for e in ev if e["event"] == "stalled"]
assert st, "no stalled event"
comps = {e["component"] for e in st}
assert "orchestrator steps" in comps, comps
e = [e for e in st if e["component"] == "orchestrator steps"][0]
lat = e["t"] - last
# The expectation (2 s) passes at last + 2; detection within two intervals (1 s) of that, plus
# the writer-to-mtime rounding the file system allows (0.1 s).
assert 2 - 0.15 <= lat <= 2 + 1.0 + 0.1, f"latency {lat:.3f} s"
assert "Step 12" in e["last_line"], e["last_line"]
assert e["file"].endswith("orchestrator.log"), e["file"]
assert e["expected_s"] == 2, e
end = ev[-1]
assert end["event"] == "end" and end["exit_status"] == 1 and end["why"] == "--exit-on stalled", end
print(f"{lat:.3f}")
' "$d/out.jsonl" "$last" >"$d/lat.txt" 2>&1 || fail "stall event: $(cat "$d/lat.txt")"
dir=$(ls -d "$d"/analysis_* 2>/dev/null | head -1)
[[ -n $dir && -f $dir/report.json ]] || fail "--exit-on stalled wrote no report folder"
jq_py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="stuck", d["verdict"]; assert d["findings"][0]["id"]=="stalled", d["findings"][0]; assert "orchestrator steps" in d["cause"] or "weight updates" in d["cause"] or "generation" in d["cause"] or "trainer" in d["cause"] or "checkpoints" in d["cause"] or "inference" in d["cause"], d["cause"]' "$dir/report.json" ||
  fail "the report of a stalled run is not stuck with the stalled finding first"
grep -q '## Stalled (--follow)' "$dir/SUMMARY.md" || fail "SUMMARY.md has no Stalled section"
ok "stalled detected $(cat "$d/lat.txt") s after the last step (expectation 2 s, interval 0.5 s); --exit-on stalled: exit 1, folder written"

# ---- 2. slowing down is not a stall; the run's last line ends the follow -----------------------
d=$tmp/slow
mkdir -p "$d/run"
"$py" "$writer" "$d/run" steps:2:0.1 >/dev/null
"$bin" -f --json --interval 0.25 --stall-after 2 -o "$d" "$d/run" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
"$py" "$writer" "$d/run" steps:5:0.1 steps:4:0.8 finish &
pids+=($!)
wait_pid "$fpid" 30
rc=$?
[[ $rc == 0 ]] || fail "a run that ended: exit status $rc, expected 0"
grep -q '"event":"stalled"' "$d/out.jsonl" && fail "a writer slowing to 0.8 s gaps (expectation 2 s) was called stalled"
grep -q '"event":"job_ended"' "$d/out.jsonl" || fail "no job_ended event at 'Orchestrator finished.'"
dir=$(ls -d "$d"/analysis_* 2>/dev/null | head -1)
[[ -n $dir ]] || fail "no report folder after the run ended"
jq_py 'import json,sys; d=json.load(open(sys.argv[1])); assert not [f for f in d["findings"] if f["id"]=="stalled"]' "$dir/report.json" ||
  fail "the report of a run that ended has a stalled finding"
ok "slowing down within the expectation: no stall; 'Orchestrator finished.' ends the follow (exit 0, folder)"

# ---- 3. rotation, copytruncate, a new file, a line in two halves -------------------------------
d=$tmp/rotate
mkdir -p "$d/run"
"$py" "$writer" "$d/run" steps:4:0 >/dev/null
"$bin" -f --json --interval 0.2 -o "$d" "$d/run" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
"$py" "$writer" "$d/run" pause:0.8 steps:3:0.05 pause:0.8 rotate steps:3:0.05 pause:0.8 truncate \
  steps:3:0.05 pause:0.8 newfile partial steps:2:0.05 pause:0.8 finish &
wpid=$!
pids+=("$wpid")
wait_pid "$wpid" 30 || fail "the writer failed"
wait_pid "$fpid" 20
rc=$?
[[ $rc == 0 ]] || fail "rotation run: exit status $rc, expected 0"
dir=$(ls -d "$d"/analysis_* 2>/dev/null | head -1)
[[ -n $dir ]] || fail "no report folder after rotation"
jq_py '
import json, sys
w = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))
ev = [json.loads(l) for l in open(sys.argv[3])]
m = r["metrics"]
assert m["weights.wall_ms"]["count"] == w["updates"], (m["weights.wall_ms"]["count"], w)
assert m["gen.dur_ms"]["count"] == w["batches"], (m["gen.dur_ms"]["count"], w)
steps = r["steps"]
assert steps["orchestrator_lines"] == w["steps"], (steps.get("orchestrator_lines"), w)
assert steps["trainer_lines"] == w["trainer_steps"], (steps.get("trainer_lines"), w)
last = [e for e in ev if e["event"] == "analysis"][-1]["progress"]
assert last["orchestrator steps"] == w["steps"], (last, w)
assert last["weight updates"] == w["updates"], (last, w)
assert last["trainer steps"] == w["trainer_steps"], (last, w)
' "$d/run/written.json" "$dir/report.json" "$d/out.jsonl" 2>"$d/check.txt" ||
  fail "lines lost or counted twice across rotation/truncation: $(tail -2 "$d/check.txt")"
ok "rotation, copytruncate, a new file and a split line: every step, update and batch counted once"

# ---- 4. the numbers while it runs equal a one-shot run over the same bytes ---------------------
d=$tmp/equal
mkdir -p "$d/run"
"$bin" -f --json --interval 0.2 -o "$d" "$d/run" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
sleep 0.3
"$py" "$writer" "$d/run" steps:25:0.02 >/dev/null
sleep 0.1
cp -r "$d/run" "$d/copy"
bytes=$(cat "$d/run/logs/"*.log | wc -c)
wait_for "$d/out.jsonl" "\"event\":\"analysis\".*\"bytes\":$bytes," 15 || fail "no analysis of all $bytes bytes"
"$bin" --json --no-folder "$d/copy" >"$d/oneshot.json" 2>/dev/null || fail "one-shot run failed"
jq_py '
import json, sys
live = [json.loads(l) for l in open(sys.argv[1])]
live = [e for e in live if e["event"] == "analysis" and e["bytes"] == int(sys.argv[3])][-1]
one = json.load(open(sys.argv[2]))
sampled = {k: v for k, v in one["metrics"].items() if v and v.get("count")}
assert set(live["metrics"]) == set(sampled), (sorted(live["metrics"]), sorted(sampled))
for name, s in live["metrics"].items():
    for k in ("count", "mean", "p50", "p90", "p99", "max"):
        a, b = s[k], sampled[name][k]
        assert abs(a - b) <= 1e-9 * max(1, abs(b)), (name, k, a, b)
assert live["analysis_verdict"] == one["verdict"], (live["analysis_verdict"], one["verdict"])
print(len(live["metrics"]))
' "$d/out.jsonl" "$d/oneshot.json" "$bytes" >"$d/n.txt" 2>&1 || fail "live figures differ from the one-shot run: $(tail -2 "$d/n.txt")"
ok "live analysis of $bytes bytes equals the one-shot run over a copy ($(cat "$d/n.txt") metrics, verdict)"

# ---- 5. SIGINT and SIGTERM: the report of everything read --------------------------------------
for sig in INT TERM; do
  d=$tmp/sig$sig
  mkdir -p "$d/run"
  "$py" "$writer" "$d/run" steps:6:0 >/dev/null
  # Job control on: a background job that ignores SIGINT (as `cmd &` does without it) is not a test.
  set -m
  "$bin" -f --json --interval 0.2 -o "$d" "$d/run" >"$d/out.jsonl" 2>"$d/err.txt" &
  fpid=$!
  set +m
  pids+=("$fpid")
  wait_for "$d/out.jsonl" '"event":"analysis"' 10 || fail "SIG$sig: no analysis before the signal"
  kill -"$sig" "$fpid"
  wait_pid "$fpid" 15
  rc=$?
  [[ $rc == 0 ]] || fail "SIG$sig: exit status $rc, expected 0 (the report was written)"
  dir=$(ls -d "$d"/analysis_* 2>/dev/null | head -1)
  [[ -n $dir && -s $dir/report.json && -s $dir/SUMMARY.md ]] || fail "SIG$sig: no complete report folder"
  jq_py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["metrics"]["weights.wall_ms"]["count"]==6' "$dir/report.json" ||
    fail "SIG$sig: the report does not hold the 6 updates read"
  grep -q "\"why\":\"stopped by " "$d/out.jsonl" || fail "SIG$sig: no end event"
done
ok "SIGINT and SIGTERM: report folder of the 6 steps read, exit 0"

# ---- 6. --metrics, parsed by prometheus_client ---------------------------------------------------
d=$tmp/metrics
mkdir -p "$d/run"
"$py" "$writer" "$d/run" steps:5:0 >/dev/null
"$bin" -f --json --interval 0.2 --stall-after 1 --metrics "$d/m.prom" -o "$d" "$d/run" >"$d/out.jsonl" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
wait_for "$d/out.jsonl" '"event":"stalled"' 10 || fail "--metrics run: no stall"
sleep 0.5
kill -TERM "$fpid"
wait_pid "$fpid" 15 >/dev/null
if "$py" -c 'import prometheus_client' 2>/dev/null; then
  "$py" - "$d/m.prom" >"$d/prom.txt" 2>&1 <<'PYEOF' || fail "--metrics file: $(tail -3 "$d/prom.txt")"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def sample(fam, **labels):
    for s in fams[fam].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError(f"{fam} {labels} missing")
assert sample("analyze_logs_component_progress", component="orchestrator steps") == 5
assert sample("analyze_logs_component_progress", component="weight updates") == 5
assert sample("analyze_logs_component_stalled", component="orchestrator steps") == 1
assert sample("analyze_logs_component_last_progress_timestamp_seconds", component="orchestrator steps") > 1.7e9
assert sample("analyze_logs_findings", severity="critical") >= 1
assert sample("analyze_logs_window_quantile", metric="weights.queue_ms", quantile="0.5") == 21.0
assert sample("analyze_logs_window_samples", metric="weights.queue_ms") == 5
assert fams["analyze_logs_component_progress"].type == "counter"
print(len(fams))
PYEOF
  ok "--metrics: $(cat "$d/prom.txt") families parsed by prometheus_client; counts, stalled, window quantiles"
else
  echo "SKIP --metrics parse: python3-prometheus-client not installed"
fi
[[ ! -e $d/m.prom.tmp ]] || fail "--metrics left its temporary file"

# ---- 7. lines when stdout is not a terminal ------------------------------------------------------
d=$tmp/lines
mkdir -p "$d/run"
"$py" "$writer" "$d/run" steps:3:0 >/dev/null
"$bin" -f --interval 0.2 --stall-after 1 -o "$d" "$d/run" >"$d/out.txt" 2>"$d/err.txt" &
fpid=$!
pids+=("$fpid")
wait_for "$d/out.txt" 'STALLED orchestrator steps' 10 || fail "no STALLED line"
"$py" "$writer" "$d/run" steps:1:0 finish >/dev/null
wait_pid "$fpid" 15
rc=$?
[[ $rc == 0 ]] || fail "lines mode: exit status $rc"
grep -Eq '^[0-9T:-]+Z run new orchestrator steps' "$d/out.txt" || fail "no 'new orchestrator steps' line"
grep -Eq 'STALLED orchestrator steps: no progress for [0-9]+ s \(expected within 1 s\); last line: .*Step 2 ' "$d/out.txt" ||
  fail "the STALLED line does not name the silence, the expectation and the last line"
grep -q 'resumed orchestrator steps' "$d/out.txt" || fail "no 'resumed' line when steps came back"
grep -q 'job ended: the orchestrator finished' "$d/out.txt" || fail "no 'job ended' line"
dir=$(tail -n 1 "$d/out.txt")
[[ -d $dir && -f $dir/report.json ]] || fail "the last line is not the report folder: $dir"
ok "lines mode: new / STALLED / resumed / job ended, folder path last"

# ---- 8. standard input until its end; what cannot be followed ----------------------------------
d=$tmp/stdin
mkdir -p "$d"
"$py" "$writer" "$d/w" stdout:8:0.05 | "$bin" -f --json --interval 0.2 -o "$d" - >"$d/out.jsonl" 2>"$d/err.txt"
rc=$?
[[ $rc == 0 ]] || fail "stdin: exit status $rc"
dir=$(ls -d "$d"/analysis_* 2>/dev/null | head -1)
[[ -n $dir ]] || fail "stdin: no report folder"
jq_py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["metrics"]["weights.wall_ms"]["count"]==8, d["metrics"]["weights.wall_ms"]' "$dir/report.json" ||
  fail "stdin: the report does not hold the 8 updates"
grep -q '"why":"the job ended"' "$d/out.jsonl" || fail "stdin: no end event at end of input"
ok "standard input followed until its end (8 updates in the report)"

gzip -c "$src/testdata/runs/healthy/logs/orchestrator.log" >"$d/o.log.gz"
err=$("$bin" -f "$d/o.log.gz" 2>&1 >/dev/null)
rc=$?
[[ $rc == 2 && $err == *"o.log.gz: compressed; --follow"* ]] || fail "a compressed input: exit $rc, '$err'"
err=$("$bin" -f - <"$d/o.log.gz" 2>&1 >/dev/null)
rc=$?
[[ $rc == 2 && $err == *"compressed"* ]] || fail "compressed standard input: exit $rc, '$err'"
err=$("$bin" --stall-after 5m "$src/testdata/runs/healthy" 2>&1 >/dev/null)
rc=$?
[[ $rc == 2 && $err == *"--stall-after only means something with --follow"* ]] || fail "--stall-after without --follow: exit $rc, '$err'"
err=$("$bin" -f --interval soon "$src/testdata/runs/healthy" 2>&1 >/dev/null)
rc=$?
[[ $rc == 2 && $err == *"--interval soon: not a duration"* ]] || fail "--interval soon: exit $rc, '$err'"
err=$("$bin" -f "$d/missing.log" 2>&1 >/dev/null)
rc=$?
[[ $rc == 2 && $err == *"missing.log"* ]] || fail "a missing input: exit $rc, '$err'"
ok "compressed input (file and stdin), options without --follow, a bad duration, a missing file: exit 2"
# ---- 9. on a terminal ------------------------------------------------------------------------------
d=$tmp/tty
mkdir -p "$d/run"
"$py" "$writer" "$d/run" steps:5:0 >/dev/null
cat >"$d/screen_check.py" <<'PYEOF'
import fcntl, os, pty, re, select, signal, struct, sys, termios, time
binary, d, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.environ["NO_COLOR"] = "1"
    # A terminal 100 columns wide and `rows` high: the screen fits it.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 100, 0, 0))
    os.execv(binary, [binary, "-f", "--interval", "0.3", "--stall-after", "1", "-o", d, d + "/run"])
def read_for(seconds, buf):
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return buf, True
            if not chunk:
                return buf, True
            buf += chunk
    return buf, False
buf, _ = read_for(2.5, b"")
os.kill(pid, signal.SIGTERM)
buf, _ = read_for(15, buf)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
text = re.sub(r"\x1b\[[0-9;]*m", "", buf.decode("utf-8", "replace")).replace("\r", "")
screens = text.split("\x1b[H\x1b[2J")[1:]
assert len(screens) >= 4, f"{len(screens)} screens in 2.5 s at a 0.3 s interval"
last = screens[-1]
screen, report = last.split("Ctrl-C: stop and write the report", 1)
for line in screen.splitlines():
    assert len(line) <= 100, f"{len(line)} columns: {line}"
assert len(screen.splitlines()) <= rows, f"{len(screen.splitlines())} rows on a {rows}-row terminal"
if rows < 30:  # 6 components of 2 rows each do not fit: the stalled ones first, then a count
    assert re.search(r"  … and \d+ more components\n", screen), screen
    assert "run (prime-rl): stuck — " in screen and "STALLED" in screen, screen
    print(len(screens))
    sys.exit(0)
assert "more components" not in screen, screen
assert "run (prime-rl): stuck — " in screen and "no progress for" in screen, screen
assert re.search(r"orchestrator steps +5  step 4 \(1\.4 s\) +\d+ s STALLED", screen), screen
assert "└ " in screen and "Step 4 | Time: 1.40s" in screen, screen
assert "weights.queue_ms" in screen and "last 5 min" in screen, screen
assert "[critical] stalled:" in screen, screen
assert "STUCK:" in report and "analysis_" in report.strip().splitlines()[-1], report[-300:]
print(len(screens))
PYEOF
for rows in 40 20; do
  rm -rf "$d"/analysis_*
  "$py" "$d/screen_check.py" "$bin" "$d" "$rows" >"$d/out.txt" 2>&1 || fail "terminal screen ($rows rows): $(grep -A3 Error "$d/out.txt" | head -c 600)"
done
ok "terminal: screens redrawn, 100 columns, 40 and 20 rows (the stalled components first, then a count), stuck with the stalled component and its last line, the report at the end"

ls -d "${TMPDIR:-/tmp}"/analyze-logs-follow-* 2>/dev/null | grep -q . &&
  echo "note: analyze-logs-follow-* folders exist in ${TMPDIR:-/tmp} (other runs may own them)"
echo "all --follow cases passed"
