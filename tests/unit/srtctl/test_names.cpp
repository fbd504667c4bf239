// Folder names, log-file names, metric-label normalisation, job / set detection.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {

const fs::path kLogs = fs::path(ALOG_TESTDATA) / "srtctl" / "logs";

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("alog_srtctl_names_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void touch(const fs::path& p, const std::string& text = "") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace

TEST(SrtctlNames, ParsesDisaggregatedFolderName) {
  auto j = parse_job_dir_name("4459_4P_1D_20251122_041341");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->job_id, "4459");
  EXPECT_EQ(j->prefill_workers, 4);
  EXPECT_EQ(j->decode_workers, 1);
  EXPECT_EQ(j->agg_workers, -1);
  EXPECT_EQ(j->start, "2025-11-22 04:13:41");
}

TEST(SrtctlNames, ParsesAggregatedFolderName) {
  auto j = parse_job_dir_name("2261594_3A_20251203_171944");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->job_id, "2261594");
  EXPECT_EQ(j->agg_workers, 3);
  EXPECT_EQ(j->prefill_workers, -1);
  EXPECT_EQ(j->start, "2025-12-03 17:19:44");
}

TEST(SrtctlNames, RejectsOtherNamesAndKeepsIdOfBadStamp) {
  EXPECT_FALSE(parse_job_dir_name("logs"));
  EXPECT_FALSE(parse_job_dir_name("4459_4P_1D_2025"));
  EXPECT_FALSE(parse_job_dir_name("4459_4P_1D_20251122_041341_copy"));
  EXPECT_FALSE(parse_job_dir_name("analysis_20251122_041341"));
  auto bad = parse_job_dir_name("77_1P_1D_20251399_250000");  // month 13, hour 25
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->job_id, "77");
  EXPECT_EQ(bad->start, "");
}

TEST(SrtctlNames, ClassifiesWorkerLogNames) {
  auto p = classify_log_file("watchtower-aqua-cn01_prefill_w0.err");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, "prefill");
  EXPECT_EQ(p->index, 0);
  EXPECT_EQ(p->node, "watchtower-aqua-cn01");

  auto d = classify_log_file("gb200_r5_cn13_decode_w12.out");  // node name with underscores
  ASSERT_TRUE(d);
  EXPECT_EQ(d->role, "decode");
  EXPECT_EQ(d->index, 12);
  EXPECT_EQ(d->node, "gb200_r5_cn13");

  auto a = classify_log_file("n1_agg_w3.err");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->role, "agg");
  EXPECT_EQ(a->index, 3);
}

TEST(SrtctlNames, ClassifiesFrontendNginxAndProfileNames) {
  auto f0 = classify_log_file("cn02_frontend.err");  // frontend 0's .err has no index
  ASSERT_TRUE(f0);
  EXPECT_EQ(f0->role, "frontend");
  EXPECT_EQ(f0->index, 0);
  EXPECT_EQ(f0->node, "cn02");
  auto f2 = classify_log_file("cn05_frontend_2.out");
  ASSERT_TRUE(f2);
  EXPECT_EQ(f2->index, 2);
  auto plain = classify_log_file("frontend.out");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->role, "frontend");
  EXPECT_EQ(plain->node, "");
  auto ng = classify_log_file("cn01_nginx.err");
  ASSERT_TRUE(ng);
  EXPECT_EQ(ng->role, "nginx");
  EXPECT_EQ(ng->index, -1);
  auto prof = classify_log_file("profile_decode.err");
  ASSERT_TRUE(prof);
  EXPECT_EQ(prof->role, "profile");
  EXPECT_EQ(prof->node, "");

  EXPECT_FALSE(classify_log_file("log.out"));
  EXPECT_FALSE(classify_log_file("benchmark.err"));
  EXPECT_FALSE(classify_log_file("cn01_config.json"));
  EXPECT_FALSE(classify_log_file("cn01_prefill_w0.json"));
}

