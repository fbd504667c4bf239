// The testdata hang sets (testdata/gen/make_hangs.py) analysed whole: the culprit, its top frames,
// the collective and SeqNum, the ranks without dumps, and the traps (first reporter, torchrun's
// Root Cause, abort blocks) never named as the cause. Then the real binary on each set: exit
// status, the report folder, and a terminal answer that fits one screen of 100 columns.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>

#include "analyze_logs/hangs.hpp"
#include "analyze_logs/render/render.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::hangs;
namespace fs = std::filesystem;
using alog::test_support::lines_of;
using alog::test_support::shell_quote;
using alog::test_support::slurp;
using alog::test_support::TempDir;

namespace {

const fs::path kHangs = fs::path(ALOG_TESTDATA) / "hangs";

const core::Finding* finding(const core::Header& h, const std::string& id) {
  for (const auto& f : h.findings)
    if (f.id == id) return &f;
  return nullptr;
}

const Suspect* suspect(const HangReport& r, int rank) {
  for (const auto& s : r.suspects)
    if (s.rank == rank) return &s;
  return nullptr;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// The traps are shown as consequences or collateral, never as the root cause.
void expect_traps_not_cause(const core::Header& h, int culprit) {
  ASSERT_NE(h.root(), nullptr);
  EXPECT_EQ(h.root()->id, "hang_culprit");
  for (const auto& f : h.findings) {
    if (f.id == "hang_first_reporter" || f.id == "hang_torchrun_root_cause" ||
        f.id == "hang_aborts" || f.id == "hang_watchdog_timeouts") {
      EXPECT_NE(f.role, core::Role::root_cause) << f.id;
    }
    if (f.id == "hang_first_reporter" || f.id == "hang_torchrun_root_cause") {
      EXPECT_FALSE(contains(f.summary, fmt::format("ank {} ", culprit))) << f.summary;
    }
  }
}

}  // namespace

TEST(HangSets, Nccl8RanksTwoNodes) {
  HangReport r = analyze({kHangs / "nccl_8rank"});
  EXPECT_TRUE(r.hang);
  EXPECT_TRUE(r.nccl);
  EXPECT_EQ(r.world_size, 8);
  EXPECT_EQ(r.culprits, std::vector<int>{5});
  EXPECT_EQ(r.confidence, "high");
  const Suspect* s = suspect(r, 5);
  ASSERT_NE(s, nullptr);
  for (const char* k : {"sequence numbers", "missing dump", "ras", "stack outlier"})
    EXPECT_NE(std::find(s->evidence_kinds.begin(), s->evidence_kinds.end(), k),
              s->evidence_kinds.end())
        << k;
  EXPECT_EQ(r.suspects.size(), 1u);  // nobody else is suspected
  // Who it is: host and pid from the NCCL init lines, the RAS and the torchrun table.
  EXPECT_EQ(r.ranks[5].host, "gpu-b03");
  EXPECT_EQ(r.ranks[5].pid, 51211);
  EXPECT_EQ(r.ranks[2].host, "gpu-a07");
  // Where it is: the py-spy dump found by pid, innermost frame first.
  ASSERT_GE(r.culprit_frames.size(), 5u);
  EXPECT_EQ(r.culprit_frames[0].str(), "wait (threading.py:331)");
  EXPECT_EQ(r.culprit_frames[1].str(), "get (queue.py:180)");
  EXPECT_EQ(r.culprit_frames[4].str(), "__next__ (torch/utils/data/dataloader.py:733)");
  EXPECT_EQ(r.culprit_stack_file, (kHangs / "nccl_8rank/pyspy/gpu-b03-51211.txt").generic_string());
  ASSERT_EQ(r.culprit_differs.size(),
            6u);  // up to train_step (train.py:198); main and <module> are shared
  EXPECT_EQ(r.culprit_differs.back().str(), "train_step (train.py:198)");
  // Where the others wait.
  ASSERT_TRUE(r.collective);
  EXPECT_EQ(r.collective->op, "ALLREDUCE");
  EXPECT_EQ(r.collective->seq, 808);
  EXPECT_EQ(r.collective->pg, "0(default_pg)");
  EXPECT_EQ(r.collective->timeout_ms, 600000);
  EXPECT_EQ(r.collective->waiting, (std::vector<int>{0, 1, 2, 3, 4, 6, 7}));
  ASSERT_EQ(r.collective->frames.size(), 3u);
  EXPECT_EQ(r.collective->frames[0].func, "all_reduce");
  EXPECT_EQ(r.collective->frames[2].str(), "train_step (/workspace/train.py:212)");
  EXPECT_EQ(r.without_dump, std::vector<int>{5});
  EXPECT_TRUE(r.without_stack.empty());
  // Stacks: 7 waiting ranks collapse into one group; pin-memory and tqdm threads are left out.
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].ranks, (std::vector<int>{0, 1, 2, 3, 4, 6, 7}));
  EXPECT_EQ(r.groups[1].ranks, std::vector<int>{5});
  EXPECT_EQ(r.common_threads_omitted, 2u);
  // The torchrun agent's py-spy dump maps to no rank: said, not guessed.
  ASSERT_EQ(r.ambiguities.size(), 1u);
  EXPECT_TRUE(contains(r.ambiguities[0], "pid 48188 maps to no rank")) << r.ambiguities[0];
  EXPECT_EQ(r.fr.size(), 7u);

  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::stuck);
  EXPECT_TRUE(contains(h.cause, "rank 5 (gpu-b03, pid 51211) never entered ALLREDUCE SeqNum 808"))
      << h.cause;
  expect_traps_not_cause(h, 5);
  const core::Finding* first = finding(h, "hang_first_reporter");
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(contains(first->summary, "Rank 2 reported the timeout first")) << first->summary;
  size_t roots = 0;
  for (const auto& f : h.findings)
    if (f.id == "hang_torchrun_root_cause") {
      ++roots;
      EXPECT_TRUE(contains(f.summary, "rank 0 ") || contains(f.summary, "rank 4 ")) << f.summary;
    }
  EXPECT_EQ(roots, 2u);  // each node prints its own table
  const core::Finding* aborts = finding(h, "hang_aborts");
  ASSERT_NE(aborts, nullptr);
  EXPECT_EQ(aborts->role, core::Role::collateral);
}

