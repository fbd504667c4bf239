// timeline.txt (AnalysisOptions::timeline_path): every event of every input once, each naming its
// file and line, in one order: `t=` events on the client clock (server logs shifted by their
// offset), time-of-day events through the learned mapping, unwrapped at midnight per file; file
// order kept within a file.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/model.hpp"
#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

using alog::test_support::TempDir;

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream f(p);
  std::vector<std::string> v;
  for (std::string l; std::getline(f, l);) v.push_back(l);
  return v;
}

struct Timeline {
  Report report;
  std::vector<std::string> lines;
};

Timeline timeline_of(const TempDir& d,
                     const std::vector<std::pair<std::string, std::string>>& files) {
  AnalysisOptions opt;
  for (const auto& [name, text] : files) opt.inputs.push_back(d.write(name, text));
  fs::path out = d.path / "timeline.txt";
  opt.timeline_path = out;
  Timeline t;
  t.report = analyze(opt);
  t.lines = read_lines(out);
  return t;
}

// "file:line" of each timeline line, with the file reduced to its name.
std::vector<std::string> locations(const Timeline& t) {
  std::vector<std::string> v;
  for (const auto& l : t.lines) {
    // HH:MM:SS  path:line  message
    size_t a = l.find("  ");
    size_t b = l.find("  ", a + 2);
    std::string loc = l.substr(a + 2, b - a - 2);
    v.push_back(fs::path(loc).filename().string());
  }
  return v;
}

}  // namespace

TEST(Timeline, EveryEventOnceWithTimeFileLineAndMessage) {
  TempDir d;
  auto t = timeline_of(d, {{"orch.log",
                            "11:22:19    INFO [gen] batch.start inflight=96\n"
                            "chatter\n"
                            "11:22:22    INFO [gen] batch.done dur_ms=2345.6 inflight=96\n"
                            "[weights][-] server.recv t=5\n"
                            "[gen] batch.done dur_ms=oops\n"}});
  ASSERT_EQ(t.lines.size(), 2u);  // noise and skipped lines are not events
  EXPECT_EQ(t.lines[0],
            "11:22:19  " + (d.path / "orch.log").string() + ":1  [gen] batch.start inflight=96");
  EXPECT_EQ(t.lines[1], "11:22:22  " + (d.path / "orch.log").string() +
                            ":3  [gen] batch.done dur_ms=2345.6 inflight=96");
}

TEST(Timeline, NoTimeOfDayIsShownAsDashes) {
  TempDir d;
  auto t = timeline_of(d, {{"o.log", "[ckpt] wait.start target_step=1\n"}});
  ASSERT_EQ(t.lines.size(), 1u);
  EXPECT_TRUE(t.lines[0].starts_with("--:--:--  ")) << t.lines[0];
}

TEST(Timeline, MidnightWrapKeepsTimeOrderAcrossFiles) {
  TempDir d;
  auto t = timeline_of(
      d, {{"orch.log",
           "23:59:58    INFO [gen] batch.start inflight=96\n"                  // 1
           "23:59:59    INFO [ckpt] wait.start target_step=7\n"                // 2
           "00:00:01    INFO [gen] batch.done dur_ms=3000\n"                   // 3
           "00:00:04    INFO [ckpt] wait.done target_step=7 wait_ms=5000\n"},  // 4
          {"trainer.log",
           "[trainer0]:23:59:57    INFO [ckpt] write.done step=6 write_ms=800\n"     // 1
           "[trainer0]:00:00:02    INFO [ckpt] write.done step=7 write_ms=4500\n"    // 2
           "[trainer0]:00:00:03    INFO [ckpt] write.done step=8 write_ms=10\n"}});  // 3
  EXPECT_EQ(locations(t),
            (std::vector<std::string>{"trainer.log:1", "orch.log:1", "orch.log:2", "orch.log:3",
                                      "trainer.log:2", "trainer.log:3", "orch.log:4"}));
  ASSERT_EQ(t.lines.size(), 7u);
  EXPECT_TRUE(t.lines[0].starts_with("23:59:57"));
  EXPECT_TRUE(t.lines[6].starts_with("00:00:04"));
}

TEST(Timeline, FileOrderIsKeptWithinAFile) {
  TempDir d;
  // Same second everywhere: only file order can decide.
  std::string text;
  for (int i = 0; i < 20; ++i)
    text += fmt::format("12:00:00    INFO [gen] batch.done dur_ms={}\n", i);
  auto t = timeline_of(d, {{"o.log", text}});
  ASSERT_EQ(t.lines.size(), 20u);
  for (int i = 0; i < 20; ++i)
    EXPECT_NE(t.lines[static_cast<size_t>(i)].find(fmt::format("dur_ms={}", i)), std::string::npos);
}

TEST(Timeline, ServerEventsShiftedOntoTheClientClock) {
  // Server clock 200000 s ahead: once shifted, the server's lines fall between send and done.
  TempDir d;
  std::string orch, inf;
  for (int i = 0; i < 3; ++i) {
    double send = 100.0 + 10 * i;
    std::string tid = fmt::format("{:04x}", 0xa0 + i);
    orch += fmt::format("[weights][{}] client.send path=/m/step_{} t={:.6f}\n", tid, i, send);
    orch += fmt::format("[weights][{}] client.done wall_ms=1006 rpc_ms=1000 queue_ms=6\n", tid);
    double off = 200000;
    inf += fmt::format("[weights][{}] server.recv path=/update_weights t={:.6f}\n", tid,
                       send + off + 0.002);
    inf += fmt::format("[weights][{}] rpc.start op=update_weights t={:.6f}\n", tid,
                       send + off + 0.003);
    inf += fmt::format("[weights][{}] rpc.done op=update_weights t={:.6f} rpc_ms=1000\n", tid,
                       send + off + 1.003);
  }
  auto t = timeline_of(d, {{"orch.log", orch}, {"inf.log", inf}});
  std::vector<std::string> want;
  for (int i = 0; i < 3; ++i) {
    want.push_back(fmt::format("orch.log:{}", 2 * i + 1));
    want.push_back(fmt::format("inf.log:{}", 3 * i + 1));
    want.push_back(fmt::format("inf.log:{}", 3 * i + 2));
    want.push_back(fmt::format("inf.log:{}", 3 * i + 3));
    want.push_back(fmt::format("orch.log:{}", 2 * i + 2));
  }
  EXPECT_EQ(locations(t), want);
}

