// compare on real inputs: the seeds' before/after runs in testdata/runs (prefix = before the
// dedicated admin client, postfix = after), three runs, mixed argument kinds, the regression gate,
// loading errors, and the comparison folder.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "analyze_logs/compare.hpp"
#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/writers.hpp"

namespace ac = alog::compare;
namespace fs = std::filesystem;

namespace {

const std::string kData = ALOG_TESTDATA;
const std::string kPrefix = kData + "/runs/prefix";
const std::string kPostfix = kData + "/runs/postfix";
const std::string kHealthy = kData + "/runs/healthy";

// A fresh folder under the system temp dir, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("alog_test_compare_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

ac::Options options(std::vector<std::string> runs) {
  ac::Options o;
  o.runs = std::move(runs);
  o.threads = 2;
  return o;
}

double stat(const ac::Result& r, const std::string& metric, size_t run, const std::string& s) {
  return r.json["metrics"][metric]["runs"][run][s].get<double>();
}

std::string load_error(const std::vector<std::string>& args) {
  try {
    ac::load_runs(options(args));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(CompareRunsOnLogs, SeedHeadlineNumbersPrefixToPostfix) {
  auto opt = options({kPrefix, kPostfix});
  auto runs = ac::load_runs(opt);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].label, "prefix");
  EXPECT_EQ(runs[1].label, "postfix");
  EXPECT_EQ(runs[0].kind, "run folder");
  auto r = ac::compare_runs(runs, opt);

  // Seed 002: "Queue Delay: Mean = 28453.2 ms" before, "87.2 ms" after; RPC time 1234.5 ms.
  EXPECT_NEAR(stat(r, "weights.queue_ms", 0, "mean"), 28453.2, 0.05);
  EXPECT_NEAR(stat(r, "weights.queue_ms", 1, "mean"), 87.2, 0.05);
  EXPECT_NEAR(stat(r, "weights.rpc_ms", 0, "mean"), 1234.5, 0.05);
  const auto& ch = r.json["metrics"]["weights.queue_ms"]["runs"][1]["change"]["mean"];
  EXPECT_NEAR(ch["pct"].get<double>(), (87.2 - 28453.2) / 28453.2 * 100, 0.01);
  EXPECT_EQ(r.json["metrics"]["weights.queue_ms"]["runs"][0]["status"], "critical");
  EXPECT_EQ(r.json["metrics"]["weights.queue_ms"]["runs"][1]["status"], "good");

  EXPECT_EQ(r.verdict.substr(0, r.verdict.find("; resolved")),
            "queue_ms mean 28453.2 → 87.2 ms (\u221299.7 %); step time mean 35.4 → 3.8 s (\u221289.1 %); "
            "success criterion p99 < 300 ms: met")
      << r.verdict;
  EXPECT_NE(r.verdict.find("resolved: queue_saturation"), std::string::npos) << r.verdict;
  EXPECT_NE(r.terminal.find("critical → good"), std::string::npos) << r.terminal;
  EXPECT_NE(r.markdown.find("**Verdict:** queue\\_ms mean 28453.2 → 87.2 ms (\u221299.7 %)"),
            std::string::npos)
      << r.markdown;
}

TEST(CompareRunsOnLogs, ExpectAndGateOnTheFix) {
  auto opt = options({kPrefix, kPostfix});
  opt.expect = {"weights.queue_ms.p99<300"};
  opt.fail_on_regression_pct = 10;
  auto runs = ac::load_runs(opt);
  auto r = ac::compare_runs(runs, opt);
  EXPECT_FALSE(r.checks_failed);  // the baseline fails it; the fix meets it
  EXPECT_FALSE(r.json["checks"][0]["results"][0]["passed"].get<bool>());
  EXPECT_TRUE(r.json["checks"][0]["results"][1]["passed"].get<bool>());
  for (const auto& line : r.regressions)
    EXPECT_EQ(line.find("queue_ms"), std::string::npos) << line;

  // Reverting the fix: postfix as the baseline, prefix as the candidate. The gate trips.
  opt.baseline = 1;
  auto back = ac::compare_runs(runs, opt);
  ASSERT_FALSE(back.regressions.empty());
  EXPECT_NE(back.regressions[0].find("prefix: weights."), std::string::npos) << back.regressions[0];
  bool queue = false;
  for (const auto& line : back.regressions)
    if (line.starts_with("prefix: weights.queue_ms mean 87.2 → 28453.2 ms (+32529.8 %"))
      queue = true;
  EXPECT_TRUE(queue) << back.terminal;
  EXPECT_TRUE(back.checks_failed);  // prefix fails p99 < 300
  EXPECT_NE(back.verdict.find("not met (p99 "), std::string::npos) << back.verdict;
  EXPECT_NE(back.verdict.find("new: queue_saturation (critical)"), std::string::npos)
      << back.verdict;
}

TEST(CompareRunsOnLogs, IdenticalRunsNeverRegress) {
  // The same logs as a run folder and as the log files of that folder: 0 % everywhere.
  auto logs = alog::find_run_logs(kPostfix);
  ASSERT_FALSE(logs.empty());
  auto opt = options({kPostfix, kPostfix});
  opt.fail_on_regression_pct = 0;
  auto r = ac::compare_runs(ac::load_runs(opt), opt);
  EXPECT_TRUE(r.regressions.empty()) << r.terminal;
  EXPECT_EQ(r.json["runs"][1]["label"], "postfix (2)");
  EXPECT_NE(r.verdict.find("no regression over 0 %"), std::string::npos) << r.verdict;
}

TEST(CompareRunsOnLogs, ThreeRuns) {
  auto opt = options({kHealthy, kPrefix, kPostfix});
  opt.baseline = 1;  // prefix, the run before the fix
  opt.fail_on_regression_pct = 10;
  auto r = ac::compare_runs(ac::load_runs(opt), opt);
  ASSERT_EQ(r.json["runs"].size(), 3u);
  EXPECT_EQ(r.json["baseline"]["label"], "prefix");
  const auto& q = r.json["metrics"]["weights.queue_ms"]["runs"];
  EXPECT_TRUE(q[1]["change"].is_null());
  EXPECT_LT(q[0]["change"]["mean"]["pct"].get<double>(), -90.0);
  EXPECT_NEAR(q[2]["change"]["mean"]["pct"].get<double>(), -99.69, 0.01);
  // Every run is named in the headline, the baseline first.
  EXPECT_TRUE(r.verdict.starts_with("queue_ms mean 28453.2 ms (prefix) → ")) << r.verdict;
  EXPECT_NE(r.verdict.find("87.2 ms (postfix, \u221299.7 %)"), std::string::npos) << r.verdict;
  EXPECT_NE(r.verdict.find("(healthy, \u2212"), std::string::npos) << r.verdict;
  for (const auto& line : r.regressions)
    EXPECT_EQ(line.find("queue_ms"), std::string::npos) << line;
  // The Markdown has a change row for both non-baseline runs.
  EXPECT_NE(r.markdown.find("| ↳ change (healthy) |"), std::string::npos);
  EXPECT_NE(r.markdown.find("| ↳ change (postfix) |"), std::string::npos);
}

TEST(CompareRunsOnLogs, MixedInputs) {
  TempDir tmp;
  // An analysis folder, written the way the CLI writes report.json.
  alog::AnalysisOptions ao;
  ao.inputs = {kPostfix};
  alog::Report rep = alog::analyze(ao);
  alog::diagnose(rep);
  fs::path analysis = tmp.path / "analysis_20250101_000000";
  fs::create_directories(analysis);
  std::ofstream(analysis / "report.json") << alog::to_json(rep).dump(2) << "\n";
  // A log file: the postfix orchestrator log alone.
  auto logs = alog::find_run_logs(kPostfix);
  std::string orch;
  for (const auto& p : logs)
    if (p.filename().string().starts_with("orchestrator")) orch = p.string();
  ASSERT_FALSE(orch.empty());

  auto opt = options({kData + "/compare/before.report.json", analysis.string(), orch, kPrefix});
  auto runs = ac::load_runs(opt);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].kind, "report.json");
  EXPECT_EQ(runs[1].kind, "analysis folder");
  EXPECT_EQ(runs[2].kind, "log file");
  EXPECT_EQ(runs[3].kind, "run folder");
  EXPECT_EQ(runs[0].label, "before.report.json");
  EXPECT_EQ(runs[1].label, "analysis_20250101_000000");
  EXPECT_EQ(runs[2].label, fs::path(orch).filename().string());
  EXPECT_EQ(runs[3].label, "prefix");

  auto r = ac::compare_runs(runs, opt);
  // The report.json fixture holds the seed's "before" figures.
  EXPECT_NEAR(stat(r, "weights.queue_ms", 0, "mean"), 28453.2, 1e-9);
  // The analysis folder and the orchestrator log are the same weight updates.
  EXPECT_NEAR(stat(r, "weights.queue_ms", 1, "mean"), 87.2, 0.05);
  EXPECT_DOUBLE_EQ(stat(r, "weights.queue_ms", 1, "mean"), stat(r, "weights.queue_ms", 2, "mean"));
  EXPECT_NEAR(stat(r, "weights.queue_ms", 3, "mean"), 28453.2, 0.05);
  // The log file alone has no trainer log: ckpt.write_ms is missing there and says why.
  bool said = false;
  for (const auto& m : r.json["missing"])
    if (m["metric"] == "ckpt.write_ms")
      for (const auto& w : m["missing_in"])
        if (w["run"] == runs[2].label && w["why"] == "no trainer log among its inputs") said = true;
  EXPECT_TRUE(said) << r.json["missing"].dump(2);
}

