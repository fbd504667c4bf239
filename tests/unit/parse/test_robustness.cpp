// Bad input at the parser and scanner level (issue 8): every malformed field is skipped and
// counted under its reason, never turned into a sample; NUL bytes, binary garbage, invalid UTF-8,
// CRLF, an unterminated last line and over-long lines neither crash nor shift line numbers.
// Regression tests for bugs found by tests/fuzz and tests/e2e/test_robustness.sh are at the end.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "analyze_logs/event.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/parse.hpp"
#include "analyze_logs/scan.hpp"
#include "analyze_logs/util.hpp"
#include "support.hpp"

using namespace alog;
using namespace std::string_literals;

namespace {

using alog::test_support::gzip;

parse::Result parse_line(std::string_view line, Event& ev) {
  static parse::Scratch scratch;
  // The result's message may be a view into the line: kept alive until the next call, so callers
  // can pass a temporary.
  static std::string kept;
  kept.assign(line);
  ev = Event{};
  return parse::parse_segment(kept, ev, scratch);
}

// The skip reason's name, or "event" / "none" / "noise".
std::string skipped_as(std::string_view line) {
  Event ev;
  auto r = parse_line(line, ev);
  switch (r.outcome) {
    case parse::Outcome::skipped: return std::string(skip_reason_name(r.reason));
    case parse::Outcome::event: return "event";
    case parse::Outcome::noise: return "noise";
    default: return "none";
  }
}

struct Scanned {
  scan::FileCounts counts;
  std::vector<Event> events;
};

Scanned scan_text(std::string text, unsigned threads = 1, size_t chunk = 4u << 20) {
  Scanned s;
  auto src = input::memory_source(std::move(text), "t.log");
  scan::Options opt;
  opt.threads = threads;
  opt.chunk_bytes = chunk;
  s.counts = scan::scan(*src, 0, opt, [&](const Event& ev, std::string_view) { s.events.push_back(ev); });
  return s;
}

uint64_t reason_count(const scan::FileCounts& c, SkipReason r) { return c.skipped_by_reason[static_cast<int>(r)]; }

// A good client.done with one field replaced.
std::string done_with(std::string_view queue) {
  return "[weights][54127134d8134dbd] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms="s + std::string(queue);
}

bool tagged(std::string_view line) {
  for (std::string_view tag : {"[weights]", "[ckpt]", "[gen]", "[rollout]"})
    if (line.find(tag) != std::string_view::npos) return true;
  return false;
}

struct Malformed {
  std::string line;
  SkipReason reason;
};

const std::vector<Malformed>& malformed_lines() {
  static const std::vector<Malformed> v = {
      {done_with(""), SkipReason::bad_number},
      {done_with("abc"), SkipReason::bad_number},
      {done_with("1e999"), SkipReason::bad_number},
      {done_with("nan"), SkipReason::bad_number},
      {done_with("NaN"), SkipReason::bad_number},
      {done_with("inf"), SkipReason::bad_number},
      {done_with("-inf"), SkipReason::bad_number},
      {done_with("infinity"), SkipReason::bad_number},
      {done_with("12ms"), SkipReason::bad_number},
      {done_with("0x10"), SkipReason::bad_number},
      {done_with("1,5"), SkipReason::bad_number},
      {done_with("1e308"), SkipReason::bad_number},  // finite, but sums overflow: see regressions
      {done_with("-0"), SkipReason::negative_value},
      {done_with("-0.0"), SkipReason::negative_value},
      {done_with("-3.5"), SkipReason::negative_value},
      {done_with("-1.5"), SkipReason::negative_value},  // only exactly -1.0 is the sentinel
      {"[weights][54127134d8134dbd] client.done wall_ms=-1.0 rpc_ms=1 queue_ms=1", SkipReason::negative_value},
      // Negative durations of every operation, not only client.done.
      {"[gen] batch.done dur_ms=-5", SkipReason::negative_value},
      {"[ckpt] write.done step=1 write_ms=-0", SkipReason::negative_value},
      {"[ckpt] wait.done target_step=4 wait_ms=-2", SkipReason::negative_value},
      {"[weights][54127134d8134dbd] rpc.done op=update_weights t=5 rpc_ms=-3", SkipReason::negative_value},
      {"[weights][54127134d8134dbd] client.done wall_ms=1 rpc_ms=1 queue_ms=1 queue_ms=2", SkipReason::duplicate_field},
      {"[gen] batch.done dur_ms=5 dur_ms=5", SkipReason::duplicate_field},
      {"[weights][54127134d8134dbd] client.done wall_ms=1 wall_ms=1 rpc_ms=1 queue_ms=1", SkipReason::duplicate_field},
      {"[weights][54127134d8134dbd0] client.done wall_ms=1 rpc_ms=1 queue_ms=1", SkipReason::bad_trace_id},  // 17
      {"[weights][54127134d8134dbz] client.done wall_ms=1 rpc_ms=1 queue_ms=1", SkipReason::bad_trace_id},
      {"[weights][] client.done wall_ms=1 rpc_ms=1 queue_ms=1", SkipReason::bad_trace_id},
      {"[weights][5412 7134] client.done wall_ms=1 rpc_ms=1 queue_ms=1", SkipReason::bad_trace_id},
      {"[weights] client.done wall_ms=1 rpc_ms=1 queue_ms=1", SkipReason::bad_trace_id},
      {"[weights][54127134d8134dbd client.done wall_ms=1 rpc_ms=1 queue_ms=1", SkipReason::bad_trace_id},
      {"[weights][54127134d8134dbd] client.fly wall_ms=1", SkipReason::unknown_op},
      {"[weights][54127134d8134dbd]", SkipReason::unknown_op},
      {"[ckpt] write.start step=1", SkipReason::unknown_op},
      {"[gen] batch.middle dur_ms=1", SkipReason::unknown_op},
      {"[weights][54127134d8134dbd] client.done wall_ms=1 rpc_ms=1", SkipReason::missing_field},
      {"[weights][54127134d8134dbd] client.send url=http://h:1 path=/m/step_1", SkipReason::missing_field},
      {"[weights][54127134d8134dbd] rpc.done op=update_weights t=5", SkipReason::missing_field},
      {"[ckpt] write.done step=4", SkipReason::missing_field},
      {"[ckpt] wait.done target_step=4", SkipReason::missing_field},
      {"[gen] batch.done inflight=3", SkipReason::missing_field},
      {"[rollout] current_step=3", SkipReason::missing_field},
      {"{\"message\": \"[gen] batch.done dur_ms=1\"", SkipReason::bad_json},
      {"{\"level\": \"INFO\"}", SkipReason::bad_json},
      {"{\"message\": 42}", SkipReason::bad_json},
      {"{\"message\": \"[gen] batch.done dur_ms=abc\"}", SkipReason::bad_number},
  };
  return v;
}

}  // namespace

