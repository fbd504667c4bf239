#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/util.hpp"

namespace alog {
namespace {

// Mermaid spreads a line's points evenly over the plot; beyond ~120 points a 700-pixel chart on
// GitHub is a solid band, so the Markdown charts are coarser than the HTML ones.
constexpr size_t kMermaidPoints = 120;

// Data line, warning line, critical line: xychart-beta has no series labels, so the colours are
// fixed by the theme and named in the caption above each chart.
constexpr const char* kPalette = "#2563eb, #d97706, #dc2626";

std::optional<double> threshold(const Report& r, const std::string& metric, const char* level) {
  auto it = r.thresholds.all().find(metric + "." + level);
  if (it == r.thresholds.all().end()) return std::nullopt;
  return it->second;
}

ChartSeries make_series(const Report& r, std::string metric, std::string title, std::string x_label,
                        std::string unit, const std::vector<double>& values, size_t max_points) {
  ChartSeries s;
  s.metric = std::move(metric);
  s.title = std::move(title);
  s.x_label = std::move(x_label);
  s.unit = std::move(unit);
  s.samples = values.size();
  s.y = downsample_max(values, max_points, s.bucket);
  s.warning = threshold(r, s.metric, "warning");
  s.critical = threshold(r, s.metric, "critical");
  return s;
}

// The first of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten at or above v: a round
// axis end that wastes at most a fifth of the plot.
double nice_ceiling(double v) {
  if (!(v > 0)) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

std::string number(double v) {
  // Mermaid's grammar takes plain decimals; no exponents.
  if (v == 0) return "0";
  if (std::fabs(v) >= 100) return fixed(v, 0);
  return fixed(v, std::fabs(v) >= 1 ? 1 : 3);
}

std::string values_line(const std::vector<double>& v) {
  std::string o = "    line [";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) o += ", ";
    o += number(v[i]);
  }
  o += "]\n";
  return o;
}

std::string unit_suffix(const std::string& unit) {
  return unit.empty() ? "" : (unit == "%" ? "%" : " " + unit);
}

}  // namespace

std::vector<double> downsample_max(std::span<const double> v, size_t max_points, size_t& bucket) {
  max_points = std::max<size_t>(max_points, 1);
  bucket = std::max<size_t>(1, (v.size() + max_points - 1) / max_points);
  std::vector<double> out;
  out.reserve(v.size() / bucket + 1);
  for (size_t i = 0; i < v.size(); i += bucket) {
    size_t end = std::min(v.size(), i + bucket);
    out.push_back(*std::max_element(v.begin() + static_cast<std::ptrdiff_t>(i),
                                    v.begin() + static_cast<std::ptrdiff_t>(end)));
  }
  return out;
}

std::vector<ChartSeries> chart_series(const Report& r, size_t max_points, bool extended) {
  std::vector<double> queue, rpc, reload, dur;
  for (const auto& u : r.updates) {
    if (u.queue_ms) queue.push_back(*u.queue_ms);
    if (u.rpc_ms) (u.reload ? reload : rpc).push_back(*u.rpc_ms);
  }
  for (const auto& b : r.batches)
    if (b.dur_ms) dur.push_back(*b.dur_ms);

  std::vector<ChartSeries> out;
  auto add = [&](const char* metric, const char* title, const char* x, const char* unit,
                 const std::vector<double>& v) {
    if (v.size() >= 2) out.push_back(make_series(r, metric, title, x, unit, v, max_points));
  };
  add("weights.queue_ms", "queue_ms per weight update", "weight update, in send order", "ms",
      queue);
  add("weights.rpc_ms", "rpc_ms per weight update (update_weights)", "weight update, in send order",
      "ms", rpc);
  add("weights.reload_rpc_ms", "rpc_ms per weight reload (reload_weights)",
      "weight reload, in send order", "ms", reload);
  add("gen.dur_ms", "generation batch duration", "generation batch, in start order", "ms", dur);
  if (extended) {
    auto points = [&](const char* metric) {
      std::vector<double> v;
      if (const auto* p = r.points(metric))
        for (const auto& e : *p) v.push_back(e.value);
      return v;
    };
    add("ckpt.wait_ms", "checkpoint wait", "ckpt wait, in log order", "ms", points("ckpt.wait_ms"));
    add("ckpt.write_ms", "checkpoint write", "ckpt write, in log order", "ms",
        points("ckpt.write_ms"));
    add("rollout.trunc_pct", "rollout truncation", "rollout, in log order", "%",
        points("rollout.trunc_pct"));
  }
  return out;
}

