// The MCP server's confinement (Roots) and grep, on files made here. The protocol and the tools
// are driven end to end over a pipe by tests/e2e/mcp_session.py and the SDK client test.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fmt/format.h>

#include "analyze_logs/mcp.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using alog::mcp::grep;
using alog::mcp::GrepOptions;
using alog::mcp::Roots;
using alog::test_support::TempDir;

namespace {

std::string numbered(int n, const char* word) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += fmt::format("2026-03-13 10:00:{:02},000 line {} {}\n", i % 60, i, word);
  return s;
}

}  // namespace

TEST(McpRoots, AMissingRootIsAnErrorNamingIt) {
  TempDir t;
  try {
    Roots r({(t.path / "nope").string()});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("nope: No such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Roots({}), std::invalid_argument);
}

TEST(McpRoots, PathsInsideAreCanonicalRelativeOnesUnderTheFirstRoot) {
  TempDir t;
  t.write("a/run/x.log", "hello\n");
  t.write("b/y.log", "hello\n");
  Roots r({(t.path / "a").string(), (t.path / "b").string()});
  std::string why;
  auto p = r.resolve("run/x.log", why);
  ASSERT_TRUE(p) << why;
  EXPECT_EQ(*p, fs::canonical(t.path / "a/run/x.log"));
  p = r.resolve((t.path / "b/./y.log").string(), why);
  ASSERT_TRUE(p) << why;
  EXPECT_EQ(*p, fs::canonical(t.path / "b/y.log"));
  p = r.resolve((t.path / "a").string(), why);  // the root itself
  ASSERT_TRUE(p) << why;
}

TEST(McpRoots, EscapesAreRefusedWithTheReason) {
  TempDir t;
  t.write("root/x.log", "x\n");
  t.write("secret.txt", "s\n");
  t.write("root2-sibling/z.log", "z\n");
  Roots r({(t.path / "root").string()});
  std::string why;
  EXPECT_FALSE(r.resolve("../secret.txt", why));
  EXPECT_NE(why.find("outside the roots"), std::string::npos) << why;
  EXPECT_FALSE(r.resolve((t.path / "secret.txt").string(), why));
  // A sibling whose name starts like the root is not inside it.
  EXPECT_FALSE(r.resolve((t.path / "root2-sibling/z.log").string(), why));
  EXPECT_FALSE(r.resolve("missing.log", why));
  EXPECT_NE(why.find("missing.log: No such file"), std::string::npos) << why;
  EXPECT_FALSE(r.resolve("", why));
  EXPECT_FALSE(r.resolve(std::string("x.log\0/../../secret.txt", 23), why));
  EXPECT_NE(why.find("NUL"), std::string::npos) << why;
}

TEST(McpRoots, ALinkLeadingOutRefusesItsFolderForAnalysisButNotForGrep) {
  TempDir t;
  t.write("root/job/x.log", "x\n");
  t.write("outside/secret.log", "s\n");
  fs::create_directory_symlink(t.path / "outside", t.path / "root/job/out");
  fs::create_symlink(t.path / "root/job/x.log", t.path / "root/job/inside_link.log");
  fs::create_symlink(t.path / "gone", t.path / "root/job/dangling");
  Roots r({(t.path / "root").string()});
  std::string why;
  EXPECT_FALSE(r.resolve("job", why));
  EXPECT_NE(why.find("the link " + (t.path / "root/job/out").string() + " leads outside"), std::string::npos) << why;
  EXPECT_TRUE(r.resolve("job", why, /*check_links=*/false)) << why;
  // Through the link itself: its canonical path is outside.
  EXPECT_FALSE(r.resolve("job/out/secret.log", why));
  // A link that stays inside, and a dangling one, are fine.
  fs::remove(t.path / "root/job/out");
  EXPECT_TRUE(r.resolve("job", why)) << why;
  auto p = r.resolve("job/inside_link.log", why);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->filename(), "x.log");
}

TEST(McpRoots, AHugeTreeIsRefusedNotWalkedForever) {
  TempDir t;
  for (int i = 0; i < 30; ++i) t.write(fmt::format("root/d/f{}.log", i), "x\n");
  Roots r({(t.path / "root").string()});
  std::string why;
  EXPECT_FALSE(r.resolve("d", why, true, 10));
  EXPECT_NE(why.find("more than 10 files"), std::string::npos) << why;
  EXPECT_TRUE(r.resolve("d", why, true, 100)) << why;
}

TEST(McpGrep, CountsEveryMatchReturnsAtMostMaxLines) {
  TempDir t;
  t.write("a.log", numbered(50, "alpha") + numbered(7, "beta"));
  GrepOptions o;
  o.pattern = "line [0-9]+ alpha$";
  o.paths = {t.path};
  o.max_lines = 5;
  auto g = grep(o);
  EXPECT_EQ(g.total, 50u);
  ASSERT_EQ(g.matches.size(), 5u);
  EXPECT_EQ(g.matches[0].line, 1u);
  EXPECT_EQ(g.matches[4].line, 5u);
  EXPECT_EQ(g.matches[0].text, "2026-03-13 10:00:01,000 line 1 alpha");
  ASSERT_TRUE(g.matches[0].time_ms);
  EXPECT_EQ(g.files, 1u);
  o.ignore_case = true;
  o.pattern = "BETA";
  EXPECT_EQ(grep(o).total, 7u);
}

TEST(McpGrep, TheWindowUsesEachLinesStampOrTheLastOneBeforeIt) {
  TempDir t;
  t.write("w.log",
          "no stamp yet: before any stamp\n"
          "2026-03-13 10:00:01 a hit\n"
          "2026-03-13 10:00:02 b hit\n"
          "  continuation hit\n"
          "2026-03-13 10:00:03 c hit\n"
          "[rank0]:[E313 10:00:04.123 x.cpp:1] d hit\n");  // NCCL: no year, taken from the file
  GrepOptions o;
  o.pattern = "hit";
  o.paths = {t.path / "w.log"};
  o.since_ms = alog::mcp::parse_when("2026-03-13 10:00:02");
  o.until_ms = alog::mcp::parse_when("2026-03-13T10:00:04.500");
  auto g = grep(o);
  ASSERT_EQ(g.total, 4u);
  EXPECT_EQ(g.matches[0].line, 3u);
  EXPECT_EQ(g.matches[1].line, 4u);  // the continuation, stamped 10:00:02
  EXPECT_EQ(g.matches[3].line, 6u);
  o.since_ms.reset();
  o.until_ms = alog::mcp::parse_when("2026-03-13");  // a date alone: its start
  EXPECT_EQ(grep(o).total, 0u);
  EXPECT_FALSE(alog::mcp::parse_when("yesterday"));
}

TEST(McpGrep, CompressedFilesAreReadBinaryAndSpecialFilesSkipped) {
  TempDir t;
  std::string text = numbered(10, "zz");
  t.write("d/a.log.gz", alog::test_support::gzip(text));
  t.write("d/b.log.zst", alog::test_support::zstd(text));
  t.write("d/c.bin", std::string("zz\0zz\n", 6));
  t.write("d/corrupt.gz", alog::test_support::gzip(text).substr(0, 20));
  ASSERT_EQ(::mkfifo((t.path / "d/pipe").c_str(), 0600), 0);
  GrepOptions o;
  o.pattern = "zz";
  o.paths = {t.path / "d", t.path / "d/pipe"};
  auto g = grep(o);
  EXPECT_EQ(g.total, 20u);
  ASSERT_EQ(g.skipped.size(), 3u);
  std::string all;
  for (const auto& [f, why] : g.skipped) all += f + ": " + why + "\n";
  EXPECT_NE(all.find("c.bin: binary"), std::string::npos) << all;
  EXPECT_NE(all.find("corrupt.gz: "), std::string::npos) << all;
  EXPECT_NE(all.find("pipe: not a regular file"), std::string::npos) << all;
}

TEST(McpGrep, BadAndExpensivePatternsAreRefused) {
  GrepOptions o;
  o.pattern = "(unclosed";
  try {
    grep(o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("RE2 syntax"), std::string::npos) << e.what();
  }
  o.pattern = "\\pL{1000}";
  try {
    grep(o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("too expensive"), std::string::npos) << e.what();
  }
  o.pattern = "";
  EXPECT_THROW(grep(o), std::invalid_argument);
  o.pattern = std::string(5000, 'a');
  EXPECT_THROW(grep(o), std::invalid_argument);
}

TEST(McpGrep, ByteBudgetFileBudgetLongLinesAndCancellation) {
  TempDir t;
  // Two 1.5 MiB lines with no match in their first MiB, then a short hit.
  std::string big(3 << 19, 'x');
  t.write("long.log", big + "needle\n" + big + "\nneedle here\n");
  GrepOptions o;
  o.pattern = "needle";
  o.paths = {t.path / "long.log"};
  auto g = grep(o);
  EXPECT_EQ(g.total, 1u) << "a line is matched on its first MiB only";
  ASSERT_EQ(g.matches.size(), 1u);
  EXPECT_EQ(g.matches[0].line, 3u);
  EXPECT_EQ(g.bytes, big.size() * 2 + 7 + 1 + 12);
  o.max_bytes = 1 << 20;
  g = grep(o);
  EXPECT_TRUE(g.stopped_at_bytes);
  EXPECT_EQ(g.total, 0u);
  for (int i = 0; i < 5; ++i) t.write(fmt::format("many/f{}.log", i), "needle\n");
  o = GrepOptions{};
  o.pattern = "needle";
  o.paths = {t.path / "many"};
  o.max_files = 3;
  g = grep(o);
  EXPECT_TRUE(g.stopped_at_files);
  EXPECT_EQ(g.total, 3u);
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  EXPECT_TRUE(grep(o).cancelled);
}
