#!/usr/bin/env bash
# analyze-logs partial / merge (docs/SLURM.md): every testdata job's files are split across
# partials in several ways, each part written at the same path as a node would hold it; the merged
# report equals the report of all the files in one place (report.json, SUMMARY.md, the terminal
# view, and every file of the report folder). Then what must be refused: a corrupt, truncated or
# other-version partial, a file that is no partial, the same partial twice (exit 2, one line
# naming the file, no report folder).
# ALOG_PARTIAL_SPLITS=quick (the sanitizer run of tests/run.sh): two splits a job instead of all.
# Usage: test_partial.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=$(realpath "${1:?usage: test_partial.sh BINARY SOURCE_DIR}")
src=$(realpath "${2:?usage: test_partial.sh BINARY SOURCE_DIR}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3

"$py" - "$bin" "$src" "$tmp" <<'PYEOF'
import filecmp, os, shutil, subprocess, sys

bin, src, tmp = sys.argv[1:4]
failures = []
checked = 0

def run(args, **kw):
    return subprocess.run([bin] + args, capture_output=True, **kw)

def files_of(job):
    out = []
    for d, _, fs in os.walk(job):
        for f in fs:
            out.append(os.path.relpath(os.path.join(d, f), job))
    return sorted(out)

def place(job, rels, at):
    shutil.rmtree(at, ignore_errors=True)
    os.makedirs(at)
    for r in rels:
        os.makedirs(os.path.dirname(os.path.join(at, r)), exist_ok=True)
        shutil.copy2(os.path.join(job, r), os.path.join(at, r))

def splits(rels, kind):
    s = {}
    if len(rels) <= 12:
        s["each file alone"] = [[r] for r in rels]
    s["round robin 2"] = [rels[0::2], rels[1::2]]
    s["round robin 3"] = [rels[0::3], rels[1::3], rels[2::3]]
    half = (len(rels) + 1) // 2
    s["halves"] = [rels[:half], rels[half:]]
    if kind == "ray":
        # one node's worker files in another partial than its raylet and the driver log
        s["workers apart"] = [[r for r in rels if "worker-" in r], [r for r in rels if "worker-" not in r]]
        s["node folders apart"] = [[r for r in rels if r.startswith("node-")], [r for r in rels if not r.startswith("node-")]]
    if kind == "srtctl":
        w = lambda r: any(k in r for k in ("_decode_", "_prefill_", "_agg_"))
        s["workers apart"] = [[r for r in rels if w(r)], [r for r in rels if not w(r)]]
        s["decode apart from prefill"] = [[r for r in rels if "_decode_" in r], [r for r in rels if "_decode_" not in r]]
    # the same split given to merge in reverse order
    s["round robin 2, partials reversed"] = [rels[1::2], rels[0::2]]
    if os.environ.get("ALOG_PARTIAL_SPLITS") == "quick":
        # Under the sanitizers (tests/run.sh): two splits a job, one its kind's own when it has one;
        # the Release binary runs them all.
        s = {k: v for k, v in s.items() if k in ("round robin 2, partials reversed", "workers apart", "node folders apart")}
    return {k: [g for g in v if g] for k, v in s.items()}

def outputs(args, merge=False):
    """report.json, SUMMARY.md, the terminal view, and the report folder's files."""
    got = {}
    sub = ["merge"] if merge else []
    for fmt in ("json", "md", "text"):
        p = run(sub + ["-j2", "--no-folder", "--format", fmt, "--color", "never"] + args)
        got[fmt] = (p.returncode, p.stdout)
    parent = os.path.join(tmp, "out")
    shutil.rmtree(parent, ignore_errors=True)
    p = run(sub + ["-j2", "-q", "-o", parent] + args)
    got["folder rc"] = p.returncode
    (folder,) = os.listdir(parent)
    for f in sorted(os.listdir(os.path.join(parent, folder))):
        with open(os.path.join(parent, folder, f), "rb") as fh:
            got["folder " + f] = fh.read()
    return got

def check(job, kind, forced):
    global checked
    name = os.path.basename(job.rstrip("/"))
    at = os.path.join(tmp, "node", name)   # the one path every node holds its share under
    rels = files_of(job)
    place(job, rels, at)
    ref = outputs([at])
    for how, groups in splits(rels, kind).items():
        parts = []
        for i, g in enumerate(groups):
            place(job, g, at)
            out = os.path.join(tmp, "parts", f"p{i}.alogp")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            p = run(["partial", "-q", "-j2"] + (["--kind", forced] if forced else []) + [at, "-o", out])
            if p.returncode != 0:
                failures.append(f"{job} ({how}): partial exit {p.returncode}: {p.stderr.decode()[:300]}")
                break
            parts.append(out)
        else:
            place(job, rels, at)  # merge reads no log: the files are where a report names them
            got = outputs(parts, merge=True)
            for k in ref:
                if ref[k] != got.get(k):
                    failures.append(f"{job} ({how}, {len(groups)} partials): {k} differs")
                    break
            checked += 1
        for p in parts:
            os.remove(p)
    shutil.rmtree(at)

jobs = []
t = os.path.join(src, "testdata")
for r in ("healthy", "prefix", "postfix"):
    jobs.append((os.path.join(t, "runs", r), "prime-rl", None))
for r in sorted(os.listdir(os.path.join(t, "steps"))):
    jobs.append((os.path.join(t, "steps", r), "prime-rl", None))
for s in ("logs", "sweep", "findings"):
    for j in sorted(os.listdir(os.path.join(t, "srtctl", s))):
        if os.path.isdir(os.path.join(t, "srtctl", s, j)):
            jobs.append((os.path.join(t, "srtctl", s, j), "srtctl", "srtctl"))
for r in sorted(os.listdir(os.path.join(t, "ray"))):
    jobs.append((os.path.join(t, "ray", r), "ray", None))
for r in sorted(os.listdir(os.path.join(t, "hangs"))):
    jobs.append((os.path.join(t, "hangs", r), "hang", None))
jobs.append((os.path.join(t, "discover", "mixed"), "fleet", None))
only = os.environ.get("ALOG_PARTIAL_ONLY")
for job, kind, forced in jobs:
    if only and only not in job:
        continue
    check(job, kind, forced)
print(f"{checked} splits merged and compared over {len(jobs)} jobs")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PYEOF

# Links, as discovery follows them: a log that is a link to another file of the run, and a folder
# that is a link to one outside it, split over two partials; the merge plans them in the same
# order (links after real entries) and reads them as one place does.
links=$tmp/links
mkdir -p "$links/outside/more" "$links/a/run/logs" "$links/b/run/logs"
cp "$src/testdata/runs/healthy/logs/orchestrator.log" "$links/a/run/logs/"
cp "$src/testdata/runs/healthy/logs/trainer.log" "$links/a/run/logs/trainer.real"
ln -s trainer.real "$links/a/run/logs/trainer.log"
cp "$src/testdata/runs/healthy/logs/inference.log" "$links/outside/more/"
ln -s ../../../outside/more "$links/b/run/logs/extra"
(cd "$links/a" && "$bin" partial -q run -o ../a.alogp) || fail_links=1
(cd "$links/b" && "$bin" partial -q run -o ../b.alogp) || fail_links=1
mkdir -p "$links/one/run/logs"
cp "$links/a/run/logs/orchestrator.log" "$links/a/run/logs/trainer.real" "$links/one/run/logs/"
ln -s trainer.real "$links/one/run/logs/trainer.log"
ln -s ../../../outside/more "$links/one/run/logs/extra"
(cd "$links/one" && "$bin" --no-folder --json run) >"$links/one.json"
(cd "$links/one" && "$bin" merge --no-folder --json ../a.alogp ../b.alogp) >"$links/merged.json"
[[ -z ${fail_links-} ]] && cmp -s "$links/one.json" "$links/merged.json" || {
  diff "$links/one.json" "$links/merged.json" | head -20
  echo "FAIL: links: the merged report differs from the one-place report"
  exit 1
}
grep -q '"path": "run/logs/extra/inference.log"' "$links/one.json" || { echo "FAIL: links: the linked folder was not read"; exit 1; }
echo "links: ok"

# What is refused, each with one line naming the file, exit status 2, and no report folder.
fail() {
  echo "FAIL: $*"
  exit 1
}
run=$src/testdata/runs/healthy
"$bin" partial -q "$run" -o "$tmp/good.alogp" || fail "partial exit $?"
head -c 100 "$tmp/good.alogp" >"$tmp/cut.alogp"
"$py" - "$tmp" <<'PYEOF'
import sys
t = sys.argv[1]
d = bytearray(open(f"{t}/good.alogp", "rb").read())
flip = bytearray(d); flip[len(d) // 2] ^= 0xFF
open(f"{t}/flipped.alogp", "wb").write(flip)
other = bytearray(d); other[8] = 9
open(f"{t}/container9.alogp", "wb").write(other)
open(f"{t}/payload.zst", "wb").write(d[12:])
open(f"{t}/header", "wb").write(d[:12])
PYEOF
# The same partial as another version of the tool wrote it: its version string replaced.
version=$("$bin" --version | awk '{print $2}')
zstd -q -d -f "$tmp/payload.zst" -o "$tmp/payload.cbor"
"$py" - "$tmp" "$version" <<'PYEOF'
import sys
t, v = sys.argv[1:3]
d = open(f"{t}/payload.cbor", "rb").read()
w = "9" * len(v)
assert d.count(v.encode()) >= 1
open(f"{t}/payload9.cbor", "wb").write(d.replace(v.encode(), w.encode(), 1))
PYEOF
zstd -q -f "$tmp/payload9.cbor" -o "$tmp/payload9.zst"
cat "$tmp/header" "$tmp/payload9.zst" >"$tmp/version9.alogp"
echo "not a partial" >"$tmp/text.alogp"
# A well-formed, checksummed partial whose document nests 300,000 deep (a crafted file: the CBOR
# reader recursed once per level and overflowed the stack).
"$py" -c "import sys; open(sys.argv[1], 'wb').write(b'\xa1\x64jobs' + b'\x81' * 300000 + b'\x00')" "$tmp/deep.cbor"
zstd -q -f "$tmp/deep.cbor" -o "$tmp/deep.zst"
cat "$tmp/header" "$tmp/deep.zst" >"$tmp/deep.alogp"
refused() {  # refused REGEX PARTIAL...
  local re=$1
  shift
  rm -rf "$tmp/out"
  mkdir -p "$tmp/out"
  local rc=0
  "$bin" merge -o "$tmp/out" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
  [[ $rc == 2 ]] || fail "merge $*: exit $rc, not 2"
  [[ $(wc -l <"$tmp/stderr") == 1 ]] || fail "merge $*: not one line: $(cat "$tmp/stderr")"
  grep -Eq -- "$re" "$tmp/stderr" || fail "merge $*: stderr lacks /$re/: $(cat "$tmp/stderr")"
  [[ -z $(ls -A "$tmp/out") ]] || fail "merge $*: wrote $(ls -A "$tmp/out")"
}
refused "cut.alogp: a corrupt partial \(the compressed document is cut short\)" "$tmp/good.alogp" "$tmp/cut.alogp"
refused "flipped.alogp: a corrupt partial" "$tmp/flipped.alogp"
refused "container9.alogp: a partial of container version 9" "$tmp/container9.alogp"
refused "version9.alogp: written by analyze-logs 9+; this is analyze-logs $version" "$tmp/version9.alogp"
refused "text.alogp: not a partial of analyze-logs" "$tmp/text.alogp"
refused "deep.alogp: a corrupt partial \(nested deeper than 128 levels\)" "$tmp/deep.alogp"
refused "good.alogp: given twice" "$tmp/good.alogp" "$tmp/good.alogp"
refused "missing.alogp: No such file or directory" "$tmp/missing.alogp"
# partial: an input that is not there, a FILE that cannot be written; nothing left behind.
rc=0
"$bin" partial "$tmp/nothing-here" -o "$tmp/x.alogp" 2>"$tmp/stderr" || rc=$?
[[ $rc == 2 ]] && grep -q "nothing-here: No such file or directory" "$tmp/stderr" || fail "missing input: $rc $(cat "$tmp/stderr")"
[[ ! -e $tmp/x.alogp ]] || fail "a partial written for a missing input"
rc=0
"$bin" partial "$run" -o "$tmp/no/such/dir/x.alogp" 2>"$tmp/stderr" || rc=$?
[[ $rc == 2 ]] && grep -q "cannot write the partial" "$tmp/stderr" || fail "unwritable -o: $rc $(cat "$tmp/stderr")"
# --kind srtctl takes one job folder.
rc=0
"$bin" partial --kind srtctl "$run/logs/trainer.log" -o "$tmp/x.alogp" 2>"$tmp/stderr" || rc=$?
[[ $rc == 2 ]] && grep -q "give the one job folder" "$tmp/stderr" || fail "--kind srtctl on a file: $rc $(cat "$tmp/stderr")"
# The size line: the partial against the input.
"$bin" partial "$run" -o "$tmp/sized.alogp" 2>"$tmp/stderr"
grep -Eq "partial: 1 job \(1 prime-rl\) from [0-9.]+ KiB of files -> .*sized.alogp: [0-9.]+ KiB \([0-9.]+ % of the input\)" "$tmp/stderr" ||
  fail "size line: $(cat "$tmp/stderr")"
echo "refusals: ok"
