// testdata/shapes/*.log: one tiny file per real-world line shape; shapes/README.md says what each
// must parse to, and the expectations below are that table written out (lines, events with their
// line numbers, values, times of day and dates, skips by reason, noise). Each file is also scanned
// with small chunks and several threads, which must not change anything.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "analyze_logs/event.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/scan.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

constexpr int32_t kAny = -2;

constexpr int32_t tod(int h, int m, int s) {
  return h * 3600 + m * 60 + s;
}

struct Want {
  uint64_t line;
  Op op;
  std::string trace;  // empty: not checked
  std::vector<std::pair<Field, double>> fields;
  int32_t tod = kAny;   // -1: no time of day
  int32_t mmdd = kAny;  // -1: no date
  int64_t path_step = kAny;
};

struct Seen {
  Event ev;
  std::string message;
};

struct Result {
  scan::FileCounts counts;
  std::vector<Seen> events;
  uint64_t step_events = 0;
};

fs::path shapes_dir() {
  return fs::path(ALOG_TESTDATA) / "shapes";
}

Result scan_file(const std::string& name, unsigned threads = 1, size_t chunk = 4u << 20) {
  Result r;
  auto src = input::open_source((shapes_dir() / name).string());
  scan::Options opt;
  opt.threads = threads;
  opt.chunk_bytes = chunk;
  r.counts = scan::scan(*src, 0, opt, [&](const Event& ev, std::string_view m) {
    // The step-budget lines are events too (tests/unit/primerl/test_steps.cpp); these tests are
    // about the tagged ones, and count the others apart.
    if (is_step_op(ev.op)) ++r.step_events;
    else r.events.push_back({ev, std::string(m)});
  });
  return r;
}

uint64_t skipped(const scan::FileCounts& c, SkipReason r) {
  return c.skipped_by_reason[static_cast<int>(r)];
}

void check(const std::string& file, uint64_t lines, const std::vector<Want>& want,
           uint64_t skips = 0, uint64_t noise = 0) {
  if (!fs::exists(shapes_dir() / file))
    GTEST_SKIP() << "testdata/shapes/" << file << " not generated yet";
  SCOPED_TRACE(file);
  Result r = scan_file(file);
  EXPECT_EQ(r.counts.lines, lines);
  EXPECT_EQ(r.counts.events, want.size());
  EXPECT_EQ(r.counts.skipped(), skips);
  EXPECT_EQ(r.counts.noise, noise);
  EXPECT_FALSE(r.counts.partial);
  EXPECT_EQ(r.counts.step_lines, r.step_events);
  ASSERT_EQ(r.events.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Event& ev = r.events[i].ev;
    const Want& w = want[i];
    SCOPED_TRACE("event " + std::to_string(i) + ": " + r.events[i].message);
    EXPECT_EQ(ev.line, w.line);
    EXPECT_EQ(op_name(ev.op), op_name(w.op));
    if (!w.trace.empty()) {
      EXPECT_EQ(ev.trace.str(), w.trace);
    }
    for (auto [f, v] : w.fields) {
      EXPECT_TRUE(ev.has(f)) << field_name(f);
      EXPECT_DOUBLE_EQ(ev.get(f), v) << field_name(f);
    }
    if (w.tod != kAny) {
      EXPECT_EQ(ev.tod, w.tod);
    }
    if (w.mmdd != kAny) {
      EXPECT_EQ(ev.mmdd, w.mmdd);
    }
    if (w.path_step != kAny) {
      EXPECT_EQ(ev.path_step, w.path_step);
    }
    // No colour code, '\r' or NUL reaches a message.
    EXPECT_EQ(r.events[i].message.find_first_of(std::string("\x1b\r\0", 3)), std::string::npos);
  }
  // Chunking and threads change nothing.
  for (size_t chunk : {512u, 4096u})
    for (unsigned threads : {2u, 4u}) {
      Result s = scan_file(file, threads, chunk);
      EXPECT_EQ(s.counts.lines, r.counts.lines);
      EXPECT_EQ(s.counts.skipped(), r.counts.skipped());
      ASSERT_EQ(s.events.size(), r.events.size());
      for (size_t i = 0; i < s.events.size(); ++i) {
        EXPECT_EQ(s.events[i].ev.line, r.events[i].ev.line);
        EXPECT_EQ(s.events[i].ev.v, r.events[i].ev.v);
      }
    }
}

