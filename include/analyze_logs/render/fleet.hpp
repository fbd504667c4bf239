// The fleet view of a report of several jobs (docs/FLEET.md): the table of every job (kind,
// start, duration, nodes, verdict, fingerprint), the failures grouped by fingerprint, and the
// nodes blamed for more failures than chance allows with the --exclude list for SLURM. Each
// writer's overview of several jobs is this view; report.json gets it under `fleet`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze_logs/core/fleet.hpp"
#include "analyze_logs/core/job.hpp"

namespace alog::render {

std::string fleet_text(const std::vector<core::Job>& jobs, const core::Fleet& fl, const core::TextOptions& opt);
std::string fleet_markdown(const std::vector<core::Job>& jobs, const core::Fleet& fl);
// Job names link to the sections `id="job-N"` (N: the job's index) report_html writes.
std::string fleet_html(const std::vector<core::Job>& jobs, const core::Fleet& fl);
nlohmann::ordered_json fleet_json(const std::vector<const core::Job*>& jobs, const core::Fleet& fl);

// "1h 02m", "3m 07s", "42s"; "" for a negative duration.
std::string short_duration(double seconds);
// More jobs than this, and the terminal shows the fleet view alone (each job's section is in
// SUMMARY.md and report.html).
inline constexpr size_t kFleetSectionsMax = 10;

}  // namespace alog::render
