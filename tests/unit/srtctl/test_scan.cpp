// log.out topology and the failure-signature scan of single log files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {

const fs::path kLogs = fs::path(ALOG_TESTDATA) / "srtctl" / "logs";

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("alog_srtctl_scan_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::path p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

LogScan scan(const fs::path& p, ScanMode mode = ScanMode::worker, bool utc = false) {
  std::vector<Problem> problems;
  std::string name = p.filename().string();
  LogFileId id = name == "log.err"         ? LogFileId{"batch", -1, ""}
                 : name == "benchmark.err" ? LogFileId{"benchmark", -1, ""}
                                           : classify_log_file(name).value();
  return scan_log(p, p.filename().string(), id, mode, problems, utc);
}

}  // namespace

TEST(SrtctlLogOut, TopologyFromTheHealthyJob) {
  std::vector<Problem> problems;
  Topology t = parse_log_out(kLogs / "4459_2P_1D_20251122_041341" / "log.out", "log.out", problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(t.nodes.size(), 4u);
  EXPECT_EQ(t.nodes[0], "watchtower-aqua-cn01");
  EXPECT_EQ(t.nodes[3], "watchtower-aqua-cn04");
  EXPECT_EQ(t.master_ip, "10.30.1.49");
  EXPECT_EQ(t.master_node, "watchtower-aqua-cn02");
  EXPECT_EQ(t.nginx_node, "watchtower-aqua-cn01");
  EXPECT_EQ(t.frontend_url, "http://watchtower-aqua-cn01:8000");
  ASSERT_EQ(t.leaders.size(), 3u);
  EXPECT_EQ(t.leaders[0].role, "prefill");
  EXPECT_EQ(t.leaders[0].index, 0);
  EXPECT_EQ(t.leaders[0].node, "watchtower-aqua-cn01");
  EXPECT_EQ(t.leaders[0].ip, "10.30.1.163");
  EXPECT_EQ(t.leaders[1].node, "watchtower-aqua-cn02");
  EXPECT_EQ(t.leaders[2].role, "decode");
  EXPECT_EQ(t.leaders[2].index, 0);
  EXPECT_EQ(t.leaders[2].node, "watchtower-aqua-cn03");
  EXPECT_EQ(t.leaders[2].ip, "10.30.1.153");
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.finished_at, "Sat Nov 22 04:58:31 UTC 2025");
  EXPECT_EQ(t.clock_zone, "UTC");
  EXPECT_TRUE(t.errors.empty());
}

TEST(SrtctlLogOut, SingleFrontendLayoutExtraFrontendsAndErrors) {
  TempDir d;
  auto p = d.write("log.out",
                   "Node 0: gb200-r5-cn13\n"
                   "Node 1: gb200-r5-cn14\n"
                   "Master IP address: 10.52.8.11\n"
                   "Additional frontend 1 on node 1: gb200-r5-cn14 (10.52.8.12)\n"
                   "Aggregated worker 0 leader: gb200-r5-cn13 ()\n"
                   "Error: Expected 3 nodes but got 2 nodes\n"
                   "Script finished at Wed Dec  3 17:42:08 PST 2025 with exit code -1\n");
  std::vector<Problem> problems;
  Topology t = parse_log_out(p, "log.out", problems);
  EXPECT_EQ(t.master_node, "gb200-r5-cn13");  // no "(node n)": node 0
  ASSERT_EQ(t.frontends.size(), 1u);
  EXPECT_EQ(t.frontends[0].index, 1);
  EXPECT_EQ(t.frontends[0].ip, "10.52.8.12");
  ASSERT_EQ(t.leaders.size(), 1u);
  EXPECT_EQ(t.leaders[0].role, "agg");
  EXPECT_EQ(t.leaders[0].ip, "");
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors[0], "Error: Expected 3 nodes but got 2 nodes");
  EXPECT_EQ(t.exit_code, -1);
  EXPECT_EQ(t.clock_zone, "PST");
}

