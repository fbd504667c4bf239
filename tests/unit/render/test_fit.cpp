// The terminal helpers: widths in code points (not bytes), cutting with "…" without splitting a
// UTF-8 character or an escape sequence, wrapping, and tables that shrink to the width.
#include <gtest/gtest.h>

#include <sstream>

#include "analyze_logs/render/render.hpp"

using namespace alog::render;

namespace {

size_t widest_line(const std::string& text) {
  std::istringstream in(text);
  size_t w = 0;
  for (std::string l; std::getline(in, l);) w = std::max(w, display_width(l));
  return w;
}

}  // namespace

TEST(RenderFit, WidthCountsCodePointsAndSkipsColour) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("h\u00e9llo \u2026"), 7u);     // é and … are 2 and 3 bytes
  EXPECT_EQ(display_width("\u65e5\u672c\u8a9e"), 3u);  // 9 bytes
  EXPECT_EQ(display_width("\x1b[31;1mred\x1b[0m"), 3u);
  EXPECT_EQ(display_width(""), 0u);
}

TEST(RenderFit, FitCutsAtCharactersAndMarksTheCut) {
  EXPECT_EQ(fit("short", 10), "short");
  EXPECT_EQ(fit("\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4", 4), "\u00e4\u00e4\u00e4\u2026");
  EXPECT_EQ(display_width(fit("\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4", 4)), 4u);
  EXPECT_EQ(fit("abcdef", 1), "\u2026");
  EXPECT_EQ(fit("abcdef", 0), "");
  // A colour cut open is closed, and escape bytes never count toward the width.
  std::string c = fit("\x1b[31mabcdefgh\x1b[0m", 5);
  EXPECT_EQ(c, "\x1b[31mabcd\u2026\x1b[0m");
  EXPECT_EQ(display_width(c), 5u);
}

TEST(RenderFit, WrapKeepsEveryLineInsideTheWidth) {
  std::string s;
  for (int i = 0; i < 40; ++i) s += "w\u00f6rd\u00e9 ";
  auto lines = wrap(s, 30, "Cause: ", "       ");
  ASSERT_GT(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("Cause: w\u00f6rd\u00e9", 0), 0u);
  for (const auto& l : lines) {
    EXPECT_LE(display_width(l), 30u) << l;
    EXPECT_NE(l.back(), ' ');
  }
  for (size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(lines[i].rfind("       w", 0), 0u) << lines[i];
  // A word longer than the line is cut rather than overflowing.
  auto one = wrap(std::string(50, 'x'), 20);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(display_width(one[0]), 20u);
  EXPECT_EQ(wrap("", 10), std::vector<std::string>{""});
}

TEST(RenderFit, TableShrinksItsTextColumnToTheWidth) {
  TextTable t{{"n", "name", "value"}, {true, false, true}, {}};
  t.rows.push_back({"1", std::string(150, 'a'), "3.14"});
  t.rows.push_back({"22", "\u00fcber", "2.72"});
  std::string out = text_table(t, 60);
  EXPECT_LE(widest_line(out), 60u) << out;
  // Right-aligned numbers keep their alignment: both rows end at the same column.
  std::istringstream in(out);
  std::string head, r1, r2;
  std::getline(in, head);
  std::getline(in, r1);
  std::getline(in, r2);
  EXPECT_EQ(display_width(r1), display_width(r2)) << out;
  EXPECT_NE(r1.find("\u2026"), std::string::npos) << r1;
  EXPECT_NE(r2.find("\u00fcber"), std::string::npos) << r2;
  EXPECT_EQ(fit_lines(std::string(120, 'z') + "\nok\n", 100), std::string(99, 'z') + "\u2026\nok\n");
}

TEST(RenderFit, PaintOnlyWithColour) {
  EXPECT_EQ(paint("FAILED", Tone::critical, false), "FAILED");
  EXPECT_EQ(paint("FAILED", Tone::critical, true), "\x1b[31;1mFAILED\x1b[0m");
  EXPECT_EQ(paint("ok", Tone::ok, true), "\x1b[32mok\x1b[0m");
  EXPECT_EQ(paint("w", Tone::warning, true), "\x1b[33mw\x1b[0m");
  EXPECT_EQ(tone_of(alog::core::Verdict::stuck), Tone::critical);
  EXPECT_EQ(tone_of(alog::core::Severity::info), Tone::info);
}
