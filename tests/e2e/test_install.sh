#!/usr/bin/env bash
# `cmake --install` and `cpack -G DEB`: the binary, the man page and the bash, zsh and fish
# completions land where they belong, the man page renders without a groff warning, the bash
# completion loads, and the .deb holds the same files and names its runtime libraries (only libc6
# for a -DALOG_STATIC_DEPS=ON build such as CI's build-ci, whose binary ldd shows needs only glibc).
#
# Usage: test_install.sh BINARY SOURCE_DIR   (as ctest runs it). By default this installs and
# packages from BINARY's own build folder (seconds); ALOG_INSTALL_REUSE=0 configures SOURCE_DIR
# afresh and builds only the analyze-logs target (minutes on two cores).
set -euo pipefail

bin_in=${1:?usage: test_install.sh BINARY SOURCE_DIR}
src=${2:?usage: test_install.sh BINARY SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

fail() {
  echo "FAIL: $*"
  exit 1
}

if [[ ${ALOG_INSTALL_REUSE:-1} == 1 ]]; then
  build=$(cd "$(dirname "$bin_in")" && pwd)
  [[ -f $build/CMakeCache.txt ]] || fail "$build is not a CMake build folder"
  cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install"; }
else
  build=$tmp/build
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DALOG_TESTS=OFF -DALOG_BENCH=OFF \
    -DALOG_FUZZ=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >"$tmp/configure.log" 2>&1 ||
    { cat "$tmp/configure.log"; fail "configure"; }
  cmake --build "$build" --target analyze-logs -j"$(nproc)" >"$tmp/build.log" 2>&1 ||
    { tail -50 "$tmp/build.log"; fail "build"; }
  cmake --install "$build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install"; }
fi

bin=$prefix/bin/analyze-logs
man1=$prefix/share/man/man1/analyze-logs.1
completion=$prefix/share/bash-completion/completions/analyze-logs
zsh_completion=$prefix/share/zsh/vendor-completions/_analyze-logs
fish_completion=$prefix/share/fish/vendor_completions.d/analyze-logs.fish
[[ -x $bin ]] || fail "$bin not installed"
cmp -s "$zsh_completion" "$src/docs/analyze-logs.zsh-completion" || fail "$zsh_completion not installed"
cmp -s "$fish_completion" "$src/docs/analyze-logs.fish-completion" || fail "$fish_completion not installed"
[[ -f $man1 ]] || fail "$man1 not installed"
[[ -f $completion ]] || fail "$completion not installed (include(cmake/Packaging.cmake) in CMakeLists.txt)"
"$bin" --version >/dev/null || fail "the installed binary does not run"

# The man page renders without warnings, and documents every option --help lists.
if command -v man >/dev/null; then
  warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$man1" 2>&1 >"$tmp/man.txt") || fail "man -l failed"
  [[ -z $warnings ]] || { echo "$warnings"; fail "man -l warns"; }
  grep -q 'analyze-logs - find the bottleneck' "$tmp/man.txt" || fail "the man page did not render"
elif command -v groff >/dev/null; then
  warnings=$(groff -man -ww -z "$man1" 2>&1) || fail "groff failed"
  [[ -z $warnings ]] || { echo "$warnings"; fail "groff warns"; }
elif command -v mandoc >/dev/null; then
  mandoc -T lint -W warning "$man1" || fail "mandoc -T lint"
else
  echo "note: neither man, groff nor mandoc installed; man page rendering not checked"
fi
for opt in $("$bin" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" compare --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" mcp --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" partial --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" merge --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
  grep -qF -- "${opt//-/\\-}" "$man1" || fail "the man page does not mention $opt (from --help)"
done

# The completion loads in a plain bash and completes an option value.
bash -c "source '$completion'
COMP_WORDS=(analyze-logs --format ''); COMP_CWORD=2; _analyze_logs
[[ \"\${COMPREPLY[*]}\" == 'text md json' ]]" || fail "the bash completion does not complete --format"

# The Debian package.
if command -v dpkg-deb >/dev/null; then
  [[ -f $build/CPackConfig.cmake ]] || fail "no CPackConfig.cmake (include(cmake/Packaging.cmake) in CMakeLists.txt)"
  cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
  deb=$(find "$tmp/pkg" -maxdepth 1 -name 'analyze-logs_*.deb' | head -n 1)
  [[ -n $deb ]] || fail "cpack wrote no analyze-logs_*.deb"
  contents=$(dpkg-deb -c "$deb")
  for f in ./usr/bin/analyze-logs ./usr/share/man/man1/analyze-logs.1 \
    ./usr/share/bash-completion/completions/analyze-logs \
    ./usr/share/zsh/vendor-completions/_analyze-logs \
    ./usr/share/fish/vendor_completions.d/analyze-logs.fish; do
    grep -qF " $f" <<<"$contents" || fail "$f missing from $(basename "$deb")"
  done
  depends=$(dpkg-deb -f "$deb" Depends)
  if grep -qx 'ALOG_STATIC_DEPS:BOOL=ON' "$build/CMakeCache.txt"; then
    # A static build (tests/run.sh's build-ci, the wheel's binary): it needs only glibc.
    [[ $depends == libc6 ]] || fail "Depends of a -DALOG_STATIC_DEPS=ON build is not just libc6: $depends"
    dpkg-deb -x "$deb" "$tmp/deb-root"
    LC_ALL=C ldd "$tmp/deb-root/usr/bin/analyze-logs" >"$tmp/deb-ldd" || fail "ldd on the .deb's binary"
    if grep -vE '^\s*(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|/lib64/ld-linux-x86-64\.so\.2|/lib/ld-linux-aarch64\.so\.1) ' "$tmp/deb-ldd"; then
      fail "the .deb's binary needs more than glibc (above), but its Depends is $depends"
    fi
  else
    for lib in libre2-9 libfmt9 libzstd1 zlib1g; do
      [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
    done
  fi
  echo "PASS: installed and packaged $(basename "$deb") (Depends: $depends)"
else
  echo "PASS: installed (dpkg-deb absent: .deb not built)"
fi
