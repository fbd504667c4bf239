#include "analyze_logs/primerl/thresholds.hpp"

#include "analyze_logs/util.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace alog {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::good: return "good";
    case Status::warning: return "warning";
    case Status::critical: return "critical";
    default: return "";
  }
}

Thresholds::Thresholds(int async_level) {
  // Seed 000, "Expected Ranges (7B Model, 2x A100)".
  values_ = {
      {"weights.queue_ms.warning", 100},      {"weights.queue_ms.critical", 1000},
      {"weights.rpc_ms.warning", 2000},       {"weights.rpc_ms.critical", 5000},
      {"weights.reload_rpc_ms.warning", 500}, {"weights.reload_rpc_ms.critical", 2000},
      {"ckpt.write_ms.warning", 1000},        {"ckpt.write_ms.critical", 5000},
      {"ckpt.wait_ms.warning", 500},          {"ckpt.wait_ms.critical", 2000},
      {"gen.dur_ms.warning", 5000},           {"gen.dur_ms.critical", 10000},
      {"rollout.trunc_pct.warning", 10},      {"rollout.trunc_pct.critical", 30},
      {"rollout.staleness.warning", async_level}, {"rollout.staleness.critical", async_level + 2},
      // Seed 000, "Common Issues & Signatures"; seed 001 "Diagnosis". Used by the diagnosis rules.
      {"queue_saturation.queue_ms", 10000},   {"queue_saturation.rpc_ms", 2000},
      {"slow_weight_load.queue_ms", 100},     {"slow_weight_load.rpc_ms", 5000},
      {"ckpt_stall.wait_ms", 2000},           {"slow_ckpt_write.write_ms", 5000},
      {"high_truncation.trunc_pct", 30},      {"gen_spike_during_update.dur_ms", 10000},
      {"gen_spike_during_update.queue_ms", 1000},
      // Share of events beyond which a per-event finding becomes critical.
      {"critical_share", 0.5},
  };
}

namespace {
void flatten(const nlohmann::json& j, const std::string& prefix,
             std::map<std::string, nlohmann::json>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) flatten(*it, key, out);
    else out[key] = *it;
  }
}
}  // namespace

void Thresholds::apply_json(std::string_view text, std::string_view source) {
  if (!json_depth_ok(text, 16))
    throw std::invalid_argument(fmt::format("{}: nested too deeply to be a thresholds file", source));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::invalid_argument(fmt::format("{}: not a JSON object", source));
  std::map<std::string, nlohmann::json> flat;
  flatten(j, "", flat);
  for (const auto& [k, v] : flat) {
    auto it = values_.find(k);
    if (it == values_.end())
      throw std::invalid_argument(fmt::format("{}: unknown threshold '{}'", source, k));
    if (!v.is_number())
      throw std::invalid_argument(fmt::format("{}: threshold '{}' is not a number", source, k));
    it->second = v.get<double>();
  }
}

double Thresholds::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::out_of_range(fmt::format("unknown threshold {}", key));
  return it->second;
}

bool Thresholds::has_status(std::string_view metric) const {
  return values_.count(fmt::format("{}.warning", metric)) > 0;
}

std::string_view Thresholds::judged_on(std::string_view metric) const {
  return metric == "rollout.staleness" ? "max" : "mean";
}

Status Thresholds::judge(std::string_view metric, double value) const {
  auto w = values_.find(fmt::format("{}.warning", metric));
  auto c = values_.find(fmt::format("{}.critical", metric));
  if (w == values_.end() || c == values_.end()) return Status::none;
  // Staleness is an integer limit: "warning above async_level" means > warning.
  bool strict = metric == "rollout.staleness";
  if (value > c->second) return Status::critical;
  if (strict ? value > w->second : value >= w->second) return Status::warning;
  return Status::good;
}

}  // namespace alog
