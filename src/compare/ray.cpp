// `compare` over Ray (TorchSpec) runs: verdict, phase reached, per-phase durations against the
// baseline, training progress and the root cause, side by side. Like the prime-rl comparison it
// reads only the `ray` value of report.json (a run given as logs is analysed into that value
// first), so an analysis folder written by an older build compares with logs analysed now.

#include "analyze_logs/ray.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "analyze_logs/util.hpp"
#include "kinds.hpp"

namespace fs = std::filesystem;

namespace alog::compare {
namespace {

using json = nlohmann::json;
// Phase durations are whole seconds between log stamps: a phase of seconds moves by 100 % on a
// one-second jitter, so the gate also needs the phase to be this much longer.
constexpr int64_t kMinPhaseRegressionS = 10;
using ojson = nlohmann::ordered_json;
using detail::clip_text;
using detail::text_width;
using detail::TextTable;

std::string jstr(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> jint(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

bool jbool(const json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

struct PhaseCell {
  bool reached = false, done = false, ongoing = false, over_expected = false;
  std::optional<int64_t> duration_s;
  // Against the baseline (non-baseline runs with a duration in both).
  std::optional<int64_t> delta_s;
  std::optional<double> pct;  // nullopt: the baseline's duration is 0
  bool gated = false;         // done in both runs: the duration is the phase's, not the input's
  bool regression = false;
};

struct PhaseRow {
  int number = 0;
  std::string name, expected;
  std::vector<PhaseCell> cells;  // one per run
};

struct Training {
  int64_t n = 0, total = 0;
  int64_t percent = 0;
  std::string elapsed, rate, loss;
};

struct RunView {
  std::string verdict, headline, phase_name;
  int64_t phase_reached = 0;
  std::optional<Training> training;
  std::string cause_kind, cause_title;
  bool verdict_worse = false;  // healthy (finished/running) in the baseline, stuck/failed here
};

struct Hit {
  size_t run = 0;
  int phase = 0;  // 0: the verdict
  std::string message;
  int64_t base = 0, value = 0;
  std::optional<double> pct;
};

struct Model {
  const std::vector<Run>* runs = nullptr;
  size_t baseline = 0;
  std::optional<double> gate;
  std::vector<RunView> views;
  std::vector<PhaseRow> phases;
  std::vector<Hit> hits;  // regressions (only with a gate)
  std::string verdict;
};

bool healthy(const std::string& v) {
  return v == "finished" || v == "running";
}
bool bad(const std::string& v) {
  return v == "stuck" || v == "failed";
}

RunView view_of(const json& r) {
  RunView v;
  v.verdict = jstr(r, "verdict");
  if (v.verdict.empty()) v.verdict = "unknown";
  v.headline = jstr(r, "headline");
  v.phase_reached = jint(r, "phase_reached").value_or(0);
  v.phase_name = jstr(r, "phase_reached_name");
  if (auto t = r.find("training"); t != r.end() && t->is_object()) {
    Training g;
    g.n = jint(*t, "n").value_or(0);
    g.total = jint(*t, "total").value_or(0);
    g.percent = jint(*t, "percent").value_or(0);
    g.elapsed = jstr(*t, "elapsed");
    g.rate = jstr(*t, "rate");
    if (auto p = t->find("postfix"); p != t->end()) g.loss = jstr(*p, "loss");
    v.training = g;
  }
  // The root cause; a report without one flagged still names its first fatal finding.
  const json* cause = nullptr;
  if (auto f = r.find("findings"); f != r.end() && f->is_array()) {
    for (const auto& x : *f)
      if (jbool(x, "root_cause")) {
        cause = &x;
        break;
      }
    if (!cause)
      for (const auto& x : *f)
        if (jstr(x, "severity") == "fatal") {
          cause = &x;
          break;
        }
  }
  if (cause) {
    v.cause_kind = jstr(*cause, "kind");
    v.cause_title = jstr(*cause, "title");
  }
  return v;
}

// "45s", "14m05s", "2h05m": compact, for the terminal's narrow cells.
std::string short_dur(int64_t s) {
  int64_t a = s < 0 ? -s : s;
  std::string t = a < 60     ? fmt::format("{}s", a)
                  : a < 3600 ? fmt::format("{}m{:02}s", a / 60, a % 60)
                             : fmt::format("{}h{:02}m", a / 3600, (a % 3600) / 60);
  return fmt::format("{}{}", s < 0 ? "−" : "", t);
}

std::string signed_dur(int64_t s) {
  return s == 0 ? "±0s" : fmt::format("{}{}", s > 0 ? "+" : "", short_dur(s));
}

std::string long_dur(int64_t s) {
  return fmt::format("{}{}", s < 0 ? "−" : "", ray::human_duration(s < 0 ? -s : s));
}

std::string pct_text(const std::optional<double>& p) {
  if (!p) return "n/a";
  std::string s = fixed(*p, 1);
  if (*p < 0 && s.starts_with("-")) return fmt::format("−{} %", s.substr(1));
  return fmt::format("{}{} %", s == "0.0" ? "" : "+", s);
}

Model build(const std::vector<Run>& runs, const Options& opt) {
  Model m;
  m.runs = &runs;
  m.baseline = opt.baseline;
  m.gate = opt.fail_on_regression_pct;
  for (const auto& r : runs) m.views.push_back(view_of(r.report));
  // The phase table: numbers and names from whichever run has them (every report has seven).
  for (int n = 1; n <= 7; ++n) {
    PhaseRow row;
    row.number = n;
    for (const auto& r : runs) {
      PhaseCell c;
      if (auto ps = r.report.find("phases"); ps != r.report.end() && ps->is_array())
        for (const auto& p : *ps)
          if (jint(p, "number") == n) {
            if (row.name.empty()) row.name = jstr(p, "name");
            if (row.expected.empty()) row.expected = jstr(p, "expected");
            c.reached = jbool(p, "reached");
            c.done = jbool(p, "done");
            c.ongoing = jbool(p, "ongoing");
            c.over_expected = jbool(p, "over_expected");
            c.duration_s = jint(p, "duration_s");
          }
      row.cells.push_back(c);
    }
    if (row.name.empty()) row.name = fmt::format("phase {}", n);
    const PhaseCell& b = row.cells[opt.baseline];
    for (size_t i = 0; i < runs.size(); ++i) {
      PhaseCell& c = row.cells[i];
      if (i == opt.baseline || !b.duration_s || !c.duration_s) continue;
      c.delta_s = *c.duration_s - *b.duration_s;
      if (*b.duration_s > 0)
        c.pct = static_cast<double>(*c.delta_s) / static_cast<double>(*b.duration_s) * 100.0;
      c.gated = b.done && !b.ongoing && c.done && !c.ongoing;
      if (m.gate && c.gated && c.pct && *c.pct > *m.gate && *c.delta_s >= kMinPhaseRegressionS) {
        c.regression = true;
        m.hits.push_back(
            {i, n,
             fmt::format("{}: phase {} ({}) {} vs {} in {} ({}, limit {} %)", runs[i].label, n,
                         row.name, long_dur(*c.duration_s), long_dur(*b.duration_s),
                         runs[opt.baseline].label, pct_text(c.pct), fixed(*m.gate, 1)),
             *b.duration_s, *c.duration_s, c.pct});
      }
    }
    m.phases.push_back(std::move(row));
  }
  const RunView& bv = m.views[opt.baseline];
  for (size_t i = 0; i < runs.size(); ++i) {
    RunView& v = m.views[i];
    if (i == opt.baseline) continue;
    v.verdict_worse = healthy(bv.verdict) && bad(v.verdict);
    if (m.gate && v.verdict_worse)
      m.hits.push_back({i, 0,
                        fmt::format("{}: verdict {} → {}{}", runs[i].label, bv.verdict, v.verdict,
                                    v.cause_kind.empty() ? "" : " (" + v.cause_kind + ")"),
                        0, 0, std::nullopt});
  }
  std::stable_sort(m.hits.begin(), m.hits.end(), [](const Hit& a, const Hit& b) {
    return std::pair(a.run, a.phase != 0) < std::pair(b.run, b.phase != 0);
  });

  // Verdict line: the verdict change per run, the largest phase change, the gate.
  std::vector<std::string> parts;
  std::vector<std::string> per_run;
  bool many = runs.size() > 2;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i == opt.baseline) continue;
    const RunView& v = m.views[i];
    std::string s = many ? runs[i].label + ": " : "";
    s += v.verdict == bv.verdict ? v.verdict + " (as baseline)"
                                 : fmt::format("{} → {}", bv.verdict, v.verdict);
    if (!v.cause_kind.empty() && v.cause_kind != bv.cause_kind) s += " (" + v.cause_kind + ")";
    per_run.push_back(s);
  }
  parts.push_back(fmt::format("{}", fmt::join(per_run, ", ")));
  const PhaseRow* best_row = nullptr;
  size_t best_run = 0;
  for (const auto& row : m.phases)
    for (size_t i = 0; i < runs.size(); ++i) {
      const PhaseCell& c = row.cells[i];
      if (!c.gated || !c.pct || *c.delta_s == 0) continue;
      if (!best_row || std::llabs(*c.delta_s) > std::llabs(*best_row->cells[best_run].delta_s)) {
        best_row = &row;
        best_run = i;
      }
    }
  if (best_row) {
    const PhaseCell& c = best_row->cells[best_run];
    parts.push_back(fmt::format("phase {} ({}) {} → {}{} ({})", best_row->number, best_row->name,
                                long_dur(*best_row->cells[opt.baseline].duration_s),
                                long_dur(*c.duration_s), many ? " in " + runs[best_run].label : "",
                                pct_text(c.pct)));
  }
  if (m.gate) {
    if (m.hits.empty())
      parts.push_back(fmt::format("no regression over {} %", fixed(*m.gate, 1)));
    else
      parts.push_back(fmt::format("{} regression(s) over {} %", m.hits.size(), fixed(*m.gate, 1)));
  }
  m.verdict = printable(fmt::format("{}", fmt::join(parts, "; ")));
  return m;
}

std::string progress_text(const std::optional<Training>& t) {
  if (!t) return "–";
  return fmt::format("{}/{} ({} %)", t->n, t->total, t->percent);
}

std::string duration_cell(const PhaseCell& c) {
  if (!c.reached) return "–";
  if (!c.duration_s) return "?";
  std::string s = short_dur(*c.duration_s);
  if (c.ongoing) s += "…";
  if (c.over_expected) s += "^";
  return s;
}

std::string render_terminal(const Model& m) {
  const auto& runs = *m.runs;
  std::string o =
      clip_text(fmt::format("Ray runs against {} (baseline, *)", printable(runs[m.baseline].label)),
                100) +
      "\n\n";
  TextTable t;
  t.right = {false, false, false, true, false};
  t.rows.push_back({"  run", "verdict", "phase reached", "training", "root cause"});
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunView& v = m.views[i];
    std::string phase =
        v.phase_reached
            ? clip_text(fmt::format("{} {}", v.phase_reached, printable(v.phase_name)), 22)
            : "none";
    t.rows.push_back({(i == m.baseline ? "* " : "  ") + clip_text(printable(runs[i].label), 20),
                      v.verdict + (v.verdict_worse ? "!" : ""), phase, progress_text(v.training),
                      v.cause_kind.empty() ? "–" : clip_text(printable(v.cause_kind), 14)});
  }
  o += t.render("");

  o += "\nPhase durations (… still running at the end of the input, ^ over the expected time):\n";
  TextTable p;
  p.right = {false, true, true, true, true, true, true, true};
  std::vector<std::string> head = {"  run"};
  for (const auto& row : m.phases) head.push_back(fmt::format("P{}", row.number));
  p.rows.push_back(head);
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<std::string> cells = {(i == m.baseline ? "* " : "  ") +
                                      clip_text(printable(runs[i].label), 20)};
    for (const auto& row : m.phases) cells.push_back(duration_cell(row.cells[i]));
    p.rows.push_back(cells);
    if (i == m.baseline) continue;
    std::vector<std::string> delta = {"    Δ"}, dpct = {"    Δ %"};
    bool any = false;
    for (const auto& row : m.phases) {
      const PhaseCell& c = row.cells[i];
      delta.push_back(c.delta_s ? signed_dur(*c.delta_s) + (c.regression ? "!" : "") : "");
      std::string pc = c.delta_s ? pct_text(c.pct) : "";
      if (pc.ends_with(" %")) pc.resize(pc.size() - 2);
      dpct.push_back(pc);
      any |= c.delta_s.has_value();
    }
    if (any) {
      p.rows.push_back(delta);
      p.rows.push_back(dpct);
    }
  }
  o += p.render("");
  std::string legend;
  std::string line = " ";
  for (const auto& row : m.phases) {
    std::string item = fmt::format(" P{} {}", row.number, printable(row.name));
    if (text_width(line) + text_width(item) + 1 > 100) {
      legend += line + "\n";
      line = " ";
    }
    line += item + (row.number < 7 ? ";" : "");
  }
  o += legend + line + "\n";

