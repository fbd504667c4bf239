// Diagnosis rules (issue 5, docs/DIAGNOSES.md). For every rule: a log where it fires (id,
// severity, evidence {file, line} worst first, the numbers in the summary) and a near miss where
// it does not (boundaries are strict). Severity is critical when the matching share reaches
// critical_share (0.5), else warning; staleness and incomplete updates have their own rules.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/model.hpp"
#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

using alog::test_support::TempDir;

// Builds a log and remembers the line number of each line added.
class Log {
 public:
  uint64_t add(const std::string& line) {
    text_ += line + "\n";
    return ++lines_;
  }
  // A complete update; returns the line of its client.done.
  uint64_t update(const std::string& tid, double queue_ms, double rpc_ms, double t = 0) {
    if (t == 0) t = 100.0 + static_cast<double>(lines_);
    add(fmt::format("[weights][{}] client.send url=http://h:8000 path=/m/step_{} t={:.3f}", tid,
                    lines_, t));
    return add(fmt::format("[weights][{}] client.done wall_ms={:.1f} rpc_ms={:.1f} queue_ms={:.1f}",
                           tid, queue_ms + rpc_ms, rpc_ms, queue_ms));
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  uint64_t lines_ = 0;
};

struct Run {
  TempDir dir;
  Report r;
};

std::unique_ptr<Run> diagnosed(const std::vector<std::pair<std::string, std::string>>& files,
                               int async_level = 2, std::optional<Thresholds> th = std::nullopt) {
  auto run = std::make_unique<Run>();
  AnalysisOptions opt;
  for (const auto& [name, text] : files) opt.inputs.push_back(run->dir.write(name, text));
  opt.async_level = async_level;
  opt.thresholds = th;
  run->r = analyze(opt);
  diagnose(run->r);
  return run;
}

std::unique_ptr<Run> diagnosed(const Log& orchestrator, int async_level = 2) {
  return diagnosed({{"orchestrator.log", orchestrator.text()}}, async_level);
}

const Diagnosis* find(const Report& r, std::string_view id) {
  for (const auto& d : r.diagnoses)
    if (d.id == id) return &d;
  return nullptr;
}

std::vector<uint64_t> evidence_lines(const Diagnosis& d) {
  std::vector<uint64_t> v;
  for (const auto& e : d.evidence) v.push_back(e.line);
  return v;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

// ---- queue_saturation
// ----------------------------------------------------------------------------

TEST(DiagnoseQueueSaturation, FiresCriticalWhenMostUpdatesQueue) {
  Log log;
  uint64_t a = log.update("def456", 30333.4, 1222.0);
  uint64_t b = log.update("de0001", 25000.0, 1500.0);
  log.update("abc123", 0.2, 1255.4);
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "queue_saturation");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);                    // 2 of 3
  EXPECT_EQ(evidence_lines(*d), (std::vector<uint64_t>{a, b}));  // worst first
  EXPECT_EQ(d->evidence[0].file, 0u);
  EXPECT_TRUE(contains(d->evidence[0].note, "def456")) << d->evidence[0].note;
  EXPECT_TRUE(contains(d->evidence[0].note, "30333.4")) << d->evidence[0].note;
  EXPECT_TRUE(contains(d->summary, "2 of 3")) << d->summary;
  EXPECT_TRUE(contains(d->summary, "30333.4")) << d->summary;
  EXPECT_FALSE(d->fix.empty());
}

TEST(DiagnoseQueueSaturation, OneSlowUpdateAmongManyIsAWarningNamingIt) {
  Log log;
  for (int i = 0; i < 9; ++i) log.update(fmt::format("{:04x}", i), 20, 1200);
  uint64_t slow = log.update("def456", 30333.4, 1222.0);
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "queue_saturation");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{slow});
  EXPECT_TRUE(contains(d->summary, "1 of 10")) << d->summary;
}

TEST(DiagnoseQueueSaturation, ExactlyHalfIsCritical) {
  Log log;
  log.update("aa01", 20000, 1000);
  log.update("aa02", 20, 1000);
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "queue_saturation");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);
}

