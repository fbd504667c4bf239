// benchmark.out parsing (readiness, warm-ups vs runs, result blocks by label, truncation) and
// the sa-bench result JSON reader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("alog_srtctl_bench_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::path p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

// The sa-bench block exactly as benchmark_serving.py prints it ({:<40} {:<10}: trailing spaces).
const char* kBlock64 =
    "============ Serving Benchmark Result ============\n"
    "Successful requests:                     320       \n"
    "Benchmark duration (s):                  305.82    \n"
    "Total input tokens:                      1183729   \n"
    "Total generated tokens:                  590347    \n"
    "Request throughput (req/s):              1.05      \n"
    "Output token throughput (tok/s):         1930.37   \n"
    "Total Token throughput (tok/s):          5801.05   \n"
    "---------------Time to First Token----------------\n"
    "Mean TTFT (ms):                          412.77    \n"
    "Median TTFT (ms):                        198.36    \n"
    "P99 TTFT (ms):                           2874.15   \n"
    "-----Time per Output Token (excl. 1st token)------\n"
    "Mean TPOT (ms):                          19.84     \n"
    "Median TPOT (ms):                        19.71     \n"
    "P99 TPOT (ms):                           23.06     \n"
    "---------------Inter-token Latency----------------\n"
    "Mean ITL (ms):                           982.40    \n"
    "Median ITL (ms):                         1001.17   \n"
    "P99 ITL (ms):                            1187.92   \n"
    "----------------End-to-end Latency----------------\n"
    "Mean E2EL (ms):                          41066.53  \n"
    "Median E2EL (ms):                        40871.29  \n"
    "P99 E2EL (ms):                           47412.80  \n"
    "==================================================\n";

std::string warm_block(const char* tput) {
  return std::string(
             "============ Serving Benchmark Result ============\n"
             "Successful requests:                     320       \n"
             "Output token throughput (tok/s):         ") +
         tput +
         "   \n"
         "==================================================\n";
}

}  // namespace

