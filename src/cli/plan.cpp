#include "plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "analyze_logs/core/discover.hpp"
#include "analyze_logs/util.hpp"
#include "kinds.hpp"
#include "registry.hpp"

namespace fs = std::filesystem;

namespace alog::cli {

std::string describe_kind(const std::string& k) { return std::string(kind(k).described); }

namespace {

// The folders a path lies in, itself first, as `path_under` compares them (lexically normal, no
// trailing separator; "." for a relative path): the keys of RootIndex.
std::vector<std::string> ancestors(const std::string& path) {
  std::vector<std::string> out;
  if (path == "-") return {path};
  std::string s = fs::path(path).lexically_normal().generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  const bool relative = s.empty() || s.front() != '/';
  while (!s.empty()) {
    out.push_back(s);
    size_t slash = s.rfind('/');
    if (slash == std::string::npos) break;
    s = slash == 0 ? (s.size() > 1 ? "/" : "") : s.substr(0, slash);
  }
  if (relative && (out.empty() || out.back() != ".")) out.push_back(".");
  return out;
}

// Job roots by their normal form, so that the jobs a path lies in are found by walking its
// ancestors (a few lookups) instead of testing every job: a fleet of thousands of job folders
// is planned in linear time. `path_under` still decides; the index only proposes.
struct RootIndex {
  std::unordered_map<std::string, std::vector<size_t>> by_root;
  void add(const std::string& root, size_t k) { by_root[ancestors(root).front()].push_back(k); }
  // Every job whose root `path` may lie under, in no particular order.
  template <typename F>
  void each_candidate(const std::string& path, F&& f) const {
    for (const auto& a : ancestors(path))
      if (auto it = by_root.find(a); it != by_root.end())
        for (size_t k : it->second) f(k);
  }
};

// Joins p into t. A joined job is named after the first of its pieces and how many more there
// are, so that 500 rank logs named one by one do not make a 500-name title.
void merge_into(PlannedJob& t, PlannedJob& p) {
  for (auto& x : p.direct) t.direct.push_back(std::move(x));
  for (auto& x : p.files) t.files.push_back(std::move(x));
  for (auto& x : p.dirs) t.dirs.push_back(std::move(x));
  for (auto& x : p.inputs) t.inputs.push_back(std::move(x));
  for (auto& x : p.notes) t.notes.push_back(std::move(x));
  for (auto& x : p.roles) t.roles.push_back(std::move(x));
  if (t.root != p.root) {
    if (t.pieces == 0) t.first_name = t.name;
    t.pieces += 1 + p.pieces;
    t.name = fmt::format("{} (+{} more)", t.first_name, t.pieces);
  }
  if (t.unrecognised.empty()) {
    t.unrecognised = std::move(p.unrecognised);
    t.looked_like = std::move(p.looked_like);
  }
}

// prime-rl files named one by one on the command line are one run, whatever their roles: the
// old script's `analyze_logs.sh orchestrator.log inference.log` shape. (Run folders stay apart.)
void merge_named_files(Plan& plan) {
  std::vector<PlannedJob> out;
  size_t first = SIZE_MAX;
  for (auto& pj : plan.jobs) {
    bool named_files = pj.kind == "prime-rl" && !pj.direct.empty() && pj.files.empty() && pj.dirs.empty();
    if (named_files && first != SIZE_MAX) {
      merge_into(out[first], pj);
      continue;
    }
    if (named_files) first = out.size();
    out.push_back(std::move(pj));
  }
  plan.jobs = std::move(out);
}

// The same inputs found twice (a driver log named beside the folder that holds it): a job of
// a kind whose every input lies under another job's folder of that kind is part of it. Only jobs
// found at a folder can hold others; they are found through their roots (RootIndex), so this is
// linear in the jobs, not jobs × folders (1,000 job folders: 1.1 s of planning before).
void merge_contained(Plan& plan) {
  auto paths = [](const PlannedJob& pj) {
    std::vector<std::string> v = pj.direct;
    v.insert(v.end(), pj.files.begin(), pj.files.end());
    v.insert(v.end(), pj.dirs.begin(), pj.dirs.end());
    return v;
  };
  RootIndex folders;
  for (size_t k = 0; k < plan.jobs.size(); ++k) {
    std::error_code ec;
    if (fs::is_directory(plan.jobs[k].root, ec)) folders.add(plan.jobs[k].root, k);
  }
  std::vector<bool> gone(plan.jobs.size(), false);
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    const auto mine = paths(plan.jobs[i]);
    if (mine.empty()) continue;
    // The first folder job (in plan order) of the same kind that holds every path of job i.
    size_t home = SIZE_MAX;
    folders.each_candidate(mine.front(), [&](size_t k) {
      if (k >= home || k == i || gone[k] || plan.jobs[k].kind != plan.jobs[i].kind) return;
      bool inside = true;
      for (const auto& p : mine) inside = inside && path_under(p, plan.jobs[k].root);
      if (inside) home = k;
    });
    if (home == SIZE_MAX) continue;
    {
      const size_t k = home;
      // Only what the larger job does not already read is added.
      PlannedJob& t = plan.jobs[k];
      std::unordered_set<std::string> have;
      for (const auto& h : paths(t)) have.insert(fs::path(h).lexically_normal().string());
      auto add = [&](std::vector<std::string>& to, const std::string& x) {
        if (have.insert(fs::path(x).lexically_normal().string()).second) to.push_back(x);
      };
      for (const auto& x : plan.jobs[i].direct) add(t.direct, x);
      for (const auto& x : plan.jobs[i].files) add(t.files, x);
      for (const auto& x : plan.jobs[i].dirs) add(t.dirs, x);
      gone[i] = true;
    }
  }
  std::vector<PlannedJob> out;
  for (size_t i = 0; i < plan.jobs.size(); ++i)
    if (!gone[i]) out.push_back(std::move(plan.jobs[i]));
  plan.jobs = std::move(out);
}

// Arguments that are pieces of one job: `orchestrator.log inference.log`, or a Ray driver log and
// its session folders named one by one. A job holding no input in its kind's anchor role (the
// orchestrator log, the driver log) is a piece: pieces join the one anchored job of their kind,
// or, when there is none, the first piece of their kind. Two anchored jobs (two run folders) stay
// two, and a piece beside two of them is kept apart: which run it belongs to is not known.
void merge_parts(Plan& plan) {
  auto anchored = [](const PlannedJob& pj) {
    for (const auto& probe : kind_probes())
      if (probe.kind == pj.kind && !probe.anchor_role.empty()) {
        if (probe.claims_dir && !pj.dirs.empty()) return true;  // a folder read whole is a job
        for (const auto& role : pj.roles)
          if (role == probe.anchor_role) return true;
        return false;
      }
    return true;  // a kind without anchors (srtctl) is whole as found
  };
  // Merging a piece never makes or unmakes an anchored job, so the counts are taken once.
  std::vector<bool> is_anchored(plan.jobs.size());
  std::unordered_map<std::string, std::vector<size_t>> anchors_of;
  for (size_t k = 0; k < plan.jobs.size(); ++k)
    if ((is_anchored[k] = anchored(plan.jobs[k]))) anchors_of[plan.jobs[k].kind].push_back(k);
  std::unordered_map<std::string, size_t> first_piece;
  std::vector<bool> gone(plan.jobs.size(), false);
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    if (is_anchored[i]) continue;
    const auto& anchors = anchors_of[plan.jobs[i].kind];
    size_t target = SIZE_MAX;
    if (anchors.size() == 1) {
      target = anchors.front();
    } else if (anchors.empty()) {
      auto [it, fresh] = first_piece.emplace(plan.jobs[i].kind, i);
      if (!fresh) target = it->second;
    }
    if (target == SIZE_MAX) continue;
    merge_into(plan.jobs[target], plan.jobs[i]);
    gone[i] = true;
  }
  std::vector<PlannedJob> out;
  for (size_t k = 0; k < plan.jobs.size(); ++k)
    if (!gone[k]) out.push_back(std::move(plan.jobs[k]));
  plan.jobs = std::move(out);
}

