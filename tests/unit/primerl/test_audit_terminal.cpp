// The terminal view (issue "Outputs people use"): colour on and off, `--color auto|always|never`,
// the NO_COLOR convention and `--format text|md|json`, on testdata/runs/prefix (a critical run,
// so every status colour that matters appears).
//
// Part of it is the library's to_text(); the rest runs the real binary, the analyze-logs built
// beside this test (or $ALOG_TEST_BINARY), with standard output a pipe or a pseudo-terminal.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/writers.hpp"

#include "child.hpp"
#include "support.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kPrefix = fs::path(ALOG_TESTDATA) / "runs" / "prefix";

using alog::test_support::TempDir;

std::string strip_sgr(const std::string& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      size_t j = i + 2;
      while (j < s.size() && s[j] != 'm') ++j;
      i = j;
      continue;
    }
    o += s[i];
  }
  return o;
}

using alog::test_support::argv_of;
using alog::test_support::binary_under_test;
using alog::test_support::wait_status;

struct Outcome {
  int status = -1;
  std::string out;  // standard output (and, on a terminal, standard error too)
  std::string err;  // standard error when it is a pipe
};

enum class Env { unset, no_color, no_color_empty };

void child_env(Env env) {
  ::unsetenv("NO_COLOR");
  if (env == Env::no_color) ::setenv("NO_COLOR", "1", 1);
  if (env == Env::no_color_empty) ::setenv("NO_COLOR", "", 1);
}

// Standard output and standard error are pipes.
Outcome run_piped(std::vector<std::string> args, Env env = Env::unset) {
  auto c = alog::test_support::run_piped(std::move(args), [env] { child_env(env); });
  return {c.status, std::move(c.out), std::move(c.err)};
}

// Standard input, output and error are a pseudo-terminal (isatty(1) is true in the child).
Outcome run_on_terminal(std::vector<std::string> args, Env env = Env::unset) {
  auto argv = argv_of(args);
  int master = -1;
  winsize ws{};
  ws.ws_row = 50;
  ws.ws_col = 200;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return {};
  if (pid == 0) {
    child_env(env);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Outcome r;
  char buf[65536];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) break;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0)
      r.out.append(buf, static_cast<size_t>(n));
    else if (n < 0 && errno == EINTR)
      continue;
    else
      break;  // EIO once the child has closed the terminal
  }
  ::close(master);
  r.status = wait_status(pid);
  return r;
}

std::vector<std::string> cmd(const TempDir& tmp, std::vector<std::string> extra) {
  std::vector<std::string> a = {binary_under_test().string(), "-q", "-j", "2", "-o", tmp.path.string()};
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back(kPrefix.string());
  return a;
}

bool has_esc(const std::string& s) {
  return s.find('\x1b') != std::string::npos;
}

class TerminalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(binary_under_test()))
        << binary_under_test() << " not found: build the analyze-logs target or set ALOG_TEST_BINARY";
    ASSERT_TRUE(fs::exists(kPrefix));
  }
  TempDir tmp;
};

}  // namespace

// ---- the library: to_text with and without colour ---------------------------------------------

TEST(TerminalText, ColourOnPaintsStatusesAndOffIsPlainWithTheSameText) {
  alog::AnalysisOptions opt;
  opt.inputs = {kPrefix.string()};
  opt.threads = 2;
  alog::Report r = alog::analyze(opt);
  alog::diagnose(r);
  std::string plain = alog::to_text(r, alog::TextOptions{false});
  std::string coloured = alog::to_text(r, alog::TextOptions{true});
  EXPECT_FALSE(has_esc(plain)) << plain;
  // The verdict (CRITICAL) in bold red, statuses coloured, every colour reset.
  EXPECT_NE(coloured.find("\x1b[31;1mCRITICAL"), std::string::npos) << coloured;
  EXPECT_NE(coloured.find("\x1b[31;1mcritical\x1b[0m"), std::string::npos) << coloured;
  EXPECT_NE(coloured.find("\x1b[32mgood\x1b[0m"), std::string::npos) << coloured;
  EXPECT_NE(coloured.find("\x1b[33mwarning\x1b[0m"), std::string::npos) << coloured;
  // Colour only adds escape codes: without them it is the plain text, byte for byte.
  EXPECT_EQ(strip_sgr(coloured), plain);
}

TEST(TerminalText, TopDiagnosisIsPrintedOnceInTheVerdictLine) {
  alog::AnalysisOptions opt;
  opt.inputs = {kPrefix.string()};
  opt.threads = 2;
  alog::Report r = alog::analyze(opt);
  alog::diagnose(r);
  ASSERT_FALSE(r.diagnoses.empty());
  std::string plain = alog::to_text(r, alog::TextOptions{false});
  std::string verdict = alog::verdict_line(r);
  ASSERT_NE(plain.find(verdict + "\n"), std::string::npos) << plain;
  // The verdict line names the top diagnosis; the list below it must not name it again.
  const std::string id = "queue_saturation";
  ASSERT_NE(verdict.find(id), std::string::npos) << verdict;
  size_t n = 0;
  for (size_t at = plain.find(id); at != std::string::npos; at = plain.find(id, at + 1)) ++n;
  EXPECT_EQ(n, 1u) << plain;
  // Every other diagnosis is still listed.
  for (const auto& d : r.diagnoses) {
    if (d.id == id) continue;
    EXPECT_NE(plain.find(" " + d.id + ": "), std::string::npos) << d.id << "\n" << plain;
  }
}