TEST(CompareLoad, BadInputsNameTheArgument) {
  EXPECT_EQ(load_error({kPrefix, "/nonexistent/run_42"}),
            "/nonexistent/run_42: No such file or directory");
  EXPECT_EQ(load_error({kData + "/compare/not_a_report.json", kPrefix}),
            kData +
                "/compare/not_a_report.json: not an analyze-logs report.json (expected \"schema\" "
                "and \"metrics\")");
  std::string trunc = load_error({kPrefix, kData + "/compare/truncated.json"});
  EXPECT_TRUE(trunc.starts_with(kData + "/compare/truncated.json: not valid JSON (")) << trunc;
  EXPECT_EQ(load_error({kData + "/compare/schema3.json", kPrefix}),
            kData +
                "/compare/schema3.json: report.json schema 3 is not supported (this build reads "
                "schemas 1 and 2)");
  TempDir tmp;
  std::ofstream(tmp.path / "empty.log") << "";
  fs::create_directories(tmp.path / "nologs");
  std::string nologs = load_error({(tmp.path / "nologs").string(), kPrefix});
  EXPECT_TRUE(nologs.starts_with((tmp.path / "nologs").string() + ": ")) << nologs;
  try {
    ac::load_runs(options({kPrefix}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "compare needs at least two runs (1 given)");
  }
}

TEST(CompareOutput, FolderIsWrittenOnceAndItsJsonIsNotARun) {
  TempDir tmp;
  auto opt = options({kData + "/compare/before.report.json", kPostfix});
  auto r = ac::compare_runs(ac::load_runs(opt), opt);
  fs::path a = ac::write_comparison(r, tmp.path);
  fs::path b = ac::write_comparison(r, tmp.path);
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.filename().string().starts_with("comparison_")) << a;
  ASSERT_TRUE(fs::exists(a / "COMPARE.md"));
  ASSERT_TRUE(fs::exists(a / "compare.json"));
  auto j = nlohmann::json::parse(std::ifstream(a / "compare.json"));
  EXPECT_EQ(j["kind"], "comparison");
  EXPECT_EQ(j["verdict"], r.verdict);
  // Nothing else (no hidden staging folder) is left beside them.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path)) ++entries;
  EXPECT_EQ(entries, 2u);
  // A comparison cannot be compared.
  EXPECT_EQ(load_error({kPostfix, (a / "compare.json").string()}),
            (a / "compare.json").string() + ": a compare.json (a comparison), not a report.json");
  EXPECT_EQ(load_error({kPostfix, a.string()}),
            a.string() + ": a comparison folder, not a run or an analysis folder");
}

TEST(CompareServing, HookIgnoresPrimeRlRuns) {
  EXPECT_FALSE(ac::compare_serving_jobs(options({kPrefix, kPostfix})).has_value());
}

TEST(CompareServing, HookComparesSrtctlJobFolders) {
  std::vector<std::string> jobs;
  for (const auto& e : fs::directory_iterator(kData + "/srtctl/logs"))
    if (e.is_directory()) jobs.push_back(e.path().string());
  std::sort(jobs.begin(), jobs.end());
  if (jobs.size() < 2) GTEST_SKIP() << "no srtctl job folders in testdata";
  auto r = ac::compare_serving_jobs(options(jobs));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->json["family"], "srtctl");
  EXPECT_FALSE(r->markdown.empty());
  EXPECT_FALSE(r->verdict.empty());
}
