#!/usr/bin/env python3
"""Times `analyze-logs mcp` on a large log: one `analyze` call and one `grep` over the root, with
the server's own peak RSS (VmHWM) after each. Figures go in docs/PERFORMANCE.md.

Usage: mcp_rate.py BINARY ROOT LOG   (LOG relative to ROOT, e.g. build/bench-data bench-1G-hung0.05.log)
"""
import json
import subprocess
import sys
import time

binary, root, log = sys.argv[1:4]
p = subprocess.Popen([binary, "mcp", root], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def send(m):
    p.stdin.write((json.dumps(m) + "\n").encode())
    p.stdin.flush()


def hwm():
    with open(f"/proc/{p.pid}/status") as f:
        return [l.split(":")[1].strip() for l in f if l.startswith("VmHWM")][0]


send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
p.stdout.readline()
t = time.time()
send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "analyze", "arguments": {"paths": [log]}}})
line = p.stdout.readline()
r = json.loads(line)["result"]
print(f"analyze {log}: {time.time() - t:.2f} s, reply {len(line)} bytes, verdict {r['structuredContent'].get('verdict')}, server VmHWM {hwm()}")
t = time.time()
send({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
      "params": {"name": "grep", "arguments": {"pattern": "queue_ms=3[0-9]{4}", "max_lines": 3}}})
r = json.loads(p.stdout.readline())["result"]["structuredContent"]
print(f"grep over {root}: {time.time() - t:.2f} s, {r['total']} matches, {r['bytes']} bytes, server VmHWM {hwm()}")
p.stdin.close()
p.wait()
