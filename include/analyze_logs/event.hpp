// Typed events: what one tagged log line means, independent of the prefix it was written with.
//
// An Event is a plain value (no strings, no allocation) so that scanners can fill vectors of them
// in parallel and the analysis can consume them in file order. Numeric fields live in a fixed
// array indexed by Field, with a bit mask saying which were present: most events carry 2-4 of
// the 16 known keys.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace alog {

enum class Op : uint8_t {
  client_send,
  server_recv,
  rpc_start,
  rpc_done,
  client_done,
  write_done,
  wait_start,
  wait_done,
  batch_start,
  batch_done,
  rollout,
  // Untagged lines every prime-rl run writes (docs/STEPS.md): the step summaries and the lines
  // that time the parts of a step. Not counted as tagged events (FileCounts::step_lines).
  step_orch,        // orchestrator `Step N | ... Reward ...`: step, secs, [max_off_policy, async_level]
  step_trainer,     // trainer `Step N | ... Loss ...`: step, secs
  orch_waited,      // `Orchestrator resumed: checkpoint N ready (after Xs)`, `Waited for checkpoint N for Xs`
  orch_updated,     // `Updated weights to step N in Xs`
  orch_eval,        // `Evaluated <env> in Xs` / `Evaluated <env> (Step N) | ... | Xs`
  trainer_waited,   // `Waited for batch to arrive for X seconds`
  trainer_broadcast,// `Weights broadcasted in Xs`
  ckpt_saving,      // `Saving checkpoint at step N` (either component)
  metrics_row,      // a metrics.jsonl row: step and time/* keys
  orch_pause,       // `Orchestrator paused: waiting for trainer ...`, `Hit async barrier ...` (barrier start)
  dispatch_pause,   // `Pausing dispatcher to prevent orchestrator from racing ...` (v0.6.0+)
  dispatch_resume,  // `Resuming dispatcher`
  orch_hold,        // `Holding batch N until the trainer publishes policy ...` (v0.8.0+): step
  eval_start,       // `Starting evals in <env> (...)`
};
constexpr int kOpCount = 25;
std::string_view op_name(Op op);  // "client.send", ..., "rollout", "step.orchestrator", ...
std::string_view op_tag(Op op);   // "weights", "ckpt", "gen", "rollout", "step"
// The untagged step-budget lines (Op::step_orch and after).
constexpr bool is_step_op(Op op) { return static_cast<int>(op) >= static_cast<int>(Op::step_orch); }

enum class Field : uint8_t {
  t,
  wall_ms,
  rpc_ms,
  queue_ms,
  write_ms,
  wait_ms,
  dur_ms,
  trunc_pct,
  step,
  target_step,
  inflight,
  target_batch,
  completions,
  current_step,
  ckpt_step,
  staleness,
  // Fields of the step-budget lines (never read from a tagged line's key=value pairs).
  secs,            // the line's duration in seconds
  max_off_policy,  // `Max Off-Policy k` / `Max. Off-Policy Level: k`
  async_level,     // `Async Level: k` (up to v0.5.x)
  m_step,          // metrics.jsonl time/step
  m_wait_policy,   // time/wait_for_policy (orchestrator, v0.7+)
  m_wait_ckpt,     // time/wait_for_ckpt (orchestrator, up to v0.5.x)
  m_update,        // time/update_weights (orchestrator, up to v0.5.x)
  m_save,          // time/save_ckpt
  m_generate,      // time/generate_completions (orchestrator, up to v0.5.x)
  m_wait_batch,    // time/wait_for_batch (trainer)
  m_load,          // time/load_data (trainer)
  m_fwd_bwd,       // time/forward_backward (trainer)
  m_broadcast,     // time/broadcast_weights (trainer)
  shape,           // a step summary's shape: 5 (`Time:`, up to v0.5.x), 6 (v0.6.0+), 7 (`Branches`, v0.7.0+)
};
constexpr int kFieldCount = 30;
constexpr int kTagFieldCount = 16;  // the fields a tagged line's key=value pairs may set
std::string_view field_name(Field f);
// A tagged line's key (one of the first kTagFieldCount fields), or nullopt.
std::optional<Field> field_from_name(std::string_view key);

// Which engine call an rpc.start / rpc.done line reports (`op=`).
enum class RpcKind : uint8_t { none, update_weights, reload_weights, other };

// A trace id as written in `[weights][<tid>]`: 1-16 hex digits. Kept as a number plus its
// length so leading zeros survive and comparison is one integer compare.
struct TraceId {
  uint64_t value = 0;
  uint8_t len = 0;  // 0: no trace id
  bool empty() const { return len == 0; }
  std::string str() const;
  static std::optional<TraceId> parse(std::string_view s);
  friend bool operator==(const TraceId&, const TraceId&) = default;
};
struct TraceIdHash {
  size_t operator()(const TraceId& t) const { return std::hash<uint64_t>{}(t.value * 31 + t.len); }
};

struct Event {
  Op op = Op::rollout;
  RpcKind rpc_kind = RpcKind::none;
  bool has_path = false;  // client.send with path= is an update, without it a reload
  uint8_t tod_digits = 0; // digits of the time of day's fraction of a second (0: whole seconds)
  uint16_t sentinel = 0;  // bit per Field: present but -1.0 ("not reported")
  uint32_t present = 0;   // bit per Field
  uint32_t file = 0;      // index of the input
  uint64_t line = 0;      // 1-based '\n' line number in that input
  int32_t tod = -1;       // time of day from the prefix, seconds since midnight; -1 unknown
  int16_t mmdd = -1;      // month*100+day when the prefix has a date (vLLM); -1 unknown
  int16_t tod_ms = 0;     // the fraction's first three digits, in ms (tod_digits > 0)
  int64_t path_step = -1; // N of `path=.../step_N`; -1 when absent
  TraceId trace;
  std::array<double, kFieldCount> v{};
  // Where the message text (prefix removed, ANSI stripped) lives in the scanner's arena.
  uint32_t msg_off = 0;
  uint32_t msg_len = 0;

  bool has(Field f) const { return present & (1u << static_cast<int>(f)); }
  bool is_sentinel(Field f) const { return sentinel & (1u << static_cast<int>(f)); }
  // A usable sample: present and not the -1.0 sentinel.
  bool sample(Field f) const { return has(f) && !is_sentinel(f); }
  double get(Field f) const { return v[static_cast<int>(f)]; }
};

// Why a line that looks tagged was not turned into an event. Names are part of the JSON report.
enum class SkipReason : uint8_t {
  bad_number,       // a known field's value is empty, not a number, nan, inf or out of range
  negative_value,   // a duration, percentage or count below zero (the -1.0 sentinel excepted)
  duplicate_field,  // the same key twice on one line
  bad_trace_id,     // missing, longer than 16 characters, or not hex
  unknown_op,       // an operation the tag does not have
  missing_field,    // a field the operation needs is absent
  bad_json,         // a JSON-lines record that does not parse or has no message
  line_too_long,    // a tagged segment longer than the scanner's chunk
  cut_by_error,     // the unterminated last segment of a compressed input that ended in an error:
                    // it may be cut anywhere, even inside a number, so it is not read
};
constexpr int kSkipReasonCount = 9;
std::string_view skip_reason_name(SkipReason r);

}  // namespace alog
