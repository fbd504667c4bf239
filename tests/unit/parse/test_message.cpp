// parse::parse_message: the message grammar of seeds 000/001 (issue 3). Every tag and operation,
// fields in any order, unknown fields ignored, integers and decimals; the `[weights][-]` noise
// id; the -1.0 sentinel; and each skip reason with the smallest line that shows it.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/event.hpp"
#include "analyze_logs/parse.hpp"

using namespace alog;

namespace {

struct Parsed {
  parse::Result r;
  Event ev;
};

Parsed parse_msg(std::string_view msg) {
  Parsed p;
  p.r = parse::parse_message(msg, p.ev);
  return p;
}

// "event", "noise", "none" or the skip reason's name.
std::string outcome_of(std::string_view msg) {
  auto p = parse_msg(msg);
  switch (p.r.outcome) {
    case parse::Outcome::event:
      return "event";
    case parse::Outcome::noise:
      return "noise";
    case parse::Outcome::none:
      return "none";
    case parse::Outcome::skipped:
      return std::string(skip_reason_name(p.r.reason));
  }
  return "?";
}

constexpr const char* kTid = "54127134d8134dbd";

std::string weights(std::string_view rest) {
  return std::string("[weights][") + kTid + "] " + std::string(rest);
}

}  // namespace

// ---- Every operation of every tag -------------------------------------------------------------

TEST(ParseMessage, ClientSendWithPathIsAnUpdate) {
  auto p = parse_msg(
      weights("client.send url=http://192.168.1.100:8000 path=/models/x/step_42 t=1234.567890"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::client_send);
  EXPECT_EQ(p.ev.trace.str(), kTid);
  EXPECT_TRUE(p.ev.has_path);
  EXPECT_EQ(p.ev.path_step, 42);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::t), 1234.567890);
}

TEST(ParseMessage, ClientSendWithoutPathIsAReload) {
  auto p = parse_msg(weights("client.send url=http://h:8000 t=7.25"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::client_send);
  EXPECT_FALSE(p.ev.has_path);
  EXPECT_EQ(p.ev.path_step, -1);
}

TEST(ParseMessage, ServerRecv) {
  auto p = parse_msg(weights("server.recv path=/update_weights t=1234.567901"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::server_recv);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::t), 1234.567901);
}

TEST(ParseMessage, RpcStartAndDoneWithTheirKind) {
  auto s = parse_msg(weights("rpc.start op=update_weights t=1234.568012"));
  ASSERT_EQ(s.r.outcome, parse::Outcome::event);
  EXPECT_EQ(s.ev.op, Op::rpc_start);
  EXPECT_EQ(s.ev.rpc_kind, RpcKind::update_weights);

  auto d = parse_msg(weights("rpc.done op=reload_weights t=1235.823456 rpc_ms=1255.4"));
  ASSERT_EQ(d.r.outcome, parse::Outcome::event);
  EXPECT_EQ(d.ev.op, Op::rpc_done);
  EXPECT_EQ(d.ev.rpc_kind, RpcKind::reload_weights);
  EXPECT_DOUBLE_EQ(d.ev.get(Field::rpc_ms), 1255.4);
  EXPECT_DOUBLE_EQ(d.ev.get(Field::t), 1235.823456);
}

TEST(ParseMessage, ClientDone) {
  auto p = parse_msg(weights("client.done wall_ms=1255.6 rpc_ms=1255.4 queue_ms=0.2"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::client_done);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::wall_ms), 1255.6);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::rpc_ms), 1255.4);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::queue_ms), 0.2);
  EXPECT_TRUE(p.ev.sample(Field::rpc_ms));
  EXPECT_TRUE(p.ev.sample(Field::queue_ms));
}

