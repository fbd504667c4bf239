// The --trace-out writer as it was at 7bf1846, before it streamed: every event built as a compact
// record, all of them stable-sorted by time, then written one per line. Kept here, unchanged but
// for its name, as the oracle the streamed writer (src/primerl/trace.cpp) is held to byte for byte
// on Reports built to stress the order (tests/unit/primerl/test_trace_stream.cpp). It holds every
// event, so it is for small Reports only. An intended change of the trace's content changes both.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>

#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/model.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"

namespace alog::trace_reference {
namespace {

using J = nlohmann::ordered_json;

constexpr double kDay = 86400.0;
constexpr size_t kMaxEvidenceMarks = 50;  // instants per diagnosis

enum Tid : int {
  kTidUpdates = 1,
  kTidBatches = 2,
  kTidCkptWait = 3,
  kTidCkptWrite = 4,
  kTidRollout = 5,
  kTidDiagnoses = 6
};

const char* tid_name(int tid, Role role) {
  switch (tid) {
    case kTidUpdates:
      return role == Role::inference ? "weight updates (server side)" : "weight updates";
    case kTidBatches:
      return "generation batches";
    case kTidCkptWait:
      return "checkpoint waits";
    case kTidCkptWrite:
      return "checkpoint writes";
    case kTidRollout:
      return "rollout";
    default:
      return "diagnoses";
  }
}

int role_order(Role r) {
  switch (r) {
    case Role::orchestrator:
      return 0;
    case Role::inference:
      return 1;
    case Role::trainer:
      return 2;
    default:
      return 3;
  }
}

// Unwraps whole-second times of day into a continuous count of seconds, one sequence at a time:
// each value is put on the day that brings it nearest the previous value of its file (or, for the
// first value of a file, nearest `seed`). Works while consecutive events are under 12 h apart.
class TodUnwrap {
 public:
  explicit TodUnwrap(std::optional<double> seed) : seed_(seed) {}
  double operator()(uint32_t file, int32_t tod) {
    auto t = static_cast<double>(tod);
    auto it = last_.find(file);
    std::optional<double> ref = it != last_.end() ? std::optional<double>(it->second) : seed_;
    if (ref) t += kDay * std::round((*ref - t) / kDay);
    last_[file] = t;
    return t;
  }

 private:
  std::optional<double> seed_;
  std::unordered_map<uint32_t, double> last_;
};

int64_t us(double seconds) {
  return std::llround(seconds * 1e6);
}
// Args keep three decimals: 1255.6 rather than 1255.6000000000001.
double r3(double v) {
  return std::round(v * 1000) / 1000;
}

// One event, compact: a large run has hundreds of thousands, and as json trees they would take
// ~1.5 KB each. Names and categories point at literals or at strings the Report owns.
struct Ev {
  int64_t ts = 0;
  char ph = 'b';
  uint8_t tid = 0;
  uint32_t pid = 0;
  std::string_view cat, name;
  std::string id;
  J args;  // null: none

  J to_json() const {
    J e;
    e["ph"] = std::string(1, ph);
    if (!cat.empty()) e["cat"] = cat;
    if (!id.empty()) e["id"] = id;
    e["name"] = name;
    if (ph == 'i') e["s"] = "t";
    e["pid"] = pid;
    e["tid"] = tid;
    e["ts"] = ts;
    if (!args.is_null()) e["args"] = args;
    return e;
  }
};

struct Trace {
  std::vector<J> metadata;
  std::vector<Ev> events;  // in time order
  J other;
};

class TraceBuilder {
 public:
  explicit TraceBuilder(const Report& r) : r_(r) {}

