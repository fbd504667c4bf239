#!/usr/bin/env bash
# docs/CI.md: its GitHub Actions workflow and GitLab job parse as YAML (python3-yaml) with the keys
# each CI system needs, and their analysis scripts, run as written on the bundled testdata (the
# download of the previous run's report replaced by a local report.json), analyse, write a valid
# JUnit file, compare with the previous report, and exit with the gate's status.
#
# Usage: test_ci_docs.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_ci_docs.sh BINARY SOURCE_DIR}
src=$(cd "${2:?usage: test_ci_docs.sh BINARY SOURCE_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is not installed (tests/install-deps.sh --test installs it)"
mkdir "$tmp/bin"
ln -s "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" "$tmp/bin/analyze-logs"

# The YAML blocks, parsed; the scripts written out for the runs below.
python3 - "$src/docs/CI.md" "$tmp" <<'PY' || fail "docs/CI.md's YAML"
import re, sys, yaml
md, out = open(sys.argv[1]).read(), sys.argv[2]
blocks = re.findall(r"```yaml\n(.*?)```", md, re.S)
assert len(blocks) == 2, len(blocks)
gh, gl = (yaml.safe_load(b) for b in blocks)
steps = gh['jobs']['analyse']['steps']
by = {s['name']: s for s in steps}
for name in ['Install analyze-logs', 'Download the previous run\'s report', 'Analyse the logs',
             'Compare with the previous run', 'Publish the report folder', 'Publish the JUnit report',
             'Gate on --expect and --fail-on']:
    assert name in by, name
assert by['Publish the report folder']['uses'].startswith('actions/upload-artifact@')
assert by['Publish the report folder']['with']['name'] == 'analysis-report'
assert by['Publish the report folder']['if'] == 'always()'
assert 'gh run download' in by["Download the previous run's report"]['run']
assert '--junit junit.xml' in by['Analyse the logs']['run']
assert by['Publish the JUnit report']['with']['report_paths'] == 'junit.xml'
open(out + '/gh_analyse.sh', 'w').write(by['Analyse the logs']['run'])
open(out + '/gh_compare.sh', 'w').write(by['Compare with the previous run']['run'])
job = gl['analyse-logs']
assert job['artifacts']['reports']['junit'] == 'junit.xml'
assert job['artifacts']['when'] == 'always'
assert 'report/latest/' in job['artifacts']['paths']
assert 'jobs/artifacts' in job['script'][0]
open(out + '/gl_script.sh', 'w').write(job['script'][1])
env = gh['jobs']['analyse']['env']
assert env['EXPECT'] == job['variables']['EXPECT']
open(out + '/env.sh', 'w').write(''.join("export %s='%s'\n" % (k, v) for k, v in job['variables'].items()))
PY
for s in gh_analyse gh_compare gl_script; do bash -n "$tmp/$s.sh" || fail "$s: shell syntax"; done

# A previous run: the post-fix run's report.json; this run: the pre-fix one (a regression).
"$bin" -q --no-folder --json "$src/testdata/runs/postfix" >"$tmp/prev.json"

run_in() {  # DIR SCRIPT LOGS -> exit status in $rc
  local dir=$1 script=$2 logs=$3
  set +e
  (cd "$dir" && . "$tmp/env.sh" && export LOGS="$logs" PATH="$tmp/bin:$PATH" \
     GITHUB_OUTPUT="$dir/gh_output" GITHUB_STEP_SUMMARY="$dir/gh_summary" GITHUB_ACTIONS=true &&
     bash -e "$tmp/$script.sh") >"$dir/$script.out" 2>"$dir/$script.err"
  rc=$?
  set -e
}

# GitHub: the analysis step records the gate's status and succeeds; the comparison step fails on
# the regression and writes the comparison into the step summary.
w=$tmp/gh && mkdir -p "$w/previous" && cp "$tmp/prev.json" "$w/previous/report.json"
run_in "$w" gh_analyse "$src/testdata/runs/prefix"
[[ $rc == 0 ]] || { cat "$w/gh_analyse.err"; fail "gh analyse step: exit $rc"; }
grep -qx 'status=1' "$w/gh_output" || fail "gh: the analysis status (1: p99 over 300) was not recorded: $(cat "$w/gh_output")"
[[ -f $w/report/latest/report.json && -f $w/report/latest/SUMMARY.md ]] || fail "gh: report/latest was not published"
xmllint --noout --schema "$src/tests/schemas/junit.xsd" "$w/junit.xml" 2>/dev/null || fail "gh: junit.xml not valid"
grep -q '^::error ' "$w/gh_analyse.err" || fail "gh: no annotation"
run_in "$w" gh_compare "$src/testdata/runs/prefix"
[[ $rc == 1 ]] || { cat "$w/gh_compare.err"; fail "gh compare step: exit $rc, expected 1 (a regression)"; }
grep -q 'queue_ms' "$w/gh_summary" || fail "gh: the comparison is not in the step summary"
# Without a previous report: the comparison says so and passes.
rm -rf "$w/previous" && mkdir "$w/previous"
run_in "$w" gh_compare x
[[ $rc == 0 ]] && grep -q 'No previous report' "$w/gh_summary" || fail "gh compare without a previous report: exit $rc"
echo "ok: GitHub workflow: analyse (status 1 recorded), compare (regression: exit 1), publish report/latest"

# GitLab: the same gate in one script; a healthy run after a healthy one passes.
w=$tmp/gl && mkdir -p "$w/previous" && cp "$tmp/prev.json" "$w/previous/report.json"
run_in "$w" gl_script "$src/testdata/runs/prefix"
[[ $rc == 1 ]] || { cat "$w/gl_script.err"; fail "gitlab script on the pre-fix run: exit $rc, expected 1"; }
xmllint --noout --schema "$src/tests/schemas/junit.xsd" "$w/junit.xml" 2>/dev/null || fail "gitlab: junit.xml not valid"
[[ -f $w/report/latest/report.json ]] || fail "gitlab: report/latest was not published"
w=$tmp/gl2 && mkdir -p "$w/previous" && cp "$tmp/prev.json" "$w/previous/report.json"
run_in "$w" gl_script "$src/testdata/runs/postfix"
[[ $rc == 0 ]] || { cat "$w/gl_script.err" "$w/gl_script.out"; fail "gitlab script on the post-fix run: exit $rc, expected 0"; }
echo "ok: GitLab job: pre-fix run fails the gate (1), post-fix run after post-fix passes (0)"
