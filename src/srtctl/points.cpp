// Benchmark points of one or many srtctl jobs and their Pareto frontier per ISL/OSL: the views
// people build in srt-slurm's dashboard (output tokens/s per GPU against tokens/s per user, the
// latency curves), computed from the JobReports and written in every medium plus CSV.
//
// Per-GPU figures need the job's GPU count, which only {job}.json or the worker logs' nodes give;
// without it they stay null rather than being guessed, and such a point cannot be on a frontier.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "report_internal.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace alog::srtctl {

namespace {

using ojson = nlohmann::ordered_json;

std::string n2(std::optional<double> v) {
  return v ? fixed(*v, 2) : std::string("–");
}

std::string shape_name(const ShapeFrontier& s) {
  return fmt::format("ISL {} / OSL {}", s.isl ? std::to_string(*s.isl) : "?",
                     s.osl ? std::to_string(*s.osl) : "?");
}

bool same_shape(const BenchPoint& p, const ShapeFrontier& s) {
  return p.isl == s.isl && p.osl == s.osl;
}

bool on_axes(const BenchPoint& p) {
  return p.output_tps_per_gpu && p.tps_per_user;
}

// A CSV field: quoted when it holds a separator, a quote or a line break (RFC 4180).
std::string csv(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  o += '"';
  return o;
}
std::string csv(std::optional<double> v) {
  return v ? fmt::format("{}", *v) : std::string();
}
template <typename T>
std::string csv_int(const std::optional<T>& v) {
  return v ? std::to_string(*v) : std::string();
}

ojson jopt(std::optional<double> v) {
  return v ? ojson(*v) : ojson(nullptr);
}
template <typename T>
ojson jint(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}
ojson jlat(const LatencyTriple& t) {
  return {{"mean", jopt(t.mean)}, {"median", jopt(t.median)}, {"p99", jopt(t.p99)}};
}

LatencyTriple latency(const BenchRun& r, std::string_view m) {
  return {r.metric(fmt::format("mean_{}_ms", m)), r.metric(fmt::format("median_{}_ms", m)),
          r.metric(fmt::format("p99_{}_ms", m))};
}

// Marks the frontier of one shape: sorted by tok/s/user (descending), a point is on it when its
// tok/s/GPU is the largest of its tok/s/user value and beats every point of a larger one.
void mark_frontier(std::vector<BenchPoint>& pts, std::vector<size_t>& idx) {
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    if (*pts[a].tps_per_user != *pts[b].tps_per_user)
      return *pts[a].tps_per_user > *pts[b].tps_per_user;
    return *pts[a].output_tps_per_gpu > *pts[b].output_tps_per_gpu;
  });
  double best = -INFINITY;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    const double y = *pts[idx[i]].tps_per_user, top = *pts[idx[i]].output_tps_per_gpu;
    while (j < idx.size() && *pts[idx[j]].tps_per_user == y) {
      if (*pts[idx[j]].output_tps_per_gpu == top && top > best) pts[idx[j]].frontier = true;
      ++j;
    }
    best = std::max(best, top);
    i = j;
  }
}

}  // namespace

std::string topology_name(const JobReport& r) {
  if (r.job.agg_workers >= 0) return fmt::format("{}A", r.job.agg_workers);
  if (r.job.prefill_workers >= 0 || r.job.decode_workers >= 0)
    return fmt::format("{}P/{}D",
                       r.job.prefill_workers >= 0 ? std::to_string(r.job.prefill_workers) : "?",
                       r.job.decode_workers >= 0 ? std::to_string(r.job.decode_workers) : "?");
  return {};
}

std::optional<int> job_gpus(const JobReport& r) {
  if (!r.gpus_per_node || *r.gpus_per_node <= 0) return std::nullopt;
  int nodes = 0;
  if (r.agg_nodes && *r.agg_nodes > 0)
    nodes = *r.agg_nodes;
  else if (r.prefill_nodes && r.decode_nodes && *r.prefill_nodes >= 0 && *r.decode_nodes >= 0)
    nodes = *r.prefill_nodes + *r.decode_nodes;
  if (nodes <= 0) {
    std::set<std::string> worker_nodes;
    for (const auto& l : r.logs)
      if ((l.id.role == "prefill" || l.id.role == "decode" || l.id.role == "agg") &&
          !l.id.node.empty())
        worker_nodes.insert(l.id.node);
    nodes = static_cast<int>(worker_nodes.size());
  }
  if (nodes <= 0 || nodes > 100000) return std::nullopt;
  return nodes * *r.gpus_per_node;
}

SweepView sweep_view(const std::vector<JobReport>& jobs, std::optional<double> min_tps_user) {
  return sweep_view(detail::pointers_to(jobs), min_tps_user);
}

