// The validity gate (issue 19): a finished run with 0 generated tokens, a failed-request share
// above --max-failed-requests, or no measured window is not a result: a finding, excluded from
// the points and frontiers, and not compared. Each case edits a copy of a bundled sweep job
// (testdata/srtctl/sweep/5001_1A_..., runs at concurrency 16 and 64, both valid as bundled).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "analyze_logs/srtctl.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog;
using namespace alog::srtctl;

namespace {

const fs::path kJob = fs::path(ALOG_TESTDATA) / "srtctl" / "sweep" / "5001_1A_20251201_100000";

using alog::test_support::slurp;

// A copy of the job in a fresh folder; `edit` rewrites its benchmark.out.
class Gate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = root_.path / kJob.filename();
    fs::copy(kJob, dir_, fs::copy_options::recursive);
  }
  // Replaces the n-th (0-based) occurrence of `from` in benchmark.out.
  void edit(const std::string& from, const std::string& to, int nth = 0) {
    std::string s = slurp(dir_ / "benchmark.out");
    size_t at = s.find(from);
    for (int i = 0; i < nth && at != std::string::npos; ++i) at = s.find(from, at + 1);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    std::ofstream(dir_ / "benchmark.out", std::ios::binary) << s;
  }
  // The benchmark.out line that starts the run at concurrency c.
  uint64_t run_line(int64_t c) {
    std::istringstream in(slurp(dir_ / "benchmark.out"));
    std::string l;
    for (uint64_t n = 1; std::getline(in, l); ++n)
      if (l.starts_with("Running benchmark with concurrency: " + std::to_string(c) + " ")) return n;
    return 0;
  }
  alog::test_support::TempDir root_{"alog_validity"};
  fs::path dir_;
};

const BenchRun& run_at(const JobReport& j, int64_t c) {
  for (const auto& r : j.runs)
    if (r.concurrency == c) return r;
  throw std::runtime_error("no run at " + std::to_string(c));
}

const core::Finding* finding(const core::Header& h, std::string_view id) {
  for (const auto& f : h.findings)
    if (f.id == id) return &f;
  return nullptr;
}

BenchRun finished_run(std::vector<std::pair<std::string, double>> metrics) {
  BenchRun r;
  r.concurrency = 64;
  r.has_block = true;
  r.metrics = std::move(metrics);
  return r;
}

}  // namespace

TEST(SrtctlValidity, JudgeRunReasons) {
  BenchRun ok =
      finished_run({{"completed", 320}, {"duration", 163.84}, {"total_output_tokens", 327680}});
  judge_run(ok);
  EXPECT_TRUE(ok.valid());
  EXPECT_EQ(ok.invalid, "");

  BenchRun none = finished_run({{"completed", 0}, {"duration", 10}, {"total_output_tokens", 0}});
  judge_run(none);
  EXPECT_EQ(none.invalid, "0 successful requests");
  EXPECT_FALSE(none.valid());

  BenchRun tokens =
      finished_run({{"completed", 320}, {"duration", 10}, {"total_output_tokens", 0}});
  judge_run(tokens);
  EXPECT_EQ(tokens.invalid, "0 generated tokens");

  // Without a token count, the throughput says it.
  BenchRun tps = finished_run({{"completed", 320}, {"duration", 10}, {"output_throughput", 0}});
  judge_run(tps);
  EXPECT_EQ(tps.invalid, "0 output tok/s");

  BenchRun window = finished_run({{"completed", 320}, {"total_output_tokens", 5}});
  judge_run(window);
  EXPECT_EQ(window.invalid, "no benchmark duration: the measured window is missing");
  BenchRun zero_window =
      finished_run({{"completed", 320}, {"duration", 0}, {"total_output_tokens", 5}});
  judge_run(zero_window);
  EXPECT_EQ(zero_window.invalid, "benchmark duration 0 s: no measured window");

  // The failed share: of num-prompts; the limit is inclusive.
  BenchRun failed = finished_run({{"completed", 70}, {"duration", 10}, {"total_output_tokens", 5}});
  failed.num_prompts = 80;
  failed.failed_requests = 10;
  judge_run(failed);
  EXPECT_EQ(failed.invalid, "10 of 80 requests failed (12.5 %, limit 5.0 %)");
  judge_run(failed, 12.5);
  EXPECT_TRUE(failed.valid()) << failed.invalid;  // a second judgement clears the first
  judge_run(failed, 12.4);
  EXPECT_EQ(failed.invalid, "10 of 80 requests failed (12.5 %, limit 12.4 %)");
  // Without num-prompts: completed plus failed.
  BenchRun no_prompts =
      finished_run({{"completed", 90}, {"duration", 10}, {"total_output_tokens", 5}});
  no_prompts.failed_requests = 10;
  judge_run(no_prompts);
  EXPECT_EQ(no_prompts.invalid, "10 of 100 requests failed (10.0 %, limit 5.0 %)");

  // An unfinished run is not judged: it is unfinished.
  BenchRun unfinished;
  unfinished.concurrency = 8;
  judge_run(unfinished);
  EXPECT_EQ(unfinished.invalid, "");
  EXPECT_FALSE(unfinished.valid());
}

