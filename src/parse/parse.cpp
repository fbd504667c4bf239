#include "analyze_logs/parse.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "analyze_logs/util.hpp"

namespace alog::parse {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
int two(const char* p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

// ---- Prefix shapes -------------------------------------------------------------------------
// Each row is a pattern walked by match_shape(). Tokens:
//   %T  HH:MM:SS with an optional .fff or ,fff      -> time of day
//   %D  YYYY-MM-DD                                   -> month and day
//   %d  MM-DD                                        -> month and day
//   %L  a level word (upper-case letters)
//   %_  one or more spaces        %?  zero or more spaces
//   %F  a vLLM source location "[file.py:88]"
//   %S  one or more non-space characters
// Any other character matches itself. Adding a log format is adding a row.
struct Shape {
  std::string_view name;
  std::string_view pattern;
};
constexpr Shape kShapes[] = {
    {"loguru", "%?%T%_%L "},
    {"loguru-full", "%D %T%?|%?%L%?|%?%S - "},
    {"vllm", "%L %d %T %F "},
    {"vllm-date", "%L %D %T %F "},
    {"python-logging", "%D %T%?%L%?%S: "},
};

bool match_shape(std::string_view pat, std::string_view s, Prefix& out) {
  size_t i = 0;
  int32_t tod = -1;
  int16_t tod_ms = 0;
  uint8_t tod_digits = 0;
  int16_t mmdd = -1;
  for (size_t k = 0; k < pat.size(); ++k) {
    char pc = pat[k];
    if (pc != '%') {
      if (i >= s.size() || s[i] != pc) return false;
      ++i;
      continue;
    }
    char tok = pat[++k];
    switch (tok) {
      case 'T': {
        if (i + 8 > s.size()) return false;
        const char* p = s.data() + i;
        if (!(is_digit(p[0]) && is_digit(p[1]) && p[2] == ':' && is_digit(p[3]) && is_digit(p[4]) &&
              p[5] == ':' && is_digit(p[6]) && is_digit(p[7])))
          return false;
        int h = two(p), m = two(p + 3), sec = two(p + 6);
        if (h > 23 || m > 59 || sec > 60) return false;
        tod = h * 3600 + m * 60 + sec;
        i += 8;
        if (i < s.size() && (s[i] == '.' || s[i] == ',') && i + 1 < s.size() && is_digit(s[i + 1])) {
          ++i;
          int scale = 100;
          for (; i < s.size() && is_digit(s[i]); ++i) {
            if (tod_digits < 3) {
              tod_ms = static_cast<int16_t>(tod_ms + (s[i] - '0') * scale);
              scale /= 10;
              ++tod_digits;
            }
          }
        }
        break;
      }
      case 'D': {
        if (i + 10 > s.size()) return false;
        const char* p = s.data() + i;
        for (int j : {0, 1, 2, 3, 5, 6, 8, 9})
          if (!is_digit(p[j])) return false;
        if (p[4] != '-' || p[7] != '-') return false;
        mmdd = static_cast<int16_t>(two(p + 5) * 100 + two(p + 8));
        i += 10;
        break;
      }
      case 'd': {
        if (i + 5 > s.size()) return false;
        const char* p = s.data() + i;
        if (!(is_digit(p[0]) && is_digit(p[1]) && p[2] == '-' && is_digit(p[3]) && is_digit(p[4])))
          return false;
        mmdd = static_cast<int16_t>(two(p) * 100 + two(p + 3));
        i += 5;
        break;
      }
      case 'L': {
        size_t b = i;
        while (i < s.size() && is_upper(s[i])) ++i;
        if (i == b || i - b > 10) return false;
        break;
      }
      case '_': {
        size_t b = i;
        while (i < s.size() && s[i] == ' ') ++i;
        if (i == b) return false;
        break;
      }
      case '?':
        while (i < s.size() && s[i] == ' ') ++i;
        break;
      case 'F': {
        if (i >= s.size() || s[i] != '[') return false;
        size_t close = s.find(']', i);
        if (close == std::string_view::npos || close - i > 256) return false;
        size_t colon = s.rfind(':', close);
        if (colon == std::string_view::npos || colon < i) return false;
        i = close + 1;
        break;
      }
      case 'S': {
        size_t b = i;
        while (i < s.size() && s[i] != ' ') ++i;
        if (i == b) return false;
        break;
      }
      default:
        return false;
    }
  }
  out.message = s.substr(i);
  out.tod = tod;
  out.tod_ms = tod_ms;
  out.tod_digits = tod_digits;
  out.mmdd = mmdd;
  return true;
}

// `[trainer0]:` (torchrun rank prefix) -> length to strip, else 0.
size_t rank_prefix(std::string_view s) {
  if (s.size() < 4 || s[0] != '[') return 0;
  size_t i = 1;
  while (i < s.size() && i < 64 && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '-')) ++i;
  if (i == 1 || i + 1 >= s.size() || s[i] != ']' || s[i + 1] != ':') return 0;
  i += 2;
  while (i < s.size() && s[i] == ' ') ++i;
  return i;
}

// `(APIServer pid=4242) ` or Ray's `(SglEngine pid=514428, ip=10.0.0.2) ` -> length, else 0.
size_t actor_prefix(std::string_view s) {
  if (s.empty() || s[0] != '(') return 0;
  size_t close = s.find(')');
  if (close == std::string_view::npos || close > 200) return 0;
  if (s.substr(0, close).find("pid=") == std::string_view::npos) return 0;
  size_t i = close + 1;
  while (i < s.size() && s[i] == ' ') ++i;
  return i;
}

// ---- Messages ------------------------------------------------------------------------------

struct OpName {
  std::string_view name;
  Op op;
};
constexpr OpName kWeightsOps[] = {{"client.send", Op::client_send}, {"server.recv", Op::server_recv},
                                  {"rpc.start", Op::rpc_start},     {"rpc.done", Op::rpc_done},
                                  {"client.done", Op::client_done}};
constexpr OpName kCkptOps[] = {
    {"write.done", Op::write_done}, {"wait.start", Op::wait_start}, {"wait.done", Op::wait_done}};
constexpr OpName kGenOps[] = {{"batch.start", Op::batch_start}, {"batch.done", Op::batch_done}};

constexpr uint32_t bit(Field f) { return 1u << static_cast<int>(f); }

constexpr double kMaxFieldValue = 1e15;

// The fields each operation cannot do without; an event missing one is skipped, not guessed.
uint32_t required(Op op) {
  switch (op) {
    case Op::client_send: case Op::server_recv: case Op::rpc_start: return bit(Field::t);
    case Op::rpc_done: return bit(Field::t) | bit(Field::rpc_ms);
    case Op::client_done: return bit(Field::wall_ms) | bit(Field::rpc_ms) | bit(Field::queue_ms);
    case Op::write_done: return bit(Field::write_ms);
    case Op::wait_done: return bit(Field::wait_ms);
    case Op::batch_done: return bit(Field::dur_ms);
    default: return 0;
  }
}

template <size_t N>
std::optional<Op> find_op(std::string_view tok, const OpName (&ops)[N]) {
  for (const auto& o : ops)
    if (o.name == tok) return o.op;
  return std::nullopt;
}

std::string_view next_token(std::string_view& s) {
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  size_t e = b;
  while (e < s.size() && s[e] != ' ' && s[e] != '\t') ++e;
  std::string_view tok = s.substr(b, e - b);
  s.remove_prefix(e);
  return tok;
}

int64_t step_from_path(std::string_view path) {
  size_t pos = path.rfind("step_");
  if (pos == std::string_view::npos) return -1;
  size_t i = pos + 5, b = i;
  int64_t v = 0;
  while (i < path.size() && is_digit(path[i]) && i - b < 18) v = v * 10 + (path[i++] - '0');
  return i == b ? -1 : v;
}

Result skip(SkipReason r, std::string_view msg) { return Result{Outcome::skipped, r, msg}; }

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

// ---- Bytes that are not text before a tag --------------------------------------------------

// The slow path of a segment (or, `prefixed` false, a JSON-lines message) that did not read as
// tagged: when bytes that are not text (unreadable_char_len) stand before its first tag, they
// are dropped and the text read again. `raw` still has its colour codes: stripping them from the
// part before the tag alone keeps a stray ESC, or a code cut short, from eating the tag's '['. A
// run dropped right before the tag leaves one blank, so that a byte written over the blank after
// a prefix keeps the prefix. Nothing after the tag is changed.
Result read_past_unreadable(std::string_view raw, bool prefixed, Event& ev, Scratch& scratch) {
  const Result none{Outcome::none, SkipReason::bad_number, raw};
  size_t tag = first_tag(raw);
  if (tag == std::string_view::npos) return none;
  std::string_view before = raw.substr(0, tag);
  // Printable ASCII and blanks (a traceback quoting a tag) have nothing to drop: the common case.
  if (std::all_of(before.begin(), before.end(),
                  [](char c) { return (c >= 0x20 && c < 0x7F) || c == '\t'; }))
    return none;
  std::string& out = scratch.clean;
  out.clear();
  size_t cut = 0;  // the part before the tag ended inside an escape sequence this long
  strip_ansi(before, out, &cut);
  size_t dropped = cut, w = 0;
  bool last_dropped = false;
  for (size_t i = 0; i < out.size();) {
    size_t n = unreadable_char_len(std::string_view(out).substr(i));
    last_dropped = n > 0;
    if (!n) {
      out[w++] = out[i++];
      continue;
    }
    dropped += n;
    i += n;
  }
  if (dropped == 0) return none;
  out.resize(w);
  if ((cut || last_dropped) && !out.empty() && !is_blank(out.back())) out += ' ';
  strip_ansi(raw.substr(tag), out);
  std::string_view text = out;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  Result r;
  if (prefixed) {
    Prefix p = strip_prefix(trim_blanks(text));
    r = parse_message(trim_blanks(p.message), ev);
    if (r.outcome != Outcome::none) {
      ev.tod = p.tod;
      ev.tod_ms = p.tod_ms;
      ev.tod_digits = p.tod_digits;
      ev.mmdd = p.mmdd;
    }
  } else {
    r = parse_message(trim_blanks(text), ev);
  }
  if (r.outcome == Outcome::none) return none;
  r.unreadable = static_cast<uint32_t>(std::min<size_t>(dropped, UINT32_MAX));
  return r;
}

}  // namespace

