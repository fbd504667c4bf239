// Fuzzes the chunked parallel scanner: scan::scan over input::memory_source with a tiny chunk
// size (so segments straddle chunks, exceed them, and '\r' / '\n' land on every boundary) and one
// or two worker threads.
//
// Input layout: byte 0 picks the chunk size (64..1087 bytes) and the thread count; the rest is the
// log. Invariants checked:
//   - events <= segments ('\n' + '\r' + 1: a tqdm line glues several segments, so "events <= lines
//     + 1" holds only without '\r'); every event's line is in [1, lines] and never decreases;
//   - for plain input: bytes == input size, lines == '\n' count (+1 for an unterminated last line);
//   - the unreadable bytes dropped before tags are counted with lines in [1, lines];
//   - the same result with 1 and 2 threads (the merge is in chunk order);
//   - when no segment is longer than the chunk, the same result as with a chunk larger than the
//     whole input (128 KiB: the default 4 MiB would spend the time zeroing pages).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "analyze_logs/input.hpp"
#include "analyze_logs/scan.hpp"

using namespace alog;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_scan invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond) \
  do {              \
    if (!(cond)) fail(#cond); \
  } while (0)

struct Seen {
  uint64_t line;
  Op op;
  uint32_t present;
  std::string msg;
  bool operator==(const Seen&) const = default;
};

struct Run {
  scan::FileCounts counts;
  std::vector<Seen> events;
};

Run run(const std::string& data, size_t chunk, unsigned threads) {
  Run r;
  auto src = input::memory_source(data, "fuzz.log");
  scan::Options opt;
  opt.threads = threads;
  opt.chunk_bytes = chunk;
  opt.max_skip_samples = 4;
  r.counts = scan::scan(*src, 7, opt, [&](const Event& ev, std::string_view msg) {
    CHECK(ev.file == 7);
    r.events.push_back({ev.line, ev.op, ev.present, std::string(msg)});
  });
  return r;
}

void check(const Run& r, const std::string& data, bool plain) {
  const auto& c = r.counts;
  // Tagged events and step-budget lines are counted apart; the sink gets both.
  CHECK(c.events + c.step_lines == r.events.size());
  uint64_t step_ops = 0;
  for (const auto& e : r.events) step_ops += is_step_op(e.op);
  CHECK(step_ops == c.step_lines);
  uint64_t seps = 0;
  for (char ch : data) seps += ch == '\n' || ch == '\r';
  if (plain) CHECK(c.events + c.step_lines <= seps + 1);
  uint64_t prev = 0;
  for (const auto& e : r.events) {
    CHECK(e.line >= 1);
    CHECK(e.line <= c.lines);
    CHECK(e.line >= prev);
    prev = e.line;
  }
  CHECK(c.skip_samples.size() <= 4);
  for (const auto& s : c.skip_samples) CHECK(s.line >= 1 && s.line <= c.lines);
  CHECK(c.unreadable_samples.size() <= 4);
  CHECK(c.unreadable_lines <= c.unreadable_bytes);
  CHECK(c.unreadable_samples.size() <= c.unreadable_lines);
  for (uint64_t l : c.unreadable_samples) CHECK(l >= 1 && l <= c.lines);
  if (plain) {
    CHECK(!c.partial);
    CHECK(c.bytes == data.size());
    uint64_t nl = 0;
    for (char ch : data) nl += ch == '\n';
    CHECK(c.lines == nl + (!data.empty() && data.back() != '\n' ? 1 : 0));
  }
}

bool same(const Run& a, const Run& b) {
  return a.events == b.events && a.counts.lines == b.counts.lines &&
         a.counts.bytes == b.counts.bytes && a.counts.noise == b.counts.noise &&
         a.counts.skipped_by_reason == b.counts.skipped_by_reason &&
         a.counts.partial == b.counts.partial &&
         a.counts.unreadable_bytes == b.counts.unreadable_bytes &&
         a.counts.unreadable_lines == b.counts.unreadable_lines &&
         a.counts.unreadable_samples == b.counts.unreadable_samples;
}

size_t longest_segment(const std::string& d) {
  size_t best = 0, cur = 0;
  for (char ch : d) {
    if (ch == '\n' || ch == '\r') {
      best = std::max(best, cur);
      cur = 0;
    } else {
      ++cur;
    }
  }
  return std::max(best, cur);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t chunk = 64 + (data[0] & 0x3F) * 16;
  std::string log(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto compression = input::memory_source(log)->compression();
  bool plain = compression == input::Compression::none;

  Run one = run(log, chunk, 1);
  check(one, log, plain);
  Run two = run(log, chunk, 2);
  check(two, log, plain);
  CHECK(same(one, two));

  if (plain && longest_segment(log) + 1 < chunk) {
    Run big = run(log, 128u << 10, 1);
    check(big, log, plain);
    CHECK(same(one, big));
  }
  return 0;
}
