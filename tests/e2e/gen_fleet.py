#!/usr/bin/env python3
"""Generates a fleet of srtctl job folders from the two bundled ones (a healthy job, 4459, and one
whose decode worker fails with an NCCL error, 4461), each on its own 4 nodes drawn from a pool.
Every job that lands on BAD_NODE fails there (the failing template, with BAD_NODE as the decode
node that errs); any other job fails elsewhere with probability FAIL_P. Writes OUT/<id>_2P_1D_*
folders and OUT.manifest.json (which jobs failed, on which nodes) for the test to check against.

Usage: gen_fleet.py SOURCE_DIR OUT N SEED BAD_NODE FAIL_P
"""
import json
import os
import random
import sys

src, out, n, seed, bad, fail_p = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
logs = os.path.join(src, "testdata/srtctl/logs")
templates = {
    "ok": ("4459", "4459_2P_1D_20251122_041341", ["watchtower-aqua-cn01", "watchtower-aqua-cn02", "watchtower-aqua-cn03", "watchtower-aqua-cn04"]),
    # cn16 is the decode node whose worker logs the NCCL error.
    "fail": ("4461", "4461_2P_1D_20251122_080011", ["watchtower-aqua-cn13", "watchtower-aqua-cn14", "watchtower-aqua-cn15", "watchtower-aqua-cn16"]),
}
rng = random.Random(seed)
pool = [f"node{i:02d}" for i in range(40)]
manifest = {"jobs": [], "bad": bad}
os.makedirs(out, exist_ok=True)
for k in range(n):
    nodes = rng.sample(pool, 4)
    failing = bad in nodes or rng.random() < fail_p
    tid, tdir, tnodes = templates["fail" if failing else "ok"]
    if bad in nodes and failing:
        # BAD_NODE takes the failing decode node's place.
        nodes.remove(bad)
        nodes.append(bad)
    jid = str(7000 + k)
    name = tdir.replace(tid, jid, 1)
    mapping = dict(zip(tnodes, nodes))
    for root, _, files in os.walk(os.path.join(logs, tdir)):
        rel = os.path.relpath(root, os.path.join(logs, tdir))
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                data = f.read()
            new_fn = fn.replace(tid, jid)
            for a, b in mapping.items():
                data = data.replace(a.encode(), b.encode())
                new_fn = new_fn.replace(a, b)
            data = data.replace(tid.encode(), jid.encode())
            d = os.path.join(out, name, rel)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, new_fn), "wb") as f:
                f.write(data)
    manifest["jobs"].append({"name": name, "failed": failing, "nodes": sorted(nodes), "failed_on": nodes[3] if failing else None})
with open(out.rstrip("/") + ".manifest.json", "w") as f:
    json.dump(manifest, f, indent=1)
