// scan::scan: bytes of one input -> events in file order with '\n' line numbers, and per-file
// counts. The result must not depend on the thread count nor on where chunks end, so generated
// corpora (whose expected events the generator records independently) are scanned with tiny and
// odd chunk sizes and 1, 2 and 4 threads and compared event by event.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/event.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/parse.hpp"
#include "analyze_logs/scan.hpp"
#include "support.hpp"

using namespace alog;
using namespace std::string_literals;

namespace {

using alog::test_support::gzip;
using alog::test_support::zstd;

struct Seen {
  Event ev;
  std::string message;
};

struct Scanned {
  scan::FileCounts counts;
  std::vector<Seen> events;
};

Scanned scan_text(const std::string& text, unsigned threads = 1, size_t chunk = 4u << 20,
                  uint32_t file = 0) {
  Scanned s;
  auto src = input::memory_source(text, "mem.log");
  scan::Options opt;
  opt.threads = threads;
  opt.chunk_bytes = chunk;
  s.counts = scan::scan(*src, file, opt, [&](const Event& ev, std::string_view msg) {
    s.events.push_back({ev, std::string(msg)});
  });
  return s;
}

uint64_t skipped(const scan::FileCounts& c, SkipReason r) {
  return c.skipped_by_reason[static_cast<int>(r)];
}

// Field-by-field equality of two scan results, with a message saying where they first differ.
::testing::AssertionResult same_scan(const Scanned& a, const Scanned& b) {
  if (a.counts.lines != b.counts.lines)
    return ::testing::AssertionFailure() << "lines " << a.counts.lines << " vs " << b.counts.lines;
  if (a.counts.bytes != b.counts.bytes)
    return ::testing::AssertionFailure() << "bytes " << a.counts.bytes << " vs " << b.counts.bytes;
  if (a.counts.events != b.counts.events)
    return ::testing::AssertionFailure()
           << "events " << a.counts.events << " vs " << b.counts.events;
  if (a.counts.noise != b.counts.noise)
    return ::testing::AssertionFailure() << "noise " << a.counts.noise << " vs " << b.counts.noise;
  for (int k = 0; k < kSkipReasonCount; ++k)
    if (a.counts.skipped_by_reason[k] != b.counts.skipped_by_reason[k])
      return ::testing::AssertionFailure()
             << "skipped " << skip_reason_name(static_cast<SkipReason>(k)) << " "
             << a.counts.skipped_by_reason[k] << " vs " << b.counts.skipped_by_reason[k];
  if (a.counts.skip_samples.size() != b.counts.skip_samples.size())
    return ::testing::AssertionFailure() << "skip samples " << a.counts.skip_samples.size()
                                         << " vs " << b.counts.skip_samples.size();
  for (size_t i = 0; i < a.counts.skip_samples.size(); ++i)
    if (a.counts.skip_samples[i].line != b.counts.skip_samples[i].line ||
        a.counts.skip_samples[i].reason != b.counts.skip_samples[i].reason)
      return ::testing::AssertionFailure() << "skip sample " << i << " differs";
  if (a.events.size() != b.events.size())
    return ::testing::AssertionFailure()
           << "event list " << a.events.size() << " vs " << b.events.size();
  for (size_t i = 0; i < a.events.size(); ++i) {
    const Event &x = a.events[i].ev, &y = b.events[i].ev;
    if (x.op != y.op || x.line != y.line || x.file != y.file || x.trace != y.trace ||
        x.present != y.present || x.sentinel != y.sentinel || x.v != y.v || x.tod != y.tod ||
        x.mmdd != y.mmdd || x.has_path != y.has_path || x.path_step != y.path_step ||
        x.rpc_kind != y.rpc_kind || a.events[i].message != b.events[i].message)
      return ::testing::AssertionFailure()
             << "event " << i << " differs (lines " << x.line << " vs " << y.line << ", ops "
             << op_name(x.op) << " vs " << op_name(y.op) << ")";
  }
  return ::testing::AssertionSuccess();
}

// A generated log and what the scan must find in it, computed by the generator itself.
struct Corpus {
  std::string text;
  uint64_t lines = 0;
  std::vector<std::pair<uint64_t, Op>> events;  // (line, op) in order
  uint64_t noise = 0;
  std::array<uint64_t, kSkipReasonCount> skips{};
  size_t longest_segment = 0;
};

class Generator {
 public:
  explicit Generator(uint32_t seed, bool short_only) : rng_(seed), short_only_(short_only) {}

  Corpus make(int lines) {
    for (int i = 0; i < lines; ++i) add_line();
    // Cut the last line mid-write: no '\n' at the end, and it must still be read.
    c_.text += "[ckpt] wait.done target_step=9 wait_ms=7.5";
    segment("[ckpt] wait.done target_step=9 wait_ms=7.5");
    c_.events.push_back({++line_, Op::wait_done});
    c_.lines = line_;
    return std::move(c_);
  }

