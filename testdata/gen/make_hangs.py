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
  primerl_trainer/  a prime-rl run (orchestrator, inference, 4 trainer ranks on 2 nodes in
                 logs/trainer/rank_N.log behind torchrun's [trainerN]: prefix, N the local rank)
                 whose step 13 hangs: rank 2 (gpu-b02, pid 62301) waits for its rollout batch
                 while ranks 0, 1, 3 time out in ALLREDUCE SeqNum 1873 (clip_grad_norm_); rank 0
                 signals the dump first; the heartbeat monitor aborts every rank and faulthandler
                 (SIGABRT from a C++ thread: only `Thread 0x…` blocks, main thread last) dumps
                 each one. The orchestrator waits for checkpoint 13; its last update is sent but
                 never done.
  srtctl_pyspy/  an srtctl job folder (5104_1A, built with testdata/srtctl/sweep/make_sweep.py as
                 the findings jobs are): one aggregated SGLang worker, TP4 with DP attention. c16
                 runs; c32 starts at 10:06:40 and the worker stops. 300 s later each scheduler's
                 watchdog writes `Pyspy dump for PID …` (only that line has the `[… DPn TPn EPn]`
                 prefix): TP0, TP1 and TP3 wait in all_reduce, TP2 (pid 31412) in
                 torch.cuda.synchronize. Only the stack tells: a low-confidence culprit.
  snapshots/     4 ranks, py-spy dumps appended (`>>`) twice per rank five minutes apart, a date
                 line before each: ranks 0, 1, 3 sit in the same all_gather both times, rank 2
                 moved (its data pipeline loops: first in decode, then in tokenize); its own
                 watchdog line says it enqueued 4410 while the others time out on 4411.
  p2p/           4 ranks, 2 pipeline stages (0->1, 2->3), Flight Recorder pickles only (plus a
                 py-spy dump of rank 1): rank 0's `nccl:send 0->1` (p2p_seq_id 57) is pending,
                 rank 1's dump has no pending recv from 0 (it is in its data loader); ranks 2
                 and 3 completed every send/recv. The peer that never posted the recv is rank 1.
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


# ---- 5. primerl_trainer ----------------------------------------------------------------------

def primerl_trainer():
    base = "primerl_trainer/logs"
    hosts = ["gpu-b01", "gpu-b02"]
    pids = [62210, 62211, 62301, 62302]
    culprit = 2
    seq = 1873
    steps = 12
    clock = [11 * 3600 + 5 * 60]

    def hms(t):
        return f"{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}"

    def tid(k):
        return f"{(0x3c1f5e0a9b7d2461 * (k + 7)) & 0xFFFFFFFFFFFFFFFF:016x}"

    orch, inf = [], []
    ranks = {r: [] for r in range(4)}

    def tr(r, line):
        ranks[r].append(f"[trainer{r % 2}]:{line}")

    def info(t, msg, level="   INFO"):
        return f"{hms(t)} {level} {msg}"

    t = clock[0]
    orch.append(info(t, "Starting orchestrator"))
    orch.append(info(t, "Connecting to inference server at http://10.0.0.9:8000"))
    inf.append("INFO 10-14 11:04:10 [api_server.py:1805] vLLM API server version 0.10.1.1")
    for r in range(4):
        node, local = divmod(r, 2)
        tr(r, info(t - 40, f"Starting RL trainer on 4 GPUs (world_size=4, rank={r})"))
        tr(r, f"{hosts[node]}:{pids[r]}:{pids[r]} [{local}] NCCL INFO Bootstrap : Using eth0:10.0.1.{node + 1}<0>")
        tr(r, f"{hosts[node]}:{pids[r]}:{pids[r] + 611} [{local}] NCCL INFO comm 0x5601a{r}c0 rank {r} nRanks 4 nNodes 2 localRanks 2 localRank {local} MNNVL 0")
        tr(r, f"[rank{r}]:[W1014 11:04:35.{412381 + r} ProcessGroupNCCL.cpp:4715] [PG ID 0 PG GUID 0 Rank {r}]  using GPU {local} to perform barrier as devices used by this process are currently unknown. This can potentially cause a hang if this rank to GPU mapping is incorrect.")
    tr(0, info(t - 20, "Initialized optimizer AdamW (lr=1.00e-06, weight_decay=0.01)"))
    mono = 41820.5
    for step in range(1, steps + 2):
        t += 30
        trace = tid(step)
        send_t = mono + (t - clock[0])
        rpc = 900.0 + 37.0 * (step % 5)
        queue = 20.0 + 3.0 * (step % 4)
        ckpt = f"/models/run/checkpoints/step_{step - 1}"
        orch.append(info(t, f"[weights][{trace}] client.send url=http://10.0.0.9:8000 path={ckpt} t={send_t:.6f}"))
        inf.append(f"INFO 10-14 {hms(t)} [server.py:88] [weights][{trace}] server.recv path=/update_weights t={send_t + 0.0412:.6f}")
        if step == steps + 1:
            # The trainer never wrote checkpoint 12's successor: the update is sent, its RPC hangs.
            inf.append(f"INFO 10-14 {hms(t)} [server.py:131] [weights][{trace}] rpc.start op=update_weights t={send_t + 0.0413:.6f}")
            orch.append(info(t + 1, f"Orchestrator paused: waiting for trainer process to complete checkpoint {step} (>1 step(s) ahead). Training is progressing normally."))
            break
        inf.append(f"INFO 10-14 {hms(t)} [server.py:131] [weights][{trace}] rpc.start op=update_weights t={send_t + 0.0413:.6f}")
        inf.append(f"INFO 10-14 {hms(t + 1)} [server.py:139] [weights][{trace}] rpc.done op=update_weights t={send_t + 0.0413 + rpc / 1000:.6f} rpc_ms={rpc:.1f}")
        orch.append(info(t + 1, f"[weights][{trace}] client.done wall_ms={rpc + queue:.1f} rpc_ms={rpc:.1f} queue_ms={queue:.1f}"))
        orch.append(info(t + 20, f"Step {step} | Time: 21.{step:02d}s | Reward: 0.{4100 + step * 7} | Throughput: 2408.9 tokens/s | Seq. Length: 845.6 tokens/sample | Async Level: 1 | Max. Off-Policy Level: 0", "SUCCESS"))
        tr(0, info(t + 18, f"Step {step} | Time: 18.{step:02d}s | Loss: 0.00{12 + step} | Entropy: 0.4511 | Grad. Norm: 0.2101 | LR: 1.00e-06 | Throughput: 9120 tokens/s | MFU: 31.4%", "SUCCESS"))
        for r in (1, 2, 3):
            tr(r, info(t + 18, f"Rank {r} finished step {step} (peak memory 61.{10 + r} GiB)", "  DEBUG"))
        tr(0, info(t + 19, f"Saving weight checkpoint to /models/run/checkpoints/step_{step}"))
        tr(0, info(t + 20, f"[ckpt] write.done step={step} write_ms={700 + 11 * step:.1f}"))
    # Step 13: rank 2 waits for its rollout batch; the others enter clip_grad_norm_'s all-reduce.
    for r in range(4):
        tr(r, info(t + 21, f"Waiting for rollouts of step {steps + 1} in /models/run/rollouts/step_{steps}"))
    c10d = "/usr/local/lib/python3.12/dist-packages/torch/distributed/distributed_c10d.py"
    waiting = [(c10d, 2806, "all_reduce"),
               ("/usr/local/lib/python3.12/dist-packages/torch/distributed/c10d_logger.py", 81, "wrapper"),
               ("/usr/local/lib/python3.12/dist-packages/torch/distributed/tensor/_api.py", 1104, "full_tensor"),
               ("/workspace/prime-rl/src/prime_rl/trainer/rl/train.py", 352, "clip_grad_norm_"),
               ("/workspace/prime-rl/src/prime_rl/trainer/rl/train.py", 288, "train"),
               ("/workspace/prime-rl/src/prime_rl/trainer/rl/train.py", 420, "main")]
    stuck = [("/usr/lib/python3.12/threading.py", 359, "wait"),
             ("/usr/lib/python3.12/threading.py", 655, "wait"),
             ("/workspace/prime-rl/src/prime_rl/trainer/rl/data.py", 142, "_wait_for_batch"),
             ("/workspace/prime-rl/src/prime_rl/trainer/rl/data.py", 171, "get_batch"),
             ("/workspace/prime-rl/src/prime_rl/trainer/rl/train.py", 231, "train"),
             ("/workspace/prime-rl/src/prime_rl/trainer/rl/train.py", 420, "main")]
    pin = [("/usr/lib/python3.12/selectors.py", 415, "select"),
           ("/usr/local/lib/python3.12/dist-packages/torch/utils/data/_utils/pin_memory.py", 56, "_pin_memory_loop"),
           ("/usr/lib/python3.12/threading.py", 1012, "run"),
           ("/usr/lib/python3.12/threading.py", 1075, "_bootstrap_inner"),
           ("/usr/lib/python3.12/threading.py", 1032, "_bootstrap")]
    stamp = "E1014 {}.{:09d} ProcessGroupNCCL.cpp:{}"
    tout = t + 21 + 600
    for i, r in enumerate((0, 3, 1)):
        tr(r, f"[rank{r}]:[{stamp.format(hms(tout), 224000262 + i * 1111, 632)}] [Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={seq}, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600083 milliseconds before timing out.")
        tr(r, f"[rank{r}]:[{stamp.format(hms(tout), 224100262 + i * 1111, 2395)}] [PG ID 0 PG GUID 0(default_pg) Rank {r}]  failure detected by watchdog at work sequence id: {seq} PG status: last enqueued work: {seq}, last completed work: {seq - 1}")
        if r == 0:
            tr(r, f"[rank{r}]:[{stamp.format(hms(tout), 224200262, 2732)}] [PG ID 0 PG GUID 0(default_pg) Rank 0] First PG on this rank to signal dumping.")
        tr(r, f"[rank{r}]:[{stamp.format(hms(tout), 224300262 + i * 1111, 801)}] Stack trace of the failed collective: ")
        for k, (f, n, fn) in enumerate(waiting[:3]):
            tr(r, f"#{k} {fn} from {f}:{n}")
    for r in (1, 2, 3):
        last = seq - 1 if r == culprit else seq
        tr(r, f"[rank{r}]:[{stamp.format(hms(tout), 686716232 + r, 1987)}] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Received a dump signal due to a collective timeout from  rank 0 and we will try our best to dump the debug info. Last enqueued NCCL work: {last}, last completed NCCL work: {seq - 1}.This is most likely caused by incorrect usages of collectives, e.g., wrong sizes used across ranks, the order of collectives is not same for all ranks or the scheduled collective, for some reason, didn't run. Additionally, this can be caused by GIL deadlock or other reasons such as network errors or bugs in the communications library (e.g. NCCL), etc.")
    # 60 s later every process is taken down (SIGABRT from a C++ thread); faulthandler dumps it.
    for r in range(4):
        if r != culprit:
            tr(r, f"[rank{r}]:[E1014 {hms(tout + 60)}.{300000000 + r:09d} ProcessGroupNCCL.cpp:1601] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Some NCCL operations have failed or timed out. Due to the asynchronous nature of CUDA kernels, subsequent GPU operations might run on corrupted/incomplete data.")
            tr(r, f"[rank{r}]:[E1014 {hms(tout + 60)}.{300100000 + r:09d} ProcessGroupNCCL.cpp:1595] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Process group watchdog thread terminated with exception: [Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={seq}, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600083 milliseconds before timing out.")
            tr(r, "terminate called after throwing an instance of 'c10::DistBackendError'")
            tr(r, f"  what():  [PG ID 0 PG GUID 0(default_pg) Rank {r}] Process group watchdog thread terminated with exception: [Rank {r}] Watchdog caught collective operation timeout")
        else:
            tr(r, f"[rank{r}]:[F1014 {hms(tout + 480)}.{500000000 + r:09d} ProcessGroupNCCL.cpp:1743] [PG ID 0 PG GUID 0(default_pg) Rank {r}] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Terminating the process after attempting to dump debug info, due to collective timeout or exception.")
        main = stuck if r == culprit else waiting
        tr(r, "Fatal Python error: Aborted")
        tr(r, "")
        tr(r, f"Thread 0x00007f{0x1d2effd640 + r * 0x1000:010x} (most recent call first):")
        for f, n, fn in pin:
            tr(r, f'  File "{f}", line {n} in {fn}')
        tr(r, "")
        tr(r, f"Thread 0x00007f{0x1f5b1d3740 + r * 0x1000:010x} (most recent call first):")
        for f, n, fn in main:
            tr(r, f'  File "{f}", line {n} in {fn}')
        tr(r, "")
        tr(r, "Extension modules: numpy.core._multiarray_umath, torch._C, torch._C._fft, torch._C._linalg, torch._C._nn (total: 5)")
    put("primerl_trainer/logs/orchestrator.log", "\n".join(orch) + "\n")
    put("primerl_trainer/logs/inference.log", "\n".join(inf) + "\n")
    for r in range(4):
        put(f"{base}/trainer/rank_{r}.log", "\n".join(ranks[r]) + "\n")


# ---- 6. srtctl_pyspy ---------------------------------------------------------------------------

def srtctl_pyspy():
    import tempfile
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "srtctl", "sweep"))
    from make_sweep import hms, job, server_args  # noqa: E402
    pids = [31410, 31411, 31412, 31413]
    culprit = 2
    waiting = ["all_reduce (torch/distributed/distributed_c10d.py:2806)",
               "_all_reduce_in_place (sglang/srt/distributed/device_communicators/pynccl_wrapper.py:118)",
               "all_reduce (sglang/srt/distributed/parallel_state.py:478)",
               "forward (sglang/srt/layers/linear.py:1305)",
               "forward_batch_generation (sglang/srt/managers/tp_worker.py:236)",
               "run_batch (sglang/srt/managers/scheduler.py:1742)",
               "event_loop_overlap (sglang/srt/managers/scheduler.py:1021)",
               "run_scheduler_process (sglang/srt/managers/scheduler.py:2567)"]
    stuck = ["synchronize (torch/cuda/__init__.py:985)",
             "resolve_last_batch_result (sglang/srt/managers/scheduler_output_processor_mixin.py:223)",
             "process_batch_result_decode (sglang/srt/managers/scheduler_output_processor_mixin.py:241)",
             "event_loop_overlap (sglang/srt/managers/scheduler.py:1033)",
             "run_scheduler_process (sglang/srt/managers/scheduler.py:2567)"]
    watchdog = ["_watchdog_once (sglang/srt/utils/watchdog.py:88)",
                "_watchdog_thread (sglang/srt/utils/watchdog.py:61)",
                "run (threading.py:1012)", "_bootstrap_inner (threading.py:1075)", "_bootstrap (threading.py:1032)"]

    def decode(t, dp, run, gen):
        return (f"[{hms(t)} DP{dp} TP{dp} EP{dp}] Decode batch, #running-req: {run}, #token: {run * 1024}, "
                f"token usage: 0.10, cuda graph: True, gen throughput (token/s): {gen:.2f}, #queue-req: 0, ")

    def worker(hosts):
        L = ["2025-12-01 10:00:05| root: Aggregated worker setup started",
             server_args(10, 256).replace("dp_size=2", "dp_size=4")]
        for t in (230, 250, 270):  # c16 at 200-300
            L += [decode(t, dp, 4, 200.0) for dp in range(4)]
        L += [decode(405, dp, 8, 240.0) for dp in range(4)]  # c32 from 400: one line, then nothing
        for tp in range(4):
            pid = pids[tp]
            pre = f"[{hms(705 + tp)} DP{tp} TP{tp} EP{tp}]"
            L.append(f"{pre} Pyspy dump for PID {pid}:")
            L.append(f"Process {pid}: sglang::scheduler_DP{tp}_TP{tp}_EP{tp}")
            L.append("Python v3.12.3 (/usr/bin/python3.12)")
            L.append("")
            L.append(f'Thread {pid} (idle): "MainThread"')
            L += ["    " + f for f in (stuck if tp == culprit else waiting)]
            L.append(f'Thread {pid + 187} (active): "Thread-3 (_watchdog_thread)"')
            L += ["    " + f for f in watchdog]
            L.append("")
            L.append(f"{pre} Scheduler watchdog timeout (self.watchdog_timeout=300, self.soft=False)")
        L.append(f"[{hms(710)}] Received sigquit from a child process. It usually means the child failed.")
        return {f"{hosts[0]}_agg_w0.err": L}

    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            folder = "5104_1A_20251201_100000"
            job(5104, folder, "aggregated", 1, [(16, 800, 12.5, 200, 300)], worker, unfinished=(32, 400))
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), "rb") as f:
                    put(f"srtctl_pyspy/{folder}/{name}", f.read())
        finally:
            os.chdir(cwd)