const char* kA = "54127134d8134dbd";
const char* kB = "bae4d097d7704bc7";
const char* kR = "0a1b2c3d4e5f6071";

}  // namespace

TEST(ParseShapes, LoguruAnsi) {
  check("loguru_ansi.log", 5,
        {{1, Op::client_send, kA, {{Field::t, 53712.8841}}, tod(18, 30, 47), kAny, 42},
         {2,
          Op::client_done,
          kA,
          {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}},
          tod(18, 30, 48)},
         {4,
          Op::wait_done,
          "",
          {{Field::target_step, 42}, {Field::wait_ms, 12.3}},
          tod(18, 30, 49)}});
}

TEST(ParseShapes, LoguruPlain) {
  check("loguru_plain.log", 6,
        {{1, Op::client_send, kB, {{Field::t, 4077.12}}, tod(11, 22, 19), kAny, 7},
         {2, Op::batch_start, "", {{Field::inflight, 96}, {Field::target_batch, 64}}},
         {3,
          Op::client_done,
          kB,
          {{Field::wall_ms, 433.5}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 11.1}},
          tod(11, 22, 20)},
         {4,
          Op::batch_done,
          "",
          {{Field::completions, 64}, {Field::dur_ms, 2345.6}, {Field::inflight, 96}},
          tod(11, 22, 22)},
         {5,
          Op::rollout,
          "",
          {{Field::trunc_pct, 2.3},
           {Field::current_step, 10},
           {Field::ckpt_step, 9},
           {Field::staleness, 1}}}});
}

TEST(ParseShapes, Vllm) {
  check("vllm.log", 10,
        {{1, Op::server_recv, kA, {{Field::t, 53712.8841}}, tod(18, 30, 47), 1014},
         {2, Op::rpc_start, kA, {{Field::t, 53712.8843}}, kAny, 1014},
         {4,
          Op::rpc_done,
          kA,
          {{Field::t, 53713.3068}, {Field::rpc_ms, 422.5}},
          tod(18, 30, 48),
          1014},
         {8, Op::server_recv, kR, {{Field::t, 53727.0998}}, kAny, 1014},
         {9, Op::rpc_start, kR, {{Field::t, 53727.1}}, kAny, 1014},
         {10, Op::rpc_done, kR, {{Field::t, 53727.5123}, {Field::rpc_ms, 412.3}}, kAny, 1014}},
        0, 1);
}

TEST(ParseShapes, VllmRpcKinds) {
  if (!fs::exists(shapes_dir() / "vllm.log")) GTEST_SKIP();
  Result r = scan_file("vllm.log");
  ASSERT_EQ(r.events.size(), 6u);
  EXPECT_EQ(r.events[2].ev.rpc_kind, RpcKind::update_weights);
  EXPECT_EQ(r.events[5].ev.rpc_kind, RpcKind::reload_weights);
}

TEST(ParseShapes, TrainerRankPrefix) {
  check("trainer_rank_prefix.log", 7,
        {{3, Op::write_done, "", {{Field::step, 42}, {Field::write_ms, 823.4}}, tod(18, 31, 2)},
         {6, Op::write_done, "", {{Field::step, 43}, {Field::write_ms, 8234.5}}, tod(18, 31, 40)},
         {7, Op::write_done, "", {{Field::step, 43}, {Field::write_ms, 8240.1}}, tod(18, 31, 41)}});
}

TEST(ParseShapes, JsonLines) {
  check(
      "jsonl.log", 7,
      {{1, Op::client_send, kA, {{Field::t, 53712.8841}}, tod(18, 30, 47), 1014, 42},
       {2,
        Op::client_done,
        kA,
        {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}},
        tod(18, 30, 48)},
       {4, Op::batch_done, "", {{Field::dur_ms, 2345.6}, {Field::inflight, 96}}, tod(18, 30, 49)},
       {6, Op::rollout, "", {{Field::trunc_pct, 2.3}, {Field::staleness, 1}}},
       {7, Op::wait_done, "", {{Field::target_step, 42}, {Field::wait_ms, 12.3}}, tod(18, 30, 51)}},
      1);
  Result r = scan_file("jsonl.log");
  EXPECT_EQ(skipped(r.counts, SkipReason::bad_json), 1u);
  ASSERT_EQ(r.counts.skip_samples.size(), 1u);
  EXPECT_EQ(r.counts.skip_samples[0].line, 5u);
}