TEST(DiagnoseQueueSaturation, AtMostFiveEvidenceWorstFirst) {
  Log log;
  std::vector<std::pair<double, uint64_t>> hits;
  for (int i = 0; i < 8; ++i) {
    double q = 11000 + 1000 * ((i * 5) % 8);
    hits.push_back({q, log.update(fmt::format("{:04x}", 0x100 + i), q, 1000)});
  }
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "queue_saturation");
  ASSERT_NE(d, nullptr);
  std::sort(hits.begin(), hits.end(), [](auto& x, auto& y) { return x.first > y.first; });
  std::vector<uint64_t> want;
  for (size_t i = 0; i < 5; ++i) want.push_back(hits[i].second);
  EXPECT_EQ(evidence_lines(*d), want);
}

TEST(DiagnoseQueueSaturation, NearMissesDoNotFire) {
  Log log;
  log.update("aa01", 10000.0, 1000.0);  // queue exactly at the limit
  log.update("aa02", 20000.0, 2000.0);  // rpc exactly at the limit
  log.update("aa03", 9999.9, 10.0);
  auto run = diagnosed(log);
  EXPECT_EQ(find(run->r, "queue_saturation"), nullptr);
}

TEST(DiagnoseQueueSaturation, SentinelNeverEntersTheRule) {
  Log log;
  log.add("[weights][aa01] client.send path=/m/step_1 t=1");
  log.add("[weights][aa01] client.done wall_ms=40000 rpc_ms=-1.0 queue_ms=-1.0");
  log.update("aa02", 20, 1000);
  auto run = diagnosed(log);
  EXPECT_EQ(find(run->r, "queue_saturation"), nullptr);
  EXPECT_EQ(find(run->r, "slow_weight_load"), nullptr);
}

TEST(DiagnoseQueueSaturation, ThresholdOverrideMovesTheLimit) {
  Log log;
  uint64_t l = log.update("aa01", 6000, 1000);
  Thresholds th;
  th.apply_json(R"({"queue_saturation": {"queue_ms": 5000}})", "th.json");
  auto run = diagnosed({{"orchestrator.log", log.text()}}, 2, th);
  const Diagnosis* d = find(run->r, "queue_saturation");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
}

TEST(DiagnoseQueueSaturation, CriticalShareOverride) {
  Log log;
  for (int i = 0; i < 9; ++i) log.update(fmt::format("{:04x}", i), 20, 1200);
  log.update("def456", 30333.4, 1222.0);
  Thresholds th;
  th.apply_json(R"({"critical_share": 0.1})", "th.json");
  auto run = diagnosed({{"orchestrator.log", log.text()}}, 2, th);
  const Diagnosis* d = find(run->r, "queue_saturation");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);  // 1 of 10 reaches a share of 0.1
}

// ---- slow_weight_load
// ----------------------------------------------------------------------------

TEST(DiagnoseSlowWeightLoad, FiresOnFastQueueAndSlowEngine) {
  Log log;
  uint64_t l = log.update("0ddba11", 0.1, 15111.0);  // the seed's ghi789 example, with a hex id
  log.update("aa02", 20, 1000);
  log.update("aa03", 20, 1000);
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "slow_weight_load");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);  // 1 of 3
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
  EXPECT_TRUE(contains(d->summary, "15111.0")) << d->summary;
  EXPECT_TRUE(contains(d->summary, "1 of 3")) << d->summary;
  EXPECT_EQ(find(run->r, "queue_saturation"), nullptr);
}

TEST(DiagnoseSlowWeightLoad, CriticalWhenMostUpdatesLoadSlowly) {
  Log log;
  log.update("aa01", 5, 8000);
  log.update("aa02", 5, 9000);
  log.update("aa03", 5, 1000);
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "slow_weight_load");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);
}

TEST(DiagnoseSlowWeightLoad, NearMissesDoNotFire) {
  Log log;
  log.update("aa01", 100.0, 15000.0);  // queue exactly at the limit
  log.update("aa02", 50.0, 5000.0);    // rpc exactly at the limit
  auto run = diagnosed(log);
  EXPECT_EQ(find(run->r, "slow_weight_load"), nullptr);
}

// ---- ckpt_stall / slow_ckpt_write
// ----------------------------------------------------------------

