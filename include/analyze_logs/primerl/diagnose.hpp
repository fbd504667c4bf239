// Diagnosis: the known bottlenecks of seeds 000 and 001 as rules over the Report, and the
// `--expect` checks. Rules judge individual events as well as aggregates: one 30 s queue delay
// among 500 fast updates is a warning naming it; the same delay in most updates is critical.
// The exact rule for each id is in docs/DIAGNOSES.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "analyze_logs/core/finding.hpp"
#include "analyze_logs/primerl/model.hpp"

namespace alog {

// Runs every rule and fills r.diagnoses, worst first (critical before warning, then by share).
void diagnose(Report& r);

// `--expect` expressions: METRIC.STAT OP NUMBER, e.g. "weights.queue_ms.p99<300".
// METRIC is a name of kMetricDefs (primerl/model.hpp); STAT is count|mean|min|p50|p90|p95|p99|max;
// OP is < <= > >= == !=.
struct Expectation {
  std::string text;    // as given
  std::string metric;  // "weights.queue_ms"
  std::string stat;    // "p99"
  std::string op;      // "<"
  double value = 0;
};
// Throws std::invalid_argument with a one-line message naming the expression: malformed, an
// unknown statistic or operator, or a metric the analysis does not have (the message lists those
// it has). Every name is checked here, so a typo is found before any input is read.
Expectation parse_expectation(std::string_view expr);
// "weights.wall_ms, weights.rpc_ms, ...": the metric names a check may use, from kMetricDefs.
std::string expect_metric_names();
std::string expect_stat_names();  // "count, mean, min, p50, p90, p95, p99, max"

// Evaluates against a Report. A metric with no samples has a count of 0 and no other statistic:
// a check of any other statistic fails, with a message saying so.
ExpectResult evaluate(const Expectation& e, const Report& r);
// The same against a report.json document (for `compare`).
ExpectResult evaluate(const Expectation& e, const nlohmann::json& report_json);

// Severity ranking for --fail-on: true when any diagnosis is at or above `level`.
bool has_diagnosis_at_least(const Report& r, Severity level);

// The shared header (core/finding.hpp) of a prime-rl run: diagnoses as findings (degraded), no
// tagged line at all (unknown), a missing orchestrator or inference log, skipped lines.
core::Header header(const Report& r);

}  // namespace alog