SweepView sweep_view(const std::vector<const JobReport*>& jobs, std::optional<double> min_tps_user) {
  SweepView v;
  v.min_tps_user = min_tps_user;
  for (const JobReport* jp : jobs) {
    const JobReport& j = *jp;
    const std::optional<int> gpus = job_gpus(j);
    const std::string topo = topology_name(j);
    const std::string id = j.job.job_id.empty() ? j.name : j.job.job_id;
    for (const auto& r : j.runs) {
      if (!r.finished()) continue;
      if (!r.valid()) {  // not a result: listed apart, never a point
        v.excluded.push_back({fmt::format("{} c{}", id, r.concurrency), r.invalid});
        continue;
      }
      BenchPoint p;
      p.job = id;
      p.name = fmt::format("{} c{}", id, r.concurrency);
      p.topology = topo;
      p.gpus = gpus;
      p.isl = r.isl ? r.isl : j.isl;
      p.osl = r.osl ? r.osl : j.osl;
      p.concurrency = r.concurrency;
      p.output_tps = r.metric("output_throughput");
      p.total_tps = r.metric("total_token_throughput");
      if (gpus) {
        if (p.output_tps) p.output_tps_per_gpu = *p.output_tps / *gpus;
        if (p.total_tps) p.total_tps_per_gpu = *p.total_tps / *gpus;
      }
      p.ttft = latency(r, "ttft");
      p.tpot = latency(r, "tpot");
      p.itl = latency(r, "itl");
      p.e2el = latency(r, "e2el");
      if (p.tpot.mean && *p.tpot.mean > 0 && std::isfinite(*p.tpot.mean))
        p.tps_per_user = 1000.0 / *p.tpot.mean;
      if (auto c = r.metric("completed"); c && *c >= 0) p.completed = static_cast<int64_t>(*c);
      p.failed = r.failed_requests;
      v.points.push_back(std::move(p));
    }
  }
  std::stable_sort(v.points.begin(), v.points.end(), [](const BenchPoint& a, const BenchPoint& b) {
    return std::tie(a.isl, a.osl) < std::tie(b.isl, b.osl);
  });
  for (size_t i = 0; i < v.points.size();) {
    ShapeFrontier s;
    s.isl = v.points[i].isl;
    s.osl = v.points[i].osl;
    std::vector<size_t> idx;
    size_t k = i;
    for (; k < v.points.size() && same_shape(v.points[k], s); ++k)
      if (on_axes(v.points[k])) idx.push_back(k);
    s.points = idx.size();
    mark_frontier(v.points, idx);
    for (size_t m = i; m < k; ++m)
      if (v.points[m].frontier) s.members.push_back(m);
    std::sort(s.members.begin(), s.members.end(), [&](size_t a, size_t b) {
      return *v.points[a].tps_per_user < *v.points[b].tps_per_user;
    });
    if (min_tps_user)
      for (size_t m : idx)
        if (*v.points[m].tps_per_user >= *min_tps_user &&
            (!s.best_at_cutoff ||
             *v.points[m].output_tps_per_gpu > *v.points[*s.best_at_cutoff].output_tps_per_gpu))
          s.best_at_cutoff = m;
    v.shapes.push_back(std::move(s));
    i = k;
  }
  return v;
}

nlohmann::ordered_json sweep_json(const SweepView& v) {
  ojson pts = ojson::array();
  for (const auto& p : v.points)
    pts.push_back({{"name", utf8_clean(p.name)},
                   {"job", utf8_clean(p.job)},
                   {"topology", p.topology},
                   {"gpus", jint(p.gpus)},
                   {"isl", jint(p.isl)},
                   {"osl", jint(p.osl)},
                   {"concurrency", p.concurrency},
                   {"output_tps", jopt(p.output_tps)},
                   {"total_tps", jopt(p.total_tps)},
                   {"output_tps_per_gpu", jopt(p.output_tps_per_gpu)},
                   {"total_tps_per_gpu", jopt(p.total_tps_per_gpu)},
                   {"tps_per_user", jopt(p.tps_per_user)},
                   {"ttft_ms", jlat(p.ttft)},
                   {"tpot_ms", jlat(p.tpot)},
                   {"itl_ms", jlat(p.itl)},
                   {"e2el_ms", jlat(p.e2el)},
                   {"completed", jint(p.completed)},
                   {"failed", jint(p.failed)},
                   {"frontier", p.frontier}});
  ojson shapes = ojson::array();
  for (const auto& s : v.shapes) {
    ojson members = ojson::array();
    for (size_t m : s.members) members.push_back(utf8_clean(v.points[m].name));
    shapes.push_back(
        {{"isl", jint(s.isl)},
         {"osl", jint(s.osl)},
         {"points", s.points},
         {"frontier", std::move(members)},
         {"best_at_cutoff", s.best_at_cutoff ? ojson(utf8_clean(v.points[*s.best_at_cutoff].name))
                                             : ojson(nullptr)}});
  }
  ojson excluded = ojson::array();
  for (const auto& x : v.excluded) excluded.push_back({{"name", utf8_clean(x.name)}, {"invalid", utf8_clean(x.why)}});
  return {{"min_tps_user", jopt(v.min_tps_user)},
          {"points", std::move(pts)},
          {"frontiers", std::move(shapes)},
          {"excluded", std::move(excluded)}};
}

namespace {

// "Not results, left out: 4459 c64 (0 generated tokens), ..." over the runs the gate refused.
std::string excluded_sentence(const SweepView& v) {
  if (v.excluded.empty()) return {};
  std::vector<std::string> parts;
  for (const auto& x : v.excluded) parts.push_back(fmt::format("{} ({})", x.name, x.why));
  return fmt::format("Not results (invalid runs), left out of the points and frontiers: {}.", fmt::join(parts, ", "));
}

std::string cutoff_sentence(const SweepView& v, const ShapeFrontier& s) {
  if (!v.min_tps_user) return {};
  if (!s.best_at_cutoff)
    return fmt::format("No configuration reaches {} tok/s/user.", fixed(*v.min_tps_user, 1));
  const BenchPoint& b = v.points[*s.best_at_cutoff];
  return fmt::format(
      "Best at ≥ {} tok/s/user: {} ({}, {} GPUs), {} output tok/s/GPU at {} tok/s/user.",
      fixed(*v.min_tps_user, 1), b.name, b.topology.empty() ? "?" : b.topology,
      b.gpus ? std::to_string(*b.gpus) : "?", n2(b.output_tps_per_gpu), n2(b.tps_per_user));
}

}  // namespace