  bool any_detail = false;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunView& v = m.views[i];
    std::vector<std::string> bits;
    if (v.training) {
      if (!v.training->elapsed.empty()) bits.push_back("elapsed " + printable(v.training->elapsed));
      if (!v.training->rate.empty()) bits.push_back(printable(v.training->rate));
      if (!v.training->loss.empty()) bits.push_back("loss " + printable(v.training->loss));
    }
    if (!v.cause_title.empty()) bits.push_back(printable(v.cause_title));
    if (bits.empty()) continue;
    if (!any_detail) o += "\n";
    any_detail = true;
    o += clip_text(fmt::format("  {}: {}", printable(runs[i].label), fmt::join(bits, "; ")), 100) +
         "\n";
  }
  if (!m.hits.empty()) {
    o += fmt::format("\nRegressions over {} %:\n", fixed(*m.gate, 1));
    for (const auto& h : m.hits) o += clip_text("  " + printable(h.message), 100) + "\n";
  }
  o += "\n" + clip_text(m.verdict, 100) + "\n";
  return o;
}

std::string render_markdown(const Model& m) {
  const auto& runs = *m.runs;
  auto e = [](const std::string& s) { return md_escape(s); };
  std::string o =
      fmt::format("# Comparison of {} Ray runs\n\n**Verdict:** {}\n\n", runs.size(), e(m.verdict));
  o += fmt::format("Baseline: {}.", e(runs[m.baseline].label));
  o += m.gate ? fmt::format(
                    " Gate: a phase done in both runs longer by more than {} % and by at "
                    "least {} s, or a verdict that went from finished/running to "
                    "stuck/failed.\n\n",
                    fixed(*m.gate, 1), kMinPhaseRegressionS)
              : " No gate (`--fail-on-regression`): nothing is a regression.\n\n";
  o += "## Runs\n\n| Run | Source | Verdict | Headline | Phase reached | Root cause |\n"
       "|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunView& v = m.views[i];
    o += fmt::format(
        "| {}{} | {} | {}{} | {} | {} | {} |\n", e(runs[i].label),
        i == m.baseline ? " (baseline)" : "", e(runs[i].source), e(v.verdict),
        v.verdict_worse ? " (worse)" : "", v.headline.empty() ? "–" : e(v.headline),
        v.phase_reached ? fmt::format("{} {}", v.phase_reached, e(v.phase_name)) : "none",
        v.cause_kind.empty() ? "–" : fmt::format("{}: {}", e(v.cause_kind), e(v.cause_title)));
  }
  o += "\n## Phase durations\n\n| Phase | Expected |";
  for (const auto& r : runs) o += " " + e(r.label) + " |";
  o += "\n|---|---|";
  for (size_t i = 0; i < runs.size(); ++i) o += "---:|";
  o += "\n";
  for (const auto& row : m.phases) {
    o += fmt::format("| {} {} | {} |", row.number, e(row.name), e(row.expected));
    for (size_t i = 0; i < runs.size(); ++i) {
      const PhaseCell& c = row.cells[i];
      std::string s = !c.reached     ? "not reached"
                      : c.duration_s ? ray::human_duration(*c.duration_s)
                                     : "?";
      if (c.ongoing) s += " (running at end)";
      if (c.over_expected) s += " (over expected)";
      if (c.delta_s) {
        std::string d = fmt::format("{}{}, {}", *c.delta_s >= 0 ? "+" : "", long_dur(*c.delta_s),
                                    pct_text(c.pct));
        s += c.regression ? fmt::format("<br>**{}**", d) : fmt::format("<br>{}", d);
      }
      o += " " + s + " |";
    }
    o += "\n";
  }
  o += "\nA change is gated only when the phase is done in both runs; a phase still running at the "
       "end of the input is measured up to that end.\n";
  o += "\n## Training progress\n\n| Run | Steps | Percent | Elapsed | Rate | Loss |\n"
       "|---|---:|---:|---|---|---|\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& t = m.views[i].training;
    if (!t) {
      o += fmt::format("| {} | – | – | – | – | – |\n", e(runs[i].label));
      continue;
    }
    auto dash = [&](const std::string& s) { return s.empty() ? std::string("–") : e(s); };
    o += fmt::format("| {} | {}/{} | {} % | {} | {} | {} |\n", e(runs[i].label), t->n, t->total,
                     t->percent, dash(t->elapsed), dash(t->rate), dash(t->loss));
  }
  if (!m.hits.empty()) {
    o += fmt::format("\n## Regressions over {} %\n\n", fixed(*m.gate, 1));
    for (const auto& h : m.hits) o += "- " + e(h.message) + "\n";
  }
  return o;
}

