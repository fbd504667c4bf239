// report.html for any set of jobs. Same rules as the prime-rl page (src/primerl/html.cpp), whose
// styles these are: one file with no scripts, no fonts and no requests, a Content-Security-Policy
// of default-src 'none', and every string from a log through html_escape. The header (verdict,
// findings, inputs) is drawn here the same way for every kind; each Body adds its own tables.
#include <fmt/format.h>

#include <functional>

#include "analyze_logs/render/fleet.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"

namespace alog::render {

namespace {

constexpr const char* kStyle = R"(
:root{--good:#15803d;--warn:#b45309;--crit:#b91c1c;--info:#0e7490;--muted:#6b7280;--line:#2563eb;--border:#e5e7eb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#111827;background:#f3f4f6}
main{max-width:1180px;margin:0 auto;padding:18px 20px 40px}
h1{font-size:20px;margin:0}
h2{font-size:16px;margin:22px 0 8px}
h3{font-size:14px;margin:0 0 4px}
.sub{color:var(--muted);font-size:12px}
.verdict{background:#fff;border:1px solid var(--border);border-left:6px solid var(--good);border-radius:6px;padding:10px 14px;margin:14px 0;font-size:15px}
.verdict.warning{border-left-color:var(--warn)}.verdict.critical{border-left-color:var(--crit)}.verdict.info{border-left-color:var(--info)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:10px}
.card{background:#fff;border:1px solid var(--border);border-radius:6px;padding:8px 12px}
.card .k{color:var(--muted);font-size:12px}.card .v{font-size:20px;font-weight:600}
.diag{background:#fff;border:1px solid var(--border);border-left:6px solid var(--warn);border-radius:6px;padding:8px 12px;margin:8px 0}
.diag.critical{border-left-color:var(--crit)}.diag.info{border-left-color:var(--info)}
.diag p{margin:2px 0}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:11px;font-weight:600;color:#fff;background:var(--warn);text-transform:uppercase;margin-right:6px}
.badge.critical{background:var(--crit)}.badge.good{background:var(--good)}.badge.none{background:#9ca3af}.badge.info{background:var(--info)}
.role{color:var(--muted);font-size:12px;font-weight:400;margin-left:6px;white-space:nowrap}
.quote{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f9fafb;border:1px solid var(--border);border-radius:4px;padding:2px 6px;white-space:pre-wrap;word-break:break-all;display:block;margin:2px 0 4px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:10px}
figure{margin:0;background:#fff;border:1px solid var(--border);border-radius:6px;padding:8px 10px}
figcaption{font-weight:600}
figcaption .sub{font-weight:400}
.key{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 10px}
svg{width:100%;height:auto;display:block}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#374151}
.scroll{overflow-x:auto}
.scroll table{font-size:12px}.scroll th{white-space:normal}.scroll th,.scroll td{padding:4px 6px}
table.kv{width:auto;min-width:50%}table.kv td{text-align:left}
table{border-collapse:collapse;background:#fff;width:100%;border:1px solid var(--border);font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid var(--border);text-align:right;white-space:nowrap}
th{background:#f9fafb;font-weight:600}
th:first-child,td:first-child,td.l,th.l{text-align:left}
td.wrap{white-space:normal;word-break:break-all;text-align:left}
.s-good{color:var(--good);font-weight:600}.s-warning{color:var(--warn);font-weight:600}.s-critical{color:var(--crit);font-weight:600}.s-info{color:var(--info);font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
details{margin:4px 0}summary{cursor:pointer;color:var(--muted)}
ul{margin:4px 0;padding-left:20px}
section.job{margin-top:18px}
section.job+section.job{border-top:3px solid #d1d5db;margin-top:28px;padding-top:4px}
h2.jobname{font-size:18px}
footer{color:var(--muted);font-size:12px;margin-top:24px}
)";

std::string esc(std::string_view s) {
  return html_escape(s);
}

}  // namespace

std::string html_level(Tone t) {
  switch (t) {
    case Tone::critical: return "critical";
    case Tone::warning: return "warning";
    case Tone::info:
    case Tone::dim: return "info";
    case Tone::ok:
    case Tone::plain: return "good";
  }
  return "good";
}

namespace {

std::string level(Tone t) { return html_level(t); }

std::string role_text(core::Role r) {
  switch (r) {
    case core::Role::root_cause: return "root cause";
    case core::Role::consequence: return "consequence";
    case core::Role::collateral: return "collateral";
  }
  return "";
}

void evidence_html(const core::Evidence& e, std::string& o) {
  o += fmt::format("<li><code>{}</code>{}", e.ref().empty() ? "(no file)" : esc(e.ref()),
                   e.time.empty() ? "" : " <span class=\"sub\">" + esc(e.time) + "</span>");
  if (!e.text.empty()) o += "<span class=\"quote\">" + esc(e.text) + "</span>";
  o += "</li>\n";
}

void finding_html(const core::Finding& f, bool is_root, std::string& o) {
  std::string lv = level(tone_of(f.severity));
  o += fmt::format(
      "<section class=\"diag {0}\"><h3><span class=\"badge {0}\">{1}</span>{2}<span "
      "class=\"role\">{3}{4}</span></h3>\n",
      lv, core::severity_name(f.severity), esc(f.summary), is_root ? "root cause" : role_text(f.role),
      f.id.empty() ? "" : " · <code>" + esc(f.id) + "</code>");
  if (!f.detail.empty()) o += "<p>" + esc(f.detail) + "</p>\n";
  if (!f.evidence.empty()) {
    // The root cause's evidence is what the reader came for: open; the rest folded.
    o += fmt::format("<details{}><summary>Evidence ({})</summary><ul>\n", is_root ? " open" : "",
                     f.evidence.size());
    for (const auto& e : f.evidence) evidence_html(e, o);
    o += "</ul></details>\n";
  }
  if (!f.fix.empty()) o += "<p><b>Fix:</b> " + html_prose(f.fix) + "</p>\n";
  o += "</section>\n";
}

void job_html(const core::Job& j, bool several, std::string& o, size_t index = 0) {
  const core::Header& h = j.header;
  o += several ? fmt::format("<section class=\"job\" id=\"job-{}\">\n", index) : std::string("<section class=\"job\">\n");
  if (several) o += fmt::format("<h2 class=\"jobname\">{} <span class=\"sub\">{}</span></h2>\n", esc(j.name), esc(j.kind));
  o += fmt::format("<div class=\"verdict {}\"><b>Verdict: {}</b>: {}</div>\n", level(tone_of(h)),
                   core::verdict_name(h.verdict), esc(h.cause.empty() ? "no cause given" : h.cause));
  const core::Finding* root = h.root();
  std::vector<const core::Finding*> collateral;
  o += "<h2>Findings</h2>\n";
  if (h.findings.empty()) o += "<p>No finding.</p>\n";
  for (const auto& f : h.findings) {
    if (f.role == core::Role::collateral)
      collateral.push_back(&f);
    else
      finding_html(f, &f == root, o);
  }
  if (!collateral.empty()) {
    o += fmt::format(
        "<details><summary>Collateral ({}): printed because of the failure or during the "
        "teardown</summary>\n",
        collateral.size());
    for (const auto* f : collateral) finding_html(*f, false, o);
    o += "</details>\n";
  }
  if (j.body) o += j.body->html();
  if (!h.inputs.empty()) {
    // A folder of many logs would push everything else off the page: fold the list when long.
    bool fold = h.inputs.size() > 8;
    o += "<h2>Inputs</h2>\n";
    if (fold) o += fmt::format("<details><summary>{} inputs</summary>\n", h.inputs.size());
    o += "<table><tr><th>input</th><th class=\"l\">kind</th><th class=\"l\">role</th><th "
         "class=\"l\">read</th></tr>\n";
    for (const auto& in : h.inputs)
      o += fmt::format(
          "<tr><td class=\"wrap\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l{}\">{}</td></tr>\n",
          esc(in.path), esc(in.kind), esc(in.role), in.read ? "" : " s-warning",
          in.read ? std::string("read") : "skipped: " + esc(in.reason));
    o += "</table>\n";
    if (fold) o += "</details>\n";
  }
  o += "</section>\n";
}

}  // namespace

std::string_view html_style() {
  return kStyle;
}

std::string html_prose(std::string_view s) {
  return prose_with_code(s, esc, [](std::string_view c) { return "<code>" + esc(c) + "</code>"; });
}

void report_html(const std::vector<core::Job>& jobs, std::string_view before_footer,
                 const std::function<void(std::string_view)>& sink) {
  constexpr size_t kFlushAt = size_t{1} << 20;
  std::string title = jobs.size() == 1 ? fmt::format("{}: {}", jobs[0].name, core::verdict_name(jobs[0].header.verdict))
                                        : fmt::format("{} jobs", jobs.size());
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
       "'unsafe-inline'; img-src data:\">\n";
  o += fmt::format("<title>analyze-logs: {}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n", esc(title),
                   kStyle);
  if (jobs.size() == 1) {
    o += fmt::format("<h1>{}</h1>\n<div class=\"sub\">{} job · {}</div>\n", esc(jobs[0].name), esc(jobs[0].kind),
                     esc(jobs[0].path));
    job_html(jobs[0], false, o);
  } else {
    o += fmt::format("<h1>{} jobs</h1>\n", jobs.size());
    std::vector<const core::Job*> ptrs;
    for (const auto& j : jobs) ptrs.push_back(&j);
    o += fleet_html(jobs, core::fleet_of(ptrs));
    for (size_t i = 0; i < jobs.size(); ++i) {
      job_html(jobs[i], true, o, i);
      if (o.size() > kFlushAt) {
        sink(o);
        o.clear();
      }
    }
  }
  o += before_footer;
  o += "<footer>Generated by analyze-logs from the logs listed above. Same data: report.json; in "
       "words: SUMMARY.md.</footer>\n";
  o += "</main>\n</body>\n</html>\n";
  sink(o);
}

std::string report_html(const std::vector<core::Job>& jobs) {
  std::string out;
  report_html(jobs, {}, [&](std::string_view part) { out += part; });
  return out;
}

}  // namespace alog::render
