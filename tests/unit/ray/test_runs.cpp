// The four testdata runs (testdata/ray/): one that finished start-up and trains, one stuck in
// shard loading, one killed by an NCCL timeout with a silent straggler rank, and one whose
// SglEngine died (RayActorError) with the worker files of two nodes. Each is checked for the
// phase reached, phase durations, the verdict and the file:line evidence, then with fewer
// inputs (driver log only, live clock) to show what each input adds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyze_logs/ray.hpp"

#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog::ray;

namespace {

const fs::path kRay = fs::path(ALOG_TESTDATA) / "ray";

const char* kTrainingLog = "running_logs/kimi25_3node_train_20260311_061205.log";
const char* kStuckLog = "running_logs/kimi25_3node_train_20260312_091502.log";
const char* kNcclLog = "running_logs/qwen3_8b_train_20260313_101502.log";
const char* kDiedLog = "running_logs/kimi25_3node_train_20260314_080512.log";

// The display path of the worker-*-<pid>.err under `sub` of a case folder.
std::string worker_err(const std::string& the_case, const std::string& sub, int64_t pid) {
  std::string suffix = "-" + std::to_string(pid) + ".err";
  for (const auto& e : fs::directory_iterator(kRay / the_case / sub)) {
    std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) return sub + "/" + name;
  }
  return "<no worker file for pid " + std::to_string(pid) + ">";
}

Options live_at(const char* civil) {
  Options o;
  o.live = true;
  o.now = local_time_point(parse_civil_ms(civil).value());
  return o;
}

const Finding* find_kind(const RayReport& r, const std::string& kind) {
  for (const auto& f : r.findings)
    if (f.kind == kind) return &f;
  return nullptr;
}

bool has_ref(const Finding& f, const std::string& ref) {
  return std::any_of(f.evidence.begin(), f.evidence.end(),
                     [&](const Evidence& e) { return e.ref() == ref; });
}

