// The step budget (docs/STEPS.md): the untagged step-summary lines of every prime-rl version and
// metrics.jsonl rows read into events, paired by step number into per-step budgets, summarised
// as step.* metrics, and the throughput verdict. The runs in testdata/steps/ are written by
// testdata/gen/make_steps.py with budgets known exactly (expected.json, computed from the
// simulated parts, not by parsing).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze_logs/parse.hpp"
#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/model.hpp"
#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kSteps = fs::path(ALOG_TESTDATA) / "steps";

struct Parsed {
  parse::Result r;
  Event ev;
};

Parsed seg(std::string_view s) {
  static parse::Scratch scratch;
  Parsed p;
  p.r = parse::parse_segment(s, p.ev, scratch);
  return p;
}

Report run(const std::vector<std::string>& inputs, size_t max_updates = 150000) {
  AnalysisOptions opt;
  opt.inputs = inputs;
  opt.max_updates = max_updates;
  Report r = analyze(opt);
  diagnose(r);
  return r;
}

json expected(const std::string& name) {
  std::ifstream f(kSteps / name / "expected.json");
  return json::parse(f);
}

const StepRecord* find_step(const Report& r, int64_t n) {
  for (const auto& s : r.steps.steps)
    if (s.step == n) return &s;
  return nullptr;
}

// Every part of every expected step, exactly (the values were printed with their digits).
void expect_budget(const Report& r, const json& exp) {
  ASSERT_EQ(r.steps.steps.size(), exp["steps"].size());
  for (const auto& e : exp["steps"]) {
    int64_t n = e["step"].get<int64_t>();
    SCOPED_TRACE(fmt::format("step {}", n));
    const StepRecord* s = find_step(r, n);
    ASSERT_NE(s, nullptr);
    auto check = [&](const char* key, const OptDouble& v) {
      if (!e.contains(key) || e[key].is_null()) {
        if (std::string(key) == "save_s") return;  // lines carry no save time
        EXPECT_FALSE(v.has_value()) << key;
        return;
      }
      ASSERT_TRUE(v.has_value()) << key;
      EXPECT_NEAR(*v, e[key].get<double>(), 1e-9) << key;
    };
    check("orchestrator_s", s->orch_s);
    check("wait_for_trainer_s", s->wait_s);
    check("weight_update_s", s->update_s);
    check("eval_s", s->eval_s);
    check("generation_s", s->gen_s);
    check("trainer_s", s->trainer_s);
    check("trainer_idle_s", s->idle_s);
    check("compute_s", s->compute_s);
    check("broadcast_s", s->broadcast_s);
    check("save_s", s->save_s);
  }
}

const Diagnosis* finding(const Report& r, std::string_view id) {
  for (const auto& d : r.diagnoses)
    if (d.id == id) return &d;
  return nullptr;
}

}  // namespace

// ---- Lines ---------------------------------------------------------------------------------

TEST(StepLines, V05OrchestratorLineWithTimeAndLevels) {
  auto p = seg("12:01:07 SUCCESS Step 12 | Time: 34.21s | Reward: 0.4123 | Val. Reward: 0.5 | Throughput: 2408.9 "
               "tokens/s | Seq. Length: 845.6 tokens/sample | Async Level: 1 | Max. Off-Policy Level: 0");
  ASSERT_EQ(p.r.outcome, parse::Outcome::event);
  EXPECT_EQ(p.ev.op, Op::step_orch);
  EXPECT_EQ(p.ev.get(Field::step), 12);
  EXPECT_EQ(p.ev.get(Field::secs), 34.21);
  EXPECT_EQ(p.ev.get(Field::async_level), 1);
  EXPECT_EQ(p.ev.get(Field::max_off_policy), 0);
  EXPECT_EQ(p.ev.get(Field::shape), 5);
  EXPECT_EQ(p.ev.tod, 12 * 3600 + 67);
}

