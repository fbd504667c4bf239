// compare: the judgement on hand-made report.json documents (direction, percent, gate, missing
// metrics, count 0, baseline 0, status and diagnosis changes, checks, labels, escaping).

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "analyze_logs/compare.hpp"

namespace ac = alog::compare;
using nlohmann::json;

namespace {

struct M {
  std::string name;
  double count, mean, p99;
  std::string status = "";
  std::string unit = "ms";
};

json metric(const M& m) {
  return {{"count", m.count},
          {"mean", m.mean},
          {"min", m.mean / 2},
          {"p50", m.mean},
          {"p90", m.p99},
          {"p95", m.p99},
          {"p99", m.p99},
          {"max", m.p99 * 1.01},
          {"status", m.status.empty() ? json(nullptr) : json(m.status)},
          {"unit", m.unit}};
}

json report(const std::vector<M>& ms,
            const std::vector<std::pair<std::string, std::string>>& diags = {},
            const std::vector<std::string>& roles = {"orchestrator", "trainer"}) {
  json j;
  j["schema"] = 1;
  j["verdict"] = "test";
  j["inputs"] = json::array();
  for (const auto& r : roles)
    j["inputs"].push_back({{"path", r + ".log"}, {"role", r}, {"events", 10}});
  j["metrics"] = json::object();
  for (const auto& m : ms) j["metrics"][m.name] = metric(m);
  j["diagnoses"] = json::array();
  for (const auto& [id, sev] : diags)
    j["diagnoses"].push_back({{"id", id}, {"severity", sev}, {"summary", id + " summary"}});
  return j;
}

ac::Run run(std::string label, json r) {
  return ac::Run{label, label, std::move(r), ""};
}

const nlohmann::ordered_json& change(const ac::Result& r, const std::string& metric, size_t run,
                                     const std::string& stat) {
  return r.json["metrics"][metric]["runs"][run]["change"][stat];
}

}  // namespace

TEST(CompareDirection, UpIsBadForDurationsTruncationAndStaleness) {
  EXPECT_EQ(ac::bad_direction("weights.queue_ms"), ac::Bad::up);
  EXPECT_EQ(ac::bad_direction("weights.rpc_ms"), ac::Bad::up);
  EXPECT_EQ(ac::bad_direction("ckpt.write_ms"), ac::Bad::up);
  EXPECT_EQ(ac::bad_direction("gen.dur_ms"), ac::Bad::up);
  EXPECT_EQ(ac::bad_direction("rollout.trunc_pct"), ac::Bad::up);
  EXPECT_EQ(ac::bad_direction("rollout.staleness"), ac::Bad::up);
  EXPECT_EQ(ac::bad_direction("gen.inflight"), ac::Bad::none);
  EXPECT_EQ(ac::bad_direction("some.future_count"), ac::Bad::none);
}

TEST(ComparePercent, NoDivisionByZero) {
  EXPECT_FALSE(ac::percent_change(0, 5).has_value());
  EXPECT_FALSE(ac::percent_change(0, 0).has_value());
  EXPECT_FALSE(ac::percent_change(NAN, 1).has_value());
  EXPECT_NEAR(*ac::percent_change(28453.2, 87.2), -99.6935, 1e-3);
  EXPECT_NEAR(*ac::percent_change(1000, 1250), 25.0, 1e-9);
}

TEST(CompareLabels, ShortestUniqueSuffix) {
  EXPECT_EQ(
      ac::make_labels({"/r/prefix/logs/orchestrator.log", "/r/postfix/logs/orchestrator.log"}),
      (std::vector<std::string>{"prefix/logs/orchestrator.log", "postfix/logs/orchestrator.log"}));
  EXPECT_EQ(ac::make_labels({"/r/before/", "/r/after"}),
            (std::vector<std::string>{"before", "after"}));
  // report.json stands for its folder; a name clash only lengthens the clashing labels.
  EXPECT_EQ(ac::make_labels({"/x/a/analysis_1/report.json", "/x/b/analysis_1", "/x/c.log"}),
            (std::vector<std::string>{"a/analysis_1", "b/analysis_1", "c.log"}));
  EXPECT_EQ(ac::make_labels({"/r/run", "/r/run/", "/r/other"}),
            (std::vector<std::string>{"run", "run (2)", "other"}));
}

