// The Flight Recorder pickle reader: the subset torch's writer emits decodes to the same document
// Python's pickle gives (the testdata dumps were checked with pickle.load when generated), every
// schema version lands in the same fields, and anything outside the subset is refused with a
// clear error instead of being executed or half-read.
#include <gtest/gtest.h>

#include <string>

#include "analyze_logs/hangs.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::hangs;
namespace fs = std::filesystem;

namespace {

const fs::path kHangs = fs::path(ALOG_TESTDATA) / "hangs";

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int c : v) s += static_cast<char>(c);
  return s;
}

std::string refusal(const std::string& pickle) {
  try {
    read_pickle(pickle);
  } catch (const PickleError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Pickle, TorchWriterDumpDecodes) {
  std::string data = test_support::slurp(kHangs / "nccl_8rank/fr/nccl_trace_rank_0");
  ASSERT_FALSE(data.empty());
  auto doc = read_pickle(data);
  EXPECT_EQ(doc["version"], "2.10");
  EXPECT_EQ(doc["comm_lib_version"], "2.27.5");
  EXPECT_EQ(doc["pg_config"]["0"]["ranks"], "[0, 1, 2, 3, 4, 5, 6, 7]");
  EXPECT_EQ(doc["pg_status"]["0"]["last_enqueued_collective"], 808);
  EXPECT_EQ(doc["pg_status"]["0"]["last_started_collective"], -1);
  ASSERT_EQ(doc["entries"].size(), 4u);
  const auto& e = doc["entries"][3];
  EXPECT_EQ(e["collective_seq_id"], 808);
  EXPECT_EQ(e["state"], "scheduled");
  EXPECT_EQ(e["time_created_ns"],
            int64_t{1773454269194064333} + 808 * 1000000);  // LONG1 of 8 bytes
  EXPECT_TRUE(e["time_discovered_completed_ns"].is_null());
  EXPECT_EQ(e["process_group"], nlohmann::json::array({"0", "default_pg"}));  // TUPLE2
  EXPECT_EQ(e["retired"], false);
  // The frame list is one shared object (BINGET by identity): every entry sees it whole.
  EXPECT_EQ(doc["entries"][0]["frames"], e["frames"]);
  EXPECT_EQ(e["frames"][0]["name"], "all_reduce");
  EXPECT_EQ(e["frames"][0]["line"], 3174);
}

TEST(Pickle, PythonResavedOpcodesAndFloats) {
  // FRAME, SHORT_BINUNICODE, MEMOIZE, SETITEM, APPEND, TUPLE1, short LONG1, BINFLOAT (big-endian).
  std::string p =
      bytes({0x80, 4,   0x95, 0,   0,   0,   0,    0, 0,    0,    0,   '}',  0x94, 0x8c, 1, 'a',
             0x94, ']', 0x94, 'K', 7,   'a', 0x8a, 2, 0x00, 0x80, 'a', 'G',  0x3f, 0xf8, 0, 0,
             0,    0,   0,    0,   'a', 's', 0x8c, 1, 'b',  'h',  1,   0x85, 's',  '.'});
  auto doc = read_pickle(p);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["a"][0], 7);
  EXPECT_EQ(doc["a"][1], -32768);  // two bytes 00 80: negative in two's complement
  EXPECT_DOUBLE_EQ(doc["a"][2].get<double>(), 1.5);
  EXPECT_EQ(doc["b"], nlohmann::json::array({"a"}));
}

TEST(Pickle, RefusesClassLoadingAndCalls) {
  // pickle.dumps(os.system) style: GLOBAL 'os\nsystem\n' then REDUCE.
  std::string evil =
      bytes({0x80, 2, 'c'}) + "os\nsystem\n" + bytes({'X', 2, 0, 0, 0, 'l', 's', 0x85, 'R', '.'});
  std::string e = refusal(evil);
  EXPECT_NE(e.find("GLOBAL"), std::string::npos) << e;
  EXPECT_NE(e.find("refused"), std::string::npos) << e;
  EXPECT_NE(e.find("at byte 2"), std::string::npos) << e;
  EXPECT_NE(refusal(bytes({0x80, 4, 0x8c, 1, 'o', 0x8c, 1, 's', 0x93, '.'})).find("STACK_GLOBAL"),
            std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'N', 'N', 'R', '.'})).find("REDUCE"), std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'N', 'Q', '.'})).find("BINPERSID"), std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'N', 'N', 'b', '.'})).find("BUILD"), std::string::npos);
}

