// Benchmark points, the Pareto frontier and the --min-tps-user cutoff over the sweep testdata
// (testdata/srtctl/sweep/make_sweep.py says what each job was built to show), the bundled jobs,
// and the CSV files.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {

const fs::path kSweep = fs::path(ALOG_TESTDATA) / "srtctl" / "sweep";

const BenchPoint& point(const SweepView& v, const std::string& name) {
  for (const auto& p : v.points)
    if (p.name == name) return p;
  throw std::runtime_error("no point " + name);
}

std::vector<std::string> frontier_names(const SweepView& v, size_t shape = 0) {
  std::vector<std::string> out;
  for (size_t m : v.shapes.at(shape).members) out.push_back(v.points[m].name);
  return out;
}

}  // namespace

TEST(SrtctlPoints, SweepPerGpuAndPerUserFigures) {
  auto jobs = analyze_set(kSweep);
  ASSERT_EQ(jobs.size(), 3u);
  SweepView v = sweep_view(jobs, std::nullopt);
  ASSERT_EQ(v.points.size(), 5u);  // 5003's c256 never finished: no point
  const auto& agg = point(v, "5001 c64");
  EXPECT_EQ(agg.topology, "1A");
  EXPECT_EQ(agg.gpus, 4);
  EXPECT_DOUBLE_EQ(*agg.output_tps_per_gpu, 500.0);
  EXPECT_DOUBLE_EQ(*agg.total_tps_per_gpu, 1000.0);
  EXPECT_DOUBLE_EQ(*agg.tps_per_user, 50.0);  // 1000 / 20 ms
  EXPECT_EQ(agg.completed, 320);
  EXPECT_EQ(agg.failed, 0);
  EXPECT_DOUBLE_EQ(*agg.tpot.median, 19.6);
  EXPECT_DOUBLE_EQ(*agg.tpot.p99, 30.0);
  const auto& dis = point(v, "5002 c16");
  EXPECT_EQ(dis.topology, "1P/1D");
  EXPECT_EQ(dis.gpus, 8);
  EXPECT_DOUBLE_EQ(*dis.output_tps_per_gpu, 150.0);
  EXPECT_DOUBLE_EQ(*dis.tps_per_user, 40.0);
  const auto& big = point(v, "5003 c128");
  EXPECT_EQ(big.gpus, 12);
  EXPECT_DOUBLE_EQ(*big.output_tps_per_gpu, 600.0);
  EXPECT_DOUBLE_EQ(*big.tps_per_user, 16.0);
  EXPECT_DOUBLE_EQ(*big.ttft.mean, 356.0);
  EXPECT_DOUBLE_EQ(*big.e2el.mean, 62.5 * 1024 + 356.0);
}

TEST(SrtctlPoints, FrontierMembershipAndDominatedPoints) {
  SweepView v = sweep_view(analyze_set(kSweep), std::nullopt);
  ASSERT_EQ(v.shapes.size(), 1u);
  EXPECT_EQ(v.shapes[0].isl, 1024);
  EXPECT_EQ(v.shapes[0].points, 5u);
  // By tokens/s per user: 16, 50, 80. 5001 c64 (500/GPU, 50/user) dominates both 5002 points.
  EXPECT_EQ(frontier_names(v), (std::vector<std::string>{"5003 c128", "5001 c64", "5001 c16"}));
  EXPECT_FALSE(point(v, "5002 c16").frontier);
  EXPECT_FALSE(point(v, "5002 c64").frontier);
  EXPECT_FALSE(v.shapes[0].best_at_cutoff);  // no cutoff asked for
}

TEST(SrtctlPoints, CutoffAnswer) {
  auto jobs = analyze_set(kSweep);
  auto best = [&](double n) -> std::string {
    SweepView v = sweep_view(jobs, n);
    return v.shapes[0].best_at_cutoff ? v.points[*v.shapes[0].best_at_cutoff].name : "none";
  };
  EXPECT_EQ(best(10), "5003 c128");
  EXPECT_EQ(best(16), "5003 c128");  // the cutoff is inclusive
  EXPECT_EQ(best(30), "5001 c64");
  EXPECT_EQ(best(60), "5001 c16");
  EXPECT_EQ(best(81), "none");
  SweepView v = sweep_view(jobs, 81);
  EXPECT_NE(sweep_text(v, 100).find("No configuration reaches 81.0 tok/s/user."),
            std::string::npos);
  EXPECT_TRUE(sweep_json(v)["frontiers"][0]["best_at_cutoff"].is_null());
  EXPECT_EQ(sweep_json(sweep_view(jobs, 30))["frontiers"][0]["best_at_cutoff"], "5001 c64");
}