TEST(ParseRobustness, EachMalformedFieldIsSkippedWithItsReason) {
  for (const auto& m : malformed_lines()) {
    Event ev;
    auto r = parse_line(m.line, ev);
    EXPECT_EQ(r.outcome, parse::Outcome::skipped) << m.line;
    EXPECT_EQ(skip_reason_name(r.reason), skip_reason_name(m.reason)) << m.line;
  }
}

TEST(ParseRobustness, MalformedLinesAreCountedPerReasonAndNeverBecomeSamples) {
  // Each line bare and with two real prefixes (plain and coloured loguru), so the prefix table
  // is exercised too. JSON records are only JSON when bare; lines with no tag at all are never
  // looked at by the scanner, so they count nowhere.
  std::string text;
  std::array<uint64_t, kSkipReasonCount> want{};
  for (const auto& m : malformed_lines()) {
    text += m.line + "\n";
    if (!tagged(m.line)) continue;
    ++want[static_cast<int>(m.reason)];
    if (m.line.starts_with("{")) continue;
    text += "11:22:20    INFO " + m.line + "\n";
    text += "\x1b[2m18:30:47\x1b[0m \x1b[1m   INFO\x1b[0m " + m.line + "\x1b[0m\n";
    want[static_cast<int>(m.reason)] += 2;
  }
  text += done_with("25.4") + "\n";  // one good line
  auto s = scan_text(text);
  EXPECT_EQ(s.counts.events, 1u);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_DOUBLE_EQ(s.events[0].get(Field::queue_ms), 25.4);
  for (int k = 0; k < kSkipReasonCount; ++k)
    EXPECT_EQ(s.counts.skipped_by_reason[k], want[k]) << skip_reason_name(static_cast<SkipReason>(k));
  EXPECT_EQ(s.counts.lines, static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')));
}

TEST(ParseRobustness, SentinelIsPresentButNotASample) {
  Event ev;
  auto r = parse_line("[weights][bae4d097d7704bc7] client.done wall_ms=433.5 rpc_ms=-1.0 queue_ms=-1.0", ev);
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_TRUE(ev.has(Field::rpc_ms));
  EXPECT_TRUE(ev.is_sentinel(Field::rpc_ms));
  EXPECT_FALSE(ev.sample(Field::rpc_ms));
  EXPECT_FALSE(ev.sample(Field::queue_ms));
  EXPECT_TRUE(ev.sample(Field::wall_ms));
  // "-1" without the decimal is the same number.
  r = parse_line("[weights][bae4d097d7704bc7] client.done wall_ms=433.5 rpc_ms=-1 queue_ms=-1", ev);
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_FALSE(ev.sample(Field::queue_ms));
}

TEST(ParseRobustness, NoTraceIdIsNoiseNotAnEvent) {
  Event ev;
  auto r = parse_line("INFO 10-14 18:30:47 [server.py:88] [weights][-] server.recv path=/v1/chat/completions t=1", ev);
  EXPECT_EQ(r.outcome, parse::Outcome::noise);
  auto s = scan_text("[weights][-] server.recv path=/v1/x t=1\n[weights][-] server.recv t=2\n");
  EXPECT_EQ(s.counts.noise, 2u);
  EXPECT_EQ(s.counts.events, 0u);
  EXPECT_EQ(s.counts.skipped(), 0u);
}

TEST(ParseRobustness, NulBytesNeitherCrashNorHideTheLinesAround) {
  std::string text = "\0\0\0\n"s + done_with("1\0"s) + "\n" + "[gen] batch.done dur_ms=7\0garbage\n"s +
                     "\0[gen] batch.done dur_ms=8\n"s + "[gen] batch.done dur_ms=9\n";
  auto s = scan_text(text);
  EXPECT_EQ(s.counts.lines, 5u);
  EXPECT_EQ(reason_count(s.counts, SkipReason::bad_number), 2u);  // "1\0" and "7\0garbage"
  // A NUL before the tag (issue 22: it hid the line) is dropped and counted; the line is read.
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].line, 4u);
  EXPECT_DOUBLE_EQ(s.events[0].get(Field::dur_ms), 8);
  EXPECT_EQ(s.events[1].line, 5u);
  EXPECT_DOUBLE_EQ(s.events[1].get(Field::dur_ms), 9);
  EXPECT_EQ(s.counts.unreadable_bytes, 1u);
  EXPECT_EQ(s.counts.unreadable_lines, 1u);
  EXPECT_EQ(s.counts.unreadable_samples, std::vector<uint64_t>{4});
}

