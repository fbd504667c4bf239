// save_report / load_report (persist.cpp, what --cache keeps of an srtctl job): every bundled job
// comes back whole. Its report.json entry, SUMMARY.md and HTML sections, header and batch CSV are
// the same as the analysis's; a NaN and non-UTF-8 bytes survive; a corrupt input throws.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>

#include "bundled.hpp"
#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;
using namespace alog;
using namespace alog::srtctl;

namespace {

std::vector<fs::path> bundled_jobs() { return test_support::bundled_srtctl_jobs(); }

std::string header_text(const core::Header& h) {
  std::string s = std::to_string(static_cast<int>(h.verdict)) + "|" + h.cause + "|" + h.started_at +
                  "|" + h.ended_at;
  for (const auto& f : h.findings) {
    s += "\n" + f.id + "|" + f.summary + "|" + f.detail + "|" + f.fix;
    for (const auto& e : f.evidence) s += "\n  " + e.ref() + "|" + e.time + "|" + e.text;
  }
  for (const auto& i : h.inputs) s += "\n" + i.path + "|" + i.role + "|" + i.reason;
  for (const auto& n : h.nodes) s += "\n" + n;
  return s;
}

}  // namespace

TEST(SrtctlPersist, EveryBundledJobRoundTrips) {
  const auto jobs = bundled_jobs();
  ASSERT_GE(jobs.size(), 9u);
  for (const auto& dir : jobs) {
    SCOPED_TRACE(dir.string());
    JobReport a = analyze_job(dir, 1);
    std::vector<uint8_t> bytes = save_report(a);
    JobReport b = load_report(bytes);
    EXPECT_EQ(job_to_json(a).dump(), job_to_json(b).dump());
    EXPECT_EQ(header_text(header(a)), header_text(header(b)));
    auto ba = make_body(a), bb = make_body(b);
    EXPECT_EQ(ba->markdown(), bb->markdown());
    EXPECT_EQ(ba->html(), bb->html());
    EXPECT_EQ(ba->text({false, 100}), bb->text({false, 100}));
    EXPECT_EQ(sweep_json(sweep_view({a}, 20.0)).dump(), sweep_json(sweep_view({b}, 20.0)).dump());
    auto ca = batches_csv(std::vector<const JobReport*>{&a}),
         cb = batches_csv(std::vector<const JobReport*>{&b});
    EXPECT_EQ(ca, cb);
    EXPECT_EQ(save_report(b), bytes);  // and again: a fixed point
  }
}

TEST(SrtctlPersist, NanAndRawBytesSurvive) {
  JobReport r;
  r.name = "job\xff\xfe";  // not UTF-8, as a log line can be
  BenchRun run;
  run.has_block = true;
  run.metrics = {{"mean_ttft_ms", std::nan("")}, {"duration", 1.0 / 3.0}};
  run.invalid = "0 generated tokens";
  r.runs.push_back(run);
  WorkerBatches wb;
  wb.buckets = 7;
  wb.has_kind[1] = true;
  wb.window_spans = {{10, INT64_MAX}};
  WorkerWindow ww;
  ww.ranks[1][-2].sum[kGenTps] = 0.1 + 0.2;
  ww.ranks[1][3].first_queue = 4;  // last_queue stays NaN
  ww.traffic[0].found = true;
  wb.windows.push_back(ww);
  SeriesPoint sp;
  sp.t = 12;
  sp.dp = 3;
  sp.sum[kQueueReq] = 2.5;
  wb.series.push_back(sp);
  r.batches.push_back(wb);
  r.verdict = Verdict::degraded;
  JobReport b = load_report(save_report(r));
  EXPECT_EQ(b.name, r.name);
  ASSERT_EQ(b.runs.size(), 1u);
  EXPECT_TRUE(std::isnan(b.runs[0].metrics[0].second));
  EXPECT_EQ(b.runs[0].metrics[1].second, 1.0 / 3.0);
  EXPECT_EQ(b.runs[0].invalid, "0 generated tokens");
  const WorkerBatches& wb2 = b.batches.at(0);
  EXPECT_EQ(wb2.buckets, 7u);
  EXPECT_TRUE(wb2.has_kind[1]);
  EXPECT_FALSE(wb2.has_kind[0]);
  ASSERT_EQ(wb2.window_spans.size(), 1u);
  EXPECT_EQ(wb2.window_spans[0].second, INT64_MAX);
  ASSERT_EQ(wb2.windows.size(), 1u);
  EXPECT_EQ(wb2.windows[0].ranks[1].at(-2).sum[kGenTps], 0.1 + 0.2);
  EXPECT_EQ(wb2.windows[0].ranks[1].at(3).first_queue, 4);
  EXPECT_TRUE(std::isnan(wb2.windows[0].ranks[1].at(3).last_queue));
  EXPECT_TRUE(wb2.windows[0].traffic[0].found);
  ASSERT_EQ(wb2.series.size(), 1u);
  EXPECT_EQ(wb2.series[0].dp, 3);
  EXPECT_EQ(wb2.series[0].sum[kQueueReq], 2.5);
  EXPECT_EQ(b.verdict, Verdict::degraded);
}

TEST(SrtctlPersist, CorruptInputThrows) {
  JobReport a = analyze_job(bundled_jobs().front(), 1);
  std::vector<uint8_t> bytes = save_report(a);
  std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + bytes.size() / 2);
  auto message = [](const std::vector<uint8_t>& b) {
    try {
      load_report(b);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message(cut), "not a CBOR document");
  const std::vector<uint8_t> junk = {'n', 'o', 't', ' ', 'c', 'b', 'o', 'r'};
  EXPECT_EQ(message(junk), "not a CBOR document");
  // A crafted entry nested 300,000 deep: an error, not a stack overflow.
  std::vector<uint8_t> deep(300000, 0x81);
  deep.push_back(0x00);
  EXPECT_EQ(message(deep), "nested deeper than 128 levels");
  // Well-formed CBOR of the wrong shape: nlohmann's own error, still an exception.
  EXPECT_NE(message(nlohmann::json::to_cbor(nlohmann::json{{"dir", 5}})), "(no error)");
}