TEST(SrtctlBenchmarkOut, ReadinessWarmupsAndRunsTiedToConcurrency) {
  TempDir t;
  std::string text =
      "Config 4096; 2048; 64 128; inf\n"
      "Polling http://localhost:8000/health every 5 seconds to check whether 1 prefills and 1 "
      "decodes are alive\n"
      "Got invalid response from server that leads to JSON Decode error: \n"
      "Model is not ready, waiting for 1 prefills and 1 decodes to spin up. Response: "
      "{\"status\":\"healthy\",\"instances\":[]}\n"
      "Model is not ready, waiting for 0 prefills and 1 decodes to spin up. Response: {}\n"
      "Model is ready. Response: {\"status\":\"healthy\",\"instances\":[]}\n"
      // The curl answer has no trailing newline: the next echo is glued to it.
      "{\"id\":\"chatcmpl-1\",\"usage\":{\"total_tokens\":743}}Warming up model with "
      "concurrency 64\n"
      "2025-12-03 17:30:01\n"
      "Traffic request rate: 250.0\n"
      "Maximum request concurrency: 64\n" +
      warm_block("1111.11") +
      "2025-12-03 17:31:01\n"
      "Warming up model with concurrency 128\n"
      "2025-12-03 17:31:01\n" +
      warm_block("2222.22") +
      "2025-12-03 17:32:01\n"
      "Running benchmark with concurrency: 64 and num-prompts: 320, writing to file "
      "/logs/sa-bench_isl_4096_osl_2048\n"
      "2025-12-03 17:32:01\n"
      "Namespace(backend='dynamo', max_concurrency=64)\n"
      "Maximum request concurrency: 64\n" +
      kBlock64 +
      "2025-12-03 17:37:10\n"
      "Completed benchmark with concurrency: 64\n"
      "-----------------------------------------\n"
      "Running benchmark with concurrency: 128 and num-prompts: 640, writing to file "
      "/logs/sa-bench_isl_4096_osl_2048\n"
      "2025-12-03 17:37:10\n"
      "Namespace(backend='dynamo', max_concurrency=128)\n";
  auto p = t.write("benchmark.out", text);
  std::vector<Problem> problems;
  BenchmarkLog b = parse_benchmark_out(p, "benchmark.out", problems);
  EXPECT_TRUE(problems.empty());

  EXPECT_EQ(b.isl, 4096);
  EXPECT_EQ(b.osl, 2048);
  EXPECT_EQ(b.concurrencies, (std::vector<int64_t>{64, 128}));
  EXPECT_EQ(b.request_rate, "inf");

  EXPECT_TRUE(b.readiness.polled);
  EXPECT_EQ(b.readiness.health_url, "http://localhost:8000/health");
  EXPECT_EQ(b.readiness.not_ready_reports, 2);
  EXPECT_EQ(b.readiness.waiting_prefill, 0);
  EXPECT_EQ(b.readiness.waiting_decode, 1);
  EXPECT_TRUE(b.readiness.ready);
  EXPECT_FALSE(b.readiness.timed_out);
  EXPECT_EQ(b.readiness.ready_at, "2025-12-03 17:30:01");

  ASSERT_EQ(b.warmups.size(), 2u);
  EXPECT_EQ(b.warmups[0].concurrency, 64);
  EXPECT_TRUE(b.warmups[0].warmup);
  EXPECT_DOUBLE_EQ(*b.warmups[0].metric("output_throughput"), 1111.11);
  EXPECT_EQ(b.warmups[1].concurrency, 128);
  EXPECT_DOUBLE_EQ(*b.warmups[1].metric("output_throughput"), 2222.22);

  ASSERT_EQ(b.runs.size(), 2u);
  const BenchRun& r = b.runs[0];
  EXPECT_EQ(r.concurrency, 64);
  EXPECT_FALSE(r.warmup);
  EXPECT_EQ(r.isl, 4096);
  EXPECT_EQ(r.osl, 2048);
  EXPECT_EQ(r.num_prompts, 320);
  EXPECT_EQ(r.started_at, "2025-12-03 17:32:01");
  EXPECT_EQ(r.ended_at, "2025-12-03 17:37:10");
  EXPECT_TRUE(r.completed_line);
  EXPECT_TRUE(r.has_block);
  EXPECT_FALSE(r.block_truncated);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(r.failed_requests, 0);
  EXPECT_DOUBLE_EQ(*r.metric("completed"), 320);
  EXPECT_DOUBLE_EQ(*r.metric("duration"), 305.82);
  EXPECT_DOUBLE_EQ(*r.metric("total_input_tokens"), 1183729);
  EXPECT_DOUBLE_EQ(*r.metric("total_output_tokens"), 590347);
  EXPECT_DOUBLE_EQ(*r.metric("request_throughput"), 1.05);
  EXPECT_DOUBLE_EQ(*r.metric("output_throughput"), 1930.37);
  EXPECT_DOUBLE_EQ(*r.metric("total_token_throughput"), 5801.05);
  EXPECT_DOUBLE_EQ(*r.metric("mean_ttft_ms"), 412.77);
  EXPECT_DOUBLE_EQ(*r.metric("median_ttft_ms"), 198.36);
  EXPECT_DOUBLE_EQ(*r.metric("p99_ttft_ms"), 2874.15);
  EXPECT_DOUBLE_EQ(*r.metric("mean_tpot_ms"), 19.84);
  EXPECT_DOUBLE_EQ(*r.metric("p99_tpot_ms"), 23.06);
  EXPECT_DOUBLE_EQ(*r.metric("median_itl_ms"), 1001.17);
  EXPECT_DOUBLE_EQ(*r.metric("mean_e2el_ms"), 41066.53);
  EXPECT_DOUBLE_EQ(*r.metric("p99_e2el_ms"), 47412.80);
  EXPECT_EQ(r.metrics.size(), 19u);

  // Started, never produced a block: unfinished, with its start time.
  const BenchRun& u = b.runs[1];
  EXPECT_EQ(u.concurrency, 128);
  EXPECT_EQ(u.num_prompts, 640);
  EXPECT_EQ(u.started_at, "2025-12-03 17:37:10");
  EXPECT_FALSE(u.has_block);
  EXPECT_FALSE(u.finished());
  EXPECT_GT(u.line, r.line);
}