size_t first_tag(std::string_view s) {
  const char* b = s.data();
  const char* e = b + s.size();
  for (const char* q = b;
       (q = static_cast<const char*>(std::memchr(q, ']', static_cast<size_t>(e - q)))); ++q) {
    if (!closes_tag(b, q)) continue;
    size_t name = q[-1] == 's' ? 8 : q[-1] == 'n' ? 4 : q - b >= 5 && q[-5] == '[' ? 5 : 8;
    return static_cast<size_t>(q - b) - name;
  }
  return std::string_view::npos;
}

Prefix strip_prefix(std::string_view text) {
  // Rank and actor prefixes may stand before the logger's own prefix, in either order.
  for (int round = 0; round < 2; ++round) {
    size_t n = rank_prefix(text);
    if (!n) n = actor_prefix(text);
    if (!n) break;
    text.remove_prefix(n);
  }
  Prefix p;
  for (const auto& shape : kShapes) {
    if (match_shape(shape.pattern, text, p)) {
      p.shape = shape.name;
      return p;
    }
  }
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  p.message = text.substr(i);
  p.shape = "bare";
  return p;
}

Result parse_message(std::string_view msg, Event& ev) {
  std::string_view rest;
  if (msg.starts_with("[weights]")) {
    rest = msg.substr(9);
    if (rest.empty() || rest[0] != '[') return skip(SkipReason::bad_trace_id, msg);
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return skip(SkipReason::bad_trace_id, msg);
    std::string_view id = rest.substr(1, close - 1);
    if (id == "-") return Result{Outcome::noise, SkipReason::bad_number, msg};
    auto tid = TraceId::parse(id);
    if (!tid) return skip(SkipReason::bad_trace_id, msg);
    ev.trace = *tid;
    rest.remove_prefix(close + 1);
    auto op = find_op(next_token(rest), kWeightsOps);
    if (!op) return skip(SkipReason::unknown_op, msg);
    ev.op = *op;
  } else if (msg.starts_with("[ckpt]")) {
    rest = msg.substr(6);
    auto op = find_op(next_token(rest), kCkptOps);
    if (!op) return skip(SkipReason::unknown_op, msg);
    ev.op = *op;
  } else if (msg.starts_with("[gen]")) {
    rest = msg.substr(5);
    auto op = find_op(next_token(rest), kGenOps);
    if (!op) return skip(SkipReason::unknown_op, msg);
    ev.op = *op;
  } else if (msg.starts_with("[rollout]")) {
    rest = msg.substr(9);
    ev.op = Op::rollout;
  } else {
    return Result{Outcome::none, SkipReason::bad_number, msg};
  }

  for (;;) {
    std::string_view tok = next_token(rest);
    if (tok.empty()) break;
    size_t eq = tok.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;  // annotations such as "[~11ms"
    std::string_view key = tok.substr(0, eq), val = tok.substr(eq + 1);
    if (key == "path") {
      if (ev.has_path) return skip(SkipReason::duplicate_field, msg);
      ev.has_path = true;
      ev.path_step = step_from_path(val);
      continue;
    }
    if (key == "op") {
      if (ev.rpc_kind != RpcKind::none) return skip(SkipReason::duplicate_field, msg);
      ev.rpc_kind = val == "update_weights"   ? RpcKind::update_weights
                    : val == "reload_weights" ? RpcKind::reload_weights
                                              : RpcKind::other;
      continue;
    }
    auto f = field_from_name(key);
    if (!f) continue;  // unknown keys are ignored: new instrumentation must not break us
    uint32_t b = bit(*f);
    if (ev.present & b) return skip(SkipReason::duplicate_field, msg);
    auto num = parse_finite(val);
    // Finite is not enough: two samples of 1e308 overflow a sum to inf (a mean of nan judges
    // "good"), and a step of 1e300 cannot be cast to an integer. No real duration, time, step or
    // count comes near 1e15 (31,000 years in ms), so anything larger is a broken field.
    if (!num || std::fabs(*num) > kMaxFieldValue) return skip(SkipReason::bad_number, msg);
    double x = *num;
    if (std::signbit(x)) {  // below zero, and -0
      // `-1.0` in rpc_ms/queue_ms is the client's "server reported no rpc_ms": present, not a
      // sample. Any other negative number (including -0, and a negative monotonic `t`) is a
      // broken measurement.
      if ((*f == Field::rpc_ms || *f == Field::queue_ms) && x == -1.0)
        ev.sentinel = static_cast<uint16_t>(ev.sentinel | b);
      else
        return skip(SkipReason::negative_value, msg);
    }
    ev.present |= b;
    ev.v[static_cast<int>(*f)] = x;
  }

  uint32_t need = required(ev.op);
  if ((ev.present & need) != need) return skip(SkipReason::missing_field, msg);
  if (ev.op == Op::rollout && !(ev.present & (bit(Field::trunc_pct) | bit(Field::staleness))))
    return skip(SkipReason::missing_field, msg);
  return Result{Outcome::event, SkipReason::bad_number, msg};
}

