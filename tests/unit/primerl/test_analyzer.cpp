// analyze(): events folded into the Report. Metric sources (which event feeds which metric, the
// -1.0 sentinel kept out), status judged on the mean (staleness on the max), one update per
// client.send (reload without path=), per-file counts and roles, run folders (find_run_logs),
// and the three generated runs of testdata/runs against their independently computed
// expected.json.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/model.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"
#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using alog::test_support::TempDir;
using alog::test_support::gzip;

Report run(const std::vector<std::string>& inputs, unsigned threads = 1, int async_level = 2) {
  AnalysisOptions opt;
  opt.inputs = inputs;
  opt.threads = threads;
  opt.async_level = async_level;
  return analyze(opt);
}

const MetricReport& metric(const Report& r, std::string_view name) {
  const MetricReport* m = r.metric(name);
  if (!m) throw std::runtime_error("no metric " + std::string(name));
  return *m;
}

const UpdateReport* update(const Report& r, std::string_view tid) {
  for (const auto& u : r.updates)
    if (u.trace.str() == tid) return &u;
  return nullptr;
}

const char* kOrchestrator =
    "[weights][a1] client.send url=http://h:8000 path=/m/step_1 t=100.0\n"  // 1
    "[weights][a1] client.done wall_ms=1000 rpc_ms=900 queue_ms=100\n"      // 2
    "[weights][a2] client.send url=http://h:8000 t=200.0\n"                 // 3 reload
    "[weights][a2] client.done wall_ms=500 rpc_ms=-1.0 queue_ms=-1.0\n"     // 4 sentinel
    "[weights][a3] client.send url=http://h:8000 path=/m/step_3 t=300.0\n"  // 5
    "[weights][a3] client.done wall_ms=3000 rpc_ms=2000 queue_ms=1000\n"    // 6
    "[weights][a4] client.send url=http://h:8000 path=/m/step_4 t=400.0\n"  // 7 never done
    "[ckpt] wait.start target_step=1\n"                                     // 8
    "[ckpt] wait.done target_step=1 wait_ms=10\n"                           // 9
    "[ckpt] wait.done target_step=2 wait_ms=30\n"                           // 10
    "[gen] batch.start inflight=96 target_batch=64\n"                       // 11
    "[gen] batch.done completions=64 dur_ms=2000 inflight=100\n"            // 12
    "[gen] batch.start inflight=96\n"                                       // 13
    "[gen] batch.done dur_ms=4000\n"                                        // 14
    "[rollout] trunc_pct=2 current_step=1 ckpt_step=0 staleness=1\n"        // 15
    "[rollout] trunc_pct=4 staleness=3\n"                                   // 16
    "[rollout] trunc_pct=6\n"                                               // 17
    "[weights][-] client.send t=5\n";                                       // 18 noise

const char* kInference =
    "INFO 10-14 18:30:47 [server.py:88] [weights][a2] server.recv path=/reload_weights t=5200.01\n"
    "INFO 10-14 18:30:47 [server.py:131] [weights][a2] rpc.start op=reload_weights t=5200.02\n"
    "INFO 10-14 18:30:47 [server.py:139] [weights][a2] rpc.done op=reload_weights t=5200.32 "
    "rpc_ms=300\n"
    "INFO 10-14 18:30:47 [server.py:88] [weights][a3] server.recv path=/update_weights t=5300.5\n"
    "INFO 10-14 18:30:47 [server.py:131] [weights][a3] rpc.start op=update_weights t=5300.6\n"
    "INFO 10-14 18:30:49 [server.py:139] [weights][a3] rpc.done op=update_weights t=5302.6 "
    "rpc_ms=2000\n"
    "INFO 10-14 18:30:47 [server.py:88] [weights][-] server.recv path=/v1/chat/completions "
    "t=5300.7\n";

const char* kTrainer =
    "[trainer0]:18:31:02    INFO [ckpt] write.done step=1 write_ms=800\n"
    "[trainer0]:18:31:40    INFO [ckpt] write.done step=2 write_ms=1200\n";

struct Fixture {
  TempDir dir;
  Report r;
  Fixture() {
    r = run({dir.write("orchestrator.log", kOrchestrator), dir.write("inference.log", kInference),
             dir.write("trainer.log", kTrainer)});
  }
};

void expect_summary(const MetricReport& m, size_t count, double mean, double min, double max) {
  SCOPED_TRACE(m.name);
  EXPECT_EQ(m.stats.count, count);
  EXPECT_DOUBLE_EQ(m.stats.mean, mean);
  EXPECT_DOUBLE_EQ(m.stats.min, min);
  EXPECT_DOUBLE_EQ(m.stats.max, max);
}

