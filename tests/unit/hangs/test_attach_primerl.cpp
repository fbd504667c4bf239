// The hang analysis attached to a prime-rl run (testdata/hangs/primerl_trainer, made by
// testdata/gen/make_hangs.py): 4 trainer ranks on 2 nodes behind torchrun's `[trainerN]:` prefix
// (N the local rank), rank 2 waits for its rollout batch while 0, 1 and 3 time out in ALLREDUCE
// SeqNum 1873; every rank is aborted and dumped by faulthandler. Checked on the hang analysis
// itself, on the prefilter that keeps a run without hang markers on its fast path, and on the
// real binary (the single-run fast path, --json streamed, and a run among other jobs).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>

#include "analyze_logs/hangs.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::hangs;
namespace fs = std::filesystem;
using alog::test_support::lines_of;
using alog::test_support::shell_quote;
using alog::test_support::slurp;
using alog::test_support::TempDir;

namespace {

const fs::path kRun = fs::path(ALOG_TESTDATA) / "hangs" / "primerl_trainer";

struct Ran {
  int status = -1;
  std::string out, err;
};

Ran run(const std::string& args, const fs::path& work) {
  fs::path out = work / "stdout.txt", err = work / "stderr.txt";
  std::string cmd = "COLUMNS=100 " + shell_quote(ALOG_BINARY) + " " + args + " > " +
                    shell_quote(out.string()) + " 2> " + shell_quote(err.string()) + " < /dev/null";
  int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
}

fs::path only_report_folder(const fs::path& work) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(work))
    if (e.is_directory() && e.path().filename().string().starts_with("analysis_"))
      found.push_back(e.path());
  return found.size() == 1 ? found.front() : fs::path();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

const nlohmann::json* finding(const nlohmann::json& findings, const std::string& id) {
  for (const auto& f : findings)
    if (f["id"] == id) return &f;
  return nullptr;
}