std::string sweep_text(const SweepView& v, size_t width) {
  if (v.points.empty() && v.excluded.empty()) return {};
  std::string o;
  auto excluded = [&] {
    for (const auto& l : render::wrap(printable(excluded_sentence(v)), width, "", "  ")) o += fmt::format("{}\n", l);
  };
  if (v.points.empty()) {
    excluded();
    return o;
  }
  o = fmt::format(
      "{}\n",
      render::fit(fmt::format("Benchmark points ({}; * = on the Pareto frontier of its ISL/OSL):",
                              v.points.size()),
                  width));
  render::TextTable t;
  t.head = {"",        "point",      "topo", "GPUs", "ISL/OSL", "out/GPU",
            "tot/GPU", "tok/s/user", "TTFT", "TPOT", "failed"};
  t.right = {false, false, false, true, true, true, true, true, true, true, true};
  for (const auto& p : v.points)
    t.rows.push_back({p.frontier ? "*" : "", printable(p.name),
                      p.topology.empty() ? "?" : p.topology, p.gpus ? std::to_string(*p.gpus) : "?",
                      fmt::format("{}/{}", p.isl ? std::to_string(*p.isl) : "?",
                                  p.osl ? std::to_string(*p.osl) : "?"),
                      n2(p.output_tps_per_gpu), n2(p.total_tps_per_gpu), n2(p.tps_per_user),
                      n2(p.ttft.mean), n2(p.tpot.mean),
                      p.failed ? std::to_string(*p.failed) : "–"});
  o += render::text_table(t, width);
  for (const auto& s : v.shapes) {
    std::vector<std::string> names;
    for (size_t m : s.members) names.push_back(printable(v.points[m].name));
    std::string line = fmt::format("Frontier {}: {}", shape_name(s),
                                   names.empty() ? std::string("none (no point has both axes)")
                                                 : fmt::format("{}", fmt::join(names, ", ")));
    for (const auto& l : render::wrap(line, width, "", "  ")) o += fmt::format("{}\n", l);
    if (auto c = cutoff_sentence(v, s); !c.empty())
      for (const auto& l : render::wrap(c, width, "  ", "  ")) o += fmt::format("{}\n", l);
  }
  if (!v.excluded.empty()) excluded();
  return o;
}

namespace {

constexpr const char* kMermaidPalette[] = {"#2563eb", "#16a34a", "#9333ea", "#ea580c",
                                           "#0891b2", "#be123c", "#4d7c0f", "#6b7280"};
constexpr const char* kMermaidColour[] = {"blue", "green", "purple", "orange",
                                          "teal", "red",   "olive",  "grey"};

}  // namespace

// Mermaid's xychart draws lines over categories and cannot leave a gap: per ISL/OSL the
// categories are the concurrencies of the job with the most points there (the first such job), and
// a job is drawn only when it has a value at every one of them; the others are named as not drawn.
// Mermaid has no legend, so the palette is set in the chart's front matter and named below it.
std::string latency_mermaid(const SweepView& v) {
  std::string o;
  for (const auto& s : v.shapes) {
    std::vector<std::string> jobs;  // in point order
    std::map<std::string, std::map<int64_t, const BenchPoint*>> by_job;
    for (const auto& p : v.points) {
      if (!same_shape(p, s) || p.concurrency <= 0) continue;
      if (by_job.find(p.job) == by_job.end()) jobs.push_back(p.job);
      by_job[p.job].emplace(p.concurrency, &p);  // the first point of a concurrency
    }
    std::string widest;
    for (const auto& j : jobs)
      if (by_job[j].size() > (widest.empty() ? 0 : by_job[widest].size())) widest = j;
    if (widest.empty() || by_job[widest].size() < 2) continue;
    std::vector<int64_t> cats;
    for (const auto& [c, p] : by_job[widest]) cats.push_back(c);
    static const std::pair<const char*, LatencyTriple BenchPoint::*> kCurves[] = {
        {"TPOT", &BenchPoint::tpot}, {"TTFT", &BenchPoint::ttft}};
    for (const auto& [title, member] : kCurves) {
      std::vector<std::pair<std::string, std::vector<double>>> lines;
      std::vector<std::string> left_out;
      for (const auto& j : jobs) {
        std::vector<double> ys;
        for (int64_t c : cats) {
          auto it = by_job[j].find(c);
          if (it == by_job[j].end() || !(it->second->*member).mean ||
              !std::isfinite(*(it->second->*member).mean))
            break;
          ys.push_back(*(it->second->*member).mean);
        }
        if (ys.size() == cats.size() && lines.size() < std::size(kMermaidPalette))
          lines.emplace_back(j, std::move(ys));
        else
          left_out.push_back(j);
      }
      if (lines.empty()) continue;
      double top = 0;
      for (const auto& [j, ys] : lines)
        for (double y : ys) top = std::max(top, y);
      std::vector<std::string> palette, legend, xs;
      for (size_t i = 0; i < lines.size(); ++i) {
        palette.push_back(kMermaidPalette[i]);
        legend.push_back(fmt::format("{} ({})", md_escape(lines[i].first), kMermaidColour[i]));
      }
      for (int64_t c : cats) xs.push_back(fmt::format("\"{}\"", c));
      o += fmt::format(
          "\n```mermaid\n---\nconfig:\n  themeVariables:\n    xyChart:\n      plotColorPalette: \"{}\"\n"
          "---\nxychart-beta\n    title \"Mean {} against concurrency, {}\"\n"
          "    x-axis \"concurrency\" [{}]\n    y-axis \"mean {} (ms)\" 0 --> {}\n",
          fmt::join(palette, ", "), title, shape_name(s), fmt::join(xs, ", "), title,
          fixed(std::ceil(top * 11 / 10), 0));  // 10 % headroom (top * 1.1 rounds 55 up to 56)
      for (const auto& [j, ys] : lines) {
        std::vector<std::string> vals;
        for (double y : ys) vals.push_back(fixed(y, 2));
        o += fmt::format("    line [{}]\n", fmt::join(vals, ", "));
      }
      o += fmt::format("```\n\nMean {}: {}.", title, fmt::join(legend, ", "));
      if (!left_out.empty()) {
        std::vector<std::string> names;
        for (const auto& j : left_out) names.push_back(md_escape(j));
        o += fmt::format(" Not drawn (no point at every concurrency of the chart): {}.",
                         fmt::join(names, ", "));
      }
      o += "\n";
    }
  }
  return o;
}

