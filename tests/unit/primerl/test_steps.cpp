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
#include "analyze_logs/primerl/steps.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/scan.hpp"
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
  // v0.8 dropped the duration of `resumed`: an event without one (the gap from the pause line,
  // by the time of day, is the wait).
  auto rn = seg("12:00:13    INFO Orchestrator resumed: checkpoint 12 ready");
  EXPECT_EQ(rn.ev.op, Op::orch_waited);
  EXPECT_FALSE(rn.ev.has(Field::secs));
  EXPECT_EQ(rn.ev.tod, 12 * 3600 + 13);
}

TEST(StepLines, PauseDispatcherHoldAndEvalStartLinesOfEveryVersion) {
  struct Case {
    const char* line;
    Op op;
  };
  const Case cases[] = {
      {"12:00:01    INFO Hit async barrier because we are >1 step(s) async. Waiting for checkpoint 12", Op::orch_pause},
      {"12:00:01    INFO Orchestrator paused: waiting for trainer process to complete checkpoint 12 (>1 step(s) "
       "ahead). Training is progressing normally.",
       Op::orch_pause},
      {"12:00:01    INFO Orchestrator paused: waiting for trainer to broadcast checkpoint 12 (orchestrator is one "
       "step ahead). Training is progressing normally.",
       Op::orch_pause},
      {"12:00:01    INFO Orchestrator paused: waiting for trainer to broadcast checkpoint 12. Training is progressing "
       "normally.",
       Op::orch_pause},
      {"12:00:01    INFO Pausing dispatcher to prevent orchestrator from racing from trainer. Waiting for new policy...",
       Op::dispatch_pause},
      {"12:00:01    INFO Resuming dispatcher", Op::dispatch_resume},
      {"12:00:01    INFO Holding batch 12 until the trainer publishes policy v10 (currently v9)", Op::orch_hold},
      {"12:00:01    INFO Starting evals in gsm8k (policy v19)", Op::eval_start},
      {"\x1b[2m12:00:01\x1b[0m \x1b[1m   INFO\x1b[0m \x1b[1mResuming dispatcher\x1b[0m", Op::dispatch_resume},
      {R"({"timestamp": "2026-07-01T12:00:01+00:00", "level": "INFO", "message": "Pausing dispatcher to prevent orchestrator from racing from trainer. Waiting for new policy..."})",
       Op::dispatch_pause},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    auto p = seg(c.line);
    ASSERT_EQ(p.r.outcome, parse::Outcome::event);
    EXPECT_EQ(p.ev.op, c.op);
    if (std::string_view(c.line).find("timestamp") == std::string_view::npos) {
      EXPECT_EQ(p.ev.tod, 12 * 3600 + 1);
    }
    // The scanner stops on these lines (its cheap byte test finds the word).
    std::string l = c.line;
    EXPECT_NE(scan::find_tag_close(l.data(), l.data(), l.data() + l.size()), nullptr);
  }
  EXPECT_EQ(seg("12:00:01    INFO Holding batch x until the trainer publishes").r.outcome, parse::Outcome::none);
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
  EXPECT_NEAR(r.steps.estimate_s, *r.steps.orch_s - 12.5, 1e-9);
  EXPECT_TRUE(r.steps.not_logged == std::vector<std::string>{"save_s"});
  const Diagnosis* d = finding(r, "trainer_bound");
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
  EXPECT_NEAR(*r.steps.orch_s, (125.0 + 64.0) / 2, 1e-9);
  const Diagnosis* d = finding(r, "inference_bound");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->fix.find("inference replicas"), std::string::npos);
  // No barrier, dispatcher, hold, update or eval lines in this log: those parts are not known,
  // never 0, in no statistic, and the text says they were not logged.
  EXPECT_FALSE(r.steps.wait_s.has_value());
  EXPECT_EQ(r.metric("step.wait_for_trainer_s"), nullptr);
  EXPECT_EQ(r.metric("step.weight_update_s"), nullptr);
  EXPECT_EQ(r.metric("step.eval_s"), nullptr);
  EXPECT_TRUE((r.steps.not_logged == std::vector<std::string>{"wait_for_trainer_s", "weight_update_s", "eval_s",
                                                             "save_s"}));
  EXPECT_NE(d->summary.find("the orchestrator's wait for the trainer is not logged"), std::string::npos) << d->summary;
  EXPECT_NE(d->evidence[1].note.find("not logged (not in the estimate): wait_for_trainer_s"), std::string::npos);
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
  // The watcher's pause lines (0.5 s) do not block from v0.6.0; the dispatcher's pauses do (1 s,
  // by the time of day); step 5's eval blocks 6 s.
  EXPECT_TRUE(r.steps.wait_from_gaps);
  EXPECT_NEAR(r.metric("step.wait_for_trainer_s")->stats.mean, 1.0, 1e-9);
  EXPECT_NEAR(*find_step(r, 5)->eval_s, 6.0, 1e-9);
  // Over the 8 paired steps: without update (9 s) and broadcast (9.5 s) 24.75 - 18.5 = 6.25 s, but
  // generation (14 s) and evals (6 s / 8) and compute (13.5 s) stay: 14.75 s.
  EXPECT_NEAR(r.steps.estimate_s, 14.75, 1e-9);
  ASSERT_NE(finding(r, "handover_bound"), nullptr);
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
  // The wait for the trainer (9 s of 20.5 s): `time/wait_for_policy` in metrics.jsonl, the hold
  // line to the step line in the log. Both give the same verdict and estimate.
  for (const Report* r : {&lines, &metrics, &both}) {
    EXPECT_NEAR(r->metric("step.wait_for_trainer_s")->stats.mean, 9.0, 1e-9);
    EXPECT_EQ(r->steps.bound, StepBound::trainer);
    EXPECT_NEAR(r->steps.estimate_s, 11.5, 1e-9);
  }
  EXPECT_TRUE(lines.steps.wait_from_gaps);
  EXPECT_FALSE(metrics.steps.wait_from_gaps);
}