const Actor* actor_pid(const RayReport& r, int64_t pid) {
  for (const auto& a : r.actors)
    if (a.pid == pid) return &a;
  return nullptr;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("alog_ray_runs_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

using alog::test_support::slurp;

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// A run that finished start-up and trains.

TEST(RayTraining, PhasesAndDurations) {
  auto r = analyze({kRay / "training"}, {});
  EXPECT_EQ(r.verdict, Verdict::running);
  EXPECT_EQ(r.phase_reached, 7);
  ASSERT_EQ(r.phases.size(), 7u);
  // start -> next phase (phase 4 and 5 end at their own markers: they run side by side).
  const int64_t expected[] = {2, 4, 1, 85, 869, 1};
  for (int p = 1; p <= 6; ++p) {
    SCOPED_TRACE(p);
    EXPECT_TRUE(r.phase(p).reached);
    EXPECT_TRUE(r.phase(p).done);
    EXPECT_FALSE(r.phase(p).over_expected);
    ASSERT_TRUE(r.phase(p).duration_s);
    EXPECT_EQ(*r.phase(p).duration_s, expected[p - 1]);
  }
  EXPECT_EQ(r.phase(1).start, "2026-03-11 06:12:14");
  EXPECT_EQ(r.phase(4).start, "2026-03-11 06:12:22");
  EXPECT_EQ(r.phase(4).end, "2026-03-11 06:13:48");  // TargetLMHead, not "All ... initialized"
  EXPECT_EQ(r.phase(5).end, "2026-03-11 06:26:51");
  EXPECT_TRUE(r.phase(7).ongoing);
  EXPECT_EQ(r.phase(7).duration_s, 22538);  // 06:26:53.420 -> raylet.out 12:42:31.500
}

TEST(RayTraining, LateAddedSamplesMarksTheTrainingLoop) {
  auto r = analyze({kRay / "training"}, {});
  EXPECT_EQ(r.phase(1).first.ref(), std::string(kTrainingLog) + ":15");  // Detected nested config
  EXPECT_EQ(r.phase(2).first.ref(), std::string(kTrainingLog) + ":19");  // Connecting to Ray
  EXPECT_EQ(r.phase(7).first.ref(), std::string(kTrainingLog) + ":90");  // Added 37560 samples
  EXPECT_EQ(r.phase(7).start, "2026-03-11 06:26:53");
}

TEST(RayTraining, ProgressAndSilence) {
  auto r = analyze({kRay / "training"}, {});
  ASSERT_TRUE(r.training);
  EXPECT_EQ(r.training->percent, 40);
  EXPECT_EQ(r.training->n, 5634);
  EXPECT_EQ(r.training->total, 14085);
  EXPECT_EQ(r.training->elapsed, "6:15:33");
  ASSERT_FALSE(r.training->postfix.empty());
  EXPECT_EQ(r.training->postfix[0], (std::pair<std::string, std::string>{"loss", "0.912"}));
  // The bar carries no stamp: its time is "Starting:" (06:26:53.437) + 6:15:33.
  EXPECT_EQ(r.training->time, "2026-03-11 12:42:26");
  ASSERT_TRUE(r.phase(5).progress);
  EXPECT_EQ(r.phase(5).progress->percent, 100);
  EXPECT_EQ(r.phase(5).progress->n, 64);
  EXPECT_EQ(r.last_output_at, "2026-03-11 12:42:26");
  EXPECT_EQ(r.end_at, "2026-03-11 12:42:31");
  EXPECT_EQ(r.end_source, "session_latest/logs/raylet.out");
  EXPECT_EQ(r.silence_s, 5);
}

// --live measures liveness against the same clock as the silence: a raylet.out that stopped with
// the driver does not make "the cluster is alive" (issue 22: "--live says the cluster is alive and
// no output for 6447 h about the same old log").
TEST(RayTraining, LiveClockLongAfterTheLogsSaysTheWholeJobStopped) {
  auto r = analyze({kRay / "training"}, live_at("2026-03-11 14:00:00"));
  EXPECT_EQ(r.verdict, Verdict::stuck);
  EXPECT_EQ(r.end_source, "live clock");
  EXPECT_EQ(r.reason.find("the cluster is alive"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("session_latest/logs/raylet.out kept writing until 2026-03-11 12:42:31, but it too has "
                          "been silent for 1 h 17 min: the whole job has stopped"),
            std::string::npos)
      << r.reason;
}

TEST(RayTraining, VerdictActorsAndBenignNoise) {
  auto r = analyze({kRay / "training"}, {});
  EXPECT_EQ(r.headline, "running: phase 7 (Training loop), training at 40 % (5634/14085 steps)");
  EXPECT_EQ(verdict_line(r),
            "running: in phase 7 (Training loop) for 6 h 16 min, no output for 5 s, training at "
            "40 % (5634/14085 steps)");
  EXPECT_TRUE(r.findings.empty());
  // 1 + 7 (de-duplicated) trainers, 2 engines, 3 worker files: counted, never a finding.
  EXPECT_EQ(r.benign_lines, 13u);
  ASSERT_TRUE(r.benign_first);
  EXPECT_EQ(r.benign_first->ref(), std::string(kTrainingLog) + ":60");

  const Actor* t0 = actor_pid(r, 387604);
  ASSERT_TRUE(t0);
  EXPECT_EQ(t0->name, "TrainerActor");
  EXPECT_EQ(t0->rank, 0);
  EXPECT_EQ(t0->worker_file, worker_err("training", "session_latest/logs", 387604));
  EXPECT_EQ(t0->last_time, "2026-03-11 12:04:43");
  EXPECT_EQ(t0->status, "ok");
  const Actor* e0 = actor_pid(r, 514428);
  ASSERT_TRUE(e0);
  EXPECT_EQ(e0->name, "SglEngine");
  EXPECT_EQ(e0->ip, "10.0.0.2");
  EXPECT_EQ(e0->last_time, "2026-03-11 09:15:20");
  const Actor* t7 = actor_pid(r, 387611);  // known from a de-duplicated line and its file
  ASSERT_TRUE(t7);
  EXPECT_EQ(t7->rank, 7);
}

TEST(RayTraining, DriverLogAloneCannotMeasureSilence) {
  auto r = analyze({kRay / "training" / kTrainingLog}, {});
  EXPECT_EQ(r.verdict, Verdict::running);
  EXPECT_EQ(r.driver_logs, std::vector<std::string>{"kimi25_3node_train_20260311_061205.log"});
  EXPECT_EQ(r.end_source, "last driver or worker line");
  EXPECT_EQ(r.silence_s, 0);
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) {
    return contains(n, "silence cannot be measured");
  }));
  EXPECT_EQ(r.phase(5).duration_s, 869);
}