std::string sweep_markdown(const SweepView& v) {
  if (v.points.empty() && v.excluded.empty()) return {};
  std::string o = "## Benchmark points\n\n";
  if (v.points.empty()) return o + md_escape(excluded_sentence(v)) + "\n";
  o += "Output and total tokens/s per GPU, tokens/s per user (1000 / mean TPOT), latencies in ms "
       "(mean / median / P99). ★ = on the Pareto frontier of its ISL/OSL.\n\n";
  o += "| | point | topology | GPUs | ISL/OSL | conc | out tok/s/GPU | total tok/s/GPU | "
       "tok/s/user | TTFT | "
       "TPOT | ITL | E2EL | completed | failed |\n";
  o += "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  auto lat = [](const LatencyTriple& t) {
    return fmt::format("{} / {} / {}", n2(t.mean), n2(t.median), n2(t.p99));
  };
  for (const auto& p : v.points)
    o += fmt::format(
        "| {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        p.frontier ? "★" : "", md_escape(p.name), p.topology.empty() ? "?" : p.topology,
        p.gpus ? std::to_string(*p.gpus) : "?", p.isl ? std::to_string(*p.isl) : "?",
        p.osl ? std::to_string(*p.osl) : "?", p.concurrency, n2(p.output_tps_per_gpu),
        n2(p.total_tps_per_gpu), n2(p.tps_per_user), lat(p.ttft), lat(p.tpot), lat(p.itl),
        lat(p.e2el), p.completed ? std::to_string(*p.completed) : "–",
        p.failed ? std::to_string(*p.failed) : "–");
  if (!v.excluded.empty()) o += fmt::format("\n{}\n", md_escape(excluded_sentence(v)));
  for (const auto& s : v.shapes) {
    o += fmt::format("\n### Pareto frontier, {}\n\n", shape_name(s));
    if (s.members.empty()) {
      o +=
          "No point has both tokens/s per GPU and tokens/s per user (GPU count or TPOT unknown).\n";
      continue;
    }
    o += "| point | topology | GPUs | concurrency | tok/s/user | out tok/s/GPU "
         "|\n|---|---|--:|--:|--:|--:|\n";
    for (size_t m : s.members) {
      const auto& p = v.points[m];
      o +=
          fmt::format("| {} | {} | {} | {} | {} | {} |\n", md_escape(p.name),
                      p.topology.empty() ? "?" : p.topology, p.gpus ? std::to_string(*p.gpus) : "?",
                      p.concurrency, n2(p.tps_per_user), n2(p.output_tps_per_gpu));
    }
    if (auto c = cutoff_sentence(v, s); !c.empty()) o += fmt::format("\n{}\n", md_escape(c));
    // Mermaid's xychart draws lines over categories, not scatter plots: the frontier as a line
    // with its tok/s/user values as the categories.
    if (s.members.size() >= 2) {
      std::vector<std::string> xs, ys;
      double top = 0;
      for (size_t m : s.members) {
        xs.push_back(fmt::format("\"{}\"", fixed(*v.points[m].tps_per_user, 1)));
        ys.push_back(fixed(*v.points[m].output_tps_per_gpu, 2));
        top = std::max(top, *v.points[m].output_tps_per_gpu);
      }
      o += fmt::format(
          "\n```mermaid\nxychart-beta\n    title \"Frontier {}\"\n    x-axis \"tok/s/user\" [{}]\n"
          "    y-axis \"output tok/s/GPU\" 0 --> {}\n    line [{}]\n```\n",
          shape_name(s), fmt::join(xs, ", "), fixed(std::ceil(top * 1.1), 0), fmt::join(ys, ", "));
    }
  }
  // Latency curves: per shape and job, TTFT / TPOT / ITL against concurrency.
  o += "\n### Latency against concurrency\n\n| ISL/OSL | job | concurrency | TTFT mean | TPOT mean "
       "| ITL mean |\n"
       "|--:|---|--:|--:|--:|--:|\n";
  for (const auto& p : v.points)
    o += fmt::format("| {}/{} | {} | {} | {} | {} | {} |\n", p.isl ? std::to_string(*p.isl) : "?",
                     p.osl ? std::to_string(*p.osl) : "?", md_escape(p.job), p.concurrency,
                     n2(p.ttft.mean), n2(p.tpot.mean), n2(p.itl.mean));
  o += latency_mermaid(v);
  return o;
}

