// Tests of src/primerl/{trace,mermaid,html}.cpp: the Chrome trace's structure (every `b` has its
// `e`, ids and names match, times ordered, nesting holds, size per update), the Mermaid blocks'
// syntax as a parser of our own reads it, and the HTML page's self-containment and escaping. On
// Reports built by hand, and on testdata/runs/* when present.

#include <fmt/format.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/primerl/writers.hpp"

namespace alog {
namespace {

using J = nlohmann::ordered_json;

TraceId tid(uint64_t v) {
  return TraceId{v, 6};
}

InputReport input(std::string path, Role role) {
  InputReport in;
  in.path = std::move(path);
  in.role = role;
  in.counts.events = 100;
  return in;
}

// A run with `n` weight updates: client at t = 1000 + 10 i, time of day 10:00:00 + 10 i, a server
// whose clock is 500 s ahead, update 5 with a 30 s queue delay, one generation batch per update,
// checkpoint waits and writes, rollouts and one diagnosis.
Report make_report(size_t n, bool with_server = true) {
  Report r;
  r.tool_version = "test";
  r.inputs = {input("logs/orchestrator.log", Role::orchestrator),
              input("logs/inference.log", Role::inference),
              input("logs/trainer.log", Role::trainer)};
  const double off = 500;
  for (size_t i = 0; i < n; ++i) {
    UpdateReport u;
    u.trace = tid(0xa00000 + i);
    u.step = static_cast<int64_t>(i);
    u.send_t = 1000.0 + 10.0 * static_cast<double>(i);
    u.send_tod = 36000 + static_cast<int32_t>(10 * i);
    u.send_at = {0, 10 + 5 * i};
    double queue = i == 5 ? 30333.4 : 0.2 + static_cast<double>(i % 3);
    double rpc = 1255.4;
    u.rpc_ms = rpc;
    u.queue_ms = queue;
    u.wall_ms = queue + rpc;
    u.complete = true;
    u.done_at = Location{0, 12 + 5 * i};
    if (with_server) {
      ServerSide s;
      s.file = 1;
      s.recv_t = u.send_t + off + queue / 1000.0;
      s.rpc_start_t = *s.recv_t + 0.0001;
      s.rpc_done_t = *s.rpc_start_t + rpc / 1000.0;
      s.rpc_ms = rpc;
      s.kind = RpcKind::update_weights;
      s.recv_at = Location{1, 3 * i + 1};
      s.start_at = Location{1, 3 * i + 2};
      s.done_at = Location{1, 3 * i + 3};
      u.server = s;
      u.phases.client_to_server_ms = queue;
      u.phases.server_pre_rpc_ms = 0.1;
      u.phases.engine_ms = rpc;
      u.phases.server_to_client_ms = 0.0;
    }
    r.updates.push_back(u);

    BatchReport b;
    b.file = 0;
    b.start_line = 11 + 5 * i;
    b.done_line = 14 + 5 * i;
    b.start_tod = u.send_tod;
    b.done_tod = u.send_tod + 3;
    b.dur_ms = i == 5 ? 31000.0 : 2345.6;
    b.inflight_start = 96;
    b.update_count = 1;
    b.longest_queued = static_cast<uint32_t>(i);
    r.batches.push_back(b);
    r.updates.back().first_batch = static_cast<uint32_t>(i);
    r.updates.back().batch_count = 1;
  }
  if (with_server) {
    ClockEstimate c;
    c.file = 1;
    c.offset_s = off;
    c.lower_s = off - 0.001;
    c.upper_s = off + 0.001;
    c.updates_used = n;
    c.method = "bounds";
    r.clocks.push_back(c);
  }
  std::deque<PointEvent> waits, writes, trunc;
  for (size_t i = 0; i < n; i += 2) {
    int32_t tod = 36000 + static_cast<int32_t>(10 * i) + 5;
    waits.push_back(
        PointEvent{0, 13 + 5 * i, tod, i == 4 ? 5432.1 : 12.3, static_cast<int64_t>(i)});
    writes.push_back(PointEvent{2, 1 + i, tod - 1, 823.4, static_cast<int64_t>(i)});
    trunc.push_back(PointEvent{0, 14 + 5 * i, tod, 2.3, static_cast<int64_t>(i)});
  }
  r.point_events = {
      {"ckpt.wait_ms", waits}, {"ckpt.write_ms", writes}, {"rollout.trunc_pct", trunc}};
  Diagnosis d;
  d.id = "queue_saturation";
  d.severity = Severity::warning;
  d.summary = "one update waited 30 s in the front-end queue";
  d.fix = "Use a dedicated admin client";
  if (n > 5) d.evidence.push_back(Evidence{0, 12 + 5 * 5, "queue_ms=30333.4"});
  d.evidence.push_back(Evidence{0, 999999, "a line no event is placed at"});
  r.diagnoses.push_back(d);
  auto metric = [&](const char* name, const char* unit, double mean, Status st) {
    MetricReport m;
    m.name = name;
    m.unit = unit;
    m.stats.count = n;
    m.stats.mean = mean;
    m.stats.max = mean * 3;
    m.status = st;
    r.metrics.push_back(m);
  };
  metric("weights.queue_ms", "ms", 1012.3, Status::critical);
  metric("weights.rpc_ms", "ms", 1255.4, Status::good);
  metric("gen.dur_ms", "ms", 3300.0, Status::good);
  return r;
}

// ---- Chrome trace validation ---------------------------------------------------------------

struct TraceCheck {
  std::vector<std::string> errors;
  size_t begins = 0, instants = 0, counters = 0;
  std::map<int, std::string> process_names;
  std::set<std::string> span_names;
};

TraceCheck check_trace(const J& t) {
  TraceCheck c;
  auto fail = [&](std::string m) {
    if (c.errors.size() < 20) c.errors.push_back(std::move(m));
  };
  if (!t.is_object() || !t.contains("traceEvents") || !t["traceEvents"].is_array()) {
    fail("no traceEvents array");
    return c;
  }
  std::map<std::string, std::vector<std::pair<std::string, double>>> open;  // cat/id -> stack
  double last_ts = -INFINITY;
  std::set<int> pids_used;
  size_t k = 0;
  for (const auto& e : t["traceEvents"]) {
    auto where_of = [&] { return "event " + std::to_string(k) + " " + e.dump(); };
    ++k;
    if (!e.contains("ph") || !e["ph"].is_string() || e["ph"].get<std::string>().size() != 1) {
      fail("bad ph: " + where_of());
      continue;
    }
    char ph = e["ph"].get<std::string>()[0];
    if (!e.contains("pid") || !e["pid"].is_number_integer() || !e.contains("name") ||
        !e["name"].is_string()) {
      fail("pid/name: " + where_of());
      continue;
    }
    int pid = e["pid"].get<int>();
    if (ph == 'M') {
      if (e["name"] == "process_name") c.process_names[pid] = e["args"]["name"].get<std::string>();
      continue;
    }
    pids_used.insert(pid);
    if (!e.contains("ts") || !e["ts"].is_number()) {
      fail("ts: " + where_of());
      continue;
    }
    double ts = e["ts"].get<double>();
    if (ts < last_ts) fail("time goes back: " + where_of());
    last_ts = ts;
    if (ph == 'b' || ph == 'e') {
      if (!e.contains("cat") || !e["cat"].is_string() || !e.contains("id") ||
          !e["id"].is_string()) {
        fail("async without cat/id: " + where_of());
        continue;
      }
      std::string key = e["cat"].get<std::string>() + "/" + e["id"].get<std::string>();
      std::string name = e["name"].get<std::string>();
      auto& stack = open[key];
      if (ph == 'b') {
        ++c.begins;
        c.span_names.insert(name);
        stack.emplace_back(name, ts);
      } else if (stack.empty()) {
        fail("e without b: " + where_of());
      } else {
        if (stack.back().first != name)
          fail("e closes '" + stack.back().first + "': " + where_of());
        if (ts < stack.back().second) fail("e before its b: " + where_of());
        stack.pop_back();
      }
    } else if (ph == 'i') {
      ++c.instants;
      if (!e.contains("s")) fail("instant without scope: " + where_of());
    } else if (ph == 'C') {
      ++c.counters;
      if (!e.contains("args") || !e["args"].is_object())
        fail("counter without args: " + where_of());
    } else {
      fail("unexpected phase: " + where_of());
    }
  }
  for (const auto& [key, stack] : open)
    if (!stack.empty()) fail("b without e: " + key + " " + stack.back().first);
  for (int p : pids_used)
    if (!c.process_names.count(p)) fail("pid without process_name: " + std::to_string(p));
  return c;
}

std::vector<J> events_named(const J& t, const std::string& ph, const std::string& name) {
  std::vector<J> out;
  for (const auto& e : t["traceEvents"])
    if (e["ph"] == ph && e["name"] == name) out.push_back(e);
  return out;
}

TEST(ChromeTrace, StructureOfACorrelatedRun) {
  Report r = make_report(30);
  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  // One process per log, named by role.
  ASSERT_EQ(c.process_names.size(), 3u);
  EXPECT_EQ(c.process_names[1], "orchestrator: logs/orchestrator.log");
  EXPECT_EQ(c.process_names[2], "inference: logs/inference.log");
  EXPECT_EQ(c.process_names[3], "trainer: logs/trainer.log");
  for (const char* n :
       {"weight update", "client→server", "server pre-rpc", "engine", "server→client",
        "update_weights", "pre-rpc", "gen batch", "ckpt wait", "ckpt write"})
    EXPECT_TRUE(c.span_names.count(n)) << n;
  EXPECT_EQ(events_named(t, "b", "weight update").size(), 30u);
  EXPECT_EQ(events_named(t, "b", "update_weights").size(), 30u);
  EXPECT_EQ(events_named(t, "b", "gen batch").size(), 30u);
  EXPECT_EQ(c.counters, 15u);  // trunc_pct every second update

  // Updates start at send_t, in microseconds on the client clock, keyed by their trace id.
  auto ups = events_named(t, "b", "weight update");
  EXPECT_EQ(ups[0]["ts"].get<int64_t>(), 1000000000);
  EXPECT_EQ(ups[0]["id"], "a00000");
  EXPECT_EQ(ups[0]["args"]["trace_id"], "a00000");
  EXPECT_EQ(ups[0]["pid"], 1);
  // The server's engine span is mapped back by the 500 s offset.
  for (const auto& e : events_named(t, "b", "engine"))
    if (e["cat"] == "server" && e["id"] == "a00005") {
      EXPECT_EQ(e["pid"], 2);
      EXPECT_NEAR(e["ts"].get<double>(), (*r.updates[5].server->rpc_start_t - 500) * 1e6, 1.0);
    }
  // Batches: done at 10:00:53 on the time-of-day clock, which maps onto the client clock with
  // send_t - send_tod = 1000 - 36000 s; the start is the end minus dur_ms.
  auto batches = events_named(t, "b", "gen batch");
  auto batch5 =
      std::find_if(batches.begin(), batches.end(), [](const J& e) { return e["id"] == "batch5"; });
  ASSERT_NE(batch5, batches.end());
  EXPECT_EQ((*batch5)["ts"].get<int64_t>(), static_cast<int64_t>((36053.0 - 35000.0 - 31.0) * 1e6));
  // Diagnoses: an instant at the located evidence line (update 5's client.done), another one at
  // the start of the trace for the line no event was placed at.
  auto diag = events_named(t, "i", "queue_saturation");
  ASSERT_EQ(diag.size(), 2u);
  EXPECT_EQ(diag[0]["args"]["located"], false);
  for (const auto& e : t["traceEvents"])
    if (e["ph"] != "M") {
      EXPECT_EQ(diag[0]["ts"], e["ts"]);  // at the start of the trace
      break;
    }
  EXPECT_EQ(diag[1]["args"]["severity"], "warning");
  EXPECT_NEAR(diag[1]["ts"].get<double>(), (1050.0 + (30333.4 + 1255.4) / 1000) * 1e6, 1.0);
  EXPECT_EQ(t["displayTimeUnit"], "ms");
}

TEST(ChromeTrace, PhasesAreClampedIntoTheirUpdate) {
  // A median offset (bounds in conflict) can put server times outside the client's span.
  Report r = make_report(10);
  r.clocks[0].offset_s = 499.0;  // server events now look 1 s later than they were
  r.clocks[0].method = "median (bounds conflict)";
  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  // The measured durations survive in the args.
  bool found = false;
  for (const auto& e : events_named(t, "b", "engine"))
    if (e["cat"] == "weights") found |= e["args"]["ms"].get<double>() == 1255.4;
  EXPECT_TRUE(found);
}

TEST(ChromeTrace, IncompleteReusedAndServerOnlyUpdates) {
  Report r = make_report(8);
  // Update 2 never completed: hung in the engine.
  auto& u = r.updates[2];
  u.complete = false;
  u.wall_ms.reset();
  u.rpc_ms.reset();
  u.queue_ms.reset();
  u.done_at.reset();
  u.server->rpc_done_t.reset();
  u.last_phase = "engine";
  // Update 6 reuses update 3's id.
  r.updates[6].trace = r.updates[3].trace;
  ServerOnlyUpdate so;
  so.trace = tid(0xbeef);
  so.server.file = 1;
  so.server.recv_t = 1500.0 + 20;
  so.server.rpc_start_t = 1500.0 + 20.5;
  so.server.rpc_done_t = 1500.0 + 21;
  r.server_only.push_back(so);
  // A batch without batch.done.
  r.batches[7].done_line = 0;
  r.batches[7].done_tod = -1;
  r.batches[7].dur_ms.reset();

  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  auto ups = events_named(t, "b", "weight update");
  ASSERT_EQ(ups.size(), 8u);
  EXPECT_EQ(ups[2]["args"]["incomplete"], "engine call started, never finished (hung engine)");
  EXPECT_EQ(ups[6]["id"], ups[3]["id"].get<std::string>() + "#2");
  // The open spans end with the trace.
  int64_t last = 0;
  for (const auto& e : t["traceEvents"])
    if (e["ph"] != "M") last = std::max(last, e["ts"].get<int64_t>());
  for (const auto& e : events_named(t, "e", "weight update"))
    if (e["id"] == ups[2]["id"]) {
      EXPECT_EQ(e["ts"].get<int64_t>(), last);
    }
  bool server_only = false;
  for (const auto& e : events_named(t, "b", "update_weights"))
    server_only |= e["args"].value("server_only", false) && e["id"] == "00beef";
  EXPECT_TRUE(server_only);
}

TEST(ChromeTrace, WithoutServerLogsTheClientSplitIsShown) {
  Report r = make_report(6, false);
  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  EXPECT_TRUE(c.span_names.count("queue"));
  EXPECT_TRUE(c.span_names.count("rpc"));
  EXPECT_FALSE(c.span_names.count("update_weights"));
  EXPECT_EQ(c.process_names.size(), 2u);  // orchestrator and trainer
}

TEST(ChromeTrace, MidnightDoesNotSendEventsBackADay) {
  Report r = make_report(12);
  // Sends at 23:59:00 + 10 s * i: the run crosses midnight at update 6.
  for (size_t i = 0; i < r.updates.size(); ++i) {
    r.updates[i].send_tod = (86340 + static_cast<int32_t>(10 * i)) % 86400;
    r.batches[i].start_tod = r.updates[i].send_tod;
    r.batches[i].done_tod = (r.updates[i].send_tod + 3) % 86400;
  }
  r.point_events.clear();
  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  auto batches = events_named(t, "e", "gen batch");
  ASSERT_EQ(batches.size(), 12u);
  std::map<std::string, double> end;
  for (const auto& e : batches) end[e["id"]] = e["ts"].get<double>();
  for (size_t i = 0; i < 12; ++i)  // each batch ends 3 s after its update's send
    EXPECT_NEAR(end["batch" + std::to_string(i)], (r.updates[i].send_t + 3) * 1e6, 1.0) << i;
}

TEST(ChromeTrace, TimeOfDayIsTheClockWhenThereAreNoUpdates) {
  Report r = make_report(4);
  r.updates.clear();
  r.clocks.clear();
  r.diagnoses.clear();
  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  auto batches = events_named(t, "e", "gen batch");
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[0]["ts"].get<int64_t>(), 36003000000);
}

TEST(ChromeTrace, NothingToPlaceIsStillAValidTrace) {
  Report r;
  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty());
  EXPECT_TRUE(t["traceEvents"].empty());
}