// The hang part of a report.json on the primerl_trainer run.
void expect_the_hang(const nlohmann::json& hang) {
  EXPECT_EQ(hang["culprits"], nlohmann::json::array({2}));
  EXPECT_EQ(hang["collective"]["seq"], 1873);
  EXPECT_EQ(hang["collective"]["op"], "ALLREDUCE");
  EXPECT_EQ(hang["ranks"]["2"]["host"], "gpu-b02");
  EXPECT_EQ(hang["ranks"]["2"]["pid"], 62301);
  ASSERT_GE(hang["culprit_frames"].size(), 3u);
  EXPECT_EQ(hang["culprit_frames"][0]["func"], "wait");
  EXPECT_EQ(hang["culprit_frames"][2]["func"], "_wait_for_batch");
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

// ---- the analysis of the run's trainer logs -----------------------------------------------------

TEST(PrimeRlHang, TrainerLogsNameRankTwoWithItsStackAndTheCollective) {
  HangReport r = analyze({kRun / "logs" / "trainer"});
  ASSERT_EQ(r.culprits, std::vector<int>({2}));
  // Its own line says it enqueued 1872 while the others time out on 1873; the stack agrees.
  EXPECT_EQ(r.confidence, "high");
  ASSERT_TRUE(r.collective.has_value());
  EXPECT_EQ(r.collective->seq, 1873);
  EXPECT_EQ(r.collective->op, "ALLREDUCE");
  EXPECT_EQ(r.collective->timeout_ms, 600000);
  EXPECT_EQ(r.collective->waiting, std::vector<int>({0, 1, 3}));
  ASSERT_FALSE(r.collective->frames.empty());
  EXPECT_EQ(r.collective->frames.front().func, "all_reduce");
  EXPECT_EQ(r.collective->frames.front().line, 2806);
  // What the culprit waits for <- who called it, from its faulthandler dump (main thread last).
  ASSERT_GE(r.culprit_frames.size(), 5u);
  EXPECT_EQ(r.culprit_frames[0].str(), "wait (/usr/lib/python3.12/threading.py:359)");
  EXPECT_EQ(r.culprit_frames[2].func, "_wait_for_batch");
  EXPECT_EQ(r.culprit_frames[4].str(), "train (/workspace/prime-rl/src/prime_rl/trainer/rl/train.py:231)");
  // It parts from the others at train.py:231 (they are at train.py:288).
  ASSERT_FALSE(r.culprit_differs.empty());
  EXPECT_EQ(r.culprit_differs.back().line, 231);
  // [trainer0]: is rank 0 on gpu-b01 and rank 2 on gpu-b02: the [rankN]: lines and the NCCL init
  // lines map them, never the local rank.
  EXPECT_EQ(r.ranks.at(2).host, "gpu-b02");
  EXPECT_EQ(r.ranks.at(2).pid, 62301);
  EXPECT_EQ(r.ranks.at(0).host, "gpu-b01");
  size_t dumps = 0;
  for (const auto& d : r.dumps) {
    EXPECT_EQ(d.source, "faulthandler");
    EXPECT_TRUE(d.file.ends_with(fmt::format("rank_{}.log", d.rank))) << d.file << " " << d.rank;
    ++dumps;
  }
  EXPECT_EQ(dumps, 4u);
  // The pin-memory thread is the same on every rank: left out of the groups.
  EXPECT_EQ(r.common_threads_omitted, 1u);
  // Rank 0 signalled first: shown as not the cause.
  bool first = false;
  for (const auto& f : r.not_cause)
    if (f.id == "hang_first_reporter") {
      first = true;
      EXPECT_TRUE(contains(f.summary, "Rank 0 ")) << f.summary;
    }
  EXPECT_TRUE(first);
}

// ---- the prefilter ----------------------------------------------------------------------------

TEST(PrimeRlHang, PrefilterSeesMarkersAtTheEndOfALogOnly) {
  for (int r = 0; r < 4; ++r)
    EXPECT_TRUE(tail_has_hang_marker(kRun / "logs" / "trainer" / fmt::format("rank_{}.log", r))) << r;
  EXPECT_FALSE(tail_has_hang_marker(kRun / "logs" / "orchestrator.log"));
  EXPECT_FALSE(tail_has_hang_marker(kRun / "logs" / "inference.log"));
  // No testdata prime-rl run without a hang has a marker in any of its logs.
  for (const char* run : {"healthy", "prefix", "postfix"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(ALOG_TESTDATA) / "runs" / run)) {
      if (e.is_regular_file()) {
        EXPECT_FALSE(tail_has_hang_marker(e.path())) << e.path();
      }
    }
  }
  TempDir t;
  const std::string marker =
      "[rank1]:[E1014 11:22:33.1 ProcessGroupNCCL.cpp:632] [Rank 1] Watchdog caught collective "
      "operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE, Timeout(ms)=600000) ran for 600001 "
      "milliseconds before timing out.\n";
  const std::string chatter(2u << 20, 'x');
  write(t.path / "end.log", chatter + "\n" + marker);
  EXPECT_TRUE(tail_has_hang_marker(t.path / "end.log"));
  // Followed by more than the MiB read: not seen (a hung process stops writing).
  write(t.path / "middle.log", marker + chatter + "\n");
  EXPECT_FALSE(tail_has_hang_marker(t.path / "middle.log"));
  EXPECT_TRUE(tail_has_hang_marker(t.path / "middle.log", 4u << 20));
  // Files that cannot be read, an empty file, a folder: false, no throw.
  EXPECT_FALSE(tail_has_hang_marker(t.path / "missing.log"));
  write(t.path / "empty.log", "");
  EXPECT_FALSE(tail_has_hang_marker(t.path / "empty.log"));
  EXPECT_FALSE(tail_has_hang_marker(t.path));
  // A named pipe is never opened (the open would wait for a writer): false at once.
  ASSERT_EQ(::mkfifo((t.path / "pipe.log").c_str(), 0600), 0);
  EXPECT_FALSE(tail_has_hang_marker(t.path / "pipe.log"));
  // SGLang's watchdog header counts as a marker.
  write(t.path / "sglang.log", "[2025-04-03 20:06:34 DP1 TP0] Pyspy dump for PID 4242:\n");
  EXPECT_TRUE(tail_has_hang_marker(t.path / "sglang.log"));
}