namespace {

// A small self-contained SVG chart: points (with <title> tooltips), optional lines through them,
// and an optional vertical marker. Axes start at 0 (or the data minimum for a log axis).
struct Series {
  std::string label;
  std::string color;
  std::vector<std::pair<double, double>> xy;
  std::vector<std::string> tips;
  bool line = false;
  bool dots = true;
};

std::string svg_chart(const std::string& aria, const std::string& xlabel, const std::string& ylabel,
                      const std::vector<Series>& series, std::optional<double> vline, bool log_x) {
  constexpr double W = 560, H = 300, L = 60, R = 16, T = 14, B = 40;
  double xmax = 0, ymax = 0, xmin = log_x ? INFINITY : 0;
  for (const auto& s : series)
    for (auto [x, y] : s.xy) {
      xmax = std::max(xmax, x);
      ymax = std::max(ymax, y);
      if (log_x && x > 0) xmin = std::min(xmin, x);
    }
  if (vline) xmax = std::max(xmax, *vline);
  if (xmax <= 0) xmax = 1;
  if (ymax <= 0) ymax = 1;
  if (!std::isfinite(xmin) || xmin >= xmax) xmin = log_x ? xmax / 2 : 0;
  xmax *= log_x ? 1.0 : 1.05;
  ymax *= 1.1;
  auto fx = [&](double x) {
    double f = log_x ? (std::log2(std::max(x, xmin)) - std::log2(xmin)) /
                           std::max(1e-9, std::log2(xmax) - std::log2(xmin))
                     : x / xmax;
    return L + f * (W - L - R);
  };
  auto fy = [&](double y) { return T + (1 - y / ymax) * (H - T - B); };
  std::string o = fmt::format("<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n", W, H,
                              html_escape(aria));
  o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#9ca3af\"/>\n", L, H - B,
                   W - R, H - B);
  o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#9ca3af\"/>\n", L, T, L,
                   H - B);
  for (int k = 0; k <= 4; ++k) {
    double y = ymax * k / 4;
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", L - 4,
                     fy(y) + 4, fixed(y, y >= 100 ? 0 : 1));
    double x = log_x ? std::exp2(std::log2(xmin) + (std::log2(xmax) - std::log2(xmin)) * k / 4)
                     : xmax * k / 4;
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", fx(x),
                     H - B + 14, fixed(x, x >= 100 ? 0 : 1));
  }
  o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                   (L + W - R) / 2, H - 6, html_escape(xlabel));
  o += fmt::format(
      "<text x=\"12\" y=\"{:.1f}\" transform=\"rotate(-90 12 {:.1f})\" "
      "text-anchor=\"middle\">{}</text>\n",
      (T + H - B) / 2, (T + H - B) / 2, html_escape(ylabel));
  if (vline) {
    o += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#dc2626\" "
        "stroke-dasharray=\"5 4\">"
        "<title>cutoff {3} tok/s/user</title></line>\n",
        fx(*vline), T, H - B, fixed(*vline, 1));
  }
  for (const auto& s : series) {
    if (s.line && s.xy.size() >= 2) {
      std::string pts;
      for (auto [x, y] : s.xy) pts += fmt::format("{:.1f},{:.1f} ", fx(x), fy(y));
      o += fmt::format(
          "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n", s.color,
          pts);
    }
    if (s.dots)
      for (size_t i = 0; i < s.xy.size(); ++i)
        o += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" "
            "fill=\"{}\"><title>{}</title></circle>\n",
            fx(s.xy[i].first), fy(s.xy[i].second), s.color,
            html_escape(i < s.tips.size() ? s.tips[i] : s.label));
  }
  o += "</svg>\n";
  return o;
}

constexpr const char* kPalette[] = {"#2563eb", "#16a34a", "#9333ea", "#ea580c",
                                    "#0891b2", "#be123c", "#4d7c0f"};

}  // namespace

