// The streamed --trace-out writer (src/primerl/trace.cpp) against the writer it replaced, which
// built every event and stable-sorted them all (kept as the oracle in trace_reference.hpp): the
// same bytes on Reports made to stress the order (equal times across kinds, files and records,
// records out of time order, files interleaved, spans left open, reused ids, evidence lines), and
// the memory it holds while it writes.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "analyze_logs/primerl/outputs.hpp"
#include "primerl/trace_reference.hpp"

namespace alog {
namespace {

InputReport input(std::string path, Role role) {
  InputReport in;
  in.path = std::move(path);
  in.role = role;
  return in;
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  // lo + k * step: coarse values, so that many events share a time.
  double grid(double lo, double hi, double step) {
    return lo + step * between(0, static_cast<int>((hi - lo) / step));
  }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(between(0, static_cast<int>(v.size()) - 1))];
  }

 private:
  std::mt19937_64 rng_;
};

// Files: 0 and 1 orchestrators, 2 and 3 inference servers (2 with a clock offset, 3 sometimes
// without), 4 and 5 trainer ranks. `scale` multiplies the number of records (a block of the
// writer's lower bounds is 64 records).
Report random_report(uint64_t seed, int scale) {
  Gen g(seed);
  Report r;
  r.tool_version = "test";
  r.inputs = {input("logs/orchestrator.log", Role::orchestrator),
              input("logs/orchestrator-2.log", Role::orchestrator),
              input("logs/inference.log", Role::inference),
              input("logs/infer\xc3\xa9nce-\"2\".log", Role::inference),
              input("logs/trainer/rank_0.log", Role::trainer),
              input("logs/trainer/rank_1.log", Role::trainer)};
  if (g.chance(0.1)) r.inputs[0].role = r.inputs[1].role = Role::unknown;  // no home file
  const double off2 = 500.0, off3 = g.chance(0.5) ? -20.0 : 0.0;
  r.clocks.push_back(ClockEstimate{2, off2, off2, off2, 5, "bounds"});
  r.clocks.push_back(ClockEstimate{3, off3, off3, off3, off3 != 0.0 ? 3u : 0u, "none"});
  auto offset = [&](uint32_t f) { return f == 2 ? off2 : off3; };

  std::vector<Location> lines;  // lines events are placed at, for the evidence
  uint64_t next_line[6] = {1, 1, 1, 1, 1, 1};
  auto at = [&](uint32_t f) {
    Location l{f, next_line[f]++};
    lines.push_back(l);
    return l;
  };
  // A pool of ids with repeats; some print alike although their values differ ("100" as len 1 and
  // len 3: a value wider than len) and one is empty.
  std::vector<TraceId> ids;
  for (int i = 0; i < 12; ++i)
    ids.push_back(TraceId{static_cast<uint64_t>(g.between(0, 30)), static_cast<uint8_t>(g.between(1, 6))});
  ids.push_back(TraceId{0x100, 1});
  ids.push_back(TraceId{0x100, 3});
  ids.push_back(TraceId{});
  auto trace = [&](int serial) {
    return g.chance(0.2) ? g.pick(ids) : TraceId{0xa00000 + static_cast<uint64_t>(serial), 6};
  };
  const int32_t tod0 = g.chance(0.3) ? 86400 - g.between(1, 120) : g.between(0, 86399);
  auto tod_at = [&](double t) {  // the time of day of client time t (whole seconds)
    return static_cast<int32_t>((tod0 + static_cast<int64_t>(std::floor(t - 1000.0)) + 86400 * 4) % 86400);
  };
  const char* phases[] = {"", "client_to_server", "server_pre_rpc", "engine", "server_to_client"};

  auto server = [&](double t) {
    ServerSide s;
    s.file = g.chance(0.6) ? 2 : 3;
    s.kind = g.chance(0.2) ? RpcKind::reload_weights : RpcKind::update_weights;
    double base = t + offset(s.file) + g.grid(-1, 3, 0.5);
    if (g.chance(0.9)) s.recv_t = base;
    if (g.chance(0.85)) s.rpc_start_t = base + g.grid(-0.5, 1, 0.5);
    if (g.chance(0.75)) s.rpc_done_t = base + g.grid(0, 6, 0.5);
    if (g.chance(0.7)) s.rpc_ms = g.grid(0, 3000, 250);
    if (s.recv_t && g.chance(0.9)) s.recv_at = at(s.file);
    if (s.rpc_start_t && g.chance(0.9)) s.start_at = at(s.file);
    if (s.rpc_done_t && g.chance(0.9)) s.done_at = at(s.file);
    return s;
  };

  int serial = 0;
  for (uint32_t f : {0u, 1u}) {
    int n = f == 1 && g.chance(0.6) ? 0 : g.between(0, 40 * scale);
    double t = 1000.0 + g.grid(0, 20, 1);
    for (int i = 0; i < n; ++i) {
      t += g.chance(0.05) ? -g.grid(0, 40, 1) : g.grid(0, 3, 0.5);  // now and then back in time
      UpdateReport u;
      u.trace = trace(serial++);
      if (g.chance(0.8)) u.step = serial;
      u.send_t = t;
      u.send_tod = g.chance(0.1) ? -1 : tod_at(t);
      u.send_at = at(f);
      u.reload = g.chance(0.1);
      u.complete = g.chance(0.85);
      if (u.complete || g.chance(0.2)) {
        u.wall_ms = g.grid(0, 20000, 250);
        if (g.chance(0.8)) {
          u.rpc_ms = g.grid(0, *u.wall_ms, 250);
          u.queue_ms = *u.wall_ms - *u.rpc_ms;
        }
        if (g.chance(0.9)) u.done_at = at(f);
      }
      if (!u.complete) u.last_phase = phases[g.between(0, 4)];
      if (g.chance(0.7)) {
        u.server = server(t);
        if (g.chance(0.7)) u.phases.client_to_server_ms = g.grid(0, 3000, 250);
        if (g.chance(0.7)) u.phases.server_pre_rpc_ms = g.grid(0, 500, 250);
        if (g.chance(0.7)) u.phases.engine_ms = g.grid(0, 3000, 250);
        if (g.chance(0.7)) u.phases.server_to_client_ms = g.grid(0, 500, 250);
      }
      r.updates.push_back(u);
    }
  }
  for (int i = 0, n = g.between(0, 3 * scale); i < n; ++i) {
    ServerOnlyUpdate so;
    so.trace = trace(serial++);
    so.server = server(1000.0 + g.grid(0, 60.0 * scale, 0.5));
    r.server_only.push_back(so);
  }

  // Batches and point events, their files one after the other or interleaved.
  const bool interleave = g.chance(0.3);
  auto files = [&](uint32_t a, uint32_t b, int n) {
    std::vector<uint32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(g.chance(0.5) ? a : b);
    if (!interleave) std::sort(v.begin(), v.end());
    return v;
  };
  double clock[6] = {1000, 1000, 1000, 1000, 1000, 1000};
  auto advance = [&](uint32_t f) {
    clock[f] += g.chance(0.05) ? -g.grid(0, 30, 1) : g.grid(0, 4, 1);
    return clock[f];
  };
  for (uint32_t f : files(0, 1, g.between(0, 40 * scale))) {
    BatchReport b;
    b.file = f;
    double t = advance(f);
    bool start = g.chance(0.9), done = !start || g.chance(0.9);
    if (start) {
      b.start_line = at(f).line;
      b.start_tod = g.chance(0.05) ? -1 : tod_at(t);
    }
    if (done) {
      b.done_line = at(f).line;
      b.done_tod = g.chance(0.05) ? -1 : tod_at(t + g.grid(0, 10, 1));
    }
    if (g.chance(0.8)) b.dur_ms = g.grid(0, 10000, 500);
    if (g.chance(0.7)) b.inflight_start = g.between(0, 128);
    if (g.chance(0.5)) b.inflight_done = g.between(0, 128);
    b.update_count = static_cast<uint32_t>(g.between(0, 5));
    r.batches.push_back(b);
  }
  struct Metric {
    const char* name;
    uint32_t a, b;
  };
  for (const Metric& m : {Metric{"ckpt.wait_ms", 0, 1}, Metric{"ckpt.write_ms", 4, 5},
                          Metric{"rollout.trunc_pct", 0, 0}, Metric{"rollout.staleness", 0, 1}}) {
    if (g.chance(0.15)) continue;
    std::deque<PointEvent> pts;
    for (uint32_t f : files(m.a, m.b, g.between(0, 30 * scale))) {
      double t = advance(f);
      pts.push_back(PointEvent{f, at(f).line, g.chance(0.05) ? -1 : tod_at(t),
                               g.grid(0, 5000, 250), g.chance(0.3) ? -1 : g.between(0, 99)});
    }
    r.point_events.emplace_back(m.name, std::move(pts));
  }

  for (int i = 0, n = g.between(0, 3); i < n; ++i) {
    Diagnosis d;
    d.id = std::vector<std::string>{"queue_saturation", "ckpt_stall", "hung_update"}[static_cast<size_t>(i)];
    d.severity = g.chance(0.5) ? Severity::critical : Severity::warning;
    d.summary = g.chance(0.2) ? "bad \xc3 utf8 \"quoted\"\n" : "a summary";
    d.fix = "a fix";
    int evidence = g.chance(0.2) ? g.between(45, 60) : g.between(0, 6);
    for (int e = 0; e < evidence; ++e) {
      Evidence ev;
      if (!lines.empty() && g.chance(0.7)) {
        Location l = g.pick(lines);
        ev.file = l.file;
        ev.line = l.line;
      } else {
        ev.file = static_cast<uint32_t>(g.between(0, 5));
        ev.line = g.chance(0.2) ? 0 : 100000 + static_cast<uint64_t>(e);
      }
      ev.note = "queue_ms=" + std::to_string(e);
      d.evidence.push_back(ev);
    }
    r.diagnoses.push_back(d);
  }
  return r;
}

