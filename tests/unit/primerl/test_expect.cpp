// `--expect` checks: parse_expectation (METRIC.STAT OP NUMBER; a malformed expression is rejected
// with a message naming it) and evaluate against a Report and against a report.json document;
// has_diagnosis_at_least for `--fail-on`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/model.hpp"

using namespace alog;

namespace {

std::string rejection(const std::string& expr) {
  try {
    parse_expectation(expr);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

Report report_with_queue() {
  Report r;
  MetricReport m;
  m.name = "weights.queue_ms";
  m.unit = "ms";
  m.stats.count = 30;
  m.stats.mean = 87.2;
  m.stats.min = 1;
  m.stats.p50 = 80;
  m.stats.p90 = 150;
  m.stats.p95 = 200;
  m.stats.p99 = 290;
  m.stats.max = 310;
  r.metrics.push_back(m);
  return r;
}

}  // namespace

TEST(ExpectParse, AllParts) {
  auto e = parse_expectation("weights.queue_ms.p99<300");
  EXPECT_EQ(e.text, "weights.queue_ms.p99<300");
  EXPECT_EQ(e.metric, "weights.queue_ms");
  EXPECT_EQ(e.stat, "p99");
  EXPECT_EQ(e.op, "<");
  EXPECT_EQ(e.value, 300);
}

TEST(ExpectParse, EveryOperatorAndStatistic) {
  for (std::string op : {"<", "<=", ">", ">=", "==", "!="})
    EXPECT_EQ(parse_expectation("ckpt.wait_ms.max" + op + "1").op, op);
  for (std::string st : {"count", "mean", "min", "p50", "p90", "p95", "p99", "max"})
    EXPECT_EQ(parse_expectation("rollout.trunc_pct." + st + ">=0").stat, st);
}

TEST(ExpectParse, SpacesAroundTheOperatorAndDecimals) {
  auto e = parse_expectation("rollout.trunc_pct.mean <= 10.5");
  EXPECT_EQ(e.metric, "rollout.trunc_pct");
  EXPECT_EQ(e.op, "<=");
  EXPECT_EQ(e.value, 10.5);
  EXPECT_EQ(parse_expectation("weights.queue_ms.p99<3e2").value, 300);
}

TEST(ExpectParse, MalformedExpressionsAreRejectedNamingThem) {
  for (std::string bad :
       {"weights.queue_ms.p99", "weights.queue_ms.p42<3", "weights.queue_ms.p99<abc",
        "weights.queue_ms.p99<", "<300", "queue_ms<300", ".p99<300", "weights.queue_ms.p99=<3",
        "weights.queue_ms.p99=3", "weights.queue_ms.p99<<3", "weights.queue_ms.p99<3 ms",
        "weights.queue_ms.p99<nan", "weights.queue_ms.p99<inf", "", "weights.queue_ms.avg>1"}) {
    std::string msg = rejection(bad);
    EXPECT_FALSE(msg.empty()) << "accepted: '" << bad << "'";
    if (!bad.empty()) {
      EXPECT_NE(msg.find(bad), std::string::npos) << msg;
    }
  }
}

TEST(ExpectEvaluate, MetAndNotMetAgainstAReport) {
  Report r = report_with_queue();
  auto met = evaluate(parse_expectation("weights.queue_ms.p99<300"), r);
  EXPECT_TRUE(met.passed);
  ASSERT_TRUE(met.actual);
  EXPECT_EQ(*met.actual, 290);
  EXPECT_EQ(met.expr, "weights.queue_ms.p99<300");

  auto failed = evaluate(parse_expectation("weights.queue_ms.max<300"), r);
  EXPECT_FALSE(failed.passed);
  EXPECT_EQ(*failed.actual, 310);
}

TEST(ExpectEvaluate, EveryStatisticReadsItsField) {
  Report r = report_with_queue();
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.count==30"), r).actual, 30);
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.mean==0"), r).actual, 87.2);
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.min==0"), r).actual, 1);
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.p50==0"), r).actual, 80);
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.p90==0"), r).actual, 150);
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.p95==0"), r).actual, 200);
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.p99==0"), r).actual, 290);
  EXPECT_EQ(*evaluate(parse_expectation("weights.queue_ms.max==0"), r).actual, 310);
}

TEST(ExpectEvaluate, OperatorsAtEquality) {
  Report r = report_with_queue();
  EXPECT_FALSE(evaluate(parse_expectation("weights.queue_ms.max<310"), r).passed);
  EXPECT_TRUE(evaluate(parse_expectation("weights.queue_ms.max<=310"), r).passed);
  EXPECT_FALSE(evaluate(parse_expectation("weights.queue_ms.max>310"), r).passed);
  EXPECT_TRUE(evaluate(parse_expectation("weights.queue_ms.max>=310"), r).passed);
  EXPECT_TRUE(evaluate(parse_expectation("weights.queue_ms.max==310"), r).passed);
  EXPECT_FALSE(evaluate(parse_expectation("weights.queue_ms.max!=310"), r).passed);
}

TEST(ExpectEvaluate, MetricWithoutSamplesFailsSayingSo) {
  Report r = report_with_queue();
  auto res = evaluate(parse_expectation("ckpt.wait_ms.p99<500"), r);
  EXPECT_FALSE(res.passed);
  EXPECT_FALSE(res.actual);
  EXPECT_NE(res.message.find("ckpt.wait_ms"), std::string::npos) << res.message;
}

TEST(ExpectEvaluate, AgainstAReportJsonDocument) {
  auto j = nlohmann::json::parse(
      R"({"metrics": {"weights.queue_ms": {"count": 3, "p99": 250.5, "max": 400}}})");
  auto ok = evaluate(parse_expectation("weights.queue_ms.p99<300"), j);
  EXPECT_TRUE(ok.passed);
  EXPECT_EQ(*ok.actual, 250.5);
  EXPECT_FALSE(evaluate(parse_expectation("weights.queue_ms.max<300"), j).passed);
  auto none = evaluate(parse_expectation("ckpt.wait_ms.max<300"), j);
  EXPECT_FALSE(none.passed);
  EXPECT_FALSE(none.actual);
}

TEST(FailOn, SeverityRanking) {
  Report r;
  EXPECT_FALSE(has_diagnosis_at_least(r, Severity::warning));
  EXPECT_FALSE(has_diagnosis_at_least(r, Severity::critical));
  Diagnosis w;
  w.id = "ckpt_stall";
  w.severity = Severity::warning;
  r.diagnoses.push_back(w);
  EXPECT_TRUE(has_diagnosis_at_least(r, Severity::warning));
  EXPECT_FALSE(has_diagnosis_at_least(r, Severity::critical));
  Diagnosis c;
  c.id = "queue_saturation";
  c.severity = Severity::critical;
  r.diagnoses.push_back(c);
  EXPECT_TRUE(has_diagnosis_at_least(r, Severity::critical));
}
