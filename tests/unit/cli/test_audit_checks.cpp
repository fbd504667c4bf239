// Audit tests of the real binary (issues 3, 4, 5): the issue's grep pipeline into `-`, --help
// examples and exit statuses, --async-level, --trace (ambiguous prefix, file:line, phases,
// overlapping batches), --fail-on at or above a severity, and the Checks table of SUMMARY.md.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kAuditRuns = fs::path(ALOG_TESTDATA) / "runs";

using AuditWork = alog::test_support::TempDir;  // a work folder per test, removed after it

using alog::test_support::slurp;

using alog::test_support::shell_quote;

struct Run {
  int status = -1;
  std::string out, err;
  std::vector<std::string> lines(const std::string& s) const {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};

// `before` is put in front of the binary (e.g. "grep ... |"); stdin is /dev/null otherwise.
Run run(const AuditWork& w, const std::string& args, const std::string& before = "") {
  fs::path out = w.path / "stdout.txt", err = w.path / "stderr.txt";
  std::string cmd = before.empty() ? "" : before + " ";
  cmd += shell_quote(ALOG_BINARY) + " " + args + " > " + shell_quote(out.string()) + " 2> " + shell_quote(err.string());
  if (before.empty()) cmd += " < /dev/null";
  int rc = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

bool has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

TEST(CliAudit, GrepPipelineIntoDashAsInTheIssue) {
  AuditWork w;
  fs::path orch = kAuditRuns / "prefix" / "logs" / "orchestrator.log";
  auto r = run(w, "-q --json -o " + shell_quote(w.path.string()) + " -",
               "grep -E '\\[weights\\]|\\[gen\\]' " + shell_quote(orch.string()) + " |");
  ASSERT_EQ(r.status, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["inputs"].size(), 1u);
  EXPECT_EQ(j["inputs"][0]["role"], "orchestrator");
  EXPECT_NEAR(j["metrics"]["weights.queue_ms"]["mean"].get<double>(), 28453.2, 1e-9);
  EXPECT_EQ(j["updates"].size(), 33u);
  // grep kept only [weights] and [gen]: the other metrics are listed without samples.
  EXPECT_EQ(j["metrics"]["ckpt.wait_ms"],
            json::parse(R"({"count": 0, "status": null, "unit": "ms"})"));
  EXPECT_EQ(j["metrics"]["gen.dur_ms"]["count"], 33);
}

TEST(CliAudit, HelpHasExamplesAndTheExitStatuses) {
  AuditWork w;
  auto h = run(w, "--help");
  ASSERT_EQ(h.status, 0);
  EXPECT_TRUE(has(h.out, "Examples:")) << h.out;
  EXPECT_TRUE(has(h.out, "analyze-logs orchestrator.log inference.log")) << h.out;
  EXPECT_TRUE(has(h.out, "analyze-logs -")) << h.out;
  EXPECT_TRUE(has(h.out, "Exit status")) << h.out;
  for (const char* s : {"0  the analysis ran", "1  an --expect check failed", "2  usage error"})
    EXPECT_TRUE(has(h.out, s)) << s;
  for (const char* opt : {"--out", "--json", "--async-level", "--thresholds", "--expect",
                          "--fail-on", "--trace", "--version"})
    EXPECT_TRUE(has(h.out, opt)) << opt;
}

TEST(CliAudit, AsyncLevelMovesTheStalenessStatusAndDiagnosis) {
  AuditWork w;
  const std::string run_dir = shell_quote((kAuditRuns / "prefix").string());
  // The prefix run's staleness peaks at 2.
  auto def = run(w, "-q --json -o " + shell_quote(w.path.string()) + " " + run_dir);
  ASSERT_EQ(def.status, 0) << def.err;
  json d = json::parse(def.out);
  EXPECT_EQ(d["async_level"], 2);
  EXPECT_EQ(d["metrics"]["rollout.staleness"]["max"], 2.0);
  EXPECT_EQ(d["metrics"]["rollout.staleness"]["status"], "good");
  for (const auto& x : d["diagnoses"]) EXPECT_NE(x["id"], "staleness_barrier");

  auto one = run(w, "-q --json --async-level 1 -o " + shell_quote(w.path.string()) + " " + run_dir);
  ASSERT_EQ(one.status, 0) << one.err;
  json o = json::parse(one.out);
  EXPECT_EQ(o["async_level"], 1);
  EXPECT_EQ(o["metrics"]["rollout.staleness"]["status"], "warning");
  bool found = false;
  for (const auto& x : o["diagnoses"])
    if (x["id"] == "staleness_barrier") {
      found = true;
      EXPECT_EQ(x["severity"], "warning");  // 2 is not above 1 + 2
    }
  EXPECT_TRUE(found) << o["diagnoses"].dump();

  auto bad = run(w, "-q --async-level -1 -o " + shell_quote(w.path.string()) + " " + run_dir);
  EXPECT_EQ(bad.status, 2);
}

TEST(CliAudit, TraceAmbiguousPrefixIsAnErrorListingTheCandidates) {
  AuditWork w;
  auto r = run(w, "-q --trace b " + shell_quote((kAuditRuns / "prefix").string()));
  EXPECT_EQ(r.status, 2);
  auto err = r.lines(r.err);
  // The message, then one candidate per line (CliSharpEdges.TraceAmbiguousPrefix* for more than
  // twenty).
  ASSERT_EQ(err.size(), 5u) << r.err;
  EXPECT_TRUE(has(err[0], "ambiguous: 4 trace ids start with it")) << err[0];
  EXPECT_EQ(err[1], "  b1723dbfdede027d");
  EXPECT_EQ(err[2], "  b9c13fca8a634710");
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(CliAudit, TraceShowsEachEventWithFileLineThePhasesAndTheOverlappingBatch) {
  AuditWork w;
  auto r = run(w, "-q --trace b1723dbf " + shell_quote((kAuditRuns / "prefix").string()));
  ASSERT_EQ(r.status, 0) << r.err;
  // Each event with its file:line (orchestrator send/done, server recv/start/done).
  for (const char* s : {"logs/orchestrator.log:53 client.send", "logs/inference.log:62 server.recv",
                        "logs/inference.log:63 rpc.start", "logs/inference.log:67 rpc.done",
                        "logs/orchestrator.log:54 client.done"})
    EXPECT_TRUE(has(r.out, s)) << s << "\n" << r.out;
  // 26 s before the server received it (truth 25999.0: the wall clocks narrow the offset to
  // ±5.4 ms); the engine took its 1096.9 ms.
  EXPECT_TRUE(has(r.out, "client→server 25994.2 ms")) << r.out;
  EXPECT_TRUE(has(r.out, "engine 1096.9 ms")) << r.out;
  EXPECT_TRUE(has(r.out, "clock offset of")) << r.out;
  EXPECT_TRUE(has(r.out, "overlapping generation batch")) << r.out;
  EXPECT_TRUE(has(r.out, "dur_ms=37465.1")) << r.out;
}

TEST(CliAudit, FailOnIsAtOrAboveTheGivenSeverity) {
  AuditWork w;
  // Nineteen fast updates and one that queued 30 s: queue_saturation as a warning naming it.
  std::string log;
  for (int i = 0; i < 20; ++i) {
    char tid[17];
    std::snprintf(tid, sizeof tid, "%016x", 0xa000 + i);
    double q = i == 7 ? 30000.0 : 20.0;
    log += "[weights][" + std::string(tid) + "] client.send path=/m/step_" + std::to_string(i) +
           " t=" + std::to_string(100 + 40 * i) + "\n";
    log += "[weights][" + std::string(tid) + "] client.done wall_ms=" + std::to_string(q + 1200) +
           " rpc_ms=1200 queue_ms=" + std::to_string(q) + "\n";
  }
  fs::path f = w.path / "orchestrator.log";
  std::ofstream(f) << log;
  const std::string tail = " -o " + shell_quote(w.path.string()) + " " + shell_quote(f.string());
  auto plain = run(w, "-q --json" + tail);
  ASSERT_EQ(plain.status, 0) << plain.err;
  json j = json::parse(plain.out);
  ASSERT_EQ(j["diagnoses"].size(), 1u) << j["diagnoses"].dump();
  EXPECT_EQ(j["diagnoses"][0]["id"], "queue_saturation");
  EXPECT_EQ(j["diagnoses"][0]["severity"], "warning");
  EXPECT_TRUE(has(j["diagnoses"][0]["summary"].get<std::string>(), "000000000000a007"))
      << j["diagnoses"][0]["summary"];
  EXPECT_EQ(run(w, "-q --fail-on critical" + tail).status, 0);
  EXPECT_EQ(run(w, "-q --fail-on warning" + tail).status, 1);
  EXPECT_EQ(run(w, "-q --fail-on fatal" + tail).status, 2);
}

TEST(CliAudit, ChecksTableOfSummaryMdIsReadableMarkdown) {
  AuditWork w;
  auto r = run(w,
               "-q --expect 'weights.queue_ms.p99<300' --expect 'rollout.trunc_pct.mean<=10' "
               "-o " +
                   shell_quote(w.path.string()) + " " + shell_quote((kAuditRuns / "prefix").string()));
  EXPECT_EQ(r.status, 1) << r.err;
  auto out = r.lines(r.out);
  ASSERT_FALSE(out.empty());
  std::string md = slurp(fs::path(out.back()) / "SUMMARY.md");
  ASSERT_TRUE(has(md, "## Checks")) << md;
  // Escapes outside a code span render as weights.queue_ms.p99<300 (inside backticks they would
  // be shown literally as \_ and &lt;).
  EXPECT_TRUE(has(md, "| weights.queue\\_ms.p99&lt;300 | 38725.859 | **FAILED** |")) << md;
  EXPECT_TRUE(has(md, "| rollout.trunc\\_pct.mean&lt;=10 | 5.664 | met |")) << md;
  json rep = json::parse(slurp(fs::path(out.back()) / "report.json"));
  ASSERT_EQ(rep["expectations"].size(), 2u);
  EXPECT_FALSE(rep["expectations"][0]["passed"].get<bool>());
  EXPECT_TRUE(rep["expectations"][1]["passed"].get<bool>());
}

TEST(CliAudit, RunFolderSaysWhichFilesItUsedWithTheirRoles) {
  AuditWork w;
  const fs::path run_dir = kAuditRuns / "prefix";
  auto r = run(w, "-q -o " + shell_quote(w.path.string()) + " " + shell_quote(run_dir.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"logs/orchestrator.log (orchestrator)", "logs/inference.log (inference)",
                        "logs/trainer/rank_0.log (trainer)"})
    EXPECT_TRUE(has(r.out, s)) << s << "\n" << r.out;
  // A rank log without one tagged line is not read, and says so with the reason; so is the
  // generator's expected.json beside the logs.
  EXPECT_TRUE(has(r.out, "logs/trainer/rank_1.log: no line this tool recognises")) << r.out;
  EXPECT_TRUE(has(r.out, "expected.json: no line this tool recognises")) << r.out;
  auto out = r.lines(r.out);
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(fs::is_directory(out.back())) << out.back();  // the folder's path is the last line
}
