// The srtctl classifier of --follow (src/follow/live_srtctl.cpp): every line of the real testdata
// jobs fed through it, checked against what the one-shot analysis (analyze_job) says of the same
// job; then each signal on its own, and bad input.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <optional>
#include <climits>
#include <vector>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/follow.hpp"
#include "analyze_logs/srtctl.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using alog::follow::Classifier;
using alog::follow::Signal;
using Type = Signal::Type;
using alog::test_support::slurp;

namespace {

const fs::path kLogs = fs::path(ALOG_TESTDATA) / "srtctl" / "logs";

// What a classifier said, per component.
struct Seen {
  std::map<std::string, uint64_t> progress, activity;
  std::map<std::string, std::vector<std::string>> details;  // progress details in order
  std::map<std::string, std::string> last_activity;
  std::set<std::string> finished;
  std::vector<std::string> job_ended;
  std::map<std::string, std::vector<double>> samples;
  std::map<std::string, std::vector<double>> typical;  // typical_s of each progress, in order
  uint64_t signals = 0;

  void add(const std::vector<Signal>& v) {
    for (const Signal& s : v) {
      ++signals;
      switch (s.type) {
        case Type::progress:
          ++progress[s.component];
          details[s.component].push_back(s.detail);
          typical[s.component].push_back(s.typical_s);
          break;
        case Type::activity:
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

// Feeds the complete lines of `text` ('\n'-terminated; a final fragment is not a line yet).
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

// Every file of a job: workers first, then the benchmark client, the batch script last (as a job
// ends), with the paths named the way discovery names them (job folder / file).
Seen feed_job(const fs::path& dir) {
  auto c = alog::follow::make_srtctl_classifier();
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  auto rank = [](const fs::path& p) {
    std::string n = p.filename().string();
    if (n == "log.out" || n == "log.err") return 3;
    if (n.starts_with("benchmark.")) return 2;
    return 1;
  };
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    return std::pair(rank(a), a.filename().string()) < std::pair(rank(b), b.filename().string());
  });
  Seen seen;
  for (const auto& f : files)
    feed(*c, dir.filename().string() + "/" + f.filename().string(), slurp(f), seen);
  return seen;
}

// Every line of a job in the order the job wrote them: each line takes the latest stamp of its
// file (SGLang `[stamp …]`, bootstrap `stamp| root:`, Dynamo `stampZ`, benchmark.out's date
// lines); lines before any stamp come first, the batch script's log.out / log.err last.
Seen feed_job_in_time_order(const fs::path& dir) {
  struct Line {
    int64_t t;
    size_t file, no;
    std::string text;
  };
  std::vector<Line> all;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string n = e.path().filename().string();
    const bool batch = n == "log.out" || n == "log.err";
    names.push_back(dir.filename().string() + "/" + n);
    // benchmark.out prints `date` after a run's start line and after its result block, so its
    // lines take the next stamp; every other file's lines the latest one before them.
    const bool date_after = n == "benchmark.out";
    std::vector<Line> lines;
    int64_t t = INT64_MIN;
    size_t no = 0;
    for (const std::string& l : alog::test_support::lines_of(slurp(e.path()))) {
      std::string_view v = l;
      std::string_view stamp;
      if (v.size() >= 20 && v[0] == '[') stamp = v.substr(1, 19);
      else if (v.size() >= 19 && v.starts_with("20")) stamp = v.substr(0, 19);
      else if (v.size() >= 23 && v.starts_with("\x1b[2m20")) stamp = v.substr(4, 19);
      std::optional<int64_t> own;
      if (!stamp.empty()) own = alog::srtctl::civil_seconds(stamp);
      if (own) t = *own;
      lines.push_back({batch ? INT64_MAX : date_after ? (own ? *own : INT64_MAX - 1) : t, names.size() - 1, no++, l});
    }
    if (date_after)
      for (size_t i = lines.size(); i-- > 1;)
        if (lines[i - 1].t == INT64_MAX - 1) lines[i - 1].t = lines[i].t;
    all.insert(all.end(), lines.begin(), lines.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Line& a, const Line& b) {
    return std::tie(a.t, a.file, a.no) < std::tie(b.t, b.file, b.no);
  });
  auto c = alog::follow::make_srtctl_classifier();
  Seen seen;
  std::vector<Signal> out;
  for (const Line& l : all) {
    out.clear();
    c->on_line(names[l.file], l.text, out);
    seen.add(out);
  }
  return seen;
}

std::set<std::string> with_prefix(const std::set<std::string>& s, std::string_view p) {
  std::set<std::string> r;
  for (const auto& x : s)
    if (std::string_view(x).starts_with(p)) r.insert(x);
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Whole testdata jobs, against the one-shot analysis of the same files.

TEST(LiveSrtctl, HealthyJobEveryRunFinishedAsTheOneShotSaysAndTheScriptEndsIt) {
  const fs::path dir = kLogs / "4459_2P_1D_20251122_041341";
  Seen seen = feed_job(dir);
  auto report = alog::srtctl::analyze_job(dir, 1);

  // Benchmark runs: one component per concurrency, finished exactly for the runs with a block.
  std::set<std::string> want_finished, want_runs;
  for (const auto& r : report.runs) {
    want_runs.insert("benchmark c=" + std::to_string(r.concurrency));
    if (r.has_block) want_finished.insert("benchmark c=" + std::to_string(r.concurrency));
  }
  ASSERT_EQ(want_runs, (std::set<std::string>{"benchmark c=64", "benchmark c=128", "benchmark c=256"}));
  EXPECT_EQ(with_prefix(seen.finished, "benchmark c="), want_finished);
  for (const auto& r : want_runs) EXPECT_GE(seen.progress[r], 4u) << r;  // start, test run, block, count
  // The warm-ups are theirs, apart from the runs.
  std::set<std::string> warm;
  for (const auto& w : report.warmups) warm.insert("warm-up c=" + std::to_string(w.concurrency));
  EXPECT_EQ(with_prefix(seen.finished, "warm-up c="), warm);
  // The request count of a finished run is its progress detail.
  const auto& d64 = seen.details["benchmark c=64"];
  ASSERT_TRUE(report.run(64) && report.run(64)->metric("completed"));
  EXPECT_NE(std::find(d64.begin(), d64.end(),
                      std::to_string(static_cast<int64_t>(*report.run(64)->metric("completed"))) +
                          " requests done"),
            d64.end());

  // Health check: progress each time the awaited count moved (2+1, 1+1, 0+1), then ready.
  EXPECT_TRUE(seen.finished.count("health check"));
  EXPECT_EQ(seen.progress["health check"], 1u /*polling*/ + 3u /*counts*/ + 1u /*ready*/);
  EXPECT_EQ(seen.details["health check"][1], "waiting for 2 prefills and 1 decodes");

  // Workers: one per worker log, each finished (Dynamo's "Registered endpoint") after milestones.
  std::set<std::string> workers;
  for (const auto& l : report.logs)
    if (l.id.role == "prefill" || l.id.role == "decode")
      workers.insert("worker " + fs::path(l.file).stem().string());
  ASSERT_EQ(workers.size(), 4u);
  EXPECT_EQ(with_prefix(seen.finished, "worker "), workers);
  for (const auto& w : workers) {
    EXPECT_GE(seen.progress[w], 8u) << w;
    const auto& d = seen.details[w];
    EXPECT_NE(std::find(d.begin(), d.end(), "loading weights"), d.end()) << w;
    EXPECT_NE(std::find(d.begin(), d.end(), "CUDA graphs captured"), d.end()) << w;
    EXPECT_EQ(d.back(), "ready") << w;
  }
  // Serving: every batch line is progress of its worker's serving component.
  uint64_t batch_lines = 0;
  for (const auto& b : report.batches) batch_lines += b.lines;
  uint64_t serving = 0;
  for (const auto& [name, n] : seen.progress)
    if (name.starts_with("serving ")) serving += n;
  EXPECT_EQ(serving, batch_lines);
  EXPECT_GT(batch_lines, 0u);

  // Job end: the batch script's last line, with its exit code; exactly once.
  ASSERT_EQ(seen.job_ended.size(), 1u);
  ASSERT_TRUE(report.topology.exit_code);
  EXPECT_EQ(seen.job_ended[0],
            "batch script finished with exit code " + std::to_string(*report.topology.exit_code));
  // The teardown's CANCELLED lines show as the workers' last lines.
  EXPECT_GE(seen.activity.size(), 4u);
}

TEST(LiveSrtctl, NeverReadyJobLeavesTheStuckWorkerUnfinishedAndNamesItsFailure) {
  const fs::path dir = kLogs / "4461_2P_1D_20251122_080011";
  Seen seen = feed_job(dir);
  auto report = alog::srtctl::analyze_job(dir, 1);
  ASSERT_FALSE(report.readiness.ready);
  EXPECT_FALSE(seen.finished.count("health check"));
  EXPECT_EQ(seen.last_activity["health check"], "health check gave up");
  EXPECT_TRUE(with_prefix(seen.finished, "benchmark").empty());
  // The decode worker that hit the NCCL error never became ready; its NCCL lines are its activity.
  EXPECT_FALSE(seen.finished.count("worker watchtower-aqua-cn16_decode_w0"));
  EXPECT_GE(seen.activity["worker watchtower-aqua-cn16_decode_w0"], 2u);
  ASSERT_NE(report.root(), nullptr);
  ASSERT_EQ(seen.job_ended.size(), 1u);
  EXPECT_EQ(seen.job_ended[0], "batch script finished with exit code 2");
}

TEST(LiveSrtctl, EveryTestdataJobEndsOnceAndFinishesOnlyWhatTheOneShotFinished) {
  std::vector<fs::path> jobs;
  for (const char* set : {"logs", "sweep", "findings"})
    for (const auto& e : fs::directory_iterator(fs::path(ALOG_TESTDATA) / "srtctl" / set))
      if (e.is_directory()) jobs.push_back(e.path());
  ASSERT_GE(jobs.size(), 9u);
  for (const auto& job : jobs) {
    Seen seen = feed_job(job);
    auto report = alog::srtctl::analyze_job(job, 1);
    const fs::path e = job;
    // Every batch line the one-shot scan saw is progress of its worker's serving.
    uint64_t batch_lines = 0, serving = 0;
    for (const auto& b : report.batches) batch_lines += b.lines + b.unreadable;
    for (const auto& [name, n] : seen.progress)
      if (name.starts_with("serving ")) serving += n;
    EXPECT_EQ(serving, batch_lines) << job;
    EXPECT_EQ(seen.job_ended.size(), report.topology.exit_code ? 1u : 0u) << e;
    for (const auto& r : report.runs) {
      const std::string name = "benchmark c=" + std::to_string(r.concurrency);
      EXPECT_EQ(seen.finished.count(name) == 1, r.has_block || r.completed_line) << name;
    }
    // No finished component without progress first, no sample outside its range.
    for (const auto& f : seen.finished) EXPECT_GT(seen.progress[f], 0u) << f;
    for (double v : seen.samples["decode.gen_tps"]) EXPECT_GE(v, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Each signal on its own.

TEST(LiveSrtctl, WorkerMilestonesThenReadyThenBatchesAsServing) {
  auto c = alog::follow::make_srtctl_classifier();
  const std::string f = "job_1234/logs/node01_decode_w0.err";
  Seen s = feed_lines(
      *c, f,
      {"2025-12-03 17:20:38| root: Decode worker setup started",
       "[2025-11-04 05:27:10 DP0 TP0 EP0] Load weight begin. avail mem=182.37 GB",
       "\rLoading safetensors checkpoint shards:   0% Completed | 0/82 [00:00<?, ?it/s]\rLoading "
       "safetensors checkpoint shards:  50% Completed | 41/82 [01:40<01:40,  2.44s/it]",
       "\rLoading safetensors checkpoint shards: 100% Completed | 82/82 [03:21<00:00,  2.45s/it]",
       "\rLoading safetensors checkpoint shards: 100% Completed | 82/82 [03:21<00:00,  2.45s/it]",
       "[2025-11-04 05:27:13 DP0 TP0 EP0] Load weight end. type=X, avail mem=75.11 GB, mem usage=107.07 GB.",
       "[2025-11-04 05:27:13 DP0 TP0 EP0] KV Cache is allocated. #tokens: 655360, KV size: 21.45 GB",
       "[2025-11-04 05:27:20] The server is fired up and ready to roll!",
       "[2025-11-04 05:31:43 DP0 TP0 EP0] Decode batch, #running-req: 233, #token: 370959, token usage: 0.84, "
       "cuda graph: True, gen throughput (token/s): 4594.01, #queue-req: 317, ",
       "[2025-11-04 05:31:44 DP0 TP0 EP0] Decode batch. #running-req: 230, #token: 370000, token usage: 0.84, "
       "gen throughput (token/s): 4500.5, #queue-req: 3"});
  const std::string w = "worker node01_decode_w0", sv = "serving node01_decode_w0";
  EXPECT_EQ(s.details[w], (std::vector<std::string>{"setup started", "loading weights", "loading weights 41/82",
                                                   "loading weights 82/82", "weights loaded",
                                                   "KV cache allocated", "ready"}));
  // Weight loading and its bar: minutes on a large model (seed 004: 5-15 min); bootstrap: default.
  EXPECT_EQ(s.typical[w], (std::vector<double>{0, 900, 900, 900, 600, 600, 0}));
  EXPECT_TRUE(s.finished.count(w));
  EXPECT_EQ(s.progress[sv], 2u);
  EXPECT_EQ(s.details[sv][0], "decode batch, 233 running");
  EXPECT_EQ(s.samples["decode.gen_tps"], (std::vector<double>{4594.01, 4500.5}));
}

TEST(LiveSrtctl, PrefillBatchIsProgressWithoutAThroughputSample) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(*c, "j/n_prefill_w1.err",
                      {"[2025-11-04 05:31:43 DP0 TP0 EP0] Prefill batch, #new-seq: 18, #new-token: 15872, "
                       "#cached-token: 0, token usage: 0.00, #running-req: 0, #queue-req: 0, "
                       "#prealloc-req: 0, #inflight-req: 0, input throughput (token/s): 0.00,"});
  EXPECT_EQ(s.progress["serving n_prefill_w1"], 1u);
  EXPECT_TRUE(s.samples.empty());
}

TEST(LiveSrtctl, FailureLinesAreActivityOfTheirWorkerWithTheCataloguesTitle) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(
      *c, "j/n_decode_w0.err",
      {"[2025-11-04 05:31:43 DP13 TP13 EP13] Scheduler hit an exception: Traceback (most recent call last):",
       "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 768.00 MiB. GPU 0 has a total "
       "capacity of 83.05 GiB of which 140.38 MiB is free.",
       "n:1:2 [0] misc/socket.cc:484 NCCL WARN socketStartConnect: Connect failed",
       "n:1:2 [0] NCCL INFO Bootstrap : Using eth0",  // noise
       "2025-12-03 17:21:05| root: Etcd not ready yet, retrying in 2 seconds... (attempt 1/1000)"});
  EXPECT_EQ(s.activity["worker n_decode_w0"], 3u);
  EXPECT_EQ(s.last_activity["worker n_decode_w0"],
            alog::core::find_signature("nccl_error")->title);
  EXPECT_EQ(s.progress.size(), 0u);  // a failure is never progress
}

TEST(LiveSrtctl, BenchmarkBarMovesAreProgressOfTheRunningConcurrency) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s;
  std::vector<Signal> out;
  c->on_line("j/benchmark.out", "Running benchmark with concurrency: 64 and num-prompts: 320, writing to file x", out);
  s.add(out);
  out.clear();
  c->on_line("j/benchmark.err", "\r  0%|          | 0/320 [00:00<?, ?it/s]\r  5%|▌         | 16/320 [00:10<03:10,  1.60it/s]", out);
  s.add(out);
  out.clear();
  c->on_line("j/benchmark.err", "\r  5%|▌         | 16/320 [00:10<03:10,  1.60it/s]", out);  // did not move
  s.add(out);
  out.clear();
  c->on_line("j/benchmark.err", "\r 50%|█████     | 160/320 [01:40<01:40,  1.60it/s]", out);
  s.add(out);
  EXPECT_EQ(s.details["benchmark c=64"],
            (std::vector<std::string>{"started, 320 prompts", "16/320 requests", "160/320 requests"}));
  out.clear();
  c->on_line("j/benchmark.out", "Completed benchmark with concurrency: 64", out);
  s.add(out);
  out.clear();
  c->on_line("j/benchmark.out", "Completed benchmark with concurrency: 64", out);  // once only
  s.add(out);
  EXPECT_EQ(s.finished, (std::set<std::string>{"benchmark c=64"}));
  EXPECT_EQ(s.signals, 4u);
}

TEST(LiveSrtctl, StartedRunWithoutABlockIsNotFinished) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(*c, "j/benchmark.out",
                      {"Running benchmark with concurrency: 128 and num-prompts: 640, writing to file x",
                       "2025-11-22 04:32:52", "Namespace(backend='dynamo')",
                       "Starting initial single prompt test run...",
                       "Initial test run completed. Starting main benchmark run...",
                       "Traffic request rate: inf", "Maximum request concurrency: 128"});
  EXPECT_EQ(s.progress["benchmark c=128"], 4u);
  EXPECT_TRUE(s.finished.empty());
}

TEST(LiveSrtctl, GluedWarmUpLineAfterTheSpotCheckJsonStartsTheWarmUp) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(*c, "j/benchmark.out",
                      {R"({"id":"x","usage":{"total_tokens":743}}Warming up model with concurrency 64)"});
  EXPECT_EQ(s.details["warm-up c=64"], std::vector<std::string>{"warm-up started"});
}

TEST(LiveSrtctl, JobEndsOnScriptFinishedOrSlurmJobCancelNotOnAStepCancel) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(*c, "job_1234/log.err",
                      {"+ set +x", "srun: error: nid001097: task 5: Exited with exit code 255",
                       "slurmstepd: error: *** STEP 2261594.7 ON cn13 CANCELLED AT 2025-12-03T17:42:09 ***"});
  EXPECT_TRUE(s.job_ended.empty());
  EXPECT_EQ(s.activity["batch script"], 2u);
  EXPECT_EQ(s.last_activity["batch script"], alog::core::find_signature("slurm_cancelled")->title);
  s = feed_lines(*c, "job_1234/node01_nginx.err",
                 {"slurmstepd: error: *** STEP 2261594.7 ON cn13 CANCELLED AT 2025-12-03T17:42:09 ***",
                  "2025/11/22 04:21:07 [notice] 1#1: start worker processes"});
  EXPECT_EQ(s.activity, (std::map<std::string, uint64_t>{{"nginx node01_nginx", 1}}));
  s = feed_lines(*c, "job_1234/log.err",
                 {"slurmstepd: error: *** JOB 524549 ON ault43 CANCELLED AT 2024-10-09T23:25:32 DUE TO TIME LIMIT ***"});
  EXPECT_EQ(s.job_ended, std::vector<std::string>{"SLURM cancelled the job (time limit)"});
  s = feed_lines(*c, "job_1234/log.out", {"Script finished at Sat Nov 22 04:58:31 UTC 2025 with exit code 0\r"});
  EXPECT_EQ(s.job_ended, std::vector<std::string>{"batch script finished with exit code 0"});
}

