// Issue 22, the sharp edges a new user met, each fed to the real binary (ALOG_BINARY): an --out
// that does not exist yet, --json with another --format, --no-folder, compare's own --help, a
// --trace-out that cannot be written, and an ambiguous --trace prefix.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using alog::test_support::ChildOutcome;
using alog::test_support::lines_of;
using alog::test_support::slurp;
using alog::test_support::TempDir;

namespace {

const fs::path kData = fs::path(ALOG_TESTDATA);
const std::string kPrefix = (kData / "runs" / "prefix").string();
const std::string kPostfix = (kData / "runs" / "postfix").string();
const std::string kSrtctlJob = (kData / "srtctl" / "logs" / "4459_2P_1D_20251122_041341").string();
const std::string kMixed = (kData / "discover" / "mixed").string();

// The binary with `args`, run in `cwd` (the folder a run without --out writes into).
ChildOutcome run_in(const fs::path& cwd, std::vector<std::string> args) {
  args.insert(args.begin(), alog::test_support::binary_under_test().string());
  return alog::test_support::run_piped(args, [cwd] {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
  });
}

// The same as the unprivileged user `nobody` when the tests run as root (root ignores permission
// bits, so "permission denied" needs another user); as themselves otherwise.
// Exits 124 when `nobody` cannot run the binary at all (a checkout under a private home folder):
// the caller skips then.
constexpr int kCannotRunUnprivileged = 124;
ChildOutcome run_unprivileged(const fs::path& cwd, std::vector<std::string> args) {
  std::string bin = alog::test_support::binary_under_test().string();
  args.insert(args.begin(), bin);
  return alog::test_support::run_piped(args, [cwd, bin] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(125);
    if (::access(bin.c_str(), X_OK) != 0) ::_exit(kCannotRunUnprivileged);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
  });
}

// Everything in `dir`, hidden entries included (an analysis_*, a .analysis_* staging folder).
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  return v;
}

std::vector<fs::path> folders_named(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().starts_with(prefix)) v.push_back(e.path());
  return v;
}

bool has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// The only line of stderr (empty when there is not exactly one).
std::string one_line(const std::string& err) {
  auto l = lines_of(err);
  return l.size() == 1 ? l[0] : std::string();
}

// A world-readable folder holding `name` (a small prime-rl log), for runs as `nobody`.
fs::path readable_log(const TempDir& t, const std::string& name) {
  fs::permissions(t.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  return t.write(name,
                 "[weights][00000000000000a1] client.send path=/m/step_1 t=100.5\n"
                 "[weights][00000000000000a1] client.done wall_ms=9 rpc_ms=5 queue_ms=4\n");
}

}  // namespace

// ---- 1. --out that does not exist --------------------------------------------------------------

TEST(CliSharpEdges, OutThatDoesNotExistIsCreatedWithItsParents) {
  TempDir w;
  const fs::path out = w.path / "reports" / "2026" / "run1";
  auto r = run_in(w.path, {"-q", "-o", out.string(), kPrefix});
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  const fs::path folder = lines.back();
  EXPECT_EQ(folder.parent_path(), out);
  EXPECT_TRUE(folder.filename().string().starts_with("analysis_")) << folder;
  EXPECT_TRUE(fs::is_regular_file(folder / "report.json"));
  EXPECT_TRUE(fs::is_regular_file(folder / "timeline.txt"));
  EXPECT_EQ(entries(out).size(), 1u) << "the report folder only, no staging folder left";
}

TEST(CliSharpEdges, CompareOutThatDoesNotExistIsCreatedWithItsParents) {
  TempDir w;
  const fs::path out = w.path / "cmp" / "a" / "b";
  auto r = run_in(w.path, {"compare", "-o", out.string(), kPrefix, kPostfix});
  ASSERT_EQ(r.status, 0) << r.err;
  auto folders = folders_named(out, "comparison_");
  ASSERT_EQ(folders.size(), 1u);
  EXPECT_TRUE(fs::is_regular_file(folders[0] / "compare.json"));
  EXPECT_EQ(lines_of(r.out).back(), folders[0].string());
}