TEST(HangSets, GlooBarrierWithFaulthandlerAndErrorJson) {
  HangReport r = analyze({kHangs / "gloo_barrier"});
  EXPECT_TRUE(r.hang);
  EXPECT_FALSE(r.nccl);  // no SeqNum, no Flight Recorder
  EXPECT_EQ(r.culprits, std::vector<int>{2});
  EXPECT_EQ(r.confidence, "high");
  const Suspect* s = suspect(r, 2);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->evidence_kinds, (std::vector<std::string>{"barrier message", "stack outlier"}));
  bool from_error_json = false;
  for (const auto& e : s->evidence) from_error_json |= e.file.ends_with("attempt_0/0/error.json");
  EXPECT_TRUE(from_error_json);
  ASSERT_GE(r.culprit_frames.size(), 3u);
  EXPECT_EQ(r.culprit_frames[0].str(), "copyfileobj (/usr/lib/python3.11/shutil.py:197)");
  EXPECT_EQ(r.culprit_frames[2].str(), "save_shard (/workspace/sft/ckpt/io.py:88)");
  ASSERT_TRUE(r.collective);
  EXPECT_EQ(r.collective->op, "monitored_barrier");
  EXPECT_EQ(r.collective->seq, -1);
  EXPECT_EQ(r.collective->timeout_ms, 1800000);
  EXPECT_EQ(r.collective->frames.front().func, "monitored_barrier");
  EXPECT_EQ(r.collective->waiting, (std::vector<int>{0, 1, 3}));
  EXPECT_TRUE(r.without_dump.empty());  // no Flight Recorder at all: nothing is "missing"
  EXPECT_EQ(r.dumps.size(), 4u);
  for (const auto& d : r.dumps) EXPECT_EQ(d.source, "faulthandler");
  EXPECT_EQ(r.common_threads_omitted, 1u);
  expect_traps_not_cause(header(r), 2);
}

