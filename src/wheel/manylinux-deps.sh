#!/usr/bin/env bash
# cibuildwheel's before-all for the release wheels (src/wheel/pyproject.toml, docs/WHEEL.md): in a
# PyPA manylinux_2_28 container (AlmaLinux 8, glibc 2.28, gcc-toolset with C++20), the libraries
# the build needs, from their release tarballs, static and position-independent, into /usr/local.
# The container is not Debian, so this is the one place where the project's "Debian packages only"
# rule cannot hold. It needs a network and a container runtime: NOT RUN on the project's machines
# (none there); the release job is where it is exercised.
set -euo pipefail
prefix=/usr/local
work=$(mktemp -d)
cd "$work"
# The release job pins each tarball's sha256 here when it first runs (they could not be fetched and
# checked from these machines, so none is written down unverified).
get() { # get URL
  curl -fsSL -o "$(basename "$1")" "$1"
  tar xf "$(basename "$1")"
}
export CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC"
jobs=$(nproc)
cmake_lib() { # cmake_lib SRCDIR ARGS...
  local dir=$1
  shift
  cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$prefix \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF "$@"
  cmake --build "$dir/build" -j"$jobs"
  cmake --install "$dir/build"
}

# The versions Debian 12 ships, so the wheel's binary is the one the tests ran on.
get https://github.com/CLIUtils/CLI11/archive/refs/tags/v2.1.2.tar.gz
cmake_lib CLI11-2.1.2 -DCLI11_BUILD_TESTS=OFF -DCLI11_BUILD_EXAMPLES=OFF -DCLI11_BUILD_DOCS=OFF
get https://github.com/fmtlib/fmt/archive/refs/tags/9.1.0.tar.gz
cmake_lib fmt-9.1.0 -DFMT_TEST=OFF -DFMT_DOC=OFF
get https://github.com/nlohmann/json/archive/refs/tags/v3.11.2.tar.gz
cmake_lib json-3.11.2 -DJSON_BuildTests=OFF
get https://github.com/madler/zlib/releases/download/v1.2.13/zlib-1.2.13.tar.gz
(cd zlib-1.2.13 && ./configure --static --prefix=$prefix && make -j"$jobs" && make install)
get https://github.com/facebook/zstd/releases/download/v1.5.4/zstd-1.5.4.tar.gz
make -C zstd-1.5.4/lib -j"$jobs" install-static install-pc install-includes PREFIX=$prefix
# re2's Makefile installs libre2.a (which ALOG_STATIC_DEPS links) and re2.pc, which the project's
# pkg_check_modules(RE2) reads (CXXFLAGS carries -fPIC).
get https://github.com/google/re2/archive/refs/tags/2022-06-01.tar.gz
make -C re2-2022-06-01 -j"$jobs" install prefix=$prefix