TEST(SrtctlBenchmarkOut, SglangBenchServingLabelsParsedByLabel) {
  TempDir t;
  // sglang.bench_serving: other labels, other order, P95 and Max lines, a text value.
  auto p = t.write("benchmark.out",
                   "============ Serving Benchmark Result ============\n"
                   "Backend:                                 sglang-oai\n"
                   "Traffic request rate:                    inf       \n"
                   "Max request concurrency:                 96        \n"
                   "Successful requests:                     480       \n"
                   "Request throughput (req/s):              2.61      \n"
                   "Input token throughput (tok/s):         2385.53   \n"
                   "Output token throughput (tok/s):         1189.61   \n"
                   "Total token throughput (tok/s):          3575.14   \n"
                   "Concurrency:                             93.61     \n"
                   "Accept length:                           2.64      \n"
                   "----------------End-to-End Latency----------------\n"
                   "Mean E2E Latency (ms):                   33821.06  \n"
                   "Median E2E Latency (ms):                 33507.43  \n"
                   "---------------Inter-Token Latency----------------\n"
                   "P95 ITL (ms):                            96.33     \n"
                   "Max ITL (ms):                            1852.74   \n"
                   "Mean ITL (ms):                           73.15     \n"
                   "==================================================\n");
  std::vector<Problem> problems;
  BenchmarkLog b = parse_benchmark_out(p, "benchmark.out", problems);
  ASSERT_EQ(b.runs.size(), 1u);
  const BenchRun& r = b.runs[0];
  EXPECT_EQ(r.concurrency, 96);  // from the block, not from the measured "Concurrency:"
  EXPECT_DOUBLE_EQ(*r.metric("concurrency"), 93.61);
  EXPECT_DOUBLE_EQ(*r.metric("input_throughput"), 2385.53);
  EXPECT_DOUBLE_EQ(*r.metric("total_token_throughput"), 3575.14);
  EXPECT_DOUBLE_EQ(*r.metric("mean_e2el_ms"), 33821.06);
  EXPECT_DOUBLE_EQ(*r.metric("median_e2el_ms"), 33507.43);
  EXPECT_DOUBLE_EQ(*r.metric("p95_itl_ms"), 96.33);
  EXPECT_DOUBLE_EQ(*r.metric("max_itl_ms"), 1852.74);
  EXPECT_DOUBLE_EQ(*r.metric("mean_itl_ms"), 73.15);
  EXPECT_DOUBLE_EQ(*r.metric("accept_length"), 2.64);
  ASSERT_EQ(r.text.size(), 2u);
  EXPECT_EQ(r.text[0], (std::pair<std::string, std::string>{"backend", "sglang-oai"}));
  EXPECT_EQ(r.text[1], (std::pair<std::string, std::string>{"request_rate", "inf"}));
  EXPECT_TRUE(problems.empty());
}