  Trace build() {
    map_tod();
    updates();
    server_only();
    batches();
    points("ckpt.wait_ms", kTidCkptWait, "ckpt wait", "wait", "target_step");
    points("ckpt.write_ms", kTidCkptWrite, "ckpt write", "write", "step");
    rollouts();
    // Spans still open when the logs end (an update without client.done, a batch without
    // batch.done) end with the trace.
    for (auto& e : open_) {
      e.ts = end_;
      events_.push_back(std::move(e));
    }
    diagnoses();
    std::stable_sort(events_.begin(), events_.end(),
                     [](const Ev& a, const Ev& b) { return a.ts < b.ts; });

    Trace t;
    t.metadata = metadata();
    t.events = std::move(events_);
    J& other = t.other;
    other["tool"] = "analyze-logs";
    other["version"] = r_.tool_version;
    other["verdict"] = utf8_clean(verdict_line(r_));
    other["clock"] =
        tod_only_ ? "time of day of the line prefixes, seconds since midnight (no client t= values)"
                  : "client (orchestrator) t= clock; server t= mapped with the estimated offsets";
    if (tod_map_) other["tod_to_client_s"] = *tod_map_;
    J offsets = J::object();
    for (const auto& c : r_.clocks)
      if (c.updates_used) offsets[utf8_clean(r_.file_name(c.file))] = c.offset_s;
    other["server_offsets_s"] = offsets;
    if (unplaced_) other["unplaced_events"] = unplaced_;
    return t;
  }

 private:
  // The client clock reading at a line's time of day: the median of send_t - send_tod over the
  // updates (tod has whole seconds, so the median also absorbs the average half second).
  void map_tod() {
    TodUnwrap unwrap(std::nullopt);
    std::vector<double> d;
    for (const auto& u : r_.updates)
      if (u.send_tod >= 0) d.push_back(u.send_t - unwrap(u.send_at.file, u.send_tod));
    if (!d.empty()) {
      std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
      tod_map_ = d[d.size() / 2];
      for (const auto& u : r_.updates)
        if (u.send_tod >= 0) {
          seed_ = u.send_t - *tod_map_;
          break;
        }
    } else if (r_.updates.empty() && r_.server_only.empty()) {
      // No t= values at all: the time of day is the only clock, so it becomes the common one.
      tod_only_ = true;
      tod_map_ = 0;
    }
  }

  std::optional<double> server_offset(uint32_t file) {
    auto it = offsets_.find(file);
    if (it != offsets_.end()) return it->second;
    return offsets_[file] = clock_offset(r_, file);
  }

  void note(uint32_t file, uint64_t line, int64_t ts) {
    if (line) where_.emplace(std::make_pair(file, line), ts);
  }

  Ev ev(char ph, std::string_view cat, std::string id, std::string_view name, uint32_t file,
        int tid, int64_t ts, J args = nullptr) {
    tids_[file].insert(tid);
    Ev e;
    e.ts = ts;
    e.ph = ph;
    e.tid = static_cast<uint8_t>(tid);
    e.pid = file + 1;
    e.cat = cat;
    e.name = name;
    e.id = std::move(id);
    e.args = std::move(args);
    return e;
  }

  void push(Ev e) {
    end_ = std::max(end_, e.ts);
    start_ = std::min(start_, e.ts);
    events_.push_back(std::move(e));
  }

  // An async span [b, e] with one id; `e` unknown: left open until the trace ends.
  void span(std::string_view cat, const std::string& id, std::string_view name, uint32_t file,
            int tid, int64_t b, std::optional<int64_t> e, J args = nullptr) {
    push(ev('b', cat, id, name, file, tid, b, std::move(args)));
    if (e)
      push(ev('e', cat, id, name, file, tid, *e));
    else
      open_.push_back(ev('e', cat, id, name, file, tid, b));
  }

  // Ids key the async spans: an id the logs reuse gets "#2", "#3", ... so spans never collide.
  std::string unique_id(std::string_view cat, std::string id) {
    size_t n = ++ids_[fmt::format("{}/{}", cat, id)];
    return n == 1 ? id : fmt::format("{}#{}", id, n);
  }

