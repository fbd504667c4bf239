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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
};

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
  std::string last_line;  // display_line() of the last line it logged
  std::string last_detail;
  double first_seen = 0, last_progress = 0, last_line_at = 0;  // seconds (the caller's clock)
  uint64_t progress = 0;  // how many times it made progress
  bool finished = false;
  bool stalled = false;
  double typical_s = 0;
  std::deque<double> gaps;  // the latest gaps between progress (at most 64), for its pace
  // The expectation in force: --stall-after, else pace_factor × median gap (≥ floor_s), else the
  // kind's typical_s, else default_s.
  double expectation(const TrackerOptions& o) const;
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
  // A signal from a line of `file` seen at time `now`; `line` is the raw line.
  void apply(const Signal& s, std::string_view file, std::string_view line, double now);
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

}  // namespace alog::follow
