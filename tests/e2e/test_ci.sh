#!/usr/bin/env bash
# CI outputs of the real binary on every kind of testdata job:
# * --junit FILE: valid against tests/schemas/junit.xsd (xmllint --schema, Debian's libxml2-utils),
#   its counts equal to the report's checks and findings at the gate, failures with evidence;
#   replaced whole (no temporary file left, an old FILE kept when the run fails); a FILE that
#   cannot be written is one line naming it with the system's reason, exit 2, before any analysis.
# * GitHub Actions (GITHUB_ACTIONS=true): the workflow commands on stderr are exactly those
#   derived here, independently, from report.json with the format's escaping (also for a log with
#   a hostile name: commas, colons, %, a newline); SUMMARY.md appended to $GITHUB_STEP_SUMMARY;
#   --no-github and an unset GITHUB_ACTIONS print and append nothing.
#
# Usage: test_ci.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_ci.sh BINARY SOURCE_DIR}
src=${2:?usage: test_ci.sh BINARY SOURCE_DIR}
xsd=$src/tests/schemas/junit.xsd
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
command -v xmllint >/dev/null || fail "xmllint is not installed (tests/install-deps.sh --test installs libxml2-utils)"
cd "$src"
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY

# The workflow commands a report.json calls for, written from the format's definition.
expected_commands() {
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def data(s): return s.replace('%', '%25').replace('\r', '%0D').replace('\n', '%0A')
def prop(s): return data(s).replace(':', '%3A').replace(',', '%2C')
roles = {'root_cause': 'root cause', 'consequence': 'consequence', 'collateral': 'collateral'}
several = len(d['jobs']) > 1
out = []
for e in d.get('expectations', []):
    if not e['passed']:
        out.append('::error title=%s::%s' % (prop('check %s failed' % e['expr']), data(e['message'])))
for f in d['findings']:
    if f['severity'] == 'info':
        continue
    pre = f['job'] + ': ' if several else ''
    props = ''
    ev = f['evidence']
    if ev and ev[0]['file']:
        props += 'file=' + prop(ev[0]['file']) + ','
        if ev[0]['line']:
            props += 'line=%d,' % ev[0]['line']
    props += 'title=' + prop('%s%s (%s)' % (pre, f['id'], roles[f['role']]))
    msg = [f['summary']]
    for e in ev:
        ref = e['file'] + (':%d' % e['line'] if e['line'] else '') if e['file'] else '(no file)'
        msg.append('evidence: %s%s%s' % (ref, ' (%s)' % e['time'] if e['time'] else '',
                                         ': ' + e['text'] if e['text'] else ''))
    if f.get('detail'): msg.append('detail: ' + f['detail'])
    if f.get('fix'): msg.append('fix: ' + f['fix'])
    out.append('::%s %s::%s' % ('error' if f['severity'] == 'critical' else 'warning', props, data('\n'.join(msg))))
print('\n'.join(out))
PY
}

# JUnit counts from the XML against report.json: one verdict case per job, a case per check, a
# failed case per finding at or above the gate.
check_junit() {  # XML REPORT_JSON GATE
  xmllint --noout --schema "$xsd" "$1" 2>"$tmp/xmllint.err" || { cat "$tmp/xmllint.err"; fail "$1 is not valid against junit.xsd"; }
  python3 - "$1" "$2" "$3" <<'PY' || fail "$1 does not match $2"
import json, sys, xml.etree.ElementTree as ET
x, d, gate = ET.parse(sys.argv[1]).getroot(), json.load(open(sys.argv[2])), sys.argv[3]
rank = {'info': 0, 'warning': 1, 'critical': 2}
gated = [f for f in d['findings'] if rank[f['severity']] >= rank[gate]]
checks = d.get('expectations', [])
failed_checks = [c for c in checks if not c['passed']]
want_tests = len(d['jobs']) + len(checks) + len(gated)
want_failures = len(failed_checks) + len(gated)
got = (int(x.get('tests')), int(x.get('failures')))
assert got == (want_tests, want_failures), (got, want_tests, want_failures)
suites = x.findall('testsuite')
assert len(suites) == len(d['jobs']), len(suites)
assert sum(int(s.get('tests')) for s in suites) == want_tests
assert sum(len(s.findall('testcase')) for s in suites) == want_tests
fails = [f for s in suites for c in s.findall('testcase') for f in c.findall('failure')]
assert len(fails) == want_failures, len(fails)
# Every gated finding's failure carries its summary and first evidence reference.
texts = [f.text or '' for f in fails]
for f in gated:
    ev = f['evidence'][0] if f['evidence'] else None
    ref = (ev['file'] + (':%d' % ev['line'] if ev['line'] else '')) if ev and ev['file'] else None
    assert any(f['summary'] in t and (ref is None or 'evidence: ' + ref in t) for t in texts), f['id']
for c in failed_checks:
    assert any(c['message'] == (fl.text or '') for fl in fails), c['expr']
PY
}

