// The failure-signature catalogue: every row has real lines it must name (from the format
// references, ../shared/FORMATS-serving-and-ray.md and FORMATS-hangs.md) and near misses it
// must not, and the table itself is well formed. A new row needs a case here; the test
// CoversEveryRow fails until it has one.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "analyze_logs/core/catalogue.hpp"

using namespace alog::core;

namespace {

struct Case {
  std::string_view id;
  std::vector<std::string_view> hits;    // each must be named exactly this row
  std::vector<std::string_view> misses;  // none may be named this row
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"cuda_graph_fallback",
       {"[2025-12-01 10:06:50 DP0 TP0 EP0] Decode batch, #running-req: 96, #token: 98304, token usage: 0.93, "
        "pre-allocated usage: 0.00, #prealloc-req: 0, #transfer-req: 0, #retracted-req: 0, cuda graph: False, "
        "gen throughput (token/s): 2100.00, #queue-req: 30, ",
        "[2025-07-18 15:32:52 TP0] Decode batch. #running-req: 233, #token: 370959, token usage: 0.84, cuda graph: "
        "False, gen throughput (token/s): 4594.01, #queue-req: 0"},
       {"[2025-12-01 10:06:50 DP0 TP0 EP0] Decode batch, #running-req: 64, cuda graph: True, #queue-req: 0, ",
        "server_args=ServerArgs(disable_cuda_graph=False, cuda_graph_max_bs=64)"}},
      {"kv_pool_retract",
       {"[2025-12-01 10:07:21 DP1 TP1 EP1] KV cache pool is full. Retract requests. #retracted_reqs: 3, "
        "#new_token_ratio: 0.4000 -> 0.6000",
        "[2025-12-01 10:07:22 DP1 TP1 EP1] Decode batch, #running-req: 93, #token: 95232, token usage: 0.97, "
        "#retracted-req: 3, #queue-req: 0, "},
       {"[2025-12-01 10:07:22 DP1 TP1 EP1] Decode batch, #running-req: 93, #retracted-req: 0, #queue-req: 0, ",
        "KV cache pool size: 655360 tokens"}},
      {"pd_imbalance",
       {"[2025-12-01 10:07:22 DP0 TP0 EP0] Decode batch, #running-req: 32, #prealloc-req: 4, #transfer-req: 18, "
        "#retracted-req: 0, cuda graph: True, #queue-req: 0, "},
       {"[2025-12-01 10:07:22 DP0 TP0 EP0] Decode batch, #running-req: 32, #transfer-req: 0, #queue-req: 0, "}},
      {"queue_growth",
       {"[2025-12-01 10:07:22 DP0 TP0 EP0] Decode batch, #running-req: 32, token usage: 0.93, cuda graph: True, "
        "gen throughput (token/s): 1600.00, #queue-req: 30, "},
       {"[2025-12-01 10:07:22 DP0 TP0 EP0] Decode batch, #running-req: 32, #queue-req: 0, ",
        "[2025-12-01 10:07:22 DP0 TP0 EP0] Prefill batch, #new-seq: 4, #running-req: 0, #queue-req: 12, "}},
      {"cuda_oom",
       {"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 768.00 MiB. GPU 0 has a "
        "total capacity of 83.05 GiB of which 140.38 MiB is free. Including non-PyTorch memory, "
        "this process has 23.33 GiB memory in use.",
        "torch.cuda.OutOfMemoryError: HIP out of memory. Tried to allocate 2.00 GiB. GPU  has a "
        "total capacty of 63.98 GiB",
        "RuntimeError: CUDA error: out of memory",
        "[rank3]: torch.OutOfMemoryError: Allocation on device"},
       {"ray.exceptions.OutOfMemoryError: Task was killed due to the node running low on memory.",
        "[2025-11-22 04:21:07 DP0 TP0] Prefill batch. #new-seq: 1, 0 out of memory errors",
        "[2025-11-04 05:27:13 DP0 TP0 EP0] Load weight end. type=DeepseekV3ForCausalLM, "
        "dtype=torch.bfloat16, avail mem=75.11 GB, mem usage=107.07 GB."}},
      {"host_oom",
       {"[12345.678901] Out of memory: Killed process 4242 (python3) total-vm:1234kB, "
        "anon-rss:999kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:12kB oom_score_adj:0",
        "[12345.600000] Memory cgroup out of memory: Killed process 4242 (ray::TrainerActor)",
        "[12345.500000] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
        "task=python3,pid=4242,uid=1000",
        "[12345.400000] python3 invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|"
        "__GFP_COMP), order=0, oom_score_adj=0",
        "slurmstepd: error: Detected 1 oom_kill event in StepId=8538204.0. Some of the step tasks "
        "have been OOM Killed.",
        "srun: error: curie-gpu003: task 1: Out Of Memory",
        "8538204.0    python3   OUT_OF_MEMORY  0:125",
        "(raylet) [2024-08-25 19:21:02,241 E 1111013 1111013] (raylet) node_manager.cc:3064: 12 "
        "Workers (tasks / actors) killed due to memory pressure (OOM), 0 Workers crashed due to "
        "other reasons at node (ID: ab, IP: 172.31.105.218) over the last time period.",
        "ray.exceptions.OutOfMemoryError: Task was killed due to the node running low on memory."},
       {"docker run --oom-kill-disable --gpus all img",
        "[2025-11-22 04:21:07 DP0 TP0] 0 out of memory errors so far",
        "[12345.700000] oom_reaper: reaped process 4242 (python3), now anon-rss:0kB"}},
      {"nccl_timeout",
       {"[rank0]:[E321 02:07:08.408271257 ProcessGroupNCCL.cpp:607] [Rank 0] Watchdog caught "
        "collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=466119168, "
        "NumelOut=466119168, Timeout(ms)=600000) ran for 600060 milliseconds before timing out.",
        "[rank0]:[E321 02:07:08.465150152 ProcessGroupNCCL.cpp:1664] [PG 1 Rank 0] Exception "
        "(either an error or timeout) detected by watchdog at work: 1580, last enqueued NCCL "
        "work: 1582, last completed NCCL work: 1579.",
        "terminate called after throwing an instance of 'c10::DistBackendError'",
        "[rank4]:[E1016 03:31:38.929234295 ProcessGroupNCCL.cpp:1709] [PG 3 Rank 4] Timeout at "
        "NCCL work: 9141, last enqueued NCCL work: 9141, last completed NCCL work: 9140.",
        "[rank3]:[E710 18:00:32.426302794 ProcessGroupNCCL.cpp:2395] [PG ID 0 PG GUID "
        "0(default_pg) Rank 3]  failure detected by watchdog at work sequence id: 59958",
        "[rank144]:[E ProcessGroupNCCL.cpp:1316] [PG 0 Rank 144] Heartbeat monitor timed out! "
        "Process will be terminated after dumping debug info. workMetaList_.size()=1",
        "[Rank 1] Future for ProcessGroup abort timed out after 600000 ms",
        "[rank1]:[E ProcessGroupNCCL.cpp:1182] [Rank 1] NCCL watchdog thread terminated with "
        "exception: NCCL error: remote process exited",
        "[rank3]: To avoid data inconsistency, we are taking the entire process down."},
       {"gpu-a07:48213:48590 [3] NCCL INFO Channel 00/02 : 0[0] -> 1[1] via P2P/IPC",
        "2025-12-03 17:21:05| root: Running command: export TORCH_DISTRIBUTED_DEFAULT_TIMEOUT=3600",
        "[rank7]:[E710 18:00:32.686433436 ProcessGroupNCCL.cpp:1922] [PG ID 0 PG GUID "
        "0(default_pg) Rank 7] Observed flight recorder dump signal from another rank via "
        "TCPStore."}},
      {"actor_died",
       {"ray.exceptions.ActorDiedError: The actor died unexpectedly before finishing this task.",
        "ray.exceptions.RayActorError: The actor died unexpectedly before finishing this task.",
        "(raylet) A worker died or was killed while executing a task by an unexpected system "
        "error. To troubleshoot the problem, check the logs for the dead worker. Worker PID: 4242 "
        "Worker exit type: SYSTEM_ERROR Worker exit detail: Worker unexpectedly exits",
        "The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR "
        "Worker exit detail: Worker unexpectedly exits with a connection error code 2. End of "
        "file. There are some potential root causes. (1) The process is killed by SIGKILL by OOM "
        "killer due to high memory usage. (2) ray stop --force is called. (3) The worker is "
        "crashed unexpectedly due to SIGSEGV or other unexpected errors."},
       {"Worker exit type: INTENDED_USER_EXIT Worker exit detail: Worker exits by an user request.",
        "[2023-02-24 04:29:48,136 I 3772 3772] (raylet) worker_pool.cc:469: Started worker "
        "process with pid 6448, the token is 5539",
        "The actor never ran - it was cancelled before it started running."}},
      {"sglang_crash",
       {"[2025-11-22 04:21:07 DP13 TP13 EP13] Scheduler hit an exception: Traceback (most recent "
        "call last):",
        "[2025-11-22 04:21:08] Received sigquit from a child process. It usually means the child "
        "failed.",
        "Error: Rank 0 scheduler is dead. Exit code: -6 (SIGABRT)",
        "2025-08-05T10:33:30.183Z  WARN engine.sigchld_handler: Child process unexpectedly failed "
        "with exitcode=15. pid=4242"},
       {"[2025-11-22 04:21:07 DP0 TP0] Scheduler started, waiting for requests",
        "2025-08-05T10:33:30.183Z  INFO sighandler.signal: Got signal SIG_HUP"}},
      {"init_failure",
       {"2026-03-11 06:40:02,118 ERROR train_entry.py:211 -- Timeout waiting for Sgl engines to "
        "initialize after 1800s",
        "RuntimeError: Failed to initialize 2 engines: [SglEngine rank 0: CUDA graph capture]"},
       {"Waiting for 16 training actors and 4 inference engines to initialize in parallel...",
        "All 16 training actors and 4 inference engines initialized"}},
      {"native_crash",
       {"terminate called after throwing an instance of 'std::runtime_error'",
        "Fatal Python error: Segmentation fault",
        "bash: line 1: 4242 Segmentation fault      (core dumped) python3 -m sglang.launch_server",
        "*** SIGABRT received at time=1741000000 on cpu 12 ***",
        "*** SIGSEGV (@0x0) received by PID 4242 (TID 0x7f00) from PID 0; stack trace: ***",
        "/bin/sh: line 1:  4242 Aborted                 (core dumped) ./server",
        "what():  std::bad_alloc",
        "RuntimeError: CUDA error: an illegal memory access was encountered",
        "RuntimeError: CUDA error: device-side assert triggered",
        "/pytorch/aten/src/ATen/native/cuda/Indexing.cu:1478: indexSelectSmallIndex: block: "
        "[16,0,0], thread: [0,0,0] Assertion `srcIndex < srcSelectDimSize` failed."},
       {"RuntimeError: CUDA error: out of memory",
        "terminate called after throwing an instance of 'c10::DistBackendError'",
        "The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR "
        "(3) The worker is crashed unexpectedly due to SIGSEGV or other unexpected errors.",
        "[2026-02-04 11:30:30] Capture cuda graph end. Time elapsed: 1.01 s. mem usage=0.07 GB."}},
      {"nccl_error",
       {"kp-ddp-worker-0:3468:3905 [4] ib_plugin.c:1615 NCCL WARN NET/IB : Got completion from "
        "peer 10.216.210.236<54862> with status=12 opcode=0 len=0 vendor err 129 (Recv)",
        "torch.distributed.DistStoreError: NCCL error: remote process exited or there was a "
        "network error, NCCL version 2.19.3",
        "ncclRemoteError: A call failed possibly due to a network error or a remote process "
        "exiting prematurely.",
        "ncclUnhandledCudaError: Call to CUDA function failed."},
       {"gpu-a07:48213:48590 [3] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ; OOB ib0:10.0.0.5<0>",
        "export NCCL_DEBUG=WARN NCCL_SOCKET_IFNAME=ib0"}},
      {"kv_transfer",
       {"[2025-11-22 04:30:12 DP0 TP0] KV transfer failed for request 7f3a: peer unreachable",
        "[2025-11-22 04:30:12] kv_transfer timed out after 300 s",
        "KVTransferError(bootstrap_room=123): failed to send kv chunk",
        "Request aborted: KV_TRANSFER_TIMEOUT"},
       {"[2025-11-22 04:30:12 DP0 TP0] KV transfer completed for 128 requests",
        "disaggregation_transfer_backend=mooncake"}},
      {"killed",
       {"bash: line 12: 4242 Killed                  python3 train.py", "Killed",
        "srun: error: nid001097: task 5: Exited with exit code 137",
        "W0314 02:22:09.703000 48188 api.py:900] Sending process 48213 closing signal SIGKILL"},
       {"[2025-11-22 04:21:07] AutoKilled processes: 0",
        "srun: error: nid001097: task 5: Exited with exit code 255", "Workers Killed: 0"}},
      {"slurm_time_limit",
       {"slurmstepd: error: *** JOB 524549 ON ault43 CANCELLED AT 2024-10-09T23:25:32 DUE TO "
        "TIME LIMIT ***",
        "slurmstepd: error: *** STEP 2261594.7 ON gb200-r5-cn13 CANCELLED AT 2025-12-03T17:42:09 "
        "DUE TO TIME LIMIT ***"},
       {"slurmstepd: error: *** JOB 524549 ON ault43 CANCELLED AT 2024-10-09T23:25:32 ***",
        "#SBATCH --time=04:00:00 # the time limit"}},
      {"slurm_cancelled",
       {"slurmstepd: error: *** STEP 2261594.7 ON gb200-r5-cn13 CANCELLED AT 2025-12-03T17:42:09 "
        "***",
        "slurmstepd: error: *** JOB 524549 ON ault43 CANCELLED AT 2024-10-09T23:25:32 ***"},
       {"srun: Job step aborted: Waiting up to 62 seconds for job step to finish.",
        "slurmstepd: error: *** JOB 524549 ON ault43 CANCELLED AT 2024-10-09T23:25:32 DUE TO TIME "
        "LIMIT ***",
        "JobState=CANCELLED Reason=None"}},
      {"nan_loss",
       {"[2026-03-11 07:02:11,004] trainer.py:412 INFO [Rank 0] step 1580 loss=nan acc=0.000",
        "Step 400 eval: loss: NaN, acc=0.12", "loss = -nan"},
       {"Training:   3%| | 412/14085 [27:28<15:11:32,  4.00s/step, loss=0.987, acc=0.604]",
        "Step 100 eval: loss=0.532, nan_count=0", "loss=nanoseconds_per_step"}},
      {"mooncake_failure",
       {"2026-03-11 06:12:40,001 ERROR train_entry.py:120 -- Failed to launch mooncake master "
        "actor: RuntimeError('port in use')"},
       {"mooncake master actor started: {'host': '172.24.9.11', 'port': 50817}"}},
      {"mooncake_binary_missing",
       {"2026-03-11 06:12:40,001 WARNING mooncake.py:88 -- Binary not found at "
        "/usr/local/bin/mooncake_master, skipping launch"},
       {"(MooncakeMaster pid=4242) Starting mooncake master on port 50817"}},
      {"runtime_error",
       {"SglEngine rank 0: ERROR: No mooncake keys returned for data_id=1234",
        "2026-03-11 07:02:11,004 ERROR loop.py:301 -- Engine dispatch failed: timeout"},
       {"Pool insufficient for dispatch (12 < 16). Reloading dataset."}},
      {"traceback",
       {"Traceback (most recent call last):", "[rank3]: Traceback (most recent call last):"},
       {"Stack (most recent call first):", "Thread 0x00007f1d2effd640 (most recent call first):",
        "  File \"/workspace/torchspec/loop.py\", line 305, in run_training_loop"}},
  };
  return c;
}

