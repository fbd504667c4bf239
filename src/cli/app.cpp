#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "analyze_logs/analyzer.hpp"
#include "analyze_logs/compare.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/cli.hpp"
#include "analyze_logs/diagnose.hpp"
#include "analyze_logs/output_dir.hpp"
#include "analyze_logs/outputs.hpp"
#include "analyze_logs/util.hpp"
#include "analyze_logs/writers.hpp"
#include "progress.hpp"

#ifndef ALOG_VERSION
#define ALOG_VERSION "0.0.0"
#endif

namespace fs = std::filesystem;

namespace alog {
namespace {

// Writes to stdout; a closed pipe (`analyze-logs --json x | head -c 100`) ends the program
// quietly with status 0, like ripgrep: the reader has all it wanted and the folder is written.
void out(std::string_view s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0) {
    if (errno == EPIPE) std::_Exit(kExitOk);
    std::fprintf(stderr, "analyze-logs: cannot write to standard output: %s\n", std::strerror(errno));
    std::_Exit(kExitError);
  }
}

int error(const std::string& msg) {
  std::fprintf(stderr, "analyze-logs: %s\n", printable(msg).c_str());
  return kExitError;
}

std::string read_small_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument(fmt::format("{}: {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kFooter = R"(Examples:
  analyze-logs run_dir/                              a prime-rl output folder (logs/*.log found)
  analyze-logs orchestrator.log inference.log        the old script's shape; roles come from content
  grep -E '\[weights\]|\[gen\]' orchestrator.log | analyze-logs -
  analyze-logs --json logs/ | jq '.metrics["weights.queue_ms"].p99'
  analyze-logs --expect 'weights.queue_ms.p99<300' --fail-on critical run_dir/
  analyze-logs compare before/ after/ --fail-on-regression 10
  analyze-logs logs/4459_4P_1D_20251122_041341/         an srtctl serving-job folder
  analyze-logs running_logs/run.log /tmp/ray/session_latest/logs   a Ray (TorchSpec) job

Inputs may be plain, gzip or zstd (detected from their bytes), or '-' for standard input.
The report folder PARENT/analysis_<YYYYmmdd_HHMMSS>/ holds SUMMARY.md, report.json, report.html,
timeline.txt, slowest_updates.txt and *_stats.txt; its path is the last line of standard output (stderr with
--json or --format json).

Exit status:
  0  the analysis ran (whatever it found)
  1  an --expect check failed, or a diagnosis at or above --fail-on was found
  2  usage error, an input that cannot be read, or an --out that cannot be written
A closed standard output (e.g. piping into head) ends the program quietly with status 0.
)";

// Writes the report folder of a non-prime-rl analysis (srtctl, Ray): SUMMARY.md and report.json,
// then prints it like the prime-rl path does.
int write_simple_report(const std::string& out_parent, const std::string& format, const std::string& markdown,
                        const nlohmann::ordered_json& json, int rc) {
  OutputDir dir(out_parent, "analysis");
  dir.write("SUMMARY.md", markdown);
  dir.write("report.json", json.dump(2) + "\n");
  fs::path final_dir = dir.commit();
  if (format == "json") {
    out(json.dump(2) + "\n");
    std::fprintf(stderr, "%s\n", final_dir.c_str());
  } else {
    out(markdown);
    out(final_dir.string() + "\n");
  }
  return rc;
}

nlohmann::ordered_json envelope(std::string_view kind) {
  nlohmann::ordered_json j;
  j["schema"] = 1;
  j["tool"] = {{"name", "analyze-logs"}, {"version", ALOG_VERSION}};
  j["kind"] = kind;
  return j;
}

// srtctl serving-job folders: every input is a job folder or a folder of job folders.
std::optional<std::vector<srtctl::JobReport>> srtctl_jobs(const std::vector<std::string>& inputs) {
  std::vector<srtctl::JobReport> jobs;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (in == "-" || !fs::is_directory(in, ec)) return std::nullopt;
    if (srtctl::is_job_dir(in)) jobs.push_back(srtctl::analyze_job(in));
    else if (srtctl::is_job_set_dir(in))
      for (auto& j : srtctl::analyze_set(in)) jobs.push_back(std::move(j));
    else return std::nullopt;
  }
  return jobs;
}

// Ray (TorchSpec) jobs: every input is a driver log or a Ray session log folder.
bool all_ray(const std::vector<std::string>& inputs) {
  for (const auto& in : inputs) {
    std::error_code ec;
    if (in == "-") return false;
    if (fs::is_directory(in, ec) ? !ray::is_session_logs_dir(in) : !ray::is_driver_log(in)) return false;
  }
  return !inputs.empty();
}

int severity_rc(const std::string& fail_on, bool critical, bool warning) {
  if (fail_on.empty()) return kExitOk;
  if (critical) return kExitCheckFailed;
  return fail_on == "warning" && warning ? kExitCheckFailed : kExitOk;
}

int run_compare(const compare::Options& opt, const std::string& out_parent, const std::string& format) {
  try {
    std::optional<compare::Result> res = compare::compare_any(opt);
    fs::path dir = compare::write_comparison(*res, out_parent);
    if (format == "json") {
      out(res->json.dump(2) + "\n");
      std::fprintf(stderr, "%s\n", dir.c_str());
    } else {
      out(format == "md" ? res->markdown : res->terminal);
      out(dir.string() + "\n");
    }
    return (!res->regressions.empty() || res->checks_failed) ? kExitCheckFailed : kExitOk;
  } catch (const std::exception& e) {
    return error(e.what());
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  install_cleanup_handlers();
  // The timeline keeps one spool file per input open until the final merge: a run folder of
  // hundreds of rank logs needs more than a 256 soft limit.
  if (struct rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }

  CLI::App app{"analyze-logs: find the bottleneck in distributed ML training and serving logs"};
  app.name("analyze-logs");
  app.footer(kFooter);
  app.set_version_flag("-V,--version", std::string("analyze-logs ") + ALOG_VERSION);
  app.get_formatter()->column_width(34);

  std::vector<std::string> inputs;
  std::string out_parent = ".";
  bool json = false, quiet = false;
  std::string format = "text", color = "auto", thresholds_file;
  int async_level = 2;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  size_t max_updates = 150000;
  std::vector<std::string> expects;
  std::string fail_on, trace_id, trace_out;
  bool live = false;

  app.add_option("inputs", inputs, "Log files, run folders, srtctl job folders, or - for standard input");
  app.add_option("-o,--out", out_parent, "Parent folder of the analysis_<timestamp>/ report folder")
      ->capture_default_str();
  app.add_flag("--json", json, "Print the JSON report on standard output (same as --format json)");
  app.add_option("--format", format, "What goes to standard output: text, md or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  app.add_option("--color", color, "Colour the terminal summary: auto, always or never (NO_COLOR is honoured)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  // Explicit ranges: CLI11's NonNegativeNumber/PositiveNumber print a 300-digit bound in errors.
  app.add_option("--async-level", async_level, "Staleness limit for the staleness status")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--thresholds", thresholds_file, "JSON file overriding thresholds (partial overrides allowed)");
  app.add_option("-j,--threads", threads, "Worker threads (default: all cores)")->check(CLI::Range(1u, 256u));
  app.add_option("--max-updates", max_updates, "Records kept of each kind (weight updates, gen batches, ckpt/rollout events); more are counted and in the statistics, not listed")
      ->check(CLI::Range(size_t{1}, (size_t{1} << 32) - 1))
      ->capture_default_str();
  app.add_flag("-q,--quiet", quiet, "No progress bar");
  app.add_option("--expect", expects, "Check METRIC.STAT OP NUMBER, e.g. 'weights.queue_ms.p99<300' (repeatable; prime-rl runs); a failed check exits 1")
      ->allow_extra_args(false);
  app.add_option("--fail-on", fail_on, "Exit 1 when a diagnosis of this severity or worse is found: warning or critical")
      ->check(CLI::IsMember({"warning", "critical"}));
  app.add_flag("--live", live, "Ray jobs: measure the silence up to now (the job is still running)");
  app.add_option("--trace-out", trace_out, "Also write the run as a Chrome trace (Perfetto UI, chrome://tracing) to FILE (prime-rl runs)");
  app.add_option("--trace", trace_id, "Print everything known about one weight update (a unique prefix of its trace id is enough; prime-rl runs); writes no folder");

  compare::Options cmp;
  size_t baseline_1 = 1;
  double regression_pct = -1;
  std::string cmp_out = ".", cmp_format = "text";
  bool cmp_json = false;
  CLI::App* sub = app.add_subcommand("compare", "Compare runs side by side against a baseline (before/after a fix)");
  sub->add_option("runs", cmp.runs, "Analysis folders, report.json files, log files, run folders or srtctl job folders")
      ->required()
      ->expected(2, -1);
  sub->add_option("--baseline", baseline_1, "Which run is the baseline (1-based)")->check(CLI::Range(size_t{1}, size_t{10000}))->capture_default_str();
  sub->add_option("--fail-on-regression", regression_pct,
                  "Exit 1 when any metric gets worse than PCT percent in its bad direction")
      ->check(CLI::Range(0.0, 1e6));
  sub->add_option("--expect", cmp.expect, "Check on every run, as for the analysis (repeatable)")->allow_extra_args(false);
  sub->add_option("-o,--out", cmp_out, "Parent folder of the comparison_<timestamp>/ folder")->capture_default_str();
  sub->add_flag("--json", cmp_json, "Print compare.json on standard output");
  sub->add_option("--format", cmp_format, "What goes to standard output: text, md or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  sub->add_option("-j,--threads", cmp.threads, "Worker threads for runs analysed on the fly")->check(CLI::Range(1u, 256u));
  sub->add_option("--async-level", cmp.async_level, "Staleness limit for runs analysed on the fly")->check(CLI::Range(0, 1000));
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
    if (!sub->parsed() && inputs.empty()) throw CLI::RequiredError("inputs");
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      int rc = app.exit(e);
      return rc;
    }
    std::fprintf(stderr, "analyze-logs: %s\nRun with --help for more information.\n", e.what());
    return kExitError;
  }
  if (sub->parsed()) {
    cmp.baseline = baseline_1 - 1;
    if (regression_pct >= 0) cmp.fail_on_regression_pct = regression_pct;
    if (cmp.threads == 1 && !sub->count("--threads")) cmp.threads = threads;
    cmp.tool_version = ALOG_VERSION;
    return run_compare(cmp, cmp_out, cmp_json ? "json" : cmp_format);
  }
  if (json) format = "json";
  // NO_COLOR: present and not empty turns colour off (https://no-color.org convention).
  const char* no_color = std::getenv("NO_COLOR");
  bool use_color = color == "always" || (color == "auto" && ::isatty(1) && !(no_color && *no_color));

  AnalysisOptions opt;
  opt.inputs = inputs;
  opt.threads = threads;
  opt.async_level = async_level;
  opt.max_updates = max_updates;
  opt.tool_version = ALOG_VERSION;
  if (!thresholds_file.empty()) {
    try {
      Thresholds t(async_level);
      t.apply_json(read_small_file(thresholds_file), thresholds_file);
      opt.thresholds = t;
    } catch (const std::exception& e) {
      return error(e.what());
    }
  }

  std::vector<Expectation> expectations;
  try {
    for (const auto& e : expects) expectations.push_back(parse_expectation(e));
  } catch (const std::invalid_argument& e) {
    return error(e.what());
  }

  // Options that only mean something for a prime-rl run: an error, not silently ignored.
  auto prime_rl_only = [&](std::string_view kind) -> std::optional<int> {
    if (!trace_out.empty())
      return error(fmt::format("--trace-out: {} has no weight updates to trace (only prime-rl runs do)", kind));
    if (!expectations.empty())
      return error(fmt::format("--expect: {} has none of the prime-rl metrics it checks; "
                               "compare jobs with `analyze-logs compare --fail-on-regression PCT`", kind));
    if (!trace_id.empty())
      return error(fmt::format("--trace: {} has no weight updates (only prime-rl runs do)", kind));
    return std::nullopt;
  };

  if (auto jobs = srtctl_jobs(inputs)) {
    if (auto rc = prime_rl_only("an srtctl serving job")) return *rc;
    try {
      bool failed = false, degraded = false;
      for (const auto& j : *jobs) {
        failed |= j.verdict == srtctl::Verdict::failed;
        degraded |= j.verdict == srtctl::Verdict::degraded;
      }
      auto json_doc = envelope("srtctl");
      json_doc["srtctl"] = srtctl::to_json(*jobs);
      return write_simple_report(out_parent, format, srtctl::to_markdown(*jobs), json_doc,
                                 severity_rc(fail_on, failed, degraded));
    } catch (const std::exception& e) {
      return error(e.what());
    }
  }

  if (all_ray(inputs)) {
    if (auto rc = prime_rl_only("a Ray job")) return *rc;
    try {
      std::vector<fs::path> paths(inputs.begin(), inputs.end());
      ray::Options ro;
      ro.live = live;
      ray::RayReport rr = ray::analyze(paths, ro);
      auto json_doc = envelope("ray");
      json_doc["ray"] = ray::to_json(rr);
      return write_simple_report(out_parent, format, ray::to_markdown(rr), json_doc,
                                 severity_rc(fail_on, rr.verdict == ray::Verdict::failed,
                                             rr.verdict == ray::Verdict::stuck));
    } catch (const std::exception& e) {
      return error(e.what());
    }
  }

  if (!trace_id.empty()) {
    try {
      Report report = analyze(opt);
      std::string err;
      auto text = trace_view(report, trace_id, err);
      if (!text) return error(err);
      out(*text);
      return kExitOk;
    } catch (const std::exception& e) {
      return error(e.what());
    }
  }

  try {
    OutputDir dir(out_parent, "analysis");
    opt.timeline_path = dir.staging() / "timeline.txt";
    cli::Progress progress(!quiet && ::isatty(2));
    opt.progress = [&](const std::string& name, uint64_t done, uint64_t total) { progress.update(name, done, total); };
    Report report;
    std::unique_ptr<TimelineSpool> timeline;
    try {
      report = analyze(opt, timeline);
    } catch (const FatalInputError& e) {
      progress.clear();
      return error(e.what());
    }
    progress.clear();

    diagnose(report);
    int rc = kExitOk;
    for (const auto& e : expectations) {
      report.expectations.push_back(evaluate(e, report));
      if (!report.expectations.back().passed) rc = kExitCheckFailed;
    }
    if (!fail_on.empty() &&
        has_diagnosis_at_least(report, fail_on == "critical" ? Severity::critical : Severity::warning))
      rc = kExitCheckFailed;
    // The outputs only read the report: timeline.txt (a merge of the spooled events), SUMMARY.md
    // and report.html are written on a second thread while this one writes report.json.
    std::exception_ptr side_error;
    std::thread side([&] {
      try {
        if (timeline) timeline->finish(report);
        dir.write("SUMMARY.md", to_markdown(report));
        dir.write("report.html", to_html(report));
      } catch (...) {
        side_error = std::current_exception();
      }
    });
    std::exception_ptr main_error;
    try {
      dir.write_stream("report.json", [&](const OutputDir::Sink& sink) { write_json(report, sink); });
    } catch (...) {
      main_error = std::current_exception();
    }
    side.join();
    timeline.reset();  // removes the spool's part files
    if (main_error) std::rethrow_exception(main_error);
    if (side_error) std::rethrow_exception(side_error);
    if (!trace_out.empty()) {
      std::ofstream f(trace_out, std::ios::binary | std::ios::trunc);
      if (f) write_chrome_trace(report, f);
      f.close();
      if (!f) return error(fmt::format("{}: cannot write the trace", trace_out));
    }
    dir.write("slowest_updates.txt", slowest_updates_txt(report));
    for (const auto& [name, content] : stats_files(report)) dir.write(name, content);
    fs::path final_dir = dir.commit();

    if (format == "json") {
      // The report.json just written, not a second serialisation of the report.
      std::ifstream f(final_dir / "report.json", std::ios::binary);
      std::vector<char> buf(1u << 20);
      while (f.read(buf.data(), static_cast<std::streamsize>(buf.size())) || f.gcount() > 0)
        out(std::string_view(buf.data(), static_cast<size_t>(f.gcount())));
      std::fprintf(stderr, "%s\n", final_dir.c_str());
    } else if (format == "md") {
      out(to_markdown(report));
      out(final_dir.string() + "\n");
    } else {
      out(to_text(report, TextOptions{use_color}));
      out(final_dir.string() + "\n");
    }
    return rc;
  } catch (const OutputError& e) {
    return error(e.what());
  } catch (const std::exception& e) {
    return error(e.what());
  }
}

}  // namespace alog
