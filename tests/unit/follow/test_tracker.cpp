// The component tracker of --follow: progress, pace, stalls, the recent window (fed with times of
// the test's choosing: no clock is read).
#include <gtest/gtest.h>

#include <cmath>

#include "analyze_logs/follow.hpp"

namespace alog::follow {
namespace {

Signal progress(std::string c, double measured = 0, std::string detail = {}) {
  Signal s = make_signal(Signal::Type::progress, std::move(c), std::move(detail));
  s.measured_s = measured;
  return s;
}
Signal sample(std::string metric, double v) {
  Signal s = make_signal(Signal::Type::sample, {});
  s.metric = std::move(metric);
  s.value = v;
  return s;
}

TEST(FollowTracker, StalledOnlyAfterTheExpectationAndResumedOnProgress) {
  TrackerOptions o;
  o.stall_after = 10;
  Tracker t(o);
  t.apply(progress("orchestrator steps", 0, "step 1"), "o.log", "Step 1 | Time: 2s", 100);
  t.check(109.9);
  EXPECT_FALSE(t.components().at("orchestrator steps").stalled);
  t.check(110.1);
  const Component& c = t.components().at("orchestrator steps");
  EXPECT_TRUE(c.stalled);
  auto ch = t.take_changes();
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_EQ(ch[0].type, Change::Type::new_component);
  EXPECT_EQ(ch[1].type, Change::Type::stalled);
  EXPECT_NEAR(ch[1].silent_s, 10.1, 1e-9);
  EXPECT_EQ(ch[1].detail, "Step 1 | Time: 2s");  // its last line
  t.check(200);  // still stalled: no second change
  EXPECT_TRUE(t.take_changes().empty());
  t.apply(progress("orchestrator steps", 0, "step 2"), "o.log", "Step 2", 201);
  ch = t.take_changes();
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].type, Change::Type::resumed);
  EXPECT_FALSE(t.components().at("orchestrator steps").stalled);
  EXPECT_EQ(t.components().at("orchestrator steps").progress, 2u);
}

TEST(FollowTracker, PaceIsTenTimesTheMedianWithAFloor) {
  Tracker t;  // pace factor 10, floor 60 s, default 600 s
  // Before any pace: the default, or the kind's typical duration.
  t.apply(progress("a"), "f", "x", 0);
  EXPECT_DOUBLE_EQ(t.components().at("a").expectation(t.options()), 600);
  Signal typ = progress("b");
  typ.typical_s = 900;
  t.apply(typ, "f", "x", 0);
  EXPECT_DOUBLE_EQ(t.components().at("b").expectation(t.options()), 900);
  // Live gaps 20, 30, 40 s: median 30 -> 300 s.
  t.apply(progress("a"), "f", "x", 20);
  t.apply(progress("a"), "f", "x", 50);
  t.apply(progress("a"), "f", "x", 90);
  EXPECT_DOUBLE_EQ(t.components().at("a").expectation(t.options()), 300);
  // Fast progress (1 s gaps): the floor.
  for (int i = 1; i <= 5; ++i) t.apply(progress("c"), "f", "x", i);
  EXPECT_DOUBLE_EQ(t.components().at("c").expectation(t.options()), 60);
}

TEST(FollowTracker, CatchUpLinesCarryNoPaceButMeasuredDurationsDo) {
  Tracker t;
  // Read from the file's earlier content: all at the same time; no gap is recorded.
  for (int i = 0; i < 5; ++i) t.apply(progress("updates"), "f", "x", 1000, /*live=*/false);
  EXPECT_TRUE(t.components().at("updates").gaps.empty());
  EXPECT_DOUBLE_EQ(t.components().at("updates").expectation(t.options()), 600);
  // Step lines measure themselves (34 s steps): the pace is theirs, catch-up or not.
  for (double s : {30.0, 34.0, 40.0}) t.apply(progress("steps", s), "f", "x", 1000, false);
  EXPECT_DOUBLE_EQ(t.components().at("steps").expectation(t.options()), 340);
}

TEST(FollowTracker, FinishedComponentsAndEndedJobsAreNeverStalled) {
  TrackerOptions o;
  o.stall_after = 5;
  Tracker t(o);
  t.apply(progress("trainer steps"), "t.log", "Step 9", 0);
  t.apply(make_signal(Signal::Type::finished, "trainer steps", "the trainer finished"), "t.log", "Trainer finished", 1);
  t.apply(progress("weight updates"), "o.log", "client.done", 0);
  t.check(100);
  EXPECT_FALSE(t.components().at("trainer steps").stalled);
  EXPECT_TRUE(t.components().at("weight updates").stalled);
  t.apply(make_signal(Signal::Type::job_ended, "orchestrator", "the orchestrator finished"), "o.log", "Orchestrator finished.", 101);
  EXPECT_TRUE(t.job_ended());
  EXPECT_EQ(t.end_reason(), "the orchestrator finished");
  EXPECT_FALSE(t.components().at("weight updates").stalled);
  t.take_changes();
  t.check(1e6);
  EXPECT_TRUE(t.take_changes().empty());
}

