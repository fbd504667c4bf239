#!/usr/bin/env bash
# `analyze-logs mcp`: a whole session over a pipe (tests/e2e/mcp_session.py checks each reply).
# Usage: test_mcp.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_mcp.sh BINARY SOURCE_DIR}
src=${2:?usage: test_mcp.sh BINARY SOURCE_DIR}
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3  # Debian's, with python3-jsonschema
exec timeout 300 "$py" "$src/tests/e2e/mcp_session.py" "$bin" "$src"