TEST(HangSets, SequenceNumbersAloneWhenEveryDumpIsPresent) {
  HangReport r = analyze({kHangs / "seq_only"});
  EXPECT_EQ(r.culprits, std::vector<int>{1});
  EXPECT_EQ(r.confidence, "high");
  const Suspect* s = suspect(r, 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->evidence_kinds, (std::vector<std::string>{"sequence numbers", "flight recorder"}));
  EXPECT_TRUE(r.without_dump.empty());
  EXPECT_TRUE(r.without_stack.empty());
  ASSERT_EQ(r.groups.size(), 1u);  // every stack the same: the stacks name nobody
  EXPECT_EQ(r.groups[0].ranks, (std::vector<int>{0, 1, 2, 3}));
  ASSERT_TRUE(r.collective);
  EXPECT_EQ(r.collective->op, "ALLGATHER");
  EXPECT_EQ(r.collective->seq, 1234);
  EXPECT_EQ(r.collective->waiting, (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(r.ranks[1].pid, 7101);
  EXPECT_EQ(r.ranks[1].host, "host-0");
  EXPECT_EQ(r.culprit_frames.front().func, "_all_gather_base");
  EXPECT_TRUE(r.culprit_differs.empty());
  expect_traps_not_cause(header(r), 1);
}

TEST(HangSets, ConflictingEvidenceIsNotDecided) {
  HangReport r = analyze({kHangs / "conflict"});
  EXPECT_TRUE(r.hang);
  EXPECT_TRUE(r.culprits.empty());
  EXPECT_EQ(r.confidence, "");
  ASSERT_EQ(r.undecided.size(), 1u);
  EXPECT_TRUE(contains(r.undecided[0], "stack outlier names rank 2")) << r.undecided[0];
  EXPECT_TRUE(contains(r.undecided[0], "missing dump names rank 3")) << r.undecided[0];
  EXPECT_EQ(r.without_dump, std::vector<int>{3});
  EXPECT_EQ(r.without_stack, std::vector<int>{3});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(contains(r.problems[0].second, "truncated")) << r.problems[0].second;
  const Suspect* s3 = suspect(r, 3);
  ASSERT_NE(s3, nullptr);
  ASSERT_FALSE(s3->evidence.empty());
  EXPECT_TRUE(contains(s3->evidence[0].text, "unreadable (killed mid-write?)"))
      << s3->evidence[0].text;
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::stuck);
  ASSERT_NE(h.root(), nullptr);
  EXPECT_EQ(h.root()->id, "hang_undecided");
  EXPECT_EQ(finding(h, "hang_culprit"), nullptr);
}

TEST(HangSets, BodyFitsOneScreenAndJsonIsToJson) {
  for (const char* set : {"nccl_8rank", "gloo_barrier", "seq_only", "conflict"}) {
    HangReport r = analyze({kHangs / set});
    auto body = make_body(r);
    std::string text = body->text({false, 100});
    for (const auto& l : lines_of(text))
      EXPECT_LE(render::display_width(l), 100u) << set << ": " << l;
    EXPECT_LE(lines_of(text).size(), 30u) << set;
    nlohmann::ordered_json j;
    body->json(j);
    EXPECT_EQ(j, to_json(r)) << set;
    std::string md = body->markdown();
    EXPECT_TRUE(md.starts_with("## Which rank hung\n")) << set;
    EXPECT_FALSE(contains(body->html(), "<script")) << set;
  }
}

// ---- the binary --------------------------------------------------------------------------------

namespace {

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

}  // namespace

TEST(HangBinary, EachSetGivesAReportFolderAndAOneScreenAnswer) {
  struct Case {
    const char* set;
    const char* answer;
  } cases[] = {
      {"nccl_8rank", "STUCK: rank 5 (gpu-b03, pid 51211) never entered ALLREDUCE SeqNum 808"},
      {"gloo_barrier", "STUCK: rank 2 never entered monitored_barrier"},
      {"seq_only", "STUCK: rank 1 (host-0, pid 7101) never entered ALLGATHER SeqNum 1234"},
      {"conflict", "STUCK: a hang; which rank is not decided"},
  };
  for (const auto& c : cases) {
    TempDir work;
    Ran r = run(fmt::format("-q --color never -o {} {}", shell_quote(work.path.string()),
                            shell_quote((kHangs / c.set).string())),
                work.path);
    EXPECT_EQ(r.status, 0) << c.set << r.err;
    EXPECT_TRUE(r.out.starts_with(c.answer)) << c.set << "\n" << r.out;
    auto lines = lines_of(r.out);
    // The answer (verdict, culprit, root cause) is in the first screen.
    EXPECT_LE(lines.size(), 80u) << c.set;
    for (const auto& l : lines) EXPECT_LE(render::display_width(l), 100u) << c.set << ": " << l;
    std::vector<fs::path> folders;
    for (const auto& e : fs::directory_iterator(work.path))
      if (e.is_directory() && e.path().filename().string().starts_with("analysis_"))
        folders.push_back(e.path());
    ASSERT_EQ(folders.size(), 1u) << c.set;
    for (const char* f : {"SUMMARY.md", "report.html", "report.json"})
      EXPECT_TRUE(fs::exists(folders[0] / f)) << c.set << " " << f;
    auto doc = nlohmann::json::parse(slurp(folders[0] / "report.json"));
    ASSERT_TRUE(doc.contains("hang")) << c.set;
    EXPECT_EQ(doc["hang"]["hang"], true);
    std::string md = slurp(folders[0] / "SUMMARY.md");
    EXPECT_TRUE(contains(md, "## Which rank hung")) << c.set;
    EXPECT_TRUE(contains(md, "### Main-thread stacks, grouped")) << c.set;
    EXPECT_TRUE(contains(slurp(folders[0] / "report.html"), "Main-thread stacks, grouped"))
        << c.set;
  }
}

TEST(HangBinary, FailOnCriticalExitsOneForADecidedHang) {
  TempDir work;
  Ran r = run("-q --no-folder --fail-on critical " + shell_quote((kHangs / "nccl_8rank").string()),
              work.path);
  EXPECT_EQ(r.status, 1) << r.err;
  Ran j = run("-q --no-folder --json " + shell_quote((kHangs / "seq_only").string()), work.path);
  EXPECT_EQ(j.status, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["hang"]["culprits"], nlohmann::json::array({1}));
  EXPECT_EQ(doc["hang"]["collective"]["seq"], 1234);
}

TEST(HangBinary, ACombinedConsoleFileAlone) {
  // Only the SLURM console: sequence numbers, the failure tables and NCCL init lines still decide.
  TempDir work;
  Ran r =
      run("-q --no-folder --json " + shell_quote((kHangs / "nccl_8rank/slurm-4242.out").string()),
          work.path);
  EXPECT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["hang"]["culprits"], nlohmann::json::array({5}));
  EXPECT_EQ(doc["hang"]["confidence"], "medium");
  EXPECT_EQ(doc["hang"]["collective"]["seq"], 808);
  EXPECT_EQ(doc["hang"]["ranks"]["5"]["host"], "gpu-b03");
}