// ---------------------------------------------------------------------------------------------
// Bad input: no crash, no spurious progress.

TEST(LiveSrtctl, GarbageHugeAndCutLinesYieldNoProgress) {
  auto c = alog::follow::make_srtctl_classifier();
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  garbage.erase(std::remove(garbage.begin(), garbage.end(), '\n'), garbage.end());
  const std::string huge(1 << 20, 'x');
  std::string huge_batch = "[2025-11-04 05:31:43 DP0 TP0 EP0] Decode batch, " + std::string(1 << 20, '#');
  for (const char* f : {"j/n_decode_w0.err", "j/benchmark.out", "j/benchmark.err", "j/log.out", "j/other.txt"}) {
    Seen s = feed_lines(*c, f,
                        {garbage, huge, "[", "[2025-11-04 05:31", "\x1b[", "\x1b[32", "Running benchmark with concurrency: ",
                         "Running benchmark with concurrency: x", "Model is not ready, waiting for ",
                         "Script finished at", "\r\r\r", "||/ [", "5/ [", "/5 [", "0/0 [", "9/3 ["});
    EXPECT_TRUE(s.job_ended.empty()) << f;
    EXPECT_TRUE(s.finished.empty()) << f;
    EXPECT_TRUE(s.progress.empty()) << f << ": " << s.progress.begin()->first;
  }
  // A 1 MB batch line is still one batch line: progress once, no sample (no fields).
  Seen s = feed_lines(*c, "j/n_decode_w0.err", {huge_batch});
  EXPECT_EQ(s.progress["serving n_decode_w0"], 1u);
  EXPECT_TRUE(s.samples.empty());
}

