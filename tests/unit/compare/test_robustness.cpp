// `compare` reads report.json files written by earlier runs, other builds or a person with an
// editor: outside data (issue 8). A document that is not a report is one error naming the file;
// a report with members of unexpected types is read for what it has, never a raw
// nlohmann::json::type_error (which would reach the user without the file's name). Regression
// tests for findings of tests/fuzz/fuzz_compare.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "analyze_logs/compare.hpp"

namespace ac = alog::compare;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("alog_test_compare_rob_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::string& body) const {
    std::ofstream(path / name, std::ios::binary) << body;
    return (path / name).string();
  }
};

const std::string kGood =
    R"({"schema": 1, "verdict": "ok", "inputs": [{"path": "o.log", "role": "orchestrator", "events": 3}],
        "metrics": {"weights.queue_ms": {"count": 3, "mean": 20, "min": 10, "p50": 20, "p90": 30,
                    "p95": 30, "p99": 30, "max": 30, "status": "good", "unit": "ms"}},
        "diagnoses": []})";

ac::Options options(std::vector<std::string> runs) {
  ac::Options o;
  o.runs = std::move(runs);
  o.fail_on_regression_pct = 10;
  return o;
}

// The load error for {bad, good}, or "(loaded)".
std::string load_error(const std::string& bad, const std::string& good) {
  try {
    ac::load_runs(options({bad, good}));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST(CompareRobustness, RegressionDeeplyNestedReportIsAnErrorNotAStackOverflow) {
  // Found while writing fuzz_compare (its inputs are too short to reach the depth): `compare` on
  // a report.json nested 200,000 deep died of a stack overflow (SIGSEGV) inside nlohmann's
  // parser, as the --thresholds reader did before json_depth_ok.
  TempDir tmp;
  const int n = 200000;
  std::string deep = R"({"schema": 1, "metrics": {}, "x": )" + std::string(n, '[') + std::string(n, ']') + "}";
  std::string bad = tmp.file("deep.json", deep);
  std::string good = tmp.file("good.json", kGood);
  EXPECT_EQ(load_error(bad, good),
            bad + ": not an analyze-logs report.json (nested deeper than 64 levels)");
  // Brackets inside strings do not count.
  std::string strings = R"({"schema": 1, "metrics": {}, "verdict": ")" + std::string(1000, '[') + "\"}";
  EXPECT_EQ(load_error(tmp.file("strings.json", strings), good), "(loaded)");
}

TEST(CompareRobustness, RegressionMembersOfTheWrongTypeAreIgnoredNotThrown) {
  // fuzz_compare: `"inputs": [{"path": 1}]` made render_json throw type_error 302 ("type must be
  // string, but is number"), shown without the file's name; so did `"kind": 7` in load_runs.
  TempDir tmp;
  std::string odd = tmp.file("odd.json", R"({"schema": 1, "kind": 7, "verdict": 2,
      "inputs": [{"path": 1, "role": [], "events": -4}, 5, null],
      "metrics": {"weights.queue_ms": {"count": "3", "mean": 1}, "gen.dur_ms": {"count": 1, "mean": 1,
                  "min": 1, "p50": 1, "p90": 1, "p95": 1, "p99": 1, "max": 1, "unit": 5, "status": 9}},
      "diagnoses": [{"id": 3}, {"id": "x", "severity": 1, "summary": {}}, "y"]})");
  std::string good = tmp.file("good.json", kGood);
  for (size_t baseline : {0u, 1u}) {
    auto opt = options({odd, good});
    opt.baseline = baseline;
    opt.expect = {"weights.queue_ms.p99<300"};
    std::vector<ac::Run> runs;
    ASSERT_NO_THROW(runs = ac::load_runs(opt));
    ac::Result r;
    ASSERT_NO_THROW(r = ac::compare_runs(runs, opt));
    ASSERT_NO_THROW((void)r.json.dump(2));
    // The malformed queue_ms (a string count) is missing in that run, not a number.
    const auto& cells = r.json["metrics"]["weights.queue_ms"]["runs"];
    ASSERT_EQ(cells.size(), 2u);
    EXPECT_FALSE(cells[0]["present"].get<bool>()) << cells.dump();  // runs in argument order
    // The inputs are listed with empty path/role rather than the wrong type.
    const auto& inputs = r.json["runs"][0]["inputs"];
    ASSERT_EQ(inputs.size(), 1u) << r.json["runs"].dump();
    EXPECT_EQ(inputs[0]["path"], "");
    EXPECT_EQ(inputs[0]["role"], "");
    // The one well-formed diagnosis is compared; the others are ignored.
    EXPECT_EQ(r.regressions.size(), 0u);
  }
}

