// The comparison table of a folder of srtctl jobs: a job without results shows its reason in
// one cell, shortened to 160 bytes. The shortened reason must say that it was shortened (it used
// to stop at "...: NCCL", which reads as a whole cause) and never cut a UTF-8 character in two.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace fs = std::filesystem;
using namespace alog::srtctl;

namespace {
const fs::path kLogs = fs::path(ALOG_TESTDATA) / "srtctl" / "logs";
}  // namespace

TEST(SrtctlAuditTable, ShortenedReasonIsMarkedAndTheFullReasonStaysInTheJobSection) {
  auto jobs = analyze_set(kLogs);
  ASSERT_EQ(jobs.size(), 3u);
  const JobReport& never = jobs[2];
  ASSERT_EQ(never.job.job_id, "4461");
  ASSERT_GT(never.reason.size(), 160u);  // long enough to be shortened in the table

  std::string md = to_markdown(jobs);
  EXPECT_EQ(alog::utf8_clean(md), md);  // valid UTF-8 throughout
  const std::string row =
      "| 4461 | failed | – | – | no results: model never became ready (health check gave up "
      "after 3600 s, still waiting for 0 prefills and 1 decodes); first failure: decode w0 on "
      "watchtower-aqua-cn16: NCCL…";
  size_t at = md.find("\n" + row + " |");
  EXPECT_NE(at, std::string::npos) << md;
  // The table cell holds 160 bytes of the reason and the mark, no more.
  EXPECT_EQ(row.substr(row.find("no results: ") + 12).size(), 160u + std::string("…").size());
  // The job's own section keeps the whole reason, with the file and line.
  EXPECT_NE(
      md.find("NCCL error at 2025-11-22 08:01:43 (watchtower-aqua-cn16\\_decode\\_w0.err:23)"),
      std::string::npos)
      << md;
}
