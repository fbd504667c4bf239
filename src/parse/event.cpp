#include "analyze_logs/event.hpp"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

namespace alog {

namespace {
constexpr std::string_view kOpNames[kOpCount] = {
    "client.send", "server.recv", "rpc.start",   "rpc.done",   "client.done", "write.done",
    "wait.start",  "wait.done",   "batch.start", "batch.done", "rollout",
    "step.orchestrator", "step.trainer", "orchestrator.waited", "orchestrator.updated",
    "orchestrator.eval", "trainer.waited", "trainer.broadcast", "ckpt.saving", "metrics.row",
    "orchestrator.paused", "dispatcher.paused", "dispatcher.resumed", "orchestrator.hold", "eval.start"};
constexpr std::string_view kFieldNames[kFieldCount] = {
    "t",         "wall_ms",  "rpc_ms",       "queue_ms",    "write_ms",     "wait_ms",
    "dur_ms",    "trunc_pct", "step",        "target_step", "inflight",     "target_batch",
    "completions", "current_step", "ckpt_step", "staleness",
    "secs", "max_off_policy", "async_level", "time/step", "time/wait_for_policy",
    "time/wait_for_ckpt", "time/update_weights", "time/save_ckpt", "time/generate_completions",
    "time/wait_for_batch", "time/load_data", "time/forward_backward", "time/broadcast_weights",
    "shape"};
constexpr std::string_view kSkipNames[kSkipReasonCount] = {
    "bad_number", "negative_value", "duplicate_field", "bad_trace_id",
    "unknown_op", "missing_field",  "bad_json",        "line_too_long",
    "cut_by_error"};
}  // namespace

std::string_view op_name(Op op) { return kOpNames[static_cast<int>(op)]; }

std::string_view op_tag(Op op) {
  if (is_step_op(op)) return "step";
  switch (op) {
    case Op::write_done: case Op::wait_start: case Op::wait_done: return "ckpt";
    case Op::batch_start: case Op::batch_done: return "gen";
    case Op::rollout: return "rollout";
    default: return "weights";
  }
}

std::string_view field_name(Field f) { return kFieldNames[static_cast<int>(f)]; }

std::optional<Field> field_from_name(std::string_view key) {
  for (int i = 0; i < kTagFieldCount; ++i)
    if (kFieldNames[i] == key) return static_cast<Field>(i);
  return std::nullopt;
}

std::string_view skip_reason_name(SkipReason r) { return kSkipNames[static_cast<int>(r)]; }

std::string TraceId::str() const {
  // Hand-written hex (this is called twice per update by report.json): the id's `len` digits,
  // zero-padded; a value wider than len (impossible from parse) would print all its digits.
  static constexpr char kHex[] = "0123456789abcdef";
  int digits = std::max(1, 16 - (value ? std::countl_zero(value) / 4 : 15));
  int n = std::max<int>(len, digits);
  if (len == 0) return "";
  std::string s(static_cast<size_t>(n), '0');
  uint64_t v = value;
  for (int i = n - 1; i >= 0 && v; --i, v >>= 4) s[static_cast<size_t>(i)] = kHex[v & 15];
  return s;
}

std::optional<TraceId> TraceId::parse(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  TraceId t;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
    t.value = (t.value << 4) | d;
  }
  t.len = static_cast<uint8_t>(s.size());
  return t;
}

}  // namespace alog
