// Inconsistent sequences (issue 8): what analyze() does with events that arrive out of order or
// twice, and with two runs given together. Never fatal; each is counted in Report::anomalies and
// the statistics keep every readable sample. docs/RELIABILITY.md ("Inconsistent sequences")
// states the behaviour tested here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/model.hpp"
#include "analyze_logs/util.hpp"
#include "support.hpp"

using namespace alog;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

using alog::test_support::TempDir;

Report run(const std::vector<std::string>& inputs, size_t max_updates = 250000, unsigned threads = 1) {
  AnalysisOptions opt;
  opt.inputs = inputs;
  opt.threads = threads;
  opt.max_updates = max_updates;
  return analyze(opt);
}

const MetricReport* metric(const Report& r, std::string_view name) { return r.metric(name); }

size_t count_of(const Report& r, std::string_view name) {
  const MetricReport* m = metric(r, name);
  return m ? m->stats.count : 0;
}

const char* kClient =
    "[weights][00000000000000a1] client.send url=http://h:1 path=/m/step_1 t=100.0\n"
    "[weights][00000000000000a1] client.done wall_ms=1000 rpc_ms=900 queue_ms=100\n";
const char* kServer =
    "INFO 10-14 18:30:47 [server.py:88] [weights][00000000000000a1] server.recv path=/update_weights t=5000.01\n"
    "INFO 10-14 18:30:47 [worker.py:12] [weights][00000000000000a1] rpc.start op=update_weights t=5000.1\n"
    "INFO 10-14 18:30:48 [worker.py:12] [weights][00000000000000a1] rpc.done op=update_weights t=5000.9 rpc_ms=800\n";

}  // namespace

TEST(AnalysisSequences, ClientDoneBeforeItsSendCountsSamplesAndTheLaterSendIsIncomplete) {
  TempDir d;
  Report r = run({d.write("o.log",
                          "[weights][00000000000000a1] client.done wall_ms=10 rpc_ms=5 queue_ms=1\n"
                          "[weights][00000000000000a1] client.send path=/m/step_1 t=1.0\n")});
  EXPECT_EQ(r.anomalies.done_without_send, 1u);
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_FALSE(r.updates[0].complete);
  EXPECT_FALSE(r.updates[0].wall_ms);
  EXPECT_EQ(count_of(r, "weights.wall_ms"), 1u);
  EXPECT_EQ(count_of(r, "weights.queue_ms"), 1u);
}

TEST(AnalysisSequences, SecondDoneForACompleteUpdateIsDuplicateDone) {
  TempDir d;
  Report r = run({d.write("o.log",
                          "[weights][00000000000000a2] client.send path=/m/step_2 t=2.0\n"
                          "[weights][00000000000000a2] client.done wall_ms=11 rpc_ms=5 queue_ms=1\n"
                          "[weights][00000000000000a2] client.done wall_ms=12 rpc_ms=5 queue_ms=1\n")});
  EXPECT_EQ(r.anomalies.duplicate_done, 1u);
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_EQ(r.updates[0].wall_ms, 11);  // the update keeps the first
  EXPECT_EQ(count_of(r, "weights.wall_ms"), 2u);
}

TEST(AnalysisSequences, TraceIdReusedByTwoUpdatesGivesTwoUpdatesPairedInOrder) {
  TempDir d;
  std::string client = d.write("o.log",
                               "[weights][00000000000000a3] client.send path=/m/step_1 t=100.0\n"
                               "[weights][00000000000000a3] client.done wall_ms=1000 rpc_ms=900 queue_ms=100\n"
                               "[weights][00000000000000a3] client.send path=/m/step_2 t=200.0\n"
                               "[weights][00000000000000a3] client.done wall_ms=2000 rpc_ms=900 queue_ms=1100\n");
  std::string server = d.write(
      "i.log",
      "INFO 10-14 18:30:47 [server.py:88] [weights][00000000000000a3] rpc.start op=update_weights t=5000.1\n"
      "INFO 10-14 18:30:48 [worker.py:12] [weights][00000000000000a3] rpc.done op=update_weights t=5000.9 rpc_ms=800\n"
      "INFO 10-14 18:30:47 [server.py:88] [weights][00000000000000a3] rpc.start op=update_weights t=5100.1\n"
      "INFO 10-14 18:30:48 [worker.py:12] [weights][00000000000000a3] rpc.done op=update_weights t=5100.9 rpc_ms=700\n");
  Report r = run({client, server});
  EXPECT_EQ(r.anomalies.reused_trace_id, 1u);
  ASSERT_EQ(r.updates.size(), 2u);
  EXPECT_TRUE(r.updates[0].complete);
  EXPECT_TRUE(r.updates[1].complete);
  EXPECT_EQ(r.updates[0].step, 1);
  EXPECT_EQ(r.updates[1].step, 2);
  ASSERT_TRUE(r.updates[0].server && r.updates[1].server);
  EXPECT_EQ(r.updates[0].server->rpc_ms, 800);  // first with first
  EXPECT_EQ(r.updates[1].server->rpc_ms, 700);
  EXPECT_TRUE(r.server_only.empty());
}

