// core::discover() with kinds made up for the test (so the walker is tested apart from the real
// kinds, which test_cli_discover covers): "whole" reads folders holding job.marker whole; "node"
// has logs folders holding node.out and driver files whose head says DRIVER; "tagged" claims
// files with a line starting "[tag]" and streams standard input.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>

#include "analyze_logs/core/discover.hpp"
#include "analyze_logs/input.hpp"
#include "stdin_swap.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using alog::core::discover;
using alog::core::DiscoveredJob;
using alog::core::Discovery;
using alog::core::KindProbe;
using alog::test_support::StdinSwap;
using alog::test_support::TempDir;

namespace {

bool has_file(const fs::path& d, const char* name) {
  std::error_code ec;
  return fs::exists(d / name, ec);
}

const std::array<KindProbe, 3>& probes() {
  static const std::array<KindProbe, 3> t{{
      {.kind = "whole",
       .looks_for = "whole folders (job.marker)",
       .claims_dir = [](const fs::path& d) { return has_file(d, "job.marker"); },
       .claims_logs_dir = {},
       .logs_dir_role = "",
       .sniff = {},
       .sniff_deep = {},
       .anchor_role = "",
       .stdin_file = "job.log"},
      {.kind = "node",
       .looks_for = "node logs (DRIVER heads, folders with node.out)",
       .claims_dir = {},
       .claims_logs_dir = [](const fs::path& d) { return has_file(d, "node.out"); },
       .logs_dir_role = "session logs",
       .sniff = [](const fs::path&, std::string_view h) -> std::string {
         return h.starts_with("DRIVER") ? "driver log" : "";
       },
       .sniff_deep = {},
       .anchor_role = "driver log",
       .stdin_file = "running_logs/stdin.log"},
      {.kind = "tagged",
       .looks_for = "tagged logs ([tag] lines)",
       .claims_dir = {},
       .claims_logs_dir = {},
       .logs_dir_role = "",
       .sniff = [](const fs::path& f, std::string_view h) -> std::string {
         if (h.find("\n[tag]") == std::string_view::npos && !h.starts_with("[tag]")) return "";
         return f.filename().string().find("orch") != std::string::npos ? "orchestrator log"
                                                                        : "log";
       },
       .sniff_deep = {},
       .anchor_role = "orchestrator log",
       .stdin_file = ""},
  }};
  return t;
}

Discovery run(const std::vector<std::string>& args, alog::core::DiscoverOptions opt = {}) {
  return discover(args, probes(), opt);
}

const alog::core::InputEntry* skipped(const Discovery& d, std::string_view path_end) {
  for (const auto& s : d.skipped)
    if (std::string_view(s.path).ends_with(path_end)) return &s;
  return nullptr;
}

std::vector<std::string> rel_files(const DiscoveredJob& j, const fs::path& base) {
  std::vector<std::string> v;
  for (const auto& f : j.files) v.push_back(fs::path(f).lexically_relative(base).generic_string());
  for (const auto& f : j.dirs) v.push_back(fs::path(f).lexically_relative(base).generic_string());
  std::sort(v.begin(), v.end());
  return v;
}

// A run of the "node" kind as collected from two nodes, the second with two sessions.
void make_collected(const TempDir& t, const std::string& under) {
  t.write(under + "/running_logs/train_20260313_101502.log", "DRIVER start\n");
  t.write(under + "/ray/10.0.0.1/session_2026-03-13_10-15-02_1_1/logs/node.out", "n1\n");
  t.write(under + "/ray/10.0.0.2/session_2026-03-12_22-01-40_2_1/logs/node.out", "old\n");
  t.write(under + "/ray/10.0.0.2/session_2026-03-13_10-15-04_3_1/logs/node.out", "n2\n");
  fs::create_directory_symlink("session_2026-03-13_10-15-04_3_1",
                               t.path / under / "ray/10.0.0.2/session_latest");
}

TEST(Discover, CollectedNodesAreOneJobAndOlderSessionIsSkippedWithANote) {
  TempDir t;
  make_collected(t, "run");
  auto d = run({(t.path / "run").string()});
  ASSERT_EQ(d.jobs.size(), 1u);
  const auto& j = d.jobs[0];
  EXPECT_EQ(j.kind, "node");
  EXPECT_EQ(j.name, "run");
  EXPECT_EQ(j.root, (t.path / "run").generic_string());
  EXPECT_EQ(rel_files(j, t.path / "run"),
            (std::vector<std::string>{"ray/10.0.0.1/session_2026-03-13_10-15-02_1_1/logs",
                                      "ray/10.0.0.2/session_2026-03-13_10-15-04_3_1/logs",
                                      "running_logs/train_20260313_101502.log"}));
  auto older =
      std::find_if(j.inputs.begin(), j.inputs.end(), [](const auto& e) { return !e.read; });
  ASSERT_NE(older, j.inputs.end());
  EXPECT_TRUE(older->path.ends_with("session_2026-03-12_22-01-40_2_1/logs"));
  EXPECT_EQ(older->reason, "older session");
  ASSERT_EQ(j.notes.size(), 1u);
  EXPECT_NE(j.notes[0].find("ray/10.0.0.2 holds 2 Ray sessions; read the newest, "
                            "session_2026-03-13_10-15-04_3_1, and skipped the older "
                            "session_2026-03-12_22-01-40_2_1"),
            std::string::npos)
      << j.notes[0];
  // The link is the newest session again: listed, read once.
  auto* link = skipped(d, "ray/10.0.0.2/session_latest");
  ASSERT_NE(link, nullptr);
  EXPECT_NE(link->reason.find("same folder as"), std::string::npos);
  EXPECT_TRUE(d.unrecognised.empty());
}

TEST(Discover, NewestSessionByItsStampWithoutALink) {
  TempDir t;
  t.write("n/session_2026-03-14_08-00-00_9_1/logs/node.out", "x\n");
  t.write("n/session_2026-03-13_23-59-59_8_1/logs/node.out", "x\n");
  auto d = run({t.path.string()});
  ASSERT_EQ(d.jobs.size(), 1u);
  ASSERT_EQ(d.jobs[0].dirs.size(), 1u);
  EXPECT_TRUE(d.jobs[0].dirs[0].ends_with("session_2026-03-14_08-00-00_9_1/logs"));
}

TEST(Discover, SameTreeSixLevelsDownGivesTheSameJobs) {
  TempDir t;
  make_collected(t, "run");
  make_collected(t, "a/b/c/d/e/f/run");
  auto top = run({(t.path / "run").string()});
  auto deep = run({(t.path / "a").string()});
  ASSERT_EQ(deep.jobs.size(), 1u);
  EXPECT_EQ(deep.jobs[0].kind, top.jobs[0].kind);
  EXPECT_EQ(deep.jobs[0].name, "b/c/d/e/f/run");
  EXPECT_EQ(rel_files(deep.jobs[0], t.path / "a/b/c/d/e/f/run"),
            rel_files(top.jobs[0], t.path / "run"));
  ASSERT_EQ(deep.jobs[0].notes.size(), 1u);
  EXPECT_EQ(deep.jobs[0].notes[0], "b/c/d/e/f/run/" + top.jobs[0].notes.at(0));
}

TEST(Discover, SeparateRunsInSubfoldersAreOneJobEach) {
  TempDir t;
  t.write("runA/running_logs/a.log", "DRIVER a\n");
  t.write("runA/session_latest/logs/node.out", "x\n");
  t.write("runB/running_logs/b.log", "DRIVER b\n");
  t.write("runB/session_latest/logs/node.out", "x\n");
  t.write("p1/logs/orch.log", "[tag] one\n");
  t.write("p1/logs/trainer/rank_0.log", "[tag] two\n");
  t.write("p2/orch.log", "[tag] three\n");
  auto d = run({t.path.string()});
  std::vector<std::string> got;
  for (const auto& j : d.jobs)
    got.push_back(j.kind + ":" + j.name + ":" + std::to_string(j.files.size() + j.dirs.size()));
  EXPECT_EQ(got,
            (std::vector<std::string>{"node:runA:2", "node:runB:2", "tagged:p1:2", "tagged:p2:1"}));
}

TEST(Discover, WholeFolderBesideLooseLogsGivesTwoJobs) {
  TempDir t;
  t.write("mixed/job_17/job.marker", "");
  t.write("mixed/job_17/out.log", "[tag] would be claimed if the folder were walked\n");
  t.write("mixed/rl/logs/orch.out", "[tag] x\n");
  auto d = run({(t.path / "mixed").string()});
  ASSERT_EQ(d.jobs.size(), 2u);
  EXPECT_EQ(d.jobs[0].kind, "whole");
  EXPECT_EQ(d.jobs[0].name, "job_17");
  EXPECT_EQ(d.jobs[0].dirs, std::vector<std::string>{(t.path / "mixed/job_17").generic_string()});
  EXPECT_EQ(d.jobs[1].kind, "tagged");
  EXPECT_EQ(d.jobs[1].name, "rl");  // not "rl/logs": the folder the user named
  EXPECT_EQ(d.jobs[1].files,
            std::vector<std::string>{(t.path / "mixed/rl/logs/orch.out").generic_string()});
}

TEST(Discover, FilesAreJudgedByContentAndEverySkipHasItsReason) {
  TempDir t;
  t.write("run/orch.out", "[tag] a\n");
  t.write("run/infer.err.gz", alog::test_support::gzip("noise\n[tag] b\n"));
  t.write("run/notes.txt", "just notes\n");
  t.write("run/empty.log", "");
  t.write("run/weights.bin", std::string("\x01\x00\x02\x00\xff\xfe", 6) + std::string(5000, '\0'));
  t.write("run/.hidden/x.log", "[tag] hidden\n");
  t.write("run/analysis_run/report.log", "[tag] ours\n");
  ASSERT_EQ(::mkfifo((t.path / "run/pipe.log").c_str(), 0600), 0);
  fs::create_symlink("nowhere.log", t.path / "run/dangling.log");
  t.write("run/broken.gz", std::string("\x1f\x8b\x08\x00garbage-not-deflate", 22));
  auto d = run({(t.path / "run").string()});
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(rel_files(d.jobs[0], t.path / "run"),
            (std::vector<std::string>{"infer.err.gz", "orch.out"}));
  auto reason = [&](std::string_view f) {
    auto* s = skipped(d, f);
    return s ? s->reason : std::string("<not listed>");
  };
  EXPECT_EQ(reason("/notes.txt"), "no line this tool recognises");
  EXPECT_EQ(reason("/empty.log"), "empty");
  EXPECT_EQ(reason("/weights.bin"), "binary");
  EXPECT_EQ(reason("/.hidden"), "hidden folder");
  EXPECT_EQ(reason("/analysis_run"), "an output folder of this tool");
  EXPECT_EQ(reason("/pipe.log"), "not a regular file (named pipe, socket or device); never opened");
  EXPECT_EQ(reason("/dangling.log"), "broken link");
  EXPECT_TRUE(reason("/broken.gz").starts_with("unreadable: ")) << reason("/broken.gz");
}

TEST(Discover, UnreadableFileIsSkippedWithTheErrno) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads anything";
  TempDir t;
  auto f = t.write("run/secret.log", "[tag] x\n");
  fs::permissions(f, fs::perms::none);
  auto d = run({(t.path / "run").string()});
  auto* s = skipped(d, "secret.log");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->reason, "unreadable: Permission denied");
}

