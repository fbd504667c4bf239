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

// ---- benchmark points in `compare` ------------------------------------------------------------

namespace {

const PointChange& row_of(const PointsComparison& c, size_t side, const std::string& name) {
  for (const auto& r : c.rows)
    if (r.side == side && r.point.name == name) return r;
  throw std::runtime_error("no row " + name);
}

double pct(const PointChange& r, const std::string& m) {
  for (const auto& [k, v] : r.change_pct)
    if (k == m) return v;
  throw std::runtime_error("no change of " + m);
}

}  // namespace

TEST(SrtctlPoints, CompareMatchesPointsByShapeAndConcurrency) {
  auto j5001 = analyze_job(kSweep / "5001_1A_20251201_100000");
  auto j5002 = analyze_job(kSweep / "5002_1P_1D_20251201_100000");
  auto j5003 = analyze_job(kSweep / "5003_2P_1D_20251201_100000");
  // Baseline 5001 (aggregated, 4 GPUs) against the set {5002, 5003} (disaggregated).
  auto c = compare_points({{j5001}, {j5002, j5003}}, {"agg", "disagg"}, 0);
  ASSERT_EQ(c.rows.size(), 5u);  // c16 x2, c64 x2, c128 (5003's c256 never finished)
  const auto& b16 = row_of(c, 0, "5001 c16");
  EXPECT_TRUE(b16.change_pct.empty());  // the baseline's own rows carry no change
  const auto& d16 = row_of(c, 1, "5002 c16");
  EXPECT_TRUE(d16.matched);
  EXPECT_DOUBLE_EQ(pct(d16, "output_tps_per_gpu"), -25.0);  // 150 against 200 tok/s/GPU
  EXPECT_DOUBLE_EQ(pct(d16, "tps_per_user"), -50.0);        // 40 against 80
  EXPECT_DOUBLE_EQ(pct(d16, "mean_tpot_ms"), 100.0);        // 25 against 12.5 ms
  EXPECT_DOUBLE_EQ(pct(d16, "output_tps"), 50.0);           // 1200 against 800 tok/s
  const auto& d64 = row_of(c, 1, "5002 c64");
  EXPECT_DOUBLE_EQ(pct(d64, "output_tps_per_gpu"), -20.0);  // 400 against 500
  EXPECT_DOUBLE_EQ(pct(d64, "tps_per_user"), -60.0);        // 20 against 50
  // A concurrency only the set ran: shown, with nothing to compare against.
  const auto& d128 = row_of(c, 1, "5003 c128");
  EXPECT_FALSE(d128.matched);
  EXPECT_TRUE(d128.change_pct.empty());
  // The frontier over both sides: 5002 is dominated by 5001 c64 on both axes.
  ASSERT_EQ(c.frontiers.size(), 1u);
  EXPECT_EQ(c.frontiers[0].first, "ISL 1024 / OSL 1024");
  EXPECT_EQ(c.frontiers[0].second,
            (std::vector<std::string>{"disagg: 5003 c128", "agg: 5001 c64", "agg: 5001 c16"}));
  EXPECT_TRUE(d128.point.frontier);
  EXPECT_FALSE(d64.point.frontier);

  auto j = points_comparison_json(c);
  EXPECT_EQ(j["baseline"], "agg");
  ASSERT_EQ(j["rows"].size(), 5u);
  const auto& jr = j["rows"][1];  // c16 of the set
  EXPECT_EQ(jr["side"], "disagg");
  EXPECT_EQ(jr["point"], "5002 c16");
  EXPECT_EQ(jr["gpus"], 8);
  EXPECT_DOUBLE_EQ(jr["output_tps_per_gpu"].get<double>(), 150.0);
  EXPECT_DOUBLE_EQ(jr["change_pct"]["output_tps_per_gpu"].get<double>(), -25.0);
  EXPECT_EQ(j["frontiers"][0]["frontier"][0], "disagg: 5003 c128");

  std::string md = points_comparison_markdown(c);
  EXPECT_NE(md.find("## Benchmark points against agg"), std::string::npos);
  EXPECT_NE(md.find("|  | disagg | 5002 c16 | 1P/1D | 8 | 1024/1024 | 16 | 150.00 | −25.0 | 300.00 | −25.0 | "
                    "40.00 | −50.0 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| ★ | disagg | 5003 c128 | 2P/1D | 12 | 1024/1024 | 128 | 600.00 | new |"), std::string::npos)
      << md;
  std::string text = points_comparison_text(c, 100);
  EXPECT_NE(text.find("Δ %"), std::string::npos);
  EXPECT_NE(text.find("−25.0"), std::string::npos);
  size_t widest = 0, n = 0;
  for (unsigned char ch : text) {
    if (ch == '\n') widest = std::max(widest, n), n = 0;
    else if ((ch & 0xC0) != 0x80) ++n;
  }
  EXPECT_LE(widest, 100u) << text;
  // The same job on both sides: every change is 0.
  auto same = compare_points({{j5001}, {j5001}}, {"a", "b"}, 1);
  for (const auto& r : same.rows)
    for (const auto& [m, v] : r.change_pct) EXPECT_DOUBLE_EQ(v, 0.0) << m;
  EXPECT_EQ(same.baseline, 1u);
  // Nothing finished anywhere: no rows, no sections.
  JobReport empty;
  auto none = compare_points({{empty}, {empty}}, {"a", "b"}, 0);
  EXPECT_TRUE(none.rows.empty());
  EXPECT_EQ(points_comparison_markdown(none), "");
  EXPECT_EQ(points_comparison_text(none, 100), "");
  // An out-of-range baseline falls back to the first side.
  EXPECT_EQ(compare_points({{j5001}, {j5002}}, {"a", "b"}, 7).baseline, 0u);
}

