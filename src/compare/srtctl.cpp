// `compare` over srtctl serving jobs: job folders, folders of job folders (job sets) and srtctl
// analysis folders (report.json of kind "srtctl"), compared per concurrency with the srtctl
// module's own table and regression rules. The terminal gets only the key columns so that it fits
// 100 columns; COMPARE.md gets the full table.

#include "analyze_logs/srtctl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "analyze_logs/util.hpp"
#include "kinds.hpp"

namespace fs = std::filesystem;

namespace alog::compare {
namespace detail {
namespace {

using ojson = nlohmann::ordered_json;

int verdict_rank(srtctl::Verdict v) {
  return v == srtctl::Verdict::failed ? 2 : v == srtctl::Verdict::degraded ? 1 : 0;
}

std::string jstr(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> jint(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// A run of a report.json back into a BenchRun: only what the comparison reads.
srtctl::BenchRun run_of(const nlohmann::json& x) {
  srtctl::BenchRun r;
  if (!x.is_object()) return r;
  r.concurrency = jint(x, "concurrency").value_or(-1);
  r.isl = jint(x, "isl");
  r.osl = jint(x, "osl");
  r.num_prompts = jint(x, "num_prompts");
  r.started_at = jstr(x, "started_at");
  r.ended_at = jstr(x, "ended_at");
  r.json_file = jstr(x, "json_file");
  r.error = jstr(x, "error");
  // finished() is "has a block or a JSON file": the status the writer derived from them.
  r.has_block = jstr(x, "status") == "finished";
  // The validity gate's verdict as that analysis gave it (report.json keeps the reason).
  if (r.has_block) r.invalid = jstr(x, "invalid");
  if (auto m = x.find("metrics"); m != x.end() && m->is_object())
    for (auto it = m->begin(); it != m->end(); ++it)
      if (it->is_number()) r.metrics.emplace_back(it.key(), it->get<double>());
  return r;
}

srtctl::JobReport job_of(const nlohmann::json& x) {
  srtctl::JobReport j;
  if (!x.is_object()) return j;
  j.job.job_id = jstr(x, "job_id");
  j.name = jstr(x, "name");
  j.dir = jstr(x, "dir");
  std::string v = jstr(x, "verdict");
  j.verdict = v == "failed"     ? srtctl::Verdict::failed
              : v == "degraded" ? srtctl::Verdict::degraded
                                : srtctl::Verdict::healthy;
  j.reason = jstr(x, "reason");
  j.root_cause = jstr(x, "root_cause");
  // What the benchmark points need: the topology's name and the GPU count.
  auto workers = [&](const char* key) { return static_cast<int>(jint(x, key).value_or(-1)); };
  j.job.prefill_workers = workers("prefill_workers");
  j.job.decode_workers = workers("decode_workers");
  j.job.agg_workers = workers("agg_workers");
  if (auto m = x.find("meta"); m != x.end() && m->is_object()) {
    auto small = [&](const char* key) -> std::optional<int> {
      auto n = jint(*m, key);
      if (!n || *n < 0 || *n > 1000000) return std::nullopt;
      return static_cast<int>(*n);
    };
    j.gpus_per_node = small("gpus_per_node");
    j.prefill_nodes = small("prefill_nodes");
    j.decode_nodes = small("decode_nodes");
    j.agg_nodes = small("agg_nodes");
  }
  if (auto b = x.find("benchmark"); b != x.end() && b->is_object()) {
    j.isl = jint(*b, "isl");
    j.osl = jint(*b, "osl");
  }
  if (auto r = x.find("runs"); r != x.end() && r->is_array())
    for (const auto& run : *r) j.runs.push_back(run_of(run));
  return j;
}

std::vector<srtctl::JobReport> jobs_of_doc(const Detected& d) {
  const auto& body = d.doc["srtctl"];
  auto it = body.find("jobs");
  if (it == body.end() || !it->is_array())
    throw arg_error(d.source, "not an srtctl report.json (no \"jobs\" array under \"srtctl\")");
  std::vector<srtctl::JobReport> jobs;
  for (const auto& x : *it) jobs.push_back(job_of(x));
  return jobs;
}

// One argument as one side of the comparison. A job set is one sweep: one run per (ISL, OSL,
// concurrency), from the first job (by id) that finished it, else the first that started it; the
// set's verdict is the worst of its jobs. Runs of the same shape in later jobs are not compared
// and are listed in `dropped` ("4460 c=64").
// What the run comparison reads of a job: its names, verdict and runs, not its workers' batch
// statistics.
srtctl::JobReport light_copy(const srtctl::JobReport& j) {
  srtctl::JobReport l;
  l.dir = j.dir;
  l.name = j.name;
  l.job = j.job;
  l.isl = j.isl;
  l.osl = j.osl;
  l.verdict = j.verdict;
  l.reason = j.reason;
  l.reason_id = j.reason_id;
  l.root_cause = j.root_cause;
  l.runs = j.runs;
  return l;
}

srtctl::JobReport side_of(const std::vector<srtctl::JobReport>& jobs, const std::string& label,
                          std::vector<std::string>& dropped) {
  if (jobs.size() == 1) return light_copy(jobs.front());
  srtctl::JobReport s;
  s.job.job_id = label;
  s.name = label;
  std::vector<std::string> parts;
  auto same = [](const srtctl::BenchRun& a, const srtctl::BenchRun& b) {
    return a.concurrency == b.concurrency && a.isl == b.isl && a.osl == b.osl;
  };
  for (const auto& j : jobs) {
    if (verdict_rank(j.verdict) > verdict_rank(s.verdict)) s.verdict = j.verdict;
    parts.push_back(fmt::format("{} {}", j.job.job_id, srtctl::verdict_name(j.verdict)));
    for (const auto& r : j.runs) {
      auto it = std::find_if(s.runs.begin(), s.runs.end(),
                             [&](const srtctl::BenchRun& k) { return same(k, r); });
      if (it == s.runs.end()) {
        s.runs.push_back(r);
      } else if ((!it->finished() && r.finished()) || (!it->valid() && r.valid())) {
        *it = r;
      } else {
        dropped.push_back(fmt::format("{} c={}", j.job.job_id, r.concurrency));
      }
    }
  }
  std::stable_sort(s.runs.begin(), s.runs.end(),
                   [](const srtctl::BenchRun& a, const srtctl::BenchRun& b) {
                     return std::tuple(a.isl.value_or(-1), a.osl.value_or(-1), a.concurrency) <
                            std::tuple(b.isl.value_or(-1), b.osl.value_or(-1), b.concurrency);
                   });
  s.reason = fmt::format("{} jobs: {}", jobs.size(), fmt::join(parts, ", "));
  return s;
}

// The terminal's key columns (the full table is in COMPARE.md).
struct KeyColumn {
  const char* key;
  const char* title;
};
constexpr KeyColumn kKeyColumns[] = {{"output_throughput", "out tok/s"},
                                     {"mean_ttft_ms", "TTFT ms"},
                                     {"mean_tpot_ms", "TPOT ms"},
                                     {"mean_itl_ms", "ITL ms"}};

std::string signed_pct(double p) {
  std::string s = fixed(p, 1);
  if (s.starts_with("-")) return fmt::format("−{}", s.substr(1));
  return fmt::format("{}{}", p > 0 && s != "0.0" ? "+" : "", s);
}

std::string render_terminal(const ojson& cmp, const std::string& base_id, double pct,
                            const std::vector<std::string>& regressions,
                            const std::string& verdict) {
  std::string o = clip_text(fmt::format("Serving jobs against {} (baseline, *); limit {} % "
                                        "(throughput down, latency up is worse)",
                                        printable(base_id), fixed(pct, 1)),
                            100) +
                  "\n\n";
  TextTable t;
  t.right = {false, false, true, true, true, true, true, false};
  std::vector<std::string> head = {"  job", "verdict", "conc"};
  for (const auto& c : kKeyColumns) head.emplace_back(c.title);
  head.emplace_back("worse");
  t.rows.push_back(head);
  for (const auto& row : cmp["rows"]) {
    std::string id = clip_text(printable(row.value("job_id", "")), 18);
    std::string mark = row.value("baseline", false) ? "* " : "  ";
    std::string verdict_s = row.value("verdict", "");
    std::string status = row.value("status", "");
    if (status == "no_results") {
      t.rows.push_back({mark + id, verdict_s, "–", "no results", "", "", "", ""});
      continue;
    }
    std::string conc = row["concurrency"].is_number() ? row["concurrency"].dump() : "?";
    std::vector<std::string> cells = {mark + id, verdict_s, conc};
    if (status == "invalid") {
      cells.insert(cells.end(), {"invalid", "", "", "", "not compared"});
      t.rows.push_back(cells);
      continue;
    }
    if (status != "finished") {
      cells.insert(cells.end(), {"unfinished", "", "", "", "no result"});
      t.rows.push_back(cells);
      continue;
    }
    const auto& m = row["metrics"];
    for (const auto& c : kKeyColumns)
      cells.push_back(m.contains(c.key) && m[c.key].is_number() ? fixed(m[c.key].get<double>(), 2)
                                                                : "–");
    size_t worse = row["regressions"].size();
    cells.push_back(worse ? fmt::format("{} metric{}", worse, worse == 1 ? "" : "s") : "");
    t.rows.push_back(cells);
    const auto& ch = row["change_pct"];
    if (row.value("baseline", false) || ch.empty()) continue;
    std::vector<std::string> delta = {"", "", "Δ %"};
    for (const auto& c : kKeyColumns) {
      if (!ch.contains(c.key)) {
        delta.emplace_back("");
        continue;
      }
      bool bad = std::find(row["regressions"].begin(), row["regressions"].end(), c.key) !=
                 row["regressions"].end();
      delta.push_back(signed_pct(ch[c.key].get<double>()) + (bad ? "!" : ""));
    }
    delta.emplace_back("");
    t.rows.push_back(delta);
  }
  o += t.render("");
  if (!regressions.empty()) {
    o += fmt::format("\n{} regression(s) beyond {} %:\n", regressions.size(), fixed(pct, 1));
    for (const auto& r : regressions) o += clip_text("  " + printable(r), 100) + "\n";
  }
  o += "\n" + verdict + "\n";
  return o;
}

}  // namespace

Result compare_srtctl(const std::vector<Detected>& args, const Options& opt) {
  if (!opt.expect.empty())
    throw std::invalid_argument("--expect applies to prime-rl runs, not to srtctl jobs");
  std::vector<std::string> labels = make_labels(opt.runs);
  std::vector<srtctl::JobReport> sides;
  std::vector<std::vector<srtctl::JobReport>> side_jobs;  // each side's jobs, for its points
  std::vector<std::pair<std::string, std::vector<std::string>>> dropped;  // (label, runs)
  ojson runs_json = ojson::array();
  for (size_t i = 0; i < args.size(); ++i) {
    const Detected& d = args[i];
    std::vector<srtctl::JobReport> jobs;
    if (d.form == "job folder")
      jobs.push_back(srtctl::analyze_job(d.source, {.threads = 0, .max_failed_pct = opt.max_failed_pct}));
    else if (d.form == "job set")
      jobs = srtctl::analyze_set(d.source, {.threads = 0, .max_failed_pct = opt.max_failed_pct});
    else
      jobs = jobs_of_doc(d);
    if (jobs.empty()) throw arg_error(d.source, "no srtctl job in it");
    ojson ids = ojson::array();
    for (const auto& j : jobs) ids.push_back(utf8_clean(j.job.job_id));
    std::vector<std::string> drop;
    side_jobs.push_back(std::move(jobs));
    sides.push_back(side_of(side_jobs.back(), labels[i], drop));
    ojson dj = ojson::array();
    for (const auto& x : drop) dj.push_back(utf8_clean(x));
    runs_json.push_back({{"index", i},
                         {"label", utf8_clean(labels[i])},
                         {"source", utf8_clean(d.source)},
                         {"form", d.form},
                         {"baseline", i == opt.baseline},
                         {"jobs", std::move(ids)},
                         {"not_compared", std::move(dj)}});
    if (!drop.empty()) dropped.emplace_back(labels[i], std::move(drop));
  }
  const double pct = opt.fail_on_regression_pct.value_or(srtctl::kDefaultRegressionPct);
  const srtctl::JobReport& base = sides[opt.baseline];
  std::vector<std::string> regs;
  Result r;
  r.markdown = fmt::format("# Comparison of {} serving jobs\n\n", sides.size()) +
               srtctl::compare_markdown(sides, opt.baseline, pct, regs);
  const size_t n_number_regs = regs.size();
  // A verdict that got worse is a regression too, whatever the numbers of the runs that finished.
  std::vector<std::string> verdicts;
  for (size_t i = 0; i < sides.size(); ++i) {
    if (i == opt.baseline || sides[i].verdict == base.verdict) continue;
    verdicts.push_back(fmt::format("{} {} → {}", sides[i].job.job_id,
                                   srtctl::verdict_name(base.verdict),
                                   srtctl::verdict_name(sides[i].verdict)));
    if (verdict_rank(sides[i].verdict) > verdict_rank(base.verdict))
      regs.push_back(fmt::format("{}: verdict {} → {} ({})", sides[i].job.job_id,
                                 srtctl::verdict_name(base.verdict),
                                 srtctl::verdict_name(sides[i].verdict), sides[i].reason));
  }
  if (regs.size() > n_number_regs) {
    r.markdown += "\nVerdicts that got worse:\n\n";
    for (size_t k = n_number_regs; k < regs.size(); ++k)
      r.markdown += "- " + md_escape(regs[k]) + "\n";
  }
  // The benchmark points of each side (per GPU, per user) against the baseline's, and the
  // frontier of them all: informational, the gate above stays on the runs' metrics.
  const srtctl::PointsComparison points = srtctl::compare_points(side_jobs, labels, opt.baseline);
  r.markdown += srtctl::points_comparison_markdown(points);
  ojson cmp = srtctl::compare_json(sides, opt.baseline, pct);
  cmp["points"] = srtctl::points_comparison_json(points);
  r.json = {{"schema", 1}, {"kind", "comparison"}, {"family", "srtctl"}};
  r.json["baseline"] = {{"index", opt.baseline}, {"label", utf8_clean(labels[opt.baseline])}};
  r.json["fail_on_regression_pct"] =
      opt.fail_on_regression_pct ? ojson(*opt.fail_on_regression_pct) : ojson(nullptr);
  r.json["runs"] = std::move(runs_json);
  r.json["srtctl"] = cmp;
  ojson all = ojson::array();
  for (const auto& g : regs) all.push_back(utf8_clean(g));
  r.json["regressions"] = std::move(all);
  // The gate applies only when asked for; without it the regressions are listed, not fatal.
  if (opt.fail_on_regression_pct) r.regressions = regs;
  r.json["regressed"] = !r.regressions.empty();
  r.verdict = fmt::format(
      "{} serving jobs: {}", sides.size(),
      regs.empty() ? fmt::format("no regression beyond {} %", fixed(pct, 1))
                   : fmt::format("{} regression(s) beyond {} %", regs.size(), fixed(pct, 1)));
  if (!verdicts.empty()) r.verdict += fmt::format("; verdicts: {}", fmt::join(verdicts, ", "));
  r.verdict = printable(r.verdict);
  r.json["verdict"] = utf8_clean(r.verdict);
  r.markdown += "\n**Verdict:** " + md_escape(r.verdict) + "\n";
  if (!dropped.empty()) {
    r.markdown +=
        "\nA job set is compared as one sweep: per concurrency, the first job (by id) "
        "that finished it. Not compared (the same concurrency in a later job):\n\n";
    for (const auto& [label, runs] : dropped)
      r.markdown += fmt::format("- {}: {}\n", md_escape(label),
                                md_escape(fmt::format("{}", fmt::join(runs, ", "))));
  }
  r.terminal = render_terminal(cmp, base.job.job_id, pct, regs, clip_text(r.verdict, 100));
  if (std::string pts = srtctl::points_comparison_text(points, 100); !pts.empty()) {
    // Before the verdict line, which stays last.
    const size_t at = r.terminal.rfind("\n\n");
    r.terminal.insert(at == std::string::npos ? r.terminal.size() : at + 1, "\n" + pts);
  }
  return r;
}

}  // namespace detail

std::optional<Result> compare_serving_jobs(const Options& opt) {
  if (opt.runs.size() < 2) return std::nullopt;
  for (const auto& a : opt.runs) {
    std::error_code ec;
    if (!fs::is_directory(a, ec) || !srtctl::is_job_dir(a)) return std::nullopt;
  }
  if (opt.baseline >= opt.runs.size())
    throw std::invalid_argument(
        fmt::format("--baseline {}: only {} runs given", opt.baseline + 1, opt.runs.size()));
  std::vector<detail::Detected> args;
  for (const auto& a : opt.runs) args.push_back({a, detail::Kind::srtctl, "job folder", {}});
  return detail::compare_srtctl(args, opt);
}

}  // namespace alog::compare