std::string_view id_of(const Signature* s) {
  return s ? s->id : std::string_view("(none)");
}

}  // namespace

TEST(CoreCatalogue, EveryRowIsComplete) {
  std::set<std::string_view> ids;
  for (const auto& s : catalogue()) {
    EXPECT_FALSE(s.id.empty());
    EXPECT_FALSE(s.title.empty()) << s.id;
    EXPECT_FALSE(s.fix.empty()) << s.id;
    EXPECT_FALSE(s.patterns.empty()) << s.id;
    for (auto p : s.patterns) EXPECT_FALSE(p.empty()) << s.id;
    EXPECT_TRUE(ids.insert(s.id).second) << "duplicate id " << s.id;
    // A process-ending signature is never milder than critical.
    if (s.fatal) {
      EXPECT_EQ(s.severity, Severity::critical) << s.id;
    }
  }
  EXPECT_GE(ids.size(), 12u);
}

TEST(CoreCatalogue, CoversEveryRow) {
  std::set<std::string_view> tested;
  for (const auto& c : cases()) {
    EXPECT_NE(find_signature(c.id), nullptr) << "case for unknown id " << c.id;
    EXPECT_FALSE(c.hits.empty()) << c.id;
    EXPECT_FALSE(c.misses.empty()) << c.id;
    tested.insert(c.id);
  }
  for (const auto& s : catalogue()) EXPECT_TRUE(tested.count(s.id)) << "no test case for " << s.id;
}

