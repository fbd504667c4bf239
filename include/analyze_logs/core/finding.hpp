// The one vocabulary every analysis answers in, whatever the job kind (prime-rl, srtctl, Ray, and
// the kinds to come): a verdict with the sentence that names its cause, findings with a severity
// and a role, and the inputs that were read or skipped. Writers render this header the same way
// for every kind and ask the kind for its own detail (its "body") below it.
//
// Why roles: in a distributed job one fault makes many processes log errors. The first fatal
// line is the root cause; what follows from it (an actor dying because its peer did) is a
// consequence; what every survivor prints at teardown is collateral. A person needs the first,
// and must be told the rest is noise rather than never shown it.
//
// Plain data only: no scanner, no JSON library. The JSON form is in core/header_json.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alog::core {

// ok: ran and nothing is wrong. degraded: ran, but slower or worse than it should (a bottleneck,
// a slow phase, a regression). failed: it ended on an error. stuck: it stopped making progress
// and did not end. running: still making progress (live inputs). unknown: the inputs hold too
// little to judge; never reads as ok.
enum class Verdict { ok, degraded, failed, stuck, running, unknown };
std::string_view verdict_name(Verdict v);  // "ok", "degraded", ...
std::optional<Verdict> verdict_from_name(std::string_view s);
// How bad, for the worst-of a set of jobs: failed > stuck > degraded > unknown > running > ok.
int verdict_rank(Verdict v);

enum class Severity { info, warning, critical };
std::string_view severity_name(Severity s);  // "info", "warning", "critical"
std::optional<Severity> severity_from_name(std::string_view s);

enum class Role { root_cause, consequence, collateral };
std::string_view role_name(Role r);  // "root_cause", "consequence", "collateral"

// One line that shows a finding. `file` is as the report names inputs (relative to the folder
// given where possible); `line` is 1-based, 0 when the evidence is not a line (a file that is
// missing, a statistic).
struct Evidence {
  std::string file;
  uint64_t line = 0;
  std::string time;  // "2026-03-11 06:12:47" or "06:12:47", "" when unknown
  std::string text;  // the line, ANSI-stripped and cut; or a note ("queue_ms=30333.4")
  std::string ref() const;  // "file:line", "file" when line is 0, "" when there is no file
};

struct Finding {
  std::string id;  // catalogue or rule id: "cuda_oom", "queue_saturation", "no_input_recognised"
  Severity severity = Severity::warning;
  Role role = Role::root_cause;
  std::string summary;  // one line
  std::string detail;   // what else is known; may be empty
  std::vector<Evidence> evidence;
  std::string fix;  // what to do; may be empty
  std::string job;  // the job it belongs to (its name), filled when a report holds several
};

// One input as discovery and the analysis saw it.
struct InputEntry {
  std::string path;
  std::string kind;  // the job kind that claimed it ("prime-rl", "srtctl", "ray"), "" when none
  std::string role;  // what it is to that kind: "orchestrator log", "driver log", "session logs"
  bool read = true;  // false: skipped, and `reason` says why
  std::string reason;
};

struct Header {
  Verdict verdict = Verdict::unknown;
  std::string cause;  // one sentence naming the cause of the verdict
  std::vector<Finding> findings;  // root cause first, then by severity, then in order found
  std::vector<InputEntry> inputs;
  // When and where the job ran, as its logs say (the fleet view, docs/FLEET.md); empty when the
  // logs do not tell. Times are on the logs' own clock, "YYYY-MM-DD HH:MM:SS".
  std::string started_at, ended_at;
  std::vector<std::string> nodes;  // host names or addresses, sorted, each once

  // The finding the verdict rests on: the first root cause at the worst severity, else nullptr.
  const Finding* root() const;
  bool has_at_least(Severity s) const;
};

// Orders findings: root causes first, then consequences, then collateral; within a role, worse
// severity first; otherwise stable.
void sort_findings(std::vector<Finding>& findings);

// The finding every kind gives for the files it could not read, or not in full: `file_problems`,
// info, collateral, "N file problem(s) WHERE", the first 8 as evidence (to_evidence(problem)).
template <typename Problems, typename ToEvidence>
Finding file_problems_finding(const Problems& problems, std::string_view where, ToEvidence to_evidence) {
  Finding x;
  x.id = "file_problems";
  x.severity = Severity::info;
  x.role = Role::collateral;
  x.summary = std::to_string(problems.size()) + (problems.size() == 1 ? " file problem " : " file problems ");
  x.summary += where;
  for (size_t i = 0; i < problems.size() && i < 8; ++i) x.evidence.push_back(to_evidence(problems[i]));
  return x;
}

}  // namespace alog::core
