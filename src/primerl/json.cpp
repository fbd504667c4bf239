#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>
#include <string_view>
#include <unordered_set>

#include "analyze_logs/core/header_json.hpp"
#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"

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

J update_json(const Report& r, const UpdateReport& u) {
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
  // The ranges only where the phase can be bounded (a joined server side and a clock offset):
  // an update with no server log would otherwise carry two nulls, 60 bytes a record.
  auto ranges = cross_host_ranges(r, u);
  if (ranges.client_to_server_ms)
    x["phases"]["client_to_server_ms_range"] = J::array({ranges.client_to_server_ms->lo, ranges.client_to_server_ms->hi});
  if (ranges.server_to_client_ms)
    x["phases"]["server_to_client_ms_range"] = J::array({ranges.server_to_client_ms->lo, ranges.server_to_client_ms->hi});
  x["last_phase"] = u.last_phase.empty() ? J(nullptr) : J(u.last_phase.name());
  x["overlapping_batches"] = {{"first", u.batch_count ? J(u.first_batch) : J(nullptr)}, {"count", u.batch_count}};
  return x;
}

J batch_json(const Report& r, size_t i) {
  const auto& b = r.batches[i];
  J x;
  x["index"] = i;
  x["file"] = utf8_clean(r.file_name(b.file));
  x["start_line"] = b.start_line ? J(b.start_line) : J(nullptr);
  x["done_line"] = b.done_line ? J(b.done_line) : J(nullptr);
  x["dur_ms"] = opt(b.dur_ms);
  x["inflight"] = b.inflight_done ? J(*b.inflight_done) : opt(b.inflight_start);
  x["update_count"] = b.update_count;
  if (b.longest_queued == BatchReport::kNoUpdate) {
    x["longest_queued_update"] = nullptr;
  } else {
    const auto& up = r.updates[b.longest_queued];
    x["longest_queued_update"] = {{"trace_id", up.trace.str()}, {"queue_ms", opt(up.queue_ms)}};
  }
  return x;
}

// Everything but the two arrays that grow with the run, which are left empty.
// One training step of the budget (docs/STEPS.md), compact: an array in the order of
// kStepColumns (seconds; null when not known), one per line.
constexpr const char* kStepColumns[] = {"step",           "orchestrator_s", "wait_for_trainer_s", "weight_update_s",
                                        "eval_s",         "generation_s",   "max_off_policy",     "trainer_s",
                                        "trainer_idle_s", "compute_s",      "broadcast_s",        "save_s",
                                        "checkpoint"};
J step_json(const StepRecord& x) {
  J o = J::array();
  o.push_back(x.step);
  for (const OptDouble* v : {&x.orch_s, &x.wait_s, &x.update_s, &x.eval_s, &x.gen_s, &x.max_off_policy, &x.trainer_s,
                             &x.idle_s, &x.compute_s, &x.broadcast_s, &x.save_s})
    o.push_back(opt(*v));
  o.push_back(x.ckpt);
  return o;
}

J steps_json(const StepsReport& s) {
  J o = J::object();
  o["era"] = s.era.empty() ? J(nullptr) : J(s.era);
  o["orchestrator_source"] = step_source_name(s.orch_source);
  o["trainer_source"] = step_source_name(s.trainer_source);
  o["trainer_timer_includes_handover"] = s.trainer_timer_includes_handover;
  o["zero_based"] = s.zero_based;
  o["orchestrator_lines"] = s.orch_lines;
  o["trainer_lines"] = s.trainer_lines;
  o["metrics_rows"] = s.metrics_rows;
  o["steps"] = s.total;
  o["paired"] = s.paired;
  o["table_rows"] = s.steps.size();
  o["table_omitted"] = s.table_omitted;
  o["untracked"] = s.untracked;
  o["wait_from_time_of_day_gaps"] = s.wait_from_gaps;
  J nl = J::array();
  for (const auto& n : s.not_logged) nl.push_back(n);
  o["not_logged"] = nl;
  J mean = J::object();
  if (s.paired) {
    mean["orchestrator_s"] = opt(s.orch_s);
    mean["wait_for_trainer_s"] = opt(s.wait_s);
    mean["weight_update_s"] = opt(s.update_s);
    mean["eval_s"] = opt(s.eval_s);
    mean["generation_s"] = opt(s.gen_s);
    mean["trainer_s"] = opt(s.trainer_s);
    mean["trainer_idle_s"] = opt(s.idle_s);
    mean["compute_s"] = opt(s.compute_s);
    mean["broadcast_s"] = opt(s.broadcast_s);
    mean["save_s"] = opt(s.save_s);
  }
  o["paired_mean"] = mean;
  J time = J::object();
  time["drift_s_per_100_steps"] = opt(s.drift_s_per_100);
  time["first_tenth_s"] = opt(s.first_tenth_s);
  time["last_tenth_s"] = opt(s.last_tenth_s);
  time["median_s"] = opt(s.median_s);
  J outs = J::array();
  for (const auto& x : s.outliers) outs.push_back(J{{"step", x.step}, {"orchestrator_s", x.orch_s}, {"inside", x.inside}});
  time["outliers"] = outs;
  time["max_off_policy_first"] = opt(s.off_policy_first);
  time["max_off_policy_last"] = opt(s.off_policy_last);
  time["max_off_policy_max"] = opt(s.off_policy_max);
  time["steps_above_async_level"] = s.off_policy_above_async;
  o["over_time"] = time;
  J cols = J::array();
  for (const char* c : kStepColumns) cols.push_back(c);
  o["table_columns"] = cols;
  o["bound"] = step_bound_name(s.bound);
  o["estimate_s"] = s.bound == StepBound::none ? J(nullptr) : J(s.estimate_s);
  o["estimate_assumes"] = s.bound == StepBound::none ? J(nullptr) : J(s.estimate_basis);
  return o;
}