TEST(DiagnoseCkptStall, FiresOnLongWaitsWithTrainerWriteTimes) {
  Log orch;
  orch.add("[ckpt] wait.start target_step=42");
  orch.add("[ckpt] wait.done target_step=42 wait_ms=12.3");
  orch.add("[ckpt] wait.start target_step=43");
  uint64_t l = orch.add("[ckpt] wait.done target_step=43 wait_ms=5432.1");
  orch.add("[ckpt] wait.done target_step=44 wait_ms=100");
  auto run = diagnosed(
      {{"orchestrator.log", orch.text()},
       {"trainer.log",
        "[ckpt] write.done step=42 write_ms=823.4\n[ckpt] write.done step=43 write_ms=4000\n"}});
  const Diagnosis* d = find(run->r, "ckpt_stall");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);  // 1 of 3
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
  EXPECT_EQ(d->evidence[0].file, 0u);
  EXPECT_TRUE(contains(d->evidence[0].note, "5432.1")) << d->evidence[0].note;
  EXPECT_TRUE(contains(d->summary, "5432.1")) << d->summary;
  EXPECT_TRUE(contains(d->summary, "1 of 3")) << d->summary;
  EXPECT_TRUE(contains(d->summary, "2411.7")) << "trainer write_ms mean: " << d->summary;
}

TEST(DiagnoseCkptStall, CriticalWhenMostWaitsStall) {
  Log orch;
  orch.add("[ckpt] wait.done target_step=1 wait_ms=3000");
  orch.add("[ckpt] wait.done target_step=2 wait_ms=2500");
  auto run = diagnosed(orch);
  ASSERT_NE(find(run->r, "ckpt_stall"), nullptr);
  EXPECT_EQ(find(run->r, "ckpt_stall")->severity, Severity::critical);
}

TEST(DiagnoseCkptStall, NearMissDoesNotFire) {
  Log orch;
  orch.add("[ckpt] wait.done target_step=1 wait_ms=2000");
  orch.add("[ckpt] wait.done target_step=2 wait_ms=1999.9");
  auto run = diagnosed(orch);
  EXPECT_EQ(find(run->r, "ckpt_stall"), nullptr);
}

TEST(DiagnoseSlowCkptWrite, FiresOnSlowWrites) {
  Log trainer;
  trainer.add("[trainer0]:18:31:02    INFO [ckpt] write.done step=42 write_ms=823.4");
  uint64_t l = trainer.add("[trainer0]:18:31:40    INFO [ckpt] write.done step=43 write_ms=8234.5");
  trainer.add("[trainer0]:18:32:40    INFO [ckpt] write.done step=44 write_ms=900");
  auto run = diagnosed(
      {{"orchestrator.log", "[gen] batch.done dur_ms=1\n"}, {"trainer.log", trainer.text()}});
  const Diagnosis* d = find(run->r, "slow_ckpt_write");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
  EXPECT_EQ(d->evidence[0].file, 1u);
  EXPECT_TRUE(contains(d->evidence[0].note, "8234.5")) << d->evidence[0].note;
  EXPECT_TRUE(contains(d->summary, "1 of 3")) << d->summary;
  EXPECT_TRUE(contains(d->summary, "8234.5")) << d->summary;
}

TEST(DiagnoseSlowCkptWrite, NearMissDoesNotFire) {
  auto run = diagnosed(
      {{"trainer.log",
        "[ckpt] write.done step=1 write_ms=5000\n[ckpt] write.done step=2 write_ms=4999\n"}});
  EXPECT_EQ(find(run->r, "slow_ckpt_write"), nullptr);
}

// ---- high_truncation
// -----------------------------------------------------------------------------

TEST(DiagnoseHighTruncation, FiresOnTruncatedRollouts) {
  Log log;
  log.add("[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1");
  uint64_t l = log.add("[rollout] trunc_pct=78.5 current_step=11 ckpt_step=10 staleness=1");
  uint64_t m = log.add("[rollout] trunc_pct=31 current_step=12 ckpt_step=11 staleness=1");
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "high_truncation");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);  // 2 of 3
  EXPECT_EQ(evidence_lines(*d), (std::vector<uint64_t>{l, m}));
  EXPECT_TRUE(contains(d->summary, "78.5")) << d->summary;
  EXPECT_TRUE(contains(d->summary, "2 of 3")) << d->summary;
}

