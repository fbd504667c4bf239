#include "analyze_logs/primerl/analyzer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <atomic>
#include <thread>
#include <array>
#include <bit>
#include <cmath>
#include <fstream>

#include "analyze_logs/input.hpp"
#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/steps.hpp"
#include "analyze_logs/primerl/timeline.hpp"
#include "analyze_logs/scan.hpp"

namespace fs = std::filesystem;

namespace alog {

std::string_view role_name(Role r) {
  switch (r) {
    case Role::orchestrator: return "orchestrator";
    case Role::inference: return "inference";
    case Role::trainer: return "trainer";
    default: return "unknown";
  }
}

std::string_view severity_name(Severity s) { return s == Severity::critical ? "critical" : "warning"; }

uint64_t Report::total_events() const {
  uint64_t n = 0;
  for (const auto& in : inputs) n += in.counts.events;
  return n;
}

const MetricReport* Report::metric(std::string_view name) const {
  for (const auto& m : metrics)
    if (m.name == name) return &m;
  return nullptr;
}

const MetricDef* metric_def(std::string_view name) {
  for (const auto& d : kMetricDefs)
    if (d.name == name) return &d;
  return nullptr;
}

const std::deque<PointEvent>* Report::points(std::string_view metric) const {
  for (const auto& [name, v] : point_events)
    if (name == metric) return &v;
  return nullptr;
}

std::string Report::file_name(uint32_t file) const {
  return file < inputs.size() ? inputs[file].path : std::string("?");
}

namespace {

bool is_log_name(const fs::path& p) {
  std::string n = p.filename().string();
  auto ends = [&](std::string_view s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
  return ends(".log") || ends(".log.gz") || ends(".log.zst") || ends(".jsonl") || ends(".jsonl.gz") ||
         ends(".jsonl.zst");
}

int role_hint(const fs::path& rel) {
  std::string s = rel.generic_string();
  if (s.find("orchestrator") != std::string::npos) return 0;
  if (s.find("inference") != std::string::npos || s.find("vllm") != std::string::npos) return 1;
  if (s.find("trainer") != std::string::npos) return 2;
  return 3;
}

}  // namespace

std::vector<fs::path> find_run_logs(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    std::error_code ec2;
    if (it->is_directory(ec2)) {
      // Never read our own reports back in, nor hidden folders (.git, staging folders).
      if (name.starts_with("analysis_") || name.starts_with("comparison_") || name.starts_with(".") ||
          it.depth() > 8)
        it.disable_recursion_pending();
      continue;
    }
    // Regular files, and links that no longer resolve (reported as unreadable); never a named
    // pipe, socket or device called *.log, which would block or fail the read.
    auto type = it->status(ec2).type();
    if (is_log_name(p) && (type == fs::file_type::regular || type == fs::file_type::not_found)) found.push_back(p);
  }
  std::sort(found.begin(), found.end(), [&](const fs::path& a, const fs::path& b) {
    auto ra = fs::relative(a, dir, ec), rb = fs::relative(b, dir, ec);
    int ha = role_hint(ra), hb = role_hint(rb);
    if (ha != hb) return ha < hb;
    return ra.generic_string() < rb.generic_string();
  });
  return found;
}

namespace {

// (Trace id, input) -> index: open addressing (linear probing, load <= 3/4) in 16-byte slots,
// where the std::unordered_maps it replaces took a 48-byte heap node plus a bucket per entry. Keys
// are never removed: forget() marks one absent, a later put() revives it. The Folder puts only
// tracked updates and server halves, so it holds at most --max-updates keys. The input's index
// must be below 2^26 (Location's limit, 2^20, is checked first).
class IdIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;  // --max-updates <= UINT32_MAX: never an index

