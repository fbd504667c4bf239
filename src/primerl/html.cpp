// report.html: the Report as one page for people who would rather look than read.
//
// The page must open anywhere a bug report is attached (a mail client, an air-gapped cluster, a
// CI artifact viewer), so it is a single file with no scripts, no fonts and no requests: styles
// are inline, charts are inline SVG drawn here, tooltips are SVG <title> elements, and a
// Content-Security-Policy of default-src 'none' makes the browser refuse any fetch that might slip
// in (and report it as a console error, which the Chromium test fails on). Every string taken from
// a log goes through html_escape.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"

namespace alog {
namespace {

// At most this many points per SVG chart; at 520 pixels, more would be sub-pixel.
constexpr size_t kHtmlPoints = 500;
// Points are drawn as circles (with tooltips) only up to this many; beyond, only the line and the
// points above the warning threshold.
constexpr size_t kCircleLimit = 80;


std::string esc(std::string_view s) {
  return html_escape(s);
}
std::string num(const std::optional<double>& v, int d = 1) {
  return v ? fixed(*v, d) : "–";
}

std::string status_class(Status s) {
  switch (s) {
    case Status::good:
      return "good";
    case Status::warning:
      return "warning";
    case Status::critical:
      return "critical";
    default:
      return "none";
  }
}

// 1, 2 or 5 times a power of ten, at or above v: a readable tick step.
double nice_step(double v) {
  if (!(v > 0)) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

std::string tick_label(double v, double step) {
  if (step >= 1 || v == 0) return fmt::format("{:.0f}", v);
  int d = static_cast<int>(std::ceil(-std::log10(step)));
  return fixed(v, std::min(d, 6));
}

std::string unit_suffix(const std::string& unit) {
  return unit.empty() ? "" : (unit == "%" ? "%" : " " + unit);
}

// Width of `s` drawn at font size `fs`, a little generous: no font is shipped with the page, so
// this must hold for the widest common sans-serif (DejaVu Sans, Chromium's fallback on Linux).
double text_width(std::string_view s, double fs, bool bold) {
  double em = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {  // one code point of a multi-byte sequence: count its lead byte only
      if (c >= 0xC0) em += 1.0;
      continue;
    }
    if (c == 'm' || c == 'w' || c == 'M' || c == 'W' || c == '%')
      em += 1.0;
    else if (c == ' ' || c == '.' || c == ',' || c == ':' || c == 'i' || c == 'l' || c == 'j' ||
             c == 't' || c == 'f' || c == 'r' || c == '(' || c == ')')
      em += 0.42;
    else if (c >= 'A' && c <= 'Z')
      em += 0.78;
    else
      em += 0.66;
  }
  return em * fs * (bold ? 1.1 : 1.0);
}

}  // namespace

// A chart: the series as a line (and as points where they matter), the warning and critical
// thresholds as dashed lines over amber and red zones, axes with round ticks.
//
// Threshold labels never sit on the data, whatever the data's scale: they are in a margin right
// of the plot, in a larger and bolder type than the axis labels, each joined by a short leader to
// the end of its line and centred on it unless that would make it touch the other label or leave
// the picture (data far above the thresholds put both lines a pixel above the x axis). The y axis
// covers the data, and stretches to a threshold above them only while the data keep a fair share
// of the height (kStretch); a threshold further up is not drawn as a line but named at the top of
// the margin with an up arrow and "off chart", so a run far below its thresholds still shows its
// own shape.
std::string html_chart_svg(const ChartSeries& s) {
  constexpr double W = 560, H = 230, L = 58, T = 12, B = 36;
  // Thresholds up to this multiple of the data's largest value are brought onto the axis.
  constexpr double kStretch = 2.5;
  // Threshold labels: font sizes (the axis labels are 11px, svg text in render::html_style()),
  // line heights, the gap between the plot and the labels, between two labels.
  constexpr double kLabelFont = 12, kNoteFont = 11, kLine = 14, kNoteLine = 13, kGap = 12,
                   kBetween = 6;
  if (s.y.empty()) return "";

  struct Label {
    const char* level;
    const char* color;
    double value;
    std::string text;  // "1000 ms"
    int off = 0;       // +1: above the axis, -1: below it, 0: on the chart
    double line_y = 0, top = 0, height = 0;
  };
  std::string u = unit_suffix(s.unit);
  std::vector<Label> labels;
  if (s.warning)
    labels.push_back({"warning", "#b45309", *s.warning, fmt::format("{}{}", *s.warning, u)});
  if (s.critical)
    labels.push_back({"critical", "#b91c1c", *s.critical, fmt::format("{}{}", *s.critical, u)});
  double dmax = *std::max_element(s.y.begin(), s.y.end());
  double hi = dmax;
  double lo = std::min(0.0, *std::min_element(s.y.begin(), s.y.end()));
  for (const auto& l : labels)
    if (l.value > hi && dmax > 0 && l.value <= kStretch * dmax) hi = l.value;
  if (!(hi > lo)) hi = lo + 1;
  double step = nice_step((hi - lo) / 5);
  double top = step * std::ceil(hi * 1.04 / step), bottom = step * std::floor(lo / step);
  if (!(top > bottom)) top = bottom + step;

  // The margin is as wide as the widest label, and at least as wide as the usual ones, so that
  // the plots of the page line up.
  double label_w = labels.empty() ? 0 : text_width("10000 ms", kLabelFont, false);
  for (auto& l : labels) {
    l.off = l.value > top ? 1 : l.value < bottom ? -1 : 0;
    label_w = std::max({label_w, text_width(l.level, kLabelFont, true),
                        text_width(l.text, kLabelFont, false),
                        l.off ? text_width("off chart", kNoteFont, false) : 0.0});
  }
  const double R = labels.empty() ? 14 : kGap + label_w + 4;
  const double pw = W - L - R, ph = H - T - B;
  auto X = [&](size_t i) {
    return L +
           pw * static_cast<double>(i) / static_cast<double>(std::max<size_t>(s.y.size() - 1, 1));
  };
  auto Y = [&](double v) { return T + ph * (1 - (v - bottom) / (top - bottom)); };
  std::string short_name = s.metric.substr(s.metric.rfind('.') + 1);

  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n", W, H,
                 esc(s.title));
  fmt::format_to(
      out,
      "<rect class=\"plot\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
      "fill=\"none\"/>\n",
      L, T, pw, ph);
  // Zones: good below the warning threshold, amber up to critical, red above (as far as the
  // axis goes).
  auto zone = [&](double y1, double y2, const char* fill) {
    if (y2 - y1 >= 0.05)
      fmt::format_to(out,
                     "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                     "fill=\"{}\" opacity=\"0.6\"/>\n",
                     L, y1, pw, y2 - y1, fill);
  };
  if (s.warning) {
    double yw = std::clamp(Y(*s.warning), T, T + ph);
    double yc = s.critical ? std::clamp(Y(*s.critical), T, T + ph) : T;
    zone(yc, yw, "#fef3c7");
    if (s.critical) zone(T, yc, "#fee2e2");
  } else if (s.critical) {
    zone(T, std::clamp(Y(*s.critical), T, T + ph), "#fee2e2");
  }
  // Y grid and labels.
  for (double v = bottom; v <= top + step / 2; v += step) {
    double y = Y(v);
    fmt::format_to(
        out, "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e7eb\"/>",
        L, y, L + pw, y);
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", L - 6,
                   y + 4, tick_label(v, step));
  }
  // X ticks at the sample numbers (before downsampling).
  for (int k = 0; k <= 4; ++k) {
    double f = k / 4.0;
    double x = L + pw * f;
    auto label = static_cast<long long>(std::llround(1 + f * static_cast<double>(s.samples - 1)));
    fmt::format_to(
        out,
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#9ca3af\"/>", x,
        T + ph, T + ph + 4);
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x,
                   T + ph + 16, label);
  }
  fmt::format_to(out, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#9ca3af\"/>", L,
                 T, T + ph);
  fmt::format_to(out,
                 "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1:.1f}\" y2=\"{2}\" stroke=\"#9ca3af\"/>\n", L,
                 L + pw, T + ph);
  fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                 L + pw / 2, H - 4, esc(s.x_label));
  fmt::format_to(
      out,
      "<text transform=\"translate(12 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}{}</text>\n",
      T + ph / 2, esc(short_name), s.unit.empty() ? "" : " (" + esc(s.unit) + ")");

  // Threshold lines, under the data: a line is a reference, the data is what is read.
  for (auto& l : labels) {
    double y = Y(l.value);
    l.line_y = l.off > 0 ? T : l.off < 0 ? T + ph : y;
    l.height = 2 * kLine + (l.off ? kNoteLine : 0);
    if (!l.off)
      fmt::format_to(
          out,
          "<line class=\"thr-line\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" "
          "y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
          L, y, L + pw, y, l.color);
  }
  // Data.
  o += "<polyline class=\"data\" fill=\"none\" stroke=\"#2563eb\" stroke-width=\"1.6\" "
       "stroke-linejoin=\"round\" points=\"";
  for (size_t i = 0; i < s.y.size(); ++i)
    fmt::format_to(out, "{}{:.1f},{:.1f}", i ? " " : "", X(i), Y(s.y[i]));
  o += "\"/>\n<g class=\"marks\">";
  for (size_t i = 0; i < s.y.size(); ++i) {
    double v = s.y[i];
    bool over_c = s.critical && v > *s.critical, over_w = s.warning && v > *s.warning;
    if (s.y.size() > kCircleLimit && !over_w) continue;
    const char* color = over_c ? "#b91c1c" : over_w ? "#b45309" : "#2563eb";
    size_t first = i * s.bucket + 1, last = std::min(s.samples, (i + 1) * s.bucket);
    std::string which =
        first == last ? fmt::format("#{}", first) : fmt::format("#{}–{} (largest)", first, last);
    fmt::format_to(out,
                   "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>{} {}: "
                   "{}{}</title></circle>",
                   X(i), Y(v), s.y.size() > kCircleLimit ? 1.8 : 2.6, color, esc(short_name), which,
                   fixed(v), esc(u));
  }
  o += "</g>\n";

  // Threshold labels in the right margin, from the top of the picture down to the x axis: each
  // centred on its line if it can be, else moved just enough not to touch its neighbour.
  std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) {
    return a.line_y < b.line_y || (a.line_y == b.line_y && a.value > b.value);
  });
  const double region_top = 2, region_bottom = T + ph + 2;
  for (auto& l : labels) l.top = l.off > 0 ? region_top : l.line_y - kLine;
  for (size_t i = 0; i < labels.size(); ++i) {
    double min_top = i ? labels[i - 1].top + labels[i - 1].height + kBetween : region_top;
    labels[i].top = std::max(labels[i].top, min_top);
  }
  for (size_t i = labels.size(); i-- > 0;) {
    double max_top =
        (i + 1 < labels.size() ? labels[i + 1].top - kBetween : region_bottom) - labels[i].height;
    labels[i].top = std::max(region_top, std::min(labels[i].top, max_top));
  }
  const double x0 = L + pw, tx = x0 + kGap;
  for (const auto& l : labels) {
    std::string where = l.off > 0   ? ", above the top of the chart"
                        : l.off < 0 ? ", below the bottom of the chart"
                                    : "";
    fmt::format_to(out, "<g class=\"thr\"><title>{} threshold {}{}</title>", l.level, esc(l.text),
                   where);
    double text_y = l.top + 11;  // first baseline
    if (l.off) {
      // An arrow pointing the way to the threshold, beside its name.
      double ay = l.top + 3, dir = l.off > 0 ? 1 : -1, tip = l.off > 0 ? ay : ay + 8;
      fmt::format_to(out, "<path d=\"M{:.1f} {:.1f}l4.5 {:.1f}h-9z\" fill=\"{}\"/>", x0 + 5.5, tip,
                     8 * dir, l.color);
    } else {
      // The dashed line's end, joined to its label.
      double mid = l.top + kLine;
      fmt::format_to(
          out,
          "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1\" points=\"{:.1f},{:.1f} "
          "{:.1f},{:.1f} {:.1f},{:.1f}\"/>",
          l.color, x0 + 1, l.line_y, x0 + 5, l.line_y, tx - 2, mid);
    }
    fmt::format_to(
        out,
        "<text x=\"{0:.1f}\" y=\"{1:.1f}\" "
        "style=\"font-size:{3}px;font-weight:600;fill:{2}\">{4}</text>"
        "<text x=\"{0:.1f}\" y=\"{5:.1f}\" style=\"font-size:{3}px;fill:{2}\">{6}</text>",
        tx, text_y, l.color, kLabelFont, l.level, text_y + kLine, esc(l.text));
    if (l.off)
      fmt::format_to(
          out,
          "<text x=\"{:.1f}\" y=\"{:.1f}\" style=\"font-size:{}px;fill:#6b7280\">off chart</text>",
          tx, text_y + kLine + kNoteLine, kNoteFont);
    o += "</g>\n";
  }
  o += "</svg>\n";
  return o;
}