TEST_F(Gate, BundledJobIsValid) {
  JobReport j = analyze_job(dir_, 1);
  ASSERT_EQ(j.runs.size(), 2u);
  for (const auto& r : j.runs) EXPECT_TRUE(r.valid()) << r.concurrency << ": " << r.invalid;
  EXPECT_EQ(j.verdict, Verdict::healthy);
  EXPECT_EQ(sweep_view({j}, std::nullopt).excluded.size(), 0u);
}

TEST_F(Gate, ZeroTokensIsAFindingAndNotAPoint) {
  edit("Total generated tokens:                  327680",
       "Total generated tokens:                  0     ");
  JobReport j = analyze_job(dir_, 1);
  EXPECT_EQ(run_at(j, 64).invalid, "0 generated tokens");
  EXPECT_TRUE(run_at(j, 16).valid());
  EXPECT_EQ(j.verdict, Verdict::degraded);
  EXPECT_EQ(j.reason_id, "invalid_runs");
  EXPECT_EQ(j.reason, "1 of 2 finished runs is not a result: c64 (0 generated tokens)");

  core::Header h = header(j);
  EXPECT_EQ(h.verdict, core::Verdict::degraded);
  const core::Finding* f = finding(h, "invalid_runs");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, core::Severity::warning);
  ASSERT_EQ(f->evidence.size(), 1u);
  EXPECT_EQ(f->evidence[0].file, (dir_ / "benchmark.out").lexically_normal().generic_string());
  EXPECT_EQ(f->evidence[0].line, run_line(64));
  EXPECT_EQ(f->evidence[0].text, "concurrency 64: 0 generated tokens");

  SweepView v = sweep_view({j}, std::nullopt);
  ASSERT_EQ(v.points.size(), 1u);
  EXPECT_EQ(v.points[0].name, "5001 c16");
  ASSERT_EQ(v.excluded.size(), 1u);
  EXPECT_EQ(v.excluded[0].name, "5001 c64");
  EXPECT_EQ(v.excluded[0].why, "0 generated tokens");
  EXPECT_EQ(sweep_json(v)["excluded"][0]["invalid"], "0 generated tokens");
  EXPECT_NE(sweep_markdown(v).find("5001 c64 (0 generated tokens)"), std::string::npos);
  EXPECT_NE(sweep_text(v, 100).find("left out of the points and frontiers"), std::string::npos);
  for (const auto& [name, csv] : sweep_csv(v))
    EXPECT_EQ(csv.find("5001 c64"), std::string::npos) << name;

  // report.json's run says why.
  nlohmann::ordered_json js = job_to_json(j);
  for (const auto& r : js["runs"])
    EXPECT_EQ(r["invalid"], r["concurrency"] == 64 ? nlohmann::ordered_json("0 generated tokens")
                                                   : nlohmann::ordered_json(nullptr));
}

