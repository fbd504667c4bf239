#!/usr/bin/env python3
"""Writes testdata/hangs/: hung-job artifact sets built from ../shared/FORMATS-hangs.md.

Deterministic (no clock, no randomness): running it twice gives the same bytes, so the committed
files can be checked with `python3 testdata/gen/make_hangs.py --check`.

Sets:
  nccl_8rank/    8 ranks on 2 nodes; rank 5 (gpu-b03, pid 51211) is in its DataLoader while the
                 others wait in ALLREDUCE SeqNum 808. Combined SLURM console (srun --label,
                 [defaultN]:, [rankN]:), per-rank torchrun logs, py-spy dumps named by host and pid
                 (plus one of the torchrun agent), Flight Recorder pickles of every rank but 5,
                 ncclras output. Traps: rank 2 signals the dump first, torchrun's Root Cause is
                 rank 0 / rank 4, the abort and DistBackendError blocks, a sub-communicator's
                 NCCL init lines with other rank numbers.
  gloo_barrier/  4 ranks, one node, gloo monitored_barrier; rank 2 is writing a checkpoint.
                 torchrun --log-dir layout with faulthandler dump_traceback_later dumps in each
                 stderr.log and error.json files (rank 0's names rank 2).
  seq_only/      4 ranks, every dump present (FR as JSON, rank_<N>.json; py-spy of all 4 with the
                 same stack); rank 1 enqueued 1233 while the others enqueued 1234. Older log
                 formats ([PG 0 Rank 2] ..., ALLGATHER).
  conflict/      4 ranks: FR dumps of 0-2 all at SeqNum 77, rank 3's dump truncated (killed
                 mid-write), rank 2's stack differs, rank 3 has no stack dump: nothing decisive.
"""
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hangs")
FILES = {}


def put(rel, data):
    if isinstance(data, str):
        data = data.encode()
    FILES[rel] = data


# ---- the torch C++ Pickler's subset (FORMATS-hangs.md §1.3) ----------------------------------

class TorchPickler:
    """PROTO 2, EMPTY_DICT/EMPTY_LIST + MARK ... SETITEMS/APPENDS (always, even for 0 items),
    BINUNICODE memoized by value, containers memoized by identity, BININT1/2/BININT, LONG1 of 8
    bytes, NEWTRUE/NEWFALSE, NONE, big-endian BINFLOAT, TUPLE2."""

    def __init__(self):
        self.out = bytearray()
        self.strings = {}
        self.objects = {}
        self.n = 0

    def _put(self):
        i = self.n
        self.n += 1
        self.out += (b"q" + bytes([i])) if i < 256 else (b"r" + struct.pack("<I", i))
        return i

    def _get(self, i):
        self.out += (b"h" + bytes([i])) if i < 256 else (b"j" + struct.pack("<I", i))

    def dumps(self, obj):
        self.out += b"\x80\x02"
        self._w(obj)
        self.out += b"."
        return bytes(self.out)

    def _w(self, o):
        if o is None:
            self.out += b"N"
        elif o is True:
            self.out += b"\x88"
        elif o is False:
            self.out += b"\x89"
        elif isinstance(o, int):
            if 0 <= o < 256:
                self.out += b"K" + bytes([o])
            elif 0 <= o < 65536:
                self.out += b"M" + struct.pack("<H", o)
            elif -(2 ** 31) <= o < 2 ** 31:
                self.out += b"J" + struct.pack("<i", o)
            else:
                self.out += b"\x8a\x08" + struct.pack("<q", o)
        elif isinstance(o, float):
            self.out += b"G" + struct.pack(">d", o)
        elif isinstance(o, str):
            if o in self.strings:
                self._get(self.strings[o])
            else:
                b = o.encode()
                self.out += b"X" + struct.pack("<I", len(b)) + b
                self.strings[o] = self._put()
        elif isinstance(o, tuple):
            assert len(o) == 2
            self._w(o[0])
            self._w(o[1])
            self.out += b"\x86"
        elif isinstance(o, dict):
            if id(o) in self.objects:
                self._get(self.objects[id(o)])
                return
            self.out += b"}"
            self.objects[id(o)] = self._put()
            self.out += b"("
            for k, v in o.items():
                self._w(k)
                self._w(v)
            self.out += b"u"
        elif isinstance(o, list):
            if id(o) in self.objects:
                self._get(self.objects[id(o)])
                return
            self.out += b"]"
            self.objects[id(o)] = self._put()
            self.out += b"("
            for v in o:
                self._w(v)
            self.out += b"e"
        else:
            raise TypeError(type(o))