TEST(LiveSrtctl, AnsiCodedLinesAreReadLikePlainOnes) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(
      *c, "j/n_prefill_w0.err",
      {"\x1b[2m2025-11-22T04:19:01.104Z\x1b[0m  \x1b[32mINFO\x1b[0m \x1b[2mdynamo_runtime::component::endpoint\x1b[0m"
       "\x1b[2m:\x1b[0m Registered endpoint generate"});
  EXPECT_TRUE(s.finished.count("worker n_prefill_w0"));
  s = feed_lines(*c, "j/benchmark.out", {"\x1b[1mModel is ready.\x1b[0m Response: {}"});
  EXPECT_TRUE(s.finished.count("health check"));
}

TEST(LiveSrtctl, BatchLinesAreCheapAndStateStaysBounded) {
  // 200k batch lines through one classifier: each is progress (one signal, one sample for decode);
  // at a 50 MB/s log of ~250-byte lines that is one second of log.
  auto c = alog::follow::make_srtctl_classifier();
  const std::string line =
      "[2025-11-04 05:31:43 DP0 TP0 EP0] Decode batch, #running-req: 233, #token: 370959, token usage: 0.84, "
      "cuda graph: True, gen throughput (token/s): 4594.01, #queue-req: 317, ";
  std::vector<Signal> out;
  uint64_t progress = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 200000; ++i) {
    out.clear();
    c->on_line("j/n_decode_w0.err", line, out);
    progress += out.size();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(progress, 400000u + 1u);  // and the first one finishes the worker's start-up
  RecordProperty("seconds_per_200k_batch_lines", std::to_string(s));
  EXPECT_LT(s, 20.0);  // generous: sanitizer builds and a shared machine
}