TEST(SrtctlPoints, LatencyCurvesAsMermaidWhereMermaidCanDrawThem) {
  // Sweep: 5001 and 5002 both ran c16 and c64; 5003 only c128, so it cannot be a line over them.
  std::string md = latency_mermaid(sweep_view(analyze_set(kSweep), std::nullopt));
  EXPECT_NE(md.find("```mermaid\n---\nconfig:\n  themeVariables:\n    xyChart:\n      plotColorPalette: "
                    "\"#2563eb, #16a34a\"\n---\nxychart-beta\n    title \"Mean TPOT against concurrency, ISL "
                    "1024 / OSL 1024\"\n    x-axis \"concurrency\" [\"16\", \"64\"]\n    y-axis \"mean TPOT (ms)\" "
                    "0 --> 55\n    line [12.50, 20.00]\n    line [25.00, 50.00]\n```\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("Mean TPOT: 5001 (blue), 5002 (green). Not drawn (no point at every concurrency of the "
                    "chart): 5003."),
            std::string::npos)
      << md;
  // TTFT = 100 + 2 x concurrency in make_sweep.py.
  EXPECT_NE(md.find("    line [132.00, 228.00]\n    line [132.00, 228.00]\n"), std::string::npos) << md;
  // It is part of SUMMARY.md's benchmark points.
  EXPECT_NE(sweep_markdown(sweep_view(analyze_set(kSweep), std::nullopt)).find("Mean TTFT against concurrency"),
            std::string::npos);
  // One point per job: no curve to draw.
  EXPECT_EQ(latency_mermaid(sweep_view({analyze_job(kSweep / "5003_2P_1D_20251201_100000")}, std::nullopt)), "");
  EXPECT_EQ(latency_mermaid(SweepView{}), "");
  // A TPOT of 0 (every request failed) is still a value; a missing TPOT leaves the job out.
  JobReport j = analyze_job(kSweep / "5001_1A_20251201_100000");
  for (auto& kv : j.runs[1].metrics)
    if (kv.first == "mean_tpot_ms") kv.first = "renamed";
  std::string cut = latency_mermaid(sweep_view({j}, std::nullopt));
  EXPECT_EQ(cut.find("Mean TPOT"), std::string::npos) << cut;
  EXPECT_NE(cut.find("Mean TTFT: 5001 (blue)."), std::string::npos) << cut;
}
