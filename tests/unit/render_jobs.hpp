// Test helpers for the writers: core::Jobs built from the srtctl and Ray testdata, with real
// bodies (make_body of an analysed job) and a header built here by hand. The production mapping
// from a JobReport / RayReport to a core::Header belongs to each kind; this one only needs to
// be plausible (root cause with its evidence, consequences, collateral, inputs) so the writers
// can be tested on real text.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "analyze_logs/core/job.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"

namespace alog::test_support {

inline const std::filesystem::path kSrtctlLogs = std::filesystem::path(ALOG_TESTDATA) / "srtctl" / "logs";
inline const std::filesystem::path kRayData = std::filesystem::path(ALOG_TESTDATA) / "ray";

inline std::vector<std::string> srtctl_job_names() {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(kSrtctlLogs)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}
inline std::vector<std::string> ray_job_names() {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(kRayData)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

inline core::Job srtctl_job(const std::string& name) {
  srtctl::JobReport r = srtctl::analyze_job(kSrtctlLogs / name);
  core::Job j;
  j.kind = "srtctl";
  j.name = r.name;
  j.path = r.dir;
  j.header.verdict = r.verdict == srtctl::Verdict::healthy    ? core::Verdict::ok
                     : r.verdict == srtctl::Verdict::degraded ? core::Verdict::degraded
                                                              : core::Verdict::failed;
  j.header.cause = r.reason;
  for (const auto& f : r.failures) {
    core::Finding x;
    x.id = f.kind;
    x.severity = f.fatal ? core::Severity::critical : core::Severity::warning;
    x.role = f.root_cause ? core::Role::root_cause : f.collateral ? core::Role::collateral : core::Role::consequence;
    x.summary = f.role + " " + std::to_string(f.index) + " on " + f.node + ": " + f.kind;
    x.evidence.push_back({f.file, f.line, f.time, f.first_error});
    x.fix = "Look at `" + f.file + "` first; see `analyze-logs --trace <id>`.";
    j.header.findings.push_back(std::move(x));
  }
  core::sort_findings(j.header.findings);
  for (const auto& l : r.logs) j.header.inputs.push_back({l.file, "srtctl", l.id.role, true, ""});
  for (const auto& p : r.problems) j.header.inputs.push_back({p.file, "srtctl", "", false, p.message});
  j.body = srtctl::make_body(std::move(r));
  return j;
}

inline core::Job ray_job(const std::string& name) {
  ray::RayReport r = ray::analyze({kRayData / name}, {});
  core::Job j;
  j.kind = "ray";
  j.name = name;
  j.path = (kRayData / name).string();
  switch (r.verdict) {
    case ray::Verdict::finished: j.header.verdict = core::Verdict::ok; break;
    case ray::Verdict::running: j.header.verdict = core::Verdict::running; break;
    case ray::Verdict::stuck: j.header.verdict = core::Verdict::stuck; break;
    case ray::Verdict::failed: j.header.verdict = core::Verdict::failed; break;
    case ray::Verdict::unknown: j.header.verdict = core::Verdict::unknown; break;
  }
  j.header.cause = r.headline.starts_with("failed: ") ? r.headline.substr(8) : r.headline;
  for (const auto& f : r.findings) {
    core::Finding x;
    x.id = f.kind;
    x.severity = f.severity == "fatal" ? core::Severity::critical
                                         : core::Severity::warning;
    x.role = f.root_cause ? core::Role::root_cause : core::Role::consequence;
    x.summary = f.title;
    x.detail = f.detail;
    for (const auto& e : f.evidence) x.evidence.push_back({e.file, e.line, e.time, e.text});
    x.fix = f.fix;
    j.header.findings.push_back(std::move(x));
  }
  core::sort_findings(j.header.findings);
  for (const auto& d : r.driver_logs) j.header.inputs.push_back({d, "ray", "driver log", true, ""});
  for (const auto& d : r.session_dirs) j.header.inputs.push_back({d, "ray", "session logs", true, ""});
  for (const auto& d : r.ignored) j.header.inputs.push_back({d, "ray", "driver log", false, "an older run"});
  j.body = ray::make_body(std::move(r));
  return j;
}

}  // namespace alog::test_support