TEST(CliSharpEdges, OutUnderARegularFileIsOneLineNamingItAndExitTwo) {
  TempDir w;
  const fs::path file = w.write("notes.txt", "a file, not a folder\n");
  const fs::path out = file / "reports";
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"-q", "-o", out.string(), kPrefix},
                                             {"compare", "-o", out.string(), kPrefix, kPostfix}}) {
    auto r = run_in(w.path, args);
    EXPECT_EQ(r.status, 2) << args[0];
    EXPECT_EQ(one_line(r.err), "analyze-logs: " + out.string() +
                                   ": cannot create this folder for the report: Not a directory")
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(entries(w.path), std::vector<std::string>{"notes.txt"}) << "nothing created";
  }
}

TEST(CliSharpEdges, OutInAFolderWithoutWritePermissionIsOneLineNamingItAndExitTwo) {
  TempDir w;
  const fs::path log = readable_log(w, "orchestrator.log");
  const fs::path locked = w.path / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
  const fs::path out = locked / "new" / "reports";
  auto r = run_unprivileged(w.path, {"-q", "-o", out.string(), log.string()});
  if (r.status == kCannotRunUnprivileged) GTEST_SKIP() << "nobody cannot run " << ALOG_BINARY << " here";
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(one_line(r.err), "analyze-logs: " + out.string() +
                                 ": cannot create this folder for the report: Permission denied")
      << r.err;
  EXPECT_TRUE(fs::is_empty(locked));
}

// ---- 2. --json with another --format -----------------------------------------------------------

TEST(CliSharpEdges, JsonWithAnotherFormatIsAUsageErrorNamingBoth) {
  TempDir w;
  for (const std::string fmt : {"md", "text"}) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"-q", "--json", "--format", fmt, kPrefix},
             {"-q", "--format", fmt, "--json", kPrefix},
             {"compare", "--json", "--format", fmt, kPrefix, kPostfix}}) {
      auto r = run_in(w.path, args);
      EXPECT_EQ(r.status, 2) << fmt;
      const std::string line = one_line(r.err);
      EXPECT_TRUE(line.starts_with("analyze-logs: --json and --format " + fmt + " cannot be used"))
          << r.err;
      EXPECT_TRUE(r.out.empty()) << r.out;
      EXPECT_TRUE(entries(w.path).empty()) << "no folder for a usage error";
    }
  }
  // --json says the same as --format json: together they are fine.
  auto r = run_in(w.path,
                  {"-q", "--json", "--format", "json", "-o", (w.path / "out").string(), kPrefix});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["schema"], 2);
}

// ---- 3. --no-folder ----------------------------------------------------------------------------

// Each kind's path (the single prime-rl run streams its own report.json; srtctl and a mixed folder
// go through the shared writers): stdout is what a run with a folder prints, without the path, and
// nothing is written anywhere.
TEST(CliSharpEdges, NoFolderPrintsTheSameReportAndWritesNothing) {
  for (const std::string& input : {kPrefix, kSrtctlJob, kMixed}) {
    for (const std::string fmt : {"text", "md", "json"}) {
      TempDir with, without;
      auto a = run_in(with.path, {"-q", "--color", "never", "--format", fmt, input});
      ASSERT_EQ(a.status, 0) << input << " " << a.err;
      auto b =
          run_in(without.path, {"-q", "--color", "never", "--format", fmt, "--no-folder", input});
      ASSERT_EQ(b.status, 0) << input << " " << b.err;
      EXPECT_TRUE(entries(without.path).empty()) << input << ": --no-folder wrote something";
      EXPECT_TRUE(b.err.empty()) << b.err;
      auto folders = folders_named(with.path, "analysis_");
      ASSERT_EQ(folders.size(), 1u);
      if (fmt == "json") {
        // Byte for byte the report.json the run with a folder wrote; the path went to stderr.
        EXPECT_EQ(b.out, slurp(folders[0] / "report.json")) << input;
        EXPECT_EQ(lines_of(a.err).back(), "./" + folders[0].filename().string());
      } else {
        const std::string path_line = "./" + folders[0].filename().string() + "\n";
        ASSERT_TRUE(a.out.ends_with(path_line)) << a.out;
        EXPECT_EQ(b.out, a.out.substr(0, a.out.size() - path_line.size())) << input << " " << fmt;
        EXPECT_FALSE(has(b.out, "analysis_")) << b.out;
      }
    }
  }
}