def fr_doc(world, last_enq, last_done, stuck_frames, op="nccl:all_reduce", sizes=None, t0=1773454269194064333, version="2.10"):
    """A v2.10 Flight Recorder dump of one rank: completed entries up to last_done, then scheduled
    ones up to last_enq. Frame dicts are shared between entries (as in torch)."""
    sizes = sizes or [[9801523]]
    entries = []
    for seq in range(max(1, last_done - 2), last_enq + 1):
        done = seq <= last_done
        entries.append({
            "frames": stuck_frames,
            "record_id": seq - 1,
            "pg_id": 0,
            "process_group": ("0", "default_pg"),
            "thread_name": "pt_main_thread",
            "thread_id": "139807877388089",
            "collective_seq_id": seq,
            "p2p_seq_id": 0,
            "op_id": seq,
            "profiling_name": op,
            "time_created_ns": t0 + seq * 1_000_000,
            "input_sizes": sizes,
            "input_dtypes": ["Float"],
            "output_sizes": sizes,
            "output_dtypes": ["Float"],
            "state": "completed" if done else "scheduled",
            "time_discovered_started_ns": None,
            "time_discovered_completed_ns": (t0 + seq * 1_000_000 + 5_000_000) if done else None,
            "retired": done,
            "timeout_ms": 600000,
            "is_p2p": False,
        })
    return {
        "version": version,
        "pg_config": {"0": {"name": "0", "desc": "default_pg", "ranks": str(list(range(world)))}},
        "comm_lib_version": "2.27.5",
        "pg_status": {"0": {"last_enqueued_collective": last_enq, "last_started_collective": -1,
                            "last_completed_collective": last_done}},
        "entries": entries,
    }


def fr_json(doc):
    """The JSON API's form: no frames, process_group a list of strings, pg_status strings, sorted keys."""
    d = json.loads(json.dumps(doc))
    for e in d.get("entries", []):
        e.pop("frames", None)
        e["process_group"] = list(e["process_group"])
        for k in ("time_discovered_started_ns", "time_discovered_completed_ns"):
            if e[k] is None:
                e[k] = 0
    for v in d["pg_status"].values():
        for k in list(v):
            v[k] = str(v[k])
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


def pyspy(pid, cmd, main, others):
    out = [f"Process {pid}: {cmd}", "Python v3.11.9 (/usr/bin/python3.11)", ""]
    out.append(f'Thread {pid} (idle): "MainThread"')
    out += [f"    {f}" for f in main]
    for tid, name, frames in others:
        out.append(f'Thread {tid} (idle): "{name}"')
        out += [f"    {f}" for f in frames]
    return "\n".join(out) + "\n"


# ---- 1. nccl_8rank ---------------------------------------------------------------------------

