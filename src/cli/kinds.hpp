// How each kind is analysed into the shared header and body, and what it adds at the top of
// report.json: the functions the registry's rows (registry.hpp) point at.
#pragma once

#include <any>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "analyze_logs/core/job.hpp"
#include "analyze_logs/primerl/analyzer.hpp"
#include "options.hpp"
#include "plan.hpp"
#include "registry.hpp"

namespace alog::srtctl {
struct BatchCsvRows;
}

namespace alog::cli {

struct CachedParts;  // cache.hpp

// One analysed job: the shared header and body, and the kind's own report (`detail`, whose
// type only that kind's row knows) for the keys it adds to report.json.
struct Analysed {
  core::Job job;
  std::any detail;
  bool checks_failed = false;  // an --expect check failed (prime-rl)
  // A hang analysis (hangs::HangReport) of this job's own files, when they hold stack or Flight
  // Recorder dumps (attach_hangs in kinds.cpp); empty otherwise. Its JSON goes under `hang`.
  std::any hang;
  // A job brought back by --cache (cache.hpp): what `detail` and `hang` would have given (an
  // srtctl job's `detail` is its JobReport, restored). Null for a job analysed in this run.
  std::shared_ptr<const CachedParts> cached;
  // srtctl: the job's element of report.json's srtctl.jobs, dumped at its indentation (6), spliced
  // into report.json (dump_report's pieces) instead of the tree; kept by --cache. Null until made.
  mutable std::shared_ptr<const std::string> srtctl_text;
  // In a report of several jobs: this job's element of report.json's jobs[] and its runs of the
  // top-level findings and inputs, as text (fleet_text_of); kept by --cache for srtctl jobs.
  mutable std::shared_ptr<const struct FleetText> fleet_text;
  // srtctl: the job's rows of worker_window_stats.csv and worker_timeseries.csv, kept by --cache.
  // A job brought back by --cache has them and a JobReport without its batch statistics (the
  // only other readers of those, its body and report.json text, are kept as they rendered).
  mutable std::shared_ptr<const srtctl::BatchCsvRows> srtctl_csv;
};

// A job's share of a fleet's report.json as text, each at its place (indent 4): its jobs[]
// element, and its findings (each naming the job) and inputs as runs of array elements, joined
// as the array joins them ("" when it has none). `body_on_top`: its kind's body is at the top of
// report.json, not in its element (srtctl always; another kind when alone in the report).
struct FleetText {
  std::string element, findings, inputs;
};
FleetText fleet_text_of(const Analysed& a, bool body_on_top);
// A job's element of report.json's jobs[]: name, kind, path, its header and place, its
// fingerprint, and its kind's body when that is not at the top of report.json.
nlohmann::ordered_json job_element(const Analysed& a, bool body_on_top);

// Each kind's analysis as the registry's rows call it (registry.cpp), and the keys it adds to
// report.json.
Analysed analyse_srtctl(const PlannedJob& job, const RunOptions& opt);
void top_srtctl(const std::vector<const Analysed*>& mine, const RunOptions& opt, nlohmann::ordered_json& doc,
                std::vector<const std::string*>& pieces);
// An srtctl job's element of report.json's srtctl.jobs, dumped at its place (indent 6).
std::string srtctl_job_text(const Analysed& a);
// An srtctl job's rows of the two CSV files of batch statistics.
srtctl::BatchCsvRows srtctl_csv_rows(const Analysed& a);
SetView set_view_srtctl(const std::vector<const Analysed*>& mine, const RunOptions& opt);
Analysed analyse_ray(const PlannedJob& job, const RunOptions& opt);
void top_ray(const std::vector<const Analysed*>& mine, const RunOptions& opt, nlohmann::ordered_json& doc,
             std::vector<const std::string*>& pieces);
Analysed analyse_prime(const PlannedJob& job, const RunOptions& opt);
void top_prime(const std::vector<const Analysed*>& mine, const RunOptions& opt, nlohmann::ordered_json& doc,
               std::vector<const std::string*>& pieces);
Analysed analyse_hang(const PlannedJob& job, const RunOptions& opt);
void top_hang(const std::vector<const Analysed*>& mine, const RunOptions& opt, nlohmann::ordered_json& doc,
              std::vector<const std::string*>& pieces);
Analysed analyse_unrecognised(const PlannedJob& job, const RunOptions& opt);

// prime-rl pieces that the run's own fast path (a single prime-rl run) shares with the row.
AnalysisOptions prime_options(const RunOptions& opt, const PlannedJob& job);
// The prime-rl Report of a job merged from partials (pj.parts): every partial's recorded inputs
// read in the order analyze() would have read the files.
Report prime_merged(const AnalysisOptions& aopt, const PlannedJob& pj, std::unique_ptr<TimelineSpool>& timeline);
// Diagnoses the report in a.detail, evaluates --expect and builds the header.
void finish_prime(Analysed& a, const RunOptions& opt, const PlannedJob& job);
// The prime-rl report of an analysed job; null for any other kind.
std::shared_ptr<Report> prime_report(const Analysed& a);
// The hang analysis of a prime-rl run's logs, attached (findings, a.job.body joined with the hang
// body, a.hang) when discovery gave the run hang files (pj.hang_files) or the end of one of its
// plain logs (or of a file under its folder no kind claimed) holds a hang marker, and the analysis
// finds a hang's evidence; false (nothing changed) otherwise.
bool attach_prime_hangs(Analysed& a, const PlannedJob& pj);
std::unique_ptr<core::Body> prime_body(std::shared_ptr<const Report> report);

}  // namespace alog::cli