TEST(AnalysisSequences, SameTraceIdInTwoRunFoldersGivenTogether) {
  // Two run folders on one command line, with the same trace id in both (ids are random per
  // process, but a copied or re-run job repeats them). Each run's updates join their own server
  // halves; the second send of the id counts as a reuse; nothing is merged across runs.
  TempDir d;
  for (const char* run_name : {"runA", "runB"}) {
    d.write(std::string(run_name) + "/logs/orchestrator.log", kClient);
    d.write(std::string(run_name) + "/logs/inference.log", kServer);
  }
  for (unsigned threads : {1u, 2u}) {
    Report r = run({(d.path / "runA").string(), (d.path / "runB").string()}, 250000, threads);
    ASSERT_EQ(r.inputs.size(), 4u);
    ASSERT_EQ(r.updates.size(), 2u);
    EXPECT_EQ(r.anomalies.reused_trace_id, 1u);
    EXPECT_EQ(r.anomalies.done_without_send, 0u);
    EXPECT_EQ(r.anomalies.duplicate_done, 0u);
    EXPECT_TRUE(r.server_only.empty());
    for (size_t k = 0; k < 2; ++k) {
      const auto& u = r.updates[k];
      EXPECT_TRUE(u.complete);
      ASSERT_TRUE(u.server);
      std::string run_name = k == 0 ? "runA" : "runB";
      EXPECT_NE(r.file_name(u.send_at.file).find(run_name), std::string::npos) << r.file_name(u.send_at.file);
      EXPECT_NE(r.file_name(u.server->file).find(run_name), std::string::npos) << r.file_name(u.server->file);
    }
    EXPECT_EQ(count_of(r, "weights.wall_ms"), 2u);
  }
}

TEST(AnalysisSequences, RpcDoneWithoutRpcStartKeepsTheServerHalf) {
  TempDir d;
  std::string client = d.write("o.log", kClient);
  std::string server = d.write(
      "i.log",
      "INFO 10-14 18:30:48 [worker.py:12] [weights][00000000000000a1] rpc.done op=update_weights t=5000.9 rpc_ms=800\n"
      "INFO 10-14 18:30:48 [worker.py:12] [weights][00000000000000b9] rpc.done op=update_weights t=5001.9 rpc_ms=9\n");
  Report r = run({client, server});
  EXPECT_EQ(r.anomalies.rpc_done_without_start, 2u);
  ASSERT_EQ(r.updates.size(), 1u);
  ASSERT_TRUE(r.updates[0].server);
  EXPECT_FALSE(r.updates[0].server->rpc_start_t);
  EXPECT_EQ(r.updates[0].server->rpc_ms, 800);
  ASSERT_EQ(r.server_only.size(), 1u);  // b9 has no client half: listed, not dropped
  EXPECT_EQ(r.server_only[0].trace.str(), "00000000000000b9");
}

TEST(AnalysisSequences, BatchDoneWithoutBatchStart) {
  TempDir d;
  Report r = run({d.write("o.log", "[gen] batch.done dur_ms=5\n[gen] batch.start inflight=3\n")});
  EXPECT_EQ(r.anomalies.batch_done_without_start, 1u);
  EXPECT_EQ(count_of(r, "gen.dur_ms"), 1u);
}