TEST(SrtctlBenchmarkOut, TruncatedBlockIsKeptAndReported) {
  TempDir t;
  std::string block(kBlock64);
  std::string cut = block.substr(0, block.find("-----Time per Output"));
  auto p = t.write("benchmark.out",
                   "Running benchmark with concurrency: 64 and num-prompts: 320, writing to file "
                   "/logs/sa-bench_isl_1024_osl_1024\n2025-12-03 17:32:01\n" +
                       cut);
  std::vector<Problem> problems;
  BenchmarkLog b = parse_benchmark_out(p, "benchmark.out", problems);
  ASSERT_EQ(b.runs.size(), 1u);
  EXPECT_TRUE(b.runs[0].has_block);
  EXPECT_TRUE(b.runs[0].block_truncated);
  EXPECT_DOUBLE_EQ(*b.runs[0].metric("p99_ttft_ms"), 2874.15);
  EXPECT_FALSE(b.runs[0].metric("mean_tpot_ms"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, "benchmark.out");
  EXPECT_NE(problems[0].message.find("truncated"), std::string::npos);
  EXPECT_NE(problems[0].message.find("line 3"), std::string::npos);
}

TEST(SrtctlBenchmarkOut, BlockInterruptedByNextRunIsTruncated) {
  TempDir t;
  std::string block(kBlock64);
  std::string cut = block.substr(0, block.find("P99 TTFT"));
  auto p = t.write("benchmark.out",
                   "Running benchmark with concurrency: 64 and num-prompts: 320\n" + cut +
                       "Running benchmark with concurrency: 128 and num-prompts: 640\n" + kBlock64);
  std::vector<Problem> problems;
  BenchmarkLog b = parse_benchmark_out(p, "benchmark.out", problems);
  ASSERT_EQ(b.runs.size(), 2u);
  EXPECT_TRUE(b.runs[0].block_truncated);
  EXPECT_EQ(b.runs[1].concurrency, 128);
  EXPECT_FALSE(b.runs[1].block_truncated);
  EXPECT_EQ(b.runs[1].failed_requests, 320);  // 640 prompts, 320 successful
  EXPECT_EQ(problems.size(), 1u);
}

TEST(SrtctlBenchmarkOut, TimeoutAndV2Lines) {
  TempDir t;
  auto p = t.write("benchmark.out",
                   "SA-Bench Config: endpoint=http://cn01:8000; isl=8192; osl=1024; "
                   "concurrencies=16x32; req_rate=inf\n"
                   "Polling http://cn01:8000/health every 5 seconds to check whether 2 prefills "
                   "and 2 decodes are alive\n"
                   "Model is not ready, waiting for 2 prefills and 1 decodes to spin up. "
                   "Response: {}\n"
                   "Model did not get healthy in 3600 seconds\n");
  std::vector<Problem> problems;
  BenchmarkLog b = parse_benchmark_out(p, "benchmark.out", problems);
  EXPECT_EQ(b.isl, 8192);
  EXPECT_EQ(b.osl, 1024);
  EXPECT_EQ(b.concurrencies, (std::vector<int64_t>{16, 32}));
  EXPECT_TRUE(b.readiness.timed_out);
  EXPECT_EQ(b.readiness.timeout_s, 3600);
  EXPECT_FALSE(b.readiness.ready);
  EXPECT_EQ(b.readiness.waiting_prefill, 2);
  EXPECT_TRUE(b.runs.empty());
}

TEST(SrtctlBenchmarkOut, MissingFileIsAProblemNotAnException) {
  TempDir t;
  std::vector<Problem> problems;
  BenchmarkLog b = parse_benchmark_out(t.path / "nope.out", "nope.out", problems);
  EXPECT_TRUE(b.runs.empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, "nope.out");
}

TEST(SrtctlResultJson, ReadsMetricsAndConcurrencyFromContent) {
  TempDir t;
  auto p = t.write(
      "results_concurrency_999_gpus_16.json",  // the name disagrees: content wins
      R"({"date": "20251203-173710", "backend": "dynamo", "num_prompts": 320, "request_rate": "inf",)"
      R"( "burstiness": 1.0, "max_concurrency": 64, "duration": 305.8213, "completed": 318,)"
      R"( "request_throughput": 1.0398, "request_goodput:": null, "output_throughput": 1930.3712,)"
      R"( "total_token_throughput": 5801.0544, "input_lens": [1, 2], "itls": [[0.1], [0.2]],)"
      R"( "errors": ["", "", "Bad Gateway", "timeout"], "mean_ttft_ms": 412.7711,)"
      R"( "p99_ttft_ms": 2874.1544, "mean_e2e_latency_ms": 41066.5, "ok": true})");
  std::vector<Problem> problems;
  auto r = read_result_json(p, "sa/x.json", problems);
  ASSERT_TRUE(r);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(r->concurrency, 64);
  EXPECT_EQ(r->json_file, "sa/x.json");
  EXPECT_EQ(r->num_prompts, 320);
  EXPECT_EQ(r->failed_requests, 2);  // non-empty entries of "errors"
  EXPECT_DOUBLE_EQ(*r->metric("output_throughput"), 1930.3712);
  EXPECT_DOUBLE_EQ(*r->metric("p99_ttft_ms"), 2874.1544);
  EXPECT_DOUBLE_EQ(*r->metric("mean_e2el_ms"), 41066.5);
  EXPECT_FALSE(r->metric("request_goodput"));  // null
  EXPECT_FALSE(r->metric("ok"));               // booleans are not metrics
  EXPECT_FALSE(r->metric("input_lens"));
  bool rate_inf = false;
  for (const auto& [k, v] : r->text) rate_inf |= k == "request_rate" && v == "inf";
  EXPECT_TRUE(rate_inf);
}

TEST(SrtctlResultJson, ConcurrencyFromFileNameWhenContentLacksIt) {
  TempDir t;
  auto p = t.write("isl_1024_osl_1024_concurrency_128_req_rate_inf.json",
                   R"({"max_concurrency": null, "completed": 640, "output_throughput": 3000.5})");
  std::vector<Problem> problems;
  auto r = read_result_json(p, "x.json", problems);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->concurrency, 128);
  EXPECT_TRUE(problems.empty());
}