std::string sweep_html(const SweepView& v) {
  if (v.points.empty() && v.excluded.empty()) return {};
  auto e = [](std::string_view s) { return html_escape(s); };
  if (v.points.empty())
    return fmt::format("<h2>Benchmark points</h2>\n<p class=\"s-warning\">{}</p>\n", e(excluded_sentence(v)));
  std::string o =
      "<h2>Benchmark points</h2>\n<div class=\"scroll\"><table><tr><th></th><th "
      "class=\"l\">point</th>"
      "<th class=\"l\">topology</th><th>GPUs</th><th>ISL/OSL</th><th>concurrency</th>"
      "<th>out tok/s/GPU</th><th>total tok/s/GPU</th><th>tok/s/user</th><th>TTFT mean/med/P99</th>"
      "<th>TPOT mean/med/P99</th><th>ITL mean/med/P99</th><th>E2EL "
      "mean/med/P99</th><th>completed</th>"
      "<th>failed</th></tr>\n";
  auto lat = [](const LatencyTriple& t) {
    return fmt::format("{} / {} / {}", n2(t.mean), n2(t.median), n2(t.p99));
  };
  for (const auto& p : v.points)
    o += fmt::format(
        "<tr><td>{}</td><td class=\"l\">{}</td><td "
        "class=\"l\">{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></"
        "tr>\n",
        p.frontier ? "★" : "", e(p.name), e(p.topology.empty() ? "?" : p.topology),
        p.gpus ? std::to_string(*p.gpus) : "?", p.isl ? std::to_string(*p.isl) : "?",
        p.osl ? std::to_string(*p.osl) : "?", p.concurrency, n2(p.output_tps_per_gpu),
        n2(p.total_tps_per_gpu), n2(p.tps_per_user), lat(p.ttft), lat(p.tpot), lat(p.itl),
        lat(p.e2el), p.completed ? std::to_string(*p.completed) : "–",
        p.failed ? std::to_string(*p.failed) : "–");
  o += "</table></div>\n";
  if (!v.excluded.empty()) o += fmt::format("<p class=\"s-warning\">{}</p>\n", e(excluded_sentence(v)));
  for (const auto& s : v.shapes) {
    o += fmt::format("<h3>Pareto frontier, {}</h3>\n", e(shape_name(s)));
    Series all{"points", "#9ca3af", {}, {}, false, true},
        front{"frontier", "#2563eb", {}, {}, true, true};
    for (const auto& p : v.points)
      if (same_shape(p, s) && on_axes(p) && !p.frontier) {
        all.xy.emplace_back(*p.tps_per_user, *p.output_tps_per_gpu);
        all.tips.push_back(fmt::format("{}: {} tok/s/user, {} out tok/s/GPU", p.name,
                                       n2(p.tps_per_user), n2(p.output_tps_per_gpu)));
      }
    for (size_t m : s.members) {
      const auto& p = v.points[m];
      front.xy.emplace_back(*p.tps_per_user, *p.output_tps_per_gpu);
      front.tips.push_back(fmt::format("{} (frontier): {} tok/s/user, {} out tok/s/GPU", p.name,
                                       n2(p.tps_per_user), n2(p.output_tps_per_gpu)));
    }
    if (s.points == 0) {
      o += "<p>No point has both tokens/s per GPU and tokens/s per user (GPU count or TPOT "
           "unknown).</p>\n";
      continue;
    }
    o += fmt::format(
        "<figure>{}<figcaption>Blue: the frontier (no other point is better on both axes); grey: "
        "dominated "
        "points{}.</figcaption></figure>\n",
        svg_chart(
            fmt::format("Output tokens/s per GPU against tokens/s per user, {}", shape_name(s)),
            "tokens/s per user (1000 / mean TPOT)", "output tok/s/GPU", {all, front},
            v.min_tps_user, false),
        v.min_tps_user
            ? fmt::format("; dashed red: the cutoff at {} tok/s/user", fixed(*v.min_tps_user, 1))
            : std::string());
    std::vector<std::string> names;
    for (size_t m : s.members) names.push_back(e(v.points[m].name));
    o += fmt::format("<p>Frontier: {}.", fmt::join(names, ", "));
    if (auto c = cutoff_sentence(v, s); !c.empty()) o += fmt::format(" {}", e(c));
    o += "</p>\n";
    // Latency curves, one line per job.
    static const std::pair<const char*, LatencyTriple BenchPoint::*> kCurves[] = {
        {"TTFT", &BenchPoint::ttft}, {"TPOT", &BenchPoint::tpot}, {"ITL", &BenchPoint::itl}};
    for (const auto& [title, member] : kCurves) {
      std::vector<Series> lines;
      std::map<std::string, size_t> by_job;
      for (const auto& p : v.points) {
        if (!same_shape(p, s) || !(p.*member).mean || p.concurrency <= 0) continue;
        auto [it, added] = by_job.emplace(p.job, lines.size());
        if (added)
          lines.push_back(
              {p.job, kPalette[lines.size() % std::size(kPalette)], {}, {}, true, true});
        lines[it->second].xy.emplace_back(static_cast<double>(p.concurrency), *(p.*member).mean);
        lines[it->second].tips.push_back(
            fmt::format("{}: mean {} {} ms", p.name, title, n2((p.*member).mean)));
      }
      if (lines.empty()) continue;
      for (auto& l : lines) {
        std::vector<size_t> order(l.xy.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(),
                  [&](size_t a, size_t b) { return l.xy[a].first < l.xy[b].first; });
        Series sorted = l;
        for (size_t i = 0; i < order.size(); ++i) {
          sorted.xy[i] = l.xy[order[i]];
          sorted.tips[i] = l.tips[order[i]];
        }
        l = std::move(sorted);
      }
      std::vector<std::string> legend;
      for (const auto& l : lines)
        legend.push_back(fmt::format("<span style=\"color:{}\">■</span> {}", l.color, e(l.label)));
      o += fmt::format(
          "<figure>{}<figcaption>Mean {} (ms) against concurrency: {}</figcaption></figure>\n",
          svg_chart(fmt::format("Mean {} against concurrency, {}", title, shape_name(s)),
                    "concurrency (log scale)", fmt::format("mean {} (ms)", title), lines,
                    std::nullopt, true),
          title, fmt::join(legend, " "));
    }
  }
  return o;
}

namespace {

std::optional<double> point_metric(const BenchPoint& p, std::string_view m) {
  if (m == "output_tps_per_gpu") return p.output_tps_per_gpu;
  if (m == "total_tps_per_gpu") return p.total_tps_per_gpu;
  if (m == "tps_per_user") return p.tps_per_user;
  if (m == "output_tps") return p.output_tps;
  if (m == "mean_ttft_ms") return p.ttft.mean;
  if (m == "mean_tpot_ms") return p.tpot.mean;
  if (m == "mean_itl_ms") return p.itl.mean;
  if (m == "mean_e2el_ms") return p.e2el.mean;
  if (m == "p99_ttft_ms") return p.ttft.p99;
  if (m == "p99_tpot_ms") return p.tpot.p99;
  return std::nullopt;
}

using PointKey = std::tuple<std::optional<int64_t>, std::optional<int64_t>, int64_t>;
PointKey key_of(const BenchPoint& p) {
  return {p.isl, p.osl, p.concurrency};
}

std::string signed_pct(double p) {
  std::string s = fixed(p, 1);
  if (s.starts_with("-")) return fmt::format("−{}", s.substr(1));
  return fmt::format("{}{}", p > 0 && s != "0.0" ? "+" : "", s);
}

}  // namespace

const std::vector<std::pair<std::string, bool>>& point_metrics() {
  static const std::vector<std::pair<std::string, bool>> m = {
      {"output_tps_per_gpu", true}, {"total_tps_per_gpu", true}, {"tps_per_user", true},
      {"output_tps", true},         {"mean_ttft_ms", false},     {"mean_tpot_ms", false},
      {"mean_itl_ms", false},       {"mean_e2el_ms", false},     {"p99_ttft_ms", false},
      {"p99_tpot_ms", false}};
  return m;
}

