// Following a running job (`analyze-logs --follow`): what each kind's lines say about the
// progress of its components, and the bookkeeping that turns progress into "stalled".
//
// The follow loop (src/cli/follow.cpp) reads the bytes appended to every file of the job
// (follow/tail.cpp: rotation, truncation, files that appear later) and hands each complete line
// to the kind's Classifier. A classifier is a small state machine over lines: it says which
// component a line shows progress of ("orchestrator steps", "benchmark c=64"), which component
// finished, when the job ended, and the samples of the recent-window statistics. The Tracker
// keeps, per component, its last progress, the last line it logged and its own pace, and decides
// when it has stalled. Neither reads a file or a clock: both are fed, so tests drive them with
// lines and times of their choosing.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze_logs/util.hpp"

namespace alog::follow {

// What one line says.
struct Signal {
  enum class Type : uint8_t {
    progress,   // `component` made progress (a step, an update, a batch, a request count moved)
    activity,   // `component` logged a line that is not progress (shown as its last line only)
    finished,   // `component` is done: never stalled from now on
    job_ended,  // the job ended (srtctl's batch script finished, the driver exited, the run's last step)
    sample,     // `metric` took `value` (the recent-window statistics)
  };
  Type type = Type::progress;
  std::string component;  // e.g. "orchestrator steps", "inference: logs/inference.log", "benchmark c=64"
  std::string detail;     // what the progress was, shown beside it: "step 12", "128/512 requests"
  std::string metric;     // sample only: "weights.queue_ms", "weights.rpc_ms", "step.orchestrator_s"
  double value = 0;       // sample only
  // Before the component has shown its own pace: how long its progress may typically take, in
  // seconds (the seeds' phase durations: model loading, a first step, a benchmark request), or 0
  // for the tracker's default.
  double typical_s = 0;
  // progress only: a duration the line itself measured (a step's own time), in seconds, or 0.
  // The component's pace is then the median of these, not of the gaps between the lines, so a
  // job read from its start (catch-up) has a pace before any line arrived live.
  double measured_s = 0;
};

// A signal of `type` for `component` (aggregate initialisation would have to name every member).
inline Signal make_signal(Signal::Type type, std::string component, std::string detail = {}) {
  Signal s;
  s.type = type;
  s.component = std::move(component);
  s.detail = std::move(detail);
  return s;
}

// One kind's reading of lines. `file` is the path as discovery found it; `line` has no '\n'
// (a trailing '\r' is kept) and may hold colour codes and any prefix the formats allow.
class Classifier {
 public:
  virtual ~Classifier() = default;
  virtual void on_line(std::string_view file, std::string_view line, std::vector<Signal>& out) = 0;
  // `file` grew by `bytes` (called after its lines were handed over). For files whose growth is
  // itself the progress (Ray's raylet.out still writing).
  virtual void on_growth(std::string_view /*file*/, uint64_t /*bytes*/, std::vector<Signal>& /*out*/) {}
};

// "prime-rl", "srtctl", "ray"; nullptr for a kind that cannot be followed.
std::unique_ptr<Classifier> make_classifier(std::string_view kind);
std::unique_ptr<Classifier> make_primerl_classifier();
std::unique_ptr<Classifier> make_srtctl_classifier();
std::unique_ptr<Classifier> make_ray_classifier();

// `line` without its ANSI escape sequences (util's strip_ansi into `buf`), or `line` itself when it
// holds no ESC: what classifiers read, without a copy for the plain lines.
inline std::string_view without_ansi(std::string_view line, std::string& buf) {
  if (line.find('\x1b') == std::string_view::npos) return line;
  buf.clear();
  strip_ansi(line, buf);
  return buf;
}

// ANSI colour codes and a trailing '\r' removed, cut to at most `max` bytes (UTF-8 safe): the
// "last line" shown for a component.
std::string display_line(std::string_view line, size_t max = 240);

struct TrackerOptions {
  std::optional<double> stall_after;  // --stall-after: the same expectation for every component
  double floor_s = 60;                // a component's own pace never makes it shorter than this
  double pace_factor = 10;            // expectation = pace_factor × its median gap between progress
  double default_s = 600;             // before a component has a pace and the kind gives none
  double window_s = 300;              // the recent window of the rolling statistics
};

struct Component {
  std::string name;
  std::string file;       // the file of its last line
  std::string last_line;  // the last line it logged, raw (its first 4 KiB): show display_line() of it
  std::string last_detail;
  double first_seen = 0, last_progress = 0, last_line_at = 0;  // seconds (the caller's clock)
  uint64_t progress = 0;  // how many times it made progress
  bool finished = false;
  bool stalled = false;
  double typical_s = 0;
  std::deque<double> gaps;  // the latest gaps between progress (at most 64), for its pace
  // The expectation in force: --stall-after; else the larger of the pace (pace_factor × median
  // gap, ≥ floor_s, once there are 3 gaps) and typical_s (how long the phase it is in may take);
  // else default_s.
  double expectation(const TrackerOptions& o) const;
  // Whether silence can make it stalled: not finished, and it made progress or is in a phase
  // known to progress (typical_s). A component that only ever logged (a proxy) never stalls.
  bool can_stall() const;
};

struct WindowStats {
  std::string metric;
  uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

// A change worth a line of its own when stdout is not a terminal.
struct Change {
  enum class Type : uint8_t { new_component, stalled, resumed, finished, job_ended };
  Type type = Type::new_component;
  std::string component;
  double at = 0;
  double silent_s = 0;  // stalled: how long since its last progress
  std::string detail;   // stalled: its last line; finished/new: its last progress
};
std::string_view change_name(Change::Type t);

class Tracker {
 public:
  explicit Tracker(TrackerOptions o = {}) : o_(o) {}
  // A signal from a line of `file` written at time `now` (at the latest); `line` is the raw line.
  // `live`: the line was read as it was appended, so the gap since the component's last
  // progress is its pace; lines read in catch-up (the file's earlier content) carry no pace.
  void apply(const Signal& s, std::string_view file, std::string_view line, double now, bool live = true);
  // Marks components stalled or no longer stalled at time `now`; appends what changed.
  void check(double now);
  std::vector<Change> take_changes();
  // Ends the job: no component is stalled from now on.
  void end_job(double now, std::string why);