 private:
  uint32_t pick(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  std::string num() { return std::to_string(pick(100000)) + "." + std::to_string(pick(10)); }
  std::string tid() {
    static const char* hex = "0123456789abcdef";
    std::string s;
    size_t n = short_only_ ? 4 : 16;
    for (size_t i = 0; i < n; ++i) s += hex[pick(16)];
    return s;
  }
  std::string loguru_prefix() {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02u:%02u:%02u    INFO ", pick(24), pick(60), pick(60));
    return buf;
  }
  std::string ansi_loguru(const std::string& msg) {
    char buf[64];
    std::snprintf(buf, sizeof buf,
                  "\x1b[2m%02u:%02u:%02u\x1b[0m \x1b[1m   INFO\x1b[0m \x1b[1m\x1b[22m", pick(24),
                  pick(60), pick(60));
    return buf + msg + "\x1b[0m\x1b[0m";
  }
  void segment(std::string_view s) { c_.longest_segment = std::max(c_.longest_segment, s.size()); }
  // One physical line made of '\r'-separated segments, ended by '\n' (or "\r\n").
  void physical(const std::vector<std::string>& segs, bool crlf = false) {
    for (size_t i = 0; i < segs.size(); ++i) {
      if (i) c_.text += '\r';
      c_.text += segs[i];
      segment(segs[i]);
    }
    c_.text += crlf ? "\r\n" : "\n";
    ++line_;
  }
  void event_line(const std::string& seg, Op op, bool crlf = false) {
    physical({seg}, crlf);
    c_.events.push_back({line_, op});
  }
  void skip_line(const std::string& seg, SkipReason r) {
    physical({seg});
    ++c_.skips[static_cast<int>(r)];
  }

  void add_line() {
    uint32_t kind = pick(short_only_ ? 14 : 20);
    std::string t = tid();
    switch (kind) {
      case 0:
        event_line("[ckpt] write.done step=" + std::to_string(pick(99)) + " write_ms=" + num(),
                   Op::write_done);
        break;
      case 1:
        event_line("[gen] batch.start inflight=" + std::to_string(pick(200)), Op::batch_start);
        break;
      case 2:
        event_line("[gen] batch.done dur_ms=" + num(), Op::batch_done);
        break;
      case 3:
        event_line("[weights][" + t + "] client.send t=" + num(), Op::client_send);
        break;
      case 4:
        event_line("[weights][" + t + "] client.done wall_ms=9 rpc_ms=8 queue_ms=1",
                   Op::client_done);
        break;
      case 5:
        physical({"[weights][-] server.recv t=" + num()});
        ++c_.noise;
        break;
      case 6:
        event_line(loguru_prefix() + "[rollout] staleness=" + std::to_string(pick(9)), Op::rollout);
        break;
      case 7:
        // tqdm: progress updates glued with '\r', a tagged message after the last one.
        physical({"gen 10%|#  ", "gen 20%|## ", "[gen] batch.done dur_ms=" + num()});
        c_.events.push_back({line_, Op::batch_done});
        break;
      case 8:
        event_line("[ckpt] wait.done wait_ms=" + num(), Op::wait_done, /*crlf=*/true);
        break;
      case 9:
        physical({"junk\0\0\xff\xfe bytes ]] [["s});
        break;
      case 10:
        skip_line("[ckpt] write.done write_ms=1.2.3", SkipReason::bad_number);
        break;
      case 11:
        skip_line("[weights][xyz] client.send t=1", SkipReason::bad_trace_id);
        break;
      case 12:
        physical({"Step " + std::to_string(pick(99)) + " | Time: " + num() + "s"});
        break;
      case 13:
        physical({"x [gen] batch.done dur_ms=5"});
        break;  // tag not at the start
      case 14:
        event_line(ansi_loguru("[weights][" + t + "] client.done wall_ms=" + num() +
                               " rpc_ms=" + num() + " queue_ms=-1.0"),
                   Op::client_done);
        break;
      case 15:
        event_line("INFO 10-14 18:30:47 [server.py:88] [weights][" + t +
                       "] rpc.done op=update_weights t=" + num() + " rpc_ms=" + num(),
                   Op::rpc_done);
        break;
      case 16:
        event_line(
            R"({"timestamp": "2025-10-14T18:30:47Z", "level": "INFO", "message": "[gen] batch.done dur_ms=)" +
                num() + R"("})",
            Op::batch_done);
        break;
      case 17:
        event_line("[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=" + num(),
                   Op::write_done);
        break;
      case 18:
        physical({"Traceback (most recent call last):"});
        physical({"  File \"/a.py\", line 1, in f"});
        physical({"ValueError: [weights][" + t + "] client.done wall_ms=1 rpc_ms=1 queue_ms=1"});
        break;
      default:
        skip_line(loguru_prefix() + "[weights][" + t + "] client.done wall_ms=5 rpc_ms=1",
                  SkipReason::missing_field);
        break;
    }
  }

  std::mt19937 rng_;
  bool short_only_;
  Corpus c_;
  uint64_t line_ = 0;
};

void expect_matches_corpus(const Scanned& s, const Corpus& c) {
  EXPECT_EQ(s.counts.lines, c.lines);
  EXPECT_EQ(s.counts.bytes, c.text.size());
  EXPECT_EQ(s.counts.noise, c.noise);
  for (int k = 0; k < kSkipReasonCount; ++k)
    EXPECT_EQ(s.counts.skipped_by_reason[k], c.skips[k])
        << skip_reason_name(static_cast<SkipReason>(k));
  EXPECT_EQ(s.counts.events, c.events.size());
  ASSERT_EQ(s.events.size(), c.events.size());
  for (size_t i = 0; i < c.events.size(); ++i) {
    EXPECT_EQ(s.events[i].ev.line, c.events[i].first) << "event " << i;
    EXPECT_EQ(s.events[i].ev.op, c.events[i].second) << "event " << i;
  }
}

}  // namespace

// ---- Line numbers and segments ----------------------------------------------------------------