def nccl_8rank():
    base = "nccl_8rank"
    hosts = ["gpu-a07", "gpu-b03"]
    ips = ["10.64.3.7", "10.64.3.8"]
    pids = [48210, 48211, 48212, 48213, 51210, 51211, 51212, 51213]
    agents = [48188, 51190]
    culprit = 5
    seq = 808
    c10d = "/usr/local/lib/python3.11/dist-packages/torch/distributed/distributed_c10d.py"
    frames = [{"name": "all_reduce", "filename": c10d, "line": 3174},
              {"name": "wrapper", "filename": "/usr/local/lib/python3.11/dist-packages/torch/distributed/c10d_logger.py", "line": 83},
              {"name": "train_step", "filename": "/workspace/train.py", "line": 212},
              {"name": "main", "filename": "/workspace/train.py", "line": 301},
              {"name": "<module>", "filename": "/workspace/train.py", "line": 340}]

    def pre(rank, line, rank_prefix=True):
        node, local = divmod(rank, 4)
        rp = f"[rank{rank}]:" if rank_prefix else ""
        return f"{node}: [default{local}]:{rp}{line}"

    console = []
    per_rank = {r: [] for r in range(8)}

    def both(rank, line, rank_prefix=True):
        console.append(pre(rank, line, rank_prefix))
        per_rank[rank].append((f"[rank{rank}]:" if rank_prefix else "") + line)

    console.append("0: W0314 01:10:02.120000 48188 torch/distributed/run.py:793] Setting OMP_NUM_THREADS environment variable for each process to be 1")
    console.append("1: W0314 01:10:02.311000 51190 torch/distributed/run.py:793] Setting OMP_NUM_THREADS environment variable for each process to be 1")
    for r in range(8):
        node, local = divmod(r, 4)
        both(r, f"{hosts[node]}:{pids[r]}:{pids[r] + 380} [{local}] NCCL INFO Bootstrap : Using eth0:{ips[node]}<0>", False)
    for r in range(8):
        node, local = divmod(r, 4)
        both(r, f"{hosts[node]}:{pids[r]}:{pids[r] + 380} [{local}] NCCL INFO comm 0x55d5c{r}a0 rank {r} nRanks 8 nNodes 2 localRanks 4 localRank {local} MNNVL 0", False)
    # A sub-communicator (per-node group): its ranks are not global ranks.
    for r in range(8):
        node, local = divmod(r, 4)
        both(r, f"{hosts[node]}:{pids[r]}:{pids[r] + 380} [{local}] NCCL INFO comm 0x77e1d{r}b0 rank {local} nRanks 4 nNodes 1 localRanks 4 localRank {local} MNNVL 0", False)
    for step in (1, 2):
        for r in (0,):
            both(r, f"step {step}/5000 loss 2.{31 - step} lr 3.0e-05", False)
    # The watchdog: the waiting ranks time out on SeqNum 808; rank 2 is the first to signal.
    stamp = 'E314 02:21:09.{:09d} ProcessGroupNCCL.cpp:{}'
    waiters = [r for r in range(8) if r != culprit]
    order = [2, 0, 7, 1, 3, 6, 4]
    for i, r in enumerate(order):
        both(r, f"[{stamp.format(224000262 + i * 1111, 616)}] [Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={seq}, OpType=ALLREDUCE, NumelIn=9801523, NumelOut=9801523, Timeout(ms)=600000) ran for 600020 milliseconds before timing out.")
        both(r, f"[{stamp.format(224100262 + i * 1111, 2395)}] [PG ID 0 PG GUID 0(default_pg) Rank {r}]  failure detected by watchdog at work sequence id: {seq} PG status: last enqueued work: {seq}, last completed work: {seq - 1}")
        if r == 2:
            both(r, f"[{stamp.format(224200262, 2732)}] [PG ID 0 PG GUID 0(default_pg) Rank 2] First PG on this rank to signal dumping.")
        both(r, f"[{stamp.format(224300262 + i * 1111, 801)}] Stack trace of the failed collective: ")
        for k, f in enumerate(frames[:3]):
            console.append(f"{r // 4}: [default{r % 4}]:#{k} {f['name']} from {f['filename']}:{f['line']}")
            per_rank[r].append(f"#{k} {f['name']} from {f['filename']}:{f['line']}")
    for r in range(8):
        if r == 2:
            continue
        last = seq if r != culprit else seq - 1
        both(r, f"[{stamp.format(686716232 + r, 1987)}] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Received a dump signal due to a collective timeout from  rank 2 and we will try our best to dump the debug info. Last enqueued NCCL work: {last}, last completed NCCL work: {seq - 1}.This is most likely caused by incorrect usages of collectives, e.g., wrong sizes used across ranks, the order of collectives is not same for all ranks or the scheduled collective, for some reason, didn't run. Additionally, this can be caused by GIL deadlock or other reasons such as network errors or bugs in the communications library (e.g. NCCL), etc.")
    # 60 s later the waiting ranks abort; the culprit is SIGTERM'd by its agent.
    for r in waiters:
        both(r, f"[E314 02:22:09.{300000000 + r:09d} ProcessGroupNCCL.cpp:1595] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Process group watchdog thread terminated with exception: [Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={seq}, OpType=ALLREDUCE, NumelIn=9801523, NumelOut=9801523, Timeout(ms)=600000) ran for 600020 milliseconds before timing out.")
        both(r, f"[E314 02:22:09.{300100000 + r:09d} ProcessGroupNCCL.cpp:1601] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Some NCCL operations have failed or timed out. Due to the asynchronous nature of CUDA kernels, subsequent GPU operations might run on corrupted/incomplete data.")
        both(r, "Exception raised from checkTimeout at /pytorch/torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:635 (most recent call first):", False)
        both(r, "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x98 (0x7f3a1c2b0e88 in /usr/local/lib/python3.11/dist-packages/torch/lib/libc10.so)", False)
        both(r, "terminate called after throwing an instance of 'c10::DistBackendError'", False)
        both(r, f"  what():  [PG ID 0 PG GUID 0(default_pg) Rank {r}] Process group watchdog thread terminated with exception: [Rank {r}] Watchdog caught collective operation timeout", False)
    for node in (0, 1):
        agent = agents[node]
        for r in range(node * 4, node * 4 + 4):
            if r == culprit:
                console.append(f"{node}: W0314 02:22:10.703000 {agent} torch/distributed/elastic/multiprocessing/api.py:900] Sending process {pids[r]} closing signal SIGTERM")
        failed = [r for r in range(node * 4, node * 4 + 4) if r != culprit]
        console.append(f"{node}: E0314 02:22:11.{104000 + node:06d} {agent} torch/distributed/elastic/multiprocessing/api.py:874] failed (exitcode: -6) local_rank: {failed[0] % 4} (pid: {pids[failed[0]]}) of binary: /usr/bin/python3")
        console.append(f"{node}: Traceback (most recent call last):")
        console.append(f"{node}:   File \"/usr/local/bin/torchrun\", line 8, in <module>")
        console.append(f"{node}: torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ")
        console.append(f"{node}: ============================================================")
        console.append(f"{node}: train.py FAILED")
        console.append(f"{node}: ------------------------------------------------------------")
        console.append(f"{node}: Failures:")
        rows = failed[1:]
        for i, r in enumerate(rows):
            console.append(f"{node}: [{i + 1}]:")
            console.append(f"{node}:   time      : 2026-03-14_02:22:11")
            console.append(f"{node}:   host      : {hosts[node]}.cluster.internal")
            console.append(f"{node}:   rank      : {r} (local_rank: {r % 4})")
            console.append(f"{node}:   exitcode  : -6 (pid: {pids[r]})")
            console.append(f"{node}:   error_file: <N/A>")
            console.append(f"{node}:   traceback : Signal 6 (SIGABRT) received by PID {pids[r]}")
        console.append(f"{node}: ------------------------------------------------------------")
        console.append(f"{node}: Root Cause (first observed failure):")
        console.append(f"{node}: [0]:")
        r = failed[0]
        console.append(f"{node}:   time      : 2026-03-14_02:22:11")
        console.append(f"{node}:   host      : {hosts[node]}.cluster.internal")
        console.append(f"{node}:   rank      : {r} (local_rank: {r % 4})")
        console.append(f"{node}:   exitcode  : -6 (pid: {pids[r]})")
        console.append(f"{node}:   error_file: <N/A>")
        console.append(f"{node}:   traceback : Signal 6 (SIGABRT) received by PID {pids[r]}")
        console.append(f"{node}: ============================================================")
        console.append(f"{node}: srun: error: {hosts[node]}: task {node}: Exited with exit code 1")
    # Interleave the two nodes' lines a little, as srun does (keeping each task's own order).
    n0 = [l for l in console if l.startswith("0: ")]
    n1 = [l for l in console if l.startswith("1: ")]
    mixed = []
    while n0 or n1:
        if n0:
            mixed.append(n0.pop(0))
        if n1:
            mixed.append(n1.pop(0))
        if n1:
            mixed.append(n1.pop(0))
    put(f"{base}/slurm-4242.out", "\n".join(mixed) + "\n")
    for r in range(8):
        node, local = divmod(r, 4)
        put(f"{base}/torchrun_logs/node{node}/4242_k3x9q2ab/attempt_0/{local}/stderr.log", "\n".join(per_rank[r]) + "\n")

    # py-spy dumps taken by hand, named by host and pid (no rank in them).
    tqdm = ("Thread {} (idle): \"Thread-2 (monitor)\"", ["wait (threading.py:331)", "run (tqdm/_monitor.py:60)", "_bootstrap_inner (threading.py:1045)", "_bootstrap (threading.py:1002)"])
    pin = ["select (selectors.py:415)", "wait (multiprocessing/connection.py:947)", "_poll (multiprocessing/connection.py:440)", "_pin_memory_loop (torch/utils/data/_utils/pin_memory.py:54)", "run (threading.py:982)"]
    waiting = ["all_reduce (torch/distributed/distributed_c10d.py:3174)", "wrapper (torch/distributed/c10d_logger.py:83)",
               "train_step (train.py:212)", "main (train.py:301)", "<module> (train.py:340)"]
    stuck = ["wait (threading.py:331)", "get (queue.py:180)", "_get_data (torch/utils/data/dataloader.py:1295)",
             "_next_data (torch/utils/data/dataloader.py:1456)", "__next__ (torch/utils/data/dataloader.py:733)",
             "train_step (train.py:198)", "main (train.py:301)", "<module> (train.py:340)"]
    cmd = "/usr/bin/python3 -u train.py --config configs/llama3_8b.yaml"
    for r in range(8):
        node = r // 4
        main = stuck if r == culprit else waiting
        put(f"{base}/pyspy/{hosts[node]}-{pids[r]}.txt",
            pyspy(pids[r], cmd, main, [(pids[r] + 190, "Thread-1 (_pin_memory_loop)", pin), (pids[r] + 191, "Thread-2 (monitor)", tqdm[1])]))
    # Trap: the torchrun agent was dumped too (`pgrep -f train.py`): no rank has that pid.
    put(f"{base}/pyspy/{hosts[0]}-{agents[0]}.txt",
        pyspy(agents[0], "/usr/bin/python3 /usr/local/bin/torchrun --nproc-per-node 4 train.py --config configs/llama3_8b.yaml",
              ["_poll (torch/distributed/elastic/multiprocessing/api.py:700)", "_monitor_workers (torch/distributed/elastic/agent/server/local_elastic_agent.py:370)",
               "run (torch/distributed/elastic/agent/server/api.py:680)", "<module> (torchrun:8)"], []))

    # Flight Recorder: every rank but the culprit dumped (it never got to it).
    for r in range(8):
        if r == culprit:
            continue
        doc = fr_doc(8, seq, seq - 1, frames)
        put(f"{base}/fr/nccl_trace_rank_{r}", TorchPickler().dumps(doc))

    put(f"{base}/ncclras.txt", "\n".join([
        "NCCL version 2.27.5 compiled with CUDA 12.9",
        "CUDA runtime version 12090, driver version 12080",
        "",
        "Job summary",
        "===========",
        "",
        "  Nodes  Processes         GPUs   Processes     GPUs",
        "(total)   per node  per process     (total)  (total)",
        "      2          4            1           8        8",
        "",
        "Communicators... (0.01s)",
        "=============",
        "",
        "Group    Comms     Nodes     Ranks     Ranks     Ranks    Status  Errors",
        "    #  in group  per comm  per node  per comm  in group",
        "    0         1         2         4         8         8   RUNNING  MISMATCH",
        "    1         2         1         4         4         8   RUNNING  OK",
        "",
        "Errors",
        "======",
        "",
        "#0-0 (5a3c9e01d2b47f86) MISMATCH",
        "  Communicator ranks have different AllReduce operation counts",
        "  7 ranks have launched up to operation 16871",
        "  Rank 5 has launched up to operation 16870 -- GPU 1 managed by process 51211 on node 10.64.3.8",
        "",
        "Warnings",
        "========",
        "",
    ]) + "\n")