TEST(RayTraining, ReportWriters) {
  auto r = analyze({kRay / "training"}, {});
  std::string md = to_markdown(r);
  EXPECT_EQ(md.rfind("# Ray training job (TorchSpec)\n\n**Verdict: running", 0), 0u);
  EXPECT_TRUE(contains(md,
                       "| 7 | Training loop | 06:26:53 | 6 h 16 min so far | ongoing | 40 % "
                       "(5634/14085), loss 0.912 | running |"));
  EXPECT_TRUE(contains(md, "| 4 | TrainerActor init | 06:12:22 | 85 s | ~1 min |"));
  EXPECT_TRUE(contains(md, "13 × Failed to establish connection to the metrics exporter agent"));
  EXPECT_TRUE(contains(md, "| TrainerActor | 0 | 387604 | driver node |"));
  auto j = to_json(r);
  EXPECT_EQ(j["verdict"], "running");
  EXPECT_EQ(j["phase_reached"], 7);
  EXPECT_EQ(j["phases"][4]["duration_s"], 869);
  EXPECT_EQ(j["training"]["n"], 5634);
  EXPECT_EQ(j["training"]["postfix"]["loss"], "0.912");
  EXPECT_EQ(j["ignored_benign"]["lines"], 13);
  EXPECT_EQ(j["silence_s"], 5);
  EXPECT_NO_THROW((void)j.dump());
}

// ---------------------------------------------------------------------------------------------
// A run stuck in shard loading.

TEST(RayStuck, StuckInShardLoading) {
  auto r = analyze({kRay / "stuck_shards"}, {});
  EXPECT_EQ(r.verdict, Verdict::stuck);
  EXPECT_EQ(r.phase_reached, 5);
  EXPECT_EQ(r.headline, "stuck in phase 5 (SglEngine init)");
  EXPECT_EQ(verdict_line(r),
            "stuck in phase 5 (SglEngine init) for 14 min, no output for 11 min: shard loading "
            "stopped at 62 % (30/48)");
  EXPECT_EQ(r.in_phase_s, 840);  // 09:18:10.004 -> raylet.out 09:32:10.500
  EXPECT_EQ(r.silence_s, 660);   // shard bar 09:21:10.101 (09:18:30.101 + 02:40)
  EXPECT_EQ(r.last_output_at, "2026-03-12 09:21:10");
  EXPECT_EQ(r.end_source, "session_latest/logs/raylet.out");
  ASSERT_TRUE(r.phase(5).progress);
  EXPECT_EQ(r.phase(5).progress->percent, 62);
  EXPECT_EQ(r.phase(5).progress->n, 30);
  EXPECT_EQ(r.phase(5).progress->total, 48);
  EXPECT_EQ(r.phase(5).progress->pid, 514428);
  EXPECT_TRUE(r.phase(5).ongoing);
  EXPECT_FALSE(r.phase(5).over_expected);  // 14 min is within the typical 5-15 min
  EXPECT_FALSE(r.phase(6).reached);
}

TEST(RayStuck, DurationsOfTheEarlierPhases) {
  auto r = analyze({kRay / "stuck_shards"}, {});
  EXPECT_EQ(r.phase(1).duration_s, 173);  // tokenizing the dataset: long, but under 5 min
  EXPECT_FALSE(r.phase(1).over_expected);
  EXPECT_EQ(r.phase(2).duration_s, 4);
  EXPECT_EQ(r.phase(3).duration_s, 2);
  EXPECT_EQ(r.phase(4).duration_s, 84);
  EXPECT_TRUE(r.phase(4).done);
}

