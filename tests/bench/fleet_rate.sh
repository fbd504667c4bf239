#!/usr/bin/env bash
# The fleet view's speed (issue 19: 1,000 job folders in under 10 s on 2 cores): generates N srtctl
# job folders with tests/e2e/gen_fleet.py (each a copy of a bundled 100 KB job on its own nodes) and
# times the analysis with the report folder written, and with --no-folder, at -j1 and -j$(nproc);
# then with --cache at -j$(nproc): the first run (entries written) and three second runs (the issue's
# bar: under 1 s), the report folder written and removed after each run.
# Usage: fleet_rate.sh BINARY [N=1000] [DIR=build/bench-data/fleet]
set -euo pipefail
bin=$(realpath "${1:?usage: fleet_rate.sh BINARY [N] [DIR]}")
n=${2:-1000}
dir=${3:-build/bench-data/fleet}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [[ ! -f $dir/jobs.manifest.json ]] || [[ $(ls "$dir/jobs" | wc -l) != "$n" ]]; then
  rm -rf "$dir"
  python3 "$src/tests/e2e/gen_fleet.py" "$src" "$dir/jobs" "$n" 1 node07 0.1
fi
echo "$(du -sh "$dir/jobs" | cut -f1) in $n job folders ($(find "$dir/jobs" -type f | wc -l) files)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for j in 1 "$(nproc)"; do
  /usr/bin/time -f "-j$j --no-folder: %e s wall, %U s user, %S s sys, %M KB max RSS" "$bin" -q -j"$j" --no-folder --json "$dir/jobs" >/dev/null
  /usr/bin/time -f "-j$j with the folder: %e s wall, %U s user, %S s sys, %M KB max RSS" "$bin" -q -j"$j" -o "$out" "$dir/jobs" >/dev/null
done
cache="$out/cache"
/usr/bin/time -f "--cache, first run (entries written), with the folder: %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$bin" -q -j"$(nproc)" --cache "$cache" -o "$out/r" "$dir/jobs" >/dev/null
rm -rf "$out/r"
echo "$(du -sh "$cache" | cut -f1) of cache entries"
for i in 1 2 3; do
  /usr/bin/time -f "--cache, second run, with the folder: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$bin" -q -j"$(nproc)" --cache "$cache" -o "$out/r" "$dir/jobs" >/dev/null
  rm -rf "$out/r"
done
for i in 1 2 3; do
  /usr/bin/time -f "--cache, second run, --no-folder: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$bin" -q -j"$(nproc)" --cache "$cache" --no-folder "$dir/jobs" >/dev/null
done