TEST(ChromeTrace, HostileTextStaysValidJson) {
  Report r = make_report(6);
  r.inputs[0].path = "logs/\xff\xfe<orch>\".log";
  r.diagnoses[0].summary = "bad \xc3 utf8";
  J t = to_chrome_trace(r);
  std::string s;
  ASSERT_NO_THROW(s = t.dump());
  EXPECT_TRUE(J::accept(s));
}

// (The streamed trace against the former sorting writer, byte for byte: TraceStream.* in
// test_trace_stream.cpp. to_chrome_trace is the stream parsed back, so comparing the two here
// could not fail.)

TEST(ChromeTrace, ALargeRunStaysALoadableSize) {
  // 10000 fully correlated updates (a long run has one per training step), each with a batch.
  const size_t n = 10000;
  Report r = make_report(n);
  std::ostringstream os;
  write_chrome_trace(r, os);
  std::string s = os.str();
  auto c = check_trace(J::parse(s));
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  double per_update = static_cast<double>(s.size()) / static_cast<double>(n);
  RecordProperty("bytes_per_update", static_cast<int>(per_update));
  std::printf(
      "trace: %zu bytes for %zu updates (%.0f bytes per update with its batch, ckpt and rollout "
      "events)\n",
      s.size(), n, per_update);
  // 16 events per correlated update plus its batch and, every second update, a ckpt wait, a ckpt
  // write and a rollout counter: under 2.5 KB per update, so 100k updates stay under 250 MB,
  // which Perfetto UI loads.
  EXPECT_LT(per_update, 2500);
}

