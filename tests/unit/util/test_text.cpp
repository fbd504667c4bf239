// util/text.cpp: escaping text taken from logs for Markdown, HTML, terminals and JSON; removing
// ANSI codes; strict number parsing (a value must be entirely a finite number); number formats.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "analyze_logs/util.hpp"

using namespace alog;
using namespace std::string_literals;

namespace {

std::string stripped(std::string_view s) {
  std::string out;
  strip_ansi(s, out);
  return out;
}

}  // namespace

// ---- strip_ansi ---------------------------------------------------------------------------------

TEST(UtilStripAnsi, LoguruColourCodes) {
  EXPECT_EQ(stripped("\x1b[2m18:30:47\x1b[0m \x1b[1m   INFO\x1b[0m \x1b[1m\x1b[22m[gen] batch.done "
                     "dur_ms=5\x1b[0m\x1b[0m"),
            "18:30:47    INFO [gen] batch.done dur_ms=5");
}

TEST(UtilStripAnsi, CsiWithParametersOscAndTwoByteEscapes) {
  EXPECT_EQ(stripped("a\x1b[31;1mb\x1b[0mc"), "abc");
  EXPECT_EQ(stripped("a\x1b]0;title\x07"
                     "b"),
            "ab");
  EXPECT_EQ(stripped("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"), "alinkb");
  EXPECT_EQ(stripped("a\x1b"
                     "cb"),
            "ab");
  EXPECT_EQ(stripped("a\x1b[?25lb"), "ab");
}

TEST(UtilStripAnsi, TruncatedEscapesDoNotOverrun) {
  EXPECT_EQ(stripped("abc\x1b"), "abc");
  EXPECT_EQ(stripped("abc\x1b["), "abc");
  EXPECT_EQ(stripped("abc\x1b[31"), "abc");
  EXPECT_EQ(stripped("abc\x1b]0;never ends"), "abc");
}

// The length of a sequence the text ends inside of (what the parser counts as unreadable bytes
// when it stood before a tag); 0 when the text ends outside any sequence.
TEST(UtilStripAnsi, SaysHowLongASequenceCutShortByTheEndWas) {
  auto cut_of = [](std::string_view s) {
    std::string out;
    size_t cut = 99;
    strip_ansi(s, out, &cut);
    return cut;
  };
  EXPECT_EQ(cut_of("abc\x1b"), 1u);
  EXPECT_EQ(cut_of("abc\x1b["), 2u);
  EXPECT_EQ(cut_of("abc\x1b[38;5"), 6u);
  EXPECT_EQ(cut_of("abc\x1b]8;;http://x"), 13u);
  EXPECT_EQ(cut_of("abc\x1b]0;t\x1b"), 6u);  // an ESC that is not yet ESC '\\'
  for (std::string_view whole : {"", "abc", "abc\x1b[0m", "a\x1b[1mb",
                                 "a\x1b"
                                 "c",
                                 "a\x1b]0;t\x07", "a\x1b]0;t\x1b\\", "\x1b[31m"})
    EXPECT_EQ(cut_of(whole), 0u) << printable(whole);
}

// What the parser drops from before a tag: characters that are not text.
TEST(UtilUnreadableChar, ControlsInvalidUtf8MarksAndReplacementCharacters) {
  for (int c = 0; c < 0x80; ++c) {
    std::string s(1, static_cast<char>(c));
    bool control = (c < 0x20 && c != '\t') || c == 0x7F;
    EXPECT_EQ(unreadable_char_len(s), control ? 1u : 0u) << c;
  }
  for (int c = 0x80; c < 0x100; ++c)  // alone, every byte above ASCII is invalid UTF-8
    EXPECT_EQ(unreadable_char_len(std::string(1, static_cast<char>(c)) + "x"), 1u) << c;
  EXPECT_EQ(unreadable_char_len("\xef\xbb\xbf[weights]"), 3u);  // U+FEFF, byte-order mark
  EXPECT_EQ(unreadable_char_len("\xef\xbf\xbd"), 3u);           // U+FFFD
  EXPECT_EQ(unreadable_char_len("\xc2\x85"), 2u);               // U+0085, a C1 control
  EXPECT_EQ(unreadable_char_len("\xc0\xaf"), 1u);               // overlong: one byte at a time
  EXPECT_EQ(unreadable_char_len("\xed\xa0\x80"), 1u);           // a surrogate
  for (std::string_view text : {"", "a", " ", "\t", "\xc2\xa0", "\xc3\xa9", "\xe2\x86\x92",
                                "\xf0\x9f\x98\x80", "\xef\xbf\xbc"})
    EXPECT_EQ(unreadable_char_len(text), 0u) << printable(text);
}