TEST(AnalysisSequences, BeyondMaxUpdatesDonesOfUntrackedIdsAreNotOrphans) {
  TempDir d;
  std::string text;
  for (int i = 1; i <= 30; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "%016x", i);
    text += std::string("[weights][") + id + "] client.send path=/m/step_" + std::to_string(i) + " t=1\n";
    text += std::string("[weights][") + id + "] client.done wall_ms=1 rpc_ms=1 queue_ms=1\n";
  }
  Report r = run({d.write("o.log", text)}, 10);
  EXPECT_EQ(r.updates.size(), 10u);
  EXPECT_EQ(r.anomalies.untracked_updates, 20u);
  EXPECT_EQ(r.anomalies.done_without_send, 0u);
  EXPECT_EQ(count_of(r, "weights.wall_ms"), 30u);
}

TEST(AnalysisSequences, BeyondMaxUpdatesBatchesAndPointEventsAreCountedNotKept) {
  // Memory stays flat past --max-updates: batches and ckpt/rollout events are capped like
  // updates (each kind on its own), while every one of their samples is still in the statistics.
  TempDir d;
  std::string text;
  for (int i = 1; i <= 25; ++i) {
    text += "[gen] batch.start inflight=" + std::to_string(i) + "\n";
    text += "[ckpt] wait.start target_step=" + std::to_string(i) + "\n";
    text += "[ckpt] wait.done target_step=" + std::to_string(i) + " wait_ms=" + std::to_string(100 * i) + "\n";
    text += "[gen] batch.done dur_ms=" + std::to_string(10 * i) + " inflight=" + std::to_string(i) + "\n";
  }
  text += "[gen] batch.done dur_ms=7\n";  // a real orphan after the capped ones: still an anomaly
  Report r = run({d.write("o.log", text)}, 10);
  ASSERT_EQ(r.batches.size(), 10u);
  EXPECT_EQ(r.anomalies.untracked_batches, 16u);  // 15 started beyond the cap, and the orphan's record
  EXPECT_EQ(r.anomalies.batch_done_without_start, 1u);
  EXPECT_EQ(count_of(r, "gen.dur_ms"), 26u);
  EXPECT_EQ(count_of(r, "gen.inflight"), 25u);
  // The kept batches are the first ten, each with its own start and done.
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(*r.batches[i].dur_ms, 10.0 * static_cast<double>(i + 1)) << i;
    EXPECT_EQ(*r.batches[i].inflight_start, static_cast<double>(i + 1)) << i;
  }
  const auto* waits = r.points("ckpt.wait_ms");
  ASSERT_NE(waits, nullptr);
  EXPECT_EQ(waits->size(), 10u);
  EXPECT_EQ(r.anomalies.untracked_point_events, 15u);
  EXPECT_EQ(count_of(r, "ckpt.wait_ms"), 25u);
  const MetricReport* m = r.metric("ckpt.wait_ms");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->stats.max, 2500.0);  // from a wait that is not kept as an event
}

TEST(AnalysisSequences, DiagnosesOverCappedRecordsSaySo) {
  TempDir d;
  std::string text;
  for (int i = 1; i <= 25; ++i)
    text += "[ckpt] wait.done target_step=" + std::to_string(i) + " wait_ms=" + std::to_string(3000 + i) + "\n";
  Report r = run({d.write("o.log", text)}, 10);
  diagnose(r);
  const Diagnosis* stall = nullptr;
  for (const auto& x : r.diagnoses)
    if (x.id == "ckpt_stall") stall = &x;
  ASSERT_NE(stall, nullptr);
  EXPECT_NE(stall->summary.find("10 of 10 checkpoint waits"), std::string::npos) << stall->summary;
  EXPECT_NE(stall->summary.find("(over the records kept: 15 more beyond --max-updates are only in the statistics)"),
            std::string::npos)
      << stall->summary;
  // Uncapped, the same rule says nothing of the kind.
  Report all = run({d.write("o2.log", text)});
  diagnose(all);
  ASSERT_FALSE(all.diagnoses.empty());
  EXPECT_NE(all.diagnoses[0].summary.find("25 of 25 checkpoint waits"), std::string::npos) << all.diagnoses[0].summary;
  EXPECT_EQ(all.diagnoses[0].summary.find("beyond --max-updates"), std::string::npos);
}