// Hang artifacts found inside a prime-rl run's folder (its trainer ranks' logs that end in stack
// dumps, a folder of dumps beside its logs) belong to that run: its hang analysis reads them
// with its own logs. A hang set under two run folders, or under none, stays a job of its own.
void join_hangs_to_prime(Plan& plan) {
  RootIndex runs;
  for (size_t k = 0; k < plan.jobs.size(); ++k) {
    std::error_code ec;
    if (plan.jobs[k].kind == "prime-rl" && fs::is_directory(plan.jobs[k].root, ec)) runs.add(plan.jobs[k].root, k);
  }
  if (runs.by_root.empty()) return;
  std::vector<bool> gone(plan.jobs.size(), false);
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    PlannedJob& h = plan.jobs[i];
    if (h.kind != "hang") continue;
    std::vector<std::string> mine = h.direct;
    mine.insert(mine.end(), h.files.begin(), h.files.end());
    mine.insert(mine.end(), h.dirs.begin(), h.dirs.end());
    if (mine.empty()) continue;
    size_t home = SIZE_MAX, homes = 0;
    runs.each_candidate(mine.front(), [&](size_t k) {
      bool inside = true;
      for (const auto& p : mine) inside = inside && path_under(p, plan.jobs[k].root);
      if (inside) home = k, ++homes;
    });
    if (homes != 1) continue;
    PlannedJob& t = plan.jobs[home];
    for (auto& x : mine) t.hang_files.push_back(std::move(x));
    for (auto& x : h.inputs) t.inputs.push_back(std::move(x));
    for (auto& x : h.notes) t.notes.push_back(std::move(x));
    gone[i] = true;
  }
  std::vector<PlannedJob> out;
  for (size_t k = 0; k < plan.jobs.size(); ++k)
    if (!gone[k]) out.push_back(std::move(plan.jobs[k]));
  plan.jobs = std::move(out);
}

}  // namespace