namespace {

void headline_cards(const Report& r, std::string& o) {
  struct Card {
    const char* metric;
    const char* label;
  };
  const Card cards[] = {{"weights.queue_ms", "Queue delay (mean)"},
                        {"weights.rpc_ms", "RPC time (mean)"},
                        {"ckpt.wait_ms", "Ckpt wait (mean)"},
                        {"rollout.trunc_pct", "Truncation (mean)"}};
  o += "<div class=\"cards\">\n";
  for (const auto& c : cards) {
    const MetricReport* m = r.metric(c.metric);
    if (m)
      o += fmt::format(
          "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v s-{}\">{}{}</div><div "
          "class=\"sub\">{} samples{}</div></div>\n",
          c.label, status_class(m->status), fixed(m->stats.mean), esc(unit_suffix(m->unit)),
          m->stats.count,
          m->status == Status::none ? "" : fmt::format(" · {}", status_name(m->status)));
    else
      o += fmt::format(
          "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">–</div><div "
          "class=\"sub\">no samples</div></div>\n",
          c.label);
  }
  o += "</div>\n";
}

void diagnoses(const Report& r, std::string& o) {
  o += "<h2>Diagnosis</h2>\n";
  if (r.diagnoses.empty()) {
    o += r.total_events() == 0 ? "<p>No events found, so nothing to diagnose.</p>\n"
                               : "<p>No known bottleneck found.</p>\n";
    return;
  }
  for (const auto& d : r.diagnoses) {
    const char* sev = d.severity == Severity::critical ? "critical" : "warning";
    o += fmt::format(
        "<section class=\"diag {0}\"><h3><span class=\"badge "
        "{0}\">{0}</span><code>{1}</code></h3><p>{2}</p>\n",
        sev, esc(d.id), esc(d.summary));
    if (!d.evidence.empty()) {
      o += fmt::format("<details><summary>Evidence ({})</summary><ul>\n", d.evidence.size());
      for (const auto& e : d.evidence)
        o += fmt::format("<li><code>{}:{}</code> {}</li>\n", esc(r.file_name(e.file)), e.line,
                         esc(e.note));
      o += "</ul></details>\n";
    }
    o += fmt::format("<p><b>Fix:</b> {}</p></section>\n", esc(d.fix));
  }
}

}  // namespace

