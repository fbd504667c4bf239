#!/usr/bin/env bash
# The wheel, as a user without our build dependencies gets it, offline (docs/WHEEL.md):
#  - build it with the in-tree PEP 517 backend (python3 -m build --wheel --no-isolation src/wheel:
#    no registry), and with pip's in-tree build (pip install --no-index ./src/wheel);
#  - install it with `pip install --no-index` into a fresh virtual environment, and with Debian's
#    pipx (--pip-args=--no-index) when it is installed;
#  - show with ldd that the installed binary needs nothing beyond glibc (libc, libm, the loader),
#    that the wheel's tag (file name and WHEEL) is manylinux_2_N for the newest GLIBC_2.N symbol
#    version it references (readelf -V);
#  - run it with an empty environment on testdata of three kinds (prime-rl, srtctl, Ray): its
#    --json report is the project binary's, byte for byte;
#  - the man page and the bash, zsh and fish completions are installed under the venv's share/;
#  - the backend refuses build folders it must not pack, and binaries that need more than glibc.
#
# Usage: test_wheel.sh BINARY SOURCE_DIR   (as ctest runs it, with ALOG_WHEEL_BUILD_DIR set to
# BINARY's build folder). The backend packs that folder's analyze-logs (a no-op build when it is
# up to date); it must be a Release build with -DALOG_STATIC_DEPS=ON (tests/run.sh's build-ci),
# elsewhere the test is skipped (exit 77). ALOG_WHEEL_BUILD_DIR= (empty) builds from scratch in
# src/wheel/build, as `pip install ./src/wheel` does (minutes on two cores).
set -euo pipefail
bin=${1:?usage: test_wheel.sh BINARY SOURCE_DIR}
src=$(cd "${2:?usage: test_wheel.sh BINARY SOURCE_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
py=/usr/bin/python3 # Debian's, with python3-build and python3-venv
$py -c 'import build' 2>/dev/null || fail "python3-build is not installed (bash tests/install-deps.sh --test)"
$py -c 'import venv, ensurepip' 2>/dev/null || fail "python3-venv is not installed (bash tests/install-deps.sh --test)"
command -v readelf >/dev/null || fail "readelf is not installed (binutils)"
export PYTHONDONTWRITEBYTECODE=1 # nothing left in src/wheel by importing the backend

build_dir=${ALOG_WHEEL_BUILD_DIR-}
if [[ -n $build_dir ]]; then
  cache=$build_dir/CMakeCache.txt
  [[ -f $cache ]] || fail "ALOG_WHEEL_BUILD_DIR=$build_dir has no CMakeCache.txt"
  if ! grep -qx 'ALOG_STATIC_DEPS:BOOL=ON' "$cache" || ! grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' "$cache"; then
    echo "SKIP: $build_dir is not a Release build with -DALOG_STATIC_DEPS=ON (tests/run.sh's build-ci is)"
    exit 77
  fi
fi

# The backend refuses what it must not pack, before building anything: each with its reason.
refuse() { # refuse NAME EXPECTED-MESSAGE CMAKECACHE-LINES...
  local name=$1 want=$2 d=$tmp/refuse/$1
  shift 2
  mkdir -p "$d"
  if (($#)); then printf '%s\n' "$@" >"$d/CMakeCache.txt"; fi
  if (cd "$src" && ALOG_WHEEL_BUILD_DIR=$d $py -m build --wheel --no-isolation --outdir "$tmp/refuse/dist" src/wheel) \
    >"$d.log" 2>&1; then
    fail "the backend packed the build folder '$name'"
  fi
  grep -qF -- "$want" "$d.log" || { tail -5 "$d.log"; fail "no '$want' for the build folder '$name'"; }
}
home="CMAKE_HOME_DIRECTORY:INTERNAL=$src"
refuse no-cache "is not a CMake build folder (no CMakeCache.txt)"
refuse other-source "was configured from '/elsewhere'" "CMAKE_HOME_DIRECTORY:INTERNAL=/elsewhere" \
  "CMAKE_BUILD_TYPE:STRING=Release" "ALOG_STATIC_DEPS:BOOL=ON"
refuse debug "is a 'Debug' build: the wheel ships a Release build" "$home" "CMAKE_BUILD_TYPE:STRING=Debug" \
  "ALOG_STATIC_DEPS:BOOL=ON"
refuse dynamic "is not configured with -DALOG_STATIC_DEPS=ON" "$home" "CMAKE_BUILD_TYPE:STRING=Release" \
  "ALOG_STATIC_DEPS:BOOL=OFF"
refuse sanitizer "is a sanitizer build" "$home" "CMAKE_BUILD_TYPE:STRING=Release" "ALOG_STATIC_DEPS:BOOL=ON" \
  "ALOG_SANITIZE:BOOL=ON"
# The same through the config settings (-C), which python3 -m build and pip pass to the backend.
(cd "$src" && ALOG_WHEEL_BUILD_DIR= $py -m build --wheel --no-isolation -C build-dir="$tmp/refuse/no-cache" \
  --outdir "$tmp/refuse/dist" src/wheel) >"$tmp/refuse/config.log" 2>&1 && fail "-C build-dir=<no build folder> packed"
grep -qF "is not a CMake build folder (no CMakeCache.txt)" "$tmp/refuse/config.log" || fail "-C build-dir: no reason given"
(cd "$src" && $py -m build --wheel --no-isolation -C jobs=abc --outdir "$tmp/refuse/dist" src/wheel) \
  >"$tmp/refuse/jobs.log" 2>&1 && fail "-C jobs=abc accepted"
grep -qF "jobs=abc: expected a positive integer" "$tmp/refuse/jobs.log" || fail "-C jobs=abc: no reason given"
[[ ! -e $tmp/refuse/dist ]] || [[ -z $(ls -A "$tmp/refuse/dist") ]] || fail "a refused build left a wheel"
# ... and binaries that need more than glibc, or no tag covers.
(cd "$src/src/wheel" && $py - <<'EOF') || fail "the backend's binary checks"
import alog_build_backend as b
cases = {
    "/usr/bin/cmake": "needs libraries beyond glibc: ",   # libstdc++, libcurl, ...
    "/lib/x86_64-linux-gnu/libm.so.6": "GLIBC_PRIVATE",   # tied to one glibc build
    "/sbin/ldconfig": "no GLIBC_2.N symbol version",      # static
}
import os
for path, want in cases.items():
    if not os.path.exists(path):
        continue
    try:
        print("FAIL: tagged", path, b.platform_tag(path))
        raise SystemExit(1)
    except b.BackendError as e:
        if want not in str(e):
            print("FAIL:", path, e)
            raise SystemExit(1)
EOF

# README shows the install lines and how to build the wheel; docs/WHEEL.md's cibuildwheel
# configuration is the one in src/wheel/pyproject.toml.
for line in 'pip install analyze-logs' 'uv tool install analyze-logs' 'pipx install analyze-logs' \
  'python3 -m build --wheel --no-isolation src/wheel'; do
  grep -qF -- "$line" "$src/README.md" || fail "README.md lacks '$line'"
done
$py - "$src/docs/WHEEL.md" "$src/src/wheel/pyproject.toml" <<'EOF' || fail "docs/WHEEL.md's [tool.cibuildwheel] is not src/wheel/pyproject.toml's"
import re, sys, tomllib
doc = open(sys.argv[1], encoding="utf-8").read()
blocks = [b for b in re.findall(r"```toml\n(.*?)```", doc, re.S) if "[tool.cibuildwheel]" in b]
assert len(blocks) == 1, "one [tool.cibuildwheel] block expected in docs/WHEEL.md"
doc_cfg = tomllib.loads(blocks[0])["tool"]["cibuildwheel"]
cfg = tomllib.load(open(sys.argv[2], "rb"))["tool"]["cibuildwheel"]
assert doc_cfg == cfg, (doc_cfg, cfg)
EOF

# What git sees in src/wheel before the builds: they must add nothing to it (.gitignore).
untracked() { git -C "$src" status --porcelain --untracked-files=all -- src/wheel 2>/dev/null || true; }
before=$(untracked)

# Build the wheel (reusing the build folder: seconds; from scratch: a full build of the tool).
start=$SECONDS
(cd "$src" && $py -m build --wheel --no-isolation --outdir "$tmp/dist" src/wheel) >"$tmp/build.log" 2>&1 ||
  { tail -40 "$tmp/build.log"; fail "python3 -m build --wheel --no-isolation src/wheel"; }
whl=$(ls "$tmp"/dist/analyze_logs-*.whl)
echo "built $(basename "$whl") ($(stat -c %s "$whl") bytes) in $((SECONDS - start)) s"
[[ $(untracked) == "$before" ]] || fail "building the wheel left files in src/wheel that git sees: $(untracked)"

# The tag: manylinux_2_N_<arch>, N the newest GLIBC_2.N the packed binary references, in the file
# name and in WHEEL; the binary is the project's build (stripped).
$py - "$whl" "$tmp/unpacked" <<'EOF' || fail "reading the wheel"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(sys.argv[2])
EOF
packed=$(ls "$tmp"/unpacked/analyze_logs-*.data/scripts/analyze-logs)
newest=$(readelf -V "$packed" | grep -oE 'Name: GLIBC_2\.[0-9]+' | sed 's/Name: GLIBC_2\.//' | sort -n | tail -n1)
[[ -n $newest ]] || fail "the packed binary references no GLIBC_2.N"
tag="py3-none-manylinux_2_${newest}_$(uname -m)"
[[ $(basename "$whl") == analyze_logs-*-"$tag".whl ]] || fail "$(basename "$whl") is not tagged $tag"
grep -qx "Tag: $tag" "$tmp"/unpacked/analyze_logs-*.dist-info/WHEEL || fail "WHEEL lacks Tag: $tag: $(cat "$tmp"/unpacked/*.dist-info/WHEEL)"
echo "tag $tag (newest glibc symbol version GLIBC_2.$newest)"

# Install offline into a fresh environment.
$py -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --no-index --no-cache-dir "$whl" >"$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; fail "pip install --no-index"; }
installed=$tmp/venv/bin/analyze-logs
[[ -x $installed ]] || fail "the wheel put no executable analyze-logs in the environment's bin/"
cmp -s "$installed" "$packed" || fail "the installed binary is not the packed one"
run() { env -i PATH="$tmp/venv/bin:/usr/bin:/bin" "$@"; }
[[ $(run analyze-logs --version) == "$("$bin" --version)" ]] || fail "--version differs from the project binary's"
[[ $(run which analyze-logs) == "$installed" ]] || fail "analyze-logs on PATH is not the venv's"

# Only glibc: libc, libm, the loader (and the vDSO).
LC_ALL=C ldd "$installed" >"$tmp/ldd" || fail "ldd $installed"
cat "$tmp/ldd"
while read -r lib _; do
  case $lib in
    linux-vdso.so.1 | libc.so.6 | libm.so.6 | /lib64/ld-linux-x86-64.so.2 | /lib/ld-linux-aarch64.so.1) ;;
    *) fail "the wheel's binary needs $lib (only glibc is allowed)" ;;
  esac
done <"$tmp/ldd"
grep -q '^\s*libc\.so\.6 ' "$tmp/ldd" || fail "ldd lists no libc.so.6: $(cat "$tmp/ldd")"

# It runs on testdata of three kinds, with nothing from our environment: the same --json report as
# the project binary's (whose exit status it also gives).
n=0
for input in testdata/runs/prefix testdata/srtctl/logs testdata/ray/nccl_timeout; do
  [[ -e $src/$input ]] || fail "$input is missing"
  rc_w=0 rc_b=0
  (cd "$src" && run analyze-logs -q --no-folder --json "$input") >"$tmp/wheel.json" 2>"$tmp/wheel.err" || rc_w=$?
  (cd "$src" && "$bin" -q --no-folder --json "$input") >"$tmp/build.json" 2>/dev/null || rc_b=$?
  ((rc_w <= 1)) || { cat "$tmp/wheel.err"; fail "the wheel's binary exits $rc_w on $input"; }
  [[ $rc_w == "$rc_b" ]] || fail "exit status $rc_w on $input, the project binary's is $rc_b"
  $py -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["verdict"], r' "$tmp/wheel.json" ||
    fail "no verdict in the wheel binary's report on $input"
  cmp -s "$tmp/wheel.json" "$tmp/build.json" || fail "the --json report on $input differs from the project binary's"
  n=$((n + 1))
done
kinds=$(cd "$src" && for i in testdata/runs/prefix testdata/srtctl/logs testdata/ray/nccl_timeout; do
  run analyze-logs -q --no-folder --json "$i" 2>/dev/null | $py -c 'import json, sys; print(json.load(sys.stdin)["kind"])' || true
done | sort -u | tr '\n' ' ')
[[ $kinds == "prime-rl ray srtctl " ]] || fail "the three inputs are not one of each kind: $kinds"

# The man page and the completions, under the venv's share/.
declare -A docs=([share/man/man1/analyze-logs.1]=analyze-logs.1
  [share/bash-completion/completions/analyze-logs]=analyze-logs.bash-completion
  [share/zsh/site-functions/_analyze-logs]=analyze-logs.zsh-completion
  [share/fish/vendor_completions.d/analyze-logs.fish]=analyze-logs.fish-completion)
for f in "${!docs[@]}"; do
  cmp -s "$tmp/venv/$f" "$src/docs/${docs[$f]}" || fail "the wheel did not install $f (docs/${docs[$f]})"
done
MANPATH=$tmp/venv/share/man man -w analyze-logs 2>/dev/null | grep -qF "$tmp/venv/share/man" ||
  { command -v man >/dev/null && fail "man does not find the venv's page"; }

# pip's in-tree build of src/wheel (what `pip install ./src/wheel` does), offline.
$py -m venv "$tmp/venv2"
(cd "$src" && "$tmp/venv2/bin/pip" install --no-index --no-cache-dir ./src/wheel) >"$tmp/pip2.log" 2>&1 ||
  { tail -30 "$tmp/pip2.log"; fail "pip install --no-index ./src/wheel"; }
cmp -s "$tmp/venv2/bin/analyze-logs" "$packed" || fail "pip install ./src/wheel installed another binary"
[[ $(untracked) == "$before" ]] || fail "pip install ./src/wheel left files in src/wheel that git sees: $(untracked)"

# pipx (Debian's), into the temporary folder, offline.
if command -v pipx >/dev/null; then
  PIPX_HOME=$tmp/pipx PIPX_BIN_DIR=$tmp/pipx-bin pipx install --pip-args=--no-index "$whl" >"$tmp/pipx.log" 2>&1 ||
    { cat "$tmp/pipx.log"; fail "pipx install"; }
  [[ -x $tmp/pipx-bin/analyze-logs ]] || fail "pipx put no analyze-logs in PIPX_BIN_DIR"
  (cd "$src" && env -i PATH="$tmp/pipx-bin:/usr/bin:/bin" analyze-logs -q --no-folder --json testdata/ray/nccl_timeout) \
    >"$tmp/pipx.json" 2>/dev/null || [[ $? == 1 ]] || fail "the pipx-installed binary fails"
  (cd "$src" && "$bin" -q --no-folder --json testdata/ray/nccl_timeout) >"$tmp/build.json" 2>/dev/null || true
  cmp -s "$tmp/pipx.json" "$tmp/build.json" || fail "the pipx-installed binary's report differs"
  pipx_note=", pipx"
else
  pipx_note=" (pipx not installed: not checked)"
fi
echo "ok: $(basename "$whl"): python3 -m build and pip in-tree build offline; pip install --no-index$pipx_note; only glibc needed; the project binary's report on $n inputs of 3 kinds ($((SECONDS - start)) s)"