# ---- 2. gloo_barrier -------------------------------------------------------------------------

def gloo_barrier():
    base = "gloo_barrier/logs/7f3a_abcd1234/attempt_0"
    c10d = "/usr/lib/python3/dist-packages/torch/distributed/distributed_c10d.py"
    waiting = [(c10d, 4357, "monitored_barrier"), ("/usr/lib/python3/dist-packages/torch/distributed/c10d_logger.py", 83, "wrapper"),
               ("/workspace/sft/train.py", 152, "sync_after_checkpoint"), ("/workspace/sft/train.py", 240, "main"), ("/workspace/sft/train.py", 260, "<module>")]
    stuck = [("/usr/lib/python3.11/shutil.py", 197, "copyfileobj"), ("/workspace/sft/ckpt/io.py", 41, "_write_shard"),
             ("/workspace/sft/ckpt/io.py", 88, "save_shard"), ("/workspace/sft/train.py", 148, "save_checkpoint"),
             ("/workspace/sft/train.py", 240, "main"), ("/workspace/sft/train.py", 260, "<module>")]
    tqdm = [("/usr/lib/python3.11/threading.py", 331, "wait"), ("/usr/local/lib/python3.11/dist-packages/tqdm/_monitor.py", 60, "run"),
            ("/usr/lib/python3.11/threading.py", 1045, "_bootstrap_inner"), ("/usr/lib/python3.11/threading.py", 1002, "_bootstrap")]
    for r in range(4):
        main = stuck if r == 2 else waiting
        lines = [f"[rank{r}]:[W314 03:00:01.000000000 ProcessGroupGloo.cpp:715] Warning: Unable to resolve hostname to a (local) address. Using the loopback address as fallback.",
                 "Timeout (0:30:00)!",
                 "Thread 0x00007f1d2effd640 (most recent call first):"]
        lines += [f'  File "{f}", line {n} in {fn}' for f, n, fn in tqdm]
        lines += ["", "Thread 0x00007f1f5b1d3740 (most recent call first):"]
        lines += [f'  File "{f}", line {n} in {fn}' for f, n, fn in main]
        lines += [""]
        if r != 2:
            lines += [f"[rank{r}]: Traceback (most recent call last):",
                      f'[rank{r}]:   File "/workspace/sft/train.py", line 152, in sync_after_checkpoint',
                      f"[rank{r}]: RuntimeError: " + ("[Rank 0]: Rank 2 failed to pass monitoredBarrier in 1800000 ms" if r == 0 else
                                                        "[../third_party/gloo/gloo/transport/tcp/pair.cc:534] Connection closed by peer [10.1.0.5]:2311")]
        put(f"{base}/{r}/stderr.log", "\n".join(lines) + "\n")
        put(f"{base}/{r}/stdout.log", f"epoch 3 step 1200 loss 1.{80 + r}\nsaving checkpoint to /ckpt/step_1200\n")
        if r == 2:
            continue  # killed by SIGTERM: no error file
        if r == 0:
            msg = ("RuntimeError: [Rank 0]: Rank 2 failed to pass monitoredBarrier in 1800000 ms\n Original exception: \n"
                   "[../third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:81] Timed out waiting 1800000ms for recv operation to complete")
        else:
            msg = "RuntimeError: [../third_party/gloo/gloo/transport/tcp/pair.cc:534] Connection closed by peer [10.1.0.5]:2311"
        err = {"message": {"message": msg, "extraInfo": {"py_callstack": "Traceback (most recent call last):\n  File \"/workspace/sft/train.py\", line 152, in sync_after_checkpoint\n    dist.monitored_barrier(timeout=timedelta(minutes=30))\n" + msg + "\n",
                                                         "timestamp": str(1773500544 + r)}}}
        put(f"{base}/{r}/error.json", json.dumps(err))