TEST(LiveSrtctl, SglangBenchServingBlockNamesItsConcurrencyInsideTheBlock) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(*c, "j/benchmark.out",
                      {"benchmark_args=Namespace(backend='sglang-oai')", "Starting warmup with 1 sequences...",
                       "============ Serving Benchmark Result ============",
                       "Backend:                                 sglang-oai",
                       "Traffic request rate:                    inf       ",
                       "Max request concurrency:                 96        ",
                       "Successful requests:                     480       ",
                       "==================================================",
                       "============ Serving Benchmark Result ============",
                       "Max request concurrency:                 128       ",
                       "Successful requests:                     900       "});
  EXPECT_EQ(s.details["benchmark c=96"], (std::vector<std::string>{"started", "480 requests done"}));
  EXPECT_TRUE(s.finished.count("benchmark c=96"));
  // The second run's block has not closed yet.
  EXPECT_EQ(s.details["benchmark c=128"], (std::vector<std::string>{"started", "900 requests done"}));
  EXPECT_FALSE(s.finished.count("benchmark c=128"));
}

TEST(LiveSrtctl, WorkersServingMoveTheRunningBenchmarkAtMostOncePerSecondOfTheirClock) {
  // sa-bench runs with --disable-tqdm under srtctl: while its requests are served, the batch lines
  // are the run's only sign of life.
  auto c = alog::follow::make_srtctl_classifier();
  std::vector<Signal> out;
  Seen s;
  auto line = [&](const std::string& file, const std::string& l) {
    out.clear();
    c->on_line(file, l, out);
    s.add(out);
  };
  const std::string dec = "j/n_decode_w0.err", pre = "j/n_prefill_w0.err";
  auto batch = [](const char* hms, int running) {
    return fmt::format("[2025-11-22 {} DP0 TP0 EP0] Decode batch, #running-req: {}, #token: 1, token usage: 0.1, "
                       "cuda graph: True, gen throughput (token/s): 100.00, #queue-req: 0, ",
                       hms, running);
  };
  line(dec, batch("04:35:50", 1));  // before the run: serving only
  line("j/benchmark.out", "Running benchmark with concurrency: 64 and num-prompts: 320, writing to file x");
  line(dec, batch("04:35:56", 64));
  line(dec, batch("04:35:56", 64));  // the same second
  line(pre, "[2025-11-22 04:35:56 DP0 TP0 EP0] Prefill batch, #new-seq: 1, #new-token: 1, #cached-token: 0, "
            "token usage: 0.00, #running-req: 0, #queue-req: 0, ");
  line(dec, batch("04:35:57", 63));
  line("j/benchmark.out", "Completed benchmark with concurrency: 64");
  line(dec, batch("04:35:58", 1));  // after it: serving only
  EXPECT_EQ(s.details["benchmark c=64"],
            (std::vector<std::string>{"started, 320 prompts", "requests being served (decode batch, 64 running)",
                                      "requests being served (decode batch, 63 running)"}));
  EXPECT_EQ(s.progress["serving n_decode_w0"], 5u);
  EXPECT_EQ(s.progress["serving n_prefill_w0"], 1u);
}

