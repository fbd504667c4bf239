#!/usr/bin/env bash
# report.html in a real browser: headless Chromium (Debian's `chromium` package) loads the page
# that the binary writes for a sample run (then an srtctl job, a Ray run and a mixed folder), and
# the test fails on any console message or a blank
# screenshot. Then the charts' threshold labels are measured in the browser (step 5).
#
# The page has no scripts, so every console message is a failure: a Content-Security-Policy
# violation (something tried to fetch), a resource that failed to load, or a parse error. To be
# sure such messages would be seen at all, a canary page that logs an error and breaks the CSP is
# loaded first; if its messages do not show up in Chromium's log, the test fails rather than
# passing blind.
#
# Usage: test_html_chromium.sh BINARY SOURCE_DIR   (as ctest runs it)
#   CHROMIUM=/path/to/chromium     another browser binary (default /usr/bin/chromium)
#   ALOG_HTML_RUN=DIR              the run folder to report on (default testdata/runs/prefix)
#   ALOG_SCREENSHOT_OUT=FILE       also copy the screenshot there (how docs/img/report-html.png is
#                                  refreshed: ALOG_SCREENSHOT_OUT=docs/img/report-html.png)
set -euo pipefail

bin=${1:?usage: test_html_chromium.sh BINARY SOURCE_DIR}
src=${2:?usage: test_html_chromium.sh BINARY SOURCE_DIR}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]]; then
  echo "SKIP: chromium not installed"
  exit 0
fi
run=${ALOG_HTML_RUN:-$src/testdata/runs/prefix}
[[ -d $run ]] || { echo "FAIL: sample run $run not found"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*"
  exit 1
}

# shoot PAGE PNG LOG WIDTH,HEIGHT: one headless load with a fresh profile, its log kept.
shoot() {
  local profile
  profile=$(mktemp -d "$tmp/profile.XXXXXX")
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --run-all-compositor-stages-before-draw --virtual-time-budget=5000 --hide-scrollbars \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 \
    --screenshot="$2" --window-size="$4" "file://$1" >"$3" 2>&1 || fail "chromium exited with $? on $1 (log: $(tail -5 "$3"))"
}
console_lines() { grep -E ':CONSOLE[:(]' "$1" || true; }

# 1. The canary: its console error and its CSP violation must be visible in the log.
cat >"$tmp/canary.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
<title>canary</title></head><body><p>canary</p>
<script>console.error("alog-canary-error");</script><img src="file:///alog-canary.png" alt=""></body></html>
EOF
shoot "$tmp/canary.html" "$tmp/canary.png" "$tmp/canary.log" 400,300
console_lines "$tmp/canary.log" | grep -q 'alog-canary-error' ||
  fail "this Chromium's log does not show console messages (pattern ':CONSOLE'); cannot check report.html"
console_lines "$tmp/canary.log" | grep -q 'Content Security Policy' ||
  fail "this Chromium's log does not show CSP violations; cannot check report.html"

# 2. The report of the sample run.
out=$("$bin" -q --color never -o "$tmp" "$run") || fail "analyze-logs exited with $? on $run"
dir=$(tail -n 1 <<<"$out")
html=$dir/report.html
[[ -f $html ]] || fail "no report.html in $dir (analyze-logs must write it beside SUMMARY.md)"
! grep -Eqi '<script|<link|<iframe|<img|src=|@import|url\(' "$html" || fail "$html refers to something outside itself"

png=$tmp/report.png
shoot "$html" "$png" "$tmp/report.log" 1200,1600
if [[ -n $(console_lines "$tmp/report.log") ]]; then
  console_lines "$tmp/report.log"
  fail "console messages while loading report.html"
fi

# The PNG decoder both screenshot checks use (stdlib only): rows of an 8-bit RGB/RGBA PNG.
cat >"$tmp/pngrows.py" <<'EOF'
import struct, sys, zlib