TEST(CompareRuns, PercentChangeStatusChangeAndVerdict) {
  auto before = report({{"weights.queue_ms", 10, 28453.2, 30840, "critical"},
                        {"weights.rpc_ms", 10, 1234.5, 1280, "good"}},
                       {{"queue_saturation", "critical"}});
  auto after = report({{"weights.queue_ms", 10, 87.2, 120.5, "good"},
                       {"weights.rpc_ms", 10, 1234.5, 1280, "good"}});
  auto r = ac::compare_runs({run("before", before), run("after", after)}, ac::Options{});
  EXPECT_EQ(r.verdict,
            "queue_ms mean 28453.2 → 87.2 ms (\u221299.7 %); success criterion p99 < 300 ms: met; "
            "resolved: queue_saturation");
  const auto& mean = change(r, "weights.queue_ms", 1, "mean");
  EXPECT_NEAR(mean["pct"].get<double>(), -99.6935, 1e-3);
  EXPECT_NEAR(mean["abs"].get<double>(), 87.2 - 28453.2, 1e-9);
  EXPECT_FALSE(mean["worse"].get<bool>());
  EXPECT_EQ(r.json["metrics"]["weights.queue_ms"]["runs"][1]["status_change"]["from"], "critical");
  EXPECT_EQ(r.json["metrics"]["weights.queue_ms"]["runs"][1]["status_change"]["to"], "good");
  EXPECT_EQ(r.json["metrics"]["weights.rpc_ms"]["runs"][1]["status_change"], nullptr);
  EXPECT_EQ(r.json["diagnoses"][0]["resolved"][0]["id"], "queue_saturation");
  EXPECT_NE(r.terminal.find("critical → good"), std::string::npos) << r.terminal;
  EXPECT_NE(r.terminal.find("\u221299.7 %"), std::string::npos);
  EXPECT_NE(r.markdown.find("| ↳ change (after) | 0 (0.0 %) | \u221228366.0 (\u221299.7 %) |"),
            std::string::npos)
      << r.markdown;
  EXPECT_NE(r.markdown.find("| after | resolved | queue\\_saturation | critical |"),
            std::string::npos)
      << r.markdown;
  EXPECT_TRUE(r.regressions.empty());  // no gate given
  EXPECT_FALSE(r.checks_failed);       // the seed's criterion is informational only
  EXPECT_EQ(r.json["checks"][0]["source"], "seed 002 success criterion");
}

TEST(CompareGate, TripsOnMeanWorseThanPct) {
  auto base = report({{"weights.rpc_ms", 10, 1000, 2000}, {"weights.queue_ms", 10, 80, 100}});
  auto cand = report({{"weights.rpc_ms", 10, 1250, 2100}, {"weights.queue_ms", 10, 40, 50}});
  ac::Options opt;
  opt.fail_on_regression_pct = 10;
  auto r = ac::compare_runs({run("main", base), run("branch", cand)}, opt);
  ASSERT_EQ(r.regressions.size(), 1u) << r.terminal;  // mean +25 %, p99 only +5 %, queue_ms better
  EXPECT_EQ(r.regressions[0],
            "branch: weights.rpc_ms mean 1000.0 → 1250.0 ms (+25.0 %, worse than 10 %)");
  EXPECT_TRUE(r.json["regressed"].get<bool>());
  EXPECT_TRUE(change(r, "weights.rpc_ms", 1, "mean")["regression"].get<bool>());
  EXPECT_FALSE(change(r, "weights.rpc_ms", 1, "p99")["regression"].get<bool>());
  EXPECT_TRUE(change(r, "weights.rpc_ms", 1, "p99")["worse"].get<bool>());
  EXPECT_NE(r.verdict.find("regressions over 10 %: rpc_ms mean +25.0 %"), std::string::npos)
      << r.verdict;
  EXPECT_NE(r.markdown.find("**+250.0 (+25.0 %)**"), std::string::npos) << r.markdown;
  EXPECT_NE(r.terminal.find("+25.0 % !"), std::string::npos) << r.terminal;
}

