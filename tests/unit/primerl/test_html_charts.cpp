// The charts of report.html (src/primerl/html.cpp) read as geometry: the SVG each one emits is
// parsed back (plot area, data polyline and points, axis labels, threshold labels) and the
// threshold labels are checked against it. A label must be readable however the data and the
// threshold compare: outside the plot area, over no data point, clear of the other labels and of
// the picture's edges, in a type at least as large as the axis labels'; a threshold far above the
// data must still be named (at the top, marked off chart), and one within reach must be on the
// axis.
//
// Text boxes are estimated from the character count, generously (0.7 em per character, from
// 0.95 em above the baseline to 0.25 em below it: a font's ascent and descent);
// tests/e2e/test_html_chromium.sh measures the real boxes in a browser.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/render/render.hpp"

namespace alog {
namespace {

struct Box {
  double x0, y0, x1, y1;
  bool intersects(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

std::ostream& operator<<(std::ostream& os, const Box& b) {
  return os << "[" << b.x0 << "," << b.y0 << " – " << b.x1 << "," << b.y1 << "]";
}

struct Text {
  double x = 0, y = 0, font = 0;
  std::string anchor, body;
  Box box() const {
    double w = 0.7 * font * static_cast<double>(body.size());
    double left = anchor == "end" ? x - w : anchor == "middle" ? x - w / 2 : x;
    return {left, y - 0.95 * font, left + w, y + 0.25 * font};
  }
};

struct Chart {
  double width = 0, height = 0;
  Box plot{0, 0, 0, 0};
  std::vector<Box> marks;            // each data point: a circle's box, or a polyline vertex
  std::vector<Text> axis_labels;     // tick labels and axis titles
  std::vector<std::vector<Text>> thresholds;  // the texts of each <g class="thr">
  std::vector<double> threshold_lines;        // y of each dashed threshold line
  std::vector<double> y_ticks;                // values of the y axis's tick labels
};

double attr(const std::string& tag, const std::string& name, double otherwise = NAN) {
  std::smatch m;
  if (std::regex_search(tag, m, std::regex("\\b" + name + "=\"([-0-9.]+)\""))) return std::stod(m[1]);
  return otherwise;
}
std::string sattr(const std::string& tag, const std::string& name) {
  std::smatch m;
  if (std::regex_search(tag, m, std::regex("\\b" + name + "=\"([^\"]*)\""))) return m[1];
  return "";
}

// The font size of `svg text` in the page's stylesheet: what an axis label is drawn at.
double css_text_font() {
  std::string css(render::html_style());
  std::smatch m;
  if (std::regex_search(css, m, std::regex(R"re(svg text\{font:([0-9.]+)px)re"))) return std::stod(m[1]);
  return NAN;
}

std::vector<Text> texts(const std::string& svg, double css_font) {
  std::vector<Text> out;
  static const std::regex re(R"re(<text([^>]*)>([^<]*)</text>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it) {
    std::string tag = (*it)[1];
    Text t;
    t.x = attr(tag, "x", 0);
    t.y = attr(tag, "y", 0);
    t.anchor = sattr(tag, "text-anchor");
    t.body = (*it)[2];
    std::smatch m;
    std::string style = sattr(tag, "style");
    t.font = std::regex_search(style, m, std::regex(R"re(font-size:([0-9.]+)px)re")) ? std::stod(m[1]) : css_font;
    if (tag.find("transform") != std::string::npos) t.x = t.y = -1;  // the rotated y-axis title
    out.push_back(t);
  }
  return out;
}

Chart parse_chart(const std::string& svg) {
  Chart c;
  double css_font = css_text_font();
  std::smatch m;
  EXPECT_TRUE(std::regex_search(svg, m, std::regex(R"re(<svg viewBox="0 0 ([0-9.]+) ([0-9.]+)")re"))) << svg;
  c.width = std::stod(m[1]);
  c.height = std::stod(m[2]);
  EXPECT_TRUE(std::regex_search(svg, m, std::regex(R"re(<rect class="plot"[^>]*>)re"))) << "no plot area";
  std::string tag = m[0];
  c.plot = {attr(tag, "x"), attr(tag, "y"), attr(tag, "x") + attr(tag, "width"), attr(tag, "y") + attr(tag, "height")};
  if (std::regex_search(svg, m, std::regex(R"re(<polyline class="data"[^>]*points="([^"]*)")re"))) {
    std::string pts = m[1];
    static const std::regex pt(R"re(([-0-9.]+),([-0-9.]+))re");
    for (auto it = std::sregex_iterator(pts.begin(), pts.end(), pt); it != std::sregex_iterator(); ++it) {
      double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
      c.marks.push_back({x - 0.8, y - 0.8, x + 0.8, y + 0.8});  // half the line's width around it
    }
  }
  static const std::regex circle(R"re(<circle([^>]*)>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), circle); it != std::sregex_iterator(); ++it) {
    std::string t = (*it)[1];
    double x = attr(t, "cx"), y = attr(t, "cy"), r = attr(t, "r");
    c.marks.push_back({x - r, y - r, x + r, y + r});
  }
  static const std::regex line(R"re(<line class="thr-line"[^>]*>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), line); it != std::sregex_iterator(); ++it)
    c.threshold_lines.push_back(attr((*it)[0], "y1"));
  // Threshold groups, then every other text is an axis label.
  std::string rest;
  size_t pos = 0;
  while (true) {
    size_t g = svg.find("<g class=\"thr\">", pos);
    rest += svg.substr(pos, g == std::string::npos ? std::string::npos : g - pos);
    if (g == std::string::npos) break;
    size_t end = svg.find("</g>", g);
    c.thresholds.push_back(texts(svg.substr(g, end - g), css_font));
    pos = end + 4;
  }
  for (const auto& t : texts(rest, css_font)) {
    c.axis_labels.push_back(t);
    if (t.anchor == "end") c.y_ticks.push_back(std::stod(t.body));
  }
  return c;
}

// Every threshold label of `c` is legible and clear of the data.
void expect_readable_labels(const Chart& c, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_FALSE(c.axis_labels.empty());
  double axis_font = 0;
  for (const auto& t : c.axis_labels) axis_font = std::max(axis_font, t.font);
  EXPECT_EQ(axis_font, 11);  // the stylesheet's, and these tests' premise
  // All data marks are inside the plot (give or take a point's radius).
  ASSERT_FALSE(c.marks.empty());
  for (const auto& d : c.marks) {
    EXPECT_GE(d.x0, c.plot.x0 - 3) << d;
    EXPECT_LE(d.x1, c.plot.x1 + 3) << d;
    EXPECT_GE(d.y0, c.plot.y0 - 3) << d;
    EXPECT_LE(d.y1, c.plot.y1 + 3) << d;
  }
  std::vector<Box> others;  // the texts of the labels before this one
  for (const auto& group : c.thresholds) {
    ASSERT_GE(group.size(), 2u);  // the level and the value
    std::vector<Box> mine;
    for (size_t k = 0; k < group.size(); ++k) {
      const Text& t = group[k];
      Box b = t.box();
      EXPECT_GE(t.font, axis_font) << t.body;
      EXPECT_FALSE(b.intersects(c.plot)) << t.body << " " << b << " over the plot " << c.plot;
      for (const auto& d : c.marks) EXPECT_FALSE(b.intersects(d)) << t.body << " " << b << " over data " << d;
      for (const auto& o : others) EXPECT_FALSE(b.intersects(o)) << t.body << " " << b << " over another label " << o;
      // Its own lines one under the other, a line height apart (their boxes, a whole font's
      // ascent and descent, may touch).
      if (k > 0) {
        EXPECT_GE(t.y - group[k - 1].y, std::max(t.font, group[k - 1].font) + 1) << t.body;
      }
      EXPECT_GE(b.x0, c.plot.x1 + 4) << t.body;  // right of the plot, with air
      EXPECT_GE(b.y0, 0) << t.body;
      EXPECT_LE(b.y1, c.height) << t.body;
      mine.push_back(b);
    }
    others.insert(others.end(), mine.begin(), mine.end());
  }
}

ChartSeries series(std::vector<double> y, double warning, double critical) {
  ChartSeries s;
  s.metric = "weights.queue_ms";
  s.title = "queue_ms per weight update";
  s.x_label = "weight update, in send order";
  s.unit = "ms";
  s.samples = y.size();
  s.y = std::move(y);
  s.warning = warning;
  s.critical = critical;
  return s;
}

// Mostly small values with spikes `spike` high every `every` points.
std::vector<double> spiky(size_t n, double base, double spike, size_t every) {
  std::vector<double> y;
  for (size_t i = 0; i < n; ++i) {
    auto d = static_cast<double>(i);
    y.push_back(i % every == 1 ? spike * (0.7 + 0.3 * std::sin(d)) : base + std::fmod(d, 7));
  }
  return y;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(HtmlChart, DataThatDwarfsTheThresholdsLeavesTheirLabelsReadable) {
  // 40 s spikes over thresholds of 100 ms and 1 s: both lines are within a few pixels of the
  // x axis, where the small values also are.
  for (size_t n : {30, 400}) {  // points drawn as circles; many points: only those above warning
    std::string svg = html_chart_svg(series(spiky(n, 50, 40000, 5), 100, 1000));
    Chart c = parse_chart(svg);
    expect_readable_labels(c, "dwarfed, " + std::to_string(n) + " points");
    ASSERT_EQ(c.thresholds.size(), 2u);
    EXPECT_EQ(c.threshold_lines.size(), 2u);  // both on the chart, as lines near the axis
    for (double y : c.threshold_lines) EXPECT_GT(y, c.plot.y1 - 6);
    EXPECT_EQ(count(svg, "off chart"), 0u);
    // The labels name their level and value, critical above warning.
    EXPECT_EQ(c.thresholds[0][0].body, "critical");
    EXPECT_EQ(c.thresholds[0][1].body, "1000 ms");
    EXPECT_EQ(c.thresholds[1][0].body, "warning");
    EXPECT_EQ(c.thresholds[1][1].body, "100 ms");
    EXPECT_LT(c.thresholds[0][1].y, c.thresholds[1][0].y);
    EXPECT_GE(c.y_ticks.back(), 40000 * 0.7);
  }
}

TEST(HtmlChart, ThresholdsFarAboveTheDataAreNamedAtTheTopOffChart) {
  // Values of 10–60 ms under thresholds of 500 ms and 2 s: the axis stays on the data, and the
  // thresholds are labelled at the top of the margin with an arrow each.
  std::string svg = html_chart_svg(series(spiky(40, 10, 60, 4), 500, 2000));
  Chart c = parse_chart(svg);
  expect_readable_labels(c, "above");
  EXPECT_LT(c.y_ticks.back(), 100);  // the axis is the data's, not 0–2000
  EXPECT_TRUE(c.threshold_lines.empty());
  ASSERT_EQ(c.thresholds.size(), 2u);
  for (const auto& g : c.thresholds) {
    ASSERT_EQ(g.size(), 3u);
    EXPECT_EQ(g[2].body, "off chart");
    EXPECT_LT(g[0].y, c.plot.y0 + 0.5 * (c.plot.y1 - c.plot.y0));  // in the upper half
  }
  EXPECT_EQ(count(svg, "<path"), 2u);  // the arrows
  EXPECT_EQ(count(svg, "above the top of the chart"), 2u);
  // Nothing is shaded: no zone is on the chart.
  EXPECT_EQ(count(svg, "#fef3c7"), 0u);
  EXPECT_EQ(count(svg, "#fee2e2"), 0u);
}

TEST(HtmlChart, AThresholdWithinReachIsOnTheAxis) {
  // Data up to 1.5 s under 2 s and 5 s: the warning is brought onto the axis (a dashed line and
  // an amber zone), the critical, over 2.5 times the data, is named off chart.
  std::string svg = html_chart_svg(series(spiky(40, 900, 1500, 6), 2000, 5000));
  Chart c = parse_chart(svg);
  expect_readable_labels(c, "within reach");
  EXPECT_GE(c.y_ticks.back(), 2000);
  EXPECT_LT(c.y_ticks.back(), 5000);
  ASSERT_EQ(c.threshold_lines.size(), 1u);
  EXPECT_GT(c.threshold_lines[0], c.plot.y0);
  ASSERT_EQ(c.thresholds.size(), 2u);
  EXPECT_EQ(c.thresholds[0][0].body, "critical");
  EXPECT_EQ(c.thresholds[0].back().body, "off chart");
  EXPECT_EQ(c.thresholds[1][0].body, "warning");
  EXPECT_EQ(c.thresholds[1].size(), 2u);
  EXPECT_EQ(count(svg, "#fef3c7"), 1u);
}

TEST(HtmlChart, ThresholdsAmongTheDataAreLabelledAtTheirLines) {
  // Both thresholds within the data's range, far apart: each label is centred on its line.
  std::string svg = html_chart_svg(series(spiky(60, 3000, 40000, 3), 5000, 30000));
  Chart c = parse_chart(svg);
  expect_readable_labels(c, "among");
  ASSERT_EQ(c.threshold_lines.size(), 2u);
  ASSERT_EQ(c.thresholds.size(), 2u);
  // Lines sorted like the labels (top first); the value line sits just under its line.
  std::vector<double> lines = c.threshold_lines;
  std::sort(lines.begin(), lines.end());
  for (size_t k = 0; k < 2; ++k) {
    double middle = (c.thresholds[k][0].y + c.thresholds[k][1].y) / 2 - 4;
    EXPECT_NEAR(middle, lines[k], 6) << c.thresholds[k][0].body;
  }
}

TEST(HtmlChart, LongLabelsWidenTheMarginNotOverlapThePlot) {
  ChartSeries s = series(spiky(40, 10, 5e6, 4), 123456.5, 2500000);
  s.unit = "ms";
  Chart c = parse_chart(html_chart_svg(s));
  expect_readable_labels(c, "long labels");
  Chart usual = parse_chart(html_chart_svg(series(spiky(40, 10, 5e6, 4), 100, 1000)));
  EXPECT_LT(c.plot.x1, usual.plot.x1);
}

// The whole page: every chart of a run whose queue delays dwarf their thresholds while its rpc
// times sit far below theirs.
TEST(HtmlChart, EveryChartOfAPageHasReadableLabels) {
  Report r;
  for (size_t i = 0; i < 600; ++i) {
    UpdateReport u;
    u.trace = TraceId{0xa00000 + i, 6};
    u.queue_ms = i % 50 == 7 ? 45000.0 + static_cast<double>(i) : 20.0 + static_cast<double>(i % 13);
    u.rpc_ms = 30.0 + static_cast<double>(i % 11);
    u.wall_ms = *u.queue_ms + *u.rpc_ms;
    u.complete = true;
    r.updates.push_back(u);
    BatchReport b;
    b.dur_ms = i % 40 == 9 ? 90000.0 : 4000.0 + static_cast<double>(i % 17) * 100;
    r.batches.push_back(b);
  }
  std::string html = to_html(r);
  size_t charts = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) {
    std::string svg = html.substr(p, html.find("</svg>", p) - p);
    Chart c = parse_chart(svg);
    expect_readable_labels(c, "chart " + std::to_string(charts));
    EXPECT_EQ(c.thresholds.size(), 2u);
    ++charts;
  }
  EXPECT_EQ(charts, 3u);  // queue_ms, rpc_ms, generation batches
  EXPECT_EQ(count(html, "off chart"), 2u);  // rpc_ms: 2000 and 5000 ms over data of at most 40
}

}  // namespace
}  // namespace alog