TEST(CliSharpEdges, NoFolderKeepsTheExitStatusFailOnAndExpect) {
  TempDir w;
  auto fail_on = run_in(w.path, {"-q", "--no-folder", "--fail-on", "critical", kPrefix});
  EXPECT_EQ(fail_on.status, 1) << fail_on.err;
  auto clean = run_in(w.path, {"-q", "--no-folder", "--fail-on", "warning", kPostfix});
  EXPECT_EQ(clean.status, 0) << clean.err;
  auto expect = run_in(
      w.path, {"-q", "--no-folder", "--json", "--expect", "weights.queue_ms.max<300", kPrefix});
  EXPECT_EQ(expect.status, 1) << expect.err;
  json j = json::parse(expect.out);
  ASSERT_EQ(j["expectations"].size(), 1u);
  EXPECT_FALSE(j["expectations"][0]["passed"].get<bool>());
  auto srtctl = run_in(w.path, {"-q", "--no-folder", "--fail-on", "critical", kSrtctlJob});
  EXPECT_EQ(srtctl.status, 0) << srtctl.err;
  EXPECT_TRUE(entries(w.path).empty());
}

TEST(CliSharpEdges, NoFolderWarningsGoToStderrAndStdoutStaysJson) {
  TempDir w;
  auto r = run_in(w.path, {"-q", "--json", "--no-folder", "--live", kPrefix});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["kind"], "prime-rl");
  EXPECT_TRUE(one_line(r.err).starts_with("analyze-logs: warning: --live:")) << r.err;
  EXPECT_TRUE(entries(w.path).empty());
}

TEST(CliSharpEdges, NoFolderWithOutIsAUsageErrorNamingBoth) {
  TempDir w;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-q", "--no-folder", "-o", w.path.string(), kPrefix},
           {"-q", "--out", ".", "--no-folder", kPrefix},
           {"compare", "--no-folder", "-o", w.path.string(), kPrefix, kPostfix}}) {
    auto r = run_in(w.path, args);
    EXPECT_EQ(r.status, 2) << args[0];
    EXPECT_TRUE(one_line(r.err).starts_with("analyze-logs: --no-folder and --out cannot be used"))
        << r.err;
    EXPECT_TRUE(entries(w.path).empty());
  }
}

TEST(CliSharpEdges, CompareNoFolderPrintsCompareJsonAndWritesNothing) {
  TempDir with, without;
  auto a = run_in(with.path, {"compare", "--json", kPrefix, kPostfix});
  ASSERT_EQ(a.status, 0) << a.err;
  auto b = run_in(without.path, {"compare", "--json", "--no-folder", kPrefix, kPostfix});
  ASSERT_EQ(b.status, 0) << b.err;
  auto folders = folders_named(with.path, "comparison_");
  ASSERT_EQ(folders.size(), 1u);
  EXPECT_EQ(b.out, slurp(folders[0] / "compare.json"));
  EXPECT_TRUE(b.err.empty()) << b.err;
  EXPECT_TRUE(entries(without.path).empty());
  auto text = run_in(without.path, {"compare", "--no-folder", kPrefix, kPostfix});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_TRUE(lines_of(text.out).back().starts_with("Verdict: ")) << text.out;
  EXPECT_TRUE(entries(without.path).empty());
}

// ---- 4. compare --help -------------------------------------------------------------------------

TEST(CliSharpEdges, CompareHelpShowsCompareExamples) {
  TempDir w;
  auto c = run_in(w.path, {"compare", "--help"});
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_TRUE(has(c.out, "Examples:")) << c.out;
  EXPECT_TRUE(has(c.out, "analyze-logs compare --fail-on-regression 10 baseline.json")) << c.out;
  EXPECT_TRUE(has(c.out, "comparison_<YYYYmmdd_HHMMSS>/")) << c.out;
  EXPECT_TRUE(has(c.out, "--no-folder")) << c.out;
  EXPECT_FALSE(has(c.out, "analyze-logs run_dir/")) << "the analysis's examples:\n" << c.out;
  EXPECT_FALSE(has(c.out, "--trace")) << c.out;
  auto m = run_in(w.path, {"--help"});
  ASSERT_EQ(m.status, 0) << m.err;
  EXPECT_TRUE(has(m.out, "analyze-logs run_dir/")) << m.out;
  EXPECT_TRUE(has(m.out, "--no-folder")) << m.out;
  EXPECT_FALSE(has(m.out, "analyze-logs compare --fail-on-regression 10 baseline.json")) << m.out;
}

// ---- 5. --trace-out that cannot be written -----------------------------------------------------