TEST(ParseShapes, Crlf) {
  check("crlf.log", 4,
        {{1, Op::client_send, kA, {{Field::t, 53712.8841}}, kAny, kAny, 42},
         {2,
          Op::client_done,
          kA,
          {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}}},
         {3, Op::batch_done, "", {{Field::dur_ms, 2345.6}, {Field::inflight, 96}}},
         {4, Op::rollout, "", {{Field::trunc_pct, 2.3}, {Field::staleness, 1}}}});
}

TEST(ParseShapes, TqdmCarriageReturns) {
  check("tqdm_cr.log", 6,
        {{1, Op::batch_start, "", {{Field::inflight, 96}}, tod(18, 30, 47)},
         {2, Op::batch_done, "", {{Field::dur_ms, 2345.6}, {Field::inflight, 96}}, tod(18, 30, 50)},
         {3, Op::rollout, "", {{Field::trunc_pct, 2.3}, {Field::staleness, 1}}, tod(18, 30, 51)},
         {5, Op::wait_done, "", {{Field::target_step, 43}, {Field::wait_ms, 5432.1}}, -1},
         {6, Op::wait_start, "", {{Field::target_step, 44}}, tod(18, 30, 58)}});
}

TEST(ParseShapes, TruncatedLastLine) {
  check("truncated_last_line.log", 4,
        {{1, Op::batch_start, "", {}},
         {2, Op::client_send, kA, {}, kAny, kAny, 42},
         {3, Op::wait_done, "", {{Field::wait_ms, 12.3}}}},
        1);
  Result r = scan_file("truncated_last_line.log");
  EXPECT_EQ(skipped(r.counts, SkipReason::missing_field), 1u);
  ASSERT_EQ(r.counts.skip_samples.size(), 1u);
  EXPECT_EQ(r.counts.skip_samples[0].line, 4u);
}

TEST(ParseShapes, NulGarbage) {
  check("nul_garbage.log", 11,
        {{1, Op::client_send, kA, {{Field::t, 53712.8841}}, kAny, kAny, 42},
         {6,
          Op::client_done,
          kA,
          {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}}},
         {9, Op::batch_done, "", {{Field::dur_ms, 2345.6}, {Field::inflight, 96}}},
         {11, Op::rollout, "", {{Field::trunc_pct, 2.3}, {Field::staleness, 1}}}});
}

TEST(ParseShapes, WeightsDashNoise) {
  check("weights_dash_noise.log", 31, {{16, Op::server_recv, kA, {{Field::t, 53702.215526}}}}, 0,
        24);
}

TEST(ParseShapes, Sentinel) {
  check("sentinel.log", 6,
        {{1, Op::client_send, kR, {}, kAny, kAny, -1},
         {2, Op::client_done, kR, {{Field::wall_ms, 412.3}}},
         {3, Op::client_send, kA, {}, kAny, kAny, 42},
         {4,
          Op::client_done,
          kA,
          {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}}},
         {5, Op::client_send, kB, {}, kAny, kAny, 43},
         {6, Op::client_done, kB, {{Field::wall_ms, 1302.2}}}});
  Result r = scan_file("sentinel.log");
  ASSERT_EQ(r.events.size(), 6u);
  EXPECT_FALSE(r.events[0].ev.has_path);
  EXPECT_TRUE(r.events[2].ev.has_path);
  for (size_t i : {1u, 5u}) {
    EXPECT_FALSE(r.events[i].ev.sample(Field::rpc_ms));
    EXPECT_FALSE(r.events[i].ev.sample(Field::queue_ms));
    EXPECT_TRUE(r.events[i].ev.sample(Field::wall_ms));
  }
}

TEST(ParseShapes, MalformedFields) {
  check("malformed_fields.log", 14,
        {{1,
          Op::client_done,
          kA,
          {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}}},
         {14, Op::batch_done, "", {{Field::dur_ms, 2345.6}}}},
        12);
  Result r = scan_file("malformed_fields.log");
  EXPECT_EQ(skipped(r.counts, SkipReason::bad_number), 5u);
  EXPECT_EQ(skipped(r.counts, SkipReason::negative_value), 2u);
  EXPECT_EQ(skipped(r.counts, SkipReason::duplicate_field), 1u);
  EXPECT_EQ(skipped(r.counts, SkipReason::bad_trace_id), 2u);
  EXPECT_EQ(skipped(r.counts, SkipReason::unknown_op), 1u);
  EXPECT_EQ(skipped(r.counts, SkipReason::missing_field), 1u);
  const SkipReason by_line[] = {
      SkipReason::bad_number,     SkipReason::bad_number,      SkipReason::bad_number,
      SkipReason::bad_number,     SkipReason::bad_number,      SkipReason::negative_value,
      SkipReason::negative_value, SkipReason::duplicate_field, SkipReason::bad_trace_id,
      SkipReason::bad_trace_id,   SkipReason::unknown_op,      SkipReason::missing_field};
  ASSERT_EQ(r.counts.skip_samples.size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(r.counts.skip_samples[i].line, i + 2);
    EXPECT_EQ(skip_reason_name(r.counts.skip_samples[i].reason), skip_reason_name(by_line[i]))
        << "line " << i + 2;
  }
}