// ---- Mermaid ----------------------------------------------------------------------------------

struct MermaidChart {
  std::string title, x_label, y_label;
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  std::vector<std::vector<double>> lines;
};

// A plain decimal as Mermaid's grammar takes it: optional minus, digits, optional fraction.
bool is_number(std::string_view t) {
  if (!t.empty() && t[0] == '-') t.remove_prefix(1);
  size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot),
                   frac = dot == std::string_view::npos ? "" : t.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (dot != std::string_view::npos && frac.empty()) return false;
  return !(whole.empty() && frac.empty()) && digits(whole) && digits(frac);
}

// `"quoted text"` at the start of s (no quote inside): the text, and s moved past it.
std::optional<std::string> quoted(std::string_view& s) {
  if (s.size() < 2 || s[0] != '"') return std::nullopt;
  size_t end = s.find('"', 1);
  if (end == std::string_view::npos || end == 1) return std::nullopt;
  std::string text(s.substr(1, end - 1));
  s.remove_prefix(end + 1);
  return text;
}

// A strict reader of the subset of xychart-beta we emit; fails the test on anything else.
// (Hand-written rather than std::regex, which GCC 12 warns about under the sanitizer build.)
std::vector<MermaidChart> parse_mermaid(const std::string& md) {
  std::vector<MermaidChart> out;
  std::istringstream in(md);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside) {
      if (line == "```mermaid") {
        inside = true;
        out.emplace_back();
        // Header: an init directive with valid JSON, then the diagram type.
        std::getline(in, line);
        std::string_view l = line;
        bool init = l.starts_with("%%{init: ") && l.ends_with("}%%");
        EXPECT_TRUE(init) << line;
        if (init) {
          std::string json(l.substr(9, l.size() - 12));
          EXPECT_TRUE(J::accept(json)) << json;
        }
        std::getline(in, line);
        EXPECT_EQ(line, "xychart-beta");
      } else {
        EXPECT_EQ(line.find("```"), std::string::npos) << "stray fence: " << line;
      }
      continue;
    }
    if (line == "```") {
      inside = false;
      continue;
    }
    auto& c = out.back();
    std::string_view l = line;
    if (l.starts_with("    title ")) {
      l.remove_prefix(10);
      auto t = quoted(l);
      EXPECT_TRUE(t && l.empty()) << line;
      if (t) c.title = *t;
    } else if (l.starts_with("    x-axis ") || l.starts_with("    y-axis ")) {
      bool x = l[4] == 'x';
      l.remove_prefix(11);
      auto label = quoted(l);
      // ` A --> B`
      size_t arrow = l.find(" --> ");
      bool ok = label && l.starts_with(" ") && arrow != std::string_view::npos;
      EXPECT_TRUE(ok) << line;
      if (!ok) continue;
      std::string_view a = l.substr(1, arrow - 1), b = l.substr(arrow + 5);
      EXPECT_TRUE(is_number(a) && is_number(b)) << line;
      double lo = std::stod(std::string(a)), hi = std::stod(std::string(b));
      EXPECT_LT(lo, hi) << line;
      (x ? c.x_label : c.y_label) = *label;
      (x ? c.x_min : c.y_min) = lo;
      (x ? c.x_max : c.y_max) = hi;
    } else if ((l.starts_with("    line [") || l.starts_with("    bar [")) && l.ends_with("]")) {
      // The step budget's stacked chart is bars (docs/STEPS.md); they are checked like lines.
      l.remove_prefix(l.starts_with("    bar [") ? 9 : 10);
      l.remove_suffix(1);
      std::vector<double> v;
      while (!l.empty()) {
        size_t comma = l.find(", ");
        std::string_view item = l.substr(0, comma);
        EXPECT_TRUE(is_number(item)) << "not a number: '" << item << "' in " << line;
        v.push_back(std::stod(std::string(item)));
        l = comma == std::string_view::npos ? std::string_view() : l.substr(comma + 2);
      }
      c.lines.push_back(v);
    } else {
      ADD_FAILURE() << "unexpected line in a mermaid block: " << line;
    }
  }
  EXPECT_FALSE(inside) << "unterminated block";
  return out;
}

