#include <fmt/format.h>

#include "analyze_logs/correlate.hpp"
#include "analyze_logs/util.hpp"
#include "analyze_logs/writers.hpp"

namespace alog {
namespace {

using J = nlohmann::ordered_json;

J opt(const std::optional<double>& v) { return v ? J(*v) : J(nullptr); }

J location(const Report& r, uint32_t file, uint64_t line) {
  return J{{"file", utf8_clean(r.file_name(file))}, {"line", line}};
}

J server_json(const Report& r, const ServerSide& s) {
  J j;
  j["file"] = utf8_clean(r.file_name(s.file));
  j["recv_t"] = opt(s.recv_t);
  j["rpc_start_t"] = opt(s.rpc_start_t);
  j["rpc_done_t"] = opt(s.rpc_done_t);
  j["rpc_ms"] = opt(s.rpc_ms);
  return j;
}

}  // namespace

nlohmann::ordered_json to_json(const Report& r) {
  J j;
  j["schema"] = r.schema;
  j["tool"] = {{"name", "analyze-logs"}, {"version", r.tool_version}};
  j["verdict"] = verdict_line(r);

  J inputs = J::array();
  for (const auto& in : r.inputs) {
    J i;
    i["path"] = utf8_clean(in.path);
    i["role"] = role_name(in.role);
    i["lines"] = in.counts.lines;
    i["events"] = in.counts.events;
    i["skipped"] = in.counts.skipped();
    i["compression"] = in.compression;
    i["bytes"] = in.counts.bytes;
    i["noise"] = in.counts.noise;
    J reasons = J::object();
    for (int k = 0; k < kSkipReasonCount; ++k)
      if (in.counts.skipped_by_reason[k])
        reasons[std::string(skip_reason_name(static_cast<SkipReason>(k)))] = in.counts.skipped_by_reason[k];
    i["skipped_by_reason"] = reasons;
    J samples = J::array();
    for (const auto& s : in.counts.skip_samples)
      samples.push_back({{"line", s.line}, {"reason", skip_reason_name(s.reason)}});
    i["skipped_samples"] = samples;
    i["partial"] = in.counts.partial;
    i["unreadable"] = in.unreadable;
    i["error"] = in.error.empty() ? J(nullptr) : J(utf8_clean(in.error));
    inputs.push_back(i);
  }
  j["inputs"] = inputs;

  J metrics = J::object();
  for (const auto& m : r.metrics) {
    J s;
    s["count"] = m.stats.count;
    s["mean"] = m.stats.mean;
    s["min"] = m.stats.min;
    s["p50"] = m.stats.p50;
    s["p90"] = m.stats.p90;
    s["p95"] = m.stats.p95;
    s["p99"] = m.stats.p99;
    s["max"] = m.stats.max;
    s["status"] = m.status == Status::none ? J(nullptr) : J(status_name(m.status));
    s["unit"] = m.unit;
    metrics[m.name] = s;
  }
  j["metrics"] = metrics;

  J updates = J::array();
  for (const auto& u : r.updates) {
    J x;
    x["trace_id"] = u.trace.str();
    x["op"] = u.reload ? "reload" : "update";
    x["step"] = u.step ? J(*u.step) : J(nullptr);
    x["wall_ms"] = opt(u.wall_ms);
    x["rpc_ms"] = opt(u.rpc_ms);
    x["queue_ms"] = opt(u.queue_ms);
    x["complete"] = u.complete;
    x["send_t"] = u.send_t;
    x["send"] = location(r, u.send_at.file, u.send_at.line);
    x["done"] = u.done_at ? location(r, u.done_at->file, u.done_at->line) : J(nullptr);
    x["server"] = u.server ? J(utf8_clean(r.file_name(u.server->file))) : J(nullptr);
    x["server_side"] = u.server ? server_json(r, *u.server) : J(nullptr);
    x["phases"] = {{"client_to_server_ms", opt(u.phases.client_to_server_ms)},
                   {"server_pre_rpc_ms", opt(u.phases.server_pre_rpc_ms)},
                   {"engine_ms", opt(u.phases.engine_ms)},
                   {"server_to_client_ms", opt(u.phases.server_to_client_ms)}};
    x["last_phase"] = u.last_phase.empty() ? J(nullptr) : J(u.last_phase);
    x["overlapping_batches"] = u.overlapping_batches;
    updates.push_back(x);
  }
  j["updates"] = updates;

  J server_only = J::array();
  for (const auto& s : r.server_only) {
    J x = server_json(r, s.server);
    x["trace_id"] = s.trace.str();
    server_only.push_back(x);
  }
  j["server_only_updates"] = server_only;

  J batches = J::array();
  for (size_t i = 0; i < r.batches.size(); ++i) {
    const auto& b = r.batches[i];
    J x;
    x["index"] = i;
    x["file"] = utf8_clean(r.file_name(b.file));
    x["start_line"] = b.start_line ? J(b.start_line) : J(nullptr);
    x["done_line"] = b.done_line ? J(b.done_line) : J(nullptr);
    x["dur_ms"] = opt(b.dur_ms);
    x["inflight"] = b.inflight_done ? J(*b.inflight_done) : opt(b.inflight_start);
    J ups = J::array();
    for (uint32_t u : b.updates) {
      const auto& up = r.updates[u];
      ups.push_back({{"trace_id", up.trace.str()}, {"queue_ms", opt(up.queue_ms)}});
    }
    x["updates"] = ups;
    batches.push_back(x);
  }
  j["batches"] = batches;

  J clocks = J::array();
  for (const auto& c : r.clocks) {
    clocks.push_back({{"server", utf8_clean(r.file_name(c.file))},
                      {"offset_s", c.updates_used ? J(c.offset_s) : J(nullptr)},
                      {"lower_s", c.updates_used ? J(c.lower_s) : J(nullptr)},
                      {"upper_s", c.updates_used ? J(c.upper_s) : J(nullptr)},
                      {"updates_used", c.updates_used},
                      {"method", c.method}});
  }
  j["clocks"] = clocks;

  J diags = J::array();
  for (const auto& d : r.diagnoses) {
    J ev = J::array();
    for (const auto& e : d.evidence)
      ev.push_back({{"file", utf8_clean(r.file_name(e.file))}, {"line", e.line}, {"note", utf8_clean(e.note)}});
    J th = J::object();
    for (const auto& [k, v] : d.thresholds) th[k] = v;
    diags.push_back({{"id", d.id},
                     {"severity", severity_name(d.severity)},
                     {"summary", utf8_clean(d.summary)},
                     {"evidence", ev},
                     {"fix", d.fix},
                     {"thresholds", th}});
  }
  j["diagnoses"] = diags;

  J ex = J::array();
  for (const auto& e : r.expectations)
    ex.push_back({{"expr", utf8_clean(e.expr)}, {"passed", e.passed}, {"actual", opt(e.actual)}, {"message", e.message}});
  j["expectations"] = ex;

  j["anomalies"] = {{"done_without_send", r.anomalies.done_without_send},
                    {"duplicate_done", r.anomalies.duplicate_done},
                    {"reused_trace_id", r.anomalies.reused_trace_id},
                    {"rpc_done_without_start", r.anomalies.rpc_done_without_start},
                    {"batch_done_without_start", r.anomalies.batch_done_without_start},
                    {"untracked_updates", r.anomalies.untracked_updates}};
  J th = J::object();
  for (const auto& [k, v] : r.thresholds.all()) th[k] = v;
  j["thresholds"] = th;
  j["async_level"] = r.async_level;
  return j;
}

}  // namespace alog
