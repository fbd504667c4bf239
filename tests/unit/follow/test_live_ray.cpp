// The Ray / TorchSpec classifier of --follow (src/follow/live_ray.cpp): every line of the real
// testdata runs fed through it and checked against the one-shot analysis (ray::analyze) of the
// same files; then each signal on its own, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/follow.hpp"
#include "analyze_logs/ray.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using alog::follow::Classifier;
using alog::follow::Signal;
using alog::test_support::slurp;
using Type = Signal::Type;

namespace {

const fs::path kRay = fs::path(ALOG_TESTDATA) / "ray";

struct Seen {
  std::map<std::string, uint64_t> progress, activity;
  std::map<std::string, std::vector<std::string>> details;
  std::map<std::string, std::vector<double>> typical, measured;
  std::map<std::string, std::vector<double>> activity_typical;
  std::map<std::string, std::string> last_activity;
  std::set<std::string> finished;
  std::vector<std::string> job_ended;
  std::map<std::string, std::vector<double>> samples;
  uint64_t signals = 0;

  void add(const std::vector<Signal>& v) {
    for (const Signal& s : v) {
      ++signals;
      switch (s.type) {
        case Type::progress:
          ++progress[s.component];
          details[s.component].push_back(s.detail);
          typical[s.component].push_back(s.typical_s);
          measured[s.component].push_back(s.measured_s);
          break;
        case Type::activity:
          activity_typical[s.component].push_back(s.typical_s);
          ++activity[s.component];
          last_activity[s.component] = s.detail;
          break;
        case Type::finished: finished.insert(s.component); break;
        case Type::job_ended: job_ended.push_back(s.detail); break;
        case Type::sample: samples[s.metric].push_back(s.value); break;
      }
    }
  }
};

void feed(Classifier& c, const std::string& file, std::string_view text, Seen& seen) {
  std::vector<Signal> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;
    out.clear();
    c.on_line(file, text.substr(pos, nl - pos), out);
    seen.add(out);
    pos = nl + 1;
  }
  // A file that ends without a newline (a bar still being updated): its last segment as well.
  if (pos < text.size()) {
    out.clear();
    c.on_line(file, text.substr(pos), out);
    seen.add(out);
  }
  out.clear();
  c.on_growth(file, text.size(), out);
  seen.add(out);
}

Seen feed_lines(Classifier& c, const std::string& file, std::initializer_list<std::string_view> lines) {
  Seen seen;
  std::vector<Signal> out;
  for (auto l : lines) {
    out.clear();
    c.on_line(file, l, out);
    seen.add(out);
  }
  return seen;
}

// A run folder: the driver log, then its session logs (the actors' own copies of relayed lines).
Seen feed_run(const fs::path& dir) {
  auto c = alog::follow::make_ray_classifier();
  std::vector<fs::path> session, driver;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    (e.path().parent_path().filename() == "running_logs" ? driver : session).push_back(e.path());
  }
  std::sort(session.begin(), session.end());
  Seen seen;
  for (const auto& list : {driver, session})
    for (const auto& f : list) feed(*c, fs::relative(f, dir.parent_path()).string(), slurp(f), seen);
  return seen;
}

std::set<std::string> with_prefix(const std::set<std::string>& s, std::string_view p) {
  std::set<std::string> r;
  for (const auto& x : s)
    if (std::string_view(x).starts_with(p)) r.insert(x);
  return r;
}
template <class M>
std::set<std::string> keys_with_prefix(const M& m, std::string_view p) {
  std::set<std::string> r;
  for (const auto& [k, v] : m)
    if (std::string_view(k).starts_with(p)) r.insert(k);
  return r;
}

