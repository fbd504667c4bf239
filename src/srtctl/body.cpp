// The srtctl job's Body: its own detail below the shared header, in the four media. The terminal
// view keeps to what fits one screen (job line, readiness, the benchmark's key columns, what did
// not finish, problems); SUMMARY.md and report.html carry the full tables.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analyze_logs/render/render.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "report_internal.hpp"

namespace alog::srtctl {

namespace {

using namespace detail;

std::string topology_text(const JobReport& r) {
  std::vector<std::string> parts;
  if (r.job.prefill_workers >= 0 || r.job.decode_workers >= 0)
    parts.push_back(fmt::format("{}P/{}D", r.job.prefill_workers >= 0 ? std::to_string(r.job.prefill_workers) : "?",
                                r.job.decode_workers >= 0 ? std::to_string(r.job.decode_workers) : "?"));
  if (r.job.agg_workers >= 0) parts.push_back(fmt::format("{} aggregated", r.job.agg_workers));
  return fmt::format("{}", fmt::join(parts, " "));
}

std::string readiness_text(const Readiness& rd) {
  if (rd.ready) {
    std::string s = "Model ready" + (rd.ready_at.empty() ? std::string() : " at " + printable(rd.ready_at));
    if (rd.ready_after_s) s += fmt::format(", {} after the first worker log line", duration_text(*rd.ready_after_s));
    if (rd.not_ready_reports > 0) s += fmt::format(" ({} not-ready reports)", rd.not_ready_reports);
    return s;
  }
  if (!rd.polled) return {};
  std::string s = rd.timed_out ? "Model never ready: the health check gave up" : "Model not ready yet: still polling";
  if (rd.timeout_s) s += fmt::format(" after {} s", *rd.timeout_s);
  if (rd.waiting_prefill && rd.waiting_decode)
    s += fmt::format("; waiting for {} prefills and {} decodes", *rd.waiting_prefill, *rd.waiting_decode);
  return s;
}

// The columns that fit a 100-column terminal; the rest are in SUMMARY.md and report.html.
struct KeyColumn {
  const char* key;
  const char* title;
};
constexpr KeyColumn kKeyColumns[] = {{"request_throughput", "req/s"}, {"output_throughput", "out tok/s"},
                                     {"mean_ttft_ms", "TTFT mean"},   {"p99_ttft_ms", "TTFT p99"},
                                     {"mean_tpot_ms", "TPOT mean"},   {"p99_tpot_ms", "TPOT p99"}};

class SrtctlBody final : public core::Body {
 public:
  // Shared with the caller's copy (report.json and the set views read the same report): the
  // report is never copied.
  explicit SrtctlBody(std::shared_ptr<const JobReport> r) : own_(std::move(r)), r_(*own_) {}

  std::string text(const core::TextOptions& opt) const override {
    const size_t w = opt.width;
    std::string o;
    auto line = [&](const std::string& s) {
      for (const auto& l : render::wrap(s, w, "", "  ")) o += l + "\n";
    };
    std::vector<std::string> job{"Job " + printable(r_.job.job_id.empty() ? r_.name : r_.job.job_id)};
    if (auto t = topology_text(r_); !t.empty()) job.push_back(t);
    if (!r_.topology.nodes.empty())
      job.push_back(fmt::format("{} node{}", r_.topology.nodes.size(), r_.topology.nodes.size() == 1 ? "" : "s"));
    if (!r_.model.empty())
      job.push_back("model " + printable(r_.model) + (r_.gpu_type.empty() ? "" : " on " + printable(r_.gpu_type)));
    line(fmt::format("{}", fmt::join(job, " \u00b7 ")));
    if (auto rd = readiness_text(r_.readiness); !rd.empty()) line(rd);

    if (!r_.runs.empty()) {
      std::string shape = r_.isl || r_.osl ? fmt::format(", ISL {} / OSL {}", r_.isl ? std::to_string(*r_.isl) : "?",
                                                        r_.osl ? std::to_string(*r_.osl) : "?")
                                           : "";
      o += fit_line(fmt::format("Benchmark{} (all columns in SUMMARY.md):", shape), w);
      render::TextTable t;
      t.head = {"conc"};
      for (const auto& c : kKeyColumns) t.head.push_back(c.title);
      t.head.push_back("failed");
      t.head.push_back("");  // a note: "unfinished"
      t.right.assign(t.head.size(), true);
      t.right.back() = false;
      for (const auto& x : r_.runs) {
        std::vector<std::string> row{x.concurrency >= 0 ? std::to_string(x.concurrency) : "?"};
        for (const auto& c : kKeyColumns) row.push_back(x.finished() ? num(x.metric(c.key)) : "–");
        row.push_back(x.failed_requests ? std::to_string(*x.failed_requests) : "–");
        row.push_back(!x.finished()        ? render::paint("unfinished", render::Tone::warning, opt.color)
                      : !x.invalid.empty() ? render::paint("invalid", render::Tone::warning, opt.color)
                                           : "");
        t.rows.push_back(std::move(row));
      }
      o += render::text_table(t, w);
    } else {
      line("Benchmark: no run started.");
    }
    for (const auto* x : r_.unfinished())
      line(fmt::format("Unfinished: concurrency {} started{}, and wrote neither a result block nor a JSON file",
                       x->concurrency, x->started_at.empty() ? "" : " at " + printable(x->started_at)));
    for (const auto& x : r_.runs)
      if (x.finished() && !x.invalid.empty())
        line(fmt::format("Invalid: concurrency {} is not a result: {}", x.concurrency, printable(x.invalid)));
    for (const auto& x : r_.runs)
      if (!x.error.empty()) line(fmt::format("Concurrency {}: {}", x.concurrency, printable(x.error)));

    if (!r_.failures.empty()) {
      size_t roots = 0, collateral = 0;
      for (const auto& f : r_.failures) {
        roots += f.root_cause;
        collateral += f.collateral;
      }
      std::vector<std::string> parts;
      if (roots) parts.push_back(fmt::format("{} root cause", roots));
      if (collateral) parts.push_back(fmt::format("{} collateral", collateral));
      if (size_t other = r_.failures.size() - roots - collateral) parts.push_back(fmt::format("{} other", other));
      line(fmt::format("Worker errors in {} worker{} ({}); the per-worker list is in SUMMARY.md", r_.failures.size(),
                       r_.failures.size() == 1 ? "" : "s", fmt::join(parts, ", ")));
    }
    if (!r_.teardown_at.empty())
      line(fmt::format("Teardown: {} step(s) cancelled from {}{}", r_.cancelled.size(), printable(r_.teardown_at),
                       r_.time_limit ? " (time limit)" : ""));
    if (!r_.problems.empty()) {
      o += fit_line(fmt::format("Problems reading the folder ({}):", r_.problems.size()), w);
      size_t shown = std::min<size_t>(r_.problems.size(), 5);
      for (size_t i = 0; i < shown; ++i)
        o += fit_line(fmt::format("  {}: {}", printable(r_.problems[i].file), printable(r_.problems[i].message)), w);
      if (shown < r_.problems.size())
        o += fit_line(fmt::format("  … {} more in SUMMARY.md", r_.problems.size() - shown), w);
    }
    return o;
  }

