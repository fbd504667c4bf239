// Bad input at the byte-source level (issue 8): truncated and corrupt gzip / zstd streams end in
// an InputError that names the file and says how far decoding got, after the readable part has
// been delivered; files that cannot be opened give one line naming them; for_each_line survives
// NUL bytes, long lines and unterminated last lines. Also the escaping helpers every writer uses
// for log-derived text (`|`, backticks, `<script>`, ANSI codes, invalid UTF-8).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "analyze_logs/input.hpp"
#include "analyze_logs/util.hpp"
#include "support.hpp"

using namespace alog;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

using alog::test_support::TempDir;
using alog::test_support::gzip;
using alog::test_support::zstd;

std::string sample_log(int lines) {
  std::string s;
  for (int i = 0; i < lines; ++i)
    s += "[weights][" + std::string(12, '0') + std::to_string(1000 + i) + "] client.done wall_ms=" + std::to_string(i % 97) +
         ".5 rpc_ms=1 queue_ms=2\n";
  return s;
}


struct ReadAll {
  std::string out;
  std::string error;  // empty: no error
};

ReadAll read_all(std::string bytes, const std::string& name, size_t buf = 4u << 20) {
  ReadAll r;
  auto src = input::memory_source(std::move(bytes), name);
  std::string b(buf, '\0');
  try {
    for (;;) {
      size_t n = src->read(b.data(), b.size());
      if (n == 0) break;
      r.out.append(b.data(), n);
    }
  } catch (const input::InputError& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace

// ---- compressed input -----------------------------------------------------------------------

TEST(InputRobustness, TruncatedGzipDeliversTheReadablePartThenNamesFileAndOffset) {
  std::string log = sample_log(20000);
  std::string gz = gzip(log);
  for (size_t buf : {size_t{4096}, size_t{4u << 20}}) {
    auto r = read_all(gz.substr(0, gz.size() / 2), "orchestrator.log.gz", buf);
    EXPECT_NE(r.error.find("orchestrator.log.gz: truncated gzip stream: input ended after "), std::string::npos)
        << r.error;
    EXPECT_NE(r.error.find(std::to_string(gz.size() / 2) + " compressed bytes"), std::string::npos) << r.error;
    // Regression: with a buffer larger than the whole output the decoded bytes used to be lost
    // with the exception (0 lines reported for a truncated .gz).
    EXPECT_GT(r.out.size(), log.size() / 4) << buf;
    EXPECT_EQ(log.compare(0, r.out.size(), r.out), 0);
  }
}

TEST(InputRobustness, CorruptGzipNamesFileAndOffset) {
  std::string log = sample_log(20000);
  std::string gz = gzip(log);
  gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0xff);
  auto r = read_all(gz, "x.gz");
  EXPECT_TRUE(r.error.starts_with("x.gz: corrupt gzip stream after ")) << r.error;
  EXPECT_NE(r.error.find("compressed bytes"), std::string::npos);
}

TEST(InputRobustness, GzipAndZstdMagicFollowedByGarbage) {
  auto g = read_all("\x1f\x8b"s + "this is not deflate data at all\n", "g.log");
  EXPECT_TRUE(g.error.starts_with("g.log: ")) << g.error;
  auto z = read_all("\x28\xb5\x2f\xfd"s + "garbage garbage garbage\n", "z.log");
  EXPECT_TRUE(z.error.starts_with("z.log: corrupt zstd stream")) << z.error;
  // Only the magic, nothing after it: truncated.
  auto g2 = read_all("\x1f\x8b"s, "g2.log");
  EXPECT_TRUE(g2.error.starts_with("g2.log: truncated gzip stream")) << g2.error;
  auto z2 = read_all("\x28\xb5\x2f\xfd"s, "z2.log");
  EXPECT_TRUE(z2.error.starts_with("z2.log: truncated zstd stream")) << z2.error;
  // Shorter than a magic: plain bytes.
  auto one = read_all("\x1f"s, "one.log");
  EXPECT_TRUE(one.error.empty());
  EXPECT_EQ(one.out, "\x1f");
}

TEST(InputRobustness, TruncatedAndCorruptZstd) {
  std::string log = sample_log(20000);
  std::string z = zstd(log, 3, true);
  auto t = read_all(z.substr(0, z.size() / 2), "inference.log.zst");
  EXPECT_TRUE(t.error.starts_with("inference.log.zst: truncated zstd stream: input ended after ")) << t.error;
  EXPECT_GT(t.out.size(), 0u);
  EXPECT_EQ(log.compare(0, t.out.size(), t.out), 0);
  std::string bad = z;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0xff);
  auto c = read_all(bad, "inference.log.zst");
  EXPECT_TRUE(c.error.starts_with("inference.log.zst: corrupt zstd stream after ")) << c.error;
  // The last byte of a frame without checksum: still detected as truncated.
  std::string nz = zstd(log, 3, false);
  auto t2 = read_all(nz.substr(0, nz.size() - 1), "n.zst");
  EXPECT_NE(t2.error.find("truncated zstd stream"), std::string::npos) << t2.error;
}

