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


// ---- Untagged step-budget lines (docs/STEPS.md) --------------------------------------------

constexpr double kMaxSeconds = 1e9;  // 31 years: anything longer is a broken field

// A number (digits, one '.') at the start of s; advances s.
std::optional<double> take_number(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  auto v = parse_finite(s.substr(0, i));
  s.remove_prefix(i);
  return v;
}

std::optional<int64_t> take_int(std::string_view& s) {
  size_t i = 0;
  int64_t v = 0;
  while (i < s.size() && is_digit(s[i]) && i < 15) v = v * 10 + (s[i++] - '0');
  if (i == 0 || (i < s.size() && is_digit(s[i]))) return std::nullopt;
  s.remove_prefix(i);
  return v;
}

}  // namespace

std::optional<double> parse_duration(std::string_view s) {
  s = trim_blanks(s);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  double total = 0;
  int parts = 0;
  while (!s.empty()) {
    auto num = take_number(s);
    if (!num) return std::nullopt;
    double unit;
    if (s.starts_with("ms")) unit = 0.001, s.remove_prefix(2);
    else if (s.starts_with("s")) unit = 1, s.remove_prefix(1);
    else if (s.starts_with("m")) unit = 60, s.remove_prefix(1);
    else if (s.starts_with("h")) unit = 3600, s.remove_prefix(1);
    else if (s.starts_with("d")) unit = 86400, s.remove_prefix(1);
    else return std::nullopt;
    if (!s.empty() && !is_blank(s[0])) return std::nullopt;
    // `850ms` is 850/1000, not 850*0.001 (which is not the nearest double to 0.85).
    total += unit == 0.001 ? *num / 1000.0 : *num * unit;
    ++parts;
    s = trim_blanks(s);
  }
  if (parts > 3 || !(total <= kMaxSeconds)) return std::nullopt;
  return total;
}