TEST(ScanLines, LineNumbersCountNewlinesFromOne) {
  auto s = scan_text("hello\n[ckpt] write.done step=1 write_ms=5\n\n[gen] batch.done dur_ms=7\n");
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].ev.line, 2u);
  EXPECT_EQ(s.events[1].ev.line, 4u);
  EXPECT_EQ(s.counts.lines, 4u);
  EXPECT_EQ(s.counts.events, 2u);
}

TEST(ScanLines, TaggedMessageAfterCarriageReturnOnATqdmLine) {
  auto s = scan_text(
      "start\n 10%|#   | 1/10\r 20%|##  | 2/10\r11:22:20    INFO [gen] batch.done dur_ms=5\r "
      "30%|###\nend\n");
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].ev.line, 2u);  // '\r' does not start a new line number
  EXPECT_EQ(s.events[0].ev.op, Op::batch_done);
  EXPECT_EQ(s.events[0].message, "[gen] batch.done dur_ms=5");
  EXPECT_EQ(s.counts.lines, 3u);
}

TEST(ScanLines, SeveralTaggedSegmentsOnOnePhysicalLine) {
  auto s =
      scan_text("[gen] batch.start inflight=1\r[gen] batch.done dur_ms=2\r[ckpt] wait.start\n");
  ASSERT_EQ(s.events.size(), 3u);
  for (const auto& e : s.events) EXPECT_EQ(e.ev.line, 1u);
  EXPECT_EQ(s.events[0].ev.op, Op::batch_start);
  EXPECT_EQ(s.events[1].ev.op, Op::batch_done);
  EXPECT_EQ(s.events[2].ev.op, Op::wait_start);
}

TEST(ScanLines, CrlfLineEndings) {
  auto s = scan_text(
      "a\r\n[ckpt] wait.done target_step=1 wait_ms=12.3\r\n[gen] batch.done dur_ms=4\r\n");
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].ev.line, 2u);
  EXPECT_DOUBLE_EQ(s.events[0].ev.get(Field::wait_ms), 12.3);
  EXPECT_EQ(s.events[1].ev.line, 3u);
  EXPECT_DOUBLE_EQ(s.events[1].ev.get(Field::dur_ms), 4);
  EXPECT_EQ(s.counts.lines, 3u);
  EXPECT_EQ(s.counts.skipped(), 0u);
}

TEST(ScanLines, TruncatedLastLineIsStillRead) {
  auto s = scan_text("x\n[weights][ab] client.done wall_ms=10 rpc_ms=8 queue_ms=2");
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].ev.line, 2u);
  EXPECT_DOUBLE_EQ(s.events[0].ev.get(Field::queue_ms), 2);
  EXPECT_EQ(s.counts.lines, 2u);
}

TEST(ScanLines, TruncatedLastLineCutInsideAFieldIsSkippedNotFatal) {
  auto s = scan_text("[gen] batch.done dur_ms=3\n[weights][ab] client.done wall_ms=10 rpc_");
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(skipped(s.counts, SkipReason::missing_field), 1u);
  EXPECT_EQ(s.counts.lines, 2u);
}

TEST(ScanLines, EmptyInputAndLoneNewline) {
  auto e = scan_text("");
  EXPECT_EQ(e.counts.lines, 0u);
  EXPECT_EQ(e.counts.events, 0u);
  EXPECT_EQ(e.counts.bytes, 0u);
  auto n = scan_text("\n");
  EXPECT_EQ(n.counts.lines, 1u);
}

TEST(ScanLines, NulBytesAndBinaryGarbageDoNotStopTheScan) {
  std::string text = "\0\0\0\xff\xfe\x01 binary ] [weights] \x80\x81\n"s;
  text += std::string(1000, '\0') + "\n";
  text += "[ckpt] write.done step=3 write_ms=823.4\n";
  auto s = scan_text(text);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].ev.line, 3u);
  EXPECT_EQ(s.counts.lines, 3u);
}

TEST(ScanLines, UntaggedLineLongerThanOneMegabyte) {
  std::string text = "[gen] batch.done dur_ms=1\n" + std::string(1536 * 1024, 'x') +
                     "\n[gen] batch.done dur_ms=2\n";
  auto s = scan_text(text);
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[1].ev.line, 3u);
  EXPECT_EQ(s.counts.skipped(), 0u);
  EXPECT_EQ(s.counts.lines, 3u);
}

TEST(ScanLines, TaggedLineLongerThanOneMegabyteWithDefaultChunks) {
  // A dumped config after the fields: the line is 1.5 MB but fits the default chunk.
  std::string text =
      "[ckpt] write.done step=1 write_ms=5 config=" + std::string(1536 * 1024, 'y') + "\nend\n";
  auto s = scan_text(text);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_DOUBLE_EQ(s.events[0].ev.get(Field::write_ms), 5);
  EXPECT_EQ(s.counts.lines, 2u);
}

// ---- Segments longer than a chunk --------------------------------------------------------------