TEST(PrimeRlHang, ACrashDumpAloneIsNotAHang) {
  TempDir t;
  write(t.path / "rank_0.log",
        "[trainer0]:Fatal Python error: Segmentation fault\n[trainer0]:\n"
        "[trainer0]:Current thread 0x00007f1f5b1d3740 (most recent call first):\n"
        "[trainer0]:  File \"/workspace/prime-rl/src/prime_rl/trainer/rl/data.py\", line 42 in decode\n"
        "[trainer0]:\n");
  HangReport r = analyze({t.path});
  EXPECT_EQ(r.dumps.size(), 1u);
  EXPECT_FALSE(has_hang_evidence(r));
  // A timeout dump (dump_traceback_later) is a hang's evidence.
  write(t.path / "rank_1.log",
        "[trainer1]:Timeout (0:15:00)!\n"
        "[trainer1]:Thread 0x00007f1f5b1d3740 (most recent call first):\n"
        "[trainer1]:  File \"/workspace/prime-rl/src/prime_rl/trainer/rl/data.py\", line 142 in "
        "_wait_for_batch\n[trainer1]:\n");
  EXPECT_TRUE(has_hang_evidence(analyze({t.path})));
}

// ---- the binary -------------------------------------------------------------------------------

TEST(PrimeRlHangBinary, TheSingleRunGetsTheHangInEveryOutput) {
  TempDir work;
  Ran r = run(fmt::format("-q --color never -o {} {}", shell_quote(work.path.string()),
                          shell_quote(kRun.string())),
              work.path);
  ASSERT_EQ(r.status, 0) << r.err;
  fs::path dir = only_report_folder(work.path);
  ASSERT_FALSE(dir.empty());
  auto doc = nlohmann::json::parse(slurp(dir / "report.json"));
  EXPECT_EQ(doc["kind"], "prime-rl");
  ASSERT_TRUE(doc.contains("hang"));
  expect_the_hang(doc["hang"]);
  // The run's verdict is stuck, its cause the culprit; its own findings stay, the hang's follow.
  EXPECT_EQ(doc["verdict"], "stuck");
  EXPECT_TRUE(contains(doc["cause"].get<std::string>(), "rank 2 (gpu-b02, pid 62301) never entered ALLREDUCE SeqNum 1873"))
      << doc["cause"];
  const auto* culprit = finding(doc["findings"], "hang_culprit");
  ASSERT_NE(culprit, nullptr);
  EXPECT_EQ((*culprit)["role"], "root_cause");
  // The run's own root cause (the update the hung trainer never answered) stays first.
  EXPECT_EQ(doc["findings"][0]["id"], "incomplete_update");
  size_t own = 0, hang = 0;
  for (size_t k = 0; k < doc["findings"].size(); ++k) {
    if (doc["findings"][k]["id"] == "incomplete_update") own = k;
    if (doc["findings"][k]["id"] == "hang_culprit") hang = k;
  }
  EXPECT_LT(own, hang);
  const auto* first = finding(doc["findings"], "hang_first_reporter");
  ASSERT_NE(first, nullptr);
  EXPECT_NE((*first)["role"], "root_cause");
  EXPECT_EQ(doc["jobs"][0]["verdict"], "stuck");
  // prime-rl's own figures are read as without the hang lines: 12 updates done, one hung.
  EXPECT_EQ(doc["metrics"]["weights.wall_ms"]["count"], 12);
  EXPECT_EQ(doc["metrics"]["ckpt.write_ms"]["count"], 12);
  std::string md = slurp(dir / "SUMMARY.md");
  EXPECT_TRUE(contains(md, "## Which rank hung")) << md;
  EXPECT_TRUE(contains(md, "### Main-thread stacks, grouped"));
  EXPECT_LT(md.find("weights.wall_ms"), md.find("## Which rank hung"));  // the run's own first
  std::string html = slurp(dir / "report.html");
  EXPECT_TRUE(contains(html, "<h2>Which rank hung</h2>"));
  EXPECT_LT(html.find("<h2>Which rank hung</h2>"), html.rfind("</main>"));
  EXPECT_TRUE(r.out.starts_with("STUCK: rank 2 (gpu-b02, pid 62301) never entered ALLREDUCE SeqNum 1873")) << r.out;
  EXPECT_TRUE(contains(r.out, "Hung: rank 2 (gpu-b02, pid 62301) [confidence high]")) << r.out;
  EXPECT_TRUE(contains(r.out, "_wait_for_batch")) << r.out;
  for (const auto& l : lines_of(r.out)) EXPECT_LE(l.size(), 400u);
  // The other files of the fast path are still written.
  for (const char* f : {"timeline.txt", "slowest_updates.txt"}) EXPECT_TRUE(fs::exists(dir / f)) << f;
  // --fail-on critical: the hang is critical.
  Ran fail = run("-q --no-folder --fail-on critical " + shell_quote(kRun.string()), work.path);
  EXPECT_EQ(fail.status, 1) << fail.err;
}

