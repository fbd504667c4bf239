// Private to the srtctl module: the pieces of the SUMMARY.md writer (report.cpp) that the job's
// Body (body.cpp) renders again in its own media, so both agree on columns and wording.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/srtctl.hpp"

namespace alog::srtctl::detail {

struct Column {
  const char* key;
  const char* title;
  bool higher_is_better;
};
// The benchmark metrics shown in the full tables, and the ones the regression gate looks at.
const std::vector<Column>& columns();
std::string unit_of(std::string_view key);
std::string num(std::optional<double> v);  // two decimals, "–" when absent
std::string duration_text(int64_t s);      // "45 s", "3 min 20 s", "2 h 5 min"
std::string worker_name(const std::string& role, int index);  // "decode w0", "frontend 1"
std::string size_text(const BenchRun& r);  // "1024/1024"
// The Markdown section of one job, headings at `level` + 1. As a body (as_body), the verdict and
// the root-cause sentence are left to the shared header and the section opens with "## Job".
std::string job_section(const JobReport& r, int level, bool as_body);
// The jobs as the pointer list the set views and CSV writers take.
inline std::vector<const JobReport*> pointers_to(const std::vector<JobReport>& jobs) {
  std::vector<const JobReport*> p;
  p.reserve(jobs.size());
  for (const auto& j : jobs) p.push_back(&j);
  return p;
}

}  // namespace alog::srtctl::detail
