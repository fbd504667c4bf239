// The registry of job kinds: one row per kind saying what it claims (core::KindProbe, which
// discovery walks) and how it is analysed (kinds.hpp). Which analysis takes which input is
// decided here and nowhere else; a new kind is its folder under src/ plus one row.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <vector>

#include "analyze_logs/core/discover.hpp"

namespace alog::cli {

struct Analysed;
struct PlannedJob;
struct RunOptions;

// What a kind shows over all its jobs of a report, after the jobs themselves (srtctl: the
// benchmark points and frontiers of a sweep): appended to each medium, plus files written beside
// report.json.
struct SetView {
  std::string text, markdown, html;
  std::vector<std::pair<std::string, std::string>> files;  // name -> content
};

struct Kind {
  core::KindProbe probe;       // probe.kind names the kind ("srtctl"); empty for the last row
  std::string_view described;  // "a Ray job", for messages
  Analysed (*analyse)(const PlannedJob& job, const RunOptions& opt);
  // The keys this kind adds at the top of report.json over its jobs in the report (its body
  // where scripts already read it), or nullptr.
  // `pieces`: text a row puts in `doc` as placeholders (dump_report's splice; srtctl's jobs).
  void (*top_json)(const std::vector<const Analysed*>& mine, const RunOptions& opt, nlohmann::ordered_json& doc,
                   std::vector<const std::string*>& pieces);
  // The view over all its jobs of the report, or nullptr.
  SetView (*set_view)(const std::vector<const Analysed*>& mine, const RunOptions& opt);
};

// Every kind, in the order discovery tries them; the last row is "an unrecognised input".
std::span<const Kind> kinds();
// The row of a kind; the last row for a name no row has ("unrecognised").
const Kind& kind(std::string_view name);
// The probes of kinds(), for discovery.
std::span<const core::KindProbe> kind_probes();

// The role of a prime-rl log from its first bytes ("orchestrator log", "inference log", "trainer
// log"), "" when no line in it is a [weights]/[gen]/[ckpt]/[rollout] event. The file's name only
// chooses between roles.
std::string prime_rl_role(const std::filesystem::path& file, std::string_view head);
// The same judged over the whole file (decompressed): for logs whose first tagged line comes
// after the head discovery sniffs (a vLLM server's start-up).
std::string prime_rl_role_deep(const std::filesystem::path& file);

}  // namespace alog::cli
