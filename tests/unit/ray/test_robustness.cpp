// Input recognition and bad inputs: what is claimed as a driver log or session folder, and what
// analyze() does with missing paths, empty or garbage files, a log without timestamps, corrupt
// compressed worker files, hostile text and de-duplicated counts. Nothing here may throw.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/ray.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog::ray;

namespace {

const fs::path kRay = fs::path(ALOG_TESTDATA) / "ray";

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("alog_ray_rob_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

using alog::test_support::slurp;

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

bool any_note(const RayReport& r, const std::string& needle) {
  return std::any_of(r.notes.begin(), r.notes.end(),
                     [&](const std::string& n) { return contains(n, needle); });
}

// Every writer must accept whatever analyze() produced.
void render_all(const RayReport& r) {
  EXPECT_NO_THROW((void)to_markdown(r));
  EXPECT_NO_THROW((void)to_json(r).dump());
  EXPECT_NO_THROW((void)verdict_line(r));
}

}  // namespace

TEST(RayInputs, DriverLogsAreRecognisedByContent) {
  EXPECT_TRUE(is_driver_log(kRay / "training/running_logs/kimi25_3node_train_20260311_061205.log"));
  EXPECT_TRUE(is_driver_log(kRay / "nccl_timeout/running_logs/qwen3_8b_train_20260313_101502.log"));
  TempDir tmp;
  spit(tmp.path / "other.log",
       "[2025-11-22 04:15:01 DP0 TP0] Prefill batch, #new-seq: 1, #new-token: 1024\n"
       "(RayWorkerWrapper pid=44970, ip=10.240.34.77) INFO 04-14 13:53:43 vllm\n");
  EXPECT_FALSE(is_driver_log(tmp.path / "other.log"));  // a generic Ray log is not claimed
  EXPECT_FALSE(is_driver_log(tmp.path / "missing.log"));
  EXPECT_FALSE(is_driver_log(tmp.path));  // a directory
  // Only the first 64 KB are read: a marker after them does not count.
  spit(tmp.path / "late.log",
       std::string(70 * 1024, 'x') + "\n+ python3 -m torchspec.train_entry\n");
  EXPECT_FALSE(is_driver_log(tmp.path / "late.log"));
}

TEST(RayInputs, CompressedDriverLog) {
  TempDir tmp;
  std::string text =
      slurp(kRay / "stuck_shards/running_logs/kimi25_3node_train_20260312_091502.log");
  auto gz = tmp.path / "kimi25_3node_train_20260312_091502.log.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_TRUE(f);
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  EXPECT_TRUE(is_driver_log(gz));
  Options o;
  o.live = true;
  o.now = local_time_point(parse_civil_ms("2026-03-12 09:32:11").value());
  auto r = analyze({gz}, o);
  EXPECT_EQ(r.verdict, Verdict::stuck);
  EXPECT_EQ(r.phase(5).progress->percent, 62);
}

TEST(RayInputs, SessionFoldersAtEachLevel) {
  EXPECT_TRUE(is_session_logs_dir(kRay / "training/session_latest/logs"));
  EXPECT_TRUE(is_session_logs_dir(kRay / "training/session_latest"));
  EXPECT_TRUE(is_session_logs_dir(kRay / "training"));  // a RAY_TEMP_DIR-like folder
  EXPECT_FALSE(is_session_logs_dir(kRay / "training/running_logs"));
  EXPECT_FALSE(is_session_logs_dir(kRay / "does-not-exist"));
  TempDir tmp;
  EXPECT_FALSE(is_session_logs_dir(tmp.path));
  spit(tmp.path / "logs" / "raylet.out", "");
  EXPECT_TRUE(is_session_logs_dir(tmp.path));
}

TEST(RayInputs, SeveralInputsAtOnce) {
  // The driver log and the session folder given separately: the same answer as the run folder.
  auto r = analyze({kRay / "nccl_timeout/running_logs/qwen3_8b_train_20260313_101502.log",
                    kRay / "nccl_timeout/session_latest/logs"},
                   {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_TRUE(r.collective);
  EXPECT_EQ(r.collective->silent_ranks, std::vector<int>{2});
  EXPECT_EQ(r.driver_logs,
            std::vector<std::string>{"running_logs/qwen3_8b_train_20260313_101502.log"});
  EXPECT_EQ(r.worker_files, 12u);
}

TEST(RayInputs, NewestRunInARunningLogsFolder) {
  TempDir tmp;
  auto src = kRay / "stuck_shards/running_logs/kimi25_3node_train_20260312_091502.log";
  fs::create_directories(tmp.path / "running_logs");
  fs::copy_file(src, tmp.path / "running_logs/kimi25_3node_train_20260312_091502.log");
  spit(tmp.path / "running_logs/kimi25_3node_train_20260301_080000.log",
       "+ python3 -m torchspec.train_entry --config old.yaml\n");
  auto r = analyze({tmp.path}, {});
  EXPECT_EQ(r.driver_logs,
            std::vector<std::string>{"running_logs/kimi25_3node_train_20260312_091502.log"});
  ASSERT_EQ(r.ignored.size(), 1u);
  EXPECT_TRUE(contains(r.ignored[0], "kimi25_3node_train_20260301_080000.log"));
  EXPECT_EQ(r.phase_reached, 5);
}

TEST(RayBadInput, MissingPathAndEmptyFolder) {
  TempDir tmp;
  auto r = analyze({tmp.path / "nope", tmp.path}, {});
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_EQ(r.phases.size(), 7u);
  EXPECT_EQ(r.phase_reached, 0);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0].message, "No such file or directory");
  EXPECT_TRUE(
      contains(r.problems[1].message, "no TorchSpec driver log or Ray session logs folder"));
  EXPECT_EQ(r.headline, "unknown: no Ray or TorchSpec log lines were read");
  render_all(r);
  EXPECT_TRUE(contains(to_markdown(r), "## Problems"));
}

TEST(RayBadInput, NoInputsAtAll) {
  auto r = analyze({}, {});
  EXPECT_EQ(r.verdict, Verdict::unknown);
  render_all(r);
}

TEST(RayBadInput, GarbageFileGivenByName) {
  TempDir tmp;
  std::string junk;
  for (int i = 0; i < 20000; ++i) junk += static_cast<char>((i * 7919) % 256);
  junk += "\n(Sgl\x1b[36mX pid=\n[2026-99-99 99:99:99,999] |||\r\r\r";
  spit(tmp.path / "junk.bin", junk);
  auto r = analyze({tmp.path / "junk.bin"}, {});
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_EQ(r.headline, "unknown: no TorchSpec phase marker found");
  EXPECT_TRUE(any_note(r, "does not look like a TorchSpec driver log"));
  render_all(r);
}

TEST(RayBadInput, EmptyDriverLogAndEmptyWorkerFiles) {
  TempDir tmp;
  spit(tmp.path / "running_logs" / "x_20260101_000000.log", "");
  spit(tmp.path / "s" / "logs" / "worker-aa-01000000-1.err", "");
  spit(tmp.path / "s" / "logs" / "worker-aa-01000000-1.out", "");
  auto r = analyze({tmp.path / "running_logs" / "x_20260101_000000.log", tmp.path / "s"}, {});
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_TRUE(r.actors.empty());
  render_all(r);
}

TEST(RayBadInput, TimestamplessLog) {
  // Phase markers without any stamp: phases are found, durations and silence are unknown.
  TempDir tmp;
  auto log = tmp.path / "nostamp.log";
  spit(log,
       "+ python3 -m torchspec.train_entry --config x.yaml\n"
       "INFO Detected nested config format, using parse_nested_config()\n"
       "INFO   bundle    0, actual_bundle_index:    0, node: 10.0.0.1, gpu: 0\n"
       "INFO Auto-resolved mooncake master_server_address: 10.0.0.1:50051\n"
       "(SglEngine pid=7, ip=10.0.0.2) \rMulti-thread loading shards:  50% Completed | 2/4 "
       "[00:20<00:20, 10.0s/it]\n");
  auto r = analyze({log}, {});
  EXPECT_EQ(r.phase_reached, 5);
  EXPECT_EQ(r.verdict, Verdict::running);
  EXPECT_TRUE(r.phase(2).reached);
  EXPECT_FALSE(r.phase(2).duration_s);
  EXPECT_TRUE(r.phase(2).start.empty());
  EXPECT_FALSE(r.silence_s);
  EXPECT_FALSE(r.in_phase_s);
  EXPECT_EQ(r.phase(5).progress->percent, 50);
  EXPECT_TRUE(r.phase(5).progress->time.empty());
  EXPECT_TRUE(any_note(r, "No timestamps in the input"));
  EXPECT_EQ(verdict_line(r), "running: phase 5 (SglEngine init), shard loading at 50 % (2/4)");
  // Even the live clock cannot measure silence without a stamp.
  Options o;
  o.live = true;
  o.now = local_time_point(parse_civil_ms("2026-03-12 09:32:11").value());
  auto live = analyze({log}, o);
  EXPECT_EQ(live.verdict, Verdict::running);
  EXPECT_FALSE(live.silence_s);
  render_all(r);
}

TEST(RayBadInput, CorruptCompressedWorkerFileIsAProblem) {
  TempDir tmp;
  auto logs = tmp.path / "session_latest" / "logs";
  fs::create_directories(logs);
  fs::copy(kRay / "stuck_shards/session_latest/logs", logs);
  spit(logs / "worker-deadbeef-02000000-999.err", std::string("\x1f\x8b\x08\x00garbage", 12));
  fs::copy(kRay / "stuck_shards/running_logs", tmp.path / "running_logs");
  auto r = analyze({tmp.path}, {});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].file, "session_latest/logs/worker-deadbeef-02000000-999.err");
  EXPECT_EQ(r.verdict, Verdict::stuck);  // the rest is still analysed
}

