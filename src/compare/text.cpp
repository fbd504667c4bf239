// Plain-text helpers shared by the Ray and srtctl terminal writers.

#include <algorithm>

#include "kinds.hpp"

namespace alog::compare::detail {

size_t text_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s)
    if ((ch & 0xC0) != 0x80) ++n;
  return n;
}

std::string clip_text(std::string_view s, size_t width) {
  if (text_width(s) <= width) return std::string(s);
  if (width == 0) return {};
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    if ((ch & 0xC0) != 0x80 && ++n > width - 1) break;
    out += s[i];
  }
  return out + "…";
}

std::string TextTable::render(std::string_view indent) const {
  std::vector<size_t> w(right.size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size() && c < w.size(); ++c) w[c] = std::max(w[c], text_width(r[c]));
  std::string out;
  for (const auto& r : rows) {
    std::string line(indent);
    for (size_t c = 0; c < r.size() && c < w.size(); ++c) {
      size_t pad = w[c] - text_width(r[c]);
      if (c) line += "  ";
      if (right[c])
        line += std::string(pad, ' ') + r[c];
      else
        line += r[c] + (c + 1 < r.size() ? std::string(pad, ' ') : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace alog::compare::detail