TEST(Mermaid, OurReaderRejectsWhatMermaidWouldNot) {
  EXPECT_TRUE(is_number("12"));
  EXPECT_TRUE(is_number("-0.5"));
  EXPECT_TRUE(is_number(".5"));
  EXPECT_FALSE(is_number("1e5"));
  EXPECT_FALSE(is_number("nan"));
  EXPECT_FALSE(is_number("1."));
  EXPECT_FALSE(is_number(""));
  EXPECT_NONFATAL_FAILURE(
      parse_mermaid("```mermaid\n%%{init: {}}%%\nxychart-beta\n    line [1, 2e3]\n```\n"),
      "not a number");
  EXPECT_NONFATAL_FAILURE(
      parse_mermaid("```mermaid\n%%{init: {}}%%\nxychart-beta\n    area [1]\n```\n"),
      "unexpected line");
  EXPECT_NONFATAL_FAILURE(
      parse_mermaid("```mermaid\n%%{init: {}}%%\nxychart-beta\n    title \"a\"\n"), "unterminated");
}

TEST(Mermaid, ChartsWithThresholds) {
  Report r = make_report(30);
  std::string md = mermaid_charts(r);
  ASSERT_TRUE(md.starts_with("## Charts\n\n"));
  auto charts = parse_mermaid(md);
  ASSERT_EQ(charts.size(), 3u);
  EXPECT_EQ(charts[0].title, "queue_ms per weight update");
  EXPECT_EQ(charts[1].title, "rpc_ms per weight update (update_weights)");
  EXPECT_EQ(charts[2].title, "generation batch duration");
  const std::pair<double, double> limits[] = {{100, 1000}, {2000, 5000}, {5000, 10000}};
  for (size_t k = 0; k < charts.size(); ++k) {
    const auto& c = charts[k];
    EXPECT_EQ(c.x_min, 1);
    EXPECT_EQ(c.x_max, 30);
    ASSERT_EQ(c.lines.size(), 3u) << c.title;  // data, warning, critical
    for (const auto& l : c.lines) EXPECT_EQ(l.size(), 30u);
    for (double v : c.lines[1]) EXPECT_EQ(v, limits[k].first);
    for (double v : c.lines[2]) EXPECT_EQ(v, limits[k].second);
    for (const auto& l : c.lines)
      for (double v : l) {
        EXPECT_GE(v, c.y_min);
        EXPECT_LE(v, c.y_max);
      }
  }
  EXPECT_NEAR(*std::max_element(charts[0].lines[0].begin(), charts[0].lines[0].end()), 30333, 1);
  // The caption names the lines, since xychart-beta has no legend.
  EXPECT_NE(md.find("warning threshold 100 ms (amber)"), std::string::npos);
}

