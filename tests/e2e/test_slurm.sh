#!/usr/bin/env bash
# The distributed recipe of docs/SLURM.md on a real single-node SLURM cluster started here from
# Debian's packages (tests/e2e/slurm_cluster.sh: munged, slurmctld, slurmd, all under a temporary
# folder). Three "nodes" each hold their own logs (two srtctl jobs, one srtctl job, one Ray job,
# copied from testdata/); a "shared" folder receives what each task writes. On the cluster:
#  - one srun step per node (srun -N1 --ntasks-per-node=1), run side by side, each running the
#    binary under test on its node's folder with --json --no-folder into the shared folder;
#  - the same as a job array (sbatch --array=0-2 --wait), one array task per node, which also
#    writes a report folder (-o) into the shared folder;
# then, for an srtctl job and a Ray job spread over three nodes under one node-local path, one
# `analyze-logs partial` srun step per node (and again as an array) writing into the shared folder
# and `analyze-logs merge` over them; then checks that:
#  - each merged report is byte for byte the report of all the job's files in one place;
#  - each task's JSON is byte for byte what the same command prints run directly, outside SLURM
#    (nothing is taken out: the report holds no clock time or host of the run, and the paths are
#    the same absolute ones), and the report folder's report.json is that JSON too;
#  - SLURM ran them: each task's wrapper saw slurmstepd as its parent and recorded SLURM_JOB_ID,
#    SLURM_STEP_ID, SLURMD_NODENAME (and SLURM_ARRAY_JOB_ID / SLURM_ARRAY_TASK_ID for the array),
#    every srun step in its own job, the array's tasks in one array job; squeue is empty after;
#  - a failing task's status comes back: a node folder that does not exist is exit 2 from
#    analyze-logs, which srun returns (and reports as `task 0: Exited with exit code 2`), and an
#    array with such a task makes sbatch --wait fail.
# Where SLURM cannot start (not installed, a daemon that will not run here) the test prints
# "SKIP: <reason>" and exits 77, which ctest reports as skipped; with ALOG_SLURM_REQUIRED=1 that
# is a failure instead.
#
# Usage: test_slurm.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=$(realpath "${1:?usage: test_slurm.sh BINARY SOURCE_DIR}")
src=$(cd "${2:?usage: test_slurm.sh BINARY SOURCE_DIR}" && pwd)
tmp=$(mktemp -d)
source "$src/tests/e2e/slurm_cluster.sh"
trap 'slurm_stop; rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

rc=0
slurm_start "$tmp/cluster" || rc=$?
if ((rc == 77)); then
  if [[ ${ALOG_SLURM_REQUIRED-} == 1 ]]; then fail "SLURM did not start (ALOG_SLURM_REQUIRED=1): $slurm_reason"; fi
  echo "SKIP: $slurm_reason"
  exit 77
fi
((rc == 0)) || fail "slurm_start: status $rc"
node=$slurm_node

# The nodes' own log folders and the shared storage.
nodes=$tmp/nodes shared=$tmp/shared
mkdir -p "$nodes"/n0 "$nodes"/n1 "$nodes"/n2 "$shared"/srun "$shared"/array
cp -r "$src"/testdata/srtctl/logs/4459_2P_1D_20251122_041341 "$src"/testdata/srtctl/logs/4460_2P_1D_20251122_061502 \
  "$nodes"/n0/
cp -r "$src"/testdata/srtctl/logs/4461_2P_1D_20251122_080011 "$nodes"/n1/
cp -r "$src"/testdata/ray/actor_died "$nodes"/n2/

# What each task runs: it records where it ran (its parent, SLURM's variables), then the tool.
# wrapper OUT_DIR NAME ANALYZE-LOGS-ARGUMENTS...
cat >"$tmp/task.sh" <<'EOF'
#!/usr/bin/env bash
out=$1 name=$2
shift 2
{
  echo "parent=$(cat /proc/$PPID/comm)"
  for v in SLURM_JOB_ID SLURM_STEP_ID SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID SLURMD_NODENAME SLURM_CLUSTER_NAME; do
    echo "$v=${!v-}"
  done
} >"$out/$name.where"
"$@" >"$out/$name.json"
EOF
chmod +x "$tmp/task.sh"