TEST(CompareRobustness, NotAReportIsOneErrorNamingTheFile) {
  TempDir tmp;
  std::string good = tmp.file("good.json", kGood);
  struct Case {
    std::string name, body, error;
  };
  const std::vector<Case> cases = {
      {"empty.json", "", "not valid JSON ("},
      {"garbage.json", std::string("\x00\xff\xfe{\x01[", 6), "not valid JSON ("},
      {"utf8.json", "{\"schema\": 1, \"metrics\": {}, \"verdict\": \"\xc3\x28\"}", "not valid JSON ("},
      {"array.json", "[1, 2]", "not an analyze-logs report.json (not a JSON object)"},
      {"noschema.json", R"({"metrics": {}})", "not an analyze-logs report.json (expected"},
      {"strschema.json", R"({"schema": "1", "metrics": {}})", "not an analyze-logs report.json (expected"},
      {"bigschema.json", R"({"schema": 18446744073709551615, "metrics": {}})", "report.json schema"},
      {"metricsarray.json", R"({"schema": 1, "metrics": []})", "(\"metrics\" is not an object)"},
      {"metricnum.json", R"({"schema": 1, "metrics": {"a": 1}})", "metric \"a\" is not an object"},
      {"diagobj.json", R"({"schema": 1, "metrics": {}, "diagnoses": {}})", "(\"diagnoses\" is not an array)"},
      // fuzz_compare: nlohmann throws out_of_range (not parse_error) for a number beyond a
      // double; it escaped read_report and reached the user without the file's name.
      {"overflow.json", R"({"schema": 1, "metrics": {"a": {"count": 1e999}}})",
       "not valid JSON (number overflow parsing '1e999')"},
  };
  for (const auto& c : cases) {
    std::string path = tmp.file(c.name, c.body);
    std::string err = load_error(path, good);
    EXPECT_TRUE(err.starts_with(path + ": ")) << c.name << ": " << err;
    EXPECT_NE(err.find(c.error), std::string::npos) << c.name << ": " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << c.name << ": " << err;
  }
}

TEST(CompareRobustness, ExtremeButValidNumbersNeitherThrowNorGate) {
  TempDir tmp;
  auto doc = [](const char* v) {
    return std::string(R"({"schema": 1, "metrics": {"weights.queue_ms": {"count": 1, "mean": )") + v +
           R"(, "min": 0, "p50": 0, "p90": 0, "p95": 0, "p99": )" + v + R"(, "max": )" + v +
           R"(, "unit": "ms"}}})";
  };
  std::string tiny = tmp.file("tiny.json", doc("5e-324"));
  std::string huge = tmp.file("huge.json", doc("1.7e308"));
  std::string neg = tmp.file("neg.json", doc("-1.7e308"));
  for (const auto& [a, b] : {std::pair{tiny, huge}, std::pair{huge, neg}, std::pair{neg, tiny}}) {
    auto opt = options({a, b});
    ac::Result r;
    ASSERT_NO_THROW(r = ac::compare_runs(ac::load_runs(opt), opt)) << a << " " << b;
    EXPECT_NO_THROW((void)r.json.dump(2));
    EXPECT_FALSE(r.markdown.empty());
  }
}

TEST(CompareRobustness, RegressionACountThatIsNotAnIntegerIsMissing) {
  // compare.json prints the count as an integer: static_cast<uint64_t>(1e300) is undefined
  // behaviour (UBSan float-cast-overflow). A count of 1e300, 2.5 or -1 is not a count.
  TempDir tmp;
  std::string good = tmp.file("good.json", kGood);
  for (const char* count : {"1e300", "2.5", "-1", "18446744073709551616"}) {
    std::string doc = std::string(R"({"schema": 1, "metrics": {"weights.queue_ms": {"count": )") + count +
                      R"(, "mean": 1, "min": 1, "p50": 1, "p90": 1, "p95": 1, "p99": 1, "max": 1}}})";
    std::string bad = tmp.file("count.json", doc);
    auto opt = options({good, bad});
    ac::Result r;
    ASSERT_NO_THROW(r = ac::compare_runs(ac::load_runs(opt), opt)) << count;
    const auto& cells = r.json["metrics"]["weights.queue_ms"]["runs"];
    EXPECT_TRUE(cells[0]["present"].get<bool>()) << count;
    EXPECT_FALSE(cells[1]["present"].get<bool>()) << count;
    EXPECT_TRUE(r.regressions.empty()) << count;
  }
}
