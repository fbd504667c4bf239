// Chrome Trace Event Format writer (`--trace-out`).
//
// Layout: one process per input log (orchestrator, each inference server, trainer), named by
// role and path, with a thread per kind of activity. Weight updates overlap, so each is a nestable
// async span (`b`/`e`, keyed by category + id) whose phases are nested spans with the same id
// (Perfetto gives each category + id its own track; chrome://tracing packs them into rows). Batches
// and checkpoint waits/writes are async spans too: their times come from whole-second prefixes, so
// neighbours can overlap by a fraction of a second, which complete (`X`) events on one thread would
// not allow. Diagnoses are instant events at the lines of their evidence.
//
// Nesting must hold for a viewer to accept the file, but mapped server times can fall a little
// outside the client span when the clock offset is a median rather than a bound; phase
// boundaries are therefore clamped into their parent span, and the measured durations are kept
// in the span's args.
//
// Size: a fully correlated update costs 16 events, ~1.8 KB of JSON; an update without its server
// side 6 events, ~0.7 KB; a batch or checkpoint span ~0.3 KB (the test measures ~2.3 KB per
// update of a run with all of them).
//
// Order: events are written in time order, ties in the order they are made (each update with its
// server side, server-only updates, batches, ckpt waits, ckpt writes, rollout counters, the ends of
// spans still open when the logs end, diagnoses): a stable sort of every event by time, which is
// what the writer before 2026-12-06 did by building every event (~285 bytes each: ~410 MB for the
// 1.4 M events of a 1 GiB log) and sorting them. This one streams the same bytes without holding
// the events, in three passes over the Report's records:
//  1. scan (nothing written): what must be known before the first event, or the first diagnosis,
//     is written: the processes and threads for the metadata, where the trace starts and ends,
//     the times of the evidence lines, which trace ids repeat; and, per block of 64 records of a
//     stream (below), the earliest time that block or any later one produces;
//  2. stream: the records of one kind from one input file are a stream. A stream turns records
//     into events when the merge asks for its next event; an event waits in the stream's queue
//     until no record still unread can produce an earlier one (pass 1's bound), and the earliest
//     head of all the streams is written. A file's records come in about time order, so a queue
//     holds the events of about one block and of the spans running across it (~1,400 events,
//     170 KB, on the 1 GiB log);
//  3. opens: the ends of the spans still open, all at the end of the trace in the order their
//     spans were made, are made again, alone, when the merge reaches the end.
// Beyond the queues, memory is 8 bytes per block of 64 records, and during pass 1 4 bytes per
// span of an update (client and server: repeated ids) and 8 per update with a time of day (the
// time-of-day clock's median): all bounded by --max-updates. Records out of time order only make
// a queue longer, never the output different. The events' text is what nlohmann's dump() wrote.

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <concepts>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <queue>
#include <set>
#include <sstream>
#include <unordered_map>

#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"

namespace alog {
namespace {

using J = nlohmann::ordered_json;

constexpr double kDay = 86400.0;
constexpr size_t kMaxEvidenceMarks = 50;  // instants per diagnosis
constexpr size_t kBlock = 64;             // records per lower bound of a stream (pass 1)
constexpr uint64_t kSeqPerRecord = 32;    // a record makes at most 16 events (a correlated update)

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

// ---- JSON text as nlohmann's dump() writes it (compact, UTF-8 kept, numbers as grisu2) ----------

void put_string(std::string& out, std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += J(std::string(s)).dump();  // escapes, and validates UTF-8 as before
      return;
    }
  out += '"';
  out += s;
  out += '"';
}

void put_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char tmp[64];
  char* end = nlohmann::detail::to_chars(tmp, tmp + sizeof tmp, v);
  out.append(tmp, end);
}

template <std::integral I>
void put_integer(std::string& out, I v) {
  char tmp[24];
  auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
  // (pointer, length), not the iterator pair: with fmt header-only (ALOG_STATIC_DEPS) GCC 12
  // inlines the latter into a false -Wrestrict.
  out.append(tmp, static_cast<std::size_t>(res.ptr - tmp));
}