fs::path runs_dir() {
  return fs::path(ALOG_TESTDATA) / "runs";
}

json load_expected(const std::string& run_name) {
  std::ifstream f(runs_dir() / run_name / "expected.json");
  return json::parse(f);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

// ---- Metric sources ---------------------------------------------------------------------------

TEST(AnalyzerMetrics, WallMsFromEveryClientDoneIncludingSentinelOnes) {
  Fixture f;
  expect_summary(metric(f.r, "weights.wall_ms"), 3, 1500, 500, 3000);
  EXPECT_EQ(metric(f.r, "weights.wall_ms").status, Status::none);
  EXPECT_EQ(metric(f.r, "weights.wall_ms").unit, "ms");
}

TEST(AnalyzerMetrics, RpcAndQueueMsExcludeTheSentinel) {
  Fixture f;
  expect_summary(metric(f.r, "weights.rpc_ms"), 2, 1450, 900, 2000);
  expect_summary(metric(f.r, "weights.queue_ms"), 2, 550, 100, 1000);
}

TEST(AnalyzerMetrics, ReloadRpcMsFromServerRpcDoneOfReloadsOnly) {
  Fixture f;
  expect_summary(metric(f.r, "weights.reload_rpc_ms"), 1, 300, 300, 300);
}

TEST(AnalyzerMetrics, CheckpointMetrics) {
  Fixture f;
  expect_summary(metric(f.r, "ckpt.wait_ms"), 2, 20, 10, 30);
  expect_summary(metric(f.r, "ckpt.write_ms"), 2, 1000, 800, 1200);
}

TEST(AnalyzerMetrics, GenerationMetricsFromBatchDone) {
  Fixture f;
  expect_summary(metric(f.r, "gen.dur_ms"), 2, 3000, 2000, 4000);
  expect_summary(metric(f.r, "gen.inflight"), 1, 100, 100, 100);  // batch.done's inflight only
  EXPECT_EQ(metric(f.r, "gen.inflight").status, Status::none);
}

TEST(AnalyzerMetrics, RolloutMetrics) {
  Fixture f;
  expect_summary(metric(f.r, "rollout.trunc_pct"), 3, 4, 2, 6);
  expect_summary(metric(f.r, "rollout.staleness"), 2, 2, 1, 3);
  EXPECT_EQ(metric(f.r, "rollout.trunc_pct").unit, "%");
}

TEST(AnalyzerMetrics, StatusJudgedOnTheMeanAndStalenessOnTheMax) {
  Fixture f;
  EXPECT_EQ(metric(f.r, "weights.queue_ms").status, Status::warning);  // mean 550
  EXPECT_EQ(metric(f.r, "weights.rpc_ms").status, Status::good);       // mean 1450, max 2000
  EXPECT_EQ(metric(f.r, "ckpt.write_ms").status, Status::warning);     // mean 1000
  EXPECT_EQ(metric(f.r, "ckpt.wait_ms").status, Status::good);
  EXPECT_EQ(metric(f.r, "gen.dur_ms").status, Status::good);
  EXPECT_EQ(metric(f.r, "rollout.trunc_pct").status, Status::good);
  EXPECT_EQ(metric(f.r, "rollout.staleness").status, Status::warning);  // max 3 > 2, mean 2
}

TEST(AnalyzerMetrics, OneSlowSampleDoesNotMakeTheMeanCritical) {
  TempDir d;
  std::string log;
  for (int i = 0; i < 4; ++i) {
    // (fmt::format, not operator+: GCC 12 warns of a false -Wrestrict on the concatenation.)
    log += fmt::format("[weights][b{}] client.send path=/m/step_{} t={}\n", i, i, i * 10);
    log += fmt::format("[weights][b{}] client.done wall_ms=3010 rpc_ms=1000 queue_ms={}\n", i,
                       i == 3 ? "3000" : "10");
  }
  Report r = run({d.write("o.log", log)});
  EXPECT_DOUBLE_EQ(metric(r, "weights.queue_ms").stats.mean, 757.5);
  EXPECT_EQ(metric(r, "weights.queue_ms").status, Status::warning);
}

TEST(AnalyzerMetrics, StalenessStatusFollowsAsyncLevel) {
  TempDir d;
  auto p = d.write("o.log", "[rollout] staleness=5\n[rollout] staleness=0\n");
  EXPECT_EQ(metric(run({p}, 1, 5), "rollout.staleness").status, Status::good);
  EXPECT_EQ(metric(run({p}, 1, 4), "rollout.staleness").status, Status::warning);
  EXPECT_EQ(metric(run({p}, 1, 2), "rollout.staleness").status, Status::critical);
}

TEST(AnalyzerMetrics, MetricsWithoutSamplesAreAbsent) {
  TempDir d;
  Report r = run({d.write("o.log", "[gen] batch.done dur_ms=5\n")});
  EXPECT_EQ(r.metric("weights.queue_ms"), nullptr);
  EXPECT_NE(r.metric("gen.dur_ms"), nullptr);
  EXPECT_EQ(r.metrics.size(), 1u);
}

// report.json lists every metric of the kind, in the table's order: those without samples as
// count 0 and no statistic (as the *_stats.txt files write them), never as zeros.
TEST(AnalyzerMetrics, ReportJsonListsEveryMetricWithCountZeroWhenItHasNoSamples) {
  TempDir d;
  Report r = run({d.write("o.log", "[gen] batch.done dur_ms=5\n[ckpt] wait.done wait_ms=-3\n")});
  json j = json::parse(to_json(r).dump());
  std::vector<std::string> names, table;
  for (const auto& [k, v] : j["metrics"].items()) names.push_back(k);
  for (const auto& def : kMetricDefs) table.emplace_back(def.name);
  // (nlohmann::json sorts keys; the written order is checked on the ordered form below.)
  std::sort(table.begin(), table.end());
  EXPECT_EQ(names, table);
  auto ordered = to_json(r)["metrics"];
  size_t i = 0;
  for (const auto& [k, v] : ordered.items()) EXPECT_EQ(k, kMetricDefs[i++].name);
  EXPECT_EQ(j["metrics"]["gen.dur_ms"]["count"], 1);
  EXPECT_EQ(j["metrics"]["gen.dur_ms"]["p99"], 5.0);
  EXPECT_EQ(j["metrics"]["gen.dur_ms"]["status"], "good");
  // The only wait.done was skipped (negative): no sample, and no fake zero statistics.
  EXPECT_EQ(j["metrics"]["ckpt.wait_ms"],
            json::parse(R"({"count": 0, "status": null, "unit": "ms"})"));
  EXPECT_EQ(j["metrics"]["rollout.trunc_pct"],
            json::parse(R"({"count": 0, "status": null, "unit": "%"})"));
  EXPECT_EQ(j["metrics"]["gen.inflight"],
            json::parse(R"({"count": 0, "status": null, "unit": ""})"));
  EXPECT_EQ(r.inputs[0].counts.skipped(), 1u);
}

TEST(AnalyzerMetrics, SkippedLinesNeverBecomeSamples) {
  TempDir d;
  Report r = run({d.write("o.log",
                          "[ckpt] wait.done wait_ms=12\n"
                          "[ckpt] wait.done wait_ms=1e999\n"
                          "[ckpt] wait.done wait_ms=-5\n"
                          "[ckpt] wait.done wait_ms=5 wait_ms=6\n"
                          "Traceback: [ckpt] wait.done wait_ms=99999\n")});
  expect_summary(metric(r, "ckpt.wait_ms"), 1, 12, 12, 12);
  EXPECT_EQ(r.inputs[0].counts.skipped(), 3u);
}

// ---- Updates ----------------------------------------------------------------------------------

TEST(AnalyzerUpdates, OnePerClientSendReloadWithoutPath) {
  Fixture f;
  ASSERT_EQ(f.r.updates.size(), 4u);
  const UpdateReport* a1 = update(f.r, "a1");
  const UpdateReport* a2 = update(f.r, "a2");
  const UpdateReport* a4 = update(f.r, "a4");
  ASSERT_TRUE(a1 && a2 && a4);
  EXPECT_FALSE(a1->reload);
  EXPECT_EQ(a1->step, 1);
  EXPECT_TRUE(a1->complete);
  EXPECT_EQ(a1->wall_ms, 1000);
  EXPECT_EQ(a1->rpc_ms, 900);
  EXPECT_EQ(a1->queue_ms, 100);
  EXPECT_EQ(a1->send_at.line, 1u);
  ASSERT_TRUE(a1->done_at);
  EXPECT_EQ(a1->done_at->line, 2u);
  EXPECT_DOUBLE_EQ(a1->send_t, 100.0);

  EXPECT_TRUE(a2->reload);
  EXPECT_FALSE(a2->step);
  EXPECT_TRUE(a2->complete);
  EXPECT_EQ(a2->wall_ms, 500);
  EXPECT_FALSE(a2->rpc_ms);  // sentinel
  EXPECT_FALSE(a2->queue_ms);

  EXPECT_FALSE(a4->complete);
  EXPECT_FALSE(a4->wall_ms);
  EXPECT_FALSE(a4->done_at);
}

TEST(AnalyzerUpdates, NoiseIsNeverAnUpdate) {
  Fixture f;
  EXPECT_EQ(f.r.inputs[0].counts.noise, 1u);
  EXPECT_EQ(f.r.inputs[1].counts.noise, 1u);
  for (const auto& u : f.r.updates) EXPECT_FALSE(u.trace.empty());
  for (const auto& s : f.r.server_only) EXPECT_FALSE(s.trace.empty());
}

TEST(AnalyzerUpdates, ClientDoneWithoutSendIsCountedNotAnUpdate) {
  TempDir d;
  Report r = run({d.write("o.log", "[weights][c1] client.done wall_ms=10 rpc_ms=8 queue_ms=2\n")});
  EXPECT_TRUE(r.updates.empty());
  EXPECT_EQ(r.anomalies.done_without_send, 1u);
  EXPECT_EQ(metric(r, "weights.wall_ms").stats.count, 1u);
}

TEST(AnalyzerUpdates, ReusedTraceIdIsANewUpdate) {
  TempDir d;
  Report r = run({d.write("o.log",
                          "[weights][c1] client.send path=/m/step_1 t=1\n"
                          "[weights][c1] client.done wall_ms=10 rpc_ms=8 queue_ms=2\n"
                          "[weights][c1] client.send path=/m/step_2 t=5\n"
                          "[weights][c1] client.done wall_ms=20 rpc_ms=8 queue_ms=12\n")});
  ASSERT_EQ(r.updates.size(), 2u);
  EXPECT_EQ(r.updates[0].wall_ms, 10);
  EXPECT_EQ(r.updates[1].wall_ms, 20);
  EXPECT_EQ(r.anomalies.reused_trace_id, 1u);
}

TEST(AnalyzerUpdates, GenerationBatchesOverlappingUpdates) {
  TempDir d;
  Report r = run({d.write("o.log",
                          "[gen] batch.start inflight=128 target_batch=64\n"
                          "[weights][d1] client.send path=/m/step_1 t=1\n"
                          "[weights][d1] client.done wall_ms=30000 rpc_ms=1000 queue_ms=29000\n"
                          "[gen] batch.done completions=64 dur_ms=45678.9 inflight=140\n"
                          "[gen] batch.start inflight=10\n"
                          "[gen] batch.done dur_ms=100\n")});
  ASSERT_EQ(r.batches.size(), 2u);
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_EQ(r.batches[0].update_count, 1u);
  EXPECT_EQ(r.batches[0].longest_queued, 0u);
  EXPECT_EQ(r.batches[1].update_count, 0u);
  EXPECT_EQ(r.batches[1].longest_queued, BatchReport::kNoUpdate);
  EXPECT_EQ(r.updates[0].first_batch, 0u);
  EXPECT_EQ(r.updates[0].batch_count, 1u);
  EXPECT_EQ(r.batches[0].start_line, 1u);
  EXPECT_EQ(r.batches[0].done_line, 4u);
  EXPECT_EQ(r.batches[0].dur_ms, 45678.9);
}

TEST(AnalyzerUpdates, UpdateInFlightWhenABatchStartsOverlapsIt) {
  TempDir d;
  Report r = run({d.write("o.log",
                          "[weights][d1] client.send path=/m/step_1 t=1\n"
                          "[gen] batch.start inflight=128\n"
                          "[gen] batch.done dur_ms=12000\n"
                          "[weights][d1] client.done wall_ms=30000 rpc_ms=1000 queue_ms=29000\n")});
  ASSERT_EQ(r.batches.size(), 1u);
  EXPECT_EQ(r.batches[0].update_count, 1u);
  EXPECT_EQ(r.updates[0].batch_count, 1u);
}

// Hung updates (never completed) overlap every later batch of their file: exactly, as a range per
// update and a count per batch, with nothing listed per pair (the report stays small), and the
// longest-queued update of each batch is the one with the largest queue_ms among those running.
TEST(AnalyzerUpdates, HungUpdatesOverlapEveryLaterBatchAsRangesAndCounts) {
  TempDir d;
  std::string log;
  // 100 hung updates (more than the 64 the old lists kept), then 50 batches; during batch 10 one
  // update completes after waiting 30 s, during batch 20 one after 5 s.
  for (int i = 0; i < 100; ++i) log += fmt::format("[weights][a{:03x}] client.send path=/m/step_{} t={}\n", i, i, i);
  for (int b = 0; b < 50; ++b) {
    log += fmt::format("[gen] batch.start inflight={}\n", 100 + b);
    if (b == 10) log += "[weights][f1] client.send path=/m/step_900 t=500\n"
                        "[weights][f1] client.done wall_ms=31000 rpc_ms=1000 queue_ms=30000\n";
    if (b == 20) log += "[weights][f2] client.send path=/m/step_901 t=600\n"
                        "[weights][f2] client.done wall_ms=6000 rpc_ms=1000 queue_ms=5000\n";
    log += "[gen] batch.done dur_ms=100\n";
  }
  // A second file is its own run: its batch overlaps none of the first file's hung updates.
  Report r = run({d.write("a.log", log), d.write("b.log", "[gen] batch.start inflight=1\n[gen] batch.done dur_ms=5\n")});
  ASSERT_EQ(r.updates.size(), 102u);
  ASSERT_EQ(r.batches.size(), 51u);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_FALSE(r.updates[i].complete);
    EXPECT_EQ(r.updates[i].first_batch, 0u) << i;
    EXPECT_EQ(r.updates[i].batch_count, 50u) << i;
  }
  EXPECT_EQ(r.updates[100].first_batch, 10u);
  EXPECT_EQ(r.updates[100].batch_count, 1u);
  EXPECT_EQ(r.updates[101].first_batch, 20u);
  for (size_t b = 0; b < 50; ++b) {
    EXPECT_EQ(r.batches[b].update_count, b == 10 || b == 20 ? 101u : 100u) << b;
    uint32_t want = b == 10 ? 100u : b == 20 ? 101u : BatchReport::kNoUpdate;
    EXPECT_EQ(r.batches[b].longest_queued, want) << b;
  }
  EXPECT_EQ(r.batches[50].update_count, 0u);
  // report.json: one small object per update and per batch, no list of pairs.
  std::string text;
  write_json(r, [&](std::string_view p) { text += p; });
  EXPECT_EQ(text, dump_report(to_json(r)) + "\n");
  EXPECT_LT(text.size(), 200u * 1024) << "the report must not grow with batches x updates in flight";
  auto j = json::parse(text);
  EXPECT_EQ(j["updates"][0]["overlapping_batches"]["first"], 0);
  EXPECT_EQ(j["updates"][0]["overlapping_batches"]["count"], 50);
  EXPECT_EQ(j["batches"][10]["update_count"], 101);
  EXPECT_EQ(j["batches"][10]["longest_queued_update"]["trace_id"], r.updates[100].trace.str());
  EXPECT_TRUE(j["batches"][0]["longest_queued_update"].is_null());
}

