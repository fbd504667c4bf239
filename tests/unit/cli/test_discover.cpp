// Discovery with the real table of kinds (src/cli/registry.cpp) on testdata/discover and the
// other test runs: each way a user may point us at jobs.
#include <gtest/gtest.h>

#include <algorithm>

#include "../../src/cli/registry.hpp"
#include "analyze_logs/core/discover.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "stdin_swap.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using alog::core::DiscoveredJob;
using alog::core::Discovery;
using alog::test_support::StdinSwap;
using alog::test_support::TempDir;

namespace {

const fs::path kData = ALOG_TESTDATA;

Discovery run(const std::vector<std::string>& args) {
  return alog::core::discover(args, alog::cli::kind_probes());
}

std::vector<std::string> summary(const Discovery& d) {
  std::vector<std::string> v;
  for (const auto& j : d.jobs) v.push_back(j.kind + ":" + j.name);
  return v;
}

// Files and folders of a job relative to `base`, with their roles, sorted.
std::vector<std::string> inputs_of(const DiscoveredJob& j, const fs::path& base) {
  std::vector<std::string> v;
  for (const auto& e : j.inputs)
    v.push_back(fs::path(e.path).lexically_relative(base).generic_string() + " = " + e.role +
                (e.read ? "" : " (skipped: " + e.reason + ")"));
  std::sort(v.begin(), v.end());
  return v;
}

std::string reason_for(const Discovery& d, std::string_view path_end) {
  for (const auto& s : d.skipped)
    if (std::string_view(s.path).ends_with(path_end)) return s.reason;
  return "<not listed>";
}

TEST(CliDiscover, CollectedMultiNodeRayLogsAreOneJob) {
  fs::path root = kData / "discover/ray_collected";
  auto d = run({root.string()});
  ASSERT_EQ(summary(d), std::vector<std::string>{"ray:ray_collected"});
  EXPECT_EQ(inputs_of(d.jobs[0], root),
            (std::vector<std::string>{
                "ray/10.0.0.1/session_2026-03-13_10-15-02_123456_1/logs = session logs",
                "ray/10.0.0.2/session_2026-03-12_22-01-40_654321_1/logs = session logs (skipped: "
                "older session)",
                "ray/10.0.0.2/session_2026-03-13_10-15-04_234567_1/logs = session logs",
                "running_logs/qwen3_8b_train_20260313_101502.log = driver log"}));
  ASSERT_EQ(d.jobs[0].notes.size(), 1u);
  EXPECT_NE(d.jobs[0].notes[0].find("ray/10.0.0.2 holds 2 Ray sessions"), std::string::npos);
  EXPECT_NE(reason_for(d, "ray/10.0.0.2/session_latest").find("same folder as"), std::string::npos);
  EXPECT_TRUE(d.unrecognised.empty());
}

TEST(CliDiscover, WhicheverFolderOfTheRayRunIsGiven) {
  fs::path root = kData / "discover/ray_collected";
  // One node's folder, the link to its session, and the tree six levels down.
  auto node = run({(root / "ray/10.0.0.2").string()});
  ASSERT_EQ(node.jobs.size(), 1u);
  EXPECT_EQ(node.jobs[0].kind, "ray");
  EXPECT_EQ(node.jobs[0].dirs.size(), 1u);
  auto link = run({(root / "ray/10.0.0.2/session_latest").string()});
  ASSERT_EQ(summary(link), std::vector<std::string>{"ray:session_latest"});

  TempDir t;
  fs::path deep = t.path / "a/b/c/d/e/f";
  fs::create_directories(deep);
  fs::copy(root, deep / "ray_collected",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  auto d = run({(t.path / "a").string()});
  ASSERT_EQ(summary(d), std::vector<std::string>{"ray:b/c/d/e/f/ray_collected"});
  EXPECT_EQ(inputs_of(d.jobs[0], deep / "ray_collected"),
            inputs_of(run({root.string()}).jobs[0], root));
}

TEST(CliDiscover, PrimeRlRunBesideAnSrtctlJobIsTwoJobs) {
  fs::path root = kData / "discover/mixed";
  auto d = run({root.string()});
  ASSERT_EQ(summary(d),
            (std::vector<std::string>{"srtctl:4461_2P_1D_20251122_080011", "prime-rl:rl_run"}));
  EXPECT_EQ(inputs_of(d.jobs[1], root),
            (std::vector<std::string>{"rl_run/logs/inference.log = inference log",
                                      "rl_run/logs/orchestrator.log = orchestrator log",
                                      "rl_run/logs/trainer.log = trainer log"}));
  EXPECT_EQ(d.jobs[0].dirs,
            std::vector<std::string>{(root / "4461_2P_1D_20251122_080011").generic_string()});
}

TEST(CliDiscover, RunLogsWithOtherNamesAreReadAndTheRestListed) {
  fs::path root = kData / "discover/run_other_names";
  auto d = run({root.string()});
  ASSERT_EQ(summary(d), std::vector<std::string>{"prime-rl:run_other_names"});
  EXPECT_EQ(inputs_of(d.jobs[0], root),
            (std::vector<std::string>{
                "inference.err = inference log", "metrics.jsonl = trainer log",
                "orchestrator.out = orchestrator log", "trainer.txt = trainer log"}));
  EXPECT_EQ(reason_for(d, "/notes.txt"), "no line this tool recognises");
  EXPECT_EQ(reason_for(d, "/model.safetensors"), "binary");
  EXPECT_EQ(d.skipped.size(), 2u);
}

TEST(CliDiscover, NothingRecognisedNeverPassesSilently) {
  fs::path root = kData / "discover/nothing";
  auto d = run({root.string()});
  EXPECT_TRUE(d.jobs.empty());
  ASSERT_EQ(d.unrecognised.size(), 1u);
  const auto& u = d.unrecognised[0];
  EXPECT_NE(u.looked_for.find("[weights]/[gen]/[ckpt]/[rollout]"), std::string::npos);
  EXPECT_NE(u.looked_for.find("srtctl job folders"), std::string::npos);
  EXPECT_NE(u.looked_for.find("TorchSpec/Ray"), std::string::npos);
  EXPECT_EQ(u.looked_like,
            "a folder of 3 files (3 text) in 0 subfolders; 8 lines read from the first 64 KiB of "
            "each, none that any kind recognises");
  EXPECT_EQ(d.skipped.size(), 3u);
}

TEST(CliDiscover, FoldersOfSeveralJobsOfOneKind) {
  EXPECT_EQ(summary(run({(kData / "runs").string()})),
            (std::vector<std::string>{"prime-rl:healthy", "prime-rl:postfix", "prime-rl:prefix"}));
  EXPECT_EQ(summary(run({(kData / "srtctl/logs").string()})),
            (std::vector<std::string>{"srtctl:4459_2P_1D_20251122_041341",
                                      "srtctl:4460_2P_1D_20251122_061502",
                                      "srtctl:4461_2P_1D_20251122_080011"}));
  // Two Ray runs side by side, one of them collected from two nodes.
  auto ray = run({(kData / "ray").string()});
  ASSERT_EQ(summary(ray), (std::vector<std::string>{"ray:actor_died", "ray:nccl_timeout",
                                                    "ray:stuck_shards", "ray:training"}));
  EXPECT_EQ(ray.jobs[0].dirs.size(), 2u);  // session_latest and node-10.0.0.2/session_latest
}

TEST(CliDiscover, FileArgumentOfEachKind) {
  auto d =
      run({(kData / "ray/nccl_timeout/running_logs/qwen3_8b_train_20260313_101502.log").string(),
           (kData / "srtctl/logs/4461_2P_1D_20251122_080011/log.out").string(),
           (kData / "runs/healthy/logs/orchestrator.log").string(),
           (kData / "discover/run_other_names/inference.err").string()});
  ASSERT_EQ(summary(d),
            (std::vector<std::string>{"ray:qwen3_8b_train_20260313_101502.log", "srtctl:log.out",
                                      "prime-rl:orchestrator.log", "prime-rl:inference.err"}));
  EXPECT_EQ(d.jobs[0].inputs.at(0).role, "driver log");
  EXPECT_EQ(d.jobs[1].inputs.at(0).role, "job log");
  EXPECT_EQ(d.jobs[3].inputs.at(0).role, "inference log");
}

TEST(CliDiscover, StdinOfEachKind) {
  TempDir t;
  {
    // prime-rl streams: what the analyzer reads from "-" is byte for byte what was piped.
    std::string data = alog::test_support::slurp(kData / "runs/healthy/logs/inference.log");
    auto swap = StdinSwap::pipe_of(data);
    auto d = run({"-"});
    ASSERT_EQ(summary(d), std::vector<std::string>{"prime-rl:<stdin>"});
    EXPECT_EQ(d.jobs[0].files, std::vector<std::string>{"-"});
    EXPECT_EQ(d.jobs[0].inputs.at(0).role, "inference log");
    auto src = alog::input::open_source("-");
    std::string got, buf(1 << 16, '\0');
    while (size_t n = src->read(buf.data(), buf.size())) got.append(buf.data(), n);
    EXPECT_EQ(got, data);
  }
  for (const auto& [file, kind, copy_name] :
       {std::tuple{kData / "ray/nccl_timeout/running_logs/qwen3_8b_train_20260313_101502.log",
                   "ray", "running_logs/stdin.log"},
        std::tuple{kData / "srtctl/logs/4461_2P_1D_20251122_080011/log.out", "srtctl",
                   "log.out"}}) {
    std::string data = alog::test_support::slurp(file);
    auto swap = StdinSwap::pipe_of(data);
    auto d = run({"-"});
    ASSERT_EQ(summary(d), std::vector<std::string>{std::string(kind) + ":<stdin>"});
    ASSERT_EQ(d.jobs[0].files.size(), 1u);
    EXPECT_TRUE(d.jobs[0].files[0].ends_with(std::string("/") + copy_name));
    EXPECT_EQ(alog::test_support::slurp(d.jobs[0].files[0]), data);
  }
  alog::core::remove_stdin_copies();
}

// The prime-rl figures from a sniffed standard input equal those from one never sniffed (the
// orchestrator log is longer than the sniffed head, so the join is inside the data).
TEST(CliDiscover, SniffedStdinGivesTheSameFigures) {
  std::string data = alog::test_support::slurp(kData / "runs/healthy/logs/orchestrator.log");
  ASSERT_GT(data.size(), 64u * 1024);
  auto figures = [] {
    alog::AnalysisOptions opt;
    opt.inputs = {"-"};
    opt.tool_version = "test";
    return alog::to_json(alog::analyze(opt)).dump(1);
  };
  std::string plain, sniffed;
  {
    auto swap = StdinSwap::pipe_of(data);
    plain = figures();
  }
  {
    auto swap = StdinSwap::pipe_of(data);
    auto d = run({"-"});
    ASSERT_EQ(summary(d), std::vector<std::string>{"prime-rl:<stdin>"});
    sniffed = figures();
  }
  EXPECT_NE(plain.find("\"updates\""), std::string::npos);
  EXPECT_EQ(sniffed, plain);
}

}  // namespace
