#include "analyze_logs/render/fleet.hpp"

#include <fmt/format.h>

#include <cmath>

#include "analyze_logs/core/header_json.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"

namespace alog::render {
namespace {

const char* kTest =
    "one-sided exact binomial test of each node's failed jobs against the fleet's failure rate, "
    "Bonferroni-corrected over the nodes";

double duration_of(const core::Header& h) {
  double a = core::civil_seconds(h.started_at), b = core::civil_seconds(h.ended_at);
  return a >= 0 && b >= a ? b - a : -1;
}

std::string nodes_cell(const core::Header& h) {
  if (h.nodes.empty()) return "–";
  if (h.nodes.size() == 1) return h.nodes.front();
  return fmt::format("{} +{}", h.nodes.front(), h.nodes.size() - 1);
}

// Group number (1-based, as listed) of each job's fingerprint; 0 for none.
std::vector<size_t> group_numbers(const core::Fleet& fl, size_t n) {
  std::vector<size_t> g(n, 0);
  for (size_t i = 0; i < fl.groups.size(); ++i)
    for (size_t j : fl.groups[i].jobs) g[j] = i + 1;
  return g;
}

std::string pct(double x) { return fmt::format("{:.1f} %", 100 * x); }
std::string pval(double p) { return p < 1e-3 ? fmt::format("{:.1e}", p) : fmt::format("{:.3f}", p); }

std::string names(const std::vector<core::Job>& jobs, const std::vector<size_t>& idx, size_t max) {
  std::string s;
  for (size_t k = 0; k < idx.size() && k < max; ++k) s += fmt::format("{}{}", k ? ", " : "", printable(jobs[idx[k]].name));
  if (idx.size() > max) s += fmt::format(" (+{})", idx.size() - max);
  return s;
}

std::string blame_intro(const core::Fleet& fl, size_t jobs) {
  return fmt::format("{} of {} jobs failed or stuck ({}); {} of them name their nodes: {} nodes. Test: {} (alpha {}).",
                     fl.failed, jobs, pct(fl.failure_rate), fl.with_nodes == jobs ? std::string("all") : std::to_string(fl.with_nodes),
                     fl.tested, kTest, fl.alpha);
}

}  // namespace

std::string short_duration(double s) {
  if (!(s >= 0)) return "";
  auto t = static_cast<int64_t>(std::llround(s));
  if (t >= 3600) return fmt::format("{}h {:02}m", t / 3600, t / 60 % 60);
  if (t >= 60) return fmt::format("{}m {:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

std::string fleet_text(const std::vector<core::Job>& jobs, const core::Fleet& fl, const core::TextOptions& opt) {
  const size_t w = opt.width;
  std::string o;
  auto g = group_numbers(fl, jobs.size());
  TextTable t{{"verdict", "job", "kind", "start", "took", "nodes", "fp", "cause"}, {false, false, false, false, true, false, true, false}, {}};
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& h = jobs[i].header;
    // "MM-DD HH:MM": the year is in SUMMARY.md and report.json.
    std::string start = h.started_at.size() >= 16 ? h.started_at.substr(5, 11) : h.started_at;
    t.rows.push_back({paint(std::string(core::verdict_name(h.verdict)), tone_of(h), opt.color), fit(printable(jobs[i].name), 24),
                      jobs[i].kind, start, short_duration(duration_of(h)), fit(printable(nodes_cell(h)), 14),
                      g[i] ? fmt::format("#{}", g[i]) : "", printable(h.cause)});
  }
  o += text_table(t, w);
  if (!fl.groups.empty()) {
    o += fmt::format("\n{}\n", fit("Failures by root-cause fingerprint (fp), most jobs first:", w));
    for (size_t i = 0; i < fl.groups.size() && i < 20; ++i) {
      const auto& gr = fl.groups[i];
      std::string head = fmt::format("#{} {} job{}: {}", i + 1, gr.jobs.size(), gr.jobs.size() == 1 ? "" : "s", printable(gr.fingerprint));
      for (const auto& l : wrap(head, w, "  ", "       ")) o += l + "\n";
      if (!gr.example.ref().empty()) o += fit(fmt::format("       e.g. {}", printable(gr.example.ref())), w) + "\n";
      for (const auto& l : wrap(names(jobs, gr.jobs, 12), w, "       jobs: ", "             ")) o += l + "\n";
    }
    if (fl.groups.size() > 20) o += fmt::format("  ({} more fingerprints: report.json's fleet.groups)\n", fl.groups.size() - 20);
  }
  o += "\n";
  for (const auto& l : wrap(blame_intro(fl, jobs.size()), w)) o += l + "\n";
  if (fl.exclude.empty()) {
    o += fit("No node fails more often than chance allows.", w) + "\n";
  } else {
    for (const auto& s : fl.nodes) {
      if (!s.blamed) break;
      o += fit(fmt::format("  {}: {} of {} jobs failed, p {} (adjusted {}); jobs: {}", printable(s.node), s.failed, s.jobs, pval(s.p_value),
                           pval(s.adjusted), names(jobs, s.failed_jobs, 6)),
               w) + "\n";
    }
    o += fit(fmt::format("SLURM: --exclude={}", fmt::join(fl.exclude, ",")), w) + "\n";
  }
  return o;
}

std::string fleet_markdown(const std::vector<core::Job>& jobs, const core::Fleet& fl) {
  std::string o;
  auto g = group_numbers(fl, jobs.size());
  o += "| Job | Kind | Start | Duration | Nodes | Verdict | Fingerprint | Cause |\n|---|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& h = jobs[i].header;
    o += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", md_escape(jobs[i].name), md_escape(jobs[i].kind), md_escape(h.started_at),
                     short_duration(duration_of(h)), md_escape(fmt::format("{}", fmt::join(h.nodes, " "))), core::verdict_name(h.verdict),
                     g[i] ? fmt::format("#{}", g[i]) : "", md_escape(h.cause));
  }
  if (!fl.groups.empty()) {
    o += "\n## Failures by fingerprint\n\n| # | Jobs | Fingerprint | Example | Which jobs |\n|---|---|---|---|---|\n";
    for (size_t i = 0; i < fl.groups.size(); ++i) {
      const auto& gr = fl.groups[i];
      o += fmt::format("| {} | {} | {} | {} | {} |\n", i + 1, gr.jobs.size(), md_escape(gr.fingerprint), md_escape(gr.example.ref()),
                       md_escape(names(jobs, gr.jobs, 50)));
    }
  }
  o += fmt::format("\n## Nodes\n\n{}\n\n", md_escape(blame_intro(fl, jobs.size())));
  if (fl.exclude.empty()) {
    o += "No node fails more often than chance allows.\n";
  } else {
    o += "| Node | Jobs | Failed | p | Adjusted p | Failed jobs |\n|---|---|---|---|---|---|\n";
    for (const auto& s : fl.nodes) {
      if (!s.blamed) break;
      o += fmt::format("| {} | {} | {} | {} | {} | {} |\n", md_escape(s.node), s.jobs, s.failed, pval(s.p_value), pval(s.adjusted),
                       md_escape(names(jobs, s.failed_jobs, 50)));
    }
    o += fmt::format("\nFor SLURM: `--exclude={}`\n", fmt::join(fl.exclude, ","));
  }
  o += "\n";
  return o;
}