  uint32_t get(const TraceId& t, uint32_t file = 0) const {
    if (slots_.empty()) return kNone;
    const Slot& s = slots_[find(t.value, tag(t, file))];
    return s.tag ? s.idx : kNone;
  }
  void put(const TraceId& t, uint32_t idx, uint32_t file = 0) {
    if ((used_ + 1) * 4 > slots_.size() * 3) grow();
    uint32_t g = tag(t, file);
    Slot& s = slots_[find(t.value, g)];
    if (!s.tag) {
      s = Slot{t.value, g, idx};
      ++used_;
    } else {
      s.idx = idx;
    }
  }
  void forget(const TraceId& t, uint32_t file = 0) {
    if (slots_.empty()) return;
    Slot& s = slots_[find(t.value, tag(t, file))];
    if (s.tag) s.idx = kNone;
  }

 private:
  struct Slot {
    uint64_t value = 0;
    uint32_t tag = 0;  // 0: free; else bit 31 | file << 5 | trace id length
    uint32_t idx = kNone;
  };
  static_assert(sizeof(Slot) == 16);

  static uint32_t tag(const TraceId& t, uint32_t file) {
    if (file >= (1u << 26)) throw std::length_error("IdIndex: input index beyond 2^26");
    return 0x8000'0000u | file << 5 | (t.len & 31u);
  }
  // The slot holding the key, or the free slot where it goes (there is always one: load <= 3/4).
  size_t find(uint64_t value, uint32_t g) const {
    size_t mask = slots_.size() - 1;
    // Fibonacci hashing: the high bits of the product mix every bit of the key (sequential ids too).
    size_t i = static_cast<size_t>(((value ^ (uint64_t{g} << 32)) * 0x9E3779B97F4A7C15ull) >> shift_);
    for (;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (!s.tag || (s.value == value && s.tag == g)) return i;
    }
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    shift_ = 64 - std::countr_zero(slots_.size());
    for (const Slot& s : old)
      if (s.tag) slots_[find(s.value, s.tag)] = s;
  }

  std::vector<Slot> slots_;  // size a power of two
  size_t used_ = 0;
  int shift_ = 64;
};

// Folds events, in file order, into the report.
class Folder {
 public:
  Folder(Report& r, size_t max_updates, TimelineSpool* spool)
      : r_(r), max_updates_(max_updates), spool_(spool), steps_(max_updates) {}

  void begin_file(uint32_t file, std::string_view path) {
    close_file();
    steps_.begin_file(file, path);
    file_ = file;
    op_counts_.fill(0);
    open_batches_.clear();
    untracked_open_ = 0;
    file_first_update_ = r_.updates.size();
    if (r_.wall_fits.size() <= file) r_.wall_fits.resize(file + 1);
  }

  // Updates of the file just read that never completed overlap every batch of it that started
  // after them (each file is its own run: nothing overlaps across files).
  void close_file() {
    const auto batches = static_cast<uint32_t>(r_.batches.size());
    for (size_t i = file_first_update_; i < r_.updates.size(); ++i) {
      UpdateReport& u = r_.updates[i];
      if (!u.complete) u.batch_count = batches - u.first_batch;
    }
    file_first_update_ = r_.updates.size();
  }