TEST(RayBadInput, HugeLineWithoutNewline) {
  TempDir tmp;
  std::string text =
      "+ python3 -m torchspec.train_entry\n"
      "[2026-03-11 06:12:14,502] train_entry.py:248 INFO Detected nested config format\n";
  for (int i = 0; i < 40000; ++i)
    text += "\rTraining:   1%|          | " + std::to_string(i) +
            "/14085 [00:" + std::to_string(10 + i % 40) + "<1:00:00,  4.00s/step, loss=1.0]";
  spit(tmp.path / "big.log", text);
  auto r = analyze({tmp.path / "big.log"}, {});
  EXPECT_EQ(r.phase_reached, 7);
  ASSERT_TRUE(r.training);
  render_all(r);
}

TEST(RayBadInput, HostileTextIsEscaped) {
  TempDir tmp;
  auto log = tmp.path / "x.log";
  spit(log,
       "+ python3 -m torchspec.train_entry\n"
       "[2026-03-11 06:12:14,502] train_entry.py:248 INFO Detected nested config format\n"
       "Traceback (most recent call last):\n"
       "  File \"/x/<b>train_entry.py\", line 1, in main\n"
       "ValueError: bad | cell <script>alert(1)</script> `tick` \xff\xfe\n");
  auto r = analyze({log}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_TRUE(r.root());
  EXPECT_EQ(r.root()->kind, "traceback");
  EXPECT_EQ(r.root()->actor, "driver");
  std::string md = to_markdown(r);
  EXPECT_FALSE(contains(md, "<script>"));
  EXPECT_TRUE(contains(md, "&lt;script&gt;"));
  EXPECT_TRUE(contains(md, "bad \\| cell"));
  EXPECT_NO_THROW((void)to_json(r).dump());
  EXPECT_EQ(verdict_line(r).find('\n'), std::string::npos);
}

TEST(RayBadInput, DedupCountsAsThatManyOccurrences) {
  TempDir tmp;
  auto log = tmp.path / "x.log";
  spit(log,
       "+ python3 -m torchspec.train_entry\n"
       "[2026-03-11 06:12:14,502] train_entry.py:248 INFO Detected nested config format\n"
       "\x1b[36m(TrainerActor pid=5)\x1b[0m Training loss=nan at step 7\x1b[32m [repeated 7x "
       "across cluster]\x1b[0m (Ray deduplicates logs by default.)\n");
  auto r = analyze({log}, {});
  ASSERT_TRUE(r.root());
  EXPECT_EQ(r.root()->kind, "nan_loss");
  EXPECT_EQ(r.root()->occurrences, 7u);
  EXPECT_EQ(r.root()->pid, 5);
  EXPECT_TRUE(contains(r.root()->fix, "max_grad_norm"));
  EXPECT_EQ(r.root()->evidence[0].text, "Training loss=nan at step 7");
}

TEST(RayBadInput, NanLossInTheTrainingBar) {
  TempDir tmp;
  auto log = tmp.path / "x.log";
  spit(log,
       "+ python3 -m torchspec.train_entry\n"
       "[2026-03-11 06:26:53,437] loop.py:211 INFO Starting: num_steps=100, num_epochs=1\n"
       "\rTraining:   1%|          | 1/100 [00:04<06:36,  4.00s/step, loss=2.1, acc=0.1]"
       "\rTraining:   2%|          | 2/100 [00:08<06:32,  4.00s/step, loss=nan, acc=0.0]");
  auto r = analyze({log}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_TRUE(r.root());
  EXPECT_EQ(r.root()->title, "Loss is NaN (step 2/100)");
  EXPECT_EQ(r.root()->time, "2026-03-11 06:27:01");  // 06:26:53 + 00:08
  EXPECT_EQ(r.root()->evidence[0].ref(), "x.log:3");
}

TEST(RayBadInput, AddedSamplesFirstIsPhaseOne) {
  TempDir tmp;
  auto log = tmp.path / "old_layout.log";
  spit(
      log,
      "+ python3 -m torchspec.train_entry\n"
      "[2026-02-20 02:04:00,000] loop.py:70 INFO Added 37560 samples to controller\n"
      "[2026-02-20 02:04:02,000] placement_group.py:90 INFO   bundle    0, actual_bundle_index:    "
      "0, node: 10.0.0.1, gpu: 0\n");
  auto r = analyze({log}, {});
  EXPECT_TRUE(r.phase(1).reached);
  EXPECT_EQ(r.phase(1).duration_s, 2);
  EXPECT_FALSE(r.phase(7).reached);
  EXPECT_EQ(r.phase_reached, 2);
}

TEST(RayBadInput, FinishedRun) {
  TempDir tmp;
  auto log = tmp.path / "done.log";
  spit(log,
       "+ python3 -m torchspec.train_entry\n"
       "[2026-03-11 06:26:53,437] loop.py:211 INFO Starting: num_steps=2, num_epochs=1\n"
       "\rTraining: 100%|##########| 2/2 [00:08<00:00,  4.00s/step, loss=0.5]\n"
       "+ echo 'Training completed!'\n"
       "Training completed!\n");
  auto r = analyze({log}, {});
  EXPECT_EQ(r.verdict, Verdict::finished);
  EXPECT_TRUE(r.finished_marker);
  EXPECT_EQ(r.headline, "finished: training completed (2/2 steps)");
  EXPECT_TRUE(contains(r.reason, "done.log:5"));
}

TEST(RayRules, StuckWaitingForPlacementGroups) {
  TempDir tmp;
  auto log = tmp.path / "pg.log";
  spit(log,
       "+ python3 -m torchspec.train_entry\n"
       "[2026-03-11 06:12:14,502] train_entry.py:248 INFO Detected nested config format\n"
       "[2026-03-11 06:12:17,135] placement_group.py:131 INFO Waiting for 24 GPUs (currently 8), "
       "timeout=300s...\n"
       "[2026-03-11 06:12:22,140] placement_group.py:136 INFO Ray cluster GPUs: 8/24\n");
  Options o;
  o.live = true;
  o.now = local_time_point(parse_civil_ms("2026-03-11 06:18:23").value());
  auto r = analyze({log}, o);
  EXPECT_EQ(r.verdict, Verdict::stuck);
  EXPECT_EQ(r.phase_reached, 2);
  EXPECT_EQ(r.silence_s, 360);
  ASSERT_FALSE(r.findings.empty());
  EXPECT_EQ(r.findings[0].kind, "stall");
  EXPECT_TRUE(contains(r.findings[0].fix, "ray status"));
  EXPECT_TRUE(contains(r.findings[0].fix, "ray start"));
  EXPECT_EQ(r.findings[0].evidence[0].ref(), "pg.log:4");
}

TEST(RayRules, SlowPhaseIsAWarning) {
  TempDir tmp;
  auto log = tmp.path / "slow.log";
  spit(log,
       "+ python3 -m torchspec.train_entry\n"
       "[2026-03-11 10:00:00,000] train_entry.py:203 INFO Waiting for 8 training actors and 2 "
       "inference engines to initialize in parallel...\n"
       "(TrainerActor pid=3) [2026-03-11 10:00:30,000] trainer.py:101 INFO [Rank 0] Device mesh "
       "(1D): world_size=8, dp_size=8\n"
       "(TrainerActor pid=3) [2026-03-11 10:10:00,000] eagle3_trainer.py:210 INFO [Rank 0] "
       "TargetLMHead initialized and synced\n"
       "(TrainerActor pid=3) [2026-03-11 10:10:05,000] trainer.py:129 INFO [Rank 0] "
       "EagleMooncakeStore initialized\n");
  auto r = analyze({log}, {});
  EXPECT_EQ(r.verdict, Verdict::running);
  EXPECT_EQ(r.phase(4).duration_s, 600);
  EXPECT_TRUE(r.phase(4).over_expected);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].kind, "slow_phase");
  EXPECT_EQ(r.findings[0].title,
            "Phase 4 (TrainerActor init) took 10 min, over the typical ~1 min");
  EXPECT_TRUE(contains(r.findings[0].fix, "NCCL_SOCKET_IFNAME"));
  EXPECT_EQ(r.findings[0].evidence[0].ref(), "slow.log:2");
  EXPECT_TRUE(contains(to_markdown(r), "| **10 min** |"));
}