TEST(DiagnoseHighTruncation, NearMissDoesNotFire) {
  Log log;
  log.add("[rollout] trunc_pct=30 current_step=10 staleness=1");
  log.add("[rollout] trunc_pct=29.9 current_step=11 staleness=1");
  auto run = diagnosed(log);
  EXPECT_EQ(find(run->r, "high_truncation"), nullptr);
}

// ---- staleness_barrier
// ---------------------------------------------------------------------------

TEST(DiagnoseStaleness, AboveAsyncLevelIsAWarning) {
  Log log;
  for (int i = 0; i < 5; ++i) log.add("[rollout] trunc_pct=3 staleness=1");
  uint64_t l = log.add("[rollout] trunc_pct=3.2 current_step=15 ckpt_step=11 staleness=4");
  uint64_t m = log.add("[rollout] trunc_pct=3.2 current_step=16 ckpt_step=13 staleness=3");
  auto run = diagnosed(log, 2);
  const Diagnosis* d = find(run->r, "staleness_barrier");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);  // 4 is not above async_level + 2
  EXPECT_EQ(evidence_lines(*d), (std::vector<uint64_t>{l, m}));
  EXPECT_TRUE(contains(d->summary, "2 of 7")) << d->summary;
}

TEST(DiagnoseStaleness, AnyAboveAsyncLevelPlusTwoIsCritical) {
  Log log;
  for (int i = 0; i < 20; ++i) log.add("[rollout] trunc_pct=3 staleness=1");
  uint64_t l = log.add("[rollout] trunc_pct=3.2 current_step=15 ckpt_step=10 staleness=5");
  auto run = diagnosed(log, 2);
  const Diagnosis* d = find(run->r, "staleness_barrier");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
}

TEST(DiagnoseStaleness, StalenessEqualToAsyncLevelDoesNotFire) {
  // Seed 000: "Staleness = async_level (5)": the barrier, but not above the limit.
  Log log;
  log.add("[rollout] trunc_pct=3.2 current_step=15 ckpt_step=10 staleness=5");
  auto run = diagnosed(log, 5);
  EXPECT_EQ(find(run->r, "staleness_barrier"), nullptr);
  auto strict = diagnosed(log, 4);
  ASSERT_NE(find(strict->r, "staleness_barrier"), nullptr);
  EXPECT_EQ(find(strict->r, "staleness_barrier")->severity, Severity::warning);
}

// ---- gen_spike_during_update
// ---------------------------------------------------------------------

TEST(DiagnoseGenSpike, FiresWhenASlowBatchOverlapsAQueuedUpdate) {
  // Seed 000's "Spike During Weight Update", with a hex id.
  Log log;
  log.add("[gen] batch.start inflight=128 target_batch=64");
  log.add("[weights][e1] client.send url=http://h:8000 path=/m/step_44 t=100");
  log.add("[weights][e1] client.done wall_ms=30000 rpc_ms=1000 queue_ms=29000");
  uint64_t l = log.add("[gen] batch.done completions=64 dur_ms=45678.9 inflight=140");
  log.add("[gen] batch.start inflight=64");
  log.add("[gen] batch.done completions=64 dur_ms=2345.6 inflight=64");
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "gen_spike_during_update");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);  // 1 of 2 batches
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
  EXPECT_TRUE(contains(d->evidence[0].note, "45678.9")) << d->evidence[0].note;
  EXPECT_TRUE(contains(d->summary, "45678.9")) << d->summary;
  EXPECT_TRUE(contains(d->summary, "1 of 2")) << d->summary;
}

TEST(DiagnoseGenSpike, WarningWhenFewBatchesSpike) {
  Log log;
  for (int i = 0; i < 3; ++i) {
    log.add("[gen] batch.start inflight=64");
    log.add("[gen] batch.done dur_ms=2000 inflight=64");
  }
  log.add("[gen] batch.start inflight=128");
  log.add("[weights][e1] client.send path=/m/step_44 t=100");
  log.add("[weights][e1] client.done wall_ms=30000 rpc_ms=1000 queue_ms=29000");
  log.add("[gen] batch.done dur_ms=45678.9 inflight=140");
  auto run = diagnosed(log);
  const Diagnosis* d = find(run->r, "gen_spike_during_update");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);
}