  void on_event(const Event& ev, std::string_view msg) {
    if (is_step_op(ev.op)) {  // the step budget: kept apart from the tagged events
      steps_.on_event(ev);
      if (ev.op == Op::step_orch || ev.op == Op::step_trainer) ++op_counts_[static_cast<int>(ev.op)];
      return;
    }
    ++op_counts_[static_cast<int>(ev.op)];
    if (ev.op == Op::client_done && ev.has(Field::wall_ms))  // the step budget's cross-link
      steps_.on_tagged_update(ev.get(Field::wall_ms),
                              ev.has(Field::queue_ms) && ev.get(Field::queue_ms) >= 0
                                  ? ev.get(Field::queue_ms)
                                  : std::numeric_limits<double>::quiet_NaN(),
                              ev.trace);
    std::optional<double> t;
    if (ev.has(Field::t)) t = ev.get(Field::t);
    switch (ev.op) {
      case Op::client_send: client_send(ev); break;
      case Op::client_done: t = client_done(ev); break;
      case Op::server_recv: case Op::rpc_start: case Op::rpc_done: server_event(ev); break;
      case Op::write_done: point("ckpt.write_ms", ev, Field::write_ms, Field::step); break;
      case Op::wait_start: break;
      case Op::wait_done: point("ckpt.wait_ms", ev, Field::wait_ms, Field::target_step); break;
      case Op::batch_start: batch_start(ev); break;
      case Op::batch_done: batch_done(ev); break;
      default: break;
      case Op::rollout:
        if (ev.has(Field::trunc_pct)) point("rollout.trunc_pct", ev, Field::trunc_pct, Field::current_step);
        if (ev.has(Field::staleness)) point("rollout.staleness", ev, Field::staleness, Field::current_step);
        break;
    }
    // Every line with both clocks bounds this log's monotonic -> wall mapping (correlation).
    if (t && ev.tod >= 0) r_.wall_fits[file_].add(ev.tod, ev.tod_ms, ev.tod_digits, *t);
    if (spool_) spool_->add(ev, t, msg);
  }

  Role end_file() { return role_of_counts(op_counts_); }

  static Role role_of_counts(const std::array<uint64_t, kOpCount>& op_counts) {
    auto c = [&](Op op) { return op_counts[static_cast<int>(op)]; };
    uint64_t orch = c(Op::client_send) + c(Op::client_done) + c(Op::wait_start) + c(Op::wait_done) +
                    c(Op::batch_start) + c(Op::batch_done) + c(Op::rollout);
    uint64_t inf = c(Op::server_recv) + c(Op::rpc_start) + c(Op::rpc_done);
    uint64_t tr = c(Op::write_done);
    if (orch == 0 && inf == 0 && tr == 0) {
      // No tagged line: the step summaries say which side wrote the log (as discovery tells it).
      if (c(Op::step_orch) == 0 && c(Op::step_trainer) == 0) return Role::unknown;
      return c(Op::step_orch) >= c(Op::step_trainer) ? Role::orchestrator : Role::trainer;
    }
    if (orch >= inf && orch >= tr) return Role::orchestrator;
    if (inf >= tr) return Role::inference;
    return Role::trainer;
  }

  void finish(std::vector<std::pair<std::string, SampleBuffer>>& samples_out) {
    close_file();
    samples_out = std::move(samples_);
    steps_.finish(r_, samples_out);
  }

  void take_server_sides(std::vector<std::pair<TraceId, ServerBox>>& out) { out = std::move(servers_); }

 private:
  void add(std::string_view metric, double v) {
    for (auto& [name, vec] : samples_)
      if (name == metric) {
        vec.push_back(v);
        return;
      }
    samples_.emplace_back(std::string(metric), SampleBuffer{});
    samples_.back().second.push_back(v);
  }

  // A sample that is also kept as an event, for evidence and timelines.
  void point(std::string_view metric, const Event& ev, Field f, Field step) {
    double v = ev.get(f);
    add(metric, v);
    PointEvent p{ev.file, ev.line, ev.tod, v, ev.has(step) ? static_cast<int64_t>(ev.get(step)) : -1};
    for (auto& [name, vec] : r_.point_events)
      if (name == metric) {
        // Like updates, at most --max-updates of each kind are kept (their samples always are).
        if (vec.size() >= max_updates_) ++r_.anomalies.untracked_point_events;
        else vec.push_back(p);
        return;
      }
    r_.point_events.emplace_back(std::string(metric), std::deque<PointEvent>{p});
  }