TEST(LiveSrtctl, HealthyJobInTimeOrderEachRunMovesWithTheBatchesTheOneShotPutsInItsWindow) {
  const fs::path dir = kLogs / "4459_2P_1D_20251122_041341";
  Seen seen = feed_job_in_time_order(dir);
  auto report = alog::srtctl::analyze_job(dir, 1);
  // Per real run: one "requests being served" progress per distinct second of batch lines the
  // one-shot puts strictly inside the run's window (benchmark.out's two date lines).
  size_t checked = 0;
  for (const auto& w : alog::srtctl::bench_windows(report)) {
    if (w.warmup || !w.ended) continue;
    std::set<int64_t> seconds;
    for (const auto& wb : report.batches) {
      EXPECT_EQ(wb.series_bin_s, 0);  // a short log: every bucket is kept
      for (const auto& b : wb.series)
        if (b.t > w.start && b.t < w.end) seconds.insert(b.t);
    }
    const std::string name = "benchmark c=" + std::to_string(w.concurrency);
    const auto& d = seen.details[name];
    const auto served = std::count_if(d.begin(), d.end(), [](const std::string& x) {
      return x.starts_with("requests being served");
    });
    EXPECT_EQ(static_cast<size_t>(served), seconds.size()) << name << ": " << ::testing::PrintToString(d);
    EXPECT_GT(seconds.size(), 0u) << name;
    EXPECT_TRUE(seen.finished.count(name)) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 3u);
  // The same job end, the same workers ready as in file order.
  Seen by_file = feed_job(dir);
  EXPECT_EQ(seen.job_ended, by_file.job_ended);
  EXPECT_EQ(seen.finished, by_file.finished);
  // CUDA-graph capture bars are start-up progress too.
  const auto& d = seen.details["worker watchtower-aqua-cn01_prefill_w0"];
  EXPECT_NE(std::find(d.begin(), d.end(), "capturing CUDA graphs 12/12"), d.end());
}