// The phase number of a "phase N: name" detail.
int phase_of(const std::string& d) {
  return d.starts_with("phase ") ? std::stoi(d.substr(6)) : 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Whole testdata runs, against the one-shot analysis.

TEST(LiveRay, TrainingRunReachesPhaseSevenAndFollowsTheBarAsTheOneShotReadsIt) {
  const fs::path dir = kRay / "training";
  Seen seen = feed_run(dir);
  auto r = alog::ray::analyze({dir}, {});
  ASSERT_EQ(r.phase_reached, 7);
  // Every phase was reached, in the driver log's order, and the phase component finished.
  std::vector<int> first;
  for (const auto& d : seen.details["Ray phase"])
    if (std::find(first.begin(), first.end(), phase_of(d)) == first.end()) first.push_back(phase_of(d));
  EXPECT_EQ(first, (std::vector<int>{1, 2, 3, 5, 4, 6, 7}));  // phases 4 and 5 run in parallel
  EXPECT_TRUE(seen.finished.count("Ray phase"));
  EXPECT_EQ(seen.details["Ray phase"].back(), "phase 7: Training");

  // Training: the bar's latest state is the one-shot's last bar; not full, so not finished.
  ASSERT_TRUE(r.training);
  EXPECT_EQ(seen.details["training"].back(),
            "step " + std::to_string(r.training->n) + "/" + std::to_string(r.training->total));
  EXPECT_FALSE(seen.finished.count("training"));
  EXPECT_TRUE(seen.job_ended.empty());
  auto loss = std::find_if(r.training->postfix.begin(), r.training->postfix.end(),
                           [](const auto& kv) { return kv.first == "loss"; });
  ASSERT_NE(loss, r.training->postfix.end());
  ASSERT_FALSE(seen.samples["training.loss"].empty());
  EXPECT_DOUBLE_EQ(seen.samples["training.loss"].back(), std::stod(loss->second));
  // One loss sample per step-count move of the bar.
  uint64_t bar_moves = 0;
  for (const auto& d : seen.details["training"]) bar_moves += d.starts_with("step ");
  EXPECT_EQ(seen.samples["training.loss"].size(), bar_moves - 1);  // the 0/N bar has no loss

  // Actors: one component per actor the one-shot found, each finished once training started.
  std::set<std::string> want;
  for (const auto& a : r.actors) want.insert("actor " + a.name + " pid=" + std::to_string(a.pid));
  std::set<std::string> got = keys_with_prefix(seen.progress, "actor ");
  for (const auto& k : keys_with_prefix(seen.activity, "actor ")) got.insert(k);
  EXPECT_EQ(got, want);
  EXPECT_EQ(with_prefix(seen.finished, "actor "), want);
  // SglEngine's shard bar moved the engine and phase 5; its last state is 64/64.
  EXPECT_EQ(seen.details["actor SglEngine pid=514428"].back(),
            "SglEngine rank 0: initialized from /models/Kimi-K2.5 (tp_size=16, aux_layers=[2, 30, 58], "
            "mooncake=True)");
  const auto& sgl = seen.details["actor SglEngine pid=514428"];
  EXPECT_NE(std::find(sgl.begin(), sgl.end(), "Multi-thread loading shards 64/64"), sgl.end());

  // The same actor line in the driver log and in the actor's own file counts once.
  const auto& t0 = seen.details["actor TrainerActor pid=387604"];
  EXPECT_EQ(std::count_if(t0.begin(), t0.end(),
                          [](const std::string& d) { return d.find("Device mesh") != std::string::npos; }),
            1);
  // raylet.out grew: its session's raylet made progress.
  EXPECT_EQ(seen.progress["raylet training/session_latest"], 1u);
}

TEST(LiveRay, StuckShardsRunStaysInPhaseFiveWithTheEngineUnfinished) {
  const fs::path dir = kRay / "stuck_shards";
  Seen seen = feed_run(dir);
  auto r = alog::ray::analyze({dir}, {});
  ASSERT_EQ(r.phase_reached, 5);
  int max_phase = 0;
  for (const auto& d : seen.details["Ray phase"]) max_phase = std::max(max_phase, phase_of(d));
  EXPECT_EQ(max_phase, r.phase_reached);
  EXPECT_FALSE(seen.finished.count("Ray phase"));
  EXPECT_EQ(seen.typical["Ray phase"].back(), 900);  // seed 004: 5-15 min of shard loading
  EXPECT_TRUE(seen.job_ended.empty());
  ASSERT_TRUE(r.phase(5).progress);
  const auto& sgl = seen.details["actor SglEngine pid=514428"];
  ASSERT_FALSE(sgl.empty());
  EXPECT_EQ(sgl.back(), "Multi-thread loading shards " + std::to_string(r.phase(5).progress->n) + "/" +
                            std::to_string(r.phase(5).progress->total));
  EXPECT_FALSE(seen.finished.count("actor SglEngine pid=514428"));
  EXPECT_TRUE(seen.progress.count("raylet stuck_shards/session_latest"));
}

TEST(LiveRay, FailedRunsEndWhenTheDriverRaisesAndNameTheFailureOnTheActor) {
  for (const char* run : {"actor_died", "nccl_timeout"}) {
    const fs::path dir = kRay / run;
    Seen seen = feed_run(dir);
    auto r = alog::ray::analyze({dir}, {});
    ASSERT_EQ(r.verdict, alog::ray::Verdict::failed) << run;
    ASSERT_EQ(seen.job_ended.size(), 1u) << run;
    EXPECT_TRUE(seen.job_ended[0].starts_with("driver exited: ray.exceptions.")) << seen.job_ended[0];
    EXPECT_FALSE(seen.finished.count("training")) << run;
  }
  Seen seen = feed_run(kRay / "nccl_timeout");
  // The rank that logged the watchdog shows it as its last failure.
  EXPECT_EQ(seen.activity.count("actor TrainerActor pid=70214"), 1u);
  std::set<std::string> titles;
  for (const auto& [c, d] : seen.last_activity) titles.insert(d);
  EXPECT_TRUE(titles.count(std::string(alog::core::find_signature("actor_died")->title)));
}

// ---------------------------------------------------------------------------------------------
// Each signal on its own.

TEST(LiveRay, GluedBarUpdatesAreReadSegmentBySegmentAndTheGluedLineOnItsOwn) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(
      *c, "running_logs/x.log",
      {"\rTraining:   0%|          | 0/10 [00:00<?, ?step/s]\rTraining:  10%|█         | 1/10 [00:31<04:39, "
       "31.28s/step, loss=2.871, acc=0.1]\rTraining:  20%|██        | 2/10 [00:35<02:20, 17.64s/step, "
       "loss=nan, acc=0.1][2026-03-11 09:48:44,501] loop.py:364 INFO Saving checkpoint at step 2...",
       "\rTraining:  20%|██        | 2/10 [00:36<02:20, 17.64s/step, loss=2.7]",  // did not move
       "\rTraining: 100%|██████████| 10/10 [01:00<00:00, 6.00s/step, loss=1.5]",
       "Training completed!"});
  EXPECT_EQ(s.details["training"],
            (std::vector<std::string>{"step 0/10", "step 1/10", "step 2/10",
                                      "Saving checkpoint at step 2...", "step 10/10"}));
  EXPECT_EQ(s.samples["training.loss"], (std::vector<double>{2.871, 1.5}));  // nan never enters
  EXPECT_TRUE(s.finished.count("training"));
  EXPECT_TRUE(s.finished.count("Ray phase"));
  EXPECT_EQ(s.job_ended, std::vector<std::string>{"Training completed!"});
}

