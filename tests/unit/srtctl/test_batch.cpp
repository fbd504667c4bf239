// SGLang batch lines (old and new shapes), the benchmark windows, statistics per window, rate
// matching and the findings made from them, on testdata/srtctl/sweep (make_sweep.py says what
// each job was built to show).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "analyze_logs/srtctl.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {

const fs::path kSweep = fs::path(ALOG_TESTDATA) / "srtctl" / "sweep";

// A fresh folder, removed at the end (tests/unit/support.hpp).
struct TempDir : alog::test_support::TempDir {
  TempDir() : alog::test_support::TempDir("alog_srtctl_batch") {}
};

// A copy of a testdata job whose worker logs `edit` may rewrite (lines without their newline).
fs::path edited_copy(
    const TempDir& tmp, const fs::path& job,
    const std::function<std::string(const std::string& file, const std::string& all)>& edit) {
  const fs::path dst = tmp.path / job.filename();
  fs::copy(job, dst, fs::copy_options::recursive);
  for (const auto& e : fs::directory_iterator(dst)) {
    if (e.path().extension() != ".err") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = edit(e.path().filename().string(), ss.str());
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << text;
  }
  return dst;
}

const WindowStats* find_stats(const std::vector<WindowStats>& s, const std::vector<BenchWindow>& w,
                              const std::string& window, const std::string& role, bool decode,
                              int dp) {
  for (const auto& x : s)
    if (w[x.window].label == window && x.role == role && x.decode == decode && x.dp == dp)
      return &x;
  return nullptr;
}

const alog::core::Finding* finding(const alog::core::Header& h, const std::string& id) {
  for (const auto& f : h.findings)
    if (f.id == id) return &f;
  return nullptr;
}

}  // namespace

TEST(SrtctlBatch, NewDecodeShape) {
  BatchSample b;
  ASSERT_TRUE(
      parse_batch_line("[2025-11-22 06:41:52 DP4 TP4 EP4] Decode batch, #running-req: 64, #token: "
                       "1071552, token usage: 0.86, "
                       "pre-allocated usage: 0.00, #prealloc-req: 2, #transfer-req: 5, "
                       "#retracted-req: 1, cuda graph: True, gen "
                       "throughput (token/s): 1252.61, #queue-req: 7, ",
                       b));
  EXPECT_TRUE(b.decode);
  EXPECT_EQ(b.dp, 4);
  EXPECT_EQ(b.cuda_graph, 1);
  EXPECT_EQ(b.v[kRunningReq], 64);
  EXPECT_DOUBLE_EQ(b.v[kTokenUsage], 0.86);
  EXPECT_EQ(b.v[kPreallocReq], 2);
  EXPECT_EQ(b.v[kTransferReq], 5);
  EXPECT_EQ(b.v[kRetractedReq], 1);
  EXPECT_DOUBLE_EQ(b.v[kGenTps], 1252.61);
  EXPECT_EQ(b.v[kQueueReq], 7);
  EXPECT_TRUE(std::isnan(b.v[kNewSeq]));
  EXPECT_EQ(*civil_seconds("2025-11-22 06:41:52"), b.t);
}

TEST(SrtctlBatch, NewPrefillAndOldShapes) {
  BatchSample b;
  ASSERT_TRUE(
      parse_batch_line("[2025-11-04 05:31:43 DP0 TP0 EP0] Prefill batch, #new-seq: 18, #new-token: "
                       "15872, #cached-token: 3, token "
                       "usage: 0.00, #running-req: 0, #queue-req: 0, #prealloc-req: 0, "
                       "#inflight-req: 2, input throughput "
                       "(token/s): 9000.50,",
                       b));
  EXPECT_FALSE(b.decode);
  EXPECT_EQ(b.v[kNewSeq], 18);
  EXPECT_EQ(b.v[kNewToken], 15872);
  EXPECT_EQ(b.v[kCachedToken], 3);
  EXPECT_EQ(b.v[kInflightReq], 2);
  EXPECT_DOUBLE_EQ(b.v[kInputTps], 9000.5);
  EXPECT_EQ(b.cuda_graph, -1);
  // Old shape: a period after "batch", no trailing ", ", no DP prefix; milliseconds in the stamp.
  ASSERT_TRUE(parse_batch_line(
      "[2025-07-18 15:32:52.123 TP0] Decode batch. #running-req: 233, #token: 370959, "
      "token usage: 0.84, cuda graph: False, gen throughput (token/s): 4594.01, "
      "#queue-req: 317, timestamp: 2025-07-18T15:32:52.498932",
      b));
  EXPECT_TRUE(b.decode);
  EXPECT_EQ(b.dp, -1);
  EXPECT_EQ(b.cuda_graph, 0);
  EXPECT_EQ(b.v[kRunningReq], 233);
  EXPECT_EQ(b.v[kQueueReq], 317);
  // Iteration tag and a hybrid model's token usage.
  ASSERT_TRUE(parse_batch_line(
      "[2025-07-18 15:32:52 DP1 TP1] Prefill batch [12], #new-seq: 1, full token usage: "
      "0.25, swa token usage: 0.10, #running-req: 3, #queue-req: 0, ",
      b));
  EXPECT_EQ(b.dp, 1);
  EXPECT_DOUBLE_EQ(b.v[kTokenUsage], 0.25);
}

TEST(SrtctlBatch, NotBatchLinesAndBadValues) {
  BatchSample b;
  EXPECT_FALSE(
      parse_batch_line("[2025-11-22 04:21:07 DP0 TP0] Load weight end. avail mem=75.11 GB", b));
  EXPECT_FALSE(parse_batch_line("Decode batch, #running-req: 64, #queue-req: 0, ", b));
  EXPECT_FALSE(
      parse_batch_line("[2025-13-45 99:99:99 DP0 TP0] Decode batch, #running-req: 64, ", b));
  EXPECT_FALSE(
      parse_batch_line("[2025-11-22 04:21:07 DP0 TP0] Decode batches, #running-req: 64, ", b));
  EXPECT_FALSE(parse_batch_line(
      "[2025-11-22 04:21:07 DP0 TP0 Decode batch, #running-req: 64, #queue-req: 0", b));
  // A value that is not a number leaves the field absent rather than 0.
  ASSERT_TRUE(parse_batch_line(
      "[2025-11-22 04:21:07 DP0 TP0] Decode batch, #running-req: lots, #queue-req: nan, "
      "token usage: 0.5x, #token: 1, ",
      b));
  EXPECT_TRUE(std::isnan(b.v[kRunningReq]));
  EXPECT_TRUE(std::isnan(b.v[kQueueReq]));
  EXPECT_TRUE(std::isnan(b.v[kTokenUsage]));
}

