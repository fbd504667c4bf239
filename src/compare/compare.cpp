// Building the comparison model from report.json documents: which metrics are shared, the change
// of each statistic against the baseline, status changes, diagnoses that appeared or were
// resolved, --expect results per run, regressions against the gate, and the verdict line.

#include "analyze_logs/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/util.hpp"
#include "kinds.hpp"
#include "model.hpp"

namespace alog::compare {

Bad bad_direction(std::string_view metric) {
  // Every duration and the truncation share: more is worse. Staleness: more is worse (the seeds
  // judge it against async_level from above). In-flight requests: a load figure, neither good
  // nor bad by itself, so never a regression. Unknown metrics: judged by their suffix only.
  if (metric == "gen.inflight") return Bad::none;
  if (metric == "rollout.staleness") return Bad::up;
  if (metric.ends_with("_ms") || metric.ends_with("_pct")) return Bad::up;
  // The step budget (docs/STEPS.md): every part is seconds of a step; more is worse. The off-policy
  // level is a setting's effect, not a regression.
  if (metric.starts_with("step.") && metric.ends_with("_s")) return Bad::up;
  return Bad::none;
}

std::optional<double> percent_change(double base, double value) {
  if (!std::isfinite(base) || !std::isfinite(value) || base == 0) return std::nullopt;
  return (value - base) / std::fabs(base) * 100.0;
}

namespace detail {
namespace {

// Which log a metric comes from, to say why it is missing.
std::string_view producing_role(std::string_view metric) {
  if (metric == "ckpt.write_ms") return "trainer";
  if (metric.starts_with("weights.") || metric.starts_with("gen.") ||
      metric.starts_with("rollout.") || metric.starts_with("ckpt."))
    return "orchestrator";
  return "";
}

bool has_role(const nlohmann::json& report, std::string_view role) {
  if (!report.contains("inputs") || !report["inputs"].is_array()) return true;  // cannot tell
  for (const auto& in : report["inputs"])
    if (str_member(in, "role") == role) return true;
  return false;
}

const nlohmann::json* metric_json(const nlohmann::json& report, const std::string& name) {
  if (!report.contains("metrics") || !report["metrics"].is_object()) return nullptr;
  auto it = report["metrics"].find(name);
  if (it == report["metrics"].end() || !it->is_object()) return nullptr;
  return &*it;
}

// A metric written with `count: 0` had no sample: it is listed in every report of its kind, so it
// says nothing about a run that another run lacks.
bool without_samples(const nlohmann::json& metric) {
  auto it = metric.is_object() ? metric.find("count") : metric.end();
  return it != metric.end() && it->is_number() && it->get<double>() == 0;
}

bool has_samples(const nlohmann::json& report, const std::string& name) {
  const nlohmann::json* m = metric_json(report, name);
  return m && !without_samples(*m);
}

Cell read_cell(const nlohmann::json& report, const std::string& name, std::string& unit) {
  Cell c;
  const nlohmann::json* m = metric_json(report, name);
  if (!m) return c;
  if (unit.empty() && m->contains("unit") && (*m)["unit"].is_string())
    unit = (*m)["unit"].get<std::string>();
  for (size_t k = 0; k < kStats.size(); ++k) {
    auto it = m->find(kStats[k]);
    if (it == m->end() || !it->is_number()) return Cell{};
    c.v[k] = it->get<double>();
    if (!std::isfinite(c.v[k])) return Cell{};
  }
  // The count is written as an integer; anything else (2.5, 1e300) is not a count, and
  // compare.json converts it back to an integer (a double beyond the range is undefined).
  if (!(c.v[0] >= 0 && c.v[0] <= 9007199254740992.0 && c.v[0] == std::floor(c.v[0]))) return Cell{};
  c.present = c.v[0] > 0;  // count 0: no samples, shown as missing rather than as zeros
  if (!c.present) return Cell{};
  if (m->contains("status") && (*m)["status"].is_string())
    c.status = (*m)["status"].get<std::string>();
  return c;
}

std::vector<std::string> metric_names(const std::vector<Run>& runs) {
  std::vector<std::string> all;
  for (const auto& r : runs)
    if (r.report.contains("metrics") && r.report["metrics"].is_object())
      for (auto it = r.report["metrics"].begin(); it != r.report["metrics"].end(); ++it)
        if (!without_samples(*it) && std::find(all.begin(), all.end(), it.key()) == all.end())
          all.push_back(it.key());
  // report.json's metric order (kMetricDefs); metrics we do not know follow in name order.
  std::vector<std::string> out;
  for (const auto& d : kMetricDefs)
    if (std::find(all.begin(), all.end(), d.name) != all.end()) out.emplace_back(d.name);
  std::vector<std::string> rest;
  for (const auto& k : all)
    if (std::find(out.begin(), out.end(), k) == out.end()) rest.push_back(k);
  std::sort(rest.begin(), rest.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

std::vector<DiagRef> diagnoses_of(const nlohmann::json& report) {
  std::vector<DiagRef> out;
  if (!report.contains("diagnoses") || !report["diagnoses"].is_array()) return out;
  for (const auto& d : report["diagnoses"]) {
    if (!d.is_object() || !d.contains("id") || !d["id"].is_string()) continue;
    DiagRef r;
    r.id = d["id"].get<std::string>();
    if (d.contains("severity") && d["severity"].is_string())
      r.severity = d["severity"].get<std::string>();
    if (d.contains("summary") && d["summary"].is_string())
      r.summary = d["summary"].get<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

const DiagRef* find_diag(const std::vector<DiagRef>& v, const std::string& id) {
  for (const auto& d : v)
    if (d.id == id) return &d;
  return nullptr;
}

std::string unit_of(const Model& m, const std::string& metric) {
  for (const auto& row : m.metrics)
    if (row.name == metric) return row.unit;
  return "";
}

std::string label(const Model& m, size_t i) {
  return (*m.runs)[i].label;
}

// "28453.2 → 87.2 ms (−99.7 %)" and its many-run form.
std::string headline(const Model& m, const MetricRow& row) {
  const Cell& b = row.cells[m.baseline];
  std::string u = unit_suffix(row.unit);
  std::string name = short_name(row.name);
  auto change = [&](const Cell& c) {
    const auto& d = c.delta[1];
    return d && d->pct ? fmt_pct(d->pct) : std::string("baseline 0");
  };
  size_t n = m.runs->size();
  if (n == 2) {
    size_t o = m.baseline == 0 ? 1 : 0;
    const Cell& c = row.cells[o];
    if (!c.present)
      return fmt::format("{} mean {}{} → missing in {}", name, fmt_value(b.v[1], row.unit), u,
                         label(m, o));
    return fmt::format("{} mean {} → {}{} ({})", name, fmt_value(b.v[1], row.unit),
                       fmt_value(c.v[1], row.unit), u, change(c));
  }
  std::string s = fmt::format("{} mean {}{} ({}) →", name, fmt_value(b.v[1], row.unit), u,
                              label(m, m.baseline));
  bool first = true;
  for (size_t i = 0; i < n; ++i) {
    if (i == m.baseline) continue;
    const Cell& c = row.cells[i];
    s += first ? " " : ", ";
    first = false;
    if (!c.present)
      s += fmt::format("missing ({})", label(m, i));
    else
      s += fmt::format("{}{} ({}, {})", fmt_value(c.v[1], row.unit), u, label(m, i), change(c));
  }
  return s;
}

// The row of `name` when the baseline and at least one other run have it.
const MetricRow* shared_row(const Model& m, const std::string& name) {
  for (const auto& row : m.metrics) {
    if (row.name != name || !row.cells[m.baseline].present) continue;
    for (size_t i = 0; i < row.cells.size(); ++i)
      if (i != m.baseline && row.cells[i].present) return &row;
  }
  return nullptr;
}

const MetricRow* pick_headline(const Model& m) {
  auto shared = [&](const MetricRow& row) {
    if (!row.cells[m.baseline].present) return false;
    for (size_t i = 0; i < row.cells.size(); ++i)
      if (i != m.baseline && row.cells[i].present) return true;
    return false;
  };
  auto find = [&](const std::string& name) -> const MetricRow* {
    for (const auto& row : m.metrics)
      if (row.name == name && shared(row)) return &row;
    return nullptr;
  };
  if (!m.checks.empty())
    if (auto* r = find(m.checks.front().metric)) return r;
  if (auto* r = find("weights.queue_ms")) return r;
  const MetricRow* best = nullptr;
  double best_pct = -1;
  for (const auto& row : m.metrics) {
    if (!shared(row) || row.bad == Bad::none) continue;
    for (size_t i = 0; i < row.cells.size(); ++i) {
      const auto& d = row.cells[i].delta[1];
      double p = d && d->pct ? std::fabs(*d->pct) : 0;
      if (i != m.baseline && row.cells[i].present && p > best_pct) {
        best_pct = p;
        best = &row;
      }
    }
  }
  return best;
}

std::string criterion_text(const Model& m, const CheckRow& c, const std::string& headline_metric) {
  std::string lhs = c.metric == headline_metric ? c.stat : short_name(c.metric) + " " + c.stat;
  std::string s = fmt::format("{} {} {}{}", lhs, c.op, c.value,
                              c.stat == "count" ? "" : unit_suffix(unit_of(m, c.metric)));
  std::vector<size_t> met, not_met;
  for (size_t i = 0; i < c.results.size(); ++i) {
    if (i == m.baseline) continue;
    (c.results[i].passed ? met : not_met).push_back(i);
  }
  auto actual = [&](size_t i) {
    const auto& r = c.results[i];
    return r.actual ? fmt::format("{} {}{}", c.stat,
                                  fmt_value(*r.actual, unit_of(m, c.metric), c.stat == "count"),
                                  unit_suffix(c.stat == "count" ? "" : unit_of(m, c.metric)))
                    : std::string("no samples");
  };
  if (m.runs->size() == 2) {
    if (not_met.empty()) return s + ": met";
    return fmt::format("{}: not met ({})", s, actual(not_met.front()));
  }
  if (not_met.empty()) return s + ": met by all";
  std::string out = s + ":";
  if (!met.empty()) {
    out += " met by ";
    for (size_t k = 0; k < met.size(); ++k) out += (k ? ", " : "") + label(m, met[k]);
    out += ";";
  }
  out += " not met by ";
  for (size_t k = 0; k < not_met.size(); ++k)
    out += fmt::format("{}{} ({})", k ? ", " : "", label(m, not_met[k]), actual(not_met[k]));
  return out;
}

std::string make_verdict(const Model& m) {
  std::vector<std::string> parts;
  const MetricRow* h = pick_headline(m);
  if (h)
    parts.push_back(headline(m, *h));
  else
    parts.push_back(fmt::format("no metric shared with the baseline ({})", label(m, m.baseline)));
  // The step time beside it: what a user of the run feels, whatever moved the headline.
  if (const MetricRow* st = shared_row(m, "step.orchestrator_s"); st && st != h) parts.push_back(headline(m, *st));

  if (!m.checks.empty()) {
    std::string s = m.checks.size() == 1 ? "success criterion " : "success criteria ";
    for (size_t k = 0; k < m.checks.size(); ++k)
      s += (k ? ", " : "") + criterion_text(m, m.checks[k], h ? h->name : "");
    parts.push_back(s);
  }

  if (m.gate) {
    if (m.regressions.empty()) {
      parts.push_back(fmt::format("no regression over {} %", *m.gate));
    } else {
      std::string s = fmt::format("regressions over {} %: ", *m.gate);
      size_t shown = std::min<size_t>(m.regressions.size(), 3);
      for (size_t k = 0; k < shown; ++k) {
        const auto& r = m.regressions[k];
        s += fmt::format("{}{} {} {}", k ? ", " : "", short_name(r.metric), r.stat, fmt_pct(r.pct));
        if (m.runs->size() > 2) s += fmt::format(" ({})", label(m, r.run));
      }
      if (m.regressions.size() > shown)
        s += fmt::format(" and {} more", m.regressions.size() - shown);
      parts.push_back(s);
    }
  }

  // Diagnosis changes; when every non-baseline run has the same ones, they are said once.
  auto resolved_text = [](const DiagChange& d) {
    std::string s;
    for (size_t k = 0; k < d.resolved.size(); ++k) s += (k ? ", " : "") + d.resolved[k].id;
    return s;
  };
  auto new_text = [](const DiagChange& d) {
    std::string s;
    for (size_t k = 0; k < d.appeared.size(); ++k)
      s += fmt::format("{}{} ({})", k ? ", " : "", d.appeared[k].id, d.appeared[k].severity);
    return s;
  };
  bool same = true;
  std::optional<std::pair<std::string, std::string>> first;
  for (size_t i = 0; i < m.diagnoses.size(); ++i) {
    if (i == m.baseline) continue;
    std::pair<std::string, std::string> t{resolved_text(m.diagnoses[i]), new_text(m.diagnoses[i])};
    if (!first)
      first = t;
    else if (*first != t)
      same = false;
  }
  for (size_t i = 0; i < m.diagnoses.size(); ++i) {
    if (i == m.baseline) continue;
    std::string where = m.runs->size() > 2 && !same ? fmt::format(" in {}", label(m, i)) : "";
    if (auto s = resolved_text(m.diagnoses[i]); !s.empty())
      parts.push_back("resolved" + where + ": " + s);
    if (auto s = new_text(m.diagnoses[i]); !s.empty()) parts.push_back("new" + where + ": " + s);
    if (same) break;
  }
  std::string v;
  for (size_t k = 0; k < parts.size(); ++k) v += (k ? "; " : "") + parts[k];
  return v;
}

}  // namespace

std::string unit_suffix(const std::string& unit) {
  return unit.empty() ? "" : " " + unit;
}

std::string short_name(const std::string& metric) {
  if (metric == "step.orchestrator_s") return "step time";
  if (metric.starts_with("step.")) return metric;  // "step.trainer_s": "trainer_s" alone reads as a run's name
  auto dot = metric.find('.');
  return dot == std::string::npos ? metric : metric.substr(dot + 1);
}

std::string fmt_value(double v, const std::string& unit, bool is_count) {
  if (is_count) return fixed(v, 0);
  if (!unit.empty()) return fixed(v, 1);
  return v == std::floor(v) && std::fabs(v) < 1e15 ? fixed(v, 0) : fixed(v, 2);
}

std::string fmt_signed(double v, const std::string& unit, bool is_count) {
  std::string mag = fmt_value(std::fabs(v), unit, is_count);
  if (mag.find_first_not_of("0.") == std::string::npos) return mag;  // rounds to zero: no sign
  return (v < 0 ? "\u2212" : "+") + mag;
}

std::string fmt_pct(const std::optional<double>& pct) {
  if (!pct) return "n/a";
  std::string mag = fixed(std::fabs(*pct), 1);
  if (mag == "0.0") return "0.0 %";
  return (*pct < 0 ? "\u2212" : "+") + mag + " %";
}

std::string str_member(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string regression_line(const Model& m, const RegressionHit& h) {
  return fmt::format("{}: {} {} {} → {}{} ({}, worse than {} %)", printable(label(m, h.run)),
                     printable(h.metric), h.stat, fmt_value(h.base, h.unit),
                     fmt_value(h.value, h.unit), unit_suffix(h.unit), fmt_pct(h.pct), *m.gate);
}

Model build_model(const std::vector<Run>& runs, const Options& opt) {
  detail::check_runs_and_gate(runs.size(), opt);

  Model m;
  m.runs = &runs;
  m.baseline = opt.baseline;
  m.gate = opt.fail_on_regression_pct;
  m.tool_version = opt.tool_version;
  const size_t b = opt.baseline;

  for (const auto& name : metric_names(runs)) {
    MetricRow row;
    row.name = name;
    row.bad = bad_direction(name);
    for (const auto& r : runs) row.cells.push_back(read_cell(r.report, name, row.unit));
    const Cell& base = row.cells[b];
    Missing miss;
    miss.metric = name;
    for (size_t i = 0; i < runs.size(); ++i) {
      Cell& c = row.cells[i];
      if (!c.present) {
        miss.absent_in.push_back(i);
        auto role = producing_role(name);
        miss.notes.push_back(!role.empty() && !has_role(runs[i].report, role)
                                 ? fmt::format("no {} log among its inputs", role)
                                 : std::string("no samples"));
        continue;
      }
      miss.present_in.push_back(i);
      if (i == b || !base.present) continue;
      c.status_changed = c.status != base.status;
      for (size_t k = 0; k < kStats.size(); ++k) {
        Delta d;
        d.abs = c.v[k] - base.v[k];
        d.pct = percent_change(base.v[k], c.v[k]);
        d.worse = row.bad == Bad::up && k != 0 && d.abs > 0;
        // The tolerance keeps exactly PCT (1000 -> 1100 at 10 %) from tripping on rounding.
        if (m.gate && kGated[k] && d.worse && d.pct && *d.pct > *m.gate + 1e-9) {
          d.regression = true;
          m.regressions.push_back({i, name, kStats[k], row.unit, base.v[k], c.v[k], *d.pct});
        }
        c.delta[k] = d;
      }
    }
    if (!miss.absent_in.empty()) m.missing.push_back(std::move(miss));
    m.metrics.push_back(std::move(row));
  }
  // Regressions grouped by run, then in metric order (already), stable.
  std::stable_sort(m.regressions.begin(), m.regressions.end(),
                   [](const RegressionHit& x, const RegressionHit& y) { return x.run < y.run; });

  auto base_diags = diagnoses_of(runs[b].report);
  m.diagnoses.resize(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i == b) continue;
    auto mine = diagnoses_of(runs[i].report);
    auto& dc = m.diagnoses[i];
    for (const auto& d : mine) {
      const DiagRef* was = find_diag(base_diags, d.id);
      if (!was)
        dc.appeared.push_back(d);
      else if (was->severity != d.severity)
        dc.changed.emplace_back(d, was->severity);
    }
    for (const auto& d : base_diags)
      if (!find_diag(mine, d.id)) dc.resolved.push_back(d);
  }

  std::vector<Expectation> exps;
  for (const auto& e : opt.expect) exps.push_back(parse_expectation(e));
  if (exps.empty()) {
    // Seed 002's success criterion ("queue_ms < 300ms consistently", read as p99), quoted in the
    // verdict for information only: it never sets checks_failed.
    bool any = std::any_of(runs.begin(), runs.end(),
                           [](const Run& r) { return has_samples(r.report, "weights.queue_ms"); });
    if (any) {
      exps.push_back(parse_expectation("weights.queue_ms.p99<300"));
      m.default_criterion = true;
    }
  }
  for (const auto& e : exps) {
    CheckRow row;
    row.expr = e.text;
    row.metric = e.metric;
    row.stat = e.stat;
    row.op = e.op;
    row.value = e.value;
    for (const auto& r : runs) row.results.push_back(evaluate(e, r.report));
    m.checks.push_back(std::move(row));
  }
  if (!m.default_criterion)
    for (const auto& c : m.checks)
      for (size_t i = 0; i < c.results.size(); ++i)
        if (i != b && !c.results[i].passed) m.checks_failed = true;

  m.verdict = make_verdict(m);
  return m;
}

}  // namespace detail

Result compare_runs(const std::vector<Run>& runs_in, const Options& opt) {
  // Labels must be unique for the tables to be readable; runs built by hand may repeat them.
  std::vector<Run> runs = runs_in;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].label.empty())
      runs[i].label = runs[i].source.empty() ? fmt::format("run{}", i + 1) : runs[i].source;
    int n = 1;
    for (size_t j = 0; j < i; ++j)
      if (runs_in[j].label == runs_in[i].label) ++n;
    if (n > 1) runs[i].label += fmt::format(" ({})", n);
  }
  detail::Model m = detail::build_model(runs, opt);
  Result r;
  r.verdict = m.verdict;
  for (const auto& h : m.regressions) r.regressions.push_back(detail::regression_line(m, h));
  r.checks_failed = m.checks_failed;
  r.markdown = detail::render_markdown(m);
  r.terminal = detail::render_terminal(m);
  r.json = detail::render_json(m);
  return r;
}

namespace detail {

void check_runs_and_gate(size_t runs, const Options& opt) {
  if (runs < 2) throw std::invalid_argument(fmt::format("compare needs at least two runs ({} given)", runs));
  if (opt.baseline >= runs)
    throw std::invalid_argument(fmt::format("--baseline {}: only {} runs given", opt.baseline + 1, runs));
  if (opt.fail_on_regression_pct &&
      (!std::isfinite(*opt.fail_on_regression_pct) || *opt.fail_on_regression_pct < 0))
    throw std::invalid_argument(fmt::format("--fail-on-regression {}: expected a percentage of 0 or more",
                                            *opt.fail_on_regression_pct));
}

}  // namespace detail

}  // namespace alog::compare
