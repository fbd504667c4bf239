// Where the CI outputs go (their content is rendered by render/ci.hpp): `--junit FILE`, written
// atomically (a hidden temporary file beside FILE, renamed over it when complete), and under
// GitHub Actions the step summary and the workflow commands.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/core/interrupt.hpp"
#include "analyze_logs/render/ci.hpp"
#include "options.hpp"

namespace alog::cli {

// A file replaced whole or not at all. The temporary file is created by the constructor, so a
// FILE that cannot be written is said before any analysis (alog::OutputError "FILE: cannot write
// the JUnit report: REASON"); commit() writes and renames it; otherwise it is removed (also on
// SIGINT/TERM/HUP).
class AtomicFile {
 public:
  AtomicFile(std::string path, std::string what);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void commit(std::string_view content);

 private:
  std::string path_, what_, tmp_;
  int fd_ = -1;
  bool done_ = false;
  std::unique_ptr<interrupt::Cleanup> cleanup_;
};

// True when the run is a GitHub Actions step (GITHUB_ACTIONS=true) and --no-github was not given.
bool github_actions_enabled(bool no_github);

// After the report folder is in place: the JUnit file (exit 2 when it cannot be written), then,
// under GitHub Actions, the annotations on stderr and `summary_md` appended to
// $GITHUB_STEP_SUMMARY (a warning, not a failure, when that cannot be written). Returns the exit
// status to use instead of the analysis's, or 0.
int write_ci_outputs(const RunOptions& opt, AtomicFile* junit,
                     const std::vector<render::CiJob>& jobs, std::string_view summary_md);

}  // namespace alog::cli