def rows(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev = zlib.decompress(idat), w * bpp, bytearray(w * bpp)
    for y in range(h):
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1: row[i] = (row[i] + a) & 255
            elif f == 2: row[i] = (row[i] + b) & 255
            elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        yield w, bpp, bytes(row)
        prev = row

EOF

# 3. The screenshot exists and shows the charts: many colours, and the chart line's blue.
[[ -s $png ]] || fail "no screenshot"
size=$(stat -c %s "$png")
if command -v python3 >/dev/null; then
  python3 - "$png" "$tmp" <<'EOF' || fail "the screenshot looks blank or shows no chart"
import sys
sys.path.insert(0, sys.argv[2])
from pngrows import rows
colours, line = set(), 0
for w, bpp, row in rows(sys.argv[1]):
    for x in range(0, w * bpp, bpp):
        r, g, b = row[x:x + 3]
        colours.add((r, g, b))
        if abs(r - 0x25) < 30 and abs(g - 0x63) < 30 and abs(b - 0xEB) < 30:  # the data line, #2563eb
            line += 1
print(f"screenshot: {len(colours)} colours, {line} chart-line pixels")
sys.exit(0 if len(colours) > 16 and line > 500 else 1)
EOF
else
  # Without python3: a blank 1200x1600 page compresses to a few KB, a page of charts to 100+ KB.
  ((size > 40000)) || fail "the screenshot is only $size bytes: blank?"
fi
if [[ -n ${ALOG_SCREENSHOT_OUT:-} ]]; then cp "$png" "$ALOG_SCREENSHOT_OUT"; fi

# 4. Every kind's page through the shared writers: an srtctl job that failed, a Ray run that
# failed (as collected from its nodes), and a folder holding both a prime-rl run and an srtctl
# job. Each loads without console messages, refers to nothing outside itself, and shows its
# verdict: the failed verdict's red is on the screen.
for other in "$src/testdata/srtctl/logs/4460_2P_1D_20251122_061502" "$src/testdata/discover/ray_collected" \
  "$src/testdata/discover/mixed"; do
  name=$(basename "$other")
  o=$("$bin" -q --color never -o "$tmp" "$other") || fail "analyze-logs exited with $? on $other"
  page=$(tail -n 1 <<<"$o")/report.html
  [[ -f $page ]] || fail "no report.html for $other"
  ! grep -Eqi '<script|<link|<iframe|<img|src=|@import|url\(' "$page" || fail "$page refers to something outside itself"
  grep -q 'Verdict: failed' "$page" || fail "$page does not show the failed verdict"
  shoot "$page" "$tmp/$name.png" "$tmp/$name.log" 1200,1600
  if [[ -n $(console_lines "$tmp/$name.log") ]]; then
    console_lines "$tmp/$name.log"
    fail "console messages while loading the report.html of $other"
  fi
  if command -v python3 >/dev/null; then
    python3 - "$tmp/$name.png" "$tmp" <<'PY' || fail "the screenshot of $other looks blank or shows no failed verdict"
import sys
sys.path.insert(0, sys.argv[2])
from pngrows import rows
ink = red = 0
for w, bpp, row in rows(sys.argv[1]):
    for x in range(0, w * bpp, bpp):
        r, g, bl = row[x:x + 3]
        if r + g + bl < 600: ink += 1
        if r > 150 and g < 90 and bl < 90: red += 1
print(f"{sys.argv[1]}: {ink} ink pixels, {red} red")
sys.exit(0 if ink > 20000 and red > 50 else 1)
PY
  fi
  echo "ok   report.html of $other"
done
# 5. The charts' threshold labels, measured by the browser: each label's box (getBBox, with the
# fonts this machine really has) must lie outside the plot area, over no data point and no other
# threshold's label, inside the picture, at a font size no smaller than the axis labels'. On the
# charts of three runs at once: the sample run (queue delays of 40 s dwarf thresholds of 100 ms and
# 1 s), the healthy one (most thresholds far above the data: named at the top, "off chart"), and the
# sample run again with long thresholds far above some data and far below others. report.html has
# no scripts and forbids them, so the charts are copied into a harness page with a script that
# writes its verdict into the DOM, which --dump-dom prints.
healthy_out=$("$bin" -q --color never -o "$tmp/healthy" "$src/testdata/runs/healthy") || fail "analyze-logs exited with $? on runs/healthy"
cat >"$tmp/thresholds.json" <<'EOF'
{"weights.rpc_ms": {"warning": 250000, "critical": 1500000}, "gen.dur_ms": {"warning": 1.5, "critical": 2.5}}
EOF
long_out=$("$bin" -q --color never -o "$tmp/long" --thresholds "$tmp/thresholds.json" "$run") || fail "analyze-logs exited with $? on $run with $tmp/thresholds.json"
harness=$tmp/geometry.html
{
  sed -n '1,/<main>/p' "$html" | grep -v 'Content-Security-Policy'
  for page in "$html" "$(tail -n 1 <<<"$healthy_out")/report.html" "$(tail -n 1 <<<"$long_out")/report.html"; do
    # The charts section: from its heading to the next one.
    awk '/<h2>Charts<\/h2>/ { p = 1; print; next } p && /<h2>/ { p = 0 } p' "$page"
  done
  cat <<'EOF'
<script>
(function () {
  const res = { charts: 0, labels: 0, offchart: 0, failures: [] };
  const fail = (k, msg) => res.failures.push(`chart ${k}: ${msg}`);
  const meets = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  const box = (b) => `[${b.x.toFixed(1)},${b.y.toFixed(1)} ${b.width.toFixed(1)}x${b.height.toFixed(1)}]`;
  document.querySelectorAll('svg').forEach((svg, k) => {
    if (!svg.querySelector('polyline.data')) return;  // not a metric chart (the step budget's bars)
    const plotRect = svg.querySelector('rect.plot');
    if (!plotRect) return fail(k, 'no rect.plot');
    res.charts++;
    const vb = svg.viewBox.baseVal, plot = plotRect.getBBox();
    const marks = [...svg.querySelectorAll('g.marks circle')].map((c) => c.getBBox());
    for (const p of svg.querySelector('polyline.data').points) marks.push({ x: p.x - 0.8, y: p.y - 0.8, width: 1.6, height: 1.6 });
    let axisFont = 0;
    svg.querySelectorAll('text').forEach((t) => {
      if (!t.closest('g.thr')) axisFont = Math.max(axisFont, parseFloat(getComputedStyle(t).fontSize));
    });
    const others = [];
    svg.querySelectorAll('g.thr').forEach((g) => {
      res.labels++;
      const mine = [];
      g.querySelectorAll('text').forEach((t) => {
        const b = t.getBBox(), font = parseFloat(getComputedStyle(t).fontSize), s = t.textContent;
        if (s === 'off chart') res.offchart++;
        if (!(font >= axisFont)) fail(k, `"${s}" at ${font}px, smaller than the axis labels' ${axisFont}px`);
        if (meets(b, plot)) fail(k, `"${s}" ${box(b)} over the plot area ${box(plot)}`);
        const d = marks.find((m) => meets(b, m));
        if (d) fail(k, `"${s}" ${box(b)} over a data point ${box(d)}`);
        const o = others.find((m) => meets(b, m));
        if (o) fail(k, `"${s}" ${box(b)} over another threshold's label ${box(o)}`);
        if (b.x < 0 || b.y < 0 || b.x + b.width > vb.width + 0.5 || b.y + b.height > vb.height + 0.5)
          fail(k, `"${s}" ${box(b)} leaves the picture (${vb.width}x${vb.height})`);
        mine.push(b);
      });
      others.push(...mine);
    });
  });
  const pre = document.createElement('pre');
  pre.textContent = 'ALOG-' + 'GEOMETRY ' + JSON.stringify(res);
  document.body.appendChild(pre);
})();
</script>
</main></body></html>
EOF
} >"$harness"
profile=$(mktemp -d "$tmp/profile.XXXXXX")
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
  --virtual-time-budget=5000 --user-data-dir="$profile" --dump-dom "file://$harness" >"$tmp/geometry.dom" 2>"$tmp/geometry.log" ||
  fail "chromium exited with $? on the geometry harness (log: $(tail -5 "$tmp/geometry.log"))"
verdict=$(grep -o 'ALOG-GEOMETRY {.*}' "$tmp/geometry.dom" | head -n 1 || true)
[[ -n $verdict ]] || fail "the geometry harness wrote no verdict (script not run?)"
grep -q '"failures":\[\]' <<<"$verdict" || fail "threshold labels badly placed: $verdict"
charts=$(grep -o '"charts":[0-9]*' <<<"$verdict" | cut -d: -f2)
labels=$(grep -o '"labels":[0-9]*' <<<"$verdict" | cut -d: -f2)
offchart=$(grep -o '"offchart":[0-9]*' <<<"$verdict" | cut -d: -f2)
# Six charts per run (queue, rpc, batches, ckpt wait and write, truncation), two labels each;
# thresholds off chart in the healthy run and with the long thresholds.
((charts >= 18 && labels == 2 * charts && offchart >= 4)) || fail "the geometry harness measured too little: $verdict"
echo "ok   threshold labels of $charts charts measured in the browser: $verdict"
echo "PASS: report.html loaded in $("$chromium" --version 2>/dev/null | head -n 1) without console messages; screenshot $size bytes"
