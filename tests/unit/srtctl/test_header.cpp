// srtctl::header(): a JobReport in the shared vocabulary. The srtctl analysis decides verdict,
// root cause and collateral; these tests hold the header to those decisions on the testdata jobs
// and check that every piece of evidence points at a real line of a real file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "analyze_logs/core/header_json.hpp"
#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;
using namespace alog;

namespace {

const fs::path kLogs = fs::path(ALOG_TESTDATA) / "srtctl" / "logs";

std::string line_of(const fs::path& file, uint64_t n) {
  std::ifstream f(file);
  std::string s;
  for (uint64_t i = 0; i < n && std::getline(f, s); ++i) {
  }
  return s;
}

const core::InputEntry* input_named(const core::Header& h, const std::string& suffix) {
  for (const auto& in : h.inputs)
    if (in.path.size() >= suffix.size() && in.path.compare(in.path.size() - suffix.size(), suffix.size(), suffix) == 0)
      return &in;
  return nullptr;
}

}  // namespace

TEST(SrtctlHeader, HealthyJobIsOkWithNoWarningOrWorse) {
  auto j = srtctl::analyze_job(kLogs / "4459_2P_1D_20251122_041341");
  core::Header h = srtctl::header(j);
  EXPECT_EQ(h.verdict, core::Verdict::ok);
  EXPECT_EQ(h.cause, j.reason);
  EXPECT_FALSE(h.has_at_least(core::Severity::warning));
  // The teardown is there, as collateral information.
  for (const auto& f : h.findings) EXPECT_NE(f.role, core::Role::root_cause) << f.id << ": " << f.summary;
  const auto* bench = input_named(h, "/benchmark.out");
  ASSERT_NE(bench, nullptr);
  EXPECT_TRUE(bench->read);
  EXPECT_EQ(bench->kind, "srtctl");
}

TEST(SrtctlHeader, OomJobRootCauseFirstWithItsLineAndFixThenCollateral) {
  fs::path dir = kLogs / "4460_2P_1D_20251122_061502";
  auto j = srtctl::analyze_job(dir);
  core::Header h = srtctl::header(j);
  EXPECT_EQ(h.verdict, core::Verdict::failed);
  ASSERT_FALSE(h.findings.empty());
  const core::Finding& root = h.findings.front();
  EXPECT_EQ(&root, h.root());
  EXPECT_EQ(root.id, "cuda_oom");
  EXPECT_EQ(root.severity, core::Severity::critical);
  EXPECT_EQ(root.role, core::Role::root_cause);
  EXPECT_NE(root.summary.find("decode w0 on watchtower-aqua-cn11"), std::string::npos) << root.summary;
  EXPECT_NE(root.summary.find("torch.OutOfMemoryError"), std::string::npos) << root.summary;
  // The OOM's line, then its likely trigger on the same worker: the KV pool ran full just before.
  ASSERT_EQ(root.evidence.size(), 2u);
  EXPECT_NE(root.evidence[1].text.find("KV cache pool is full"), std::string::npos) << root.evidence[1].text;
  EXPECT_NE(root.detail.find("likely trigger: decode w0 on watchtower-aqua-cn11: KV cache pool full"),
            std::string::npos)
      << root.detail;
  EXPECT_EQ(root.evidence[0].line, 41u);
  EXPECT_EQ(root.evidence[0].time, "2025-11-22 06:41:55");
  // The evidence names a file that exists, and its text is that line.
  ASSERT_TRUE(fs::exists(root.evidence[0].file)) << root.evidence[0].file;
  EXPECT_NE(line_of(root.evidence[0].file, 41).find("Scheduler hit an exception"), std::string::npos);
  EXPECT_NE(root.fix.find("mem_fraction_static"), std::string::npos) << root.fix;
  // Exactly one root cause; the four other workers' errors are collateral.
  size_t roots = 0, collateral = 0;
  for (const auto& f : h.findings) {
    roots += f.role == core::Role::root_cause;
    collateral += f.role == core::Role::collateral && f.id != "slurm_cancelled" && f.id != "file_problems";
  }
  EXPECT_EQ(roots, 1u);
  EXPECT_EQ(collateral, 4u);
  // The unfinished benchmark is what the verdict rests on: a consequence of the OOM.
  bool unfinished = false;
  for (const auto& f : h.findings)
    if (f.id == "benchmark_unfinished") {
      unfinished = true;
      EXPECT_EQ(f.role, core::Role::consequence);
      EXPECT_EQ(f.severity, core::Severity::critical);
      ASSERT_FALSE(f.evidence.empty());
      EXPECT_GT(f.evidence[0].line, 0u);
    }
  EXPECT_TRUE(unfinished);
  EXPECT_TRUE(h.has_at_least(core::Severity::critical));
}

TEST(SrtctlHeader, NeverReadyJobFailsOnReadiness) {
  auto j = srtctl::analyze_job(kLogs / "4461_2P_1D_20251122_080011");
  core::Header h = srtctl::header(j);
  EXPECT_EQ(h.verdict, core::Verdict::failed);
  EXPECT_EQ(j.reason_id, "never_ready");
  bool found = false;
  for (const auto& f : h.findings) found |= f.id == "never_ready" && f.severity == core::Severity::critical;
  EXPECT_TRUE(found);
  ASSERT_NE(h.root(), nullptr);
}

TEST(SrtctlHeader, FilesNotReadAreListedWithTheirReason) {
  auto j = srtctl::analyze_job(kLogs / "4459_2P_1D_20251122_041341");
  core::Header h = srtctl::header(j);
  size_t read = 0, skipped = 0;
  for (const auto& in : h.inputs) {
    (in.read ? read : skipped)++;
    if (!in.read) {
      EXPECT_FALSE(in.reason.empty()) << in.path;
    }
    EXPECT_TRUE(fs::exists(in.path)) << in.path;
  }
  EXPECT_GT(read, 3u);
  // Every regular file of the folder is accounted for, read or skipped.
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(kLogs / "4459_2P_1D_20251122_041341")) {
    files += e.is_regular_file();
  }
  EXPECT_EQ(read + skipped, files);
}

TEST(SrtctlHeader, JsonFormHasTheSharedMembers) {
  auto j = srtctl::analyze_job(kLogs / "4460_2P_1D_20251122_061502");
  nlohmann::ordered_json doc;
  core::put_header(doc, srtctl::header(j));
  EXPECT_EQ(doc["verdict"], "failed");
  EXPECT_EQ(doc["findings"][0]["id"], "cuda_oom");
  EXPECT_EQ(doc["findings"][0]["role"], "root_cause");
  EXPECT_EQ(doc["findings"][0]["evidence"][0]["line"], 41);
  core::Header back = core::header_from_json(nlohmann::json::parse(doc.dump()));
  EXPECT_EQ(back.verdict, core::Verdict::failed);
  EXPECT_EQ(back.findings.size(), doc["findings"].size());
}