TEST(StepLines, V06ShapesWithRightAlignedDurations) {
  auto o = seg("12:01:07 SUCCESS Step 12 |   34.2s | Reward 0.4123 | Trainable 240/256 (93.8%) | Turns 1.0 | "
               "Max Off-Policy 1 | Error 0.0% | Truncation 2.3%");
  ASSERT_EQ(o.r.outcome, parse::Outcome::event);
  EXPECT_EQ(o.ev.op, Op::step_orch);
  EXPECT_EQ(o.ev.get(Field::secs), 34.2);
  EXPECT_EQ(o.ev.get(Field::max_off_policy), 1);
  EXPECT_EQ(o.ev.get(Field::shape), 6);
  auto b = seg("12:01:07 SUCCESS Step 1 |   34.2s | Reward 0.4 | Turns 1.0 | Branches 1.0 | Max Off-Policy 2");
  EXPECT_EQ(b.ev.get(Field::shape), 7);
  auto t = seg("[trainer0]:12:01:29 SUCCESS Step 12 |   21.1s | Loss 0.0012 | Entropy 0.4511 | Mismatch KL 0.0008 | "
               "Grad. Norm 0.2101 | LR 1.00e-06 | Throughput 9120 tokens/s | MFU 31.4% | Peak Mem. 61.2 GiB");
  ASSERT_EQ(t.r.outcome, parse::Outcome::event);
  EXPECT_EQ(t.ev.op, Op::step_trainer);
  EXPECT_EQ(t.ev.get(Field::secs), 21.1);
  EXPECT_EQ(parse::parse_duration("  850ms"), 0.85);
  EXPECT_EQ(parse::parse_duration(" 2m 5s"), 125.0);
  EXPECT_EQ(parse::parse_duration("  1h 3m"), 3780.0);
  EXPECT_EQ(parse::parse_duration("  1d 2h"), 93600.0);
  EXPECT_FALSE(parse::parse_duration("  2x"));
  EXPECT_FALSE(parse::parse_duration(""));
}

TEST(StepLines, TheOtherLinesOfTheBudget) {
  auto r = seg("12:00:13    INFO Orchestrator resumed: checkpoint 12 ready (after 5.43s)");
  EXPECT_EQ(r.ev.op, Op::orch_waited);
  EXPECT_EQ(r.ev.get(Field::secs), 5.43);
  EXPECT_EQ(r.ev.get(Field::step), 12);
  EXPECT_EQ(seg("12:00:13   DEBUG Waited for checkpoint 12 for 5.43s").ev.op, Op::orch_waited);
  auto u = seg("12:00:13   DEBUG Updated weights to step 12 in 1.20s");
  EXPECT_EQ(u.ev.op, Op::orch_updated);
  EXPECT_EQ(u.ev.get(Field::secs), 1.2);
  auto e5 = seg("12:00:13 SUCCESS Evaluated gsm8k in 41.27s (Avg@4=0.6120, Pass@4=0.7)");
  EXPECT_EQ(e5.ev.op, Op::orch_eval);
  EXPECT_EQ(e5.ev.get(Field::secs), 41.27);
  auto e6 = seg("12:00:13 SUCCESS Evaluated gsm8k (Step 20) | Policy v19 |   41.3s | Reward 0.6120 | Turns 1.0");
  EXPECT_EQ(e6.ev.op, Op::orch_eval);
  EXPECT_EQ(e6.ev.get(Field::secs), 41.3);
  EXPECT_EQ(e6.ev.get(Field::step), 20);
  auto w = seg("[trainer0]:12:00:13   DEBUG Waited for batch to arrive for 12.40 seconds");
  EXPECT_EQ(w.ev.op, Op::trainer_waited);
  EXPECT_EQ(w.ev.get(Field::secs), 12.4);
  EXPECT_EQ(seg("12:00:13   DEBUG Weights broadcasted in 3.10s").ev.get(Field::secs), 3.1);
  auto c = seg("12:00:13    INFO Saving checkpoint at step 12");
  EXPECT_EQ(c.ev.op, Op::ckpt_saving);
  EXPECT_EQ(c.ev.get(Field::step), 12);
  // v0.8 dropped the duration of `resumed`: not an event (the wait comes from metrics.jsonl).
  EXPECT_EQ(seg("12:00:13    INFO Orchestrator resumed: checkpoint 12 ready").r.outcome, parse::Outcome::none);
}