run_kind() {  # NAME GATE ARGS...
  local name=$1 gate=$2
  shift 2
  local gate_args=()
  [[ $gate == critical ]] && gate_args=(--fail-on critical)
  set +e
  "$bin" -q --no-folder --json "${gate_args[@]}" --junit "$tmp/$name.xml" "$@" >"$tmp/$name.json" 2>"$tmp/$name.err"
  local rc=$?
  set -e
  ((rc <= 1)) || { cat "$tmp/$name.err"; fail "$name: exit $rc"; }
  check_junit "$tmp/$name.xml" "$tmp/$name.json" "$gate"
  echo "ok: --junit $name ($(grep -c '<testcase' "$tmp/$name.xml") test cases, gate $gate, exit $rc)"
}

run_kind prime warning --expect 'weights.queue_ms.p99<300' --expect 'weights.queue_ms.count>0' testdata/runs/prefix
grep -q 'name="weights.queue_ms.p99&lt;300"' "$tmp/prime.xml" || fail "the --expect check is not a test case"
run_kind srtctl critical testdata/srtctl/logs
run_kind srtctl_warning warning testdata/srtctl/logs
run_kind ray critical testdata/ray/nccl_timeout
run_kind mixed warning testdata/discover/mixed
run_kind healthy warning testdata/runs/healthy
# The exit status and the JUnit failures draw the same line.
set +e
"$bin" -q --no-folder --fail-on critical --junit "$tmp/gate.xml" testdata/ray/nccl_timeout >/dev/null 2>&1
rc=$?
set -e
[[ $rc == 1 ]] || fail "--fail-on critical on a failed Ray job: exit $rc"

# With a report folder, the same file; no temporary file is left beside FILE.
mkdir "$tmp/out"
echo old >"$tmp/out/junit.xml"
"$bin" -q -o "$tmp/out" --junit "$tmp/out/junit.xml" testdata/ray/training >/dev/null
xmllint --noout --schema "$xsd" "$tmp/out/junit.xml" 2>/dev/null || fail "junit.xml with a folder is not valid"
[[ -z $(find "$tmp/out" -maxdepth 1 -name '.junit.xml.tmp-*') ]] || fail "a temporary file is left"
# A run that fails (an input that cannot be read) keeps the old FILE and leaves no temporary file.
cp "$tmp/out/junit.xml" "$tmp/keep.xml"
set +e
"$bin" -q --no-folder --junit "$tmp/out/junit.xml" "$tmp/no-such-input" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "an unreadable input with --junit: exit $rc"
cmp -s "$tmp/keep.xml" "$tmp/out/junit.xml" || fail "a failed run changed the JUnit file"
[[ -z $(find "$tmp/out" -maxdepth 1 -name '.junit.xml.tmp-*') ]] || fail "a failed run left a temporary file"

# A FILE that cannot be written: one line naming it with the reason, exit 2, no analysis.
unwritable() {  # PATH REASON
  set +e
  "$bin" -q --no-folder --junit "$1" testdata/runs/prefix >"$tmp/stdout" 2>"$tmp/err"
  local rc=$?
  set -e
  [[ $rc == 2 ]] || fail "--junit $1: exit $rc"
  [[ $(cat "$tmp/err") == "analyze-logs: $1: cannot write the JUnit report: $2" ]] || fail "--junit $1: $(cat "$tmp/err")"
  [[ ! -s $tmp/stdout ]] || fail "--junit $1: the analysis ran anyway"
}
unwritable "$tmp/missing/junit.xml" "No such file or directory"
unwritable "$tmp/out" "Is a directory"
unwritable "$tmp/keep.xml/junit.xml" "Not a directory"
if [[ $(id -u) != 0 ]]; then
  mkdir "$tmp/ro" && chmod a-w "$tmp/ro"
  unwritable "$tmp/ro/junit.xml" "Permission denied"
fi
set +e
"$bin" --junit "$tmp/x.xml" --trace f8932b testdata/runs/prefix >/dev/null 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q -- '--junit and --trace cannot be used together' "$tmp/err" || fail "--junit with --trace: exit $rc, $(cat "$tmp/err")"
echo "ok: --junit atomic, unwritable paths exit 2 with the reason"

