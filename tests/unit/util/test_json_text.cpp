// dump_report with placeholders (kSplicePrefix + N), as one string and streamed to a sink: the
// same text, the streamed parts bounded, the pieces handed over as they are.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze_logs/util.hpp"

using namespace alog;
using ojson = nlohmann::ordered_json;

namespace {

std::string placeholder(size_t n) {
  return std::string(kSplicePrefix) + std::to_string(n);
}

struct Streamed {
  std::string text;
  std::vector<size_t> sizes;
  std::vector<const char*> data;  // where each part's bytes were
};

Streamed stream(const ojson& doc, const std::vector<const std::string*>& pieces) {
  Streamed s;
  dump_report(doc, pieces, [&](std::string_view part) {
    s.text += part;
    s.sizes.push_back(part.size());
    s.data.push_back(part.data());
  });
  return s;
}

}  // namespace

TEST(DumpReport, SplicesPiecesAtTheirPlace) {
  // Each piece is the text dump_report gives its value at the placeholder's indentation.
  const ojson element = {
      {"name", "job-1"}, {"runs", {1, 2, 3}}, {"batches", ojson::array({{{"t", 1}}, {{"t", 2}}})}};
  const std::string piece = dump_report(element, 6);  // srtctl.jobs[]: 3 levels down
  std::vector<const std::string*> pieces{&piece};
  ojson doc;
  doc["srtctl"]["jobs"] = ojson::array({placeholder(0)});
  ojson whole;
  whole["srtctl"]["jobs"] = ojson::array({element});
  EXPECT_EQ(dump_report(doc, pieces), dump_report(whole));
  EXPECT_EQ(stream(doc, pieces).text, dump_report(whole));
  // A placeholder past the pieces is an error, not a silent gap.
  ojson bad;
  bad["jobs"] = ojson::array({placeholder(1)});
  EXPECT_THROW(dump_report(bad, pieces), std::out_of_range);
  EXPECT_THROW(stream(bad, pieces), std::out_of_range);
  // The thread's state is reset after a throw: a later plain dump splices nothing.
  ojson later;
  later["x"] = placeholder(0);
  EXPECT_NE(dump_report(later).find("alog-splice"), std::string::npos);
}

TEST(DumpReport, StreamedInBoundedParts) {
  // 400 jobs' pieces of 10 KB, one of 1.5 MB, and a tree of 30,000 records: about 7 MB in all.
  std::vector<std::string> texts;
  auto value = [](size_t i) {
    return ojson{{"job", i},
                 {"log", std::string(i == 123 ? 1500000 : 10000, static_cast<char>('a' + i % 26))}};
  };
  for (size_t i = 0; i < 400; ++i) texts.push_back(dump_report(value(i), 4));
  std::vector<const std::string*> pieces;
  ojson doc, whole;
  for (size_t i = 0; i < texts.size(); ++i) {
    pieces.push_back(&texts[i]);
    doc["jobs"].push_back(placeholder(i));
    whole["jobs"].push_back(value(i));
  }
  ojson records = ojson::array();
  for (int i = 0; i < 30000; ++i) records.push_back({{"step", i}, {"loss", i * 0.5}});
  doc["updates"] = records;
  whole["updates"] = records;
  const Streamed s = stream(doc, pieces);
  EXPECT_EQ(s.text, dump_report(doc, pieces));
  EXPECT_EQ(s.text, dump_report(whole));
  ASSERT_GT(s.sizes.size(), 4u);
  bool big_as_is = false;
  for (size_t i = 0; i < s.sizes.size(); ++i) {
    if (s.data[i] == texts[123].data()) {
      big_as_is = true;  // the piece larger than a part goes out from its own string
      EXPECT_EQ(s.sizes[i], texts[123].size());
      continue;
    }
    // Any other part: about 1 MiB of text at most, plus one record or piece.
    EXPECT_LE(s.sizes[i], (size_t{1} << 20) + 12000) << i;
  }
  EXPECT_TRUE(big_as_is);
}

TEST(DumpReport, SmallAndEmptyDocuments) {
  std::vector<const std::string*> none;
  for (const ojson& d : {ojson(nullptr), ojson::object(), ojson::array(), ojson{{"a", 1}},
                         ojson{{"updates", ojson::array()}}}) {
    const Streamed s = stream(d, none);
    EXPECT_EQ(s.text, dump_report(d, none)) << d.dump();
    EXPECT_EQ(s.text, dump_report(d)) << d.dump();
    EXPECT_EQ(s.sizes.size(), s.text.empty() ? 0u : 1u) << d.dump();
  }
}
