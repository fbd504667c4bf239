// The line-level readers, through hangs::analyze on small files: console prefixes, the watchdog
// lines of each torch version, py-spy and faulthandler blocks interleaved between ranks, the
// torchrun failure table, RAS, and the mappings that must be reported rather than guessed.
#include <gtest/gtest.h>

#include <algorithm>

#include "analyze_logs/hangs.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::hangs;
using alog::test_support::TempDir;

namespace {

bool has(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

}  // namespace

TEST(HangLines, Prefixes) {
  auto p = strip_prefixes("1: [default3]:[rank7]:[E314 02:21:09.224 ProcessGroupNCCL.cpp:616] x");
  EXPECT_EQ(p.task, 1);
  EXPECT_EQ(p.local_rank, 3);
  EXPECT_EQ(p.rank, 7);
  EXPECT_EQ(p.rest, "[E314 02:21:09.224 ProcessGroupNCCL.cpp:616] x");
  p = strip_prefixes("[rank3]: Traceback (most recent call last):");
  EXPECT_EQ(p.rank, 3);
  EXPECT_EQ(p.task, -1);
  EXPECT_EQ(p.rest, "Traceback (most recent call last):");
  p = strip_prefixes(" 12: [trainer0]:hello");
  EXPECT_EQ(p.task, 12);
  EXPECT_EQ(p.local_rank, 0);
  EXPECT_EQ(p.rest, "hello");
  // Not prefixes: a log level bracket, a time, a py-spy line.
  p = strip_prefixes("[E ProcessGroupNCCL.cpp:1316] [PG 0 Rank 144] Heartbeat");
  EXPECT_EQ(p.rank, -1);
  EXPECT_EQ(p.local_rank, -1);
  p = strip_prefixes("Process 48213: /usr/bin/python3 -u train.py");
  EXPECT_EQ(p.task, -1);
  EXPECT_EQ(p.rest, "Process 48213: /usr/bin/python3 -u train.py");
  p = strip_prefixes("12:00:01 started");
  EXPECT_EQ(p.task, -1);
}

TEST(HangLines, WatchdogShapesOfEveryVersion) {
  TempDir d;
  d.write("console.log",
          "[rank1]:[E626 06:24:44.903881913 ProcessGroupNCCL.cpp:616] [Rank 1] Watchdog caught "
          "collective operation timeout: "
          "WorkNCCL(SeqNum=808, OpType=ALLREDUCE, NumelIn=9801523, NumelOut=9801523, "
          "Timeout(ms)=600000) ran for 600020 milliseconds before timing out.\n"
          "[rank0]:[E1206 18:44:12.715588844 ProcessGroupNCCL.cpp:1664] [PG 1 Rank 0] Exception "
          "(either an error or timeout) detected by watchdog at work: 808, last enqueued NCCL "
          "work: 810, last completed NCCL work: 807.\n"
          "[rank3]:[E710 18:00:32.426302794 ProcessGroupNCCL.cpp:2395] [PG ID 0 PG GUID "
          "0(default_pg) Rank 3]  failure detected by watchdog at work sequence id: 808 PG status: "
          "last enqueued work: 808, last completed work: 807\n"
          "[rank2]:[E710 18:00:32.686716232 ProcessGroupNCCL.cpp:1987] [PG ID 0 PG GUID "
          "0(default_pg) Rank 2] Received a dump signal due to a collective timeout from  rank 3 "
          "and we will try our best to dump the debug info. Last enqueued NCCL work: 807, last "
          "completed NCCL work: 807.This is …\n"
          "[E ProcessGroupNCCL.cpp:458] [Rank 0] Watchdog caught collective operation timeout: "
          "WorkNCCL(SeqNum=808, OpType=ALLREDUCE, Timeout(ms)=1800000) ran for 25624887 "
          "milliseconds before timing out.\n");
  HangReport r = analyze({d.path});
  ASSERT_TRUE(r.collective);
  EXPECT_EQ(r.collective->seq, 808);
  EXPECT_EQ(r.collective->op, "ALLREDUCE");
  EXPECT_EQ(r.collective->timeout_ms, 600000);
  EXPECT_EQ(r.collective->sizes, "NumelIn=9801523 NumelOut=9801523");
  EXPECT_EQ(r.culprits, std::vector<int>{2});
  EXPECT_EQ(r.confidence, "medium");  // one kind of evidence
  // Rank 3 only told rank 2 to dump: the first detector, not the cause.
  bool first = false;
  for (const auto& f : r.not_cause)
    first |= f.id == "hang_first_reporter" && f.summary.find("Rank 3 ") != std::string::npos;
  EXPECT_TRUE(first);
}

TEST(HangLines, InterleavedPySpyDumpsInAConsoleKeepTheirRanks) {
  TempDir d;
  d.write("slurm.out",
          "0: [default0]:[rank0]:hello\n"
          "1: [default0]:[rank4]:hello\n"
          "0: [default0]:Process 100: python train.py\n"
          "1: [default0]:Process 100: python train.py\n"
          "0: [default0]:Python v3.11.9 (/usr/bin/python3.11)\n"
          "1: [default0]:Python v3.11.9 (/usr/bin/python3.11)\n"
          "0: [default0]:\n"
          "0: [default0]:Thread 100 (idle): \"MainThread\"\n"
          "1: [default0]:\n"
          "1: [default0]:Thread 100 (active+gil): \"MainThread\"\n"
          "0: [default0]:    all_reduce (torch/distributed/distributed_c10d.py:3174)\n"
          "1: [default0]:    decode (data.py:42)\n"
          "0: [default0]:    step (train.py:10)\n"
          "1: [default0]:    step (train.py:9)\n"
          "0: [default0]:done\n"
          "1: [default0]:done\n");
  HangReport r = analyze({d.path});
  ASSERT_EQ(r.dumps.size(), 2u);
  for (const auto& x : r.dumps) {
    ASSERT_EQ(x.threads.size(), 1u);
    EXPECT_TRUE(x.threads[0].main);
    ASSERT_EQ(x.threads[0].frames.size(), 2u);
    EXPECT_EQ(x.rank_from, x.rank == 0 ? "[rank0] prefix" : "[rank4] prefix");
  }
  const auto& a = r.dumps[0].rank == 0 ? r.dumps[0] : r.dumps[1];
  const auto& b = r.dumps[0].rank == 4 ? r.dumps[0] : r.dumps[1];
  EXPECT_EQ(a.threads[0].frames[0].str(),
            "all_reduce (torch/distributed/distributed_c10d.py:3174)");
  EXPECT_EQ(b.threads[0].frames[0].str(), "decode (data.py:42)");
  EXPECT_EQ(b.threads[0].status, "active+gil");
  EXPECT_EQ(r.groups.size(), 2u);
}

TEST(HangLines, SamePidOnTwoHostsIsAmbiguousNotGuessed) {
  TempDir d;
  d.write("console.log",
          "gpu-a:4000:4001 [0] NCCL INFO comm 0x1 rank 0 nRanks 2 nNodes 2 localRanks 1 localRank "
          "0 MNNVL 0\n"
          "gpu-b:4000:4001 [0] NCCL INFO comm 0x2 rank 1 nRanks 2 nNodes 2 localRanks 1 localRank "
          "0 MNNVL 0\n");
  d.write("dump.txt",
          "Process 4000: python train.py\nPython v3.11.9 (/usr/bin/python3)\n\nThread 4000 (idle): "
          "\"MainThread\"\n    f (a.py:1)\n");
  HangReport r = analyze({d.path});
  ASSERT_EQ(r.dumps.size(), 1u);
  EXPECT_EQ(r.dumps[0].rank, -1);
  EXPECT_TRUE(has(r.ambiguities, "pid 4000 belongs to ranks 0, 1"))
      << (r.ambiguities.empty() ? "" : r.ambiguities[0]);
  EXPECT_EQ(r.ranks[0].host, "gpu-a");
  EXPECT_EQ(r.ranks[1].host, "gpu-b");
}

TEST(HangLines, FaulthandlerDumpWithCurrentThreadAndLimits) {
  TempDir d;
  d.write("rank3.err",
          "Fatal Python error: Segmentation fault\n\n"
          "Thread 0x00007f1d2effd640 (most recent call first):\n"
          "  File \"/usr/lib/python3.11/threading.py\", line 331 in wait\n\n"
          "Current thread 0x00007f1f5b1d3740 (most recent call first):\n"
          "  File \"/workspace/sft/data/decode.py\", line 42 in decode_image\n"
          "  ...\n"
          "  File \"/workspace/sft/train.py\", line 101 in <module>\n\n"
          "Extension modules: numpy.core._multiarray_umath, torch._C (total: 2)\n");
  HangReport r = analyze({d.path});
  ASSERT_EQ(r.dumps.size(), 1u);
  const auto& x = r.dumps[0];
  EXPECT_EQ(x.source, "faulthandler");
  EXPECT_EQ(x.rank, 3);
  EXPECT_EQ(x.rank_from, "file name");
  EXPECT_EQ(x.header, "Fatal Python error: Segmentation fault");
  ASSERT_EQ(x.threads.size(), 2u);
  ASSERT_NE(x.main_thread(), nullptr);
  EXPECT_EQ(x.main_thread()->id, "0x00007f1f5b1d3740");
  ASSERT_EQ(x.main_thread()->frames.size(), 2u);
  EXPECT_EQ(x.main_thread()->frames[0].func, "decode_image");
  EXPECT_EQ(x.main_thread()->frames[0].line, 42);
}

TEST(HangLines, RasOutlierAndTorchrunTable) {
  TempDir d;
  d.write("ras.txt",
          "#0-0 (5a3c9e01d2b47f86) MISMATCH\n"
          "  Communicator ranks have different AllGather operation counts\n"
          "  7 ranks have launched up to operation 16871\n"
          "  Rank 3 has launched up to operation 16870 -- GPU 3 managed by process 48213 on node "
          "10.64.3.7\n");
  d.write("agent.log",
          "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: \n"
          "============================================================\n"
          "train.py FAILED\n"
          "------------------------------------------------------------\n"
          "Failures:\n"
          "  <NO_OTHER_FAILURES>\n"
          "------------------------------------------------------------\n"
          "Root Cause (first observed failure):\n"
          "[0]:\n"
          "  time      : 2026-03-14_02:22:09\n"
          "  host      : gpu-a07.cluster.internal\n"
          "  rank      : 1 (local_rank: 1)\n"
          "  exitcode  : -6 (pid: 48211)\n"
          "  error_file: <N/A>\n"
          "  traceback : Signal 6 (SIGABRT) received by PID 48211\n"
          "============================================================\n");
  HangReport r = analyze({d.path});
  ASSERT_EQ(r.ras.size(), 1u);
  EXPECT_EQ(r.ras[0].rank, 3);
  EXPECT_EQ(r.ras[0].ops, 16870);
  EXPECT_EQ(r.ras[0].majority_ops, 16871);
  EXPECT_EQ(r.ras[0].op, "AllGather");
  EXPECT_EQ(r.culprits, std::vector<int>{3});
  EXPECT_EQ(r.confidence, "low");  // RAS alone: counts move on a busy job
  EXPECT_EQ(r.ranks[3].pid, 48213);
  EXPECT_EQ(r.ranks[3].host, "10.64.3.7");
  ASSERT_EQ(r.table.size(), 1u);
  EXPECT_TRUE(r.table[0].root_cause);
  EXPECT_EQ(r.table[0].rank, 1);
  EXPECT_EQ(r.table[0].pid, 48211);
  EXPECT_EQ(r.table[0].exitcode, -6);
  EXPECT_EQ(r.ranks[1].host, "gpu-a07.cluster.internal");
  bool root = false;
  for (const auto& f : r.not_cause)
    root |= f.id == "hang_torchrun_root_cause" && f.summary.find("rank 1 ") != std::string::npos;
  EXPECT_TRUE(root);
}

TEST(HangLines, NoEvidenceSaysWhatIsMissing) {
  TempDir d;
  d.write("console.log",
          "[rank0]:[E ProcessGroupNCCL.cpp:458] [Rank 0] Watchdog caught collective operation "
          "timeout: WorkNCCL(SeqNum=5, OpType=BROADCAST, Timeout(ms)=1000) ran for 2000 "
          "milliseconds before timing out.\n");
  HangReport r = analyze({d.path});
  EXPECT_TRUE(r.hang);
  EXPECT_TRUE(r.culprits.empty());
  ASSERT_EQ(r.undecided.size(), 1u);
  EXPECT_NE(r.undecided[0].find("no sequence numbers, Flight Recorder dumps"), std::string::npos)
      << r.undecided[0];
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::stuck);
  ASSERT_NE(h.root(), nullptr);
  EXPECT_EQ(h.root()->id, "hang_undecided");
}

TEST(HangLines, HostilePickleIsRefusedAndCounted) {
  TempDir d;
  std::string evil = std::string("\x80\x02", 2) + "cos\nsystem\n(X\x02\x00\x00\x00lstR.";
  d.write("nccl_trace_rank_0", evil);
  d.write("nccl_trace_rank_1",
          std::string("\x80\x02}q\x00(X\x07\x00\x00\x00versionq\x01X\x03\x00\x00\x00", 23));
  HangReport r = analyze({d.path});
  ASSERT_EQ(r.fr.size(), 2u);
  EXPECT_NE(r.fr[0].error.find("GLOBAL"), std::string::npos) << r.fr[0].error;
  EXPECT_NE(r.fr[1].error.find("truncated"), std::string::npos) << r.fr[1].error;
  EXPECT_EQ(r.problems.size(), 2u);
  core::Header h = header(r);
  bool problems = false;
  for (const auto& f : h.findings)
    problems |= f.id == "file_problems" && f.summary == "2 file problems reading the inputs";
  EXPECT_TRUE(problems);
}
