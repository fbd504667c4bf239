// The fleet view's parts: normalised locations and fingerprints, the exact binomial tail, the
// node blame, civil times. (tests/e2e/test_fleet.sh runs it on generated fleets of real jobs.)
#include <gtest/gtest.h>

#include <cmath>

#include "analyze_logs/core/fleet.hpp"

using namespace alog::core;

namespace {

Job job(const std::string& name, Verdict v, const std::string& id, const std::string& summary, std::vector<std::string> nodes,
        const std::string& evidence = "") {
  Job j;
  j.kind = "srtctl";
  j.name = name;
  j.header.verdict = v;
  j.header.nodes = std::move(nodes);
  if (!id.empty()) {
    Finding f;
    f.id = id;
    f.severity = Severity::critical;
    f.summary = summary;
    if (!evidence.empty()) f.evidence.push_back({"w.err", 3, "", evidence});
    j.header.findings.push_back(f);
  }
  return j;
}

}  // namespace

TEST(FleetLocation, NumbersIdsAndAddressesGoCodeLocationsStay) {
  EXPECT_EQ(normalise_location("[rank3]:[E313 10:48:40.512338107 ProcessGroupNCCL.cpp:607] [Rank 3] Watchdog caught"),
            "[rank#]:[E# #:#:#.# ProcessGroupNCCL.cpp:607] [Rank #] Watchdog caught");
  EXPECT_EQ(normalise_location("actor f8932beacc1ff66d at 0x7f3a2b1c died on 10.30.1.49:4000"),
            "actor <id> at <id> died on #.#.#.#:#");
  EXPECT_EQ(normalise_location("File \"sched.py\", line 42, in run_batch   (pid 51211)"), "File \"sched.py\", line 42, in run_batch (pid #)");
  EXPECT_EQ(normalise_location("decode w0 on watchtower-aqua-cn16: NCCL error"), "decode w# on watchtower-aqua-cn#: NCCL error");
  // A word of hex letters only is a word, not an id.
  EXPECT_EQ(normalise_location("deadbeef feedface"), "deadbeef feedface");
}

TEST(FleetFingerprint, SameFailureSamePlaceSameFingerprintAcrossJobsAndNodes) {
  Job a = job("a", Verdict::failed, "cuda_oom", "decode w0 on cn03: CUDA out of memory", {"cn03"},
              "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has 1.23 GiB free");
  Job b = job("b", Verdict::failed, "cuda_oom", "decode w1 on cn11: CUDA out of memory", {"cn11"},
              "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 3 has 0.98 GiB free");
  Job c = job("c", Verdict::failed, "cuda_oom", "decode w1 on cn11: CUDA out of memory", {"cn11"},
              "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 512.00 MiB. GPU 3 has 0.98 GiB free");
  EXPECT_EQ(fingerprint(a.header), "cuda_oom @ decode w# on cn#: CUDA out of memory [allocate 2.00 GiB]");
  EXPECT_EQ(fingerprint(a.header), fingerprint(b.header));
  EXPECT_NE(fingerprint(a.header), fingerprint(c.header)) << "another allocation size is another place";
  Job t1 = job("t1", Verdict::failed, "nccl_timeout", "NCCL collective timeout", {}, "WorkNCCL(SeqNum=5274, OpType=ALLREDUCE, NumelIn=466119168, NumelOut=466119168)");
  Job t2 = job("t2", Verdict::failed, "nccl_timeout", "NCCL collective timeout", {}, "WorkNCCL(SeqNum=9, OpType=ALLREDUCE, NumelIn=466119168, NumelOut=466119168)");
  Job t3 = job("t3", Verdict::failed, "nccl_timeout", "NCCL collective timeout", {}, "WorkNCCL(SeqNum=9, OpType=ALLGATHER, NumelIn=1024, NumelOut=8192)");
  EXPECT_EQ(fingerprint(t1.header), "nccl_timeout @ NCCL collective timeout [ALLREDUCE NumelIn=466119168]");
  EXPECT_EQ(fingerprint(t1.header), fingerprint(t2.header));
  EXPECT_NE(fingerprint(t1.header), fingerprint(t3.header));
  // No root cause, or a job that is fine: no fingerprint.
  EXPECT_EQ(fingerprint(job("ok", Verdict::ok, "", "", {}).header), "");
  EXPECT_EQ(fingerprint(job("ok2", Verdict::ok, "queue_growth", "x", {}).header), "");
}