TEST(Mermaid, LongRunsAreDownsampledKeepingSpikes) {
  Report r = make_report(10000, false);
  std::string md = mermaid_charts(r);
  auto charts = parse_mermaid(md);
  ASSERT_EQ(charts.size(), 3u);
  for (const auto& c : charts) {
    EXPECT_EQ(c.x_max, 10000);
    for (const auto& l : c.lines) {
      EXPECT_LE(l.size(), 120u);
      EXPECT_EQ(l.size(), c.lines[0].size());
    }
  }
  EXPECT_NEAR(*std::max_element(charts[0].lines[0].begin(), charts[0].lines[0].end()), 30333, 1);
  EXPECT_NE(md.find("each point is the largest of 84 consecutive ones"), std::string::npos);
  EXPECT_LT(md.size(), 12000u);
}

TEST(Mermaid, ReloadsGetTheirOwnChartAndThresholds) {
  Report r = make_report(6, false);
  for (size_t i = 0; i < 3; ++i) {
    UpdateReport u = r.updates[i];
    u.reload = true;
    u.rpc_ms = 300.0 + static_cast<double>(i);
    r.updates.push_back(u);
  }
  auto charts = parse_mermaid(mermaid_charts(r));
  ASSERT_EQ(charts.size(), 4u);
  EXPECT_EQ(charts[2].title, "rpc_ms per weight reload (reload_weights)");
  EXPECT_EQ(charts[2].lines[1][0], 500);
  EXPECT_EQ(charts[2].lines[2][0], 2000);
}

