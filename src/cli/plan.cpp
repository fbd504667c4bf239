#include "plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "analyze_logs/core/discover.hpp"
#include "registry.hpp"

namespace fs = std::filesystem;

namespace alog::cli {

std::string describe_kind(const std::string& kind) {
  if (kind == "prime-rl") return "a prime-rl run";
  if (kind == "srtctl") return "an srtctl serving job";
  if (kind == "ray") return "a Ray job";
  return "an unrecognised input";
}

namespace {

// `path` lies at or under `root` (both as given, compared as normalised relative paths).
bool under(const std::string& path, const std::string& root) {
  if (root == "-" || path == "-") return path == root;
  fs::path p = fs::path(path).lexically_normal(), r = fs::path(root).lexically_normal();
  auto rel = p.lexically_relative(r);
  return !rel.empty() && rel.native().rfind("..", 0) != 0;
}

}  // namespace

Plan plan_jobs(const std::vector<std::string>& inputs) {
  core::Discovery d = core::discover(inputs, kind_probes());
  Plan plan;
  for (auto& dj : d.jobs) {
    PlannedJob pj;
    pj.kind = dj.kind;
    pj.name = dj.name;
    pj.root = dj.root;
    pj.dirs = std::move(dj.dirs);
    // A file named on the command line is read as given (an unreadable one is an error); a
    // file found inside a folder is skipped and reported when it cannot be read.
    for (auto& f : dj.files) {
      bool named = f == "-" || std::find(inputs.begin(), inputs.end(), f) != inputs.end();
      (named ? pj.direct : pj.files).push_back(std::move(f));
    }
    for (auto& e : dj.inputs)
      if (!e.read) pj.inputs.push_back(std::move(e));
    pj.notes = std::move(dj.notes);
    plan.jobs.push_back(std::move(pj));
  }
  for (auto& u : d.unrecognised) {
    PlannedJob pj;
    pj.kind = "unrecognised";
    pj.name = u.argument;
    pj.root = u.argument;
    pj.unrecognised = fmt::format("nothing this tool recognises in {}: {}", u.argument, u.looked_like);
    pj.looked_like = "looked for " + u.looked_for;
    plan.jobs.push_back(std::move(pj));
  }
  // Skipped inputs that belong to no job go with the job found under the same argument.
  for (auto& e : d.skipped) {
    PlannedJob* home = nullptr;
    for (auto& pj : plan.jobs)
      if (under(e.path, pj.root)) home = &pj;
    if (!home)
      for (auto& pj : plan.jobs)
        for (const auto& in : inputs)
          if (!home && under(e.path, in) && under(pj.root, in)) home = &pj;
    if (!home && !plan.jobs.empty()) home = &plan.jobs.front();
    if (home) home->inputs.push_back(std::move(e));
  }
  if (!plan.jobs.empty())
    for (auto& n : d.notes) plan.jobs.front().notes.push_back(std::move(n));
  return plan;
}

}  // namespace alog::cli