TEST(StepLines, JsonLinesModeAndTqdmTextBeforeTheRecord) {
  auto j = seg(R"({"timestamp": "2025-10-14T18:30:48.500000+00:00", "level": "SUCCESS", "message": "Step 42 | Time: 34.21s | Reward: 0.43"})");
  ASSERT_EQ(j.r.outcome, parse::Outcome::event);
  EXPECT_EQ(j.ev.op, Op::step_orch);
  EXPECT_EQ(j.ev.get(Field::secs), 34.21);
  auto q = seg("Generating rollouts (train): 100%|##########| 256/256 [00:18<00:00]12:01:07 SUCCESS Step 3 | Time: 4.50s | Reward: 0.4");
  ASSERT_EQ(q.r.outcome, parse::Outcome::event);
  EXPECT_EQ(q.ev.get(Field::step), 3);
  EXPECT_EQ(q.ev.get(Field::secs), 4.5);
}

TEST(StepLines, NotStepLinesAndBrokenOnes) {
  // No Reward/Loss: some other `Step` text. A multi-env line is part of the record, not a step.
  EXPECT_EQ(seg("12:01:07 SUCCESS Step 42 | Time: 2.35s").r.outcome, parse::Outcome::none);
  EXPECT_EQ(seg("\t\t ╰─ gsm8k | Ratio 50.0% | Reward 0.4400 | Step 9 | Truncation 2.0%").r.outcome, parse::Outcome::none);
  EXPECT_EQ(seg("12:01:07    INFO Starting orchestrator step 12").r.outcome, parse::Outcome::none);
  EXPECT_EQ(seg("12:01:07    INFO Step into the loop").r.outcome, parse::Outcome::none);
  // A step summary whose duration cannot be read is skipped and counted, not guessed.
  auto bad = seg("12:01:07 SUCCESS Step 12 | Time: abcs | Reward: 0.4");
  EXPECT_EQ(bad.r.outcome, parse::Outcome::skipped);
  EXPECT_EQ(bad.r.reason, SkipReason::bad_number);
}

TEST(StepLines, MetricsJsonlRows) {
  auto m = seg(R"({"step": 12, "time": 1780000000.5, "time/step": 21.07, "time/wait_for_batch": 0.2, "time/forward_backward": 18.5})");
  ASSERT_EQ(m.r.outcome, parse::Outcome::event);
  EXPECT_EQ(m.ev.op, Op::metrics_row);
  EXPECT_EQ(m.ev.get(Field::step), 12);
  EXPECT_EQ(m.ev.get(Field::m_step), 21.07);
  EXPECT_EQ(m.ev.get(Field::m_fwd_bwd), 18.5);
  // A row of other keys is neither an event nor a skip; a record with no message and no step is
  // a bad JSON-lines record, as before.
  EXPECT_EQ(seg(R"({"step": 12, "perf/mfu": 31.4})").r.outcome, parse::Outcome::none);
  EXPECT_EQ(seg(R"({"level": "INFO"})").r.reason, SkipReason::bad_json);
  EXPECT_EQ(seg(R"({"step": 12, "time/step": "x"})").r.outcome, parse::Outcome::skipped);
}

// ---- The bundled runs ----------------------------------------------------------------------