namespace {

constexpr uint32_t fbit(Field f) { return 1u << static_cast<int>(f); }

void set_field(Event& ev, Field f, double v) {
  ev.present |= fbit(f);
  ev.v[static_cast<int>(f)] = v;
}

// The fields of a step summary after `Step N |`: `Label[:] value | ...`. The first field is the
// duration (`Time: 34.21s` up to v0.5.x, `  34.2s` from v0.6.0).
Result read_step_summary(std::string_view msg, std::string_view rest, int64_t step, Event& ev) {
  size_t bar = rest.find('|');
  std::string_view first = rest.substr(0, bar);
  first = trim_blanks(first);
  bool v05 = first.starts_with("Time:");
  if (v05) first.remove_prefix(5);
  bool branches = false;
  auto secs = parse_duration(first);
  if (!secs) return skip(SkipReason::bad_number, msg);
  bool reward = false, loss = false;
  std::optional<double> off_policy, async;
  while (bar != std::string_view::npos) {
    rest.remove_prefix(bar + 1);
    bar = rest.find('|');
    std::string_view f = trim_blanks(rest.substr(0, bar));
    auto label_is = [&](std::string_view label) {
      if (!f.starts_with(label)) return false;
      std::string_view v = f.substr(label.size());
      return !v.empty() && (v[0] == ':' || v[0] == ' ');
    };
    auto value = [&](std::string_view label) {
      std::string_view v = f.substr(label.size());
      if (!v.empty() && v[0] == ':') v.remove_prefix(1);
      v = trim_blanks(v);
      return take_number(v);
    };
    if (label_is("Reward")) reward = true;
    else if (label_is("Branches")) branches = true;
    else if (label_is("Loss")) loss = true;
    else if (label_is("Max Off-Policy")) off_policy = value("Max Off-Policy");
    else if (label_is("Max. Off-Policy Level")) off_policy = value("Max. Off-Policy Level");
    else if (label_is("Async Level")) async = value("Async Level");
  }
  if (reward == loss) return Result{Outcome::none, SkipReason::bad_number, msg};
  ev.op = reward ? Op::step_orch : Op::step_trainer;
  set_field(ev, Field::step, static_cast<double>(step));
  set_field(ev, Field::secs, *secs);
  if (off_policy) set_field(ev, Field::max_off_policy, *off_policy);
  if (async) set_field(ev, Field::async_level, *async);
  set_field(ev, Field::shape, v05 ? 5 : branches ? 7 : 6);
  return Result{Outcome::event, SkipReason::bad_number, msg};
}

// `... in 1.20s` / `... for 5.43s` / `(after 5.43s)`: the duration right after `word`.
std::optional<double> seconds_after(std::string_view s, std::string_view word) {
  size_t at = s.find(word);
  if (at == std::string_view::npos) return std::nullopt;
  s.remove_prefix(at + word.size());
  auto v = take_number(s);
  if (!v || !s.starts_with("s") || !(*v <= kMaxSeconds)) return std::nullopt;
  return v;
}

Result step_line_event(Op op, std::string_view msg, Event& ev, std::optional<int64_t> step,
                       std::optional<double> secs, bool need_secs = true) {
  if (need_secs && !secs) return skip(SkipReason::bad_number, msg);
  ev.op = op;
  if (step) set_field(ev, Field::step, static_cast<double>(*step));
  if (secs) set_field(ev, Field::secs, *secs);
  return Result{Outcome::event, SkipReason::bad_number, msg};
}

Result parse_untagged_at(std::string_view msg, std::string_view m, Event& ev) {
  const Result none{Outcome::none, SkipReason::bad_number, msg};
  switch (m.empty() ? 0 : m[0]) {
    case 'S': {
      if (m.starts_with("Step ")) {
        std::string_view rest = m.substr(5);
        auto n = take_int(rest);
        rest = trim_blanks(rest);
        if (!n || !rest.starts_with("|")) return none;
        return read_step_summary(msg, rest.substr(1), *n, ev);
      }
      if (m.starts_with("Saving checkpoint at step ")) {
        std::string_view rest = m.substr(26);
        auto n = take_int(rest);
        if (!n) return none;
        return step_line_event(Op::ckpt_saving, msg, ev, n, std::nullopt, false);
      }
      if (m.starts_with("Starting evals"))  // the v0.6.0+ eval timer starts here
        return step_line_event(Op::eval_start, msg, ev, std::nullopt, std::nullopt, false);
      return none;
    }
    case 'O':
      if (m.starts_with("Orchestrator resumed: checkpoint ")) {
        // `(after 5.43s)` from #1638 to #3060; without it the gap from the pause line is the wait.
        std::string_view rest = m.substr(33);
        auto n = take_int(rest);
        if (!n) return none;
        bool after = m.find("(after ") != std::string_view::npos;
        return step_line_event(Op::orch_waited, msg, ev, n, after ? seconds_after(rest, "(after ") : std::nullopt,
                               after);
      }
      if (m.starts_with("Orchestrator paused: waiting for trainer"))
        return step_line_event(Op::orch_pause, msg, ev, std::nullopt, std::nullopt, false);
      return none;
    case 'H':
      if (m.starts_with("Hit async barrier"))  // before #1608: the barrier's start
        return step_line_event(Op::orch_pause, msg, ev, std::nullopt, std::nullopt, false);
      if (m.starts_with("Holding batch ")) {  // v0.8.0+: `Holding batch 12 until the trainer publishes ...`
        std::string_view rest = m.substr(14);
        auto n = take_int(rest);
        if (!n) return none;
        return step_line_event(Op::orch_hold, msg, ev, n, std::nullopt, false);
      }
      return none;
    case 'P':
      if (m.starts_with("Pausing dispatcher"))
        return step_line_event(Op::dispatch_pause, msg, ev, std::nullopt, std::nullopt, false);
      return none;
    case 'R':
      if (m.starts_with("Resuming dispatcher"))
        return step_line_event(Op::dispatch_resume, msg, ev, std::nullopt, std::nullopt, false);
      return none;
    case 'W':
      if (m.starts_with("Waited for checkpoint ")) {
        std::string_view rest = m.substr(22);
        auto n = take_int(rest);
        if (!n) return none;
        return step_line_event(Op::orch_waited, msg, ev, n, seconds_after(rest, " for "));
      }
      if (m.starts_with("Waited for batch to arrive for ")) {
        std::string_view rest = m.substr(31);
        auto v = take_number(rest);
        if (!v || !trim_blanks(rest).starts_with("second") || !(*v <= kMaxSeconds))
          return skip(SkipReason::bad_number, msg);
        return step_line_event(Op::trainer_waited, msg, ev, std::nullopt, v);
      }
      if (m.starts_with("Weights broadcasted in "))
        return step_line_event(Op::trainer_broadcast, msg, ev, std::nullopt, seconds_after(m, " in "));
      return none;
    case 'U':
      if (m.starts_with("Updated weights to step ")) {
        std::string_view rest = m.substr(24);
        auto n = take_int(rest);
        if (!n) return none;
        return step_line_event(Op::orch_updated, msg, ev, n, seconds_after(rest, " in "));
      }
      return none;
    case 'E':
      if (m.starts_with("Evaluated ")) {
        std::string_view rest = m.substr(10);
        size_t bar = rest.find('|');
        if (bar == std::string_view::npos)  // up to v0.5.x: `Evaluated gsm8k in 41.27s (...)`
          return step_line_event(Op::orch_eval, msg, ev, std::nullopt, seconds_after(rest, " in "));
        // From v0.6.0: `Evaluated gsm8k (Step 20) | Policy v19 |   41.3s | Reward ...`
        std::optional<int64_t> n;
        if (size_t st = rest.find("(Step "); st < bar) {
          std::string_view x = rest.substr(st + 6);
          n = take_int(x);
        }
        std::optional<double> secs;
        for (int k = 0; k < 3 && bar != std::string_view::npos; ++k) {
          rest.remove_prefix(bar + 1);
          bar = rest.find('|');
          if ((secs = parse_duration(rest.substr(0, bar)))) break;
        }
        return step_line_event(Op::orch_eval, msg, ev, n, secs);
      }
      return none;
    default: return none;
  }
}

// A message that is not tagged: one of the step-budget lines, read where the message starts, or
// (up to v0.5.x, after tqdm text on the same line) where a `SUCCESS ` level word stands before it.
Result parse_untagged(std::string_view msg, Event& ev) {
  Result r = parse_untagged_at(msg, msg, ev);
  if (r.outcome != Outcome::none) return r;
  size_t at = msg.find(" SUCCESS ");
  if (at == std::string_view::npos) return r;
  return parse_untagged_at(msg, trim_blanks(msg.substr(at + 9)), ev);
}

// A metrics.jsonl row: `{"step": 12, "time": ..., "time/step": 34.2, ...}`.
Result parse_metrics_row(const nlohmann::json& j, std::string_view seg, Event& ev) {
  const Result none{Outcome::none, SkipReason::bad_number, seg};
  auto st = j.find("step");
  if (st == j.end() || !st->is_number()) return none;
  static constexpr std::pair<std::string_view, Field> kKeys[] = {
      {"time/step", Field::m_step},
      {"time/wait_for_policy", Field::m_wait_policy},
      {"time/wait_for_ckpt", Field::m_wait_ckpt},
      {"time/update_weights", Field::m_update},
      {"time/save_ckpt", Field::m_save},
      {"time/generate_completions", Field::m_generate},
      {"time/wait_for_batch", Field::m_wait_batch},
      {"time/load_data", Field::m_load},
      {"time/forward_backward", Field::m_fwd_bwd},
      {"time/broadcast_weights", Field::m_broadcast},
  };
  bool any = false;
  for (const auto& [key, f] : kKeys) {
    auto it = j.find(std::string(key));
    if (it == j.end()) continue;
    if (!it->is_number()) return skip(SkipReason::bad_number, seg);
    double v = it->get<double>();
    if (!std::isfinite(v) || std::fabs(v) > kMaxSeconds) return skip(SkipReason::bad_number, seg);
    if (std::signbit(v)) return skip(SkipReason::negative_value, seg);
    set_field(ev, f, v);
    any = true;
  }
  if (!any) {
    ev.present = 0;
    return none;
  }
  double s = st->get<double>();
  if (!std::isfinite(s) || s < 0 || s > kMaxFieldValue || s != std::floor(s)) return skip(SkipReason::bad_number, seg);
  ev.op = Op::metrics_row;
  set_field(ev, Field::step, s);
  return Result{Outcome::event, SkipReason::bad_number, seg};
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
    return parse_untagged(msg, ev);
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
    if (!m) {
      // A metrics.jsonl row (one of only other keys, such as perf/*, is not an event nor bad).
      Result mr = parse_metrics_row(j, seg, ev);
      if (mr.outcome != Outcome::none) return counted(mr);
      if (auto st = j.find("step"); st != j.end() && st->is_number()) return mr;
      return counted(skip(SkipReason::bad_json, seg));
    }
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