  void client_send(const Event& ev) {
    bool known = by_trace_.get(ev.trace) != IdIndex::kNone;
    if (known) ++r_.anomalies.reused_trace_id;  // the later send wins the id
    if (r_.updates.size() >= max_updates_) {
      ++r_.anomalies.untracked_updates;
      if (known) by_trace_.forget(ev.trace);
      return;
    }
    UpdateReport u;
    u.trace = ev.trace;
    u.reload = !ev.has_path;
    if (ev.path_step >= 0) u.step = ev.path_step;
    u.send_t = ev.get(Field::t);
    u.send_tod = ev.tod;
    u.send_at = {ev.file, ev.line};
    auto idx = static_cast<uint32_t>(r_.updates.size());
    by_trace_.put(ev.trace, idx);
    // It overlaps the batches open now (the oldest first: they complete in order) and every batch
    // that starts before it completes (client_done or close_file sets the count).
    u.first_batch = open_batches_.empty() ? static_cast<uint32_t>(r_.batches.size()) : open_batches_.front();
    r_.updates.push_back(std::move(u));
  }

  // Returns the event's time on the client clock when it can be derived (send t + wall).
  std::optional<double> client_done(const Event& ev) {
    // wall_ms is always a measurement; rpc_ms/queue_ms only when not the -1.0 sentinel.
    add("weights.wall_ms", ev.get(Field::wall_ms));
    if (ev.sample(Field::rpc_ms)) add("weights.rpc_ms", ev.get(Field::rpc_ms));
    if (ev.sample(Field::queue_ms)) add("weights.queue_ms", ev.get(Field::queue_ms));
    uint32_t idx = by_trace_.get(ev.trace);
    if (idx == IdIndex::kNone) {
      // Beyond --max-updates the send may simply not have been tracked: not an anomaly then.
      if (r_.anomalies.untracked_updates == 0) ++r_.anomalies.done_without_send;
      return std::nullopt;
    }
    UpdateReport& u = r_.updates[idx];
    if (u.complete) {
      ++r_.anomalies.duplicate_done;
      return std::nullopt;
    }
    u.complete = true;
    u.wall_ms = ev.get(Field::wall_ms);
    if (ev.sample(Field::rpc_ms)) u.rpc_ms = ev.get(Field::rpc_ms);
    if (ev.sample(Field::queue_ms)) u.queue_ms = ev.get(Field::queue_ms);
    u.done_at = Location{ev.file, ev.line};
    u.batch_count = static_cast<uint32_t>(r_.batches.size()) - u.first_batch;
    return u.send_t + *u.wall_ms / 1000.0;
  }

  void server_event(const Event& ev) {
    if (ev.op == Op::rpc_done && ev.rpc_kind == RpcKind::reload_weights)
      add("weights.reload_rpc_ms", ev.get(Field::rpc_ms));
    Location at{ev.file, ev.line};  // throws beyond Location's limits, before any other use
    uint32_t known = server_index_.get(ev.trace, ev.file);
    ServerSide* s = nullptr;
    if (known != IdIndex::kNone) {
      s = &*servers_[known].second;
      // The same id seen again after a complete server-side sequence: a new update.
      bool seen = (ev.op == Op::server_recv && s->recv_t) || (ev.op == Op::rpc_start && s->rpc_start_t) ||
                  (ev.op == Op::rpc_done && s->rpc_done_t);
      if (seen) s = nullptr;
    }
    if (!s) {
      if (servers_.size() >= max_updates_) {
        ++r_.anomalies.untracked_updates;
        return;
      }
      server_index_.put(ev.trace, static_cast<uint32_t>(servers_.size()), ev.file);
      servers_.emplace_back(ev.trace, ServerSide{});
      s = &*servers_.back().second;
      s->file = ev.file;
    }
    double t = ev.get(Field::t);
    if (ev.rpc_kind != RpcKind::none) s->kind = ev.rpc_kind;
    switch (ev.op) {
      case Op::server_recv: s->recv_t = t; s->recv_at = at; break;
      case Op::rpc_start: s->rpc_start_t = t; s->start_at = at; break;
      default:
        if (!s->rpc_start_t) ++r_.anomalies.rpc_done_without_start;
        s->rpc_done_t = t;
        s->done_at = at;
        s->rpc_ms = ev.get(Field::rpc_ms);
        break;
    }
  }