Plan plan_jobs(const std::vector<std::string>& inputs, const core::DiscoverOptions& opt) {
  core::Discovery d = core::discover(inputs, kind_probes(), opt);
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
    for (auto& e : dj.inputs) {
      if (e.read) pj.roles.push_back(e.role);
      else pj.inputs.push_back(std::move(e));
    }
    pj.notes = std::move(dj.notes);
    plan.jobs.push_back(std::move(pj));
  }
  for (auto& u : d.unrecognised) {
    // A file (or standard input) named on the command line that no kind claims is read by the
    // prime-rl analysis, the one that streams any text: its lines are counted, its malformed
    // tagged lines skipped and reported, and its verdict is "unknown", never "ok".
    std::error_code ec;
    if (u.argument == "-" || !fs::is_directory(u.argument, ec)) {
      PlannedJob pj;
      pj.kind = "prime-rl";
      pj.name = u.argument;
      pj.root = u.argument;
      pj.direct = {u.argument};
      pj.unrecognised = fmt::format("nothing this tool recognises in {}: {}", u.argument, u.looked_like);
      pj.looked_like = "looked for " + u.looked_for;
      plan.jobs.push_back(std::move(pj));
    }
  }
  merge_contained(plan);
  merge_named_files(plan);
  merge_parts(plan);
  join_hangs_to_prime(plan);
  for (auto& u : d.unrecognised) {
    std::error_code ec;
    if (u.argument == "-" || !fs::is_directory(u.argument, ec)) continue;
    PlannedJob pj;
    pj.kind = "unrecognised";
    pj.name = u.argument;
    pj.root = u.argument;
    pj.unrecognised = fmt::format("nothing this tool recognises in {}: {}", u.argument, u.looked_like);
    pj.looked_like = "looked for " + u.looked_for;
    plan.jobs.push_back(std::move(pj));
  }
  // Skipped inputs that belong to no job go with the job found under the same argument.
  RootIndex roots;
  for (size_t k = 0; k < plan.jobs.size(); ++k) roots.add(plan.jobs[k].root, k);
  for (auto& e : d.skipped) {
    PlannedJob* home = nullptr;
    size_t last = 0;  // the last job in plan order whose root holds it
    roots.each_candidate(e.path, [&](size_t k) {
      if ((!home || k > last) && path_under(e.path, plan.jobs[k].root)) home = &plan.jobs[k], last = k;
    });
    if (!home)
      for (auto& pj : plan.jobs)
        for (const auto& in : inputs)
          if (!home && path_under(e.path, in) && path_under(pj.root, in)) home = &pj;
    if (!home && !plan.jobs.empty()) home = &plan.jobs.front();
    if (home) home->inputs.push_back(std::move(e));
  }
  if (!plan.jobs.empty())
    for (auto& n : d.notes) plan.jobs.front().notes.push_back(std::move(n));
  return plan;
}

void drop_inputs(Plan& plan, const std::map<std::string, std::string>& dropped) {
  if (dropped.empty()) return;
  for (auto& pj : plan.jobs)
    for (auto* list : {&pj.direct, &pj.files})
      std::erase_if(*list, [&](const std::string& f) {
        auto it = dropped.find(f);
        if (it == dropped.end()) return false;
        pj.inputs.push_back({f, pj.kind, "", false, it->second});
        return true;
      });
}

}  // namespace alog::cli
