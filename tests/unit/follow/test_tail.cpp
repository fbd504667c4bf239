// The tail of growing files (--follow): appended bytes only, rotation and copytruncate with no
// line lost or read twice, lines written in pieces, the copies the analysis reads, inputs that
// cannot be followed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze_logs/follow.hpp"
#include "analyze_logs/input.hpp"
#include "stdin_swap.hpp"
#include "support.hpp"

namespace fs = std::filesystem;

namespace alog::follow {
namespace {

using test_support::TempDir;

void append(const fs::path& p, std::string_view bytes) {
  std::ofstream(p, std::ios::binary | std::ios::app).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Seen {
  std::vector<std::string> lines;
  std::vector<bool> catch_up;
  uint64_t grown = 0;
  Tail::LineFn line() {
    return [this](const std::string&, std::string_view l, double, bool c) {
      lines.emplace_back(l);
      catch_up.push_back(c);
    };
  }
  Tail::GrowthFn growth() {
    return [this](const std::string&, uint64_t n) { grown += n; };
  }
};

std::string slurp(const fs::path& p) { return test_support::slurp(p); }

TEST(FollowTail, ReadsWhatIsThereThenOnlyWhatIsAppended) {
  TempDir d;
  TempDir copies;
  fs::path log = d.write("run/orchestrator.log", "one\ntwo\n");
  Tail t(copies.path.string());
  t.add(log.string(), true);
  Seen s;
  EXPECT_EQ(t.poll(s.line(), s.growth()), 8u);
  EXPECT_EQ(s.lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(s.catch_up, (std::vector<bool>{true, true}));
  EXPECT_EQ(t.poll(s.line(), s.growth()), 0u);
  append(log, "three\nfou");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines.back(), "three");
  EXPECT_FALSE(s.catch_up.back());  // appended after it was added: live
  append(log, "r\n");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines, (std::vector<std::string>{"one", "two", "three", "four"}));
  EXPECT_EQ(s.grown, 19u);
  EXPECT_EQ(t.stats().lines, 4u);
  // The analysis reads the copy in place of the file: the same complete lines.
  auto src = input::open_source(log.string());
  EXPECT_EQ(src->name(), log.string());
  std::string got;
  char buf[64];
  for (size_t n; (n = src->read(buf, sizeof buf)) > 0;) got.append(buf, n);
  EXPECT_EQ(got, "one\ntwo\nthree\nfour\n");
  EXPECT_EQ(t.copied_bytes(), 19u);
}

TEST(FollowTail, RotationReadsTheOldFileToItsEndThenTheNewOne) {
  TempDir d, copies;
  fs::path log = d.write("o.log", "a1\na2\n");
  Tail t(copies.path.string());
  t.add(log.string(), true);
  Seen s;
  t.poll(s.line(), s.growth());
  append(log, "a3\n");                 // written before the rename, not read yet
  fs::rename(log, d.path / "o.log.1");  // logrotate's create mode
  append(d.path / "o.log.1", "a4\n");   // the writer still holds the old file
  d.write("o.log", "b1\nb2\n");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines, (std::vector<std::string>{"a1", "a2", "a3", "a4", "b1", "b2"}));
  EXPECT_EQ(t.stats().rotations, 1u);
  EXPECT_TRUE(t.follows((d.path / "o.log.1").string()));  // the same file under its new name
  EXPECT_EQ(slurp(copies.path / "0-o.log"), "a1\na2\na3\na4\nb1\nb2\n");
}

TEST(FollowTail, CopytruncateIsReadFromTheStartWithNoLineTwice) {
  TempDir d, copies;
  fs::path log = d.write("o.log", "x1\nx2\n");
  Tail t(copies.path.string());
  t.add(log.string(), true);
  Seen s;
  t.poll(s.line(), s.growth());
  fs::copy_file(log, d.path / "o.log.1");
  fs::resize_file(log, 0);
  append(log, "y1\n");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines, (std::vector<std::string>{"x1", "x2", "y1"}));
  EXPECT_EQ(t.stats().truncations, 1u);
  EXPECT_EQ(slurp(copies.path / "0-o.log"), "x1\nx2\ny1\n");
}

TEST(FollowTail, AnUnfinishedLineCutByRotationIsDeliveredOnce) {
  TempDir d, copies;
  fs::path log = d.write("o.log", "whole\nhal");
  Tail t(copies.path.string());
  t.add(log.string(), true);
  Seen s;
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines, (std::vector<std::string>{"whole"}));
  fs::rename(log, d.path / "o.log.1");
  d.write("o.log", "next\n");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines, (std::vector<std::string>{"whole", "hal", "next"}));
  t.flush(s.line());
  EXPECT_EQ(s.lines.size(), 3u);
  EXPECT_EQ(slurp(copies.path / "0-o.log"), "whole\nhal\nnext\n");
}