// An event's "args" object, keys in the order they are added (ordered_json's). Integers and
// floating-point values are kept apart as the json tree kept them: 96 is not 96.0.
class Args {
 public:
  void str(std::string_view k, std::string_view v) {
    key(k);
    put_string(t_, v);
  }
  void num(std::string_view k, double v) {
    key(k);
    put_number(t_, v);
  }
  template <std::integral I>
  void integer(std::string_view k, I v) {
    key(k);
    put_integer(t_, v);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    t_ += v ? "true" : "false";
  }
  bool empty() const { return t_.empty(); }
  // Appends the object ("{...}") to out.
  void close_into(std::string& out) const {
    out += t_;
    out += '}';
  }

 private:
  void key(std::string_view k) {
    t_ += t_.empty() ? '{' : ',';
    put_string(t_, k);
    t_ += ':';
  }
  std::string t_;
};

struct NoArgs {
  void operator()(Args&) const {}
};

// One event, as the json tree of the sorting writer dumped it: ph, cat, id, name, s, pid, tid, ts,
// args, the optional ones only when present.
void put_event(std::string& out, char ph, std::string_view cat, std::string_view id,
               std::string_view name, uint32_t pid, int tid, int64_t ts, const Args* args) {
  out += "{\"ph\":\"";
  out += ph;
  out += '"';
  if (!cat.empty()) {
    out += ",\"cat\":";
    put_string(out, cat);
  }
  if (!id.empty()) {
    out += ",\"id\":";
    put_string(out, id);
  }
  out += ",\"name\":";
  put_string(out, name);
  if (ph == 'i') out += ",\"s\":\"t\"";
  out += ",\"pid\":";
  put_integer(out, pid);
  out += ",\"tid\":";
  put_integer(out, tid);
  out += ",\"ts\":";
  put_integer(out, ts);
  if (args && !args->empty()) {
    out += ",\"args\":";
    args->close_into(out);
  }
  out += '}';
}

// ---- Streams -----------------------------------------------------------------------------------

// The kinds of records, in the order their events are made (which breaks ties of time).
enum class Kind : uint8_t { updates, server_only, batches, ckpt_wait, ckpt_write, trunc, staleness };
constexpr int kKinds = 7;
constexpr int kRankOpens = kKinds;          // the ends of spans open at the end of the logs
constexpr int kRankDiagnoses = kKinds + 1;  // then the diagnoses

// An event made, waiting for its turn: its time, its place in the order events are made (record
// index × 32 + its rank in the record) and its text.
struct Pending {
  int64_t ts = 0;
  uint64_t seq = 0;
  std::string text;
};
struct Later {
  bool operator()(const Pending& a, const Pending& b) const {
    return a.ts != b.ts ? a.ts > b.ts : a.seq > b.seq;
  }
};

// The records of one kind from one input file, read in Report order.
struct Stream {
  Kind kind = Kind::updates;
  uint32_t file = 0;
  size_t count = 0;  // its records
  // Per block of kBlock of its records: no event of that block or a later one is earlier than
  // this (INT64_MAX: they make none). Pass 1 fills it.
  std::vector<int64_t> floor;
  // Pass 2.
  size_t next = 0;  // the next record of the kind to look at (records of other files are skipped)
  size_t done = 0;  // its records turned into events so far
  int64_t bound = INT64_MIN;  // no event not yet made is earlier
  std::optional<TodUnwrap> unwrap;
  std::priority_queue<Pending, std::vector<Pending>, Later> queue;
};

enum class Pass { scan, stream, opens };

class TraceWriter {
 public:
  TraceWriter(const Report& r, std::ostream& out) : r_(r), out_(out) {
    points_[static_cast<int>(Kind::ckpt_wait)] = r_.points("ckpt.wait_ms");
    points_[static_cast<int>(Kind::ckpt_write)] = r_.points("ckpt.write_ms");
    points_[static_cast<int>(Kind::trunc)] = r_.points("rollout.trunc_pct");
    points_[static_cast<int>(Kind::staleness)] = r_.points("rollout.staleness");
  }

  TraceWriteStats write() {
    map_tod();
    scan();
    out_ << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
    for (const auto& m : metadata()) item(m.dump());
    stats_.events = 0;
    stream();
    out_ << "\n],\"otherData\":" << other_data().dump() << "}\n";
    return stats_;
  }

 private:
  // ---- The passes ------------------------------------------------------------------------------

