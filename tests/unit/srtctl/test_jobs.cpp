// Whole job folders: the three testdata jobs (healthy, decode CUDA OOM, never ready), the set
// of them with its comparison, and every bad input analyze_job must survive.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyze_logs/srtctl.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {

const fs::path kLogs = fs::path(ALOG_TESTDATA) / "srtctl" / "logs";
const char* kHealthy = "4459_2P_1D_20251122_041341";
const char* kOom = "4460_2P_1D_20251122_061502";
const char* kNeverReady = "4461_2P_1D_20251122_080011";

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("alog_srtctl_jobs_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  // A writable copy of a testdata job.
  fs::path copy_job(const char* name) const {
    fs::copy(kLogs / name, path / name, fs::copy_options::recursive);
    return path / name;
  }
};

using alog::test_support::slurp;

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t i = hay.find(needle); i != std::string::npos; i = hay.find(needle, i + 1)) ++n;
  return n;
}

bool has_problem(const JobReport& r, const std::string& file, const std::string& words) {
  for (const auto& p : r.problems)
    if (p.file == file && p.message.find(words) != std::string::npos) return true;
  return false;
}

const std::string kJson128 =
    "sa-bench_isl_1024_osl_1024/isl_1024_osl_1024_concurrency_128_req_rate_inf_ctx8_gen8.json";
const std::string kJson256 =
    "sa-bench_isl_1024_osl_1024/isl_1024_osl_1024_concurrency_256_req_rate_inf_ctx8_gen8.json";

}  // namespace

// ---- The healthy job -----------------------------------------------------------------------

TEST(SrtctlHealthyJob, JobLineTopologyAndReadiness) {
  JobReport r = analyze_job(kLogs / kHealthy);
  EXPECT_EQ(r.name, kHealthy);
  EXPECT_EQ(r.layout, "v1");
  EXPECT_EQ(r.job.job_id, "4459");
  EXPECT_EQ(r.job.prefill_workers, 2);
  EXPECT_EQ(r.job.decode_workers, 1);
  EXPECT_EQ(r.job.start, "2025-11-22 04:13:41");
  EXPECT_EQ(r.started_at, "2025-11-22 04:14:02");
  EXPECT_EQ(r.topology.nodes.size(), 4u);
  EXPECT_EQ(r.topology.master_node, "watchtower-aqua-cn02");
  EXPECT_EQ(r.topology.frontend_url, "http://watchtower-aqua-cn01:8000");
  EXPECT_EQ(r.topology.exit_code, 0);
  EXPECT_EQ(r.model, "/lustre/models/DeepSeek-R1-FP4");
  EXPECT_EQ(r.gpu_type, "gb200-fp4");
  EXPECT_EQ(r.gpus_per_node, 4);
  EXPECT_EQ(r.prefill_nodes, 2);
  EXPECT_EQ(r.decode_nodes, 2);
  EXPECT_EQ(r.isl, 1024);
  EXPECT_EQ(r.osl, 1024);
  EXPECT_EQ(r.requested_concurrencies, (std::vector<int64_t>{64, 128, 256}));
  EXPECT_EQ(r.request_rate, "inf");

  EXPECT_TRUE(r.readiness.polled);
  EXPECT_TRUE(r.readiness.ready);
  EXPECT_EQ(r.readiness.not_ready_reports, 4);
  EXPECT_EQ(r.readiness.ready_at, "2025-11-22 04:21:40");
  EXPECT_EQ(r.readiness.ready_after_s, 458);  // 04:14:02 -> 04:21:40
}

