// Send/recv hangs (testdata/hangs/p2p, made by testdata/gen/make_hangs.py): rank 0's
// `nccl:send 0->1` is pending in its Flight Recorder dump and rank 1's dump holds no pending recv
// from 0: the peer that never posted the matching op is the culprit. Then malformed p2p entries.
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

const fs::path kSet = fs::path(ALOG_TESTDATA) / "hangs" / "p2p";

const Suspect* suspect(const HangReport& r, int rank) {
  for (const auto& s : r.suspects)
    if (s.rank == rank) return &s;
  return nullptr;
}

// A Flight Recorder dump in the JSON form with one pending point-to-point entry.
std::string fr_json(const std::string& op, const std::string& ranks, const std::string& state) {
  return fmt::format(
      R"({{"version":"2.10","pg_config":{{"0":{{"name":"0","desc":"default_pg","ranks":"{}"}}}},)"
      R"("pg_status":{{"0":{{"last_enqueued_collective":"3","last_started_collective":"-1","last_completed_collective":"3"}}}},)"
      R"("entries":[{{"record_id":9,"pg_id":0,"process_group":["0","default_pg"],"collective_seq_id":0,)"
      R"("p2p_seq_id":9,"op_id":9,"profiling_name":"{}","time_created_ns":1,"input_sizes":[[8]],)"
      R"("output_sizes":[[8]],"input_dtypes":["Float"],"output_dtypes":["Float"],"state":"{}",)"
      R"("retired":false,"timeout_ms":600000,"is_p2p":true}}]}})",
      ranks, op, state);
}

}  // namespace

TEST(HangP2p, ThePeerThatNeverPostedTheRecvIsTheCulprit) {
  HangReport r = analyze({kSet});
  ASSERT_EQ(r.culprits, std::vector<int>({1}));
  EXPECT_EQ(r.confidence, "medium");  // the flight recorder alone
  const Suspect* s = suspect(r, 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->evidence_kinds, std::vector<std::string>({"flight recorder"}));
  ASSERT_FALSE(s->evidence.empty());
  EXPECT_EQ(s->evidence[0].text,
            "rank 0 waits in nccl:send 0->1 (p2p_seq_id 57); rank 1's dump has no pending recv from rank 0");
  EXPECT_TRUE(s->evidence[0].file.ends_with("nccl_trace_rank_1"));
  // Not the sender that waits, nor the other stage whose sends completed.
  for (int k : {0, 2, 3}) EXPECT_EQ(suspect(r, k), nullptr) << k;
  ASSERT_TRUE(r.collective.has_value());
  EXPECT_EQ(r.collective->op, "nccl:send 0->1");
  EXPECT_EQ(r.collective->seq, 57);
  EXPECT_EQ(r.collective->waiting, std::vector<int>({0}));
  ASSERT_FALSE(r.collective->frames.empty());
  EXPECT_EQ(r.collective->frames.front().func, "send");
  // Where the culprit is: its py-spy dump.
  ASSERT_FALSE(r.culprit_frames.empty());
  EXPECT_EQ(r.culprit_frames[2].func, "__next__");
  EXPECT_TRUE(r.without_dump.empty());
}

TEST(HangP2p, BothSidesPendingIsNotACulprit) {
  // A send and its recv both pending: each posted its side (the network's problem, not a rank's).
  TempDir t;
  std::ofstream(t.path / "rank_0.json") << fr_json("nccl:send 0->1", "[0, 1]", "scheduled");
  std::ofstream(t.path / "rank_1.json") << fr_json("nccl:recv 1<-0", "[0, 1]", "scheduled");
  HangReport r = analyze({t.path});
  EXPECT_TRUE(r.culprits.empty());
  EXPECT_TRUE(r.suspects.empty());
}

TEST(HangP2p, MalformedPeersAreIgnored) {
  TempDir t;
  // No arrow, a peer beyond the group's rank list, a peer that is the rank itself: nothing named.
  std::ofstream(t.path / "rank_0.json") << fr_json("nccl:send 0-1", "[0, 1]", "scheduled");
  std::ofstream(t.path / "rank_1.json") << fr_json("nccl:send 1->7", "[0, 1]", "scheduled");
  std::ofstream(t.path / "rank_2.json") << fr_json("nccl:recv 2<-2", "[0, 1, 2]", "scheduled");
  std::ofstream(t.path / "rank_3.json") << fr_json("nccl:send 99999999999->0", "[0, 1, 2, 3]", "scheduled");
  HangReport r = analyze({t.path});
  for (const auto& s : r.suspects)
    for (const auto& e : s.evidence) EXPECT_EQ(e.text.find("p2p_seq_id"), std::string::npos) << e.text;
  // A completed send names nobody either.
  TempDir u;
  std::ofstream(u.path / "rank_0.json") << fr_json("nccl:send 0->1", "[0, 1]", "completed");
  std::ofstream(u.path / "rank_1.json") << fr_json("nccl:recv 1<-0", "[0, 1]", "completed");
  EXPECT_TRUE(analyze({u.path}).suspects.empty());
}