  size_t records(Kind k) const {
    switch (k) {
      case Kind::updates:
        return r_.updates.size();
      case Kind::server_only:
        return r_.server_only.size();
      case Kind::batches:
        return r_.batches.size();
      default: {
        const auto* p = points_of(k);
        return p ? p->size() : 0;
      }
    }
  }

  const std::deque<PointEvent>* points_of(Kind k) const { return points_[static_cast<int>(k)]; }

  // The input file a record belongs to: its stream.
  uint32_t file_of(Kind k, size_t i) const {
    switch (k) {
      case Kind::updates:
        return r_.updates[i].send_at.file;
      case Kind::server_only:
        return r_.server_only[i].server.file;
      case Kind::batches:
        return r_.batches[i].file;
      default:
        return (*points_of(k))[i].file;
    }
  }

  // Turns record i of kind k into events (push/open/note below do what the pass needs).
  void record(Kind k, size_t i, TodUnwrap& unwrap) {
    seq_ = i * kSeqPerRecord;
    switch (k) {
      case Kind::updates:
        update(i);
        break;
      case Kind::server_only:
        server_only(i);
        break;
      case Kind::batches:
        batch(i, unwrap);
        break;
      case Kind::ckpt_wait:
        point(*points_of(k), i, unwrap, "ckpt.wait_ms", kTidCkptWait, "ckpt wait", "wait",
              "target_step");
        break;
      case Kind::ckpt_write:
        point(*points_of(k), i, unwrap, "ckpt.write_ms", kTidCkptWrite, "ckpt write", "write",
              "step");
        break;
      case Kind::trunc:
        rollout(*points_of(k), i, unwrap, "trunc_pct");
        break;
      case Kind::staleness:
        rollout(*points_of(k), i, unwrap, "staleness");
        break;
    }
  }

  // Every record in the order the sorting writer made their events (pass 3).
  void each_record() {
    for (int k = 0; k < kKinds; ++k) {
      auto kind = static_cast<Kind>(k);
      TodUnwrap unwrap(seed_);
      for (size_t i = 0, n = records(kind); i < n; ++i) record(kind, i, unwrap);
    }
  }

  void scan() {
    pass_ = Pass::scan;
    for (const auto& d : r_.diagnoses)
      for (size_t m = 0; m < d.evidence.size() && m < kMaxEvidenceMarks; ++m)
        where_.emplace(std::make_pair(d.evidence[m].file, d.evidence[m].line), std::nullopt);
    std::map<std::pair<Kind, uint32_t>, size_t> index;  // (kind, file) -> streams_
    for (int k = 0; k < kKinds; ++k) {
      auto kind = static_cast<Kind>(k);
      TodUnwrap unwrap(seed_);
      for (size_t i = 0, n = records(kind); i < n; ++i) {
        record_min_ = INT64_MAX;
        record(kind, i, unwrap);
        uint32_t f = file_of(kind, i);
        auto [it, fresh] = index.emplace(std::make_pair(kind, f), streams_.size());
        if (fresh) {
          streams_.emplace_back();
          streams_.back().kind = kind;
          streams_.back().file = f;
        }
        Stream& s = streams_[it->second];
        size_t block = s.count++ / kBlock;
        if (block == s.floor.size()) s.floor.push_back(INT64_MAX);
        s.floor[block] = std::min(s.floor[block], record_min_);
      }
    }
    for (auto& s : streams_)
      for (size_t b = s.floor.size(); b-- > 1;) s.floor[b - 1] = std::min(s.floor[b - 1], s.floor[b]);
    diagnoses();  // their processes and threads, for the metadata
    number_repeated_ids();
  }

