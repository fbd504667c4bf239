// From the command line's inputs to the jobs to analyse: which kind claims what (the registry of
// kinds lives in registry.cpp; discovery walks the inputs, core/discover.hpp).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyze_logs/core/discover.hpp"
#include "analyze_logs/core/finding.hpp"

namespace alog::cli {

struct MergedParts;  // partial.hpp

struct PlannedJob {
  std::string kind;  // "prime-rl", "srtctl", "ray"; "unrecognised" when nothing was
  std::string name;  // shown to the user
  std::string root;  // the folder or file the job was found at; "-" for standard input
  std::vector<std::string> direct;  // inputs named on the command line, read as given
  std::vector<std::string> files;   // files found inside a folder (unreadable: skipped, not fatal)
  std::vector<std::string> dirs;    // folders the kind reads itself (srtctl job, Ray session logs)
  // prime-rl: files under the run's folder that the hang kind claimed (a silent trainer rank's
  // log ending in its stack dump, a folder of dumps): read by the run's hang analysis
  // (attach_prime_hangs), not by its scan.
  std::vector<std::string> hang_files;
  std::vector<core::InputEntry> inputs;  // skipped entries, with their reasons
  std::vector<std::string> notes;        // what discovery decided that the user should know
  std::vector<std::string> roles;        // roles of the inputs read ("driver log", ...)
  size_t pieces = 0;                     // other arguments joined into this job
  std::string first_name;                // the name before any was joined
  // When kind is "": what was looked for, and what the input looked like.
  std::string unrecognised, looked_like;
  // `analyze-logs merge`: what the partials hold of this job (its files' states); its kind
  // finishes the analysis from them instead of reading the files. Null for a job read here.
  std::shared_ptr<const MergedParts> parts;
};

struct Plan {
  std::vector<PlannedJob> jobs;
};

// Throws std::runtime_error with a one-line message naming a missing or unreadable argument.
// `opt`: discovery's options (`analyze-logs merge` plans over a skeleton of the nodes' files).
Plan plan_jobs(const std::vector<std::string>& inputs, const core::DiscoverOptions& opt = {});

// --follow: files the loop does not read as inputs of their own (a file rotated away, whose lines
// were read under its old name) are taken out of the plan and listed as not read, with the reason.
void drop_inputs(Plan& plan, const std::map<std::string, std::string>& dropped);

// "a prime-rl run", "an srtctl serving job", "a Ray job", "an unrecognised input".
std::string describe_kind(const std::string& kind);

}  // namespace alog::cli