Result parse_segment(std::string_view seg, Event& ev, Scratch& scratch) {
  const std::string_view raw_segment = seg;
  if (std::memchr(seg.data(), '\x1b', seg.size())) {
    scratch.ansi.clear();
    strip_ansi(seg, scratch.ansi);
    seg = scratch.ansi;
  }
  // Blanks, and bytes that are not text (NULs left by a truncation), before a JSON record.
  size_t lead = 0, junk = 0;
  for (size_t n = 1; n;) {
    while (lead < seg.size() && is_blank(seg[lead])) ++lead;
    n = unreadable_char_len(seg.substr(lead));
    lead += n;
    junk += n;
  }
  if (lead < seg.size() && seg[lead] == '{') {
    // JSON-lines mode: the tagged text is inside "message" (or loguru's record.message).
    auto counted = [junk](Result r) {
      r.unreadable += static_cast<uint32_t>(std::min<size_t>(junk, UINT32_MAX - r.unreadable));
      return r;
    };
    auto j = parse_json_bounded(seg.substr(lead), 32);
    if (j.is_discarded() || !j.is_object()) return counted(skip(SkipReason::bad_json, seg));
    const nlohmann::json* m = nullptr;
    if (auto it = j.find("message"); it != j.end() && it->is_string()) m = &*it;
    else if (auto r = j.find("record"); r != j.end() && r->is_object())
      if (auto it2 = r->find("message"); it2 != r->end() && it2->is_string()) m = &*it2;
    if (!m) return counted(skip(SkipReason::bad_json, seg));
    std::string raw = m->get<std::string>();
    scratch.json.clear();
    strip_ansi(raw, scratch.json);
    if (auto ts = j.find("timestamp"); ts != j.end() && ts->is_string()) {
      const std::string& s = ts->get_ref<const std::string&>();
      for (size_t i = 0; i + 8 <= s.size(); ++i) {
        Prefix tp;
        if ((i == 0 || !is_digit(s[i - 1])) && match_shape("%T", std::string_view(s).substr(i), tp)) {
          ev.tod = tp.tod;
          ev.tod_ms = tp.tod_ms;
          ev.tod_digits = tp.tod_digits;
          break;
        }
      }
      if (s.size() >= 10) {
        Prefix dp;
        if (match_shape("%D", std::string_view(s).substr(0, 10), dp)) ev.mmdd = dp.mmdd;
      }
    }
    std::string_view msg = trim_blanks(scratch.json);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.remove_suffix(1);
    Result r = parse_message(msg, ev);
    if (r.outcome != Outcome::none) return counted(r);
    // Read again past unreadable bytes; when that fails too, the answer (and its message, which
    // must not point into `raw`) stays the first one.
    Result again = read_past_unreadable(raw, false, ev, scratch);
    return again.outcome == Outcome::none ? r : counted(again);
  }
  Prefix p = strip_prefix(seg);
  ev.tod = p.tod;
  ev.tod_ms = p.tod_ms;
  ev.tod_digits = p.tod_digits;
  ev.mmdd = p.mmdd;
  Result r = parse_message(trim_blanks(p.message), ev);
  return r.outcome == Outcome::none ? read_past_unreadable(raw_segment, true, ev, scratch) : r;
}

}  // namespace alog::parse
