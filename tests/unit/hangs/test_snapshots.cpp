// Repeated snapshots (testdata/hangs/snapshots, made by testdata/gen/make_hangs.py): py-spy dumps
// appended twice per rank, five minutes apart. Ranks 0, 1 and 3 did not move (stuck in the
// all_gather); rank 2 moved (its data pipeline runs). The decision uses each rank's last dump.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "analyze_logs/hangs.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::hangs;
namespace fs = std::filesystem;
using alog::test_support::TempDir;

namespace {

const fs::path kSet = fs::path(ALOG_TESTDATA) / "hangs" / "snapshots";

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::string dump(int pid, const std::string& top) {
  return fmt::format("Process {0}: python train.py\nPython v3.11.9 (/usr/bin/python3.11)\n\nThread {0} (idle): "
                     "\"MainThread\"\n    {1}\n    train (train.py:90)\n",
                     pid, top);
}

}  // namespace

TEST(HangSnapshots, OneRankMovedTheOthersStayed) {
  HangReport r = analyze({kSet});
  ASSERT_EQ(r.culprits, std::vector<int>({2}));
  EXPECT_EQ(r.confidence, "high");  // its own sequence number, and the stack that differs
  ASSERT_EQ(r.snapshots.size(), 4u);
  for (const auto& sn : r.snapshots) {
    EXPECT_EQ(sn.count, 2u) << sn.rank;
    EXPECT_EQ(sn.moved, sn.rank == 2) << sn.rank;
    EXPECT_TRUE(sn.first_ev.file.ends_with(fmt::format("pyspy/rank{}.txt", sn.rank))) << sn.first_ev.file;
    EXPECT_EQ(sn.first_ev.line, 2u);
    EXPECT_EQ(sn.last_ev.line, 16u);  // after the first dump's 14 lines and the date line
  }
  EXPECT_EQ(r.snapshots[2].first.front().func, "decode");
  EXPECT_EQ(r.snapshots[2].last.front().func, "tokenize");
  EXPECT_EQ(r.snapshots[0].last.front().func, "_all_gather_base");
  // The culprit's stack is its last snapshot.
  ASSERT_FALSE(r.culprit_frames.empty());
  EXPECT_EQ(r.culprit_frames.front().func, "tokenize");
  // Groups count each rank once (4 ranks, not 8 dumps), and the common pin-memory thread is left out.
  size_t ranks = 0;
  for (const auto& g : r.groups) ranks += g.ranks.size();
  EXPECT_EQ(ranks, 4u);
  EXPECT_EQ(r.common_threads_omitted, 1u);

  auto body = make_body(r);
  std::string text = body->text({false, 100});
  EXPECT_TRUE(contains(text, "rank 2: its main thread moved between 2 snapshots (it runs): from decode")) << text;
  EXPECT_TRUE(contains(text, "rank 0: the same main-thread stack in 2 snapshots: stuck in _all_gather_base")) << text;
  EXPECT_TRUE(contains(body->markdown(), "### Repeated snapshots"));
  EXPECT_TRUE(contains(body->html(), "<h3>Repeated snapshots</h3>"));
  auto j = to_json(r);
  ASSERT_EQ(j["snapshots"].size(), 4u);
  EXPECT_EQ(j["snapshots"][2]["rank"], 2);
  EXPECT_EQ(j["snapshots"][2]["moved"], true);
  EXPECT_EQ(j["snapshots"][2]["first"][0]["func"], "decode");
  EXPECT_EQ(j["snapshots"][1]["moved"], false);
}

TEST(HangSnapshots, AStackThatMovesAndComesBackHasMoved) {
  // Three snapshots, the middle one elsewhere: not "the same stack", though first and last agree.
  TempDir t;
  std::ofstream(t.path / "rank0.txt") << dump(10, "wait (threading.py:331)") << dump(10, "step (train.py:50)")
                                      << dump(10, "wait (threading.py:331)");
  std::ofstream(t.path / "rank1.txt") << dump(11, "wait (threading.py:331)");
  HangReport r = analyze({t.path});
  ASSERT_EQ(r.snapshots.size(), 1u);  // rank 1 dumped once: no snapshot row
  EXPECT_EQ(r.snapshots[0].rank, 0);
  EXPECT_EQ(r.snapshots[0].count, 3u);
  EXPECT_TRUE(r.snapshots[0].moved);
}

TEST(HangSnapshots, DumpsWithoutARankAreNotSnapshotsOfOne) {
  // Two dumps of a pid no log names: unmapped, said so, and never counted as one rank's snapshots.
  TempDir t;
  std::ofstream(t.path / "agent.txt") << dump(99, "wait (threading.py:331)") << dump(99, "poll (selectors.py:10)");
  HangReport r = analyze({t.path});
  EXPECT_TRUE(r.snapshots.empty());
  EXPECT_FALSE(r.ambiguities.empty());
}