std::string streamed(const Report& r, TraceWriteStats* stats = nullptr) {
  std::ostringstream os;
  TraceWriteStats st = write_chrome_trace(r, os);
  if (stats) *stats = st;
  return os.str();
}

// The first line where the texts differ, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int n = 1;; ++n) {
    bool ea = !std::getline(a, la), eb = !std::getline(b, lb);
    if (ea && eb) return "same lines";
    if (ea || eb || la != lb)
      return "line " + std::to_string(n) + ":\n  sorting: " + (ea ? "<end>" : la) +
             "\n  streamed: " + (eb ? "<end>" : lb);
  }
}

TEST(TraceStream, SameBytesAsTheSortingWriterOnRandomRuns) {
  // What the runs held, so that the comparison is known to cover it.
  size_t events = 0, open_spans = 0, reused = 0, located = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Report r = random_report(seed, seed % 10 == 0 ? 12 : 1);
    std::string want = trace_reference::reference_chrome_trace(r);
    TraceWriteStats st;
    std::string got = streamed(r, &st);
    ASSERT_TRUE(want == got) << "seed " << seed << ": " << first_difference(want, got);
    events += st.events;
    for (const auto& u : r.updates) open_spans += !u.wall_ms;
    reused += static_cast<size_t>(std::count(got.begin(), got.end(), '#'));
    for (size_t p = got.find("\"evidence\""); p != std::string::npos; p = got.find("\"evidence\"", p + 1))
      located += got.substr(p, got.find('}', p) - p).find("\"located\"") == std::string::npos;
  }
  EXPECT_GT(events, 100000u);
  EXPECT_GT(open_spans, 1000u);
  EXPECT_GT(reused, 100u);
  EXPECT_GT(located, 100u);
}

