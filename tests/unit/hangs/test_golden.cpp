// Golden outputs of the testdata hang sets, as tests/unit/primerl/test_golden.cpp does for the
// prime-rl runs: SUMMARY.md (the shared writer over the set's header and hang body, as the CLI
// writes it for a `hang` job) and report.json's header and `hang` section, compared byte for byte
// with testdata/golden/hangs/<set>/. Paths are relative: the test chdirs to testdata/.
//
// After an intended change of the output, regenerate and review the diff:
//   ALOG_UPDATE_GOLDEN=1 ./build/test_hangs --gtest_filter='*HangGolden*'
//   git diff testdata/golden/hangs
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "analyze_logs/core/header_json.hpp"
#include "analyze_logs/core/job.hpp"
#include "analyze_logs/hangs.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"
#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;
using alog::test_support::slurp;

namespace {

const fs::path kTestdata = ALOG_TESTDATA;

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

bool updating() {
  const char* e = std::getenv("ALOG_UPDATE_GOLDEN");
  return e && std::string(e) == "1";
}

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
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with ALOG_UPDATE_GOLDEN=1 to create it";
  std::string want = slurp(golden);
  EXPECT_TRUE(want == actual) << golden << " differs (" << first_difference(want, actual)
                              << ")\nIf the change is intended, regenerate with ALOG_UPDATE_GOLDEN=1 and review the diff.";
}

// The set's name and the input the analysis is given (relative to testdata/).
struct Set {
  const char* name;
  const char* input;
};

const Set kSets[] = {
    {"nccl_8rank", "hangs/nccl_8rank"},
    {"gloo_barrier", "hangs/gloo_barrier"},
    {"seq_only", "hangs/seq_only"},
    {"conflict", "hangs/conflict"},
    {"primerl_trainer", "hangs/primerl_trainer/logs/trainer"},
    {"srtctl_pyspy", "hangs/srtctl_pyspy/5104_1A_20251201_100000"},
    {"snapshots", "hangs/snapshots"},
    {"p2p", "hangs/p2p"},
};

struct Out {
  std::string md, json;
};

Out outputs(const Set& s) {
  ChdirGuard cd(kTestdata);
  hangs::HangReport r = hangs::analyze({fs::path(s.input)});
  std::vector<core::Job> jobs;
  jobs.push_back(core::Job{"hang", s.name, s.input, hangs::header(r), hangs::make_body(r)});
  nlohmann::ordered_json doc;
  core::put_header(doc, jobs.front().header);
  doc["hang"] = hangs::to_json(r);
  return {render::report_markdown(jobs), dump_report(doc) + "\n"};
}

}  // namespace

class HangGolden : public ::testing::TestWithParam<Set> {};

TEST_P(HangGolden, SummaryMd) {
  compare_or_update(kTestdata / "golden" / "hangs" / GetParam().name / "SUMMARY.md", outputs(GetParam()).md);
}

TEST_P(HangGolden, ReportJson) {
  compare_or_update(kTestdata / "golden" / "hangs" / GetParam().name / "report.json", outputs(GetParam()).json);
}

// The same bytes twice: nothing in the output depends on the order files are listed in or on
// addresses.
TEST_P(HangGolden, Deterministic) {
  Out a = outputs(GetParam()), b = outputs(GetParam());
  EXPECT_EQ(a.md, b.md);
  EXPECT_EQ(a.json, b.json);
}

INSTANTIATE_TEST_SUITE_P(Sets, HangGolden, ::testing::ValuesIn(kSets),
                         [](const ::testing::TestParamInfo<Set>& i) { return std::string(i.param.name); });
