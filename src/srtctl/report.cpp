// Writers for JobReports: the `srtctl` JSON value, the SUMMARY.md body, and the comparison of
// jobs. They read only the JobReport; every string that came from a log goes through
// md_escape (Markdown) or utf8_clean (JSON, where invalid UTF-8 would make the dump throw).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "analyze_logs/srtctl.hpp"
#include "report_internal.hpp"
#include "analyze_logs/util.hpp"

namespace alog::srtctl {

namespace {

using ojson = nlohmann::ordered_json;

std::string u(std::string_view s) {
  return utf8_clean(s);
}
std::string md(std::string_view s) {
  return md_escape(s);
}

// At most `n` bytes of `s`, cut before a UTF-8 character rather than inside one, with "…" when
// something was cut, so a shortened reason neither ends in a broken byte nor passes for whole.
std::string clip(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "\u2026";
}

// File names as plain escaped text: inside a code span Markdown would show the escapes.
std::string code(std::string_view s) {
  return md(s);
}

template <typename T>
ojson opt(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}

ojson str_or_null(const std::string& s) {
  return s.empty() ? ojson(nullptr) : ojson(u(s));
}

}  // namespace

namespace detail {

// The table columns, and the metrics the regression gate looks at.
const std::vector<Column>& columns() {
  static const std::vector<Column> cols = [] {
    std::vector<Column> c = {
        {"request_throughput", "Req/s", true},
        {"output_throughput", "Output tok/s", true},
        {"total_token_throughput", "Total tok/s", true},
    };
    static const char* lat_keys[] = {"mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms",
                                     "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms",
                                     "mean_itl_ms",  "median_itl_ms",  "p99_itl_ms",
                                     "mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms"};
    static const char* lat_titles[] = {"TTFT mean",   "TTFT median", "TTFT P99",    "TPOT mean",
                                       "TPOT median", "TPOT P99",    "ITL mean",    "ITL median",
                                       "ITL P99",     "E2EL mean",   "E2EL median", "E2EL P99"};
    for (size_t i = 0; i < std::size(lat_keys); ++i)
      c.push_back({lat_keys[i], lat_titles[i], false});
    return c;
  }();
  return cols;
}

std::string unit_of(std::string_view key) {
  if (key == "request_throughput") return "req/s";
  if (key.find("throughput") != std::string_view::npos) return "tok/s";
  return "ms";
}

std::string num(std::optional<double> v) {
  if (!v) return "–";
  return fixed(*v, 2);
}

std::string duration_text(int64_t s) {
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
  return fmt::format("{} h {} min", s / 3600, (s % 3600) / 60);
}

std::string worker_name(const std::string& role, int index) {
  if (role == "prefill" || role == "decode" || role == "agg")
    return fmt::format("{} w{}", role, index);
  if (role == "frontend") return fmt::format("frontend {}", index < 0 ? 0 : index);
  if (role == "benchmark") return "benchmark client";
  if (role == "batch") return "batch script";
  return role;
}

std::string size_text(const BenchRun& r) {
  if (!r.isl && !r.osl) return "–";
  return fmt::format("{}/{}", r.isl ? std::to_string(*r.isl) : "?",
                     r.osl ? std::to_string(*r.osl) : "?");
}

}  // namespace detail

using namespace detail;

namespace {

// ---- JSON ------------------------------------------------------------------------------------

ojson run_json(const BenchRun& r) {
  ojson j;
  j["concurrency"] = r.concurrency;
  j["status"] = r.finished() ? "finished" : "unfinished";
  j["isl"] = opt(r.isl);
  j["osl"] = opt(r.osl);
  j["num_prompts"] = opt(r.num_prompts);
  j["failed_requests"] = opt(r.failed_requests);
  j["started_at"] = str_or_null(r.started_at);
  j["ended_at"] = str_or_null(r.ended_at);
  j["benchmark_out_line"] = r.line ? ojson(r.line) : ojson(nullptr);
  j["completed_line"] = r.completed_line;
  j["result_block"] = r.has_block;
  j["block_truncated"] = r.block_truncated;
  j["json_file"] = str_or_null(r.json_file);
  j["error"] = str_or_null(r.error);
  j["invalid"] = r.finished() ? str_or_null(r.invalid) : ojson(nullptr);
  ojson m = ojson::object();
  for (const auto& [k, v] : r.metrics) m[u(k)] = v;
  j["metrics"] = std::move(m);
  ojson t = ojson::object();
  for (const auto& [k, v] : r.text) t[u(k)] = u(v);
  j["text"] = std::move(t);
  return j;
}

}  // namespace

ojson job_to_json(const JobReport& r) {
  ojson j;
  j["job_id"] = u(r.job.job_id);
  j["name"] = u(r.name);
  j["dir"] = u(r.dir);
  j["layout"] = r.layout;
  j["prefill_workers"] = r.job.prefill_workers >= 0 ? ojson(r.job.prefill_workers) : ojson(nullptr);
  j["decode_workers"] = r.job.decode_workers >= 0 ? ojson(r.job.decode_workers) : ojson(nullptr);
  j["agg_workers"] = r.job.agg_workers >= 0 ? ojson(r.job.agg_workers) : ojson(nullptr);
  j["submitted"] = str_or_null(r.job.start);
  j["started_at"] = str_or_null(r.started_at);
  j["verdict"] = verdict_name(r.verdict);
  j["reason"] = u(r.reason);
  j["root_cause"] = str_or_null(r.root_cause);

  ojson meta;
  meta["job_name"] = str_or_null(r.job_name);
  meta["model"] = str_or_null(r.model);
  meta["gpu_type"] = str_or_null(r.gpu_type);
  meta["gpus_per_node"] = opt(r.gpus_per_node);
  meta["prefill_nodes"] = opt(r.prefill_nodes);
  meta["decode_nodes"] = opt(r.decode_nodes);
  meta["agg_nodes"] = opt(r.agg_nodes);
  j["meta"] = std::move(meta);

  const Topology& t = r.topology;
  ojson topo;
  ojson nodes = ojson::array();
  for (const auto& n : t.nodes) nodes.push_back(u(n));
  topo["nodes"] = std::move(nodes);
  topo["master_node"] = str_or_null(t.master_node);
  topo["master_ip"] = str_or_null(t.master_ip);
  topo["nginx_node"] = str_or_null(t.nginx_node);
  topo["frontend_url"] = str_or_null(t.frontend_url);
  auto leaders = [](const std::vector<Leader>& v) {
    ojson a = ojson::array();
    for (const auto& l : v)
      a.push_back({{"role", l.role}, {"index", l.index}, {"node", u(l.node)}, {"ip", u(l.ip)}});
    return a;
  };
  topo["leaders"] = leaders(t.leaders);
  topo["frontends"] = leaders(t.frontends);
  topo["exit_code"] = opt(t.exit_code);
  topo["finished_at"] = str_or_null(t.finished_at);
  ojson errs = ojson::array();
  for (const auto& e : t.errors) errs.push_back(u(e));
  topo["errors"] = std::move(errs);
  j["topology"] = std::move(topo);

  ojson bench;
  bench["isl"] = opt(r.isl);
  bench["osl"] = opt(r.osl);
  bench["request_rate"] = str_or_null(r.request_rate);
  bench["requested_concurrencies"] = r.requested_concurrencies;
  j["benchmark"] = std::move(bench);

  const Readiness& rd = r.readiness;
  ojson ready;
  ready["polled"] = rd.polled;
  ready["health_url"] = str_or_null(rd.health_url);
  ready["not_ready_reports"] = rd.not_ready_reports;
  ready["waiting_prefill"] = opt(rd.waiting_prefill);
  ready["waiting_decode"] = opt(rd.waiting_decode);
  ready["ready"] = rd.ready;
  ready["timed_out"] = rd.timed_out;
  ready["timeout_s"] = opt(rd.timeout_s);
  ready["ready_at"] = str_or_null(rd.ready_at);
  ready["ready_after_s"] = opt(rd.ready_after_s);
  j["readiness"] = std::move(ready);

  ojson runs = ojson::array();
  for (const auto& x : r.runs) runs.push_back(run_json(x));
  j["runs"] = std::move(runs);
  ojson warm = ojson::array();
  for (const auto& x : r.warmups) warm.push_back(run_json(x));
  j["warmups"] = std::move(warm);

  ojson fails = ojson::array();
  for (const auto& f : r.failures) {
    ojson x;
    x["role"] = f.role;
    x["index"] = f.index >= 0 ? ojson(f.index) : ojson(nullptr);
    x["node"] = str_or_null(f.node);
    x["kind"] = f.kind;
    x["fatal"] = f.fatal;
    x["root_cause"] = f.root_cause;
    x["collateral"] = f.collateral;
    x["file"] = u(f.file);
    x["line"] = f.line;
    x["time"] = str_or_null(f.time);
    x["first_error"] = u(f.first_error);
    x["exception"] = str_or_null(f.exception);
    x["last_frame"] = str_or_null(f.last_frame);
    x["signature_lines"] = f.signature_lines;
    fails.push_back(std::move(x));
  }
  j["failures"] = std::move(fails);
  j["teardown_at"] = str_or_null(r.teardown_at);
  j["time_limit"] = r.time_limit;
  ojson canc = ojson::array();
  for (const auto& c : r.cancelled)
    canc.push_back({{"file", u(c.file)},
                    {"line", c.line},
                    {"role", c.role},
                    {"index", c.index >= 0 ? ojson(c.index) : ojson(nullptr)},
                    {"node", u(c.node)},
                    {"time", u(c.time)},
                    {"time_limit", c.time_limit}});
  j["cancelled"] = std::move(canc);
  ojson se = ojson::array();
  for (const auto& e : r.slurm_errors) se.push_back(u(e));
  j["slurm_errors"] = std::move(se);

  ojson logs = ojson::array();
  for (const auto& l : r.logs)
    logs.push_back({{"file", u(l.file)},
                    {"role", l.id.role},
                    {"index", l.id.index >= 0 ? ojson(l.id.index) : ojson(nullptr)},
                    {"node", str_or_null(l.id.node)},
                    {"lines", l.lines},
                    {"first_time", str_or_null(l.first_time)},
                    {"last_time", str_or_null(l.last_time)},
                    {"setup_complete", l.setup_complete}});
  j["logs"] = std::move(logs);
  ojson probs = ojson::array();
  for (const auto& p : r.problems)
    probs.push_back({{"file", u(p.file)}, {"message", u(p.message)}});
  j["problems"] = std::move(probs);
  j["batches"] = batches_json(r);
  return j;
}

namespace {

// ---- Comparison core -------------------------------------------------------------------------

struct Regression {
  size_t job = 0;
  int64_t concurrency = -1;
  std::string metric;  // empty: a missing result
  double base = 0, value = 0, change_pct = 0;
  std::string what;  // the human line
};

bool same_shape(const BenchRun& a, const BenchRun& b) {
  auto eq = [](const std::optional<int64_t>& x, const std::optional<int64_t>& y) {
    return !x || !y || *x == *y;
  };
  return a.concurrency == b.concurrency && eq(a.isl, b.isl) && eq(a.osl, b.osl);
}

// The run of `j` like `like`: a valid result first; with finished_only nothing else, otherwise
// an invalid or unfinished one of that shape.
const BenchRun* find_run(const JobReport& j, const BenchRun& like, bool finished_only) {
  for (const auto& r : j.runs)
    if (same_shape(r, like) && r.valid()) return &r;
  if (finished_only) return nullptr;
  for (const auto& r : j.runs)
    if (same_shape(r, like)) return &r;
  return nullptr;
}

// Percent change of `key` against the baseline run, when both have it and the base is not 0.
std::optional<double> change(const BenchRun& base, const BenchRun& run, const std::string& key) {
  auto b = base.metric(key), v = run.metric(key);
  if (!b || !v || *b == 0) return std::nullopt;
  return (*v - *b) / std::fabs(*b) * 100.0;
}

bool worse(const Column& c, double pct_change, double limit) {
  return c.higher_is_better ? pct_change < -limit : pct_change > limit;
}

std::vector<Regression> regressions_of(const std::vector<JobReport>& jobs, size_t baseline,
                                       double pct) {
  std::vector<Regression> out;
  if (jobs.empty() || baseline >= jobs.size()) return out;
  const JobReport& base = jobs[baseline];
  std::vector<const BenchRun*> base_runs;
  for (const auto& r : base.runs)
    if (r.valid()) base_runs.push_back(&r);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (i == baseline) continue;
    const JobReport& j = jobs[i];
    bool any_finished =
        std::any_of(j.runs.begin(), j.runs.end(), [](const BenchRun& r) { return r.valid(); });
    if (!any_finished && !base_runs.empty()) {
      Regression g;
      g.job = i;
      g.what = fmt::format("{}: no benchmark results ({}: {}); baseline {} has {}", j.job.job_id,
                           verdict_name(j.verdict), j.reason, base.job.job_id, base_runs.size());
      out.push_back(std::move(g));
      continue;
    }
    for (const BenchRun* br : base_runs) {
      const BenchRun* r = find_run(j, *br, true);
      if (r == nullptr) {
        const BenchRun* started = find_run(j, *br, false);
        Regression g;
        g.job = i;
        g.concurrency = br->concurrency;
        g.what = fmt::format(
            "{} c={}: no result ({}); baseline {} has one", j.job.job_id, br->concurrency,
            !started                     ? std::string("not run")
            : started->finished()        ? "invalid: " + started->invalid
            : started->started_at.empty() ? std::string("unfinished")
                                          : "unfinished, started " + started->started_at,
            base.job.job_id);
        out.push_back(std::move(g));
        continue;
      }
      for (const auto& c : columns()) {
        auto ch = change(*br, *r, c.key);
        if (!ch || !worse(c, *ch, pct)) continue;
        Regression g;
        g.job = i;
        g.concurrency = br->concurrency;
        g.metric = c.key;
        g.base = *br->metric(c.key);
        g.value = *r->metric(c.key);
        g.change_pct = *ch;
        g.what = fmt::format("{} c={}: {} {} vs {} {} in {} ({:+.1f}%, limit {}%)", j.job.job_id,
                             br->concurrency, c.key, fixed(g.value, 2), fixed(g.base, 2),
                             unit_of(c.key), base.job.job_id, *ch, fixed(pct, 1));
        out.push_back(std::move(g));
      }
    }
  }
  return out;
}

// ---- Markdown --------------------------------------------------------------------------------

}  // namespace