TEST(SrtctlBatch, WindowsAndStatsPerWindow) {
  JobReport agg = analyze_job(kSweep / "5001_1A_20251201_100000");
  ASSERT_EQ(agg.batches.size(), 1u);
  EXPECT_EQ(agg.batches[0].lines, 3u + 8u + 3u);
  EXPECT_EQ(agg.batches[0].cuda_graph_max_bs, 256);
  auto w = bench_windows(agg);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].label, "warm-up c16");
  EXPECT_TRUE(w[0].warmup);
  EXPECT_EQ(w[1].label, "c16");
  EXPECT_EQ(w[1].started_at, "2025-12-01 10:03:20");
  EXPECT_EQ(w[2].label, "c64");
  auto s = window_stats(agg, w);
  const WindowStats* c64 = find_stats(s, w, "c64", "agg", true, -1);
  ASSERT_NE(c64, nullptr);
  EXPECT_EQ(c64->lines, 3u);
  EXPECT_DOUBLE_EQ(c64->mean[kGenTps], 2000.0);  // (1900 + 2000 + 2100) / 3
  EXPECT_DOUBLE_EQ(c64->max[kGenTps], 2100.0);
  EXPECT_DOUBLE_EQ(c64->mean[kRunningReq], 64.0);
  const WindowStats* warm = find_stats(s, w, "warm-up c16", "agg", true, -1);
  ASSERT_NE(warm, nullptr);
  EXPECT_DOUBLE_EQ(warm->mean[kGenTps], 790.0);
  const WindowStats* pre = find_stats(s, w, "c16", "agg", false, -1);
  ASSERT_NE(pre, nullptr);
  EXPECT_EQ(pre->lines, 4u);
  EXPECT_DOUBLE_EQ(pre->mean[kNewToken], 4096.0);

  // Per DP rank on the disaggregated job: two ranks, each with its own queue.
  JobReport dis = analyze_job(kSweep / "5002_1P_1D_20251201_100000");
  auto wd = bench_windows(dis);
  auto sd = window_stats(dis, wd);
  const WindowStats* r1 = find_stats(sd, wd, "c64", "decode", true, 1);
  ASSERT_NE(r1, nullptr);
  EXPECT_EQ(r1->lines, 3u);
  EXPECT_DOUBLE_EQ(r1->first_queue, 10.0);
  EXPECT_DOUBLE_EQ(r1->last_queue, 30.0);
  EXPECT_DOUBLE_EQ(r1->mean[kTransferReq], 12.0);  // 6, 12, 18
  const WindowStats* all = find_stats(sd, wd, "c64", "decode", true, -1);
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->lines, 6u);
  EXPECT_DOUBLE_EQ(all->first_queue, 20.0);
  EXPECT_DOUBLE_EQ(all->last_queue, 60.0);
}

TEST(SrtctlBatch, RateMatchingNamesTheLimitingSide) {
  JobReport dis = analyze_job(kSweep / "5002_1P_1D_20251201_100000");
  auto w = bench_windows(dis);
  auto rm = rate_matching(dis, w, window_stats(dis, w));
  ASSERT_EQ(rm.size(), 2u);
  EXPECT_EQ(w[rm[0].window].label, "c16");
  EXPECT_EQ(rm[0].limiter, "balanced");
  EXPECT_DOUBLE_EQ(rm[0].prefill_input_tps, 2400.0);
  EXPECT_DOUBLE_EQ(rm[0].decode_gen_tps, 1200.0);  // two ranks at 600
  EXPECT_EQ(rm[1].limiter, "decode");
  EXPECT_DOUBLE_EQ(rm[1].decode_queue_growth, 40.0);
  EXPECT_DOUBLE_EQ(rm[1].transfer_max, 18.0);
  EXPECT_NE(rm[1].evidence.find("while the prefill queue stayed empty"), std::string::npos);
  // An aggregated job has no sides to match.
  JobReport agg = analyze_job(kSweep / "5001_1A_20251201_100000");
  auto wa = bench_windows(agg);
  EXPECT_TRUE(rate_matching(agg, wa, window_stats(agg, wa)).empty());
  auto h = header(dis);
  const auto* imb = finding(h, "pd_imbalance");
  ASSERT_NE(imb, nullptr);
  EXPECT_EQ(imb->summary, "concurrency 64: the decode side limits the job");
  const auto* q = finding(h, "queue_growth");
  ASSERT_NE(q, nullptr);
  EXPECT_NE(q->summary.find("#queue-req grew from 20 to 60 during concurrency 64"),
            std::string::npos);
  // The job ran to the end, but its batch metrics show a problem: degraded, not OK, with the
  // first such finding as the cause (as a warning diagnosis makes a prime-rl run degraded).
  EXPECT_EQ(h.verdict, alog::core::Verdict::degraded);
  EXPECT_NE(h.cause.find("#queue-req grew from 20 to 60"), std::string::npos) << h.cause;
  // A job with nothing in its batch metrics stays OK.
  EXPECT_EQ(header(agg).verdict, alog::core::Verdict::ok);
}

