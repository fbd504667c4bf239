// One session with the official MCP TypeScript SDK's client (@modelcontextprotocol/sdk, installed
// by tests/install-deps.sh --test) against `analyze-logs mcp`: the SDK negotiates the protocol,
// lists the tools, validates their schemas, calls each tool and checks the results' shape.
// Usage: node mcp_sdk_client.js BINARY TESTDATA   (NODE_PATH: the folder holding the SDK)
'use strict';
const assert = require('node:assert/strict');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');
const { LATEST_PROTOCOL_VERSION } = require('@modelcontextprotocol/sdk/types.js');

async function main() {
  const [bin, testdata] = process.argv.slice(2);
  const transport = new StdioClientTransport({ command: bin, args: ['mcp', testdata], stderr: 'pipe' });
  const client = new Client({ name: 'analyze-logs-sdk-test', version: '1.0.0' });
  await client.connect(transport);
  assert.equal(client.getServerVersion().name, 'analyze-logs');
  assert.ok(client.getServerCapabilities().tools, 'tools capability');

  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ['analyze', 'compare', 'grep', 'trace']);

  const analyze = await client.callTool({ name: 'analyze', arguments: { paths: ['ray/nccl_timeout'] } });
  assert.equal(analyze.isError, false);
  assert.equal(analyze.structuredContent.verdict, 'failed');
  assert.equal(analyze.structuredContent.findings[0].id, 'nccl_timeout');
  assert.equal(analyze.structuredContent.figures.ray.collective_timeout.seq, 5274);
  assert.match(analyze.content[0].text, /^verdict: failed \(ray\)/);

  const grep = await client.callTool({ name: 'grep', arguments: { pattern: 'Watchdog caught', paths: ['ray/nccl_timeout'], max_lines: 1 } });
  assert.equal(grep.structuredContent.shown, 1);
  assert.ok(grep.structuredContent.total > 1);

  const trace = await client.callTool({ name: 'trace', arguments: { path: 'ray/nccl_timeout', actor: 'rank 2', tail: true, max_lines: 3 } });
  assert.equal(trace.structuredContent.match.pid, 70213);
  assert.equal(trace.structuredContent.lines.length, 3);

  const cmp = await client.callTool({ name: 'compare', arguments: { runs: ['runs/healthy', 'runs/prefix'], fail_on_regression_pct: 10 } });
  assert.equal(cmp.structuredContent.regressed, true);

  const outside = await client.callTool({ name: 'analyze', arguments: { paths: ['/etc'] } });
  assert.equal(outside.isError, true);
  assert.match(outside.content[0].text, /outside the roots/);

  // An unknown tool is a protocol error the SDK raises.
  await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /Unknown tool/);

  // Cancellation through the SDK: an AbortSignal sends notifications/cancelled.
  const ac = new AbortController();
  const pending = client.callTool({ name: 'grep', arguments: { pattern: 'x' } }, undefined, { signal: ac.signal });
  ac.abort('test');
  await assert.rejects(pending);
  assert.deepEqual(await client.ping(), {});

  await client.close();
  console.log(`ok: the MCP SDK client (protocol ${LATEST_PROTOCOL_VERSION}): 4 tools listed and called, errors, cancellation`);
}

main().catch((e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e);
  process.exit(1);
});