TEST(LiveSrtctl, ABatchLineCutInsideItsThroughputIsProgressWithoutASample) {
  auto c = alog::follow::make_srtctl_classifier();
  Seen s = feed_lines(*c, "j/n_decode_w0.err",
                      {"[2025-11-04 05:31:43 DP0 TP0 EP0] Decode batch, #running-req: 233, #token: 370959, token "
                       "usage: 0.84, cuda graph: True, gen throughput (token/s): 45",
                       "[2025-11-04 05:31:44 DP0 TP0 EP0] Decode batch. #running-req: 233, #token: 370959, token "
                       "usage: 0.84, gen throughput (token/s): 4594.01, #queue-req: 3"});
  EXPECT_EQ(s.progress["serving n_decode_w0"], 2u);
  EXPECT_EQ(s.samples["decode.gen_tps"], std::vector<double>{4594.01});  // never the cut 45
}

TEST(LiveSrtctl, EveryTestdataLineCutAnywhereGivesNoSampleTheWholeLinesDoNotGive) {
  // Every line of every testdata job, also cut after every 5th byte: no crash, and no sample
  // value that the complete lines do not give (a cut figure never enters a statistic).
  for (const char* set : {"logs", "sweep", "findings"})
    for (const auto& e : fs::directory_iterator(fs::path(ALOG_TESTDATA) / "srtctl" / set)) {
      if (!e.is_directory()) continue;
      Seen whole = feed_job(e.path());
      std::set<double> values;
      for (const auto& [m, v] : whole.samples) values.insert(v.begin(), v.end());
      auto c = alog::follow::make_srtctl_classifier();
      Seen cut;
      std::vector<Signal> out;
      for (const auto& f : fs::directory_iterator(e.path())) {
        if (!f.is_regular_file()) continue;
        const std::string name = e.path().filename().string() + "/" + f.path().filename().string();
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

TEST(LiveSrtctl, AWorkerWithNoKnownReadyLineIsUpAtItsFirstBatchOrWhenTheHealthCheckSaysSo) {
  auto c = alog::follow::make_srtctl_classifier();
  std::vector<Signal> out;
  Seen s;
  auto line = [&](const std::string& file, const std::string& l) {
    out.clear();
    c->on_line(file, l, out);
    s.add(out);
  };
  line("j/a_decode_w0.err", "[2025-11-04 05:27:10 DP0 TP0 EP0] Load weight begin. avail mem=182.37 GB");
  line("j/b_prefill_w0.err", "[2025-11-04 05:27:10 DP0 TP0 EP0] Load weight begin. avail mem=182.37 GB");
  line("j/c_prefill_w1.err", "[2025-11-04 05:27:10 DP0 TP0 EP0] Load weight begin. avail mem=182.37 GB");
  line("j/a_decode_w0.err", "[2025-11-04 05:31:43 DP0 TP0 EP0] Decode batch, #running-req: 1, #token: 1, ");
  EXPECT_EQ(s.finished, std::set<std::string>{"worker a_decode_w0"});
  line("j/benchmark.out", "Model is ready. Response: {}");
  EXPECT_EQ(s.finished, (std::set<std::string>{"worker a_decode_w0", "worker b_prefill_w0",
                                                "worker c_prefill_w1", "health check"}));
  // Finished once each: the same line again says nothing new.
  const uint64_t before = s.signals;
  line("j/benchmark.out", "Model is ready. Response: {}");
  EXPECT_EQ(s.signals, before);
}

TEST(LiveSrtctl, V2OrchestratorLogHoldsTheHealthWaitAndItsFailures) {
  auto c = alog::follow::make_srtctl_classifier();
  const std::string f = "outputs/77/logs/sweep_77.log";
  Seen s = feed_lines(*c, "outputs/77/logs/n0_decode_w0.out",
                      {"[2025-12-03 17:21:19 TP0] Load weight begin. avail mem=75.11 GB"});
  Seen t = feed_lines(*c, f,
                      {"2025-12-03 17:20:00,001 [INFO] Waiting for server health at http://n0:8000/health",
                       "2025-12-03 17:30:00,001 [INFO] Server is healthy",
                       "2025-12-03 17:40:00,001 [ERROR] Benchmark failed with exit code 1"});
  EXPECT_EQ(s.details["worker n0_decode_w0"], std::vector<std::string>{"loading weights"});
  EXPECT_EQ(t.details["health check"], (std::vector<std::string>{"waiting for the server", "server is healthy"}));
  EXPECT_EQ(t.finished, (std::set<std::string>{"health check", "worker n0_decode_w0"}));
  EXPECT_EQ(t.last_activity["orchestrator"], "benchmark failed");
}