TEST(DiagnoseGenSpike, NearMissesDoNotFire) {
  {
    Log log;  // batch exactly at the limit
    log.add("[gen] batch.start inflight=128");
    log.add("[weights][e1] client.send path=/m/step_44 t=100");
    log.add("[weights][e1] client.done wall_ms=30000 rpc_ms=1000 queue_ms=29000");
    log.add("[gen] batch.done dur_ms=10000 inflight=140");
    auto run = diagnosed(log);
    EXPECT_EQ(find(run->r, "gen_spike_during_update"), nullptr);
  }
  {
    Log log;  // update queue exactly at the limit
    log.add("[gen] batch.start inflight=128");
    log.add("[weights][e1] client.send path=/m/step_44 t=100");
    log.add("[weights][e1] client.done wall_ms=2000 rpc_ms=1000 queue_ms=1000");
    log.add("[gen] batch.done dur_ms=45678.9 inflight=140");
    auto run = diagnosed(log);
    EXPECT_EQ(find(run->r, "gen_spike_during_update"), nullptr);
  }
  {
    Log log;  // slow update and slow batch, but they do not overlap
    log.add("[weights][e1] client.send path=/m/step_44 t=100");
    log.add("[weights][e1] client.done wall_ms=30000 rpc_ms=1000 queue_ms=29000");
    log.add("[gen] batch.start inflight=128");
    log.add("[gen] batch.done dur_ms=45678.9 inflight=140");
    auto run = diagnosed(log);
    EXPECT_EQ(find(run->r, "gen_spike_during_update"), nullptr);
  }
}

// ---- incomplete_update
// ---------------------------------------------------------------------------

TEST(DiagnoseIncomplete, StuckInTheEngineIsCritical) {
  Log orch, inf;
  for (int i = 0; i < 9; ++i) orch.update(fmt::format("{:04x}", i), 20, 1000);
  uint64_t l = orch.add("[weights][dead] client.send url=http://h:8000 path=/m/step_99 t=500");
  inf.add("[weights][dead] server.recv path=/update_weights t=500.01");
  inf.add("[weights][dead] rpc.start op=update_weights t=500.02");
  auto run = diagnosed({{"orchestrator.log", orch.text()}, {"inference.log", inf.text()}});
  const Diagnosis* d = find(run->r, "incomplete_update");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);  // 1 of 10, but hung in the engine
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
  EXPECT_EQ(d->evidence[0].file, 0u);
  EXPECT_TRUE(contains(d->evidence[0].note, "dead")) << d->evidence[0].note;
  EXPECT_TRUE(contains(d->summary, "1 of 10")) << d->summary;
}

TEST(DiagnoseIncomplete, OneNeverReceivedAmongManyIsAWarning) {
  Log orch;
  for (int i = 0; i < 9; ++i) orch.update(fmt::format("{:04x}", i), 20, 1000);
  uint64_t l = orch.add("[weights][dead] client.send url=http://h:8000 path=/m/step_99 t=500");
  auto run = diagnosed(orch);
  const Diagnosis* d = find(run->r, "incomplete_update");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);
  EXPECT_EQ(evidence_lines(*d), std::vector<uint64_t>{l});
}

TEST(DiagnoseIncomplete, MostUpdatesIncompleteIsCriticalByShare) {
  Log orch;
  orch.update("aa01", 20, 1000);
  orch.add("[weights][aa02] client.send path=/m/step_2 t=500");
  orch.add("[weights][aa03] client.send path=/m/step_3 t=600");
  auto run = diagnosed(orch);
  const Diagnosis* d = find(run->r, "incomplete_update");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::critical);
  EXPECT_TRUE(contains(d->summary, "2 of 3")) << d->summary;
}

