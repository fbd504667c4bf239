// RayReport -> core::Header. The Ray analysis decides the verdict, the root cause and which
// findings are consequences (docs/RAY.md); this restates them in the shared vocabulary. Evidence
// paths become paths the user can open from where they ran the tool (the report keeps them
// relative to the folder holding every input).
#include <fmt/format.h>
#include <re2/re2.h>

#include <set>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/ray.hpp"

namespace alog::ray {

namespace fs = std::filesystem;

namespace {

std::string openable(const std::string& base, const std::string& display) {
  if (display.empty() || base.empty()) return display;
  fs::path p = fs::path(display);
  if (p.is_absolute()) return display;
  fs::path full = (fs::path(base) / p).lexically_normal();
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (!ec) {
    fs::path rel = full.lexically_relative(cwd);
    if (!rel.empty() && rel.native().rfind("..", 0) != 0) return rel.generic_string();
  }
  return full.generic_string();
}

core::Severity severity_of(const std::string& s) {
  if (s == "fatal" || s == "error") return core::Severity::critical;
  if (s == "warning") return core::Severity::warning;
  return core::Severity::info;
}

}  // namespace

core::Header header(const RayReport& r) {
  core::Header h;
  switch (r.verdict) {
    case Verdict::finished: h.verdict = core::Verdict::ok; break;
    case Verdict::running: h.verdict = core::Verdict::running; break;
    case Verdict::stuck: h.verdict = core::Verdict::stuck; break;
    case Verdict::failed: h.verdict = core::Verdict::failed; break;
    case Verdict::unknown: h.verdict = core::Verdict::unknown; break;
  }
  // A finished or running job that spent far longer than typical in a phase is degraded.
  bool slow = false;
  for (const auto& f : r.findings) slow |= f.kind == "slow_phase";
  if (slow && h.verdict == core::Verdict::ok) h.verdict = core::Verdict::degraded;

  // The headline opens with Ray's own verdict word ("failed: ..."); the writers print the verdict.
  std::string headline = r.headline;
  std::string word = std::string(verdict_name(r.verdict)) + ": ";
  if (headline.rfind(word, 0) == 0) headline.erase(0, word.size());
  // "stuck in phase 7 (...)": the reason says the same with the measured silence; use it alone.
  if (r.verdict == Verdict::stuck && !r.reason.empty()) h.cause = r.reason;
  else h.cause = r.reason.empty() ? headline : headline + ". " + r.reason;
  const Finding* root = r.root();
  for (const auto& f : r.findings) {
    core::Finding x;
    x.id = f.kind;
    x.severity = severity_of(f.severity);
    x.role = f.root_cause    ? core::Role::root_cause
             : f.consequence ? core::Role::consequence
             : (root && (f.severity == "fatal" || f.severity == "error")) ? core::Role::collateral
                                                                            : core::Role::root_cause;
    x.summary = f.title;
    std::string who;
    if (!f.actor.empty()) who = f.actor;
    if (f.rank >= 0) who += fmt::format("{}rank {}", who.empty() ? "" : " ", f.rank);
    if (f.pid >= 0) who += fmt::format("{}pid {}", who.empty() ? "" : " ", f.pid);
    if (!f.ip.empty()) who += " on " + f.ip;
    x.detail = f.detail;
    if (!who.empty() && x.summary.find(who) == std::string::npos)
      x.detail = (x.detail.empty() ? "" : x.detail + " ") + "(" + who + ")";
    if (f.occurrences > 1) x.detail += fmt::format("{}{} lines", x.detail.empty() ? "" : "; ", f.occurrences);
    for (const auto& e : f.evidence) x.evidence.push_back({openable(r.base, e.file), e.line, e.time, e.text});
    x.fix = f.fix;
    if (x.fix.empty())
      if (const core::Signature* s = core::find_signature(f.kind)) x.fix = std::string(s->fix);
    h.findings.push_back(std::move(x));
  }
  if (r.verdict == Verdict::unknown) {
    core::Finding x;
    x.id = "no_evidence";
    x.severity = core::Severity::warning;
    x.summary = r.headline;
    x.detail = r.reason;
    x.fix = "Give the driver log (running_logs/*.log) and every node's session_latest/logs/ folder";
    h.findings.push_back(std::move(x));
  }
  // Files that could not be read, or not in full (the same finding as srtctl's).
  if (!r.problems.empty()) {
    h.findings.push_back(core::file_problems_finding(r.problems, "reading the inputs", [&](const auto& p) {
      return core::Evidence{p.file.empty() ? std::string() : openable(r.base, p.file), 0, "", p.message};
    }));
  }
  core::sort_findings(h.findings);

  for (const auto& d : r.driver_logs) h.inputs.push_back({openable(r.base, d), "ray", "driver log", true, {}});
  for (const auto& d : r.session_dirs) h.inputs.push_back({openable(r.base, d), "ray", "session logs", true, {}});
  for (const auto& s : r.ignored)
    h.inputs.push_back({s, "ray", "", false, "older run or session: only the newest is analysed"});
  for (const auto& p : r.problems) h.inputs.push_back({openable(r.base, p.file), "ray", "", false, p.message});
  // Its place (the fleet view): the job's first stamp to the end of its input; its nodes are the
  // addresses its actors printed and the `ray/<ip>/` folders its session logs came from.
  h.started_at = r.started_at;
  h.ended_at = r.end_at;
  std::set<std::string> nodes;
  for (const auto& a : r.actors)
    if (!a.ip.empty()) nodes.insert(a.ip);
  static const RE2 ip_dir(R"((?:^|/)(\d{1,3}(?:\.\d{1,3}){3})/)");
  for (const auto& d : r.session_dirs) {
    std::string ip;
    if (RE2::PartialMatch(d, ip_dir, &ip)) nodes.insert(ip);
  }
  h.nodes.assign(nodes.begin(), nodes.end());
  return h;
}

}  // namespace alog::ray