TEST(CliSharpEdges, TraceOutThatCannotBeOpenedIsOneLineWithTheReasonBeforeAnyAnalysis) {
  TempDir w;
  const fs::path out = w.path / "out";
  fs::create_directory(out);
  const fs::path file = w.write("notes.txt", "x");
  struct Case {
    fs::path trace;
    std::string reason;
  };
  for (const Case& c :
       {Case{w.path / "missing" / "dir" / "trace.json", "No such file or directory"},
        Case{file / "trace.json", "Not a directory"}, Case{out, "Is a directory"}}) {
    auto r = run_in(w.path, {"-q", "-o", out.string(), "--trace-out", c.trace.string(), kPrefix});
    EXPECT_EQ(r.status, 2) << c.trace;
    EXPECT_EQ(one_line(r.err),
              "analyze-logs: " + c.trace.string() + ": cannot write the trace: " + c.reason)
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_TRUE(fs::is_empty(out)) << "no analysis was run for a trace that cannot be written";
  }
  EXPECT_FALSE(fs::exists(w.path / "missing"));
}

TEST(CliSharpEdges, TraceOutInAReadOnlyFolderIsOneLineWithTheReason) {
  TempDir w;
  const fs::path log = readable_log(w, "orchestrator.log");
  const fs::path locked = w.path / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
  const fs::path trace = locked / "trace.json";
  auto r =
      run_unprivileged(w.path, {"-q", "--no-folder", "--trace-out", trace.string(), log.string()});
  if (r.status == kCannotRunUnprivileged) GTEST_SKIP() << "nobody cannot run " << ALOG_BINARY << " here";
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(one_line(r.err),
            "analyze-logs: " + trace.string() + ": cannot write the trace: Permission denied")
      << r.err;
  EXPECT_TRUE(fs::is_empty(locked));
}

// A write that fails once the report folder is in place (a full disk: /dev/full) keeps the folder,
// whole, and says where it is.
TEST(CliSharpEdges, TraceOutThatFailsAfterTheReportKeepsTheFolder) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  for (const std::string& input : {kPrefix, kMixed}) {
    TempDir w;
    auto r = run_in(w.path, {"-q", "-o", w.path.string(), "--trace-out", "/dev/full", input});
    EXPECT_EQ(r.status, 2) << r.err;
    auto folders = folders_named(w.path, "analysis_");
    ASSERT_EQ(folders.size(), 1u) << input;
    EXPECT_EQ(one_line(r.err),
              "analyze-logs: /dev/full: cannot write the trace: No space left on "
              "device (the report folder " +
                  folders[0].string() + " is complete)")
        << r.err;
    for (const char* f : {"SUMMARY.md", "report.html", "report.json"})
      EXPECT_TRUE(fs::is_regular_file(folders[0] / f)) << f;
    EXPECT_EQ(json::parse(slurp(folders[0] / "report.json"))["schema"], 2);
    EXPECT_EQ(entries(w.path).size(), 1u) << "no staging folder left";
  }
}

// A run that fails after the trace file was opened leaves no empty file it created, and an
// existing file as it was.
TEST(CliSharpEdges, TraceOutOfARunThatFailsIsRemovedOrKept) {
  TempDir w;
  const fs::path not_a_folder = w.write("out.txt", "x");
  const fs::path fresh = w.path / "fresh.json";
  auto r =
      run_in(w.path, {"-q", "-o", not_a_folder.string(), "--trace-out", fresh.string(), kPrefix});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "cannot write the report here")) << r.err;
  EXPECT_FALSE(fs::exists(fresh));
  const fs::path old = w.write("old.json", "an earlier trace\n");
  r = run_in(w.path, {"-q", "-o", not_a_folder.string(), "--trace-out", old.string(), kPrefix});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(slurp(old), "an earlier trace\n");
  // And when it succeeds, the earlier content is replaced by the trace.
  r = run_in(w.path, {"-q", "--no-folder", "--trace-out", old.string(), kPrefix});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(json::parse(slurp(old)).contains("traceEvents"));
}