// ---- the binary: --color, NO_COLOR, terminal or pipe ------------------------------------------

TEST_F(TerminalCli, PipedDefaultIsPlainAndColorAlwaysColours) {
  Outcome plain = run_piped(cmd(tmp, {}));
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_FALSE(has_esc(plain.out)) << plain.out;
  EXPECT_NE(plain.out.find("DEGRADED: 28 of 30 updates"), std::string::npos) << plain.out;

  Outcome always = run_piped(cmd(tmp, {"--color", "always"}));
  ASSERT_EQ(always.status, 0) << always.err;
  EXPECT_NE(always.out.find("\x1b[31;1mDEGRADED\x1b[0m: 28 of 30 updates"), std::string::npos)
      << always.out;
  // Same summary once the colours are taken out; only the folder (last line) differs.
  auto body = [](const std::string& s) { return s.substr(0, s.rfind('\n', s.size() - 2)); };
  EXPECT_EQ(strip_sgr(body(always.out)), body(plain.out));
}

TEST_F(TerminalCli, OnATerminalAutoColoursAndNeverOrNoColorDoNot) {
  Outcome autoc = run_on_terminal(cmd(tmp, {}));
  ASSERT_EQ(autoc.status, 0) << autoc.out;
  EXPECT_NE(autoc.out.find("\x1b[31;1mDEGRADED\x1b[0m: 28 of 30 updates"), std::string::npos) << autoc.out;

  Outcome never = run_on_terminal(cmd(tmp, {"--color", "never"}));
  ASSERT_EQ(never.status, 0) << never.out;
  EXPECT_FALSE(has_esc(never.out)) << never.out;
  EXPECT_NE(never.out.find("DEGRADED: 28 of 30 updates"), std::string::npos) << never.out;

  Outcome no_color = run_on_terminal(cmd(tmp, {}), Env::no_color);
  ASSERT_EQ(no_color.status, 0) << no_color.out;
  EXPECT_FALSE(has_esc(no_color.out)) << no_color.out;
  EXPECT_NE(no_color.out.find("DEGRADED: 28 of 30 updates"), std::string::npos) << no_color.out;

  // The NO_COLOR convention: an empty value is as if it were unset.
  Outcome empty = run_on_terminal(cmd(tmp, {}), Env::no_color_empty);
  ASSERT_EQ(empty.status, 0) << empty.out;
  EXPECT_NE(empty.out.find("\x1b[31;1mDEGRADED\x1b[0m: 28 of 30 updates"), std::string::npos) << empty.out;

  // An explicit --color always wins over NO_COLOR (docs/analyze-logs.1, ENVIRONMENT).
  Outcome forced = run_on_terminal(cmd(tmp, {"--color", "always"}), Env::no_color);
  ASSERT_EQ(forced.status, 0) << forced.out;
  EXPECT_NE(forced.out.find("\x1b[31;1mDEGRADED"), std::string::npos) << forced.out;
}

TEST_F(TerminalCli, BadColorValueIsAUsageError) {
  Outcome r = run_piped(cmd(tmp, {"--color", "sometimes"}));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--color"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(tmp.path));  // no report folder for a usage error
}

// ---- the binary: --format text|md|json ---------------------------------------------------------

TEST_F(TerminalCli, FormatChoosesWhatGoesToStandardOutput) {
  Outcome text = run_piped(cmd(tmp, {"--format", "text"}));
  ASSERT_EQ(text.status, 0) << text.err;
  // The shared header first (verdict, root cause with its file:line), then the run's detail.
  EXPECT_TRUE(text.out.starts_with("DEGRADED: ")) << text.out;
  EXPECT_NE(text.out.find("Root cause [critical]: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n3 input(s), "), std::string::npos) << text.out;  // rank_1.log has no tagged line
  EXPECT_NE(text.out.find("\nmetric "), std::string::npos) << text.out;

  Outcome md = run_piped(cmd(tmp, {"--format", "md"}));
  ASSERT_EQ(md.status, 0) << md.err;
  EXPECT_TRUE(md.out.starts_with("# ")) << md.out.substr(0, 200);
  EXPECT_NE(md.out.find("```mermaid"), std::string::npos);

  Outcome json = run_piped(cmd(tmp, {"--format", "json"}));
  ASSERT_EQ(json.status, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);  // stdout is the report and nothing else
  EXPECT_EQ(j["schema"], 2);
  EXPECT_NEAR(j["metrics"]["weights.queue_ms"]["mean"].get<double>(), 28453.2, 0.05);
  // The folder's path goes to standard error, and it holds the same report.json.
  std::string dir = json.err.substr(0, json.err.find('\n'));
  ASSERT_TRUE(fs::exists(fs::path(dir) / "report.json")) << json.err;
  std::ifstream in(fs::path(dir) / "report.json");
  EXPECT_EQ(nlohmann::json::parse(in), j);

  // --json is the short form of --format json.
  Outcome short_form = run_piped(cmd(tmp, {"--json"}));
  ASSERT_EQ(short_form.status, 0) << short_form.err;
  auto k = nlohmann::json::parse(short_form.out);
  EXPECT_EQ(k["metrics"], j["metrics"]);

  // Each run wrote its own folder; nothing else is left in the parent.
  size_t folders = 0;
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    EXPECT_TRUE(e.path().filename().string().starts_with("analysis_")) << e.path();
    ++folders;
  }
  EXPECT_EQ(folders, 4u);
}