// zstd does not say what a failing call wrote before it failed, so the decoder feeds it one
// decoding step at a time: a corrupt byte anywhere (frame headers, block headers, block bodies,
// checksums, across frames) gives the same bytes and the same error for every read size, with
// and without read-ahead, and never fewer bytes than the stream cut at that byte gives (every
// block before the corrupt one). Reading 1 MiB at a time used to lose up to 1 MiB of them.
TEST(InputRobustness, CorruptZstdGivesTheSameBytesAndErrorForEveryReadSize) {
  std::string a = sample_log(3000), b = sample_log(1000), c = sample_log(2500);
  std::string z = zstd(a, 3, true) + zstd(b, 3, false) + zstd(c, 3, true);
  std::vector<size_t> at;
  for (size_t i = 0; i < 24; ++i) at.push_back(i);                  // the first frame's header
  for (size_t i = 24; i < z.size(); i += z.size() / 120) at.push_back(i);
  for (size_t i = 1; i <= 8; ++i) at.push_back(z.size() - i);       // the last block and checksum
  size_t tested = 0;
  for (size_t pos : at) {
    std::string bad = z;
    bad[pos] = static_cast<char>(bad[pos] ^ (pos % 2 ? 0xff : 0x10));
    auto want = read_all(bad, "c.log.zst", 1u << 20);
    if (want.error.empty()) continue;  // a flip the format cannot see (a literal, no checksum)
    ++tested;
    EXPECT_TRUE(want.error.starts_with("c.log.zst: corrupt zstd stream after ") ||
                want.error.starts_with("c.log.zst: truncated zstd stream"))
        << want.error;
    for (size_t buf : {size_t{97}, size_t{4096}, size_t{100'000}}) {
      auto r = read_all(bad, "c.log.zst", buf);
      EXPECT_EQ(r.error, want.error) << pos << " " << buf;
      EXPECT_EQ(r.out.size(), want.out.size()) << pos << " " << buf;
      EXPECT_TRUE(r.out == want.out) << pos << " " << buf;
    }
    auto src = input::memory_source(bad, "c.log.zst");
    src->read_ahead({65536, 2});
    std::string got, buf(4096, '\0');
    try {
      while (size_t n = src->read(buf.data(), buf.size())) got.append(buf.data(), n);
      ADD_FAILURE() << "no error with read-ahead at " << pos;
    } catch (const input::InputError& e) {
      EXPECT_EQ(std::string(e.what()), want.error) << pos;
    }
    EXPECT_TRUE(got == want.out) << pos;
    auto cut = read_all(z.substr(0, pos), "c.log.zst", 1u << 20);
    EXPECT_GE(want.out.size(), cut.out.size()) << pos;
    EXPECT_EQ(want.out.compare(0, cut.out.size(), cut.out), 0) << pos;
  }
  EXPECT_GT(tested, at.size() / 2);
}

TEST(InputRobustness, ErrorIsStickyAfterTheReadablePart) {
  std::string gz = gzip(sample_log(1000));
  auto src = input::memory_source(gz.substr(0, gz.size() - 4), "s.gz");  // CRC kept, size cut
  std::string buf(1 << 20, '\0');
  size_t n = src->read(buf.data(), buf.size());
  EXPECT_GT(n, 0u);
  EXPECT_THROW(src->read(buf.data(), buf.size()), input::InputError);
  EXPECT_THROW(src->read(buf.data(), buf.size()), input::InputError);
}

TEST(InputRobustness, ConcatenatedGzipMembersAndTrailingGarbage) {
  std::string a = sample_log(10), b = sample_log(20);
  auto r = read_all(gzip(a) + gzip(b), "cat.gz");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out, a + b);
  auto g = read_all(gzip(a) + "junk after the member", "junk.gz");
  EXPECT_EQ(g.out, a);
  EXPECT_NE(g.error.find("junk.gz: corrupt gzip stream: trailing garbage after "), std::string::npos) << g.error;
}

// ---- files ------------------------------------------------------------------------------------

TEST(InputRobustness, UnopenableFilesGiveOneLineNamingThem) {
  TempDir d;
  auto missing = (d.path / "gone.log").string();
  try {
    input::open_source(missing);
    FAIL() << "no error for a missing file";
  } catch (const input::InputError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": No such file or directory");
  }
  try {
    input::open_source(d.path.string());
    FAIL() << "no error for a directory";
  } catch (const input::InputError& e) {
    EXPECT_EQ(std::string(e.what()), d.path.string() + ": is a directory, not a log file");
  }
  fs::create_symlink(d.path / "nowhere", d.path / "dangling.log");
  EXPECT_THROW(input::open_source((d.path / "dangling.log").string()), input::InputError);
  if (::geteuid() != 0) {  // root reads everything
    auto locked = d.path / "locked.log";
    std::ofstream(locked) << "x\n";
    fs::permissions(locked, fs::perms::none);
    try {
      input::open_source(locked.string());
      FAIL() << "no error for an unreadable file";
    } catch (const input::InputError& e) {
      EXPECT_EQ(std::string(e.what()), locked.string() + ": Permission denied");
    }
  }
}