TEST(Mermaid, NothingToChart) {
  Report r;
  EXPECT_EQ(mermaid_charts(r), "");
  Report one = make_report(1);  // a single sample is no chart
  EXPECT_EQ(mermaid_charts(one), "");
}

TEST(Mermaid, ThresholdOverridesAreDrawn) {
  Report r = make_report(10);
  r.thresholds.apply_json(R"({"weights.queue_ms": {"warning": 250, "critical": 2500}})", "test");
  auto charts = parse_mermaid(mermaid_charts(r));
  EXPECT_EQ(charts[0].lines[1][0], 250);
  EXPECT_EQ(charts[0].lines[2][0], 2500);
}

TEST(Downsample, LargestOfEachBucket) {
  std::vector<double> v = {1, 5, 2, 2, 9, 0, 3};
  size_t bucket = 0;
  EXPECT_EQ(downsample_max(v, 3, bucket), (std::vector<double>{5, 9, 3}));
  EXPECT_EQ(bucket, 3u);
  EXPECT_EQ(downsample_max(v, 100, bucket), v);
  EXPECT_EQ(bucket, 1u);
  EXPECT_EQ(downsample_max(v, 0, bucket), (std::vector<double>{9}));
  EXPECT_TRUE(downsample_max(std::vector<double>{}, 10, bucket).empty());
}