std::string fleet_html(const std::vector<core::Job>& jobs, const core::Fleet& fl) {
  std::string o;
  auto g = group_numbers(fl, jobs.size());
  o += "<table><tr><th>job</th><th class=\"l\">kind</th><th class=\"l\">start</th><th>duration</th><th class=\"l\">nodes</th>"
       "<th class=\"l\">verdict</th><th class=\"l\">fp</th><th class=\"l\">cause</th></tr>\n";
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& h = jobs[i].header;
    o += fmt::format(
        "<tr><td><a href=\"#job-{}\">{}</a></td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td>"
        "<td class=\"l s-{}\">{}</td><td class=\"l\">{}</td><td class=\"wrap\">{}</td></tr>\n",
        i, html_escape(jobs[i].name), html_escape(jobs[i].kind), html_escape(h.started_at), short_duration(duration_of(h)),
        html_escape(fmt::format("{}", fmt::join(h.nodes, " "))), html_level(tone_of(h)), core::verdict_name(h.verdict),
        g[i] ? fmt::format("<a href=\"#fp-{0}\">#{0}</a>", g[i]) : "", html_escape(h.cause));
  }
  o += "</table>\n";
  if (!fl.groups.empty()) {
    o += "<h2>Failures by fingerprint</h2>\n<table><tr><th>#</th><th>jobs</th><th class=\"l\">fingerprint</th><th class=\"l\">example</th>"
         "<th class=\"l\">which jobs</th></tr>\n";
    for (size_t i = 0; i < fl.groups.size(); ++i) {
      const auto& gr = fl.groups[i];
      std::string which;
      for (size_t k = 0; k < gr.jobs.size(); ++k)
        which += fmt::format("{}<a href=\"#job-{}\">{}</a>", k ? ", " : "", gr.jobs[k], html_escape(jobs[gr.jobs[k]].name));
      o += fmt::format("<tr id=\"fp-{}\"><td>{}</td><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>\n",
                       i + 1, i + 1, gr.jobs.size(), html_escape(gr.fingerprint), html_escape(gr.example.ref()), which);
    }
    o += "</table>\n";
  }
  o += fmt::format("<h2>Nodes</h2>\n<p>{}</p>\n", html_escape(blame_intro(fl, jobs.size())));
  if (fl.exclude.empty()) {
    o += "<p>No node fails more often than chance allows.</p>\n";
  } else {
    o += "<table><tr><th class=\"l\">node</th><th>jobs</th><th>failed</th><th>p</th><th>adjusted p</th><th class=\"l\">failed jobs</th></tr>\n";
    for (const auto& s : fl.nodes) {
      if (!s.blamed) break;
      std::string which;
      for (size_t k = 0; k < s.failed_jobs.size(); ++k)
        which += fmt::format("{}<a href=\"#job-{}\">{}</a>", k ? ", " : "", s.failed_jobs[k], html_escape(jobs[s.failed_jobs[k]].name));
      o += fmt::format("<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"wrap\">{}</td></tr>\n",
                       html_escape(s.node), s.jobs, s.failed, pval(s.p_value), pval(s.adjusted), which);
    }
    o += fmt::format("</table>\n<p>For SLURM: <code>--exclude={}</code></p>\n", html_escape(fmt::format("{}", fmt::join(fl.exclude, ","))));
  }
  return o;
}