  void batch_start(const Event& ev) {
    if (r_.batches.size() >= max_updates_) {
      // Beyond --max-updates batches are counted, not kept; their dur/inflight samples still are.
      ++r_.anomalies.untracked_batches;
      ++untracked_open_;
      return;
    }
    BatchReport b;
    b.file = ev.file;
    b.start_line = ev.line;
    b.start_tod = ev.tod;
    if (ev.has(Field::inflight)) b.inflight_start = ev.get(Field::inflight);
    auto idx = static_cast<uint32_t>(r_.batches.size());
    r_.batches.push_back(std::move(b));
    open_batches_.push_back(idx);
  }

  void batch_done(const Event& ev) {
    add("gen.dur_ms", ev.get(Field::dur_ms));
    if (ev.has(Field::inflight)) add("gen.inflight", ev.get(Field::inflight));
    uint32_t idx;
    if (open_batches_.empty() && untracked_open_ > 0) {
      --untracked_open_;  // the done of a batch started beyond --max-updates (batches are FIFO)
      return;
    }
    if (open_batches_.empty()) {
      ++r_.anomalies.batch_done_without_start;
      if (r_.batches.size() >= max_updates_) {
        ++r_.anomalies.untracked_batches;
        return;
      }
      idx = static_cast<uint32_t>(r_.batches.size());
      BatchReport b;
      b.file = ev.file;
      r_.batches.push_back(std::move(b));
    } else {
      idx = open_batches_.front();
      open_batches_.pop_front();
    }
    BatchReport& b = r_.batches[idx];
    b.done_line = ev.line;
    b.done_tod = ev.tod;
    b.dur_ms = ev.get(Field::dur_ms);
    if (ev.has(Field::inflight)) b.inflight_done = ev.get(Field::inflight);
  }


  Report& r_;
  size_t max_updates_;
  TimelineSpool* spool_;
  uint32_t file_ = 0;
  std::array<uint64_t, kOpCount> op_counts_{};
  std::vector<std::pair<std::string, SampleBuffer>> samples_;
  IdIndex by_trace_;
  IdIndex server_index_;  // (trace id, inference log) -> servers_ index
  // Boxed: correlate() moves each box into its update, so no server half is ever held twice.
  std::vector<std::pair<TraceId, ServerBox>> servers_;
  std::deque<uint32_t> open_batches_;  // started, not done: a range of indices, oldest first
  uint64_t untracked_open_ = 0;  // batches started beyond --max-updates and not done yet
  size_t file_first_update_ = 0;  // the first update of the file being read
  StepFolder steps_;
};

}  // namespace

Report analyze(const AnalysisOptions& opt) {
  std::unique_ptr<TimelineSpool> timeline;
  Report r = analyze(opt, timeline);
  if (timeline) timeline->finish(r);
  return r;
}

namespace {

// The role of an input from its events, else from its name.
Role settle_role(Role by_events, const scan::FileCounts& counts, const std::string& path) {
  if (by_events == Role::unknown && counts.events == 0 && counts.noise == 0) {
    // No tagged line to tell by (a quiet trainer rank): fall back on the file's name.
    fs::path p(path);
    int hint = role_hint(p.filename());
    if (hint == 3) hint = role_hint(p.parent_path().filename());
    return hint == 0 ? Role::orchestrator : hint == 1 ? Role::inference : hint == 2 ? Role::trainer : Role::unknown;
  }
  if (by_events == Role::unknown && counts.noise > 0)
    return Role::inference;  // only `[weights][-]` middleware lines: an inference server
  return by_events;
}

// One input of the analysis: a file (or "-") to scan, or what a partial recorded of one.
struct Item {
  std::string path;
  bool from_folder = false;
  const RecordedInput* recorded = nullptr;
};

// The inputs as analyze() reads them: a named folder's logs (find_run_logs), a named file, then
// the files discovery found, each with the input it came from (`item`: its entry in opt.inputs,
// "" for opt.found_inputs).
std::vector<std::pair<Item, std::string>> expand_inputs(const AnalysisOptions& opt) {
  std::vector<std::pair<Item, std::string>> items;
  for (const auto& in : opt.inputs) {
    std::error_code ec;
    if (in != "-" && fs::is_directory(in, ec)) {
      auto logs = find_run_logs(in);
      if (logs.empty())
        throw FatalInputError(fmt::format("{}: no *.log files found in this folder", in));
      for (auto& p : logs) items.push_back({{p.string(), true, nullptr}, in});
    } else {
      items.push_back({{in, false, nullptr}, in});
    }
  }
  for (const auto& in : opt.found_inputs) items.push_back({{in, true, nullptr}, ""});
  return items;
}

Report analyze_items(const AnalysisOptions& opt, const std::vector<Item>& items,
                     std::unique_ptr<TimelineSpool>& timeline);

}  // namespace

