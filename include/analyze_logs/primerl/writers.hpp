// Writers: Report -> text. Each reads only the Report (never the logs) and escapes every string
// that came from a log (paths, ids, messages) for its medium.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "analyze_logs/core/finding.hpp"
#include "analyze_logs/primerl/model.hpp"

namespace alog {

// What report.json carries beyond the Report: the shared header (when null, header(r) is used,
// which needs r diagnosed first) and the `jobs` array of a report over several jobs.
struct JsonHeader {
  const core::Header* header = nullptr;
  const nlohmann::ordered_json* jobs = nullptr;
  // The hang analysis attached to the run (`hang`, after `jobs`), when its logs held one.
  const nlohmann::ordered_json* hang = nullptr;
};

// report.json, schema 2: the shared header at the top level (verdict, cause, findings, inputs,
// with prime-rl's per-input counts kept in each input), then prime-rl's own fields.
nlohmann::ordered_json to_json(const Report& r, const JsonHeader& jh = {});
// Writes dump_report(to_json(r)) + "\n" to sink in pieces of about 0.5 MiB, building the updates
// and batches a block at a time: memory stays flat however many updates the run has. With
// threads > 1 the blocks are formatted on that many threads and written in order (sink is called
// from one thread at a time).
void write_json(const Report& r, const std::function<void(std::string_view)>& sink, const JsonHeader& jh = {},
                unsigned threads = 1);
std::string to_markdown(const Report& r);   // SUMMARY.md
// SUMMARY.md and report.html list at most this many incomplete updates (client side never
// finished, then server side only), then "… and N more": a run with a hung engine has one per
// update after the hang, and report.json lists them all.
constexpr size_t kIncompleteListed = 50;
std::string verdict_line(const Report& r);  // one line: worst diagnosis or metric status

struct TextOptions {
  bool color = false;
  // Leave out the verdict line and the diagnoses: the shared header (render/) prints them above.
  bool body_only = false;
};
std::string to_text(const Report& r, const TextOptions& opt);  // terminal summary

// What the Inputs tables of SUMMARY.md and report.html say of an input beyond its counts (plain
// text, to be escaped): why it was not read or read in part, its skipped lines per reason, the
// bytes that are not text dropped from before tags.
std::string input_notes(const InputReport& in);
// "1 unreadable byte before a tag dropped (line 41)", or "" when there were none.
std::string unreadable_note(const scan::FileCounts& c);

// key=value stats files, name -> content ("queue_ms_stats.txt" -> "queue_ms.count=30\n...").
std::vector<std::pair<std::string, std::string>> stats_files(const Report& r);
std::string slowest_updates_txt(const Report& r);
// Indices of the n updates with the largest wall_ms (updates without one are left out), largest
// first, ties in report order: what a stable sort by wall_ms would put first, in O(updates).
std::vector<size_t> slowest_updates(const Report& r, size_t n);

}  // namespace alog

namespace alog {
// `--trace <id>`: everything known about the update(s) whose trace id starts with `prefix`.
// Returns nullopt with `error` set when the prefix matches nothing (one line) or more than one id:
// then the message and, one per line, the first 20 ids in order and "... and N more (M match)".
std::optional<std::string> trace_view(const Report& r, std::string_view prefix, std::string& error);
}  // namespace alog