PointsComparison compare_points(const std::vector<std::vector<JobReport>>& sides,
                                const std::vector<std::string>& labels, size_t baseline) {
  PointsComparison c;
  c.labels = labels;
  c.labels.resize(sides.size());
  c.baseline = baseline < sides.size() ? baseline : 0;
  // Each side's points, one per key: sweep_view keeps job order within a shape, so the first
  // point of a key is that of the first job that finished it.
  std::vector<std::map<PointKey, BenchPoint>> per(sides.size());
  for (size_t i = 0; i < sides.size(); ++i)
    for (auto& p : sweep_view(sides[i], std::nullopt).points) {
      p.frontier = false;
      per[i].emplace(key_of(p), std::move(p));
    }
  std::set<PointKey> keys;
  for (const auto& m : per)
    for (const auto& [k, p] : m) keys.insert(k);
  for (const auto& k : keys)
    for (size_t i = 0; i < sides.size(); ++i) {
      auto it = per[i].find(k);
      if (it == per[i].end()) continue;
      PointChange row;
      row.side = i;
      row.point = it->second;
      auto b = per[c.baseline].find(k);
      row.matched = b != per[c.baseline].end();
      if (row.matched && i != c.baseline)
        for (const auto& [m, higher] : point_metrics()) {
          auto v = point_metric(row.point, m), bv = point_metric(b->second, m);
          if (v && bv && *bv != 0) row.change_pct.emplace_back(m, (*v - *bv) / *bv * 100.0);
        }
      c.rows.push_back(std::move(row));
    }
  // The frontier over every side's points, per shape (rows are sorted by shape).
  for (size_t i = 0; i < c.rows.size();) {
    size_t k = i;
    std::vector<BenchPoint> pts;
    std::vector<size_t> idx, back;
    for (; k < c.rows.size() && c.rows[k].point.isl == c.rows[i].point.isl &&
           c.rows[k].point.osl == c.rows[i].point.osl;
         ++k) {
      if (!on_axes(c.rows[k].point)) continue;
      idx.push_back(pts.size());
      back.push_back(k);
      pts.push_back(c.rows[k].point);
    }
    mark_frontier(pts, idx);
    std::vector<std::pair<double, std::string>> members;
    for (size_t m = 0; m < pts.size(); ++m)
      if (pts[m].frontier) {
        c.rows[back[m]].point.frontier = true;
        members.emplace_back(*pts[m].tps_per_user,
                             fmt::format("{}: {}", c.labels[c.rows[back[m]].side], pts[m].name));
      }
    std::stable_sort(members.begin(), members.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    ShapeFrontier shape;
    shape.isl = c.rows[i].point.isl;
    shape.osl = c.rows[i].point.osl;
    std::vector<std::string> names;
    for (auto& [y, n] : members) names.push_back(std::move(n));
    c.frontiers.emplace_back(shape_name(shape), std::move(names));
    i = k;
  }
  return c;
}

nlohmann::ordered_json points_comparison_json(const PointsComparison& c) {
  ojson rows = ojson::array();
  for (const auto& r : c.rows) {
    const BenchPoint& p = r.point;
    ojson ch = ojson::object();
    for (const auto& [m, v] : r.change_pct) ch[m] = v;
    rows.push_back({{"side", utf8_clean(c.labels[r.side])},
                    {"baseline", r.side == c.baseline},
                    {"job", utf8_clean(p.job)},
                    {"point", utf8_clean(p.name)},
                    {"topology", p.topology},
                    {"gpus", jint(p.gpus)},
                    {"isl", jint(p.isl)},
                    {"osl", jint(p.osl)},
                    {"concurrency", p.concurrency},
                    {"output_tps", jopt(p.output_tps)},
                    {"output_tps_per_gpu", jopt(p.output_tps_per_gpu)},
                    {"total_tps_per_gpu", jopt(p.total_tps_per_gpu)},
                    {"tps_per_user", jopt(p.tps_per_user)},
                    {"ttft_ms", jlat(p.ttft)},
                    {"tpot_ms", jlat(p.tpot)},
                    {"itl_ms", jlat(p.itl)},
                    {"e2el_ms", jlat(p.e2el)},
                    {"frontier", p.frontier},
                    {"matched", r.matched},
                    {"change_pct", std::move(ch)}});
  }
  ojson fr = ojson::array();
  for (const auto& [shape, names] : c.frontiers) {
    ojson n = ojson::array();
    for (const auto& x : names) n.push_back(utf8_clean(x));
    fr.push_back({{"shape", shape}, {"frontier", std::move(n)}});
  }
  return {{"baseline", utf8_clean(c.labels.empty() ? std::string() : c.labels[c.baseline])},
          {"rows", std::move(rows)},
          {"frontiers", std::move(fr)}};
}

namespace {

std::string change_of(const PointChange& r, std::string_view m) {
  for (const auto& [k, v] : r.change_pct)
    if (k == m) return signed_pct(v);
  return {};
}

}  // namespace

std::string points_comparison_markdown(const PointsComparison& c) {
  if (c.rows.empty()) return {};
  std::string o = fmt::format(
      "\n## Benchmark points against {}\n\nMatched by ISL/OSL and concurrency; Δ is the change "
      "against the baseline's point in percent (per GPU and per user: higher is better; latencies: "
      "lower). ★ = on the Pareto frontier of every side's points of its ISL/OSL. Latencies in ms.\n\n",
      md_escape(c.labels[c.baseline]));
  o += "| | side | point | topology | GPUs | ISL/OSL | conc | out tok/s/GPU | Δ | total tok/s/GPU | Δ | "
       "tok/s/user | Δ | TTFT mean | Δ | TPOT mean | Δ | ITL mean | Δ | E2EL mean | Δ |\n"
       "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& r : c.rows) {
    const BenchPoint& p = r.point;
    auto d = [&](std::string_view m) {
      if (r.side == c.baseline) return std::string("base");
      if (!r.matched) return std::string("new");
      std::string x = change_of(r, m);
      return x.empty() ? std::string("–") : x;
    };
    o += fmt::format(
        "| {} | {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} "
        "|\n",
        p.frontier ? "★" : "", md_escape(c.labels[r.side]), md_escape(p.name),
        p.topology.empty() ? "?" : p.topology, p.gpus ? std::to_string(*p.gpus) : "?",
        p.isl ? std::to_string(*p.isl) : "?", p.osl ? std::to_string(*p.osl) : "?", p.concurrency,
        n2(p.output_tps_per_gpu), d("output_tps_per_gpu"), n2(p.total_tps_per_gpu),
        d("total_tps_per_gpu"), n2(p.tps_per_user), d("tps_per_user"), n2(p.ttft.mean),
        d("mean_ttft_ms"), n2(p.tpot.mean), d("mean_tpot_ms"), n2(p.itl.mean), d("mean_itl_ms"),
        n2(p.e2el.mean), d("mean_e2el_ms"));
  }
  o += "\n";
  for (const auto& [shape, names] : c.frontiers)
    o += fmt::format("- Frontier of every side, {}: {}\n", shape,
                     names.empty() ? std::string("none (no point has both axes)")
                                   : md_escape(fmt::format("{}", fmt::join(names, ", "))));
  return o;
}