TEST(DiagnoseIncomplete, HungEngineEvidenceComesFirst) {
  Log orch, inf;
  uint64_t never = orch.add("[weights][aa01] client.send path=/m/step_1 t=100");
  uint64_t hung = orch.add("[weights][aa02] client.send path=/m/step_2 t=200");
  inf.add("[weights][aa02] rpc.start op=update_weights t=200.1");
  auto run = diagnosed({{"orchestrator.log", orch.text()}, {"inference.log", inf.text()}});
  const Diagnosis* d = find(run->r, "incomplete_update");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(evidence_lines(*d), (std::vector<uint64_t>{hung, never}));
}

TEST(DiagnoseIncomplete, AllCompleteDoesNotFire) {
  Log orch;
  orch.update("aa01", 20, 1000);
  auto run = diagnosed(orch);
  EXPECT_EQ(find(run->r, "incomplete_update"), nullptr);
  EXPECT_TRUE(run->r.diagnoses.empty());
}

// ---- Ordering and clean runs
// ---------------------------------------------------------------------

TEST(Diagnose, CriticalDiagnosesComeFirst) {
  Log log;
  log.add("[ckpt] wait.done target_step=1 wait_ms=3000");  // ckpt_stall critical (1 of 1)
  for (int i = 0; i < 9; ++i) log.update(fmt::format("{:04x}", i), 20, 1000);
  log.update("beef", 30000, 1000);                // queue_saturation warning (1 of 10)
  log.add("[rollout] trunc_pct=50 staleness=1");  // high_truncation critical (1 of 1)
  auto run = diagnosed(log);
  ASSERT_GE(run->r.diagnoses.size(), 3u);
  bool seen_warning = false;
  for (const auto& d : run->r.diagnoses) {
    if (d.severity == Severity::warning) {
      seen_warning = true;
    } else {
      EXPECT_FALSE(seen_warning) << d.id << " is critical but listed after a warning";
    }
  }
}

TEST(Diagnose, HealthyLogHasNoDiagnosis) {
  Log log;
  for (int i = 0; i < 10; ++i) {
    log.add("[gen] batch.start inflight=96 target_batch=64");
    log.update(fmt::format("{:04x}", i), 20 + i, 1200 + i);
    log.add("[gen] batch.done completions=64 dur_ms=2345.6 inflight=96");
    log.add("[ckpt] wait.done target_step=1 wait_ms=12.3");
    log.add("[rollout] trunc_pct=2.3 current_step=10 ckpt_step=9 staleness=1");
  }
  auto run = diagnosed(log);
  EXPECT_TRUE(run->r.diagnoses.empty()) << run->r.diagnoses[0].id;
}

TEST(Diagnose, DiagnoseIsIdempotent) {
  Log log;
  log.update("beef", 30000, 1000);
  auto run = diagnosed(log);
  size_t n = run->r.diagnoses.size();
  diagnose(run->r);
  EXPECT_EQ(run->r.diagnoses.size(), n);
}

// ---- testdata/runs
// ---------------------------------------------------------------------------------

TEST(DiagnoseRuns, HealthyPrefixPostfix) {
  fs::path runs = fs::path(ALOG_TESTDATA) / "runs";
  if (!fs::exists(runs / "prefix" / "expected.json"))
    GTEST_SKIP() << "testdata/runs not generated yet";
  auto analyse = [&](const char* name) {
    AnalysisOptions opt;
    opt.inputs = {(runs / name).string()};
    Report r = analyze(opt);
    diagnose(r);
    return r;
  };
  Report healthy = analyse("healthy");
  EXPECT_TRUE(healthy.diagnoses.empty())
      << healthy.diagnoses[0].id << ": " << healthy.diagnoses[0].summary;

  Report prefix = analyse("prefix");
  const Diagnosis* q = find(prefix, "queue_saturation");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->severity, Severity::critical);
  EXPECT_EQ(q->evidence.size(), 5u);
  const Diagnosis* inc = find(prefix, "incomplete_update");
  ASSERT_NE(inc, nullptr);  // one update hung in the engine
  EXPECT_EQ(inc->severity, Severity::critical);

  Report postfix = analyse("postfix");
  EXPECT_TRUE(postfix.diagnoses.empty())
      << postfix.diagnoses[0].id << ": " << postfix.diagnoses[0].summary;
}