std::string html_step_budget_svg(const StepBudgetChart& c) {
  constexpr double W = 560, H = 230, L = 58, T = 12, B = 36, R = 14;
  if (c.step.empty()) return "";
  double hi = 0;
  for (const auto& p : c.part) hi = std::max(hi, p[0] + p[1] + p[2] + p[3]);
  if (!(hi > 0)) hi = 1;
  double step = nice_step(hi / 5);
  double top = step * std::ceil(hi * 1.04 / step);
  const double pw = W - L - R, ph = H - T - B;
  auto Y = [&](double v) { return T + ph * (1 - v / top); };
  double bw = pw / static_cast<double>(c.step.size());
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"step budget\">\n", W, H);
  fmt::format_to(out, "<rect class=\"plot\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\"/>\n", L,
                 T, pw, ph);
  for (double v = 0; v <= top + step / 2; v += step) {
    double y = Y(v);
    fmt::format_to(out, "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e7eb\"/>", L, y, L + pw, y);
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", L - 6, y + 4,
                   tick_label(v, step));
  }
  for (size_t i = 0; i < c.step.size(); ++i) {
    double base = 0, x = L + bw * static_cast<double>(i);
    for (size_t k = 0; k < 4; ++k) {
      double v = c.part[i][k];
      if (v > 0)
        fmt::format_to(out,
                       "<rect class=\"part-{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                       "fill=\"{}\"><title>step {}: {} {:.1f} s</title></rect>",
                       k, x, Y(base + v), std::max(bw - 1, 0.5), Y(base) - Y(base + v), kBudgetPartColors[k], c.step[i],
                       kBudgetPartNames[k], v);
      base += v;
    }
    o += "\n";
  }
  for (size_t k : {size_t{0}, c.step.size() / 2, c.step.size() - 1})
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                   L + bw * (static_cast<double>(k) + 0.5), T + ph + 16, c.step[k]);
  fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">step</text>\n", L + pw / 2, H - 4);
  fmt::format_to(out, "<text transform=\"translate(12 {:.1f}) rotate(-90)\" text-anchor=\"middle\">seconds</text>\n",
                 T + ph / 2);
  o += "</svg>\n";
  return o;
}