# ---- 7. snapshots ------------------------------------------------------------------------------

def snapshots():
    base = "snapshots"
    seq = 4411
    culprit = 2
    same = ["_all_gather_base (torch/distributed/distributed_c10d.py:2962)",
            "all_gather_into_tensor (torch/distributed/distributed_c10d.py:3054)",
            "gather_params (model/fsdp.py:77)", "forward (model/fsdp.py:120)", "train (train.py:90)",
            "<module> (train.py:140)"]
    first = ["decode (data/image.py:41)", "__getitem__ (data/dataset.py:88)", "fetch (data/loader.py:52)",
             "next_batch (train.py:71)", "train (train.py:84)", "<module> (train.py:140)"]
    later = ["tokenize (data/text.py:19)", "__getitem__ (data/dataset.py:91)", "fetch (data/loader.py:52)",
             "next_batch (train.py:71)", "train (train.py:84)", "<module> (train.py:140)"]
    for r in range(4):
        pid = 8200 + r
        lines = [f"node-0:{pid}:{pid + 7} [{r}] NCCL INFO comm 0x7{r}00 rank {r} nRanks 4 nNodes 1 localRanks 4 localRank {r} MNNVL 0"]
        if r != culprit:
            lines.append(f"[rank{r}]:[E314 04:10:02.{100000000 + r:09d} ProcessGroupNCCL.cpp:616] [Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={seq}, OpType=_ALLGATHER_BASE, NumelIn=262144, NumelOut=1048576, Timeout(ms)=600000) ran for 600031 milliseconds before timing out.")
            lines.append(f"[rank{r}]:[E314 04:10:02.{200000000 + r:09d} ProcessGroupNCCL.cpp:2395] [PG ID 0 PG GUID 0(default_pg) Rank {r}]  failure detected by watchdog at work sequence id: {seq} PG status: last enqueued work: {seq}, last completed work: {seq - 1}")
        else:
            lines.append(f"[rank{r}]:[E314 04:10:02.{686716232:09d} ProcessGroupNCCL.cpp:1987] [PG ID 0 PG GUID 0(default_pg) Rank {r}] Received a dump signal due to a collective timeout from  rank 0 and we will try our best to dump the debug info. Last enqueued NCCL work: {seq - 1}, last completed NCCL work: {seq - 1}.This is most likely caused by incorrect usages of collectives")
        put(f"{base}/rank{r}.log", "\n".join(lines) + "\n")
        snaps = []
        for k, stamp in enumerate(("2026-03-14 04:02:00", "2026-03-14 04:07:00")):
            main = (first if k == 0 else later) if r == culprit else same
            snaps.append(f"=== {stamp} ===\n" + pyspy(pid, "python train.py", main, [(pid + 40, "Thread-1 (_pin_memory_loop)", ["select (selectors.py:415)", "_pin_memory_loop (torch/utils/data/_utils/pin_memory.py:56)"])]))
        put(f"{base}/pyspy/rank{r}.txt", "".join(snaps))