// The Reports the other trace tests use: a correlated run, with updates that never completed, an
// id reused, a server-only update, a batch without its done line; and nothing at all.
TEST(TraceStream, SameBytesAsTheSortingWriterOnEdgeRuns) {
  Report empty;
  EXPECT_EQ(streamed(empty), trace_reference::reference_chrome_trace(empty));
  Report tod_only = random_report(7, 1);
  tod_only.updates.clear();
  tod_only.server_only.clear();
  EXPECT_EQ(streamed(tod_only), trace_reference::reference_chrome_trace(tod_only));
  Report no_clock = random_report(8, 1);
  no_clock.updates.clear();
  EXPECT_EQ(streamed(no_clock), trace_reference::reference_chrome_trace(no_clock));
  Report diagnoses_only;
  diagnoses_only.inputs = {input("o.log", Role::orchestrator)};
  Diagnosis d;
  d.id = "x";
  diagnoses_only.diagnoses = {d, d};
  diagnoses_only.diagnoses[1].evidence.push_back(Evidence{0, 3, "n"});
  EXPECT_EQ(streamed(diagnoses_only), trace_reference::reference_chrome_trace(diagnoses_only));
}

// Every event of the random runs is a valid Chrome trace event, in time order.
TEST(TraceStream, ValidJsonInTimeOrder) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::string s = streamed(random_report(seed, 2));
    ASSERT_TRUE(nlohmann::json::accept(s)) << seed;
    auto t = nlohmann::json::parse(s);
    int64_t last = INT64_MIN;
    for (const auto& e : t["traceEvents"]) {
      if (e["ph"] == "M") continue;
      int64_t ts = e["ts"].get<int64_t>();
      EXPECT_GE(ts, last) << seed;
      last = ts;
    }
  }
}

