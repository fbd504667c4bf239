// The real analyze-logs binary (ALOG_BINARY) run on testdata/runs: exit statuses 0/1/2, one-line
// errors naming the culprit, the report folder and its files, `--json`, `-` for standard input,
// `--trace`, `--expect`, `--fail-on`, `--thresholds`, and the diagnosis of each run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analyze_logs/primerl/model.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using alog::test_support::TempDir;

const fs::path kRuns = fs::path(ALOG_TESTDATA) / "runs";

using alog::test_support::slurp;

using alog::test_support::shell_quote;

struct Result {
  int status = -1;
  std::string out, err;
  std::vector<std::string> out_lines() const { return lines(out); }
  std::vector<std::string> err_lines() const { return lines(err); }
  static std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};

// Runs the binary with `args` (already shell-quoted as needed) and optional stdin from a file.
Result run_cli(const TempDir& work, const std::string& args, const std::string& stdin_file = "") {
  fs::path out = work.path / "stdout.txt", err = work.path / "stderr.txt";
  std::string cmd = shell_quote(ALOG_BINARY) + " " + args + " > " + shell_quote(out.string()) + " 2> " +
                    shell_quote(err.string()) +
                    (stdin_file.empty() ? " < /dev/null" : " < " + shell_quote(stdin_file));
  int rc = std::system(cmd.c_str());
  Result r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

bool have_runs() {
  return fs::exists(kRuns / "prefix" / "expected.json");
}

// The analysis_* folders created under `parent`.
std::vector<fs::path> report_folders(const fs::path& parent) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(parent))
    if (e.is_directory() && e.path().filename().string().starts_with("analysis_"))
      v.push_back(e.path());
  return v;
}

const json* diagnosis(const json& report, const std::string& id) {
  for (const auto& d : report["diagnoses"])
    if (d["id"] == id) return &d;
  return nullptr;
}

#define REQUIRE_RUNS() \
  if (!have_runs()) GTEST_SKIP() << "testdata/runs not generated yet"

}  // namespace

// ---- Exit status 0 and the report folder --------------------------------------------------------