# GitHub Actions: annotations on stderr, exactly as derived from report.json; step summary.
gh_case() {  # NAME ARGS...
  local name=$1
  shift
  rm -rf "$tmp/gh"
  mkdir -p "$tmp/gh"
  printf 'previous step\n' >"$tmp/gh/summary.md"
  set +e
  GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$tmp/gh/summary.md" "$bin" -q -o "$tmp/gh" "$@" >"$tmp/gh/stdout" 2>"$tmp/gh/stderr"
  local rc=$?
  set -e
  ((rc <= 1)) || { cat "$tmp/gh/stderr"; fail "gh $name: exit $rc"; }
  local dir
  dir=$(tail -n1 "$tmp/gh/stdout")
  expected_commands "$dir/report.json" >"$tmp/gh/want"
  grep '^::' "$tmp/gh/stderr" >"$tmp/gh/got" || true
  diff "$tmp/gh/want" "$tmp/gh/got" >"$tmp/gh/diff" || { cat "$tmp/gh/diff"; fail "gh $name: workflow commands differ"; }
  [[ -s $tmp/gh/want ]] || fail "gh $name: no command expected: the case tests nothing"
  { printf 'previous step\n'; cat "$dir/SUMMARY.md"; } | cmp -s - "$tmp/gh/summary.md" ||
    fail "gh $name: \$GITHUB_STEP_SUMMARY is not the previous content followed by SUMMARY.md"
  grep -q '^::' "$tmp/gh/stdout" && fail "gh $name: a workflow command on stdout"
  echo "ok: GitHub Actions $name ($(wc -l <"$tmp/gh/got") commands)"
}
gh_case prime --expect 'weights.queue_ms.p99<300' testdata/runs/prefix
gh_case srtctl testdata/srtctl/logs
gh_case ray testdata/ray/nccl_timeout
gh_case mixed testdata/discover/mixed

# A hostile log name: the file= property escapes , : % and the newline, and nothing the name or
# the log holds starts a command of its own.
hostile_dir="$tmp/runs/a,b: 100%"
mkdir -p "$hostile_dir"
hostile="$hostile_dir/orch"$'\n'"::error::injected.log"
cp testdata/runs/prefix/logs/orchestrator.log "$hostile"
cp testdata/runs/prefix/logs/inference.log "$hostile_dir/"
gh_case hostile "$hostile_dir"
grep -q "file=$tmp/runs/a%2Cb%3A 100%25/orch%0A%3A%3Aerror%3A%3Ainjected.log,line=219," "$tmp/gh/got" ||
  grep -q "file=.*a%2Cb%3A 100%25/orch%0A%3A%3Aerror%3A%3Ainjected.log,line=219," "$tmp/gh/got" ||
  { cat "$tmp/gh/got"; fail "the hostile file name is not escaped as the format requires"; }
[[ $(grep -c '^::error::injected' "$tmp/gh/stderr") == 0 ]] || fail "the file name started a command"

# Off: --no-github, or GITHUB_ACTIONS other than "true".
for how in flag env; do
  printf 'previous step\n' >"$tmp/gh/summary.md"
  if [[ $how == flag ]]; then
    GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$tmp/gh/summary.md" "$bin" -q --no-folder --no-github testdata/ray/nccl_timeout >/dev/null 2>"$tmp/gh/stderr"
  else
    GITHUB_ACTIONS=false GITHUB_STEP_SUMMARY="$tmp/gh/summary.md" "$bin" -q --no-folder testdata/ray/nccl_timeout >/dev/null 2>"$tmp/gh/stderr"
  fi
  grep -q '^::' "$tmp/gh/stderr" && fail "off ($how): a workflow command was printed"
  [[ $(cat "$tmp/gh/summary.md") == "previous step" ]] || fail "off ($how): the step summary was written"
done
# A step summary that cannot be written is a warning, not a failure of the analysis.
set +e
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$tmp/missing/summary.md" "$bin" -q --no-folder testdata/runs/healthy >/dev/null 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 0 ]] || fail "an unwritable step summary: exit $rc"
grep -qF "analyze-logs: warning: $tmp/missing/summary.md: cannot append the step summary (GITHUB_STEP_SUMMARY): No such file or directory" "$tmp/err" ||
  fail "no warning for an unwritable step summary: $(cat "$tmp/err")"
echo "ok: GitHub Actions off with --no-github or GITHUB_ACTIONS!=true; unwritable summary warned"
