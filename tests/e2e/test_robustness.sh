#!/usr/bin/env bash
# Issue 8, end to end: every kind of bad input and every way the output could be lost, fed to the
# real binary. Each check prints one "ok"/"FAIL"/"skip" line; the script exits 1 if any failed.
# docs/RELIABILITY.md maps each bad input to the check here that shows what the tool does.
#
#   bash tests/e2e/test_robustness.sh BINARY SOURCE_DIR
#
# Large inputs (a 200 MB line, 2M trace ids) are generated in a mktemp -d folder and removed at
# the end. Under a sanitizer build the scale is reduced and memory limits are not checked (ASan's
# shadow memory makes RSS meaningless); ALOG_ROBUSTNESS_IDS overrides the number of trace ids.
set -u
BIN=$(readlink -f "$1")
SRC=$(readlink -f "${2:-.}")
[ -x "$BIN" ] || { echo "usage: $0 BINARY SOURCE_DIR" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/alog-robustness.XXXXXX")
main_shell=$BASHPID
cleanup() {  # only in this shell: a forked child signalled before its exec runs the EXIT trap too
  [ "$BASHPID" = "$main_shell" ] || return 0
  chmod -R u+rwX "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 2

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
skip() { echo "skip $*"; }
section() { echo "== $* (at ${SECONDS}s)"; }
check() {  # check "description" command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# The interpreter itself, resolved once (a pyenv shim costs a second per call).
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || { echo "python3 is needed" >&2; exit 2; }

sanitized=0
if grep -aqm1 -e __asan_init -e __ubsan_handle "$BIN" 2>/dev/null || ldd "$BIN" 2>/dev/null | grep -q -e libasan -e libubsan; then
  sanitized=1
fi
have_time=0
[ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1 && have_time=1

# run NAME [args...]: runs the binary with --out NAME.out (created), stdout/stderr/rc to NAME.*.
# A run that takes more than 300 s is a hang (rc 124).
run() {
  local name=$1
  shift
  mkdir -p "$name.out"
  timeout -s KILL 300 "$BIN" -q --color never -o "$name.out" "$@" >"$name.stdout" 2>"$name.stderr"
  echo $? >"$name.rc"
}
rc_of() { cat "$1.rc"; }
folder_of() { find "$1.out" -maxdepth 1 -name 'analysis_*' -type d | head -n 1; }
report_of() { echo "$(folder_of "$1")/report.json"; }
# py NAME 'expression over j (report.json)': true when it holds.
py() {
  local f
  f=$(report_of "$1")
  [ -f "$f" ] || { echo "  (no report.json for $1)"; return 1; }
  "$PY" - "$f" "$2" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
i = j["inputs"]
r = eval(sys.argv[2])
if not r:
    print("  (not true: %s)" % sys.argv[2])
    print("  inputs:", json.dumps([{k: x[k] for k in ("path", "lines", "events", "skipped_by_reason", "partial", "unreadable", "error")} for x in i]))
    print("  anomalies:", json.dumps(j["anomalies"]))
sys.exit(0 if r else 1)
EOF
}
rc_is() { [ "$(rc_of "$1")" = "$2" ] || { echo "  (exit status $(rc_of "$1"), expected $2; stderr: $(head -c 300 "$1.stderr"))"; return 1; }; }
# One line on stderr naming the file (and nothing else).
one_line_naming() {
  local n
  n=$(wc -l <"$1.stderr")
  [ "$n" = 1 ] && grep -qF -- "$2" "$1.stderr" || { echo "  (stderr: $(cat "$1.stderr"))"; return 1; }
}
no_comparison_left() {  # nothing in the --out folder: no comparison_*, no .comparison_* staging
  local left
  left=$(find "$1" -mindepth 1 -maxdepth 1 -name '*comparison_*' 2>/dev/null)
  [ -z "$left" ] || { echo "  (left behind: $left)"; return 1; }
}
no_folder_left() {  # nothing in the --out folder: no analysis_*, no .analysis_* staging folder
  local left
  left=$(find "$1" -mindepth 1 -maxdepth 1 \( -name 'analysis_*' -o -name '.analysis_*' \) 2>/dev/null)
  [ -z "$left" ] || { echo "  (left behind: $left)"; return 1; }
}
# exit_and_one_line NAME STATUS TEXT: exit status, and exactly one stderr line containing TEXT.
exit_and_one_line() {
  rc_is "$1" "$2" && one_line_naming "$1" "$3"
}
# utf8_files FILE...: every file decodes as strict UTF-8.
utf8_files() {
  "$PY" -c 'import sys; [open(f, encoding="utf-8", errors="strict").read() for f in sys.argv[1:]]' "$@"
}
both_grep() { grep -qF -- "$1" "$2" && grep -qF -- "$3" "$4"; }
no_esc() { ! grep -q $'\e' "$@"; }
max_rss_mb() { awk -F': ' '/Maximum resident set size/ {print int($2 / 1024)}' "$1"; }

tagged_ok='[weights][54127134d8134dbd] client.send url=http://10.0.0.2:8000 path=/models/run/step_1 t=100.0
[weights][54127134d8134dbd] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4'

section "bad input files"

: >empty.log
run empty empty.log
check "empty file: exit 0" rc_is empty 0
check "empty file: 0 lines, 0 events, 'No events found' verdict" \
  py empty 'i[0]["lines"] == 0 and i[0]["events"] == 0 and j["verdict"] == "unknown" and j["cause"].startswith("No events found") and [f["severity"] for f in j["findings"] if f["id"] == "no_input_recognised"] == ["warning"]'
check "empty file: 'No events found' in SUMMARY.md and on the terminal" \
  both_grep 'No events found' "$(folder_of empty)/SUMMARY.md" 'No events found' empty.stdout

printf 'hello\nTraceback (most recent call last):\n  File "x.py", line 1, in f\nINFO:     10.0.0.2:51234 - "POST /v1/chat/completions HTTP/1.1" 200 OK\n' >untagged.log
run untagged untagged.log
check "no tagged line: exit 0" rc_is untagged 0
check "no tagged line: 'No events found' in SUMMARY.md and on the terminal" \
  grep -q 'No events found' "$(folder_of untagged)/SUMMARY.md" untagged.stdout
check "no tagged line: 4 lines counted, nothing skipped" py untagged 'i[0]["lines"] == 4 and i[0]["skipped"] == 0'

{ printf 'x'; head -c 1000000 /dev/urandom; } >garbage.log
nl=$(tr -cd '\n' <garbage.log | wc -c)
run garbage garbage.log
check "binary garbage only: exit 0, no events" rc_is garbage 0
check "binary garbage only: every byte read, lines = newlines (+1 unterminated)" \
  py garbage "i[0]['events'] == 0 and i[0]['bytes'] == 1000001 and i[0]['lines'] in ($nl, $nl + 1)"

printf '\0\0\0\n[gen] batch.done dur_ms=7\0junk\n\0[gen] batch.done dur_ms=8\n[gen] batch.done dur_ms=9\n\0' >nul.log
run nul nul.log
check "NUL bytes: exit 0" rc_is nul 0
check "NUL bytes: the clean lines are events, a NUL before a tag is dropped and counted, the NUL-damaged value is bad_number, lines = 5" \
  py nul 'i[0]["lines"] == 5 and i[0]["events"] == 2 and i[0]["skipped_by_reason"] == {"bad_number": 1} and j["metrics"]["gen.dur_ms"]["max"] == 9 and j["metrics"]["gen.dur_ms"]["min"] == 8 and i[0]["unreadable_bytes"] == 1 and i[0]["unreadable_samples"] == [3]'

printf '%s\n' "$tagged_ok" >utf8.log
printf '[gen] batch.done dur_ms=5 note=\xff\xfe\xc3\x28\n\xed\xa0\x80 [gen] no such op\n[gen] batch.done dur_ms=6\xff\n' >>utf8.log
run utf8 utf8.log
check "invalid UTF-8: exit 0" rc_is utf8 0
check "invalid UTF-8: every file of the report is valid UTF-8" utf8_files "$(folder_of utf8)"/*
check "invalid UTF-8: unknown garbage fields ignored, garbage in a number is bad_number, garbage before a tag dropped and counted" \
  py utf8 'i[0]["events"] == 3 and i[0]["skipped_by_reason"] == {"bad_number": 1, "unknown_op": 1} and i[0]["unreadable_bytes"] == 3 and i[0]["unreadable_samples"] == [4]'

# Issue 22: one byte that is not text before the tag of a client.done of testdata/runs/prefix lost
# the event ("0 skipped") and made its update look incomplete.
if [ -f "$SRC/testdata/runs/prefix/logs/orchestrator.log" ]; then
  for v in clean ff; do
    mkdir -p "byte_$v/logs/trainer"
    cp "$SRC/testdata/runs/prefix/logs/inference.log" "byte_$v/logs/"
    cp "$SRC/testdata/runs/prefix/logs/trainer/rank_0.log" "byte_$v/logs/trainer/"
  done
  cp "$SRC/testdata/runs/prefix/logs/orchestrator.log" byte_clean/logs/
  "$PY" - "$SRC/testdata/runs/prefix/logs/orchestrator.log" byte_ff/logs/orchestrator.log <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
tag = b"[weights][2f99c71d3e78f411] client.done"
assert data.count(tag) == 1 and data[:data.index(tag)].count(b"\n") == 40  # line 41
open(sys.argv[2], "wb").write(data.replace(tag, b"\xff" + tag))
EOF
  run byte_clean byte_clean
  run byte_ff byte_ff
  same_as_clean() {  # the events, metrics and diagnoses of byte_ff are those of byte_clean
    "$PY" - "$(report_of byte_clean)" "$(report_of byte_ff)" <<'EOF'
import json, sys
a, b = (json.load(open(f, encoding="utf-8")) for f in sys.argv[1:])
ev = lambda j: [(x["path"].split("/")[-1], x["events"], x["skipped"]) for x in j["inputs"] if "events" in x]
same = (ev(a) == ev(b) and a["metrics"] == b["metrics"] and a["verdict"] == b["verdict"]
        and [(d["id"], d["summary"]) for d in a["diagnoses"]] == [(d["id"], d["summary"]) for d in b["diagnoses"]])
if not same:
    print("  clean:", ev(a), [d["summary"][:60] for d in a["diagnoses"]])
    print("  0xff: ", ev(b), [d["summary"][:60] for d in b["diagnoses"]])
sys.exit(0 if same else 1)
EOF
  }
  check "a 0xff before [weights]: exit 0" rc_is byte_ff 0
  check "a 0xff before [weights]: the same events, metrics, diagnoses (no fake incomplete update) and verdict as without it" same_as_clean
  check "a 0xff before [weights]: counted in its input with the line, and an info finding points at it" \
    py byte_ff '[(x["unreadable_bytes"], x["unreadable_lines"], x["unreadable_samples"]) for x in i if x["path"].endswith("orchestrator.log")] == [(1, 1, [41])] and [(f["severity"], f["evidence"][0]["line"]) for f in j["findings"] if f["id"] == "unreadable_bytes"] == [("info", 41)]'
  check "a 0xff before [weights]: said on the terminal and in SUMMARY.md" \
    both_grep '227 events, 1 unreadable byte dropped' byte_ff.stdout '1 unreadable byte before a tag dropped (line 41)' "$(folder_of byte_ff)/SUMMARY.md"
else
  skip "a 0xff before [weights]: testdata/runs not generated"
fi

printf '%s\n[gen] batch.done dur_ms=5\n[weights][54127134d8134dbd] client.done wall_ms=447.9 rpc_ms=422.5 queue_' "$tagged_ok" >cut.log
run cut cut.log
check "truncated last line: counted as a line, skipped as missing_field (not guessed)" \
  py cut 'i[0]["lines"] == 4 and i[0]["events"] == 3 and i[0]["skipped_by_reason"] == {"missing_field": 1}'

printf '%s\r\n[gen] batch.done dur_ms=5\r\n' "${tagged_ok//$'\n'/$'\r\n'}" >crlf.log
run crlf crlf.log
check "CRLF line endings: every event read" py crlf 'i[0]["events"] == 3 and i[0]["skipped"] == 0'

# A single 200 MB line (a dumped tensor), tagged at its start, then ordinary tagged lines.
long_mb=200
{
  printf '[weights][00000000000000aa] client.done wall_ms=1 rpc_ms=1 queue_ms=1 '
  head -c $((long_mb * 1000 * 1000)) /dev/zero | tr '\0' 'x'
  printf '\n[gen] batch.done dur_ms=5\n[ckpt] write.done step=3 write_ms=7\n'
} >long.log
if ((have_time)); then
  mkdir -p long.out
  /usr/bin/time -v -o long.time timeout -s KILL 300 "$BIN" -q -o long.out long.log >long.stdout 2>long.stderr
  echo $? >long.rc
else
  run long long.log
fi
check "a single ${long_mb} MB line: exit 0" rc_is long 0
check "a single ${long_mb} MB line: 3 lines, skipped as line_too_long, the 2 lines after it read" \
  py long 'i[0]["lines"] == 3 and i[0]["events"] == 2 and i[0]["skipped_by_reason"] == {"line_too_long": 1}'
if ((have_time)) && ((!sanitized)); then
  rss=$(max_rss_mb long.time)
  check "a single ${long_mb} MB line: max RSS ${rss} MB < 200 MB" test "$rss" -lt 200
else
  skip "a single ${long_mb} MB line: RSS not checked (sanitizer build or no /usr/bin/time)"
fi
rm -f long.log

section "malformed fields"
{
  echo "$tagged_ok"
  for v in '' abc 1e999 nan inf -inf -0 -3.5 1e308 '1\0' 12ms; do
    printf '[weights][0000000000000001] client.done wall_ms=10 rpc_ms=5 queue_ms=%b\n' "$v"
  done
  echo '[weights][0000000000000001] client.done wall_ms=-10 rpc_ms=5 queue_ms=1'
  echo '[weights][0000000000000001] client.done wall_ms=10 rpc_ms=5 queue_ms=1 queue_ms=2'
  echo '[weights][00000000000000012] client.done wall_ms=10 rpc_ms=5 queue_ms=1'
  echo '[weights][000000000000000g] client.done wall_ms=10 rpc_ms=5 queue_ms=1'
  echo '[weights][0000000000000001] client.fly wall_ms=10 rpc_ms=5 queue_ms=1'
  echo '[weights][0000000000000001] client.done wall_ms=10 rpc_ms=5'
  echo '{"message": "[gen] batch.done dur_ms=1"'
  echo '[weights][0000000000000002] client.done wall_ms=10 rpc_ms=-1.0 queue_ms=-1.0'
  echo '[weights][-] server.recv path=/v1/chat/completions t=1'
} >fields.log
run fields fields.log
check "malformed fields: exit 0" rc_is fields 0
check "malformed fields: each counted under its reason" \
  py fields 'i[0]["skipped_by_reason"] == {"bad_number": 9, "negative_value": 3, "duplicate_field": 1, "bad_trace_id": 2, "unknown_op": 1, "missing_field": 1, "bad_json": 1} and i[0]["noise"] == 1'
check "malformed fields: none became a sample (queue_ms: only 25.4; the -1.0 sentinel not a sample)" \
  py fields 'j["metrics"]["weights.queue_ms"]["count"] == 1 and j["metrics"]["weights.queue_ms"]["max"] == 25.4 and j["metrics"]["weights.wall_ms"]["count"] == 2'
check "malformed fields: the first skipped lines are listed with line numbers" \
  py fields '[s["line"] for s in i[0]["skipped_samples"]][:3] == [3, 4, 5] and i[0]["skipped_samples"][0]["reason"] == "bad_number"'
check "malformed fields: SUMMARY.md lists the reasons" grep -qF '9 bad\_number; 3 negative\_value' "$(folder_of fields)/SUMMARY.md"
# Per file: a second file with other bad lines keeps its own counts; neither borrows the other's.
{
  echo '[gen] batch.done dur_ms=-5'
  echo '[gen] batch.done dur_ms=nan'
  echo '[ckpt] write.done step=1 write_ms=-0'
  echo '[ckpt] write.done step=1 write_ms=3 write_ms=4'
  echo '[gen] batch.done dur_ms=7'
} >fields2.log
run fields2 fields.log fields2.log
check "malformed fields in two files: counted per file and per reason" \
  py fields2 'i[0]["skipped_by_reason"] == {"bad_number": 9, "negative_value": 3, "duplicate_field": 1, "bad_trace_id": 2, "unknown_op": 1, "missing_field": 1, "bad_json": 1} and i[1]["skipped_by_reason"] == {"negative_value": 2, "bad_number": 1, "duplicate_field": 1} and i[1]["events"] == 1'
check "malformed fields in two files: only the good values are samples; a metric with none is count 0 and nothing else" \
  py fields2 'j["metrics"]["gen.dur_ms"]["count"] == 1 and j["metrics"]["gen.dur_ms"]["max"] == 7 and j["metrics"]["ckpt.write_ms"] == {"count": 0, "status": None, "unit": "ms"}'

section "inconsistent sequences"
cat >seq.log <<'EOF'
[weights][00000000000000a1] client.done wall_ms=10 rpc_ms=5 queue_ms=1
[weights][00000000000000a1] client.send path=/m/step_1 t=1.0
[weights][00000000000000a2] client.send path=/m/step_2 t=2.0
[weights][00000000000000a2] client.done wall_ms=11 rpc_ms=5 queue_ms=1
[weights][00000000000000a2] client.done wall_ms=12 rpc_ms=5 queue_ms=1
[weights][00000000000000a2] client.send path=/m/step_3 t=3.0
[weights][00000000000000a2] client.done wall_ms=13 rpc_ms=5 queue_ms=1
[gen] batch.done dur_ms=5
EOF
cat >seq_server.log <<'EOF'
INFO 10-14 18:30:47 [server.py:88] [weights][00000000000000a2] rpc.done op=update_weights t=50.0 rpc_ms=5
EOF
run seq seq.log seq_server.log
check "inconsistent sequences: exit 0" rc_is seq 0
check "client.done before client.send: counted (done_without_send), the later send is an incomplete update" \
  py seq 'j["anomalies"]["done_without_send"] == 1 and [u["complete"] for u in j["updates"] if u["trace_id"] == "00000000000000a1"] == [False]'
check "a trace id reused by two updates: counted (reused_trace_id), two updates, both complete" \
  py seq 'j["anomalies"]["reused_trace_id"] == 1 and [u["complete"] for u in j["updates"] if u["trace_id"] == "00000000000000a2"] == [True, True]'
check "a second client.done for one update: counted (duplicate_done)" py seq 'j["anomalies"]["duplicate_done"] == 1'
check "rpc.done without rpc.start: counted (rpc_done_without_start)" py seq 'j["anomalies"]["rpc_done_without_start"] == 1'
check "batch.done without batch.start: counted (batch_done_without_start)" py seq 'j["anomalies"]["batch_done_without_start"] == 1'
check "inconsistent sequences: listed in SUMMARY.md" grep -q '## Inconsistent sequences' "$(folder_of seq)/SUMMARY.md"

mkdir -p runA runB
printf '%s\n' "$tagged_ok" >runA/orchestrator.log
printf '%s\n' "$tagged_ok" >runB/orchestrator.log
run tworuns runA/orchestrator.log runB/orchestrator.log
check "the same trace id in two runs given together: two updates, one per file, both complete" \
  py tworuns 'len(j["updates"]) == 2 and all(u["complete"] for u in j["updates"]) and {u["send"]["file"] for u in j["updates"]} == {"runA/orchestrator.log", "runB/orchestrator.log"} and j["anomalies"]["reused_trace_id"] == 1'
# The same with two run folders (logs/orchestrator.log + logs/inference.log each) on one command
# line: each run's update joins its own server half; nothing is merged across the runs.
for r in runC runD; do
  mkdir -p "$r/logs"
  printf '%s\n' "$tagged_ok" >"$r/logs/orchestrator.log"
  printf '%s\n' 'INFO 10-14 18:30:47 [server.py:88] [weights][54127134d8134dbd] server.recv path=/update_weights t=5000.01' \
    'INFO 10-14 18:30:47 [worker.py:12] [weights][54127134d8134dbd] rpc.start op=update_weights t=5000.1' \
    'INFO 10-14 18:30:48 [worker.py:12] [weights][54127134d8134dbd] rpc.done op=update_weights t=5000.4 rpc_ms=300' \
    >"$r/logs/inference.log"
done
run tworunfolders runC runD
check "the same trace id in two run folders given together: exit 0" rc_is tworunfolders 0
check "the same trace id in two run folders: two jobs, each with its one complete update joined to its own server half" \
  py tworunfolders 'len(i) == 4 and [x["name"] for x in j["jobs"]] == ["runC", "runD"] and all(len(x["prime-rl"]["updates"]) == 1 and x["prime-rl"]["updates"][0]["complete"] and x["prime-rl"]["updates"][0]["server"] == x["name"] + "/logs/inference.log" and x["prime-rl"]["anomalies"]["done_without_send"] == 0 and not x["prime-rl"]["server_only_updates"] for x in j["jobs"])'

section "compressed input, truncated or corrupt"
"$PY" - <<'EOF'
with open("pair.log", "w") as f:
    for i in range(20000):
        f.write("[weights][%016x] client.send url=http://h:1 path=/m/step_%d t=%d.5\n" % (i + 1, i, i))
        f.write("[weights][%016x] client.done wall_ms=%d.5 rpc_ms=1 queue_ms=2\n" % (i + 1, i % 100))
EOF
gzip -kf pair.log
zstd -qf --check pair.log 2>/dev/null || "$PY" -c 'raise SystemExit("zstd missing")'
for c in gz zst; do
  size=$(stat -c %s pair.log.$c)
  head -c $((size / 2)) pair.log.$c >trunc.log.$c
  "$PY" -c "
d = bytearray(open('pair.log.$c', 'rb').read()); d[len(d) // 2] ^= 0xff
open('corrupt.log.$c', 'wb').write(d)"
  for kind in trunc corrupt; do
    f=$kind.log.$c
    run "$kind$c" "$f"
    word=$([ $kind = trunc ] && echo truncated || echo corrupt)
    check "$word .$c: exit 0" rc_is "$kind$c" 0
    check "$word .$c: input marked partial, the error names the file and the compressed offset" \
      py "$kind$c" "i[0]['partial'] and i[0]['error'].startswith('$f: $word ') and 'compressed bytes' in i[0]['error']"
    check "$word .$c: the figures of the readable part are reported" \
      py "$kind$c" 'i[0]["lines"] > 1000 and j["metrics"]["weights.wall_ms"]["count"] > 500'
    check "$word .$c: said in SUMMARY.md and as a warning on stderr" \
      both_grep "partial: $f" "$(folder_of "$kind$c")/SUMMARY.md" "warning: $f was read only in part" "$kind$c.stderr"
    check "$word .$c: the verdict says the input was partial" \
      eval "tr -s ' \\n' ' ' <'$kind$c.stdout' | head -c 600 | grep -q 'on a partial input: $f was read only in part'"
    run "$kind${c}json" --json "$f"
    check "$word .$c with --json: the warning is on stderr, stdout is the report" \
      eval "grep -q 'warning: $f was read only in part' '$kind${c}json.stderr' && $PY -c 'import json,sys; json.load(open(sys.argv[1]))' '$kind${c}json.stdout'"
  done
done
head -c 100000 pair.log.gz >stdin_trunc.gz
mkdir -p stdin.out
timeout -s KILL 120 "$BIN" -q --color never -o stdin.out - <stdin_trunc.gz >stdin.stdout 2>stdin.stderr
echo $? >stdin.rc
check "truncated .gz on standard input: exit 0, partial, the error names <stdin>" \
  py stdin 'i[0]["path"] == "<stdin>" and i[0]["partial"] and i[0]["error"].startswith("<stdin>: truncated gzip stream") and i[0]["events"] > 1000'
run complete pair.log.gz pair.log.zst
# Standard input redirected from a plain file is read by ranges (pread) from where its offset
# stands: here after the first line, which the shell's `read` consumed.
tail -n +2 pair.log >pair_rest.log
run rest pair_rest.log
mkdir -p offset.out
{ IFS= read -r _first; timeout -s KILL 120 "$BIN" -q --color never -o offset.out - >offset.stdout 2>offset.stderr; echo $? >offset.rc; } <pair.log
check "stdin redirected from a file at an offset: exit 0, read from the offset on (39999 lines)" \
  py offset 'i[0]["path"] == "<stdin>" and not i[0]["partial"] and i[0]["lines"] == 39999'
check "stdin redirected from a file at an offset: the same figures as the file without its first line" \
  eval '"$PY" -c "import json,sys,glob; a=json.load(open(glob.glob(\"offset.out/analysis_*/report.json\")[0])); b=json.load(open(glob.glob(\"rest.out/analysis_*/report.json\")[0])); sys.exit(0 if a[\"metrics\"]==b[\"metrics\"] and a[\"inputs\"][0][\"events\"]==b[\"inputs\"][0][\"events\"] else 1)"'
check "intact .gz and .zst: complete, not partial" \
  py complete 'all(not x["partial"] and x["lines"] == 40000 for x in i) and [x["compression"] for x in i] == ["gzip", "zstd"]'

section "files that cannot be read"
run missing does-not-exist.log
check "a missing named file: exit 2, one line on stderr naming it" exit_and_one_line missing 2 does-not-exist.log
check "a missing named file: no report folder left" no_folder_left missing.out
run missing2 untagged.log does-not-exist.log
check "a missing file next to a good one: exit 2, one line naming it" exit_and_one_line missing2 2 does-not-exist.log
check "a missing file next to a good one: no report folder left" no_folder_left missing2.out
mkdir -p emptydir
run adir emptydir
check "an empty folder: exit 0, verdict unknown, a warning finding saying what was looked for" \
  py adir 'j["verdict"] == "unknown" and [(f["id"], f["severity"]) for f in j["findings"]] == [("no_input_recognised", "warning")] and "an empty folder" in j["findings"][0]["summary"] and "looked for" in j["findings"][0]["detail"]'
run adir_gate --fail-on warning emptydir
check "an empty folder under --fail-on warning: exit 1" rc_is adir_gate 1

# Permission denied: root reads everything, so drop to nobody when running as root.
printf '%s\n' "$tagged_ok" >locked.log
chmod 000 locked.log
as_user=()
can_deny=1
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod 755 "$work"
  else
    can_deny=0
  fi
fi
if ((can_deny)); then
  mkdir -p perm.out && chmod 777 perm.out
  "${as_user[@]}" timeout 60 "$BIN" -q -o perm.out locked.log >perm.stdout 2>perm.stderr
  echo $? >perm.rc
  check "a named file without read permission: exit 2, one line naming it (Permission denied)" \
    exit_and_one_line perm 2 'locked.log: Permission denied'
  check "a named file without read permission: no report folder left" no_folder_left perm.out
else
  skip "permission denied: running as root without setpriv"
fi

# A run folder with a dangling symlink (a file that disappeared) and, when possible, a file
# without read permission: reported and skipped, the rest analysed.
mkdir -p rundir/logs/trainer
printf '%s\n' "$tagged_ok" >rundir/logs/orchestrator.log
printf '[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4\n' >rundir/logs/trainer/rank_0.log
ln -s /nonexistent/file rundir/logs/gone.log
if ((can_deny)); then
  printf '%s\n' "$tagged_ok" >rundir/logs/locked.log
  chmod -R a+rX rundir
  chmod 000 rundir/logs/locked.log
fi
mkdir -p runfolder.out && chmod 777 runfolder.out
"${as_user[@]}" timeout -s KILL 60 "$BIN" -q --color never -o runfolder.out rundir >runfolder.stdout 2>runfolder.stderr
echo $? >runfolder.rc
check "run folder with unreadable files: exit 0" rc_is runfolder 0
check "run folder: the vanished file is listed as skipped with its error, the others analysed" \
  py runfolder '[not x["read"] and x["reason"] == "broken link" for x in i if x["path"].endswith("gone.log")] == [True] and sum(x.get("events", 0) for x in i) == 3'
if ((can_deny)); then
  check "run folder: the file without permission is listed as skipped (Permission denied)" \
    py runfolder '[not x["read"] and "Permission denied" in x["reason"] for x in i if x["path"].endswith("locked.log")] == [True]'
fi
check "run folder: SUMMARY.md and the terminal say which file was skipped" \
  both_grep '`rundir/logs/gone.log`: broken link' "$(folder_of runfolder)/SUMMARY.md" 'rundir/logs/gone.log: broken link' runfolder.stdout

mkdir -p fiforun/logs
printf '%s\n' "$tagged_ok" >fiforun/logs/orchestrator.log
mkfifo fiforun/logs/pipe.log
mkdir -p fifo.out
timeout -s KILL 20 "$BIN" -q -o fifo.out fiforun >fifo.stdout 2>fifo.stderr
echo $? >fifo.rc
check "run folder holding a named pipe (*.log): does not hang, exit 0" rc_is fifo 0
check "run folder holding a named pipe: the regular files analysed, the pipe listed as not read" \
  py fifo 'sum(x.get("events", 0) for x in i) == 2 and [x["read"] for x in i if x["path"].endswith("pipe.log")] == [False]'

section "pathological scale"
ids=${ALOG_ROBUSTNESS_IDS:-$(((sanitized)) && echo 200000 || echo 2000000)}
cap=$(((sanitized)) && echo 20000 || echo 150000)
"$PY" - "$ids" <<'EOF'
import sys
n = int(sys.argv[1])
with open("ids.log", "w") as f:
    w = f.write
    for i in range(n):
        w("[weights][%016x] client.send url=http://h:1 path=/m/step_%d t=%d.5\n" % (i + 1, i, i))
EOF
mkdir -p ids.out
if ((have_time)); then
  /usr/bin/time -v -o ids.time timeout -s KILL 600 "$BIN" -q -o ids.out --max-updates "$cap" ids.log >ids.stdout 2>ids.stderr
else
  timeout -s KILL 600 "$BIN" -q -o ids.out --max-updates "$cap" ids.log >ids.stdout 2>ids.stderr
fi
echo $? >ids.rc
check "$ids distinct trace ids that never complete: exit 0" rc_is ids 0
check "$ids distinct trace ids: $cap tracked, the rest counted in anomalies.untracked_updates" \
  py ids "len(j['updates']) == $cap and j['anomalies']['untracked_updates'] == $ids - $cap and i[0]['events'] == $ids"
if ((have_time)) && ((!sanitized)); then
  rss=$(max_rss_mb ids.time)
  echo "  ($ids ids, --max-updates $cap: max RSS $rss MB)"
  check "$ids distinct trace ids: max RSS ${rss} MB < 512 MB (bound: docs/RELIABILITY.md)" test "$rss" -lt 512
else
  skip "$ids distinct trace ids: RSS not checked (sanitizer build or no /usr/bin/time)"
fi

# Beyond --max-updates a client.done whose send was not tracked must not look like an orphan.
"$PY" - <<'EOF'
with open("cap.log", "w") as f:
    for i in range(1500):
        f.write("[weights][%016x] client.send path=/m/step_%d t=%d.5\n" % (i + 1, i, i))
        f.write("[weights][%016x] client.done wall_ms=1 rpc_ms=1 queue_ms=1\n" % (i + 1))
EOF
run cap --max-updates 1000 cap.log
check "beyond --max-updates: 500 untracked, every sample counted, no false done_without_send" \
  py cap 'j["anomalies"]["untracked_updates"] == 500 and j["metrics"]["weights.wall_ms"]["count"] == 1500 and j["anomalies"]["done_without_send"] == 0'

# Updates that never complete overlap every later generation batch: the overlap lists must not
# grow as (updates x batches). Run under a 3 GB address-space limit so a failure is an error, not
# a machine out of memory (not under ASan, which reserves terabytes of address space).
if ((!sanitized)); then
  "$PY" - <<'EOF'
with open("overlap.log", "w") as f:
    for i in range(100000):
        f.write("[weights][%016x] client.send path=/m/step_%d t=%d.5\n" % (i + 1, i, i))
    for b in range(100):
        f.write("[gen] batch.start inflight=3\n[gen] batch.done dur_ms=5 inflight=3\n")
EOF
  mkdir -p overlap.out
  (ulimit -v 3000000; timeout -s KILL 300 "$BIN" -q -o overlap.out overlap.log >overlap.stdout 2>overlap.stderr; echo $? >overlap.rc)
  check "100000 never-completing updates and 100 gen batches: completes within 3 GB (exit 0)" rc_is overlap 0
  rm -f overlap.log
fi

# Many inputs: a large job writes one log per rank. 400 of them under a soft limit of 256 open
# files (the usual soft limit is 1024; a 2048-GPU job has 2048 rank logs).
mkdir -p ranks/logs/trainer
for r in $(seq 0 399); do
  printf '[trainer%d]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4\n' "$r" >"ranks/logs/trainer/rank_$r.log"
done
mkdir -p ranks.out
(ulimit -S -n 256 && timeout -s KILL 120 "$BIN" -q -o ranks.out ranks >ranks.stdout 2>ranks.stderr; echo $? >ranks.rc)
check "a run folder with 400 rank logs under a soft limit of 256 open files: exit 0" rc_is ranks 0
check "a run folder with 400 rank logs: all 400 read" py ranks 'len(i) == 400 and sum(x["events"] for x in i) == 400'

section "the report folder"
run good seq.log
only_one_complete_folder() {
  [ "$(find "$1" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ] && [ -f "$(folder_of "${1%.out}")/report.json" ] &&
    [ -f "$(folder_of "${1%.out}")/SUMMARY.md" ]
}
check "a finished run leaves exactly one analysis_* folder and no staging folder" only_one_complete_folder good.out
check "the report folder's path is the last line of standard output" test "$(tail -n 1 good.stdout)" = "$(folder_of good)"

# Two runs in the same second: run five in a row (well under a second each), every folder kept.
mkdir -p same.out
start=$(date +%s.%N)
for k in 1 2 3 4 5; do "$BIN" -q -o same.out seq.log >/dev/null 2>&1; done
elapsed=$("$PY" -c "import time; print(time.time() - $start)")
n=$(find same.out -mindepth 1 -maxdepth 1 -name 'analysis_*' | wc -l)
complete=$(find same.out -mindepth 2 -maxdepth 2 -name report.json | wc -l)
check "five runs in a row: five complete folders, none overwritten" test "$n" = 5 -a "$complete" = 5
if "$PY" -c "import sys; sys.exit(0 if $elapsed < 1.0 else 1)"; then
  check "runs in the same second get a suffix (_2)" test -n "$(find same.out -maxdepth 1 -name 'analysis_*_2')"
fi
# Earlier analyses with the stamps of the next few seconds: never replaced.
mkdir -p pre.out
now=$(date +%s)
for d in 0 1 2 3 4 5; do
  dir=pre.out/analysis_$(date -d "@$((now + d))" +%Y%m%d_%H%M%S)
  mkdir -p "$dir" && echo precious >"$dir/marker"
done
"$BIN" -q -o pre.out seq.log >pre.stdout 2>&1
markers_kept_and_suffixed() {
  local last
  last=$(tail -n 1 pre.stdout)
  [ "$(grep -l precious pre.out/*/marker | wc -l)" = 6 ] && [[ $last == *_2 ]] && [ -f "$last/report.json" ]
}
check "an existing analysis_<stamp> is never replaced: the new one gets _2" markers_kept_and_suffixed

# SIGINT / SIGTERM while the analysis runs: the staging folder is removed. (env: this shell starts
# `cmd &` with SIGINT ignored, and the tool keeps a signal ignored at start.)
for sig in INT TERM; do
  mkdir -p "sig$sig.out"
  env --default-signal=INT,TERM "$BIN" -q -o "sig$sig.out" ids.log >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [ -n "$(find "sig$sig.out" -maxdepth 1 -name '.analysis_*' 2>/dev/null)" ] && break
    sleep 0.05
  done
  saw=$(find "sig$sig.out" -maxdepth 1 -name '.analysis_*' | wc -l)
  sleep 0.3
  kill -s "$sig" $pid 2>/dev/null
  wait $pid
  st=$?
  if [ "$saw" = 1 ] && [ "$st" -ge 128 ]; then
    check "SIG$sig during the analysis: exit $st, no analysis_* and no .analysis_* left" no_folder_left "sig$sig.out"
  else
    skip "SIG$sig: the run ended before the signal (exit $st, staging seen: $saw)"
  fi
done

# SIGKILL (or a power cut) cannot be caught: only the hidden staging folder may remain, never a
# half-written analysis_* folder.
mkdir -p sigKILL.out
"$BIN" -q -o sigKILL.out ids.log >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ -n "$(find sigKILL.out -maxdepth 1 -name '.analysis_*' 2>/dev/null)" ] && break
  sleep 0.05
done
sleep 0.3
kill -s KILL $pid 2>/dev/null
{ wait $pid; } 2>/dev/null  # no "Killed" job message
st=$?
if [ "$st" = 137 ]; then
  check "SIGKILL during the analysis: no analysis_* folder (only a hidden .analysis_*.tmp-* may remain)" \
    test -z "$(find sigKILL.out -mindepth 1 -maxdepth 1 -name 'analysis_*')"
else
  skip "SIGKILL: the run ended before the signal (exit $st)"
fi

section "--out that does not exist or cannot be written"
# run_out NAME OUT args...: like run, with a given --out that is not created first.
run_out() {
  local name=$1 out=$2
  shift 2
  timeout -s KILL 120 "$BIN" -q -o "$out" "$@" >"$name.stdout" 2>"$name.stderr"
  echo $? >"$name.rc"
}
run_out outmissing missing/reports/today seq.log
check "--out missing: created with its parents, exit 0" rc_is outmissing 0
check "--out missing: the report folder is in it, its path the last line" \
  test -f "$(tail -n 1 outmissing.stdout)/report.json" -a "$(dirname "$(tail -n 1 outmissing.stdout)")" = missing/reports/today
run_out underfile seq.log/sub seq.log
check "--out under a file (cannot be created, even by root): exit 2, one line naming it" \
  exit_and_one_line underfile 2 'seq.log/sub: cannot create this folder for the report: Not a directory'
run_out underfile2 seq.log/sub/deeper seq.log
check "--out two levels under a file: exit 2, one line naming it" \
  exit_and_one_line underfile2 2 'seq.log/sub/deeper: cannot create this folder for the report: Not a directory'
run_out procout /proc seq.log
check "--out /proc (unwritable even for root): exit 2, one line naming it" exit_and_one_line procout 2 /proc
check "--out /proc: nothing created" test -z "$(find /proc -maxdepth 1 -name '*analysis_*' 2>/dev/null)"

# Read-only and full file systems: a small tmpfs, mounted in a private mount namespace (nothing
# can leak out, even if this script is killed), when this user may do that.
# mounted_run NAME MOUNT_OPTIONS args...: the binary with --out on a fresh tmpfs; NAME.left lists
# what was left in it. Returns 99 when no tmpfs can be mounted here.
# $MNT_SUB, when set, is appended to the --out (a folder to create on the tmpfs).
mounted_run() {
  local name=$1 opts=$2
  shift 2
  mkdir -p "$name.mnt"
  unshare -m bash -c '
    mount -t tmpfs -o "$1" tmpfs "$2" 2>/dev/null || exit 99
    name=$3 bin=$4 sub=$5
    shift 5
    timeout -s KILL 120 "$bin" -q -o "$name.mnt$sub" "$@" >"$name.stdout" 2>"$name.stderr"
    echo $? >"$name.rc"
    ls -A "$name.mnt" >"$name.left"' _ "$opts" "$name.mnt" "$name" "$BIN" "${MNT_SUB:-}" "$@" 2>/dev/null
}
if mounted_run ro ro,size=1m seq.log; then
  check "--out on a read-only file system: exit 2, one line naming it" exit_and_one_line ro 2 'Read-only file system'
  check "--out on a read-only file system: nothing left" test ! -s ro.left
  MNT_SUB=/new/reports mounted_run rosub ro,size=1m seq.log
  check "--out to create on a read-only file system: exit 2, one line naming it" \
    exit_and_one_line rosub 2 'rosub.mnt/new/reports: cannot create this folder for the report: Read-only file system'
  check "--out to create on a read-only file system: nothing left" test ! -s rosub.left
  mounted_run rotrace ro,size=1m --trace-out rotrace.mnt/trace.json seq.log
  check "--trace-out in a read-only folder: exit 2, one line naming it with the reason, before any analysis" \
    exit_and_one_line rotrace 2 'rotrace.mnt/trace.json: cannot write the trace: Read-only file system'
  check "--trace-out in a read-only folder: nothing left" test ! -s rotrace.left
  "$PY" - <<'EOF'
with open("pairs_small.log", "w") as f:
    for i in range(40000):
        f.write("[weights][%016x] client.send path=/m/step_%d t=%d.5\n" % (i + 1, i, i))
        f.write("[weights][%016x] client.done wall_ms=1 rpc_ms=1 queue_ms=1\n" % (i + 1))
EOF
  for j in 1 2; do
    mounted_run "full$j" size=256k -j$j pairs_small.log
    check "--out on a full file system (-j$j): exit 2, one line (No space left on device)" \
      exit_and_one_line "full$j" 2 'No space left on device'
    check "--out on a full file system (-j$j): nothing partial left" test ! -s "full$j.left"
  done
else
  skip "read-only and full --out: cannot mount a tmpfs here (needs root and unshare); --out under a file and /proc cover unwritable"
fi

section "--trace-out that cannot be written"
run tracemissing --trace-out nonexistent/dir/trace.json seq.log
check "--trace-out in a folder that does not exist: exit 2, one line with the reason" \
  exit_and_one_line tracemissing 2 'nonexistent/dir/trace.json: cannot write the trace: No such file or directory'
check "--trace-out in a folder that does not exist: said before the analysis, no folder" no_folder_left tracemissing.out
if [ -w /dev/full ]; then
  run tracefull --trace-out /dev/full seq.log
  check "--trace-out on a full disk (/dev/full): exit 2, one line with the reason" \
    exit_and_one_line tracefull 2 '/dev/full: cannot write the trace: No space left on device (the report folder'
  check "--trace-out on a full disk: the report folder already written is kept, whole" \
    py tracefull 'j["schema"] == 2 and len(i) == 1'
else
  skip "--trace-out on a full disk: no writable /dev/full"
fi

section "text from logs is escaped"
evil=$'evil|name`<script>alert(1)\e[31m.log'
{
  printf '%s\n' "$tagged_ok"
  printf '[weights][54127134d8134dbd] client.done wall_ms=9 rpc_ms=1 queue_ms=1 note=|`<script>alert(2)</script>\e[2J\n'
} >"$evil"
mkdir -p evil.out
timeout 60 "$BIN" -q --color never -o evil.out "$evil" >evil.stdout 2>evil.stderr
echo $? >evil.rc
ef=$(folder_of evil)
check "hostile file name: exit 0" rc_is evil 0
check "SUMMARY.md: no raw ESC byte" no_esc "$ef/SUMMARY.md"
check "SUMMARY.md: '|', backtick, '<' and ESC of the file name shown literally" \
  grep -qF 'evil\|name\`&lt;script&gt;alert(1)\x1B' "$ef/SUMMARY.md"
no_raw() { ! grep -qF -- "$1" "$2"; }
check "SUMMARY.md: no raw <script> tag" no_raw '<script' "$ef/SUMMARY.md"
inputs_row_cells() {  # the inputs row has the header's 9 separators once escaped pipes are removed
  grep -F 'evil' "$ef/SUMMARY.md" | grep -F '| orchestrator |' | sed 's/\\|//g' | awk -F'|' 'END {exit NR == 1 && NF == 10 ? 0 : 1}'
}
check "SUMMARY.md: the inputs table row still has its 8 cells" inputs_row_cells
for f in "$ef"/*.txt "$ef"/*.html; do
  [ -e "$f" ] || continue
  check "$(basename "$f"): no raw ESC byte" no_esc "$f"
done
if [ -e "$ef/report.html" ]; then
  check "report.html: no injected <script>" no_raw '<script>alert' "$ef/report.html"
fi
check "terminal summary: no raw ESC byte from the log" no_esc evil.stdout
check "report.json: the path is kept exactly (JSON escapes it)" \
  py evil 'i[0]["path"] == "evil|name`<script>alert(1)\x1b[31m.log"'

section "closed pipe"
# The report must be larger than a pipe buffer (64 KiB) for the write to hit the closed pipe.
mkdir -p pipe.out
timeout -s KILL 300 "$BIN" -q -o pipe.out --json pair.log 2>pipe.stderr | head -c 100 >/dev/null
st=${PIPESTATUS[0]}
check "--json into head -c 100: exit 0 (was $st)" test "$st" = 0
check "--json into head -c 100: nothing on stderr" test ! -s pipe.stderr
check "--json into head -c 100: the report folder is still complete" test -f "$(folder_of pipe)/report.json"
timeout -s KILL 300 "$BIN" -q -o pipe.out --format md pair.log 2>pipe2.stderr | head -c 10 >/dev/null
st=${PIPESTATUS[0]}
check "--format md into head -c 10: exit 0 (was $st), nothing on stderr" test "$st" = 0 -a ! -s pipe2.stderr

section "--thresholds files"
"$PY" -c 'n = 200000; print("{\"a\":" * n + "1" + "}" * n)' >deep.json
run deep --thresholds deep.json seq.log
check "a deeply nested --thresholds file: exit 2 with one line naming it (no crash)" exit_and_one_line deep 2 deep.json
printf '{"weights.queue_ms.critical": 1e999}' >inf.json
run infth --thresholds inf.json seq.log
check "a --thresholds value of 1e999: exit 2, one line naming the file" exit_and_one_line infth 2 inf.json

section "compare: report.json files from earlier runs are outside data too"
cp "$SRC/testdata/compare/before.report.json" good.report.json
# cmp NAME args...: analyze-logs compare with --out NAME.out
cmp_run() {
  local name=$1
  shift
  mkdir -p "$name.out"
  timeout -s KILL 120 "$BIN" compare -o "$name.out" "$@" >"$name.stdout" 2>"$name.stderr"
  echo $? >"$name.rc"
}
"$PY" -c 'n = 200000; print("{\"schema\": 1, \"metrics\": {}, \"x\": " + "[" * n + "]" * n + "}")' >deep.report.json
cmp_run cmpdeep good.report.json deep.report.json
check "compare: a report.json nested 200000 deep: exit 2, one line naming it (no stack overflow)" \
  exit_and_one_line cmpdeep 2 'deep.report.json: not an analyze-logs report.json (nested deeper'
check "compare: nothing left behind after the error" no_comparison_left cmpdeep.out
printf '{"schema": 1, "metrics": {"weights.queue_ms": {"count": 1e999}}}' >overflow.report.json
cmp_run cmpoverflow good.report.json overflow.report.json
check "compare: a number beyond a double (1e999): exit 2, one line naming the file" \
  exit_and_one_line cmpoverflow 2 'overflow.report.json: not valid JSON (number overflow'
printf '\0\377binary' >garbage.report.json
cmp_run cmpgarbage good.report.json garbage.report.json
check "compare: binary garbage as a report.json: exit 2, one line naming it" \
  exit_and_one_line cmpgarbage 2 'garbage.report.json: not valid JSON'
cat >odd.report.json <<'EOF2'
{"schema": 1, "kind": 7, "verdict": 2, "inputs": [{"path": 1, "role": []}, 5],
 "metrics": {"weights.queue_ms": {"count": 1e300, "mean": 1, "min": 1, "p50": 1, "p90": 1, "p95": 1, "p99": 1, "max": 1},
             "weights.wall_ms": {"count": 2, "mean": 1, "min": 1, "p50": 1, "p90": 1, "p95": 1, "p99": 1, "max": 1, "unit": 5}},
 "diagnoses": [{"id": 3}, "x", {"id": "evil|`<script>\u001b[2J", "severity": "critical", "summary": "<script>alert(1)</script>"}]}
EOF2
cmp_run cmpodd good.report.json odd.report.json
check "compare: members of unexpected types are read for what they have: exit 0" rc_is cmpodd 0
cmp_md=$(find cmpodd.out -name COMPARE.md | head -n 1)
check "compare: COMPARE.md has no raw <script> and no ESC byte from the document" \
  eval '[ -f "$cmp_md" ] && ! grep -qF "<script" "$cmp_md" && no_esc "$cmp_md" cmpodd.stdout'
check "compare: a count of 1e300 is not a count (queue_ms missing in that run)" \
  "$PY" -c 'import json, sys, glob; j = json.load(open(glob.glob("cmpodd.out/comparison_*/compare.json")[0])); sys.exit(0 if j["metrics"]["weights.queue_ms"]["runs"][1]["present"] is False else 1)'

echo
if ((fails)); then
  echo "test_robustness: $fails check(s) FAILED"
  exit 1
fi
echo "test_robustness: all checks passed"