nlohmann::ordered_json fleet_json(const std::vector<const core::Job*>& jobs, const core::Fleet& fl) {
  using J = nlohmann::ordered_json;
  J f;
  f["jobs"] = jobs.size();
  f["failed"] = fl.failed;
  f["failure_rate"] = fl.failure_rate;
  J groups = J::array();
  for (const auto& g : fl.groups) {
    J names = J::array();
    for (size_t i : g.jobs) names.push_back(utf8_clean(jobs[i]->name));
    groups.push_back({{"fingerprint", utf8_clean(g.fingerprint)},
                      {"id", g.id},
                      {"summary", utf8_clean(g.summary)},
                      {"example", g.example.ref().empty() ? J(nullptr) : core::to_json(g.example)},
                      {"jobs", std::move(names)}});
  }
  f["groups"] = std::move(groups);
  J nodes = J::array();
  for (const auto& s : fl.nodes) {
    J names = J::array();
    for (size_t i : s.failed_jobs) names.push_back(utf8_clean(jobs[i]->name));
    nodes.push_back({{"node", utf8_clean(s.node)}, {"jobs", s.jobs}, {"failed", s.failed}, {"p_value", s.p_value},
                     {"adjusted_p", s.adjusted}, {"blamed", s.blamed}, {"failed_jobs", std::move(names)}});
  }
  f["nodes"] = std::move(nodes);
  f["test"] = kTest;
  f["alpha"] = fl.alpha;
  f["jobs_with_nodes"] = fl.with_nodes;
  J ex = J::array();
  for (const auto& n : fl.exclude) ex.push_back(utf8_clean(n));
  f["exclude"] = std::move(ex);
  f["slurm_exclude"] = fl.exclude.empty() ? J(nullptr) : J(fmt::format("--exclude={}", fmt::join(fl.exclude, ",")));
  return f;
}

}  // namespace alog::render