TEST(FollowTail, AProgressBarsPiecesAreHandedOverBeforeItsNewlineEachOnce) {
  TempDir d, copies;
  fs::path log = d.write("driver.log", "");
  Tail t(copies.path.string());
  t.add(log.string(), true);
  Seen s;
  append(log, "Training:  10%|#  | 1/10\rTraining:  20%|## | 2/10\rTrain");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines, (std::vector<std::string>{"Training:  10%|#  | 1/10\rTraining:  20%|## | 2/10\r"}));
  append(log, "ing:  30%|###| 3/10\r");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines.back(), "Training:  30%|###| 3/10\r");
  append(log, "done\n");
  t.poll(s.line(), s.growth());
  EXPECT_EQ(s.lines.back(), "done");
  EXPECT_EQ(s.lines.size(), 3u);
  EXPECT_EQ(slurp(copies.path / "0-driver.log"),
            "Training:  10%|#  | 1/10\rTraining:  20%|## | 2/10\rTraining:  30%|###| 3/10\rdone\n");
}

TEST(FollowTail, LongLinesAreCopiedWholeAndHandedOverByTheirHead) {
  TempDir d, copies;
  std::string big(3u << 20, 'z');  // longer than the 1 MiB kept in memory
  fs::path log = d.write("o.log", "");
  Tail t(copies.path.string());
  t.add(log.string(), true);
  Seen s;
  append(log, big.substr(0, 2u << 20));
  t.poll(s.line(), s.growth());
  EXPECT_TRUE(s.lines.empty());
  append(log, big.substr(2u << 20) + "\nafter\n");
  t.poll(s.line(), s.growth());
  ASSERT_EQ(s.lines.size(), 2u);
  EXPECT_EQ(s.lines[0].size(), 64u << 10);  // what a classifier sees of it
  EXPECT_EQ(s.lines[1], "after");
  EXPECT_EQ(slurp(copies.path / "0-o.log"), big + "\nafter\n");
}

TEST(FollowTail, TheBudgetSpreadsCatchUpOverPolls) {
  TempDir d, copies;
  std::string body;
  for (int i = 0; i < 400000; ++i) body += "line " + std::to_string(i) + "\n";  // ~4.6 MB
  fs::path log = d.write("o.log", body);
  Tail t(copies.path.string());
  t.add(log.string(), false);
  Seen s;
  uint64_t first = t.poll(s.line(), s.growth(), 1);  // one read at most
  EXPECT_TRUE(t.behind());
  EXPECT_LT(first, body.size());
  while (t.behind()) t.poll(s.line(), s.growth(), 1);
  EXPECT_EQ(s.lines.size(), 400000u);
  EXPECT_EQ(s.lines.back(), "line 399999");
  EXPECT_EQ(s.grown, body.size());
}

TEST(FollowTail, CompressedMissingAndFolderInputsAreRefusedWithTheirName) {
  TempDir d, copies;
  Tail t(copies.path.string());
  fs::path gz = d.write("o.log.gz", test_support::gzip("a\n"));
  try {
    t.add(gz.string(), true);
    FAIL() << "a compressed file was followed";
  } catch (const input::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("o.log.gz: compressed; --follow"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.add((d.path / "missing.log").string(), true), input::InputError);
  EXPECT_THROW(t.add(d.path.string(), true), input::InputError);
  EXPECT_EQ(t.stats().files, 0u);
}

TEST(FollowTail, ACopyThatCannotBeWrittenStopsCopyingNotFollowing) {
  TempDir d, copies;
  std::string body;
  for (int i = 0; i < 500; ++i) body += "line " + std::to_string(1000 + i) + "\n";  // 5000 bytes
  fs::path log = d.write("o.log", body);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // A full disk, as the copy sees it: files may not grow past 2000 bytes (EFBIG).
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl{2000, 2000};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    int code = 0;
    try {
      Tail t(copies.path.string());
      t.add(log.string(), true);
      Seen s;
      t.poll(s.line(), s.growth());
      if (s.lines.size() != 500 || s.lines.back() != "line 1499") code |= 1;  // every line still read
      std::string e = t.take_copy_error();
      if (e.find("the analysis reads the file itself") == std::string::npos) code |= 2;
      if (!t.take_copy_error().empty()) code |= 4;  // said once
      auto src = input::open_source(log.string());  // no longer redirected: the file itself
      std::string got;
      char buf[8192];
      for (size_t n; (n = src->read(buf, sizeof buf)) > 0;) got.append(buf, n);
      if (got != body) code |= 8;
    } catch (...) {
      code |= 16;
    }
    ::_exit(code);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "bits: 1 lines lost, 2 no error, 4 said twice, 8 still redirected, 16 threw";
}

TEST(FollowTail, StandardInputIsReadUntilItsEnd) {
  TempDir copies;
  auto swap = test_support::StdinSwap::pipe_of("s1\ns2\nlast-without-newline");
  Tail t(copies.path.string());
  t.add("-", true);
  Seen s;
  for (int i = 0; i < 200 && !t.stdin_ended(); ++i) {
    t.poll(s.line(), s.growth());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(t.stdin_ended());
  EXPECT_EQ(s.lines, (std::vector<std::string>{"s1", "s2", "last-without-newline"}));
  EXPECT_EQ(slurp(copies.path / "0-stdin"), "s1\ns2\nlast-without-newline\n");
}

}  // namespace
}  // namespace alog::follow