// ---- Inputs -----------------------------------------------------------------------------------

TEST(AnalyzerInputs, CountsAndRolesPerFile) {
  Fixture f;
  ASSERT_EQ(f.r.inputs.size(), 3u);
  EXPECT_EQ(f.r.inputs[0].role, Role::orchestrator);
  EXPECT_EQ(f.r.inputs[1].role, Role::inference);
  EXPECT_EQ(f.r.inputs[2].role, Role::trainer);
  EXPECT_EQ(f.r.inputs[0].counts.lines, 18u);
  EXPECT_EQ(f.r.inputs[0].counts.events, 17u);
  EXPECT_EQ(f.r.inputs[1].counts.events, 6u);
  EXPECT_EQ(f.r.inputs[2].counts.events, 2u);
  EXPECT_EQ(f.r.total_events(), 25u);
  EXPECT_EQ(f.r.inputs[0].compression, "none");
}

TEST(AnalyzerInputs, RolesComeFromContentNotFromNames) {
  TempDir d;
  Report r = run(
      {d.write("a.log", kTrainer), d.write("b.log", kInference), d.write("c.log", kOrchestrator)});
  EXPECT_EQ(r.inputs[0].role, Role::trainer);
  EXPECT_EQ(r.inputs[1].role, Role::inference);
  EXPECT_EQ(r.inputs[2].role, Role::orchestrator);
}

