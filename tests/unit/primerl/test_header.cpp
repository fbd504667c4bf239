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

// A healthy run whose orchestrator log was cut short: still ok, but the verdict says on what, the
// partial input is a warning (so --fail-on warning trips), and the figures are those of the part
// read.
TEST(PrimeRlHeader, PartialInputIsInTheVerdictAndAWarningWithoutChangingTheVerdict) {
  Report r = analysed({(kRuns / "healthy").string()});
  ASSERT_FALSE(r.inputs.empty());
  for (auto& in : r.inputs)
    if (in.role == Role::orchestrator) {
      in.counts.partial = true;
      in.error = in.path + ": truncated gzip stream: input ended after 300 compressed bytes";
    }
  std::string orchestrator;
  for (const auto& in : r.inputs)
    if (in.role == Role::orchestrator) orchestrator = in.path;
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::ok);
  EXPECT_NE(h.cause.find("on a partial input: " + orchestrator + " was read only in part"), std::string::npos)
      << h.cause;
  const core::Finding* f = find(h, "input_partial");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, core::Severity::warning);
  EXPECT_EQ(f->role, core::Role::collateral);
  // The path is said once, then the reader's reason.
  EXPECT_EQ(f->summary.find(orchestrator + " was read only in part ("), 0u) << f->summary;
  EXPECT_NE(f->summary.find("lines): truncated gzip stream"), std::string::npos) << f->summary;
  EXPECT_TRUE(h.has_at_least(core::Severity::warning));
}

// An input that could not be read at all is a warning finding of its own; a diagnosis keeps the
// verdict it rests on.
TEST(PrimeRlHeader, UnreadableInputIsAWarningAndTheDiagnosisStaysTheCause) {
  Report r = analysed({(kRuns / "prefix").string()});
  InputReport gone;
  gone.path = "rank7.log";
  gone.unreadable = true;
  gone.error = "rank7.log: Permission denied";
  r.inputs.push_back(gone);
  core::Header h = header(r);
  EXPECT_EQ(h.verdict, core::Verdict::degraded);
  ASSERT_NE(h.root(), nullptr);
  EXPECT_EQ(h.root()->id, "queue_saturation");
  EXPECT_EQ(h.cause, h.root()->summary);  // no partial input: nothing appended
  const core::Finding* f = find(h, "input_unreadable");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->summary, "rank7.log could not be read: Permission denied");
}