J head_json(const Report& r, const JsonHeader& jh) {
  core::Header own;
  if (!jh.header) own = header(r);
  const core::Header& h = jh.header ? *jh.header : own;
  J j;
  j["schema"] = core::kReportSchema;
  j["tool"] = {{"name", "analyze-logs"}, {"version", r.tool_version}};
  j["kind"] = "prime-rl";
  core::put_header(j, h);  // verdict, cause, findings, inputs (replaced below by the richer form)

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
    i["unreadable_bytes"] = in.counts.unreadable_bytes;
    i["unreadable_lines"] = in.counts.unreadable_lines;
    i["unreadable_samples"] = in.counts.unreadable_samples;
    i["partial"] = in.counts.partial;
    i["unreadable"] = in.unreadable;
    i["error"] = in.error.empty() ? J(nullptr) : J(utf8_clean(in.error));
    i["kind"] = "prime-rl";
    i["read"] = !in.unreadable;
    i["reason"] = in.error.empty() ? J(nullptr) : J(utf8_clean(in.error));
    inputs.push_back(i);
  }
  // Inputs the header knows that the analysis never opened (skipped by discovery).
  std::unordered_set<std::string_view> read;
  for (const auto& in : r.inputs) read.insert(in.path);
  for (const auto& e : h.inputs)
    if (!read.count(e.path)) inputs.push_back(core::to_json(e));
  j["inputs"] = inputs;
  if (jh.jobs) j["jobs"] = *jh.jobs;
  if (jh.hang) j["hang"] = *jh.hang;

  // Every metric of the kind, in kMetricDefs' order: one without samples is `count: 0` with no
  // other statistic (as in the *_stats.txt files), so a reader can tell "none measured" from "not
  // a metric".
  J metrics = J::object();
  auto put = [&](std::string_view name, std::string_view unit, const MetricReport* m) {
    J s;
    s["count"] = m ? m->stats.count : 0;
    if (m && m->stats.count > 0) {
      s["mean"] = m->stats.mean;
      s["min"] = m->stats.min;
      s["p50"] = m->stats.p50;
      s["p90"] = m->stats.p90;
      s["p95"] = m->stats.p95;
      s["p99"] = m->stats.p99;
      s["max"] = m->stats.max;
    }
    s["status"] = !m || m->stats.count == 0 || m->status == Status::none
                      ? J(nullptr)
                      : J(status_name(m->status));
    s["unit"] = unit;
    metrics[std::string(name)] = std::move(s);
  };
  for (const auto& d : kMetricDefs) {
    const MetricReport* m = r.metric(d.name);
    put(d.name, m ? std::string_view(m->unit) : d.unit, m);
  }
  for (const auto& m : r.metrics)
    if (!metric_def(m.name)) put(m.name, m.unit, &m);
  j["metrics"] = metrics;

  j["updates"] = J::array();

  J server_only = J::array();
  for (const auto& s : r.server_only) {
    J x = server_json(r, s.server);
    x["trace_id"] = s.trace.str();
    server_only.push_back(x);
  }
  j["server_only_updates"] = server_only;

  j["batches"] = J::array();

  j["steps"] = steps_json(r.steps);
  j["step_table"] = J::array();  // one record per step, like updates

  J clocks = J::array();
  for (const auto& c : r.clocks) {
    clocks.push_back({{"server", utf8_clean(r.file_name(c.file))},
                      {"offset_s", c.updates_used ? J(c.offset_s) : J(nullptr)},
                      {"lower_s", c.updates_used ? J(c.lower_s) : J(nullptr)},
                      {"upper_s", c.updates_used ? J(c.upper_s) : J(nullptr)},
                      {"updates_used", c.updates_used},
                      {"method", c.method},
                      {"measured", c.measured()},
                      {"causal_lower_s", opt(c.causal_lower_s)},
                      {"causal_upper_s", opt(c.causal_upper_s)},
                      {"wall_lower_s", opt(c.wall_lower_s)},
                      {"wall_upper_s", opt(c.wall_upper_s)},
                      {"note", c.note.empty() ? J(nullptr) : J(utf8_clean(c.note))}});
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
                    {"untracked_updates", r.anomalies.untracked_updates},
                    {"untracked_batches", r.anomalies.untracked_batches},
                    {"untracked_point_events", r.anomalies.untracked_point_events}};
  J th = J::object();
  for (const auto& [k, v] : r.thresholds.all()) th[k] = v;
  j["thresholds"] = th;
  j["async_level"] = r.async_level;
  return j;
}