// Issue 22: one byte that is not text just before a `[weights]` tag lost the client.done with
// "0 skipped" and made the update look incomplete (a fake incomplete_update). Now the analysis of
// the run with that byte is the analysis of the run without it, plus the count of the byte.
TEST(AnalysisSequences, AnUnreadableByteBeforeATagChangesNothingButItsCount) {
  const fs::path run_dir = fs::path(ALOG_TESTDATA) / "runs" / "prefix";
  if (!fs::exists(run_dir / "logs" / "orchestrator.log"))
    GTEST_SKIP() << "testdata/runs not generated";
  const std::string orch = test_support::slurp(run_dir / "logs" / "orchestrator.log");
  const std::string done = "[weights][2f99c71d3e78f411] client.done";
  const size_t at = orch.find(done);
  ASSERT_NE(at, std::string::npos);
  const uint64_t line =
      1 + static_cast<uint64_t>(std::count(orch.begin(), orch.begin() + at, '\n'));

  auto analysed = [&](const std::string& orchestrator) {
    TempDir d;
    d.write("logs/orchestrator.log", orchestrator);
    d.write("logs/inference.log", test_support::slurp(run_dir / "logs" / "inference.log"));
    d.write("logs/trainer/rank_0.log",
            test_support::slurp(run_dir / "logs" / "trainer" / "rank_0.log"));
    Report r = run({d.path.string()});
    diagnose(r);
    return r;
  };
  const Report clean = analysed(orch);
  ASSERT_EQ(clean.inputs[0].counts.unreadable_bytes, 0u);
  for (std::string bad : {"\xff"s, "\0"s, "\x1b"s, "\xef\xbb\xbf"s, "\x07\xfe"s}) {
    SCOPED_TRACE(printable(bad));
    std::string text = orch;
    text.insert(at, bad);
    const Report r = analysed(text);
    ASSERT_EQ(r.inputs.size(), clean.inputs.size());
    EXPECT_EQ(r.total_events(), clean.total_events());
    EXPECT_EQ(r.inputs[0].counts.events, clean.inputs[0].counts.events);
    EXPECT_EQ(r.inputs[0].counts.skipped(), 0u);
    EXPECT_EQ(r.inputs[0].counts.unreadable_bytes, bad.size());
    EXPECT_EQ(r.inputs[0].counts.unreadable_lines, 1u);
    EXPECT_EQ(r.inputs[0].counts.unreadable_samples, std::vector<uint64_t>{line});
    size_t complete = 0, clean_complete = 0;
    for (const auto& u : r.updates) complete += u.complete;
    for (const auto& u : clean.updates) clean_complete += u.complete;
    EXPECT_EQ(complete, clean_complete);
    ASSERT_EQ(r.metrics.size(), clean.metrics.size());
    for (size_t i = 0; i < r.metrics.size(); ++i) {
      EXPECT_EQ(r.metrics[i].stats.count, clean.metrics[i].stats.count) << r.metrics[i].name;
      EXPECT_EQ(r.metrics[i].stats.mean, clean.metrics[i].stats.mean) << r.metrics[i].name;
    }
    ASSERT_EQ(r.diagnoses.size(), clean.diagnoses.size());
    for (size_t i = 0; i < r.diagnoses.size(); ++i)
      EXPECT_EQ(r.diagnoses[i].summary,
                clean.diagnoses[i].summary);  // "1 of 33 ... never completed"
    // The header says so, pointing at the line, without changing the verdict.
    core::Header h = header(r), hc = header(clean);
    EXPECT_EQ(h.verdict, hc.verdict);
    const core::Finding* f = nullptr;
    for (const auto& x : h.findings)
      if (x.id == "unreadable_bytes") f = &x;
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->severity, core::Severity::info);
    ASSERT_EQ(f->evidence.size(), 1u);
    EXPECT_EQ(f->evidence[0].line, line);
    EXPECT_TRUE(f->evidence[0].file.ends_with("orchestrator.log")) << f->evidence[0].file;
  }
}
