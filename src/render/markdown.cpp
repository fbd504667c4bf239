// SUMMARY.md for any set of jobs: the shared header (verdict, cause, findings, inputs) written
// here, each kind's detail from its Body. Log text outside code spans goes through md_escape;
// file:line references and quoted log lines are code spans (md_code), where nothing is escaped.
#include <fmt/format.h>

#include "analyze_logs/render/fleet.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"

namespace alog::render {

namespace {

std::string role_text(core::Role r) {
  switch (r) {
    case core::Role::root_cause: return "root cause";
    case core::Role::consequence: return "consequence";
    case core::Role::collateral: return "collateral";
  }
  return "";
}

// One heading level down for every ATX heading outside fenced code: a body written for a report
// of one job nests under the job's own heading when there are several.
std::string demote(const std::string& md) {
  std::string out;
  bool fenced = false;
  size_t i = 0;
  while (i < md.size()) {
    size_t j = md.find('\n', i);
    if (j == std::string::npos) j = md.size();
    std::string_view line(md.data() + i, j - i);
    if (line.starts_with("```")) fenced = !fenced;
    if (!fenced && line.starts_with("#")) out += '#';
    out.append(line);
    if (j < md.size()) out += '\n';
    i = j + 1;
  }
  return out;
}

std::string evidence_md(const core::Evidence& e) {
  std::string s = e.ref().empty() ? std::string("(no file)") : md_code(e.ref());
  if (!e.time.empty()) s += " (" + md_escape(e.time) + ")";
  if (!e.text.empty()) s += ": " + md_code(e.text);
  return s;
}

void findings_md(const core::Header& h, const std::string& hx, std::string& o) {
  o += hx + " Findings\n\n";
  if (h.findings.empty()) {
    o += "No finding.\n\n";
    return;
  }
  const core::Finding* root = h.root();
  std::vector<const core::Finding*> collateral;
  int n = 0;
  for (const auto& f : h.findings) {
    if (f.role == core::Role::collateral) {
      collateral.push_back(&f);
      continue;
    }
    o += fmt::format("{}# {}. {}{}\n\n", hx, ++n, md_escape(f.summary),
                     &f == root ? " (root cause)" : "");
    o += fmt::format("*{} · {}*{}\n\n", core::severity_name(f.severity), role_text(f.role),
                     f.id.empty() ? "" : " · " + md_code(f.id));
    if (!f.detail.empty()) o += md_escape(f.detail) + "\n\n";
    if (!f.evidence.empty()) {
      o += "Evidence:\n\n";
      for (const auto& e : f.evidence) o += "- " + evidence_md(e) + "\n";
      o += "\n";
    }
    if (!f.fix.empty()) o += "Fix: " + md_prose(f.fix) + "\n\n";
  }
  if (!collateral.empty()) {
    o += fmt::format(
        "Collateral ({}): printed because of the failure above or during the teardown; noise, not "
        "causes.\n\n",
        collateral.size());
    for (const auto* f : collateral)
      o += fmt::format("- {} {}{}{}\n", core::severity_name(f->severity), md_escape(f->summary),
                       f->evidence.empty() ? "" : " ",
                       f->evidence.empty() ? std::string() : md_code(f->evidence.front().ref()));
    o += "\n";
  }
}

void inputs_md(const core::Header& h, const std::string& hx, std::string& o) {
  if (h.inputs.empty()) return;
  o += hx + " Inputs\n\n| Input | Kind | Role | Read |\n|---|---|---|---|\n";
  for (const auto& in : h.inputs)
    o += fmt::format("| {} | {} | {} | {} |\n", md_escape(in.path), in.kind.empty() ? "–" : md_escape(in.kind),
                     in.role.empty() ? "–" : md_escape(in.role),
                     in.read ? "read" : "**skipped**: " + md_escape(in.reason.empty() ? "no reason given" : in.reason));
  o += "\n";
}

void job_md(const core::Job& j, bool several, std::string& o) {
  std::string hx = several ? "###" : "##";
  if (several)
    o += fmt::format("## {} ({})\n\n", md_escape(j.name), md_escape(j.kind));
  o += fmt::format("**Verdict: {}**: {}\n\n", core::verdict_name(j.header.verdict),
                   md_escape(j.header.cause.empty() ? "no cause given" : j.header.cause));
  findings_md(j.header, hx, o);
  if (j.body) {
    std::string b = j.body->markdown();
    if (!b.empty()) {
      o += several ? demote(b) : b;
      if (o.back() != '\n') o += '\n';
      if (!o.ends_with("\n\n")) o += '\n';
    }
  }
  inputs_md(j.header, hx, o);
}

}  // namespace

std::string report_markdown(const std::vector<core::Job>& jobs) {
  std::string o;
  if (jobs.empty()) return "# analyze-logs\n\nNo job found in the inputs.\n";
  if (jobs.size() == 1) {
    const core::Job& j = jobs.front();
    o += fmt::format("# {} ({})\n\n", md_escape(j.name), md_escape(j.kind));
    job_md(j, false, o);
    return o;
  }
  o += fmt::format("# analyze-logs: {} jobs\n\n", jobs.size());
  std::vector<const core::Job*> ptrs;
  for (const auto& j : jobs) ptrs.push_back(&j);
  o += fleet_markdown(jobs, core::fleet_of(ptrs));
  for (const auto& j : jobs) job_md(j, true, o);
  return o;
}

}  // namespace alog::render
