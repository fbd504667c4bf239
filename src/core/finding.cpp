#include "analyze_logs/core/finding.hpp"

#include <algorithm>

namespace alog::core {

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::ok: return "ok";
    case Verdict::degraded: return "degraded";
    case Verdict::failed: return "failed";
    case Verdict::stuck: return "stuck";
    case Verdict::running: return "running";
    case Verdict::unknown: return "unknown";
  }
  return "unknown";
}

std::optional<Verdict> verdict_from_name(std::string_view s) {
  for (Verdict v : {Verdict::ok, Verdict::degraded, Verdict::failed, Verdict::stuck, Verdict::running,
                    Verdict::unknown})
    if (verdict_name(v) == s) return v;
  return std::nullopt;
}

int verdict_rank(Verdict v) {
  switch (v) {
    case Verdict::ok: return 0;
    case Verdict::running: return 1;
    case Verdict::unknown: return 2;
    case Verdict::degraded: return 3;
    case Verdict::stuck: return 4;
    case Verdict::failed: return 5;
  }
  return 2;
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "warning";
}

std::optional<Severity> severity_from_name(std::string_view s) {
  for (Severity v : {Severity::info, Severity::warning, Severity::critical})
    if (severity_name(v) == s) return v;
  return std::nullopt;
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::root_cause: return "root_cause";
    case Role::consequence: return "consequence";
    case Role::collateral: return "collateral";
  }
  return "root_cause";
}

std::string Evidence::ref() const {
  if (file.empty()) return {};
  if (line == 0) return file;
  return file + ":" + std::to_string(line);
}

const Finding* Header::root() const {
  const Finding* best = nullptr;
  for (const auto& f : findings)
    if (f.role == Role::root_cause && (!best || f.severity > best->severity)) best = &f;
  return best;
}

bool Header::has_at_least(Severity s) const {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) { return f.severity >= s; });
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.role != b.role) return a.role < b.role;
    return a.severity > b.severity;
  });
}

}  // namespace alog::core
