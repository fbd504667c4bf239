// What the command line asked for, parsed and checked by app.cpp: the analysis reads only this.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/thresholds.hpp"

namespace alog::cli {

struct Analysed;

struct RunOptions {
  std::vector<std::string> inputs;
  std::string out_parent = ".";
  std::string format = "text";  // text | md | json
  bool no_folder = false;        // --no-folder: standard output only, no analysis_* folder
  bool color = false;
  bool quiet = false;
  unsigned threads = 1;
  size_t max_updates = 150000;
  int async_level = 2;
  std::optional<Thresholds> thresholds;
  std::vector<Expectation> expectations;
  std::string fail_on;  // "", "warning", "critical"
  std::string trace_id, trace_out;
  bool live = false;
  std::optional<double> min_tps_user;  // --min-tps-user: the srtctl frontier's cutoff
  double max_failed_pct = 5.0;         // --max-failed-requests: the srtctl validity gate
  std::string cache_dir;       // --cache DIR: "" for none (cache.hpp)
  std::string cache_settings;  // what besides the inputs changes a job's result (the cache key)
  // `analyze-logs merge PARTIAL...`: the partials to finish (partial.hpp), read in place of
  // `inputs`.
  std::vector<std::string> partials;
  std::string junit;    // --junit FILE: "" for none
  bool github = false;  // GitHub Actions: annotations and step summary (GITHUB_ACTIONS=true, no --no-github)
  std::string tool_version;
  // --follow (follow.cpp): the loop, its screen or lines, and the Prometheus file.
  bool follow = false;
  double interval = 2;                // --interval, seconds
  std::optional<double> stall_after;  // --stall-after, seconds
  std::string exit_on;                // --exit-on: "", "stalled", "critical"
  std::string metrics_file;           // --metrics FILE
  // Set by the follow loop for its final report: called on each job as soon as it is analysed
  // (the stalled findings are added to its header), and whether the report is printed (a
  // non-terminal follow prints only its lines; the folder's path is handed back in *report_dir).
  std::function<void(Analysed&)> amend;
  bool print = true;
  std::string* report_dir = nullptr;
  std::map<std::string, std::string> dropped_inputs;  // path -> why it is not read (drop_inputs)
};

// --follow: reads the inputs as they grow until the job ends or a signal; returns the exit status.
int run_follow(const RunOptions& opt);

// Runs the analysis of every job found in opt.inputs, writes the report folder (unless
// opt.no_folder), prints the summary; returns the exit status.
int run_analysis(const RunOptions& opt);

}  // namespace alog::cli
