// The comparison as plain data, built once from the runs' report.json documents and read by the
// three writers (Markdown, terminal, compare.json) so that they cannot disagree.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/compare.hpp"
#include "analyze_logs/primerl/model.hpp"

namespace alog::compare::detail {

// The statistics shown per run; mean and p99 are the ones the regression gate judges.
inline constexpr std::array<const char*, 5> kStats = {"count", "mean", "p50", "p99", "max"};
inline constexpr bool kGated[5] = {false, true, false, true, false};

struct Delta {
  double abs = 0;
  std::optional<double> pct;  // nullopt: the baseline is 0
  bool worse = false;         // moved in the metric's bad direction
  bool regression = false;    // worse by more than the gate (gated statistics only)
};

struct Cell {            // one run's figures for one metric
  bool present = false;  // count > 0
  std::array<double, 5> v{};
  std::string status;                         // "good" | "warning" | "critical" | "" (none)
  std::array<std::optional<Delta>, 5> delta;  // non-baseline runs with the metric in both
  bool status_changed = false;
};

struct MetricRow {
  std::string name, unit;
  Bad bad = Bad::none;
  std::vector<Cell> cells;  // one per run
};

struct Missing {
  std::string metric;
  std::vector<size_t> absent_in, present_in;
  std::vector<std::string> notes;  // per absent run: why, when we can tell
};

struct DiagRef {
  std::string id, severity, summary;
};
struct DiagChange {
  std::vector<DiagRef> appeared, resolved;
  std::vector<std::pair<DiagRef, std::string>> changed;  // (now, severity before)
};

struct CheckRow {
  std::string expr, metric, stat, op;
  double value = 0;
  std::vector<ExpectResult> results;  // one per run
};

struct RegressionHit {
  size_t run = 0;
  std::string metric, stat, unit;
  double base = 0, value = 0, pct = 0;
};

struct Model {
  const std::vector<Run>* runs = nullptr;
  size_t baseline = 0;
  std::optional<double> gate;
  std::vector<MetricRow> metrics;
  std::vector<Missing> missing;
  std::vector<DiagChange> diagnoses;  // one per run (empty for the baseline)
  std::vector<CheckRow> checks;
  bool default_criterion = false;  // checks holds only the seeds' criterion, not --expect
  bool checks_failed = false;      // an --expect failed on a non-baseline run
  std::vector<RegressionHit> regressions;
  std::string verdict;
  std::string tool_version;
};

Model build_model(const std::vector<Run>& runs, const Options& opt);

// Formatting shared by the writers.
std::string fmt_value(double v, const std::string& unit, bool is_count = false);
std::string fmt_signed(double v, const std::string& unit, bool is_count = false);
std::string fmt_pct(const std::optional<double>& pct);
std::string unit_suffix(const std::string& unit);   // " ms", " %", ""
std::string short_name(const std::string& metric);  // "weights.queue_ms" -> "queue_ms"
std::string regression_line(const Model& m, const RegressionHit& h);

// obj[key] when obj is an object and that member is a string, else "". A report.json is outside
// data: `json::value(key, "")` throws type_error when the member exists with another type.
std::string str_member(const nlohmann::json& obj, const char* key);

std::string render_markdown(const Model& m);
std::string render_terminal(const Model& m);
nlohmann::ordered_json render_json(const Model& m);

}  // namespace alog::compare::detail
