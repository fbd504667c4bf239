#!/usr/bin/env bash
# The fleet view (docs/FLEET.md) on generated fleets of srtctl jobs (tests/e2e/gen_fleet.py):
# the table, the failures grouped by fingerprint, the bad node found by the binomial test (its
# p-value recomputed here) with the --exclude list, each job's nodes and times, no blame where
# there is no bad node, and the same report.json at -j1 and -j2.
# Usage: test_fleet.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_fleet.sh BINARY SOURCE_DIR}
src=${2:?usage: test_fleet.sh BINARY SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3

$py "$src/tests/e2e/gen_fleet.py" "$src" "$tmp/bad/jobs" 60 1 node07 0.1
"$bin" -q -o "$tmp/out" "$tmp/bad/jobs" >"$tmp/term.txt" || fail "exit $? on the fleet"
report=$(ls -d "$tmp"/out/analysis_*)
$py - "$report/report.json" "$tmp/bad/jobs.manifest.json" <<'PYEOF' || fail "report.json's fleet"
import json, math, sys
r = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
fl = r["fleet"]
failed = [j["name"] for j in m["jobs"] if j["failed"]]
assert fl["jobs"] == 60 and fl["failed"] == len(failed), (fl["jobs"], fl["failed"], len(failed))
assert abs(fl["failure_rate"] - len(failed) / 60) < 1e-12
# Every failure is the same NCCL error of the decode worker: one fingerprint, every failed job.
assert len(fl["groups"]) == 1, [g["fingerprint"] for g in fl["groups"]]
g = fl["groups"][0]
assert g["id"] == "nccl_error" and g["jobs"] == failed, g
assert g["fingerprint"] == "nccl_error @ decode w# on node#: NCCL error", g["fingerprint"]
# The bad node: every job on it failed; its p-value is the exact binomial tail at the fleet's rate.
assert fl["exclude"] == ["node07"] and fl["slurm_exclude"] == "--exclude=node07", fl["exclude"]
on7 = [j for j in m["jobs"] if "node07" in j["nodes"]]
n7 = next(x for x in fl["nodes"] if x["node"] == "node07")
assert n7["jobs"] == len(on7) == n7["failed"] and n7["blamed"], n7
p = len(failed) / 60
tail = sum(math.comb(len(on7), i) * p**i * (1 - p) ** (len(on7) - i) for i in range(n7["failed"], len(on7) + 1))
assert abs(n7["p_value"] - tail) <= 1e-12 * max(1, tail), (n7["p_value"], tail)
tested = len({n for j in m["jobs"] for n in j["nodes"]})
assert abs(n7["adjusted_p"] - min(1, tail * tested)) <= 1e-12, n7
assert sum(x["blamed"] for x in fl["nodes"]) == 1
assert n7["failed_jobs"] == [j["name"] for j in on7]
# Each job's place.
byname = {j["name"]: j for j in r["jobs"]}
for j in m["jobs"]:
    e = byname[j["name"]]
    assert e["nodes"] == j["nodes"], (e["nodes"], j["nodes"])
    assert e["started_at"] and e["ended_at"] and e["duration_s"] > 0, e
    assert (e["fingerprint"] is not None) == j["failed"], e
ok = next(e for e in r["jobs"] if e["verdict"] == "ok")
assert ok["started_at"] == "2025-11-22 04:14:02" and ok["duration_s"] == 2670, (ok["started_at"], ok["duration_s"])
PYEOF
grep -q -- "--exclude=node07" "$report/SUMMARY.md" || fail "SUMMARY.md lacks the --exclude list"
grep -q '## Failures by fingerprint' "$report/SUMMARY.md" || fail "SUMMARY.md lacks the fingerprint groups"
grep -q 'href="#job-0"' "$report/report.html" && grep -q 'id="job-59"' "$report/report.html" || fail "report.html's table is not linked to the jobs"
grep -q 'SLURM: --exclude=node07' "$tmp/term.txt" || fail "terminal lacks the --exclude line"
# Columns are characters, not bytes ("…" is three bytes; mawk's length() counts bytes).
$py - "$tmp/term.txt" <<'PYEOF' || fail "terminal lines over 100 columns"
import re, sys
wide = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if len(re.sub(r"\x1b\[[0-9;]*m", "", l)) > 100]
assert not wide, wide[:3]
PYEOF
grep -q '── 7000' "$tmp/term.txt" && fail "60 jobs: the terminal shows each job's section"
# The same report with one thread.
"$bin" -q -j1 --json --no-folder "$tmp/bad/jobs" >"$tmp/j1.json"
"$bin" -q -j2 --json --no-folder "$tmp/bad/jobs" >"$tmp/j2.json"
cmp -s "$tmp/j1.json" "$tmp/j2.json" || fail "report.json differs between -j1 and -j2"
# Every kind at once (the whole of testdata/: prime-rl runs, srtctl and Ray jobs, hang sets),
# analysed in parallel: the same report as one at a time.
(cd "$src" && "$bin" -q -j1 --json --no-folder testdata >"$tmp/all1.json" 2>/dev/null) || [[ $? == 1 ]] || fail "testdata -j1"
(cd "$src" && "$bin" -q -j3 --json --no-folder testdata >"$tmp/all3.json" 2>/dev/null) || [[ $? == 1 ]] || fail "testdata -j3"
cmp -s "$tmp/all1.json" "$tmp/all3.json" || fail "testdata's report.json differs between -j1 and -j3"
# report.json is never built as one string: streamed onto standard output (--json --no-folder) and
# into the folder, it is the same text, and --json with a folder prints the file written.
mkdir -p "$tmp/allf"
(cd "$src" && "$bin" -q -j2 --json -o "$tmp/allf" testdata >"$tmp/allf.json" 2>/dev/null) || [[ $? == 1 ]] || fail "testdata with a folder"
cmp -s "$tmp/all1.json" "$tmp/allf"/analysis_*/report.json || fail "--json --no-folder differs from the folder's report.json"
cmp -s "$tmp/all1.json" "$tmp/allf.json" || fail "--json with a folder differs from --json --no-folder"

# No bad node: failures spread at random are nobody's fault.
$py "$src/tests/e2e/gen_fleet.py" "$src" "$tmp/fair/jobs" 60 2 none 0.15
"$bin" -q --json --no-folder "$tmp/fair/jobs" >"$tmp/fair.json"
$py -c 'import json,sys; f=json.load(open(sys.argv[1]))["fleet"]; assert f["failed"] > 2 and f["exclude"] == [] and f["slurm_exclude"] is None, f["exclude"]' "$tmp/fair.json" ||
  fail "a fleet without a bad node blames one"
echo "ok: fleet of 60 srtctl jobs: one fingerprint, node07 blamed (exact binomial), --exclude, -j1 = -j2; none blamed without a bad node"