TEST(LiveRay, RelayedActorLinesMakeOneComponentPerActorAndStepLinesTheirOwn) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(
      *c, "driver.log",
      {"\x1b[36m(TrainerActor pid=1234)\x1b[0m [2026-03-11 06:12:41,220] trainer.py:101 INFO [Rank 0] Device "
       "mesh (1D): world_size=8, dp_size=8",
       "\x1b[36m(TrainerActor pid=1234)\x1b[0m [2026-03-11 06:26:52,913] trainer.py:161 INFO [Rank 0] Data "
       "fetcher initialized with batch_size=1",
       "\x1b[36m(TrainerActor pid=1234)\x1b[0m [2026-03-11 06:27:00,000] trainer.py:200 DEBUG [Rank 0] step 1: "
       "loss=2.1",
       "\x1b[36m(TrainerActor pid=1234)\x1b[0m [2026-03-11 06:27:04,000] trainer.py:200 DEBUG [Rank 0] step 2: "
       "loss=2.0",
       "\x1b[36m(TrainerActor pid=1234)\x1b[0m [2026-03-11 06:27:04,100] trainer.py:200 DEBUG [Rank 0] step 2: "
       "grad_norm=1.0",
       "\x1b[36m(SglEngine pid=99, ip=10.0.0.2)\x1b[0m \rMulti-thread loading shards:  20% Completed | 10/48 "
       "[00:53<03:21,  5.30s/it]\rMulti-thread loading shards:  22% Completed | 11/48 [00:58<03:16,  5.30s/it]",
       "\x1b[36m(pid=7)\x1b[0m hello"});
  EXPECT_EQ(s.progress["actor TrainerActor pid=1234"], 2u);
  EXPECT_TRUE(s.finished.count("actor TrainerActor pid=1234"));
  EXPECT_EQ(s.details["actor TrainerActor pid=1234 steps"], (std::vector<std::string>{"step 1", "step 2"}));
  EXPECT_EQ(s.details["actor SglEngine pid=99"],
            (std::vector<std::string>{"Multi-thread loading shards 10/48", "Multi-thread loading shards 11/48"}));
  EXPECT_EQ(s.typical["actor SglEngine pid=99"].back(), 900);
  EXPECT_EQ(s.activity["actor pid=7"], 1u);
  // Phase 4 from the trainer, phase 6 (its data fetcher), then phase 5 from the engine's bar.
  EXPECT_EQ(s.details["Ray phase"], (std::vector<std::string>{"phase 4: TrainerActor init", "phase 6: Queue wiring",
                                                              "phase 5: SglEngine init", "phase 5: SglEngine init"}));
}

