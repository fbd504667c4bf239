// SGLang's watchdog py-spy blocks in an srtctl worker log (testdata/hangs/srtctl_pyspy, made by
// testdata/gen/make_hangs.py): the `[… DPn TPn EPn]` prefix of the `Pyspy dump for PID` line maps
// each dumped pid to its TP rank, the one stack that differs names TP2, and the srtctl job gets
// the hang's findings after its own.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

#include "analyze_logs/hangs.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::hangs;
namespace fs = std::filesystem;
using alog::test_support::shell_quote;
using alog::test_support::slurp;
using alog::test_support::TempDir;

namespace {

const fs::path kJob = fs::path(ALOG_TESTDATA) / "hangs" / "srtctl_pyspy" / "5104_1A_20251201_100000";

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// One SGLang watchdog block as the worker log holds it: only the first line prefixed.
std::string block(const std::string& prefix, int pid, const std::string& top) {
  return fmt::format(
      "{0} Pyspy dump for PID {1}:\nProcess {1}: sglang::scheduler\nPython v3.12.3 "
      "(/usr/bin/python3.12)\n\nThread {1} (idle): \"MainThread\"\n    {2}\n    event_loop_overlap "
      "(sglang/srt/managers/scheduler.py:1021)\n\n{0} Scheduler watchdog timeout "
      "(self.watchdog_timeout=300, self.soft=False)\n",
      prefix, pid, top);
}

bool mentions(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(SglangHang, TheTpPrefixMapsEachDumpAndTheOddStackIsTheCulprit) {
  HangReport r = analyze({kJob});
  ASSERT_EQ(r.dumps.size(), 4u);
  for (const auto& d : r.dumps) {
    EXPECT_EQ(d.source, "py-spy");
    EXPECT_EQ(d.rank, static_cast<int>(d.pid - 31410)) << d.pid;
    EXPECT_EQ(d.rank_from, fmt::format("pid {}", d.pid));
  }
  EXPECT_EQ(r.ranks.at(2).pid, 31412);
  ASSERT_EQ(r.culprits, std::vector<int>({2}));
  EXPECT_EQ(r.confidence, "low");  // the stack alone
  ASSERT_GE(r.culprit_frames.size(), 2u);
  EXPECT_EQ(r.culprit_frames[0].str(), "synchronize (torch/cuda/__init__.py:985)");
  EXPECT_EQ(r.culprit_frames[1].func, "resolve_last_batch_result");
  // The watchdog thread is the same in every dump: left out of the groups.
  EXPECT_EQ(r.common_threads_omitted, 1u);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].ranks, std::vector<int>({0, 1, 3}));
  EXPECT_TRUE(r.groups[0].in_collective);
  EXPECT_TRUE(r.ambiguities.empty());
}

TEST(SglangHang, PrefixShapes) {
  TempDir t;
  // Milliseconds (2026 versions), DP before TP, no EP; and a line without any prefix.
  write(t.path / "decode.err",
        block("[2026-07-05 19:49:44.257 DP1 TP1]", 500, "all_reduce (torch/distributed/distributed_c10d.py:2806)") +
            block("[2026-07-05 19:49:44.301 TP0]", 501, "all_reduce (torch/distributed/distributed_c10d.py:2806)") +
            block("[2026-07-05 19:49:45]", 502, "all_reduce (torch/distributed/distributed_c10d.py:2806)"));
  HangReport r = analyze({t.path});
  ASSERT_EQ(r.dumps.size(), 3u);
  EXPECT_EQ(r.ranks.at(1).pid, 500);
  EXPECT_EQ(r.ranks.at(0).pid, 501);
  // The main process's lines have no rank: its dump is said to map to no rank, never guessed.
  EXPECT_TRUE(mentions(r.ambiguities, "pid 502 maps to no rank")) << fmt::format("{}", fmt::join(r.ambiguities, "\n"));
  // A pipeline stage: TP3 of PP1 is not global rank 3.
  write(t.path / "pp.err", block("[2026-07-05 19:49:46 PP1 TP3]", 777, "recv (torch/distributed/distributed_c10d.py:2400)"));
  HangReport pp = analyze({t.path / "pp.err"});
  EXPECT_EQ(pp.ranks.count(3), 0u);
  EXPECT_TRUE(mentions(pp.ambiguities, "pid 777 is TP3 of pipeline stage PP1")) << fmt::format("{}", fmt::join(pp.ambiguities, "\n"));
  // Shapes that are not the prefix: a bracket that is not a date, a TP token without digits, a
  // cut line. Nothing mapped, nothing thrown.
  write(t.path / "odd.err", block("[worker TP2]", 880, "wait (threading.py:331)") +
                                block("[2026-07-05 19:49:47 TPx]", 881, "wait (threading.py:331)") +
                                "[2026-07-05 19:49:4 Pyspy dump for PID 882:\n" +
                                "[2026-07-05 19:49:47 TP4] Pyspy dump for PID :\n");
  HangReport odd = analyze({t.path / "odd.err"});
  EXPECT_TRUE(odd.ranks.empty());
  EXPECT_EQ(odd.dumps.size(), 2u);
}

TEST(SglangHangBinary, TheSrtctlJobGetsTheHang) {
  TempDir work;
  fs::path out = work.path / "out.json", err = work.path / "err.txt";
  std::string cmd = shell_quote(ALOG_BINARY) + " -q --no-folder --json " + shell_quote(kJob.string()) +
                    " > " + shell_quote(out.string()) + " 2> " + shell_quote(err.string()) + " < /dev/null";
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  ASSERT_EQ(WEXITSTATUS(rc), 0) << slurp(err);
  auto doc = nlohmann::json::parse(slurp(out));
  EXPECT_EQ(doc["kind"], "srtctl");
  ASSERT_TRUE(doc.contains("srtctl"));
  ASSERT_TRUE(doc.contains("hang"));
  EXPECT_EQ(doc["hang"]["culprits"], nlohmann::json::array({2}));
  EXPECT_EQ(doc["hang"]["ranks"]["2"]["pid"], 31412);
  EXPECT_EQ(doc["hang"]["culprit_frames"][0]["func"], "synchronize");
  ASSERT_EQ(doc["jobs"].size(), 1u);
  bool culprit = false;
  for (const auto& f : doc["jobs"][0]["findings"]) culprit |= f["id"] == "hang_culprit";
  EXPECT_TRUE(culprit);
}