TEST(CompareGate, DoesNotTripWithinPctOrWhenBetter) {
  auto base =
      report({{"weights.rpc_ms", 10, 1000, 2000}, {"rollout.trunc_pct", 10, 5, 9, "good", "%"}});
  auto cand =
      report({{"weights.rpc_ms", 10, 1250, 2100}, {"rollout.trunc_pct", 10, 2, 3, "good", "%"}});
  ac::Options opt;
  opt.fail_on_regression_pct = 30;
  auto r = ac::compare_runs({run("main", base), run("branch", cand)}, opt);
  EXPECT_TRUE(r.regressions.empty());
  EXPECT_FALSE(r.json["regressed"].get<bool>());
  EXPECT_NE(r.verdict.find("no regression over 30 %"), std::string::npos) << r.verdict;
  // The same runs the other way round: truncation 2 -> 5 % is +150 %, up is bad.
  auto back = ac::compare_runs({run("main", cand), run("branch", base)}, opt);
  ASSERT_EQ(back.regressions.size(), 2u);  // trunc_pct mean and p99
  EXPECT_NE(back.regressions[0].find("rollout.trunc_pct mean 2.0 → 5.0 % (+150.0 %"),
            std::string::npos)
      << back.regressions[0];
}

TEST(CompareGate, NeutralMetricNeverRegresses) {
  auto base =
      report({{"gen.inflight", 10, 32, 40, "", ""}, {"rollout.staleness", 10, 1, 1, "good", ""}});
  auto cand = report(
      {{"gen.inflight", 10, 128, 140, "", ""}, {"rollout.staleness", 10, 2, 3, "warning", ""}});
  ac::Options opt;
  opt.fail_on_regression_pct = 0;
  auto r = ac::compare_runs({run("a", base), run("b", cand)}, opt);
  ASSERT_EQ(r.regressions.size(), 2u);
  for (const auto& line : r.regressions)
    EXPECT_NE(line.find("rollout.staleness"), std::string::npos) << line;
  EXPECT_FALSE(change(r, "gen.inflight", 1, "mean")["worse"].get<bool>());
  EXPECT_EQ(r.json["metrics"]["gen.inflight"]["bad_direction"], "none");
}

TEST(CompareZero, BaselineZeroHasNoPercentAndIsNotGated) {
  auto base = report({{"rollout.trunc_pct", 10, 0, 0, "good", "%"}});
  auto cand = report({{"rollout.trunc_pct", 10, 4.5, 12, "good", "%"}});
  ac::Options opt;
  opt.fail_on_regression_pct = 0;
  auto r = ac::compare_runs({run("a", base), run("b", cand)}, opt);
  const auto& mean = change(r, "rollout.trunc_pct", 1, "mean");
  EXPECT_TRUE(mean["pct"].is_null());
  EXPECT_DOUBLE_EQ(mean["abs"].get<double>(), 4.5);
  EXPECT_TRUE(mean["worse"].get<bool>());
  EXPECT_FALSE(mean["regression"].get<bool>());
  EXPECT_TRUE(r.regressions.empty());
  EXPECT_NE(r.markdown.find("+4.5 (n/a)"), std::string::npos) << r.markdown;
  EXPECT_NE(r.verdict.find("trunc_pct mean 0.0 → 4.5 % (baseline 0)"), std::string::npos)
      << r.verdict;
}