TEST(ScanChunks, TaggedSegmentLongerThanAChunkIsLineTooLong) {
  std::string text = "[gen] batch.done dur_ms=1\n[ckpt] write.done step=1 write_ms=5 blob=" +
                     std::string(5000, 'z') + "\n[gen] batch.done dur_ms=2\n";
  for (unsigned threads : {1u, 2u, 4u}) {
    auto s = scan_text(text, threads, 1024);
    EXPECT_EQ(skipped(s.counts, SkipReason::line_too_long), 1u) << threads;
    EXPECT_EQ(s.counts.skipped(), 1u);
    ASSERT_EQ(s.events.size(), 2u);
    EXPECT_EQ(s.events[0].ev.line, 1u);
    EXPECT_EQ(s.events[1].ev.line, 3u);
    EXPECT_EQ(s.counts.lines, 3u);
    ASSERT_EQ(s.counts.skip_samples.size(), 1u);
    EXPECT_EQ(s.counts.skip_samples[0].line, 2u);
  }
}

TEST(ScanChunks, UntaggedSegmentLongerThanAChunkIsNotSkipped) {
  std::string text = "[gen] batch.done dur_ms=1\n" + std::string(5000, 'z') + "\r" +
                     std::string(3000, 'q') + "\n[gen] batch.done dur_ms=2\n";
  for (unsigned threads : {1u, 2u, 4u}) {
    auto s = scan_text(text, threads, 1024);
    EXPECT_EQ(s.counts.skipped(), 0u);
    ASSERT_EQ(s.events.size(), 2u);
    EXPECT_EQ(s.events[1].ev.line, 3u);
    EXPECT_EQ(s.counts.lines, 3u);
  }
}

TEST(ScanChunks, TaggedSegmentAfterTheTailOfALongSegment) {
  // The long segment ends with '\r' and the tagged one follows on the same physical line.
  std::string text = std::string(3000, 'z') + "\r[gen] batch.done dur_ms=9\nnext\n";
  for (size_t chunk : {64u, 100u, 1024u, 4096u}) {
    auto s = scan_text(text, 1, chunk);
    ASSERT_EQ(s.events.size(), 1u) << chunk;
    EXPECT_EQ(s.events[0].ev.line, 1u);
    EXPECT_EQ(s.counts.lines, 2u);
  }
}

TEST(ScanChunks, TinyChunksOnShortSegmentsGiveTheSameResult) {
  Corpus c = Generator(7, /*short_only=*/true).make(3000);
  ASSERT_LT(c.longest_segment, 63u) << "the corpus must fit a 64-byte chunk";
  auto ref = scan_text(c.text, 1, 1u << 22);
  expect_matches_corpus(ref, c);
  for (size_t chunk : {7u, 64u, 65u, 100u, 4096u})
    for (unsigned threads : {1u, 2u, 4u})
      EXPECT_TRUE(same_scan(ref, scan_text(c.text, threads, chunk)))
          << "chunk " << chunk << " threads " << threads;
}

TEST(ScanChunks, RealisticCorpusIsIndependentOfChunkSizeAndThreads) {
  Corpus c = Generator(42, /*short_only=*/false).make(4000);
  ASSERT_LT(c.longest_segment, 255u);
  auto ref = scan_text(c.text, 1, 1u << 22);
  expect_matches_corpus(ref, c);
  for (size_t chunk : {256u, 257u, 1000u, 4093u, 65536u})
    for (unsigned threads : {1u, 2u, 4u})
      EXPECT_TRUE(same_scan(ref, scan_text(c.text, threads, chunk)))
          << "chunk " << chunk << " threads " << threads;
}

TEST(ScanChunks, ThreadCountNeverChangesTheResultEvenWithLongSegments) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "[gen] batch.done dur_ms=" + std::to_string(i) + "\n";
    if (i % 17 == 0)
      text += "[ckpt] write.done write_ms=1 blob=" + std::string(700 + i, 'b') + "\n";
    if (i % 23 == 0) text += std::string(900, 'u') + "\r[ckpt] wait.start\n";
  }
  for (size_t chunk : {64u, 300u, 512u}) {
    auto ref = scan_text(text, 1, chunk);
    EXPECT_GT(skipped(ref.counts, SkipReason::line_too_long), 0u);
    for (unsigned threads : {2u, 4u})
      EXPECT_TRUE(same_scan(ref, scan_text(text, threads, chunk))) << chunk;
  }
}

TEST(ScanChunks, LineCountIsTheSameForEveryChunkSize) {
  Corpus c = Generator(3, /*short_only=*/false).make(1500);
  c.text += '\n';
  c.text.append(10000, 'L');
  c.text += '\n';
  uint64_t lines = c.lines + 1;  // the unterminated last line gets its '\n', then one more line
  for (size_t chunk : {7u, 64u, 333u, 4096u, 1u << 20})
    EXPECT_EQ(scan_text(c.text, 2, chunk).counts.lines, lines) << chunk;
}

// ---- Counts -----------------------------------------------------------------------------------

TEST(ScanCounts, NoiseIsCountedNeitherAsEventNorAsSkip) {
  auto s = scan_text(
      "INFO 10-14 18:30:47 [server.py:88] [weights][-] server.recv path=/v1/chat/completions "
      "t=53712.9012\n"
      "INFO 10-14 18:30:47 [server.py:88] [weights][-] server.recv path=/v1/chat/completions "
      "t=53712.9013\n"
      "INFO 10-14 18:30:47 [server.py:88] [weights][abcd] server.recv path=/update_weights "
      "t=53712.9014\n");
  EXPECT_EQ(s.counts.noise, 2u);
  EXPECT_EQ(s.counts.events, 1u);
  EXPECT_EQ(s.counts.skipped(), 0u);
}