TEST(RayStuck, StallFindingEvidenceAndFix) {
  auto r = analyze({kRay / "stuck_shards"}, {});
  ASSERT_FALSE(r.findings.empty());
  const Finding& f = r.findings[0];
  EXPECT_EQ(f.kind, "stall");
  EXPECT_EQ(f.severity, "warning");
  EXPECT_EQ(
      f.title,
      "No output for 11 min in phase 5 (SglEngine init): shard loading stopped at 62 % (30/48)");
  ASSERT_GE(f.evidence.size(), 2u);
  EXPECT_EQ(f.evidence[0].ref(), std::string(kStuckLog) + ":77");
  EXPECT_EQ(f.evidence[1].ref(), "session_latest/logs/raylet.out:70");
  EXPECT_TRUE(contains(f.fix, "iostat"));
  EXPECT_TRUE(contains(f.fix, "dmesg"));
  EXPECT_EQ(f.pid, 514428);
  EXPECT_EQ(f.ip, "10.0.0.2");
  EXPECT_TRUE(contains(f.detail, "worker-*-514428.err in session_latest/logs/ on 10.0.0.2"));
  EXPECT_TRUE(contains(r.reason, "raylet.out kept writing until 2026-03-12 09:32:10"));
}

TEST(RayStuck, LiveClockOnTheDriverLogAlone) {
  auto log = kRay / "stuck_shards" / kStuckLog;
  auto stuck = analyze({log}, live_at("2026-03-12 09:32:11"));
  EXPECT_EQ(stuck.verdict, Verdict::stuck);
  EXPECT_EQ(stuck.end_source, "live clock");
  EXPECT_EQ(stuck.silence_s, 660);
  EXPECT_EQ(stuck.in_phase_s, 840);

  auto early = analyze({log}, live_at("2026-03-12 09:23:00"));
  EXPECT_EQ(early.verdict, Verdict::running);
  EXPECT_EQ(early.silence_s, 109);
  EXPECT_EQ(verdict_line(early),
            "running: in phase 5 (SglEngine init) for 5 min, no output for 109 s, shard loading at "
            "62 % (30/48)");

  // Without the live clock or Ray's own logs, silence cannot be measured: not called stuck.
  auto offline = analyze({log}, {});
  EXPECT_EQ(offline.verdict, Verdict::running);
  EXPECT_EQ(offline.silence_s, 0);
}

TEST(RayStuck, SilenceAfterShardsReachFullIsNormalThenSuspicious) {
  TempDir tmp;
  std::string text = slurp(kRay / "stuck_shards" / kStuckLog);
  text +=
      "\x1b[36m(SglEngine pid=514428, ip=10.0.0.2)\x1b[0m \rMulti-thread loading shards: 100% "
      "Completed | 48/48 [04:15<00:00,  5.31s/it]\n";
  auto log = tmp.path / "running_logs" / "kimi25_3node_train_20260312_091502.log";
  spit(log, text);
  // The bar reached 100 % at 09:18:30.101 + 04:15 = 09:22:45.

  auto normal = analyze({log}, live_at("2026-03-12 09:28:46"));
  EXPECT_EQ(normal.verdict, Verdict::running);
  EXPECT_EQ(normal.silence_s, 360);
  EXPECT_EQ(normal.phase(5).progress->percent, 100);
  EXPECT_TRUE(std::any_of(normal.notes.begin(), normal.notes.end(), [](const std::string& n) {
    return contains(n, "Silence after the shards reach 100 % is normal for some minutes") &&
           contains(n, "KV cache") && contains(n, "CUDA graphs") && contains(n, "after 10 min");
  }));

  auto suspicious = analyze({log}, live_at("2026-03-12 09:33:46"));
  EXPECT_EQ(suspicious.verdict, Verdict::stuck);
  EXPECT_EQ(suspicious.silence_s, 660);
  ASSERT_FALSE(suspicious.findings.empty());
  EXPECT_EQ(suspicious.findings[0].kind, "stall");
  EXPECT_TRUE(
      contains(suspicious.findings[0].title, "the shards reached 100 % and nothing followed"));
  EXPECT_TRUE(contains(suspicious.findings[0].fix, "CUDA graph capture hung"));
  EXPECT_TRUE(contains(suspicious.findings[0].fix, "nvidia-smi"));
}