// Hand-written text of one update / one batch, byte for byte what nlohmann's dump() writes for
// update_json / batch_json (one record per line, see dump_report): a 1 GiB log has ~65 k of each,
// and building a tree per element costs more than scanning the log.
// StreamedJsonIsTheTreeDumpedByteForByte (primerl/test_golden.cpp) holds the two to each other.
class ElementWriter {
 public:
  // Writes at the end of buf through a cursor (a record is ~60 appends: checking the capacity
  // of a std::string on each cost more than the formatting); finish() gives buf its real size.
  ElementWriter(const Report& r, std::string& buf) : r_(r), buf_(buf) {
    w_ = end_ = buf_.data() + buf_.size();
  }
  ~ElementWriter() { finish(); }
  ElementWriter(const ElementWriter&) = delete;
  ElementWriter& operator=(const ElementWriter&) = delete;

  void finish() {
    if (w_) buf_.resize(static_cast<size_t>(w_ - buf_.data()));
    w_ = end_ = nullptr;
  }

  template <size_t N>
  void lit(const char (&s)[N]) {
    ensure(N);
    std::memcpy(w_, s, N - 1);
    w_ += N - 1;
  }

  // Text already formatted (the step table's records, dumped from their trees).
  void raw(std::string_view s) { append(s); }

  void update(const UpdateReport& u) {
    ensure(kRecordRoom);
    put('{');
    key("trace_id");
    quoted(u.trace.str());
    key("op");
    if (u.reload) lit("\"reload\"");
    else lit("\"update\"");
    key("step");
    if (u.step) integer(*u.step);
    else lit("null");
    key("wall_ms");
    number(u.wall_ms);
    key("rpc_ms");
    number(u.rpc_ms);
    key("queue_ms");
    number(u.queue_ms);
    key("complete");
    if (u.complete) lit("true");
    else lit("false");
    key("send_t");
    number(u.send_t);
    key("send");
    location(u.send_at);
    key("done");
    if (u.done_at) location(*u.done_at);
    else lit("null");
    key("server");
    if (u.server) append(file(u.server->file));
    else lit("null");
    key("server_side");
    if (u.server) {
      put('{');
      key("file");
      append(file(u.server->file));
      key("recv_t");
      number(u.server->recv_t);
      key("rpc_start_t");
      number(u.server->rpc_start_t);
      key("rpc_done_t");
      number(u.server->rpc_done_t);
      key("rpc_ms");
      number(u.server->rpc_ms);
      close('}');
    } else {
      lit("null");
    }
    key("phases");
    put('{');
    key("client_to_server_ms");
    number(u.phases.client_to_server_ms);
    key("server_pre_rpc_ms");
    number(u.phases.server_pre_rpc_ms);
    key("engine_ms");
    number(u.phases.engine_ms);
    key("server_to_client_ms");
    number(u.phases.server_to_client_ms);
    auto ranges = cross_host_ranges(r_, u);
    if (ranges.client_to_server_ms) {
      key("client_to_server_ms_range");
      range(ranges.client_to_server_ms);
    }
    if (ranges.server_to_client_ms) {
      key("server_to_client_ms_range");
      range(ranges.server_to_client_ms);
    }
    close('}');
    key("last_phase");
    if (u.last_phase.empty()) lit("null");
    else quoted(u.last_phase.name());  // a fixed name that needs no escaping
    key("overlapping_batches");  // a range of Report::batches
    put('{');
    key("first");
    if (u.batch_count) integer(u.first_batch);
    else lit("null");
    key("count");
    integer(u.batch_count);
    close('}');
    close('}');
  }