TEST(SrtctlScan, TracebackGivesExceptionAndLastFrame) {
  TempDir d;
  auto p = d.write("cn05_decode_w0.err",
                   "2025-11-22 06:15:40| root: Decode worker setup started\n"
                   "[2025-11-22 06:41:52 DP0 TP0 EP0] Decode batch, #running-req: 64, #token: 1, "
                   "token usage: 0.86, cuda graph: True, gen throughput (token/s): 1252.61, "
                   "#queue-req: 0, \n"
                   "[2025-11-22 06:41:55 DP2 TP2 EP2] Scheduler hit an exception: Traceback (most "
                   "recent call last):\n"
                   "  File \"/sgl/scheduler.py\", line 2712, in run_scheduler_process\n"
                   "    raise RuntimeError(\"not this one\")\n"
                   "           ^^^^^^^^^^^^^^^^^^^^^\n"
                   "  File \"/sgl/layer.py\", line 512, in forward\n"
                   "    x = torch.empty(n)\n"
                   "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.75 GiB. GPU 2 "
                   "has a total capacity of 184.31 GiB of which 1.12 GiB is free.\n"
                   "\n"
                   "[2025-11-22 06:41:55] Received sigquit from a child process. It usually means "
                   "the child failed.\n"
                   "2025-11-22 06:41:57| root: Decode worker setup complete\n");
  LogScan s = scan(p);
  EXPECT_EQ(s.log.lines, 12u);
  EXPECT_EQ(s.log.first_time, "2025-11-22 06:15:40");
  EXPECT_EQ(s.log.last_time, "2025-11-22 06:41:57");
  EXPECT_TRUE(s.log.setup_complete);
  ASSERT_EQ(s.tracebacks.size(), 1u);
  EXPECT_EQ(s.tracebacks[0].line, 3u);
  EXPECT_EQ(s.tracebacks[0].exception_line, 9u);
  EXPECT_EQ(s.tracebacks[0].last_frame, "File \"/sgl/layer.py\", line 512, in forward");
  EXPECT_EQ(s.tracebacks[0].exception.rfind("torch.OutOfMemoryError: CUDA out of memory.", 0), 0u);
  // Frames and source lines (even "raise RuntimeError") are not hits of their own.
  ASSERT_EQ(s.hits.size(), 3u);
  EXPECT_EQ(s.hits[0].kind, "sglang_crash");
  EXPECT_EQ(s.hits[0].line, 3u);
  EXPECT_TRUE(s.hits[0].exact);
  EXPECT_EQ(s.hits[1].kind, "cuda_oom");
  EXPECT_EQ(s.hits[1].line, 9u);
  EXPECT_FALSE(s.hits[1].exact);
  EXPECT_EQ(s.hits[1].time, "2025-11-22 06:41:55");  // dated by the next stamped line
  EXPECT_EQ(s.hits[2].kind, "sglang_crash");
}

TEST(SrtctlScan, UnstampedHitTakesTheNextStampUnlessTheTeardownComesFirst) {
  TempDir d;
  auto p = d.write("cn16_decode_w0.err",
                   "[2025-11-22 08:01:43 DP4 TP4 EP4] Init torch distributed begin.\n"
                   "cn16:51234:51234 [0] misc/socket.cc:484 NCCL WARN socketStartConnect: "
                   "Connect to 10.30.1.183<40127> failed\n"
                   "[2025-11-22 08:03:00 DP4 TP4 EP4] still here\n"
                   "cn16:51234:51234 [0] misc/socket.cc:567 NCCL WARN socketProgress: Connection "
                   "closed by remote peer\n"
                   "slurmstepd: error: *** STEP 4461.6 ON cn16 CANCELLED AT 2025-11-22T09:01:13 "
                   "***\n"
                   "Traceback (most recent call last):\n"
                   "  File \"/x.py\", line 1, in <module>\n"
                   "KeyboardInterrupt\n");
  LogScan s = scan(p);
  ASSERT_EQ(s.hits.size(), 4u);
  EXPECT_EQ(s.hits[0].kind, "nccl_error");
  EXPECT_EQ(s.hits[0].time, "2025-11-22 08:03:00");
  EXPECT_EQ(s.hits[1].kind, "nccl_error");
  EXPECT_EQ(s.hits[1].time, "2025-11-22 08:03:00");  // the CANCELLED line does not date it
  // What the step printed while being killed carries the teardown stamp.
  EXPECT_EQ(s.hits[2].kind, "traceback");
  EXPECT_EQ(s.hits[2].time, "2025-11-22 09:01:13");
  EXPECT_EQ(s.hits[3].kind, "exception");
  ASSERT_EQ(s.cancelled.size(), 1u);
  EXPECT_EQ(s.cancelled[0].time, "2025-11-22 09:01:13");
  EXPECT_EQ(s.cancelled[0].line, 5u);
  EXPECT_EQ(s.cancelled[0].node, "cn16");
  EXPECT_FALSE(s.cancelled[0].time_limit);
}