Report analyze(const AnalysisOptions& opt, std::unique_ptr<TimelineSpool>& timeline) {
  // Expand inputs. A named file that cannot be opened is fatal; a file inside a run folder that
  // cannot be opened is reported and skipped.
  std::vector<Item> items;
  for (auto& [item, from] : expand_inputs(opt)) items.push_back(std::move(item));
  return analyze_items(opt, items, timeline);
}

RecordedInput record_input(const std::string& path, bool from_folder, const std::string& item, unsigned threads) {
  RecordedInput rec;
  rec.path = path;
  rec.item = item;
  rec.from_folder = from_folder;
  std::unique_ptr<input::ByteSource> src;
  try {
    src = input::open_source(path);
  } catch (const input::InputError& e) {
    if (!from_folder) throw FatalInputError(e.what());
    rec.unreadable = true;
    rec.error = e.what();
    return rec;
  }
  rec.compression = std::string(input::compression_name(src->compression()));
  scan::Options so;
  so.threads = std::max(1u, threads);
  rec.counts = scan::scan(*src, 0, so, [&](const Event& ev, std::string_view msg) { add_recorded(rec, ev, msg); });
  return rec;
}

std::vector<RecordedInput> record_inputs(const AnalysisOptions& opt) {
  std::vector<RecordedInput> out;
  record_inputs(opt, [&](RecordedInput&& r) { out.push_back(std::move(r)); });
  return out;
}

void record_inputs(const AnalysisOptions& opt, const std::function<void(RecordedInput&&)>& each) {
  for (auto& [item, from] : expand_inputs(opt)) each(record_input(item.path, item.from_folder, from, opt.threads));
}

Report analyze_recorded(const AnalysisOptions& opt, const std::vector<const RecordedInput*>& inputs,
                        std::unique_ptr<TimelineSpool>& timeline) {
  std::vector<Item> items;
  for (const auto* r : inputs) items.push_back({r->path, r->from_folder, r});
  return analyze_items(opt, items, timeline);
}

Role recorded_role(const RecordedInput& r) {
  if (r.unreadable) return Role::unknown;
  std::array<uint64_t, kOpCount> ops{};
  r.for_each([&](const Event& ev, std::string_view) {
    if (is_step_op(ev.op) && ev.op != Op::step_orch && ev.op != Op::step_trainer) return;
    ++ops[static_cast<int>(ev.op)];
  });
  return settle_role(Folder::role_of_counts(ops), r.counts, r.path == "-" ? "<stdin>" : r.path);
}

bool run_log_before(const std::string& root, const std::string& a, const std::string& b) {
  std::error_code ec;
  fs::path ra = fs::path(a).lexically_relative(root), rb = fs::path(b).lexically_relative(root);
  int ha = role_hint(ra), hb = role_hint(rb);
  if (ha != hb) return ha < hb;
  return ra.generic_string() < rb.generic_string();
}

