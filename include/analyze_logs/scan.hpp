// The hot path: bytes of one input -> events, in file order, using all cores.
//
// The input is read in large chunks that end at a segment boundary ('\n' or '\r'); workers scan
// chunks in parallel and the results are merged strictly in chunk order, so the events, line
// numbers and counts are identical for any thread count. A worker looks for the rare byte test
// "a ']' closing one of the four tags" with memchr, and only then finds the segment around it and
// parses it: untagged chatter (~93 % of a real log) costs one memchr pass and one newline count.
//
// Memory is flat: at most threads*2+2 chunks exist at once, and a line longer than a chunk is
// streamed through (counted, and skipped only if it is tagged).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/event.hpp"
#include "analyze_logs/input.hpp"

namespace alog::scan {

struct SkipSample {
  uint64_t line;
  SkipReason reason;
};

// Per-input counts; the analysis adds its own (events used, role) on top.
struct FileCounts {
  uint64_t bytes = 0;    // decompressed bytes read
  uint64_t lines = 0;    // '\n'-lines (a last line without '\n' counts)
  uint64_t events = 0;   // tagged lines parsed into events
  uint64_t noise = 0;    // `[weights][-]` lines
  std::array<uint64_t, kSkipReasonCount> skipped_by_reason{};
  std::vector<SkipSample> skip_samples;  // the first few, for the report
  bool partial = false;  // reading stopped early (corrupt/truncated stream, read error)
  std::string error;     // why, when partial
  uint64_t skipped() const {
    uint64_t n = 0;
    for (auto c : skipped_by_reason) n += c;
    return n;
  }
};

struct Options {
  unsigned threads = 1;
  size_t chunk_bytes = 4u << 20;
  size_t max_skip_samples = 20;
  // Called from the reading thread after each chunk with (raw bytes read, raw total or 0).
  std::function<void(uint64_t, uint64_t)> progress;
};

// on_event(ev, message): the message is the tagged text with prefix and colour codes removed,
// valid only during the call. ev.file is set to file_index.
using EventSink = std::function<void(const Event&, std::string_view)>;

// Scans src to the end. Read errors and corrupt compressed data do not throw: the figures from
// what was read are kept and counts.partial/error say what happened.
FileCounts scan(input::ByteSource& src, uint32_t file_index, const Options& opt,
                const EventSink& on_event);

// Counts '\n' in [p, p+n) (SSE2 on x86-64). Exposed for the micro-benchmarks.
uint64_t count_newlines(const char* p, size_t n);

}  // namespace alog::scan
