// What reading one input counted: bytes, lines, events, and the lines skipped with their reasons.
// Plain data, filled by the scanner (scan.hpp) and kept in every kind's list of inputs read.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "analyze_logs/event.hpp"

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
  uint64_t step_lines = 0;  // untagged step-budget lines and metrics.jsonl rows read (is_step_op)
  std::array<uint64_t, kSkipReasonCount> skipped_by_reason{};
  std::vector<SkipSample> skip_samples;  // the first few, for the report
  // Bytes that are not text (invalid UTF-8, control characters, a byte-order mark, an escape
  // sequence cut short) that stood before a tag: dropped so that the tag is read, and counted
  // here with the tagged lines they were on (the first few line numbers kept for the report).
  uint64_t unreadable_bytes = 0;
  uint64_t unreadable_lines = 0;
  std::vector<uint64_t> unreadable_samples;
  bool partial = false;  // reading stopped early (corrupt/truncated stream, read error)
  std::string error;     // why, when partial
  uint64_t skipped() const {
    uint64_t n = 0;
    for (auto c : skipped_by_reason) n += c;
    return n;
  }
};

}  // namespace alog::scan