ojson opt_int(const std::optional<int64_t>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}

ojson render_json(const Model& m, const Options& opt) {
  const auto& runs = *m.runs;
  auto u = [](const std::string& s) { return utf8_clean(s); };
  ojson j = {{"schema", 1}, {"kind", "comparison"}, {"family", "ray"}};
  j["verdict"] = u(m.verdict);
  j["baseline"] = {{"index", m.baseline}, {"label", u(runs[m.baseline].label)}};
  j["fail_on_regression_pct"] =
      opt.fail_on_regression_pct ? ojson(*opt.fail_on_regression_pct) : ojson(nullptr);
  ojson rs = ojson::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunView& v = m.views[i];
    ojson x;
    x["index"] = i;
    x["label"] = u(runs[i].label);
    x["source"] = u(runs[i].source);
    x["form"] = u(runs[i].kind);
    x["baseline"] = i == m.baseline;
    x["verdict"] = u(v.verdict);
    x["verdict_worse"] = v.verdict_worse;
    x["headline"] = u(v.headline);
    x["phase_reached"] = v.phase_reached;
    x["phase_reached_name"] = v.phase_reached ? ojson(u(v.phase_name)) : ojson(nullptr);
    if (v.training)
      x["training"] = {
          {"n", v.training->n},
          {"total", v.training->total},
          {"percent", v.training->percent},
          {"elapsed", u(v.training->elapsed)},
          {"rate", u(v.training->rate)},
          {"loss", v.training->loss.empty() ? ojson(nullptr) : ojson(u(v.training->loss))}};
    else
      x["training"] = nullptr;
    x["root_cause"] = v.cause_kind.empty()
                          ? ojson(nullptr)
                          : ojson({{"kind", u(v.cause_kind)}, {"title", u(v.cause_title)}});
    rs.push_back(std::move(x));
  }
  j["runs"] = std::move(rs);
  ojson ps = ojson::array();
  for (const auto& row : m.phases) {
    ojson x = {{"number", row.number}, {"name", u(row.name)}, {"expected", u(row.expected)}};
    ojson cells = ojson::array();
    for (size_t i = 0; i < runs.size(); ++i) {
      const PhaseCell& c = row.cells[i];
      ojson y = {{"run", u(runs[i].label)},
                 {"reached", c.reached},
                 {"done", c.done},
                 {"ongoing", c.ongoing},
                 {"over_expected", c.over_expected},
                 {"duration_s", opt_int(c.duration_s)}};
      y["change"] = c.delta_s ? ojson({{"abs_s", *c.delta_s},
                                       {"pct", c.pct ? ojson(*c.pct) : ojson(nullptr)},
                                       {"gated", c.gated},
                                       {"regression", c.regression}})
                              : ojson(nullptr);
      cells.push_back(std::move(y));
    }
    x["runs"] = std::move(cells);
    ps.push_back(std::move(x));
  }
  j["phases"] = std::move(ps);
  ojson hs = ojson::array();
  for (const auto& h : m.hits) {
    ojson x = {{"run", u(runs[h.run].label)}, {"what", h.phase ? "phase_duration" : "verdict"}};
    if (h.phase) {
      x["phase"] = h.phase;
      x["baseline_s"] = h.base;
      x["value_s"] = h.value;
      x["pct"] = h.pct ? ojson(*h.pct) : ojson(nullptr);
    } else {
      x["from"] = u(m.views[m.baseline].verdict);
      x["to"] = u(m.views[h.run].verdict);
    }
    x["message"] = u(h.message);
    hs.push_back(std::move(x));
  }
  j["regressions"] = std::move(hs);
  j["regressed"] = !m.hits.empty();
  return j;
}

}  // namespace