TEST(Discover, SymlinkLoopEndsAndIsListed) {
  TempDir t;
  t.write("run/a/orch.log", "[tag] a\n");
  fs::create_directory_symlink("..", t.path / "run/a/up");
  fs::create_directory_symlink("../a", t.path / "run/a/again");
  auto d = run({(t.path / "run").string()});
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(d.jobs[0].files.size(), 1u);
  ASSERT_NE(skipped(d, "run/a/up"), nullptr);
  EXPECT_NE(skipped(d, "run/a/up")->reason.find("same folder as"), std::string::npos);
}

TEST(Discover, DepthAndFileLimitsAreSaid) {
  TempDir t;
  t.write("r/1/2/3/orch.log", "[tag] deep\n");
  t.write("r/x1.log", "[tag] a\n");
  t.write("r/x2.log", "[tag] b\n");
  alog::core::DiscoverOptions opt;
  opt.max_depth = 2;
  opt.max_files = 1;
  auto d = run({(t.path / "r").string()}, opt);
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(d.jobs[0].files.size(), 1u);
  ASSERT_NE(skipped(d, "r/1/2"), nullptr);
  EXPECT_EQ(skipped(d, "r/1/2")->reason,
            "not looked into: 2 folders below the argument, the limit");
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("stopped after 1 files; 1 more were not looked at"), std::string::npos);
}