TEST(SrtctlPoints, TiesAndUnknownGpuCount) {
  // Two jobs with the same figures: neither beats the other, so both are on the frontier. A job
  // without a GPU count has no per-GPU figures and cannot be on a frontier.
  auto jobs = analyze_set(kSweep);
  std::vector<JobReport> two{jobs[0], jobs[0]};
  two[1].job.job_id = "5001b";
  SweepView v = sweep_view(two, std::nullopt);
  EXPECT_EQ(frontier_names(v).size(), 4u);
  two[1].gpus_per_node.reset();
  v = sweep_view(two, std::nullopt);
  EXPECT_FALSE(point(v, "5001b c64").output_tps_per_gpu);
  EXPECT_TRUE(point(v, "5001b c64").tps_per_user);
  EXPECT_FALSE(point(v, "5001b c64").frontier);
  EXPECT_EQ(v.shapes[0].points, 2u);
}

TEST(SrtctlPoints, BundledJobs) {
  // testdata/srtctl/logs: 4459 (healthy) and 4460 (CUDA OOM at 256) on 16 GPUs each; 4460's two
  // points are dominated by 4459's.
  SweepView v = sweep_view(analyze_set(fs::path(ALOG_TESTDATA) / "srtctl" / "logs"), 20.0);
  ASSERT_EQ(v.points.size(), 5u);
  EXPECT_EQ(point(v, "4459 c64").gpus, 16);
  EXPECT_NEAR(*point(v, "4459 c64").tps_per_user, 1000.0 / 36.84, 1e-9);
  EXPECT_EQ(frontier_names(v), (std::vector<std::string>{"4459 c256", "4459 c128", "4459 c64"}));
  EXPECT_EQ(v.points[*v.shapes[0].best_at_cutoff].name, "4459 c128");
}

TEST(SrtctlPoints, CsvColumns) {
  SweepView v = sweep_view(analyze_set(kSweep), 30.0);
  auto files = sweep_csv(v);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].first, "benchmark_points.csv");
  std::istringstream pts(files[0].second);
  std::string head, line;
  std::getline(pts, head);
  EXPECT_EQ(head,
            "job,point,topology,gpus,isl,osl,concurrency,output_tps,total_tps,output_tps_per_gpu,"
            "total_tps_per_gpu,"
            "tps_per_user,ttft_mean_ms,ttft_median_ms,ttft_p99_ms,tpot_mean_ms,tpot_median_ms,tpot_"
            "p99_ms,"
            "itl_mean_ms,itl_median_ms,itl_p99_ms,e2el_mean_ms,e2el_median_ms,e2el_p99_ms,"
            "completed,failed,frontier");
  size_t rows = 0;
  while (std::getline(pts, line)) ++rows;
  EXPECT_EQ(rows, 5u);
  EXPECT_NE(files[0].second.find("\n5001,5001 c64,1A,4,1024,1024,64,2000,4000,500,1000,50,"),
            std::string::npos);
  EXPECT_EQ(files[1].first, "frontier.csv");
  EXPECT_EQ(files[1].second,
            "isl,osl,rank,point,job,concurrency,tps_per_user,output_tps_per_gpu,best_at_cutoff\n"
            "1024,1024,1,5003 c128,5003,128,16,600,0\n"
            "1024,1024,2,5001 c64,5001,64,50,500,1\n"
            "1024,1024,3,5001 c16,5001,16,80,200,0\n");
}

TEST(SrtctlPoints, MarkdownAndHtmlCarryTheFrontier) {
  SweepView v = sweep_view(analyze_set(kSweep), 30.0);
  std::string md = sweep_markdown(v);
  EXPECT_NE(md.find("### Pareto frontier, ISL 1024 / OSL 1024"), std::string::npos);
  EXPECT_NE(md.find("| 5001 c64 | 1A | 4 | 64 | 50.00 | 500.00 |"), std::string::npos);
  EXPECT_NE(md.find("xychart-beta"), std::string::npos);
  EXPECT_NE(md.find("line [600.00, 500.00, 200.00]"), std::string::npos);
  std::string html = sweep_html(v);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("cutoff 30.0 tok/s/user"), std::string::npos);
  EXPECT_NE(html.find("5003 c128 (frontier): 16.00 tok/s/user, 600.00 out tok/s/GPU"),
            std::string::npos);
  EXPECT_NE(html.find("Mean TPOT (ms) against concurrency"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}