TEST(RayRules, SglangCrashKeepsItsException) {
  TempDir tmp;
  auto logs = tmp.path / "session_latest" / "logs";
  spit(
      logs / "worker-ab12-01000000-900.err",
      ":job_id:01000000\n:actor_name:SglEngine\n"
      "[2026-03-14 08:05:31,118] sgl_engine.py:162 INFO SglEngine rank 0: BEFORE init - x\n"
      "[2026-03-14 08:21:02 TP0] Scheduler hit an exception: Traceback (most recent call last):\n"
      "  File \"/usr/lib/python3/dist-packages/sglang/srt/managers/scheduler.py\", line 1, in run\n"
      "    scheduler.event_loop()\n"
      "RuntimeError: NCCL communicator was aborted on rank 3.\n"
      "[2026-03-14 08:21:03] Received sigquit from a child process. It usually means the child "
      "failed.\n");
  auto r = analyze({tmp.path}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_TRUE(r.root());
  EXPECT_EQ(r.root()->kind, "sglang_crash");
  EXPECT_EQ(r.root()->actor, "SglEngine");
  EXPECT_EQ(r.root()->pid, 900);
  EXPECT_EQ(r.root()->occurrences, 3u);
  EXPECT_TRUE(contains(r.root()->detail, "Exception: RuntimeError: NCCL communicator was aborted"));
  EXPECT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.phase_reached, 5);
}