TEST(ScanCounts, SkipsCountedPerReasonWithTheirLines) {
  std::string text =
      "[gen] batch.done dur_ms=abc\n"                  // 1 bad_number
      "[gen] batch.done dur_ms=-4\n"                   // 2 negative_value
      "[gen] batch.done dur_ms=4 dur_ms=5\n"           // 3 duplicate_field
      "[weights][nothex] client.send t=1\n"            // 4 bad_trace_id
      "[ckpt] write.begin write_ms=1\n"                // 5 unknown_op
      "[ckpt] write.done step=1\n"                     // 6 missing_field
      "{\"message\": \"[gen] batch.done dur_ms=1\"\n"  // 7 bad_json
      "[gen] batch.done dur_ms=4\n";                   // 8 event
  auto s = scan_text(text);
  EXPECT_EQ(s.counts.events, 1u);
  EXPECT_EQ(s.counts.skipped(), 7u);
  const SkipReason order[] = {SkipReason::bad_number,      SkipReason::negative_value,
                              SkipReason::duplicate_field, SkipReason::bad_trace_id,
                              SkipReason::unknown_op,      SkipReason::missing_field,
                              SkipReason::bad_json};
  ASSERT_EQ(s.counts.skip_samples.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(skipped(s.counts, order[i]), 1u) << skip_reason_name(order[i]);
    EXPECT_EQ(s.counts.skip_samples[i].line, i + 1);
    EXPECT_EQ(s.counts.skip_samples[i].reason, order[i]);
  }
}

TEST(ScanCounts, SkipSamplesAreCappedButCountsAreNot) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "[gen] batch.done dur_ms=x\n";
  auto src = input::memory_source(text);
  scan::Options opt;
  opt.max_skip_samples = 5;
  auto counts = scan::scan(*src, 0, opt, [](const Event&, std::string_view) {});
  EXPECT_EQ(counts.skip_samples.size(), 5u);
  EXPECT_EQ(skipped(counts, SkipReason::bad_number), 50u);
  EXPECT_EQ(counts.skip_samples[4].line, 5u);
}

TEST(ScanCounts, FileIndexIsSetOnEveryEvent) {
  auto s = scan_text("[gen] batch.done dur_ms=1\n[gen] batch.done dur_ms=2\n", 1, 4u << 20, 7);
  ASSERT_EQ(s.events.size(), 2u);
  for (const auto& e : s.events) EXPECT_EQ(e.ev.file, 7u);
}

TEST(ScanCounts, MessageHasPrefixAndColoursRemoved) {
  auto s = scan_text(
      "\x1b[2m18:30:47\x1b[0m \x1b[1m   INFO\x1b[0m \x1b[1m\x1b[22m[gen] batch.done "
      "dur_ms=5\x1b[0m\x1b[0m\n");
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].message, "[gen] batch.done dur_ms=5");
}

TEST(ScanCounts, GzipInputGivesTheSameResultAsPlain) {
  Corpus c = Generator(11, /*short_only=*/false).make(2000);
  std::string gz = gzip(c.text);
  auto ref = scan_text(c.text, 1, 1u << 22);
  for (size_t chunk : {300u, 4096u, 1u << 20})
    for (unsigned threads : {1u, 4u}) {
      auto s = scan_text(gz, threads, chunk);
      EXPECT_TRUE(same_scan(ref, s)) << chunk << " " << threads;
      EXPECT_FALSE(s.counts.partial);
    }
}

TEST(ScanCounts, TruncatedGzipKeepsWhatWasReadAndSaysPartial) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "[gen] batch.done dur_ms=" + std::to_string(i) + "\n";
  std::string gz = gzip(text);
  gz.resize(gz.size() / 2);
  auto s = scan_text(gz);
  EXPECT_TRUE(s.counts.partial);
  EXPECT_FALSE(s.counts.error.empty());
  EXPECT_GT(s.events.size(), 100u);
  EXPECT_LT(s.events.size(), 20000u);
  for (size_t i = 0; i < s.events.size(); ++i) ASSERT_EQ(s.events[i].ev.line, i + 1);
}

TEST(ScanNewlines, CountNewlinesMatchesANaiveCount) {
  std::mt19937 rng(1);
  std::string buf(10000, '\0');
  for (auto& ch : buf) ch = (rng() % 7 == 0) ? '\n' : static_cast<char>(rng() % 256);
  for (size_t off : {0u, 1u, 15u, 63u})
    for (size_t len : {0u, 1u, 63u, 64u, 65u, 1000u, 9000u}) {
      uint64_t naive = 0;
      for (size_t i = off; i < off + len; ++i) naive += buf[i] == '\n';
      EXPECT_EQ(scan::count_newlines(buf.data() + off, len), naive) << off << "+" << len;
    }
}

