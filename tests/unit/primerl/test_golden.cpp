// Golden-output tests: SUMMARY.md and report.json of each testdata/runs/<run>, analysed the way
// the CLI does it, compared byte for byte with testdata/golden/<run>/. Paths in the report are
// relative because the inputs are given relative to testdata/ (the test chdirs there).
//
// After an intended change of the output, regenerate and review the diff:
//   ALOG_UPDATE_GOLDEN=1 ./build/test_primerl --gtest_filter='*ReportGolden*'
//   git diff testdata/golden
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"

#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

const fs::path kTestdata = ALOG_TESTDATA;

// Restores the working directory when it goes out of scope.
class ChdirGuard {
 public:
  explicit ChdirGuard(const fs::path& to) : from_(fs::current_path()) { fs::current_path(to); }
  ~ChdirGuard() {
    std::error_code ec;
    fs::current_path(from_, ec);
  }

 private:
  fs::path from_;
};

Report analyse_run(const std::string& run) {
  ChdirGuard cd(kTestdata);
  AnalysisOptions opt;
  opt.inputs = {"runs/" + run};
  opt.threads = 2;
  opt.tool_version = "golden";
  Report r = analyze(opt);
  diagnose(r);
  return r;
}

using alog::test_support::slurp;

bool updating() {
  const char* e = std::getenv("ALOG_UPDATE_GOLDEN");
  return e && std::string(e) == "1";
}

// The first line where two texts differ, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int n = 1;; ++n) {
    bool ea = !std::getline(a, la), eb = !std::getline(b, lb);
    if (ea && eb) return "texts differ only in the final newline";
    if (ea || eb || la != lb)
      return "line " + std::to_string(n) + ":\n  golden: " + (ea ? "<end>" : la) +
             "\n  actual: " + (eb ? "<end>" : lb);
  }
}

void compare_or_update(const fs::path& golden, const std::string& actual) {
  if (updating()) {
    fs::create_directories(golden.parent_path());
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden
                                  << " is missing; run with ALOG_UPDATE_GOLDEN=1 to create it";
  std::string want = slurp(golden);
  EXPECT_TRUE(want == actual)
      << golden << " differs (" << first_difference(want, actual)
      << ")\nIf the change is intended, regenerate with ALOG_UPDATE_GOLDEN=1 and review the diff.";
}

bool have_run(const std::string& run) {
  return fs::exists(kTestdata / "runs" / run / "expected.json");
}

}  // namespace

class ReportGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ReportGolden, SummaryMd) {
  if (!have_run(GetParam())) GTEST_SKIP() << "testdata/runs/" << GetParam() << " not generated yet";
  Report r = analyse_run(GetParam());
  compare_or_update(kTestdata / "golden" / GetParam() / "SUMMARY.md", to_markdown(r));
}

TEST_P(ReportGolden, ReportJson) {
  if (!have_run(GetParam())) GTEST_SKIP() << "testdata/runs/" << GetParam() << " not generated yet";
  Report r = analyse_run(GetParam());
  compare_or_update(kTestdata / "golden" / GetParam() / "report.json", dump_report(to_json(r)) + "\n");
}

// The --trace-out file: written as a stream (events in time order, one per line, never all held
// at once), byte for byte the trace the writer that built and sorted every event wrote (these
// goldens were made by it, at 7bf1846).
TEST_P(ReportGolden, TraceJson) {
  if (!have_run(GetParam())) GTEST_SKIP() << "testdata/runs/" << GetParam() << " not generated yet";
  Report r = analyse_run(GetParam());
  std::ostringstream os;
  write_chrome_trace(r, os);
  const std::string trace = os.str();
  ASSERT_TRUE(nlohmann::json::accept(trace));
  compare_or_update(kTestdata / "golden" / GetParam() / "trace.json", trace);
}

