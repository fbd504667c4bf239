// Thresholds: the defaults from seed 000's "Expected Ranges" table and the diagnosis limits,
// status judgement at the boundaries, staleness following async_level, and `--thresholds` JSON
// overrides (flat or nested; an unknown key or a non-number is an error naming it).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "analyze_logs/primerl/thresholds.hpp"

using namespace alog;

namespace {

std::string invalid_argument_of(Thresholds& t, const std::string& json) {
  try {
    t.apply_json(json, "th.json");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Thresholds, DefaultsFromTheSeedTable) {
  Thresholds t;
  EXPECT_EQ(t.get("weights.queue_ms.warning"), 100);
  EXPECT_EQ(t.get("weights.queue_ms.critical"), 1000);
  EXPECT_EQ(t.get("weights.rpc_ms.warning"), 2000);
  EXPECT_EQ(t.get("weights.rpc_ms.critical"), 5000);
  EXPECT_EQ(t.get("weights.reload_rpc_ms.warning"), 500);
  EXPECT_EQ(t.get("weights.reload_rpc_ms.critical"), 2000);
  EXPECT_EQ(t.get("ckpt.write_ms.warning"), 1000);
  EXPECT_EQ(t.get("ckpt.write_ms.critical"), 5000);
  EXPECT_EQ(t.get("ckpt.wait_ms.warning"), 500);
  EXPECT_EQ(t.get("ckpt.wait_ms.critical"), 2000);
  EXPECT_EQ(t.get("gen.dur_ms.warning"), 5000);
  EXPECT_EQ(t.get("gen.dur_ms.critical"), 10000);
  EXPECT_EQ(t.get("rollout.trunc_pct.warning"), 10);
  EXPECT_EQ(t.get("rollout.trunc_pct.critical"), 30);
  EXPECT_EQ(t.get("rollout.staleness.warning"), 2);
  EXPECT_EQ(t.get("rollout.staleness.critical"), 4);
}

TEST(Thresholds, DiagnosisLimitsFromTheSeedSignatures) {
  Thresholds t;
  EXPECT_EQ(t.get("queue_saturation.queue_ms"), 10000);
  EXPECT_EQ(t.get("queue_saturation.rpc_ms"), 2000);
  EXPECT_EQ(t.get("slow_weight_load.queue_ms"), 100);
  EXPECT_EQ(t.get("slow_weight_load.rpc_ms"), 5000);
  EXPECT_EQ(t.get("ckpt_stall.wait_ms"), 2000);
  EXPECT_EQ(t.get("slow_ckpt_write.write_ms"), 5000);
  EXPECT_EQ(t.get("high_truncation.trunc_pct"), 30);
  EXPECT_EQ(t.get("gen_spike_during_update.dur_ms"), 10000);
  EXPECT_EQ(t.get("gen_spike_during_update.queue_ms"), 1000);
  EXPECT_EQ(t.get("critical_share"), 0.5);
}

TEST(Thresholds, StalenessFollowsAsyncLevel) {
  Thresholds t(5);
  EXPECT_EQ(t.get("rollout.staleness.warning"), 5);
  EXPECT_EQ(t.get("rollout.staleness.critical"), 7);
  // staleness <= async_level good, > async_level warning, > async_level + 2 critical
  EXPECT_EQ(t.judge("rollout.staleness", 5), Status::good);
  EXPECT_EQ(t.judge("rollout.staleness", 6), Status::warning);
  EXPECT_EQ(t.judge("rollout.staleness", 7), Status::warning);
  EXPECT_EQ(t.judge("rollout.staleness", 8), Status::critical);
}

TEST(Thresholds, JudgeAtTheBoundaries) {
  Thresholds t;
  // queue_ms: <100 good, 100-1000 warning, >1000 critical
  EXPECT_EQ(t.judge("weights.queue_ms", 99.9), Status::good);
  EXPECT_EQ(t.judge("weights.queue_ms", 100), Status::warning);
  EXPECT_EQ(t.judge("weights.queue_ms", 1000), Status::warning);
  EXPECT_EQ(t.judge("weights.queue_ms", 1000.1), Status::critical);
  // rpc_ms: <2000 good, 2000-5000 warning, >5000 critical
  EXPECT_EQ(t.judge("weights.rpc_ms", 1999), Status::good);
  EXPECT_EQ(t.judge("weights.rpc_ms", 2000), Status::warning);
  EXPECT_EQ(t.judge("weights.rpc_ms", 5000), Status::warning);
  EXPECT_EQ(t.judge("weights.rpc_ms", 5001), Status::critical);
  EXPECT_EQ(t.judge("weights.reload_rpc_ms", 499), Status::good);
  EXPECT_EQ(t.judge("weights.reload_rpc_ms", 2001), Status::critical);
  EXPECT_EQ(t.judge("ckpt.write_ms", 999), Status::good);
  EXPECT_EQ(t.judge("ckpt.write_ms", 5000.5), Status::critical);
  EXPECT_EQ(t.judge("ckpt.wait_ms", 499), Status::good);
  EXPECT_EQ(t.judge("ckpt.wait_ms", 1999), Status::warning);
  EXPECT_EQ(t.judge("ckpt.wait_ms", 2001), Status::critical);
  // dur_ms: a fast batch is good; 5000-10000 warning; >10000 critical
  EXPECT_EQ(t.judge("gen.dur_ms", 200), Status::good);
  EXPECT_EQ(t.judge("gen.dur_ms", 4999), Status::good);
  EXPECT_EQ(t.judge("gen.dur_ms", 5001), Status::warning);
  EXPECT_EQ(t.judge("gen.dur_ms", 10000), Status::warning);
  EXPECT_EQ(t.judge("gen.dur_ms", 10001), Status::critical);
  // trunc_pct: <10 good, 10-30 warning, >30 critical
  EXPECT_EQ(t.judge("rollout.trunc_pct", 9.9), Status::good);
  EXPECT_EQ(t.judge("rollout.trunc_pct", 10), Status::warning);
  EXPECT_EQ(t.judge("rollout.trunc_pct", 30), Status::warning);
  EXPECT_EQ(t.judge("rollout.trunc_pct", 78.5), Status::critical);
}

TEST(Thresholds, MetricsWithoutThresholdsHaveNoStatus) {
  Thresholds t;
  EXPECT_FALSE(t.has_status("weights.wall_ms"));
  EXPECT_FALSE(t.has_status("gen.inflight"));
  EXPECT_EQ(t.judge("weights.wall_ms", 1e9), Status::none);
  EXPECT_TRUE(t.has_status("weights.queue_ms"));
  EXPECT_TRUE(t.has_status("rollout.staleness"));
}

TEST(Thresholds, JudgedOnMeanExceptStalenessOnMax) {
  Thresholds t;
  EXPECT_EQ(t.judged_on("weights.queue_ms"), "mean");
  EXPECT_EQ(t.judged_on("ckpt.wait_ms"), "mean");
  EXPECT_EQ(t.judged_on("rollout.trunc_pct"), "mean");
  EXPECT_EQ(t.judged_on("rollout.staleness"), "max");
}

TEST(Thresholds, StatusNames) {
  EXPECT_EQ(status_name(Status::good), "good");
  EXPECT_EQ(status_name(Status::warning), "warning");
  EXPECT_EQ(status_name(Status::critical), "critical");
  EXPECT_EQ(status_name(Status::none), "");
}

TEST(Thresholds, UnknownKeyForGetIsOutOfRange) {
  Thresholds t;
  EXPECT_THROW(t.get("weights.queue_ms.panic"), std::out_of_range);
}

TEST(ThresholdsJson, FlatOverride) {
  Thresholds t;
  t.apply_json(R"({"weights.queue_ms.critical": 500, "queue_saturation.queue_ms": 5000})",
               "th.json");
  EXPECT_EQ(t.get("weights.queue_ms.critical"), 500);
  EXPECT_EQ(t.get("queue_saturation.queue_ms"), 5000);
  EXPECT_EQ(t.get("weights.queue_ms.warning"), 100);  // untouched
  EXPECT_EQ(t.judge("weights.queue_ms", 600), Status::critical);
}

TEST(ThresholdsJson, NestedOverride) {
  Thresholds t;
  t.apply_json(
      R"({"weights.queue_ms": {"critical": 500, "warning": 50}, "ckpt_stall": {"wait_ms": 100.5}})",
      "th.json");
  EXPECT_EQ(t.get("weights.queue_ms.critical"), 500);
  EXPECT_EQ(t.get("weights.queue_ms.warning"), 50);
  EXPECT_EQ(t.get("ckpt_stall.wait_ms"), 100.5);
}

TEST(ThresholdsJson, FullyNestedOverride) {
  Thresholds t;
  t.apply_json(R"({"weights": {"rpc_ms": {"warning": 1500}}, "critical_share": 0.25})", "th.json");
  EXPECT_EQ(t.get("weights.rpc_ms.warning"), 1500);
  EXPECT_EQ(t.get("critical_share"), 0.25);
}

TEST(ThresholdsJson, EmptyObjectChangesNothing) {
  Thresholds t, d;
  t.apply_json("{}", "th.json");
  EXPECT_EQ(t.all(), d.all());
}

TEST(ThresholdsJson, UnknownKeyIsAnErrorNamingIt) {
  Thresholds t;
  std::string msg = invalid_argument_of(t, R"({"weights.queue_ms.critcal": 500})");
  EXPECT_NE(msg.find("weights.queue_ms.critcal"), std::string::npos) << msg;
  EXPECT_NE(msg.find("th.json"), std::string::npos) << msg;
  std::string nested = invalid_argument_of(t, R"({"weights.queue_ms": {"panic": 1}})");
  EXPECT_NE(nested.find("weights.queue_ms.panic"), std::string::npos) << nested;
}

TEST(ThresholdsJson, NonNumericValueIsAnErrorNamingIt) {
  Thresholds t;
  std::string msg = invalid_argument_of(t, R"({"weights.queue_ms.critical": "500"})");
  EXPECT_NE(msg.find("weights.queue_ms.critical"), std::string::npos) << msg;
  EXPECT_FALSE(invalid_argument_of(t, R"({"critical_share": null})").empty());
  EXPECT_FALSE(invalid_argument_of(t, R"({"critical_share": [0.5]})").empty());
}

TEST(ThresholdsJson, NotAJsonObjectIsAnError) {
  Thresholds t;
  EXPECT_FALSE(invalid_argument_of(t, "not json").empty());
  EXPECT_FALSE(invalid_argument_of(t, "[1, 2]").empty());
  EXPECT_FALSE(invalid_argument_of(t, R"({"weights.queue_ms.critical": 5)").empty());
}