# ---- 3. seq_only -----------------------------------------------------------------------------

def seq_only():
    base = "seq_only"
    seq = 1234
    culprit = 1
    same = ["_all_gather_base (torch/distributed/distributed_c10d.py:2962)", "all_gather_into_tensor (torch/distributed/distributed_c10d.py:3054)",
            "gather_params (model/fsdp.py:77)", "forward (model/fsdp.py:120)", "train (train.py:90)", "<module> (train.py:140)"]
    for r in range(4):
        pid = 7100 + r
        lines = [f"host-{r // 2}:{pid}:{pid + 9} [{r % 2}] NCCL INFO comm 0x5{r}00 rank {r} nranks 4 cudaDev {r % 2} busId 4a000 - Init COMPLETE"]
        if r != culprit:
            lines.append(f"[rank{r}]:[E ProcessGroupNCCL.cpp:458] [Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={seq}, OpType=ALLGATHER, NumelIn=4194304, NumelOut=16777216, Timeout(ms)=1800000) ran for 1800412 milliseconds before timing out.")
            lines.append(f"[rank{r}]:[E ProcessGroupNCCL.cpp:1709] [PG 0 Rank {r}] Timeout at NCCL work: {seq}, last enqueued NCCL work: {seq}, last completed NCCL work: {seq - 1}.")
        else:
            lines.append(f"[rank{r}]:[E ProcessGroupNCCL.cpp:1987] [PG 0 Rank {r}] Received a dump signal due to a collective timeout from  rank 0 and we will try our best to dump the debug info. Last enqueued NCCL work: {seq - 1}, last completed NCCL work: {seq - 1}.This is most likely caused by incorrect usages of collectives")
        put(f"{base}/rank{r}.log", "\n".join(lines) + "\n")
        put(f"{base}/pyspy/rank{r}.txt", pyspy(pid, "python train.py", same, []))
        doc = fr_doc(4, seq if r != culprit else seq - 1, seq - 1, [], op="nccl:_all_gather_base", sizes=[[4194304]], version="2.5")
        put(f"{base}/fr/rank_{r}.json", fr_json(doc) + "\n")