TEST(CoreCatalogue, RealLinesAreNamedByTheirRow) {
  for (const auto& c : cases())
    for (auto line : c.hits) EXPECT_EQ(id_of(match_signature(line)), c.id) << line;
}

TEST(CoreCatalogue, NearMissesAreNotNamedByTheRow) {
  for (const auto& c : cases())
    for (auto line : c.misses) EXPECT_NE(id_of(match_signature(line)), c.id) << line;
}

TEST(CoreCatalogue, HarmlessLinesMatchNothing) {
  for (std::string_view line : {
           "[2024-01-01 00:00:00,000 E 12 12] core_worker_process.cc:191: Failed to establish "
           "connection to the metrics exporter agent. Metrics will not be exported. Exporter "
           "agent status: RpcError: Running out of retries to initialize the metrics agent. "
           "rpc_code: 14",
           "2025-12-03 17:20:38| root: Etcd not ready yet, retrying in 2 seconds... (attempt "
           "1/1000)",
           "[2025-11-22 04:21:07 DP0 TP0] Decode batch. #running-req: 12, #token: 4096, "
           "token usage: 0.01, gen throughput (token/s): 812.34, #queue-req: 0",
           "",
       })
    EXPECT_EQ(match_signature(line), nullptr) << line;
}

TEST(CoreCatalogue, PrecedenceIsRowOrder) {
  // Matches both nccl_timeout (DistBackendError) and native_crash (terminate called ...).
  std::string_view both = "terminate called after throwing an instance of 'c10::DistBackendError'";
  EXPECT_EQ(id_of(match_signature(both)), "nccl_timeout");
  // Within a subset the first row of the subset names the line.
  EXPECT_EQ(id_of(match_signature(both, SignatureSet::of({"native_crash", "traceback"}))),
            "native_crash");
  EXPECT_EQ(match_signature(both, SignatureSet::of({"cuda_oom"})), nullptr);
  EXPECT_EQ(id_of(match_signature(both, SignatureSet::all().without({"nccl_timeout"}))),
            "native_crash");
  // Rows are in the order docs/SIGNATURES.md documents: specific before generic.
  auto index = [](std::string_view id) { return find_signature(id) - catalogue().data(); };
  EXPECT_LT(index("cuda_oom"), index("native_crash"));
  EXPECT_LT(index("host_oom"), index("killed"));
  EXPECT_LT(index("actor_died"), index("native_crash"));
  EXPECT_LT(index("sglang_crash"), index("traceback"));
  EXPECT_LT(index("slurm_time_limit"), index("slurm_cancelled"));
}

