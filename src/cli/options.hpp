// What the command line asked for, parsed and checked by app.cpp: the analysis reads only this.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/thresholds.hpp"

namespace alog::cli {

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
  std::string junit;    // --junit FILE: "" for none
  bool github = false;  // GitHub Actions: annotations and step summary (GITHUB_ACTIONS=true, no --no-github)
  std::string tool_version;
};

// Runs the analysis of every job found in opt.inputs, writes the report folder (unless
// opt.no_folder), prints the summary; returns the exit status.
int run_analysis(const RunOptions& opt);

}  // namespace alog::cli
