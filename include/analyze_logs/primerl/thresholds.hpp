// Thresholds: the seeds' "Expected Ranges" table (7B model, 2x A100) and the diagnosis rules'
// limits, as one flat table of named numbers so that a `--thresholds FILE` can override any of
// them, the report can list the effective values, and an unknown key is an error rather than a
// silently ignored typo.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace alog {

enum class Status { none, good, warning, critical };
std::string_view status_name(Status s);  // "good", "warning", "critical"; "" for none

class Thresholds {
 public:
  // Defaults; the staleness limits follow async_level (warning above it, critical above +2).
  explicit Thresholds(int async_level = 2);

  // Overrides from a JSON document: flat ("weights.queue_ms.critical": 500) or nested
  // ({"weights.queue_ms": {"critical": 500}}). Throws std::invalid_argument naming the first
  // unknown key or non-numeric value.
  void apply_json(std::string_view json_text, std::string_view source_name);

  double get(std::string_view key) const;  // throws std::out_of_range for an unknown key
  const std::map<std::string, double, std::less<>>& all() const { return values_; }

  // Status of a metric from its judged value: below `.warning` good, up to `.critical`
  // warning, above critical. Metrics without thresholds get Status::none.
  Status judge(std::string_view metric, double value) const;
  bool has_status(std::string_view metric) const;
  // Which statistic a metric's status is judged on: "mean", or "max" for staleness.
  std::string_view judged_on(std::string_view metric) const;

 private:
  std::map<std::string, double, std::less<>> values_;
};

}  // namespace alog