TEST(SrtctlHealthyJob, RunsMergeBlocksAndJsonByConcurrency) {
  JobReport r = analyze_job(kLogs / kHealthy);
  ASSERT_EQ(r.warmups.size(), 3u);
  EXPECT_EQ(r.warmups[2].concurrency, 256);
  EXPECT_TRUE(r.warmups[2].has_block);
  ASSERT_EQ(r.runs.size(), 3u);
  const BenchRun& r64 = r.runs[0];
  EXPECT_EQ(r64.concurrency, 64);
  EXPECT_EQ(r64.line, 111u);
  EXPECT_TRUE(r64.has_block);
  EXPECT_EQ(
      r64.json_file,
      "sa-bench_isl_1024_osl_1024/isl_1024_osl_1024_concurrency_64_req_rate_inf_ctx8_gen8.json");
  EXPECT_EQ(r64.started_at, "2025-11-22 04:32:52");
  EXPECT_EQ(r64.ended_at, "2025-11-22 04:35:55");
  EXPECT_EQ(r64.num_prompts, 320);
  EXPECT_EQ(r64.failed_requests, 0);
  // The JSON's full precision wins over the block's 1816.28.
  EXPECT_DOUBLE_EQ(*r64.metric("output_throughput"), 327875.0 / 180.52);
  EXPECT_DOUBLE_EQ(*r64.metric("completed"), 320);
  EXPECT_DOUBLE_EQ(*r64.metric("p99_ttft_ms"), 2874.15);
  EXPECT_DOUBLE_EQ(*r64.metric("mean_itl_ms"), 1838.21);
  EXPECT_DOUBLE_EQ(*r64.metric("median_e2el_ms"), 37890.12);
  EXPECT_TRUE(r64.metric("std_tpot_ms"));  // JSON-only key
  EXPECT_NE(*r.warmups[0].metric("output_throughput"), *r64.metric("output_throughput"));

  const BenchRun* r256 = r.run(256);
  ASSERT_NE(r256, nullptr);
  EXPECT_DOUBLE_EQ(*r256->metric("total_input_tokens"), 1307354);
  EXPECT_DOUBLE_EQ(*r256->metric("mean_tpot_ms"), 53.71);
  EXPECT_TRUE(r.unfinished().empty());
}

TEST(SrtctlHealthyJob, TeardownLinesAreCollateralAndVerdictIsHealthy) {
  JobReport r = analyze_job(kLogs / kHealthy);
  EXPECT_EQ(r.teardown_at, "2025-11-22 04:58:32");
  EXPECT_EQ(r.cancelled.size(), 6u);
  EXPECT_FALSE(r.time_limit);
  EXPECT_EQ(r.root(), nullptr);
  EXPECT_EQ(r.root_cause, "");
  ASSERT_EQ(r.failures.size(), 1u);  // the frontend's "Stream ended" after the cancel
  EXPECT_EQ(r.failures[0].role, "frontend");
  EXPECT_TRUE(r.failures[0].collateral);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front().file << ": " << r.problems.front().message;
  EXPECT_EQ(r.verdict, Verdict::healthy);
  EXPECT_EQ(r.reason, "3 runs with results; no worker errors before teardown");
}

// ---- The decode worker that died of CUDA OOM -------------------------------------------------

TEST(SrtctlOomJob, RootCauseIsTheDecodeOomNotTheCollateral) {
  JobReport r = analyze_job(kLogs / kOom);
  const WorkerFailure* root = r.root();
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->role, "decode");
  EXPECT_EQ(root->index, 0);
  EXPECT_EQ(root->node, "watchtower-aqua-cn11");
  EXPECT_EQ(root->kind, "cuda_oom");
  EXPECT_TRUE(root->fatal);
  EXPECT_EQ(root->file, "watchtower-aqua-cn11_decode_w0.err");
  EXPECT_EQ(root->line, 41u);
  EXPECT_EQ(root->time, "2025-11-22 06:41:55");
  EXPECT_NE(root->first_error.find("Scheduler hit an exception"), std::string::npos);
  EXPECT_EQ(root->exception.rfind("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate "
                                  "1.75 GiB. GPU 2",
                                  0),
            0u);
  EXPECT_EQ(
      root->last_frame,
      "File \"/sgl-workspace/sglang/python/sglang/srt/layers/moe/ep_moe/layer.py\", line 512, "
      "in forward_deepgemm_masked");
  EXPECT_EQ(r.root_cause,
            "decode w0 on watchtower-aqua-cn11: CUDA out of memory at 2025-11-22 06:41:55 "
            "(watchtower-aqua-cn11_decode_w0.err:41)");
  EXPECT_EQ(&r.failures.front(), root);
  // The fix is the catalogue's for CUDA OOM (its serving advice included).
  EXPECT_NE(root->fix.find("mem_fraction_static"), std::string::npos) << root->fix;

  // Everything else failed after it: the peer rank's NCCL error, the prefill's KV transfer,
  // the frontend and nginx.
  ASSERT_EQ(r.failures.size(), 5u);
  for (size_t i = 1; i < r.failures.size(); ++i) {
    EXPECT_TRUE(r.failures[i].collateral) << r.failures[i].role << " " << r.failures[i].node;
    EXPECT_FALSE(r.failures[i].root_cause);
  }
  const WorkerFailure& peer = r.failures[1];
  EXPECT_EQ(peer.node, "watchtower-aqua-cn12");
  EXPECT_EQ(peer.kind, "nccl_timeout");
  EXPECT_EQ(peer.time, "2025-11-22 06:41:56");
  EXPECT_NE(peer.exception.find("DistBackendError"), std::string::npos);
}

