// What kind of job each `compare` argument is (prime-rl run, srtctl job, Ray run), the shared
// report.json reader, and the per-kind comparisons that compare_any dispatches to.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/compare.hpp"

namespace alog::compare::detail {

enum class Kind { prime_rl, srtctl, ray };

struct Detected {
  std::string source;  // the argument as given
  Kind kind = Kind::prime_rl;
  // analysis folder | report.json | job folder | job set | driver log | session logs |
  // log folder | log file | run folder
  std::string form;
  // The report.json document (analysis folder or *.json); null otherwise.
  nlohmann::json doc;
};

// Decided from the file system and, for analysis folders and *.json files, the document's "kind".
// Throws std::runtime_error naming the argument when it cannot be read or is not a run.
Detected detect(const std::string& arg);

// "a prime-rl run", "an srtctl job", "an srtctl job set", "a Ray run".
std::string kind_noun(const Detected& d);

// A report.json of any kind: bounded nesting, valid JSON, an object, not a compare.json, a known
// "kind" and schema 1 or 2. Throws std::runtime_error "<arg>: why".
nlohmann::json read_report_doc(const std::filesystem::path& file, const std::string& arg);
// "prime-rl", "srtctl" or "ray" for a document read_report_doc accepted.
std::string doc_kind(const nlohmann::json& doc);

// True when `dir` holds a TorchSpec driver log or a Ray session logs folder somewhere beneath it
// (a bounded walk). Kept in one place so general input discovery can replace it.
bool holds_ray_logs(const std::filesystem::path& dir);

std::runtime_error arg_error(const std::string& arg, std::string_view why);
// Throws arg_error for an argument that cannot be a run at all: empty, "-", missing. Returns its
// status otherwise.
std::filesystem::file_status check_argument(const std::string& arg);

Result compare_srtctl(const std::vector<Detected>& args, const Options& opt);
Result compare_ray(const std::vector<Detected>& args, const Options& opt);

// ---- plain-text helpers for the terminal writers ---------------------------------------------

size_t text_width(std::string_view s);  // UTF-8 code points
// `s` cut to `width` code points, the last one "…" when something was cut.
std::string clip_text(std::string_view s, size_t width);

// The checks every comparison makes before it starts: at least two runs, a baseline among them,
// a gate that is a percentage of 0 or more. Throws std::invalid_argument.
void check_runs_and_gate(size_t runs, const Options& opt);

struct TextTable {
  std::vector<bool> right;  // per column
  std::vector<std::vector<std::string>> rows;
  std::string render(std::string_view indent) const;
};

}  // namespace alog::compare::detail