// ---------------------------------------------------------------------------------------------
// A run killed by an NCCL timeout; rank 2 never reached the collective.

TEST(RayNccl, RootCauseAndStraggler) {
  auto r = analyze({kRay / "nccl_timeout"}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.phase_reached, 7);
  const Finding* root = r.root();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->kind, "nccl_timeout");
  EXPECT_EQ(root->title,
            "NCCL collective timeout: ALLREDUCE (SeqNum 5274) ran past its 10 min timeout; rank 2 "
            "never reported it (likely straggler)");
  EXPECT_EQ(root->time, "2026-03-13 10:48:40");
  EXPECT_EQ(r.headline, "failed: " + root->title);
  ASSERT_TRUE(r.collective);
  EXPECT_EQ(r.collective->op, "ALLREDUCE");
  EXPECT_EQ(r.collective->seq, 5274);
  EXPECT_EQ(r.collective->timeout_ms, 600000);
  EXPECT_TRUE(r.collective->per_worker);
  EXPECT_EQ(r.collective->reported_ranks, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(r.collective->silent_ranks, (std::vector<int>{2}));
  EXPECT_TRUE(r.collective->unseen_ranks.empty());
  EXPECT_EQ(r.collective->world_size, 4);
}

TEST(RayNccl, EvidenceFromEachRanksWorkerFile) {
  auto r = analyze({kRay / "nccl_timeout"}, {});
  const Finding* root = r.root();
  ASSERT_TRUE(root);
  const std::string logs = "session_latest/logs";
  ASSERT_GE(root->evidence.size(), 5u);
  EXPECT_EQ(root->evidence[0].ref(), worker_err("nccl_timeout", logs, 70211) + ":12");
  EXPECT_EQ(root->evidence[1].ref(), worker_err("nccl_timeout", logs, 70212) + ":11");
  EXPECT_EQ(root->evidence[2].ref(), worker_err("nccl_timeout", logs, 70214) + ":11");
  // The straggler's last line, ten minutes before the others timed out.
  EXPECT_EQ(root->evidence[3].ref(), worker_err("nccl_timeout", logs, 70213) + ":11");
  EXPECT_EQ(root->evidence[3].time, "2026-03-13 10:38:40");
  EXPECT_EQ(root->evidence[4].ref(), std::string(kNcclLog) + ":65");  // glued to the tqdm line
  EXPECT_TRUE(contains(root->detail, "Rank 2 (TrainerActor pid 70213) did not"));
  EXPECT_TRUE(contains(root->detail, "10 min before the first watchdog message"));
  EXPECT_TRUE(contains(root->fix, "NCCL_SOCKET_IFNAME"));
  EXPECT_EQ(verdict_line(r), r.headline + " [" + root->evidence[0].ref() + "]");
}