TEST(ParseMessage, CheckpointOperations) {
  auto w = parse_msg("[ckpt] write.done step=42 write_ms=823.4");
  ASSERT_EQ(w.r.outcome, parse::Outcome::event);
  EXPECT_EQ(w.ev.op, Op::write_done);
  EXPECT_DOUBLE_EQ(w.ev.get(Field::write_ms), 823.4);
  EXPECT_DOUBLE_EQ(w.ev.get(Field::step), 42);

  auto s = parse_msg("[ckpt] wait.start target_step=42");
  ASSERT_EQ(s.r.outcome, parse::Outcome::event);
  EXPECT_EQ(s.ev.op, Op::wait_start);
  EXPECT_DOUBLE_EQ(s.ev.get(Field::target_step), 42);

  auto d = parse_msg("[ckpt] wait.done target_step=42 wait_ms=12.3");
  ASSERT_EQ(d.r.outcome, parse::Outcome::event);
  EXPECT_EQ(d.ev.op, Op::wait_done);
  EXPECT_DOUBLE_EQ(d.ev.get(Field::wait_ms), 12.3);
}

TEST(ParseMessage, GenerationOperations) {
  auto s = parse_msg("[gen] batch.start inflight=96 target_batch=64");
  ASSERT_EQ(s.r.outcome, parse::Outcome::event);
  EXPECT_EQ(s.ev.op, Op::batch_start);
  EXPECT_DOUBLE_EQ(s.ev.get(Field::inflight), 96);
  EXPECT_DOUBLE_EQ(s.ev.get(Field::target_batch), 64);

  auto d = parse_msg("[gen] batch.done completions=64 dur_ms=2345.6 inflight=96");
  ASSERT_EQ(d.r.outcome, parse::Outcome::event);
  EXPECT_EQ(d.ev.op, Op::batch_done);
  EXPECT_DOUBLE_EQ(d.ev.get(Field::dur_ms), 2345.6);
  EXPECT_DOUBLE_EQ(d.ev.get(Field::completions), 64);
  EXPECT_DOUBLE_EQ(d.ev.get(Field::inflight), 96);
}

TEST(ParseMessage, Rollout) {
  auto p = parse_msg("[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::rollout);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::trunc_pct), 2.3);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::current_step), 10);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::ckpt_step), 9);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::staleness), 1);
}

TEST(ParseMessage, RolloutWithOnlyOneOfItsMetrics) {
  EXPECT_EQ(outcome_of("[rollout] trunc_pct=78.5"), "event");
  EXPECT_EQ(outcome_of("[rollout] staleness=5"), "event");
}

// ---- Field syntax -----------------------------------------------------------------------------

TEST(ParseMessage, FieldsInAnyOrder) {
  auto a = parse_msg(weights("client.done queue_ms=0.2 wall_ms=1255.6 rpc_ms=1255.4"));
  auto b = parse_msg(weights("client.done rpc_ms=1255.4 queue_ms=0.2 wall_ms=1255.6"));
  ASSERT_EQ(a.r.outcome, parse::Outcome::event);
  ASSERT_EQ(b.r.outcome, parse::Outcome::event);
  for (auto f : {Field::wall_ms, Field::rpc_ms, Field::queue_ms})
    EXPECT_EQ(a.ev.get(f), b.ev.get(f));
}

TEST(ParseMessage, UnknownFieldsAreIgnored) {
  auto p = parse_msg(
      weights("client.done host=gpu7 wall_ms=10 extra=abc rpc_ms=8 queue_ms=2 new_metric=-5"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::wall_ms), 10);
}

TEST(ParseMessage, IntegersAndDecimalsAndExponents) {
  auto p = parse_msg(weights("client.done wall_ms=30000 rpc_ms=1000.25 queue_ms=2.9e4"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::wall_ms), 30000);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::rpc_ms), 1000.25);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::queue_ms), 29000);
}