TEST(StepBudget, TableIsCappedStatisticsCoverEveryStep) {
  // The table keeps --max-updates steps; the statistics cover all of them.
  test_support::TempDir dir;
  std::string orch;
  for (int n = 0; n < 3000; ++n) orch += fmt::format("12:00:00 SUCCESS Step {} |   {}.0s | Reward 0.1\n", n, n % 10);
  fs::path p = dir.write("orchestrator.log", orch);
  Report r = run({p.string()}, 1000);
  EXPECT_EQ(r.steps.steps.size(), 1000u);
  EXPECT_EQ(r.steps.total, 3000u);
  EXPECT_EQ(r.steps.table_omitted, 2000u);
  EXPECT_EQ(r.steps.untracked, 0u);
  EXPECT_EQ(r.steps.orch_lines, 3000u);
  EXPECT_EQ(r.metric("step.orchestrator_s")->stats.count, 3000u);
  EXPECT_NEAR(r.metric("step.orchestrator_s")->stats.mean, 4.5, 1e-9);
  EXPECT_EQ(r.inputs[0].counts.events, 0u);  // step lines are not tagged events
  EXPECT_EQ(r.inputs[0].counts.step_lines, 3000u);
}

TEST(StepBudget, MissingOptionalLinesAreNotLoggedNeverZero) {
  // A v0.5 run with no barrier, update, eval, batch-wait or broadcast lines (DEBUG off, or the
  // run never hit the barrier): those parts are unknown for every step, not 0.
  test_support::TempDir dir;
  std::string orch, tr;
  for (int n = 0; n < 5; ++n) {
    orch += fmt::format("12:00:{:02d} SUCCESS Step {} | Time: 30.00s | Reward: 0.4\n", n, n);
    tr += fmt::format("12:00:{:02d} SUCCESS Step {} | Time: 20.00s | Loss: 0.01\n", n, n);
  }
  Report r = run({dir.write("orchestrator.log", orch).string(), dir.write("trainer.log", tr).string()});
  EXPECT_EQ(r.steps.paired, 5u);
  const StepRecord* s = find_step(r, 2);
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->wait_s.has_value());
  EXPECT_FALSE(s->update_s.has_value());
  EXPECT_FALSE(s->idle_s.has_value());
  EXPECT_FALSE(s->broadcast_s.has_value());
  EXPECT_EQ(*s->gen_s, 30.0);  // the rest, which then includes them
  EXPECT_EQ(*s->compute_s, 20.0);
  for (const char* m : {"step.wait_for_trainer_s", "step.weight_update_s", "step.eval_s", "step.trainer_idle_s",
                        "step.broadcast_s", "step.save_s"})
    EXPECT_EQ(r.metric(m), nullptr) << m;
  EXPECT_EQ(r.steps.bound, StepBound::none);  // nothing known to blame
  // report.json says so.
  auto js = to_json(r);
  EXPECT_EQ(js["steps"]["not_logged"], json::parse(R"(["wait_for_trainer_s", "weight_update_s", "eval_s",
                                                      "trainer_idle_s", "broadcast_s", "save_s"])"));
  EXPECT_TRUE(js["steps"]["paired_mean"]["wait_for_trainer_s"].is_null());
  // With one barrier line in the file, the steps without one did not wait: 0, known.
  orch.insert(0, "11:59:59    INFO Orchestrator resumed: checkpoint 0 ready (after 3.00s)\n");
  Report r2 = run({dir.write("orchestrator.log", orch).string()});
  EXPECT_EQ(*find_step(r2, 0)->wait_s, 3.0);
  EXPECT_EQ(*find_step(r2, 3)->wait_s, 0.0);
  EXPECT_EQ(r2.metric("step.wait_for_trainer_s")->stats.count, 5u);
}