TEST(SrtctlBatch, CudaGraphOverflowBeforeOomIsTheLikelyTrigger) {
  JobReport j = analyze_job(kSweep / "5003_2P_1D_20251201_100000");
  const WorkerBatches* dec = nullptr;
  for (const auto& wb : j.batches)
    if (wb.id.role == "decode") dec = &wb;
  ASSERT_NE(dec, nullptr);
  EXPECT_EQ(dec->cuda_graph_max_bs, 64);
  ASSERT_TRUE(dec->first_over_max_bs);
  EXPECT_EQ(dec->first_over_max_bs->running, 96);
  EXPECT_EQ(dec->first_over_max_bs->time, "2025-12-01 10:06:50");
  ASSERT_TRUE(dec->first_retract);
  EXPECT_EQ(dec->retract_lines,
            2u);  // the "KV cache pool is full" line and a #retracted-req: 3 line

  auto h = header(j);
  const auto* cg = finding(h, "cuda_graph_fallback");
  ASSERT_NE(cg, nullptr);
  EXPECT_EQ(cg->summary,
            "decode w0 on sw5003-cn02: decode batches of 96 requests, above cuda-graph-max-bs 64, "
            "ran without CUDA "
            "graphs (cuda graph: False)");
  ASSERT_FALSE(cg->evidence.empty());
  EXPECT_EQ(cg->evidence[0].line, dec->first_over_max_bs->line);
  EXPECT_NE(cg->evidence[0].text.find("cuda graph: False"), std::string::npos);
  EXPECT_NE(
      cg->detail.find("preceded the CUDA out of memory on the same worker at 2025-12-01 10:07:30"),
      std::string::npos);
  const auto* oom = finding(h, "cuda_oom");
  ASSERT_NE(oom, nullptr);
  EXPECT_EQ(oom->role, alog::core::Role::root_cause);
  EXPECT_NE(
      oom->detail.find("likely trigger: decode w0 on sw5003-cn02: decode batches of 96 requests"),
      std::string::npos);
  bool quoted = false;
  for (const auto& e : oom->evidence) quoted |= e.line == dec->first_over_max_bs->line;
  EXPECT_TRUE(quoted);
  const auto* kv = finding(h, "kv_pool_retract");
  ASSERT_NE(kv, nullptr);
  EXPECT_NE(kv->detail.find("likely trigger"), std::string::npos);
  // The healthy bundled job has batch lines and none of these findings.
  auto healthy = header(
      analyze_job(fs::path(ALOG_TESTDATA) / "srtctl" / "logs" / "4459_2P_1D_20251122_041341"));
  for (const char* id : {"cuda_graph_fallback", "kv_pool_retract", "queue_growth", "pd_imbalance"})
    EXPECT_EQ(finding(healthy, id), nullptr) << id;
}

TEST(SrtctlBatch, CsvColumnsAndBoundedTimeSeries) {
  auto jobs = analyze_set(kSweep);
  auto files = batches_csv(jobs);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].first, "worker_window_stats.csv");
  EXPECT_EQ(files[0].second.substr(0, files[0].second.find('\n')),
            "job,window,warmup,concurrency,started_at,ended_at,worker,kind,dp,lines,cuda_graph_"
            "false,new_seq_mean,"
            "new_seq_max,new_token_mean,new_token_max,cached_token_mean,cached_token_max,token_"
            "usage_mean,token_usage_"
            "max,running_req_mean,running_req_max,queue_req_mean,queue_req_max,prealloc_req_mean,"
            "prealloc_req_max,"
            "transfer_req_mean,transfer_req_max,retracted_req_mean,retracted_req_max,inflight_req_"
            "mean,inflight_req_"
            "max,input_tps_mean,input_tps_max,gen_tps_mean,gen_tps_max");
  EXPECT_NE(files[0].second.find(
                "\n5001,c64,0,64,2025-12-01 10:06:40,2025-12-01 10:08:20,agg w0 on sw5001-cn00,"
                "decode,,3,0,"),
            std::string::npos);
  EXPECT_EQ(files[1].first, "worker_timeseries.csv");
  EXPECT_EQ(
      files[1].second.rfind("job,worker,kind,dp,t,bucket_s,lines,new_seq_mean,new_token_mean,", 0),
      0u);
  // At most 2 rows per (worker, rank, kind): 5001's decode lines span 320 s, so 160 s buckets.
  auto small = batches_csv({jobs[0]}, 2);
  size_t rows = 0, at = 0;
  while ((at = small[1].second.find('\n', at)) != std::string::npos) ++rows, ++at;
  EXPECT_LE(rows, 1u + 2u * 2u);
  EXPECT_NE(small[1].second.find(",161,"), std::string::npos);
  // Each job's rows (what --cache keeps) joined give the same files, rows in job order.
  std::vector<BatchCsvRows> per_job;
  for (const auto& j : jobs) per_job.push_back(batches_csv_rows(j));
  std::vector<const BatchCsvRows*> ptrs;
  for (const auto& r : per_job) ptrs.push_back(&r);
  EXPECT_EQ(batches_csv(ptrs), files);
  ASSERT_GE(per_job.size(), 2u);
  EXPECT_FALSE(per_job[0].window_stats.empty());
  EXPECT_FALSE(per_job[0].timeseries.empty());
  EXPECT_EQ(per_job[0].window_stats.find("job,"), std::string::npos) << "rows without the header line";
  EXPECT_EQ(files[0].second.find(per_job[0].window_stats), files[0].second.find('\n') + 1);
  std::reverse(ptrs.begin(), ptrs.end());
  EXPECT_NE(batches_csv(ptrs), files);
}

// ---- warm-up traffic and results the batch metrics contradict (testdata/srtctl/findings, whose
// make_findings.py gives the figures each job was built with) ----------------------------------

namespace {

const fs::path kFindings = fs::path(ALOG_TESTDATA) / "srtctl" / "findings";

size_t count_of(const alog::core::Header& h, const std::string& id) {
  size_t n = 0;
  for (const auto& f : h.findings) n += f.id == id;
  return n;
}

bool has_evidence(const alog::core::Finding& f, const std::string& file_suffix, uint64_t line) {
  for (const auto& e : f.evidence)
    if (e.file.ends_with(file_suffix) && e.line == line) return true;
  return false;
}

}  // namespace