  const std::map<std::string, Component>& components() const { return components_; }
  bool job_ended() const { return ended_; }
  const std::string& end_reason() const { return end_reason_; }
  // Counts of progress of every component whose name starts with `prefix`.
  uint64_t progress_of(std::string_view prefix) const;
  // The recent-window statistics at time `now` (exact: linear interpolation over the window).
  std::vector<WindowStats> window(double now) const;
  const TrackerOptions& options() const { return o_; }

 private:
  TrackerOptions o_;
  std::map<std::string, Component> components_;
  std::map<std::string, std::deque<std::pair<double, double>>> samples_;  // metric -> (time, value)
  std::vector<Change> changes_;
  bool ended_ = false;
  std::string end_reason_;
};

// The bytes appended to growing files (follow/tail.cpp). Files are read with pread(2) from where
// the last poll stopped. A file renamed away (rotation) is read to its end and the new file at the
// path from its start; a file shorter than what was read (copytruncate) is read again from its
// start. Either way no line is delivered twice or skipped (lines written between the last read
// and a copytruncate are gone before anyone could read them, as logrotate documents).
struct TailStats {
  uint64_t bytes = 0, lines = 0, rotations = 0, truncations = 0, files = 0;
};

class Tail {
 public:
  // Copies go in `copy_dir` (which must exist).
  explicit Tail(std::string copy_dir);
  ~Tail();
  Tail(const Tail&) = delete;
  Tail& operator=(const Tail&) = delete;

  // Follows `path` from its first byte ("-": standard input, until its end). With `copy`, every
  // line read is also appended to a private copy and input::redirect(path, copy) is set, so the
  // analysis reads exactly the lines read, across rotations and truncations. Throws
  // input::InputError: a file that cannot be opened, or a compressed one (which cannot be
  // followed: its end is not a line boundary).
  void add(const std::string& path, bool copy);
  // Whether `path`, or the file it names (device and inode: a rotated file under its new name),
  // is already followed.
  bool follows(const std::string& path) const;

  // (file, line without '\n', when the file was last written (seconds since the epoch; now for
  // standard input), whether the line was read in catch-up).
  using LineFn = std::function<void(const std::string&, std::string_view, double, bool)>;
  using GrowthFn = std::function<void(const std::string&, uint64_t)>;
  // Reads what was appended since the last call, at most about `budget` bytes in all; returns the
  // bytes read. Lines of a file's content present when it was added are "catch-up".
  uint64_t poll(const LineFn& line, const GrowthFn& growth, uint64_t budget = UINT64_MAX);
  bool behind() const { return behind_; }  // the budget ran out with bytes left to read
  bool stdin_ended() const;
  bool has_stdin() const;
  // The end: the last line of each file that has no '\n' yet is delivered (and copied).
  void flush(const LineFn& line);
  const TailStats& stats() const { return stats_; }
  uint64_t copied_bytes() const;
  // The first copy that could not be written (a full disk), once; "" when none or already taken.
  std::string take_copy_error() { return std::exchange(copy_error_, std::string()); }

 private:
  struct File;
  uint64_t read_file(File& f, const LineFn& line, const GrowthFn& growth, uint64_t budget);
  void deliver(File& f, const char* p, size_t n, double written, const LineFn& line);
  void end_line(File& f, const LineFn& line, double written);
  std::string copy_dir_;
  std::vector<std::unique_ptr<File>> files_;
  std::vector<std::pair<uint64_t, uint64_t>> seen_ids_;  // (dev, inode) of every file read
  TailStats stats_;
  bool behind_ = false;
  std::string copy_error_;
  std::vector<char> buf_;
};

}  // namespace alog::follow
