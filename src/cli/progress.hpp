// A progress bar on stderr for long inputs: bytes done of total, MB/s, ETA (stdin: bytes and
// rate). Shown only on a terminal, only after half a second, redrawn at most 10 times a second,
// so it costs nothing measurable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace alog::cli {

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
  ~Progress() { clear(); }
  void update(const std::string& name, uint64_t done, uint64_t total);
  void clear();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_{};
};

}  // namespace alog::cli