TEST(Timeline, TimeOfDayEventsPlacedThroughTheClientMapping) {
  // Client events carry t and a time of day; a trainer line with only a time of day must land
  // between the updates by its time.
  TempDir d;
  std::string orch =
      "10:00:00    INFO [weights][a1] client.send path=/m/step_1 t=5000.0\n"
      "10:00:01    INFO [weights][a1] client.done wall_ms=1000 rpc_ms=990 queue_ms=10\n"
      "10:00:20    INFO [weights][a2] client.send path=/m/step_2 t=5020.0\n"
      "10:00:21    INFO [weights][a2] client.done wall_ms=1000 rpc_ms=990 queue_ms=10\n";
  std::string trainer = "[trainer0]:10:00:10    INFO [ckpt] write.done step=2 write_ms=800\n";
  auto t = timeline_of(d, {{"orch.log", orch}, {"trainer.log", trainer}});
  EXPECT_EQ(locations(t), (std::vector<std::string>{"orch.log:1", "orch.log:2", "trainer.log:1",
                                                    "orch.log:3", "orch.log:4"}));
}

TEST(Timeline, PartFilesAreRemoved) {
  TempDir d;
  timeline_of(d,
              {{"a.log", "[gen] batch.done dur_ms=1\n"}, {"b.log", "[gen] batch.done dur_ms=2\n"}});
  for (const auto& e : fs::directory_iterator(d.path))
    EXPECT_EQ(e.path().filename().string().find(".part"), std::string::npos) << e.path();
}

TEST(Timeline, MessagesAreMadePrintable) {
  TempDir d;
  auto t = timeline_of(d, {{"o.log", "[gen] batch.done dur_ms=1 note=\x01\x7f\n"}});
  ASSERT_EQ(t.lines.size(), 1u);
  EXPECT_EQ(t.lines[0].find('\x01'), std::string::npos);
  EXPECT_EQ(t.lines[0].find('\x7f'), std::string::npos);
}

TEST(Timeline, TestdataRunThatCrossesMidnight) {
  fs::path run = fs::path(ALOG_TESTDATA) / "runs" / "postfix";
  if (!fs::exists(run / "expected.json")) GTEST_SKIP() << "testdata/runs/postfix not generated yet";
  TempDir d;
  AnalysisOptions opt;
  opt.inputs = {run.string()};
  opt.timeline_path = d.path / "timeline.txt";
  Report r = analyze(opt);
  auto lines = read_lines(d.path / "timeline.txt");
  EXPECT_EQ(lines.size(), r.total_events());
  // Times of day never go back by more than a few seconds once unwrapped: a line of the next day
  // is never followed by one from before midnight.
  bool after_midnight = false;
  for (const auto& l : lines) {
    if (l.starts_with("--")) continue;
    int h = std::stoi(l.substr(0, 2));
    if (h == 0) after_midnight = true;
    if (after_midnight) {
      EXPECT_NE(h, 23) << l;
    }
  }
  EXPECT_TRUE(after_midnight);
}

// One input is written as it is scanned (no spool, no merge); it must give the very lines the
// merge gives. A second, empty input makes the same run go through the spool and the merge.
TEST(Timeline, OneInputWrittenDirectlyEqualsTheMerge) {
  TempDir d;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += fmt::format("23:59:{:02}    INFO [gen] batch.start inflight={}\n", i % 60, i);
    text += "chatter between events\n";
    text += fmt::format("[weights][{:016x}] client.send t={} step={} note=\x01\n", i + 1, 100 + i, i);
    text += fmt::format("[ckpt] wait.start target_step={}\n", i);
  }
  fs::path log = d.write("orch.log", text);
  fs::path empty = d.write("empty.log", "");
  auto run = [&](std::vector<std::string> inputs, const std::string& out) {
    AnalysisOptions opt;
    opt.inputs = std::move(inputs);
    opt.timeline_path = d.path / out;
    analyze(opt);
    return read_lines(d.path / out);
  };
  auto direct = run({log.string()}, "direct.txt");
  auto merged = run({log.string(), empty.string()}, "merged.txt");
  ASSERT_EQ(direct.size(), 9000u);
  EXPECT_EQ(direct, merged);
  EXPECT_EQ(direct[1].find('\x01'), std::string::npos) << direct[1];
  for (const auto& e : fs::directory_iterator(d.path))
    EXPECT_EQ(e.path().filename().string().find(".part"), std::string::npos) << e.path();
}

TEST(Timeline, OneInputThatCannotBeWrittenIsAnError) {
  TempDir d;
  std::string text;
  for (int i = 0; i < 50000; ++i) text += fmt::format("[gen] batch.done dur_ms={}\n", i);
  AnalysisOptions opt;
  opt.inputs = {d.write("o.log", text).string()};
  opt.timeline_path = fs::path("/dev/full");
  try {
    analyze(opt);
    FAIL() << "writing to /dev/full did not fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/full: write failed"), std::string::npos) << e.what();
  }
}
