// The hot path: bytes of one input -> events, in file order, using all cores.
//
// The input is read in chunks that end at a segment boundary ('\n' or '\r'). Every thread (the
// caller and threads-1 helpers) reads the next chunk straight into its buffer, scans it while it
// is still in cache, and hands it in; hand-ins are merged strictly in read order, so the events,
// line numbers and counts are identical for any thread count and the sink is called by one thread
// at a time. A thread looks for the rare byte test "a ']' closing one of the four tags" with SIMD,
// and only then finds the segment around it and parses it: untagged chatter (~93 % of a real log)
// costs one vector pass and one newline count.
//
// Memory is flat: at most threads+2 chunks (and no more than 64 MiB of them) exist at once, and a
// segment longer than chunk_bytes is streamed through (counted, and skipped only if it is tagged).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/event.hpp"
#include "analyze_logs/file_counts.hpp"
#include "analyze_logs/input.hpp"

namespace alog::scan {

struct Options {
  unsigned threads = 1;
  // The longest segment that is parsed; a longer one is streamed through (line_too_long if tagged).
  size_t chunk_bytes = 4u << 20;
  // How much one read normally takes before the chunk is cut at its last separator: small enough
  // to stay in a core's L2 cache between the read and the scan. Clamped to [64, chunk_bytes].
  size_t read_bytes = 512u << 10;
  size_t max_skip_samples = 20;
  // Decompress a compressed input on a thread of its own, a few MiB ahead of the scan
  // (ByteSource::read_ahead). Same figures either way.
  bool read_ahead = true;
  // Called after each chunk is read with (raw bytes read, raw total or 0); from any of the
  // threads, never from two at once.
  std::function<void(uint64_t, uint64_t)> progress;
};

// on_event(ev, message): the message is the tagged text with prefix and colour codes removed,
// valid only during the call. ev.file is set to file_index.
using EventSink = std::function<void(const Event&, std::string_view)>;

// Scans src to the end. Read errors and corrupt compressed data do not throw: the figures from
// what was read are kept and counts.partial/error say what happened.
// An exception thrown by on_event or progress stops every thread and is rethrown here.
FileCounts scan(input::ByteSource& src, uint32_t file_index, const Options& opt,
                const EventSink& on_event);

// Counts '\n' in [p, p+n) (AVX2 or SSE2 on x86-64, chosen at run time). Exposed for the
// micro-benchmarks.
uint64_t count_newlines(const char* p, size_t n);

// The first candidate line in [p, e): a pointer into it at a ']' that closes one of the four tags
// (parse::closes_tag, looking back no further than begin) or at a step-budget word
// (parse::starts_step_word); nullptr when there is none. Exposed for the micro-benchmarks.
const char* find_tag_close(const char* begin, const char* p, const char* e);

// find_tag_close with a kernel named ("avx2", "ssse3" or "scalar"; one this CPU lacks runs the
// scalar one), adding the '\n's in [p, result) (or [p, e)) to *newlines. For the tests that hold
// the kernels to each other.
const char* find_tag_close_with(std::string_view kernel, const char* begin, const char* p, const char* e,
                                uint64_t* newlines);

// "avx2", "ssse3" (SSE2 line counting, SSSE3 candidate test), "sse2" (the candidate test in
// scalar code) or "scalar": which byte kernels this CPU runs (for benchmark reports).
std::string_view simd_level();

}  // namespace alog::scan