TEST(LiveRay, WorkerFilesNameTheirActorFromTheControlTokenAndThePidFromTheName) {
  auto c = alog::follow::make_ray_classifier();
  const std::string f = "session_x/logs/worker-5e16f62b2f57fe127fd768cc0ed920b2c8e6906c072df247c79fe079-01000000-387611.err";
  Seen s = feed_lines(*c, f,
                      {":job_id:01000000", ":actor_name:TrainerActor",
                       "[2026-03-11 06:12:24,818 E 387611 387695] core_worker_process.cc:837: Failed to establish "
                       "connection to the metrics exporter agent. Metrics will not be exported.",
                       "[2026-03-11 06:13:20,421] eagle3_trainer.py:86 INFO [Rank 7] Draft model: 927,465,472 "
                       "trainable, 1,101,004,800 frozen (embedding) parameters"});
  EXPECT_EQ(s.progress["actor TrainerActor pid=387611"], 1u);
  EXPECT_EQ(s.progress.size(), 2u);  // and the phase
  EXPECT_TRUE(s.activity.empty());   // the metrics-exporter complaint is noise
}

TEST(LiveRay, RayletGrowthIsProgressOfItsSessionAndOtherFilesGrowthIsNot) {
  auto c = alog::follow::make_ray_classifier();
  std::vector<Signal> out;
  c->on_growth("node-10.0.0.2/session_2026-03-11_06-10-00_123_3772/logs/raylet.out", 4096, out);
  c->on_growth("node-10.0.0.2/session_2026-03-11_06-10-00_123_3772/logs/raylet.out", 0, out);
  c->on_growth("session_x/logs/gcs_server.out", 4096, out);
  c->on_growth("driver.log", 4096, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, Type::progress);
  EXPECT_EQ(out[0].component, "raylet node-10.0.0.2/session_2026-03-11_06-10-00_123_3772");
  EXPECT_EQ(out[0].detail, "+4096 bytes");
  // Its lines are not progress; a memory-pressure kill is activity.
  Seen s = feed_lines(*c, "session_x/logs/raylet.out",
                      {"[2026-03-11 06:12:30,500 I 3772 3772] (raylet) node_manager.cc:525: [state-dump] NodeManager:",
                       "[2024-08-25 19:21:02,241 E 1111013 1111013] (raylet) node_manager.cc:3064: 12 Workers (tasks / "
                       "actors) killed due to memory pressure (OOM), 0 Workers crashed due to other reasons"});
  EXPECT_TRUE(s.progress.empty());
  EXPECT_EQ(s.activity["raylet session_x"], 1u);
}

TEST(LiveRay, JobSubmitEndLinesEndTheJobAndALoggedTracebackInsideAnActorDoesNot) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(*c, "driver.log",
                      {"\x1b[36m(TrainerActor pid=1)\x1b[0m Traceback (most recent call last):",
                       "\x1b[36m(TrainerActor pid=1)\x1b[0m   File \"x.py\", line 1, in f",
                       "\x1b[36m(TrainerActor pid=1)\x1b[0m ValueError: boom",
                       "------------------------------------------",
                       "Job 'raysubmit_abc' succeeded",
                       "------------------------------------------"});
  EXPECT_EQ(s.job_ended, std::vector<std::string>{"Job 'raysubmit_abc' succeeded"});
  s = feed_lines(*c, "driver.log", {"Job 'raysubmit_abc' failed", "Job 'raysubmit_abc' is running"});
  EXPECT_EQ(s.job_ended, std::vector<std::string>{"Job 'raysubmit_abc' failed"});
  // The driver's own traceback ends the job at its exception line, not at its frames.
  s = feed_lines(*c, "driver.log",
                 {"Traceback (most recent call last):", "  File \"<frozen runpy>\", line 198, in _run_module_as_main",
                  "    main()", "ray.exceptions.RayActorError: The actor died unexpectedly before finishing this task.",
                  "\tclass_name: SglEngine"});
  EXPECT_EQ(s.job_ended,
            std::vector<std::string>{"driver exited: ray.exceptions.RayActorError: The actor died unexpectedly "
                                     "before finishing this task."});
}