TEST(ParseRobustness, BinaryGarbageOnlyGivesNoEvents) {
  std::mt19937 rng(8);
  std::string text(1 << 20, '\0');
  for (auto& c : text) c = static_cast<char>(rng());
  auto s = scan_text(text, 2, 4096);
  EXPECT_EQ(s.counts.events, 0u);
  uint64_t nl = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
  EXPECT_EQ(s.counts.lines, nl + (text.back() != '\n' ? 1 : 0));
  EXPECT_EQ(s.counts.bytes, text.size());
  // The same garbage with tagged lines spliced in: exactly those are found.
  std::string mixed = text.substr(0, 5000) + "\n[gen] batch.done dur_ms=3\n" + text.substr(5000, 5000) +
                      "\n[ckpt] write.done write_ms=4\n" + text.substr(10000);
  auto m = scan_text(mixed, 2, 4096);
  EXPECT_EQ(m.counts.events, 2u);
}

TEST(ParseRobustness, InvalidUtf8AroundFieldsIsIgnored) {
  Event ev;
  auto r = parse_line("\xff\xfe 11:22:20    INFO [gen] batch.done dur_ms=5 note=\xc3\x28 \xed\xa0\x80=1", ev);
  // Garbage before the time is dropped and counted (it hid the line before issue 22); the prefix
  // and the tag are read, and the invalid UTF-8 after the tag is in fields nobody reads.
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_EQ(r.unreadable, 2u);
  EXPECT_EQ(ev.tod, 11 * 3600 + 22 * 60 + 20);
  EXPECT_DOUBLE_EQ(ev.get(Field::dur_ms), 5);
  r = parse_line("11:22:20    INFO [gen] batch.done dur_ms=5 note=\xc3\x28 \xed\xa0\x80=1 \xff", ev);
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_DOUBLE_EQ(ev.get(Field::dur_ms), 5);
  r = parse_line("[gen] batch.done dur_ms=5\xff", ev);
  EXPECT_EQ(r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(r.reason, SkipReason::bad_number);
}

// ---- Issue 22: bytes that are not text before a tag ----------------------------------------
// One invalid byte just before `[weights]` hid the event with "0 skipped" (and the analysis then
// made up an incomplete update). A tag is now read whatever byte stands before it, and the bytes
// that are not text are counted.

const char* kDoneTail =
    "[weights][2f99c71d3e78f411] client.done wall_ms=2045.1 rpc_ms=1394.7 queue_ms=650.4";
constexpr int32_t kTod = 11 * 3600 + 20 * 60 + 18;

void expect_the_done_event(const parse::Result& r, const Event& ev, int32_t tod = kTod) {
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_EQ(ev.op, Op::client_done);
  EXPECT_EQ(ev.trace.str(), "2f99c71d3e78f411");
  EXPECT_DOUBLE_EQ(ev.get(Field::wall_ms), 2045.1);
  EXPECT_DOUBLE_EQ(ev.get(Field::queue_ms), 650.4);
  EXPECT_EQ(ev.tod, tod);
  EXPECT_TRUE(r.message.starts_with("[weights][2f99c71d3e78f411] client.done")) << r.message;
}

// Every byte value before the tag of a plain and of a coloured loguru line (the coloured one as
// testdata/runs writes it): a byte that is not text is dropped, counted, and the line read whole;
// a blank is text and read; a printable character makes the line text that quotes a tag (as a
// traceback does), which is not an event, as before.
TEST(ParseRobustness, EveryByteBeforeATagIsReadOrIsText) {
  const std::string heads[] = {"11:20:18    INFO ",
                               "\x1b[2m11:20:18\x1b[0m \x1b[1m   INFO\x1b[0m \x1b[1m\x1b[22m"};
  for (const auto& head : heads)
    for (int b = 0; b < 256; ++b) {
      if (b == '\n' || b == '\r') continue;  // separators: the tag starts its own segment (below)
      SCOPED_TRACE(testing::Message()
                   << "byte 0x" << std::hex << b << " after " << printable(head));
      Event ev;
      // Kept alive: the result's message is a view into the line.
      const std::string line = head + std::string(1, static_cast<char>(b)) + kDoneTail;
      auto r = parse_line(line, ev);
      if (b > ' ' && b < 0x7F) {
        EXPECT_EQ(r.outcome, parse::Outcome::none);
        EXPECT_EQ(r.unreadable, 0u);
        continue;
      }
      expect_the_done_event(r, ev);
      EXPECT_EQ(r.unreadable, b == ' ' || b == '\t' ? 0u : 1u);
    }
}

// Runs of such bytes, and where they stand: between the prefix and the tag, over the blank that
// ends the prefix, before the prefix (a byte-order mark at the start of a file, NULs left by a
// truncation) or inside it. Each is counted whole, and the prefix's time is still read.
TEST(ParseRobustness, RunsOfUnreadableBytesBeforeATagAreCountedWhole) {
  struct Run {
    std::string bytes;
    const char* what;
  };
  const Run runs[] = {{"\xef\xbb\xbf", "byte-order mark"},
                      {"\xef\xbf\xbd", "U+FFFD"},
                      {"\0\0\0"s, "NULs"},
                      {"\xc2\x85", "C1 control NEL"},
                      {"\xc0\xaf", "overlong '/'"},
                      {"\xed\xa0\x80", "surrogate"},
                      {"\xff\x07\xfe\x7f", "mixed"},
                      {"\x1b[38;5", "colour code cut short"},
                      {"\x1b]8;;http://x", "hyperlink cut short"}};
  for (const auto& run : runs) {
    SCOPED_TRACE(run.what);
    const size_t n = run.bytes.size();
    Event ev;
    auto r = parse_line("11:20:18    INFO " + run.bytes + kDoneTail, ev);
    expect_the_done_event(r, ev);
    EXPECT_EQ(r.unreadable, n);
    r = parse_line("11:20:18    INFO" + run.bytes + kDoneTail, ev);  // over the blank
    expect_the_done_event(r, ev);
    EXPECT_EQ(r.unreadable, n);
    if (run.bytes[0] == '\x1b') continue;  // an escape sequence before the time takes the time
    r = parse_line(run.bytes + "11:20:18    INFO " + kDoneTail, ev);
    expect_the_done_event(r, ev);
    EXPECT_EQ(r.unreadable, n);
    r = parse_line("11:20" + run.bytes + ":18    INFO " + kDoneTail, ev);
    expect_the_done_event(r, ev);
    EXPECT_EQ(r.unreadable, n);
    r = parse_line(run.bytes + kDoneTail, ev);  // no prefix at all
    expect_the_done_event(r, ev, -1);
    EXPECT_EQ(r.unreadable, n);
  }
}

// What is not changed: text before the tag (with or without such bytes) keeps a line untagged,
// and the bytes after the tag are the fields' own (a bad byte in a value is bad_number).
TEST(ParseRobustness, UnreadableBytesNeitherMakeTextTaggedNorChangeTheFields) {
  for (std::string line :
       {"Traceback \xff: "s + kDoneTail, "RuntimeError: update \x1b[31m"s + kDoneTail,
        "\xff x"s + kDoneTail, "11:20:18    INFO note \x01"s + kDoneTail,
        "    logger.info(f'\xef\xbb\xbf"s + kDoneTail + "')"}) {
    Event ev;
    auto r = parse_line(line, ev);
    EXPECT_EQ(r.outcome, parse::Outcome::none) << printable(line);
    EXPECT_EQ(r.unreadable, 0u) << printable(line);
  }
  Event ev;
  auto r = parse_line("\xff[gen] batch.done dur_ms=5\xff", ev);
  EXPECT_EQ(r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(r.reason, SkipReason::bad_number);
  EXPECT_EQ(r.unreadable, 1u);
  r = parse_line("\x01[gen] batch.done dur_ms=5 note=\x01", ev);
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_EQ(r.message, "[gen] batch.done dur_ms=5 note=\x01");
}

// JSON lines: the message's own bytes before its tag, decoded from \u escapes.
TEST(ParseRobustness, UnreadableBytesBeforeTheTagOfAJsonMessage) {
  Event ev;
  auto r = parse_line(
      R"({"timestamp": "2025-11-22T11:20:18", "message": "\u0000\ufeff[gen] batch.done dur_ms=5\n"})",
      ev);
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_EQ(r.unreadable, 4u);
  EXPECT_EQ(ev.tod, kTod);
  EXPECT_DOUBLE_EQ(ev.get(Field::dur_ms), 5);
  r = parse_line(R"({"message": "\u001b[gen] batch.done dur_ms=6"})", ev);
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_EQ(r.unreadable, 1u);
  EXPECT_DOUBLE_EQ(ev.get(Field::dur_ms), 6);
  r = parse_line(R"({"message": "see \u0000[gen] batch.done dur_ms=7"})", ev);
  EXPECT_EQ(r.outcome, parse::Outcome::none);
  // Regression (fuzz_parse_segment): the message of a JSON line not read as tagged pointed into a
  // string gone when parse_segment returned.
  EXPECT_EQ(r.message, "see \0[gen] batch.done dur_ms=7"s);
  // Before the record itself (NULs where a truncated file was written again).
  r = parse_line("\0\0 \xef\xbb\xbf"s + R"({"message": "\u0007[gen] batch.done dur_ms=8"})", ev);
  ASSERT_EQ(r.outcome, parse::Outcome::event);
  EXPECT_EQ(r.unreadable, 6u);
  EXPECT_DOUBLE_EQ(ev.get(Field::dur_ms), 8);
  r = parse_line("\xff{\"message\": [gen] batch.done dur_ms=9", ev);
  EXPECT_EQ(r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(r.reason, SkipReason::bad_json);
  EXPECT_EQ(r.unreadable, 1u);
}

// The scanner counts them per file with the lines they were on, the same for any thread count and
// chunk size; '\n' and '\r' before a tag start its segment and lose nothing either.
TEST(ParseRobustness, UnreadableBytesBeforeTagsAreCountedWithTheirLines) {
  std::string text;
  std::vector<uint64_t> lines;
  uint64_t line = 0;
  for (int i = 0; i < 300; ++i) {
    text += "11:20:18    INFO [gen] batch.done dur_ms=1\n";
    text += "11:20:18    INFO \xff[gen] batch.done dur_ms=2\n";
    text += "\0\0"s + "11:20:18    INFO [ckpt] wait.done wait_ms=3\n";
    text += "11:20:18    INFO \r[gen] batch.done dur_ms=4\n";
    text += "11:20:18    INFO chatter \xff [gen] batch.done dur_ms=5\n";
    lines.push_back(line + 2);
    lines.push_back(line + 3);
    line += 5;
  }
  auto ref = scan_text(text);
  EXPECT_EQ(ref.counts.events, 1200u);
  EXPECT_EQ(ref.counts.skipped(), 0u);
  EXPECT_EQ(ref.counts.unreadable_bytes, 900u);
  EXPECT_EQ(ref.counts.unreadable_lines, 600u);
  lines.resize(20);  // Options::max_skip_samples
  EXPECT_EQ(ref.counts.unreadable_samples, lines);
  for (unsigned threads : {1u, 2u, 3u})
    for (size_t chunk : {size_t{256}, size_t{4096}, size_t{65536}}) {
      auto s = scan_text(text, threads, chunk);
      EXPECT_EQ(s.counts.events, ref.counts.events) << threads << " " << chunk;
      EXPECT_EQ(s.counts.unreadable_bytes, ref.counts.unreadable_bytes) << threads << " " << chunk;
      EXPECT_EQ(s.counts.unreadable_lines, ref.counts.unreadable_lines) << threads << " " << chunk;
      EXPECT_EQ(s.counts.unreadable_samples, ref.counts.unreadable_samples)
          << threads << " " << chunk;
    }
}

TEST(ParseRobustness, CrlfAndUnterminatedLastLine) {
  auto s = scan_text("[gen] batch.done dur_ms=5\r\n[gen] batch.done dur_ms=6\r\n[gen] batch.done dur_ms=7");
  EXPECT_EQ(s.counts.lines, 3u);
  ASSERT_EQ(s.events.size(), 3u);
  EXPECT_EQ(s.events[2].line, 3u);
  EXPECT_DOUBLE_EQ(s.events[2].get(Field::dur_ms), 7);
  // A last line cut inside a key name is skipped, not guessed.
  auto cut = scan_text("[gen] batch.done dur_ms=5\n[gen] batch.done dur_");
  EXPECT_EQ(cut.counts.lines, 2u);
  EXPECT_EQ(cut.counts.events, 1u);
  EXPECT_EQ(reason_count(cut.counts, SkipReason::missing_field), 1u);
}

TEST(ParseRobustness, TqdmSegmentsOnOneLine) {
  // Several '\r'-separated segments on one '\n'-line: events may outnumber lines.
  auto s = scan_text("[gen] batch.done dur_ms=1\r[gen] batch.done dur_ms=2\r 50%|##  |\r[gen] batch.done dur_ms=3\n");
  EXPECT_EQ(s.counts.lines, 1u);
  ASSERT_EQ(s.events.size(), 3u);
  for (const auto& e : s.events) EXPECT_EQ(e.line, 1u);
}

TEST(ParseRobustness, LineLongerThanAChunkIsSkippedAndLaterLinesKeepTheirNumbers) {
  std::string text = "[gen] batch.done dur_ms=1\n" + done_with("1 ") + std::string(100000, 'x') +
                     "\n[gen] batch.done dur_ms=2\n" + std::string(50000, ']') + "\n[ckpt] write.done write_ms=3\n";
  for (unsigned threads : {1u, 2u}) {
    auto s = scan_text(text, threads, 4096);
    EXPECT_EQ(s.counts.lines, 5u);
    EXPECT_EQ(reason_count(s.counts, SkipReason::line_too_long), 1u);
    ASSERT_EQ(s.events.size(), 3u);
    EXPECT_EQ(s.events[0].line, 1u);
    EXPECT_EQ(s.events[1].line, 3u);
    EXPECT_EQ(s.events[2].line, 5u);
  }
}

TEST(ParseRobustness, SameCountsForAnyThreadCountAndChunkSize) {
  std::string text;
  for (int i = 0; i < 300; ++i)
    for (const auto& m : malformed_lines()) text += "12:00:0" + std::to_string(i % 10) + "    INFO " + m.line + "\n";
  auto ref = scan_text(text, 1);
  for (unsigned threads : {1u, 2u, 3u}) {
    for (size_t chunk : {size_t{256}, size_t{4096}, size_t{65536}}) {
      auto s = scan_text(text, threads, chunk);
      EXPECT_EQ(s.counts.lines, ref.counts.lines);
      EXPECT_EQ(s.counts.events, ref.counts.events);
      EXPECT_EQ(s.counts.skipped_by_reason, ref.counts.skipped_by_reason) << threads << " " << chunk;
    }
  }
}

TEST(ParseRobustness, EmptyAndUntaggedInputs) {
  auto e = scan_text("");
  EXPECT_EQ(e.counts.lines, 0u);
  EXPECT_EQ(e.counts.bytes, 0u);
  auto u = scan_text("hello\nTraceback (most recent call last):\n  x [weights][abc] client.done\nINFO: 200 OK\n");
  EXPECT_EQ(u.counts.lines, 4u);
  EXPECT_EQ(u.counts.events, 0u);
  EXPECT_EQ(u.counts.skipped(), 0u);
}

TEST(ParseRobustness, TruncatedGzipScanIsPartialWithTheFiguresReadSoFar) {
  std::string log;
  for (int i = 0; i < 20000; ++i) log += "[gen] batch.done dur_ms=" + std::to_string(i % 50) + ".5 inflight=3\n";
  std::string gz = gzip(log);
  for (unsigned threads : {1u, 2u}) {
    auto src = input::memory_source(gz.substr(0, gz.size() * 3 / 4), "orchestrator.log.gz");
    scan::Options opt;
    opt.threads = threads;
    uint64_t events = 0;
    auto counts = scan::scan(*src, 0, opt, [&](const Event&, std::string_view) { ++events; });
    EXPECT_TRUE(counts.partial);
    EXPECT_NE(counts.error.find("orchestrator.log.gz: truncated gzip stream: input ended after "), std::string::npos)
        << counts.error;
    // Regression: the bytes decoded by the failing read were dropped, so this was 0.
    EXPECT_GT(counts.lines, 1000u);
    EXPECT_GT(events, 1000u);
    EXPECT_LT(counts.lines, 20001u);
  }
}

// A compressed input that ends in an error was cut at an arbitrary byte: its unterminated last
// line can end inside a number ("dur_ms=284" of 28453.2) and must not become a sample. It is
// counted as cut_by_error; every complete line before it is read. Cut at every byte of the last
// line, for 1 and 2 threads.
TEST(ParseRobustness, TruncatedCompressedLastLineIsNotReadButCounted) {
  std::string head;
  for (int i = 0; i < 300; ++i) head += "[gen] batch.done dur_ms=" + std::to_string(i % 50) + ".5 inflight=3\n";
  const std::string last = "[gen] batch.done dur_ms=28453.2 inflight=3";
  for (size_t cut = 1; cut < last.size(); cut += 3) {
    std::string text = head + last.substr(0, cut);
    // A gzip stream of exactly these bytes without its 8-byte trailer: decoding delivers all of
    // `text`, then fails as truncated.
    std::string gz = gzip(text);
    std::string cut_gz = gz.substr(0, gz.size() - 8);
    for (unsigned threads : {1u, 2u}) {
      auto src = input::memory_source(cut_gz, "orchestrator.log.gz");
      scan::Options opt;
      opt.threads = threads;
      std::vector<double> durs;
      auto counts = scan::scan(*src, 0, opt, [&](const Event& ev, std::string_view) {
        durs.push_back(ev.get(Field::dur_ms));
      });
      ASSERT_TRUE(counts.partial) << cut;
      ASSERT_EQ(durs.size(), 300u) << "cut " << cut << ", threads " << threads;
      for (double d : durs) EXPECT_LT(d, 50.0) << "a sample came from the cut line";
      bool tagged = cut >= std::string("[gen]").size();
      EXPECT_EQ(reason_count(counts, SkipReason::cut_by_error), tagged ? 1u : 0u) << "cut " << cut;
      EXPECT_EQ(counts.lines, 301u);
    }
  }
  // A plain (uncompressed) file is not known to be cut: its unterminated last line is read.
  auto src = input::memory_source(head + last, "orchestrator.log");
  uint64_t events = 0;
  auto counts = scan::scan(*src, 0, scan::Options{}, [&](const Event&, std::string_view) { ++events; });
  EXPECT_FALSE(counts.partial);
  EXPECT_EQ(events, 301u);
}

// ---- regressions --------------------------------------------------------------------------

// tests/e2e/test_robustness.sh: two samples of 1e308 made the mean inf + nan, the JSON mean null
// and the status "good". Values beyond 1e15 are now bad_number.
TEST(ParseRobustness, RegressionHugeFiniteValueIsBadNumber) {
  Event ev;
  EXPECT_EQ(skipped_as(done_with("1e308")), "bad_number");
  EXPECT_EQ(skipped_as(done_with("1e16")), "bad_number");
  ASSERT_EQ(parse_line(done_with("1e15"), ev).outcome, parse::Outcome::event);
  EXPECT_DOUBLE_EQ(ev.get(Field::queue_ms), 1e15);
  EXPECT_EQ(skipped_as("[weights][54127134d8134dbd] client.send path=/m t=-1e300"), "bad_number");
}

// A step of 1e300 reached static_cast<int64_t> in the analysis (undefined behaviour).
TEST(ParseRobustness, RegressionHugeStepIsBadNumber) {
  EXPECT_EQ(skipped_as("[ckpt] write.done step=1e300 write_ms=5"), "bad_number");
  EXPECT_EQ(skipped_as("[rollout] current_step=1e19 trunc_pct=1"), "bad_number");
}
