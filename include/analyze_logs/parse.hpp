// From one line segment to one Event.
//
// A segment is a '\n'-line, or a piece of one between '\r's (tqdm glues progress updates with
// '\r', and a tagged message can follow one). Parsing is two table-driven steps, in the manner of
// lnav's format definitions: strip a known prefix (loguru, loguru's full format, vLLM, JSON lines,
// torchrun rank and Ray/vLLM actor prefixes) to reach the message, then read the message's tag,
// operation and key=value fields. A segment is an event only when its message *starts* with a
// tag (blanks before it aside); the same text inside a traceback or an access line is not.
//
// Bytes that are not text (unreadable_char_len() in util.hpp: invalid UTF-8, control characters,
// a byte-order mark, an escape sequence cut short) before a segment's first tag do not hide it:
// when the segment does not read as tagged, they are dropped, the segment is read again, and a
// tag found that way is read, the dropped bytes counted in Result::unreadable. The bytes after
// the tag are never changed: there a bad byte is a bad field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "analyze_logs/event.hpp"

namespace alog::parse {

enum class Outcome : uint8_t {
  none,     // not a tagged message
  event,    // ev is filled
  noise,    // `[weights][-]`: middleware logging a request with no trace id (not an update)
  skipped,  // looks tagged but cannot be read; reason says why
};

struct Result {
  Outcome outcome = Outcome::none;
  SkipReason reason = SkipReason::bad_number;
  std::string_view message;  // the message after the prefix (valid until scratch is reused)
  uint32_t unreadable = 0;   // bytes that are not text dropped from before the tag
};

// Reused buffers so parsing allocates nothing per line once warmed up.
struct Scratch {
  std::string ansi;
  std::string json;
  std::string clean;  // a segment without the unreadable bytes before its tag
};

// What a prefix told us about the line.
struct Prefix {
  std::string_view message;
  int32_t tod = -1;   // seconds since midnight
  int16_t tod_ms = 0;      // `.123` / `,123` after the seconds: the first three digits, in ms
  uint8_t tod_digits = 0;  // how many digits that fraction had (0: none), at most 3 counted
  int16_t mmdd = -1;  // month*100+day
  std::string_view shape;  // name of the prefix row that matched ("loguru", "vllm", ..., "bare")
};

// Strips one known prefix (after optional rank and actor prefixes) from ANSI-free text.
Prefix strip_prefix(std::string_view text);

// Parses a segment. `ev.file`/`ev.line` are left for the caller to set.
Result parse_segment(std::string_view segment, Event& ev, Scratch& scratch);

// Parses a message that starts with a tag ("[weights][abc] client.done wall_ms=..").
Result parse_message(std::string_view message, Event& ev);

// The cheap byte test of the hot path: p points at a ']' in [begin, p]; true when the bytes just
// before it close one of the four tags ("[weights", "[ckpt", "[gen", "[rollout").
inline bool closes_tag(const char* begin, const char* p) {
  auto ends_with = [&](std::string_view tag) {
    return static_cast<size_t>(p - begin) >= tag.size() &&
           std::string_view(p - tag.size(), tag.size()) == tag;
  };
  switch (p > begin ? p[-1] : 0) {
    case 's': return ends_with("[weights");
    case 't': return ends_with("[ckpt") || ends_with("[rollout");
    case 'n': return ends_with("[gen");
    default: return false;
  }
}

// The other candidate of the hot path: p points into [p, e) at the first byte of a word that may
// open a step-budget line (docs/STEPS.md): "Step", "Saving checkpoint", "Starting evals",
// "Orchestrator", "Hit async", "Holding batch", "Pausing/Resuming dispatcher", "Waited for",
// "Weights broadcasted", "Updated weights", "Evaluated", or metrics.jsonl's "step" key. The
// scanner finds the first three bytes with a vector test; this confirms the rest. Whether the
// word really opens the message is the parser's call.
inline bool starts_step_word(const char* p, const char* e) {
  auto starts = [&](std::string_view w) {
    return static_cast<size_t>(e - p) >= w.size() && std::string_view(p, w.size()) == w;
  };
  switch (*p) {
    case 'S': return starts("Step ") || starts("Saving checkpoint") || starts("Starting evals");
    case 'O': return starts("Orchestrator ");
    case 'H': return starts("Hit async") || starts("Holding batch");
    case 'P': return starts("Pausing dispatcher");
    case 'R': return starts("Resuming dispatcher");
    case 'W': return starts("Waited for ") || starts("Weights broadcasted");
    case 'U': return starts("Updated weights");
    case 'E': return starts("Evaluated ");
    case '"': return starts("\"step\"");
    default: return false;
  }
}

// A duration as prime-rl prints it: `34.21s`, `850ms`, `2m 5s`, `1h 3m`, `1d 2h`, in seconds.
std::optional<double> parse_duration(std::string_view s);

// Where the first tag of s opens (its '['), or std::string_view::npos.
size_t first_tag(std::string_view s);

}  // namespace alog::parse
