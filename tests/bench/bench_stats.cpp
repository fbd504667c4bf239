// summarize() on 1 M samples: the exact statistics sort every sample, so this is the end-of-run
// cost per metric (and 8 bytes of memory per sample while scanning).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "analyze_logs/core/stats.hpp"

namespace {

void BM_Summarize(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(6.0, 0.8);
  std::vector<double> base(static_cast<size_t>(state.range(0)));
  for (double& x : base) x = d(rng);
  std::vector<double> v;
  for (auto _ : state) {
    state.PauseTiming();
    v = base;
    state.ResumeTiming();
    auto s = alog::summarize(v);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * base.size()));
}
BENCHMARK(BM_Summarize)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace
