// Fuzzes the helpers every writer routes log-derived text through (util.hpp) and the small
// value parsers the line parser uses: md_escape, html_escape, printable, utf8_clean, strip_ansi,
// parse_finite, parse_int, TraceId::parse, and json_depth_ok (the guard in front of JSON that
// comes from outside: a document it passes must parse without exhausting the stack).
//
// Checks that make the escaping a guarantee rather than a hope: the output is valid UTF-8 with no
// control byte (so no ANSI sequence reaches a terminal or a file), Markdown output has no bare `|`
// or backtick (a table cannot be broken), HTML output has no `<`, `>` or quote, and the number
// parsers return only finite values that round-trip.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "analyze_logs/event.hpp"
#include "analyze_logs/util.hpp"

using namespace alog;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_text invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond) \
  do {              \
    if (!(cond)) fail(#cond); \
  } while (0)

bool no_controls(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return false;
  return true;
}

// utf8_clean is the identity on valid UTF-8.
bool valid_utf8(std::string_view s) { return utf8_clean(s) == s; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);

  std::string clean = utf8_clean(s);
  CHECK(valid_utf8(clean));
  CHECK(utf8_clean(clean) == clean);

  std::string md = md_escape(s);
  CHECK(valid_utf8(md));
  CHECK(no_controls(md));
  for (size_t i = 0; i < md.size(); ++i) {
    char c = md[i];
    if (c == '|' || c == '`') {
      // Must be escaped by an odd run of backslashes.
      size_t k = i, n = 0;
      while (k > 0 && md[k - 1] == '\\') --k, ++n;
      CHECK(n % 2 == 1);
    }
    CHECK(c != '<' && c != '>');
  }

  std::string html = html_escape(s);
  CHECK(valid_utf8(html));
  CHECK(no_controls(html));
  CHECK(html.find_first_of("<>\"'") == std::string::npos);

  std::string pr = printable(s);
  CHECK(valid_utf8(pr));
  CHECK(no_controls(pr));

  std::string stripped;
  strip_ansi(s, stripped);
  CHECK(stripped.size() <= s.size());
  CHECK(stripped.find('\x1b') == std::string::npos);

  if (auto v = parse_finite(s)) {
    CHECK(std::isfinite(*v));
    CHECK(!s.empty());
  }
  if (auto v = parse_int(s)) CHECK(*v >= 0);

  if (json_depth_ok(s, 16)) (void)nlohmann::json::parse(s, nullptr, false);
  {
    // Nesting deeper than the limit is always refused, whatever precedes it.
    std::string deep = std::string(s.substr(0, 64)) + "[[[[[[[[[[[[[[[[[[";
    bool in_string = std::count(deep.begin(), deep.end(), '"') % 2 == 1;  // approximate
    if (!in_string && deep.find('\\') == std::string::npos && deep.find_first_of("]}") == std::string::npos)
      CHECK(!json_depth_ok(deep, 16));
  }

  if (auto t = TraceId::parse(s)) {
    CHECK(t->len == s.size() && t->len >= 1 && t->len <= 16);
    std::string back = t->str();
    CHECK(back.size() == s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      CHECK(back[i] == c);
    }
    CHECK(TraceId::parse(back) == t);
  }
  return 0;
}