TEST(SrtctlOomJob, UnfinishedRunAndFailedVerdictDespiteExitCodeZero) {
  JobReport r = analyze_job(kLogs / kOom);
  EXPECT_EQ(r.topology.exit_code, 0);  // the success-looking exit code lies
  ASSERT_EQ(r.runs.size(), 3u);
  EXPECT_TRUE(r.runs[0].finished());
  EXPECT_TRUE(r.runs[1].finished());
  EXPECT_DOUBLE_EQ(*r.runs[1].metric("output_throughput"), 655750.0 / 222.40);
  auto unfinished = r.unfinished();
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0]->concurrency, 256);
  EXPECT_EQ(unfinished[0]->started_at, "2025-11-22 06:41:42");
  EXPECT_EQ(unfinished[0]->line, 182u);
  EXPECT_FALSE(unfinished[0]->has_block);
  EXPECT_TRUE(unfinished[0]->json_file.empty());

  bool setup_complete = false;
  for (const auto& l : r.logs)
    if (l.file == "watchtower-aqua-cn11_decode_w0.err") setup_complete = l.setup_complete;
  EXPECT_TRUE(setup_complete);  // printed after the crash: not a success signal
  EXPECT_EQ(r.teardown_at, "2025-11-22 06:41:58");
  ASSERT_EQ(r.slurm_errors.size(), 1u);
  EXPECT_NE(r.slurm_errors[0].find("Terminated"), std::string::npos);

  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.reason,
            "decode w0 on watchtower-aqua-cn11: CUDA out of memory at 2025-11-22 06:41:55 "
            "(watchtower-aqua-cn11_decode_w0.err:41); benchmark at concurrency 256 started "
            "2025-11-22 06:41:42 never finished");
}

// ---- The model that never became ready -------------------------------------------------------

TEST(SrtctlNeverReadyJob, ReadinessTimeoutAndVerdict) {
  JobReport r = analyze_job(kLogs / kNeverReady);
  EXPECT_TRUE(r.readiness.polled);
  EXPECT_FALSE(r.readiness.ready);
  EXPECT_TRUE(r.readiness.timed_out);
  EXPECT_EQ(r.readiness.timeout_s, 3600);
  EXPECT_EQ(r.readiness.not_ready_reports, 7);
  EXPECT_EQ(r.readiness.waiting_prefill, 0);
  EXPECT_EQ(r.readiness.waiting_decode, 1);
  EXPECT_EQ(r.readiness.ready_at, "");
  EXPECT_TRUE(r.runs.empty());
  EXPECT_TRUE(r.warmups.empty());
  EXPECT_EQ(r.topology.exit_code, 2);

  const WorkerFailure* root = r.root();
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->role, "decode");
  EXPECT_EQ(root->node, "watchtower-aqua-cn16");
  EXPECT_EQ(root->kind, "nccl_error");
  EXPECT_FALSE(root->fatal);
  EXPECT_EQ(root->line, 23u);
  EXPECT_EQ(root->time, "2025-11-22 08:01:43");
  EXPECT_EQ(root->signature_lines, 2u);

  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.reason,
            "model never became ready (health check gave up after 3600 s, still waiting for 0 "
            "prefills and 1 decodes); first failure: decode w0 on watchtower-aqua-cn16: NCCL "
            "error at 2025-11-22 08:01:43 (watchtower-aqua-cn16_decode_w0.err:23)");
}

// ---- The set and its comparison --------------------------------------------------------------

