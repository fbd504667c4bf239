// SGLang batch lines (old and new shapes), the benchmark windows, statistics per window, rate
// matching and the findings made from them, on testdata/srtctl/sweep (make_sweep.py says what
// each job was built to show).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {

const fs::path kSweep = fs::path(ALOG_TESTDATA) / "srtctl" / "sweep";

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
}