TEST(RayNccl, ActorsAndTheDeathThatFollowed) {
  auto r = analyze({kRay / "nccl_timeout"}, {});
  const Actor* straggler = actor_pid(r, 70213);
  ASSERT_TRUE(straggler);
  EXPECT_EQ(straggler->rank, 2);
  EXPECT_EQ(straggler->status, "silent (likely straggler)");
  EXPECT_EQ(straggler->last_time, "2026-03-13 10:38:40");
  EXPECT_EQ(actor_pid(r, 70212)->status, "watchdog timeout");
  EXPECT_EQ(actor_pid(r, 70211)->status, "died");

  const Finding* died = find_kind(r, "actor_died");
  ASSERT_TRUE(died);
  EXPECT_TRUE(died->consequence);
  EXPECT_FALSE(died->root_cause);
  EXPECT_EQ(died->actor, "TrainerActor");
  EXPECT_EQ(died->pid, 70211);
  EXPECT_EQ(died->ip, "10.0.0.1");
  EXPECT_EQ(died->worker_file, worker_err("nccl_timeout", "session_latest/logs", 70211));
  EXPECT_TRUE(has_ref(*died, std::string(kNcclLog) + ":102"));  // ray.exceptions.ActorDiedError
  EXPECT_TRUE(contains(died->detail, "It died of: the NCCL watchdog abort"));
  EXPECT_TRUE(contains(
      died->detail,
      "loop.py\", line 305, in run_training_loop: train_results = ray.get(train_futures)"));
  // The aborts that followed the watchdog are folded into the NCCL finding.
  EXPECT_FALSE(find_kind(r, "native_crash"));
  ASSERT_TRUE(r.training);
  EXPECT_EQ(r.training->n, 1311);
}

TEST(RayNccl, DriverLogAloneCannotTellTheStraggler) {
  auto r = analyze({kRay / "nccl_timeout" / kNcclLog}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_TRUE(r.collective);
  EXPECT_FALSE(r.collective->per_worker);
  EXPECT_TRUE(r.collective->silent_ranks.empty());
  const Finding* root = r.root();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->kind, "nccl_timeout");
  EXPECT_TRUE(contains(root->detail, "de-duplicates"));
  EXPECT_TRUE(contains(root->detail, "Pass the session logs folder"));
  EXPECT_EQ(root->evidence[0].ref(), "qwen3_8b_train_20260313_101502.log:65");
  // The watchdog lines stand for more ranks than they show ([repeated 2x across cluster]).
  EXPECT_GE(root->occurrences, 6u);
}

// ---------------------------------------------------------------------------------------------
// A RayActorError: SglEngine on 10.0.0.2 ran out of GPU memory after the shards loaded.

TEST(RayActorDied, CauseInTheWorkerFileOfThatPid) {
  auto r = analyze({kRay / "actor_died"}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.phase_reached, 5);
  EXPECT_EQ(r.phase(5).progress->percent, 100);
  EXPECT_EQ(r.headline,
            "failed: CUDA out of memory in SglEngine (pid 514428, 10.0.0.2), which then died "
            "(RayActorError)");
  const std::string wf = worker_err("actor_died", "node-10.0.0.2/session_latest/logs", 514428);
  const Finding* root = r.root();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->kind, "cuda_oom");
  EXPECT_EQ(root->evidence[0].ref(), wf + ":24");
  EXPECT_EQ(root->time, "2026-03-14 08:21:02");
  EXPECT_TRUE(contains(root->fix, "mem_fraction_static"));
  EXPECT_TRUE(contains(root->detail, "cuda_graph_runner.py\", line 498, in capture"));
}

TEST(RayActorDied, ActorDeathNamesActorPidIpAndWorkerFile) {
  auto r = analyze({kRay / "actor_died"}, {});
  const std::string wf = worker_err("actor_died", "node-10.0.0.2/session_latest/logs", 514428);
  const Finding* died = find_kind(r, "actor_died");
  ASSERT_TRUE(died);
  EXPECT_EQ(died->actor, "SglEngine");
  EXPECT_EQ(died->pid, 514428);
  EXPECT_EQ(died->ip, "10.0.0.2");
  EXPECT_EQ(died->worker_file, wf);
  EXPECT_TRUE(died->consequence);
  EXPECT_TRUE(has_ref(*died, std::string(kDiedLog) + ":112"));  // ray.exceptions.RayActorError
  EXPECT_TRUE(has_ref(*died, std::string(kDiedLog) + ":93"));   // (raylet, ip=...) A worker died
  EXPECT_TRUE(has_ref(*died, wf + ":24"));
  EXPECT_TRUE(contains(died->detail, "Its log is " + wf));
  EXPECT_TRUE(contains(died->detail, "train_entry.py\", line 207, in train_async_no_generation"));
  EXPECT_TRUE(contains(died->fix, "worker-*.err by the PID"));
  const Actor* a = actor_pid(r, 514428);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, "died");
  EXPECT_EQ(a->worker_file, wf);
  EXPECT_EQ(r.session_dirs,
            (std::vector<std::string>{"session_latest/logs", "node-10.0.0.2/session_latest/logs"}));
}