TEST(FleetBinomial, ExactTailAgainstDirectSums) {
  EXPECT_DOUBLE_EQ(binomial_tail(10, 0, 0.3), 1.0);
  EXPECT_DOUBLE_EQ(binomial_tail(10, 11, 0.3), 0.0);
  EXPECT_DOUBLE_EQ(binomial_tail(5, 1, 0.0), 0.0);
  EXPECT_NEAR(binomial_tail(4, 4, 1.0 / 6), std::pow(1.0 / 6, 4), 1e-15);
  // P(X >= 2), n = 3, p = 0.5: (3 + 1) / 8.
  EXPECT_NEAR(binomial_tail(3, 2, 0.5), 0.5, 1e-15);
  // n = 20, p = 0.1, k >= 5: 1 - sum_{i<5} C(20,i) 0.1^i 0.9^(20-i).
  double below = 0;
  for (int i = 0; i < 5; ++i) below += std::tgamma(21) / (std::tgamma(i + 1) * std::tgamma(21 - i)) * std::pow(0.1, i) * std::pow(0.9, 20 - i);
  EXPECT_NEAR(binomial_tail(20, 5, 0.1), 1 - below, 1e-12);
}

TEST(FleetBlame, ANodeInEveryFailureIsBlamedChanceIsNot) {
  std::vector<Job> jobs;
  // 40 jobs on 10 nodes, 4 each; every job on "bad" fails (5 of them), 2 others fail elsewhere.
  for (int i = 0; i < 40; ++i) {
    std::string n1 = "n" + std::to_string(i % 9), n2 = "n" + std::to_string((i + 3) % 9);
    bool on_bad = i % 8 == 0;
    std::vector<std::string> nodes = {n1, n2};
    if (on_bad) nodes.push_back("bad");
    bool failed = on_bad || i == 7 || i == 21;
    jobs.push_back(job("j" + std::to_string(i), failed ? Verdict::failed : Verdict::ok, failed ? "nccl_error" : "", "NCCL error", nodes));
  }
  std::vector<const Job*> ptrs;
  for (const auto& j : jobs) ptrs.push_back(&j);
  Fleet fl = fleet_of(ptrs);
  EXPECT_EQ(fl.failed, 7u);
  EXPECT_EQ(fl.rows.size(), 40u);
  ASSERT_EQ(fl.exclude, std::vector<std::string>{"bad"});
  const NodeStat& b = fl.nodes.front();
  EXPECT_EQ(b.node, "bad");
  EXPECT_EQ(b.jobs, 5u);
  EXPECT_EQ(b.failed, 5u);
  EXPECT_NEAR(b.p_value, std::pow(7.0 / 40, 5), 1e-15);
  EXPECT_NEAR(b.adjusted, std::pow(7.0 / 40, 5) * 10, 1e-13);
  EXPECT_EQ(b.failed_jobs, (std::vector<size_t>{0, 8, 16, 24, 32}));
  ASSERT_EQ(fl.groups.size(), 1u);
  EXPECT_EQ(fl.groups[0].jobs.size(), 7u);
  // A single failure on a node is never enough, however rare failures are.
  std::vector<Job> two;
  two.push_back(job("x", Verdict::failed, "nccl_error", "e", {"a"}));
  two.push_back(job("y", Verdict::ok, "", "", {"b"}));
  for (int i = 0; i < 50; ++i) two.push_back(job("z" + std::to_string(i), Verdict::ok, "", "", {"b"}));
  std::vector<const Job*> p2;
  for (const auto& j : two) p2.push_back(&j);
  EXPECT_TRUE(fleet_of(p2).exclude.empty());
}

TEST(FleetTime, CivilSeconds) {
  EXPECT_DOUBLE_EQ(civil_seconds("1970-01-01 00:00:00"), 0);
  EXPECT_DOUBLE_EQ(civil_seconds("2025-11-22 04:58:32") - civil_seconds("2025-11-22 04:14:02"), 2670);
  EXPECT_DOUBLE_EQ(civil_seconds("2024-03-01T00:00:00") - civil_seconds("2024-02-28 00:00:00"), 2 * 86400);  // leap year
  // (seconds since 1970 in a double: about 2.4e-7 s apart at this date)
  EXPECT_NEAR(civil_seconds("2026-03-13 10:48:40,512") - civil_seconds("2026-03-13 10:48:40"), 0.512, 1e-6);
  EXPECT_EQ(civil_seconds("10:48:40"), -1);
  EXPECT_EQ(civil_seconds("2026-13-01 00:00:00"), -1);
  EXPECT_EQ(civil_seconds(""), -1);
}
