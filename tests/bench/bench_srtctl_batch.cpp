// SGLang batch lines, the bulk of a serving worker's log: parse_batch_line alone over a 32 MB
// buffer of realistic lines (new and old shapes, prefill and decode), and scan_log end to end
// over the same bytes written to a file (reading, the fast path, buckets). Throughput in bytes/s.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "analyze_logs/srtctl.hpp"

namespace {

// A decode-heavy worker log: per simulated second, two DP ranks' decode lines and a prefill line.
const std::string& worker_log() {
  static const std::string s = [] {
    std::string o;
    o.reserve(33u << 20);
    for (int64_t i = 0; o.size() < (32u << 20); ++i) {
      const int h = static_cast<int>(i / 3600 % 24), m = static_cast<int>(i / 60 % 60),
                sec = static_cast<int>(i % 60);
      for (int dp = 0; dp < 2; ++dp)
        o += fmt::format(
            "[2025-12-01 {:02d}:{:02d}:{:02d} DP{} TP{} EP{}] Decode batch, #running-req: {}, "
            "#token: {}, token "
            "usage: 0.{:02d}, pre-allocated usage: 0.00, #prealloc-req: 0, #transfer-req: {}, "
            "#retracted-req: 0, "
            "cuda graph: True, gen throughput (token/s): {}.{:02d}, #queue-req: {}, \n",
            h, m, sec, dp, dp, dp, 32 + i % 64, 40000 + i % 9000, i % 90, i % 7, 1500 + i % 700,
            i % 100, i % 13);
      if (i % 4 == 0)
        o += fmt::format(
            "[2025-12-01 {:02d}:{:02d}:{:02d} TP0] Prefill batch. #new-seq: {}, #new-token: {}, "
            "#cached-token: 0, token usage: 0.{:02d}, #running-req: 3, #queue-req: 0\n",
            h, m, sec, 1 + i % 8, 1024 * (1 + i % 8), i % 90);
    }
    return o;
  }();
  return s;
}

void BM_ParseBatchLine(benchmark::State& state) {
  const std::string& s = worker_log();
  alog::srtctl::BatchSample b;
  for (auto _ : state) {
    size_t n = 0, pos = 0;
    while (pos < s.size()) {
      size_t nl = s.find('\n', pos);
      n += alog::srtctl::parse_batch_line(std::string_view(s).substr(pos, nl - pos), b);
      pos = nl + 1;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_ParseBatchLine)->Unit(benchmark::kMillisecond);

void BM_ScanWorkerLog(benchmark::State& state) {
  const std::string& s = worker_log();
  const auto path = std::filesystem::temp_directory_path() /
                    ("alog_bench_batch_" + std::to_string(::getpid()) + ".err");
  std::ofstream(path, std::ios::binary) << s;
  for (auto _ : state) {
    std::vector<alog::srtctl::Problem> problems;
    auto sc = alog::srtctl::scan_log(path, "w.err", {"decode", 0, "node"},
                                     alog::srtctl::ScanMode::worker, problems);
    benchmark::DoNotOptimize(sc.batches);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
  std::filesystem::remove(path);
}
BENCHMARK(BM_ScanWorkerLog)->Unit(benchmark::kMillisecond);

}  // namespace