TEST(CliRun, HealthyRunWritesTheFolderAndPrintsItsPathLast) {
  REQUIRE_RUNS();
  TempDir w;
  fs::path out = w.path / "out";
  fs::create_directory(out);
  auto r = run_cli(w, "-q -o " + shell_quote(out.string()) + " " + shell_quote((kRuns / "healthy").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = r.out_lines();
  ASSERT_FALSE(lines.empty());
  fs::path folder = lines.back();
  EXPECT_TRUE(fs::is_directory(folder)) << folder;
  EXPECT_EQ(fs::canonical(folder.parent_path()), fs::canonical(out));
  std::string name = folder.filename().string();
  EXPECT_TRUE(name.starts_with("analysis_")) << name;
  for (const char* f : {"SUMMARY.md", "report.json", "timeline.txt", "slowest_updates.txt",
                        "queue_ms_stats.txt", "rpc_ms_stats.txt", "ckpt_wait_stats.txt",
                        "ckpt_write_stats.txt", "gen_batch_stats.txt", "rollout_stats.txt"})
    EXPECT_TRUE(fs::is_regular_file(folder / f)) << f;
  json report = json::parse(slurp(folder / "report.json"));
  EXPECT_TRUE(report["diagnoses"].empty()) << report["diagnoses"].dump();
  EXPECT_EQ(report_folders(out).size(), 1u);
  // No hidden staging folder is left behind.
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_FALSE(e.path().filename().string().starts_with(".")) << e.path();
}

TEST(CliRun, TimelineHoldsEveryEvent) {
  REQUIRE_RUNS();
  TempDir w;
  auto r =
      run_cli(w, "-q -o " + shell_quote(w.path.string()) + " " + shell_quote((kRuns / "postfix").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  fs::path folder = r.out_lines().back();
  json report = json::parse(slurp(folder / "report.json"));
  uint64_t events = 0;
  for (const auto& in : report["inputs"])
    if (in["read"].get<bool>() && in.contains("events")) events += in["events"].get<uint64_t>();
  auto timeline = Result::lines(slurp(folder / "timeline.txt"));
  EXPECT_EQ(timeline.size(), events);
}

TEST(CliRun, JsonOnStdoutParsesAndThePathGoesToStderr) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(
      w, "-q --json -o " + shell_quote(w.path.string()) + " " + shell_quote((kRuns / "prefix").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  json j =
      json::parse(r.out);  // throws (fails the test) if stdout is not exactly one JSON document
  EXPECT_EQ(j["schema"], 2);
  EXPECT_NEAR(j["metrics"]["weights.queue_ms"]["mean"].get<double>(), 28453.2, 1e-9);
  auto err = r.err_lines();
  ASSERT_FALSE(err.empty());
  EXPECT_TRUE(fs::is_directory(err.back())) << err.back();
}

TEST(CliRun, FormatMdPrintsTheSummary) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(
      w, "-q --format md -o " + shell_quote(w.path.string()) + " " + shell_quote((kRuns / "postfix").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("# Bottleneck Analysis Summary")) << r.out.substr(0, 200);
  EXPECT_NE(r.out.find("Queue Delay: Mean = 87.2 ms"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(r.out_lines().back()));
}

TEST(CliRun, StandardInputWithDash) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q --json -o " + shell_quote(w.path.string()) + " -",
                   (kRuns / "prefix" / "logs" / "orchestrator.log").string());
  ASSERT_EQ(r.status, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["inputs"].size(), 1u);
  EXPECT_EQ(j["inputs"][0]["path"], "<stdin>");
  EXPECT_EQ(j["inputs"][0]["role"], "orchestrator");
  EXPECT_NEAR(j["metrics"]["weights.queue_ms"]["mean"].get<double>(), 28453.2, 1e-9);
  EXPECT_EQ(j["updates"].size(), 33u);
}

TEST(CliRun, SeveralFilesLikeTheOldScript) {
  REQUIRE_RUNS();
  TempDir w;
  fs::path logs = kRuns / "healthy" / "logs";
  auto r = run_cli(w, "-q --json -o " + shell_quote(w.path.string()) + " " +
                          shell_quote((logs / "orchestrator.log").string()) + " " +
                          shell_quote((logs / "inference.log").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["inputs"].size(), 2u);
  EXPECT_EQ(j["inputs"][1]["role"], "inference");
  ASSERT_FALSE(j["clocks"].empty());
  EXPECT_EQ(j["clocks"][0]["method"], "bounds + wall clocks");
  EXPECT_EQ(j["clocks"][0]["measured"], true);
}

// ---- Diagnoses of the three runs
// ------------------------------------------------------------------

TEST(CliRun, PrefixRunIsQueueSaturationCritical) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(
      w, "-q --json -o " + shell_quote(w.path.string()) + " " + shell_quote((kRuns / "prefix").string()));
  ASSERT_EQ(r.status, 0) << r.err;  // no --fail-on: the analysis ran, whatever it found
  json j = json::parse(r.out);
  const json* d = diagnosis(j, "queue_saturation");
  ASSERT_NE(d, nullptr) << j["diagnoses"].dump();
  EXPECT_EQ((*d)["severity"], "critical");
  EXPECT_FALSE((*d)["evidence"].empty());
  EXPECT_LE((*d)["evidence"].size(), 5u);
  EXPECT_EQ(j["diagnoses"][0]["severity"], "critical");
}

TEST(CliRun, HealthyAndPostfixRunsHaveNoDiagnosis) {
  REQUIRE_RUNS();
  for (const char* run : {"healthy", "postfix"}) {
    TempDir w;
    auto r =
        run_cli(w, "-q --json -o " + shell_quote(w.path.string()) + " " + shell_quote((kRuns / run).string()));
    ASSERT_EQ(r.status, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_TRUE(j["diagnoses"].empty()) << run << ": " << j["diagnoses"].dump();
  }
}

// ---- --fail-on / --expect: exit 1
// --------------------------------------------------------------------

TEST(CliRun, FailOnCriticalOnThePrefixRunExitsOne) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q --fail-on critical -o " + shell_quote(w.path.string()) + " " +
                          shell_quote((kRuns / "prefix").string()));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(report_folders(w.path).size(), 1u) << "the report is written even when a check fails";
}

TEST(CliRun, FailOnWarningOnACleanRunExitsZero) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q --fail-on warning -o " + shell_quote(w.path.string()) + " " +
                          shell_quote((kRuns / "postfix").string()));
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(CliRun, ExpectPassAndFail) {
  REQUIRE_RUNS();
  TempDir w;
  // Seed 001's success criterion: queue_ms < 300 ms after the fix, not before.
  auto pass = run_cli(
      w, "-q --expect 'weights.queue_ms.max<300' --expect 'weights.rpc_ms.mean==1234.5' -o " +
             shell_quote(w.path.string()) + " " + shell_quote((kRuns / "postfix").string()));
  EXPECT_EQ(pass.status, 0) << pass.err << pass.out;
  auto fail = run_cli(w, "-q --expect 'weights.queue_ms.max<300' -o " + shell_quote(w.path.string()) +
                             " " + shell_quote((kRuns / "prefix").string()));
  EXPECT_EQ(fail.status, 1) << fail.err;
  json report = json::parse(slurp(fs::path(fail.out_lines().back()) / "report.json"));
  ASSERT_EQ(report["expectations"].size(), 1u);
  EXPECT_FALSE(report["expectations"][0]["passed"].get<bool>());
}

TEST(CliRun, ExpectOnAMetricWithoutSamplesFails) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q --expect 'weights.queue_ms.p99<300' -o " + shell_quote(w.path.string()) + " " +
                          shell_quote((kRuns / "healthy" / "logs" / "trainer.log").string()));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(
      r.out.find("check weights.queue_ms.p99<300: FAILED (weights.queue_ms has no samples)\n"),
      std::string::npos)
      << r.out;
  // report.json still lists the metric, with a count of 0 and no other statistic.
  json rep = json::parse(slurp(fs::path(r.out_lines().back()) / "report.json"));
  EXPECT_EQ(rep["metrics"]["weights.queue_ms"],
            json::parse(R"({"count": 0, "status": null, "unit": "ms"})"));
  EXPECT_EQ(rep["expectations"][0]["actual"], nullptr);
}

