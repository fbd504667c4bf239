#include "plan.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"

namespace fs = std::filesystem;

namespace alog::cli {

std::string describe_kind(const std::string& kind) {
  if (kind == "prime-rl") return "a prime-rl run";
  if (kind == "srtctl") return "an srtctl serving job";
  if (kind == "ray") return "a Ray job";
  return "an unrecognised input";
}

Plan plan_jobs(const std::vector<std::string>& inputs) {
  Plan plan;
  // srtctl: every input is a job folder or a folder of job folders.
  bool all_srtctl = !inputs.empty();
  std::vector<std::string> srt;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (in == "-" || !fs::is_directory(in, ec)) {
      all_srtctl = false;
      break;
    }
    if (srtctl::is_job_dir(in)) {
      srt.push_back(in);
    } else if (srtctl::is_job_set_dir(in)) {
      for (const auto& j : srtctl::analyze_set(in)) srt.push_back(j.dir);
    } else {
      all_srtctl = false;
      break;
    }
  }
  if (all_srtctl) {
    for (const auto& d : srt) {
      PlannedJob pj;
      pj.kind = "srtctl";
      pj.root = d;
      pj.name = fs::path(d).lexically_normal().filename().string();
      if (pj.name.empty()) pj.name = fs::path(d).lexically_normal().parent_path().filename().string();
      pj.dirs = {d};
      plan.jobs.push_back(std::move(pj));
    }
    return plan;
  }
  bool all_ray = !inputs.empty();
  for (const auto& in : inputs) {
    std::error_code ec;
    if (in == "-" || (fs::is_directory(in, ec) ? !ray::is_session_logs_dir(in) : !ray::is_driver_log(in))) {
      all_ray = false;
      break;
    }
  }
  if (all_ray) {
    PlannedJob pj;
    pj.kind = "ray";
    pj.root = inputs.front();
    pj.name = fs::path(inputs.front()).filename().string();
    for (const auto& in : inputs) {
      std::error_code ec;
      (fs::is_directory(in, ec) ? pj.dirs : pj.files).push_back(in);
    }
    plan.jobs.push_back(std::move(pj));
    return plan;
  }
  PlannedJob pj;
  pj.kind = "prime-rl";
  pj.root = inputs.front();
  pj.name = inputs.size() == 1 ? inputs.front() : fmt::format("{} (+{} more)", inputs.front(), inputs.size() - 1);
  pj.direct = inputs;
  plan.jobs.push_back(std::move(pj));
  return plan;
}

}  // namespace alog::cli