namespace {

void charts(const Report& r, std::string& o) {
  auto series = chart_series(r, kHtmlPoints, true);
  StepBudgetChart budget = step_budget_chart(r, kHtmlPoints);
  if (series.empty() && budget.step.empty()) return;
  o += "<h2>Charts</h2>\n<div class=\"charts\">\n";
  if (!budget.step.empty()) {
    std::string note = fmt::format("{} steps", budget.steps);
    if (budget.bucket > 1) note += fmt::format(", each bar the slowest of {}", budget.bucket);
    o += fmt::format("<figure><figcaption>Step budget (orchestrator) <span class=\"sub\">{}</span><br>"
                     "<span class=\"sub\">",
                     note);
    for (size_t k = 0; k < 4; ++k)
      o += fmt::format("<span class=\"key\" style=\"background:{}\"></span>{}", kBudgetPartColors[k],
                       kBudgetPartNames[k]);
    if (!r.steps.not_logged.empty()) {
      o += "; not logged:";
      for (const auto& n : r.steps.not_logged) o += " " + esc(n);
    }
    o += "</span></figcaption>\n" + html_step_budget_svg(budget) + "</figure>\n";
  }
  for (const auto& s : series) {
    std::string note = fmt::format("{} samples", s.samples);
    if (s.bucket > 1) note += fmt::format(", each point the largest of {}", s.bucket);
    o += fmt::format(
        "<figure><figcaption>{} <span class=\"sub\">{}</span><br><span class=\"sub\">"
        "<span class=\"key\" style=\"background:#2563eb\"></span>{}",
        esc(s.title), note, esc(s.metric.substr(s.metric.rfind('.') + 1)));
    if (s.warning) o += "<span class=\"key\" style=\"background:#b45309\"></span>warning";
    if (s.critical) o += "<span class=\"key\" style=\"background:#b91c1c\"></span>critical";
    o += "</span></figcaption>\n" + html_chart_svg(s) + "</figure>\n";
  }
  o += "</div>\n";
}

void metric_table(const Report& r, std::string& o) {
  o += "<h2>Metrics</h2>\n";
  if (r.metrics.empty()) {
    o += "<p>No samples.</p>\n";
    return;
  }
  o += "<table><tr><th>metric</th><th>count</th><th>mean</th><th>min</th><th>p50</th><th>p90</"
       "th><th>p95</th><th>p99</th>"
       "<th>max</th><th class=\"l\">status</th></tr>\n";
  for (const auto& m : r.metrics) {
    const auto& s = m.stats;
    o += fmt::format(
        "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</"
        "td><td>{}</td><td>{}</td>"
        "<td class=\"l s-{}\">{}</td></tr>\n",
        esc(m.name), m.unit.empty() ? "" : " (" + esc(m.unit) + ")", s.count, fixed(s.mean),
        fixed(s.min), fixed(s.p50), fixed(s.p90), fixed(s.p95), fixed(s.p99), fixed(s.max),
        status_class(m.status),
        m.status == Status::none ? "–" : std::string(status_name(m.status)));
  }
  o += "</table>\n<p class=\"sub\">Status is judged on the mean (staleness: on the max) against "
       "the thresholds below.</p>\n";
}

void checks(const Report& r, std::string& o) {
  if (r.expectations.empty()) return;
  o += "<h2>Checks</h2>\n<table><tr><th>expectation</th><th>actual</th><th "
       "class=\"l\">result</th></tr>\n";
  for (const auto& e : r.expectations)
    o += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td class=\"l s-{}\">{}</td></tr>\n",
                     esc(e.expr), num(e.actual, 3), e.passed ? "good" : "critical",
                     e.passed ? "met" : "FAILED");
  o += "</table>\n";
}