// ---- Exit status 2
// -----------------------------------------------------------------------------------

TEST(CliRun, MissingFileExitsTwoWithOneLineNamingIt) {
  TempDir w;
  std::string missing = (w.path / "no_such_orchestrator.log").string();
  auto r = run_cli(w, "-q -o " + shell_quote(w.path.string()) + " " + shell_quote(missing));
  EXPECT_EQ(r.status, 2);
  auto err = r.err_lines();
  ASSERT_EQ(err.size(), 1u) << r.err;
  EXPECT_NE(err[0].find(missing), std::string::npos) << err[0];
  EXPECT_TRUE(report_folders(w.path).empty()) << "no folder for a failed analysis";
}

TEST(CliRun, MissingFileAmongGoodOnesStillExitsTwo) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q -o " + shell_quote(w.path.string()) + " " +
                          shell_quote((kRuns / "healthy" / "logs" / "orchestrator.log").string()) + " " +
                          shell_quote((w.path / "gone.log").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("gone.log"), std::string::npos) << r.err;
}

TEST(CliRun, MalformedExpectExitsTwoNamingIt) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q --expect 'weights.queue_ms.p42<<3' -o " + shell_quote(w.path.string()) + " " +
                          shell_quote((kRuns / "healthy").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("weights.queue_ms.p42<<3"), std::string::npos) << r.err;
}

// Issue 22: a metric that does not exist is a usage error, not a failed check; it is found before
// any input is read (the input here does not even exist), and the one line lists the real names.
TEST(CliRun, ExpectOnAnUnknownMetricExitsTwoBeforeReadingListingTheMetrics) {
  REQUIRE_RUNS();
  TempDir w;
  for (std::string input : {(kRuns / "prefix").string(), (w.path / "never_read.log").string()}) {
    auto r = run_cli(w, "-q --expect 'weights.queue.p99<300' -o " + shell_quote(w.path.string()) +
                            " " + shell_quote(input));
    EXPECT_EQ(r.status, 2) << r.out;
    auto err = r.err_lines();
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_TRUE(
        err[0].starts_with("analyze-logs: --expect 'weights.queue.p99<300': unknown metric "
                           "'weights.queue' (did you mean weights.queue_ms?); the prime-rl "
                           "metrics are weights.wall_ms, weights.rpc_ms, weights.queue_ms,"))
        << err[0];
    for (const auto& d : alog::kMetricDefs)
      EXPECT_NE(err[0].find(std::string(d.name)), std::string::npos) << d.name;
    EXPECT_EQ(err[0].find("never_read.log"), std::string::npos) << "the input was looked at";
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_TRUE(report_folders(w.path).empty());
  }
  // A statistic that does not exist: the same, listing the statistics.
  auto stat =
      run_cli(w, "-q --expect 'weights.queue_ms.p100<300' -o " + shell_quote(w.path.string()) +
                     " " + shell_quote((kRuns / "prefix").string()));
  EXPECT_EQ(stat.status, 2);
  ASSERT_EQ(stat.err_lines().size(), 1u) << stat.err;
  EXPECT_NE(stat.err.find("unknown statistic 'p100' (count, mean, min, p50, p90, p95, p99, max)"),
            std::string::npos)
      << stat.err;
  // compare checks its --expect before it reads or analyses any run.
  auto cmp =
      run_cli(w, "compare --expect 'weights.queue.p99<300' -o " + shell_quote(w.path.string()) +
                     " " + shell_quote((kRuns / "prefix").string()) + " " +
                     shell_quote((w.path / "never_read.log").string()));
  EXPECT_EQ(cmp.status, 2);
  ASSERT_EQ(cmp.err_lines().size(), 1u) << cmp.err;
  EXPECT_NE(cmp.err.find("unknown metric 'weights.queue'"), std::string::npos) << cmp.err;
  EXPECT_EQ(cmp.err.find("never_read.log"), std::string::npos) << cmp.err;
}

