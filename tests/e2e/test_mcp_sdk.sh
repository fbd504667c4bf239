#!/usr/bin/env bash
# `analyze-logs mcp` with the official MCP TypeScript SDK's client (tests/e2e/mcp_sdk_client.js).
# tests/install-deps.sh --test installs Node.js and the SDK (into $ALOG_NODE_DIR, by default
# ~/.cache/analyze-logs/node); without them this test fails, it never passes silently.
# Usage: test_mcp_sdk.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=$(realpath "${1:?usage: test_mcp_sdk.sh BINARY SOURCE_DIR}")
src=$(realpath "${2:?usage: test_mcp_sdk.sh BINARY SOURCE_DIR}")
node_dir=${ALOG_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/analyze-logs/node}
command -v node >/dev/null || { echo "FAIL: node is not installed (bash tests/install-deps.sh --test installs it)"; exit 1; }
[[ -f $node_dir/node_modules/@modelcontextprotocol/sdk/package.json ]] ||
  { echo "FAIL: the MCP SDK is not in $node_dir (bash tests/install-deps.sh --test installs it)"; exit 1; }
NODE_PATH=$node_dir/node_modules exec timeout 120 node "$src/tests/e2e/mcp_sdk_client.js" "$bin" "$src/testdata"