// A write that fails in the middle of the trace removes the file this run created: the file size
// limit (RLIMIT_FSIZE, SIGXFSZ ignored) stands in for a disk that fills up once the first 16 KiB
// of the streamed trace are in the file.
TEST(CliSharpEdges, TraceOutThatFailsMidWriteRemovesTheFileItCreated) {
  TempDir w;
  const fs::path trace = w.path / "trace.json";
  auto whole = run_in(w.path, {"-q", "--no-folder", "--trace-out", trace.string(), kPrefix});
  ASSERT_EQ(whole.status, 0) << whole.err;
  ASSERT_GT(fs::file_size(trace), 4u * 16384) << "the trace must outgrow the limit";
  fs::remove(trace);
  auto r = alog::test_support::run_piped(
      {alog::test_support::binary_under_test().string(), "-q", "--no-folder", "--trace-out",
       trace.string(), kPrefix},
      [dir = w.path] {
        if (::chdir(dir.c_str()) != 0) ::_exit(126);
        ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim {16384, 16384};
        if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(126);
      });
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(one_line(r.err),
            "analyze-logs: " + trace.string() + ": cannot write the trace: File too large")
      << r.err;
  EXPECT_FALSE(fs::exists(trace));
  EXPECT_TRUE(fs::is_empty(w.path)) << "nothing left behind";
}

// ---- 6. an ambiguous --trace prefix ------------------------------------------------------------

TEST(CliSharpEdges, TraceAmbiguousPrefixListsTwentyCandidatesAndTheCount) {
  TempDir w;
  // 57 updates whose ids all start with "10000000000000": 1000000000000000 ... 1000000000000038.
  std::string log;
  for (int i = 0; i < 57; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "1%015x", i);
    log += "[weights][" + std::string(id) + "] client.send path=/m/step_" + std::to_string(i) +
           " t=" + std::to_string(100 + i) + ".5\n";
    log += "[weights][" + std::string(id) + "] client.done wall_ms=9 rpc_ms=5 queue_ms=4\n";
  }
  const fs::path f = w.write("orchestrator.log", log);
  auto r = run_in(w.path, {"-q", "--trace", "1", f.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  auto err = lines_of(r.err);
  ASSERT_EQ(err.size(), 22u) << r.err;
  EXPECT_EQ(err[0],
            "analyze-logs: trace id prefix '1' is ambiguous: 57 trace ids start with it; "
            "give more of the id:");
  for (int i = 0; i < 20; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "1%015x", i);
    EXPECT_EQ(err[1 + i], "  " + std::string(id));
  }
  EXPECT_EQ(err[21], "  ... and 37 more (57 match)");
  EXPECT_TRUE(entries(w.path) == std::vector<std::string>{"orchestrator.log"}) << "no folder";

  // Up to 20: every one, and no "more" line.
  r = run_in(w.path, {"-q", "--trace", "100000000000003", f.string()});
  EXPECT_EQ(r.status, 2);
  err = lines_of(r.err);
  ASSERT_EQ(err.size(), 10u) << r.err;
  EXPECT_TRUE(has(err[0], "9 trace ids start with it")) << err[0];
  EXPECT_EQ(err[1], "  1000000000000030");
  EXPECT_EQ(err[9], "  1000000000000038");

  // A unique prefix still shows the update.
  r = run_in(w.path, {"-q", "--trace", "1000000000000038", f.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "trace 1000000000000038")) << r.out;
}

// ---- --help, README.md and the man page name the same options ----------------------------------

TEST(CliSharpEdges, HelpReadmeAndManPageNameTheSameOptions) {
  TempDir w;
  const fs::path src = kData.parent_path();
  const std::string readme = slurp(src / "README.md");
  const std::string man = slurp(src / "docs" / "analyze-logs.1");
  ASSERT_FALSE(readme.empty());
  ASSERT_FALSE(man.empty());
  size_t seen = 0;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, std::vector<std::string>{"compare", "--help"}}) {
    auto h = run_in(w.path, args);
    ASSERT_EQ(h.status, 0) << h.err;
    for (size_t i = h.out.find("--"); i != std::string::npos; i = h.out.find("--", i + 2)) {
      size_t end = i + 2;
      while (end < h.out.size() &&
             (std::islower(static_cast<unsigned char>(h.out[end])) || h.out[end] == '-'))
        ++end;
      const std::string opt = h.out.substr(i, end - i);
      if (opt.size() < 4 || opt.back() == '-') continue;
      ++seen;
      EXPECT_TRUE(has(readme, "`" + opt) || has(readme, ", " + opt)) << opt << " not in README.md";
      std::string escaped;
      for (char c : opt) escaped += c == '-' ? std::string("\\-") : std::string(1, c);
      EXPECT_TRUE(has(man, escaped)) << opt << " not in docs/analyze-logs.1";
    }
  }
  EXPECT_GT(seen, 20u);
}