TEST(SrtctlResultJson, NoConcurrencyAnywhereIsAProblem) {
  TempDir t;
  auto p = t.write("result.json", R"({"completed": 10, "output_throughput": 3.5})");
  std::vector<Problem> problems;
  auto r = read_result_json(p, "result.json", problems);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->concurrency, -1);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("max_concurrency"), std::string::npos);
}

TEST(SrtctlResultJson, RegressionDeeplyNestedJsonIsMalformedNotAStackOverflow) {
  // A result JSON nested 200,000 deep crashed nlohmann's recursive parser (SIGSEGV).
  TempDir t;
  std::vector<Problem> problems;
  const size_t n = 200000;
  std::string deep = R"({"max_concurrency": 8, "x": )" + std::string(n, '[') + std::string(n, ']') + "}";
  EXPECT_FALSE(read_result_json(t.write("deep.json", deep), "deep.json", problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, "deep.json");
  EXPECT_NE(problems[0].message.find("malformed JSON"), std::string::npos);
}

TEST(SrtctlResultJson, MalformedEmptyNonObjectAndMissingFiles) {
  TempDir t;
  std::vector<Problem> problems;
  EXPECT_FALSE(
      read_result_json(t.write("a.json", R"({"max_concurrency": 64, "dura)"), "a.json", problems));
  EXPECT_FALSE(read_result_json(t.write("b.json", ""), "b.json", problems));
  EXPECT_FALSE(read_result_json(t.write("c.json", "[1, 2, 3]"), "c.json", problems));
  EXPECT_FALSE(read_result_json(t.path / "d.json", "d.json", problems));
  auto e = read_result_json(t.write("e.json", R"({"max_concurrency": 8})"), "e.json", problems);
  ASSERT_EQ(problems.size(), 5u);
  EXPECT_EQ(problems[0].file, "a.json");
  EXPECT_NE(problems[0].message.find("malformed JSON"), std::string::npos);
  EXPECT_NE(problems[1].message.find("empty"), std::string::npos);
  EXPECT_NE(problems[2].message.find("not an object"), std::string::npos);
  EXPECT_EQ(problems[3].file, "d.json");
  EXPECT_NE(problems[3].message.find("unreadable"), std::string::npos);
  ASSERT_TRUE(e);  // a result with only the concurrency: kept, and flagged
  EXPECT_NE(problems[4].message.find("no benchmark metrics"), std::string::npos);
}