TEST(ParseMessage, SeedAnnotationsAfterTheFieldsAreIgnored) {
  // Seed 000 annotates its examples: "[~11ms gap]", "[~15s RPC!]".
  auto p = parse_msg(weights("server.recv path=/update_weights t=1234.567901  [~11ms gap]"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_DOUBLE_EQ(p.ev.get(Field::t), 1234.567901);
}

TEST(ParseMessage, TraceIdsOfOneToSixteenHexDigits) {
  EXPECT_EQ(outcome_of("[weights][a] client.send t=1"), "event");
  EXPECT_EQ(outcome_of("[weights][abc123] client.send t=1"), "event");
  EXPECT_EQ(outcome_of("[weights][ABCDEF0123456789] client.send t=1"), "event");
  auto p = parse_msg("[weights][000f] client.send t=1");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.trace.str(), "000f");  // leading zeros survive
  EXPECT_NE(p.ev.trace, TraceId::parse("f").value());
}

// ---- Noise and the sentinel -------------------------------------------------------------------

TEST(ParseMessage, DashTraceIdIsNoiseNotAnUpdateNorASkip) {
  auto p = parse_msg("[weights][-] server.recv path=/v1/chat/completions t=53712.9012");
  EXPECT_EQ(p.r.outcome, parse::Outcome::noise);
}

TEST(ParseMessage, MinusOneSentinelIsPresentButNotASample) {
  auto p = parse_msg(weights("client.done wall_ms=433.5 rpc_ms=-1.0 queue_ms=-1.0"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_TRUE(p.ev.has(Field::rpc_ms));
  EXPECT_TRUE(p.ev.has(Field::queue_ms));
  EXPECT_TRUE(p.ev.is_sentinel(Field::rpc_ms));
  EXPECT_TRUE(p.ev.is_sentinel(Field::queue_ms));
  EXPECT_FALSE(p.ev.sample(Field::rpc_ms));
  EXPECT_FALSE(p.ev.sample(Field::queue_ms));
  EXPECT_TRUE(p.ev.sample(Field::wall_ms));
  EXPECT_DOUBLE_EQ(p.ev.get(Field::wall_ms), 433.5);
}

TEST(ParseMessage, SentinelOnlyInOneOfRpcAndQueue) {
  auto p = parse_msg(weights("client.done wall_ms=433.5 rpc_ms=-1.0 queue_ms=3"));
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_FALSE(p.ev.sample(Field::rpc_ms));
  EXPECT_TRUE(p.ev.sample(Field::queue_ms));
}

// ---- Skip reasons -----------------------------------------------------------------------------

TEST(ParseMessage, BadNumberWhenAValueIsNotEntirelyAFiniteNumber) {
  for (std::string v :
       {"", "abc", "12ms", "1.2.3", "nan", "inf", "-inf", "1e999", "0x1F", "1,5", "--1", "+-1"})
    EXPECT_EQ(outcome_of(weights("client.done wall_ms=" + v + " rpc_ms=1 queue_ms=1")),
              "bad_number")
        << v;
  EXPECT_EQ(outcome_of("[ckpt] write.done step=4x write_ms=1"), "bad_number");
  EXPECT_EQ(outcome_of(weights("client.send path=/m/step_1 t=12:30")), "bad_number");
}

TEST(ParseMessage, NegativeValueIncludingNegativeZero) {
  EXPECT_EQ(outcome_of(weights("client.done wall_ms=-5 rpc_ms=1 queue_ms=1")), "negative_value");
  EXPECT_EQ(outcome_of(weights("client.done wall_ms=5 rpc_ms=1 queue_ms=-0")), "negative_value");
  EXPECT_EQ(outcome_of(weights("client.done wall_ms=5 rpc_ms=-0.0 queue_ms=1")), "negative_value");
  EXPECT_EQ(outcome_of(weights("client.done wall_ms=5 rpc_ms=-2.0 queue_ms=1")), "negative_value");
  EXPECT_EQ(outcome_of("[ckpt] wait.done target_step=1 wait_ms=-12.3"), "negative_value");
  EXPECT_EQ(outcome_of("[gen] batch.done dur_ms=-1.0"),
            "negative_value");  // sentinel is rpc/queue only
  EXPECT_EQ(outcome_of("[rollout] trunc_pct=-3 staleness=1"), "negative_value");
}

TEST(ParseMessage, NegativeTimeIsANegativeValue) {
  // The spec: every negative value but the rpc_ms/queue_ms sentinel is `negative_value`.
  EXPECT_EQ(outcome_of(weights("client.send path=/m/step_1 t=-5.5")), "negative_value");
}

TEST(ParseMessage, DuplicateField) {
  EXPECT_EQ(outcome_of(weights("client.done wall_ms=1 rpc_ms=1 queue_ms=1 rpc_ms=2")),
            "duplicate_field");
  EXPECT_EQ(outcome_of("[rollout] staleness=1 staleness=1"), "duplicate_field");
}

TEST(ParseMessage, RepeatedPathOrOpIsADuplicateField) {
  // path= and op= are read (step, update vs reload, update_weights vs reload_weights): the same
  // key twice leaves the line ambiguous, like any other repeated field.
  EXPECT_EQ(outcome_of(weights("client.send path=/m/step_1 path=/m/step_2 t=1")),
            "duplicate_field");
  EXPECT_EQ(outcome_of(weights("rpc.done op=update_weights op=reload_weights t=1 rpc_ms=5")),
            "duplicate_field");
}

TEST(ParseMessage, BadTraceId) {
  EXPECT_EQ(outcome_of("[weights][ghi789] client.send t=1"),
            "bad_trace_id");  // the seed's, not hex
  EXPECT_EQ(outcome_of("[weights][xyz] client.send t=1"), "bad_trace_id");
  EXPECT_EQ(outcome_of("[weights][0123456789abcdef0] client.send t=1"), "bad_trace_id");  // 17
  EXPECT_EQ(outcome_of("[weights][] client.send t=1"), "bad_trace_id");
  EXPECT_EQ(outcome_of("[weights] client.send t=1"), "bad_trace_id");
}

TEST(ParseMessage, UnknownOperation) {
  EXPECT_EQ(outcome_of(weights("client.retry t=1")), "unknown_op");
  EXPECT_EQ(outcome_of("[ckpt] write.start step=1"), "unknown_op");
  EXPECT_EQ(outcome_of("[gen] batch.cancel dur_ms=1"), "unknown_op");
  EXPECT_EQ(outcome_of("[gen]"), "unknown_op");
}

TEST(ParseMessage, MissingFieldForEveryOperationThatNeedsOne) {
  EXPECT_EQ(outcome_of(weights("client.done rpc_ms=1 queue_ms=1")), "missing_field");
  EXPECT_EQ(outcome_of(weights("client.done wall_ms=1 queue_ms=1")), "missing_field");
  EXPECT_EQ(outcome_of(weights("client.done wall_ms=1 rpc_ms=1")), "missing_field");
  EXPECT_EQ(outcome_of(weights("rpc.done op=update_weights rpc_ms=4")), "missing_field");
  EXPECT_EQ(outcome_of(weights("rpc.done op=update_weights t=4")), "missing_field");
  EXPECT_EQ(outcome_of(weights("client.send url=http://h:1 path=/m/step_1")), "missing_field");
  EXPECT_EQ(outcome_of(weights("server.recv path=/update_weights")), "missing_field");
  EXPECT_EQ(outcome_of(weights("rpc.start op=update_weights")), "missing_field");
  EXPECT_EQ(outcome_of("[ckpt] write.done step=43"), "missing_field");
  EXPECT_EQ(outcome_of("[ckpt] wait.done target_step=43"), "missing_field");
  EXPECT_EQ(outcome_of("[gen] batch.done completions=64 inflight=140"), "missing_field");
  EXPECT_EQ(outcome_of("[rollout] current_step=10 ckpt_step=9"), "missing_field");
}

TEST(ParseMessage, OperationsWithoutRequiredFields) {
  EXPECT_EQ(outcome_of("[ckpt] wait.start"), "event");
  EXPECT_EQ(outcome_of("[gen] batch.start"), "event");
}

TEST(ParseMessage, UntaggedTextIsNone) {
  // A step-budget line (docs/STEPS.md) is an event of its own, not a tagged one.
  EXPECT_EQ(outcome_of("Orchestrator paused: waiting for trainer checkpoint 12"), "event");
  EXPECT_EQ(outcome_of("SUCCESS Step 12 | Time: 34.21s"), "none");
  EXPECT_EQ(outcome_of("[weightsX] client.send t=1"), "none");
  EXPECT_EQ(outcome_of("see [weights][abc] client.send t=1"), "none");
}
