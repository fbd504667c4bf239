// `--trace-out FILE`: opened before the analysis, so a FILE that cannot be written is said at once
// (one line naming it with the system's reason) and costs no analysis; written after the report
// folder is in place, so a failure then (a full disk) loses nothing already written.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "analyze_logs/core/interrupt.hpp"
#include "analyze_logs/primerl/model.hpp"

namespace alog::cli {

class TraceFile {
 public:
  // Opens (or creates) FILE for writing without truncating it: a file that exists keeps its
  // content until write(). Throws alog::OutputError "FILE: cannot write the trace: REASON".
  explicit TraceFile(std::string path);
  // Closes it; a file that this run created and did not write whole is removed (also on
  // SIGINT/TERM/HUP).
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  // Replaces the content with the run's Chrome trace (write_chrome_trace). Throws OutputError as
  // above, with the reason of the first write that failed.
  void write(const Report& r);

 private:
  std::string path_;
  int fd_ = -1;
  bool created_ = false;
  std::atomic<bool> written_{false};
  std::unique_ptr<interrupt::Cleanup> cleanup_;
};

}  // namespace alog::cli