TEST(SrtctlBatch, WarmupRequestsStillRunningInTheMeasuredWindow) {
  JobReport j = analyze_job(kFindings / "5101_1A_20251201_100000");
  auto w = bench_windows(j);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].label, "warm-up c64");
  EXPECT_EQ(w[0].line, 4u);  // "Warming up model with concurrency 64"
  auto t = warmup_traffic(j, w);
  ASSERT_EQ(t.size(), 1u);  // c16 only: c32 runs 16 + 16 = 32, not above its concurrency
  EXPECT_EQ(w[t[0].window].label, "c16");
  EXPECT_EQ(w[t[0].warmup].label, "warm-up c64");
  EXPECT_FALSE(t[0].overlap);
  EXPECT_TRUE(t[0].decode);
  EXPECT_DOUBLE_EQ(t[0].in_flight, 56.0);  // DP0 28 running + 2 queued, DP1 26 running
  EXPECT_DOUBLE_EQ(t[0].max_in_flight, 56.0);
  EXPECT_EQ(t[0].ranks, 2);
  EXPECT_EQ(t[0].time, "2025-12-01 10:03:22");
  // The worker's first batch line of that second: after the setup line, server_args and the
  // warm-up's six lines.
  EXPECT_EQ(t[0].line, 9u);

  auto h = header(j);
  ASSERT_EQ(count_of(h, "warmup_traffic"), 1u);
  const auto* f = finding(h, "warmup_traffic");
  EXPECT_EQ(f->summary,
            "agg w0 on sw5101-cn00: 56 requests in flight at 2025-12-01 10:03:22, above the run's "
            "concurrency 16, right after the warm-up at concurrency 64");
  EXPECT_NE(f->detail.find("over 2 DP ranks in that second; up to 56 during the run at concurrency 16"),
            std::string::npos)
      << f->detail;
  EXPECT_TRUE(has_evidence(*f, "sw5101-cn00_agg_w0.err", 9));
  EXPECT_TRUE(has_evidence(*f, "benchmark.out", 4));  // the warm-up's line
  EXPECT_EQ(f->role, alog::core::Role::root_cause);
  EXPECT_EQ(f->severity, alog::core::Severity::warning);
  // Nothing else went wrong: the job is degraded by it, with it as the cause.
  EXPECT_EQ(h.verdict, alog::core::Verdict::degraded);
  EXPECT_EQ(h.cause, f->summary);
  EXPECT_EQ(count_of(h, "result_mismatch"), 0u);
}

TEST(SrtctlBatch, WarmupWhoseStatedTimesOverlapAMeasuredRun) {
  // benchmark.out's date lines put a warm-up inside a run (e.g. launched in the background).
  JobReport j;
  BenchRun wu;
  wu.warmup = true;
  wu.concurrency = 16;
  wu.line = 5;
  wu.started_at = "2025-12-01 10:02:00";
  wu.ended_at = "2025-12-01 10:03:40";
  j.warmups.push_back(wu);
  BenchRun run;
  run.concurrency = 16;
  run.line = 30;
  run.has_block = true;
  run.started_at = "2025-12-01 10:03:20";
  run.ended_at = "2025-12-01 10:05:00";
  j.runs.push_back(run);
  BenchRun later = run;  // after the warm-up ended: neither overlap nor straight after it
  later.concurrency = 32;
  later.started_at = "2025-12-01 10:06:00";
  later.ended_at = "2025-12-01 10:07:00";
  j.runs.push_back(later);
  auto w = bench_windows(j);
  auto t = warmup_traffic(j, w);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t[0].overlap);
  EXPECT_EQ(w[t[0].window].label, "c16");
  auto h = header(j);
  const auto* f = finding(h, "warmup_traffic");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->summary,
            "the warm-up at concurrency 16 (2025-12-01 10:02:00 .. 2025-12-01 10:03:40) overlaps the "
            "measured run at concurrency 16 (2025-12-01 10:03:20 .. 2025-12-01 10:05:00)");
  EXPECT_TRUE(has_evidence(*f, "benchmark.out", 5));
  EXPECT_TRUE(has_evidence(*f, "benchmark.out", 30));
  // Touching in one boundary second is not an overlap; a warm-up that never ended is not
  // compared by its (guessed) end.
  j.warmups[0].ended_at = "2025-12-01 10:03:20";
  EXPECT_TRUE(warmup_traffic(j, bench_windows(j)).empty());
  j.warmups[0].ended_at.clear();
  EXPECT_TRUE(warmup_traffic(j, bench_windows(j)).empty());
}

TEST(SrtctlBatch, WarmupTrafficBeforeAnOomIsTheLikelyTrigger) {
  JobReport j = analyze_job(kFindings / "5103_1A_20251201_100000");
  auto h = header(j);
  const auto* oom = finding(h, "cuda_oom");
  ASSERT_NE(oom, nullptr);
  EXPECT_EQ(oom->role, alog::core::Role::root_cause);
  EXPECT_NE(oom->detail.find("likely trigger: agg w0 on sw5103-cn00: 56 requests in flight at "
                             "2025-12-01 10:03:22, above the run's concurrency 16"),
            std::string::npos)
      << oom->detail;
  EXPECT_TRUE(has_evidence(*oom, "sw5103-cn00_agg_w0.err", 9));
  const auto* wt = finding(h, "warmup_traffic");
  ASSERT_NE(wt, nullptr);
  // Told below the one root cause, and says what it preceded.
  EXPECT_EQ(wt->role, alog::core::Role::consequence);
  EXPECT_NE(wt->detail.find("preceded the CUDA out of memory on the same worker at 2025-12-01 "
                            "10:03:40: its likely trigger"),
            std::string::npos)
      << wt->detail;
  // The unfinished run's window lasts until the worker's last batch line.
  auto w = bench_windows(j);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_FALSE(w[1].ended);
}