# ---- 8. p2p ------------------------------------------------------------------------------------

def p2p():
    base = "p2p"
    t0 = 1773454269194064333
    frames = [{"name": "send", "filename": "torch/distributed/distributed_c10d.py", "line": 2338},
              {"name": "send_forward", "filename": "pipeline/schedule.py", "line": 144},
              {"name": "step", "filename": "pipeline/schedule.py", "line": 310}]

    def entry(seq, op, done, p2p_seq):
        return {"frames": frames, "record_id": seq, "pg_id": 0, "process_group": ("0", "default_pg"),
                "thread_name": "pt_main_thread", "thread_id": "139807877388089",
                "collective_seq_id": 0, "p2p_seq_id": p2p_seq, "op_id": seq,
                "profiling_name": op, "time_created_ns": t0 + seq * 1_000_000,
                "input_sizes": [[4096, 8192]], "input_dtypes": ["BFloat16"],
                "output_sizes": [[4096, 8192]], "output_dtypes": ["BFloat16"],
                "state": "completed" if done else "scheduled",
                "time_discovered_started_ns": None,
                "time_discovered_completed_ns": (t0 + seq * 1_000_000 + 5_000_000) if done else None,
                "retired": done, "timeout_ms": 600000, "is_p2p": True}

    for r in range(4):
        src, dst = (0, 1) if r < 2 else (2, 3)
        sender = r == src
        op = f"nccl:send {src}->{dst}" if sender else f"nccl:recv {dst}<-{src}"
        entries = [entry(k, op, True, k) for k in (54, 55, 56)]
        if r == 0:
            entries.append(entry(57, op, False, 57))  # the send rank 1 never receives
        elif r in (2, 3):
            entries.append(entry(57, op, True, 57))
        doc = {"version": "2.10",
               "pg_config": {"0": {"name": "0", "desc": "default_pg", "ranks": str(list(range(4)))}},
               "comm_lib_version": "2.27.5",
               "pg_status": {"0": {"last_enqueued_collective": 12, "last_started_collective": -1,
                                   "last_completed_collective": 12}},
               "entries": entries}
        put(f"{base}/nccl_trace_rank_{r}", TorchPickler().dumps(doc))
    put(f"{base}/pyspy/rank1.txt", pyspy(9301, "python pipeline_train.py",
                                         ["wait (threading.py:331)", "get (queue.py:180)",
                                          "__next__ (torch/utils/data/dataloader.py:733)",
                                          "recv_forward (pipeline/schedule.py:131)", "step (pipeline/schedule.py:305)"], []))


def main():
    nccl_8rank()
    gloo_barrier()
    seq_only()
    conflict()
    primerl_trainer()
    srtctl_pyspy()
    snapshots()
    p2p()
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