TEST(CompareZero, CountZeroIsMissingNotZero) {
  auto base = report({{"weights.queue_ms", 10, 500, 900}, {"ckpt.wait_ms", 5, 100, 200}});
  auto cand = report({{"weights.queue_ms", 10, 400, 800}, {"ckpt.wait_ms", 0, 0, 0}});
  auto r = ac::compare_runs({run("a", base), run("b", cand)}, ac::Options{});
  const auto& cell = r.json["metrics"]["ckpt.wait_ms"]["runs"][1];
  EXPECT_FALSE(cell["present"].get<bool>());
  EXPECT_TRUE(cell["mean"].is_null());
  EXPECT_TRUE(cell["change"].is_null());
  ASSERT_EQ(r.json["missing"].size(), 1u);
  EXPECT_EQ(r.json["missing"][0]["metric"], "ckpt.wait_ms");
  EXPECT_EQ(r.json["missing"][0]["missing_in"][0]["why"], "no samples");
}

// report.json lists every metric, those without samples as {"count": 0, "status": null, "unit"}:
// such a metric is neither a change nor a regression (even under a 0 % gate), it is missing
// where another run has it, and a metric no run has samples of is not a row at all.
TEST(CompareZero, MetricsListedWithoutSamplesAreNeitherChangesNorRegressions) {
  auto none = [](const std::string& unit) {
    return json{{"count", 0}, {"status", nullptr}, {"unit", unit}};
  };
  auto a = report({{"weights.queue_ms", 10, 500, 900}});
  a["metrics"]["ckpt.write_ms"] = none("ms");
  a["metrics"]["gen.inflight"] = none("");
  auto b = report({{"weights.queue_ms", 10, 400, 800}, {"ckpt.write_ms", 10, 9000, 9900}});
  b["metrics"]["gen.inflight"] = none("");
  ac::Options opt;
  opt.fail_on_regression_pct = 0;
  auto r = ac::compare_runs({run("a", a), run("b", b)}, opt);
  EXPECT_TRUE(r.regressions.empty()) << r.regressions.front();
  EXPECT_FALSE(r.json["metrics"].contains("gen.inflight")) << r.json["metrics"].dump();
  const auto& base = r.json["metrics"]["ckpt.write_ms"]["runs"][0];
  EXPECT_FALSE(base["present"].get<bool>());
  EXPECT_TRUE(r.json["metrics"]["ckpt.write_ms"]["runs"][1]["change"].is_null());
  ASSERT_EQ(r.json["missing"].size(), 1u) << r.json["missing"].dump();
  EXPECT_EQ(r.json["missing"][0]["metric"], "ckpt.write_ms");
  EXPECT_EQ(r.json["missing"][0]["missing_in"][0]["run"], "a");
  EXPECT_EQ(r.json["missing"][0]["missing_in"][0]["why"], "no samples");
  EXPECT_EQ(r.terminal.find("gen.inflight"), std::string::npos) << r.terminal;
  EXPECT_EQ(r.markdown.find("### gen.inflight"), std::string::npos) << r.markdown;
  // The other way round (samples in the baseline only): the same, no change and no regression.
  // (queue_ms did get worse that way: that is the one regression.)
  auto back = ac::compare_runs({run("b", b), run("a", a)}, opt);
  ASSERT_EQ(back.regressions.size(), 2u);
  for (const auto& line : back.regressions)
    EXPECT_NE(line.find("a: weights.queue_ms "), std::string::npos) << line;
  EXPECT_TRUE(back.json["metrics"]["ckpt.write_ms"]["runs"][1]["change"].is_null());

  // No run with a queue_ms sample: seed 002's criterion is not quoted over nothing.
  auto c = report({{"ckpt.write_ms", 10, 800, 900}});
  c["metrics"]["weights.queue_ms"] = none("ms");
  auto q = ac::compare_runs({run("c", c), run("c2", c)}, ac::Options{});
  EXPECT_TRUE(q.json["checks"].empty()) << q.json["checks"].dump();
  EXPECT_EQ(q.verdict.find("success criterion"), std::string::npos) << q.verdict;
}