TEST(SrtctlBatch, ResultsTheBatchMetricsContradict) {
  JobReport j = analyze_job(kFindings / "5102_1P_1D_20251201_100000");
  auto w = bench_windows(j);
  auto m = result_mismatches(j, w);
  ASSERT_EQ(m.size(), 2u);
  // c32: 160 completed at 1600 tok/s, no decode line in 10:06:40 .. 10:08:20 although the decode
  // log runs until 10:11:30.
  EXPECT_EQ(w[m[0].window].label, "c32");
  EXPECT_TRUE(m[0].zero_generation);
  EXPECT_EQ(*m[0].completed, 160.0);
  EXPECT_EQ(*m[0].output_tps, 1600.0);
  ASSERT_EQ(m[0].workers.size(), 1u);
  EXPECT_EQ(j.batches[m[0].workers[0]].id.role, "decode");
  // c64: 0 completed, while decode generated up to 1500 tok/s from 10:10:10.
  EXPECT_EQ(w[m[1].window].label, "c64");
  EXPECT_FALSE(m[1].zero_generation);
  EXPECT_EQ(*m[1].completed, 0.0);
  EXPECT_DOUBLE_EQ(m[1].max_gen_tps, 1500.0);
  EXPECT_EQ(m[1].time, "2025-12-01 10:10:10");
  EXPECT_EQ(m[1].line, 9u);  // setup, server_args, six c16 lines, then the first c64 line

  auto h = header(j);
  ASSERT_EQ(count_of(h, "result_mismatch"), 2u);
  std::vector<const alog::core::Finding*> fs;
  for (const auto& f : h.findings)
    if (f.id == "result_mismatch") fs.push_back(&f);
  const alog::core::Finding* zero = fs[0]->summary.starts_with("concurrency 32") ? fs[0] : fs[1];
  const alog::core::Finding* reverse = zero == fs[0] ? fs[1] : fs[0];
  EXPECT_EQ(zero->summary,
            "concurrency 32: the result says 160 requests completed at 1600.00 output tok/s, but no "
            "decode batch generated tokens during its window (2025-12-01 10:06:40 .. 2025-12-01 "
            "10:08:20)");
  EXPECT_EQ(zero->detail, "the logs of decode w0 on sw5102-cn01 cover the window");
  EXPECT_TRUE(has_evidence(*zero, "benchmark.out", j.runs[1].line));
  EXPECT_TRUE(has_evidence(*zero, "sw5102-cn01_decode_w0.err", 0));
  EXPECT_EQ(reverse->summary,
            "concurrency 64: the result says 0 requests completed, but decode batches generated up "
            "to 1500.00 tok/s during its window (2025-12-01 10:10:00 .. 2025-12-01 10:11:40)");
  EXPECT_TRUE(has_evidence(*reverse, "sw5102-cn01_decode_w0.err", 9));
  EXPECT_EQ(h.verdict, alog::core::Verdict::degraded);
  // The contradictions are about the result, not the worker's load: never a likely trigger.
  EXPECT_EQ(zero->detail.find("likely trigger"), std::string::npos);
  EXPECT_EQ(count_of(h, "warmup_traffic"), 0u);
}

TEST(SrtctlBatch, MismatchNeedsALongEnoughWindowAndCoveringLogs) {
  JobReport j = analyze_job(kFindings / "5102_1P_1D_20251201_100000");
  // The decode log stops before c32: it says nothing about that window.
  JobReport cut = j;
  for (auto& l : cut.logs)
    if (l.id.role == "decode") l.last_time = "2025-12-01 10:05:00";
  for (const auto& m : result_mismatches(cut, bench_windows(cut))) EXPECT_FALSE(m.zero_generation);
  // A window shorter than kMismatchMinWindowS may hold no decode line by chance.
  JobReport shortw = j;
  shortw.runs[1].ended_at = "2025-12-01 10:06:49";
  for (const auto& m : result_mismatches(shortw, bench_windows(shortw))) EXPECT_FALSE(m.zero_generation);
}

TEST(SrtctlBatch, HealthyJobsRaiseNoneOfTheNewFindings) {
  std::vector<fs::path> jobs = {fs::path(ALOG_TESTDATA) / "srtctl" / "logs" / "4459_2P_1D_20251122_041341",
                                kSweep / "5001_1A_20251201_100000", kSweep / "5002_1P_1D_20251201_100000",
                                kSweep / "5003_2P_1D_20251201_100000"};
  for (const auto& p : jobs) {
    auto h = header(analyze_job(p));
    EXPECT_EQ(count_of(h, "warmup_traffic"), 0u) << p;
    EXPECT_EQ(count_of(h, "result_mismatch"), 0u) << p;
  }
}

TEST(SrtctlBatch, WorkerTimeSeriesIsBoundedAndDeterministic) {
  JobReport j = analyze_job(kFindings / "5101_1A_20251201_100000");
  auto s = worker_series(j);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].decode);
  // Decode lines from 10:02:10 to 10:07:30: 321 s in at most 240 points, so 2 s per point.
  EXPECT_EQ(s[0].step, 2);
  EXPECT_EQ(s[0].t.front(), *civil_seconds("2025-12-01 10:02:10"));
  EXPECT_DOUBLE_EQ(s[0].running.front(), 32.0);
  // 10:03:22: DP0 28 and DP1 26 running, 2 and 0 queued; means per rank.
  size_t at = 0;
  while (at < s[0].t.size() && s[0].t[at] != *civil_seconds("2025-12-01 10:03:22")) ++at;
  ASSERT_LT(at, s[0].t.size());
  EXPECT_DOUBLE_EQ(s[0].running[at], 27.0);
  EXPECT_DOUBLE_EQ(s[0].queue[at], 1.0);
  EXPECT_DOUBLE_EQ(s[0].token_usage[at], 0.10);
  // Steps without a line are left out, not drawn as zero.
  EXPECT_EQ(s[0].t.size(), 3u + 2u + 3u + 3u);
  // Ten points at most: 33 s per point; the same input gives the same series.
  auto small = worker_series(j, 10);
  EXPECT_EQ(small[0].step, 33);
  EXPECT_LE(small[0].t.size(), 10u);
  auto again = worker_series(j, 10);
  EXPECT_EQ(small[0].t, again[0].t);
  EXPECT_EQ(small[0].running, again[0].running);
  // A long run stays bounded: 5000 seconds of lines make at most 240 points. Past
  // kSeriesExactBuckets the worker keeps bins (8 s wide for 5000 s in at most kSeriesMaxBins), so
  // the step is ceil(5000 / 240) = 21 rounded up to a multiple of 8.
  JobReport big = j;
  WorkerBatches& wb = big.batches[0];
  {
    WorkerBatches fresh;
    fresh.file = wb.file;
    fresh.id = wb.id;
    wb = std::move(fresh);
  }
  {
    BatchFolder fold(wb, {});
    BatchSample line;
    line.decode = true;
    for (double& v : line.v) v = NAN;
    line.v[kRunningReq] = 8;
    for (int64_t t = 0; t < 5000; ++t) {
      line.t = 1000000 + t;
      fold.add(line, static_cast<uint64_t>(t + 1));
    }
    fold.finish();
  }
  EXPECT_EQ(wb.series_bin_s, 8);
  EXPECT_LE(wb.series.size(), static_cast<size_t>(kSeriesMaxBins));
  auto bounded = worker_series(big);
  EXPECT_LE(bounded[0].t.size(), 240u);
  EXPECT_EQ(bounded[0].step, 24);
  for (double v : bounded[0].running) EXPECT_EQ(v, 8.0);
  std::string html = worker_series_html(big);
  size_t dots = 0;
  for (size_t p = 0; (p = html.find("<circle", p)) != std::string::npos; ++p) ++dots;
  EXPECT_LE(dots, 3u * 240u);
}