void slowest(const Report& r, std::string& o) {
  std::vector<size_t> idx = slowest_updates(r, 10);
  if (idx.empty()) return;
  o += "<h2>Slowest updates</h2>\n<table><tr><th>trace "
       "id</th><th>op</th><th>step</th><th>wall_ms</th><th>rpc_ms</th><th>queue_ms</th>"
       "<th>client→server</th><th>server pre-rpc</th><th>engine</th><th>server→client</th><th "
       "class=\"l\">where</th></tr>\n";
  for (size_t i : idx) {
    const auto& u = r.updates[i];
    auto ranges = cross_host_ranges(r, u);
    o += fmt::format(
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</"
        "td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td class=\"wrap\">{}:{}</td></tr>\n",
        u.trace.str(), u.reload ? "reload" : "update", u.step ? std::to_string(*u.step) : "–",
        num(u.wall_ms), num(u.rpc_ms), num(u.queue_ms),
        cross_host_cell(u.phases.client_to_server_ms, ranges.client_to_server_ms), num(u.phases.server_pre_rpc_ms),
        num(u.phases.engine_ms), cross_host_cell(u.phases.server_to_client_ms, ranges.server_to_client_ms),
        esc(r.file_name(u.send_at.file)), u.send_at.line);
  }
  o += "</table>\n";
}