  void updates() {
    for (const auto& u : r_.updates) {
      int64_t s = us(u.send_t);
      std::optional<int64_t> e;
      if (u.wall_ms) e = us(u.send_t + *u.wall_ms / 1000.0);
      note(u.send_at.file, u.send_at.line, s);
      if (u.done_at && e) note(u.done_at->file, u.done_at->line, *e);

      std::string trace = u.trace.str();
      std::string id = unique_id("weights", trace);
      J args;
      args["trace_id"] = trace;
      if (u.step) args["step"] = *u.step;
      if (u.wall_ms) args["wall_ms"] = r3(*u.wall_ms);
      if (u.rpc_ms) args["rpc_ms"] = r3(*u.rpc_ms);
      if (u.queue_ms) args["queue_ms"] = r3(*u.queue_ms);
      args["line"] = u.send_at.line;
      if (!u.complete) args["incomplete"] = std::string(describe_last_phase(u.last_phase));
      std::string_view name = u.reload ? "weight reload" : "weight update";
      uint32_t f = u.send_at.file;

      // Server times on the client clock, when the server's offset is known.
      std::optional<double> off = u.server ? server_offset(u.server->file) : std::nullopt;
      auto mapped = [&](const std::optional<double>& t) -> std::optional<int64_t> {
        if (!t || !off) return std::nullopt;
        return us(*t - *off);
      };
      std::optional<int64_t> recv, start, done;
      if (u.server) {
        recv = mapped(u.server->recv_t);
        start = mapped(u.server->rpc_start_t);
        done = mapped(u.server->rpc_done_t);
      }

      push(ev('b', "weights", id, name, f, kTidUpdates, s, std::move(args)));
      // Phases between consecutive known boundaries, clamped into [s, e] and into order.
      std::vector<std::optional<int64_t>> bounds;
      std::vector<std::pair<std::string_view, std::optional<double>>> measured;
      if (recv || start || done) {
        bounds = {s, recv, start, done, e};
        measured = {{"client→server", u.phases.client_to_server_ms},
                    {"server pre-rpc", u.phases.server_pre_rpc_ms},
                    {"engine", u.phases.engine_ms},
                    {"server→client", u.phases.server_to_client_ms}};
      } else if (u.queue_ms && u.rpc_ms && e) {
        // No server side: the client's own split (queue_ms = wall_ms - rpc_ms comes first).
        bounds = {s, us(u.send_t + *u.queue_ms / 1000.0), e};
        measured = {{"queue", u.queue_ms}, {"rpc", u.rpc_ms}};
      }
      int64_t lo = s, hi = e.value_or(INT64_MAX);
      std::optional<int64_t> prev;
      size_t prev_i = 0;
      for (size_t i = 0; i < bounds.size(); ++i) {
        if (!bounds[i]) continue;
        int64_t t = std::clamp(*bounds[i], lo, hi);
        if (prev && i - prev_i == 1) {
          const auto& [phase, ms] = measured[prev_i];
          push(ev('b', "weights", id, phase, f, kTidUpdates, *prev, ms ? J{{"ms", r3(*ms)}} : J()));
          push(ev('e', "weights", id, phase, f, kTidUpdates, t));
        }
        prev = t;
        prev_i = i;
        lo = t;
      }
      if (e)
        push(ev('e', "weights", id, name, f, kTidUpdates, *e));
      else
        open_.push_back(ev('e', "weights", id, name, f, kTidUpdates, s));

      if (u.server && off) server_span(u.trace, *u.server, *off, false);
    }
  }

  // The server's own view of an update, on the server's process.
  void server_span(const TraceId& trace, const ServerSide& sv, double off, bool server_only) {
    std::optional<int64_t> recv, start, done;
    if (sv.recv_t) recv = us(*sv.recv_t - off);
    if (sv.rpc_start_t) start = us(*sv.rpc_start_t - off);
    if (sv.rpc_done_t) done = us(*sv.rpc_done_t - off);
    if (sv.recv_at && recv) note(sv.recv_at->file, sv.recv_at->line, *recv);
    if (sv.start_at && start) note(sv.start_at->file, sv.start_at->line, *start);
    if (sv.done_at && done) note(sv.done_at->file, sv.done_at->line, *done);
    std::optional<int64_t> b = recv ? recv : start ? start : done;
    if (!b) return;
    std::string id = unique_id("server", trace.str());
    std::string_view name =
        sv.kind == RpcKind::reload_weights ? "reload_weights" : "update_weights";
    J args;
    args["trace_id"] = trace.str();
    if (sv.rpc_ms) args["rpc_ms"] = r3(*sv.rpc_ms);
    if (server_only) args["server_only"] = true;
    push(ev('b', "server", id, name, sv.file, kTidUpdates, *b, std::move(args)));
    int64_t last = std::max({*b, recv.value_or(*b), start.value_or(*b), done.value_or(*b)});
    if (recv && start) {
      int64_t a = *recv, z = std::max(*start, a);
      push(ev('b', "server", id, "pre-rpc", sv.file, kTidUpdates, a));
      push(ev('e', "server", id, "pre-rpc", sv.file, kTidUpdates, z));
    }
    if (start && done) {
      int64_t a = std::max(*start, *b), z = std::max(*done, a);
      push(ev('b', "server", id, "engine", sv.file, kTidUpdates, a,
              sv.rpc_ms ? J{{"ms", r3(*sv.rpc_ms)}} : J()));
      push(ev('e', "server", id, "engine", sv.file, kTidUpdates, z));
    }
    if (done)
      push(ev('e', "server", id, name, sv.file, kTidUpdates, last));
    else
      open_.push_back(ev('e', "server", id, name, sv.file, kTidUpdates, *b));
  }

