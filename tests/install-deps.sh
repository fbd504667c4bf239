#!/usr/bin/env bash
# Installs the build and test dependencies from Debian 12's packages (as root, or with sudo).
# Idempotent and quick when everything is already there.
set -euo pipefail
pkgs=(cmake g++ make pkg-config libcli11-dev libre2-dev libfmt-dev nlohmann-json3-dev libgtest-dev
      libbenchmark-dev zlib1g-dev libzstd-dev python3 gzip zstd clang libclang-rt-14-dev
      hyperfine ripgrep time chromium python3-jsonschema ccache)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
