// Writing the comparison folder, and the hook that hands serving jobs (srtctl) to their own
// comparison so that `compare` over SLURM job folders never reaches the prime-rl analysis.

#include <fmt/format.h>

#include "analyze_logs/compare.hpp"
#include "analyze_logs/output_dir.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace fs = std::filesystem;

namespace alog::compare {

fs::path write_comparison(const Result& result, const fs::path& parent) {
  OutputDir dir(parent, "comparison");
  dir.write("COMPARE.md", result.markdown);
  dir.write("compare.json", result.json.dump(2) + "\n");
  return dir.commit();
}

std::optional<Result> compare_serving_jobs(const Options& opt) {
  if (opt.runs.size() < 2) return std::nullopt;
  for (const auto& a : opt.runs) {
    std::error_code ec;
    if (!fs::is_directory(a, ec) || !srtctl::is_job_dir(a)) return std::nullopt;
  }
  if (opt.baseline >= opt.runs.size())
    throw std::invalid_argument(
        fmt::format("--baseline {}: only {} runs given", opt.baseline + 1, opt.runs.size()));
  std::vector<srtctl::JobReport> jobs;
  for (const auto& a : opt.runs) jobs.push_back(srtctl::analyze_job(a));
  double pct = opt.fail_on_regression_pct.value_or(srtctl::kDefaultRegressionPct);
  Result r;
  std::vector<std::string> regs;
  r.markdown = fmt::format("# Comparison of {} serving jobs\n\n", jobs.size()) +
               srtctl::compare_markdown(jobs, opt.baseline, pct, regs);
  r.json = {{"schema", 1}, {"kind", "comparison"}, {"family", "srtctl"}};
  r.json["srtctl"] = srtctl::compare_json(jobs, opt.baseline, pct);
  // The gate applies only when asked for; without it the regressions are listed, not fatal.
  if (opt.fail_on_regression_pct) r.regressions = regs;
  r.verdict = regs.empty()
                  ? fmt::format("{} serving jobs: no regression beyond {} %", jobs.size(), pct)
                  : fmt::format("{} serving jobs: {} regression(s) beyond {} %", jobs.size(),
                                regs.size(), pct);
  r.json["verdict"] = utf8_clean(r.verdict);
  r.terminal = r.markdown;
  return r;
}

}  // namespace alog::compare
