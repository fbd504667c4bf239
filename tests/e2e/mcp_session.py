#!/usr/bin/env python3
"""Drives `analyze-logs mcp` over a pipe, as an agent's client does, and checks every reply.

A full session: initialize (version negotiation), tools/list (each input schema a valid JSON Schema
that the arguments sent here satisfy), tools/call of each tool with the values checked against the
logs themselves or the CLI's own report, the error cases (paths outside the roots, a link leading
out, bad arguments, bad patterns, unknown tools and methods, malformed messages), cancellation of a
running analysis (its child process is gone, no answer is sent), the per-call time limit, calls
answered while another runs, standard input closing (answers first, then exit 0), and SIGTERM.

Usage: mcp_session.py BINARY SOURCE_DIR
"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import gzip

BIN, SRC = sys.argv[1], os.path.abspath(sys.argv[2])
TESTDATA = os.path.join(SRC, "testdata")
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


class Session:
    def __init__(self, roots, extra=()):
        self.p = subprocess.Popen([BIN, "mcp", *extra, *roots], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.q = queue.Queue()
        self.raw = []
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 100

    def _read(self):
        for line in self.p.stdout:
            self.raw.append(line)
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.q.put({"unparsable": line})
        self.q.put(None)

    def send(self, msg):
        self.p.stdin.write((json.dumps(msg) + "\n").encode())
        self.p.stdin.flush()

    def send_raw(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def wait_for(self, rid, timeout=60):
        """The reply to request `rid`; other replies seen meanwhile are kept."""
        end = time.time() + timeout
        while time.time() < end:
            for m in list(getattr(self, "kept", [])):
                if m.get("id") == rid:
                    self.kept.remove(m)
                    return m
            try:
                m = self.q.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            if m is None:
                return None
            if m.get("id") == rid:
                return m
            self.kept = getattr(self, "kept", []) + [m]
        return None

    def request(self, method, params=None, rid=None, timeout=60):
        if rid is None:
            self.next_id += 1
            rid = self.next_id
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.wait_for(rid, timeout)

    def call(self, name, args, timeout=120):
        r = self.request("tools/call", {"name": name, "arguments": args}, timeout=timeout)
        assert r is not None, f"no answer to {name} {args}"
        return r

    def close(self, timeout=60):
        self.p.stdin.close()
        return self.p.wait(timeout)


def result(r):
    assert "result" in r, f"an error where a result was expected: {r}"
    return r["result"]


def cli_json(*args):
    out = subprocess.run([BIN, "--json", "--no-folder", "-q", *args], capture_output=True, check=False)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def file_lines(path):
    """Lines as the tool numbers them: split at '\n' only, one trailing '\r' removed."""
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p[:-1].decode("utf-8", "replace") if p.endswith(b"\r") else p.decode("utf-8", "replace") for p in parts]


def children_with(text):
    """Processes whose command line holds `text` (the analyses the server started)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if any(text.encode() == c for c in cmd) and b"mcp" not in cmd:
            pids.append(int(d))
    return pids