TEST(CompareMissing, ComparesSharedMetricsAndSaysWhatIsMissingWhere) {
  auto with_trainer = report({{"weights.queue_ms", 10, 500, 900}, {"ckpt.write_ms", 10, 800, 900}});
  auto no_trainer = report({{"weights.queue_ms", 10, 250, 450}}, {}, {"orchestrator"});
  auto only_trainer = report({{"ckpt.write_ms", 10, 1600, 1800}}, {}, {"trainer"});
  ac::Options opt;
  opt.fail_on_regression_pct = 50;
  auto r = ac::compare_runs(
      {run("full", with_trainer), run("orch", no_trainer), run("trainer", only_trainer)}, opt);
  ASSERT_EQ(r.json["missing"].size(), 2u);
  EXPECT_EQ(r.json["missing"][0]["metric"], "weights.queue_ms");
  EXPECT_EQ(r.json["missing"][0]["missing_in"][0]["run"], "trainer");
  EXPECT_EQ(r.json["missing"][0]["missing_in"][0]["why"], "no orchestrator log among its inputs");
  EXPECT_EQ(r.json["missing"][1]["metric"], "ckpt.write_ms");
  EXPECT_EQ(r.json["missing"][1]["missing_in"][0]["why"], "no trainer log among its inputs");
  EXPECT_NEAR(change(r, "weights.queue_ms", 1, "mean")["pct"].get<double>(), -50.0, 1e-9);
  ASSERT_EQ(r.regressions.size(), 2u);  // write_ms mean and p99 doubled in "trainer"
  EXPECT_NE(r.regressions[0].find("trainer: ckpt.write_ms mean"), std::string::npos);
  EXPECT_NE(r.terminal.find("ckpt.write_ms: missing in orch (no trainer log among its inputs)"),
            std::string::npos)
      << r.terminal;
  // Three runs: the verdict names each run.
  EXPECT_EQ(r.verdict.substr(0, r.verdict.find(';')),
            "queue_ms mean 500.0 ms (full) → 250.0 ms (orch, \u221250.0 %), missing (trainer)");
}

TEST(CompareMissing, NoSharedMetric) {
  auto a = report({{"weights.queue_ms", 10, 500, 900}});
  auto b = report({{"ckpt.write_ms", 10, 800, 900}});
  auto r = ac::compare_runs({run("a", a), run("b", b)}, ac::Options{});
  EXPECT_EQ(r.verdict.substr(0, r.verdict.find(';')), "no metric shared with the baseline (a)");
  auto r2 = ac::compare_runs({run("b", b), run("a", a)}, ac::Options{});
  EXPECT_EQ(r2.verdict.substr(0, r2.verdict.find(';')), "no metric shared with the baseline (b)");
}

TEST(CompareDiagnoses, AppearedResolvedAndChanged) {
  auto a = report({{"weights.queue_ms", 10, 500, 900}},
                  {{"queue_saturation", "critical"}, {"ckpt_stall", "warning"}});
  auto b = report({{"weights.queue_ms", 10, 50, 90}},
                  {{"ckpt_stall", "critical"}, {"slow_weight_load", "warning"}});
  auto r = ac::compare_runs({run("a", a), run("b", b)}, ac::Options{});
  const auto& d = r.json["diagnoses"][0];
  EXPECT_EQ(d["run"], "b");
  EXPECT_EQ(d["resolved"][0]["id"], "queue_saturation");
  EXPECT_EQ(d["appeared"][0]["id"], "slow_weight_load");
  EXPECT_EQ(d["changed"][0]["id"], "ckpt_stall");
  EXPECT_EQ(d["changed"][0]["from"], "warning");
  EXPECT_EQ(d["changed"][0]["to"], "critical");
  EXPECT_NE(r.verdict.find("resolved: queue_saturation; new: slow_weight_load (warning)"),
            std::string::npos)
      << r.verdict;
}

