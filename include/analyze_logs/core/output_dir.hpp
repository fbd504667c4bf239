// Report folders that are never half-written and never overwrite an earlier analysis.
//
// The folder is built under a hidden temporary name beside its final place
// (PARENT/.analysis_<stamp>.tmp-XXXXXX) and renamed with RENAME_NOREPLACE when complete; two runs
// in the same second get `analysis_<stamp>`, `analysis_<stamp>_2`, ... If the process is
// interrupted (SIGINT, SIGTERM, SIGHUP) the temporary folder is removed by the signal-handling
// thread (core/interrupt.hpp) before the process ends; if it dies by SIGKILL only the hidden
// temporary folder can remain. A parent folder that does not exist yet is created first; it is
// removed again when no report is committed into it (a failed or interrupted run leaves nothing).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/core/interrupt.hpp"

namespace alog {

// --out cannot be created, is not a folder, is read-only, or the disk is full: exit status 2.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OutputDir {
 public:
  // prefix: "analysis" or "comparison". A parent that does not exist is created with its own
  // missing parents (as `mkdir -p`). Throws OutputError naming `parent` when it cannot be.
  OutputDir(const std::filesystem::path& parent, std::string_view prefix);
  // Removes the temporary folder unless committed, and then the folders the constructor created
  // for the parent, if they are still empty.
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::filesystem::path& staging() const { return staging_; }
  // Writes a file in the staging folder. Throws OutputError on any failure (e.g. disk full).
  void write(std::string_view name, std::string_view content);
  // The same for a file produced in pieces: produce(sink) calls sink with each piece in order.
  using Sink = std::function<void(std::string_view)>;
  void write_stream(std::string_view name, const std::function<void(const Sink&)>& produce);
  // Renames the staging folder to its final name and returns it. Throws OutputError.
  std::filesystem::path commit();

 private:
  std::filesystem::path parent_;
  std::string prefix_;
  std::string stamp_;
  std::filesystem::path staging_;
  bool committed_ = false;  // set under the interrupt lock
  std::vector<std::filesystem::path> created_;  // missing parents it made, outermost first
  std::unique_ptr<interrupt::Cleanup> cleanup_;  // removes the staging folder on SIGINT/TERM/HUP
};

}  // namespace alog
