#!/usr/bin/env bash
# --cache DIR (docs/FLEET.md, "The cache"): a rerun brings every unchanged job back from the cache
# and writes byte-for-byte the report of an analysis without it; a job added to the archive, a
# file changed, or another option is analysed again; a corrupt entry is a warning and is
# replaced; a cache folder that cannot be made is a one-line error (exit 2) and no report.
# Usage: test_cache.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_cache.sh BINARY SOURCE_DIR}
src=${2:?usage: test_cache.sh BINARY SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3

# The report folder of one run; its files compared by name with another's.
run() {  # run OUT_PARENT ARGS... -> the analysis folder's path on stdout; stderr in OUT_PARENT.err
  local parent=$1
  shift
  mkdir -p "$parent"
  "$bin" -j2 -o "$parent" "$@" >"$parent.out" 2>"$parent.err" || fail "exit $? on $* ($(cat "$parent.err"))"
  ls -d "$parent"/analysis_*
}
same_reports() {  # same_reports DIR_A DIR_B WHAT
  local f
  for f in $(ls "$1"); do
    cmp -s "$1/$f" "$2/$f" || fail "$3: $f differs"
  done
  [[ $(ls "$1" | wc -l) == $(ls "$2" | wc -l) ]] || fail "$3: other files"
}
expect_err() {  # expect_err PARENT REGEX
  grep -Eq -- "$2" "$1.err" || fail "stderr of $1 lacks /$2/: $(cat "$1.err")"
}

# 1. Every kind of job in testdata/: the same report with the cache cold, and warm.
ref=$(run "$tmp/t0" -q "$src/testdata")
cold=$(run "$tmp/t1" --cache "$tmp/cache-all" "$src/testdata")
warm=$(run "$tmp/t2" --cache "$tmp/cache-all" "$src/testdata")
n=$($py -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["jobs"]))' "$ref/report.json")
(( n >= 20 )) || fail "testdata gave only $n jobs"
expect_err "$tmp/t1" "--cache: 0 of $n jobs from .*, $n analysed and kept"
expect_err "$tmp/t2" "--cache: $n of $n jobs from .*, 0 analysed and kept"
same_reports "$ref" "$cold" "testdata, cold cache"
same_reports "$ref" "$warm" "testdata, warm cache"
# The terminal view too (its last line is the folder's path), and the warnings on stderr.
diff <(head -n -1 "$tmp/t0.out") <(head -n -1 "$tmp/t2.out") >/dev/null || fail "terminal view differs with the cache"
for t in t1 t2; do
  diff <(grep -v -- '--cache: ' "$tmp/$t.err") "$tmp/t0.err" >/dev/null || fail "$t: other warnings than without the cache"
done

# A job alone of its kind puts its kind's keys at the top of report.json; those are kept only
# when a report needed them (a prime-rl run's are its whole report): the Ray job, alone beside the
# srtctl jobs, is analysed again the first time (its entry from a run beside another Ray job has
# none), then comes from the cache, and the report is the one without the cache. (A job's name is
# what its argument makes it, so the same arguments name the same jobs.)
run "$tmp/a0" --cache "$tmp/cache-top" "$src/testdata/ray/actor_died" "$src/testdata/ray/training" \
  "$src/testdata/srtctl/logs" >/dev/null
expect_err "$tmp/a0" "0 of 5 jobs"
alone_ref=$(run "$tmp/a0ref" -q "$src/testdata/ray/actor_died" "$src/testdata/srtctl/logs")
run "$tmp/a1" --cache "$tmp/cache-top" "$src/testdata/ray/actor_died" "$src/testdata/srtctl/logs" >/dev/null
expect_err "$tmp/a1" "3 of 4 jobs from .*, 1 analysed and kept"
alone=$(run "$tmp/a2" --cache "$tmp/cache-top" "$src/testdata/ray/actor_died" "$src/testdata/srtctl/logs")
expect_err "$tmp/a2" "4 of 4 jobs"
same_reports "$alone_ref" "$alone" "a Ray job alone of its kind"
grep -q '"ray": {' "$alone/report.json" || fail "the lone Ray job's keys are not at the top of report.json"

# A single prime-rl run streams its report and is not kept: said, and nothing written.
run "$tmp/p1" --cache "$tmp/cache-prime" "$src/testdata/runs/healthy" >/dev/null
expect_err "$tmp/p1" "--cache: a single prime-rl run streams its report"
[[ ! -d "$tmp/cache-prime/v2" ]] || [[ -z $(ls -A "$tmp/cache-prime/v2") ]] || fail "a single prime-rl run left cache entries"