  void batch(size_t index) {
    const auto& b = r_.batches[index];
    ensure(kRecordRoom);
    put('{');
    key("index");
    integer(index);
    key("file");
    append(file(b.file));
    key("start_line");
    if (b.start_line) integer(b.start_line);
    else lit("null");
    key("done_line");
    if (b.done_line) integer(b.done_line);
    else lit("null");
    key("dur_ms");
    number(b.dur_ms);
    key("inflight");
    number(b.inflight_done ? b.inflight_done : b.inflight_start);
    key("update_count");
    integer(b.update_count);
    key("longest_queued_update");
    if (b.longest_queued == BatchReport::kNoUpdate) {
      lit("null");
    } else {
      const auto& up = r_.updates[b.longest_queued];
      put('{');
      key("trace_id");
      quoted(up.trace.str());
      key("queue_ms");
      number(up.queue_ms);
      close('}');
    }
    close('}');
  }

 private:
  // Compact, as nlohmann's dump() writes it: the first key of an object follows its '{', later
  // ones a ','. (Appends of known length only: this runs ~25 times per update.)
  // Room for everything of a record but its file names and last phase, which ensure their own:
  // ~30 keys, ~16 numbers of at most 25 characters, ids and integers.
  static constexpr size_t kRecordRoom = 2048;
  void ensure(size_t n) {
    if (static_cast<size_t>(end_ - w_) >= n) return;
    size_t used = static_cast<size_t>(w_ - buf_.data());
    buf_.resize(std::max(buf_.size() * 2, used + n + 4096));
    w_ = buf_.data() + used;
    end_ = buf_.data() + buf_.size();
  }
  void put(char c) { *w_++ = c; }
  void append(std::string_view s) {
    ensure(s.size() + kRecordRoom);
    std::memcpy(w_, s.data(), s.size());
    w_ += s.size();
  }
  template <size_t N>
  void key(const char (&k)[N]) {
    if (w_[-1] != '{') *w_++ = ',';
    *w_++ = '"';
    std::memcpy(w_, k, N - 1);
    w_ += N - 1;
    *w_++ = '"';
    *w_++ = ':';
  }
  void close(char c) { put(c); }
  void quoted(std::string_view plain) {  // only for text that needs no escaping (hex ids, phase names)
    ensure(plain.size() + kRecordRoom);
    put('"');
    std::memcpy(w_, plain.data(), plain.size());
    w_ += plain.size();
    put('"');
  }
  template <typename I>
  void integer(I v) {
    w_ = std::to_chars(w_, w_ + 24, v).ptr;
  }
  void number(double v) {
    if (!std::isfinite(v)) {
      lit("null");
      return;
    }
    w_ = nlohmann::detail::to_chars(w_, w_ + 64, v);
  }
  void number(const std::optional<double>& v) {
    if (v) number(*v);
    else lit("null");
  }
  void range(const std::optional<MsRange>& m) {
    if (!m) {
      lit("null");
      return;
    }
    put('[');
    number(m->lo);
    put(',');
    number(m->hi);
    put(']');
  }
  void location(const Location& l) {
    put('{');
    key("file");
    append(file(l.file));
    key("line");
    integer(l.line);
    close('}');
  }
  // The file's name as a JSON string, escaped once per file.
  const std::string& file(uint32_t f) {
    if (files_.size() <= f) files_.resize(f + 1);
    if (!files_[f]) files_[f] = J(utf8_clean(r_.file_name(f))).dump();
    return *files_[f];
  }

  const Report& r_;
  std::string& buf_;
  char* w_ = nullptr;
  char* end_ = nullptr;
  std::vector<std::optional<std::string>> files_;
};

}  // namespace

nlohmann::ordered_json to_json(const Report& r, const JsonHeader& jh) {
  J j = head_json(r, jh);
  for (const auto& u : r.updates) j["updates"].push_back(update_json(r, u));
  for (size_t i = 0; i < r.batches.size(); ++i) j["batches"].push_back(batch_json(r, i));
  for (const auto& x : r.steps.steps) j["step_table"].push_back(step_json(x));
  return j;
}

namespace {

// The records of one array ("\n    " before the first, ",\n    " before the others), formatted
// by up to `threads` threads in blocks and handed to `sink` strictly in order, by whichever
// thread holds the next block. At most kAhead blocks are formatted ahead of the one written, so
// memory stays a few MiB however long the array is.
class OrderedRecords {
 public:
  static constexpr size_t kBlock = 1024;  // records (~0.5 MiB of updates)
  static constexpr size_t kAhead = 4;     // blocks