// ---- HTML ---------------------------------------------------------------------------------------

void expect_self_contained(const std::string& html) {
  for (const char* bad :
       {"http://", "https://", "<script", "<link", "<iframe", "<img", "@import", "url(", "src="})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
}

TEST(Html, SelfContainedPageWithCharts) {
  Report r = make_report(30);
  std::string html = to_html(r);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  expect_self_contained(html);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(html.find("<b>Verdict:</b> WARNING: queue_saturation"), std::string::npos);
  // One chart per series of chart_series(extended): queue, rpc, batches, ckpt wait/write, trunc.
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 6u);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("<title>critical threshold 1000 ms</title>"), std::string::npos);
  EXPECT_NE(html.find("<td>weights.queue_ms (ms)</td>"), std::string::npos);
  EXPECT_NE(html.find("s-critical"), std::string::npos);
}

// The header counts generation batches as the diagnoses do (those that finished), and says how
// many never did, so "N of M generation batches" in a diagnosis matches it.
TEST(Html, HeaderCountsFinishedBatchesLikeTheDiagnoses) {
  Report r = make_report(30);
  EXPECT_NE(to_html(r).find("30 weight updates · 30 generation batches</div>"), std::string::npos);
  BatchReport started;  // a batch.start whose batch.done never came
  started.start_line = 999;
  r.batches.push_back(started);
  std::string html = to_html(r);
  EXPECT_NE(html.find("30 weight updates · 30 generation batches (+1 unfinished)</div>"), std::string::npos);
  EXPECT_EQ(html.find("31 generation batches"), std::string::npos);
}

TEST(Html, LogTextIsEscaped) {
  Report r = make_report(10);
  r.inputs[0].path = "logs/<script>alert(1)</script>.log";
  r.diagnoses[0].summary = "<img src=x onerror=alert(1)> & \"quoted\"";
  r.diagnoses[0].evidence[0].note = "client.send url=http://192.168.1.100:8000 <b>";
  r.inputs[1].error = "\x1b[31mred\x1b[0m";
  r.inputs[1].unreadable = true;
  std::string html = to_html(r);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>\n"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // A URL quoted from a log is text, never something the page fetches.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
}

TEST(Html, BoundedForLongRuns) {
  Report r = make_report(50000, false);
  std::string html = to_html(r);
  expect_self_contained(html);
  // Each polyline has at most 500 points.
  for (size_t p = html.find("points=\""); p != std::string::npos;
       p = html.find("points=\"", p + 1)) {
    size_t end = html.find('"', p + 8);
    size_t pts =
        static_cast<size_t>(std::count(html.begin() + static_cast<std::ptrdiff_t>(p) + 8,
                                       html.begin() + static_cast<std::ptrdiff_t>(end), ','));
    EXPECT_LE(pts, 500u);
  }
  EXPECT_LT(html.size(), 400u * 1024);
}

