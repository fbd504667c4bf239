// `analyze-logs compare A B [C ...]`: runs of one kind (prime-rl, srtctl, Ray) side by side
// against a baseline. Most of this header is about prime-rl runs; compare_any dispatches.
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
  // srtctl job folders analysed on the fly: the validity gate's failed-request share (percent).
  double max_failed_pct = 5.0;
  std::string tool_version;
};

struct Run {
  std::string label;      // short, unique name used in every table (see make_labels)
  std::string source;     // the argument as given
  nlohmann::json report;  // a report.json document (schema 1 or 2); for Ray runs its "ray" value
  // "analysis folder", "report.json", "log file" or "run folder"; empty when built by hand.
  std::string kind;
};

// Loads each argument, in order:
//   folder with report.json      -> that document (an analysis folder)
//   *.json file                  -> parsed and checked to be a prime-rl report (schema 1 or 2)
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

// The entry point of `analyze-logs compare`: decides the kind of every argument, refuses to mix
// kinds and compares with the comparison of that kind.
//   prime-rl: a log file, a run folder, an analysis folder or report.json with no "kind" or kind
//             "prime-rl"                                        -> load_runs + compare_runs
//   srtctl:   a job folder, a folder of job folders (a job set), an analysis folder or
//             report.json of kind "srtctl"                      -> per concurrency, srtctl rules
//   Ray:      a TorchSpec driver log, a Ray session logs folder, a folder holding either at any
//             depth, an analysis folder or report.json of kind "ray" -> compare_ray_runs
// report.json schemas 1 and 2 are read; another schema is an error naming the file. Throws
// std::invalid_argument for a usage error (fewer than two runs, baseline out of range, kinds
// mixed: "compare: cannot compare a Ray run (b/) with an srtctl job (a/): compare runs of one
// kind", --expect on anything but prime-rl runs) and std::runtime_error naming an argument that
// cannot be loaded.
Result compare_any(const Options& opt);

// Ray runs, each Run::report holding the `ray` value of a report.json (ray::to_json). Verdict,
// phase reached, phase durations and their changes against the baseline, training progress and
// root cause. With a gate, a regression is a phase done in both runs that took more than the
// gate's percentage longer, or a verdict that went from finished/running to stuck/failed.
Result compare_ray_runs(const std::vector<Run>& runs, const Options& opt);

// Serving jobs only: when every argument is an srtctl job folder, their comparison (as
// compare_any gives it); nullopt otherwise.
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