namespace {

Report analyze_items(const AnalysisOptions& opt, const std::vector<Item>& items,
                     std::unique_ptr<TimelineSpool>& timeline) {
  Report r;
  r.tool_version = opt.tool_version;
  r.async_level = opt.async_level;
  r.thresholds = opt.thresholds ? *opt.thresholds : Thresholds(opt.async_level);

  std::unique_ptr<TimelineSpool> spool;
  if (opt.timeline_path) spool = std::make_unique<TimelineSpool>(*opt.timeline_path, items.size() == 1);
  Folder folder(r, opt.max_updates, spool.get());

  for (size_t i = 0; i < items.size(); ++i) {
    InputReport ir;
    ir.path = items[i].path;
    auto file = static_cast<uint32_t>(r.inputs.size());
    const RecordedInput* rec = items[i].recorded;
    std::unique_ptr<input::ByteSource> src;
    if (rec && rec->unreadable) {
      ir.unreadable = true;
      ir.error = rec->error;
      r.inputs.push_back(std::move(ir));
      continue;
    }
    if (!rec) {
      try {
        src = input::open_source(items[i].path);
      } catch (const input::InputError& e) {
        if (!items[i].from_folder) throw FatalInputError(e.what());
        ir.unreadable = true;
        ir.error = e.what();
        r.inputs.push_back(std::move(ir));
        continue;
      }
    }
    if (items[i].path == "-") ir.path = "<stdin>";
    ir.compression = rec ? rec->compression : std::string(input::compression_name(src->compression()));
    r.inputs.push_back(ir);
    folder.begin_file(file, ir.path);
    if (spool) spool->begin_file(file, r.inputs[file].path);
    scan::FileCounts counts;
    if (rec) {
      // What a partial recorded of this input: its events in the order the scan gave them.
      rec->for_each([&](const Event& recorded, std::string_view msg) {
        Event ev = recorded;
        ev.file = file;
        folder.on_event(ev, msg);
      });
      counts = rec->counts;
    } else {
      scan::Options so;
      so.threads = std::max(1u, opt.threads);
      if (opt.progress)
        so.progress = [&opt, name = ir.path](uint64_t done, uint64_t total) { opt.progress(name, done, total); };
      counts = scan::scan(*src, file, so, [&](const Event& ev, std::string_view msg) { folder.on_event(ev, msg); });
    }
    InputReport& stored = r.inputs[file];
    stored.counts = std::move(counts);
    stored.role = settle_role(folder.end_file(), stored.counts, stored.path);
    if (stored.counts.partial) stored.error = stored.counts.error;
  }

  std::vector<std::pair<std::string, SampleBuffer>> samples;
  folder.finish(samples);
  // Exact statistics sort every sample: the metrics are summarised on the scan's threads at once.
  std::vector<std::pair<const MetricDef*, SampleBuffer*>> todo;
  for (const auto& def : kMetricDefs)
    for (auto& [name, vec] : samples)
      if (name == def.name && !vec.empty()) todo.emplace_back(&def, &vec);
  std::vector<Summary> summaries(todo.size());
  {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < todo.size();) {
        std::vector<double> v = todo[i].second->take();
        summaries[i] = summarize(v);
      }
    };
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < std::min<size_t>(std::max(1u, opt.threads), todo.size()); ++i) helpers.emplace_back(work);
    work();
    for (auto& t : helpers) t.join();
  }
  for (size_t i = 0; i < todo.size(); ++i) {
    MetricReport m;
    m.name = std::string(todo[i].first->name);
    m.unit = std::string(todo[i].first->unit);
    m.stats = std::move(summaries[i]);
    if (r.thresholds.has_status(m.name)) {
      double judged = r.thresholds.judged_on(m.name) == "max" ? m.stats.max : m.stats.mean;
      m.status = r.thresholds.judge(m.name, judged);
    }
    r.metrics.push_back(std::move(m));
  }

  std::vector<std::pair<TraceId, ServerBox>> servers;
  folder.take_server_sides(servers);
  correlate(r, std::move(servers));
  link_batches(r);
  timeline = std::move(spool);
  return r;
}

}  // namespace

}  // namespace alog