  void server_only() {
    for (const auto& so : r_.server_only) {
      auto off = server_offset(so.server.file);
      if (off)
        server_span(so.trace, so.server, *off, true);
      else
        ++unplaced_;
    }
  }

  std::optional<double> tod_time(TodUnwrap& unwrap, uint32_t file, int32_t tod) {
    if (tod < 0 || !tod_map_) return std::nullopt;
    return unwrap(file, tod) + *tod_map_;
  }

  void batches() {
    TodUnwrap unwrap(seed_);
    for (size_t i = 0; i < r_.batches.size(); ++i) {
      const auto& b = r_.batches[i];
      // The end is the done line's time of day; the start is the end minus dur_ms, which is
      // more precise than the start line's whole second.
      std::optional<double> start_t = tod_time(unwrap, b.file, b.start_tod);
      std::optional<double> done_t = tod_time(unwrap, b.file, b.done_tod);
      std::optional<int64_t> bt, et;
      if (done_t) {
        et = us(*done_t);
        if (b.dur_ms)
          bt = us(*done_t - *b.dur_ms / 1000.0);
        else
          bt = start_t ? std::min(us(*start_t), *et) : *et;
      } else if (start_t) {
        bt = us(*start_t);
        if (b.done_line && b.dur_ms) et = us(*start_t + *b.dur_ms / 1000.0);
      }
      if (!bt) {
        ++unplaced_;
        continue;
      }
      if (b.start_line) note(b.file, b.start_line, *bt);
      if (b.done_line && et) note(b.file, b.done_line, *et);
      J args;
      if (b.dur_ms) args["dur_ms"] = r3(*b.dur_ms);
      if (b.inflight_start) args["inflight_start"] = *b.inflight_start;
      if (b.inflight_done) args["inflight_done"] = *b.inflight_done;
      args["overlapping_updates"] = b.update_count;
      args["line"] = b.start_line ? b.start_line : b.done_line;
      if (!b.done_line) args["incomplete"] = "batch.start without batch.done";
      span("gen", fmt::format("batch{}", i), "gen batch", b.file, kTidBatches, *bt, et,
           std::move(args));
    }
  }

  void points(std::string_view metric, int tid, std::string_view name, std::string_view id_prefix,
              const char* step_key) {
    const auto* pts = r_.points(metric);
    if (!pts) return;
    std::string value_key(metric.substr(metric.find('.') + 1));  // "wait_ms", "write_ms"
    TodUnwrap unwrap(seed_);
    for (size_t i = 0; i < pts->size(); ++i) {
      const auto& p = (*pts)[i];
      auto t = tod_time(unwrap, p.file, p.tod);
      if (!t) {
        ++unplaced_;
        continue;
      }
      // The line is written when the wait or write is done: the span ends there.
      int64_t e = us(*t), b = us(*t - p.value / 1000.0);
      note(p.file, p.line, e);
      J args;
      args[value_key] = r3(p.value);
      if (p.step >= 0) args[step_key] = p.step;
      args["line"] = p.line;
      span("ckpt", fmt::format("{}{}", id_prefix, i), name, p.file, tid, b, e, std::move(args));
    }
  }

  void rollouts() {
    for (std::string_view metric : {"rollout.trunc_pct", "rollout.staleness"}) {
      const auto* pts = r_.points(metric);
      if (!pts) continue;
      std::string_view key = metric.substr(8);  // "trunc_pct", "staleness"
      TodUnwrap unwrap(seed_);
      for (const auto& p : *pts) {
        auto t = tod_time(unwrap, p.file, p.tod);
        if (!t) {
          ++unplaced_;
          continue;
        }
        int64_t ts = us(*t);
        note(p.file, p.line, ts);
        push(ev('C', "", "", key, p.file, kTidRollout, ts, J{{std::string(key), r3(p.value)}}));
      }
    }
  }