TEST(StepBudget, PairingByStepNumberWhenLogsStartApartOrMissSteps) {
  // The trainer's log starts 4 steps later and misses step 6; its clock is hours off: pairing is
  // by step number only.
  test_support::TempDir dir;
  std::string orch, tr;
  for (int n = 1; n <= 8; ++n) orch += fmt::format("10:00:{:02d} SUCCESS Step {} |   10.0s | Reward 0.4\n", n, n);
  for (int n = 5; n <= 8; ++n)
    if (n != 6) tr += fmt::format("03:00:{:02d} SUCCESS Step {} |    9.0s | Loss 0.01\n", n, n);
  Report r = run({dir.write("trainer.log", tr).string(), dir.write("orchestrator.log", orch).string()});
  EXPECT_EQ(r.steps.total, 8u);
  EXPECT_EQ(r.steps.paired, 3u);
  for (int n : {5, 7, 8}) EXPECT_TRUE(find_step(r, n)->paired()) << n;
  for (int n : {1, 4, 6}) EXPECT_FALSE(find_step(r, n)->paired()) << n;
  EXPECT_EQ(r.metric("step.trainer_s")->stats.count, 3u);
  EXPECT_EQ(r.metric("step.orchestrator_s")->stats.count, 8u);
}

TEST(StepBudget, MemoryBoundedOverAMillionSteps) {
  // What the folder holds per step, measured from its containers over 1,000,000 paired steps;
  // the table handed to the report stays at its cap, and the statistics still cover every step.
  StepFolder f(150000);
  f.begin_file(0, "orchestrator.log");
  Event ev;
  constexpr int64_t kSteps = 1000000;
  for (int64_t n = 1; n <= kSteps; ++n) {
    ev = Event{};
    ev.op = Op::step_orch;
    ev.present = (1u << static_cast<int>(Field::step)) | (1u << static_cast<int>(Field::secs));
    ev.v[static_cast<int>(Field::step)] = static_cast<double>(n);
    ev.v[static_cast<int>(Field::secs)] = static_cast<double>(n % 7);
    f.on_event(ev);
  }
  f.begin_file(1, "trainer.log");
  for (int64_t n = 1; n <= kSteps; ++n) {
    ev.op = Op::step_trainer;
    ev.v[static_cast<int>(Field::step)] = static_cast<double>(n);
    f.on_event(ev);
  }
  EXPECT_EQ(f.steps_held(), static_cast<size_t>(kSteps));
  // About 225 bytes a step (the two halves, the record, the index, the vectors' growth slack),
  // whatever the order.
  EXPECT_LE(f.bytes_per_step(), 240u);
  Report r;
  std::vector<std::pair<std::string, SampleBuffer>> samples;
  f.finish(r, samples);
  EXPECT_EQ(r.steps.steps.size(), 150000u);
  EXPECT_EQ(r.steps.table_omitted, static_cast<uint64_t>(kSteps) - 150000u);
  EXPECT_EQ(r.steps.paired, static_cast<uint64_t>(kSteps));
  ASSERT_FALSE(samples.empty());
  EXPECT_EQ(samples[0].first, "step.orchestrator_s");
  EXPECT_EQ(samples[0].second.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(f.steps_held(), 0u);  // released
}

TEST(StepBudget, ExpectAndStatsFilesOverTheStepMetrics) {
  Report r = run({(kSteps / "v05_trainer_bound").string()});
  // p50 of 10 walls, 8 of 31.7 s and 2 of 72.97 s: 31.7.
  ExpectResult ok = evaluate(parse_expectation("step.orchestrator_s.p50<32"), r);
  EXPECT_TRUE(ok.passed) << ok.message;
  ASSERT_TRUE(ok.actual.has_value());
  EXPECT_NEAR(*ok.actual, 31.7, 1e-9);
  ExpectResult bad = evaluate(parse_expectation("step.orchestrator_s.max<60"), r);
  EXPECT_FALSE(bad.passed);
  EXPECT_NEAR(*bad.actual, 72.97, 1e-9);
  // A part not logged has no samples: a check of it fails and says so.
  Report v06 = run({(kSteps / "v06_inference_bound").string()});
  ExpectResult none = evaluate(parse_expectation("step.wait_for_trainer_s.mean<1"), v06);
  EXPECT_FALSE(none.passed);
  EXPECT_NE(none.message.find("no samples"), std::string::npos) << none.message;
  // The same checks against report.json (compare's path).
  EXPECT_TRUE(evaluate(parse_expectation("step.orchestrator_s.p50<32"), json::parse(to_json(r).dump())).passed);
  // step_stats.txt holds every step.* metric.
  std::string st;
  for (auto& [name, text] : stats_files(r))
    if (name == "step_stats.txt") st = text;
  EXPECT_NE(st.find("orchestrator_s.metric=step.orchestrator_s\norchestrator_s.count=10\n"), std::string::npos) << st;
  EXPECT_NE(st.find("orchestrator_s.p50=31.700\n"), std::string::npos) << st;
  EXPECT_NE(st.find("wait_for_trainer_s.mean=12.500\n"), std::string::npos) << st;
  EXPECT_NE(st.find("save_s.count=0\n"), std::string::npos) << st;  // not logged: no statistic
}

TEST(StepBudget, RunOverTimeDriftOutliersAndOffPolicy) {
  Report r = run({(kSteps / "v05_trainer_bound").string()});
  const StepsReport& s = r.steps;
  // Walls: 31.7 s, but 72.97 s on steps 3 and 7 (their evals): outliers (over twice the median
  // and 5 s more), so they are out of the drift, which is flat.
  ASSERT_TRUE(s.drift_s_per_100.has_value());
  EXPECT_NEAR(*s.drift_s_per_100, 0.0, 1e-9);
  EXPECT_NEAR(*s.first_tenth_s, 31.7, 1e-9);  // step 0
  EXPECT_NEAR(*s.last_tenth_s, 31.7, 1e-9);   // step 9
  EXPECT_NEAR(*s.median_s, 31.7, 1e-9);
  ASSERT_EQ(s.outliers.size(), 2u);
  EXPECT_EQ(s.outliers[0].step, 3);  // equal walls: step order
  EXPECT_EQ(s.outliers[1].step, 7);
  EXPECT_NEAR(s.outliers[0].orch_s, 72.97, 1e-9);
  EXPECT_NE(s.outliers[0].inside.find("eval 41.3 s"), std::string::npos) << s.outliers[0].inside;
  EXPECT_NE(s.outliers[0].inside.find("trainer wait 12.5 s"), std::string::npos);
  // Max. Off-Policy Level alternates 0, 1: never above the default --async-level of 2.
  EXPECT_EQ(*s.off_policy_first, 0);
  EXPECT_EQ(*s.off_policy_last, 1);
  EXPECT_EQ(*s.off_policy_max, 1);
  EXPECT_EQ(s.off_policy_above_async, 0u);
  AnalysisOptions tight;
  tight.inputs = {(kSteps / "v05_trainer_bound").string()};
  tight.async_level = 0;
  EXPECT_EQ(analyze(tight).steps.off_policy_above_async, 5u);
  // The terminal lines fit 100 columns.
  for (const auto& l : budget_lines(s)) EXPECT_LE(render::display_width(l), 100u) << l;
}

TEST(StepBudget, DriftIsTheSlopeOfTheStepsThatAreNotOutliers) {
  // 60 steps whose wall grows 0.25 s a step from 20 s, and step 30 taking 100 s: the drift is
  // 25 s per 100 steps (the outlier would tilt a plain least-squares fit), the first and last
  // tenth are the means of steps 1-6 and 55-60, and step 30 is the one outlier.
  auto dir = fs::temp_directory_path() / "alog_steps_drift";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream f(dir / "orchestrator.log");
  double first = 0, last = 0;
  for (int n = 1; n <= 60; ++n) {
    double w = n == 30 ? 100.0 : 20.0 + 0.25 * n;
    if (n <= 6) first += w / 6;
    if (n >= 55) last += w / 6;
    f << fmt::format("12:{:02d}:{:02d} SUCCESS Step {} | Time: {:.2f}s | Reward: 0.5000\n", n / 60, n % 60, n, w);
  }
  f.close();
  Report r = run({(dir / "orchestrator.log").string()});
  const StepsReport& s = r.steps;
  ASSERT_TRUE(s.drift_s_per_100.has_value());
  EXPECT_NEAR(*s.drift_s_per_100, 25.0, 1e-9);
  EXPECT_NEAR(*s.first_tenth_s, first, 1e-9);
  EXPECT_NEAR(*s.last_tenth_s, last, 1e-9);
  ASSERT_EQ(s.outliers.size(), 1u);
  EXPECT_EQ(s.outliers[0].step, 30);
  EXPECT_EQ(s.outliers[0].inside, "generation only (nothing else logged)");
  bool shown = false;
  for (const auto& l : budget_lines(s)) shown |= l.find("+25.00 s per 100 steps") != std::string::npos;
  EXPECT_TRUE(shown);
  fs::remove_all(dir);
}

TEST(StepBudget, AStepWhoseWeightUpdateQueuedShowsTheTaggedWaitInsideIt) {
  // Tagged [weights] lines in the same orchestrator log: the update logged inside step 10 waited
  // 30 s in the front-end queue, and step 10 is the outlier; its budget line names that update.
  auto dir = fs::temp_directory_path() / "alog_steps_tagged";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream f(dir / "orchestrator.log");
  for (int n = 1; n <= 20; ++n) {
    double queue = n == 10 ? 30000.0 : 40.0 + n;
    f << fmt::format("12:00:{:02d}    INFO [weights][{:016x}] client.send url=http://h:8000 path=/models/run/step_{} t={}.5\n",
                     n, 0xab00 + n, n, 1000 + n);
    f << fmt::format("12:00:{:02d}    INFO [weights][{:016x}] client.done wall_ms={:.1f} rpc_ms=900.0 queue_ms={:.1f}\n",
                     n, 0xab00 + n, queue + 900, queue);
    f << fmt::format("12:00:{:02d} SUCCESS Step {} | Time: {:.2f}s | Reward: 0.5000\n", n, n, n == 10 ? 60.0 : 20.0);
  }
  f.close();
  Report r = run({(dir / "orchestrator.log").string()});
  const StepsReport& s = r.steps;
  const StepRecord* ten = find_step(r, 10);
  ASSERT_NE(ten, nullptr);
  ASSERT_TRUE(ten->weights_queue_s.has_value());
  EXPECT_DOUBLE_EQ(*ten->weights_queue_s, 30.0);
  EXPECT_EQ(ten->weights_trace.str(), "000000000000ab0a");
  const StepRecord* three = find_step(r, 3);
  ASSERT_NE(three, nullptr);
  EXPECT_DOUBLE_EQ(*three->weights_queue_s, 0.043);
  // No `Updated weights` lines: the tagged client.done's wall_ms is the step's weight update
  // (the orchestrator waits for it), and generation is the rest.
  ASSERT_TRUE(ten->update_s.has_value());
  EXPECT_NEAR(*ten->update_s, 30.9, 1e-4);
  EXPECT_NEAR(*ten->gen_s, 60.0 - 30.9, 1e-4);
  EXPECT_NEAR(*three->update_s, 0.943, 1e-4);
  ASSERT_EQ(s.outliers.size(), 1u);
  EXPECT_EQ(s.outliers[0].step, 10);
  EXPECT_NE(s.outliers[0].inside.find("[weights] 000000000000ab0a queued 30.0 s"), std::string::npos)
      << s.outliers[0].inside;
  // The tagged view still counts the same update (the two views agree on it), and its
  // queue-saturation finding points at the step's budget line.
  EXPECT_EQ(r.updates.size(), 20u);
  const Diagnosis* q = nullptr;
  for (const auto& d : r.diagnoses)
    if (d.id == "queue_saturation") q = &d;
  ASSERT_NE(q, nullptr);
  bool linked = false;
  for (const auto& e : q->evidence)
    linked |= e.line == ten->orch_line &&
              e.note == "logged inside orchestrator step 10: 60.0 s, 30.9 s of it in weight updates (the step budget)";
  EXPECT_TRUE(linked);
  fs::remove_all(dir);
}