TEST_P(ReportGolden, OutputIsTheSameWithOneThreadAndWithFour) {
  if (!have_run(GetParam())) GTEST_SKIP();
  ChdirGuard cd(kTestdata);
  auto with = [&](unsigned threads) {
    AnalysisOptions opt;
    opt.inputs = {"runs/" + GetParam()};
    opt.threads = threads;
    opt.tool_version = "golden";
    Report r = analyze(opt);
    diagnose(r);
    return to_json(r).dump(2) + to_markdown(r);
  };
  EXPECT_TRUE(with(1) == with(4));
}

// report.json is written in pieces (write_json) so that memory stays flat; the pieces must add up
// to exactly the text of the whole tree, for a run with updates and batches and for an empty one.
TEST_P(ReportGolden, StreamedJsonIsTheTreeDumpedByteForByte) {
  if (!have_run(GetParam())) GTEST_SKIP();
  Report r = analyse_run(GetParam());
  ASSERT_FALSE(r.updates.empty());
  std::string streamed;
  size_t pieces = 0;
  write_json(r, [&](std::string_view p) {
    streamed += p;
    ++pieces;
  });
  EXPECT_GE(pieces, 1u);
  EXPECT_EQ(streamed, dump_report(to_json(r)) + "\n");
  EXPECT_EQ(streamed, slurp(kTestdata / "golden" / GetParam() / "report.json"));
}

TEST(ReportJsonStream, EmptyReportStreamsTheSameTextAsTheTree) {
  Report r;
  std::string streamed;
  write_json(r, [&](std::string_view p) { streamed += p; });
  EXPECT_EQ(streamed, dump_report(to_json(r)) + "\n");
  EXPECT_NE(streamed.find("\"updates\": []"), std::string::npos);
}

// The shapes the testdata runs lack: an update with no server half, no done and no step, a batch
// with only one side, non-finite and integral values, a file name that needs JSON escaping.
TEST(ReportJsonStream, EveryOptionalShapeStreamsTheSameTextAsTheTree) {
  Report r;
  InputReport in;
  in.path = "logs/we\"ird\\name\x01\xff.log";
  r.inputs.push_back(in);
  UpdateReport bare;
  bare.trace = *TraceId::parse("00000000000000ab");
  bare.reload = true;
  bare.wall_ms = 3.0;
  bare.send_t = 1e21;
  bare.last_phase = "client_to_server";
  UpdateReport full;
  full.trace = *TraceId::parse("54127134d8134dbd");
  full.step = -7;
  full.wall_ms = 447.9;
  full.rpc_ms = std::numeric_limits<double>::infinity();
  full.queue_ms = -0.0;
  full.complete = true;
  full.send_t = 53712.8841;
  full.send_at = {0, 12};
  full.done_at = Location{0, Location::kMaxLine};  // the largest line a Location holds, 2^44 - 2
  full.server = ServerSide{};
  full.server->recv_t = 0.1 + 0.2;
  full.server->rpc_ms = std::nan("");
  full.phases.engine_ms = 1e-7;
  full.first_batch = 0;
  full.batch_count = 2;
  r.updates = {bare, full};
  BatchReport start_only;
  start_only.start_line = 5;
  start_only.inflight_start = 64;
  start_only.update_count = 2;
  start_only.longest_queued = 1;
  BatchReport done_only;
  done_only.done_line = 9;
  done_only.dur_ms = 5012.2;
  done_only.inflight_done = 61;
  r.batches = {start_only, done_only};
  std::string streamed;
  write_json(r, [&](std::string_view p) { streamed += p; });
  EXPECT_EQ(streamed, dump_report(to_json(r)) + "\n");
  // One compact record per line.
  EXPECT_NE(streamed.find("\"server_side\":null"), std::string::npos);
  EXPECT_NE(streamed.find("\"start_line\":null"), std::string::npos);
  EXPECT_NE(streamed.find("\"rpc_ms\":null"), std::string::npos);  // inf and NaN are not numbers
  EXPECT_NE(streamed.find("\n    {\"trace_id\":\"00000000000000ab\","), std::string::npos) << streamed;
}