void incomplete(const Report& r, std::string& o) {
  std::string items;
  size_t n = 0;
  for (const auto& u : r.updates) {
    if (u.complete) continue;
    if (++n <= kIncompleteListed)
      items += fmt::format("<li><code>{}</code> ({}, sent at {}:{}): {}</li>\n", u.trace.str(),
                           u.reload ? "reload" : "update", esc(r.file_name(u.send_at.file)),
                           u.send_at.line, esc(describe_last_phase(u.last_phase)));
  }
  for (const auto& s : r.server_only)
    if (++n <= kIncompleteListed)
      items += fmt::format("<li><code>{}</code>: server side only in {}</li>\n", s.trace.str(),
                           esc(r.file_name(s.server.file)));
  if (n == 0) return;
  o += "<h2>Incomplete updates</h2>\n<ul>\n" + items;
  if (n > kIncompleteListed)
    o += fmt::format("<li>… and {} more (see report.json)</li>\n", n - kIncompleteListed);
  o += "</ul>\n";
}

void inputs(const Report& r, std::string& o) {
  o += "<h2>Inputs</h2>\n<table><tr><th>file</th><th class=\"l\">role</th><th "
       "class=\"l\">compression</th><th>lines</th><th>events</th>"
       "<th>skipped</th><th>noise</th><th class=\"l\">notes</th></tr>\n";
  for (const auto& in : r.inputs) {
    std::string notes = input_notes(in);
    o += fmt::format(
        "<tr><td class=\"wrap\">{}</td><td class=\"l\">{}</td><td "
        "class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td class=\"wrap\">{}</td></tr>\n",
        esc(in.path), role_name(in.role), esc(in.compression), in.counts.lines, in.counts.events,
        in.counts.skipped(), in.counts.noise, esc(notes));
  }
  o += "</table>\n";
  if (!r.clocks.empty()) {
    o += "<h2>Clocks</h2>\n<table><tr><th>server log</th><th>offset (s)</th><th>interval "
         "(s)</th><th>from the updates (s)</th><th>from the wall clocks (s)</th><th>updates used</th>"
         "<th class=\"l\">method</th></tr>\n";
    for (const auto& c : r.clocks) {
      auto cells = clock_cells(c);
      o += fmt::format(
          "<tr><td class=\"wrap\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td "
          "class=\"l\">{}</td></tr>\n",
          esc(r.file_name(c.file)), cells.offset, cells.interval, cells.causal, cells.wall, c.updates_used,
          esc(c.method));
    }
    o += "</table>\n";
    std::string notes;
    for (const auto& c : r.clocks)
      if (!c.note.empty()) notes += fmt::format("<li>{}: {}.</li>\n", esc(r.file_name(c.file)), esc(c.note));
    for (const auto& s : offset_range_statements(r)) notes += fmt::format("<li>{}</li>\n", esc(s));
    if (!notes.empty()) o += "<ul>\n" + notes + "</ul>\n";
  }
}

}  // namespace

