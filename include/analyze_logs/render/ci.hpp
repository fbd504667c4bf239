// What a CI system reads from an analysis: JUnit XML (`--junit FILE`, shown by the test reporters
// of Jenkins, GitLab and GitHub) and GitHub Actions workflow commands (one `::error`/`::warning`
// per finding, shown as annotations). Both are rendered here from the shared header, so every job
// kind and `compare` give the same shape; the command line decides where they go (src/cli/ci.cpp).
//
// A finding is a failure when its severity is at or above the gate (`--fail-on`, warning when it
// is not given): the same line `--fail-on` draws for the exit status. Every `--expect` check is a
// test case of its own, failed or passed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/core/finding.hpp"

namespace alog::render {

// One `--expect` check (or, for compare, one regression) as CI shows it.
struct CiCheck {
  std::string name;  // "weights.queue_ms.p99<300"
  bool passed = false;
  std::string message;  // what was measured: "weights.queue_ms.p99 = 38725.859"
};

// One job as CI shows it: its header and checks. `header` is borrowed.
struct CiJob {
  std::string name;  // the job's name ("run_dir", "4459_2P_1D_20251122_041341")
  std::string kind;  // "prime-rl", "srtctl", "ray", "unrecognised", "compare"
  const core::Header* header = nullptr;
  std::vector<CiCheck> checks{};
};

// JUnit XML: <testsuites> with one <testsuite> per job; in each, a `verdict` test case (passed:
// the verdict and cause are its system-out), one test case per check, and one failed test case
// per finding at or above `gate` with its evidence, detail and fix in the failure's text. Text
// is made valid XML 1.0 (invalid UTF-8 replaced, control characters other than tab and newline
// written as U+FFFD) and escaped.
std::string junit_xml(const std::vector<CiJob>& jobs, core::Severity gate);

// GitHub Actions workflow commands, one line each: `::error` for a critical finding or a failed
// check, `::warning` for a warning finding (info findings are not annotated: they are the noise
// a failure makes, and GitHub shows only the first 10 annotations of each type per step).
// Properties from the finding's first evidence: file=, line= (when it is a line), title= (the
// finding's id, role and job).
std::string github_annotations(const std::vector<CiJob>& jobs);

// The escaping of the workflow-command format: in the message, % CR LF as %25 %0D %0A; in a
// property value, also : and , as %3A %2C.
std::string workflow_escape_data(std::string_view s);
std::string workflow_escape_property(std::string_view s);

// XML 1.0 text or attribute value: & < > " ' escaped; invalid UTF-8 and characters XML 1.0
// forbids (C0 controls other than tab, LF, CR) replaced by U+FFFD; CR kept as &#13;.
std::string xml_escape(std::string_view s);

}  // namespace alog::render
