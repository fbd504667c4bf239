// The job kinds as the run sees them: one row per kind with how it is analysed and what it adds
// at the top of report.json. Discovery's half of each kind (how its inputs are recognised) is the
// probe table of registry.hpp, in the same order. A new kind is its folder under src/ plus a row
// in each table.
#pragma once

#include <any>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "analyze_logs/analyzer.hpp"
#include "analyze_logs/core/job.hpp"
#include "options.hpp"
#include "plan.hpp"

namespace alog::cli {

// One analysed job: the shared header and body, and the kind's own report (`detail`, whose
// type only that kind's row knows) for the keys it adds to report.json.
struct Analysed {
  core::Job job;
  std::any detail;
  bool checks_failed = false;  // an --expect check failed (prime-rl)
};

struct KindRow {
  std::string_view kind;       // as in KindProbe::kind, and "unrecognised"
  std::string_view described;  // "a Ray job", for messages
  Analysed (*analyse)(const PlannedJob& job, const RunOptions& opt);
  // The keys this kind adds at the top of report.json over its jobs in the report (its body
  // where scripts already read it), or nullptr.
  void (*top_json)(const std::vector<const Analysed*>& mine, nlohmann::ordered_json& doc);
};

std::span<const KindRow> kind_rows();
// The row of `kind`; the "unrecognised" row for a kind no row names.
const KindRow& kind_row(std::string_view kind);

// prime-rl pieces that the run's own fast path (a single prime-rl run) shares with the row.
AnalysisOptions prime_options(const RunOptions& opt, const PlannedJob& job);
// Diagnoses the report in a.detail, evaluates --expect and builds the header.
void finish_prime(Analysed& a, const RunOptions& opt, const PlannedJob& job);
// The prime-rl report of an analysed job; null for any other kind.
std::shared_ptr<Report> prime_report(const Analysed& a);
std::unique_ptr<core::Body> prime_body(std::shared_ptr<const Report> report);

}  // namespace alog::cli
