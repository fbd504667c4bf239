// `analyze-logs compare` as a CI job runs it: the real binary (built beside this test, or
// $ALOG_TEST_BINARY) on the seeds' before/after runs in testdata/runs. Exit status of the
// regression gate (trips / does not trip), --baseline N (1-based), the comparison_<timestamp>/
// folder with COMPARE.md and compare.json, the verdict line, --format json and mixed inputs.

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "child.hpp"
#include "support.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kData = ALOG_TESTDATA;
const std::string kPrefix = (kData / "runs" / "prefix").string();
const std::string kPostfix = (kData / "runs" / "postfix").string();
const std::string kHealthy = (kData / "runs" / "healthy").string();

using alog::test_support::TempDir;

using alog::test_support::binary_under_test;

struct Outcome : alog::test_support::ChildOutcome {
  // The last line of standard output: the comparison folder.
  fs::path folder() const {
    std::string s = out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s.substr(s.rfind('\n') + 1);
  }
};

Outcome run(std::vector<std::string> args) {
  args.insert(args.begin(), binary_under_test().string());
  return {alog::test_support::run_piped(std::move(args))};
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

using alog::test_support::slurp;

const std::string kSeedVerdict =
    "queue_ms mean 28453.2 → 87.2 ms (\u221299.7 %); step time mean 35.4 → 3.8 s (\u221289.1 %); success "
    "criterion p99 < 300 ms: met";

class CompareCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(binary_under_test()))
        << binary_under_test() << " not found: build the analyze-logs target or set ALOG_TEST_BINARY";
  }
  TempDir tmp;
};

}  // namespace

TEST_F(CompareCli, TheFixPassesTheGateWithTheSeedsVerdict) {
  Outcome r = run({"compare", "--fail-on-regression", "10", "-j", "2", "-o", tmp.path.string(),
                   kPrefix, kPostfix});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  fs::path dir = r.folder();
  EXPECT_EQ(dir.parent_path(), tmp.path);
  EXPECT_TRUE(std::regex_match(dir.filename().string(), std::regex(R"(comparison_\d{8}_\d{6})")))
      << dir;
  ASSERT_TRUE(fs::exists(dir / "COMPARE.md"));
  ASSERT_TRUE(fs::exists(dir / "compare.json"));
  // Only the folder: no hidden staging folder left beside it.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path)) ++entries;
  EXPECT_EQ(entries, 1u);

  auto j = read_json(dir / "compare.json");
  EXPECT_EQ(j["kind"], "comparison");
  EXPECT_EQ(j["baseline"]["label"], "prefix");
  EXPECT_EQ(j["regressed"], false);
  EXPECT_TRUE(
      j["verdict"].get<std::string>().starts_with(kSeedVerdict + "; no regression over 10 %"))
      << j["verdict"];
  EXPECT_NE(r.out.find("Verdict: " + kSeedVerdict), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir / "COMPARE.md").find("28453.2"), std::string::npos);
}

TEST_F(CompareCli, BaselineTwoRevertsTheFixAndTheGateTrips) {
  // --baseline 2: postfix is the baseline, so prefix (the run before the fix) regresses.
  Outcome r = run({"compare", "--baseline", "2", "--fail-on-regression", "10", "-j", "2", "-o",
                   tmp.path.string(), kPrefix, kPostfix});
  EXPECT_EQ(r.status, 1) << r.err << r.out;
  auto j = read_json(r.folder() / "compare.json");
  EXPECT_EQ(j["baseline"]["index"], 1);
  EXPECT_EQ(j["baseline"]["label"], "postfix");
  EXPECT_EQ(j["regressed"], true);
  bool queue = false;
  for (const auto& g : j["regressions"])
    if (g["run"] == "prefix" && g["metric"] == "weights.queue_ms" && g["stat"] == "mean")
      queue = true;
  EXPECT_TRUE(queue) << j["regressions"].dump();
  EXPECT_TRUE(
      j["verdict"].get<std::string>().starts_with("queue_ms mean 87.2 → 28453.2 ms (+32529.8 %)"))
      << j["verdict"];

  // The same comparison without the gate compares and exits 0.
  Outcome ungated =
      run({"compare", "--baseline", "2", "-j", "2", "-o", tmp.path.string(), kPrefix, kPostfix});
  EXPECT_EQ(ungated.status, 0) << ungated.err;

  // A baseline past the last run is a usage error, and writes nothing.
  TempDir empty;
  Outcome bad = run({"compare", "--baseline", "3", "-o", empty.path.string(), kPrefix, kPostfix});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--baseline 3: only 2 runs given"), std::string::npos) << bad.err;
  EXPECT_TRUE(fs::is_empty(empty.path));
}

TEST_F(CompareCli, MixedInputsThreeRunsAsJsonOnStandardOutput) {
  // A report.json, a log file alone (no trainer log) and a run folder.
  Outcome r = run({"compare", "--format", "json", "--fail-on-regression", "10", "-j", "2", "-o",
                   tmp.path.string(), (kData / "compare" / "before.report.json").string(),
                   kPostfix + "/logs/orchestrator.log", kHealthy});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);  // standard output is compare.json and nothing else
  ASSERT_EQ(j["runs"].size(), 3u);
  EXPECT_EQ(j["runs"][0]["kind"], "report.json");
  EXPECT_EQ(j["runs"][1]["kind"], "log file");
  EXPECT_EQ(j["runs"][2]["kind"], "run folder");
  const auto& q = j["metrics"]["weights.queue_ms"]["runs"];
  EXPECT_NEAR(q[0]["mean"].get<double>(), 28453.2, 1e-9);
  EXPECT_NEAR(q[1]["mean"].get<double>(), 87.2, 0.05);
  // The log file alone says what it lacks.
  bool said = false;
  for (const auto& m : j["missing"])
    if (m["metric"] == "ckpt.write_ms")
      for (const auto& w : m["missing_in"])
        if (w["run"] == "orchestrator.log" && w["why"] == "no trainer log among its inputs")
          said = true;
  EXPECT_TRUE(said) << j["missing"].dump();
  // The folder's path goes to standard error; its compare.json is what was printed.
  fs::path dir = r.err.substr(0, r.err.find('\n'));
  ASSERT_TRUE(fs::exists(dir / "compare.json")) << r.err;
  EXPECT_EQ(read_json(dir / "compare.json"), j);
}
