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

#include "analyze_logs/event.hpp"
#include "analyze_logs/file_counts.hpp"
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


// ---- Where the logs live (`analyze-logs partial` / `merge`) -----------------------------------
// What scanning one input gave, kept so that the analysis can finish elsewhere: its counts and
// its events in scan order, with the message of each (timeline.txt quotes them). No other text
// of the log: the untagged lines were never kept.
struct RecordedInput {
  std::string path;          // as analyze() names it
  std::string item;          // the opt.inputs entry it came from; "" for a found input
  bool from_folder = false;  // found in a folder (unreadable: reported), else named (fatal)
  bool unreadable = false;   // could not be opened; `error` says why
  std::string error;
  std::string compression;
  scan::FileCounts counts;
  uint64_t event_count = 0;
  std::string events;    // packed as they came (a few tens of bytes each; partial.cpp)
  std::string messages;  // every event's message, one after the other
  // The events in scan order, each with its message (`file` is 0: the reader sets it).
  void for_each(const std::function<void(const Event&, std::string_view)>& f) const;
};
// Scans one input as analyze() would. Throws FatalInputError when a named input cannot be opened.
RecordedInput record_input(const std::string& path, bool from_folder, const std::string& item, unsigned threads);
// Every input of opt, expanded as analyze() expands them.
std::vector<RecordedInput> record_inputs(const AnalysisOptions& opt);
// The same, each handed over as soon as it is read (only one input's events in memory at once).
void record_inputs(const AnalysisOptions& opt, const std::function<void(RecordedInput&&)>& each);
// analyze() over recorded inputs, read in this order: the same Report as scanning the files.
Report analyze_recorded(const AnalysisOptions& opt, const std::vector<const RecordedInput*>& inputs,
                        std::unique_ptr<TimelineSpool>& timeline);
// The role analyze() gives a recorded input (by its events, else its name), without the analysis.
Role recorded_role(const RecordedInput& r);
// find_run_logs' order of two logs under the run folder `root`.
bool run_log_before(const std::string& root, const std::string& a, const std::string& b);
// A recorded input to bytes and back (a partial's payload: varints, present fields only).
std::vector<uint8_t> pack_recorded(const RecordedInput& r);
// Throws std::runtime_error naming what is wrong when `bytes` is not what pack_recorded wrote
// (every event is decoded once to check it).
RecordedInput unpack_recorded(std::string_view bytes);
// Appends one event to r (record_input's sink).
void add_recorded(RecordedInput& r, const Event& ev, std::string_view msg);

}  // namespace alog
