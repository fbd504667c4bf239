// The scanner's hot stages over a realistic 64 MB buffer: newline counting, the ']' + closes_tag
// filter that decides which segments are parsed at all, and scan() end to end with 1 and 2
// worker threads. Throughput is reported in bytes/s so it can be set against `wc -l`.
#include <benchmark/benchmark.h>

#include <cstring>

#include "analyze_logs/parse.hpp"
#include "analyze_logs/scan.hpp"
#include "bench_data.hpp"

namespace {

const std::string& log_64m() {
  static const std::string s = alog::bench::realistic_log(64u << 20);
  return s;
}

void BM_CountNewlines(benchmark::State& state) {
  const std::string& s = log_64m();
  for (auto _ : state) benchmark::DoNotOptimize(alog::scan::count_newlines(s.data(), s.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_CountNewlines)->Unit(benchmark::kMillisecond);

// The reference point: the fastest possible pass over the bytes (what `wc -l` does).
void BM_MemchrNewline(benchmark::State& state) {
  const std::string& s = log_64m();
  for (auto _ : state) {
    uint64_t n = 0;
    const char* p = s.data();
    const char* e = p + s.size();
    while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p))))) {
      ++n;
      ++p;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_MemchrNewline)->Unit(benchmark::kMillisecond);

// memchr(']') + closes_tag: how many candidates reach the parser, and at what cost.
void BM_TagFilter(benchmark::State& state) {
  const std::string& s = log_64m();
  uint64_t hits = 0, brackets = 0;
  for (auto _ : state) {
    hits = brackets = 0;
    const char* b = s.data();
    const char* e = b + s.size();
    for (const char* p = b; p < e;) {
      const char* q = static_cast<const char*>(std::memchr(p, ']', static_cast<size_t>(e - p)));
      if (!q) break;
      ++brackets;
      hits += alog::parse::closes_tag(b, q);
      p = q + 1;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
  state.counters["brackets"] = static_cast<double>(brackets);
  state.counters["tags"] = static_cast<double>(hits);
}
BENCHMARK(BM_TagFilter)->Unit(benchmark::kMillisecond);

// The scanner's own tag finder (SIMD where available).
void BM_FindTags(benchmark::State& state) {
  const std::string& s = log_64m();
  uint64_t hits = 0;
  for (auto _ : state) {
    hits = 0;
    const char* b = s.data();
    const char* e = b + s.size();
    for (const char* p = b; p < e;) {
      const char* q = alog::scan::find_tag_close(b, p, e);
      if (!q) break;
      ++hits;
      p = q + 1;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
  state.counters["tags"] = static_cast<double>(hits);
}
BENCHMARK(BM_FindTags)->Unit(benchmark::kMillisecond);

// scan() end to end: read from memory (one copy, as read(2) from the page cache), split into
// chunks, filter, parse, merge; the sink only counts.
void BM_Scan(benchmark::State& state) {
  const std::string& s = log_64m();
  alog::scan::Options opt;
  opt.threads = static_cast<unsigned>(state.range(0));
  uint64_t events = 0;
  for (auto _ : state) {
    alog::bench::ViewSource src(s);
    events = 0;
    auto counts = alog::scan::scan(src, 0, opt, [&](const alog::Event&, std::string_view) { ++events; });
    benchmark::DoNotOptimize(counts.lines);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
  state.counters["events"] = static_cast<double>(events);
}
BENCHMARK(BM_Scan)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