TEST(HangBinary, PySpyBlocksInRayWorkerFilesAttachToTheRayJob) {
  // A Ray job whose worker .err files end in py-spy dumps (a hang watchdog writing to stderr):
  // the Ray job keeps its own verdict and root cause, and says which rank hung and where.
  TempDir work;
  fs::path job = work.path / "job";
  fs::copy(fs::path(ALOG_TESTDATA) / "ray/nccl_timeout", job, fs::copy_options::recursive);
  for (const auto& e : fs::directory_iterator(job / "session_latest/logs")) {
    std::string name = e.path().filename().string();
    for (int pid : {70211, 70212, 70213, 70214}) {
      if (!name.ends_with(fmt::format("-{}.err", pid))) continue;
      std::string top =
          pid == 70213
              ? "    wait (threading.py:331)\n    get (queue.py:180)\n    __next__ "
                "(torch/utils/data/dataloader.py:733)\n    train_step (torchspec/train.py:198)\n"
              : "    all_reduce (torch/distributed/distributed_c10d.py:3174)\n    train_step "
                "(torchspec/train.py:212)\n";
      std::ofstream(e.path(), std::ios::app) << fmt::format(
          "Process {0}: ray::TrainerActor.train\nPython v3.11.9 (/usr/bin/python3.11)\n\nThread "
          "{0} (idle): \"MainThread\"\n{1}    main_loop (ray/_private/worker.py:946)\n",
          pid, top);
    }
  }
  Ran r = run("-q --no-folder --json " + shell_quote(job.string()), work.path);
  EXPECT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_TRUE(doc.contains("ray"));
  ASSERT_TRUE(doc.contains("hang"));
  EXPECT_EQ(doc["hang"]["culprits"], nlohmann::json::array({2}));
  EXPECT_EQ(doc["hang"]["confidence"], "low");  // the stack alone
  EXPECT_EQ(doc["hang"]["ranks"]["2"]["pid"],
            70213);  // from the driver's `(TrainerActor pid=70213)` lines
  EXPECT_EQ(doc["hang"]["culprit_frames"][0]["func"], "wait");
  EXPECT_EQ(doc["hang"]["collective"]["seq"], 5274);
  ASSERT_EQ(doc["jobs"].size(), 1u);
  EXPECT_EQ(doc["jobs"][0]["kind"], "ray");
  EXPECT_EQ(doc["jobs"][0]["findings"][0]["id"],
            "nccl_timeout");  // Ray's own root cause stays first
  bool culprit = false;
  for (const auto& f : doc["jobs"][0]["findings"]) culprit |= f["id"] == "hang_culprit";
  EXPECT_TRUE(culprit);
  // Without dumps the Ray job is left as it was.
  Ran plain = run("-q --no-folder --json " +
                      shell_quote((fs::path(ALOG_TESTDATA) / "ray/nccl_timeout").string()),
                  work.path);
  EXPECT_FALSE(nlohmann::json::parse(plain.out).contains("hang"));
}