namespace {

std::string metric_cells(const BenchRun& r) {
  std::string out;
  for (const auto& c : columns()) out += fmt::format(" {} |", num(r.metric(c.key)));
  return out;
}

}  // namespace

namespace detail {

std::string job_section(const JobReport& r, int level, bool as_body) {
  std::string h(static_cast<size_t>(level), '#');
  std::string o;
  if (as_body) {
    // The shared header above already gave the verdict and the cause.
    o += fmt::format("{}# Job\n\n", h);
  } else {
    o += fmt::format("{} srtctl job {}: {}\n\n", h, md(r.job.job_id), verdict_name(r.verdict));
    o += fmt::format("**Verdict: {}**: {}\n\n", verdict_name(r.verdict), md(r.reason));
  }

  o += "| | |\n|---|---|\n";
  o += fmt::format("| Job | {} ({}) |\n", md(r.job.job_id), code(r.name));
  std::vector<std::string> w;
  if (r.job.prefill_workers >= 0) w.push_back(fmt::format("{} prefill", r.job.prefill_workers));
  if (r.job.decode_workers >= 0) w.push_back(fmt::format("{} decode", r.job.decode_workers));
  if (r.job.agg_workers >= 0) w.push_back(fmt::format("{} aggregated", r.job.agg_workers));
  if (!w.empty()) o += fmt::format("| Workers | {} |\n", fmt::join(w, ", "));
  if (!r.topology.nodes.empty()) {
    std::vector<std::string> n;
    for (const auto& x : r.topology.nodes) n.push_back(md(x));
    o += fmt::format("| Nodes | {}: {} |\n", n.size(), fmt::join(n, ", "));
  }
  if (!r.model.empty() || !r.gpu_type.empty())
    o += fmt::format("| Model / GPUs | {} {}{} |\n", md(r.model), md(r.gpu_type),
                     r.gpus_per_node ? fmt::format(" × {} per node", *r.gpus_per_node) : "");
  if (!r.job.start.empty()) o += fmt::format("| Submitted | {} |\n", r.job.start);
  if (!r.started_at.empty()) o += fmt::format("| First worker log line | {} |\n", md(r.started_at));
  const Readiness& rd = r.readiness;
  if (rd.ready) {
    std::string s = rd.ready_at.empty() ? "yes" : md(rd.ready_at);
    if (rd.ready_after_s)
      s += fmt::format(", {} after the first worker log line", duration_text(*rd.ready_after_s));
    if (rd.not_ready_reports > 0) s += fmt::format(" ({} not-ready reports)", rd.not_ready_reports);
    o += fmt::format("| Model ready | {} |\n", s);
  } else if (rd.polled) {
    std::string s = rd.timed_out ? "**never** (health check gave up" : "**not yet** (still polling";
    if (rd.timeout_s) s += fmt::format(" after {} s", *rd.timeout_s);
    if (rd.waiting_prefill && rd.waiting_decode)
      s += fmt::format("; waiting for {} prefills and {} decodes", *rd.waiting_prefill,
                       *rd.waiting_decode);
    o += fmt::format("| Model ready | {}) |\n", s);
  }
  const Topology& t = r.topology;
  if (!t.frontend_url.empty() || !t.nginx_node.empty() || !t.master_node.empty()) {
    std::string s = t.frontend_url.empty() ? "–" : md(t.frontend_url);
    if (!t.nginx_node.empty()) s += "; nginx " + md(t.nginx_node);
    if (!t.master_node.empty() || !t.master_ip.empty())
      s += fmt::format("; master (NATS/etcd) {} {}", md(t.master_node),
                       t.master_ip.empty() ? "" : "(" + md(t.master_ip) + ")");
    o += fmt::format("| Frontend | {} |\n", s);
  }
  if (r.isl || r.osl || !r.requested_concurrencies.empty()) {
    std::vector<std::string> c;
    for (auto x : r.requested_concurrencies) c.push_back(std::to_string(x));
    o += fmt::format("| Benchmark | ISL {}, OSL {}, concurrencies {}, request rate {} |\n",
                     r.isl ? std::to_string(*r.isl) : "?", r.osl ? std::to_string(*r.osl) : "?",
                     c.empty() ? "?" : fmt::format("{}", fmt::join(c, ", ")),
                     r.request_rate.empty() ? "?" : md(r.request_rate));
  }
  if (t.exit_code)
    o += fmt::format("| Batch script | exit code {}{} |\n", *t.exit_code,
                     t.finished_at.empty() ? "" : " at " + md(t.finished_at));
  if (!r.teardown_at.empty())
    o += fmt::format("| Teardown | {} step(s) cancelled from {}{} |\n", r.cancelled.size(),
                     md(r.teardown_at), r.time_limit ? " (**time limit**)" : "");
  o += "\n";

  if (!t.leaders.empty() || !t.frontends.empty()) {
    o += fmt::format("{}# Workers\n\n| Worker | Leader node | IP |\n|---|---|---|\n", h);
    for (const auto& l : t.leaders)
      o += fmt::format("| {} | {} | {} |\n", worker_name(l.role, l.index), md(l.node), md(l.ip));
    for (const auto& l : t.frontends)
      o += fmt::format("| frontend {} | {} | {} |\n", l.index, md(l.node), md(l.ip));
    o += "\n";
  }

  o += fmt::format("{}# Benchmark results\n\n", h);
  if (r.runs.empty()) {
    o += "No benchmark run started.\n\n";
  } else {
    o += "| Concurrency | ISL/OSL |";
    for (const auto& c : columns()) o += fmt::format(" {} |", c.title);
    o += " Failed | Source |\n|---:|---|";
    for (size_t i = 0; i < columns().size(); ++i) o += "---:|";
    o += "---:|---|\n";
    for (const auto& x : r.runs) {
      std::string conc = x.concurrency >= 0 ? std::to_string(x.concurrency) : "?";
      if (!x.finished()) {
        o += fmt::format("| {} | {} | unfinished{} |", conc, size_text(x),
                         x.started_at.empty() ? "" : ": started " + md(x.started_at));
        for (size_t i = 1; i < columns().size(); ++i) o += " |";
        o += " – | " + (x.line ? fmt::format("benchmark.out:{}", x.line) : "–") + " |\n";
        continue;
      }
      std::vector<std::string> src;
      if (x.has_block)
        src.push_back(
            fmt::format("benchmark.out:{}{}", x.line, x.block_truncated ? " (truncated)" : ""));
      if (!x.json_file.empty()) src.push_back(code(x.json_file));
      o += fmt::format("| {} | {} |{} {} | {} |\n", conc, size_text(x), metric_cells(x),
                       x.failed_requests ? std::to_string(*x.failed_requests) : "–",
                       fmt::join(src, ", "));
    }
    o += "\n";
    for (const auto* x : r.unfinished())
      o += fmt::format(
          "- Concurrency {} started{} and produced neither a result block nor a JSON "
          "file.\n",
          x->concurrency, x->started_at.empty() ? "" : " at " + md(x->started_at));
    bool invalid = false;
    for (const auto& x : r.runs)
      if (x.finished() && !x.invalid.empty()) {
        o += fmt::format("- Concurrency {} is **not a result** (invalid): {}.\n", x.concurrency, md(x.invalid));
        invalid = true;
      }
    for (const auto& x : r.runs)
      if (!x.error.empty()) o += fmt::format("- Concurrency {}: {}\n", x.concurrency, md(x.error));
    if (!r.unfinished().empty() || invalid) o += "\n";
  }

  if (!r.failures.empty()) {
    o += fmt::format("{}# Worker errors\n\n", h);
    if (!r.root_cause.empty()) {
      if (!as_body) o += fmt::format("Root cause: **{}**\n\n", md(r.root_cause));
    } else
      o += "No worker failed before the teardown; these lines were printed while the job was "
           "being torn down.\n\n";
    o += "| | Worker | Node | Kind | Time | First error | Exception | Last frame |\n";
    o += "|---|---|---|---|---|---|---|---|\n";
    for (const auto& f : r.failures) {
      std::string mark = f.root_cause ? "**root cause**" : f.collateral ? "collateral" : "";
      o += fmt::format("| {} | {} | {} | {} | {} | {}: {} | {} | {} |\n", mark,
                       worker_name(f.role, f.index), f.node.empty() ? "–" : md(f.node), f.kind,
                       f.time.empty() ? "–" : md(f.time),
                       code(fmt::format("{}:{}", f.file, f.line)), md(f.first_error.substr(0, 200)),
                       f.exception.empty() ? "–" : md(f.exception.substr(0, 200)),
                       f.last_frame.empty() ? "–" : md(f.last_frame));
    }
    o += "\n";
  }
  if (!r.slurm_errors.empty()) {
    o += "SLURM messages in log.err (consequences of the first failure):\n\n";
    for (const auto& e : r.slurm_errors) o += "- " + md(e) + "\n";
    o += "\n";
  }
  if (!r.problems.empty()) {
    o += fmt::format("{}# Problems reading the folder\n\n", h);
    for (const auto& p : r.problems) o += fmt::format("- {}: {}\n", code(p.file), md(p.message));
    o += "\n";
  }
  return o;
}

}  // namespace detail