TEST(CompareChecks, BaselineFailureDoesNotFailTheComparison) {
  auto a = report({{"weights.queue_ms", 10, 28453.2, 30840}});
  auto b = report({{"weights.queue_ms", 10, 87.2, 150}});
  ac::Options opt;
  opt.expect = {"weights.queue_ms.p99<300"};
  auto r = ac::compare_runs({run("a", a), run("b", b)}, opt);
  EXPECT_FALSE(r.checks_failed);
  EXPECT_FALSE(r.json["checks"][0]["results"][0]["passed"].get<bool>());
  EXPECT_TRUE(r.json["checks"][0]["results"][1]["passed"].get<bool>());
  EXPECT_NE(r.verdict.find("success criterion p99 < 300 ms: met"), std::string::npos);

  opt.expect = {"weights.queue_ms.p99<100", "weights.queue_ms.count>=5"};
  auto f = ac::compare_runs({run("a", a), run("b", b)}, opt);
  EXPECT_TRUE(f.checks_failed);
  EXPECT_NE(
      f.verdict.find("success criteria p99 < 100 ms: not met (p99 150.0 ms), count >= 5: met"),
      std::string::npos)
      << f.verdict;

  opt.expect = {"ckpt.wait_ms.mean<500"};  // no run has it: fails, says so
  auto g = ac::compare_runs({run("a", a), run("b", b)}, opt);
  EXPECT_TRUE(g.checks_failed);
  EXPECT_NE(g.verdict.find("wait_ms mean < 500: not met (no samples)"), std::string::npos)
      << g.verdict;

  opt.expect = {"weights.queue_ms.p42<1"};
  EXPECT_THROW(ac::compare_runs({run("a", a), run("b", b)}, opt), std::invalid_argument);
}

TEST(CompareOptions, BadArgumentsAreUsageErrors) {
  auto a = report({{"weights.queue_ms", 10, 500, 900}});
  ac::Options opt;
  EXPECT_THROW(ac::compare_runs({run("a", a)}, opt), std::invalid_argument);
  opt.baseline = 2;
  try {
    ac::compare_runs({run("a", a), run("b", a)}, opt);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--baseline 3: only 2 runs given");
  }
  opt.baseline = 0;
  opt.fail_on_regression_pct = -5;
  EXPECT_THROW(ac::compare_runs({run("a", a), run("b", a)}, opt), std::invalid_argument);
}

TEST(CompareOptions, BaselineCanBeAnyRun) {
  auto a = report({{"weights.queue_ms", 10, 100, 200}});
  auto b = report({{"weights.queue_ms", 10, 200, 400}});
  ac::Options opt;
  opt.baseline = 1;
  auto r = ac::compare_runs({run("a", a), run("b", b)}, opt);
  EXPECT_EQ(r.json["baseline"]["label"], "b");
  EXPECT_NEAR(change(r, "weights.queue_ms", 0, "mean")["pct"].get<double>(), -50.0, 1e-9);
  EXPECT_TRUE(r.json["metrics"]["weights.queue_ms"]["runs"][1]["change"].is_null());
  EXPECT_EQ(r.verdict.substr(0, r.verdict.find(';')),
            "queue_ms mean 200.0 → 100.0 ms (\u221250.0 %)");
}