// ---------------------------------------------------------------------------------------------
// Bad input: no crash, no spurious progress.

TEST(LiveRay, GarbageHugeCutAndMadeUpPrefixLinesYieldNoProgress) {
  auto c = alog::follow::make_ray_classifier();
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  garbage.erase(std::remove(garbage.begin(), garbage.end(), '\n'), garbage.end());
  const std::string huge(1 << 20, 'x');
  const std::string huge_bar = "\rTraining:  10%|" + std::string(1 << 20, '#');
  const std::string huge_prefix = "(" + std::string(1 << 20, 'A') + " pid=1) hello";
  for (const char* f : {"driver.log", "s/logs/worker-ab-01000000-12.err", "s/logs/raylet.out"}) {
    Seen s = feed_lines(*c, f,
                        {garbage, huge, huge_bar, huge_prefix, "(", "(pid=", "(pid=x) a", "(X pid=-3) a", "\x1b[",
                         "\x1b[36", "\r\r\r", "Training: 5%|", "Training:  5%| 5/ [", "Training: 9%| 9/3 [",
                         "Training: 0%| 0/0 [", "%|%|%| 1/2", "Traceback (most recent call last):", "  frame",
                         "not an exception line", "Job '", "[repeated 3x across cluster]"});
    EXPECT_TRUE(s.job_ended.empty()) << f;
    EXPECT_TRUE(s.finished.empty()) << f;
    EXPECT_TRUE(s.progress.empty()) << f << ": " << s.progress.begin()->first;
  }
}

TEST(LiveRay, ActorStateIsBoundedWhateverThePrefixes) {
  auto c = alog::follow::make_ray_classifier();
  std::vector<Signal> out;
  std::set<std::string> components;
  for (int i = 0; i < 10000; ++i) {
    out.clear();
    std::string line = "(A pid=" + std::to_string(i) + ") hello";
    c->on_line("driver.log", line, out);
    for (const auto& s : out) components.insert(s.component);
  }
  // At most 4096 actors; the rest are read as the driver's own lines.
  EXPECT_EQ(components.size(), 4096u + 1u);
  EXPECT_TRUE(components.count("Ray phase"));
}

TEST(LiveRay, PlainDriverLinesAreCheap) {
  auto c = alog::follow::make_ray_classifier();
  const std::string bar =
      "\rTraining:  40%|████      | 5634/14085 [6:15:33<9:29:04,  4.00s/step, loss=0.912, acc=0.633, "
      "acc_len=3.21, thru=2.3, I=2.9, T=3.6, wait=0.2s, pool=5, epoch=1/2]";
  std::vector<Signal> out;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t signals = 0;
  for (int i = 0; i < 200000; ++i) {
    out.clear();
    c->on_line("driver.log", bar, out);  // the same step: nothing moved after the first
    signals += out.size();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(signals, 4u);  // phase progress and finished, training progress, its loss: once
  RecordProperty("seconds_per_200k_bar_lines", std::to_string(s));
  EXPECT_LT(s, 20.0);
}

TEST(LiveRay, ATracebackTheDriverLogsAfterAnErrorRecordDoesNotEndTheJob) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(*c, "driver.log",
                      {"[2026-03-11 09:48:44,501] loop.py:400 ERROR Engine dispatch failed: timeout",
                       "Traceback (most recent call last):", "  File \"loop.py\", line 400, in dispatch",
                       "TimeoutError: no answer", "[2026-03-11 09:48:45,000] loop.py:401 INFO Retrying"});
  EXPECT_TRUE(s.job_ended.empty());
  EXPECT_EQ(s.last_activity["Ray phase"], "");  // the record after it is the phase's last line
  // The same traceback with no record before it is the driver's own end.
  s = feed_lines(*c, "driver.log",
                 {"Traceback (most recent call last):", "  File \"loop.py\", line 400, in dispatch",
                  "TimeoutError: no answer"});
  EXPECT_EQ(s.job_ended, std::vector<std::string>{"driver exited: TimeoutError: no answer"});
}

TEST(LiveRay, LinesThatAreOnlyAPrefixOrColourCodesAreNothing) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(*c, "driver.log",
                      {"(pid=1)", "(TrainerActor pid=1) ", "\x1b[0m", "\x1b[36m(SglEngine pid=2)\x1b[0m",
                       "(X pid=3) [repeated 2x across cluster]", "(raylet)", "\r", "\x1b[36m(pid=4)\x1b[0m \r\r"});
  EXPECT_EQ(s.signals, 0u);
}