TEST(SrtctlSet, AnalysedSortedByJobId) {
  auto jobs = analyze_set(kLogs);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].job.job_id, "4459");
  EXPECT_EQ(jobs[1].job.job_id, "4460");
  EXPECT_EQ(jobs[2].job.job_id, "4461");
  EXPECT_EQ(jobs[0].verdict, Verdict::healthy);
  EXPECT_EQ(jobs[1].verdict, Verdict::failed);
  EXPECT_EQ(jobs[2].verdict, Verdict::failed);
}

TEST(SrtctlSet, MarkdownHasOneComparisonRowPerJobAndConcurrency) {
  auto jobs = analyze_set(kLogs);
  std::string md = to_markdown(jobs);
  EXPECT_EQ(md.rfind("# srtctl jobs (3)", 0), 0u);
  EXPECT_EQ(count(md, "\n| 4459 (baseline) | healthy | "), 3u);
  EXPECT_EQ(count(md, "\n| 4460 | failed | "), 3u);
  EXPECT_EQ(count(md, "\n| 4461 | failed | – | – | no results: model never became ready"), 1u);
  EXPECT_NE(
      md.find("| 4460 | failed | 256 | 1024/1024 | unfinished: started 2025-11-22 06:41:42 |"),
      std::string::npos);
  EXPECT_NE(md.find("| 4460 | failed | 128 | 1024/1024 | 2.88 | 2948.52 | "), std::string::npos);
  // Per-job sections follow the table.
  EXPECT_NE(md.find("## srtctl job 4459: healthy"), std::string::npos);
  EXPECT_NE(md.find("## srtctl job 4460: failed"), std::string::npos);
  EXPECT_NE(md.find("Root cause: **decode w0 on watchtower-aqua-cn11: CUDA out of memory"),
            std::string::npos);
}