TEST(RayActorDied, DriverLogAlonePointsAtTheMissingWorkerFile) {
  auto r = analyze({kRay / "actor_died" / kDiedLog}, {});
  const Finding* died = find_kind(r, "actor_died");
  ASSERT_TRUE(died);
  EXPECT_TRUE(died->worker_file.empty());
  EXPECT_TRUE(contains(died->detail,
                       "Its log is worker-*-514428.err in session_latest/logs/ on 10.0.0.2; that "
                       "file is not among the inputs."));
  EXPECT_EQ(r.root()->kind, "cuda_oom");  // relayed to the driver as well
}

TEST(RayActorDied, KilledWithoutATraceIsTheRootCause) {
  // SIGKILL (the OOM killer) leaves nothing in the worker file: the death is the root cause
  // and the worker file's last line is the evidence of when it stopped.
  TempDir tmp;
  spit(tmp.path / "running_logs" / "r_20260315_120000.log",
       "+ python3 -m torchspec.train_entry --config x.yaml\n"
       "[2026-03-15 12:00:01,000] train_entry.py:248 INFO Detected nested config format\n"
       "[2026-03-15 12:00:05,000] train_entry.py:203 INFO Waiting for 1 training actors and 1 "
       "inference engines to initialize in parallel...\n"
       "(TrainerActor pid=4242) [2026-03-15 12:00:20,000] trainer.py:101 INFO [Rank 0] Device "
       "mesh (1D): world_size=1, dp_size=1\n"
       "Traceback (most recent call last):\n"
       "  File \"/x/train_entry.py\", line 207, in train_async_no_generation\n"
       "    all_results = ray.get(train_init_refs + engine_init_refs)\n"
       "ray.exceptions.RayActorError: The actor died unexpectedly before finishing this task.\n"
       "\tclass_name: TrainerActor\n\tpid: 4242\n"
       "The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR\n");
  spit(tmp.path / "session_latest" / "logs" / "worker-abcdef-01000000-4242.err",
       ":job_id:01000000\n:actor_name:TrainerActor\n"
       "[2026-03-15 12:00:20,000] trainer.py:101 INFO [Rank 0] Device mesh (1D): world_size=1, "
       "dp_size=1\n"
       "[2026-03-15 12:00:31,000] eagle3_trainer.py:86 INFO [Rank 0] Draft model: 1 trainable, 2 "
       "frozen (embedding) parameters\n");
  spit(tmp.path / "session_latest" / "logs" / "raylet.out",
       "[2026-03-15 12:00:40,000 E 9 9] (raylet) node_manager.cc:3064: 1 Workers (tasks / actors) "
       "killed due to memory pressure (OOM), 0 Workers crashed due to other reasons at node\n");
  auto r = analyze({tmp.path}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  const Finding* died = find_kind(r, "actor_died");
  ASSERT_TRUE(died);
  EXPECT_EQ(died->pid, 4242);
  EXPECT_EQ(died->actor, "TrainerActor");
  EXPECT_TRUE(contains(died->detail, "no error; it ends at 2026-03-15 12:00:31"));
  EXPECT_TRUE(has_ref(*died, "session_latest/logs/worker-abcdef-01000000-4242.err:4"));
  const Finding* oom = find_kind(r, "host_oom");
  ASSERT_TRUE(oom);
  EXPECT_TRUE(has_ref(*oom, "session_latest/logs/raylet.out:1"));
  EXPECT_TRUE(contains(oom->fix, "dmesg"));
}