TEST(CoreCatalogue, SetsAreBuiltFromIds) {
  auto s = SignatureSet::of({"host_oom", "slurm_cancelled"});
  EXPECT_TRUE(s.contains(*find_signature("host_oom")));
  EXPECT_FALSE(s.contains(*find_signature("cuda_oom")));
  EXPECT_THROW(SignatureSet::of({"no_such_row"}), std::invalid_argument);
  Signature outside{};
  EXPECT_FALSE(SignatureSet::all().contains(outside));
  for (const auto& row : catalogue()) EXPECT_TRUE(SignatureSet::all().contains(row)) << row.id;
}

TEST(CoreCatalogue, FindAndQuote) {
  ASSERT_NE(find_signature("cuda_oom"), nullptr);
  EXPECT_EQ(find_signature("cuda_oom")->title, "CUDA out of memory");
  EXPECT_EQ(find_signature("nope"), nullptr);
  EXPECT_EQ(find_signature("traceback")->quote, Quote::exception);
  EXPECT_EQ(find_signature("sglang_crash")->quote, Quote::exception);
  EXPECT_EQ(find_signature("cuda_oom")->quote, Quote::line);
  EXPECT_EQ(quote_name(Quote::exception), "exception");
  EXPECT_FALSE(find_signature("nccl_error")->fatal);
  EXPECT_TRUE(find_signature("host_oom")->fatal);
}

TEST(CoreCatalogue, LongAndBinaryLines) {
  // A glued tqdm line of hundreds of updates with the OOM at its end, and bytes that are not
  // UTF-8: the match does not depend on the line being short or valid text.
  std::string line;
  for (int i = 0; i < 2000; ++i) line += "\rTraining:  3%|\xe2\x96\x8e | 412/14085 [27:28<15:11]";
  line += "\xff\xfe torch.OutOfMemoryError: CUDA out of memory.";
  EXPECT_EQ(id_of(match_signature(line)), "cuda_oom");
  std::string junk(100000, '\xff');
  EXPECT_EQ(match_signature(junk), nullptr);
}