TEST(PrimeRlHangBinary, StreamedJsonWithoutAFolderHasTheHang) {
  TempDir work;
  Ran r = run("-q --no-folder --json " + shell_quote(kRun.string()), work.path);
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_TRUE(doc.contains("hang"));
  expect_the_hang(doc["hang"]);
}

TEST(PrimeRlHangBinary, ARunAmongOtherJobsKeepsItsHang) {
  TempDir work;
  Ran r = run(fmt::format("-q --no-folder --json {} {}", shell_quote(kRun.string()),
                          shell_quote((fs::path(ALOG_TESTDATA) / "runs" / "healthy").string())),
              work.path);
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["jobs"].size(), 2u);
  int with_culprit = 0;
  for (const auto& j : doc["jobs"]) {
    bool hung = finding(j["findings"], "hang_culprit") != nullptr;
    with_culprit += hung;
    EXPECT_EQ(hung, j["verdict"] == "stuck") << j["name"];
  }
  EXPECT_EQ(with_culprit, 1);
  ASSERT_TRUE(doc.contains("hang"));  // one attached analysis among the report's prime-rl runs
  expect_the_hang(doc["hang"]);
}

TEST(PrimeRlHangBinary, ARunWithoutHangMarkersIsUnchanged) {
  TempDir work;
  Ran r = run("-q --no-folder --json " +
                  shell_quote((fs::path(ALOG_TESTDATA) / "runs" / "healthy").string()),
              work.path);
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_FALSE(doc.contains("hang"));
  EXPECT_EQ(finding(doc["findings"], "hang_culprit"), nullptr);
  // The golden report.json of that run (tests/unit/primerl/test_golden.cpp) is unchanged too.
}

TEST(PrimeRlHangBinary, ATrainerLogWithOnlyACrashDumpIsNotAttached) {
  TempDir work;
  fs::path job = work.path / "run";
  fs::copy(fs::path(ALOG_TESTDATA) / "runs" / "healthy", job, fs::copy_options::recursive);
  std::ofstream(job / "logs" / "trainer.log", std::ios::app)
      << "[trainer0]:Fatal Python error: Segmentation fault\n[trainer0]:\n"
         "[trainer0]:Current thread 0x00007f1f5b1d3740 (most recent call first):\n"
         "[trainer0]:  File \"/workspace/prime-rl/src/prime_rl/trainer/rl/data.py\", line 42 in "
         "decode\n[trainer0]:\n";
  EXPECT_TRUE(tail_has_hang_marker(job / "logs" / "trainer.log"));
  Ran r = run("-q --no-folder --json " + shell_quote(job.string()), work.path);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out).contains("hang"));
}