// Every check line of the terminal says what was measured, met or not.
TEST(CliRun, EveryCheckLineShowsTheMeasuredValue) {
  REQUIRE_RUNS();
  TempDir w;
  auto r =
      run_cli(w,
              "-q --expect 'weights.queue_ms.p99<300' --expect 'weights.queue_ms.count>=30' "
              "--expect 'ckpt.wait_ms.max>0' --expect 'weights.reload_rpc_ms.count==2' -o " +
                  shell_quote(w.path.string()) + " " + shell_quote((kRuns / "prefix").string()));
  EXPECT_EQ(r.status, 1) << r.err;
  json rep = json::parse(slurp(fs::path(r.out_lines().back()) / "report.json"));
  char p99[64], wait_max[64];
  std::snprintf(p99, sizeof p99, "%.3f", rep["metrics"]["weights.queue_ms"]["p99"].get<double>());
  std::snprintf(wait_max, sizeof wait_max, "%.3f",
                rep["metrics"]["ckpt.wait_ms"]["max"].get<double>());
  ASSERT_EQ(rep["metrics"]["weights.queue_ms"]["count"], 30);
  ASSERT_EQ(rep["metrics"]["weights.reload_rpc_ms"]["count"], 2);
  for (const std::string& line :
       {"check weights.queue_ms.p99<300: FAILED (weights.queue_ms.p99 = " + std::string(p99) + ")",
        std::string("check weights.queue_ms.count>=30: met (weights.queue_ms.count = 30)"),
        "check ckpt.wait_ms.max>0: met (ckpt.wait_ms.max = " + std::string(wait_max) + ")",
        std::string("check weights.reload_rpc_ms.count==2: met (weights.reload_rpc_ms.count = 2)")})
    EXPECT_NE(r.out.find(line + "\n"), std::string::npos) << line << "\nin:\n" << r.out;
}

