// The prime-rl model: everything the prime-rl analysis found, as plain data. Writers (Markdown,
// JSON, text, stats files, trace) read only this; the analysis only fills it. A new output touches
// only writers. The header pulls in neither the scanner nor nlohmann; the few member types that
// save memory (OptDouble, Location, OutOfLine, ...) are in primerl/compact.hpp and read like the
// standard types they replace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze_logs/core/stats.hpp"
#include "analyze_logs/event.hpp"
#include "analyze_logs/file_counts.hpp"
#include "analyze_logs/primerl/compact.hpp"
#include "analyze_logs/primerl/thresholds.hpp"

namespace alog {

enum class Role { orchestrator, inference, trainer, unknown };
std::string_view role_name(Role r);

struct InputReport {
  std::string path;
  Role role = Role::unknown;
  std::string compression = "none";
  scan::FileCounts counts;
  bool unreadable = false;  // could not be opened (inside a run folder: skipped, not fatal)
  std::string error;        // why unreadable, or why partial
};

// The metrics of a prime-rl run, in report order (schema 1 names): the one table of them. The
// analysis summarises these and no other; report.json lists every one (count 0 when it had no
// sample); `--expect` accepts only these names.
struct MetricDef {
  std::string_view name, unit;
};
inline constexpr MetricDef kMetricDefs[] = {
    {"weights.wall_ms", "ms"},  {"weights.rpc_ms", "ms"},
    {"weights.queue_ms", "ms"}, {"weights.reload_rpc_ms", "ms"},
    {"ckpt.write_ms", "ms"},    {"ckpt.wait_ms", "ms"},
    {"gen.dur_ms", "ms"},       {"gen.inflight", ""},
    {"rollout.trunc_pct", "%"}, {"rollout.staleness", ""},
    // The step budget (docs/STEPS.md): per training step, in seconds.
    {"step.orchestrator_s", "s"}, {"step.wait_for_trainer_s", "s"},
    {"step.weight_update_s", "s"}, {"step.eval_s", "s"},
    {"step.generation_s", "s"},   {"step.trainer_s", "s"},
    {"step.trainer_idle_s", "s"}, {"step.compute_s", "s"},
    {"step.broadcast_s", "s"},    {"step.save_s", "s"},
    {"step.max_off_policy", ""},
};
// The entry of kMetricDefs named `name`, or nullptr.
const MetricDef* metric_def(std::string_view name);

struct MetricReport {
  std::string name;  // "weights.queue_ms"
  std::string unit;  // "ms", "%", ""
  Summary stats;
  Status status = Status::none;
};

// ---- The step budget (docs/STEPS.md) ----
// Where a figure came from: the step lines of a log, or metrics.jsonl (exact, preferred).
enum class StepSource : uint8_t { none, lines, metrics };
std::string_view step_source_name(StepSource s);  // "none", "lines", "metrics.jsonl"

// One training step, paired by step number. Seconds; absent when not known.
struct StepRecord {
  int64_t step = 0;
  // Orchestrator: wall time, waiting for the trainer (barrier, pause, hold), weight update,
  // blocking evals, generation (the rest).
  OptDouble orch_s, wait_s, update_s, eval_s, gen_s, max_off_policy;
  // Trainer: the whole step (broadcast and save included, whatever the version), idle waiting
  // for the batch, compute (load and forward/backward), weight broadcast, checkpoint save.
  OptDouble trainer_s, idle_s, compute_s, broadcast_s, save_s;
  uint32_t orch_file = UINT32_MAX, trainer_file = UINT32_MAX;
  uint64_t orch_line = 0, trainer_line = 0;  // the step line (0: from metrics.jsonl)
  StepSource orch_src = StepSource::none, trainer_src = StepSource::none;
  bool ckpt = false;  // `Saving checkpoint at step N` was logged
  // The tagged view inside this step: the longest front-end queue wait (queue_ms / 1000) of the
  // `[weights] client.done` lines logged in the step (between its summary and the previous one in
  // the same log), and that update's trace id; empty without tagged lines.
  OptDouble weights_queue_s;
  TraceId weights_trace;
  bool paired() const { return orch_src != StepSource::none && trainer_src != StepSource::none; }
};

enum class StepBound : uint8_t { none, trainer, inference, handover };
std::string_view step_bound_name(StepBound b);  // "none", "trainer-bound", ...

struct StepsReport {
  // Steps kept in memory for pairing (beyond: counted in `untracked`, in no statistic); the
  // table in report.json keeps at most --max-updates of them (the rest counted, still in the
  // statistics).
  static constexpr size_t kMaxSteps = 2000000;
  static constexpr size_t kMaxTable = 150000;
  std::deque<StepRecord> steps;  // the table: the first steps in ascending step number
  uint64_t total = 0;            // steps folded (every statistic covers all of them)
  uint64_t table_omitted = 0;    // steps in the statistics but not in the table
  uint64_t untracked = 0;        // steps beyond kMaxSteps: counted, in no statistic
  uint64_t orch_lines = 0, trainer_lines = 0, metrics_rows = 0;
  StepSource orch_source = StepSource::none, trainer_source = StepSource::none;
  std::string era;  // "v0.5", "v0.6", "v0.7+", "v0.8 (metrics.jsonl)", "" when no step was seen
  bool trainer_timer_includes_handover = false;  // from v0.7.0 broadcast and save run inside it
  bool zero_based = false;
  bool wait_from_gaps = false;  // some waits are pause-to-resume gaps of the time of day (1 s)
  uint64_t paired = 0;
  // The parts no step had (not logged: their lines are absent or DEBUG was off), by the names
  // of report.json's table ("wait_for_trainer_s", ...). Generation, the rest of the
  // orchestrator's step, then includes them.
  std::vector<std::string> not_logged;
  // Means over the paired steps where the part is known, and the verdict.
  OptDouble orch_s, wait_s, update_s, eval_s, gen_s;
  OptDouble trainer_s, idle_s, compute_s, broadcast_s, save_s;
  StepBound bound = StepBound::none;
  double estimate_s = 0;            // the step time if the bound were removed
  std::string estimate_basis;       // what the estimate assumes
  std::vector<StepRecord> evidence;  // the (at most 5) steps that show the bound most, by step
  // The run over time, over every step with an orchestrator wall: the least-squares slope of the
  // wall over the step number (seconds per 100 steps) and the means of the first and last tenth.
  OptDouble drift_s_per_100, first_tenth_s, last_tenth_s, median_s;
  // The slowest steps (at most 5, slowest first) whose wall is at least twice the median and 5 s
  // more, each with what happened inside it.
  struct Outlier {
    int64_t step = 0;
    double orch_s = 0;
    std::string inside;  // "checkpoint saved, eval 41.3 s, waited 12.5 s for the trainer"
  };
  std::vector<Outlier> outliers;
  // `Max Off-Policy` over time against --async-level.
  OptDouble off_policy_first, off_policy_last, off_policy_max;
  uint64_t off_policy_above_async = 0;  // steps whose level is above --async-level
};

// Server-side half of a weight update, from one inference log.
struct ServerSide {
  uint32_t file = 0;
  RpcKind kind = RpcKind::none;
  OptDouble recv_t, rpc_start_t, rpc_done_t, rpc_ms;
  OptLocation recv_at, start_at, done_at;
};

// The server half kept out of line (primerl/compact.hpp): 8 bytes in an update that has none.
using ServerBox = OutOfLine<ServerSide>;

struct Phases {
  OptDouble client_to_server_ms, server_pre_rpc_ms, engine_ms, server_to_client_ms;
};

// Members ordered so that the small ones share the last 8 bytes (no padding between members).
struct UpdateReport {
  TraceId trace;
  OptInt64 step;
  OptDouble wall_ms, rpc_ms, queue_ms;  // rpc/queue empty for the -1.0 sentinel
  double send_t = 0;
  Location send_at;
  OptLocation done_at;
  ServerBox server;  // joined by trace id (correlation); empty when no server log has the id
  Phases phases;
  // The generation batches it overlaps: Report::batches[first_batch, first_batch + batch_count).
  // Batches of one file complete in the order they start, so the batches an update overlaps
  // (started before it completed, not done before it was sent) are always one range; an update
  // that never completes overlaps every later batch of its file, in 8 bytes.
  uint32_t first_batch = 0, batch_count = 0;
  int32_t send_tod = -1;
  bool reload = false;
  bool complete = false;
  LastPhase last_phase;  // for incomplete updates
};

struct BatchReport {
  uint32_t file = 0;
  uint64_t start_line = 0, done_line = 0;  // 0 when that side is missing
  int32_t start_tod = -1, done_tod = -1;
  OptDouble dur_ms, inflight_start, inflight_done;
  // How many weight updates ran during the batch (whose batch range holds it), and of those the
  // one that waited longest in the queue (an index into Report::updates; kNoUpdate when none has a
  // queue_ms). Counts, not lists: hung updates overlap every later batch, and a list per batch
  // would grow with batches × updates in flight.
  static constexpr uint32_t kNoUpdate = UINT32_MAX;
  uint32_t update_count = 0;
  uint32_t longest_queued = kNoUpdate;
};

// A single-valued event kept for evidence and timelines: ckpt waits and writes, rollout
// truncation and staleness (a few per training step, so cheap to keep).
// (Members ordered for 32 bytes, not 40; the constructor keeps the order PointEvent{file, line,
// tod, value, step}.)
struct PointEvent {
  PointEvent() noexcept = default;
  PointEvent(uint32_t f, uint64_t l, int32_t t, double v, int64_t s) noexcept
      : line(l), value(v), step(s), file(f), tod(t) {}

