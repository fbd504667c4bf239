// The srtctl job folders bundled in testdata/ (logs/, sweep/, findings/), sorted: the tests that
// hold something on every one of them (the cache's and the partials' round trips) share this list.
#pragma once

#include <algorithm>
#include <filesystem>
#include <vector>

#include "analyze_logs/srtctl.hpp"

namespace alog::test_support {

inline std::vector<std::filesystem::path> bundled_srtctl_jobs() {
  std::vector<std::filesystem::path> out;
  for (const char* set : {"srtctl/logs", "srtctl/sweep", "srtctl/findings"})
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(ALOG_TESTDATA) / set))
      if (e.is_directory() && srtctl::is_job_dir(e.path())) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace alog::test_support