# 2. A growing archive: 12 jobs, then 15.
$py "$src/tests/e2e/gen_fleet.py" "$src" "$tmp/all" 15 3 node07 0.2 >/dev/null
mkdir "$tmp/jobs"
for d in $(ls "$tmp/all" | sort | head -12); do cp -r "$tmp/all/$d" "$tmp/jobs/"; done
run "$tmp/g1" --cache "$tmp/cache" "$tmp/jobs" >/dev/null
expect_err "$tmp/g1" "0 of 12 jobs"
for d in $(ls "$tmp/all" | sort | tail -3); do cp -r "$tmp/all/$d" "$tmp/jobs/"; done
grown=$(run "$tmp/g2" --cache "$tmp/cache" "$tmp/jobs")
expect_err "$tmp/g2" "12 of 15 jobs from .*, 3 analysed and kept"
same_reports "$(run "$tmp/g2ref" -q "$tmp/jobs")" "$grown" "grown archive"

# 3. One job's result changes: its c64 run generated nothing. Only it is analysed again, and the
# report says so.
job=$(grep -l '^Total generated tokens' "$tmp"/jobs/*/benchmark.out | head -1 | xargs dirname | xargs basename)
$py - "$tmp/jobs/$job" <<'PYEOF' || fail "cannot edit $job's results"
import glob, json, sys
files = sorted(glob.glob(sys.argv[1] + "/*_isl_*/*.json"))
assert files, "no result JSON"
r = json.load(open(files[0]))
r["total_output_tokens"] = 0
json.dump(r, open(files[0], "w"))
PYEOF
changed=$(run "$tmp/g3" --cache "$tmp/cache" "$tmp/jobs")
expect_err "$tmp/g3" "14 of 15 jobs from .*, 1 analysed and kept"
same_reports "$(run "$tmp/g3ref" -q "$tmp/jobs")" "$changed" "changed job"
grep -q '"invalid_runs"\|"no_valid_results"' "$changed/report.json" || fail "the changed job's invalid runs are not in the report"
# A file added to a job folder is a change too.
echo "a note" >"$tmp/jobs/$job/notes.txt"
run "$tmp/g4" --cache "$tmp/cache" "$tmp/jobs" >/dev/null
expect_err "$tmp/g4" "14 of 15 jobs"

# The cache inside the archive, even inside a job's folder, is not one of the job's files.
run "$tmp/in1" --cache "$tmp/jobs/$job/alog-cache" "$tmp/jobs" >/dev/null
run "$tmp/in2" --cache "$tmp/jobs/$job/alog-cache" "$tmp/jobs" >/dev/null
expect_err "$tmp/in2" "15 of 15 jobs"
rm -rf "$tmp/jobs/$job/alog-cache"

# 4. Another option that changes a job's result: nothing comes from the cache. Its entries sit
# beside the others: back to the first options, every job comes from the cache again.
touch "$tmp/marker"
sleep 0.05
run "$tmp/g5" --cache "$tmp/cache" --max-failed-requests 50 "$tmp/jobs" >/dev/null
expect_err "$tmp/g5" "0 of 15 jobs"
run "$tmp/g5b" --cache "$tmp/cache" "$tmp/jobs" >/dev/null
expect_err "$tmp/g5b" "15 of 15 jobs"

# 5. A corrupt entry: a warning naming it, the job analysed again, the entry replaced. Not an
# entry at all, then one cut short, then one with a byte changed inside a kept text (the
# checksum says so: a damaged entry never gives a report other than the analysis's).
ref6=$(run "$tmp/g6ref" -q "$tmp/jobs")
mapfile -t entries < <(find "$tmp/cache/v2" -name '*.entry' ! -newer "$tmp/marker" | sort | head -3)
[[ ${#entries[@]} == 3 ]] || fail "fewer than 3 entries of the default options"
printf 'not an entry' >"${entries[0]}"
size=$(stat -c %s "${entries[1]}")
truncate -s $((size / 2)) "${entries[1]}"
"$py" - "${entries[2]}" <<'PYFLIP'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
at = d.find(b"<")  # inside the job's HTML or Markdown, far from the container's fields
assert at > 0
d[at] ^= 0x01
open(p, "wb").write(bytes(d))
PYFLIP
corrupt=$(run "$tmp/g6" --cache "$tmp/cache" "$tmp/jobs")
expect_err "$tmp/g6" "warning: --cache: ${entries[0]} is unreadable \\(not a cache entry\\)"
expect_err "$tmp/g6" "warning: --cache: ${entries[1]} is unreadable \\(its checksum does not match"
expect_err "$tmp/g6" "warning: --cache: ${entries[2]} is unreadable \\(its checksum does not match"
expect_err "$tmp/g6" "12 of 15 jobs from .*, 3 analysed and kept"
same_reports "$ref6" "$corrupt" "corrupt entries"
run "$tmp/g7" --cache "$tmp/cache" "$tmp/jobs" >/dev/null
expect_err "$tmp/g7" "15 of 15 jobs"
[[ $(grep -c warning "$tmp/g7.err" || true) == 0 ]] || fail "warnings after the entries were replaced: $(cat "$tmp/g7.err")"
[[ -z $(ls -A "$tmp/cache/v2" | grep '\.tmp' || true) ]] || fail "temporary files left in the cache"
# A named pipe or a folder in an entry's place: refused without blocking, then replaced.
mapfile -t entries < <(find "$tmp/cache/v2" -name '*.entry' ! -newer "$tmp/marker" | sort | head -2)
rm -f "${entries[0]}" "${entries[1]}"
mkfifo "${entries[0]}"
mkdir "${entries[1]}"
mkdir -p "$tmp/g6b"
timeout 60 "$bin" -j2 -o "$tmp/g6b" --cache "$tmp/cache" "$tmp/jobs" >/dev/null 2>"$tmp/g6b.err" ||
  fail "a pipe or folder in the cache: exit $? ($(cat "$tmp/g6b.err"))"
expect_err "$tmp/g6b" "warning: --cache: ${entries[0]} is unreadable \\(not a regular file\\)"
expect_err "$tmp/g6b" "warning: --cache: ${entries[1]} is unreadable"
same_reports "$ref6" "$(ls -d "$tmp/g6b"/analysis_*)" "a pipe or folder in the cache"
[[ -p ${entries[0]} ]] && fail "the pipe was not replaced by an entry"
# The folder cannot be replaced by an entry (a warning said the cache is not complete); once it
# is gone, the next run keeps that job again.
rmdir "${entries[1]}"
run "$tmp/g6c" --cache "$tmp/cache" "$tmp/jobs" >/dev/null
expect_err "$tmp/g6c" "14 of 15 jobs from .*, 1 analysed and kept"
# Entries of the first layout (DIR/v1/, CBOR documents) are another layout's: neither read nor
# replaced, and no warning.
mkdir -p "$tmp/cache/v1"
printf '\xa1\x66format\x01' >"$tmp/cache/v1/0123456789abcdef.cbor"
run "$tmp/g7b" --cache "$tmp/cache" "$tmp/jobs" >/dev/null
expect_err "$tmp/g7b" "15 of 15 jobs"
[[ $(grep -c warning "$tmp/g7b.err" || true) == 0 ]] || fail "a v1 folder gave warnings: $(cat "$tmp/g7b.err")"
[[ $(cat "$tmp/cache/v1/0123456789abcdef.cbor") == $(printf '\xa1\x66format\x01') ]] || fail "the v1 entry was touched"

# 6. Errors: a cache folder that cannot be made, and options the cache cannot serve.
touch "$tmp/not-a-dir"
set +e
"$bin" -q -o "$tmp/e1" --cache "$tmp/not-a-dir" "$tmp/jobs" >"$tmp/e1.out" 2>"$tmp/e1.err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "--cache on a file: exit $rc, not 2"
[[ $(wc -l <"$tmp/e1.err") == 1 ]] && grep -q -- "--cache $tmp/not-a-dir" "$tmp/e1.err" || fail "--cache on a file: $(cat "$tmp/e1.err")"
[[ ! -e "$tmp/e1" ]] || [[ -z $(ls -A "$tmp/e1") ]] || fail "a report was written although the cache failed"
for extra in --follow --live; do
  set +e
  "$bin" -q --no-folder --cache "$tmp/cache" $extra "$tmp/jobs" >/dev/null 2>"$tmp/e2.err" </dev/null
  rc=$?
  set -e
  [[ $rc == 2 ]] && grep -q -- "--cache and $extra" "$tmp/e2.err" || fail "--cache $extra: exit $rc, $(cat "$tmp/e2.err")"
done
echo "ok: --cache: testdata ($n jobs) and a growing fleet give the same reports cold, warm, grown, changed and after a corrupt entry"
