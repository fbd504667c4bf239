// The writers that run after the scan, on the report of a 256 MB realistic log (~16 k weight
// updates and as many batches): report.json (streamed element by element), timeline.txt (the
// merge of the spooled events) and SUMMARY.md. Their cost is serial after the scan, so it counts
// in every end-to-end figure.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/timeline.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "bench_data.hpp"

namespace fs = std::filesystem;

namespace {

struct Fixture {
  fs::path dir;
  fs::path log;
  alog::Report report;
  Fixture() {
    dir = fs::temp_directory_path() / fmt::format("alog-bench-report-{}", ::getpid());
    fs::create_directories(dir);
    log = dir / "orchestrator.log";
    {
      std::ofstream f(log, std::ios::binary);
      std::string s = alog::bench::realistic_log(256u << 20);
      f.write(s.data(), static_cast<std::streamsize>(s.size()));
    }
    alog::AnalysisOptions opt;
    opt.inputs = {log.string()};
    opt.threads = 2;
    report = alog::analyze(opt);
    alog::diagnose(report);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_WriteJson(benchmark::State& state) {
  const alog::Report& r = fixture().report;
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    alog::write_json(r, [&](std::string_view s) { bytes += s.size(); });
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["updates"] = static_cast<double>(r.updates.size());
}
BENCHMARK(BM_WriteJson)->Unit(benchmark::kMillisecond);

// Spool every event of the log, then merge the spool into timeline.txt (a scan per iteration is
// paused out; the merge is what is timed).
void BM_TimelineMerge(benchmark::State& state) {
  Fixture& fx = fixture();
  fs::path out = fx.dir / "timeline.txt";
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    alog::AnalysisOptions opt;
    opt.inputs = {fx.log.string()};
    opt.threads = 2;
    opt.timeline_path = out;
    std::unique_ptr<alog::TimelineSpool> spool;
    alog::Report r = alog::analyze(opt, spool);
    state.ResumeTiming();
    spool->finish(r);
    state.PauseTiming();
    bytes = fs::file_size(out);
    spool.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TimelineMerge)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_Markdown(benchmark::State& state) {
  const alog::Report& r = fixture().report;
  for (auto _ : state) benchmark::DoNotOptimize(alog::to_markdown(r));
}
BENCHMARK(BM_Markdown)->Unit(benchmark::kMillisecond);

}  // namespace