TEST(InputRobustness, ForEachLineWithNulLongAndUnterminatedLines) {
  std::string text = "a\0b\n"s + std::string(5000, 'x') + "\r\n\n" + "last";
  auto src = input::memory_source(text, "f.log");
  std::vector<std::string> lines;
  input::for_each_line(
      *src,
      [&](std::string_view l, uint64_t n) {
        EXPECT_EQ(n, lines.size() + 1);
        lines.emplace_back(l);
        return true;
      },
      1000);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "a\0b"s);
  EXPECT_EQ(lines[1], std::string(1000, 'x'));  // cut at max_line
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], "last");
}

TEST(InputRobustness, ForEachLineOnTruncatedGzipThrowsAfterTheLinesRead) {
  std::string gz = gzip(sample_log(5000));
  auto src = input::memory_source(gz.substr(0, gz.size() / 2), "half.gz");
  uint64_t seen = 0;
  EXPECT_THROW(input::for_each_line(*src, [&](std::string_view, uint64_t n) { seen = n; return true; }),
               input::InputError);
  EXPECT_GT(seen, 100u);
}

// ---- escaping of log-derived text -----------------------------------------------------------

TEST(TextRobustness, MarkdownEscapesTableBreakersMarkupAndAnsi) {
  EXPECT_EQ(md_escape("a|b"), "a\\|b");
  EXPECT_EQ(md_escape("`rm -rf`"), "\\`rm -rf\\`");
  EXPECT_EQ(md_escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(md_escape("\x1b[31mred\x1b[0m"), "\\x1B\\[31mred\\x1B\\[0m");
  EXPECT_EQ(md_escape("nul\0here"s), "nul\\x00here");
  EXPECT_EQ(md_escape("new\nline"), "new\\x0Aline");
  EXPECT_EQ(md_escape("bad \xff utf8"), "bad \xEF\xBF\xBD utf8");
  EXPECT_EQ(md_escape("\xc3\xa9t\xc3\xa9"), "\xc3\xa9t\xc3\xa9");  // valid UTF-8 kept
}

TEST(TextRobustness, HtmlEscapesMarkupQuotesAndAnsi) {
  EXPECT_EQ(html_escape("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
  EXPECT_EQ(html_escape("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
  EXPECT_EQ(html_escape("\x1b[1m"), "\\x1B[1m");
  EXPECT_EQ(html_escape("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
}

TEST(TextRobustness, Utf8CleanReplacesEveryInvalidSequence) {
  EXPECT_EQ(utf8_clean("ok"), "ok");
  EXPECT_EQ(utf8_clean("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(utf8_clean("\xc3"), "\xEF\xBF\xBD");                      // cut 2-byte sequence
  EXPECT_EQ(utf8_clean("\xe2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");      // cut 3-byte sequence
  EXPECT_EQ(utf8_clean("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(utf8_clean("\xf4\x90\x80\x80").substr(0, 3), "\xEF\xBF\xBD");         // > U+10FFFF
  EXPECT_EQ(utf8_clean("\xe2\x82\xac"), "\xe2\x82\xac");              // the euro sign
  EXPECT_EQ(utf8_clean("a\0b"s), "a\0b"s);                            // NUL is valid UTF-8
}

TEST(TextRobustness, PrintableShowsControlBytesLiterally) {
  EXPECT_EQ(printable("\x1b[2J\x1b]0;title\x07"), "\\x1B[2J\\x1B]0;title\\x07");
  EXPECT_EQ(printable("tab\there"), "tab\\x09here");
  std::string stripped;
  strip_ansi("\x1b[2m18:30:47\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b", stripped);
  EXPECT_EQ(stripped, "18:30:47 link ");
}
