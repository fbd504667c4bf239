// The srtctl Body: the job's own detail below the shared header, on real testdata folders. It
// must not repeat the verdict, keeps the terminal table to the key columns, and writes the same
// JSON as to_json for that job.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

#include "analyze_logs/render/render.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::srtctl;

namespace {

const std::filesystem::path kLogs = std::filesystem::path(ALOG_TESTDATA) / "srtctl" / "logs";
const char* kHealthy = "4459_2P_1D_20251122_041341";
const char* kOom = "4460_2P_1D_20251122_061502";
const char* kNeverReady = "4461_2P_1D_20251122_080011";

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

using alog::test_support::lines_of;

}  // namespace

TEST(SrtctlBody, JsonIsTheJobsOwnValueInToJson) {
  for (const char* name : {kHealthy, kOom, kNeverReady}) {
    JobReport r = analyze_job(kLogs / name);
    nlohmann::ordered_json whole = to_json({r});
    ASSERT_EQ(whole["jobs"].size(), 1u);
    EXPECT_EQ(whole["jobs"][0], job_to_json(r)) << name;
    nlohmann::ordered_json from_body;
    make_body(r)->json(from_body);
    EXPECT_EQ(from_body, job_to_json(r)) << name;
    EXPECT_EQ(from_body["job_id"], r.job.job_id);
  }
}

TEST(SrtctlBody, TerminalShowsTheKeyColumnsOfEveryRunWithin100Columns) {
  JobReport r = analyze_job(kLogs / kHealthy);
  ASSERT_EQ(r.runs.size(), 3u);
  std::string text = make_body(r)->text({false, 100});
  for (const auto& l : lines_of(text)) EXPECT_LE(render::display_width(l), 100u) << l;
  EXPECT_TRUE(text.starts_with("Job 4459 \u00b7 2P/1D \u00b7 4 nodes \u00b7 model ")) << text;
  EXPECT_TRUE(contains(text, "Model ready at ")) << text;
  EXPECT_TRUE(contains(text, "  conc  req/s  out tok/s  TTFT mean  TTFT p99  TPOT mean  TPOT p99  failed")) << text;
  for (const auto& run : r.runs) {
    std::string row;
    for (const auto& l : lines_of(text))
      if (l.starts_with(fmt::format("  {:>4}", run.concurrency))) row = l;
    ASSERT_FALSE(row.empty()) << run.concurrency << "\n" << text;
    EXPECT_TRUE(contains(row, fixed(*run.metric("output_throughput"), 2))) << row;
    EXPECT_TRUE(contains(row, fixed(*run.metric("p99_tpot_ms"), 2))) << row;
  }
  // The full table is for SUMMARY.md: no E2EL or ITL on the terminal; and no verdict.
  EXPECT_FALSE(contains(text, "E2EL")) << text;
  EXPECT_FALSE(contains(text, "ITL")) << text;
  EXPECT_FALSE(contains(text, r.reason)) << text;
  EXPECT_FALSE(contains(text, "\x1b"));
}

TEST(SrtctlBody, TerminalNamesUnfinishedRunsAndSummarisesWorkerErrors) {
  JobReport r = analyze_job(kLogs / kOom);
  ASSERT_EQ(r.unfinished().size(), 1u);
  std::string text = make_body(r)->text({false, 100});
  EXPECT_TRUE(contains(text, "Unfinished: concurrency 256 started at ")) << text;
  EXPECT_TRUE(contains(text, "unfinished")) << text;
  EXPECT_TRUE(contains(text, fmt::format("Worker errors in {} workers (1 root cause", r.failures.size()))) << text;
  // The per-worker lines are not repeated on the terminal.
  EXPECT_FALSE(contains(text, r.failures.back().first_error)) << text;
  std::string color = make_body(r)->text({true, 100});
  EXPECT_TRUE(contains(color, "\x1b[33munfinished\x1b[0m")) << color;

  std::string never = make_body(analyze_job(kLogs / kNeverReady))->text({false, 100});
  EXPECT_TRUE(contains(never, "Model never ready: the health check gave up after 3600 s")) << never;
  EXPECT_TRUE(contains(never, "Benchmark: no run started.")) << never;
}

TEST(SrtctlBody, MarkdownKeepsTheFullTablesAndLeavesTheVerdictToTheHeader) {
  JobReport r = analyze_job(kLogs / kOom);
  std::string md = make_body(r)->markdown();
  EXPECT_TRUE(md.starts_with("## Job\n\n")) << md;
  EXPECT_FALSE(contains(md, "**Verdict")) << md;
  EXPECT_FALSE(contains(md, "Root cause: **")) << md;
  EXPECT_FALSE(contains(md, "# srtctl job")) << md;
  for (const char* h : {"## Workers", "## Benchmark results", "## Worker errors", "| Concurrency | ISL/OSL |",
                        "E2EL P99", "ITL median", "**root cause**", "collateral"})
    EXPECT_TRUE(contains(md, h)) << h << "\n" << md;
  // to_markdown (used by the CLI today) still opens with the verdict.
  std::string whole = to_markdown({r});
  EXPECT_TRUE(contains(whole, "**Verdict: failed**")) << whole;
  EXPECT_TRUE(contains(whole, "Root cause: **")) << whole;
}

TEST(SrtctlBody, HtmlHasTheTablesEscaped) {
  JobReport r = analyze_job(kLogs / kOom);
  std::string html = make_body(r)->html();
  for (const char* h : {"<h2>Job</h2>", "<h2>Workers</h2>", "<h2>Benchmark results</h2>", "<h2>Worker errors</h2>",
                        "<th>E2EL P99</th>", "s-critical\">root cause</td>", "unfinished: started "})
    EXPECT_TRUE(contains(html, h)) << h << "\n" << html;
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(contains(html, "Verdict"));
  EXPECT_TRUE(contains(html, html_escape(r.failures.front().file))) << html;
}