  // Pass 2, with pass 3 inside it when the merge reaches the ends of the open spans.
  void stream() {
    pass_ = Pass::stream;
    diagnoses();  // few: made now, sorted by time (stable: in the order they are made)
    std::stable_sort(diag_.begin(), diag_.end(),
                     [](const Pending& a, const Pending& b) { return a.ts < b.ts; });
    for (auto& s : streams_) s.unwrap.emplace(seed_);
    size_t d = 0;
    bool opens = opens_ > 0;
    while (out_) {  // a failed write ends it: nothing more would reach the file
      // The earliest of the streams' heads, ties to the kind made first; then the open spans'
      // ends (all at end_) and the next diagnosis.
      Stream* best = nullptr;
      int64_t ts = 0;
      int rank = 0;
      for (auto& s : streams_) {
        const Pending* h = head(s);
        if (!h) continue;
        int k = static_cast<int>(s.kind);
        if (!best || h->ts < ts || (h->ts == ts && (k < rank || (k == rank && h->seq < best->queue.top().seq)))) {
          best = &s;
          ts = h->ts;
          rank = k;
        }
      }
      bool take_opens = opens && (!best || end_ < ts);
      if (take_opens) {
        best = nullptr;
        ts = end_;
        rank = kRankOpens;
      }
      if (d < diag_.size() && ((!best && !take_opens) || diag_[d].ts < ts)) {
        item(diag_[d++].text);
        continue;
      }
      if (take_opens) {
        opens = false;
        ends_of_open_spans();
        continue;
      }
      if (!best) break;
      Pending p = std::move(const_cast<Pending&>(best->queue.top()));
      best->queue.pop();
      --held_;
      held_bytes_ -= p.text.size();
      item(p.text);
    }
  }

  // The stream's earliest event, once no record not yet read can make an earlier one; nullptr when
  // it has none left.
  const Pending* head(Stream& s) {
    for (;;) {
      if (!s.queue.empty() && s.queue.top().ts <= s.bound) return &s.queue.top();
      if (s.done == s.count) return s.queue.empty() ? nullptr : &s.queue.top();
      while (file_of(s.kind, s.next) != s.file) ++s.next;
      cur_ = &s;
      record(s.kind, s.next++, *s.unwrap);
      ++s.done;
      // Later records are those of this block (some already read: the bound is low, never wrong)
      // and of the blocks after it.
      s.bound = s.done < s.count ? s.floor[s.done / kBlock] : INT64_MAX;
    }
  }

  void ends_of_open_spans() {
    pass_ = Pass::opens;
    each_record();
    pass_ = Pass::stream;
  }

  // ---- What each pass does with an event ----------------------------------------------------------

