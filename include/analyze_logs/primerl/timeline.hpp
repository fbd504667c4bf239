// timeline.txt: every event of every input in one order, each line naming its file and line.
//
// Events are spooled to one part file per input while scanning (memory stays flat), and merged
// at the end, once the clock offsets are known, by a k-way merge on a common clock:
//   - an event with `t=` (or a client.done, whose time is send t + wall_ms) is placed at t on the
//     client's clock (server logs shifted by their estimated offset);
//   - an event with only a time of day is placed through the time-of-day -> client clock mapping
//     learned from client events that have both (hosts' wall clocks are assumed synchronised);
//   - anything else inherits the key of the event before it in the same file.
// Times of day are unwrapped at midnight per file (a drop of more than 12 h adds a day).
//
// A run of one input needs no merge: its timeline is that file's events in file order. Then the
// lines are written to the output as they come (`direct`), and nothing is spooled or read back
// (on a 1 GiB log that was ~50 MB written and read again after the scan).
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/core/stats.hpp"
#include "analyze_logs/event.hpp"

namespace alog {

struct Report;

class TimelineSpool {
 public:
  // direct: the run has one input (see above); begin_file is then called once.
  explicit TimelineSpool(std::filesystem::path out, bool direct = false);
  ~TimelineSpool();
  TimelineSpool(const TimelineSpool&) = delete;
  TimelineSpool& operator=(const TimelineSpool&) = delete;

  // name: the file as the timeline names it (Report::file_name).
  void begin_file(uint32_t file, std::string_view name);
  // t: the event's time on its own host's monotonic clock, when known.
  void add(const Event& ev, std::optional<double> t, std::string_view message);
  // Merges the parts into the output file and removes them. Throws std::runtime_error on I/O
  // failure.
  void finish(const Report& r);

 private:
  struct Part {
    std::filesystem::path path;
    std::FILE* f = nullptr;
    int32_t last_tod = -1;
    int64_t day = 0;
    bool client_clock = false;
  };
  void remove_parts() noexcept;
  void flush_direct();
  std::filesystem::path out_;
  bool direct_ = false;
  std::FILE* direct_out_ = nullptr;
  std::string direct_name_;
  std::string direct_buf_;
  std::vector<Part> parts_;
  SampleBuffer tod_to_client_;  // samples of (client t - unwrapped time of day)
};

}  // namespace alog
