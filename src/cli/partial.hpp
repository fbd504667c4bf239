// Analysis where the logs live: `analyze-logs partial INPUT... -o FILE` on each node writes what
// the analyses need of the files there (each kind's per-file state: events, samples, buckets,
// hits with their evidence lines, clocks, counts; never the logs themselves), and
// `analyze-logs merge PARTIAL...` finishes the analysis where the partials meet: the same report
// as analysing all the files in one place. See docs/FLEET.md and docs/SLURM.md.
//
// A partial file: the 8 bytes "ALOGPART", the container version (4 bytes, little-endian), then
// one zstd frame (with its checksum) of a CBOR document: the tool's version, the host, the
// arguments, each argument's folder tree with what every file's head showed (the merge plans over
// a skeleton of all the trees), and per job its kind, the path it was found at, the kind's state
// and the hang artifacts' state.
#pragma once

#include <string>
#include <vector>

#include "analyze_logs/core/partial.hpp"
#include "plan.hpp"

namespace alog::cli {

// What the partials hold of one job.
struct MergedParts {
  std::vector<core::PartState> states;  // the kind's state, one per partial that holds the job
  std::vector<core::PartState> hangs;   // the hang artifacts of its files, one per partial
};

struct PartialArgs {
  std::vector<std::string> inputs;
  std::string out;   // -o FILE
  std::string kind;  // --kind: "" = found by content
  unsigned threads = 1;
  bool quiet = false;
  double max_failed_pct = 5.0;
  int async_level = 2;
};

// Writes the partial; returns the exit status (2 with a one-line error for an input that cannot be
// read or a FILE that cannot be written).
int run_partial(const PartialArgs& args, const std::string& version);

// The plan a run over all the partials' files in one place would have made, each job carrying its
// parts. Throws std::runtime_error with one line naming the file for a partial that cannot be
// read, is corrupt, or was written by another version of the tool.
Plan plan_from_partials(const std::vector<std::string>& files, const std::string& version);

// The kinds `--kind` takes.
const std::vector<std::string>& partial_kinds();

}  // namespace alog::cli
