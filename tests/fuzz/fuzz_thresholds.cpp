// Fuzzes the --thresholds file reader (Thresholds::apply_json). A bad file must end in
// std::invalid_argument naming the file, never another exception or a crash;
// an accepted file must leave only known keys with finite values (a threshold of inf or nan
// would silently judge every metric "good").
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "analyze_logs/primerl/thresholds.hpp"

using namespace alog;

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_thresholds invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond) \
  do {              \
    if (!(cond)) fail(#cond); \
  } while (0)
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Thresholds defaults(2);
  Thresholds t(2);
  try {
    t.apply_json(text, "fuzz.json");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string_view(e.what()).starts_with("fuzz.json: "));
    return 0;
  }
  // Accepted: same key set as the defaults, every value finite.
  CHECK(t.all().size() == defaults.all().size());
  for (const auto& [k, v] : t.all()) {
    CHECK(defaults.all().count(k) == 1);
    CHECK(std::isfinite(v));
  }
  // judge() works on every metric with any threshold values.
  for (const char* m : {"weights.queue_ms", "rollout.staleness", "gen.dur_ms", "nope"})
    (void)t.judge(m, 1.0);
  return 0;
}