TEST(StepBudget, V05TrainerBoundWithBlockingEvals) {
  Report r = run({(kSteps / "v05_trainer_bound").string()});
  json exp = expected("v05_trainer_bound");
  expect_budget(r, exp);
  EXPECT_EQ(r.steps.era, "v0.5");
  EXPECT_TRUE(r.steps.zero_based);
  EXPECT_FALSE(r.steps.trainer_timer_includes_handover);
  EXPECT_EQ(r.steps.orch_source, StepSource::lines);
  EXPECT_EQ(r.steps.paired, 10u);
  EXPECT_TRUE(find_step(r, 5)->ckpt);
  // Statistics: the evals on steps 3 and 7 make the wall time's mean (10 steps of 31.7 s, two of
  // them 41.27 s longer) and its maximum.
  const MetricReport* o = r.metric("step.orchestrator_s");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->stats.count, 10u);
  EXPECT_NEAR(o->stats.mean, (10 * 31.7 + 2 * 41.27) / 10, 1e-9);
  EXPECT_NEAR(o->stats.max, 72.97, 1e-9);
  EXPECT_NEAR(r.metric("step.eval_s")->stats.p90, 41.27, 1e-9);  // numpy: between the 9th and 10th of 10
  EXPECT_NEAR(r.metric("step.eval_s")->stats.p50, 0.0, 1e-9);
  EXPECT_NEAR(r.metric("step.wait_for_trainer_s")->stats.mean, 12.5, 1e-9);
  EXPECT_NEAR(r.metric("step.trainer_s")->stats.mean, 31.4, 1e-9);  // 0.3 + 28.7 + 2.4 broadcast
  EXPECT_NEAR(r.metric("step.max_off_policy")->stats.max, 1, 1e-9);
  // The verdict and its estimate: the orchestrator's own work is its step less the wait.
  EXPECT_EQ(r.steps.bound, StepBound::trainer);
  EXPECT_NEAR(r.steps.estimate_s, r.steps.orch_s - 12.5, 1e-9);
  const Diagnosis* d = finding(r, "steps.trainer_bound");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->fix.find("async_level"), std::string::npos);
  EXPECT_NE(d->summary.find("trainer-bound"), std::string::npos);
  EXPECT_GE(d->evidence.size(), 3u);
}

TEST(StepBudget, V06InferenceBoundWithMinuteDurations) {
  Report r = run({(kSteps / "v06_inference_bound").string()});
  expect_budget(r, expected("v06_inference_bound"));
  EXPECT_EQ(r.steps.era, "v0.6");
  EXPECT_FALSE(r.steps.trainer_timer_includes_handover);
  EXPECT_EQ(r.steps.bound, StepBound::inference);
  // The trainer's busy time (compute 30 s + broadcast 1 s) is the floor.
  EXPECT_NEAR(r.steps.estimate_s, 31.0, 1e-9);
  EXPECT_NEAR(r.steps.orch_s, (125.0 + 64.0) / 2, 1e-9);
  const Diagnosis* d = finding(r, "steps.inference_bound");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->fix.find("inference replicas"), std::string::npos);
}

TEST(StepBudget, V07HandoverBoundTrainerLogStartsLater) {
  Report r = run({(kSteps / "v07_handover").string()});
  expect_budget(r, expected("v07_handover"));
  EXPECT_EQ(r.steps.era, "v0.7+");
  EXPECT_TRUE(r.steps.trainer_timer_includes_handover);
  EXPECT_FALSE(r.steps.zero_based);
  // Steps 1 and 2 have only the orchestrator's half; the multi-env lines added no step.
  EXPECT_FALSE(find_step(r, 1)->paired());
  EXPECT_EQ(r.steps.paired, 8u);
  EXPECT_EQ(find_step(r, 99), nullptr);
  EXPECT_EQ(r.steps.bound, StepBound::handover);
  // Without update (9 s) and broadcast (9.5 s): 23.5 - 18.5 = 5 s, but generation (14 s) and
  // compute (13.5 s) stay: 14 s.
  EXPECT_NEAR(r.steps.estimate_s, 14.0, 1e-9);
  ASSERT_NE(finding(r, "steps.handover_bound"), nullptr);
}