  template <class F = NoArgs>
  void push(char ph, std::string_view cat, std::string_view id, std::string_view name,
            uint32_t file, int tid, int64_t ts, F&& args = {}) {
    uint64_t seq = seq_++;
    if (pass_ == Pass::scan) {
      tids_[file].insert(tid);
      end_ = std::max(end_, ts);
      start_ = std::min(start_, ts);
      record_min_ = std::min(record_min_, ts);
      pushed_ = true;
    } else if (pass_ == Pass::stream) {
      Args a;
      args(a);
      Pending p{ts, seq, {}};
      put_event(p.text, ph, cat, id, name, file + 1, tid, ts, &a);
      held_bytes_ += p.text.size();
      cur_->queue.push(std::move(p));
      ++held_;
      stats_.peak_held = std::max(stats_.peak_held, held_);
      stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, held_bytes_);
    }
  }

  // The end of a span whose end the logs do not have: it ends with the trace.
  void open(std::string_view cat, std::string_view id, std::string_view name, uint32_t file,
            int tid) {
    if (pass_ == Pass::scan) {
      tids_[file].insert(tid);
      ++opens_;
    } else if (pass_ == Pass::opens) {
      std::string text;
      put_event(text, 'e', cat, id, name, file + 1, tid, end_, nullptr);
      item(text);
    }
  }

  void note(uint32_t file, uint64_t line, int64_t ts) {
    if (pass_ != Pass::scan || !line || where_.empty()) return;
    auto it = where_.find({file, line});
    if (it != where_.end() && !it->second) it->second = ts;  // the first event at the line
  }

  void item(std::string_view text) {
    out_ << (first_ ? "\n" : ",\n");
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    first_ = false;
    ++stats_.events;
  }

  // Ids key the async spans: an id the logs reuse gets "#2", "#3", ... so spans never collide.
  // Pass 1 lists the records that make a span of each category (0: "weights", 1: "server"; a
  // server-only update r is updates.size() + r), then numbers the repeats; the other passes look
  // them up.
  std::string unique_id(int cat, size_t ref, std::string id) {
    if (pass_ == Pass::scan) {
      refs_[cat].push_back(static_cast<uint32_t>(ref));
      return id;
    }
    auto it = repeats_[cat].find(static_cast<uint32_t>(ref));
    return it == repeats_[cat].end() ? id : fmt::format("{}#{}", id, it->second);
  }

  const TraceId& trace_of(size_t ref) const {
    return ref < r_.updates.size() ? r_.updates[ref].trace
                                   : r_.server_only[ref - r_.updates.size()].trace;
  }

  void number_repeated_ids() {
    // Two ids are the same span key when their text is (TraceId::str(): `len` digits, or all the
    // value's digits when it is wider; none when len is 0).
    auto key = [this](uint32_t ref) {
      const TraceId& t = trace_of(ref);
      if (t.len == 0) return std::make_pair(uint64_t{0}, 0);
      int digits = t.value ? 16 - std::countl_zero(t.value) / 4 : 1;
      return std::make_pair(t.value, std::max<int>(t.len, digits));
    };
    for (int cat = 0; cat < 2; ++cat) {
      auto& refs = refs_[cat];  // ascending: the order the spans are made
      std::sort(refs.begin(), refs.end(), [&](uint32_t a, uint32_t b) {
        auto ka = key(a), kb = key(b);
        return ka != kb ? ka < kb : a < b;
      });
      for (size_t i = 1, n = 1; i < refs.size(); ++i) {
        n = key(refs[i]) == key(refs[i - 1]) ? n + 1 : 1;
        if (n > 1) repeats_[cat][refs[i]] = static_cast<uint32_t>(n);
      }
      std::vector<uint32_t>().swap(refs);
    }
  }

  // ---- The events of each kind of record -----------------------------------------------------------

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

  // An async span [b, e] with one id; `e` unknown: left open until the trace ends.
  template <class F>
  void span(std::string_view cat, std::string_view id, std::string_view name, uint32_t file,
            int tid, int64_t b, std::optional<int64_t> e, F&& args) {
    push('b', cat, id, name, file, tid, b, args);
    if (e)
      push('e', cat, id, name, file, tid, *e);
    else
      open(cat, id, name, file, tid);
  }

  void update(size_t i) {
    const auto& u = r_.updates[i];
    int64_t s = us(u.send_t);
    std::optional<int64_t> e;
    if (u.wall_ms) e = us(u.send_t + *u.wall_ms / 1000.0);
    note(u.send_at.file, u.send_at.line, s);
    if (u.done_at && e) note(u.done_at->file, u.done_at->line, *e);

    std::string trace = u.trace.str();
    std::string id = unique_id(0, i, trace);
    auto args = [&](Args& a) {
      a.str("trace_id", trace);
      if (u.step) a.integer("step", int64_t{*u.step});
      if (u.wall_ms) a.num("wall_ms", r3(*u.wall_ms));
      if (u.rpc_ms) a.num("rpc_ms", r3(*u.rpc_ms));
      if (u.queue_ms) a.num("queue_ms", r3(*u.queue_ms));
      a.integer("line", uint64_t{u.send_at.line});
      if (!u.complete) a.str("incomplete", describe_last_phase(u.last_phase));
    };
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

    push('b', "weights", id, name, f, kTidUpdates, s, args);
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
    for (size_t b = 0; b < bounds.size(); ++b) {
      if (!bounds[b]) continue;
      int64_t t = std::clamp(*bounds[b], lo, hi);
      if (prev && b - prev_i == 1) {
        // Not a structured binding: clang before 16 cannot capture one in a lambda.
        const auto& phase = measured[prev_i].first;
        const auto& ms = measured[prev_i].second;
        push('b', "weights", id, phase, f, kTidUpdates, *prev, [&](Args& a) {
          if (ms) a.num("ms", r3(*ms));
        });
        push('e', "weights", id, phase, f, kTidUpdates, t);
      }
      prev = t;
      prev_i = b;
      lo = t;
    }
    if (e)
      push('e', "weights", id, name, f, kTidUpdates, *e);
    else
      open("weights", id, name, f, kTidUpdates);

    if (u.server && off) server_span(u.trace, *u.server, *off, false, i);
  }

  // The server's own view of an update, on the server's process.
  void server_span(const TraceId& trace, const ServerSide& sv, double off, bool orphan,
                   size_t ref) {
    std::optional<int64_t> recv, start, done;
    if (sv.recv_t) recv = us(*sv.recv_t - off);
    if (sv.rpc_start_t) start = us(*sv.rpc_start_t - off);
    if (sv.rpc_done_t) done = us(*sv.rpc_done_t - off);
    if (sv.recv_at && recv) note(sv.recv_at->file, sv.recv_at->line, *recv);
    if (sv.start_at && start) note(sv.start_at->file, sv.start_at->line, *start);
    if (sv.done_at && done) note(sv.done_at->file, sv.done_at->line, *done);
    std::optional<int64_t> b = recv ? recv : start ? start : done;
    if (!b) return;
    std::string trace_id = trace.str();
    std::string id = unique_id(1, ref, trace_id);
    std::string_view name =
        sv.kind == RpcKind::reload_weights ? "reload_weights" : "update_weights";
    push('b', "server", id, name, sv.file, kTidUpdates, *b, [&](Args& a) {
      a.str("trace_id", trace_id);
      if (sv.rpc_ms) a.num("rpc_ms", r3(*sv.rpc_ms));
      if (orphan) a.boolean("server_only", true);
    });
    int64_t last = std::max({*b, recv.value_or(*b), start.value_or(*b), done.value_or(*b)});
    if (recv && start) {
      int64_t a = *recv, z = std::max(*start, a);
      push('b', "server", id, "pre-rpc", sv.file, kTidUpdates, a);
      push('e', "server", id, "pre-rpc", sv.file, kTidUpdates, z);
    }
    if (start && done) {
      int64_t a = std::max(*start, *b), z = std::max(*done, a);
      push('b', "server", id, "engine", sv.file, kTidUpdates, a, [&](Args& x) {
        if (sv.rpc_ms) x.num("ms", r3(*sv.rpc_ms));
      });
      push('e', "server", id, "engine", sv.file, kTidUpdates, z);
    }
    if (done)
      push('e', "server", id, name, sv.file, kTidUpdates, last);
    else
      open("server", id, name, sv.file, kTidUpdates);
  }

  void server_only(size_t i) {
    const auto& so = r_.server_only[i];
    auto off = server_offset(so.server.file);
    if (off)
      server_span(so.trace, so.server, *off, true, r_.updates.size() + i);
    else if (pass_ == Pass::scan)
      ++unplaced_;
  }

  std::optional<double> tod_time(TodUnwrap& unwrap, uint32_t file, int32_t tod) {
    if (tod < 0 || !tod_map_) return std::nullopt;
    return unwrap(file, tod) + *tod_map_;
  }

  void batch(size_t i, TodUnwrap& unwrap) {
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
      if (pass_ == Pass::scan) ++unplaced_;
      return;
    }
    if (b.start_line) note(b.file, b.start_line, *bt);
    if (b.done_line && et) note(b.file, b.done_line, *et);
    span("gen", fmt::format("batch{}", i), "gen batch", b.file, kTidBatches, *bt, et,
         [&](Args& a) {
           if (b.dur_ms) a.num("dur_ms", r3(*b.dur_ms));
           if (b.inflight_start) a.num("inflight_start", *b.inflight_start);
           if (b.inflight_done) a.num("inflight_done", *b.inflight_done);
           a.integer("overlapping_updates", b.update_count);
           a.integer("line", b.start_line ? b.start_line : b.done_line);
           if (!b.done_line) a.str("incomplete", "batch.start without batch.done");
         });
  }

  void point(const std::deque<PointEvent>& pts, size_t i, TodUnwrap& unwrap,
             std::string_view metric, int tid, std::string_view name, std::string_view id_prefix,
             std::string_view step_key) {
    const auto& p = pts[i];
    auto t = tod_time(unwrap, p.file, p.tod);
    if (!t) {
      if (pass_ == Pass::scan) ++unplaced_;
      return;
    }
    std::string_view value_key = metric.substr(metric.find('.') + 1);  // "wait_ms", "write_ms"
    // The line is written when the wait or write is done: the span ends there.
    int64_t e = us(*t), b = us(*t - p.value / 1000.0);
    note(p.file, p.line, e);
    span("ckpt", fmt::format("{}{}", id_prefix, i), name, p.file, tid, b, e, [&](Args& a) {
      a.num(value_key, r3(p.value));
      if (p.step >= 0) a.integer(step_key, p.step);
      a.integer("line", p.line);
    });
  }

  void rollout(const std::deque<PointEvent>& pts, size_t i, TodUnwrap& unwrap,
               std::string_view key) {
    const auto& p = pts[i];
    auto t = tod_time(unwrap, p.file, p.tod);
    if (!t) {
      if (pass_ == Pass::scan) ++unplaced_;
      return;
    }
    int64_t ts = us(*t);
    note(p.file, p.line, ts);
    push('C', "", "", key, p.file, kTidRollout, ts, [&](Args& a) { a.num(key, r3(p.value)); });
  }

  // Instants at the lines of each diagnosis's evidence (the first kMaxEvidenceMarks), at the start
  // of the trace for a line no event was placed at. Pass 1 notes their threads, pass 2 makes them.
  void diagnoses() {
    if (r_.diagnoses.empty()) return;
    int64_t fallback = pushed_ ? start_ : 0;
    uint32_t home = 0;  // the orchestrator's file, for evidence that no event was placed at
    for (uint32_t i = 0; i < r_.inputs.size(); ++i)
      if (r_.inputs[i].role == Role::orchestrator) {
        home = i;
        break;
      }
    auto instant = [&](const Diagnosis& d, uint32_t file, int64_t ts, const Args& a) {
      if (pass_ == Pass::scan) {
        tids_[file].insert(kTidDiagnoses);
        return;
      }
      Pending p{ts, diag_.size(), {}};
      put_event(p.text, 'i', "diagnosis", "", d.id, file + 1, kTidDiagnoses, ts, &a);
      diag_.push_back(std::move(p));
    };
    for (const auto& d : r_.diagnoses) {
      auto base = [&](Args& a) {
        if (pass_ == Pass::scan) return;
        a.str("severity", severity_name(d.severity));
        a.str("summary", utf8_clean(d.summary));
        a.str("fix", utf8_clean(d.fix));
      };
      size_t marked = 0;
      for (const auto& evd : d.evidence) {
        if (marked == kMaxEvidenceMarks) break;
        auto it = where_.find({evd.file, evd.line});
        bool located = it != where_.end() && it->second;
        Args a;
        if (marked == 0) base(a);
        if (pass_ != Pass::scan) {
          a.str("evidence", utf8_clean(fmt::format("{}:{} {}", r_.file_name(evd.file), evd.line,
                                                   evd.note)));
          if (!located) a.boolean("located", false);
        }
        instant(d, located ? evd.file : home, located ? *it->second : fallback, a);
        ++marked;
      }
      if (marked == 0) {
        Args a;
        base(a);
        instant(d, home, fallback, a);
      }
    }
  }

  std::vector<J> metadata() const {
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

  J other_data() const {
    J other;
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
    return other;
  }

  const Report& r_;
  std::ostream& out_;
  const std::deque<PointEvent>* points_[kKinds] = {};  // of the point kinds
  Pass pass_ = Pass::scan;
  std::optional<double> tod_map_;
  std::optional<double>
      seed_;  // the first update's time of day, unwrapped: where days are counted from
  bool tod_only_ = false;
  std::unordered_map<uint32_t, std::optional<double>> offsets_;
  // Pass 1's findings.
  std::map<uint32_t, std::set<int>> tids_;  // per input file (process), the threads used
  // The evidence lines of the diagnoses -> the time of the first event placed at them.
  std::map<std::pair<uint32_t, uint64_t>, std::optional<int64_t>> where_;
  std::vector<uint32_t> refs_[2];
  std::unordered_map<uint32_t, uint32_t> repeats_[2];  // span -> its id's "#n", for n >= 2
  int64_t start_ = INT64_MAX, end_ = INT64_MIN;
  bool pushed_ = false;
  uint64_t opens_ = 0, unplaced_ = 0;
  int64_t record_min_ = INT64_MAX;
  std::vector<Stream> streams_;
  // Pass 2.
  Stream* cur_ = nullptr;  // the stream whose record is being read
  uint64_t seq_ = 0;
  std::vector<Pending> diag_;
  size_t held_ = 0, held_bytes_ = 0;
  bool first_ = true;
  TraceWriteStats stats_;
};

}  // namespace

TraceWriteStats write_chrome_trace(const Report& r, std::ostream& out) {
  return TraceWriter(r, out).write();
}

nlohmann::ordered_json to_chrome_trace(const Report& r) {
  std::ostringstream os;
  write_chrome_trace(r, os);
  return nlohmann::ordered_json::parse(os.str());
}

}  // namespace alog
