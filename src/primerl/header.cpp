// Report -> core::Header for a prime-rl run. The diagnoses are performance findings (the job
// ran; something made it slow), so a run with any diagnosis is `degraded`, never `failed`. What
// the verdict must not do is read "ok" over nothing: a run with no tagged line is `unknown`, and a
// run that lacks the orchestrator's log (where every client-side figure comes from) says so
// rather than calling an empty metric set "within thresholds".
#include <fmt/format.h>

#include <algorithm>

#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/util.hpp"

namespace alog {

namespace {

core::Finding finding_of(const Report& r, const Diagnosis& d) {
  core::Finding x;
  x.id = d.id;
  x.severity = d.severity == Severity::critical ? core::Severity::critical : core::Severity::warning;
  x.role = core::Role::root_cause;
  x.summary = d.summary;
  for (const auto& [name, value] : d.thresholds)
    x.detail += fmt::format("{}{} {}", x.detail.empty() ? "thresholds: " : ", ", name, fixed(value));
  for (const auto& e : d.evidence) x.evidence.push_back({r.file_name(e.file), e.line, {}, e.note});
  x.fix = d.fix;
  return x;
}

// A warning that is about the run, not about reading its inputs.
bool has_warning_beyond_inputs(const core::Header& h) {
  for (const auto& f : h.findings)
    if (f.severity >= core::Severity::warning && f.id != "input_partial" && f.id != "input_unreadable") return true;
  return false;
}

}  // namespace

core::Header header(const Report& r) {
  core::Header h;
  bool orchestrator = false, inference = false, trainer = false;
  uint64_t skipped = 0, unreadable_bytes = 0, unreadable_lines = 0;
  std::string skipped_where;
  const InputReport* unreadable_first = nullptr;
  for (const auto& in : r.inputs) {
    core::InputEntry e;
    e.path = in.path;
    e.kind = "prime-rl";
    e.role = std::string(role_name(in.role)) + " log";
    e.read = !in.unreadable;
    e.reason = in.error;
    h.inputs.push_back(std::move(e));
    if (in.counts.events > 0) {
      orchestrator |= in.role == Role::orchestrator;
      inference |= in.role == Role::inference;
      trainer |= in.role == Role::trainer;
    }
    if (in.counts.skipped() > 0) {
      skipped += in.counts.skipped();
      if (skipped_where.empty()) skipped_where = in.path;
    }
    if (in.counts.unreadable_bytes > 0) {
      unreadable_bytes += in.counts.unreadable_bytes;
      unreadable_lines += in.counts.unreadable_lines;
      if (!unreadable_first) unreadable_first = &in;
    }
  }

  for (const auto& d : r.diagnoses) h.findings.push_back(finding_of(r, d));
  // A metric over its threshold that no rule explains is still a finding (the rules judge
  // patterns; the thresholds judge every metric).
  if (r.diagnoses.empty())
    for (const auto& m : r.metrics)
      if (m.status == Status::warning || m.status == Status::critical) {
        std::string_view stat = r.thresholds.judged_on(m.name);
        double v = stat == "max" ? m.stats.max : m.stats.mean;
        core::Finding x;
        x.id = "threshold_exceeded";
        x.severity = m.status == Status::critical ? core::Severity::critical : core::Severity::warning;
        x.summary = fmt::format("{} {} = {}{} is above the {} threshold", m.name, stat, fixed(v), m.unit,
                                status_name(m.status));
        x.fix = "See docs/DIAGNOSES.md for what drives this metric; compare with a healthy run";
        h.findings.push_back(std::move(x));
      }

  const uint64_t events = r.total_events();
  if (events == 0) {
    core::Finding x;
    x.id = "no_input_recognised";
    x.severity = core::Severity::warning;
    uint64_t lines = 0;
    for (const auto& in : r.inputs) lines += in.counts.lines;
    x.summary = fmt::format(
        "No prime-rl tagged line ([weights], [gen], [ckpt], [rollout]) in {} input{} ({} lines read)",
        r.inputs.size(), r.inputs.size() == 1 ? "" : "s", lines);
    x.fix = "Give the orchestrator, inference and trainer logs of an instrumented prime-rl run "
            "(or its run folder); for other jobs, give the srtctl job folder or the Ray logs";
    h.findings.push_back(std::move(x));
  } else if (!orchestrator) {
    core::Finding x;
    x.id = "missing_orchestrator_log";
    x.severity = core::Severity::warning;
    std::string have = inference && trainer ? "the inference server's and the trainer's logs"
                       : inference          ? "the inference server's log"
                       : trainer            ? "the trainer's log"
                                            : "logs of no known role";
    x.summary = fmt::format("Only {} {} given: the orchestrator log is missing", have,
                            inference && trainer ? "were" : "was");
    x.detail = "Without it the client side of every weight update (wall_ms, queue_ms, rpc_ms), the "
               "generation batches and the rollouts cannot be known, nor can the updates be joined "
               "across hosts";
    x.fix = "Add the orchestrator's log (orchestrator.log) to the inputs";
    h.findings.push_back(std::move(x));
  } else if (!inference) {
    core::Finding x;
    x.id = "missing_inference_log";
    x.severity = core::Severity::info;
    x.summary = "No inference server log: the server side of each weight update is unknown";
    x.detail = "queue_ms cannot be split into the wait before the server and the server's own work, "
               "and no clock offset can be estimated";
    x.fix = "Add the inference server's log (inference.log or the vLLM log) to the inputs";
    h.findings.push_back(std::move(x));
  }
  // Inputs read only in part, or not at all: every figure covers only what was read, so the
  // verdict says so (below) and --fail-on warning trips.
  const InputReport* first_partial = nullptr;
  size_t partial = 0;
  for (const auto& in : r.inputs) {
    if (!in.unreadable && !in.counts.partial) continue;
    core::Finding x;
    x.id = in.unreadable ? "input_unreadable" : "input_partial";
    x.severity = core::Severity::warning;
    x.role = core::Role::collateral;
    // The reader's message usually starts with the path already.
    std::string_view why = in.error;
    if (why.starts_with(in.path + ": ")) why.remove_prefix(in.path.size() + 2);
    x.summary = in.unreadable
                    ? fmt::format("{} could not be read: {}", in.path, why)
                    : fmt::format("{} was read only in part ({} lines): {}", in.path, in.counts.lines, why);
    x.evidence.push_back({in.path, 0, {}, in.error});
    x.fix = in.unreadable ? "Check the file's permissions and that it is a regular file, or leave it out"
                          : "Collect the file again (a complete copy); the figures here cover only the part read";
    h.findings.push_back(std::move(x));
    if (!in.unreadable && partial++ == 0) first_partial = &in;
  }
  if (skipped > 0) {
    core::Finding x;
    x.id = "lines_skipped";
    x.severity = core::Severity::info;
    x.role = core::Role::collateral;
    x.summary = fmt::format("{} tagged line{} could not be read and were skipped (counted per file and "
                            "reason in the inputs)",
                            skipped, skipped == 1 ? "" : "s");
    x.evidence.push_back({skipped_where, 0, {}, "first file with skipped lines"});
    h.findings.push_back(std::move(x));
  }
  if (unreadable_first) {
    // The lines were read; the bytes are worth knowing about (a corrupt write, a pipe that
    // mangled the log), not worth a warning.
    core::Finding x;
    x.id = "unreadable_bytes";
    x.severity = core::Severity::info;
    x.role = core::Role::collateral;
    x.summary =
        fmt::format("{} unreadable byte{} before the tag of {} line{}: dropped, the line{} read",
                    unreadable_bytes, unreadable_bytes == 1 ? "" : "s", unreadable_lines,
                    unreadable_lines == 1 ? "" : "s", unreadable_lines == 1 ? "" : "s");
    x.detail =
        "Bytes that are not text (invalid UTF-8, control characters, a byte-order mark, an "
        "escape sequence cut short); counted per file in the inputs (unreadable_bytes)";
    const auto& samples = unreadable_first->counts.unreadable_samples;
    x.evidence.push_back({unreadable_first->path,
                          samples.empty() ? 0 : samples.front(),
                          {},
                          "first line with unreadable bytes before its tag"});
    h.findings.push_back(std::move(x));
  }
  core::sort_findings(h.findings);
  // Without the orchestrator's log (or any tagged line) that is what the verdict rests on: it
  // goes first, before any threshold the remaining logs happen to exceed.
  std::stable_partition(h.findings.begin(), h.findings.end(), [](const core::Finding& f) {
    return f.id == "missing_orchestrator_log" || f.id == "no_input_recognised";
  });

  if (!r.diagnoses.empty()) {
    h.verdict = core::Verdict::degraded;
    h.cause = h.root() ? h.root()->summary : r.diagnoses.front().summary;
  } else if (has_warning_beyond_inputs(h) && events > 0 && orchestrator) {
    h.verdict = core::Verdict::degraded;
    h.cause = h.findings.front().summary;
  } else if (events == 0) {
    h.verdict = core::Verdict::unknown;
    h.cause = "No events found: no tagged [weights]/[ckpt]/[gen]/[rollout] line in the input";
  } else if (!orchestrator) {
    h.verdict = core::Verdict::unknown;
    for (const auto& f : h.findings)
      if (f.id == "missing_orchestrator_log") h.cause = f.summary;
  } else {
    h.verdict = core::Verdict::ok;
    h.cause = "no known bottleneck found; every metric is within its thresholds";
  }
  if (first_partial)
    h.cause += partial == 1
                   ? fmt::format(" (on a partial input: {} was read only in part, so every figure covers "
                                 "only the part read)",
                                 first_partial->path)
                   : fmt::format(" (on partial inputs: {} of them, first {}, were read only in part, so every "
                                 "figure covers only the parts read)",
                                 partial, first_partial->path);
  return h;
}

}  // namespace alog