// A long run in time order: the events are 16 per update, but the writer holds only those of the
// records it has read ahead, the same handful for 2,000 updates as for 20,000.
TEST(TraceStream, HoldsAFewEventsWhateverTheLengthOfTheRun) {
  auto run = [](size_t n) {
    Report r;
    r.tool_version = "test";
    r.inputs = {input("o.log", Role::orchestrator), input("i.log", Role::inference)};
    r.clocks.push_back(ClockEstimate{1, 500, 500, 500, n, "bounds"});
    std::deque<PointEvent> trunc;
    for (size_t i = 0; i < n; ++i) {
      UpdateReport u;
      u.trace = TraceId{0xa00000 + i, 6};
      u.send_t = 1000.0 + 2.0 * static_cast<double>(i);
      u.send_tod = 36000 + static_cast<int32_t>(2 * i);
      u.send_at = {0, 10 * i + 1};
      u.done_at = Location{0, 10 * i + 2};
      u.wall_ms = 7000;  // each overlaps the next three
      u.rpc_ms = 1000;
      u.queue_ms = 6000;
      u.complete = i % 50 != 0;  // and one in fifty never ends
      if (!u.complete) u.wall_ms.reset();
      ServerSide s;
      s.file = 1;
      s.recv_t = u.send_t + 500 + 6;
      s.rpc_start_t = *s.recv_t + 0.1;
      s.rpc_done_t = *s.rpc_start_t + 0.9;
      s.rpc_ms = 900;
      u.server = s;
      u.phases.client_to_server_ms = 6000;
      u.phases.engine_ms = 900;
      r.updates.push_back(u);
      BatchReport b;
      b.start_line = 10 * i + 3;
      b.done_line = 10 * i + 4;
      b.start_tod = u.send_tod;
      b.done_tod = u.send_tod + 5;
      b.dur_ms = 5000;
      r.batches.push_back(b);
      trunc.push_back(PointEvent{0, 10 * i + 5, u.send_tod + 1, 2.5, static_cast<int64_t>(i)});
    }
    r.point_events = {{"rollout.trunc_pct", trunc}};
    std::ostringstream os;
    return write_chrome_trace(r, os);
  };
  TraceWriteStats small = run(2000), large = run(20000);
  EXPECT_GT(small.events, 2000u * 16);
  EXPECT_GT(large.events, 20000u * 16);
  std::printf("trace: %llu events, at most %zu held (%zu bytes); %llu events, at most %zu held (%zu bytes)\n",
              static_cast<unsigned long long>(small.events), small.peak_held, small.peak_held_bytes,
              static_cast<unsigned long long>(large.events), large.peak_held, large.peak_held_bytes);
  // A block of 64 records of each kind, and the spans running across it.
  EXPECT_LT(large.peak_held, 2000u);
  EXPECT_LE(large.peak_held, small.peak_held + 16);
  EXPECT_LT(large.peak_held_bytes, 512u * 1024);
}