TEST(CompareEscaping, HostileLabelsAndSummaries) {
  auto a = report({{"weights.queue_ms", 10, 500, 900}});
  auto b = report({{"weights.queue_ms", 10, 50, 90}}, {{"x|y", "warning"}});
  b["diagnoses"][0]["summary"] = "evil \x1b[31mred\x1b[0m | `code` <script>";
  auto r = ac::compare_runs({run("a|b", a), run("c\x1b[2Jd", b)}, ac::Options{});
  EXPECT_EQ(r.markdown.find("\x1b"), std::string::npos);
  EXPECT_EQ(r.terminal.find("\x1b"), std::string::npos);
  EXPECT_NE(r.markdown.find("a\\|b"), std::string::npos);
  EXPECT_NE(r.markdown.find("&lt;script&gt;"), std::string::npos) << r.markdown;
  EXPECT_EQ(r.markdown.find("<script>"), std::string::npos);
  EXPECT_NE(r.terminal.find("c\\x1B[2Jd"), std::string::npos) << r.terminal;
  // Duplicate labels given by hand are numbered.
  auto d = ac::compare_runs({run("same", a), run("same", b)}, ac::Options{});
  EXPECT_EQ(d.json["runs"][1]["label"], "same (2)");
}

TEST(CompareGate, ExactlyThePctDoesNotTrip) {
  auto base = report({{"weights.rpc_ms", 10, 1000, 2000}});
  auto cand = report({{"weights.rpc_ms", 10, 1100, 2200}});
  ac::Options opt;
  opt.fail_on_regression_pct = 10;
  EXPECT_TRUE(ac::compare_runs({run("a", base), run("b", cand)}, opt).regressions.empty());
  opt.fail_on_regression_pct = 9.9;
  EXPECT_EQ(ac::compare_runs({run("a", base), run("b", cand)}, opt).regressions.size(), 2u);
}

TEST(CompareDiagnoses, ManyRunsSayWhereWhenTheyDiffer) {
  auto a = report({{"weights.queue_ms", 10, 500, 900}}, {{"queue_saturation", "critical"}});
  auto fixed = report({{"weights.queue_ms", 10, 50, 90}});
  auto still = report({{"weights.queue_ms", 10, 450, 800}}, {{"queue_saturation", "critical"}});
  auto r = ac::compare_runs({run("a", a), run("fixed", fixed), run("still", still)}, ac::Options{});
  EXPECT_NE(r.verdict.find("; resolved in fixed: queue_saturation"), std::string::npos)
      << r.verdict;
  EXPECT_NE(r.verdict.find("met by fixed; not met by still (p99 800.0 ms)"), std::string::npos)
      << r.verdict;
  auto same =
      ac::compare_runs({run("a", a), run("fixed", fixed), run("fixed too", fixed)}, ac::Options{});
  EXPECT_TRUE(same.verdict.ends_with("; resolved: queue_saturation")) << same.verdict;
  EXPECT_EQ(same.json["metrics"]["weights.queue_ms"]["runs"][1]["count"], 10);
}

TEST(CompareRuns, StepTimeBesideQueueMs) {
  // The step budget's wall time (docs/STEPS.md) is in the verdict beside the headline metric, and
  // a slower step is a regression like any duration.
  auto before = report({{"weights.queue_ms", 10, 500, 600, "good"}, {"step.orchestrator_s", 40, 34.2, 40, "", "s"}});
  auto after = report({{"weights.queue_ms", 10, 400, 500, "good"}, {"step.orchestrator_s", 40, 22.8, 30, "", "s"}});
  auto r = ac::compare_runs({run("before", before), run("after", after)}, ac::Options{});
  EXPECT_NE(r.verdict.find("queue_ms mean 500.0 → 400.0 ms (\u221220.0 %); step time mean 34.2 → 22.8 s (\u221233.3 %)"),
            std::string::npos)
      << r.verdict;
  EXPECT_EQ(ac::bad_direction("step.orchestrator_s"), ac::Bad::up);
  EXPECT_EQ(ac::bad_direction("step.max_off_policy"), ac::Bad::none);
  ac::Options gate;
  gate.fail_on_regression_pct = 10.0;
  auto worse = ac::compare_runs({run("after", after), run("before", before)}, gate);
  bool found = false;
  for (const auto& h : worse.regressions) found |= h.find("step.orchestrator_s") != std::string::npos;
  EXPECT_TRUE(found) << ::testing::PrintToString(worse.regressions);
}