TEST(SrtctlCompare, ThroughputDownAndLatencyUpAreRegressions) {
  auto jobs = analyze_set(kLogs);
  std::vector<std::string> regs;
  std::string md = compare_markdown(jobs, 0, 5.0, regs);
  auto has = [&](const std::string& s) {
    for (const auto& g : regs)
      if (g.find(s) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("4460 c=128: output_throughput 2948.52 vs 3193.64 tok/s in 4459 (-7.7%"));
  EXPECT_TRUE(has("4460 c=128: request_throughput"));
  EXPECT_TRUE(has("4460 c=128: mean_ttft_ms 702.88 vs 655.41 ms in 4459 (+7.2%"));
  EXPECT_TRUE(has("4460 c=128: p99_e2el_ms"));
  EXPECT_FALSE(has("4460 c=64: "));  // within 5%
  EXPECT_TRUE(
      has("4460 c=256: no result (unfinished, started 2025-11-22 06:41:42); baseline 4459"));
  EXPECT_TRUE(has("4461: no benchmark results (failed: model never became ready"));
  EXPECT_EQ(regs.size(), 17u);  // 15 metrics at c=128 + c=256 + job 4461
  EXPECT_NE(md.find("17 regression(s) beyond 5.0%"), std::string::npos);

  // A looser gate keeps only the missing results.
  std::vector<std::string> loose;
  compare_markdown(jobs, 0, 10.0, loose);
  EXPECT_EQ(loose.size(), 2u);

  // With 4460 as the baseline, 4459 is better everywhere: nothing but 4461's missing results.
  std::vector<std::string> flipped;
  std::string md2 = compare_markdown(jobs, 1, 5.0, flipped);
  ASSERT_EQ(flipped.size(), 1u);
  EXPECT_EQ(flipped[0].rfind("4461: no benchmark results", 0), 0u);
  EXPECT_NE(md2.find("| 4460 (baseline) |"), std::string::npos);
}

TEST(SrtctlCompare, JsonRowsAndRegressions) {
  auto jobs = analyze_set(kLogs);
  auto j = compare_json(jobs, 0, 5.0);
  EXPECT_EQ(j["baseline"], "4459");
  EXPECT_EQ(j["threshold_pct"], 5.0);
  ASSERT_EQ(j["rows"].size(), 7u);
  const auto& row = j["rows"][4];  // 4460 c=128
  EXPECT_EQ(row["job_id"], "4460");
  EXPECT_EQ(row["concurrency"], 128);
  EXPECT_EQ(row["status"], "finished");
  EXPECT_NEAR(row["change_pct"]["output_throughput"].get<double>(), -7.6754, 1e-3);
  EXPECT_EQ(row["regressions"].size(), 15u);
  EXPECT_EQ(j["rows"][5]["status"], "unfinished");
  EXPECT_EQ(j["rows"][6]["status"], "no_results");
  ASSERT_EQ(j["regressions"].size(), 17u);
  EXPECT_EQ(j["regressions"][0]["metric"], "request_throughput");
  EXPECT_EQ(j["regressions"][15]["missing_result"], true);
  EXPECT_EQ(j["regressions"][16]["concurrency"], nullptr);
}

TEST(SrtctlCompare, OutOfRangeBaselineAndEmptyInput) {
  auto jobs = analyze_set(kLogs);
  std::vector<std::string> regs;
  std::string md = compare_markdown(jobs, 99, 5.0, regs);  // treated as the first job
  EXPECT_NE(md.find("| 4459 (baseline) |"), std::string::npos);
  EXPECT_EQ(regs.size(), 17u);
  std::vector<std::string> none;
  EXPECT_EQ(compare_markdown({}, 0, 5.0, none), "No jobs to compare.\n");
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(compare_json({}, 0, 5.0)["rows"].size(), 0u);
}

TEST(SrtctlJson, CarriesTheJobReport) {
  auto jobs = analyze_set(kLogs);
  auto j = to_json(jobs);
  ASSERT_EQ(j["jobs"].size(), 3u);
  EXPECT_TRUE(j.contains("comparison"));
  const auto& oom = j["jobs"][1];
  EXPECT_EQ(oom["job_id"], "4460");
  EXPECT_EQ(oom["verdict"], "failed");
  EXPECT_EQ(oom["failures"][0]["kind"], "cuda_oom");
  EXPECT_EQ(oom["failures"][0]["root_cause"], true);
  EXPECT_EQ(oom["failures"][0]["line"], 41);
  EXPECT_EQ(oom["runs"][2]["status"], "unfinished");
  EXPECT_EQ(oom["runs"][2]["started_at"], "2025-11-22 06:41:42");
  EXPECT_EQ(oom["topology"]["leaders"][2]["ip"], "10.30.1.173");
  const auto& ok = j["jobs"][0];
  EXPECT_EQ(ok["runs"][0]["metrics"]["p99_ttft_ms"], 2874.15);
  EXPECT_EQ(ok["readiness"]["ready_after_s"], 458);
  EXPECT_EQ(ok["prefill_workers"], 2);
  EXPECT_EQ(j["jobs"][2]["readiness"]["timed_out"], true);
  EXPECT_NO_THROW(j.dump());

  auto single = to_json({jobs[0]});
  EXPECT_FALSE(single.contains("comparison"));
}

TEST(SrtctlMarkdown, SingleJobReport) {
  std::string md = to_markdown({analyze_job(kLogs / kOom)});
  EXPECT_EQ(md.rfind("# srtctl job 4460: failed\n", 0), 0u);
  EXPECT_NE(md.find("| Workers | 2 prefill, 1 decode |"), std::string::npos);
  EXPECT_NE(md.find("| Model ready | 2025-11-22 06:23:15, 7 min 35 s after the first worker log "
                    "line (3 not-ready reports) |"),
            std::string::npos);
  EXPECT_NE(md.find("| decode w0 | watchtower-aqua-cn11 | 10.30.1.173 |"), std::string::npos);
  EXPECT_NE(md.find("| 256 | 1024/1024 | unfinished: started 2025-11-22 06:41:42 |"),
            std::string::npos);
  EXPECT_NE(md.find("| **root cause** | decode w0 | watchtower-aqua-cn11 | cuda_oom |"),
            std::string::npos);
  EXPECT_EQ(to_markdown({}), "No srtctl job folders found.\n");
}

// ---- Bad inputs ----------------------------------------------------------------------------

TEST(SrtctlBadInput, MissingBenchmarkOutKeepsJsonResults) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  fs::remove(job / "benchmark.out");
  JobReport r = analyze_job(job);
  EXPECT_TRUE(has_problem(r, "benchmark.out", "missing"));
  ASSERT_EQ(r.runs.size(), 3u);
  EXPECT_FALSE(r.runs[0].has_block);
  EXPECT_TRUE(r.runs[0].finished());
  EXPECT_DOUBLE_EQ(*r.runs[0].metric("output_throughput"), 327875.0 / 180.52);
  EXPECT_FALSE(r.readiness.polled);
  EXPECT_EQ(r.verdict, Verdict::degraded);
  EXPECT_EQ(r.reason, "1 file problem(s); first: benchmark.out: missing");
}

