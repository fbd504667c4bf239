// The Ray job's Body: the run's own detail below the shared header, in the four media. The
// terminal view is the phase table, the last training step, which ranks did and did not report a
// collective timeout, and the actors that are not ok; SUMMARY.md and report.html add the full
// actor table, the inputs and the ignored lines.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "analyze_logs/ray.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::ray {

namespace {

using namespace detail;

// "0-3, 5, 7-8": ranks are often a long run of consecutive numbers.
std::string ranks_text(std::vector<int> v) {
  if (v.empty()) return "none";
  std::sort(v.begin(), v.end());
  std::vector<std::string> parts;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    parts.push_back(j == i ? std::to_string(v[i]) : fmt::format("{}-{}", v[i], v[j]));
    i = j + 1;
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string duration_cell(const Phase& p) {
  if (!p.duration_s) return "";
  std::string d = human_duration(*p.duration_s);
  if (p.ongoing) d += " so far";
  return d;
}

std::string training_text(const Progress& g) {
  std::string s = fmt::format("{}/{} ({} %)", g.n, g.total, g.percent);
  if (!g.elapsed.empty()) s += ", elapsed " + g.elapsed;
  if (!g.remaining.empty()) s += ", remaining " + g.remaining;
  if (!g.rate.empty()) s += ", " + g.rate;
  for (const auto& [k, v] : g.postfix) s += fmt::format(", {}={}", k, v);
  return s;
}

std::string actor_name(const Actor& a) {
  std::string s = a.name.empty() ? std::string("pid") : a.name;
  s += fmt::format(" pid {}", a.pid);
  if (a.rank >= 0) s += fmt::format(" rank {}", a.rank);
  if (!a.ip.empty()) s += " (" + a.ip + ")";
  return s;
}

std::string collective_head(const CollectiveTimeout& c) {
  return fmt::format("{} seq {}{}{}", c.op, c.seq >= 0 ? std::to_string(c.seq) : "?",
                     c.timeout_ms >= 0 ? fmt::format(", timeout {} ms", c.timeout_ms) : std::string(),
                     c.time.empty() ? std::string() : " at " + c.time);
}

class RayBody final : public core::Body {
 public:
  explicit RayBody(RayReport r) : r_(std::move(r)) {}

  std::string text(const core::TextOptions& opt) const override {
    const size_t w = opt.width;
    std::string o;
    auto para = [&](const std::string& s, std::string_view first = "", std::string_view rest = "  ") {
      for (const auto& l : render::wrap(s, w, first, rest)) o += l + "\n";
    };
    o += "Phases:\n";
    render::TextTable t{{"#", "phase", "started", "duration", "typical", "status"},
                        {true, false, false, true, false, false},
                        {}};
    for (const auto& p : r_.phases) {
      std::string status = phase_status(r_, p, false);
      bool bad = status == "failed here" || status == "stuck";
      if (p.over_expected && !bad) status += " (over typical)";
      t.rows.push_back({std::to_string(p.number), printable(p.name),
                        printable(hhmmss(p.start)) + (p.start_approx && !p.start.empty() ? "~" : ""),
                        duration_cell(p), printable(p.expected),
                        bad ? render::paint(status, render::Tone::critical, opt.color)
                        : p.over_expected ? render::paint(status, render::Tone::warning, opt.color)
                                          : status});
    }
    o += render::text_table(t, w);
    if (r_.training) para(printable(training_text(*r_.training)), "Training: ");
    else if (const Phase& p5 = r_.phase(5); p5.progress)
      para(printable(fmt::format("{}: {} % ({}/{})", p5.progress->desc, p5.progress->percent, p5.progress->n,
                                 p5.progress->total)),
           "Shard loading: ");
    if (r_.last_output_at.size())
      para(fmt::format("Last output {}{}", printable(r_.last_output_at),
                       r_.silence_s ? fmt::format(", {} before the end of the input ({})", human_duration(*r_.silence_s),
                                                  printable(r_.end_source))
                                    : std::string()));

    if (r_.collective) {
      const CollectiveTimeout& c = *r_.collective;
      para(printable(collective_head(c)) + (c.per_worker ? "" : " (ranks from the driver log)"),
           "Collective timeout: ");
      o += render::fit(fmt::format("  reported: {}", ranks_text(c.reported_ranks)), w) + "\n";
      o += render::fit(fmt::format("  silent:   {}  (a worker file but no timeout line: likely stragglers)",
                                   ranks_text(c.silent_ranks)),
                       w) +
           "\n";
      o += render::fit(fmt::format("  unseen:   {}  (no worker file among the inputs)", ranks_text(c.unseen_ranks)),
                       w) +
           "\n";
    }

    if (!r_.actors.empty()) {
      std::map<std::string, size_t> by_status;
      std::vector<const Actor*> bad;
      for (const auto& a : r_.actors) {
        ++by_status[a.status];
        if (a.status != "ok") bad.push_back(&a);
      }
      std::vector<std::string> counts;
      for (const auto& [s, n] : by_status) counts.push_back(fmt::format("{} {}", n, s));
      o += render::fit(fmt::format("Actors: {} ({})", r_.actors.size(), fmt::join(counts, ", ")), w) + "\n";
      constexpr size_t kShown = 8;
      for (size_t i = 0; i < bad.size() && i < kShown; ++i) {
        const Actor& a = *bad[i];
        o += render::fit(fmt::format("  {}: {}{}", printable(actor_name(a)),
                                     render::paint(a.status, a.status == "died" || a.status == "error"
                                                                 ? render::Tone::critical
                                                                 : render::Tone::warning,
                                                   opt.color),
                                     a.last_time.empty() ? "" : ", last line " + printable(a.last_time)),
                         w) +
             "\n";
      }
      if (bad.size() > kShown) o += fmt::format("  … {} more in SUMMARY.md\n", bad.size() - kShown);
    }
    if (!r_.notes.empty()) {
      o += "Notes:\n";
      for (const auto& n : r_.notes) para(printable(n), "  - ", "    ");
    }
    if (!r_.problems.empty()) {
      o += fmt::format("Problems reading the inputs ({}):\n", r_.problems.size());
      for (size_t i = 0; i < r_.problems.size() && i < 5; ++i)
        o += render::fit(fmt::format("  {}{}", r_.problems[i].file.empty() ? "" : printable(r_.problems[i].file) + ": ",
                                     printable(r_.problems[i].message)),
                         w) +
             "\n";
      if (r_.problems.size() > 5) o += fmt::format("  … {} more in SUMMARY.md\n", r_.problems.size() - 5);
    }
    return o;
  }

  std::string markdown() const override { return markdown_sections(r_, false); }

  std::string html() const override {
    auto e = [](std::string_view s) { return html_escape(s); };
    std::string o = "<h2>Run</h2>\n<ul>\n";
    if (!r_.driver_logs.empty())
      o += fmt::format("<li>Driver log: <code>{}</code> ({} lines)</li>\n", e(fmt::format("{}", fmt::join(r_.driver_logs, ", "))),
                       r_.driver_lines);
    if (!r_.session_dirs.empty())
      o += fmt::format("<li>Ray session logs: <code>{}</code> ({} worker files)</li>\n",
                       e(fmt::format("{}", fmt::join(r_.session_dirs, ", "))), r_.worker_files);
    if (!r_.started_at.empty()) o += "<li>First line: " + e(r_.started_at) + "</li>\n";
    if (!r_.last_output_at.empty())
      o += fmt::format("<li>Last output: {}{}</li>\n", e(r_.last_output_at),
                       r_.silence_s ? " (" + e(human_duration(*r_.silence_s)) + " before the end of the input)" : "");
    if (!r_.end_at.empty()) o += fmt::format("<li>End of the input: {} ({})</li>\n", e(r_.end_at), e(r_.end_source));
    o += "</ul>\n";

    o += "<h2>Phases</h2>\n<div class=\"scroll\"><table><tr><th>#</th><th class=\"l\">phase</th><th "
         "class=\"l\">started</th><th>duration</th><th class=\"l\">typical</th><th class=\"l\">progress</th><th "
         "class=\"l\">status</th><th class=\"l\">first marker</th></tr>\n";
    for (const auto& p : r_.phases) {
      std::string status = phase_status(r_, p, false);
      std::string cls = status == "failed here" || status == "stuck" ? " s-critical"
                        : p.over_expected                            ? " s-warning"
                        : status == "done"                           ? " s-good"
                                                                     : "";
      std::string prog;
      if (p.progress) prog = fmt::format("{} % ({}/{})", p.progress->percent, p.progress->n, p.progress->total);
      o += fmt::format(
          "<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}{}</td><td class=\"{}\">{}</td><td "
          "class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l{}\">{}</td><td class=\"l\"><code>{}</code></td></tr>\n",
          p.number, e(p.name), e(hhmmss(p.start)), p.start_approx && !p.start.empty() ? " (approx.)" : "",
          p.over_expected ? "s-warning" : "", e(duration_cell(p)), e(p.expected), e(prog), cls, e(status),
          p.reached ? e(p.first.ref()) : "");
    }
    o += "</table></div>\n";
    if (r_.training) o += "<p><b>Last training step:</b> " + e(training_text(*r_.training)) + "</p>\n";
    if (!r_.notes.empty()) {
      o += "<ul>\n";
      for (const auto& n : r_.notes) o += "<li>" + e(n) + "</li>\n";
      o += "</ul>\n";
    }
    if (r_.collective) {
      const CollectiveTimeout& c = *r_.collective;
      o += fmt::format("<h2>Collective timeout</h2>\n<p>{}, ranks from {}{}:</p>\n<table class=\"kv\">\n", e(collective_head(c)),
                       c.per_worker ? "the per-worker files" : "the driver log",
                       c.world_size >= 0 ? fmt::format(" (world size {})", c.world_size) : "");
      o += fmt::format("<tr><th class=\"l\">reported the timeout</th><td class=\"wrap\">{}</td></tr>\n",
                       e(ranks_text(c.reported_ranks)));
      o += fmt::format(
          "<tr><th class=\"l\">silent (likely stragglers)</th><td class=\"wrap s-critical\">{}</td></tr>\n",
          e(ranks_text(c.silent_ranks)));
      o += fmt::format("<tr><th class=\"l\">unseen (no worker file)</th><td class=\"wrap\">{}</td></tr>\n",
                       e(ranks_text(c.unseen_ranks)));
      o += "</table>\n";
    }
    if (!r_.actors.empty()) {
      o += "<h2>Actors</h2>\n<div class=\"scroll\"><table><tr><th>actor</th><th>rank</th><th>pid</th><th "
           "class=\"l\">ip</th><th class=\"l\">worker file</th><th class=\"l\">last line</th><th "
           "class=\"l\">status</th></tr>\n";
      for (const auto& a : r_.actors) {
        std::string cls = a.status == "ok" ? "s-good" : a.status == "died" || a.status == "error" ? "s-critical" : "s-warning";
        o += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"wrap\">{}</td><td "
            "class=\"l\">{}</td><td class=\"l {}\">{}</td></tr>\n",
            e(a.name.empty() ? "-" : a.name), a.rank >= 0 ? std::to_string(a.rank) : "-", a.pid,
            a.ip.empty() ? "driver node" : e(a.ip), e(a.worker_file.empty() ? "-" : a.worker_file),
            e(a.last_time.empty() ? "-" : a.last_time), cls, e(a.status));
      }
      o += "</table></div>\n";
    }
    if (r_.benign_lines || !r_.ignored.empty()) {
      o += "<h2>Ignored</h2>\n<ul>\n";
      if (r_.benign_lines)
        o += fmt::format(
            "<li>{} × Failed to establish connection to the metrics exporter agent: a harmless Ray metrics "
            "warning{}</li>\n",
            r_.benign_lines,
            r_.benign_first ? " (first at <code>" + e(r_.benign_first->ref()) + "</code>)" : std::string());
      for (const auto& s : r_.ignored) o += "<li>Older run or session not analysed: " + e(s) + "</li>\n";
      o += "</ul>\n";
    }
    if (!r_.problems.empty()) {
      o += "<h2>Problems</h2>\n<ul>\n";
      for (const auto& p : r_.problems)
        o += fmt::format("<li>{}{}</li>\n", p.file.empty() ? "" : "<code>" + e(p.file) + "</code>: ", e(p.message));
      o += "</ul>\n";
    }
    return o;
  }

  void json(nlohmann::ordered_json& out) const override { out = to_json(r_); }

 private:
  RayReport r_;
};

}  // namespace

std::unique_ptr<core::Body> make_body(RayReport r) {
  return std::make_unique<RayBody>(std::move(r));
}

}  // namespace alog::ray