// An output that counts what it is given and measures the heap in use each time its buffer fills:
// the heap while the trace is written, with no copy of the trace kept.
class HeapWatch : public std::streambuf {
 public:
  HeapWatch() : base_(in_use()) { setp(buf_, buf_ + sizeof buf_); }
  size_t bytes() const { return bytes_; }
  size_t peak_growth() const { return peak_ > base_ ? peak_ - base_ : 0; }
  static size_t in_use() { return mallinfo2().uordblks; }

 protected:
  int_type overflow(int_type c) override {
    bytes_ += static_cast<size_t>(pptr() - pbase());
    peak_ = std::max(peak_, in_use());
    setp(buf_, buf_ + sizeof buf_);
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    bytes_ += static_cast<size_t>(pptr() - pbase());
    setp(buf_, buf_ + sizeof buf_);
    return 0;
  }

 private:
  size_t base_, peak_ = 0, bytes_ = 0;
  char buf_[4096];
};

// The heap does not grow with the trace: a run of 640,000 events, a 66 MB trace, is written with a
// few hundred KB of heap on top of the Report (the sorting writer held all the events, ~285 bytes
// each on the 1 GiB bench log: ~180 MB here).
TEST(TraceStream, HeapStaysFlatWhileTheTraceIsWritten) {
  Report r = random_report(3, 1);
  // 40,000 updates on the random run's files, in time order.
  r.updates.clear();
  for (size_t i = 0; i < 40000; ++i) {
    UpdateReport u;
    u.trace = TraceId{0xb00000 + i, 6};
    u.send_t = 1000.0 + static_cast<double>(i);
    u.send_tod = static_cast<int32_t>((36000 + i) % 86400);
    u.send_at = {0, 1 + i};
    u.wall_ms = 2500;
    u.rpc_ms = 500;
    u.queue_ms = 2000;
    u.complete = true;
    ServerSide s;
    s.file = 2;
    s.recv_t = u.send_t + 500 + 2;
    s.rpc_start_t = *s.recv_t;
    s.rpc_done_t = *s.rpc_start_t + 0.5;
    u.server = s;
    r.updates.push_back(u);
  }
  if (HeapWatch::in_use() == 0) GTEST_SKIP() << "mallinfo2 does not see this allocator (sanitizers)";
  HeapWatch watch;
  std::ostream os(&watch);
  TraceWriteStats st = write_chrome_trace(r, os);
  os.flush();
  EXPECT_GT(st.events, 40000u * 16);
  EXPECT_GT(watch.bytes(), 50u << 20);
  std::printf("trace: %zu bytes, %llu events written with at most %zu bytes more heap\n",
              watch.bytes(), static_cast<unsigned long long>(st.events), watch.peak_growth());
  EXPECT_LT(watch.peak_growth(), 4u << 20);
}

// An output that fails after its first 16 KiB: the writer stops there instead of making every
// event for nothing (a full disk).
class FailsAfter : public std::streambuf {
 public:
  explicit FailsAfter(size_t limit) : left_(limit) {}
  size_t accepted = 0, refused = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    auto k = static_cast<size_t>(n);
    if (k > left_) {
      ++refused;
      left_ = 0;
      return 0;
    }
    left_ -= k;
    accepted += k;
    return n;
  }
  int_type overflow(int_type c) override {
    if (left_ == 0) {
      ++refused;
      return traits_type::eof();
    }
    --left_;
    ++accepted;
    return traits_type::not_eof(c);
  }

 private:
  size_t left_;
};

TEST(TraceStream, StopsAtTheFirstFailedWrite) {
  Report r = random_report(10, 12);
  TraceWriteStats whole;
  ASSERT_GT(streamed(r, &whole).size(), 10u * (16 << 10));
  FailsAfter sink(16 << 10);
  std::ostream os(&sink);
  TraceWriteStats st = write_chrome_trace(r, os);
  EXPECT_TRUE(os.fail());
  EXPECT_LE(sink.accepted, 16u << 10);
  EXPECT_GT(sink.accepted, 8u << 10);
  EXPECT_LE(sink.refused, 3u) << "a write or two after the failure, not one per event";
  EXPECT_LT(st.events, whole.events / 5);
}

}  // namespace
}  // namespace alog