Result compare_ray_runs(const std::vector<Run>& runs, const Options& opt) {
  detail::check_runs_and_gate(runs.size(), opt);
  if (!opt.expect.empty())
    throw std::invalid_argument("--expect applies to prime-rl runs, not to Ray runs");
  Model m = build(runs, opt);
  Result r;
  r.verdict = m.verdict;
  r.markdown = render_markdown(m);
  r.terminal = render_terminal(m);
  r.json = render_json(m, opt);
  for (const auto& h : m.hits) r.regressions.push_back(printable(h.message));
  return r;
}

namespace detail {

Result compare_ray(const std::vector<Detected>& args, const Options& opt) {
  std::vector<std::string> labels = make_labels(opt.runs);
  std::vector<Run> runs;
  for (size_t i = 0; i < args.size(); ++i) {
    const Detected& d = args[i];
    Run r;
    r.source = d.source;
    r.kind = d.form;
    r.label = labels[i];
    if (d.doc.is_object()) {
      r.report = d.doc["ray"];
      if (!r.report.contains("phases") || !r.report["phases"].is_array())
        throw arg_error(d.source, "not a Ray report.json (no \"phases\" array under \"ray\")");
    } else {
      ray::RayReport rr = ray::analyze({fs::path(d.source)}, ray::Options{});
      r.report = json(ray::to_json(rr));
    }
    runs.push_back(std::move(r));
  }
  return compare_ray_runs(runs, opt);
}

}  // namespace detail
}  // namespace alog::compare
