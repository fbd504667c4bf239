// The binary over every job kind, wherever the job sits (issue "One product for every job kind"):
// a collected multi-node Ray tree whichever way it is given, a folder holding a prime-rl run and
// an srtctl job, a run whose logs are not named *.log, a folder with nothing we know, standard
// input of each kind, and the terminal view of every testdata job at 100 columns.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using alog::test_support::ChildOutcome;
using alog::test_support::TempDir;
using nlohmann::json;

namespace {

const fs::path kData = ALOG_TESTDATA;
const fs::path kCollected = kData / "discover" / "ray_collected";

// Runs the binary with `args` (report folder under `out`), standard input from `stdin_file`.
ChildOutcome run(const TempDir& out, std::vector<std::string> args, const fs::path& stdin_file = "/dev/null") {
  std::vector<std::string> argv{alog::test_support::binary_under_test().string(), "-q", "--color", "never", "-o",
                                out.path.string()};
  for (auto& a : args) argv.push_back(std::move(a));
  std::string in = stdin_file.string();
  return alog::test_support::run_piped(argv, [in] {
    int fd = ::open(in.c_str(), O_RDONLY);
    if (fd >= 0) ::dup2(fd, 0);
  });
}

int run_args_status(const TempDir& out, std::vector<std::string> args) { return run(out, std::move(args)).status; }

json report_of(const TempDir& out) {
  for (const auto& e : fs::directory_iterator(out.path))
    if (e.path().filename().string().starts_with("analysis_"))
      return json::parse(alog::test_support::slurp(e.path() / "report.json"));
  return json();
}

size_t display_width(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

std::string first_lines(const std::string& s, size_t n) {
  size_t pos = 0;
  for (size_t i = 0; i < n && pos != std::string::npos; ++i) pos = s.find('\n', pos + 1);
  return s.substr(0, pos);
}

std::string driver_log() {
  for (const auto& e : fs::directory_iterator(kCollected / "running_logs")) return e.path().string();
  return {};
}

}  // namespace

// ---- A collected multi-node Ray tree ----------------------------------------------------------

TEST(OneProduct, CollectedRayTreeIsOneFailedRayJobAndFailsTheGate) {
  TempDir out;
  ChildOutcome r = run(out, {"--fail-on", "critical", kCollected.string()});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  json j = report_of(out);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["schema"], 2);
  EXPECT_EQ(j["kind"], "ray");
  EXPECT_EQ(j["verdict"], "failed");
  ASSERT_EQ(j["jobs"].size(), 1u);
  EXPECT_EQ(j["findings"][0]["id"], "nccl_timeout");
  EXPECT_EQ(j["findings"][0]["role"], "root_cause");
  // The older session of node 10.0.0.2 is listed as not read, with the reason, and said.
  bool older = false;
  for (const auto& in : j["inputs"])
    older |= !in["read"].get<bool>() && in["reason"] == "older session" &&
             in["path"].get<std::string>().find("10.0.0.2/session_2026-03-12") != std::string::npos;
  EXPECT_TRUE(older) << j["inputs"].dump(1);
  // The straggler rank is named in the cause, as when each node's logs/ is given by hand.
  EXPECT_NE(j["cause"].get<std::string>().find("rank 2"), std::string::npos) << j["cause"];
  EXPECT_TRUE(r.out.starts_with("FAILED: ")) << r.out;
}

TEST(OneProduct, CollectedRayTreeGivesTheSameVerdictWhicheverWayItIsGiven) {
  const fs::path nodes = kCollected / "ray";
  std::vector<std::vector<std::string>> ways = {
      {kCollected.string()},
      {driver_log(), nodes.string()},
      {driver_log(), (nodes / "10.0.0.1").string(), (nodes / "10.0.0.2").string()},
      {(kCollected / "running_logs").string(), (nodes / "10.0.0.1").string(), (nodes / "10.0.0.2").string()},
  };
  for (const auto& way : ways) {
    TempDir out;
    std::vector<std::string> args{"--fail-on", "critical"};
    args.insert(args.end(), way.begin(), way.end());
    ChildOutcome r = run(out, args);
    std::string shown;
    for (const auto& a : way) shown += a + " ";
    EXPECT_EQ(r.status, 1) << shown << "\n" << r.out << r.err;
    json j = report_of(out);
    ASSERT_TRUE(j.is_object()) << shown;
    EXPECT_EQ(j["kind"], "ray") << shown;
    EXPECT_EQ(j["jobs"].size(), 1u) << shown << j["jobs"].dump(1);
    EXPECT_EQ(j["verdict"], "failed") << shown;
    EXPECT_EQ(j["findings"][0]["id"], "nccl_timeout") << shown;
  }
}