TEST(UtilStripAnsi, AppendsWithoutClearing) {
  std::string out = "x";
  strip_ansi("\x1b[1my", out);
  EXPECT_EQ(out, "xy");
}

TEST(UtilStripAnsi, PlainTextUnchanged) {
  EXPECT_EQ(stripped("[weights][abc] client.done wall_ms=1"),
            "[weights][abc] client.done wall_ms=1");
  EXPECT_EQ(stripped(""), "");
}

// ---- parse_finite / parse_int
// ---------------------------------------------------------------------

TEST(UtilParseFinite, AcceptsDecimalNumbers) {
  EXPECT_EQ(parse_finite("0"), 0.0);
  EXPECT_EQ(parse_finite("1255.4"), 1255.4);
  EXPECT_EQ(parse_finite("30000"), 30000.0);
  EXPECT_EQ(parse_finite("-1.0"), -1.0);
  EXPECT_EQ(parse_finite("+2.5"), 2.5);
  EXPECT_EQ(parse_finite("2.9e4"), 29000.0);
  EXPECT_EQ(parse_finite("1E-3"), 0.001);
  EXPECT_EQ(parse_finite(".5"), 0.5);
  EXPECT_EQ(parse_finite("2345.678901"), 2345.678901);
}

TEST(UtilParseFinite, RejectsAnythingElse) {
  for (std::string s : std::initializer_list<std::string>{
           "",         "abc",   "12ms",   "1.2.3", "nan", "NaN", "inf",      "-inf",
           "Infinity", "1e999", "-1e999", "0x10",  "1,5", " 1",  "1 ",       "--1",
           "+-1",      "-",     "+",      ".",     "e5",  "1e",  "\x31\x00"s})
    EXPECT_FALSE(parse_finite(s)) << "accepted '" << s << "'";
}

TEST(UtilParseInt, NonNegativeIntegersOnly) {
  EXPECT_EQ(parse_int("0"), 0);
  EXPECT_EQ(parse_int("42"), 42);
  EXPECT_EQ(parse_int("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(parse_int("9223372036854775808"));
  EXPECT_FALSE(parse_int("-1"));
  EXPECT_FALSE(parse_int("1.5"));
  EXPECT_FALSE(parse_int(""));
  EXPECT_FALSE(parse_int("12a"));
}

// ---- fixed / human_bytes / folder_timestamp
// -------------------------------------------------------

TEST(UtilFixed, DecimalsAndNoNegativeZero) {
  EXPECT_EQ(fixed(28453.2), "28453.2");
  EXPECT_EQ(fixed(1234.5, 0), "1234");
  EXPECT_EQ(fixed(2.0, 3), "2.000");
  EXPECT_EQ(fixed(-0.0), "0.0");
  EXPECT_EQ(fixed(-0.04), "0.0");
  EXPECT_EQ(fixed(-0.04, 2), "-0.04");
  EXPECT_EQ(fixed(-3.5), "-3.5");
}

TEST(UtilHumanBytes, Units) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1024), "1.0 KiB");
  EXPECT_EQ(human_bytes(1536ull * 1024 * 1024), "1.5 GiB");
  EXPECT_EQ(human_bytes(5ull << 40), "5.0 TiB");
}

TEST(UtilFolderTimestamp, Shape) {
  std::string s = folder_timestamp();
  ASSERT_EQ(s.size(), 15u);  // YYYYmmdd_HHMMSS
  EXPECT_EQ(s[8], '_');
  for (size_t i = 0; i < s.size(); ++i)
    if (i != 8) {
      EXPECT_TRUE(s[i] >= '0' && s[i] <= '9') << s;
    }
}