TEST(CliRun, UnknownThresholdKeyExitsTwoNamingIt) {
  REQUIRE_RUNS();
  TempDir w;
  fs::path th = w.path / "th.json";
  std::ofstream(th) << R"({"weights.queue_ms": {"critcal": 500}})";
  auto r = run_cli(w, "-q --thresholds " + shell_quote(th.string()) + " -o " + shell_quote(w.path.string()) +
                          " " + shell_quote((kRuns / "healthy").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("weights.queue_ms.critcal"), std::string::npos) << r.err;
}

TEST(CliRun, ThresholdsOverrideChangesTheDiagnosis) {
  REQUIRE_RUNS();
  TempDir w;
  fs::path th = w.path / "th.json";
  std::ofstream(th)
      << R"({"queue_saturation.queue_ms": 1000000, "weights.queue_ms.critical": 50000})";
  auto r = run_cli(w, "-q --json --thresholds " + shell_quote(th.string()) + " -o " +
                          shell_quote(w.path.string()) + " " + shell_quote((kRuns / "prefix").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(diagnosis(j, "queue_saturation"), nullptr);
  EXPECT_EQ(j["metrics"]["weights.queue_ms"]["status"], "warning");
  EXPECT_EQ(j["thresholds"]["queue_saturation.queue_ms"], 1000000);
}

TEST(CliRun, NoInputIsAUsageError) {
  TempDir w;
  auto r = run_cli(w, "-q -o " + shell_quote(w.path.string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(r.err.empty());
}

TEST(CliRun, UnwritableOutExitsTwo) {
  REQUIRE_RUNS();
  TempDir w;
  // A folder that does not exist is created (CliSharpEdges.*); one under a file cannot be.
  std::ofstream(w.path / "file") << "x";
  auto r = run_cli(w, "-q -o " + shell_quote((w.path / "file" / "not" / "exist").string()) + " " +
                          shell_quote((kRuns / "healthy").string()));
  EXPECT_EQ(r.status, 2);
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find((w.path / "file" / "not" / "exist").string()), std::string::npos) << r.err;
}

// ---- --trace
// ---------------------------------------------------------------------------------------

TEST(CliRun, TraceByUniquePrefix) {
  REQUIRE_RUNS();
  TempDir w;
  // b1723dbfdede027d: update of step 2 in the prefix run, ~26 s in the front-end queue.
  auto r = run_cli(w, "-q --trace b1723dbf -o " + shell_quote(w.path.string()) + " " +
                          shell_quote((kRuns / "prefix").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("b1723dbfdede027d"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("client.send"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("server.recv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rpc.done"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("26004.6"), std::string::npos) << r.out;  // its queue_ms
  EXPECT_TRUE(report_folders(w.path).empty()) << "--trace writes no folder";
}

TEST(CliRun, TraceOfTheHungUpdateSaysWhereItStopped) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q --trace 55ab50633eb034f6 " + shell_quote((kRuns / "prefix").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("INCOMPLETE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rpc.start"), std::string::npos) << r.out;
}

TEST(CliRun, TraceUnknownIdExitsTwo) {
  REQUIRE_RUNS();
  TempDir w;
  auto r = run_cli(w, "-q --trace ffffffffffff0000 " + shell_quote((kRuns / "prefix").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("ffffffffffff0000"), std::string::npos) << r.err;
}

TEST(CliRun, VersionAndHelpExitZero) {
  TempDir w;
  auto v = run_cli(w, "--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("analyze-logs"), std::string::npos);
  auto h = run_cli(w, "--help");
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("--fail-on"), std::string::npos);
}
#include "support.hpp"

// Options that only mean something for a prime-rl run are usage errors for srtctl and Ray inputs,
// not silently ignored; nothing is written.
TEST(CliRun, PrimeRlOnlyOptionsAreErrorsForServingAndRayJobs) {
  const fs::path data = fs::path(ALOG_TESTDATA);
  const std::string job = shell_quote((data / "srtctl" / "logs" / "4459_2P_1D_20251122_041341").string());
  const std::string ray = shell_quote((data / "ray" / "training").string());
  struct Case {
    std::string args, message;
  };
  TempDir w;
  for (const Case& c : {Case{"--trace-out " + shell_quote((w.path / "t.json").string()) + " " + job,
                             "--trace-out: an srtctl serving job has no weight updates to trace"},
                        Case{"--expect 'weights.queue_ms.p99<300' " + job, "--expect: an srtctl serving job has none"},
                        Case{"--trace 5412 " + job, "--trace: an srtctl serving job has no weight updates"},
                        Case{"--trace-out " + shell_quote((w.path / "t.json").string()) + " " + ray,
                             "--trace-out: a Ray job has no weight updates to trace"},
                        Case{"--expect 'weights.queue_ms.p99<300' " + ray, "--expect: a Ray job has none"}}) {
    fs::path out = w.path / "out";
    fs::create_directories(out);
    Result r = run_cli(w, "-o " + shell_quote(out.string()) + " " + c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_EQ(r.err_lines()[0].rfind("analyze-logs: " + c.message, 0), 0u) << r.err;
    EXPECT_TRUE(fs::is_empty(out)) << c.args;
    EXPECT_FALSE(fs::exists(w.path / "t.json"));
  }
  // Without them, the same inputs are analysed.
  fs::path out = w.path / "ok";
  fs::create_directories(out);
  EXPECT_EQ(run_cli(w, "-o " + shell_quote(out.string()) + " " + job).status, 0);
  EXPECT_EQ(run_cli(w, "-o " + shell_quote(out.string()) + " " + ray).status, 0);
}

// A number out of range is one short line naming the option (CLI11's own unbounded checks printed
// a 300-digit bound).
TEST(CliRun, OutOfRangeNumbersAreOneShortLineNamingTheOption) {
  TempDir w;
  const std::string run = shell_quote((kRuns / "prefix").string());
  for (const std::string& bad : {std::string("--async-level -1"), std::string("--async-level 5000"),
                                 std::string("--max-updates 0"), std::string("--threads 0"),
                                 std::string("--max-failed-requests 101"), std::string("--max-failed-requests -1")}) {
    Result r = run_cli(w, "-o " + shell_quote(w.path.string()) + " " + bad + " " + run);
    EXPECT_EQ(r.status, 2) << bad;
    ASSERT_FALSE(r.err_lines().empty()) << bad;
    const std::string first = r.err_lines()[0];
    EXPECT_NE(first.find(bad.substr(0, bad.find(' '))), std::string::npos) << first;
    EXPECT_LT(first.size(), 120u) << first;
    EXPECT_TRUE(report_folders(w.path).empty()) << bad;
  }
  Result r = run_cli(w, "compare --baseline 0 a b");
  EXPECT_EQ(r.status, 2);
  ASSERT_FALSE(r.err_lines().empty());
  EXPECT_LT(r.err_lines()[0].size(), 120u) << r.err;
  r = run_cli(w, "compare --fail-on-regression -5 a b");
  EXPECT_EQ(r.status, 2);
  ASSERT_FALSE(r.err_lines().empty());
  EXPECT_LT(r.err_lines()[0].size(), 120u) << r.err;
  r = run_cli(w, "compare --max-failed-requests 200 a b");
  EXPECT_EQ(r.status, 2);
  ASSERT_FALSE(r.err_lines().empty());
  EXPECT_NE(r.err_lines()[0].find("--max-failed-requests"), std::string::npos) << r.err;
}

// The validity gate's limit reaches the srtctl analysis, in the analysis and in compare: a copy
// of a bundled sweep job whose c16 run lost 10 of its 80 requests (12.5 %).
TEST(CliRun, MaxFailedRequestsDecidesWhetherARunIsAResult) {
  TempDir w;
  const fs::path src = fs::path(ALOG_TESTDATA) / "srtctl" / "sweep" / "5001_1A_20251201_100000";
  const fs::path job = w.path / src.filename();
  fs::copy(src, job, fs::copy_options::recursive);
  std::string bench = slurp(job / "benchmark.out");
  const std::string from = "Successful requests:                     80 ";
  ASSERT_NE(bench.find(from), std::string::npos);
  bench.replace(bench.find(from), from.size(), "Successful requests:                     70 ");
  std::ofstream(job / "benchmark.out", std::ios::binary) << bench;
  auto run16 = [](const json& doc) {
    for (const auto& r : doc["srtctl"]["jobs"][0]["runs"])
      if (r["concurrency"] == 16) return r;
    return json();
  };

  Result r = run_cli(w, "-q --json --no-folder " + shell_quote(job.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(run16(doc)["invalid"], "10 of 80 requests failed (12.5 %, limit 5.0 %)");
  EXPECT_EQ(doc["verdict"], "degraded");
  EXPECT_EQ(doc["findings"][0]["id"], "invalid_runs");
  EXPECT_EQ(doc["srtctl"]["sweep"]["points"].size(), 1u);
  EXPECT_EQ(doc["srtctl"]["sweep"]["excluded"][0]["name"], "5001 c16");

  r = run_cli(w, "-q --json --no-folder --max-failed-requests 12.5 " + shell_quote(job.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  doc = json::parse(r.out);
  EXPECT_TRUE(run16(doc)["invalid"].is_null());
  EXPECT_EQ(doc["findings"][0]["id"], "failed_requests");
  EXPECT_EQ(doc["srtctl"]["sweep"]["points"].size(), 2u);

  // compare: the edited job against the bundled one; the invalid run is not compared by default.
  r = run_cli(w, "compare --json --no-folder " + shell_quote(src.string()) + " " + shell_quote(job.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("invalid: 10 of 80 requests failed"), std::string::npos) << r.out.substr(0, 2000);
  r = run_cli(w, "compare --json --no-folder --max-failed-requests 20 " + shell_quote(src.string()) + " " +
                     shell_quote(job.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("invalid: "), std::string::npos) << r.out.substr(0, 2000);
}