TEST(OneProduct, CollectedRayTreeNestedDeepIsFoundTheSame) {
  TempDir deep;
  fs::path at = deep.path / "a" / "b" / "c" / "d" / "e";
  fs::create_directories(at);
  fs::copy(kCollected, at / "collected", fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  TempDir out;
  ChildOutcome r = run(out, {"--fail-on", "critical", deep.path.string()});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  json j = report_of(out);
  EXPECT_EQ(j["kind"], "ray");
  EXPECT_EQ(j["verdict"], "failed");
}

// ---- Several kinds side by side ----------------------------------------------------------------

TEST(OneProduct, FolderWithAPrimeRlRunAndAnSrtctlJobGivesASectionPerJob) {
  TempDir out;
  ChildOutcome r = run(out, {(kData / "discover" / "mixed").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  json j = report_of(out);
  EXPECT_EQ(j["kind"], "mixed");
  ASSERT_EQ(j["jobs"].size(), 2u);
  std::vector<std::string> kinds;
  for (const auto& job : j["jobs"]) kinds.push_back(job["kind"]);
  std::sort(kinds.begin(), kinds.end());
  EXPECT_EQ(kinds, (std::vector<std::string>{"prime-rl", "srtctl"}));
  // The srtctl job never became ready: the whole report's verdict is the worst job's.
  EXPECT_EQ(j["verdict"], "failed");
  EXPECT_TRUE(j.contains("srtctl"));
  EXPECT_TRUE(j.contains("metrics"));  // the one prime-rl run keeps its fields at the top
  for (const auto& f : j["findings"]) EXPECT_TRUE(f.contains("job")) << f.dump();
  EXPECT_TRUE(r.out.starts_with("2 jobs: ")) << r.out;
  // --fail-on follows the srtctl job's critical finding.
  TempDir out2;
  EXPECT_EQ(run(out2, {"--fail-on", "critical", (kData / "discover" / "mixed").string()}).status, 1);
}

// ---- Files judged by content -------------------------------------------------------------------

TEST(OneProduct, RunLogsNamedOutErrTxtJsonlAreReadAndTheRestListedWithTheReason) {
  TempDir out;
  ChildOutcome r = run(out, {(kData / "discover" / "run_other_names").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  json j = report_of(out);
  EXPECT_EQ(j["kind"], "prime-rl");
  std::map<std::string, json> by_name;
  for (const auto& in : j["inputs"]) by_name[fs::path(in["path"].get<std::string>()).filename().string()] = in;
  for (const char* read : {"orchestrator.out", "inference.err", "trainer.txt", "metrics.jsonl"}) {
    ASSERT_TRUE(by_name.count(read)) << read << "\n" << j["inputs"].dump(1);
    EXPECT_TRUE(by_name[read]["read"].get<bool>()) << read;
    EXPECT_GT(by_name[read]["events"].get<uint64_t>(), 0u) << read;
  }
  for (const char* skipped : {"notes.txt", "model.safetensors"}) {
    ASSERT_TRUE(by_name.count(skipped)) << skipped;
    EXPECT_FALSE(by_name[skipped]["read"].get<bool>()) << skipped;
    EXPECT_FALSE(by_name[skipped]["reason"].get<std::string>().empty()) << skipped;
  }
  EXPECT_EQ(by_name["model.safetensors"]["reason"], "binary");
  EXPECT_NE(r.out.find("notes.txt: no line this tool recognises"), std::string::npos) << r.out;
  EXPECT_GT(j["metrics"]["weights.queue_ms"]["count"].get<uint64_t>(), 0u);
}

TEST(OneProduct, NothingRecognisedIsNeverOkAndTripsFailOnWarning) {
  const std::string nothing = (kData / "discover" / "nothing").string();
  TempDir out;
  ChildOutcome r = run(out, {nothing});
  EXPECT_EQ(r.status, 0) << r.err;
  json j = report_of(out);
  EXPECT_EQ(j["verdict"], "unknown");
  ASSERT_EQ(j["findings"].size(), 1u);
  EXPECT_EQ(j["findings"][0]["id"], "no_input_recognised");
  EXPECT_EQ(j["findings"][0]["severity"], "warning");
  // Per argument: what was looked for, and what it looked like.
  EXPECT_NE(j["findings"][0]["summary"].get<std::string>().find(nothing), std::string::npos);
  EXPECT_NE(j["findings"][0]["summary"].get<std::string>().find("3 files"), std::string::npos) << j["findings"][0];
  EXPECT_NE(j["findings"][0]["detail"].get<std::string>().find("srtctl job folders"), std::string::npos);
  // The fix names every kind the tool reads, the hung job's artifacts too.
  EXPECT_NE(j["findings"][0]["fix"].get<std::string>().find("Flight Recorder dumps"), std::string::npos)
      << j["findings"][0];
  EXPECT_EQ(r.out.find("OK"), std::string::npos) << r.out;
  TempDir out2;
  EXPECT_EQ(run(out2, {"--fail-on", "warning", nothing}).status, 1);
  TempDir out3;
  EXPECT_EQ(run(out3, {"--fail-on", "critical", nothing}).status, 0);
}

TEST(OneProduct, AnInferenceLogAloneSaysTheOrchestratorLogIsMissing) {
  TempDir out;
  ChildOutcome r = run(out, {"--fail-on", "warning", (kData / "runs" / "prefix" / "logs" / "inference.log").string()});
  EXPECT_EQ(r.status, 1) << r.err;
  json j = report_of(out);
  EXPECT_EQ(j["verdict"], "unknown");
  EXPECT_EQ(j["findings"][0]["id"], "missing_orchestrator_log");
  EXPECT_TRUE(r.out.starts_with("UNKNOWN: Only the inference server's log was given")) << r.out;
  EXPECT_EQ(r.out.find("within its thresholds"), std::string::npos) << r.out;
}

// ---- Standard input of each kind ---------------------------------------------------------------

TEST(OneProduct, StandardInputOfEachKind) {
  struct Case {
    fs::path file;
    std::string kind, verdict;
  };
  std::vector<Case> cases = {
      {kData / "runs" / "prefix" / "logs" / "orchestrator.log", "prime-rl", "degraded"},
      {kData / "ray" / "nccl_timeout" / "running_logs" / "qwen3_8b_train_20260313_101502.log", "ray", "failed"},
      {kData / "srtctl" / "logs" / "4460_2P_1D_20251122_061502" / "log.out", "srtctl", "failed"},
  };
  for (const auto& c : cases) {
    TempDir out;
    ChildOutcome r = run(out, {"-"}, c.file);
    EXPECT_EQ(r.status, 0) << c.file << r.err;
    json j = report_of(out);
    ASSERT_TRUE(j.is_object()) << c.file << r.out << r.err;
    EXPECT_EQ(j["kind"], c.kind) << c.file;
    EXPECT_EQ(j["verdict"], c.verdict) << c.file << "\n" << r.out;
  }
}

TEST(OneProduct, StandardInputOfThePrimeRlKindGivesTheSameFiguresAsTheFile) {
  const fs::path log = kData / "runs" / "prefix" / "logs" / "orchestrator.log";
  TempDir a, b;
  ASSERT_EQ(run(a, {log.string()}).status, 0);
  // Through a pipe, so the sniffed head must be given back to the analysis.
  std::vector<std::string> argv{"/bin/sh", "-c",
                                "cat " + alog::test_support::shell_quote(log.string()) + " | " +
                                    alog::test_support::shell_quote(alog::test_support::binary_under_test().string()) +
                                    " -q -o " + alog::test_support::shell_quote(b.path.string()) + " -"};
  ASSERT_EQ(alog::test_support::run_piped(argv).status, 0);
  json ja = report_of(a), jb = report_of(b);
  EXPECT_EQ(ja["metrics"], jb["metrics"]);
  EXPECT_EQ(ja["updates"].size(), jb["updates"].size());
  EXPECT_EQ(ja["inputs"][0]["lines"], jb["inputs"][0]["lines"]);
}

// ---- The terminal view of every testdata job ---------------------------------------------------

TEST(OneProduct, TerminalViewOfEveryTestdataJobFits100ColumnsWithoutEscapes) {
  std::vector<fs::path> jobs;
  for (const char* group : {"runs", "ray", "discover"})
    for (const auto& e : fs::directory_iterator(kData / group))
      if (e.is_directory()) jobs.push_back(e.path());
  for (const auto& e : fs::directory_iterator(kData / "srtctl" / "logs")) jobs.push_back(e.path());
  jobs.push_back(kData / "srtctl" / "logs");
  ASSERT_GE(jobs.size(), 15u);
  {
    TempDir out;
    ASSERT_EQ(run(out, {(kData / "srtctl" / "logs").string()}).status, 0);
    EXPECT_EQ(report_of(out)["jobs"].size(), 3u);  // a folder of job folders: a section per job
  }
  for (const auto& job : jobs) {
    TempDir out;
    ChildOutcome r = run(out, {job.string()});
    ASSERT_TRUE(r.status == 0) << job << r.err;
    std::string text = r.out.substr(0, r.out.rfind('\n', r.out.size() - 2));  // the folder path aside
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      std::string line = text.substr(pos, nl - pos);
      EXPECT_LE(display_width(line), 100u) << job << ": " << line;
      pos = nl + 1;
    }
    for (const char* bad : {"\\_", "&amp;", "&lt;", "&gt;", "\\|", "\\`", "\x1b["})
      EXPECT_EQ(text.find(bad), std::string::npos) << job << ": " << bad << "\n" << text;
    // The verdict first, and a root cause's file:line on the first screen.
    json j = report_of(out);
    const std::string verdict = j["verdict"];
    std::string word = verdict;
    for (auto& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(text.starts_with(word + ":") || text.find(" jobs: ") < 12) << job << "\n" << first_lines(text, 3);
    if (j["jobs"].size() == 1 && !j["findings"].empty() && j["findings"][0]["role"] == "root_cause" &&
        !j["findings"][0]["evidence"].empty() &&
        !j["findings"][0]["evidence"][0]["file"].is_null()) {
      std::string file = fs::path(j["findings"][0]["evidence"][0]["file"].get<std::string>()).filename().string();
      EXPECT_NE(first_lines(text, 24).find(file.substr(0, 40)), std::string::npos) << job << "\n" << first_lines(text, 24);
    }
  }
}

TEST(OneProduct, AnInputNamedBesideTheFolderHoldingItIsReadOnce) {
  const fs::path run = kData / "ray" / "training";
  fs::path driver;
  for (const auto& e : fs::directory_iterator(run / "running_logs")) driver = e.path();
  TempDir a, b;
  ASSERT_EQ(run_args_status(a, {run.string()}), 0);
  ASSERT_EQ(run_args_status(b, {driver.string(), run.string()}), 0);
  json ja = report_of(a), jb = report_of(b);
  ASSERT_EQ(jb["jobs"].size(), 1u) << jb["jobs"].dump(1);
  EXPECT_EQ(ja["ray"]["phases"], jb["ray"]["phases"]);
  ASSERT_TRUE(ja["ray"]["inputs"]["driver_lines"].is_number()) << ja["ray"]["inputs"].dump();
  EXPECT_GT(ja["ray"]["inputs"]["driver_lines"].get<uint64_t>(), 0u);
  EXPECT_EQ(ja["ray"]["inputs"]["driver_lines"], jb["ray"]["inputs"]["driver_lines"]);  // not counted twice
}

// Warnings go to stderr in every output mode: a Ray driver log cut short (a truncated .gz) is
// named on stderr with --json as on the terminal, and the report still comes out whole.
TEST(OneProduct, InputReadOnlyInPartIsAWarningOnStderrInEveryMode) {
  TempDir tmp;
  fs::path job = tmp.path / "job";
  fs::copy(kData / "ray" / "nccl_timeout", job, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::path log;
  for (const auto& e : fs::directory_iterator(job / "running_logs")) log = e.path();
  ASSERT_FALSE(log.empty());
  std::string gz = alog::test_support::gzip(alog::test_support::slurp(log));
  fs::remove(log);
  fs::path cut = tmp.write(fs::relative(log, tmp.path).string() + ".gz", gz.substr(0, gz.size() / 2));
  for (std::string mode : {"text", "json", "md"}) {
    TempDir out;
    std::vector<std::string> args{job.string()};
    if (mode == "json") args.insert(args.begin(), "--json");
    if (mode == "md") args.insert(args.begin(), {"--format", "md"});
    ChildOutcome r = run(out, args);
    EXPECT_EQ(r.status, 0) << mode << r.err;
    EXPECT_NE(r.err.find("analyze-logs: warning: " + cut.string() + ": truncated gzip stream"), std::string::npos)
        << mode << ": " << r.err;
    json j = report_of(out);
    EXPECT_EQ(j.value("verdict", ""), "failed") << mode;  // the session logs still show the NCCL timeout
    bool listed = false;
    for (const auto& f : j["findings"]) listed |= f.value("id", "") == "file_problems";
    EXPECT_TRUE(listed) << mode;
    if (mode == "json") {
      EXPECT_TRUE(json::accept(r.out)) << "stdout is the report alone";
    }
  }
}