TEST(SrtctlScan, NoiseIsIgnoredAndProgressBarsAreSplit) {
  TempDir d;
  auto p = d.write(
      "cn01_prefill_w0.err",
      "2025-12-03 17:20:38| root: Etcd not ready yet, retrying in 2 seconds... (attempt 1/1000)\n"
      "2025-12-03 17:21:05| root: Running command: export TORCH_NCCL_ASYNC_ERROR_HANDLING=1 && "
      "python3 -m dynamo.sglang --crash-on-Error\n"
      "[2025-12-03 17:21:19] server_args=ServerArgs(enable_error_dump=True, ErrorMode=None)\n"
      "(raylet) Failed to establish connection to the metrics exporter agent. Error: x\n"
      "cn01:1:2 [0] NCCL INFO NET/IB : Error-free setup\n"
      "[2025-12-03 17:21:20 TP0] Ignore import error when loading sglang.srt.models.foo\n"
      "\rLoading:  50% | 1/2\rLoading: 100% | 2/2\rRuntimeError: CUDA error: an illegal memory "
      "access was encountered\n");
  LogScan s = scan(p);
  ASSERT_EQ(s.hits.size(), 1u);
  EXPECT_EQ(s.hits[0].kind, "native_crash");  // "CUDA error: " glued after the bar
  EXPECT_EQ(s.hits[0].line, 7u);
  EXPECT_EQ(s.hits[0].text.rfind("RuntimeError: CUDA error:", 0), 0u);
}

TEST(SrtctlScan, SignatureTable) {
  TempDir d;
  auto p = d.write(
      "cn01_decode_w1.err",
      "[rank3]:[E321 02:07:08.408271257 ProcessGroupNCCL.cpp:607] [Rank 3] Watchdog caught "
      "collective operation timeout: WorkNCCL(SeqNum=4, OpType=BROADCAST) ran for 900014 ms\n"
      "terminate called after throwing an instance of 'std::runtime_error'\n"
      "Memory cgroup out of memory: Killed process 4242 (python3) total-vm:1kB\n"
      "/scripts/worker_setup.py: line 12:  4242 Killed                  python3 -m x\n"
      "[2025-12-03 17:21:20 TP0] Decode transfer failed: KV transfer timed out after 30 s\n"
      "\x1b[2m2025-12-03T17:21:21.000Z\x1b[0m \x1b[31mERROR\x1b[0m dynamo_runtime: lost lease\n"
      "ValueError: bad value\n"
      "2025/12/03 17:21:22 [error] 41#41: *7 connect() failed (111: Connection refused)\n"
      "2025/12/03 17:21:22 [notice] 1#1: start worker processes\n");
  LogScan s = scan(p);
  std::vector<std::string> kinds;
  for (const auto& h : s.hits) kinds.push_back(h.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"nccl_timeout", "native_crash", "host_oom", "killed",
                                             "kv_transfer", "error", "error", "error"}));
  EXPECT_TRUE(s.hits[0].fatal);
  EXPECT_FALSE(s.hits[4].fatal);
  EXPECT_EQ(s.hits[7].time, "2025-12-03 17:21:22");  // nginx stamp
}

// Rows srtctl did not know before the shared catalogue (they were Ray's): the ProcessGroup abort
// timeout, `CUDA error: out of memory` as a CUDA OOM rather than a generic CUDA error, the
// watchdog's heartbeat timeout; and SLURM's OOM state. The metrics-exporter complaint stays noise.
TEST(SrtctlScan, SignaturesFromTheSharedCatalogue) {
  TempDir d;
  auto p = d.write(
      "cn01_prefill_w0.err",
      "[rank1]:[E ProcessGroupNCCL.cpp:1280] [Rank 1] Future for ProcessGroup abort timed out "
      "after 600000 ms\n"
      "RuntimeError: CUDA error: out of memory\n"
      "[rank144]:[E ProcessGroupNCCL.cpp:1316] [PG 0 Rank 144] Heartbeat monitor timed out!\n"
      "[E 12 12] core_worker_process.cc:191: Failed to establish connection to the metrics "
      "exporter agent. Metrics will not be exported.\n"
      "what():  std::bad_alloc\n"
      "step 12 state OUT_OF_MEMORY\n");
  LogScan s = scan(p);
  std::vector<std::string> kinds;
  for (const auto& h : s.hits) kinds.push_back(h.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"nccl_timeout", "cuda_oom", "nccl_timeout",
                                             "native_crash", "host_oom"}));
  for (const auto& h : s.hits) EXPECT_TRUE(h.fatal) << h.kind;
}