std::string to_html(const Report& r) {
  std::string verdict = verdict_line(r);
  std::string level = "ok";
  if (verdict.starts_with("CRITICAL"))
    level = "critical";
  else if (verdict.starts_with("WARNING"))
    level = "warning";

  std::string o;
  o.reserve(64 * 1024);
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
       "'unsafe-inline'; img-src data:\">\n";
  o += fmt::format("<title>analyze-logs: {}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n",
                   esc(verdict), render::html_style());
  uint64_t events = r.total_events();
  // Batches as the diagnoses count them: those that finished (have a dur_ms); the others are
  // said apart, so the header and a diagnosis's "N of M generation batches" agree.
  size_t finished = 0;
  for (const auto& b : r.batches) finished += b.dur_ms.has_value();
  std::string unfinished =
      finished < r.batches.size() ? fmt::format(" (+{} unfinished)", r.batches.size() - finished) : "";
  o += fmt::format(
      "<h1>Bottleneck analysis</h1>\n<div class=\"sub\">analyze-logs {} · {} input{} · {} events · "
      "{} weight updates · {} generation batches{}</div>\n",
      esc(r.tool_version), r.inputs.size(), r.inputs.size() == 1 ? "" : "s", events,
      r.updates.size(), finished, unfinished);
  o += fmt::format("<div class=\"verdict {}\"><b>Verdict:</b> {}</div>\n", level, esc(verdict));
  headline_cards(r, o);
  diagnoses(r, o);
  charts(r, o);
  checks(r, o);
  metric_table(r, o);
  slowest(r, o);
  incomplete(r, o);
  inputs(r, o);
  o += "<details><summary>Thresholds</summary><table><tr><th>threshold</th><th>value</th></tr>\n";
  for (const auto& [k, v] : r.thresholds.all())
    o += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", esc(k), v);
  o += "</table></details>\n";
  o += "<footer>Generated by analyze-logs from the logs listed above. Same data: report.json; in "
       "words: SUMMARY.md.</footer>\n";
  o += "</main>\n</body>\n</html>\n";
  return o;
}

}  // namespace alog