TEST(StepBudget, V08SameAnswerFromLinesAndFromMetricsJsonl) {
  fs::path dir = kSteps / "v08_metrics";
  json exp = expected("v08_metrics");
  Report lines = run({(dir / "logs/orchestrator.log").string(), (dir / "logs/trainer.log").string()});
  Report metrics = run({(dir / "metrics/orchestrator/metrics.jsonl").string(), (dir / "metrics/trainer/metrics.jsonl").string()});
  Report both = run({dir.string()});
  expect_budget(metrics, exp);
  expect_budget(both, exp);
  EXPECT_EQ(lines.steps.orch_source, StepSource::lines);
  EXPECT_EQ(metrics.steps.orch_source, StepSource::metrics);
  EXPECT_EQ(both.steps.trainer_source, StepSource::metrics);  // preferred when present
  EXPECT_EQ(both.steps.era, "v0.8 (metrics.jsonl)");
  EXPECT_EQ(metrics.steps.metrics_rows, 7u + 8u);  // rows with time/* keys; perf/* rows are not read
  // Step 4 has no orchestrator half in either source: 7 paired steps.
  EXPECT_FALSE(find_step(both, 4)->paired());
  for (const Report* r : {&lines, &metrics, &both}) EXPECT_EQ(r->steps.paired, 7u);
  // The trainer's parts and the orchestrator's wall are the same from either source.
  for (const char* m : {"step.orchestrator_s", "step.trainer_s", "step.trainer_idle_s", "step.compute_s",
                        "step.broadcast_s"}) {
    SCOPED_TRACE(m);
    ASSERT_NE(lines.metric(m), nullptr);
    ASSERT_NE(metrics.metric(m), nullptr);
    EXPECT_NEAR(metrics.metric(m)->stats.mean, lines.metric(m)->stats.mean, 1e-9);
    EXPECT_NEAR(metrics.metric(m)->stats.p90, lines.metric(m)->stats.p90, 1e-9);
    EXPECT_EQ(metrics.metric(m)->stats.count, lines.metric(m)->stats.count);
  }
  // v0.8 dropped the `(after Xs)` of the resume line: the wait for the trainer (9 s of 20.5 s)
  // is only in metrics.jsonl, so only with it is the run seen as trainer-bound.
  EXPECT_NEAR(lines.metric("step.wait_for_trainer_s")->stats.max, 0.0, 1e-9);
  for (const Report* r : {&metrics, &both}) {
    EXPECT_NEAR(r->metric("step.wait_for_trainer_s")->stats.mean, 9.0, 1e-9);
    EXPECT_EQ(r->steps.bound, StepBound::trainer);
    EXPECT_NEAR(r->steps.estimate_s, 11.5, 1e-9);
  }
  EXPECT_EQ(lines.steps.bound, StepBound::none);
}

TEST(StepBudget, TableIsCappedAndCounted) {
  // Memory stays bounded: beyond --max-updates steps are counted, not kept.
  test_support::TempDir dir;
  std::string orch;
  for (int n = 0; n < 3000; ++n) orch += fmt::format("12:00:00 SUCCESS Step {} |   10.0s | Reward 0.1\n", n);
  fs::path p = dir.write("orchestrator.log", orch);
  Report r = run({p.string()}, 1000);
  EXPECT_EQ(r.steps.steps.size(), 1000u);
  EXPECT_EQ(r.steps.untracked, 2000u);
  EXPECT_EQ(r.steps.orch_lines, 3000u);
  EXPECT_EQ(r.metric("step.orchestrator_s")->stats.count, 1000u);
  EXPECT_EQ(r.inputs[0].counts.events, 0u);  // step lines are not tagged events
  EXPECT_EQ(r.inputs[0].counts.step_lines, 3000u);
}