std::string points_comparison_text(const PointsComparison& c, size_t width) {
  if (c.rows.empty()) return {};
  std::string o;
  for (const auto& l : render::wrap(
           fmt::format("Benchmark points against {} (* = on the frontier of every side; Δ % "
                       "against the baseline's point of the same ISL/OSL and concurrency):",
                       printable(c.labels[c.baseline])),
           width))
    o += l + "\n";
  render::TextTable t;
  t.head = {"", "side", "point", "ISL/OSL", "out/GPU", "tot/GPU", "tok/s/user", "TTFT", "TPOT", "ITL"};
  t.right = {false, false, false, true, true, true, true, true, true, true};
  static const char* kShownMetrics[] = {"output_tps_per_gpu", "total_tps_per_gpu", "tps_per_user",
                                        "mean_ttft_ms", "mean_tpot_ms", "mean_itl_ms"};
  for (const auto& r : c.rows) {
    const BenchPoint& p = r.point;
    t.rows.push_back({p.frontier ? "*" : "", printable(c.labels[r.side]), printable(p.name),
                      fmt::format("{}/{}", p.isl ? std::to_string(*p.isl) : "?",
                                  p.osl ? std::to_string(*p.osl) : "?"),
                      n2(p.output_tps_per_gpu), n2(p.total_tps_per_gpu), n2(p.tps_per_user),
                      n2(p.ttft.mean), n2(p.tpot.mean), n2(p.itl.mean)});
    if (r.side == c.baseline || r.change_pct.empty()) continue;
    std::vector<std::string> delta = {"", "", "  Δ %", ""};
    for (const char* m : kShownMetrics) delta.push_back(change_of(r, m));
    t.rows.push_back(std::move(delta));
  }
  o += render::text_table(t, width);
  for (const auto& [shape, names] : c.frontiers) {
    std::string line = fmt::format("Frontier of every side, {}: {}", shape,
                                   names.empty() ? std::string("none")
                                                 : fmt::format("{}", fmt::join(names, ", ")));
    for (const auto& l : render::wrap(printable(line), width, "", "  ")) o += l + "\n";
  }
  return o;
}

std::vector<std::pair<std::string, std::string>> sweep_csv(const SweepView& v) {
  std::string p =
      "job,point,topology,gpus,isl,osl,concurrency,output_tps,total_tps,output_tps_per_gpu,total_"
      "tps_per_gpu,"
      "tps_per_user,ttft_mean_ms,ttft_median_ms,ttft_p99_ms,tpot_mean_ms,tpot_median_ms,tpot_p99_"
      "ms,itl_mean_ms,"
      "itl_median_ms,itl_p99_ms,e2el_mean_ms,e2el_median_ms,e2el_p99_ms,completed,failed,"
      "frontier\n";
  for (const auto& x : v.points) {
    std::vector<std::string> f{csv(x.job),
                               csv(x.name),
                               csv(x.topology),
                               csv_int(x.gpus),
                               csv_int(x.isl),
                               csv_int(x.osl),
                               std::to_string(x.concurrency),
                               csv(x.output_tps),
                               csv(x.total_tps),
                               csv(x.output_tps_per_gpu),
                               csv(x.total_tps_per_gpu),
                               csv(x.tps_per_user)};
    for (const auto* t : {&x.ttft, &x.tpot, &x.itl, &x.e2el}) {
      f.push_back(csv(t->mean));
      f.push_back(csv(t->median));
      f.push_back(csv(t->p99));
    }
    f.push_back(csv_int(x.completed));
    f.push_back(csv_int(x.failed));
    f.push_back(x.frontier ? "1" : "0");
    p += fmt::format("{}\n", fmt::join(f, ","));
  }
  std::string fr =
      "isl,osl,rank,point,job,concurrency,tps_per_user,output_tps_per_gpu,best_at_cutoff\n";
  for (const auto& s : v.shapes)
    for (size_t k = 0; k < s.members.size(); ++k) {
      const auto& x = v.points[s.members[k]];
      fr += fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_int(s.isl), csv_int(s.osl), k + 1,
                        csv(x.name), csv(x.job), x.concurrency, csv(x.tps_per_user),
                        csv(x.output_tps_per_gpu), s.best_at_cutoff == s.members[k] ? 1 : 0);
    }
  return {{"benchmark_points.csv", std::move(p)}, {"frontier.csv", std::move(fr)}};
}

}  // namespace alog::srtctl
