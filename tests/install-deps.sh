#!/usr/bin/env bash
# Installs dependencies from Debian 12's packages (as root, or with sudo). Idempotent and quick
# when everything is already there.
#
#   bash tests/install-deps.sh          what building and running need (README's first command)
#   bash tests/install-deps.sh --test   that, and what the test suite uses (tests/run.sh calls it)
#   --print                             list the packages instead of installing them
#
# The two lists are kept apart so a user who only wants the tool does not get a browser, a second
# compiler and the benchmark tools that only the tests use.
set -euo pipefail
build=(cmake g++ make pkg-config libcli11-dev libre2-dev libfmt-dev nlohmann-json3-dev
       zlib1g-dev libzstd-dev)
# GoogleTest and Google Benchmark for the unit tests and micro-benchmarks; clang for the fuzzers;
# hyperfine, ripgrep, time for the benchmarks; chromium renders report.html; python3-jsonschema
# checks report.json; libxml2-utils (xmllint) checks --junit against its XSD; python3-yaml parses
# docs/CI.md's YAML; zsh and fish load their completions; python3-prometheus-client parses the
# --follow --metrics file; python3-build, python3-venv and pipx build and install the wheel
# offline, binutils' readelf checks what its binary needs; slurmctld, slurmd, slurm-client and
# munge run the single-node SLURM cluster of tests/e2e/test_slurm.sh (its own configuration and
# munge key in a temporary folder: the packages' services are not used; with systemd, munge.service
# is enabled, slurmd and slurmctld start only once an /etc/slurm/slurm.conf exists).
tests=(libgtest-dev libbenchmark-dev python3 gzip zstd clang libclang-rt-14-dev hyperfine ripgrep
       time chromium python3-jsonschema ccache libxml2-utils python3-yaml zsh fish
       python3-prometheus-client python3-build python3-venv pipx binutils
       slurmctld slurmd slurm-client munge)
# The MCP tests drive one session with the official MCP TypeScript SDK's client: Node.js and npm
# from Debian (skipped when a node and npm are already on PATH, e.g. another distribution's build),
# then the SDK from the npm registry into a cache folder outside the tree.
node_pkgs=(nodejs npm)
mcp_sdk=@modelcontextprotocol/sdk@1.32.2
# test_mermaid.sh draws SUMMARY.md's mermaid charts with mermaid-cli, on Debian's chromium (no
# browser download).
mermaid_cli=@mermaid-js/mermaid-cli@11.17.0
node_dir=${ALOG_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/analyze-logs/node}
want=("${build[@]}")
print=0
test_deps=0
for arg in "$@"; do
  case $arg in
    --test) want+=("${tests[@]}"); test_deps=1 ;;
    --print) print=1 ;;
    *) echo "install-deps.sh: unknown argument '$arg' (--test, --print)" >&2; exit 2 ;;
  esac
done
if ((print)); then
  printf '%s\n' "${want[@]}"
  ((test_deps)) && printf '%s\n' "${node_pkgs[@]}"
  exit 0
fi
if ((test_deps)) && ! { command -v node && command -v npm; } >/dev/null; then
  want+=("${node_pkgs[@]}")
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ((test_deps)) && [[ ! -f $node_dir/node_modules/@modelcontextprotocol/sdk/package.json ]]; then
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error "$mcp_sdk" >/dev/null
fi
if ((test_deps)) && [[ ! -x $node_dir/node_modules/.bin/mmdc ]]; then
  mkdir -p "$node_dir"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error "$mermaid_cli" >/dev/null
fi
