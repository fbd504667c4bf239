#!/usr/bin/env bash
# Every testdata job's report.json validates against docs/report.schema.json (the header every
# kind shares), and the header agrees with the exit status `--fail-on` gives: a report whose
# findings hold a critical one exits 1 under `--fail-on critical`, any other exits 0.
#
# The validator is python3-jsonschema (Debian's package, installed by tests/install-deps.sh).
#
# Usage: test_report_schema.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail

bin=${1:?usage: test_report_schema.sh BINARY SOURCE_DIR}
src=${2:?usage: test_report_schema.sh BINARY SOURCE_DIR}
schema=$src/docs/report.schema.json
# Debian's python3 (where python3-jsonschema installs), whatever python3 comes first on PATH.
py=/usr/bin/python3
[[ -x $py ]] || py=python3
if ! "$py" -c 'import jsonschema' 2>/dev/null; then
  echo "FAIL: python3-jsonschema is not installed (tests/install-deps.sh installs it)"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

checked=0
# check NAME ARG...: analyse, validate report.json, and hold the exit status to the findings.
check() {
  local name=$1
  shift
  local out=$tmp/$name
  mkdir -p "$out"
  local rc=0
  "$bin" -q --fail-on critical -o "$out" "$@" >"$tmp/$name.stdout" 2>"$tmp/$name.stderr" || rc=$?
  if ((rc != 0 && rc != 1)); then
    echo "FAIL: $name: exit $rc"
    cat "$tmp/$name.stderr"
    exit 1
  fi
  local report
  report=$(ls -d "$out"/analysis_*/report.json 2>/dev/null | head -1)
  [[ -f $report ]] || { echo "FAIL: $name: no report.json written"; exit 1; }
  "$py" - "$schema" "$report" "$rc" "$name" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
rc, name = int(sys.argv[3]), sys.argv[4]
jsonschema.validators.validator_for(schema).check_schema(schema)
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:5]:
    print(f"FAIL: {name}: {'/'.join(map(str, e.path))}: {e.message[:300]}")
if errors:
    sys.exit(1)
critical = any(f["severity"] == "critical" for f in doc["findings"])
if critical != (rc == 1):
    print(f"FAIL: {name}: exit {rc} under --fail-on critical, but critical findings: {critical}")
    sys.exit(1)
for job in doc["jobs"]:
    if job["verdict"] == "ok" and any(f["severity"] != "info" for f in job["findings"]):
        print(f"FAIL: {name}: job {job['name']} reads ok over a warning or critical finding")
        sys.exit(1)
PY
  checked=$((checked + 1))
}

for run in "$src"/testdata/runs/*/; do check "run_$(basename "$run")" "$run"; done
# The step-budget runs (docs/STEPS.md): report.json's steps and step_table sections.
for run in "$src"/testdata/steps/*/; do check "steps_$(basename "$run")" "$run"; done
for job in "$src"/testdata/srtctl/logs/*/; do check "srtctl_$(basename "$job")" "$job"; done
check srtctl_set "$src/testdata/srtctl/logs"
for job in "$src"/testdata/ray/*/; do check "ray_$(basename "$job")" "$job"; done
for d in "$src"/testdata/discover/*/; do check "discover_$(basename "$d")" "$d"; done
for d in "$src"/testdata/hangs/*/; do check "hang_$(basename "$d")" "$d"; done
check stdin_prime_rl - <"$src/testdata/runs/prefix/logs/orchestrator.log"
# A trainer log alone: every metric but ckpt.write_ms is listed with count 0 and nothing else.
check prime_rl_trainer_only "$src/testdata/runs/healthy/logs/trainer.log"
echo "ok: $checked report.json files validate against docs/report.schema.json"
