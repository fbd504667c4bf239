#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>

#include "analyze_logs/util.hpp"

namespace alog {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
size_t utf8_len(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  // Overlong forms, surrogates and out-of-range code points are invalid.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

// Walks s as UTF-8; for each ASCII byte calls esc(c, out) which returns true when it appended an
// escaped form; control bytes become \xNN, invalid sequences U+FFFD.
template <typename Esc>
std::string escape_with(std::string_view s, Esc esc) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (!esc(static_cast<char>(c), out)) {
        if (c < 0x20 || c == 0x7F)
          out += fmt::format("\\x{:02X}", c);
        else
          out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace

std::string md_escape(std::string_view s) {
  return escape_with(s, [](char c, std::string& out) {
    switch (c) {
      case '|': case '`': case '*': case '_': case '[': case ']': case '\\': case '#':
        out += '\\';
        out += c;
        return true;
      case '<': out += "&lt;"; return true;
      case '>': out += "&gt;"; return true;
      case '&': out += "&amp;"; return true;
      default: return false;
    }
  });
}

std::string html_escape(std::string_view s) {
  return escape_with(s, [](char c, std::string& out) {
    switch (c) {
      case '<': out += "&lt;"; return true;
      case '>': out += "&gt;"; return true;
      case '&': out += "&amp;"; return true;
      case '"': out += "&quot;"; return true;
      case '\'': out += "&#39;"; return true;
      default: return false;
    }
  });
}

std::string md_code(std::string_view s) {
  // A line break inside a code span renders as a space anyway; make it one rather than "\x0A".
  std::string flat(s);
  std::replace_if(flat.begin(), flat.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  std::string body = printable(flat);
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  bool pad = !body.empty() && (body.front() == '`' || body.back() == '`' ||
                               (body.front() == ' ' && body.back() == ' ' &&
                                body.find_first_not_of(' ') != std::string::npos));
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string prose_with_code(std::string_view s, std::string (*text)(std::string_view),
                            std::string (*code)(std::string_view)) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t open = s.find('`', i);
    size_t close = open == std::string_view::npos ? open : s.find('`', open + 1);
    if (close == std::string_view::npos) {
      out += text(s.substr(i));
      break;
    }
    out += text(s.substr(i, open - i));
    out += code(s.substr(open + 1, close - open - 1));
    i = close + 1;
  }
  return out;
}

std::string md_prose(std::string_view s) { return prose_with_code(s, md_escape, md_code); }

bool is_printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

bool contains_any(std::string_view s, std::span<const std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(), [&](std::string_view n) { return s.find(n) != std::string_view::npos; });
}

std::string printable(std::string_view s) {
  // Fast path: almost every message is plain printable ASCII and comes back unchanged.
  if (is_printable_ascii(s)) return std::string(s);
  return escape_with(s, [](char, std::string&) { return false; });
}

std::string utf8_clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void strip_ansi(std::string_view s, std::string& out, size_t* cut) {
  if (cut) *cut = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t esc = s.find('\x1b', i);
    if (esc == std::string_view::npos) {
      out.append(s.substr(i));
      return;
    }
    out.append(s.substr(i, esc - i));
    size_t j = esc + 1;
    const char kind = j < s.size() ? s[j] : '\0';
    if (kind == '[') {  // CSI: parameters and intermediates, then one final byte 0x40..0x7E
      ++j;
      while (j < s.size() && !(s[j] >= 0x40 && s[j] <= 0x7E)) ++j;
      i = j < s.size() ? j + 1 : j;
    } else if (kind == ']') {  // OSC: until BEL or ESC '\'
      ++j;
      while (j < s.size() && s[j] != '\x07' && !(s[j] == '\x1b' && j + 1 < s.size() && s[j + 1] == '\\')) ++j;
      i = j < s.size() ? (s[j] == '\x07' ? j + 1 : j + 2) : j;
    } else {
      i = j + 1;
    }
    if (i >= s.size() && j >= s.size() && cut) *cut = s.size() - esc;  // ended inside it
  }
}

size_t unreadable_char_len(std::string_view s) {
  if (s.empty()) return 0;
  auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) return (c < 0x20 && c != '\t') || c == 0x7F ? 1 : 0;
  size_t n = utf8_len(s, 0);
  if (n == 0) return 1;
  auto c1 = static_cast<unsigned char>(s[1]);
  if (c == 0xC2 && c1 < 0xA0) return 2;  // C1 control
  if (n == 3 && (s.substr(0, 3) == "\xEF\xBB\xBF" || s.substr(0, 3) == "\xEF\xBF\xBD")) return 3;
  return 0;
}

std::optional<double> parse_finite(std::string_view s) {
  if (s.empty()) return std::nullopt;
  // from_chars accepts "inf"/"nan" and hex-less forms; reject anything not digit-led.
  size_t k = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (k >= s.size() || !((s[k] >= '0' && s[k] <= '9') || s[k] == '.')) return std::nullopt;
  std::string_view body = s[0] == '+' ? s.substr(1) : s;
  double v = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc() || p != body.data() + body.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

bool json_depth_ok(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

nlohmann::json parse_json_bounded(std::string_view s, int max_depth) {
  if (!json_depth_ok(s, max_depth)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
}

std::string fixed(double v, int decimals) {
  std::string r = fmt::format("{:.{}f}", v, decimals);
  if (r.size() > 1 && r[0] == '-' && r.find_first_not_of("-0.") == std::string::npos) r.erase(0, 1);
  return r;
}

std::string human_bytes(uint64_t n) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string folder_timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
  return buf;
}

std::string clip_utf8(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "\u2026";
}

void put_u32le(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32le(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

bool path_under(const std::string& path, const std::string& root) {
  if (root == "-" || path == "-") return path == root;
  std::filesystem::path p = std::filesystem::path(path).lexically_normal(),
                        r = std::filesystem::path(root).lexically_normal();
  auto rel = p.lexically_relative(r);
  return !rel.empty() && rel.native().rfind("..", 0) != 0;
}

}  // namespace alog