TEST(Pickle, RefusesBrokenStreams) {
  EXPECT_NE(refusal("").find("empty file"), std::string::npos);
  EXPECT_NE(refusal("{\"a\":1}").find("no PROTO"), std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, '}'})).find("truncated"), std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'a'})).find("ends inside a value"),
            std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'h', 3, '.'})).find("memo 3 read before"), std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'e', '.'})).find("no MARK"), std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'N', 'N', '.'})).find("2 values"), std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 2, 'K', 1, '(', 'K', 2, 'e', '.'})).find("not a list"),
            std::string::npos);
  EXPECT_NE(
      refusal(bytes({0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, '.'})).find("more than 64 bits"),
      std::string::npos);
  EXPECT_NE(refusal(bytes({0x80, 9, 'N', '.'})).find("protocol 9"), std::string::npos);
}

TEST(Pickle, SelfReferenceAndExpansionAreBounded) {
  // A list that contains itself: L = []; L.append(L).
  EXPECT_NE(refusal(bytes({0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'})).find("deeper than 64"),
            std::string::npos);
  // A "billion laughs": each list holds the previous one twice.
  // All of them end up in one outer list, so the stream is well formed up to STOP.
  std::string p = bytes({0x80, 2, ']', '(', ']', 'q', 0});
  for (int k = 1; k < 40; ++k) p += bytes({']', '(', 'h', k - 1, 'h', k - 1, 'e', 'q', k});
  p += "e.";
  std::string e = refusal(p);
  EXPECT_NE(e.find("expand"), std::string::npos) << e;
}

TEST(FlightRecorder, SchemaVersions) {
  // torch 2.2: a bare list with seq_id and time_created_us.
  auto old = fr_from_json(nlohmann::json::parse(
      R"([{"pg_id":0,"seq_id":5,"profiling_name":"nccl:all_reduce","time_created_us":1,"input_sizes":[[4]],"output_sizes":[[4]],"state":"scheduled","retired":false,"frames":[]}])"));
  ASSERT_EQ(old.entries.size(), 1u);
  EXPECT_EQ(old.entries[0].seq, 5);
  EXPECT_EQ(old.entries[0].pg, "0");
  EXPECT_EQ(old.version, "");
  // 1.x: pg_config {int: [ranks]} (ints become string keys in the pickle reader).
  auto v1 = fr_from_json(nlohmann::json::parse(
      R"({"version":"1.5","pg_config":{"0":[0,1,2]},"entries":[{"pg_id":0,"seq_id":9,"profiling_name":"nccl:broadcast","state":"completed"}]})"));
  ASSERT_EQ(v1.groups.size(), 1u);
  EXPECT_EQ(v1.groups[0].ranks, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(v1.entries[0].seq, 9);
  // JSON API: pg_status values are strings, process_group a list.
  auto js = read_fr_file(kHangs / "seq_only/fr/rank_1.json", "rank_1.json");
  EXPECT_EQ(js.error, "");
  EXPECT_EQ(js.format, "json");
  EXPECT_EQ(js.rank, 1);
  EXPECT_EQ(js.version, "2.5");
  ASSERT_FALSE(js.groups.empty());
  EXPECT_EQ(js.groups[0].last_enqueued, 1233);
  EXPECT_EQ(js.groups[0].ranks, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(js.entries.back().op, "nccl:_all_gather_base");
  EXPECT_TRUE(js.entries.back().frames.empty());
}

TEST(FlightRecorder, TruncatedDumpIsReportedNotRead) {
  auto d = read_fr_file(kHangs / "conflict/nccl_trace_rank_3", "nccl_trace_rank_3");
  EXPECT_EQ(d.rank, 3);
  EXPECT_NE(d.error.find("truncated"), std::string::npos) << d.error;
  EXPECT_TRUE(d.entries.empty());
  EXPECT_TRUE(is_fr_head(test_support::slurp(kHangs / "conflict/nccl_trace_rank_3")));
  EXPECT_FALSE(is_fr_head("\x80\x02}q\x00(X\x03\x00\x00\x00fooq"));
}