TEST(LiveRay, ABarCutMidWayIsProgressButItsLastPostfixValueIsNoSample) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(*c, "driver.log",
                      {"\rTraining:  30%|███       | 3/10 [00:40<01:33, 13.3s/step, loss=2.5, acc=0.4",
                       "\rTraining:  40%|████      | 4/10 [00:50<01:15, 12.5s/step, acc=0.4, loss=2.4",
                       "\rTraining:  50%|█████     | 5/10 [01:00<01:00, 12.0s/step, loss=2.3]"});
  EXPECT_EQ(s.details["training"], (std::vector<std::string>{"step 3/10", "step 4/10", "step 5/10"}));
  EXPECT_EQ(s.samples["training.loss"], (std::vector<double>{2.5, 2.3}));  // not the cut "2.4"
}

TEST(LiveRay, EveryTestdataLineCutAnywhereGivesNoSampleTheWholeLinesDoNotGive) {
  for (const auto& e : fs::directory_iterator(kRay)) {
    if (!e.is_directory()) continue;
    Seen whole = feed_run(e.path());
    std::set<double> values;
    for (const auto& [m, v] : whole.samples) values.insert(v.begin(), v.end());
    auto c = alog::follow::make_ray_classifier();
    Seen cut;
    std::vector<Signal> out;
    for (const auto& f : fs::recursive_directory_iterator(e.path())) {
      if (!f.is_regular_file()) continue;
      const std::string name = fs::relative(f.path(), kRay).string();
      for (const std::string& l : alog::test_support::lines_of(slurp(f.path())))
        for (size_t n = 1; n <= l.size(); n += 5) {
          out.clear();
          c->on_line(name, std::string_view(l).substr(0, n), out);
          cut.add(out);
        }
    }
    // Cut lines still give samples (the figures they hold whole), only never a shortened one.
    EXPECT_EQ(cut.samples.empty(), values.empty()) << e.path();
    for (const auto& [m, v] : cut.samples)
      for (double x : v) EXPECT_TRUE(values.count(x)) << e.path() << " " << m << "=" << x;
  }
}

TEST(LiveRay, TheTrainingBarsRateIsTheMeasuredDurationOfTheStepsItMoved) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(*c, "driver.log",
                      {"\rTraining:   0%|          | 0/100 [00:00<?, ?step/s]",
                       "\rTraining:   1%|          | 1/100 [00:31<51:37, 31.28s/step, loss=2.871]",
                       "\rTraining:   3%|          | 3/100 [00:41<08:05,  5.00s/step, loss=2.7]",
                       "\rTraining:   7%|          | 7/100 [00:43<00:46,  2.00step/s, loss=2.6]",
                       "\rTraining:   8%|          | 8/100 [00:44<00:46,  ?s/step, loss=2.6]"});
  // 0 steps moved at the first bar; 1 step at 31.28 s; 2 at 5 s; 4 at 0.5 s; an unknown rate: none.
  EXPECT_EQ(s.measured["training"], (std::vector<double>{0, 31.28, 10, 2, 0}));
}

TEST(LiveRay, AnActorFirstHeardOfAfterTrainingStartedIsPastItsStartUp) {
  auto c = alog::follow::make_ray_classifier();
  Seen s = feed_lines(*c, "driver.log",
                      {"\x1b[36m(AsyncInferenceManager pid=5)\x1b[0m some start-up line",
                       "[2026-03-11 06:26:53,437] loop.py:211 INFO Starting: num_steps=14085, num_epochs=2",
                       "\x1b[36m(TrainerActor pid=9)\x1b[0m [2026-03-11 07:34:05,118] trainer.py:339 INFO [Rank 3] "
                       "Saved draft model to /ckpt/x/iter_0001000"});
  // Before training, an actor with no progress yet is given start-up's 15 minutes (seed 004).
  EXPECT_EQ(s.activity_typical["actor AsyncInferenceManager pid=5"], std::vector<double>{900});
  EXPECT_EQ(s.finished, (std::set<std::string>{"Ray phase", "actor AsyncInferenceManager pid=5",
                                              "actor TrainerActor pid=9"}));
  EXPECT_EQ(s.activity["actor TrainerActor pid=9"], 1u);
  EXPECT_EQ(s.activity_typical["actor TrainerActor pid=9"], std::vector<double>{0});
}