// Many updates and batches, formatted in blocks on several threads and written in order: the same
// bytes as one thread and as the tree, for any thread count, whatever block is the last.
TEST(ReportJsonStream, BlocksFormattedOnSeveralThreadsAreWrittenInOrder) {
  Report r;
  InputReport in;
  in.path = "logs/orchestrator.log";
  r.inputs.push_back(in);
  for (size_t n : {size_t{1}, size_t{1023}, size_t{1024}, size_t{1025}, size_t{9000}}) {
    r.updates.clear();
    r.batches.clear();
    for (size_t i = 0; i < n; ++i) {
      UpdateReport u;
      u.trace = *TraceId::parse(fmt::format("{:016x}", i + 1));
      u.step = static_cast<int64_t>(i);
      u.wall_ms = 0.1 * static_cast<double>(i);
      u.send_at = {0, 2 * i + 1};
      r.updates.push_back(u);
      BatchReport b;
      b.start_line = 2 * i + 2;
      b.dur_ms = static_cast<double>(i) / 3;
      r.batches.push_back(b);
    }
    std::string one;
    write_json(r, [&](std::string_view p) { one += p; }, {}, 1);
    EXPECT_EQ(one, dump_report(to_json(r)) + "\n") << n;
    for (unsigned threads : {2u, 3u, 8u}) {
      std::string many;
      size_t calls = 0;
      write_json(r, [&](std::string_view p) {
        many += p;
        ++calls;
      }, {}, threads);
      EXPECT_EQ(many, one) << n << " updates on " << threads << " threads";
      EXPECT_GE(calls, 3u);
    }
  }
}

// Records are written through a cursor with room ensured per record: a file name far longer than
// that room (and one that needs escaping) still comes out whole.
TEST(ReportJsonStream, LongFileNamesComeOutWhole) {
  Report r;
  InputReport in;
  in.path = std::string(3000, 'x') + "\"/\\.log";
  r.inputs.push_back(in);
  for (size_t i = 0; i < 1100; ++i) {
    UpdateReport u;
    u.trace = *TraceId::parse(fmt::format("{:016x}", i + 1));
    u.send_at = {0, i + 1};
    u.done_at = Location{0, i + 2};
    u.server = ServerSide{};
    r.updates.push_back(u);
    BatchReport b;
    b.start_line = i + 1;
    r.batches.push_back(b);
  }
  std::string streamed;
  write_json(r, [&](std::string_view p) { streamed += p; }, {}, 2);
  EXPECT_EQ(streamed, dump_report(to_json(r)) + "\n");
  EXPECT_GT(streamed.size(), 1100u * 4 * 3000);
}

// A sink that fails (disk full) ends the write with its error, on any thread count; nothing hangs.
TEST(ReportJsonStream, ASinkThatFailsEndsTheWriteWithItsError) {
  Report r;
  r.inputs.push_back(InputReport{});
  for (size_t i = 0; i < 20000; ++i) {
    UpdateReport u;
    u.trace = *TraceId::parse(fmt::format("{:016x}", i + 1));
    r.updates.push_back(u);
  }
  for (unsigned threads : {1u, 2u, 4u}) {
    size_t calls = 0;
    try {
      write_json(r, [&](std::string_view) {
        if (++calls == 4) throw std::runtime_error("disk full");
      }, {}, threads);
      ADD_FAILURE() << "no error on " << threads << " threads";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "disk full");
    }
    EXPECT_EQ(calls, 4u) << "the sink was called again after it failed, on " << threads << " threads";
  }
}