TEST_F(Gate, EveryRunInvalidFailsTheJob) {
  edit("Total generated tokens:                  327680",
       "Total generated tokens:                  0     ");
  edit("Total generated tokens:                  81920",
       "Total generated tokens:                  0    ");
  JobReport j = analyze_job(dir_, 1);
  EXPECT_EQ(j.verdict, Verdict::failed);
  EXPECT_EQ(j.reason_id, "no_valid_results");
  EXPECT_EQ(j.reason,
            "no valid benchmark result: 2 finished runs are not a result: c16 (0 generated "
            "tokens), c64 (0 generated "
            "tokens)");
  core::Header h = header(j);
  EXPECT_EQ(h.verdict, core::Verdict::failed);
  const core::Finding* f = finding(h, "no_valid_results");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, core::Severity::critical);
  EXPECT_EQ(f->evidence.size(), 2u);
  EXPECT_EQ(finding(h, "invalid_runs"), nullptr);  // said once
  EXPECT_TRUE(sweep_view({j}, std::nullopt).points.empty());
  EXPECT_NE(sweep_html(sweep_view({j}, std::nullopt)).find("left out"), std::string::npos);
}

TEST_F(Gate, FailedShareFollowsTheLimit) {
  // c16 ran 80 prompts; 70 successful = 10 failed, 12.5 %.
  edit("Successful requests:                     80 ",
       "Successful requests:                     70 ");
  JobReport j = analyze_job(dir_, 1);
  EXPECT_EQ(run_at(j, 16).failed_requests, 10);
  EXPECT_EQ(run_at(j, 16).invalid, "10 of 80 requests failed (12.5 %, limit 5.0 %)");
  EXPECT_EQ(j.reason_id, "invalid_runs");

  // A looser limit: a result, with its failed requests still a warning.
  JobReport loose = analyze_job(dir_, JobOptions{.threads = 1, .max_failed_pct = 20});
  EXPECT_TRUE(run_at(loose, 16).valid());
  EXPECT_EQ(loose.reason_id, "failed_requests");
  EXPECT_EQ(sweep_view({loose}, std::nullopt).points.size(), 2u);
}

TEST_F(Gate, MissingMeasuredWindow) {
  edit("Benchmark duration (s):                  163.84    \n", "");
  JobReport j = analyze_job(dir_, 1);
  EXPECT_EQ(run_at(j, 64).invalid, "no benchmark duration: the measured window is missing");
  EXPECT_EQ(j.reason_id, "invalid_runs");
}

TEST_F(Gate, InvalidRunsAreNotCompared) {
  JobReport base = analyze_job(kJob, 1);
  edit("Total generated tokens:                  327680",
       "Total generated tokens:                  0     ");
  JobReport bad = analyze_job(dir_, 1);
  bad.job.job_id = "5001b";
  std::vector<JobReport> jobs{base, bad};
  std::vector<std::string> regs;
  std::string md = compare_markdown(jobs, 0, 5.0, regs);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0], "5001b c=64: no result (invalid: 0 generated tokens); baseline 5001 has one");
  EXPECT_NE(md.find("invalid: 0 generated tokens"), std::string::npos);
  EXPECT_NE(md.find("not compared"), std::string::npos);
  nlohmann::ordered_json cj = compare_json(jobs, 0, 5.0);
  bool seen = false;
  for (const auto& row : cj["rows"])
    if (row["job_id"] == "5001b" && row["concurrency"] == 64) {
      seen = true;
      EXPECT_EQ(row["status"], "invalid");
      EXPECT_EQ(row["invalid"], "0 generated tokens");
      EXPECT_TRUE(row["change_pct"].empty());
    }
  EXPECT_TRUE(seen);
  // The invalid run as the baseline: nothing to compare against, so no metric regression.
  std::vector<JobReport> flipped{bad, base};
  regs.clear();
  compare_markdown(flipped, 0, 5.0, regs);
  EXPECT_TRUE(regs.empty()) << regs.front();
}
