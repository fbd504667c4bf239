// The three writers of a comparison: COMPARE.md, the terminal tables and compare.json. Each reads
// only the Model. Every string that came from a report or a path is escaped for its medium
// (md_escape, printable, utf8_clean): a report.json is input, and input is hostile.

#include <fmt/format.h>

#include <algorithm>

#include "analyze_logs/util.hpp"
#include "kinds.hpp"
#include "model.hpp"

namespace alog::compare::detail {
namespace {

using OJ = nlohmann::ordered_json;

size_t input_count(const nlohmann::json& r) {
  return r.contains("inputs") && r["inputs"].is_array() ? r["inputs"].size() : 0;
}

uint64_t event_count(const nlohmann::json& r) {
  uint64_t n = 0;
  if (r.contains("inputs") && r["inputs"].is_array())
    for (const auto& in : r["inputs"])
      if (in.is_object() && in.contains("events") && in["events"].is_number_unsigned())
        n += in["events"].get<uint64_t>();
  return n;
}

std::string run_verdict(const nlohmann::json& r) {
  return r.contains("verdict") && r["verdict"].is_string() ? r["verdict"].get<std::string>() : "";
}

const Run& run(const Model& m, size_t i) {
  return (*m.runs)[i];
}

std::string status_or_dash(const std::string& s) {
  return s.empty() ? "–" : s;
}

std::string status_change(const Cell& c, const Cell& base) {
  if (!c.status_changed) return "";
  return fmt::format("{} → {}", base.status.empty() ? "none" : base.status,
                     c.status.empty() ? "none" : c.status);
}

std::string bad_text(Bad b) {
  return b == Bad::up ? "up is bad" : "neutral";
}

std::string check_cell(const Model& m, const CheckRow& c, size_t i) {
  const auto& r = c.results[i];
  std::string unit = c.stat == "count" ? "" : [&] {
    for (const auto& row : m.metrics)
      if (row.name == c.metric) return row.unit;
    return std::string();
  }();
  std::string actual =
      r.actual ? fmt_value(*r.actual, unit, c.stat == "count") + unit_suffix(unit) : "no samples";
  return fmt::format("{} ({})", r.passed ? "met" : "not met", actual);
}

// ---- terminal -------------------------------------------------------------------------------

// The plain-text table the Ray and srtctl comparisons use too.
using Table = detail::TextTable;

}  // namespace

std::string render_terminal(const Model& m) {
  const size_t n = m.runs->size(), b = m.baseline;
  std::string o;
  o += fmt::format("Comparison of {} runs against {} (baseline, marked *)\n\n", n,
                   printable(run(m, b).label));

  Table runs{{true, false, false, true, true, false}, {}};
  runs.rows.push_back({"#", "run", "kind", "inputs", "events", "source"});
  for (size_t i = 0; i < n; ++i)
    runs.rows.push_back({std::to_string(i + 1), printable(run(m, i).label) + (i == b ? " *" : ""),
                         run(m, i).kind.empty() ? "report" : run(m, i).kind,
                         std::to_string(input_count(run(m, i).report)),
                         std::to_string(event_count(run(m, i).report)),
                         printable(run(m, i).source)});
  o += runs.render("  ");

  o += "\nMetrics: Δ is the change against the baseline";
  if (m.gate)
    o += fmt::format("; ! marks a regression (mean or p99 worse by more than {} %)", *m.gate);
  o += "\n";
  for (const auto& row : m.metrics) {
    o += fmt::format("\n{}{} ({})\n", printable(row.name),
                     row.unit.empty() ? "" : " [" + printable(row.unit) + "]", bad_text(row.bad));
    Table t{{false, true, true, true, true, true, false}, {}};
    t.rows.push_back({"run", "count", "mean", "p50", "p99", "max", "status"});
    const Cell& base = row.cells[b];
    for (size_t i = 0; i < n; ++i) {
      const Cell& c = row.cells[i];
      std::vector<std::string> r{printable(run(m, i).label) + (i == b ? " *" : "")};
      for (size_t k = 0; k < kStats.size(); ++k)
        r.push_back(c.present ? fmt_value(c.v[k], row.unit, k == 0) : "–");
      r.push_back(c.present ? status_or_dash(c.status) : "missing");
      t.rows.push_back(std::move(r));
      if (i == b || !c.present || !c.delta[1]) continue;
      std::vector<std::string> d{"  Δ"}, p{"  Δ %"};
      for (size_t k = 0; k < kStats.size(); ++k) {
        const auto& dk = *c.delta[k];
        std::string mark = dk.regression ? " !" : "";
        d.push_back(fmt_signed(dk.abs, row.unit, k == 0) + mark);
        p.push_back(fmt_pct(dk.pct) + mark);
      }
      d.push_back(status_change(c, base));
      p.push_back("");
      t.rows.push_back(std::move(d));
      t.rows.push_back(std::move(p));
    }
    o += t.render("  ");
  }

  if (!m.missing.empty()) {
    o += "\nMissing metrics (compared only where present)\n";
    for (const auto& mi : m.missing) {
      o += fmt::format("  {}: missing in ", printable(mi.metric));
      for (size_t k = 0; k < mi.absent_in.size(); ++k)
        o += fmt::format("{}{} ({})", k ? ", " : "", printable(run(m, mi.absent_in[k]).label),
                         mi.notes[k]);
      o += "\n";
    }
  }

  o += "\nDiagnoses against the baseline\n";
  bool any_diag = false;
  for (size_t i = 0; i < n; ++i) {
    if (i == b) continue;
    const auto& d = m.diagnoses[i];
    for (const auto& x : d.resolved) {
      o += fmt::format("  {}: resolved {} ({})\n", printable(run(m, i).label), printable(x.id),
                       printable(x.severity));
      any_diag = true;
    }
    for (const auto& x : d.appeared) {
      o += fmt::format("  {}: new {} ({}): {}\n", printable(run(m, i).label), printable(x.id),
                       printable(x.severity), printable(x.summary));
      any_diag = true;
    }
    for (const auto& [x, was] : d.changed) {
      o += fmt::format("  {}: {} {} → {}\n", printable(run(m, i).label), printable(x.id),
                       printable(was), printable(x.severity));
      any_diag = true;
    }
  }
  if (!any_diag) o += "  none appeared or resolved\n";

  if (!m.checks.empty()) {
    o += m.default_criterion
             ? "\nSuccess criterion (seed 002; informational, give --expect to gate)\n"
             : "\nChecks (--expect; the baseline's results do not affect the exit status)\n";
    Table t{{}, {}};
    t.right.assign(n + 1, false);
    std::vector<std::string> head{"check"};
    for (size_t i = 0; i < n; ++i)
      head.push_back(printable(run(m, i).label) + (i == b ? " *" : ""));
    t.rows.push_back(std::move(head));
    for (const auto& c : m.checks) {
      std::vector<std::string> r{printable(c.expr)};
      for (size_t i = 0; i < n; ++i) r.push_back(check_cell(m, c, i));
      t.rows.push_back(std::move(r));
    }
    o += t.render("  ");
  }

  if (m.gate) {
    o += fmt::format("\nRegressions (worse than {} %): {}\n", *m.gate,
                     m.regressions.empty() ? "none" : "");
    for (const auto& h : m.regressions) o += "  " + regression_line(m, h) + "\n";
  }
  o += "\nVerdict: " + printable(m.verdict) + "\n";
  return o;
}

// ---- Markdown -------------------------------------------------------------------------------

std::string render_markdown(const Model& m) {
  const size_t n = m.runs->size(), b = m.baseline;
  auto lbl = [&](size_t i) { return md_escape(run(m, i).label); };
  std::string o;
  o += "# Comparison: ";
  for (size_t i = 0; i < n; ++i) o += (i ? " · " : "") + lbl(i);
  o += "\n\n";
  o += fmt::format("**Verdict:** {}\n\n", md_escape(m.verdict));

  o += "## Runs\n\n| # | run | kind | inputs | events | source | its verdict "
       "|\n|--:|---|---|--:|--:|---|---|\n";
  for (size_t i = 0; i < n; ++i)
    o += fmt::format("| {} | {}{} | {} | {} | {} | {} | {} |\n", i + 1,
                     i == b ? "**" + lbl(i) + "**" : lbl(i), i == b ? " (baseline)" : "",
                     run(m, i).kind.empty() ? "report" : run(m, i).kind,
                     input_count(run(m, i).report), event_count(run(m, i).report),
                     md_escape(run(m, i).source), md_escape(run_verdict(run(m, i).report)));

  o += fmt::format(
      "\n## Metrics\n\nChanges are against the baseline, **{}**: absolute, then percent "
      "(n/a when the baseline is 0). Up is bad for every \\_ms metric, trunc\\_pct and staleness; "
      "gen.inflight is neutral.",
      lbl(b));
  if (m.gate)
    o += fmt::format(
        " A change in **bold** is a regression: the mean or p99 worse by more than {} %.", *m.gate);
  o += "\n";
  for (const auto& row : m.metrics) {
    o += fmt::format("\n### {}{} ({})\n\n", md_escape(row.name),
                     row.unit.empty() ? "" : ", " + md_escape(row.unit), bad_text(row.bad));
    o += "| run | count | mean | p50 | p99 | max | status |\n|---|--:|--:|--:|--:|--:|---|\n";
    const Cell& base = row.cells[b];
    for (size_t i = 0; i < n; ++i) {
      const Cell& c = row.cells[i];
      o += fmt::format("| {}{} |", lbl(i), i == b ? " (baseline)" : "");
      for (size_t k = 0; k < kStats.size(); ++k)
        o += fmt::format(" {} |", c.present ? fmt_value(c.v[k], row.unit, k == 0) : "–");
      o += fmt::format(" {} |\n", c.present ? md_escape(status_or_dash(c.status)) : "missing");
      if (i == b || !c.present || !c.delta[1]) continue;
      o += fmt::format("| ↳ change ({}) |", lbl(i));
      for (size_t k = 0; k < kStats.size(); ++k) {
        const auto& dk = *c.delta[k];
        std::string cell =
            fmt::format("{} ({})", fmt_signed(dk.abs, row.unit, k == 0), fmt_pct(dk.pct));
        o += dk.regression ? fmt::format(" **{}** |", cell) : fmt::format(" {} |", cell);
      }
      o += fmt::format(" {} |\n", md_escape(status_change(c, base)));
    }
  }

  if (!m.missing.empty()) {
    o += "\n## Missing metrics\n\nEach metric is compared only between the runs that have it.\n\n"
         "| metric | missing in | present in |\n|---|---|---|\n";
    for (const auto& mi : m.missing) {
      std::string absent, present;
      for (size_t k = 0; k < mi.absent_in.size(); ++k)
        absent += fmt::format("{}{} ({})", k ? ", " : "", lbl(mi.absent_in[k]), mi.notes[k]);
      for (size_t k = 0; k < mi.present_in.size(); ++k)
        present += (k ? ", " : "") + lbl(mi.present_in[k]);
      o += fmt::format("| {} | {} | {} |\n", md_escape(mi.metric), absent,
                       present.empty() ? "–" : present);
    }
  }

  o += "\n## Diagnoses\n\n";
  std::string rows;
  for (size_t i = 0; i < n; ++i) {
    if (i == b) continue;
    const auto& d = m.diagnoses[i];
    for (const auto& x : d.resolved)
      rows += fmt::format("| {} | resolved | {} | {} | {} |\n", lbl(i), md_escape(x.id),
                          md_escape(x.severity), md_escape(x.summary));
    for (const auto& x : d.appeared)
      rows += fmt::format("| {} | appeared | {} | {} | {} |\n", lbl(i), md_escape(x.id),
                          md_escape(x.severity), md_escape(x.summary));
    for (const auto& [x, was] : d.changed)
      rows +=
          fmt::format("| {} | severity changed | {} | {} → {} | {} |\n", lbl(i), md_escape(x.id),
                      md_escape(was), md_escape(x.severity), md_escape(x.summary));
  }
  if (rows.empty())
    o += "No diagnosis appeared or was resolved against the baseline.\n";
  else
    o += "| run | change | id | severity | summary |\n|---|---|---|---|---|\n" + rows;

  if (!m.checks.empty()) {
    o += m.default_criterion
             ? "\n## Success criterion\n\nSeed 002's criterion (queue\\_ms < 300 ms, read as p99), "
               "for "
               "information: give `--expect` to make a check decide the exit status.\n\n"
             : "\n## Checks\n\n`--expect` on every run; a failure on a run other than the baseline "
               "makes "
               "the exit status 1.\n\n";
    o += "| check |";
    for (size_t i = 0; i < n; ++i) o += fmt::format(" {} |", lbl(i));
    o += "\n|---|";
    for (size_t i = 0; i < n; ++i) o += "---|";
    o += "\n";
    for (const auto& c : m.checks) {
      o += fmt::format("| {} |", md_escape(c.expr));
      for (size_t i = 0; i < n; ++i) o += fmt::format(" {} |", md_escape(check_cell(m, c, i)));
      o += "\n";
    }
  }

  o += "\n## Regressions\n\n";
  if (!m.gate) {
    o += "No gate: `--fail-on-regression PCT` was not given.\n";
  } else if (m.regressions.empty()) {
    o += fmt::format("None: no mean or p99 is worse than the baseline by more than {} %.\n",
                     *m.gate);
  } else {
    for (const auto& h : m.regressions) o += "- " + md_escape(regression_line(m, h)) + "\n";
  }
  return o;
}

// ---- compare.json ---------------------------------------------------------------------------

nlohmann::ordered_json render_json(const Model& m) {
  const size_t n = m.runs->size(), b = m.baseline;
  auto lbl = [&](size_t i) { return utf8_clean(run(m, i).label); };
  OJ j;
  j["schema"] = 1;
  j["kind"] = "comparison";
  j["tool"] = {{"name", "analyze-logs"}, {"version", m.tool_version}};
  j["verdict"] = utf8_clean(m.verdict);
  j["baseline"] = {{"index", b}, {"label", lbl(b)}};
  j["fail_on_regression_pct"] = m.gate ? OJ(*m.gate) : OJ(nullptr);

  OJ runs = OJ::array();
  for (size_t i = 0; i < n; ++i) {
    const auto& r = run(m, i).report;
    OJ inputs = OJ::array();
    if (r.contains("inputs") && r["inputs"].is_array())
      for (const auto& in : r["inputs"])
        if (in.is_object())
          inputs.push_back({{"path", str_member(in, "path")}, {"role", str_member(in, "role")}});
    runs.push_back({{"index", i},
                    {"label", lbl(i)},
                    {"source", utf8_clean(run(m, i).source)},
                    {"kind", run(m, i).kind},
                    {"baseline", i == b},
                    {"verdict", run_verdict(r)},
                    {"inputs", inputs},
                    {"events", event_count(r)}});
  }
  j["runs"] = runs;

  OJ metrics = OJ::object();
  for (const auto& row : m.metrics) {
    OJ per = OJ::array();
    const Cell& base = row.cells[b];
    for (size_t i = 0; i < n; ++i) {
      const Cell& c = row.cells[i];
      OJ x;
      x["run"] = lbl(i);
      x["present"] = c.present;
      for (size_t k = 0; k < kStats.size(); ++k)
        x[kStats[k]] = !c.present ? OJ(nullptr)
                       : k == 0   ? OJ(static_cast<uint64_t>(c.v[k]))
                                  : OJ(c.v[k]);
      x["status"] = c.present && !c.status.empty() ? OJ(c.status) : OJ(nullptr);
      if (i != b && c.present && c.delta[1]) {
        OJ ch = OJ::object();
        for (size_t k = 0; k < kStats.size(); ++k) {
          const auto& dk = *c.delta[k];
          ch[kStats[k]] = {{"abs", k == 0 ? OJ(static_cast<int64_t>(dk.abs)) : OJ(dk.abs)},
                           {"pct", dk.pct ? OJ(*dk.pct) : OJ(nullptr)},
                           {"worse", dk.worse},
                           {"regression", dk.regression}};
        }
        x["change"] = ch;
        x["status_change"] = c.status_changed
                                 ? OJ{{"from", base.status.empty() ? OJ(nullptr) : OJ(base.status)},
                                      {"to", c.status.empty() ? OJ(nullptr) : OJ(c.status)}}
                                 : OJ(nullptr);
      } else {
        x["change"] = nullptr;
        x["status_change"] = nullptr;
      }
      per.push_back(std::move(x));
    }
    metrics[row.name] = {
        {"unit", row.unit}, {"bad_direction", row.bad == Bad::up ? "up" : "none"}, {"runs", per}};
  }
  j["metrics"] = metrics;

  OJ missing = OJ::array();
  for (const auto& mi : m.missing) {
    OJ absent = OJ::array(), present = OJ::array();
    for (size_t k = 0; k < mi.absent_in.size(); ++k)
      absent.push_back({{"run", lbl(mi.absent_in[k])}, {"why", mi.notes[k]}});
    for (size_t i : mi.present_in) present.push_back(lbl(i));
    missing.push_back({{"metric", mi.metric}, {"missing_in", absent}, {"present_in", present}});
  }
  j["missing"] = missing;

  OJ diags = OJ::array();
  auto ref = [](const DiagRef& d) {
    return OJ{{"id", d.id}, {"severity", d.severity}, {"summary", d.summary}};
  };
  for (size_t i = 0; i < n; ++i) {
    if (i == b) continue;
    const auto& d = m.diagnoses[i];
    OJ ap = OJ::array(), re = OJ::array(), chg = OJ::array();
    for (const auto& x : d.appeared) ap.push_back(ref(x));
    for (const auto& x : d.resolved) re.push_back(ref(x));
    for (const auto& [x, was] : d.changed)
      chg.push_back({{"id", x.id}, {"from", was}, {"to", x.severity}});
    diags.push_back({{"run", lbl(i)}, {"appeared", ap}, {"resolved", re}, {"changed", chg}});
  }
  j["diagnoses"] = diags;

  OJ checks = OJ::array();
  for (const auto& c : m.checks) {
    OJ res = OJ::array();
    for (size_t i = 0; i < n; ++i) {
      const auto& r = c.results[i];
      res.push_back({{"run", lbl(i)},
                     {"passed", r.passed},
                     {"actual", r.actual ? OJ(*r.actual) : OJ(nullptr)},
                     {"message", utf8_clean(r.message)}});
    }
    checks.push_back({{"expr", utf8_clean(c.expr)},
                      {"source", m.default_criterion ? "seed 002 success criterion" : "--expect"},
                      {"results", res}});
  }
  j["checks"] = checks;
  j["checks_failed"] = m.checks_failed;

  OJ regs = OJ::array();
  for (const auto& h : m.regressions)
    regs.push_back({{"run", lbl(h.run)},
                    {"metric", h.metric},
                    {"stat", h.stat},
                    {"baseline", h.base},
                    {"value", h.value},
                    {"pct", h.pct}});
  j["regressions"] = regs;
  j["regressed"] = !m.regressions.empty();
  return j;
}

}  // namespace alog::compare::detail
