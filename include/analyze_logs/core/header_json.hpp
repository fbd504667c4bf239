// The header's JSON form: the top-level `verdict`, `cause`, `findings[]` and `inputs[]` of every
// report.json (schema 2, docs/report.schema.json), whatever the job kind, and the reverse for
// `compare`, which reads report.json documents written by earlier runs.
#pragma once

#include <nlohmann/json.hpp>

#include "analyze_logs/core/finding.hpp"

namespace alog::core {

// report.json's schema version. 1: prime-rl fields, or `kind` + the kind's body; 2: the header
// at the top level for every kind, and `jobs[]`.
inline constexpr int kReportSchema = 2;

nlohmann::ordered_json to_json(const Evidence& e);
nlohmann::ordered_json to_json(const Finding& f);
nlohmann::ordered_json to_json(const InputEntry& in);
// Sets verdict, cause, findings and inputs on `doc` (in that order, after what it holds).
void put_header(nlohmann::ordered_json& doc, const Header& h);

// A job's place in time and on the cluster, for `jobs[]` entries: `started_at`, `ended_at`
// (strings or null), `duration_s` (their difference, null unless both are known) and `nodes`.
void put_place(nlohmann::ordered_json& doc, const Header& h);

// Reads a header back (schema 2), with the place when present. Throws std::invalid_argument naming the first bad member.
Header header_from_json(const nlohmann::json& doc);

}  // namespace alog::core