TEST(Discover, MissingArgumentIsAOneLineError) {
  try {
    run({"/no/such/folder/run7"});
    FAIL() << "no error";
  } catch (const alog::core::DiscoverError& e) {
    EXPECT_STREQ(e.what(), "/no/such/folder/run7: No such file or directory");
  }
}

TEST(Discover, NothingRecognisedSaysWhatWasLookedForAndWhatItLookedLike) {
  TempDir t;
  t.write("n/readme.txt", "hello\nworld\n");
  t.write("n/data.csv", "a,b\n1,2\n3,4\n");
  t.write("n/sub/blob.bin", std::string(100, '\0'));
  auto d = run({(t.path / "n").string()});
  EXPECT_TRUE(d.jobs.empty());
  ASSERT_EQ(d.unrecognised.size(), 1u);
  const auto& u = d.unrecognised[0];
  EXPECT_EQ(u.argument, (t.path / "n").string());
  EXPECT_EQ(u.looked_for,
            "whole folders (job.marker); node logs (DRIVER heads, folders with node.out); "
            "tagged logs ([tag] lines)");
  EXPECT_EQ(u.looked_like,
            "a folder of 3 files (2 text, 1 binary) in 1 subfolder; 6 lines read from the first "
            "64 KiB of each, none that any kind recognises");
  EXPECT_EQ(d.skipped.size(), 3u);
}

