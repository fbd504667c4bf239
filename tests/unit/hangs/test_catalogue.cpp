// Every finding id the hang analysis can emit has its row in docs/DIAGNOSES.md ("Hang findings"),
// and every row there is an id the code emits: the ids are read from the sources (`x.id =
// "hang_…"`) and from the findings of every testdata hang set, so a new id without a row, or a
// row for an id that is gone, fails here.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "analyze_logs/hangs.hpp"
#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;
using alog::test_support::slurp;

namespace {

const fs::path kRoot = fs::path(ALOG_TESTDATA).parent_path();

// The ids of the "Hang findings" table: its rows' first cells.
std::set<std::string> documented() {
  std::string doc = slurp(kRoot / "docs" / "DIAGNOSES.md");
  size_t at = doc.find("## Hang findings");
  EXPECT_NE(at, std::string::npos);
  if (at == std::string::npos) return {};
  size_t end = doc.find("\n## ", at + 1);
  std::string section = doc.substr(at, end == std::string::npos ? std::string::npos : end - at);
  std::set<std::string> ids;
  std::regex row(R"(\n\| `(hang_\w+)` \|)");
  for (std::sregex_iterator it(section.begin(), section.end(), row), e; it != e; ++it)
    ids.insert((*it)[1]);
  return ids;
}

std::set<std::string> in_sources() {
  std::set<std::string> ids;
  std::regex assign(R"re(\.id = "(hang_\w+)")re");
  for (const auto& e : fs::directory_iterator(kRoot / "src" / "hangs")) {
    std::string text = slurp(e.path());
    for (std::sregex_iterator it(text.begin(), text.end(), assign), end; it != end; ++it)
      ids.insert((*it)[1]);
  }
  return ids;
}

}  // namespace

TEST(HangCatalogue, EveryIdInTheCodeHasARowAndEveryRowAnId) {
  std::set<std::string> doc = documented(), code = in_sources();
  EXPECT_GE(code.size(), 9u);
  for (const auto& id : code) EXPECT_TRUE(doc.count(id)) << id << " has no row in docs/DIAGNOSES.md";
  for (const auto& id : doc) EXPECT_TRUE(code.count(id)) << id << " is documented but never emitted";
}

TEST(HangCatalogue, EveryIdTheTestdataSetsEmitHasARow) {
  std::set<std::string> doc = documented(), seen;
  for (const auto& e : fs::directory_iterator(fs::path(ALOG_TESTDATA) / "hangs")) {
    if (!e.is_directory()) continue;
    core::Header h = hangs::header(hangs::analyze({e.path()}));
    for (const auto& f : h.findings) {
      if (f.id == "file_problems") continue;  // the shared finding every kind gives
      seen.insert(f.id);
      EXPECT_TRUE(doc.count(f.id)) << f.id << " (" << e.path().filename() << ") has no row";
    }
  }
  // The sets between them show most of the catalogue.
  for (const char* id : {"hang_culprit", "hang_undecided", "hang_collective", "hang_missing_dump",
                         "hang_rank_mapping", "hang_first_reporter", "hang_torchrun_root_cause",
                         "hang_aborts"})
    EXPECT_TRUE(seen.count(id)) << id;
}