TEST(SrtctlBadInput, MissingBenchmarkOutAndResultsFails) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  fs::remove(job / "benchmark.out");
  fs::remove_all(job / "sa-bench_isl_1024_osl_1024");
  JobReport r = analyze_job(job);
  EXPECT_TRUE(r.runs.empty());
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.reason, "no benchmark output (benchmark.out missing) and no result files");
}

TEST(SrtctlBadInput, MalformedJsonFallsBackToTheBlock) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  spit(job / kJson128, R"({"date": "20251122-043924", "backend": "dynamo", "max_concurren)");
  JobReport r = analyze_job(job);
  EXPECT_TRUE(has_problem(r, kJson128, "malformed JSON"));
  const BenchRun* r128 = r.run(128);
  ASSERT_NE(r128, nullptr);
  EXPECT_TRUE(r128->finished());
  EXPECT_TRUE(r128->json_file.empty());
  EXPECT_DOUBLE_EQ(*r128->metric("output_throughput"), 3193.64);  // the block's 2 decimals
  EXPECT_EQ(r.verdict, Verdict::degraded);
}

TEST(SrtctlBadInput, TruncatedBlockWithoutJson) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  std::string text = slurp(job / "benchmark.out");
  size_t run256 = text.find("Running benchmark with concurrency: 256");
  size_t cut = text.find("Mean TPOT (ms):", run256);
  ASSERT_NE(cut, std::string::npos);
  spit(job / "benchmark.out", text.substr(0, cut));
  fs::remove(job / kJson256);
  JobReport r = analyze_job(job);
  const BenchRun* r256 = r.run(256);
  ASSERT_NE(r256, nullptr);
  EXPECT_TRUE(r256->has_block);
  EXPECT_TRUE(r256->block_truncated);
  EXPECT_DOUBLE_EQ(*r256->metric("p99_ttft_ms"), 7821.31);
  EXPECT_FALSE(r256->metric("mean_tpot_ms"));
  EXPECT_TRUE(has_problem(r, "benchmark.out", "truncated"));
  EXPECT_EQ(r.verdict, Verdict::degraded);
}

TEST(SrtctlBadInput, StartedRunWithoutBlockOrJsonIsUnfinished) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  std::string text = slurp(job / "benchmark.out");
  size_t run256 = text.find("Running benchmark with concurrency: 256");
  spit(job / "benchmark.out", text.substr(0, text.find("==========", run256)));
  fs::remove(job / kJson256);
  JobReport r = analyze_job(job);
  ASSERT_EQ(r.unfinished().size(), 1u);
  EXPECT_EQ(r.unfinished()[0]->started_at, "2025-11-22 04:39:24");
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.reason, "benchmark at concurrency 256 started 2025-11-22 04:39:24 never finished");
}

TEST(SrtctlBadInput, JsonWithoutMaxConcurrencyUsesTheFileName) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  std::string js = slurp(job / kJson128);
  size_t k = js.find("\"max_concurrency\": 128");
  ASSERT_NE(k, std::string::npos);
  js.replace(k, std::string("\"max_concurrency\": 128").size(), "\"max_concurrency\": null");
  spit(job / kJson128, js);
  JobReport r = analyze_job(job);
  const BenchRun* r128 = r.run(128);
  ASSERT_NE(r128, nullptr);
  EXPECT_EQ(r128->json_file, kJson128);
  EXPECT_EQ(r.runs.size(), 3u);
  EXPECT_EQ(r.verdict, Verdict::healthy);
}

TEST(SrtctlBadInput, MissingLogOutAndGarbageFiles) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  fs::remove(job / "log.out");
  spit(job / "4459.json", "{not json");
  std::string junk = "\x1b[31mError: \xff\xfe | `x` <b>\n";
  for (int i = 0; i < 2000; ++i) junk += static_cast<char>((i * 37) & 0xFF);
  spit(job / "watchtower-aqua-cn01_prefill_w0.err", junk);
  JobReport r = analyze_job(job);
  EXPECT_TRUE(has_problem(r, "log.out", "missing"));
  EXPECT_TRUE(has_problem(r, "4459.json", "malformed"));
  EXPECT_TRUE(r.topology.nodes.empty());
  EXPECT_EQ(r.verdict, Verdict::degraded);  // results intact, an error line, missing files
  EXPECT_NO_THROW(to_json({r}).dump());
  std::string md = to_markdown({r});
  EXPECT_EQ(md.find("\xff"), std::string::npos);
  EXPECT_NE(md.find("\\| \\`x\\` &lt;b&gt;"), std::string::npos);
}

