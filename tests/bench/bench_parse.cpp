// Per-segment costs: ANSI stripping, prefix stripping per prefix shape, and parse_segment on each
// line shape FORMATS.md lists. These run only for the ~6.5 % of segments that pass the tag filter,
// so they matter at ~470 k calls per GB.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "analyze_logs/parse.hpp"
#include "analyze_logs/util.hpp"

namespace {

struct Shape {
  const char* name;
  std::string line;
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> v = {
      {"loguru_ansi_client_done",
       "\x1b[2m18:30:47\x1b[0m \x1b[1m   INFO\x1b[0m \x1b[1m\x1b[22m[weights][54127134d8134dbd] client.done "
       "wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4\x1b[0m\x1b[0m"},
      {"loguru_client_send",
       "11:22:20    INFO [weights][bae4d097d7704bc7] client.send url=http://10.0.0.2:8000 "
       "path=/models/run/step_42 t=53712.8841"},
      {"loguru_full_gen",
       "2025-10-14 18:30:47.123 | INFO     | prime_rl.orchestrator:run:88 - [gen] batch.done completions=64 "
       "dur_ms=2345.6 inflight=96"},
      {"vllm_server_recv",
       "INFO 10-14 18:30:47 [server.py:88] [weights][54127134d8134dbd] server.recv path=/update_weights "
       "t=53712.8841"},
      {"vllm_noise", "INFO 10-14 18:30:47 [server.py:88] [weights][-] server.recv path=/v1/chat/completions t=53712.9012"},
      {"trainer_rank_ckpt", "[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4"},
      {"bare_rollout", "[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1"},
      {"json_lines",
       "{\"timestamp\": \"2025-10-14T18:30:47.123\", \"level\": \"INFO\", \"message\": \"[ckpt] wait.done "
       "target_step=42 wait_ms=12.3\"}"},
  };
  return v;
}

void BM_ParseSegment(benchmark::State& state) {
  const Shape& sh = shapes()[static_cast<size_t>(state.range(0))];
  state.SetLabel(sh.name);
  alog::parse::Scratch scratch;
  for (auto _ : state) {
    alog::Event ev;
    auto r = alog::parse::parse_segment(sh.line, ev, scratch);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(ev);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseSegment)->DenseRange(0, 7);

void BM_StripAnsi(benchmark::State& state) {
  const std::string& line = shapes()[0].line;
  std::string out;
  for (auto _ : state) {
    out.clear();
    alog::strip_ansi(line, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_StripAnsi);

void BM_StripPrefix(benchmark::State& state) {
  // ANSI-free text, as strip_prefix receives it.
  std::string text;
  alog::strip_ansi(shapes()[static_cast<size_t>(state.range(0))].line, text);
  state.SetLabel(shapes()[static_cast<size_t>(state.range(0))].name);
  for (auto _ : state) {
    auto p = alog::parse::strip_prefix(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_StripPrefix)->Arg(0)->Arg(2)->Arg(3)->Arg(5)->Arg(6);

}  // namespace