ojson to_json(const std::vector<JobReport>& jobs) {
  std::vector<const JobReport*> p;
  for (const auto& r : jobs) p.push_back(&r);
  return to_json(p);
}

ojson to_json(const std::vector<const JobReport*>& jobs, bool with_jobs) {
  ojson j;
  if (with_jobs) {
    ojson a = ojson::array();
    for (const JobReport* r : jobs) a.push_back(job_to_json(*r));
    j["jobs"] = std::move(a);
  }
  if (jobs.size() > 1) {
    // The comparison reads only what names a job and its runs: copies of those, not of the
    // workers' batch statistics.
    std::vector<JobReport> light;
    for (const JobReport* r : jobs) {
      JobReport l;
      l.dir = r->dir;
      l.name = r->name;
      l.job = r->job;
      l.verdict = r->verdict;
      l.reason = r->reason;
      l.reason_id = r->reason_id;
      l.root_cause = r->root_cause;
      l.runs = r->runs;
      light.push_back(std::move(l));
    }
    j["comparison"] = compare_json(light, 0, kDefaultRegressionPct);
  }
  return j;
}

std::string to_markdown(const std::vector<JobReport>& jobs) {
  if (jobs.empty()) return "No srtctl job folders found.\n";
  if (jobs.size() == 1) return job_section(jobs[0], 1, false);
  std::string o = fmt::format("# srtctl jobs ({})\n\n", jobs.size());
  std::vector<std::string> regs;
  o += compare_markdown(jobs, 0, kDefaultRegressionPct, regs);
  o += "\n";
  for (const auto& r : jobs) o += job_section(r, 2, false);
  return o;
}

