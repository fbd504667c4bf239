// parse::parse_segment: a whole line segment as written (prefix, colour codes, JSON-lines record)
// to an Event. A segment is an event only when its message, after the prefix, starts with a tag,
// whatever the level; the same text inside a traceback or an access line is not.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "analyze_logs/event.hpp"
#include "analyze_logs/parse.hpp"

using namespace alog;
using namespace std::string_literals;

namespace {

struct Parsed {
  parse::Result r;
  Event ev;
  std::string message;
};

Parsed parse_seg(std::string_view seg) {
  static parse::Scratch scratch;
  Parsed p;
  p.r = parse::parse_segment(seg, p.ev, scratch);
  p.message = std::string(p.r.message);
  return p;
}

constexpr int32_t tod(int h, int m, int s) {
  return h * 3600 + m * 60 + s;
}

}  // namespace

TEST(ParseSegment, LoguruWithAnsiColourCodesAsWrittenToTheFile) {
  auto p = parse_seg(
      "\x1b[2m18:30:47\x1b[0m \x1b[1m   INFO\x1b[0m \x1b[1m\x1b[22m[weights][54127134d8134dbd] "
      "client.done "
      "wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4\x1b[0m\x1b[0m");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::client_done);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::queue_ms), 25.4);  // the trailing colour code is not part of it
  EXPECT_EQ(p.ev.tod, tod(18, 30, 47));
  EXPECT_EQ(p.message,
            "[weights][54127134d8134dbd] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4");
}

TEST(ParseSegment, LoguruWithoutColours) {
  auto p = parse_seg(
      "11:22:20    INFO [weights][bae4d097d7704bc7] client.done wall_ms=433.5 rpc_ms=422.5 "
      "queue_ms=11.1");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.tod, tod(11, 22, 20));
  EXPECT_DOUBLE_EQ(p.ev.get(Field::wall_ms), 433.5);
}

TEST(ParseSegment, TaggedMessageAtDebugLevelIsAnEvent) {
  auto p = parse_seg("11:22:20   DEBUG [gen] batch.done completions=64 dur_ms=2345.6 inflight=96");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::batch_done);
}

TEST(ParseSegment, LoguruFullFormat) {
  auto p = parse_seg(
      "2025-10-14 23:59:59.999 | WARNING  | prime_rl.orchestrator.orchestrator:run:301 - [ckpt] "
      "wait.done "
      "target_step=43 wait_ms=5432.1");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::wait_done);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::wait_ms), 5432.1);
  EXPECT_EQ(p.ev.tod, tod(23, 59, 59));
  EXPECT_EQ(p.ev.mmdd, 1014);
}

TEST(ParseSegment, VllmServerLines) {
  auto p = parse_seg(
      "INFO 10-14 18:30:47 [server.py:88] [weights][54127134d8134dbd] server.recv "
      "path=/update_weights t=53712.8841");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::server_recv);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::t), 53712.8841);
  EXPECT_EQ(p.ev.mmdd, 1014);
  EXPECT_EQ(p.ev.tod, tod(18, 30, 47));

  auto q = parse_seg(
      "(APIServer pid=4242) INFO 10-14 18:30:48 [api_server.py:120] [weights][54127134d8134dbd] "
      "rpc.done "
      "op=update_weights t=53713.1 rpc_ms=250.5");
  ASSERT_EQ(q.r.outcome, parse::Outcome::event);
  EXPECT_EQ(q.ev.op, Op::rpc_done);
  EXPECT_EQ(q.ev.rpc_kind, RpcKind::update_weights);
}

TEST(ParseSegment, VllmNoiseIdIsNoise) {
  auto p = parse_seg(
      "INFO 10-14 18:30:47 [server.py:88] [weights][-] server.recv path=/v1/chat/completions "
      "t=53712.9012");
  EXPECT_EQ(p.r.outcome, parse::Outcome::noise);
}

TEST(ParseSegment, TrainerRankPrefix) {
  auto p = parse_seg("[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::write_done);
  EXPECT_EQ(p.ev.tod, tod(18, 31, 2));
}

TEST(ParseSegment, JsonLinesMessageKey) {
  auto p = parse_seg(
      R"({"timestamp": "2025-10-14T18:30:47.123456+00:00", "level": "INFO", "message": "[rollout] trunc_pct=78.5 current_step=10 ckpt_step=9 staleness=1"})");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::rollout);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::trunc_pct), 78.5);
  EXPECT_EQ(p.ev.tod, tod(18, 30, 47));
}

TEST(ParseSegment, JsonLinesKeyOrderDoesNotMatter) {
  auto p = parse_seg(
      R"({"message": "[gen] batch.done dur_ms=1.5", "level": "DEBUG", "timestamp": "x"})");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::dur_ms), 1.5);
}

TEST(ParseSegment, JsonLinesMessageThatIsNotTaggedIsNone) {
  auto p = parse_seg(
      R"({"message": "Traceback: [weights][abc] client.done wall_ms=1 rpc_ms=1 queue_ms=1"})");
  EXPECT_EQ(p.r.outcome, parse::Outcome::none);
}

TEST(ParseSegment, TracebackLinesMentioningATagAreNotEvents) {
  for (
      std::string line : {
          "Traceback (most recent call last):"s,
          "  File \"/app/orchestrator.py\", line 99, in run"s,
          "    logger.info(f\"[weights][{tid}] client.done wall_ms={w} rpc_ms={r} queue_ms={q}\")"s,
          "RuntimeError: failed after [weights][abc] client.done wall_ms=1 rpc_ms=1 queue_ms=1"s,
          "11:22:20   ERROR Exception in [gen] batch.done dur_ms=5"s,
          "INFO:     10.0.0.2:51234 - \"POST /update_weights?x=[weights][ab] HTTP/1.1\" 200 OK"s,
      }) {
    auto p = parse_seg(line);
    EXPECT_EQ(p.r.outcome, parse::Outcome::none) << line;
  }
}

TEST(ParseSegment, NulBytesAndGarbageAroundATagAreNotEvents) {
  auto p = parse_seg("\0\0\xff\xfe junk [ckpt] write.done write_ms=1"s);
  EXPECT_EQ(p.r.outcome, parse::Outcome::none);
}

TEST(ParseSegment, NulByteInsideAValueIsABadNumber) {
  auto p = parse_seg("[ckpt] write.done step=1 write_ms=1\0002"s);
  ASSERT_EQ(p.r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(p.r.reason, SkipReason::bad_number);
}

TEST(ParseSegment, SkipReasonsThroughAPrefix) {
  auto p = parse_seg("11:22:20    INFO [weights][zz] client.send t=1");
  ASSERT_EQ(p.r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(p.r.reason, SkipReason::bad_trace_id);

  auto q =
      parse_seg("INFO 10-14 18:30:47 [server.py:88] [weights][ab] rpc.done op=update_weights t=5");
  ASSERT_EQ(q.r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(q.r.reason, SkipReason::missing_field);
}

TEST(ParseSegment, BrokenJsonRecordWithATagIsBadJson) {
  auto p = parse_seg(R"({"message": "[gen] batch.done dur_ms=1")");
  ASSERT_EQ(p.r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(p.r.reason, SkipReason::bad_json);
}
