// Fuzzes the --expect expression parser (parse_expectation) and both evaluators (over a Report
// and over a report.json document, the latter used by `compare` on documents from outside).
// Expressions come from command lines and CI configuration written by people; the documents from
// earlier runs.
//
// Contract: a rejected expression is std::invalid_argument naming it ("--expect '...': ...") on
// one line; an accepted one names a metric of kMetricDefs, a known statistic and operator, a
// finite value and keeps its text; evaluation never throws, and a result without a value has
// failed.
//
// Input: the expression, optionally followed by 0x1E and a JSON document to evaluate against.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/model.hpp"

using namespace alog;

namespace {
[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz_expect invariant violated: %s %s\n", what, detail.c_str());
  std::abort();
}
#define CHECK(cond, detail)            \
  do {                                 \
    if (!(cond)) fail(#cond, (detail)); \
  } while (0)

const Report& sample_report() {
  static const Report r = [] {
    Report rep;
    MetricReport m;
    m.name = "weights.queue_ms";
    m.unit = "ms";
    m.stats = Summary{3, 2.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0};
    rep.metrics.push_back(m);
    m.name = "gen.dur_ms";
    m.stats = Summary{};
    rep.metrics.push_back(m);
    return rep;
  }();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view expr = in, doc;
  if (auto sep = in.find('\x1e'); sep != std::string_view::npos) {
    expr = in.substr(0, sep);
    doc = in.substr(sep + 1);
  }
  Expectation e;
  try {
    e = parse_expectation(expr);
  } catch (const std::invalid_argument& ex) {
    CHECK(std::string_view(ex.what()).starts_with("--expect '"), ex.what());
    CHECK(std::string_view(ex.what()).find('\n') == std::string_view::npos, ex.what());
    return 0;
  } catch (const std::exception& ex) {
    fail("parse_expectation threw something other than std::invalid_argument:", ex.what());
  }
  CHECK(e.text == expr, e.text);
  CHECK(metric_def(e.metric) != nullptr, e.metric);
  CHECK(std::isfinite(e.value), "");
  static const char* kOps[] = {"<", "<=", ">", ">=", "==", "!="};
  bool op_ok = false;
  for (const char* o : kOps) op_ok |= e.op == o;
  CHECK(op_ok, e.op);
  static const char* kStats[] = {"count", "mean", "min", "p50", "p90", "p95", "p99", "max"};
  bool stat_ok = false;
  for (const char* s : kStats) stat_ok |= e.stat == s;
  CHECK(stat_ok, e.stat);

  try {
    ExpectResult r = evaluate(e, sample_report());
    CHECK(r.actual || !r.passed, "a check without a value passed");
    if (!doc.empty()) {
      auto j = nlohmann::json::parse(doc, nullptr, /*allow_exceptions=*/false);
      if (!j.is_discarded()) {
        ExpectResult rj = evaluate(e, j);
        CHECK(rj.actual || !rj.passed, "a check without a value passed (json)");
        if (rj.actual) CHECK(std::isfinite(*rj.actual), "");
      }
    }
  } catch (const std::exception& ex) {
    fail("evaluate threw:", ex.what());
  }
  return 0;
}