// ---- Escaping
// -------------------------------------------------------------------------------------

TEST(UtilMdEscape, TableBreakersAndMarkup) {
  EXPECT_EQ(md_escape("a|b"), "a\\|b");
  EXPECT_EQ(md_escape("`x`"), "\\`x\\`");
  EXPECT_EQ(md_escape("*_[]\\"), "\\*\\_\\[\\]\\\\");
  EXPECT_EQ(md_escape("<script>&"), "&lt;script&gt;&amp;");
  EXPECT_EQ(md_escape("logs/orchestrator.log"), "logs/orchestrator.log");
}

TEST(UtilMdEscape, ControlBytesVisibleAndInvalidUtf8Replaced) {
  EXPECT_EQ(md_escape("a\x1b[31mb"), "a\\x1B\\[31mb");
  EXPECT_EQ(md_escape("a\nb\tc"), "a\\x0Ab\\x09c");
  EXPECT_EQ(md_escape("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(md_escape("µs ≤"), "µs ≤");
}

TEST(UtilHtmlEscape, MarkupAndQuotes) {
  EXPECT_EQ(html_escape("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(html_escape("a\x1b"), "a\\x1B");
  EXPECT_EQ(html_escape("\xc3\x28"), "\xEF\xBF\xBD(");
}

TEST(UtilPrintable, ControlBytesBecomeHexAndTheRestIsKept) {
  EXPECT_EQ(printable("a|b*c"), "a|b*c");
  EXPECT_EQ(printable("a\rb\0c"s), "a\\x0Db\\x00c");
  EXPECT_EQ(printable("\x7f"), "\\x7F");
  EXPECT_EQ(printable("\xe2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated 3-byte sequence
  EXPECT_EQ(printable("é"), "é");
}

TEST(UtilUtf8Clean, ValidTextUnchangedInvalidReplaced) {
  EXPECT_EQ(utf8_clean("plain ascii\n\t"), "plain ascii\n\t");
  EXPECT_EQ(utf8_clean("ünïcödé ✓ 𝄞"), "ünïcödé ✓ 𝄞");
  EXPECT_EQ(utf8_clean("a\xff"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8_clean("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(utf8_clean("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(utf8_clean("\xf4\x90\x80\x80").find("\xEF\xBF\xBD"), 0u);             // beyond U+10FFFF
}

TEST(UtilText, MdCodeFencesLongerThanAnyBacktickRunAndEscapesNothing) {
  EXPECT_EQ(md_code("analyze-logs --trace <id>"), "`analyze-logs --trace <id>`");
  EXPECT_EQ(md_code("a_b|c&d"), "`a_b|c&d`");
  EXPECT_EQ(md_code("x ``y`` z"), "```x ``y`` z```");
  EXPECT_EQ(md_code("`tick"), "`` `tick ``");
  EXPECT_EQ(md_code("line1\nline2"), "`line1 line2`");
  EXPECT_EQ(md_code("esc\x1b[31m"), "`esc\\x1B[31m`");
}

TEST(UtilText, MdProseRendersBacktickPairsAsCode) {
  EXPECT_EQ(md_prose("run `analyze-logs --trace <id>` now_please"),
            "run `analyze-logs --trace <id>` now\\_please");
  EXPECT_EQ(md_prose("a `b` c `d"), "a `b` c \\`d");
  EXPECT_EQ(md_prose("<x>"), "&lt;x&gt;");
}

TEST(UtilContainsAny, AnyNeedleAnywhereNoneOrEmpty) {
  static constexpr std::string_view needles[] = {"NCCL INFO", "Etcd not ready"};
  EXPECT_TRUE(alog::contains_any("node1:42 NCCL INFO Bootstrap", needles));
  EXPECT_TRUE(alog::contains_any("x Etcd not ready yet", needles));
  EXPECT_FALSE(alog::contains_any("NCCL WARN socket", needles));
  EXPECT_FALSE(alog::contains_any("", needles));
  EXPECT_FALSE(alog::contains_any("anything", std::span<const std::string_view>{}));
}