// Signatures Ray learnt from the shared catalogue (they were srtctl's): a core dump and
// std::bad_alloc are native crashes; the fix is the catalogue's.
TEST(RayRules, CatalogueSignaturesSrtctlKnewFirst) {
  TempDir tmp;
  auto logs = tmp.path / "session_latest" / "logs";
  spit(logs / "worker-ab12-01000000-901.err",
       ":job_id:01000000\n:actor_name:TrainerActor\n"
       "[2026-03-14 08:05:31,118] trainer.py:88 INFO [Rank 0] Device mesh (1D): world_size=1, "
       "dp_size=1\n"
       "terminate called after throwing an instance of 'std::bad_alloc'\n"
       "  what():  std::bad_alloc\n"
       "[2026-03-14 08:06:02,000] run.sh: line 9:   901 Aborted                 (core dumped) "
       "python3 x.py\n");
  auto r = analyze({tmp.path}, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_TRUE(r.root());
  EXPECT_EQ(r.root()->kind, "native_crash");
  EXPECT_EQ(r.root()->pid, 901);
  EXPECT_EQ(r.root()->occurrences, 3u);  // the throw, what(): std::bad_alloc, core dumped
  EXPECT_EQ(r.root()->fix, alog::core::find_signature("native_crash")->fix);
}

TEST(RayRules, ActorErrorWithoutFields) {
  TempDir tmp;
  auto log = tmp.path / "x.log";
  spit(log,
       "+ python3 -m torchspec.train_entry\n"
       "[2026-03-11 06:12:14,502] train_entry.py:248 INFO Detected nested config format\n"
       "ray.exceptions.RayActorError: The actor died unexpectedly before finishing this task.\n");
  auto r = analyze({log}, {});
  ASSERT_TRUE(r.root());
  EXPECT_EQ(r.root()->kind, "actor_died");
  EXPECT_EQ(r.root()->pid, -1);
  EXPECT_EQ(r.root()->title, "An actor died (RayActorError)");
  EXPECT_EQ(r.root()->evidence[0].ref(), "x.log:3");
}