std::string compare_markdown(const std::vector<JobReport>& jobs, size_t baseline, double pct,
                             std::vector<std::string>& regressions) {
  if (jobs.empty()) return "No jobs to compare.\n";
  if (baseline >= jobs.size()) baseline = 0;
  const JobReport& base = jobs[baseline];
  auto regs = regressions_of(jobs, baseline, pct);
  for (const auto& g : regs) regressions.push_back(g.what);

  std::string o =
      fmt::format("Baseline: job {}; regression limit {}% (throughput down, latency up).\n\n",
                  md(base.job.job_id), fixed(pct, 1));
  o += "| Job | Verdict | Concurrency | ISL/OSL |";
  for (const auto& c : columns()) o += fmt::format(" {} |", c.title);
  o += " Worse than baseline |\n|---|---|---:|---|";
  for (size_t i = 0; i < columns().size(); ++i) o += "---:|";
  o += "---|\n";
  for (size_t ji = 0; ji < jobs.size(); ++ji) {
    const JobReport& j = jobs[ji];
    std::string id = md(j.job.job_id) + (ji == baseline ? " (baseline)" : "");
    if (j.runs.empty()) {
      o += fmt::format("| {} | {} | – | – | no results: {} |", id, verdict_name(j.verdict),
                       md(clip(j.reason, 160)));
      for (size_t i = 1; i < columns().size(); ++i) o += " |";
      o += " – |\n";
      continue;
    }
    for (const auto& r : j.runs) {
      std::string conc = r.concurrency >= 0 ? std::to_string(r.concurrency) : "?";
      if (!r.finished()) {
        o += fmt::format("| {} | {} | {} | {} | unfinished{} |", id, verdict_name(j.verdict), conc,
                         size_text(r), r.started_at.empty() ? "" : ": started " + md(r.started_at));
        for (size_t i = 1; i < columns().size(); ++i) o += " |";
        o += " no result |\n";
        continue;
      }
      if (!r.valid()) {
        o += fmt::format("| {} | {} | {} | {} | invalid: {} |", id, verdict_name(j.verdict), conc, size_text(r),
                         md(r.invalid));
        for (size_t i = 1; i < columns().size(); ++i) o += " |";
        o += " not compared |\n";
        continue;
      }
      std::vector<std::string> bad;
      if (ji != baseline)
        if (const BenchRun* br = find_run(base, r, true))
          for (const auto& c : columns())
            if (auto ch = change(*br, r, c.key); ch && worse(c, *ch, pct))
              bad.push_back(fmt::format("{} {:+.1f}%", c.title, *ch));
      o += fmt::format("| {} | {} | {} | {} |{} {} |\n", id, verdict_name(j.verdict), conc,
                       size_text(r), metric_cells(r),
                       bad.empty() ? "–" : fmt::format("{}", fmt::join(bad, ", ")));
    }
  }
  if (!regs.empty()) {
    o += fmt::format("\n{} regression(s) beyond {}%:\n\n", regs.size(), fixed(pct, 1));
    for (const auto& g : regs) o += "- " + md(g.what) + "\n";
  } else {
    o += fmt::format("\nNo regression beyond {}% against job {}.\n", fixed(pct, 1),
                     md(base.job.job_id));
  }
  return o;
}

