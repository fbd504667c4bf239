// A prime-rl input recorded for `analyze-logs partial` (primerl/partial.cpp): the packed events
// come back bit for bit, the Report from recorded inputs equals the Report from the files, and a
// damaged payload (cut anywhere, any byte changed) is an error or a record, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog;

namespace {

const fs::path kData = fs::path(ALOG_TESTDATA);

std::vector<std::string> logs_under(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".log") v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

RecordedInput unpack(const std::vector<uint8_t>& b) {
  return unpack_recorded(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

void expect_same_events(const RecordedInput& a, const RecordedInput& b) {
  std::vector<std::pair<Event, std::string>> ea, eb;
  a.for_each([&](const Event& e, std::string_view m) { ea.emplace_back(e, std::string(m)); });
  b.for_each([&](const Event& e, std::string_view m) { eb.emplace_back(e, std::string(m)); });
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) {
    const Event &x = ea[i].first, &y = eb[i].first;
    EXPECT_EQ(static_cast<int>(x.op), static_cast<int>(y.op));
    EXPECT_EQ(x.line, y.line);
    EXPECT_EQ(x.present, y.present);
    EXPECT_EQ(x.sentinel, y.sentinel);
    EXPECT_EQ(x.tod, y.tod);
    EXPECT_EQ(x.tod_ms, y.tod_ms);
    EXPECT_EQ(x.mmdd, y.mmdd);
    EXPECT_EQ(x.path_step, y.path_step);
    EXPECT_TRUE(x.trace == y.trace);
    EXPECT_EQ(std::memcmp(x.v.data(), y.v.data(), sizeof x.v), 0) << "event " << i;
    EXPECT_EQ(ea[i].second, eb[i].second);
  }
}

}  // namespace

// Every log of testdata/shapes/ (every prefix, ANSI, CRLF, NUL bytes, a cut last line, malformed
// fields): packed and unpacked, the counts and every event with its message are the same.
TEST(PrimeRlPartial, PackedInputsComeBackBitForBit) {
  size_t events = 0;
  for (const auto& path : logs_under(kData / "shapes")) {
    RecordedInput r = record_input(path, false, path, 2);
    RecordedInput back = unpack(pack_recorded(r));
    EXPECT_EQ(back.path, r.path);
    EXPECT_EQ(back.compression, r.compression);
    EXPECT_EQ(back.counts.lines, r.counts.lines) << path;
    EXPECT_EQ(back.counts.bytes, r.counts.bytes);
    EXPECT_EQ(back.counts.events, r.counts.events);
    EXPECT_EQ(back.counts.skipped_by_reason, r.counts.skipped_by_reason);
    EXPECT_EQ(back.counts.skip_samples.size(), r.counts.skip_samples.size());
    EXPECT_EQ(back.counts.unreadable_samples, r.counts.unreadable_samples);
    EXPECT_EQ(back.event_count, r.event_count);
    expect_same_events(r, back);
    events += r.event_count;
  }
  EXPECT_GT(events, 50u);
}

// The Report of every testdata run from its recorded inputs is the Report of its files.
TEST(PrimeRlPartial, ReportFromRecordedInputsEqualsReportFromFiles) {
  for (const char* run :
       {"runs/healthy", "runs/prefix", "runs/postfix", "steps/v06_inference_bound",
        "steps/v08_metrics", "hangs/primerl_trainer"}) {
    AnalysisOptions opt;
    opt.inputs = {(kData / run).string()};
    opt.threads = 2;
    Report direct = analyze(opt);
    std::vector<RecordedInput> recs = record_inputs(opt);
    std::vector<RecordedInput> back;
    for (const auto& r : recs) back.push_back(unpack(pack_recorded(r)));
    std::vector<const RecordedInput*> view;
    for (const auto& r : back) view.push_back(&r);
    std::unique_ptr<TimelineSpool> none;
    Report merged = analyze_recorded(opt, view, none);
    EXPECT_EQ(to_json(merged).dump(), to_json(direct).dump()) << run;
    uint64_t read = 0;  // tagged events and step-budget lines: what the runs hold
    for (const auto& in : direct.inputs) read += in.counts.events + in.counts.step_lines;
    EXPECT_GT(read, 20u) << run;
  }
}

// A named input that cannot be opened is fatal, as for the analysis; one found in a folder is
// recorded as unreadable, with the reason.
TEST(PrimeRlPartial, UnopenableInputs) {
  EXPECT_THROW(
      record_input("/nonexistent/orchestrator.log", false, "/nonexistent/orchestrator.log", 1),
      FatalInputError);
  RecordedInput r = record_input("/nonexistent/orchestrator.log", true, "", 1);
  EXPECT_TRUE(r.unreadable);
  EXPECT_NE(r.error.find("nonexistent/orchestrator.log"), std::string::npos) << r.error;
  RecordedInput back = unpack(pack_recorded(r));
  EXPECT_TRUE(back.unreadable);
  EXPECT_EQ(back.error, r.error);
}

// Cut at every length and each byte changed: an error naming the byte, or a record whose events
// all decode; never a crash or a read past the end (ASan runs this).
TEST(PrimeRlPartial, DamagedPayloadsAreErrorsNotCrashes) {
  RecordedInput r = record_input((kData / "shapes" / "loguru_plain.log").string(), false, "x", 1);
  ASSERT_GT(r.event_count, 5u);
  const std::vector<uint8_t> bytes = pack_recorded(r);
  const std::string packed(bytes.begin(), bytes.end());
  size_t errors = 0;
  for (size_t n = 0; n < packed.size(); ++n) {
    try {
      unpack_recorded(std::string_view(packed).substr(0, n));
      ADD_FAILURE() << "a payload cut at " << n << " of " << packed.size() << " bytes was taken";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("recorded prime-rl input"), std::string::npos)
          << e.what();
      ++errors;
    }
  }
  EXPECT_EQ(errors, packed.size());
  for (size_t i = 0; i < packed.size(); ++i) {
    std::string bad = packed;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    try {
      RecordedInput b = unpack_recorded(bad);
      b.for_each([](const Event&, std::string_view) {});
    } catch (const std::runtime_error&) {
    }
  }
  std::string extra = packed + "x";
  EXPECT_THROW(unpack_recorded(extra), std::runtime_error);
}