# ---- 4. conflict -----------------------------------------------------------------------------

def conflict():
    base = "conflict"
    seq = 77
    waiting = ["all_reduce (torch/distributed/distributed_c10d.py:2707)", "step (opt.py:31)", "loop (run.py:50)", "<module> (run.py:70)"]
    other = ["read (ssl.py:1134)", "fetch (data/remote.py:12)", "loop (run.py:44)", "<module> (run.py:70)"]
    console = []
    for r in (0, 1):
        console.append(f"[rank{r}]:[E1206 18:44:12.71558884{r} ProcessGroupNCCL.cpp:616] [Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={seq}, OpType=ALLREDUCE, NumelIn=1024, NumelOut=1024, Timeout(ms)=600000) ran for 600100 milliseconds before timing out.")
    put(f"{base}/console.log", "\n".join(console) + "\n")
    for r in range(3):
        put(f"{base}/py-spy-rank{r}.txt", pyspy(9000 + r, "python run.py", other if r == 2 else waiting, []))
    for r in range(4):
        data = TorchPickler().dumps(fr_doc(4, seq, seq - 1, [{"name": "all_reduce", "filename": "torch/distributed/distributed_c10d.py", "line": 2707}], sizes=[[1024]]))
        if r == 3:
            data = data[:100]  # killed mid-write
        put(f"{base}/nccl_trace_rank_{r}", data)


def main():
    nccl_8rank()
    gloo_barrier()
    seq_only()
    conflict()
    check = "--check" in sys.argv
    bad = 0
    for rel, data in sorted(FILES.items()):
        path = os.path.join(ROOT, rel)
        if check:
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        print("differs:", rel)
                        bad += 1
            except FileNotFoundError:
                print("missing:", rel)
                bad += 1
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    if check:
        print(f"{len(FILES)} files, {bad} differ")
        sys.exit(1 if bad else 0)
    print(f"wrote {len(FILES)} files under {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
