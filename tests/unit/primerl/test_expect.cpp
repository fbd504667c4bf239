// `--expect` checks: parse_expectation (METRIC.STAT OP NUMBER; a malformed expression, an unknown
// metric or statistic is rejected with a message naming it) and evaluate against a Report and
// against a report.json document; has_diagnosis_at_least for `--fail-on`.
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

// Issue 22: `weights.queue.p99<300` named no metric, and the check failed after the whole input was
// read. Every name is now checked against the analysis's one table of metrics while parsing.
TEST(ExpectParse, UnknownMetricIsRejectedListingEveryKnownMetric) {
  std::string msg = rejection("weights.queue.p99<300");
  EXPECT_NE(msg.find("--expect 'weights.queue.p99<300': unknown metric 'weights.queue'"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("did you mean weights.queue_ms?"), std::string::npos) << msg;
  for (const auto& d : kMetricDefs)
    EXPECT_NE(msg.find(std::string(d.name)), std::string::npos) << d.name << " not in: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  // An ambiguous stem gets no guess; the list still names both.
  std::string ckpt = rejection("ckpt.p99<300");
  EXPECT_NE(ckpt.find("unknown metric 'ckpt'"), std::string::npos) << ckpt;
  EXPECT_EQ(ckpt.find("did you mean"), std::string::npos) << ckpt;
  for (std::string other : {"queue_ms.p99<1", "weights.QUEUE_MS.p99<1", "weights.queue_ms.x.p99<1",
                            "gen.dur.mean<1", "srtctl.ttft_ms.p99<1"})
    EXPECT_NE(rejection(other).find("unknown metric"), std::string::npos) << other;
}

TEST(ExpectParse, EveryMetricOfTheTableAndEveryStatisticIsAccepted) {
  for (const auto& d : kMetricDefs)
    for (std::string st : {"count", "mean", "min", "p50", "p90", "p95", "p99", "max"}) {
      auto e = parse_expectation(std::string(d.name) + "." + st + "<1");
      EXPECT_EQ(e.metric, d.name);
      EXPECT_EQ(e.stat, st);
    }
  EXPECT_EQ(expect_metric_names().find("weights.wall_ms, weights.rpc_ms, weights.queue_ms"), 0u);
  EXPECT_EQ(expect_stat_names(), "count, mean, min, p50, p90, p95, p99, max");
}

TEST(ExpectParse, UnknownOrMissingStatisticIsRejectedListingTheStatistics) {
  std::string msg = rejection("weights.queue_ms.p100<300");
  EXPECT_NE(msg.find("unknown statistic 'p100' (count, mean, min, p50, p90, p95, p99, max)"),
            std::string::npos)
      << msg;
  std::string none = rejection("weights.queue_ms<300");
  EXPECT_NE(none.find("no statistic after 'weights.queue_ms'"), std::string::npos) << none;
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
  EXPECT_EQ(res.measured, "ckpt.wait_ms has no samples");
  EXPECT_EQ(res.message, "ckpt.wait_ms has no samples");
  // Its count is a measurement: 0.
  auto count = evaluate(parse_expectation("ckpt.wait_ms.count==0"), r);
  EXPECT_TRUE(count.passed);
  ASSERT_TRUE(count.actual);
  EXPECT_EQ(*count.actual, 0);
  EXPECT_EQ(count.measured, "ckpt.wait_ms.count = 0");
  EXPECT_FALSE(evaluate(parse_expectation("ckpt.wait_ms.count>0"), r).passed);
  // A metric listed with no sample (count 0) has no mean of 0 either.
  MetricReport empty;
  empty.name = "gen.dur_ms";
  r.metrics.push_back(empty);
  auto mean = evaluate(parse_expectation("gen.dur_ms.mean<1"), r);
  EXPECT_FALSE(mean.passed);
  EXPECT_FALSE(mean.actual);
}

TEST(ExpectEvaluate, TheMeasuredValueIsSaidWhetherMetOrNot) {
  Report r = report_with_queue();
  auto met = evaluate(parse_expectation("weights.queue_ms.p99<300"), r);
  EXPECT_EQ(met.measured, "weights.queue_ms.p99 = 290.000");
  EXPECT_EQ(met.message, "weights.queue_ms.p99 = 290.000 (290.000 < 300: met)");
  auto failed = evaluate(parse_expectation("weights.queue_ms.mean>=100"), r);
  EXPECT_EQ(failed.measured, "weights.queue_ms.mean = 87.200");
  EXPECT_EQ(failed.message, "weights.queue_ms.mean = 87.200 (87.200 >= 100: not met)");
  EXPECT_EQ(evaluate(parse_expectation("weights.queue_ms.count==30"), r).measured,
            "weights.queue_ms.count = 30");
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

// report.json lists a metric without samples as {"count": 0, ...} and nothing else; a document
// that still carries statistics beside count 0 does not make them measurements.
TEST(ExpectEvaluate, AgainstAReportJsonWithCountZeroMetrics) {
  auto j = nlohmann::json::parse(R"({"metrics": {
      "ckpt.wait_ms": {"count": 0, "status": null, "unit": "ms"},
      "gen.dur_ms": {"count": 0, "mean": 0, "p99": 0, "status": null, "unit": "ms"}}})");
  auto p99 = evaluate(parse_expectation("ckpt.wait_ms.p99<300"), j);
  EXPECT_FALSE(p99.passed);
  EXPECT_FALSE(p99.actual);
  EXPECT_EQ(p99.measured, "ckpt.wait_ms has no samples");
  auto count = evaluate(parse_expectation("ckpt.wait_ms.count==0"), j);
  EXPECT_TRUE(count.passed);
  EXPECT_EQ(*count.actual, 0);
  EXPECT_FALSE(evaluate(parse_expectation("gen.dur_ms.mean<1"), j).actual);
  EXPECT_FALSE(evaluate(parse_expectation("gen.dur_ms.p99<1"), j).passed);
  // An older report left such a metric out: its count is 0 all the same.
  EXPECT_TRUE(evaluate(parse_expectation("rollout.staleness.count==0"), j).passed);
  EXPECT_FALSE(evaluate(parse_expectation("rollout.staleness.max<1"), j).passed);
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