TEST(SrtctlBatch, ReportHtmlDrawsEachWorkerOverTimeWithTheWindows) {
  JobReport j = analyze_job(kFindings / "5101_1A_20251201_100000");
  std::string html = batches_html(j);
  EXPECT_NE(html.find("<h3>Worker batch metrics over time</h3>"), std::string::npos);
  EXPECT_NE(html.find("<h4>agg w0 on sw5101-cn00 (decode lines, 2 s per point)</h4>"), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"agg w0 on sw5101-cn00: running and queued requests over time\""),
            std::string::npos);
  EXPECT_NE(html.find("aria-label=\"agg w0 on sw5101-cn00: token usage over time\""), std::string::npos);
  // The windows are shaded, warm-ups in their own colour, with their times.
  EXPECT_NE(html.find("fill=\"#fde68a\" opacity=\"0.35\"><title>warm-up c64 2025-12-01 10:02:00 .. "
                      "2025-12-01 10:03:00</title>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("fill=\"#dbeafe\" opacity=\"0.35\"><title>c16 2025-12-01 10:03:20 .. 2025-12-01 "
                      "10:05:00</title>"),
            std::string::npos);
  EXPECT_NE(html.find("minutes since 2025-12-01 10:02:00"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // The cap on workers: the rest are named, not drawn.
  JobReport two = analyze_job(kSweep / "5003_2P_1D_20251201_100000");
  std::string capped = worker_series_html(two, 240, 1);
  EXPECT_NE(capped.find("<p>2 more workers are not drawn"), std::string::npos) << capped;
  // A job without batch lines has no chart.
  EXPECT_EQ(worker_series_html(JobReport{}), "");
}

TEST(SrtctlBatch, MismatchWithoutGenThroughputSaysTheBatchesRan) {
  // Old decode lines without `gen throughput`: running requests count as generation.
  TempDir tmp;
  const fs::path dir = edited_copy(tmp, kFindings / "5102_1P_1D_20251201_100000",
                                   [](const std::string&, const std::string& all) {
                                     std::string o;
                                     std::istringstream in(all);
                                     for (std::string l; std::getline(in, l);) {
                                       size_t a = l.find("gen throughput (token/s): ");
                                       if (a != std::string::npos)
                                         l.erase(a, l.find(", ", a) + 2 - a);
                                       o += l + "\n";
                                     }
                                     return o;
                                   });
  JobReport j = analyze_job(dir);
  for (const auto& wb : j.batches)
    for (const auto& w : wb.windows)
      EXPECT_EQ(w.ranks[1].count(-2) ? w.ranks[1].at(-2).count[kGenTps] : 0u, 0u);
  auto h = header(j);
  bool seen = false;
  for (const auto& f : h.findings)
    if (f.id == "result_mismatch" && f.summary.starts_with("concurrency 64")) {
      seen = true;
      EXPECT_EQ(f.summary,
                "concurrency 64: the result says 0 requests completed, but decode batches ran requests during "
                "its window (2025-12-01 10:10:00 .. 2025-12-01 10:11:40)");
    }
  EXPECT_TRUE(seen);
}

TEST(SrtctlBatch, WindowsReadTheSameBucketsWhetherStampsAreInOrderOrNot) {
  // A batch line whose stamp goes back long before every window, after the others in file
  // order, changes nothing in the windows.
  for (const char* name : {"5002_1P_1D_20251201_100000", "5003_2P_1D_20251201_100000"}) {
    JobReport j = analyze_job(kSweep / name);
    auto w = bench_windows(j);
    const auto sorted = window_stats(j, w);
    TempDir tmp;
    const fs::path dir =
        edited_copy(tmp, kSweep / name, [](const std::string& file, const std::string& all) {
          if (file.find("decode") == std::string::npos) return all;
          return all +
                 "[2025-11-30 06:00:00 DP0 TP0 EP0] Decode batch, #running-req: 900, #token: 8192, "
                 "token "
                 "usage: 0.99, cuda graph: True, gen throughput (token/s): 9.00, #queue-req: 900, "
                 "\n";
        });
    JobReport k = analyze_job(dir);
    EXPECT_EQ(k.batches.size(), j.batches.size());
    auto wk = bench_windows(k);
    const auto unsorted = window_stats(k, wk);
    ASSERT_EQ(unsorted.size(), sorted.size()) << name;
    ASSERT_GT(sorted.size(), 0u) << name;
    for (size_t i = 0; i < sorted.size(); ++i) {
      EXPECT_EQ(unsorted[i].lines, sorted[i].lines) << name << " " << i;
      for (size_t f = 0; f < kBatchFieldCount; ++f) {
        EXPECT_EQ(unsorted[i].has[f], sorted[i].has[f]);
        if (sorted[i].has[f]) {
          EXPECT_EQ(unsorted[i].mean[f], sorted[i].mean[f]);
          EXPECT_EQ(unsorted[i].max[f], sorted[i].max[f]);
        }
      }
    }
    EXPECT_EQ(warmup_traffic(k, wk).size(), warmup_traffic(j, w).size());
    EXPECT_EQ(result_mismatches(k, wk).size(), result_mismatches(j, w).size());
  }
}

// ---- a worker log long enough to pass every cap: the folds against the generated values ------

namespace {

struct GenLine {
  int64_t t = 0;
  int dp = -1;
  bool decode = true;
  uint64_t no = 0;  // line number in the file
  bool graph_off = false;
  std::vector<std::pair<BatchField, double>> v;
};

// Three DP ranks' decode lines (1 to 3 a second, ranks in reverse order every other second, so
// that buckets complete in another order than they started; a gap every 7th second) over 7000 s,
// a prefill line without rank every 500 s, and two lines whose stamp goes 3 s back: one of a rank
// of that second, one of a rank seen nowhere else, with the most requests in flight.
std::vector<GenLine> long_worker_lines(int64_t t0) {
  std::vector<GenLine> out;
  uint64_t no = 0;
  auto decode = [&](int64_t sec, int dp, int i) {
    GenLine g;
    g.t = t0 + sec;
    g.dp = dp;
    g.no = ++no;
    g.graph_off = (sec + i) % 11 == 0;
    g.v = {{kRunningReq, static_cast<double>(dp == 3 ? 60 : 4 + (sec * 3 + dp * 5 + i) % 9)},
           {kQueueReq, static_cast<double>((sec + i) % 4)},
           {kTokenUsage, static_cast<double>((sec + dp + i) % 90) / 100.0},
           {kGenTps, static_cast<double>(100 + (sec * 7 + dp + i) % 50) + 0.37}};
    out.push_back(g);
  };
  for (int64_t sec = 0; sec < 7000; ++sec) {
    if (sec % 500 == 0) {
      GenLine g;
      g.t = t0 + sec;
      g.decode = false;
      g.no = ++no;
      g.v = {
          {kNewSeq, 2}, {kTokenUsage, 0.25}, {kRunningReq, 1}, {kQueueReq, 0}, {kInputTps, 1000.5}};
      out.push_back(g);
    }
    if (sec % 7 == 3) continue;
    for (int r = 0; r < 3; ++r) {
      const int dp = sec % 2 ? 2 - r : r;
      for (int i = 0; i < 1 + (sec + dp) % 3; ++i) decode(sec, dp, i);
    }
    if (sec == 2000) decode(1997, 1, 0), decode(1997, 3, 0);
  }
  return out;
}

std::string render(const GenLine& g) {
  std::string o = fmt::format("[{}", civil_stamp(g.t));
  if (g.dp >= 0) o += fmt::format(" DP{} TP{} EP{}", g.dp, g.dp, g.dp);
  o += g.decode ? " TP0] Decode batch, " : " TP0] Prefill batch, ";
  auto name = [](BatchField f) -> std::string_view {
    switch (f) {
      case kRunningReq:
        return "#running-req";
      case kQueueReq:
        return "#queue-req";
      case kTokenUsage:
        return "token usage";
      case kGenTps:
        return "gen throughput (token/s)";
      case kNewSeq:
        return "#new-seq";
      case kInputTps:
        return "input throughput (token/s)";
      default:
        return "?";
    }
  };
  for (const auto& [f, v] : g.v) o += fmt::format("{}: {}, ", name(f), v);
  if (g.decode) o += fmt::format("cuda graph: {}, ", g.graph_off ? "False" : "True");
  return o;
}

double value(const GenLine& g, BatchField f) {
  for (const auto& [k, v] : g.v)
    if (k == f) return v;
  return NAN;
}

// A bucket as the scan forms it: consecutive lines of one (rank, kind) with the same second.
struct GenBucket {
  int64_t t = 0;
  int dp = -1;
  bool decode = false;
  uint64_t line = 0;
  std::vector<const GenLine*> lines;
  double min(BatchField f) const {
    double m = INFINITY;
    for (const auto* l : lines) m = std::min(m, value(*l, f));
    return m;
  }
  double max(BatchField f) const {
    double m = -INFINITY;
    for (const auto* l : lines) m = std::max(m, value(*l, f));
    return m;
  }
  double mean(BatchField f) const {
    double s = 0;
    for (const auto* l : lines) s += value(*l, f);
    return s / static_cast<double>(lines.size());
  }
};

std::vector<GenBucket> buckets_of(const std::vector<GenLine>& lines) {
  std::vector<GenBucket> out;
  std::map<std::pair<int, bool>, size_t> open;
  for (const auto& l : lines) {
    auto it = open.find({l.dp, l.decode});
    if (it == open.end() || out[it->second].t != l.t) {
      out.push_back({l.t, l.dp, l.decode, l.no, {}});
      open[{l.dp, l.decode}] = out.size() - 1;
    }
    out[open[{l.dp, l.decode}]].lines.push_back(&l);
  }
  return out;
}

}  // namespace

TEST(SrtctlBatch, LongWorkerLogFoldsExactlyIntoItsWindows) {
  TempDir tmp;
  const int64_t t0 = *civil_seconds("2025-12-01 10:00:00");
  const auto lines = long_worker_lines(t0);
  std::string text;
  for (const auto& l : lines) text += render(l) + "\n";
  const fs::path file = tmp.write("n0_decode_w0.err", text);

  std::vector<BenchWindow> windows(3);
  windows[0] = {"warm-up c8", 8, true, 0, 0, true, t0 + 100, t0 + 700, "", ""};
  windows[1] = {"c16", 16, false, 0, 0, true, t0 + 700, t0 + 4700, "", ""};
  windows[2] = {"c32", 32, false, 1, 0, false, t0 + 5000, 0, "", ""};  // did not end
  std::vector<Problem> problems;
  LogScan sc = scan_log(file, "n0_decode_w0.err", {"decode", 0, "n0"}, ScanMode::worker, problems,
                        false, windows);
  ASSERT_TRUE(sc.batches);
  JobReport r;
  r.job.job_id = "9000";
  r.batches.push_back(*sc.batches);
  const WorkerBatches& wb = r.batches[0];
  const auto buckets = buckets_of(lines);
  EXPECT_EQ(wb.lines, lines.size());
  EXPECT_EQ(wb.buckets, buckets.size());
  EXPECT_GT(wb.buckets, kSeriesExactBuckets + kPendingBuckets);  // every cap is passed
  EXPECT_GT(wb.series_bin_s, 1);

  // Statistics per window, kind and rank (-2: all ranks) from the lines themselves.
  auto inside = [&](size_t wi, int64_t t) {
    return t >= windows[wi].start && (!windows[wi].ended || t <= windows[wi].end);
  };
  const auto stats = window_stats(r, windows);
  size_t checked = 0;
  for (size_t wi = 0; wi < windows.size(); ++wi)
    for (bool decode : {false, true}) {
      std::set<int> ranks;
      for (const auto& l : lines)
        if (l.decode == decode && inside(wi, l.t)) ranks.insert(l.dp);
      if (ranks.empty()) continue;
      std::vector<int> keys = {-2};
      if (ranks.size() > 1) keys.insert(keys.end(), ranks.begin(), ranks.end());
      for (int key : keys) {
        const WindowStats* s = nullptr;
        for (const auto& x : stats)
          if (!s && x.window == wi && x.decode == decode && x.dp == (key == -2 ? -1 : key)) s = &x;
        ASSERT_NE(s, nullptr) << wi << " " << decode << " " << key;
        uint64_t n = 0, off = 0;
        for (BatchField f : {kRunningReq, kQueueReq, kTokenUsage, kGenTps, kInputTps}) {
          // Summed per bucket, then over the buckets in the order they started.
          double sum = 0, max = -INFINITY;
          uint64_t count = 0;
          n = off = 0;
          for (const auto& k : buckets) {
            if (k.decode != decode || !inside(wi, k.t) || (key != -2 && k.dp != key)) continue;
            double in_bucket = 0;
            uint64_t counted = 0;
            for (const auto* l : k.lines) {
              ++n;
              off += l->graph_off;
              if (std::isnan(value(*l, f))) continue;
              in_bucket += value(*l, f), max = std::max(max, value(*l, f)), ++counted;
            }
            if (counted) sum += in_bucket, count += counted;
          }
          ASSERT_EQ(s->has[f], count > 0) << wi << " " << key << " " << batch_field_name(f);
          if (!count) continue;
          EXPECT_EQ(s->mean[f], sum / static_cast<double>(count)) << wi << " " << key;
          EXPECT_EQ(s->max[f], max) << wi << " " << key;
        }
        EXPECT_EQ(s->lines, n) << wi << " " << key;
        EXPECT_EQ(s->graph_false, off) << wi << " " << key;
        // #queue-req: mean of each rank's first and last bucket in the window, summed for all.
        double first = 0, last = 0;
        for (int dp : ranks) {
          if (key != -2 && dp != key) continue;
          const GenBucket *a = nullptr, *b = nullptr;
          for (const auto& k : buckets)
            if (k.decode == decode && k.dp == dp && inside(wi, k.t)) {
              if (!a) a = &k;
              b = &k;
            }
          first += a->mean(kQueueReq);
          last += b->mean(kQueueReq);
        }
        EXPECT_EQ(s->first_queue, first) << wi << " " << key;
        EXPECT_EQ(s->last_queue, last) << wi << " " << key;
        ++checked;
      }
    }
  // Each window: prefill (one rank), decode (all + 3 ranks; c16 also the rank seen once).
  EXPECT_EQ(checked, 3u * (1u + 4u) + 1u);

  // Warm-up traffic in c16, right after the warm-up: per second, each rank's smallest running +
  // queued per bucket, the smaller of a rank's two buckets of one second, summed over ranks.
  std::map<int64_t, std::map<int, std::pair<double, uint64_t>>> per;
  for (const auto& k : buckets) {
    if (!k.decode || !inside(1, k.t)) continue;
    const double v = k.min(kRunningReq) + k.min(kQueueReq);
    auto [it, added] = per[k.t].emplace(k.dp, std::make_pair(v, k.line));
    if (!added) it->second = {std::min(it->second.first, v), std::min(it->second.second, k.line)};
  }
  ASSERT_EQ(per[t0 + 1997].size(), 4u);
  std::optional<WarmupTraffic> want;
  for (const auto& [t, ranks] : per) {
    double sum = 0;
    uint64_t line = UINT64_MAX;
    for (const auto& [dp, v] : ranks) sum += v.first, line = std::min(line, v.second);
    if (sum <= 16) continue;
    if (!want) want = WarmupTraffic{1, 0, false, 0, true, t, "", line, sum, 0, 3};
    want->max_in_flight = std::max(want->max_in_flight, sum);
  }
  ASSERT_TRUE(want);
  const auto traffic = warmup_traffic(r, windows);
  ASSERT_EQ(traffic.size(), 1u);
  EXPECT_EQ(traffic[0].window, 1u);
  EXPECT_TRUE(traffic[0].decode);
  EXPECT_EQ(traffic[0].t, want->t);
  EXPECT_EQ(traffic[0].line, want->line);
  EXPECT_EQ(traffic[0].in_flight, want->in_flight);
  EXPECT_EQ(traffic[0].max_in_flight, want->max_in_flight);
  EXPECT_EQ(traffic[0].ranks, 3);
  EXPECT_GT(traffic[0].max_in_flight, 60.0);  // 1997, with the rank whose line came late

  // Generation per window: the largest gen throughput, the earliest generating bucket.
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    const GenBucket* first = nullptr;
    double max = 0;
    for (const auto& k : buckets)
      if (k.decode && inside(wi, k.t)) {
        max = std::max(max, k.max(kGenTps));
        if (!first || k.t < first->t) first = &k;
      }
    const GenerationFold& g = wb.windows[wi].generation;
    ASSERT_TRUE(g.any);
    EXPECT_EQ(g.max_gen_tps, max);
    EXPECT_EQ(g.t, first->t);
    EXPECT_EQ(g.line, first->line);
  }

  // The time series: bins of bin_s seconds; each CSV row is the mean of the lines in its step.
  const auto csv = batches_csv(std::vector<const JobReport*>{&r});
  std::istringstream rows(csv[1].second);
  std::string row;
  std::getline(rows, row);  // header
  std::map<std::pair<std::string, std::string>, size_t> per_rank;
  uint64_t total = 0;
  while (std::getline(rows, row)) {
    std::vector<std::string> c;
    std::stringstream ss(row);
    for (std::string x; std::getline(ss, x, ',');) c.push_back(x);
    ASSERT_GE(c.size(), 12u) << row;
    const bool decode = c[2] == "decode";
    const int dp = c[3].empty() ? -1 : std::stoi(c[3]);
    const int64_t t = std::stoll(c[4]), step = std::stoll(c[5]);
    EXPECT_EQ(step % wb.series_bin_s, 0) << row;
    uint64_t n = 0, count = 0;
    double sum = 0;
    for (const auto& l : lines)
      if (l.decode == decode && l.dp == dp && l.t >= t && l.t < t + step) {
        ++n;
        if (!std::isnan(value(l, kRunningReq))) sum += value(l, kRunningReq), ++count;
      }
    EXPECT_EQ(std::stoull(c[6]), n) << row;
    EXPECT_EQ(c[7 + kRunningReq], fmt::format("{}", sum / static_cast<double>(count))) << row;
    total += n;
    ++per_rank[{c[2], c[3]}];
  }
  EXPECT_EQ(total, lines.size());
  EXPECT_EQ(per_rank.size(), 5u);
  for (const auto& [k, n] : per_rank) EXPECT_LE(n, 2000u);
  const auto series = worker_series(r);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_LE(series[0].t.size(), 240u);
  EXPECT_EQ(series[0].step % wb.series_bin_s, 0);
  EXPECT_GE(series[0].step, (7000 + 239) / 240);
}