  uint64_t line = 0;
  double value = 0;
  int64_t step = -1;  // target_step / step / current_step when the line has one
  uint32_t file = 0;
  int32_t tod = -1;
};
static_assert(sizeof(PointEvent) == 32);

struct Evidence {
  uint32_t file = 0;
  uint64_t line = 0;
  std::string note;  // "queue_ms=30333.4"
};

enum class Severity { warning, critical };
std::string_view severity_name(Severity s);

struct Diagnosis {
  std::string id;
  Severity severity = Severity::warning;
  std::string summary;
  std::vector<Evidence> evidence;
  std::string fix;
  std::vector<std::pair<std::string, double>> thresholds;
};

struct ExpectResult {
  std::string expr;
  bool passed = false;
  std::optional<double> actual;
  std::string measured;  // "weights.queue_ms.p99 = 290.000", or "ckpt.wait_ms has no samples"
  std::string message;   // measured, and the comparison with its result
};

// One log's time.monotonic() -> wall-clock mapping, wall = t + c, learned from the lines that
// carry both a time of day and a t= (docs/CORRELATION.md). A stamp is the wall time truncated to
// its resolution and taken at or after t, so each line bounds c: stamp - t <= c + lag and
// c <= stamp + resolution - t. The upper bounds hold whatever the lag; a lower bound above the
// final upper bound came from a line stamped late and is not used. c is in seconds from the
// midnight before the file's first stamp (times of day are unwrapped at midnight in file order).
struct WallFit {
  static constexpr size_t kKeep = 1024;  // the largest lower bounds kept (a min-heap)
  double hi = 1e300;
  std::vector<double> los;
  uint64_t lines = 0;
  int32_t last_tod = -1;
  int32_t day = 0;
  void add(int32_t tod, int16_t tod_ms, uint8_t tod_digits, double t);
  // [lo, hi] of c, or nullopt when no line bounds it from below consistently.
  std::optional<std::pair<double, double>> interval() const;
  // How many of the kept lower bounds lie above the upper bound (lines stamped late).
  uint64_t late() const;
};

struct ClockEstimate {
  uint32_t file = 0;  // the server's log
  double offset_s = 0;        // server t - client t: the middle of [lower_s, upper_s]
  double lower_s = 0, upper_s = 0;
  size_t updates_used = 0;
  std::string method;  // "bounds", "bounds + wall clocks", "least violation (bounds conflict)", "none", ...
  // The bounds from the updates alone, and those from the two logs' wall clocks (when both logs
  // carry times of day consistent with their t= values), before they were intersected.
  OptDouble causal_lower_s{}, causal_upper_s{}, wall_lower_s{}, wall_upper_s{};
  uint32_t client_file = 0;  // the orchestrator log the wall clocks were compared with
  std::string note{};        // "the wall clocks disagree with the updates by 3.2 s: ..."
  // The interval is narrow enough for cross-host phases to be values (its middle), not ranges.
  bool measured() const { return updates_used > 0 && upper_s - lower_s <= kMeasuredWidthS; }
  static constexpr double kMeasuredWidthS = 0.020;
  // The skew tolerated between two hosts' NTP-synchronised wall clocks.
  static constexpr double kWallSkewS = 0.005;
};

// Inconsistent sequences: never fatal, always counted.
struct Anomalies {
  uint64_t done_without_send = 0;
  uint64_t duplicate_done = 0;
  uint64_t reused_trace_id = 0;
  uint64_t rpc_done_without_start = 0;
  uint64_t batch_done_without_start = 0;
  uint64_t untracked_updates = 0;  // beyond --max-updates
  // Also beyond --max-updates (each kind counted on its own): gen batches, and ckpt/rollout
  // events of one metric. Their samples are in the statistics; they are not listed.
  uint64_t untracked_batches = 0;
  uint64_t untracked_point_events = 0;
};

// A server-side update with no client side (another client, or the orchestrator log cut at the
// start): listed, not dropped.
struct ServerOnlyUpdate {
  TraceId trace;
  ServerSide server;
};

struct Report {
  int schema = 1;
  std::string tool_version;
  int async_level = 2;
  Thresholds thresholds{2};
  std::vector<InputReport> inputs;
  std::vector<MetricReport> metrics;
  // Deques, not vectors: they grow without a reallocation peak (old and new arrays at once) and
  // indices stay valid. Nothing may rely on contiguity.
  std::deque<UpdateReport> updates;
  std::vector<ServerOnlyUpdate> server_only;
  std::deque<BatchReport> batches;
  // "ckpt.wait_ms", "ckpt.write_ms", "rollout.trunc_pct", "rollout.staleness" -> events in
  // input order (deques, like updates: they grow with the input).
  std::vector<std::pair<std::string, std::deque<PointEvent>>> point_events;
  std::vector<Diagnosis> diagnoses;
  std::vector<ExpectResult> expectations;
  std::vector<ClockEstimate> clocks;
  std::vector<WallFit> wall_fits;  // by input index (empty fits for logs without stamps)
  StepsReport steps;
  Anomalies anomalies;
  uint64_t total_events() const;
  const MetricReport* metric(std::string_view name) const;
  const std::deque<PointEvent>* points(std::string_view metric) const;
  std::string file_name(uint32_t file) const;
};

}  // namespace alog