StepBudgetChart step_budget_chart(const Report& r, size_t max_points) {
  StepBudgetChart c;
  std::vector<const StepRecord*> rows;
  for (const auto& x : r.steps.steps)
    if (x.orch_s) rows.push_back(&x);
  c.steps = rows.size();
  if (rows.empty()) return c;
  max_points = std::max<size_t>(max_points, 1);
  c.bucket = (rows.size() + max_points - 1) / max_points;
  for (size_t i = 0; i < rows.size(); i += c.bucket) {
    const StepRecord* slow = rows[i];
    for (size_t k = i; k < std::min(rows.size(), i + c.bucket); ++k)
      if (*rows[k]->orch_s > *slow->orch_s) slow = rows[k];
    auto v = [](const OptDouble& d) { return d ? *d : 0.0; };
    double w = v(slow->wait_s), u = v(slow->update_s), e = v(slow->eval_s);
    c.step.push_back(slow->step);
    c.part.push_back({w, u, e, std::max(0.0, *slow->orch_s - w - u - e)});
  }
  return c;
}

namespace {

// The stacked bars of the step budget: xychart-beta draws bars over each other, so the running
// totals are drawn from the largest down and each shows as its own band.
std::string mermaid_step_budget(const Report& r) {
  StepBudgetChart c = step_budget_chart(r, kMermaidPoints);
  if (c.step.size() < 2) return "";
  std::string o = fmt::format("**Step budget**: the orchestrator's wall time of {} steps", c.steps);
  if (c.bucket > 1) o += fmt::format("; each bar is the slowest of {} consecutive steps", c.bucket);
  o += ". Bands from the bottom: waiting for the trainer (red), weight update (amber), evals (purple), "
       "generation (blue)";
  if (!r.steps.not_logged.empty()) {
    o += "; not logged (inside generation):";
    for (const auto& n : r.steps.not_logged) o += " " + n;
  }
  o += ".\n\n```mermaid\n";
  o += fmt::format("%%{{init: {{\"themeVariables\": {{\"xyChart\": {{\"plotColorPalette\": \"{}, {}, {}, {}\"}}}}}}}}%%\n",
                   kBudgetPartColors[3], kBudgetPartColors[2], kBudgetPartColors[1], kBudgetPartColors[0]);
  o += "xychart-beta\n    title \"Step budget (orchestrator)\"\n";
  o += fmt::format("    x-axis \"step\" {} --> {}\n", c.step.front(), c.step.back());
  double top = 0;
  for (const auto& p : c.part) top = std::max(top, p[0] + p[1] + p[2] + p[3]);
  o += fmt::format("    y-axis \"seconds\" 0 --> {}\n", number(nice_ceiling(top * 1.05)));
  for (int upto = 3; upto >= 0; --upto) {
    std::vector<double> v;
    for (const auto& p : c.part) {
      double sum = 0;
      for (int k = 0; k <= upto; ++k) sum += p[static_cast<size_t>(k)];
      v.push_back(sum);
    }
    std::string line = values_line(v);
    // values_line writes a `line`; the budget is bars.
    if (line.starts_with("    line")) line.replace(4, 4, "bar");
    o += line;
  }
  o += "```\n\n";
  return o;
}

}  // namespace

std::string mermaid_charts(const Report& r) {
  auto series = chart_series(r, kMermaidPoints, false);
  std::string budget = mermaid_step_budget(r);
  if (series.empty() && budget.empty()) return "";
  std::string o = "## Charts\n\n" + budget;
  for (const auto& s : series) {
    std::string short_name = s.metric.substr(s.metric.rfind('.') + 1);
    std::string caption = fmt::format("**{}**: {} samples", s.title, s.samples);
    if (s.bucket > 1)
      caption += fmt::format("; each point is the largest of {} consecutive ones", s.bucket);
    caption += fmt::format(". Lines: {} (blue)", short_name);
    if (s.warning)
      caption += fmt::format(", warning threshold {}{} (amber)", fmt::format("{}", *s.warning),
                             unit_suffix(s.unit));
    if (s.critical)
      caption += fmt::format(", critical threshold {}{} (red)", fmt::format("{}", *s.critical),
                             unit_suffix(s.unit));
    o += caption + ".\n\n";

    double top = *std::max_element(s.y.begin(), s.y.end());
    double bottom = std::min(0.0, *std::min_element(s.y.begin(), s.y.end()));
    if (s.critical)
      top = std::max(top, *s.critical);
    else if (s.warning)
      top = std::max(top, *s.warning);
    top = nice_ceiling(top * 1.05);

    o += "```mermaid\n";
    o += fmt::format(
        "%%{{init: {{\"themeVariables\": {{\"xyChart\": {{\"plotColorPalette\": \"{}\"}}}}}}}}%%\n",
        kPalette);
    o += "xychart-beta\n";
    o += fmt::format("    title \"{}\"\n", s.title);
    o += fmt::format("    x-axis \"{}\" 1 --> {}\n", s.x_label, s.samples);
    o += fmt::format("    y-axis \"{} ({})\" {} --> {}\n", short_name, s.unit, number(bottom),
                     number(top));
    o += values_line(s.y);
    for (const auto& t : {s.warning, s.critical})
      if (t) o += values_line(std::vector<double>(s.y.size(), *t));
    o += "```\n\n";
  }
  return o;
}

}  // namespace alog