TEST(ScanKernels, VectorKernelsFindWhatTheScalarOneFinds) {
  // Buffers stitched from tags, step-budget words, their near misses (which pass the vector test
  // and fail the exact one) and filler, at every alignment: each kernel must stop at the same
  // byte and count the same line ends before it, whichever side of a 64-byte block a pattern
  // falls on.
  const std::vector<std::string> pieces = {
      "[weights]", "[ckpt]", "[gen]", "[rollout]", "[weight]", "[ckp]", "c]", "d]", "s]", "t]", "n]",
      "Step 3 | 4.1s | Reward 1", "Stop", "Ste", "Saving checkpoint", "Saving", "Starting evals", "Starts",
      "Orchestrator ", "Orc", "Hit async barrier", "Hitch", "Holding batch", "Hold", "Pausing dispatcher",
      "Pause", "Resuming dispatcher", "Rest", "Waited for ", "Wait", "Weights broadcasted", "Weigh",
      "Updated weights", "Update", "Evaluated ", "Evals", "\"step\"", "\"stop\"", "\"st", "\n", "\n", "\r",
      " ", "x", "INFO ", "\x1b[1m", "0123456789abcdef", "tpS", "\xff\xfe"};
  std::mt19937 rng(7);
  int found = 0;
  for (int round = 0; round < 400; ++round) {
    std::string buf;
    size_t want = 1 + rng() % 600;
    while (buf.size() < want) {
      const std::string& piece = pieces[rng() % pieces.size()];
      // Mostly filler, so that most rounds run whole 64-byte blocks before the first stop.
      buf += rng() % 4 ? std::string(rng() % 70, "abcdefgh ][tsn"[rng() % 14]) : piece;
    }
    for (size_t from : {size_t{0}, size_t{1}, size_t{5}, buf.size() / 2}) {
      if (from > buf.size()) continue;
      const char* b = buf.data();
      const char* e = b + buf.size();
      uint64_t nl_scalar = 0;
      const char* want_at = scan::find_tag_close_with("scalar", b, b + from, e, &nl_scalar);
      found += want_at != nullptr;
      for (std::string_view kernel : {"ssse3", "avx2"}) {
        uint64_t nl = 0;
        const char* got = scan::find_tag_close_with(kernel, b, b + from, e, &nl);
        ASSERT_EQ(got, want_at) << kernel << " round " << round << " from " << from;
        ASSERT_EQ(nl, nl_scalar) << kernel << " round " << round << " from " << from;
      }
    }
  }
  EXPECT_GT(found, 300);  // the rounds do reach candidates
}

TEST(ScanKernels, EveryStepWordAndTagIsFoundPastTheFirstVectorBlock) {
  // Each pattern after 0..130 bytes of filler: inside the first block, across a block boundary,
  // and in the scalar tail. Near misses are not stops.
  const std::vector<std::string> hits = {
      "[weights]", "[ckpt]", "[gen]", "[rollout]", "Step 3 |", "Saving checkpoint at step 3",
      "Starting evals", "Orchestrator paused", "Hit async barrier", "Holding batch 3",
      "Pausing dispatcher", "Resuming dispatcher", "Waited for checkpoint 3", "Weights broadcasted in 1s",
      "Updated weights to step 3", "Evaluated gsm8k", "{\"step\": 3}"};
  const std::vector<std::string> misses = {"[weight]", "Stop 3", "Saving", "Starting", "Orchestra",
                                           "Hit", "Holding", "Pausing", "Resuming", "Waiting for",
                                           "Weights", "Updated", "Evaluate", "{\"stop\": 3}", "[ckpt"};
  for (std::string_view kernel : {"scalar", "ssse3", "avx2"}) {
    for (size_t pad = 0; pad <= 130; ++pad) {
      for (const auto& h : hits) {
        std::string buf = std::string(pad, 'x') + "\n" + h + " tail\n";
        uint64_t nl = 0;
        const char* q = scan::find_tag_close_with(kernel, buf.data(), buf.data(), buf.data() + buf.size(), &nl);
        ASSERT_NE(q, nullptr) << kernel << " " << h << " after " << pad;
        EXPECT_GE(q, buf.data() + pad + 1) << kernel << " " << h;
        EXPECT_LT(q, buf.data() + pad + 1 + h.size()) << kernel << " " << h;
        EXPECT_EQ(nl, 1u) << kernel << " " << h;
      }
      for (const auto& m : misses) {
        std::string buf = std::string(pad, 'x') + "\n" + m + " tail\n";
        uint64_t nl = 0;
        EXPECT_EQ(scan::find_tag_close_with(kernel, buf.data(), buf.data(), buf.data() + buf.size(), &nl), nullptr)
            << kernel << " " << m << " after " << pad;
        EXPECT_EQ(nl, 2u);
      }
    }
  }
}

TEST(ScanChunks, TaggedSegmentWhoseTagStartsBeyondTheFirstChunkIsLineTooLong) {
  // A long prefix pushes the tag past the first chunk of the segment: still a tagged segment
  // longer than a chunk, so it must be counted as line_too_long, not silently dropped.
  std::string line =
      "2025-10-14 18:30:47.123 | INFO     | prime_rl.orchestrator.client:update_weights:88 - "
      "[weights][54127134d8134dbd] client.done wall_ms=447.9 rpc_ms=422.5 queue_ms=25.4";
  std::string text = "[gen] batch.done dur_ms=1\n" + line + "\n[gen] batch.done dur_ms=2\n";
  auto big = scan_text(text, 1, 4096);
  ASSERT_EQ(big.events.size(), 3u);  // fits a 4 KiB chunk: an event
  for (unsigned threads : {1u, 2u}) {
    auto s = scan_text(text, threads, 64);
    EXPECT_EQ(skipped(s.counts, SkipReason::line_too_long), 1u) << threads;
    EXPECT_EQ(s.events.size(), 2u);
    EXPECT_EQ(s.counts.lines, 3u);
  }
}

TEST(ScanNewlines, AllNewlinesOverLongBuffers) {
  // Dense newlines stress any per-lane byte counters of a vector kernel.
  std::string buf(100016, '\n');
  for (size_t off : {0u, 1u, 7u})
    for (size_t len : {8063u, 8064u, 8065u, 16129u, 100000u})
      EXPECT_EQ(scan::count_newlines(buf.data() + off, len), len);
}

