// The command line: options (CLI11) and nothing else. What to analyse and how is decided by
// plan.cpp (which kind claims which input) and analyse.cpp (the run and its report folder).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "analyze_logs/cli.hpp"
#include "analyze_logs/compare.hpp"
#include "analyze_logs/core/interrupt.hpp"
#include "analyze_logs/core/output_dir.hpp"
#include "analyze_logs/mcp.hpp"
#include "analyze_logs/parse.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "ci.hpp"
#include "io.hpp"
#include "options.hpp"
#include "partial.hpp"

#ifndef ALOG_VERSION
#define ALOG_VERSION "0.0.0"
#endif

namespace fs = std::filesystem;

namespace alog::cli {
namespace {

std::string read_small_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument(fmt::format("{}: {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kFooter = R"(Examples:
  analyze-logs run_dir/                              a prime-rl output folder (its logs are found)
  analyze-logs orchestrator.log inference.log        one prime-rl run; roles come from content
  analyze-logs logs/4459_2P_1D_20251122_041341/      an srtctl job folder (or logs/: each job in it)
  analyze-logs collected_run/                        a Ray job: driver log + ray/<ip>/session_*/logs
  analyze-logs collected/                            several jobs, of any kinds: a section per job
  analyze-logs - < driver.log                        standard input, of any kind
  grep -E '\[weights\]|\[gen\]' orchestrator.log | analyze-logs -
  analyze-logs --json logs/ | jq '.metrics["weights.queue_ms"].p99'
  analyze-logs --json --no-folder run_dir/ | jq -r .verdict        only stdout, no folder written
  analyze-logs --expect 'weights.queue_ms.p99<300' --fail-on critical run_dir/
  analyze-logs --fail-on critical --junit junit.xml logs/   CI: JUnit for Jenkins, GitLab, GitHub
  analyze-logs compare before/ after/ --fail-on-regression 10
  analyze-logs -f run_dir/                           follow a running job (any kind): stalls, live
  analyze-logs -f --exit-on stalled --metrics m.prom logs/job/   a watchdog, and a Prometheus file
  analyze-logs mcp /data/runs                        an MCP server (stdio) for coding agents
  analyze-logs partial /tmp/ray/session_latest/logs -o /shared/$(hostname).alogp    on each node
  analyze-logs merge /shared/*.alogp                 then: the report of every node's files together

Under GitHub Actions (GITHUB_ACTIONS=true) every warning or critical finding is also an ::error or
::warning annotation on stderr, and SUMMARY.md is appended to $GITHUB_STEP_SUMMARY (--no-github:
neither).

Inputs are files (plain, gzip or zstd), folders at any depth, or '-' for standard input. Jobs
(prime-rl runs, srtctl jobs, Ray jobs) are recognised by content, not by names or layout; what is
not read is listed in the report with the reason. Every job gets a verdict (ok, degraded, failed,
stuck, running, unknown), the sentence naming its cause, and findings (info, warning, critical).
Several jobs open with the fleet view: a table of every job, failures grouped by root-cause
fingerprint, and the nodes that fail more often than chance (a list for SLURM to exclude).
The report folder PARENT/analysis_<YYYYmmdd_HHMMSS>/ holds SUMMARY.md, report.html and report.json
(schema 2), and for a single prime-rl run timeline.txt, slowest_updates.txt and *_stats.txt; its
path is the last line of standard output (stderr with --json or --format json). PARENT is created
if it does not exist; --no-folder writes no folder at all.

Exit status:
  0  the analysis ran (whatever it found)
  1  an --expect check failed, or a finding at or above --fail-on was found (any kind)
  2  usage error (an --expect naming an unknown metric or statistic: before any input is read),
     an input that cannot be read, an --out that cannot be created or written, or a
     --trace-out or --junit file that cannot be written (a report folder already written is kept)
  130/143/129  interrupted by SIGINT/SIGTERM/SIGHUP; nothing is left behind (--follow: the first
     signal ends the follow and writes the report, with the statuses above)
A closed standard output (e.g. piping into head) ends the program quietly with status 0.
)";

const char* kCompareFooter = R"(Examples:
  analyze-logs compare before/analysis_20251014_101500 after_run/  analysis folders, logs, runs
  analyze-logs compare --fail-on-regression 10 baseline.json new/  exit 1 on a >10 % regression
  analyze-logs compare --baseline 2 run_a run_b run_c --expect 'weights.queue_ms.p99<300'
  analyze-logs compare logs/4459_2P_1D_20251122_041341/ logs/4460_2P_1D_20251122_061502/
  analyze-logs compare ray_run_a/ ray_run_b/                       two Ray runs
  analyze-logs compare --json --no-folder before/ after/ | jq -r .verdict

Every run is an analysis folder, a report.json (schema 1 or 2), a log file, a run folder, an srtctl
job folder or set of them, or Ray logs (analysed on the fly); all of one kind (prime-rl, srtctl or
Ray). The first is the baseline unless --baseline N. The folder PARENT/comparison_<YYYYmmdd_HHMMSS>/
holds COMPARE.md and compare.json; its path is the last line of standard output (stderr with
--json or --format json). PARENT is created if it does not exist; --no-folder writes no folder.

Exit status:
  0  compared (whatever changed)
  1  a regression beyond --fail-on-regression, or a failed --expect check on a run other than the
     baseline
  2  usage error, a run that cannot be read, runs of different kinds, or an --out that cannot be
     created or written
  130/143/129  interrupted by SIGINT/SIGTERM/SIGHUP; nothing is left behind
)";

// Options that cannot be given together: one line naming both, exit status 2. `cmd` is the
// command they were given to (the analysis or compare).
int check_option_pairs(const CLI::App& cmd, bool json, const std::string& format, bool no_folder) {
  if (json && cmd.count("--format") && format != "json")
    return error(fmt::format("--json and --format {} cannot be used together (--json is --format "
                             "json); give one of them",
                             format));
  if (no_folder && cmd.count("--out"))
    return error("--no-folder and --out cannot be used together (--no-folder writes no folder); "
                 "give one of them");
  return kExitOk;
}

int run_compare(const compare::Options& opt, const std::string& out_parent,
                const std::string& format, bool no_folder) {
  try {
    std::optional<compare::Result> res = compare::compare_any(opt);
    std::optional<fs::path> dir;
    if (!no_folder) dir = compare::write_comparison(*res, out_parent);
    if (format == "json") {
      out(res->json.dump(2) + "\n");
      if (dir) std::fprintf(stderr, "%s\n", dir->c_str());
    } else {
      out(format == "md" ? res->markdown : res->terminal);
      if (dir) out(dir->string() + "\n");
    }
    return (!res->regressions.empty() || res->checks_failed) ? kExitCheckFailed : kExitOk;
  } catch (const std::exception& e) {
    return error(e.what());
  }
}


// The analysis's options as given, before they are checked and turned into RunOptions.
struct AnalysisArgs {
  std::vector<std::string> inputs;
  std::string out_parent = ".";
  bool json = false, quiet = false, no_folder = false;
  std::string format = "text", color = "auto", thresholds_file;
  int async_level = 2;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  size_t max_updates = 150000;
  std::vector<std::string> expects;
  std::string fail_on, trace_id, trace_out, junit;
  bool live = false, no_github = false;
  double min_tps_user = -1;
  double max_failed_pct = RunOptions{}.max_failed_pct;  // srtctl::kDefaultMaxFailedPct
  bool follow = false;
  std::string interval, stall_after, exit_on, metrics;
  std::string cache;
};

struct CompareArgs {
  compare::Options cmp;
  size_t baseline_1 = 1;
  double regression_pct = -1;
  std::string cmp_out = ".", cmp_format = "text";
  bool cmp_json = false, cmp_no_folder = false;
};

void add_follow_options(CLI::App& app, AnalysisArgs& a) {
  app.add_flag("--live", a.live, "Ray jobs still running: measure the silence up to now");
  app.add_flag("-f,--follow", a.follow,
               "Follow the job as it grows (every kind; - until its end): redraw its state every "
               "--interval on a terminal, else a line per change (JSON lines with --json); a "
               "component silent beyond its expectation is a critical `stalled` finding; ends "
               "with the job or Ctrl-C, then writes the report folder");
  app.add_option("--interval", a.interval, "--follow: how often the screen and --metrics are rewritten (default 2s; 500ms, 1m)")
      ->type_name("DURATION");
  app.add_option("--stall-after", a.stall_after,
                 "--follow: a component with no progress for this long is stalled (default: 10x its "
                 "median pace, at least 60s; 10m before it has one)")
      ->type_name("DURATION");
  app.add_option("--exit-on", a.exit_on,
                 "--follow: write the report and exit 1 at the first stalled component (stalled) or "
                 "critical finding (critical)")
      ->check(CLI::IsMember({"stalled", "critical"}));
  app.add_option("--metrics", a.metrics,
                 "--follow: rewrite FILE every --interval in the Prometheus text format, atomically "
                 "(node_exporter textfile collector); see docs/FOLLOW.md")
      ->type_name("FILE");
}

// `merge` takes the analysis's options but those that read files as they are now (--follow and
// its options, --live, --cache): its inputs are partials.
void add_analysis_options(CLI::App& app, AnalysisArgs& a, bool merge = false) {
  if (merge)
    app.add_option("partials", a.inputs, "Partials written by `analyze-logs partial` (one per node), all of this version")
        ->required()
        ->expected(1, -1);
  else
    app.add_option("inputs", a.inputs, "Files, folders at any depth, or - for standard input (jobs of every kind, found by content)");
  app.add_option("-o,--out", a.out_parent,
                 "Parent folder of the analysis_<timestamp>/ report folder (created if missing)")
      ->capture_default_str();
  app.add_flag("--no-folder", a.no_folder,
               "Write no report folder, only standard output; not with --out");
  app.add_flag("--json", a.json,
               "Print the JSON report on standard output (same as --format json; another --format "
               "is an error)");
  app.add_option("--format", a.format, "What goes to standard output: text, md or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  app.add_option("--color", a.color, "Colour the terminal view by severity: auto, always or never (NO_COLOR is honoured)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  // Explicit ranges: CLI11's NonNegativeNumber/PositiveNumber print a 300-digit bound in errors.
  app.add_option("--async-level", a.async_level, "Staleness limit for the staleness status")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--thresholds", a.thresholds_file, "JSON file overriding thresholds (partial overrides allowed)");
  app.add_option("-j,--threads", a.threads, "Worker threads (default: all cores)")->check(CLI::Range(1u, 256u));
  app.add_option("--max-updates", a.max_updates, "Records kept of each kind (weight updates, gen batches, ckpt/rollout events); more are counted and in the statistics, not listed")
      ->check(CLI::Range(size_t{1}, (size_t{1} << 32) - 1))
      ->capture_default_str();
  app.add_flag("-q,--quiet", a.quiet, "No progress bar");
  app.add_option(
         "--expect", a.expects,
         fmt::format("Check METRIC.STAT OP NUMBER, e.g. 'weights.queue_ms.p99<300' "
                     "(repeatable; prime-rl runs); a failed check exits 1, an unknown "
                     "METRIC or STAT exits 2 before any input is read. METRIC: {}; STAT: {}; "
                     "OP: < <= > >= == !=",
                     expect_metric_names(), expect_stat_names()))
      ->allow_extra_args(false);
  app.add_option("--fail-on", a.fail_on, "Exit 1 on a finding of this severity or worse, for every kind: warning or critical")
      ->check(CLI::IsMember({"warning", "critical"}));
  if (!merge) add_follow_options(app, a);
  app.add_option("--min-tps-user", a.min_tps_user,
                 "srtctl jobs: tokens/s per user a configuration must reach; the report names the best "
                 "configuration (most output tokens/s per GPU) that does, and draws the cutoff")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--max-failed-requests", a.max_failed_pct,
                 "srtctl jobs: a finished benchmark run with more than PCT percent of its requests "
                 "failed is invalid, not a result (as one with 0 generated tokens or no measured "
                 "window): a finding, and left out of the points, frontiers and comparisons")
      ->type_name("PCT")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  if (!merge)
    app.add_option("--cache", a.cache,
                   "Keep each job's analysis in DIR, keyed by its files (paths, sizes, modification "
                   "times), the tool's build and the options; a rerun over a growing archive analyses "
                   "only new or changed jobs and gives the same report")
        ->type_name("DIR");
  app.add_option("--junit", a.junit,
                 "Also write JUnit XML to FILE: each --expect check a test case, each finding at or "
                 "above --fail-on (warning by default) a failure with its evidence");
  app.add_flag("--no-github", a.no_github,
               "Under GitHub Actions (GITHUB_ACTIONS=true): no ::error/::warning annotations on "
               "stderr and no SUMMARY.md appended to $GITHUB_STEP_SUMMARY");
  app.add_option("--trace-out", a.trace_out,
                 "Also write the run as a Chrome trace (Perfetto UI, chrome://tracing) to FILE "
                 "(prime-rl runs); checked before the analysis");
  app.add_option("--trace", a.trace_id,
                 "Print everything known about one weight update (a unique prefix of its trace id "
                 "is enough, an ambiguous one lists matches; prime-rl runs); writes no folder");
}

CLI::App* add_compare_command(CLI::App& app, CompareArgs& c) {
  CLI::App* sub = app.add_subcommand("compare", "Compare runs or jobs of one kind side by side against a baseline (before/after a fix)");
  sub->add_option("runs", c.cmp.runs, "Analysis folders, report.json files, logs, run folders, srtctl job folders or sets, Ray logs (one kind)")
      ->required()
      ->expected(2, -1);
  sub->add_option("--baseline", c.baseline_1, "Which run is the baseline (1-based)")->check(CLI::Range(size_t{1}, size_t{10000}))->capture_default_str();
  sub->add_option("--fail-on-regression", c.regression_pct,
                  "Exit 1 when any metric gets worse than PCT percent in its bad direction")
      ->check(CLI::Range(0.0, 1e6));
  sub->add_option("--expect", c.cmp.expect, "Check on every run, as for the analysis (repeatable)")->allow_extra_args(false);
  sub->add_option("-o,--out", c.cmp_out,
                  "Parent folder of the comparison_<timestamp>/ folder (created if missing)")
      ->capture_default_str();
  sub->add_flag("--no-folder", c.cmp_no_folder,
                "Write no comparison folder, only standard output; not with --out");
  sub->add_flag("--json", c.cmp_json,
                "Print compare.json on standard output (same as --format json; another --format is "
                "an error)");
  sub->add_option("--format", c.cmp_format, "What goes to standard output: text, md or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  sub->add_option("-j,--threads", c.cmp.threads, "Worker threads for runs analysed on the fly")->check(CLI::Range(1u, 256u));
  sub->add_option("--async-level", c.cmp.async_level, "Staleness limit for runs analysed on the fly")->check(CLI::Range(0, 1000));
  sub->add_option("--max-failed-requests", c.cmp.max_failed_pct,
                  "srtctl job folders analysed on the fly: a run with more than PCT percent of its "
                  "requests failed is invalid and not compared (report.json files keep their own)")
      ->type_name("PCT")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  sub->footer(kCompareFooter);  // not the analysis's examples, which it inherits from `app`
  return sub;
}

const char* kMcpFooter = R"(The Model Context Protocol (revision 2025-11-25; 2025-06-18, 2025-03-26 and 2024-11-05 are also
spoken) on standard input and output, one JSON-RPC message a line; nothing else is written to
standard output. Tools: analyze (verdict, findings with evidence, key figures), trace (one weight
update or one actor's lines), compare (runs against a baseline), grep (RE2 pattern, optional time
window, bounded). Every path a tool is given must lie under a ROOT (relative paths are under the
first one); a folder holding a link that leads outside them is refused. See docs/MCP.md.

Example, for a client's configuration:
  {"command": "analyze-logs", "args": ["mcp", "/data/runs"]}

Exit status: 0 when the client closes standard input; 2 for a ROOT that does not exist;
130/143/129 on SIGINT/SIGTERM/SIGHUP (the analyses it started are stopped).
)";

struct McpArgs {
  std::vector<std::string> roots;
  std::string timeout = "10m";
  unsigned parallel = 2;
};

CLI::App* add_mcp_command(CLI::App& app, McpArgs& m) {
  CLI::App* sub = app.add_subcommand("mcp", "Serve the Model Context Protocol on stdio for coding agents (tools: analyze, trace, compare, grep)");
  sub->add_option("roots", m.roots, "Folders (or files) the tools may read; every path is confined to them")->required()->expected(1, -1);
  sub->add_option("--timeout", m.timeout, "Longest a tool call may run before it is stopped (an error result)")
      ->type_name("DURATION")
      ->capture_default_str();
  sub->add_option("--parallel", m.parallel, "Tool calls run at once (more wait their turn)")->check(CLI::Range(1u, 16u))->capture_default_str();
  sub->footer(kMcpFooter);
  return sub;
}

int run_mcp(const McpArgs& m) {
  mcp::Config cfg;
  cfg.roots = m.roots;
  cfg.version = ALOG_VERSION;
  cfg.max_parallel = m.parallel;
  auto t = parse::parse_duration(m.timeout);
  if (!t && m.timeout.find_first_not_of("0123456789.") == std::string::npos) t = parse::parse_duration(m.timeout + "s");
  if (!t || !(*t > 0) || *t > 1e7) return error(fmt::format("--timeout {}: not a duration (30s, 10m, 1h)", m.timeout));
  cfg.call_timeout_s = *t;
  std::error_code ec;
  cfg.exe = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) return error(fmt::format("mcp: cannot find this program's own path (/proc/self/exe: {})", ec.message()));
  try {
    return mcp::serve(0, 1, cfg);
  } catch (const std::invalid_argument& e) {
    return error(e.what());
  }
}

const char* kPartialFooter = R"(Run on each node where a job's logs live (Ray keeps each node's in /tmp/ray/session_latest/logs;
SLURM jobs write to node-local scratch), then `analyze-logs merge` where the partials meet: its
report equals the report of analysing all the files in one place (same numbers, findings, verdict).
A partial holds each kind's state of each file (events, samples, buckets, evidence lines, clocks,
counts), not the logs, compressed; its size against the input's is printed on stderr (-q: not).
Jobs are found by content as for the analysis; a node's share that does not show its kind (an
srtctl job's worker logs without log.out) is named with --kind. Each node names its partial (one
per host: FILE is replaced atomically). See docs/SLURM.md for the srun recipe.

Examples:
  analyze-logs partial /tmp/ray/session_latest/logs -o /shared/p/$(hostname).alogp
  analyze-logs partial --kind srtctl /scratch/$SLURM_JOB_ID/job -o /shared/p/$SLURM_NODEID.alogp
  analyze-logs merge /shared/p/*.alogp

Exit status: 0 written; 2 usage error, an input that cannot be read, or a FILE that cannot be
written (nothing is left behind); 130/143/129 on SIGINT/SIGTERM/SIGHUP.
)";

struct PartialCmdArgs {
  PartialArgs p;
};

CLI::App* add_partial_command(CLI::App& app, PartialCmdArgs& pa) {
  CLI::App* sub = app.add_subcommand("partial", "Analyse the logs on this node into a partial that `merge` finishes elsewhere");
  sub->add_option("inputs", pa.p.inputs, "Files or folders on this node (any depth)")->required()->expected(1, -1);
  sub->add_option("-o,--out", pa.p.out, "The partial file to write (replaced atomically)")->required()->type_name("FILE");
  sub->add_option("--kind", pa.p.kind,
                  "srtctl: the input is this node's share of one srtctl job folder, even without the "
                  "files that show it (log.out, benchmark.out); default: jobs found by content")
      ->check(CLI::IsMember(partial_kinds()));
  sub->add_option("-j,--threads", pa.p.threads, "Worker threads (default: all cores)")->check(CLI::Range(1u, 256u));
  sub->add_flag("-q,--quiet", pa.p.quiet, "Nothing on stderr but errors");
  sub->footer(kPartialFooter);
  return sub;
}

const char* kMergeFooter = R"(Finishes the analysis of partials written by `analyze-logs partial` on the nodes that held the
logs: the report (terminal view, report folder, --json, exit status) is the one an analysis of all
their files in one place gives. A job's parts are joined by kind and the path the job was found at
(the same on every node: /tmp/ray/session_latest/logs, the job's scratch folder); a file that two
hosts hold under one path is two files, named host:path. Partials of another version of the tool,
or corrupt ones, are refused with exit status 2 and nothing is written.

Examples:
  analyze-logs merge parts/*.alogp
  analyze-logs merge --json --no-folder parts/*.alogp | jq -r .verdict
  analyze-logs merge --fail-on critical --junit junit.xml parts/*.alogp

Exit status: as for the analysis (0, 1 with --fail-on/--expect, 2, 130/143/129).
)";

// Checks what only the analysis can check (the thresholds file, the --expect expressions) and
// fills `opt`; a non-zero return is the exit status of a usage error already reported.
int to_run_options(const AnalysisArgs& a, RunOptions& opt) {
  opt.inputs = a.inputs;
  opt.out_parent = a.out_parent;
  opt.format = a.json ? "json" : a.format;
  opt.no_folder = a.no_folder;
  // NO_COLOR: present and not empty turns colour off (https://no-color.org convention).
  const char* no_color = std::getenv("NO_COLOR");
  opt.color = a.color == "always" || (a.color == "auto" && ::isatty(1) && !(no_color && *no_color));
  opt.quiet = a.quiet;
  opt.threads = a.threads;
  opt.async_level = a.async_level;
  opt.max_updates = a.max_updates;
  opt.fail_on = a.fail_on;
  opt.trace_id = a.trace_id;
  opt.trace_out = a.trace_out;
  opt.live = a.live;
  if (a.min_tps_user >= 0) opt.min_tps_user = a.min_tps_user;
  opt.max_failed_pct = a.max_failed_pct;
  opt.junit = a.junit;
  opt.github = github_actions_enabled(a.no_github);
  opt.tool_version = ALOG_VERSION;
  if (!a.junit.empty() && !a.trace_id.empty())
    return error("--junit and --trace cannot be used together (--trace prints one update and no "
                 "report); give one of them");
  auto duration = [](const std::string& flag, const std::string& v) -> double {
    std::string_view t = v;
    double secs = -1;
    if (!t.empty() && t.find_first_not_of("0123456789.") == std::string_view::npos) {
      auto d = parse::parse_duration(fmt::format("{}s", t));
      if (d) secs = *d;
    } else if (auto d = parse::parse_duration(t)) {
      secs = *d;
    }
    if (!(secs > 0) || secs > 1e7)
      throw std::invalid_argument(fmt::format("{} {}: not a duration (2, 2s, 500ms, 1m 30s, 1h)", flag, v));
    return secs;
  };
  opt.follow = a.follow;
  opt.exit_on = a.exit_on;
  opt.metrics_file = a.metrics;
  try {
    if (!a.interval.empty()) opt.interval = duration("--interval", a.interval);
    if (!a.stall_after.empty()) opt.stall_after = duration("--stall-after", a.stall_after);
  } catch (const std::invalid_argument& e) {
    return error(e.what());
  }
  if (!a.follow) {
    for (auto [flag, given] : {std::pair{"--interval", !a.interval.empty()}, {"--stall-after", !a.stall_after.empty()},
                               {"--exit-on", !a.exit_on.empty()}, {"--metrics", !a.metrics.empty()}})
      if (given) return error(fmt::format("{} only means something with --follow", flag));
  } else {
    if (!a.trace_id.empty() || !a.trace_out.empty())
      return error("--follow and --trace/--trace-out cannot be used together (they read a run once); give one of them");
    if (opt.interval < 0.1) return error("--interval: at least 100ms");
  }
  if (!a.thresholds_file.empty()) {
    try {
      Thresholds t(a.async_level);
      t.apply_json(read_small_file(a.thresholds_file), a.thresholds_file);
      opt.thresholds = t;
    } catch (const std::exception& e) {
      return error(e.what());
    }
  }
  try {
    for (const auto& e : a.expects) opt.expectations.push_back(parse_expectation(e));
  } catch (const std::invalid_argument& e) {
    return error(e.what());
  }
  if (!a.cache.empty()) {
    if (a.follow) return error("--cache and --follow cannot be used together (a followed job changes as it is read)");
    if (a.live) return error("--cache and --live cannot be used together (--live measures up to now)");
    opt.cache_dir = a.cache;
    // The key's other half: this build of the tool (its version, and the binary's size and time:
    // a rebuild is another analysis) and every option that changes a job's result.
    std::string self = "?";
    if (struct stat st{}; ::stat("/proc/self/exe", &st) == 0)
      self = fmt::format("{}:{}.{}", static_cast<long long>(st.st_size), static_cast<long long>(st.st_mtim.tv_sec),
                         static_cast<long>(st.st_mtim.tv_nsec));
    std::string thresholds;
    if (!a.thresholds_file.empty()) thresholds = read_small_file(a.thresholds_file);
    opt.cache_settings = fmt::format("version {}\nbinary {}\nasync-level {}\nmax-updates {}\nmax-failed-requests {}\n"
                                     "thresholds {}\nexpect {}\n",
                                     ALOG_VERSION, self, a.async_level, a.max_updates, a.max_failed_pct,
                                     thresholds, fmt::join(a.expects, "\n"));
  }
  return kExitOk;
}

}  // namespace

int parse_and_run(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  interrupt::install();  // before any thread starts: every thread inherits the blocked signals
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
  AnalysisArgs a;
  add_analysis_options(app, a);
  CompareArgs c;
  CLI::App* sub = add_compare_command(app, c);
  McpArgs m;
  CLI::App* mcp_sub = add_mcp_command(app, m);
  PartialCmdArgs pa;
  pa.p.threads = a.threads;
  CLI::App* partial_sub = add_partial_command(app, pa);
  AnalysisArgs ma;
  CLI::App* merge_sub = app.add_subcommand("merge", "Finish the analysis of partials from several nodes: the report of all their files in one place");
  add_analysis_options(*merge_sub, ma, true);
  merge_sub->footer(kMergeFooter);
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
    if (!sub->parsed() && !mcp_sub->parsed() && !partial_sub->parsed() && !merge_sub->parsed() && a.inputs.empty())
      throw CLI::RequiredError("inputs");
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "analyze-logs: %s\nRun with --help for more information.\n", e.what());
    return kExitError;
  }
  if (mcp_sub->parsed()) return run_mcp(m);
  if (partial_sub->parsed()) return run_partial(pa.p, ALOG_VERSION);
  if (merge_sub->parsed()) {
    if (int rc = check_option_pairs(*merge_sub, ma.json, ma.format, ma.no_folder)) return rc;
    RunOptions opt;
    std::vector<std::string> partials = std::move(ma.inputs);
    ma.inputs.clear();
    if (int rc = to_run_options(ma, opt)) return rc;
    opt.partials = std::move(partials);
    return run_analysis(opt);
  }
  if (sub->parsed()) {
    if (int rc = check_option_pairs(*sub, c.cmp_json, c.cmp_format, c.cmp_no_folder)) return rc;
    // Checked before any run is read or analysed, like the analysis's own --expect.
    try {
      for (const auto& e : c.cmp.expect) parse_expectation(e);
    } catch (const std::invalid_argument& e) {
      return error(e.what());
    }
    c.cmp.baseline = c.baseline_1 - 1;
    if (c.regression_pct >= 0) c.cmp.fail_on_regression_pct = c.regression_pct;
    if (c.cmp.threads == 1 && !sub->count("--threads")) c.cmp.threads = a.threads;
    c.cmp.tool_version = ALOG_VERSION;
    return run_compare(c.cmp, c.cmp_out, c.cmp_json ? "json" : c.cmp_format, c.cmp_no_folder);
  }
  if (int rc = check_option_pairs(app, a.json, a.format, a.no_folder)) return rc;
  RunOptions opt;
  if (int rc = to_run_options(a, opt)) return rc;
  return opt.follow ? run_follow(opt) : run_analysis(opt);
}

}  // namespace alog::cli

namespace alog {
int run_cli(int argc, char** argv) { return cli::parse_and_run(argc, argv); }
}  // namespace alog