TEST(SrtctlBadInput, RegressionDeeplyNestedJobJsonIsMalformedNotAStackOverflow) {
  // The job metadata JSON nested 200,000 deep crashed nlohmann's recursive parser (SIGSEGV).
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  const size_t n = 200000;
  spit(job / "4459.json", R"({"run_metadata": )" + std::string(n, '[') + std::string(n, ']') + "}");
  JobReport r = analyze_job(job);
  EXPECT_TRUE(has_problem(r, "4459.json", "malformed"));
  EXPECT_NO_THROW(to_json({r}).dump());
}

TEST(SrtctlBadInput, BatchScriptErrorFails) {
  TempDir t;
  fs::path job = t.copy_job(kNeverReady);
  spit(job / "log.out", "Node 0: cn01\nError: Expected 4 nodes but got 3 nodes\n");
  JobReport r = analyze_job(job);
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.reason, "batch script: Error: Expected 4 nodes but got 3 nodes");
}

TEST(SrtctlBadInput, NotADirectoryAndEmptyDirectory) {
  TempDir t;
  JobReport r = analyze_job(t.path / "4459_2P_1D_20251122_041341");
  EXPECT_EQ(r.job.job_id, "4459");
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_FALSE(r.problems.empty());
  fs::create_directories(t.path / "empty");
  JobReport e = analyze_job(t.path / "empty");
  EXPECT_EQ(e.verdict, Verdict::failed);
  EXPECT_TRUE(has_problem(e, "benchmark.out", "missing"));
  EXPECT_TRUE(analyze_set(t.path / "nowhere").empty());
}

