// The prime-rl classifier of --follow: every line of the bundled runs, and lines that must not
// count.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "analyze_logs/follow.hpp"
#include "analyze_logs/input.hpp"

namespace alog::follow {
namespace {

struct Fed {
  std::map<std::string, int> progress, activity, finished;
  int ended = 0;
  std::map<std::string, std::vector<double>> samples;
  std::vector<double> measured;
};

void feed(Classifier& c, const std::string& file, Fed& fed) {
  std::vector<Signal> out;
  input::for_each_line(file, [&](std::string_view l, uint64_t) {
    out.clear();
    c.on_line(file, l, out);
    for (const auto& s : out) {
      switch (s.type) {
        case Signal::Type::progress:
          ++fed.progress[s.component];
          if (s.measured_s > 0) fed.measured.push_back(s.measured_s);
          break;
        case Signal::Type::activity: ++fed.activity[s.component]; break;
        case Signal::Type::finished: ++fed.finished[s.component]; break;
        case Signal::Type::job_ended: ++fed.ended; break;
        case Signal::Type::sample: fed.samples[s.metric].push_back(s.value); break;
      }
    }
    return true;
  });
}

TEST(FollowPrimeRl, TheBundledHealthyRunComponentByComponent) {
  auto c = make_classifier("prime-rl");
  ASSERT_TRUE(c);
  Fed fed;
  const std::string dir = std::string(ALOG_TESTDATA) + "/runs/healthy/logs/";
  for (const char* f : {"orchestrator.log", "inference.log", "trainer.log"}) feed(*c, dir + f, fed);
  // The one-shot analysis of the same run: 43 orchestrator steps, 40 trainer steps, 41 complete
  // updates (report.json: steps.orchestrator_lines, steps.trainer_lines, weights.wall_ms.count).
  EXPECT_EQ(fed.progress["orchestrator steps"], 43);
  EXPECT_EQ(fed.progress["trainer steps"], 40);
  EXPECT_EQ(fed.progress["weight updates"], 41);
  EXPECT_EQ(fed.samples["weights.wall_ms"].size(), 41u);
  EXPECT_EQ(fed.samples["step.orchestrator_s"].size(), 43u);
  EXPECT_EQ(fed.progress["checkpoints"], 40);
  EXPECT_GT(fed.progress["generation batches"], 0);
  EXPECT_EQ(fed.progress["inference inference.log"], 41);
  EXPECT_GT(fed.activity["weight updates"], 0);  // the sends
  // Each log's first line makes its component exist (before its first step): once each.
  EXPECT_EQ(fed.activity["orchestrator steps"], 1);
  EXPECT_EQ(fed.activity["trainer steps"], 1);
  EXPECT_EQ(fed.measured.size(), 83u);           // every step line measures itself
  EXPECT_EQ(fed.ended, 1);  // its last line: `Orchestrator finished.`
  for (double q : fed.samples["weights.queue_ms"]) EXPECT_GE(q, 0);  // no sentinel sample
}

TEST(FollowPrimeRl, TheRunsEndAndTheTrainersEndInEveryPrefix) {
  auto c = make_classifier("prime-rl");
  std::vector<Signal> out;
  c->on_line("o.log", "\x1b[2m18:33:02\x1b[0m \x1b[32m\x1b[1mSUCCESS\x1b[0m \x1b[32m\x1b[1m\x1b[22mOrchestrator finished.\x1b[0m\x1b[0m", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, Signal::Type::job_ended);
  out.clear();
  c->on_line("t.log", "[trainer0]:18:33:02 SUCCESS Trainer finished!", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, Signal::Type::finished);
  EXPECT_EQ(out[0].component, "trainer steps");
  out.clear();
  // Quoted, not logged: a traceback or a message mentioning it.
  c->on_line("o.log", "18:33:02    INFO waiting until the Orchestrator finished the step", out);
  c->on_line("o.log", "  File \"x.py\", line 3, in f: raise RuntimeError('Orchestrator finished?')", out);
  EXPECT_TRUE(out.empty());
}

TEST(FollowPrimeRl, AProcessThatNeverGetsToItsFirstStepIsAComponentFromItsFirstLine) {
  auto c = make_classifier("prime-rl");
  std::vector<Signal> out;
  c->on_line("run/logs/trainer.log", "[trainer0]:18:30:01 INFO Loading model Qwen/Qwen3-8B", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, Signal::Type::activity);
  EXPECT_EQ(out[0].component, "trainer steps");
  Signal first = out[0];
  out.clear();
  c->on_line("run/logs/trainer.log", "[trainer0]:18:30:02 INFO still loading", out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out[0].typical_s, 600);  // until its first step
  Tracker t;
  t.apply(first, "run/logs/trainer.log", "Loading model", 0);
  t.check(599);
  EXPECT_FALSE(t.components().at("trainer steps").stalled);
  t.check(601);
  EXPECT_TRUE(t.components().at("trainer steps").stalled);
}

TEST(FollowPrimeRl, ATaggedMessageAfterAProgressBarsPiecesIsRead) {
  auto c = make_classifier("prime-rl");
  std::vector<Signal> out;
  c->on_line("x.log", "Generating:  40%|####      | 4/10\rGenerating:  50%|#####     | 5/10\r18:30:40    INFO [gen] batch.done completions=64 dur_ms=2538.3 inflight=87", out);
  ASSERT_EQ(out.size(), 2u);  // progress, and the dur_ms sample
  EXPECT_EQ(out[0].type, Signal::Type::progress);
  EXPECT_EQ(out[0].component, "generation batches");
  EXPECT_EQ(out[1].metric, "gen.dur_ms");
  EXPECT_DOUBLE_EQ(out[1].value, 2538.3);
}

TEST(FollowPrimeRl, BadLinesYieldNothingAndNeverCrash) {
  auto c = make_classifier("prime-rl");
  std::vector<Signal> out;
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>(i * 37);
  for (std::string l : {binary, std::string(1 << 20, '['), std::string("[weights][abc] client.done wall_ms="),
                        std::string("[weights][abc] client.done wall_ms=notanumber"), std::string("\x1b[32mStep 3 | Time"),
                        std::string("Step 3 | Time: 2.0s | Reward"), std::string("\x1b")})
    c->on_line("o.log", l, out);
  for (const auto& s : out) EXPECT_NE(s.type, Signal::Type::progress) << s.component << " from a bad line";
}

}  // namespace
}  // namespace alog::follow