  template <typename Format>
  static void write(size_t n, unsigned threads, const Format& format, const std::function<void(std::string_view)>& sink) {
    const size_t blocks = (n + kBlock - 1) / kBlock;
    if (threads <= 1 || blocks <= 1) {
      std::string buf;
      for (size_t b = 0; b < blocks; ++b) {
        buf.clear();
        format(b * kBlock, std::min(n, (b + 1) * kBlock), buf);
        sink(buf);
      }
      return;
    }
    OrderedRecords o;
    o.slots_.resize(kAhead);
    auto work = [&] {
      std::string buf;
      for (;;) {
        size_t b;
        {
          std::unique_lock lock(o.mu_);
          o.cv_.wait(lock, [&] { return o.failed_ || o.claimed_ >= blocks || o.claimed_ < o.written_ + kAhead; });
          if (o.failed_ || o.claimed_ >= blocks) return;
          b = o.claimed_++;
        }
        buf.clear();
        try {
          format(b * kBlock, std::min(n, (b + 1) * kBlock), buf);
        } catch (...) {
          o.fail(std::current_exception());
          return;
        }
        std::unique_lock lock(o.mu_);
        std::swap(o.slots_[b % kAhead].text, buf);
        o.slots_[b % kAhead].ready = true;
        // Whoever completes the next block to write writes it and every ready block after it.
        if (b != o.written_ || o.writing_) {
          o.cv_.notify_all();
          continue;
        }
        o.writing_ = true;
        while (!o.failed_ && o.written_ < blocks && o.slots_[o.written_ % kAhead].ready) {
          Slot& slot = o.slots_[o.written_ % kAhead];
          std::string text = std::move(slot.text);
          slot.ready = false;
          lock.unlock();
          try {
            sink(text);
          } catch (...) {
            lock.lock();  // failed in the same hold that ends the writing: nobody writes after it
            o.writing_ = false;
            o.failed_locked(std::current_exception());
            return;
          }
          lock.lock();
          slot.text = std::move(text);  // its capacity is reused
          ++o.written_;
          o.cv_.notify_all();
        }
        o.writing_ = false;
        o.cv_.notify_all();
      }
    };
    std::vector<std::thread> helpers;
    // More threads than blocks allowed ahead would only wait.
    const size_t n_threads = std::min<size_t>({threads, blocks, kAhead + 1});
    for (size_t i = 1; i < n_threads; ++i) helpers.emplace_back(work);
    work();
    for (auto& t : helpers) t.join();
    if (o.error_) std::rethrow_exception(o.error_);
  }

 private:
  struct Slot {
    std::string text;
    bool ready = false;
  };
  void fail(std::exception_ptr e) {
    std::lock_guard lock(mu_);
    failed_locked(e);
  }
  void failed_locked(std::exception_ptr e) {
    if (!error_) error_ = e;
    failed_ = true;
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  size_t claimed_ = 0, written_ = 0;
  bool writing_ = false, failed_ = false;
  std::exception_ptr error_;
};

}  // namespace

void write_json(const Report& r, const std::function<void(std::string_view)>& sink, const JsonHeader& jh,
                unsigned threads) {
  // Byte for byte dump_report(to_json(r)) + "\n", without building the tree of the per-update and
  // per-batch arrays: each element is built, written and freed in turn, so memory does not
  // grow with the run (a 1 GiB log has ~65 k updates and ~60 k batches).
  J head = head_json(r, jh);
  std::string buf = "{";
  bool first = true;
  for (const auto& [key, value] : head.items()) {
    buf += first ? "\n  " : ",\n  ";
    first = false;
    buf += J(key).dump();
    buf += ": ";
    const bool updates = key == "updates", steps = key == "step_table";
    size_t n = updates ? r.updates.size() : key == "batches" ? r.batches.size() : steps ? r.steps.steps.size() : 0;
    if (n == 0) {
      buf += dump_report(value, 2, key);
      continue;
    }
    buf += "[";
    sink(buf);
    buf.clear();
    OrderedRecords::write(
        n, threads,
        [&](size_t from, size_t to, std::string& out) {
          ElementWriter elements(r, out);
          for (size_t i = from; i < to; ++i) {
            if (i) elements.lit(",\n    ");
            else elements.lit("\n    ");
            if (updates) elements.update(r.updates[i]);
            else if (steps) elements.raw(step_json(r.steps.steps[i]).dump());
            else elements.batch(i);
          }
          elements.finish();
        },
        sink);
    buf += "\n  ]";
  }
  buf += first ? "}\n" : "\n}\n";
  sink(buf);
}

}  // namespace alog