TEST(FollowTracker, OnlyLoggingNeverStallsAPhaseKnownToBeLongIsNotCutShort) {
  Tracker t;
  // A proxy that only ever logs: no progress, no phase: never stalled.
  t.apply(make_signal(Signal::Type::activity, "nginx front"), "nginx.log", "GET /health 200", 0);
  t.check(1e6);
  EXPECT_FALSE(t.components().at("nginx front").stalled);
  // Start-up markers milliseconds apart, then loading weights (typically 900 s): the fast pace
  // (floor 60 s) does not stall it after a minute.
  for (int i = 0; i < 4; ++i) t.apply(progress("worker w0"), "w0.err", "marker", 10 + i * 0.01);
  Signal load = progress("worker w0", 0, "loading weights");
  load.typical_s = 900;
  t.apply(load, "w0.err", "Loading safetensors", 11);
  EXPECT_DOUBLE_EQ(t.components().at("worker w0").expectation(t.options()), 900);
  t.check(11 + 899);
  EXPECT_FALSE(t.components().at("worker w0").stalled);
  t.check(11 + 901);
  EXPECT_TRUE(t.components().at("worker w0").stalled);
  // The next marker carries no duration: its own pace again.
  t.apply(progress("worker w0", 0, "serving"), "w0.err", "ready", 1000);
  EXPECT_DOUBLE_EQ(t.components().at("worker w0").expectation(t.options()), 60);
}

TEST(FollowTracker, WindowStatisticsAreExactAndSkipSentinels) {
  TrackerOptions o;
  o.window_s = 60;
  Tracker t(o);
  t.apply(sample("weights.queue_ms", 1000), "f", "", 0);  // leaves the window
  for (int i = 1; i <= 5; ++i) t.apply(sample("weights.queue_ms", i * 10.0), "f", "", 100 + i);
  t.apply(sample("weights.queue_ms", -1.0), "f", "", 106);  // the "not reported" sentinel
  t.apply(sample("weights.queue_ms", std::nan("")), "f", "", 106);
  auto w = t.window(110);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].metric, "weights.queue_ms");
  EXPECT_EQ(w[0].count, 5u);
  EXPECT_DOUBLE_EQ(w[0].p50, 30);
  EXPECT_DOUBLE_EQ(w[0].p90, 46);  // numpy: 40 + 0.6 * 10
  EXPECT_DOUBLE_EQ(w[0].p99, 49.6);
  EXPECT_DOUBLE_EQ(w[0].max, 50);
  EXPECT_DOUBLE_EQ(w[0].mean, 30);
  EXPECT_TRUE(t.window(1000).empty());
}

TEST(FollowTracker, MemoryIsBoundedOverAMillionSignals) {
  Tracker t;
  for (int i = 0; i < 1'000'000; ++i) {
    t.apply(progress("weight updates"), "f", "x", i * 0.001);
    t.apply(sample("weights.queue_ms", i % 100), "f", "", i * 0.001);
  }
  EXPECT_LE(t.components().at("weight updates").gaps.size(), 64u);
  auto w = t.window(1000);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].count, size_t{1} << 14);  // the window keeps the latest 16384
  EXPECT_EQ(t.progress_of("weight"), 1'000'000u);
}

TEST(FollowDisplayLine, StripsColourCutsAtUtf8Boundaries) {
  EXPECT_EQ(display_line("\x1b[2m18:30:43\x1b[0m \x1b[32mSUCCESS\x1b[0m Step 0\r"), "18:30:43 SUCCESS Step 0");
  EXPECT_EQ(display_line("  \tindented  "), "indented");
  std::string s = "ab" + std::string("\xc3\xa9") + "cd";  // é is two bytes
  EXPECT_EQ(display_line(s, 3), "ab…");
  EXPECT_EQ(display_line("bad \xff byte"), display_line("bad \xff byte"));  // no crash, cleaned
  EXPECT_EQ(display_line(std::string(10000, 'x'), 240).size(), 240 + std::string("…").size());
}

}  // namespace
}  // namespace alog::follow