// ---- Positional reads (pread of disjoint ranges of a regular file) -----------------------------
// A regular file is read by ranges on every thread at once; a memory source goes through the
// sequential read(2) pipeline. The two must agree on everything, for every chunk and range size.

namespace {

Scanned scan_file(const std::string& path, unsigned threads, size_t chunk, size_t read_bytes,
                  const std::function<void(uint64_t, uint64_t)>& progress = {}) {
  Scanned s;
  auto src = input::open_source(path);
  EXPECT_TRUE(src->positional().has_value()) << "a plain regular file reads positionally";
  scan::Options opt;
  opt.threads = threads;
  opt.chunk_bytes = chunk;
  opt.read_bytes = read_bytes;
  opt.progress = progress;
  s.counts = scan::scan(*src, 0, opt, [&](const Event& ev, std::string_view msg) {
    s.events.push_back({ev, std::string(msg)});
  });
  return s;
}

}  // namespace

TEST(ScanPositional, CorporaGiveTheSameResultAsSequentialReads) {
  test_support::TempDir dir;
  for (bool short_only : {true, false}) {
    Corpus c = Generator(short_only ? 5 : 9, short_only).make(3000);
    auto path = dir.write(short_only ? "short.log" : "real.log", c.text).string();
    auto ref = scan_text(c.text, 1, 1u << 22);
    expect_matches_corpus(ref, c);
    for (size_t chunk : {64u, 257u, 1000u, 4096u, 1u << 22})
      for (size_t rb : {64u, 100u, 333u, 4096u, 512u << 10})
        for (unsigned threads : {1u, 2u, 4u}) {
          if (!short_only && chunk < 257u) continue;  // the realistic corpus has segments up to 255 bytes
          EXPECT_TRUE(same_scan(ref, scan_file(path, threads, chunk, rb)))
              << "short " << short_only << " chunk " << chunk << " read " << rb << " threads " << threads;
        }
  }
}

TEST(ScanPositional, LongSegmentsAreJudgedLikeSequentialReads) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "[gen] batch.done dur_ms=" + std::to_string(i) + "\n";
    if (i % 17 == 0) text += "[ckpt] write.done write_ms=1 blob=" + std::string(700 + i, 'b') + "\n";
    if (i % 23 == 0) text += std::string(900, 'u') + "\r[ckpt] wait.start\n";
    if (i % 31 == 0) text += "[ckpt] write.done write_ms=1 big=" + std::string(9000 + i, 'x') + "\n";
  }
  text += "[gen] batch.done dur_ms=7 tail=" + std::string(6000, 't');  // unterminated and over-long
  test_support::TempDir dir;
  auto path = dir.write("long.log", text).string();
  for (size_t chunk : {64u, 300u, 512u, 4096u, 1u << 20}) {
    auto ref = scan_text(text, 1, chunk);
    if (chunk < 4096u) {
      EXPECT_GT(skipped(ref.counts, SkipReason::line_too_long), 0u) << chunk;
    }
    for (size_t rb : {64u, 200u, 4096u})
      for (unsigned threads : {1u, 2u, 4u})
        EXPECT_TRUE(same_scan(ref, scan_file(path, threads, chunk, rb))) << chunk << " " << rb << " " << threads;
  }
}

TEST(ScanPositional, UnterminatedLastLineAndCrlfLikeSequentialReads) {
  std::string text = "[gen] batch.done dur_ms=1\r\n[gen] batch.done dur_ms=2\r\nx\r[gen] batch.done dur_ms=3";
  test_support::TempDir dir;
  auto path = dir.write("crlf.log", text).string();
  auto ref = scan_text(text);
  ASSERT_EQ(ref.events.size(), 3u);
  EXPECT_EQ(ref.counts.lines, 3u);
  for (size_t rb : {64u, 4096u})
    for (unsigned threads : {1u, 2u}) EXPECT_TRUE(same_scan(ref, scan_file(path, threads, 64, rb)));
}

TEST(ScanPositional, FileThatShrinksWhileReadKeepsWhatWasReadAndSaysPartial) {
  std::string text;
  for (int i = 0; i < 4000; ++i) text += "[gen] batch.done dur_ms=" + std::to_string(i) + ".5\n";
  test_support::TempDir dir;
  auto path = dir.write("shrinks.log", text).string();
  // Cut the file in the middle of a line while the first range is being handed out (the
  // progress callback runs under the read lock, right after the range is reserved).
  size_t cut = 20000 + 7;
  ASSERT_NE(text[cut - 1], '\n');
  bool done = false;
  auto s = scan_file(path, 1, 1u << 20, 64u << 10, [&](uint64_t, uint64_t) {
    if (!done) std::filesystem::resize_file(path, cut);
    done = true;
  });
  EXPECT_TRUE(s.counts.partial);
  EXPECT_NE(s.counts.error.find("shrank while it was read"), std::string::npos) << s.counts.error;
  EXPECT_NE(s.counts.error.find("shrinks.log"), std::string::npos) << s.counts.error;
  // Every whole line before the cut was read; the line cut in two was not parsed.
  auto ref = scan_text(text.substr(0, text.rfind('\n', cut - 1) + 1));
  ASSERT_EQ(s.events.size(), ref.events.size());
  for (size_t i = 0; i < s.events.size(); ++i) ASSERT_EQ(s.events[i].ev.line, i + 1);
  EXPECT_EQ(skipped(s.counts, SkipReason::cut_by_error), 1u);
  EXPECT_EQ(s.counts.bytes, cut);
}