# The recipe with srun steps: one per node, side by side.
pids=()
for i in 0 1 2; do
  timeout 60 srun -N1 --ntasks-per-node=1 --time=2 -J "alog-n$i" "$tmp/task.sh" "$shared/srun" "n$i" \
    "$bin" --json --no-folder "$nodes/n$i" >"$shared/srun/n$i.srun.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2; do
  rc=0
  wait "${pids[i]}" || rc=$?
  ((rc == 0)) || { cat "$shared/srun/n$i.srun.log"; fail "srun for node n$i: exit $rc"; }
done

# The same recipe as a job array, one task per node; each also writes a report folder.
cat >"$tmp/array.sh" <<EOF
#!/usr/bin/env bash
i=\$SLURM_ARRAY_TASK_ID
exec "$tmp/task.sh" "$shared/array" "n\$i" "$bin" --json -q -o "$shared/array/report-n\$i" "$nodes/n\$i"
EOF
rc=0
timeout 60 sbatch --array=0-2 --wait --time=2 -J alog-array -o "$shared/array/%a.out" "$tmp/array.sh" \
  >"$tmp/sbatch.log" 2>&1 || rc=$?
((rc == 0)) || { cat "$tmp/sbatch.log" "$shared"/array/*.out; fail "sbatch --array --wait: exit $rc"; }
array_job=$(awk '/^Submitted batch job/ { print $4 }' "$tmp/sbatch.log")
[[ -n $array_job ]] || fail "no job id from sbatch: $(cat "$tmp/sbatch.log")"

# Analysis where the logs live (docs/SLURM.md, "Partials"): an srtctl job and a Ray job whose files
# are spread over three nodes, each node holding its share under the same path (node-local
# scratch, /tmp/ray/...). One srun step per node writes that node's partials into the shared
# folder; merge finishes; its report is the report of all the files in one place. One machine has
# one such path at a time, so the steps run one after the other, each placing its node's share
# first; then the same as a job array run one task at a time (%1).
local_dir=$tmp/node-local
srtctl_job=$src/testdata/srtctl/logs/4459_2P_1D_20251122_041341
ray_job=$src/testdata/ray/actor_died
mkdir -p "$tmp/shares"
ls "$srtctl_job" | grep -Ev '_(prefill|decode)_' >"$tmp/shares/srtctl-0"  # the head node's files
ls "$srtctl_job" | grep -E '_prefill_' >"$tmp/shares/srtctl-1"
ls "$srtctl_job" | grep -E '_decode_' >"$tmp/shares/srtctl-2"
echo running_logs >"$tmp/shares/ray-0"  # the driver's node
echo session_latest >"$tmp/shares/ray-1"
echo node-10.0.0.2 >"$tmp/shares/ray-2"
cat >"$tmp/partial.sh" <<PARTIALEOF
#!/usr/bin/env bash
# partial.sh NODE OUT: node NODE's shares placed at the node-local paths, then its two partials.
set -e
i=\$1 out=\$2
rm -rf "$local_dir"
mkdir -p "$local_dir/4459_2P_1D_20251122_041341" "$local_dir/actor_died"
while read -r f; do cp -r "$srtctl_job/\$f" "$local_dir/4459_2P_1D_20251122_041341/"; done <"$tmp/shares/srtctl-\$i"
while read -r f; do cp -r "$ray_job/\$f" "$local_dir/actor_died/"; done <"$tmp/shares/ray-\$i"
echo "parent=\$(cat /proc/\$PPID/comm)" >"\$out/n\$i.where"
"$bin" partial -q --kind srtctl "$local_dir/4459_2P_1D_20251122_041341" -o "\$out/srtctl-n\$i.alogp"
"$bin" partial -q "$local_dir/actor_died" -o "\$out/ray-n\$i.alogp"
PARTIALEOF
chmod +x "$tmp/partial.sh"
mkdir -p "$shared/partials-srun" "$shared/partials-array"
for i in 0 1 2; do
  rc=0
  timeout 60 srun -N1 --ntasks-per-node=1 --time=2 -J "alog-partial-n$i" "$tmp/partial.sh" "$i" \
    "$shared/partials-srun" >"$shared/partials-srun/n$i.log" 2>&1 || rc=$?
  ((rc == 0)) || { cat "$shared/partials-srun/n$i.log"; fail "srun partial on node n$i: exit $rc"; }
  grep -qx "parent=slurmstepd" "$shared/partials-srun/n$i.where" ||
    fail "partial n$i did not run under slurmstepd: $(cat "$shared/partials-srun/n$i.where")"
done
cat >"$tmp/partials-array.sh" <<ARRAYEOF
#!/usr/bin/env bash
exec "$tmp/partial.sh" "\$SLURM_ARRAY_TASK_ID" "$shared/partials-array"
ARRAYEOF
rc=0
timeout 60 sbatch --array=0-2%1 --wait --time=2 -J alog-partials -o "$shared/partials-array/%a.out" \
  "$tmp/partials-array.sh" >"$tmp/sbatch-partials.log" 2>&1 || rc=$?
((rc == 0)) || { cat "$tmp/sbatch-partials.log" "$shared"/partials-array/*.out; fail "sbatch --array partials: exit $rc"; }
# All the files in one place, at the same paths: the report merge must give.
rm -rf "$local_dir"
mkdir -p "$local_dir"
cp -r "$srtctl_job" "$ray_job" "$local_dir/"
for kind in srtctl ray; do
  one=$local_dir/actor_died
  [[ $kind == srtctl ]] && one=$local_dir/4459_2P_1D_20251122_041341
  "$bin" --json --no-folder "$one" >"$tmp/one-place-$kind.json" || fail "one-place run of the $kind job: exit $?"
  for how in srun array; do
    "$bin" merge --json --no-folder "$shared/partials-$how/$kind"-n*.alogp >"$tmp/merged-$how-$kind.json" ||
      fail "merge of the $kind partials ($how): exit $?"
    cmp "$tmp/one-place-$kind.json" "$tmp/merged-$how-$kind.json" ||
      fail "the merged $kind report ($how) differs from the report of all its files in one place"
  done
done
python3 - "$tmp" <<'PYEOF' || fail "the merged reports"
import json, sys
s = json.load(open(f"{sys.argv[1]}/merged-srun-srtctl.json"))
r = json.load(open(f"{sys.argv[1]}/merged-srun-ray.json"))
# The job, not an empty report: its three benchmark runs (from the head node's files) and its
# four workers' logs (from the other two nodes); the Ray job's actor death, read on another node.
assert s["kind"] == "srtctl" and s["verdict"] == "ok", (s["kind"], s["verdict"])
job = s["srtctl"]["jobs"][0]
assert len(job["runs"]) == 3, len(job["runs"])
files = [l["file"] for l in job["logs"]]
assert any("_prefill_w1" in f for f in files) and any("_decode_w0" in f for f in files), files
assert r["kind"] == "ray" and r["verdict"] == "failed", (r["kind"], r["verdict"])
PYEOF

# Each task's output is what the same command prints outside SLURM.
for i in 0 1 2; do
  "$bin" --json --no-folder "$nodes/n$i" >"$tmp/direct-n$i.json" || fail "direct run on n$i: exit $?"
  cmp "$tmp/direct-n$i.json" "$shared/srun/n$i.json" || fail "srun step n$i's JSON differs from the direct run's"
  cmp "$tmp/direct-n$i.json" "$shared/array/n$i.json" || fail "array task n$i's JSON differs from the direct run's"
  report=$(ls -d "$shared"/array/report-n$i/analysis_*)
  cmp "$tmp/direct-n$i.json" "$report/report.json" || fail "array task n$i's report.json differs from the direct run's"
  [[ -s $report/SUMMARY.md && -s $report/report.html ]] || fail "array task n$i's report folder lacks SUMMARY.md or report.html"
done
# ... and they are the nodes' jobs, not three empty reports.
python3 - "$shared/srun" <<'PYEOF' || fail "the tasks' reports"
import json, sys
want = {"n0": ("srtctl", ["4459_2P_1D_20251122_041341", "4460_2P_1D_20251122_061502"]),
        "n1": ("srtctl", ["4461_2P_1D_20251122_080011"]),
        "n2": ("ray", ["actor_died"])}
for n, (kind, jobs) in want.items():
    r = json.load(open(f"{sys.argv[1]}/{n}.json"))
    assert r["kind"] == kind and r["verdict"] == "failed", (n, r["kind"], r["verdict"])
    assert [j["name"] for j in r["jobs"]] == jobs, (n, [j["name"] for j in r["jobs"]])
PYEOF

# SLURM ran them: slurmstepd started each wrapper, with the variables of a step on this cluster.
where() { sed -n "s/^$2=//p" "$1"; }
declare -A srun_jobs=()
for i in 0 1 2; do
  for kind in srun array; do
    w=$shared/$kind/n$i.where
    [[ $(where "$w" parent) == slurmstepd ]] || fail "$kind task n$i: parent is '$(where "$w" parent)', not slurmstepd"
    [[ $(where "$w" SLURMD_NODENAME) == "$node" ]] || fail "$kind task n$i: SLURMD_NODENAME is not $node"
    [[ $(where "$w" SLURM_CLUSTER_NAME) == alogtest ]] || fail "$kind task n$i: not on the test cluster"
    [[ $(where "$w" SLURM_JOB_ID) =~ ^[0-9]+$ ]] || fail "$kind task n$i: no SLURM_JOB_ID"
  done
  w=$shared/srun/n$i.where
  [[ $(where "$w" SLURM_STEP_ID) == 0 ]] || fail "srun step n$i: SLURM_STEP_ID is '$(where "$w" SLURM_STEP_ID)'"
  srun_jobs[$(where "$w" SLURM_JOB_ID)]=1
  w=$shared/array/n$i.where
  [[ $(where "$w" SLURM_ARRAY_JOB_ID) == "$array_job" ]] || fail "array task n$i: not in array job $array_job"
  [[ $(where "$w" SLURM_ARRAY_TASK_ID) == "$i" ]] || fail "array task n$i: SLURM_ARRAY_TASK_ID is not $i"
  [[ $(where "$w" SLURM_STEP_ID) == batch || -z $(where "$w" SLURM_STEP_ID) ]] ||
    fail "array task n$i: SLURM_STEP_ID is '$(where "$w" SLURM_STEP_ID)'"
done
((${#srun_jobs[@]} == 3)) || fail "the srun steps did not run as three jobs: ${!srun_jobs[*]}"
[[ -z $(squeue -h -o %i) ]] || fail "jobs still queued: $(squeue -h)"

# A failing task's status comes back: exit 2 on a node folder that does not exist.
set +e
timeout 60 srun -N1 --ntasks-per-node=1 --time=1 -J alog-missing "$bin" --json --no-folder "$nodes/missing" \
  >"$tmp/missing.out" 2>"$tmp/missing.err"
rc=$?
set -e
((rc == 2)) || { cat "$tmp/missing.err"; fail "srun on a missing folder: exit $rc, not 2"; }
grep -qF "analyze-logs: $nodes/missing: No such file or directory" "$tmp/missing.err" ||
  fail "no error line naming the missing folder: $(cat "$tmp/missing.err")"
grep -qE "srun: error: $node: task 0: Exited with exit code 2" "$tmp/missing.err" ||
  fail "srun did not report the task's exit code: $(cat "$tmp/missing.err")"
[[ ! -s $tmp/missing.out ]] || fail "output on stdout for a missing folder"
# ... and in an array: task 1's folder is missing, sbatch --wait fails.
mkdir -p "$shared/array2"
cat >"$tmp/array2.sh" <<EOF
#!/usr/bin/env bash
i=\$SLURM_ARRAY_TASK_ID
d=$nodes/n\$i
((i == 1)) && d=$nodes/missing
exec "$bin" --json --no-folder "\$d" >"$shared/array2/n\$i.json"
EOF
set +e
timeout 60 sbatch --array=0-2 --wait --time=2 -J alog-array2 -o "$shared/array2/%a.out" "$tmp/array2.sh" \
  >"$tmp/sbatch2.log" 2>&1
rc=$?
set -e
((rc != 0 && rc != 124)) || fail "sbatch --wait on an array with a failing task: exit $rc ($(cat "$tmp/sbatch2.log"))"
grep -qF "$nodes/missing: No such file or directory" "$shared/array2/1.out" || fail "array task 1's error line"
cmp "$tmp/direct-n0.json" "$shared/array2/n0.json" || fail "array2 task 0's JSON differs from the direct run's"
cmp "$tmp/direct-n2.json" "$shared/array2/n2.json" || fail "array2 task 2's JSON differs from the direct run's"
echo "ok: 3 srun steps and a 3-task array on a single-node SLURM cluster ($node) match the direct runs;" \
  "a failing task's exit 2 comes back through srun (exit 2) and sbatch --wait (exit $rc);" \
  "an srtctl job's and a Ray job's partials from 3 nodes (srun steps, an array) merge into their one-place reports"