TEST(ParseShapes, DebugLevel) {
  check(
      "debug_level.log", 5,
      {{1, Op::wait_start, "", {{Field::target_step, 42}}},
       {2, Op::wait_done, "", {{Field::wait_ms, 12.3}}, tod(18, 30, 47)},
       {3, Op::batch_start, "", {{Field::inflight, 96}}},
       {4, Op::batch_done, "", {{Field::dur_ms, 2345.6}, {Field::inflight, 96}}, tod(18, 30, 50)}});
}

TEST(ParseShapes, FieldsInAnyOrder) {
  check("fields_any_order.log", 9,
        {{1, Op::client_send, kA, {{Field::t, 53712.8841}}, kAny, kAny, 42},
         {2, Op::server_recv, kA, {{Field::t, 53712.8941}}},
         {3,
          Op::client_done,
          kA,
          {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}}},
         {4,
          Op::client_done,
          kB,
          {{Field::wall_ms, 448}, {Field::rpc_ms, 423}, {Field::queue_ms, 25}}},
         {5, Op::batch_done, "", {{Field::dur_ms, 2345}, {Field::inflight, 96}}},
         {6, Op::batch_done, "", {{Field::dur_ms, 2345.678901}, {Field::inflight, 97}}},
         {7,
          Op::rollout,
          "",
          {{Field::trunc_pct, 2},
           {Field::current_step, 10},
           {Field::ckpt_step, 9},
           {Field::staleness, 1}}},
         {8, Op::write_done, "", {{Field::step, 42}, {Field::write_ms, 823.4}}},
         {9, Op::wait_done, "", {{Field::target_step, 42}, {Field::wait_ms, 12.3}}}});
}

TEST(ParseShapes, TracebackWithTagText) {
  check("traceback_with_tag_text.log", 13,
        {{1, Op::client_send, kA, {}, kAny, kAny, 42},
         {13, Op::batch_done, "", {{Field::dur_ms, 2345.6}}}});
}

TEST(ParseShapes, LoguruFullFormat) {
  check("loguru_full_format.log", 5,
        {{1, Op::batch_start, "", {{Field::inflight, 96}}, tod(18, 30, 47), 1014},
         {2,
          Op::batch_done,
          "",
          {{Field::dur_ms, 2345.6}, {Field::inflight, 96}},
          tod(18, 30, 49),
          1014},
         {4,
          Op::client_done,
          kA,
          {{Field::wall_ms, 447.9}, {Field::rpc_ms, 422.5}, {Field::queue_ms, 25.4}},
          tod(18, 30, 50),
          1014},
         {5,
          Op::rollout,
          "",
          {{Field::trunc_pct, 2.3}, {Field::staleness, 1}},
          tod(18, 30, 51),
          1014}});
}

TEST(ParseShapes, EveryShapeFileIsCovered) {
  if (!fs::exists(shapes_dir())) GTEST_SKIP() << "testdata/shapes not generated yet";
  const std::vector<std::string> known = {"loguru_ansi.log",
                                          "loguru_plain.log",
                                          "vllm.log",
                                          "trainer_rank_prefix.log",
                                          "jsonl.log",
                                          "crlf.log",
                                          "tqdm_cr.log",
                                          "truncated_last_line.log",
                                          "nul_garbage.log",
                                          "weights_dash_noise.log",
                                          "sentinel.log",
                                          "malformed_fields.log",
                                          "debug_level.log",
                                          "fields_any_order.log",
                                          "traceback_with_tag_text.log",
                                          "loguru_full_format.log"};
  for (const auto& e : fs::directory_iterator(shapes_dir())) {
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".log") continue;
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end())
        << name << " has no test in test_parse_shapes.cpp";
  }
}
