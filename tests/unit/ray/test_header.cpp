// ray::header(): a RayReport in the shared vocabulary, on the testdata runs.
#include <gtest/gtest.h>

#include <filesystem>

#include "analyze_logs/ray.hpp"

namespace fs = std::filesystem;
using namespace alog;

namespace {

const fs::path kRay = fs::path(ALOG_TESTDATA) / "ray";

ray::RayReport run(const std::string& name, const std::string& driver) {
  std::vector<fs::path> in{kRay / name / "running_logs" / driver, kRay / name / "session_latest" / "logs"};
  return ray::analyze(in, ray::Options{});
}

}  // namespace

TEST(RayHeader, NcclTimeoutFailsWithTheRootCauseFirstAndOpenableEvidence) {
  auto r = run("nccl_timeout", "qwen3_8b_train_20260313_101502.log");
  core::Header h = ray::header(r);
  EXPECT_EQ(h.verdict, core::Verdict::failed);
  ASSERT_NE(h.root(), nullptr);
  EXPECT_EQ(h.root(), &h.findings.front());
  EXPECT_EQ(h.root()->id, "nccl_timeout");
  EXPECT_EQ(h.root()->severity, core::Severity::critical);
  EXPECT_FALSE(h.root()->fix.empty());
  ASSERT_FALSE(h.root()->evidence.empty());
  for (const auto& e : h.root()->evidence) {
    EXPECT_TRUE(fs::exists(e.file)) << e.file;
    EXPECT_GT(e.line, 0u);
  }
  EXPECT_NE(r.headline.find(h.cause.substr(0, 20)), std::string::npos) << h.cause;
  EXPECT_FALSE(h.cause.starts_with("failed")) << h.cause;
  EXPECT_TRUE(h.has_at_least(core::Severity::critical));
}

TEST(RayHeader, TrainingInProgressIsRunning) {
  auto r = run("training", "kimi25_3node_train_20260311_061205.log");
  core::Header h = ray::header(r);
  EXPECT_EQ(r.verdict, ray::Verdict::running);
  EXPECT_EQ(h.verdict, core::Verdict::running);
  EXPECT_FALSE(h.has_at_least(core::Severity::critical));
  size_t driver = 0, sessions = 0;
  for (const auto& in : h.inputs) {
    driver += in.role == "driver log";
    sessions += in.role == "session logs";
    EXPECT_EQ(in.kind, "ray");
  }
  EXPECT_EQ(driver, 1u);
  EXPECT_EQ(sessions, 1u);
}

TEST(RayHeader, StuckRunIsStuckWithAStallFinding) {
  auto r = run("stuck_shards", "kimi25_3node_train_20260312_091502.log");
  core::Header h = ray::header(r);
  EXPECT_EQ(h.verdict, core::Verdict::stuck);
  ASSERT_NE(h.root(), nullptr);
  EXPECT_EQ(h.root()->id, "stall");
}

TEST(RayHeader, NothingReadIsUnknownWithAWarning) {
  ray::RayReport r = ray::analyze({}, ray::Options{});
  core::Header h = ray::header(r);
  EXPECT_EQ(h.verdict, core::Verdict::unknown);
  EXPECT_TRUE(h.has_at_least(core::Severity::warning));
}
