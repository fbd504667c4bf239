// parse::strip_prefix: each real-world prefix shape of FORMATS.md is removed to reach the message,
// and the time of day / date it carries is read. Text that matches no shape is returned whole
// (leading blanks removed), so a tag inside it is only an event when the message starts with it.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "analyze_logs/parse.hpp"

using namespace alog;

namespace {

constexpr int32_t tod(int h, int m, int s) {
  return h * 3600 + m * 60 + s;
}

}  // namespace

TEST(ParsePrefix, LoguruPlainTimeAndRightAlignedLevel) {
  auto p =
      parse::strip_prefix("11:22:20    INFO [weights][bae4d097d7704bc7] client.done wall_ms=433.5");
  EXPECT_EQ(p.message, "[weights][bae4d097d7704bc7] client.done wall_ms=433.5");
  EXPECT_EQ(p.tod, tod(11, 22, 20));
  EXPECT_EQ(p.mmdd, -1);
  EXPECT_EQ(p.shape, "loguru");
}

TEST(ParsePrefix, LoguruEveryLevelSeenInRealLogs) {
  for (std::string_view level : {"   INFO", "SUCCESS", "WARNING", "  ERROR", "  DEBUG"}) {
    std::string line = "18:30:47 " + std::string(level) + " [gen] batch.done dur_ms=1";
    auto p = parse::strip_prefix(line);
    EXPECT_EQ(p.message, "[gen] batch.done dur_ms=1") << line;
    EXPECT_EQ(p.tod, tod(18, 30, 47)) << line;
  }
}

TEST(ParsePrefix, LoguruMidnightAndLastSecondOfTheDay) {
  EXPECT_EQ(parse::strip_prefix("00:00:00    INFO x").tod, 0);
  EXPECT_EQ(parse::strip_prefix("23:59:59    INFO x").tod, tod(23, 59, 59));
}

TEST(ParsePrefix, LoguruFullFormatWithDateAndModule) {
  auto p = parse::strip_prefix(
      "2025-10-14 18:30:47.123 | INFO     | prime_rl.orchestrator.client:update_weights:88 - "
      "[weights][54127134d8134dbd] client.send url=http://h:8000 path=/m/step_3 t=5.5");
  EXPECT_EQ(p.message,
            "[weights][54127134d8134dbd] client.send url=http://h:8000 path=/m/step_3 t=5.5");
  EXPECT_EQ(p.tod, tod(18, 30, 47));
  EXPECT_EQ(p.mmdd, 1014);
}

TEST(ParsePrefix, VllmLevelDateTimeAndSourceLocation) {
  auto p = parse::strip_prefix(
      "INFO 10-14 18:30:47 [server.py:88] [weights][54127134d8134dbd] server.recv "
      "path=/update_weights t=53712.8841");
  EXPECT_EQ(p.message, "[weights][54127134d8134dbd] server.recv path=/update_weights t=53712.8841");
  EXPECT_EQ(p.tod, tod(18, 30, 47));
  EXPECT_EQ(p.mmdd, 1014);
}

TEST(ParsePrefix, VllmWithApiServerProcessPrefix) {
  auto p = parse::strip_prefix(
      "(APIServer pid=4242) INFO 10-14 18:30:47 [api_server.py:1234] [weights][ab] rpc.start "
      "op=update_weights t=1");
  EXPECT_EQ(p.message, "[weights][ab] rpc.start op=update_weights t=1");
  EXPECT_EQ(p.tod, tod(18, 30, 47));
  EXPECT_EQ(p.mmdd, 1014);
}

TEST(ParsePrefix, TorchrunRankPrefixBeforeLoguru) {
  auto p =
      parse::strip_prefix("[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4");
  EXPECT_EQ(p.message, "[ckpt] write.done step=42 write_ms=823.4");
  EXPECT_EQ(p.tod, tod(18, 31, 2));
}

TEST(ParsePrefix, RankPrefixWithMultiDigitRank) {
  auto p = parse::strip_prefix("[trainer12]:01:02:03    INFO [ckpt] write.done step=1 write_ms=2");
  EXPECT_EQ(p.message, "[ckpt] write.done step=1 write_ms=2");
  EXPECT_EQ(p.tod, tod(1, 2, 3));
}

TEST(ParsePrefix, BareMessageHasNoTime) {
  auto p = parse::strip_prefix("[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1");
  EXPECT_EQ(p.message, "[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1");
  EXPECT_EQ(p.tod, -1);
  EXPECT_EQ(p.mmdd, -1);
  EXPECT_EQ(p.shape, "bare");
}

TEST(ParsePrefix, TracebackTextIsNotStrippedToATag) {
  // A traceback's exception line mentions a tag but does not start with one.
  auto p = parse::strip_prefix("ValueError: bad line [weights][abc] client.done wall_ms=1");
  EXPECT_FALSE(p.message.starts_with("[weights]"));
  auto q = parse::strip_prefix("  File \"/x/client.py\", line 3, in update_weights");
  EXPECT_FALSE(q.message.starts_with("["));
}

TEST(ParsePrefix, InvalidTimeIsNotALoguruPrefix) {
  // 25 o'clock is no time of day: nothing is taken from it.
  auto p = parse::strip_prefix("25:61:00    INFO [gen] batch.done dur_ms=1");
  EXPECT_EQ(p.tod, -1);
  EXPECT_FALSE(p.message.starts_with("[gen]"));
}

TEST(ParsePrefix, UvicornAccessLineKeepsItsText) {
  auto p = parse::strip_prefix(
      "INFO:     10.0.0.2:51234 - \"POST /v1/chat/completions HTTP/1.1\" 200 OK");
  EXPECT_FALSE(p.message.starts_with("[weights]"));
}

// Issue 22: a fraction of a second after the time of day is kept (its first three digits, in ms,
// and how many digits it had): the clock correlation's resolution comes from it.
TEST(ParsePrefix, FractionOfASecondIsKeptWithItsResolution) {
  auto ms = parse::strip_prefix("11:22:20.123    INFO [gen] batch.done dur_ms=1");
  EXPECT_EQ(ms.message, "[gen] batch.done dur_ms=1");
  EXPECT_EQ(ms.tod, tod(11, 22, 20));
  EXPECT_EQ(ms.tod_ms, 123);
  EXPECT_EQ(ms.tod_digits, 3);
  auto us = parse::strip_prefix("INFO 10-14 18:30:47.987654 [server.py:88] [weights][-] server.recv t=1");
  EXPECT_EQ(us.tod, tod(18, 30, 47));
  EXPECT_EQ(us.tod_ms, 987);  // truncated, never rounded up into the next second
  EXPECT_EQ(us.tod_digits, 3);
  auto tenth = parse::strip_prefix("2025-10-14 18:30:47,5 | INFO | mod:fn:12 - [gen] batch.done dur_ms=1");
  EXPECT_EQ(tenth.message, "[gen] batch.done dur_ms=1");
  EXPECT_EQ(tenth.tod_ms, 500);
  EXPECT_EQ(tenth.tod_digits, 1);
  auto whole = parse::strip_prefix("11:22:20    INFO x");
  EXPECT_EQ(whole.tod_ms, 0);
  EXPECT_EQ(whole.tod_digits, 0);
}