TEST(SrtctlBadInput, CompressedWorkerLogIsScanned) {
  TempDir t;
  fs::path job = t.copy_job(kOom);
  fs::path err = job / "watchtower-aqua-cn11_decode_w0.err";
  std::string text = slurp(err);
  fs::remove(err);
  gzFile gz = gzopen((err.string() + ".gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  JobReport r = analyze_job(job);
  ASSERT_NE(r.root(), nullptr);
  EXPECT_EQ(r.root()->kind, "cuda_oom");
  EXPECT_EQ(r.root()->file, "watchtower-aqua-cn11_decode_w0.err.gz");
}

TEST(SrtctlBadInput, BenchmarkClientExceptionAndTimeLimit) {
  TempDir t;
  fs::path job = t.copy_job(kHealthy);
  std::string text = slurp(job / "benchmark.out");
  spit(job / "benchmark.out",
       text.substr(0, text.find("Running benchmark with concurrency: 64")) +
           "Running benchmark with concurrency: 64 and num-prompts: 320, writing to file "
           "/logs/sa-bench_isl_1024_osl_1024\n2025-11-22 04:32:52\n");
  fs::remove_all(job / "sa-bench_isl_1024_osl_1024");
  std::ofstream(job / "benchmark.err", std::ios::app)
      << "Traceback (most recent call last):\n"
         "  File \"/scripts/benchmarks/sa-bench/benchmark_serving.py\", line 574, in benchmark\n"
         "ValueError: Initial test run failed - Please make sure benchmark arguments are "
         "correctly specified. Error: Bad Gateway\n"
         "slurmstepd: error: *** STEP 4459.7 ON watchtower-aqua-cn01 CANCELLED AT "
         "2025-11-22T04:58:32 DUE TO TIME LIMIT ***\n";
  JobReport r = analyze_job(job);
  EXPECT_TRUE(r.time_limit);
  const WorkerFailure* root = r.root();
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->role, "benchmark");
  EXPECT_EQ(root->kind, "exception");
  EXPECT_NE(root->exception.find("Initial test run failed"), std::string::npos);
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_NE(r.reason.find("benchmark client: uncaught exception"), std::string::npos);
  EXPECT_NE(r.reason.find("never ran: concurrency 128, 256"), std::string::npos);
}

TEST(SrtctlV2, OutputsLayoutWithMergedLogs) {
  TempDir t;
  fs::path job = t.path / "12345";
  spit(
      job / "12345.json",
      R"({"version": "2.0", "job_id": "12345", "benchmark": {"type": "sa-bench", "isl": 8192, "osl": 1024}})");
  spit(
      job / "logs" / "sweep_12345.log",
      "2025-12-31 00:10:00,001 [INFO] Waiting for server health (expecting 2 workers: 1P + 1D)...\n"
      "2025-12-31 00:14:30,512 [INFO] Server is healthy\n"
      "2025-12-31 00:20:02,100 [ERROR] Benchmark failed with exit code 1\n");
  spit(job / "logs" / "benchmark.out",
       "SA-Bench Config: endpoint=http://n1:8000; isl=8192; osl=1024; concurrencies=16x32; "
       "req_rate=inf\n"
       "Running benchmark with concurrency: 16\n2025-12-31 00:15:00\n"
       "============ Serving Benchmark Result ============\n"
       "Successful requests:                     80        \n"
       "Output token throughput (tok/s):         900.50    \n"
       "==================================================\n"
       "2025-12-31 00:17:00\nCompleted benchmark with concurrency: 16\n"
       "Running benchmark with concurrency: 32\n2025-12-31 00:17:00\n");
  spit(job / "logs" / "n1_prefill_w0.out", "[2025-12-31 00:09:00 TP0] Load weight begin.\n");
  spit(job / "logs" / "n2_decode_w0.out",
       "[2025-12-31 00:09:01 TP0] Load weight begin.\n"
       "[2025-12-31 00:19:58 TP0] Scheduler hit an exception: Traceback (most recent call last):\n"
       "  File \"/sgl/x.py\", line 3, in f\n"
       "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n");
  ASSERT_TRUE(is_job_dir(job));
  JobReport r = analyze_job(job);
  EXPECT_EQ(r.layout, "v2");
  EXPECT_EQ(r.job.job_id, "12345");
  EXPECT_EQ(r.job.prefill_workers, 1);  // counted from the worker logs
  EXPECT_EQ(r.job.decode_workers, 1);
  EXPECT_EQ(r.isl, 8192);
  EXPECT_TRUE(r.readiness.ready);
  EXPECT_EQ(r.readiness.ready_at, "2025-12-31 00:14:30");
  EXPECT_EQ(r.readiness.ready_after_s, 330);
  ASSERT_EQ(r.runs.size(), 2u);
  EXPECT_DOUBLE_EQ(*r.runs[0].metric("output_throughput"), 900.50);
  EXPECT_FALSE(r.runs[1].finished());
  ASSERT_NE(r.root(), nullptr);
  EXPECT_EQ(r.root()->file, "logs/n2_decode_w0.out");
  EXPECT_EQ(r.root()->kind, "cuda_oom");
  EXPECT_EQ(r.verdict, Verdict::failed);
}

TEST(SrtctlJobs, TheReportDoesNotDependOnTheThreadCount) {
  // The log files of a job are scanned in parallel; slots and problems are taken in file order.
  for (const auto& dir : {kLogs / "4460_2P_1D_20251122_061502", kLogs / "4459_2P_1D_20251122_041341",
                          fs::path(ALOG_TESTDATA) / "srtctl" / "sweep" / "5003_2P_1D_20251201_100000"}) {
    const std::string one = job_to_json(analyze_job(dir, 1)).dump();
    EXPECT_EQ(job_to_json(analyze_job(dir, 2)).dump(), one) << dir;
    EXPECT_EQ(job_to_json(analyze_job(dir, 7)).dump(), one) << dir;
    EXPECT_EQ(job_to_json(analyze_job(dir)).dump(), one) << dir;
  }
  // The report-wide views read reports in place: the same JSON as from copies.
  std::vector<JobReport> jobs = {analyze_job(kLogs / "4459_2P_1D_20251122_041341"),
                                 analyze_job(kLogs / "4460_2P_1D_20251122_061502")};
  EXPECT_EQ(to_json(std::vector<const JobReport*>{&jobs[0], &jobs[1]}).dump(), to_json(jobs).dump());
}