TEST(Discover, FileArgumentOfEachKind) {
  TempDir t;
  auto drv = t.write("x/train.log", "DRIVER\n");
  auto tag = t.write("y/orch.log", "[tag] a\n");
  auto txt = t.write("z/plain.txt", "plain\n");
  auto d = run({drv.string(), tag.string(), txt.string()});
  ASSERT_EQ(d.jobs.size(), 2u);
  EXPECT_EQ(d.jobs[0].kind, "node");
  EXPECT_EQ(d.jobs[0].name, "train.log");
  EXPECT_EQ(d.jobs[0].files, std::vector<std::string>{drv.generic_string()});
  EXPECT_EQ(d.jobs[0].inputs.at(0).role, "driver log");
  EXPECT_EQ(d.jobs[1].kind, "tagged");
  EXPECT_EQ(d.jobs[1].inputs.at(0).role, "orchestrator log");
  ASSERT_EQ(d.unrecognised.size(), 1u);
  EXPECT_EQ(d.unrecognised[0].argument, txt.string());
  EXPECT_EQ(
      d.unrecognised[0].looked_like,
      "a text file; 1 line read from the first 64 KiB of each, none that any kind recognises");
}

std::string read_all(alog::input::ByteSource& src) {
  std::string out, buf(1 << 16, '\0');
  while (size_t n = src.read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

std::string read_all_stdin() {
  return read_all(*alog::input::open_source("-"));
}

std::string big_tagged(size_t lines) {
  std::string s;
  for (size_t i = 0; i < lines; ++i) s += "[tag] line " + std::to_string(i) + " of a log\n";
  return s;
}

TEST(DiscoverStdin, StreamedKindGetsEveryByteBackFromAPipe) {
  std::string data = big_tagged(20000);  // ~500 KiB: far past the sniffed head
  ASSERT_GT(data.size(), 4u * 64 * 1024);
  auto swap = StdinSwap::pipe_of(data);
  auto d = run({"-"});
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(d.jobs[0].kind, "tagged");
  EXPECT_EQ(d.jobs[0].name, "<stdin>");
  EXPECT_EQ(d.jobs[0].files, std::vector<std::string>{"-"});
  EXPECT_EQ(read_all_stdin(), data);
}

TEST(DiscoverStdin, CompressedPipeIsSniffedDecompressedAndGivenBackCompressed) {
  std::string data = big_tagged(5000);
  auto swap = StdinSwap::pipe_of(alog::test_support::gzip(data));
  auto d = run({"-"});
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(d.jobs[0].kind, "tagged");
  auto src = alog::input::open_source("-");
  EXPECT_EQ(src->compression(), alog::input::Compression::gzip);
  EXPECT_EQ(read_all(*src), data);
}

TEST(DiscoverStdin, RegularFileAsStdinIsNotConsumed) {
  TempDir t;
  std::string data = "skip me\n" + big_tagged(3000);
  auto f = t.write("in.log", data);
  auto swap = StdinSwap::file_of(f, 8);  // as after `head -1` read the first line
  auto d = run({"-"});
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(::lseek(0, 0, SEEK_CUR), 8);
  auto src = alog::input::open_source("-");
  ASSERT_TRUE(src->positional().has_value());  // the scanner's pread path stays available
  EXPECT_EQ(src->positional()->begin, 8u);
}

TEST(DiscoverStdin, FileReadingKindGetsACopyRemovedOnRequest) {
  std::string data = "DRIVER\n" + std::string(100000, 'x') + "\nend\n";
  auto swap = StdinSwap::pipe_of(data);
  TempDir t;
  alog::core::DiscoverOptions opt;
  opt.temp_dir = t.path;
  auto d = run({"-"}, opt);
  ASSERT_EQ(d.jobs.size(), 1u);
  const auto& j = d.jobs[0];
  EXPECT_EQ(j.kind, "node");
  ASSERT_EQ(j.files.size(), 1u);
  EXPECT_TRUE(j.files[0].ends_with("/running_logs/stdin.log"));
  EXPECT_EQ(fs::path(j.files[0]).parent_path().parent_path().parent_path(), t.path);
  EXPECT_EQ(alog::test_support::slurp(j.files[0]), data);
  ASSERT_EQ(j.notes.size(), 1u);
  EXPECT_NE(j.notes[0].find("standard input was copied to"), std::string::npos);
  alog::core::remove_stdin_copies();
  EXPECT_FALSE(fs::exists(j.root));
}

TEST(DiscoverStdin, UnrecognisedStdinIsLeftAsItWas) {
  std::string data = "nothing to see\nhere\n";
  auto swap = StdinSwap::pipe_of(data);
  auto d = run({"-"});
  EXPECT_TRUE(d.jobs.empty());
  ASSERT_EQ(d.unrecognised.size(), 1u);
  EXPECT_EQ(d.unrecognised[0].argument, "-");
  EXPECT_EQ(d.unrecognised[0].looked_like,
            "standard input: text, 2 lines in its first 64 KiB, none that any kind recognises");
  EXPECT_EQ(read_all_stdin(), data);
}

}  // namespace