  void diagnoses() {
    if (r_.diagnoses.empty()) return;
    int64_t fallback = events_.empty() ? 0 : start_;
    uint32_t home = 0;  // the orchestrator's file, for evidence that no event was placed at
    for (uint32_t i = 0; i < r_.inputs.size(); ++i)
      if (r_.inputs[i].role == Role::orchestrator) {
        home = i;
        break;
      }
    for (const auto& d : r_.diagnoses) {
      auto base = [&]() {
        J a;
        a["severity"] = std::string(severity_name(d.severity));
        a["summary"] = utf8_clean(d.summary);
        a["fix"] = utf8_clean(d.fix);
        return a;
      };
      size_t marked = 0;
      for (const auto& evd : d.evidence) {
        if (marked == kMaxEvidenceMarks) break;
        auto it = where_.find({evd.file, evd.line});
        J a = marked == 0 ? base() : J::object();
        a["evidence"] =
            utf8_clean(fmt::format("{}:{} {}", r_.file_name(evd.file), evd.line, evd.note));
        if (it == where_.end()) a["located"] = false;
        events_.push_back(ev('i', "diagnosis", "", d.id, it != where_.end() ? evd.file : home,
                             kTidDiagnoses, it != where_.end() ? it->second : fallback,
                             std::move(a)));
        ++marked;
      }
      if (marked == 0)
        events_.push_back(ev('i', "diagnosis", "", d.id, home, kTidDiagnoses, fallback, base()));
    }
  }

  std::vector<J> metadata() {
    std::vector<J> out;
    for (const auto& [file, tids] : tids_) {
      Role role = file < r_.inputs.size() ? r_.inputs[file].role : Role::unknown;
      uint32_t p = file + 1;
      out.push_back(
          J{{"ph", "M"},
            {"name", "process_name"},
            {"pid", p},
            {"args",
             J{{"name", utf8_clean(fmt::format("{}: {}", role_name(role), r_.file_name(file)))}}}});
      out.push_back(
          J{{"ph", "M"},
            {"name", "process_sort_index"},
            {"pid", p},
            {"args", J{{"sort_index", role_order(role) * 10000 + static_cast<int>(file)}}}});
      for (int t : tids) {
        out.push_back(J{{"ph", "M"},
                        {"name", "thread_name"},
                        {"pid", p},
                        {"tid", t},
                        {"args", J{{"name", tid_name(t, role)}}}});
        out.push_back(J{{"ph", "M"},
                        {"name", "thread_sort_index"},
                        {"pid", p},
                        {"tid", t},
                        {"args", J{{"sort_index", t}}}});
      }
    }
    return out;
  }

  const Report& r_;
  std::optional<double> tod_map_;
  std::optional<double>
      seed_;  // the first update's time of day, unwrapped: where days are counted from
  bool tod_only_ = false;
  std::unordered_map<uint32_t, std::optional<double>> offsets_;
  std::map<uint32_t, std::set<int>> tids_;  // per input file (process), the threads used
  std::map<std::pair<uint32_t, uint64_t>, int64_t> where_;
  std::unordered_map<std::string, size_t> ids_;
  std::vector<Ev> events_;
  std::vector<Ev> open_;
  int64_t start_ = INT64_MAX, end_ = INT64_MIN;
  uint64_t unplaced_ = 0;
};

std::string reference_chrome_trace(const Report& r) {
  std::ostringstream out;
  Trace t = TraceBuilder(r).build();
  // The same document as to_chrome_trace(r).dump(), one event per line, never held whole.
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  bool first = true;
  auto item = [&](const J& j) {
    out << (first ? "\n" : ",\n") << j.dump();
    first = false;
  };
  for (const auto& m : t.metadata) item(m);
  for (const auto& e : t.events) item(e.to_json());
  out << "\n],\"otherData\":" << t.other.dump() << "}\n";
  return out.str();
}

}  // namespace
}  // namespace alog::trace_reference