TEST(SrtctlScan, UtcStampsCountOnlyWhenTheJobClockIsUtc) {
  TempDir d;
  auto p = d.write("cn02_frontend.err",
                   "2025-11-22 04:14:02| root: Setting up frontend worker 0\n"
                   "2025-11-22T04:58:32.240Z ERROR dynamo_llm: Stream ended\n");
  LogScan local = scan(p, ScanMode::worker, false);
  ASSERT_EQ(local.hits.size(), 1u);
  EXPECT_EQ(local.hits[0].time, "2025-11-22 04:14:02");  // nothing later: the previous stamp
  LogScan utc = scan(p, ScanMode::worker, true);
  ASSERT_EQ(utc.hits.size(), 1u);
  EXPECT_EQ(utc.hits[0].time, "2025-11-22 04:58:32");
  EXPECT_TRUE(utc.hits[0].exact);
}

TEST(SrtctlScan, ClientModeOnlyTakesExceptionsAndTracebacks) {
  TempDir d;
  auto p = d.write("benchmark.err",
                   "+ python3 -u benchmark_serving.py --model x --max-concurrency 64\n"
                   "++ date '+%Y-%m-%d %H:%M:%S'\n"
                   "+ echo '2025-12-03 17:32:01'\n"
                   "WARNING: Error-prone setting ignored\n"
                   "Traceback (most recent call last):\n"
                   "  File \"/scripts/benchmarks/sa-bench/benchmark_serving.py\", line 574, in "
                   "benchmark\n"
                   "ValueError: Initial test run failed - Please make sure benchmark arguments are "
                   "correctly specified. Error: Bad Gateway\n");
  LogScan s = scan(p, ScanMode::client);
  ASSERT_EQ(s.hits.size(), 2u);
  EXPECT_EQ(s.hits[0].kind, "traceback");
  EXPECT_EQ(s.hits[0].time, "2025-12-03 17:32:01");  // from the `+ echo` trace
  EXPECT_EQ(s.hits[1].kind, "exception");
  EXPECT_EQ(s.hits[1].line, 7u);
}

TEST(SrtctlScan, BatchModeTakesSlurmLinesAndHostOom) {
  TempDir d;
  auto p = d.write("log.err",
                   "+ LOG_DIR=/logs/ERROR_DIR\n"
                   "srun: error: cn07: task 0: Out Of Memory\n"
                   "slurmstepd: error: Detected 1 oom_kill event in StepId=8538204.3. Some of the "
                   "step tasks have been OOM Killed.\n"
                   "srun: error: cn08: task 0: Exited with exit code 1\n"
                   "slurmstepd: error: *** JOB 8538204 ON cn07 CANCELLED AT 2025-12-03T19:00:02 "
                   "DUE TO TIME LIMIT ***\n");
  LogScan s = scan(p, ScanMode::batch);
  ASSERT_EQ(s.hits.size(), 2u);
  EXPECT_EQ(s.hits[0].kind, "host_oom");
  EXPECT_EQ(s.hits[1].kind, "host_oom");
  ASSERT_EQ(s.slurm_errors.size(), 2u);
  EXPECT_EQ(s.slurm_errors[1], "srun: error: cn08: task 0: Exited with exit code 1");
  ASSERT_EQ(s.cancelled.size(), 1u);
  EXPECT_TRUE(s.cancelled[0].time_limit);
  EXPECT_EQ(s.cancelled[0].node, "cn07");
}

TEST(SrtctlScan, BinaryGarbageAndHugeLinesDoNotCrash) {
  TempDir d;
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131) & 0xFF);
  junk += "\nError: \xff\xfe broken utf8 | `pipe`\n";
  junk += std::string(3 << 20, 'x') + " Exception\n";  // longer than the 1 MiB line limit
  auto p = d.write("cn09_prefill_w2.err", junk);
  LogScan s = scan(p);
  EXPECT_GE(s.hits.size(), 1u);
  for (const auto& h : s.hits) EXPECT_LE(h.text.size(), 400u);
}