def wait_until(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def main():
    tmp = tempfile.mkdtemp(prefix="mcp-test-")
    root2 = os.path.join(tmp, "root2")
    os.makedirs(os.path.join(root2, "escape"))
    os.symlink("/etc", os.path.join(root2, "escape", "etc_link"))
    os.makedirs(os.path.join(root2, "dangling"))
    os.symlink(os.path.join(tmp, "no-such-file"), os.path.join(root2, "dangling", "gone"))
    fifo = os.path.join(root2, "never_written.log")
    os.mkfifo(fifo)
    # A slow analysis that costs no disk: a sparse file of 100 GB (reading its zeros takes minutes).
    huge = os.path.join(root2, "huge.log")
    with open(huge, "wb") as f:
        f.truncate(100 << 30)
    # A log with stamps every second, an unstamped continuation line, a gzip copy, a binary file.
    lines = []
    for i in range(10):
        lines.append(f"2026-03-13 10:00:0{i},000 INFO step {i} done marker")
        if i == 4:
            lines.append("    continuation of step 4 marker")
    with open(os.path.join(root2, "stamped.log"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with gzip.open(os.path.join(root2, "stamped.log.gz"), "wt") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(root2, "blob.bin"), "wb") as f:
        f.write(b"marker\0\1\2 binary marker\n" * 10)

    s = Session([TESTDATA, root2])

    # --- protocol before and at initialize ---
    r = s.request("tools/list")
    check(r and r.get("error", {}).get("code") == -32002, f"tools/list before initialize: {r}")
    r = s.request("ping")
    check(r and r.get("result") == {}, f"ping before initialize: {r}")
    r = s.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                 "clientInfo": {"name": "mcp_session.py", "version": "1"}})
    init = result(r)
    check(init["protocolVersion"] == "2025-06-18", f"asked 2025-06-18, got {init['protocolVersion']}")
    check("tools" in init["capabilities"], "no tools capability")
    check(init["serverInfo"]["name"] == "analyze-logs", f"serverInfo {init['serverInfo']}")
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[-1]
    check(init["serverInfo"]["version"] == version, f"serverInfo.version {init['serverInfo']} != {version}")
    r = s.request("initialize", {"protocolVersion": "1999-01-01"})
    check(result(r)["protocolVersion"] == "2025-11-25", f"unknown version answered with {result(r)['protocolVersion']}")
    s.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    # --- tools/list: four tools, each schema valid, each argument set below valid against it ---
    tools = {t["name"]: t for t in result(s.request("tools/list"))["tools"]}
    check(sorted(tools) == ["analyze", "compare", "grep", "trace"], f"tools: {sorted(tools)}")
    import jsonschema
    for t in tools.values():
        jsonschema.Draft202012Validator.check_schema(t["inputSchema"])
        check(t["inputSchema"]["type"] == "object", f"{t['name']}: schema type")
        check(len(t.get("description", "")) > 40, f"{t['name']}: no description")

    def call(name, args, timeout=120):
        jsonschema.validate(args, tools[name]["inputSchema"])
        return result(s.call(name, args, timeout))

    # --- analyze: a Ray job and a prime-rl run, checked against the CLI's own report ---
    res = call("analyze", {"paths": ["ray/nccl_timeout"]})
    sc = res["structuredContent"]
    cli = cli_json(os.path.join(TESTDATA, "ray/nccl_timeout"))
    check(not res["isError"], "analyze ray: isError")
    check(sc["verdict"] == "failed" == cli["verdict"], f"analyze ray verdict {sc['verdict']}")
    check(sc["cause"] == cli["cause"], "analyze ray cause differs from the CLI's")
    check([f["id"] for f in sc["findings"]] == [f["id"] for f in cli["findings"]], "finding ids differ from the CLI's")
    check(sc["findings"][0]["id"] == "nccl_timeout", f"first finding {sc['findings'][0]['id']}")
    ev = sc["findings"][0]["evidence"][0]
    check(ev["file"].endswith("-70211.err") and ev["line"] == 12 and "SeqNum=5274" in ev["text"], f"evidence {ev}")
    ct = sc["figures"]["ray"]["collective_timeout"]
    check(ct["seq"] == 5274 and ct["silent_ranks"] == [2], f"collective_timeout {ct}")
    text = res["content"][0]["text"]
    check(text.startswith("verdict: failed (ray)") and "critical nccl_timeout" in text and "-70211.err:12: " in text,
          f"analyze text: {text[:300]}")

    res = call("analyze", {"paths": [os.path.join(TESTDATA, "runs/healthy")]})
    sc = res["structuredContent"]
    cli = cli_json(os.path.join(TESTDATA, "runs/healthy"))
    m, c = sc["figures"]["prime-rl"]["metrics"]["weights.wall_ms"], cli["metrics"]["weights.wall_ms"]
    check(m["count"] == c["count"] == 41 and m["p50"] == c["p50"] and m["p99"] == c["p99"], f"weights.wall_ms {m} vs {c}")
    check(sc["verdict"] == cli["verdict"], "prime-rl verdict differs")
    check("weights.wall_ms: n=41 " in res["content"][0]["text"], "key figures missing in the text")

    res = call("analyze", {"paths": ["srtctl/logs"]})
    cli = cli_json(os.path.join(TESTDATA, "srtctl/logs"))
    runs = res["structuredContent"]["figures"]["srtctl"]["jobs"][0]["runs"]
    cruns = cli["srtctl"]["jobs"][0]["runs"]
    check([r["concurrency"] for r in runs] == [r["concurrency"] for r in cruns], "srtctl points differ")
    check(runs[0]["output_throughput"] == cruns[0]["metrics"]["output_throughput"], "srtctl throughput differs")

    # --- trace: one update, by a prefix of its id ---
    upd = cli_json(os.path.join(TESTDATA, "runs/healthy"))["updates"][3]
    res = call("trace", {"path": "runs/healthy", "update": upd["trace_id"][:8]})
    sc = res["structuredContent"]
    check(sc.get("trace_id") == upd["trace_id"], f"trace id {sc.get('trace_id')}")
    check(sc.get("record", {}).get("wall_ms") == upd["wall_ms"], "the update's record differs from report.json's")
    check(res["content"][0]["text"].startswith("trace " + upd["trace_id"]), "trace text")
    res = call("trace", {"path": "runs/healthy", "update": "zz"})
    check(res["isError"] and "hexadecimal" in res["content"][0]["text"], f"bad trace id: {res}")
    res = call("trace", {"path": "runs/healthy", "update": "ffffffffffffffff0"})
    check(res["isError"], "an unknown trace id is not an error")

    # --- trace: one Ray actor (its worker file and the driver's relayed lines), counted here ---
    base = os.path.join(TESTDATA, "ray/nccl_timeout")
    wf = [f for f in os.listdir(os.path.join(base, "session_latest/logs")) if f.endswith("-70213.err")][0]
    own = len(file_lines(os.path.join(base, "session_latest/logs", wf)))
    relayed = 0
    for d in os.listdir(os.path.join(base, "running_logs")):
        with open(os.path.join(base, "running_logs", d), errors="replace") as f:
            relayed += sum(1 for l in f if re.match(r"\(\w+ pid=70213[,)]", l))
    res = call("trace", {"path": "ray/nccl_timeout", "actor": "rank 2"})
    sc = res["structuredContent"]
    check(sc["total"] == own + relayed, f"rank 2: {sc['total']} lines, counted {own} + {relayed}")
    check(sc["match"]["pid"] == 70213, f"rank 2 is pid {sc['match'].get('pid')}")
    res = call("trace", {"path": "ray/nccl_timeout", "actor": "SglEngine"})
    check(res["isError"] or res["structuredContent"]["match"]["name"] == "SglEngine", "actor by name")

    # --- trace: a process's log file, by name; first and last lines ---
    orch = os.path.join(TESTDATA, "runs/healthy/logs/orchestrator.log")
    olines = file_lines(orch)
    res = call("trace", {"path": "runs/healthy", "actor": "orchestrator.log", "max_lines": 5})
    sc = res["structuredContent"]
    check(sc["total"] == len(olines) and sc["shown"] == 5 and sc["lines"][0]["line"] == 1, f"orchestrator lines {sc['total']}")
    res = call("trace", {"path": "runs/healthy", "actor": "orchestrator.log", "max_lines": 3, "tail": True})
    sc = res["structuredContent"]
    check(sc["lines"][-1]["line"] == len(olines) and sc["lines"][-1]["text"] == olines[-1], "tail: the last line")
    res = call("trace", {"path": "runs/healthy", "actor": "nobody"})
    check(res["isError"] and "orchestrator.log" in res["content"][0]["text"], "unknown actor: the known ones are listed")

    # --- compare ---
    res = call("compare", {"runs": ["runs/healthy", "runs/prefix"], "fail_on_regression_pct": 10})
    sc = res["structuredContent"]
    cmp = json.loads(subprocess.run([BIN, "compare", "--json", "--no-folder", "--fail-on-regression", "10",
                                     os.path.join(TESTDATA, "runs/healthy"), os.path.join(TESTDATA, "runs/prefix")],
                                    capture_output=True).stdout)
    check(sc["verdict"] == cmp["verdict"] and sc["regressed"] is True, f"compare verdict {sc.get('verdict')}")
    check(len(sc["regressions"]) == len(cmp["regressions"]) > 0, "compare regressions")
    check("weights.queue_ms.mean" in res["content"][0]["text"], "regressions in the text")
    res = call("compare", {"runs": ["runs/healthy"]})
    check(res["isError"] and "at least two" in res["content"][0]["text"], "compare of one run")
    res = call("compare", {"runs": ["runs/healthy", "ray/nccl_timeout"]})
    check(res["isError"], "compare of two kinds is not an error")

    # --- grep: counts checked against the files; max_lines; window; gzip; binary skipped ---
    pat = r"Watchdog caught collective"
    expected = 0
    for dp, _, fs in os.walk(os.path.join(TESTDATA, "ray")):
        for fn in fs:
            with open(os.path.join(dp, fn), "rb") as f:
                data = f.read()
            if b"\0" in data.split(b"\n", 1)[0] or fn.endswith((".gz", ".zst")):
                continue
            expected += sum(1 for l in data.decode("utf-8", "replace").splitlines() if re.search(pat, l))
    res = call("grep", {"pattern": pat, "paths": ["ray"], "max_lines": 2})
    sc = res["structuredContent"]
    check(sc["total"] == expected > 2 and sc["shown"] == 2 and sc["more"] == expected - 2, f"grep total {sc['total']} vs {expected}")
    first = sc["matches"][0]
    check(file_lines(first["file"])[first["line"] - 1].startswith(first["text"][:100]), "grep file:line does not hold the text")
    check(f"({expected - 2} more matching lines not shown" in res["content"][0]["text"], "grep: the rest not counted in the text")

    res = call("grep", {"pattern": "marker", "paths": [os.path.join(root2, "stamped.log")],
                        "since": "2026-03-13 10:00:03", "until": "2026-03-13T10:00:05"})
    sc = res["structuredContent"]
    check(sc["total"] == 4, f"window 03..05 with a continuation line: {sc['total']} (want 4)")
    check(sc["matches"][2]["text"].startswith("    continuation") and sc["matches"][2]["time"] == "2026-03-13 10:00:04",
          f"continuation line's time {sc['matches'][2]}")
    res = call("grep", {"pattern": "MARKER", "ignore_case": True, "paths": [root2]})
    sc = res["structuredContent"]
    check(not res["isError"], f"grep over a root: {res}")
    check(sc["total"] == 22, f"plain + gzip: {sc['total']} (want 22)")
    check(any(x["file"].endswith("blob.bin") and "binary" in x["why"] for x in sc["skipped"]), f"binary not skipped: {sc['skipped']}")
    check(any(x["file"].endswith("stamped.log.gz") for x in sc["matches"]), "the gzip file was not read")
    res = call("grep", {"pattern": "marker", "paths": [fifo]})
    check(not res["isError"] and res["structuredContent"]["skipped"][0]["why"].startswith("not a regular file"), "a FIFO is not skipped")

    # --- errors a model can act on: isError results ---
    for name, args, want in [
        ("analyze", {"paths": ["/etc"]}, "outside the roots"),
        ("analyze", {"paths": ["../../../../etc/passwd"]}, "outside the roots"),
        ("analyze", {"paths": [os.path.join(root2, "escape")]}, "leads outside the roots"),
        ("grep", {"pattern": "root", "paths": [os.path.join(root2, "escape", "etc_link")]}, "outside the roots"),
        ("analyze", {"paths": ["no/such/run"]}, "No such file"),
        ("analyze", {}, "'paths' is required"),
        ("analyze", {"paths": [1]}, "list of strings"),
        ("analyze", {"paths": ["runs"], "colour": True}, "unknown argument 'colour'"),
        ("grep", {"pattern": "(a"}, "RE2 syntax"),
        ("grep", {"pattern": r"\pL{1000}"}, "too expensive"),
        ("grep", {"pattern": "x", "since": "yesterday"}, "is not a time"),
        ("grep", {"pattern": "x", "max_lines": 0}, "from 1 to 1000"),
        ("trace", {"path": "runs/healthy"}, "give one of 'update'"),
    ]:
        r = s.call(name, args)
        res = result(r)
        check(res["isError"] and want in res["content"][0]["text"], f"{name} {args}: want an error with '{want}', got {res}")
    res = call("analyze", {"paths": [os.path.join(root2, "dangling")]})
    check("outside" not in res["content"][0]["text"], "a dangling link inside is refused")

    # --- JSON-RPC errors ---
    r = s.request("tools/call", {"name": "rm", "arguments": {}})
    check(r.get("error", {}).get("code") == -32602 and "Unknown tool" in r["error"]["message"], f"unknown tool: {r}")
    r = s.request("resources/list")
    check(r.get("error", {}).get("code") == -32601, f"unknown method: {r}")
    s.send_raw("{not json\n")
    r = s.wait_for(None, 10)
    check(r and r.get("error", {}).get("code") == -32700, f"parse error: {r}")
    s.send_raw('[{"jsonrpc":"2.0","id":900,"method":"ping"}]\n')
    r = s.wait_for(None, 10)
    check(r and r.get("error", {}).get("code") == -32600, f"batch: {r}")

    res = call("analyze", {"paths": [fifo]})
    check(res["isError"] and "named pipe" in res["content"][0]["text"], f"analyze of a FIFO: {res}")

    # --- cancellation: a long analysis is stopped, its child gone, no answer ---
    s.send({"jsonrpc": "2.0", "id": "slow-1", "method": "tools/call",
            "params": {"name": "analyze", "arguments": {"paths": [huge]}}})
    check(wait_until(lambda: children_with(huge), 20), "no child analysis started for the huge file")
    # Another call is answered while that one runs.
    res = call("grep", {"pattern": "marker", "paths": [os.path.join(root2, "stamped.log")]}, timeout=20)
    check(res["structuredContent"]["total"] == 11, "grep answered while an analysis runs")
    s.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow-1", "reason": "test"}})
    check(wait_until(lambda: not children_with(huge), 10), "the cancelled analysis's child is still running")
    r = s.request("ping", timeout=10)
    check(r and r.get("result") == {}, "ping after cancel")
    check(s.wait_for("slow-1", 2) is None, "a cancelled request was answered")

    # --- standard input closed: answers pending calls, then exit 0; nothing but JSON on stdout ---
    s.send({"jsonrpc": "2.0", "id": "last", "method": "tools/call",
            "params": {"name": "grep", "arguments": {"pattern": "marker", "paths": [root2]}}})
    rc = s.close()
    check(rc == 0, f"exit status {rc} after stdin closed")
    check(s.wait_for("last", 10) is not None, "the call pending at EOF was not answered")
    check(all(json.loads(l) is not None for l in s.raw), "stdout holds something other than JSON lines")

    # --- the time limit, and SIGTERM ---
    t = Session([root2], ["--timeout", "1s"])
    result(t.request("initialize", {"protocolVersion": "2025-11-25"}))
    start = time.time()
    res = result(t.call("analyze", {"paths": ["huge.log"]}, timeout=30))
    check(res["isError"] and "stopped after 1 s" in res["content"][0]["text"], f"time limit: {res}")
    check(time.time() - start < 10, "the time limit took too long")
    check(wait_until(lambda: not children_with(huge), 5), "the overdue analysis's child is still running")
    t.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "analyze", "arguments": {"paths": [huge]}}})
    check(wait_until(lambda: children_with(huge), 20), "no child for SIGTERM test")
    t.p.send_signal(signal.SIGTERM)
    rc = t.p.wait(10)
    check(rc == 143, f"SIGTERM: exit {rc}")
    check(wait_until(lambda: not children_with(huge), 5), "a child outlived the server")

    bad = subprocess.run([BIN, "mcp", os.path.join(tmp, "missing-root")], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    check(bad.returncode == 2 and "missing-root" in bad.stderr and bad.stderr.count("\n") == 1, f"missing root: {bad.returncode} {bad.stderr}")
    bad = subprocess.run([BIN, "mcp"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    check(bad.returncode == 2 and "roots" in bad.stderr, f"no root: {bad.returncode} {bad.stderr}")

    subprocess.run(["rm", "-rf", tmp])
    if FAILS:
        print(f"{len(FAILS)} checks failed")
        sys.exit(1)
    print("ok: MCP session (initialize, tools/list, 4 tools, errors, cancellation, time limit, EOF, SIGTERM)")


if __name__ == "__main__":
    main()
