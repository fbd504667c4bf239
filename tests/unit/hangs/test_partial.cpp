// Hang artifacts for `analyze-logs partial` / `merge` (hangs/partial.cpp): the decision over the
// file parts of several nodes, each part through CBOR, is the decision over the files in one place;
// a file two hosts hold under one path is two files; a damaged state is an error naming what.
#include <gtest/gtest.h>

#include <filesystem>

#include "analyze_logs/hangs.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog;
using alog::test_support::TempDir;
using json = nlohmann::json;

namespace {

const fs::path kHangs = fs::path(ALOG_TESTDATA) / "hangs";

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) v.push_back(fs::relative(e.path(), dir));
  std::sort(v.begin(), v.end());
  return v;
}

// `rels` of `from` copied to `at` (emptied first): one node's share, at the path every node has.
void place(const fs::path& from, const std::vector<fs::path>& rels, const fs::path& at) {
  fs::remove_all(at);
  fs::create_directories(at);
  for (const auto& r : rels) {
    fs::create_directories((at / r).parent_path());
    fs::copy_file(from / r, at / r);
  }
}

json through_cbor(const json& j) {
  return json::from_cbor(json::to_cbor(j));
}

}  // namespace

// Every testdata hang set, its files dealt round robin to 1, 2 and 3 nodes.
TEST(HangPartial, MergedEqualsOnePlaceForEverySplit) {
  TempDir tmp;
  for (const auto& e : fs::directory_iterator(kHangs)) {
    const fs::path at = tmp.path / e.path().filename();
    const std::vector<fs::path> rels = files_under(e.path());
    place(e.path(), rels, at);
    const std::string want = hangs::to_json(hangs::analyze({at})).dump();
    for (size_t nodes = 1; nodes <= 3; ++nodes) {
      std::vector<core::PartState> parts;
      for (size_t n = 0; n < nodes; ++n) {
        std::vector<fs::path> mine;
        for (size_t i = n; i < rels.size(); i += nodes) mine.push_back(rels[i]);
        place(e.path(), mine, at);
        parts.push_back({"node" + std::to_string(n), through_cbor(hangs::partial_state({at}))});
      }
      std::reverse(parts.begin(), parts.end());  // the order the partials come in does not matter
      EXPECT_EQ(hangs::to_json(hangs::merge_partials({at.string()}, parts)).dump(), want)
          << e.path().filename() << " on " << nodes << " nodes";
    }
    fs::remove_all(at);
  }
}

// Two hosts' files under one path are two files, each named host:path in the evidence.
TEST(HangPartial, OnePathOnTwoHostsIsTwoFiles) {
  TempDir tmp;
  const fs::path at = tmp.path / "r";
  place(kHangs / "conflict", {"py-spy-rank0.txt"}, at);
  json a = hangs::partial_state({at});
  json b = hangs::partial_state({at});
  hangs::HangReport r = hangs::merge_partials({at.string()}, {{"gpu-a", a}, {"gpu-b", b}});
  const std::string f = (at / "py-spy-rank0.txt").string();
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0], "gpu-a:" + f);
  EXPECT_EQ(r.files[1], "gpu-b:" + f);
  ASSERT_EQ(r.dumps.size(), 2u);
  EXPECT_EQ(r.dumps[0].file, "gpu-a:" + f);
  // The same host's part twice (one file read for two jobs of one partial) is one file.
  hangs::HangReport once = hangs::merge_partials({at.string()}, {{"gpu-a", a}, {"gpu-a", a}});
  EXPECT_EQ(once.files, std::vector<std::string>{f});
}

TEST(HangPartial, DamagedStatesAreErrorsNamingWhat) {
  TempDir tmp;
  const fs::path at = tmp.path / "r";
  place(kHangs / "conflict", files_under(kHangs / "conflict"), at);
  const json good = hangs::partial_state({at});
  ASSERT_FALSE(good.at("files").empty());
  auto message = [&](const json& bad) {
    try {
      hangs::merge_partials({at.string()}, {{"h", bad}});
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  json no_files = good;
  no_files.erase("files");
  EXPECT_NE(message(no_files).find("files"), std::string::npos) << message(no_files);
  json wrong_type = good;
  wrong_type["files"][0]["what"] = "fr";
  EXPECT_NE(message(wrong_type).find("hang state"), std::string::npos) << message(wrong_type);
  json unknown = good;
  unknown["files"][0]["what"] = 7;
  EXPECT_NE(message(unknown).find("unknown part 7"), std::string::npos) << message(unknown);
  json no_facts = good;
  for (auto& f : no_facts["files"])
    if (f["what"] == 2) f.erase("facts");
  EXPECT_NE(message(no_facts).find("facts"), std::string::npos) << message(no_facts);
}
