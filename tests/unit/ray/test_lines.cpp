// Line-level pieces of the Ray module (src/ray/lines.cpp): Ray's driver prefix and de-dup
// suffix, the stamp shapes of a TorchSpec run, tqdm bars, the civil clock and durations.
#include <gtest/gtest.h>

#include "analyze_logs/ray.hpp"

using namespace alog::ray;

namespace {

int64_t ms(const char* civil) {
  return parse_civil_ms(civil).value();
}

}  // namespace

TEST(RayPrefix, ActorWithIp) {
  auto p = parse_ray_prefix("(SglEngine pid=514428, ip=10.0.0.2) [2026-03-11 06:12:26,118] x");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "SglEngine");
  EXPECT_EQ(p->pid, 514428);
  EXPECT_EQ(p->ip, "10.0.0.2");
  EXPECT_EQ(p->length, std::string("(SglEngine pid=514428, ip=10.0.0.2) ").size());
}

TEST(RayPrefix, ActorOnDriverNodeAndNameless) {
  auto p = parse_ray_prefix("(TrainerActor pid=387604) hello");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "TrainerActor");
  EXPECT_EQ(p->pid, 387604);
  EXPECT_TRUE(p->ip.empty());
  auto q = parse_ray_prefix("(pid=20614) hello");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->name, "");
  EXPECT_EQ(q->pid, 20614);
}

TEST(RayPrefix, SystemSources) {
  auto r = parse_ray_prefix("(raylet) A worker died or was killed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "raylet");
  EXPECT_EQ(r->pid, -1);
  auto r2 = parse_ray_prefix("(raylet, ip=10.0.0.2) A worker died");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->ip, "10.0.0.2");
  EXPECT_TRUE(parse_ray_prefix("(autoscaler +1m2s) Adding 1 node(s)"));
}

TEST(RayPrefix, RejectsOrdinaryParentheses) {
  EXPECT_FALSE(parse_ray_prefix("(most recent call last):"));
  EXPECT_FALSE(parse_ray_prefix("(1) The process is killed"));
  EXPECT_FALSE(parse_ray_prefix("(SglEngine pid=abc) x"));
  EXPECT_FALSE(parse_ray_prefix("(SglEngine pid=1, ip=not an ip) x"));
  EXPECT_FALSE(parse_ray_prefix("(SglEngine pid=1)x"));
  EXPECT_FALSE(parse_ray_prefix(""));
  EXPECT_FALSE(parse_ray_prefix("("));
}

TEST(RayDedup, StripsSuffixAndExplanation) {
  std::string_view s =
      "[Rank 7] Device mesh (1D): world_size=8, dp_size=8 [repeated 7x across cluster] (Ray "
      "deduplicates logs by default. Set RAY_DEDUP_LOGS=0 to disable log deduplication)";
  EXPECT_EQ(strip_dedup(s), 7u);
  EXPECT_EQ(s, "[Rank 7] Device mesh (1D): world_size=8, dp_size=8");
  std::string_view plain = "nothing here";
  EXPECT_EQ(strip_dedup(plain), 1u);
  EXPECT_EQ(plain, "nothing here");
  std::string_view broken = "x [repeated lots across cluster]";
  EXPECT_EQ(strip_dedup(broken), 1u);
}

TEST(RayStamp, Shapes) {
  EXPECT_EQ(parse_stamp_ms("[2026-03-11 06:12:47,318] placement_group.py:90 INFO x", 0),
            ms("2026-03-11 06:12:47.318"));
  EXPECT_EQ(parse_stamp_ms("2026-03-11 06:12:17,052\tINFO worker.py:1654 -- Connecting", 0),
            ms("2026-03-11 06:12:17.052"));
  EXPECT_EQ(parse_stamp_ms("[2026-03-11 06:12:24,811 E 387604 387688] core_worker.cc:1: x", 0),
            ms("2026-03-11 06:12:24.811"));
  EXPECT_EQ(parse_stamp_ms("[2026-03-14 08:21:02 TP3] Scheduler hit an exception", 0),
            ms("2026-03-14 08:21:02"));
}