TEST(ScanPositional, CompressedAndMemorySourcesAreNotPositional) {
  test_support::TempDir dir;
  auto gz = dir.write("a.log.gz", gzip("[gen] batch.done dur_ms=1\n")).string();
  EXPECT_FALSE(input::open_source(gz)->positional().has_value());
  EXPECT_FALSE(input::memory_source("x\n")->positional().has_value());
  auto empty = dir.write("empty.log", "").string();
  EXPECT_FALSE(input::open_source(empty)->positional().has_value());
  auto plain = dir.write("p.log", "abc\n").string();
  auto pos = input::open_source(plain)->positional();
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->begin, 0u);
  EXPECT_EQ(pos->end, 4u);
}

// ---- Read-ahead ---------------------------------------------------------------------------------
// A compressed input is decompressed on a thread of its own ahead of the scan
// (ByteSource::read_ahead, Options::read_ahead). The figures must be those of the scan that reads
// the decoder directly: for intact streams (the plain text's), and for truncated and corrupt ones
// (the same events, counts, partial flag and error message).

namespace {


Scanned scan_compressed(const std::string& bytes, const std::string& name, unsigned threads, size_t chunk,
                        bool read_ahead, std::vector<uint64_t>* progress = nullptr) {
  Scanned s;
  auto src = input::memory_source(bytes, name);
  scan::Options opt;
  opt.threads = threads;
  opt.chunk_bytes = chunk;
  opt.read_ahead = read_ahead;
  if (progress) opt.progress = [progress](uint64_t done, uint64_t) { progress->push_back(done); };
  s.counts = scan::scan(*src, 0, opt, [&](const Event& ev, std::string_view msg) {
    s.events.push_back({ev, std::string(msg)});
  });
  return s;
}

::testing::AssertionResult same_ending(const Scanned& a, const Scanned& b) {
  if (a.counts.partial != b.counts.partial)
    return ::testing::AssertionFailure() << "partial " << a.counts.partial << " vs " << b.counts.partial;
  if (a.counts.error != b.counts.error)
    return ::testing::AssertionFailure() << "error '" << a.counts.error << "' vs '" << b.counts.error << "'";
  return same_scan(a, b);
}

}  // namespace

TEST(ScanReadAhead, CompressedCorpusGivesThePlainFiguresWithAndWithoutReadAhead) {
  Corpus c = Generator(21, /*short_only=*/false).make(6000);
  auto ref = scan_text(c.text, 1, 1u << 22);
  expect_matches_corpus(ref, c);
  const std::string gz = gzip(c.text), zs = zstd(c.text);
  for (const auto* data : {&gz, &zs})
    for (size_t chunk : {300u, 4096u, 1u << 20})
      for (unsigned threads : {1u, 2u, 4u})
        for (bool ahead : {false, true}) {
          auto s = scan_compressed(*data, "c.log", threads, chunk, ahead);
          EXPECT_TRUE(same_ending(ref, s)) << (data == &gz ? "gz" : "zst") << " chunk " << chunk
                                           << " threads " << threads << " ahead " << ahead;
        }
}

TEST(ScanReadAhead, TruncatedAndCorruptStreamsKeepTheSameFiguresAndError) {
  std::string text;
  for (int i = 0; i < 60000; ++i)
    text += "[gen] batch.done dur_ms=" + std::to_string(i % 977) + ".5 inflight=" + std::to_string(i % 13) + "\n";
  std::vector<std::pair<std::string, std::string>> inputs;  // (bytes, name)
  std::string gz = gzip(text), zs = zstd(text);
  inputs.emplace_back(gz.substr(0, gz.size() / 2), "orchestrator.log.gz");
  inputs.emplace_back(zs.substr(0, zs.size() / 2), "orchestrator.log.zst");
  inputs.emplace_back(gz.substr(0, gz.size() - 8), "no-trailer.log.gz");
  std::string bad_gz = gz;
  bad_gz[bad_gz.size() / 3] ^= 0x20;
  inputs.emplace_back(bad_gz, "bad.log.gz");
  std::string bad_zs = zs;
  bad_zs[bad_zs.size() / 3] ^= 0x20;
  inputs.emplace_back(bad_zs, "bad.log.zst");
  for (const auto& [data, name] : inputs)
    for (unsigned threads : {1u, 2u}) {
      auto direct = scan_compressed(data, name, threads, 4u << 20, false);
      auto ahead = scan_compressed(data, name, threads, 4u << 20, true);
      EXPECT_TRUE(direct.counts.partial) << name;
      EXPECT_TRUE(direct.counts.error.starts_with(name + ": ")) << direct.counts.error;
      EXPECT_GT(direct.counts.lines, 1000u) << name;
      EXPECT_TRUE(same_ending(direct, ahead)) << name << " threads " << threads;
    }
}

TEST(ScanReadAhead, ProgressCountsTheCompressedBytesBehindTheScan) {
  Corpus c = Generator(22, /*short_only=*/false).make(100000);
  const std::string zs = zstd(c.text);
  std::vector<uint64_t> progress;
  auto s = scan_compressed(zs, "p.log.zst", 2, 4u << 20, true, &progress);
  EXPECT_FALSE(s.counts.partial);
  ASSERT_GE(progress.size(), 2u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_LT(progress.front(), zs.size());
  EXPECT_EQ(progress.back(), zs.size());
}
