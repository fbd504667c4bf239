#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz/ (clang, ASan + UBSan) and runs each for SECONDS
# with a corpus seeded from testdata/ and a few built-in lines. Fails if any fuzzer finds a
# crash, a leak, a timeout or a broken invariant.
#
#   tests/fuzz/run_fuzzers.sh [SECONDS]        (default 30; ALOG_FUZZ_JOBS fuzzers at a time,
#                                               default: the number of cores)
#
# The corpus lives in a temporary folder (testdata/ is only read). Crashing inputs are kept in
# build-fuzz/artifacts/<target>/; turn each into a regression test (the smallest input, in
# tests/unit/test_*_robustness.cpp) and, if useful, save it as testdata/fuzz/<target>/<name>:
# files there are replayed on every run before fuzzing starts.
set -euo pipefail
seconds=${1:-30}
cd "$(dirname "$0")/../.."
root=$PWD
build=${ALOG_FUZZ_BUILD:-build-fuzz}
jobs=${ALOG_FUZZ_JOBS:-$(nproc)}

work=$(mktemp -d "${TMPDIR:-/tmp}/alog-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Warnings are not errors here: the fuzz build must not depend on every module being clean
# under clang (the -Werror build is tests/run.sh's first stage).
echo "== configuring and building the fuzzers in $build (clang++)"
# -O1 with line tables only: stack traces name the lines, and the build takes far less time than
# -O2 -g (CI builds it clean on 2 cores); ccache when present, as tests/run.sh uses it.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
if ! { cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DALOG_FUZZ=ON \
         -DALOG_TESTS=OFF -DALOG_BENCH=OFF -DALOG_WERROR=OFF -DALOG_SANITIZE=OFF "${launcher[@]}" &&
       cmake --build "$build" -j"$(nproc)" --target alog_fuzzers; } >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  echo "FAIL: the fuzzers do not build"
  exit 1
fi
mapfile -t targets < <(grep -v '^$' "$build/fuzzers.txt")
((${#targets[@]})) || { echo "no fuzz targets were configured" >&2; exit 1; }

# ---- seed corpora -------------------------------------------------------------------------
# Text files of testdata/, small enough to be useful seeds (compressed files go to decompress).
mapfile -t text_files < <(find testdata -type f -size -2M ! -name '*.gz' ! -name '*.zst' 2>/dev/null | sort)

samples=$(cat <<'EOF'
[weights][54127134d8134dbd] client.send url=http://10.0.0.2:8000 path=/models/run/step_12 t=53712.8841
[weights][54127134d8134dbd] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4
11:22:20    INFO [weights][bae4d097d7704bc7] client.done wall_ms=433.5 rpc_ms=-1.0 queue_ms=-1.0
\e[2m18:30:47\e[0m \e[1m   INFO\e[0m \e[1m\e[22m[weights][54127134d8134dbd] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4\e[0m\e[0m
INFO 10-14 18:30:47 [server.py:88] [weights][54127134d8134dbd] server.recv path=/update_weights t=53712.8841
INFO 10-14 18:30:47 [server.py:88] [weights][-] server.recv path=/v1/chat/completions t=53712.9012
INFO 10-14 18:30:48 [worker.py:12] [weights][54127134d8134dbd] rpc.start op=update_weights t=53712.9
INFO 10-14 18:30:49 [worker.py:12] [weights][54127134d8134dbd] rpc.done op=update_weights t=53713.3 rpc_ms=400.1
(APIServer pid=4242) INFO 10-14 18:30:49 [worker.py:12] [weights][00000000000000ab] rpc.done op=reload_weights t=1.5 rpc_ms=2.5
[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4
2025-10-14 18:31:02.123 | INFO     | orchestrator:run:88 - [ckpt] wait.start target_step=42
2025-10-14 18:31:03 WARNING root: [ckpt] wait.done target_step=42 wait_ms=1200.5
12:00:00 SUCCESS [gen] batch.start inflight=64 target_batch=256
12:00:05 SUCCESS [gen] batch.done dur_ms=5012.2 inflight=61 completions=256
progress 10%|#   |\r12:00:06    INFO [rollout] current_step=12 trunc_pct=3.5 staleness=1 ckpt_step=11
{"timestamp": "2025-10-14T18:30:47.123+00:00", "level": "INFO", "message": "[weights][54127134d8134dbd] client.done wall_ms=1 rpc_ms=1 queue_ms=0"}
{"record": {"message": "[gen] batch.done dur_ms=12"}, "text": "x"}
[weights][0000000000000001] client.done wall_ms=10 rpc_ms=5 queue_ms=
[weights][0000000000000002] client.done wall_ms=10 rpc_ms=5 queue_ms=1e999 queue_ms=2
[weights][00000000000000003] client.done wall_ms=-0 rpc_ms=nan queue_ms=inf
11:22:20    INFO \xff[weights][bae4d097d7704bc7] client.done wall_ms=433.5 rpc_ms=1.0 queue_ms=2.0
\e[2m18:30:47\e[0m \e[1m   INFO\e[0m \e[1m\e[22m\e[weights][54127134d8134dbd] client.done wall_ms=1 rpc_ms=1 queue_ms=1
\xef\xbb\xbf2025-10-14 18:31:02.123 | INFO     | orchestrator:run:88 - \e[1[ckpt] wait.start target_step=42
EOF
)
samples=${samples//\\r/$'\r'}
samples=${samples//\\e/$'\e'}
samples=${samples//\\xff/$'\xff'}
samples=${samples//\\xef\\xbb\\xbf/$'\xef\xbb\xbf'}

seed_lines() {  # $1 = dir: one seed per tagged line (built-in and from testdata)
  local dir=$1 i=0 line
  mkdir -p "$dir"
  while IFS= read -r line; do
    printf '%s' "$line" >"$dir/builtin_$((i++))"
  done <<<"$samples"
  if ((${#text_files[@]})); then
    grep -h -a -E '\[(weights|ckpt|gen|rollout)\]' "${text_files[@]}" 2>/dev/null | head -n 400 |
      while IFS= read -r line; do printf '%s' "$line" >"$dir/td_$((i++))"; done || true
  fi
}

seed_logs() {  # $1 = dir, $2 = prefix byte(s) in printf form: whole small logs
  local dir=$1 prefix=$2 n=0 f
  mkdir -p "$dir"
  { printf "$prefix"; printf '%s\n' "$samples"; } >"$dir/builtin_log"
  for f in "${text_files[@]}"; do
    { printf "$prefix"; head -c 16384 "$f"; } >"$dir/td_$((n++))"
  done
}

corpus() { echo "$work/corpus/$1"; }
for t in "${targets[@]}"; do
  c=$(corpus "$t")
  mkdir -p "$c"
  case $t in
    fuzz_parse_segment|fuzz_text) seed_lines "$c" ;;
    fuzz_scan) seed_logs "$c" '\x05' ;;
    fuzz_thresholds)
      printf '{"weights.queue_ms.critical": 500}' >"$c/flat.json"
      printf '{"weights.queue_ms": {"warning": 50, "critical": 500}, "critical_share": 0.25}' >"$c/nested.json"
      printf '{"weights.queue_ms": {"critical": "high"}}' >"$c/bad.json"
      find testdata -type f -name '*.json' -size -64k 2>/dev/null | head -n 50 |
        while read -r f; do cp "$f" "$c/td_$(basename "$f")"; done
      ;;
    fuzz_decompress)
      # mode 2 (plain), mode 3/4 (compressed then damaged) over the sample log; raw .gz/.zst files.
      for m in '\x02' '\x03' '\x04'; do
        { printf "$m"'\x10\x00\x00\x00\x00'; printf '%s\n' "$samples"; } >"$c/mode_${m:2}"
      done
      { printf '\x03\x07\x20\x01\x00\x00'; printf '%s\n' "$samples"; } >"$c/gz_truncated"
      { printf '\x04\x07\x00\x00\x30\x00'; printf '%s\n' "$samples"; } >"$c/zst_flipped"
      find testdata -type f \( -name '*.gz' -o -name '*.zst' \) -size -256k 2>/dev/null | head -n 20 |
        while read -r f; do { printf '\x02\x40\x00\x00\x00\x00'; cat "$f"; } >"$c/td_$(basename "$f")"; done
      ;;
    fuzz_srtctl)
      n=0
      while IFS= read -r f; do
        case $(basename "$f") in
          benchmark.out) b='\x00' ;;
          log.out) b='\x01' ;;
          *.json) b='\x02' ;;
          benchmark.err) b='\x05' ;;
          log.err) b='\x06' ;;
          *.out|*.err|*.log) b='\x03' ;;
          *) continue ;;
        esac
        { printf "$b"; head -c 32768 "$f"; } >"$c/td_$((n++))"
      done < <(find testdata -path '*srtctl*' -type f 2>/dev/null | sort)
      printf '\x00Polling http://h:8000/health every 10 seconds\nModel is ready.\n' >"$c/builtin_bench"
      ;;
    fuzz_ray) seed_logs "$c" '\x00' ;;
    fuzz_pickle)
      # Byte 0 even: a Flight Recorder pickle (the testdata dumps, whole or cut); odd: its JSON form.
      n=0
      while IFS= read -r f; do
        { printf '\x00'; cat "$f"; } >"$c/td_$((n++))"
        { printf '\x00'; head -c 300 "$f"; } >"$c/td_cut_$((n++))"
      done < <(find testdata/hangs -type f -name 'nccl_trace_rank_*' 2>/dev/null | sort | head -n 8)
      while IFS= read -r f; do
        { printf '\x01'; cat "$f"; } >"$c/td_$((n++))"
      done < <(find testdata/hangs -type f -name 'rank_*.json' 2>/dev/null | sort | head -n 4)
      printf '\x00\x80\x02cos\nsystem\n(X\x02\x00\x00\x00lstR.' >"$c/builtin_global"
      ;;
    fuzz_compare)
      # Byte 0: options (baseline, gate, --expect); then one report.json, or two separated by 0x1E.
      mapfile -t reports < <(find testdata/golden -name report.json -size -256k 2>/dev/null | sort
                             find testdata/compare -type f -size -256k 2>/dev/null | sort)
      n=0
      for f in "${reports[@]}"; do
        for o in '\x00' '\x0b' '\x1e'; do
          { printf "$o"; cat "$f"; } >"$c/td_$((n++))"
        done
      done
      for ((k = 1; k < ${#reports[@]}; k++)); do
        { printf '\x0a'; cat "${reports[0]}"; printf '\x1e'; cat "${reports[$k]}"; } >"$c/pair_$k"
      done
      printf '\x00{"schema": 1, "metrics": {}}\x1e{"schema": 1, "metrics": {"weights.queue_ms": {"count": 1}}, "inputs": [{"path": 1}]}' >"$c/builtin_min"
      ;;
    fuzz_expect)
      n=0
      for x in 'weights.queue_ms.p99<300' 'weights.queue_ms.p99 <= 3e2' 'gen.dur_ms.count>=1' \
               'rollout.staleness.mean!=-0.5' 'gen.inflight.max==1e308' 'ckpt.wait_ms.count==0' \
               'a.b.c.mean!=-0.5' 'weights.queue.p99<300' 'weights.queue_ms.p99=300' 'p99<1' '.p99<1'; do
        printf '%s' "$x" >"$c/builtin_$((n++))"
      done
      printf 'weights.queue_ms.p99<300\x1e{"metrics": {"weights.queue_ms": {"p99": 12.5, "count": 3}}}' >"$c/builtin_doc"
      for f in testdata/compare/*.json; do  # small report.json documents (max_len is 8 KiB)
        [ -f "$f" ] && { printf 'weights.wall_ms.mean>1\x1e'; cat "$f"; } >"$c/td_$(basename "$f")"
      done
      ;;
    *) seed_logs "$c" '' ;;
  esac
done

# ---- replay saved regressions, then fuzz --------------------------------------------------
status=0
for t in "${targets[@]}"; do
  reg=testdata/fuzz/$t
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    if ! "$build/fuzz/$t" -runs=1 "$reg"/* >"$work/$t.replay.log" 2>&1; then
      echo "FAIL $t: a saved regression input crashes again (testdata/fuzz/$t)"
      tail -n 30 "$work/$t.replay.log"
      status=1
    fi
  fi
done

max_len() {
  case $1 in
    fuzz_scan|fuzz_srtctl|fuzz_ray|fuzz_pickle) echo 65536 ;;
    fuzz_decompress) echo 16384 ;;  # decoder states, not sizes: small inputs run many times faster
    fuzz_compare) echo 131072 ;;  # two whole report.json documents (the goldens are ~50 KB)
    *) echo 8192 ;;
  esac
}

echo "== fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time"
run_one() {
  local t=$1 art="$root/$build/artifacts/$1/"
  mkdir -p "$art"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$root/$build/fuzz/$t" "$(corpus "$t")" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 \
    -rss_limit_mb=2560 -artifact_prefix="$art" -print_final_stats=1 >"$work/$t.log" 2>&1
}
pids=()
names=()
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do sleep 1; done
  run_one "$t" &
  pids+=($!)
  names+=("$t")
done
for i in "${!pids[@]}"; do
  t=${names[$i]}
  if wait "${pids[$i]}"; then
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work/$t.log" | grep -Eo '[0-9]+$' || echo '?')
    cov=$(grep -Eo 'cov: [0-9]+' "$work/$t.log" | tail -n 1 || true)
    echo "ok   $t: $runs inputs, $cov, no crash"
  else
    echo "FAIL $t: the fuzzer found a problem; input saved in $build/artifacts/$t/"
    grep -E 'ERROR|invariant|SUMMARY|Test unit written|runtime error' "$work/$t.log" | head -n 20 || true
    tail -n 40 "$work/$t.log"
    status=1
  fi
done
exit $status
