// JUnit XML and GitHub workflow commands on hand-built headers: the exact output, the gate, and
// hostile text (newlines, %, :, ',', XML metacharacters, control bytes, invalid UTF-8) escaped as
// each format requires. The XML's validity against tests/schemas/junit.xsd is checked on the real
// binary's output by tests/e2e/test_ci.sh.
#include <gtest/gtest.h>

#include <algorithm>

#include "analyze_logs/render/ci.hpp"

using namespace alog;

namespace {

core::Header sample_header() {
  core::Header h;
  h.verdict = core::Verdict::failed;
  h.cause = "CUDA out of memory on decode worker 0";
  core::Finding oom;
  oom.id = "cuda_oom";
  oom.severity = core::Severity::critical;
  oom.role = core::Role::root_cause;
  oom.summary = "CUDA out of memory";
  oom.evidence.push_back(
      {"logs/decode_0.err", 42, "06:12:47", "torch.OutOfMemoryError: CUDA out of memory"});
  oom.fix = "Lower --mem-fraction-static";
  core::Finding slow;
  slow.id = "slow_phase";
  slow.severity = core::Severity::warning;
  slow.role = core::Role::consequence;
  slow.summary = "loading took 3x its typical time";
  core::Finding noise;
  noise.id = "teardown";
  noise.severity = core::Severity::info;
  noise.role = core::Role::collateral;
  noise.summary = "CANCELLED at teardown";
  noise.evidence.push_back({"log.out", 7, "", "slurmstepd: CANCELLED"});
  h.findings = {oom, slow, noise};
  return h;
}

}  // namespace

TEST(WorkflowEscape, DataAndPropertiesAsTheFormatRequires) {
  EXPECT_EQ(render::workflow_escape_data("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b");
  EXPECT_EQ(render::workflow_escape_property("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext%3A a%2Cb");
  EXPECT_EQ(render::workflow_escape_data("%0A"), "%250A");  // an escape in the input stays literal
}

TEST(GithubAnnotations, OneCommandPerFindingAtWarningOrAbove) {
  core::Header h = sample_header();
  std::vector<render::CiJob> jobs{{"4459_2P_1D", "srtctl", &h}};
  EXPECT_EQ(
      render::github_annotations(jobs),
      "::error file=logs/decode_0.err,line=42,title=cuda_oom (root cause)::CUDA out of memory%0A"
      "evidence: logs/decode_0.err:42 (06:12:47): torch.OutOfMemoryError: CUDA out of memory%0A"
      "fix: Lower --mem-fraction-static\n"
      "::warning title=slow_phase (consequence)::loading took 3x its typical time\n");
}

TEST(GithubAnnotations, FailedChecksAreErrorsAndJobsAreNamedWhenSeveral) {
  core::Header ok;
  ok.verdict = core::Verdict::ok;
  core::Header h = sample_header();
  h.findings.resize(1);
  std::vector<render::CiJob> jobs{
      {"run_a",
       "prime-rl",
       &ok,
       {{"weights.queue_ms.p99<300", false, "weights.queue_ms.p99 = 38725.859"},
        {"gen.dur_ms.max<1e9", true, "gen.dur_ms.max = 10.000"}}},
      {"job,b", "srtctl", &h}};
  std::string out = render::github_annotations(jobs);
  EXPECT_EQ(out.substr(0, out.find('\n') + 1),
            "::error title=run_a%3A check weights.queue_ms.p99<300 failed::weights.queue_ms.p99 = "
            "38725.859\n");
  EXPECT_NE(out.find("title=job%2Cb%3A cuda_oom (root cause)::"), std::string::npos) << out;
  EXPECT_EQ(out.find("gen.dur_ms"), std::string::npos) << "a passed check is not annotated";
}

TEST(GithubAnnotations, HostileFileNamesAndMessagesCannotStartACommand) {
  core::Header h;
  core::Finding f;
  f.id = "traceback";
  f.severity = core::Severity::critical;
  f.summary = "boom\n::error::injected 100%";
  f.evidence.push_back({"dir,x/a:b\r\n::warning::x.log", 3, "", "line\nwith::newline"});
  h.findings = {f};
  std::string out = render::github_annotations({{"j", "ray", &h}});
  EXPECT_EQ(out,
            "::error file=dir%2Cx/a%3Ab%0D%0A%3A%3Awarning%3A%3Ax.log,line=3,title=traceback (root "
            "cause)::"
            "boom%0A::error::injected 100%25%0Aevidence: dir,x/a:b%0D%0A::warning::x.log:3: "
            "line%0Awith::newline\n");
  // One line per command: nothing the logs hold can start a second one.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(Junit, ChecksAndFindingsAtTheGate) {
  core::Header h = sample_header();
  std::vector<render::CiJob> jobs{
      {"run<1>",
       "prime-rl",
       &h,
       {{"weights.queue_ms.p99<300", false, "weights.queue_ms.p99 = 38725.859"},
        {"gen.dur_ms.count>0", true, "gen.dur_ms.count = 12"}}}};
  EXPECT_EQ(render::junit_xml(jobs, core::Severity::warning),
            R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="analyze-logs" tests="5" failures="3" errors="0">
  <testsuite name="analyze-logs prime-rl: run&lt;1&gt;" tests="5" failures="3" errors="0" skipped="0">
    <testcase classname="analyze-logs.prime-rl" name="verdict">
      <system-out>failed: CUDA out of memory on decode worker 0</system-out>
    </testcase>
    <testcase classname="analyze-logs.prime-rl.expect" name="weights.queue_ms.p99&lt;300">
      <failure type="expect" message="weights.queue_ms.p99 = 38725.859">weights.queue_ms.p99 = 38725.859</failure>
    </testcase>
    <testcase classname="analyze-logs.prime-rl.expect" name="gen.dur_ms.count&gt;0">
      <system-out>gen.dur_ms.count = 12</system-out>
    </testcase>
    <testcase classname="analyze-logs.prime-rl.critical" name="cuda_oom at logs/decode_0.err:42">
      <failure type="critical root cause" message="CUDA out of memory">CUDA out of memory
evidence: logs/decode_0.err:42 (06:12:47): torch.OutOfMemoryError: CUDA out of memory
fix: Lower --mem-fraction-static
</failure>
    </testcase>
    <testcase classname="analyze-logs.prime-rl.warning" name="slow_phase">
      <failure type="warning consequence" message="loading took 3x its typical time">loading took 3x its typical time
</failure>
    </testcase>
  </testsuite>
</testsuites>
)");
  // --fail-on critical: the warning is no failure and no test case.
  std::string crit = render::junit_xml(jobs, core::Severity::critical);
  EXPECT_NE(crit.find(R"(tests="4" failures="2")"), std::string::npos) << crit;
  EXPECT_EQ(crit.find("slow_phase"), std::string::npos);
}

TEST(Junit, TextIsValidXmlWhateverTheLogsHold) {
  EXPECT_EQ(render::xml_escape("a&b<c>\"d'\te\nf\rg"), "a&amp;b&lt;c&gt;&quot;d&apos;\te\nf&#13;g");
  // C0 controls cannot be written in XML 1.0 at all: U+FFFD instead. Invalid UTF-8 likewise.
  EXPECT_EQ(render::xml_escape(std::string("x\x1b[31my\x01", 8)), "x\xEF\xBF\xBD[31my\xEF\xBF\xBD");
  std::string bad = render::xml_escape("ok \xff\xfe end");
  EXPECT_EQ(bad.find('\xff'), std::string::npos);
  EXPECT_NE(bad.find("end"), std::string::npos);
}