ojson compare_json(const std::vector<JobReport>& jobs, size_t baseline, double pct) {
  ojson j;
  if (jobs.empty()) {
    j["baseline"] = nullptr;
    j["threshold_pct"] = pct;
    j["rows"] = ojson::array();
    j["regressions"] = ojson::array();
    return j;
  }
  if (baseline >= jobs.size()) baseline = 0;
  const JobReport& base = jobs[baseline];
  j["baseline"] = u(base.job.job_id);
  j["threshold_pct"] = pct;
  ojson rows = ojson::array();
  for (size_t ji = 0; ji < jobs.size(); ++ji) {
    const JobReport& jr = jobs[ji];
    auto row_base = [&](ojson& row) {
      row["job_id"] = u(jr.job.job_id);
      row["name"] = u(jr.name);
      row["baseline"] = ji == baseline;
      row["verdict"] = verdict_name(jr.verdict);
    };
    if (jr.runs.empty()) {
      ojson row;
      row_base(row);
      row["concurrency"] = nullptr;
      row["status"] = "no_results";
      row["reason"] = u(jr.reason);
      rows.push_back(std::move(row));
      continue;
    }
    for (const auto& r : jr.runs) {
      ojson row;
      row_base(row);
      row["concurrency"] = r.concurrency;
      row["isl"] = opt(r.isl);
      row["osl"] = opt(r.osl);
      row["status"] = !r.finished() ? "unfinished" : r.valid() ? "finished" : "invalid";
      row["invalid"] = r.finished() ? str_or_null(r.invalid) : ojson(nullptr);
      ojson m = ojson::object(), ch = ojson::object(), worse_list = ojson::array();
      const BenchRun* br = ji != baseline && r.valid() ? find_run(base, r, true) : nullptr;
      for (const auto& c : columns()) {
        if (auto v = r.metric(c.key)) m[c.key] = *v;
        if (br)
          if (auto p = change(*br, r, c.key)) {
            ch[c.key] = *p;
            if (worse(c, *p, pct)) worse_list.push_back(c.key);
          }
      }
      row["metrics"] = std::move(m);
      row["change_pct"] = std::move(ch);
      row["regressions"] = std::move(worse_list);
      rows.push_back(std::move(row));
    }
  }
  j["rows"] = std::move(rows);
  ojson regs = ojson::array();
  for (const auto& g : regressions_of(jobs, baseline, pct)) {
    ojson x;
    x["job_id"] = u(jobs[g.job].job.job_id);
    x["concurrency"] = g.concurrency >= 0 ? ojson(g.concurrency) : ojson(nullptr);
    if (g.metric.empty()) {
      x["missing_result"] = true;
    } else {
      x["metric"] = g.metric;
      x["baseline_value"] = g.base;
      x["value"] = g.value;
      x["change_pct"] = g.change_pct;
    }
    x["message"] = u(g.what);
    regs.push_back(std::move(x));
  }
  j["regressions"] = std::move(regs);
  return j;
}

}  // namespace alog::srtctl