TEST_P(ReportGolden, PathsInTheReportAreRelative) {
  if (!have_run(GetParam())) GTEST_SKIP();
  Report r = analyse_run(GetParam());
  auto j = to_json(r);
  for (const auto& in : j["inputs"]) {
    std::string p = in["path"].get<std::string>();
    EXPECT_TRUE(p.starts_with("runs/" + GetParam() + "/logs/")) << p;
  }
  EXPECT_EQ(to_markdown(r).find(kTestdata.string()), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Runs, ReportGolden, ::testing::Values("healthy", "prefix", "postfix"));

// ---- What the seeds promise about these runs
// -------------------------------------------------------

TEST(ReportSeedFigures, BeforeAndAfterTheFixHeadlines) {
  if (!have_run("prefix") || !have_run("postfix")) GTEST_SKIP();
  // Seed 002: "Queue Delay: Mean = 28453.2 ms" before, "Mean = 87.2 ms" after; "RPC Time: Mean =
  // 1234.5 ms" in both. SUMMARY.md keeps those grep-able lines.
  std::string before = to_markdown(analyse_run("prefix"));
  std::string after = to_markdown(analyse_run("postfix"));
  EXPECT_NE(before.find("Queue Delay: Mean = 28453.2 ms"), std::string::npos) << before;
  EXPECT_NE(before.find("RPC Time:    Mean = 1234.5 ms"), std::string::npos) << before;
  EXPECT_NE(after.find("Queue Delay: Mean = 87.2 ms"), std::string::npos) << after;
  EXPECT_NE(after.find("RPC Time:    Mean = 1234.5 ms"), std::string::npos) << after;
}

TEST(ReportSeedFigures, DiagnosesOfEachRun) {
  if (!have_run("prefix")) GTEST_SKIP();
  auto ids = [](const Report& r) {
    std::vector<std::string> v;
    for (const auto& d : r.diagnoses)
      v.push_back(d.id + ":" + std::string(severity_name(d.severity)));
    return v;
  };
  Report healthy = analyse_run("healthy");
  EXPECT_TRUE(healthy.diagnoses.empty());
  EXPECT_TRUE(verdict_line(healthy).starts_with("OK")) << verdict_line(healthy);

  Report prefix = analyse_run("prefix");
  auto p = ids(prefix);
  EXPECT_NE(std::find(p.begin(), p.end(), "queue_saturation:critical"), p.end());
  EXPECT_TRUE(verdict_line(prefix).starts_with("CRITICAL")) << verdict_line(prefix);
  std::string md = to_markdown(prefix);
  EXPECT_NE(md.find("dedicated admin client"), std::string::npos);

  Report postfix = analyse_run("postfix");
  EXPECT_TRUE(postfix.diagnoses.empty()) << postfix.diagnoses[0].id;
}

TEST(ReportSeedFigures, StatsFilesOfThePrefixRun) {
  if (!have_run("prefix")) GTEST_SKIP();
  Report r = analyse_run("prefix");
  std::map<std::string, std::string> files;
  for (auto& [name, content] : stats_files(r)) files[name] = content;
  for (const char* f : {"queue_ms_stats.txt", "rpc_ms_stats.txt", "ckpt_wait_stats.txt",
                        "ckpt_write_stats.txt", "gen_batch_stats.txt", "rollout_stats.txt"})
    EXPECT_TRUE(files.count(f)) << f;
  EXPECT_NE(files["queue_ms_stats.txt"].find("queue_ms.count=30\n"), std::string::npos)
      << files["queue_ms_stats.txt"];
  EXPECT_NE(files["queue_ms_stats.txt"].find("queue_ms.mean=28453.200\n"), std::string::npos);
  EXPECT_NE(files["queue_ms_stats.txt"].find("queue_ms.status=critical\n"), std::string::npos);
  EXPECT_NE(files["rpc_ms_stats.txt"].find("rpc_ms.mean=1234.500\n"), std::string::npos);
  std::string slowest = slowest_updates_txt(r);
  EXPECT_TRUE(slowest.starts_with("# trace_id")) << slowest;
  size_t lines = static_cast<size_t>(std::count(slowest.begin(), slowest.end(), '\n'));
  EXPECT_EQ(lines, 11u);  // header and the 10 slowest
}