// A hung engine leaves one incomplete update per update sent after the hang: SUMMARY.md and
// report.html list the first kIncompleteListed (updates, then server-only ones) and count the
// rest, so their size does not follow the number of updates; report.json has them all.
TEST(Html, IncompleteUpdatesAreListedUpToACapInSummaryAndPage) {
  auto hung = [](size_t n, size_t server_only) {
    Report r = make_report(n, false);
    for (size_t i = 3; i < n; ++i) {
      r.updates[i].complete = false;
      r.updates[i].last_phase = "engine";
    }
    for (size_t i = 0; i < server_only; ++i) {
      ServerOnlyUpdate so;
      so.trace = tid(0xf00000 + i);
      so.server.file = 1;
      r.server_only.push_back(so);
    }
    return r;
  };
  auto items = [](const std::string& s, const std::string& start, const std::string& end,
                  const std::string& item) {
    size_t a = s.find(start), b = s.find(end, a);
    size_t n = 0;
    for (size_t p = s.find(item, a); p != std::string::npos && p < b; p = s.find(item, p + 1)) ++n;
    return n;
  };
  // Under the cap: all listed, no "more" line.
  Report few = hung(20, 2);
  std::string md = to_markdown(few), html = to_html(few);
  EXPECT_EQ(items(md, "## Incomplete updates", "\n\n## ", "\n- `"), 19u);
  EXPECT_EQ(items(html, "<h2>Incomplete updates", "</ul>", "<li><code>"), 19u);
  EXPECT_EQ(md.find("more (see report.json)"), std::string::npos);
  // Over it: 50 listed, then how many more; the same in both.
  Report many = hung(3000, 40);
  md = to_markdown(many);
  html = to_html(many);
  EXPECT_EQ(items(md, "## Incomplete updates", "\n\n## ", "\n- `"), kIncompleteListed);
  EXPECT_EQ(items(html, "<h2>Incomplete updates", "</ul>", "<li><code>"), kIncompleteListed);
  size_t more = 2997 + 40 - kIncompleteListed;
  EXPECT_NE(md.find(fmt::format("- … and {} more (see report.json)\n", more)), std::string::npos);
  EXPECT_NE(html.find(fmt::format("<li>… and {} more (see report.json)</li>", more)), std::string::npos);
  // Bounded: ten times the updates, hardly a longer summary or page.
  Report more_hung = hung(30000, 0);
  EXPECT_LT(to_markdown(more_hung).size(), md.size() + 2000);
  EXPECT_LT(to_html(more_hung).size(), html.size() + 2000);
}

TEST(Html, EmptyReport) {
  Report r;
  std::string html = to_html(r);
  expect_self_contained(html);
  EXPECT_NE(html.find("No events found"), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
}

// ---- On the sample runs in testdata/ -----------------------------------------------------------

class SampleRun : public ::testing::TestWithParam<const char*> {};

TEST_P(SampleRun, AllOutputsAreWellFormed) {
  std::filesystem::path dir = std::filesystem::path(ALOG_TESTDATA) / "runs" / GetParam();
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " not present";
  AnalysisOptions opt;
  opt.inputs = {dir.string()};
  opt.tool_version = "test";
  Report r = analyze(opt);
  diagnose(r);
  ASSERT_FALSE(r.updates.empty());

  J t = to_chrome_trace(r);
  auto c = check_trace(t);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  EXPECT_EQ(
      events_named(t, "b", "weight update").size() + events_named(t, "b", "weight reload").size(),
      r.updates.size());
  EXPECT_EQ(c.instants > 0, !r.diagnoses.empty());

  std::string md = mermaid_charts(r);
  auto charts = parse_mermaid(md);
  EXPECT_GE(charts.size(), 2u);
  for (const auto& ch : charts)
    for (const auto& l : ch.lines) EXPECT_EQ(l.size(), ch.lines[0].size());

  std::string html = to_html(r);
  for (const char* bad : {"<script", "<link", "<iframe", "<img", "@import", "url(", "src="})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  EXPECT_NE(html.find("<svg"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Runs, SampleRun, ::testing::Values("healthy", "prefix", "postfix"));

}  // namespace
}  // namespace alog