TEST(AnalyzerInputs, ThreadCountDoesNotChangeTheReport) {
  Fixture f;
  Report r4 = run({(f.dir.path / "orchestrator.log").string(),
                   (f.dir.path / "inference.log").string(), (f.dir.path / "trainer.log").string()},
                  4);
  ASSERT_EQ(r4.metrics.size(), f.r.metrics.size());
  for (size_t i = 0; i < r4.metrics.size(); ++i) {
    EXPECT_EQ(r4.metrics[i].name, f.r.metrics[i].name);
    EXPECT_EQ(r4.metrics[i].stats.mean, f.r.metrics[i].stats.mean);
    EXPECT_EQ(r4.metrics[i].stats.p99, f.r.metrics[i].stats.p99);
  }
  EXPECT_EQ(r4.updates.size(), f.r.updates.size());
}

TEST(AnalyzerInputs, MissingNamedFileIsFatalAndNamesIt) {
  try {
    run({"/nonexistent/orchestrator.log"});
    FAIL() << "no exception";
  } catch (const FatalInputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("/nonexistent/orchestrator.log"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

TEST(AnalyzerInputs, FolderWithoutLogsIsFatal) {
  TempDir d;
  d.write("notes.txt", "hello\n");
  EXPECT_THROW(run({d.path.string()}), FatalInputError);
}

TEST(AnalyzerInputs, UnreadableFileInsideAFolderIsReportedNotFatal) {
  TempDir d;
  d.write("logs/orchestrator.log", kOrchestrator);
  fs::create_symlink(d.path / "logs" / "gone.log", d.path / "logs" / "inference.log");  // dangling
  Report r = run({d.path.string()});
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_FALSE(r.inputs[0].unreadable);
  EXPECT_TRUE(r.inputs[1].unreadable);
  EXPECT_FALSE(r.inputs[1].error.empty());
  EXPECT_EQ(r.updates.size(), 4u);
}

TEST(AnalyzerInputs, CompressedInputsInAFolder) {
  TempDir plain_dir, gz_dir;
  plain_dir.write("logs/orchestrator.log", kOrchestrator);
  gz_dir.write("logs/orchestrator.log.gz", gzip(kOrchestrator));
  Report plain = run({plain_dir.path.string()});
  Report gz = run({gz_dir.path.string()});
  ASSERT_EQ(gz.inputs.size(), 1u);
  EXPECT_EQ(gz.inputs[0].compression, "gzip");
  EXPECT_EQ(gz.inputs[0].role, Role::orchestrator);
  EXPECT_EQ(gz.updates.size(), plain.updates.size());
  EXPECT_EQ(metric(gz, "weights.queue_ms").stats.mean,
            metric(plain, "weights.queue_ms").stats.mean);
  EXPECT_EQ(gz.inputs[0].counts.lines, plain.inputs[0].counts.lines);
}

// ---- Run folders ------------------------------------------------------------------------------

TEST(FindRunLogs, OrderByRoleThenPathAndSkipOwnReports) {
  TempDir d;
  for (const char* p :
       {"logs/other.log", "logs/trainer/rank_1.log", "logs/trainer/rank_0.log", "logs/trainer.log",
        "logs/inference_2.log.gz", "logs/inference.log", "logs/orchestrator.log",
        "logs/extra.log.zst", "notes.txt", "logs/orchestrator.log.bak",
        "analysis_20251014_183047/timeline.log", "comparison_20251014_183047/x.log",
        ".analysis_x.tmp-abc/y.log", "logs/events.jsonl"})
    d.write(p, "x\n");
  auto found = find_run_logs(d.path);
  std::vector<std::string> rel;
  for (const auto& p : found) rel.push_back(fs::relative(p, d.path).generic_string());
  EXPECT_EQ(rel, (std::vector<std::string>{
                     "logs/orchestrator.log", "logs/inference.log", "logs/inference_2.log.gz",
                     "logs/trainer.log", "logs/trainer/rank_0.log", "logs/trainer/rank_1.log",
                     "logs/events.jsonl", "logs/extra.log.zst", "logs/other.log"}));
}

TEST(FindRunLogs, TestdataRunFolders) {
  if (!fs::exists(runs_dir() / "prefix")) GTEST_SKIP() << "testdata/runs not generated yet";
  auto found = find_run_logs(runs_dir() / "prefix");
  std::vector<std::string> rel;
  for (const auto& p : found)
    rel.push_back(fs::relative(p, runs_dir() / "prefix").generic_string());
  EXPECT_EQ(rel, (std::vector<std::string>{"logs/orchestrator.log", "logs/inference.log",
                                           "logs/trainer/rank_0.log", "logs/trainer/rank_1.log"}));
}

// ---- testdata/runs against expected.json ------------------------------------------------------

class AnalyzerRuns : public ::testing::TestWithParam<std::string> {};

TEST_P(AnalyzerRuns, MetricsMatchExpectedJson) {
  const std::string name = GetParam();
  if (!fs::exists(runs_dir() / name / "expected.json"))
    GTEST_SKIP() << "testdata/runs/" << name << " not generated yet";
  json exp = load_expected(name);
  Report r = run({(runs_dir() / name).string()}, 2, exp.value("async_level", 2));
  for (const auto& [mname, want] : exp["metrics"].items()) {
    SCOPED_TRACE(mname);
    const MetricReport* m = r.metric(mname);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->stats.count, want["count"].get<size_t>());
    for (const char* st : {"mean", "min", "p50", "p90", "p95", "p99", "max"}) {
      double w = want[st].get<double>();
      double got = std::string(st) == "mean"  ? m->stats.mean
                   : std::string(st) == "min" ? m->stats.min
                   : std::string(st) == "p50" ? m->stats.p50
                   : std::string(st) == "p90" ? m->stats.p90
                   : std::string(st) == "p95" ? m->stats.p95
                   : std::string(st) == "p99" ? m->stats.p99
                                              : m->stats.max;
      EXPECT_NEAR(got, w, 1e-9 * std::max(1.0, std::fabs(w))) << st;
    }
  }
  // No metric the generator did not produce (the step budget, which make_prime_rl.py does not
  // simulate, is checked against testdata/steps/ in test_steps.cpp).
  for (const auto& m : r.metrics)
    if (!m.name.starts_with("step.")) {
      EXPECT_TRUE(exp["metrics"].contains(m.name)) << m.name;
    }
}

TEST_P(AnalyzerRuns, UpdatesMatchExpectedJson) {
  const std::string name = GetParam();
  if (!fs::exists(runs_dir() / name / "expected.json")) GTEST_SKIP();
  json exp = load_expected(name);
  Report r = run({(runs_dir() / name).string()}, 2, exp.value("async_level", 2));
  EXPECT_EQ(r.updates.size(), exp["updates_sent"].get<size_t>());
  size_t complete = 0, reloads = 0;
  for (const auto& u : r.updates) {
    complete += u.complete;
    reloads += u.reload;
  }
  EXPECT_EQ(complete, exp["updates_complete"].get<size_t>());
  EXPECT_EQ(reloads, exp["reloads"].get<size_t>());
  EXPECT_EQ(metric(r, "weights.wall_ms").stats.count - metric(r, "weights.rpc_ms").stats.count,
            exp["sentinel_client_done"].get<size_t>());

  ASSERT_EQ(r.updates.size(), exp["updates"].size());
  for (size_t i = 0; i < r.updates.size(); ++i) {
    const auto& u = r.updates[i];
    const json& w = exp["updates"][i];
    SCOPED_TRACE(w["trace_id"].get<std::string>());
    EXPECT_EQ(u.trace.str(), w["trace_id"].get<std::string>());
    EXPECT_EQ(u.reload, w["op"] == "reload");
    EXPECT_EQ(u.complete, w["complete"].get<bool>());
    if (w["step"].is_null()) {
      EXPECT_FALSE(u.step);
    } else {
      EXPECT_EQ(u.step, w["step"].get<int64_t>());
    }
    for (auto [key, got] : {std::pair{"wall_ms", u.wall_ms}, std::pair{"rpc_ms", u.rpc_ms},
                            std::pair{"queue_ms", u.queue_ms}}) {
      if (w[key].is_null()) {
        EXPECT_FALSE(got) << key;
      } else {
        ASSERT_TRUE(got) << key;
        EXPECT_NEAR(*got, w[key].get<double>(), 1e-9) << key;
      }
    }
    EXPECT_NEAR(u.send_t, w["client"]["send_t"].get<double>(), 1e-9);
  }
}

TEST_P(AnalyzerRuns, ClockOffsetsAndPhasesWithinTheirUncertainty) {
  const std::string name = GetParam();
  if (!fs::exists(runs_dir() / name / "expected.json")) GTEST_SKIP();
  json exp = load_expected(name);
  Report r = run({(runs_dir() / name).string()}, 2, exp.value("async_level", 2));
  double half_width_s = 0;
  for (const auto& c : exp["clocks"]) {
    std::string log = c["log"].get<std::string>();
    SCOPED_TRACE(log);
    const ClockEstimate* est = nullptr;
    for (const auto& rc : r.clocks)
      if (ends_with(r.file_name(rc.file), log)) est = &rc;
    ASSERT_NE(est, nullptr);
    double truth = c["offset_s"].get<double>();
    // The generated runs' wall clocks agree with their t= values: they narrow the bounds.
    EXPECT_EQ(est->method, "bounds + wall clocks");
    EXPECT_TRUE(est->note.empty()) << est->note;
    EXPECT_GT(est->updates_used, 0u);
    EXPECT_LE(est->lower_s, truth + 1e-6);
    EXPECT_GE(est->upper_s, truth - 1e-6);
    half_width_s = std::max(half_width_s, (est->upper_s - est->lower_s) / 2);
    EXPECT_LE(std::fabs(est->offset_s - truth), (est->upper_s - est->lower_s) / 2 + 1e-6);
  }
  const double tol_ms = half_width_s * 1000 + 0.01;
  for (size_t i = 0; i < r.updates.size() && i < exp["updates"].size(); ++i) {
    const auto& u = r.updates[i];
    const json& w = exp["updates"][i];
    SCOPED_TRACE(w["trace_id"].get<std::string>());
    if (w["server"].is_null()) {
      EXPECT_FALSE(u.server);
      continue;
    }
    ASSERT_TRUE(u.server);
    EXPECT_TRUE(ends_with(r.file_name(u.server->file), w["server"]["log"].get<std::string>()));
    const json& ph = w["phases_ms"];
    auto near = [&](const char* key, const std::optional<double>& got, double tol) {
      if (ph[key].is_null()) {
        EXPECT_FALSE(got) << key;
      } else {
        ASSERT_TRUE(got) << key;
        EXPECT_NEAR(*got, ph[key].get<double>(), tol) << key;
      }
    };
    near("server_pre_rpc_ms", u.phases.server_pre_rpc_ms, 1e-3);
    near("engine_ms", u.phases.engine_ms, 1e-3);
    // Cross-host phases: a value when the clock is measured, and always a range holding the truth.
    const ClockEstimate* c = clock_for(r, u.server->file);
    ASSERT_NE(c, nullptr);
    auto ranges = cross_host_ranges(r, u);
    auto cross = [&](const char* key, const std::optional<double>& got, const std::optional<MsRange>& range) {
      if (ph[key].is_null()) {
        EXPECT_FALSE(got) << key;
        EXPECT_FALSE(range) << key;
        return;
      }
      if (c->measured()) near(key, got, tol_ms);
      else EXPECT_FALSE(got) << key << ": a midpoint is not a measurement";
      ASSERT_TRUE(range) << key;
      EXPECT_LE(range->lo, ph[key].get<double>() + 1e-3) << key;
      EXPECT_GE(range->hi, ph[key].get<double>() - 1e-3) << key;
    };
    cross("client_to_server_ms", u.phases.client_to_server_ms, ranges.client_to_server_ms);
    cross("server_to_client_ms", u.phases.server_to_client_ms, ranges.server_to_client_ms);
    if (!u.complete) {
      std::string want =
          w["server"]["rpc_start_t"].is_null()
              ? (w["server"]["recv_t"].is_null() ? "client_to_server" : "server_pre_rpc")
          : w["server"]["rpc_done_t"].is_null() ? "engine"
                                                : "server_to_client";
      EXPECT_EQ(u.last_phase, want);
    } else {
      EXPECT_TRUE(u.last_phase.empty());
    }
  }
}

TEST_P(AnalyzerRuns, NoiseAndRoles) {
  const std::string name = GetParam();
  if (!fs::exists(runs_dir() / name / "expected.json")) GTEST_SKIP();
  json exp = load_expected(name);
  Report r = run({(runs_dir() / name).string()}, 2, exp.value("async_level", 2));
  uint64_t noise = 0;
  for (const auto& in : r.inputs) {
    noise += in.counts.noise;
    EXPECT_FALSE(in.unreadable) << in.path;
    EXPECT_FALSE(in.counts.partial) << in.path;
    std::string rel = fs::relative(in.path, runs_dir() / name).generic_string();
    if (rel == exp["files"]["orchestrator"]) {
      EXPECT_EQ(in.role, Role::orchestrator) << rel;
    }
    for (const auto& f : exp["files"]["inference"])
      if (rel == f) {
        EXPECT_EQ(in.role, Role::inference) << rel;
      }
    for (const auto& f : exp["files"]["trainer"])
      if (rel == f) {
        // rank_1 of the prefix run logs no tagged line: its role comes from its path.
        EXPECT_EQ(in.role, Role::trainer) << rel;
      }
  }
  EXPECT_EQ(noise, exp["counts"]["weights_dash_noise_lines"].get<uint64_t>());
  EXPECT_EQ(r.batches.size(), exp["counts"]["batches_started"].get<size_t>());
}

INSTANTIATE_TEST_SUITE_P(Testdata, AnalyzerRuns, ::testing::Values("healthy", "prefix", "postfix"));