TEST(RayStamp, NcclNeedsTheYear) {
  const char* line = "[rank0]:[E313 10:48:40.512338107 ProcessGroupNCCL.cpp:607] [Rank 0] x";
  EXPECT_FALSE(parse_stamp_ms(line, 0));
  EXPECT_EQ(parse_stamp_ms(line, 2026), ms("2026-03-13 10:48:40.512"));
  EXPECT_EQ(parse_stamp_ms("[rank1]:[E0321 02:07:08.408271257 ProcessGroupNCCL.cpp:1]", 2025),
            ms("2025-03-21 02:07:08.408"));
}

TEST(RayStamp, IgnoresDatesDeepInTheMessage) {
  EXPECT_FALSE(
      parse_stamp_ms("Saving checkpoint to /ckpt/run-from-the-build-of 2026-03-11 06:12:47", 2026));
  EXPECT_FALSE(parse_stamp_ms("no stamp at all", 2026));
  EXPECT_FALSE(parse_stamp_ms("[2026-13-45 99:99:99,000] bad", 2026));
  EXPECT_FALSE(parse_stamp_ms("", 2026));
}

TEST(RayTqdm, SglangShardBar) {
  size_t used = 0;
  std::string s = "Multi-thread loading shards:  62% Completed | 30/48 [02:40<01:36,  5.33s/it]";
  auto p = parse_tqdm(s + "(TrainerActor pid=1) glued", used);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->desc, "Multi-thread loading shards");
  EXPECT_EQ(p->percent, 62);
  EXPECT_EQ(p->n, 30);
  EXPECT_EQ(p->total, 48);
  EXPECT_EQ(p->elapsed, "02:40");
  EXPECT_EQ(p->remaining, "01:36");
  EXPECT_EQ(p->rate, "5.33s/it");
  EXPECT_EQ(used, s.size());
}

TEST(RayTqdm, TrainingBarWithPostfix) {
  size_t used = 0;
  auto p = parse_tqdm(
      "Training:  40%|\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88      | 5634/14085 "
      "[6:15:33<9:29:04,  4.00s/step, loss=0.912, acc=0.633, epoch=1/2]",
      used);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->desc, "Training");
  EXPECT_EQ(p->percent, 40);
  EXPECT_EQ(p->n, 5634);
  EXPECT_EQ(p->elapsed, "6:15:33");
  EXPECT_EQ(p->rate, "4.00s/step");
  ASSERT_EQ(p->postfix.size(), 3u);
  EXPECT_EQ(p->postfix[0].first, "loss");
  EXPECT_EQ(p->postfix[0].second, "0.912");
  EXPECT_EQ(p->postfix[2].second, "1/2");
}

TEST(RayTqdm, NotABar) {
  size_t used = 0;
  EXPECT_FALSE(parse_tqdm("Training steps (optimizer steps): num_train_steps=14085", used));
  EXPECT_FALSE(parse_tqdm("[2026-03-11 06:12:47,318] loop.py:70 INFO 40% done", used));
  EXPECT_FALSE(parse_tqdm("Training:   5step [00:05, 1.0step/s]", used));
  EXPECT_FALSE(parse_tqdm("", used));
}

TEST(RayClock, CivilRoundTrip) {
  int64_t t = ms("2026-03-11 06:12:47.318");
  EXPECT_EQ(format_civil(t), "2026-03-11 06:12:47");
  EXPECT_EQ(ms("2026-03-12 00:00:00") - ms("2026-03-11 23:59:59"), 1000);
  EXPECT_EQ(ms("2024-03-01 00:00:00") - ms("2024-02-28 00:00:00"), 2 * 86400000);  // leap year
  EXPECT_EQ(civil_ms_of(local_time_point(t)), t);
  EXPECT_FALSE(parse_civil_ms("2026-03-11"));
  EXPECT_FALSE(parse_civil_ms("not a date at all"));
}

TEST(RayClock, HumanDuration) {
  EXPECT_EQ(human_duration(0), "0 s");
  EXPECT_EQ(human_duration(85), "85 s");
  EXPECT_EQ(human_duration(660), "11 min");
  EXPECT_EQ(human_duration(840), "14 min");
  EXPECT_EQ(human_duration(22538), "6 h 16 min");
  EXPECT_EQ(human_duration(-5), "0 s");
}