  std::string markdown() const override { return job_section(r_, 1, true) + batches_markdown(r_); }

  std::string html() const override {
    auto e = [](std::string_view s) { return html_escape(s); };
    std::string o = "<h2>Job</h2>\n<table class=\"kv\">\n";
    auto kv = [&](std::string_view k, const std::string& v_html) {
      o += fmt::format("<tr><th class=\"l\">{}</th><td class=\"wrap\">{}</td></tr>\n", k, v_html);
    };
    kv("Job", fmt::format("{} (<code>{}</code>)", e(r_.job.job_id), e(r_.name)));
    if (auto t = topology_text(r_); !t.empty()) kv("Workers", e(t));
    if (!r_.topology.nodes.empty())
      kv("Nodes", fmt::format("{}: {}", r_.topology.nodes.size(), e(fmt::format("{}", fmt::join(r_.topology.nodes, ", ")))));
    if (!r_.model.empty() || !r_.gpu_type.empty())
      kv("Model / GPUs", e(r_.model + " " + r_.gpu_type +
                           (r_.gpus_per_node ? fmt::format(" × {} per node", *r_.gpus_per_node) : "")));
    if (!r_.job.start.empty()) kv("Submitted", e(r_.job.start));
    if (!r_.started_at.empty()) kv("First worker log line", e(r_.started_at));
    if (auto rd = readiness_text(r_.readiness); !rd.empty()) kv("Readiness", e(rd));
    const Topology& t = r_.topology;
    if (!t.frontend_url.empty()) kv("Frontend", e(t.frontend_url));
    if (r_.isl || r_.osl || !r_.requested_concurrencies.empty())
      kv("Benchmark", e(fmt::format("ISL {}, OSL {}, concurrencies {}, request rate {}",
                                    r_.isl ? std::to_string(*r_.isl) : "?", r_.osl ? std::to_string(*r_.osl) : "?",
                                    fmt::join(r_.requested_concurrencies, ", "),
                                    r_.request_rate.empty() ? "?" : r_.request_rate)));
    if (t.exit_code)
      kv("Batch script", e(fmt::format("exit code {}{}", *t.exit_code, t.finished_at.empty() ? "" : " at " + t.finished_at)));
    if (!r_.teardown_at.empty())
      kv("Teardown", e(fmt::format("{} step(s) cancelled from {}{}", r_.cancelled.size(), r_.teardown_at,
                                   r_.time_limit ? " (time limit)" : "")));
    o += "</table>\n";

    if (!t.leaders.empty() || !t.frontends.empty()) {
      o += "<h2>Workers</h2>\n<table><tr><th>worker</th><th class=\"l\">leader node</th><th class=\"l\">IP</th></tr>\n";
      for (const auto& l : t.leaders)
        o += fmt::format("<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>\n",
                         e(worker_name(l.role, l.index)), e(l.node), e(l.ip));
      for (const auto& l : t.frontends)
        o += fmt::format("<tr><td>frontend {}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>\n", l.index,
                         e(l.node), e(l.ip));
      o += "</table>\n";
    }

    o += "<h2>Benchmark results</h2>\n";
    if (r_.runs.empty()) {
      o += "<p>No benchmark run started.</p>\n";
    } else {
      o += "<div class=\"scroll\"><table><tr><th>concurrency</th><th>ISL/OSL</th>";
      for (const auto& c : columns()) o += fmt::format("<th>{}</th>", c.title);
      o += "<th>failed</th><th class=\"l\">source</th></tr>\n";
      for (const auto& x : r_.runs) {
        o += fmt::format("<tr><td>{}</td><td>{}</td>", x.concurrency >= 0 ? std::to_string(x.concurrency) : "?",
                         size_text(x));
        if (!x.finished()) {
          o += fmt::format("<td class=\"l s-warning\" colspan=\"{}\">unfinished{}</td>", columns().size() + 1,
                           x.started_at.empty() ? "" : ": started " + e(x.started_at));
        } else {
          for (const auto& c : columns()) o += fmt::format("<td>{}</td>", num(x.metric(c.key)));
          o += fmt::format("<td>{}</td>", x.failed_requests ? std::to_string(*x.failed_requests) : "–");
        }
        std::vector<std::string> src;
        if (x.line) src.push_back(fmt::format("benchmark.out:{}{}", x.line, x.block_truncated ? " (truncated)" : ""));
        if (!x.json_file.empty()) src.push_back(e(x.json_file));
        o += fmt::format("<td class=\"l\">{}</td></tr>\n", src.empty() ? "–" : fmt::format("{}", fmt::join(src, ", ")));
      }
      o += "</table></div>\n";
      std::string notes;
      for (const auto* x : r_.unfinished())
        notes += fmt::format("<li>Concurrency {} started{} and produced neither a result block nor a JSON file.</li>\n",
                             x->concurrency, x->started_at.empty() ? "" : " at " + e(x->started_at));
      for (const auto& x : r_.runs)
        if (x.finished() && !x.invalid.empty())
          notes += fmt::format("<li class=\"s-warning\">Concurrency {} is not a result (invalid): {}.</li>\n",
                               x.concurrency, e(x.invalid));
      for (const auto& x : r_.runs)
        if (!x.error.empty()) notes += fmt::format("<li>Concurrency {}: {}</li>\n", x.concurrency, e(x.error));
      if (!notes.empty()) o += "<ul>\n" + notes + "</ul>\n";
    }

    if (!r_.failures.empty()) {
      o += "<h2>Worker errors</h2>\n<div class=\"scroll\"><table><tr><th class=\"l\"></th><th "
           "class=\"l\">worker</th><th class=\"l\">node</th><th class=\"l\">kind</th><th "
           "class=\"l\">time</th><th class=\"l\">first error</th><th class=\"l\">exception</th></tr>\n";
      for (const auto& f : r_.failures)
        o += fmt::format(
            "<tr><td class=\"l{}\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td>"
            "<td class=\"l\">{}</td><td class=\"wrap\"><code>{}:{}</code><br>{}</td><td class=\"wrap\">{}</td></tr>\n",
            f.root_cause ? " s-critical" : "", f.root_cause ? "root cause" : f.collateral ? "collateral" : "",
            e(worker_name(f.role, f.index)), e(f.node.empty() ? "–" : f.node), e(f.kind),
            e(f.time.empty() ? "–" : f.time), e(f.file), f.line, e(f.first_error.substr(0, 200)),
            e(f.exception.empty() ? "–" : f.exception.substr(0, 200)));
      o += "</table></div>\n";
    }
    if (!r_.slurm_errors.empty()) {
      o += "<p>SLURM messages in log.err (consequences of the first failure):</p>\n<ul>\n";
      for (const auto& s : r_.slurm_errors) o += "<li>" + e(s) + "</li>\n";
      o += "</ul>\n";
    }
    o += batches_html(r_);
    if (!r_.problems.empty()) {
      o += "<h2>Problems reading the folder</h2>\n<ul>\n";
      for (const auto& p : r_.problems) o += fmt::format("<li><code>{}</code>: {}</li>\n", e(p.file), e(p.message));
      o += "</ul>\n";
    }
    return o;
  }

  void json(nlohmann::ordered_json& out) const override { out = job_to_json(r_); }

 private:
  static std::string fit_line(const std::string& s, size_t w) { return render::fit(s, w) + "\n"; }

  std::shared_ptr<const JobReport> own_;
  const JobReport& r_;
};

}  // namespace

std::unique_ptr<core::Body> make_body(JobReport job) {
  return std::make_unique<SrtctlBody>(std::make_shared<const JobReport>(std::move(job)));
}

std::unique_ptr<core::Body> make_body(std::shared_ptr<const JobReport> job) {
  return std::make_unique<SrtctlBody>(std::move(job));
}

}  // namespace alog::srtctl