TEST(SrtctlNames, CanonicalMetricKeys) {
  EXPECT_EQ(canonical_metric_key("Successful requests:"), "completed");
  EXPECT_EQ(canonical_metric_key("Benchmark duration (s):"), "duration");
  EXPECT_EQ(canonical_metric_key("Output token throughput (tok/s):"), "output_throughput");
  EXPECT_EQ(canonical_metric_key("Total Token throughput (tok/s):"), "total_token_throughput");
  EXPECT_EQ(canonical_metric_key("Total token throughput (tok/s):"), "total_token_throughput");
  EXPECT_EQ(canonical_metric_key("Request goodput (req/s):"), "request_goodput");
  EXPECT_EQ(canonical_metric_key("Mean TTFT (ms):"), "mean_ttft_ms");
  EXPECT_EQ(canonical_metric_key("P99 E2EL (ms):"), "p99_e2el_ms");
  EXPECT_EQ(canonical_metric_key("P99.9 ITL (ms):"), "p99.9_itl_ms");
  EXPECT_EQ(canonical_metric_key("Median E2E Latency (ms):"), "median_e2el_ms");
  EXPECT_EQ(canonical_metric_key("Max request concurrency:"), "max_concurrency");
  EXPECT_EQ(canonical_metric_key("Peak concurrent requests:"), "peak_concurrent_requests");
  // JSON keys: the latency spelling and the goodput colon are normalised, the rest kept.
  EXPECT_EQ(canonical_metric_key("mean_e2e_latency_ms"), "mean_e2el_ms");
  EXPECT_EQ(canonical_metric_key("p99_ttft_ms"), "p99_ttft_ms");
  EXPECT_EQ(canonical_metric_key("request_goodput:"), "request_goodput");
  EXPECT_EQ(canonical_metric_key("output_throughput"), "output_throughput");
}

TEST(SrtctlNames, CivilSeconds) {
  auto a = civil_seconds("2025-11-22 04:13:41");
  auto b = civil_seconds("2025-11-22T04:21:40.123Z");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*b - *a, 479);
  auto y = civil_seconds("2025-12-31 23:59:59"), z = civil_seconds("2026-01-01 00:00:00");
  ASSERT_TRUE(y && z);
  EXPECT_EQ(*z - *y, 1);
  EXPECT_FALSE(civil_seconds("2025-11-22"));
  EXPECT_FALSE(civil_seconds("2025/11/22 04:13:41"));
  EXPECT_FALSE(civil_seconds("2025-13-22 04:13:41"));
}

TEST(SrtctlNames, CivilStampIsTheInverse) {
  for (const char* s : {"2025-11-22 04:13:41", "2024-02-29 23:59:59", "2000-03-01 00:00:00",
                        "1970-01-01 00:00:00", "1969-12-31 23:59:59", "1900-02-28 12:00:00"})
    EXPECT_EQ(civil_stamp(*civil_seconds(s)), s);
  EXPECT_EQ(civil_stamp(0), "1970-01-01 00:00:00");
  EXPECT_EQ(civil_stamp(-1), "1969-12-31 23:59:59");
}

TEST(SrtctlLayout, RecognisesJobAndSetFolders) {
  EXPECT_TRUE(is_job_dir(kLogs / "4459_2P_1D_20251122_041341"));
  EXPECT_TRUE(is_job_dir(kLogs / "4460_2P_1D_20251122_061502/"));  // trailing slash
  EXPECT_FALSE(is_job_dir(kLogs));
  EXPECT_TRUE(is_job_set_dir(kLogs));
  EXPECT_FALSE(is_job_set_dir(kLogs / "4459_2P_1D_20251122_041341"));
  EXPECT_FALSE(is_job_dir(kLogs / "does_not_exist"));
  EXPECT_FALSE(is_job_set_dir(kLogs / "does_not_exist"));
  EXPECT_FALSE(is_job_dir(kLogs / "4459_2P_1D_20251122_041341" / "log.out"));  // a file
}

TEST(SrtctlLayout, RecognisesRenamedFolderByItsFiles) {
  TempDir t;
  fs::path job = t.path / "my-run";
  touch(job / "log.out", "Node 0: cn01\n");
  EXPECT_FALSE(is_job_dir(job));  // log.out alone is not enough
  touch(job / "cn01_decode_w0.err");
  EXPECT_TRUE(is_job_dir(job));
  EXPECT_TRUE(is_job_set_dir(t.path));

  fs::path other = t.path / "other";
  touch(other / "log.out");
  touch(other / "benchmark.out");
  EXPECT_TRUE(is_job_dir(other));

  fs::path plain = t.path / "plain";
  touch(plain / "orchestrator.log");
  touch(plain / "logs" / "trainer.log");
  EXPECT_FALSE(is_job_dir(plain));
}

TEST(SrtctlLayout, RecognisesV2OutputsFolder) {
  TempDir t;
  fs::path job = t.path / "12345";
  touch(job / "logs" / "sweep_12345.log");
  EXPECT_TRUE(is_job_dir(job));
  EXPECT_TRUE(is_job_set_dir(t.path));
}
