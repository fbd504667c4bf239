#!/usr/bin/env bash
# Every mermaid chart SUMMARY.md carries is drawn by mermaid itself: mermaid-cli (mmdc, with the
# system's chromium) renders each chart of the srtctl sweep (frontier, TPOT and TTFT curves) and of
# prime-rl runs (the step budget, the queue and update charts) to SVG. A chart mermaid cannot
# parse makes mmdc exit non-zero; each SVG must carry its chart's title and axis.
# tests/install-deps.sh --test installs mermaid-cli into $ALOG_NODE_DIR (by default
# ~/.cache/analyze-logs/node); without it this test fails, it never passes silently.
# Usage: test_mermaid.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=$(realpath "${1:?usage: test_mermaid.sh BINARY SOURCE_DIR}")
src=$(realpath "${2:?usage: test_mermaid.sh BINARY SOURCE_DIR}")
node_dir=${ALOG_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/analyze-logs/node}
fail() {
  echo "FAIL: $*"
  exit 1
}
command -v node >/dev/null || fail "node is not installed (bash tests/install-deps.sh --test installs it)"
mmdc=$node_dir/node_modules/.bin/mmdc
[[ -x $mmdc ]] || fail "mermaid-cli is not in $node_dir (bash tests/install-deps.sh --test installs it)"
chromium=$(command -v chromium || command -v chromium-browser || true)
[[ -n $chromium ]] || fail "chromium is not installed (bash tests/install-deps.sh --test installs it)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"executablePath": "%s", "args": ["--no-sandbox", "--headless=new"]}\n' "$chromium" >"$tmp/puppeteer.json"

total=0
for input in srtctl/sweep runs/prefix steps; do
  name=${input//\//_}
  "$bin" -q --format md --no-folder "$src/testdata/$input" >"$tmp/$name.md" 2>/dev/null || true
  n=$(grep -c '^```mermaid' "$tmp/$name.md" || true)
  (( n > 0 )) || fail "$input: SUMMARY.md has no mermaid chart"
  mkdir "$tmp/$name"
  # Each chart on its own, to check its SVG against it.
  python3 - "$tmp/$name.md" "$tmp/$name" <<'PYEOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for i, body in enumerate(re.findall(r"^```mermaid\n(.*?)^```", text, re.S | re.M), 1):
    open(f"{sys.argv[2]}/chart{i}.mmd", "w", encoding="utf-8").write(body)
PYEOF
  # All of a SUMMARY.md's charts in one browser session; the SVGs come out as out-1.svg, ....
  timeout 300 "$mmdc" -q -p "$tmp/puppeteer.json" -i "$tmp/$name.md" -o "$tmp/$name/out.md" >"$tmp/$name.log" 2>&1 ||
    fail "$input: mermaid cannot draw a chart of SUMMARY.md: $(grep -m3 -i 'error' "$tmp/$name.log")"
  for chart in "$tmp/$name"/chart*.mmd; do
    i=${chart##*/chart}
    i=${i%.mmd}
    svg=$tmp/$name/out-$i.svg
    [[ -s $svg ]] || fail "$input: chart $i was not drawn"
    python3 - "$chart" "$svg" <<'PYEOF' || fail "$input: chart $i drew without its title or axis"
import html, re, sys
chart = open(sys.argv[1], encoding="utf-8").read()
svg = html.unescape(open(sys.argv[2], encoding="utf-8").read())
assert "<svg" in svg and "Syntax error" not in svg, "not a chart"
for title in re.findall(r'^\s*title\s+"?([^"\n]+)"?', chart, re.M):
    assert title.strip() in svg, ("title", title)
for axis in re.findall(r'^\s*[xy]-axis\s+"([^"]+)"', chart, re.M):
    assert axis in svg, ("axis", axis)
PYEOF
    total=$((total + 1))
  done
done
echo "ok: mermaid draws all $total charts of SUMMARY.md (srtctl sweep, prime-rl run, step budget)"
