// header(Report): a prime-rl run in the shared vocabulary. Diagnoses make it degraded; no tagged
// line makes it unknown (never ok); a run without its orchestrator log says which log is missing
// and what cannot be known without it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"

namespace fs = std::filesystem;
using namespace alog;

namespace {

const fs::path kRuns = fs::path(ALOG_TESTDATA) / "runs";

Report analysed(std::vector<std::string> inputs) {
  AnalysisOptions opt;
  opt.inputs = std::move(inputs);
  Report r = analyze(opt);
  diagnose(r);
  return r;
}

const core::Finding* find(const core::Header& h, const std::string& id) {
  for (const auto& f : h.findings)
    if (f.id == id) return &f;
  return nullptr;
}

}  // namespace

TEST(PrimeRlHeader, QueueSaturationRunIsDegradedWithItsDiagnosisAsRootCause) {
  Report r = analysed({(kRuns / "prefix").string()});
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::degraded);
  ASSERT_NE(h.root(), nullptr);
  EXPECT_EQ(h.root()->id, "queue_saturation");
  EXPECT_EQ(h.root()->severity, core::Severity::critical);
  EXPECT_EQ(h.cause, h.root()->summary);
  ASSERT_FALSE(h.root()->evidence.empty());
  EXPECT_GT(h.root()->evidence[0].line, 0u);
  EXPECT_TRUE(fs::exists(h.root()->evidence[0].file)) << h.root()->evidence[0].file;
  EXPECT_FALSE(h.root()->fix.empty());
  // One finding per diagnosis, same order of severity.
  size_t diag = 0;
  for (const auto& d : r.diagnoses) diag += find(h, d.id) != nullptr;
  EXPECT_EQ(diag, r.diagnoses.size());
  EXPECT_EQ(h.inputs.size(), r.inputs.size());
}

TEST(PrimeRlHeader, HealthyRunIsOk) {
  Report r = analysed({(kRuns / "healthy").string()});
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::ok);
  EXPECT_FALSE(h.has_at_least(core::Severity::warning));
}

TEST(PrimeRlHeader, InferenceLogAloneSaysTheOrchestratorLogIsMissing) {
  Report r = analysed({(kRuns / "prefix" / "logs" / "inference.log").string()});
  ASSERT_GT(r.total_events(), 0u);
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::unknown);
  const core::Finding* f = find(h, "missing_orchestrator_log");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, core::Severity::warning);
  EXPECT_NE(f->summary.find("inference server"), std::string::npos) << f->summary;
  EXPECT_NE(f->detail.find("queue_ms"), std::string::npos) << f->detail;
  EXPECT_EQ(h.cause, f->summary);
}

TEST(PrimeRlHeader, NoTaggedLineIsUnknownNeverOk) {
  fs::path tmp = fs::temp_directory_path() / "alog_header_empty.log";
  std::ofstream(tmp) << "just some text\nand nothing tagged\n";
  Report r = analysed({tmp.string()});
  fs::remove(tmp);
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::unknown);
  const core::Finding* f = find(h, "no_input_recognised");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, core::Severity::warning);
  EXPECT_NE(f->summary.find("2 lines read"), std::string::npos) << f->summary;
}
