// The analysis of prime-rl logs: expands the inputs (files, run folders, stdin), scans each into
// events, and folds the events, in file order, into the Report: per-metric samples, one record
// per weight update (client side) and per server-side half, generation batches and what
// overlapped them, per-input counts and roles. Correlation and diagnosis run on the result.
//
// Everything is streamed: the only state that grows with the input is the samples (8 bytes
// each), one record per weight update and one per generation batch (see docs/PERFORMANCE.md).
// The timeline is spooled to disk as events arrive rather than kept in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/primerl/model.hpp"
#include "analyze_logs/primerl/timeline.hpp"

namespace alog {

struct AnalysisOptions {
  std::vector<std::string> inputs;  // files, run folders, or "-"
  // Files found by discovery inside a folder the user gave: one that cannot be opened is reported
  // and skipped, like a file of a run folder, instead of ending the analysis.
  std::vector<std::string> found_inputs;
  unsigned threads = 1;
  int async_level = 2;
  std::optional<Thresholds> thresholds;  // defaults for async_level when empty
  size_t max_updates = 150000;           // records kept of each kind; more are counted only
  // When set, timeline.txt is written here (the merged, ordered event list).
  std::optional<std::filesystem::path> timeline_path;
  // Progress: (input name, raw bytes read, raw total or 0), from the reading thread.
  std::function<void(const std::string&, uint64_t, uint64_t)> progress;
  std::string tool_version;
};

// An explicitly named input that cannot be opened: the CLI turns it into exit status 2.
// (Unreadable files found inside a run folder are reported in the Report instead.)
struct FatalInputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Expands a run folder into the log files beneath it, sorted by role hint then path: logs/
// orchestrator.log, inference*.log, trainer.log, trainer/rank_*.log, then any other *.log
// (optionally .gz/.zst). Our own analysis_*/comparison_* folders are never descended into.
std::vector<std::filesystem::path> find_run_logs(const std::filesystem::path& dir);

// Runs the whole prime-rl analysis. Throws FatalInputError for an unopenable named input.
Report analyze(const AnalysisOptions& opt);
// The same, but when opt.timeline_path is set the timeline is handed back spooled and not yet
// merged: the caller calls (*timeline)->finish(report) when it likes (the CLI does it on a second
// thread while it writes report.json).
Report analyze(const AnalysisOptions& opt, std::unique_ptr<TimelineSpool>& timeline);

}  // namespace alog
