// `analyze-logs compare A B [C ...]`: prime-rl runs side by side against a baseline.
//
// The unit of comparison is the report.json document (schema 1), not the Report struct: an
// argument may be an analysis folder or a report.json written weeks ago by another build, so
// everything downstream reads only the JSON, and a log file or run folder is first turned into
// that same JSON (analyze + diagnose + to_json). Loading and comparing are separate steps so the
// CLI can report a bad argument before any comparison output exists, and tests can compare
// hand-made documents without touching the file system.
//
// Judgement is deliberately narrow and written down in docs/COMPARE.md: a metric regresses when
// its mean or p99 moves in its bad direction by more than the gate's percentage; a baseline of 0
// has no percentage (shown "n/a", never gated, never divided by); a metric with no samples in a
// run is "missing" there, not zero. Status changes, diagnoses that appeared or were resolved and
// `--expect` results are reported but never feed the regression gate.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alog::compare {

struct Options {
  std::vector<std::string> runs;  // arguments as given
  // 0-based index into `runs`. The CLI's `--baseline N` is 1-based: the CLI subtracts 1.
  size_t baseline = 0;
  // Gate: a metric worse by more than this many percent (in its bad direction) is a regression.
  std::optional<double> fail_on_regression_pct;
  std::vector<std::string> expect;  // --expect expressions, checked on every run
  // Used only for arguments analysed on the fly (log files, run folders).
  unsigned threads = 1;
  int async_level = 2;
  std::string tool_version;
};

struct Run {
  std::string label;      // short, unique name used in every table (see make_labels)
  std::string source;     // the argument as given
  nlohmann::json report;  // a report.json document (schema 1)
  // "analysis folder", "report.json", "log file" or "run folder"; empty when built by hand.
  std::string kind;
};

// Loads each argument, in order:
//   folder with report.json      -> that document (an analysis folder)
//   *.json file                  -> parsed and checked to be a schema-1 report
//   other file / other folder    -> analyze() + diagnose() + to_json() (a log or a run folder)
// Throws std::runtime_error with one line naming the argument when it cannot be loaded, and
// std::invalid_argument when fewer than two runs are given or the baseline is out of range.
std::vector<Run> load_runs(const Options& opt);

struct Result {
  nlohmann::ordered_json json;  // compare.json
  std::string markdown;         // COMPARE.md
  std::string terminal;         // plain-text tables for standard output
  std::string verdict;          // one line for a pull request
  // One line per (run, metric, statistic) worse than the gate; empty when there is no gate.
  std::vector<std::string> regressions;
  bool checks_failed = false;  // an --expect check failed on a non-baseline run
};

// Compares runs[opt.baseline] with every other run. Throws std::invalid_argument for fewer than
// two runs, a baseline out of range, a negative or non-finite gate, or a malformed --expect.
Result compare_runs(const std::vector<Run>& runs, const Options& opt);

// Writes COMPARE.md and compare.json into a new PARENT/comparison_<timestamp>/ folder (atomic,
// never overwriting; see output_dir.hpp) and returns its path. Throws alog::OutputError.
std::filesystem::path write_comparison(const Result& result, const std::filesystem::path& parent);

// Hook for serving jobs: when every argument is an srtctl job folder, compares them with the
// srtctl module's own comparison and returns the result; nullopt otherwise (the prime-rl path).
// The CLI calls this first and falls through to load_runs/compare_runs on nullopt.
std::optional<Result> compare_serving_jobs(const Options& opt);

// ---- pieces exposed for tests and for the CLI's help text ------------------------------------

enum class Bad { up, none };
// Which direction is bad for a metric: up for every *_ms metric, *_pct and rollout.staleness;
// none (never a regression) for gen.inflight and any metric we do not know.
Bad bad_direction(std::string_view metric);

// (value - base) / |base| * 100; nullopt when base is 0 or either is not finite.
std::optional<double> percent_change(double base, double value);

// Labels from arguments: the last path component ("report.json" stands for its folder), then as
// many parent components as needed to tell runs apart ("prefix/logs/orchestrator.log"); the
// same path given twice gets " (2)", " (3)".
std::vector<std::string> make_labels(const std::vector<std::string>& sources);

}  // namespace alog::compare
