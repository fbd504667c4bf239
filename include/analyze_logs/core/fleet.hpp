// Many jobs at once (docs/FLEET.md): one row per job (kind, start, duration, nodes, verdict,
// root-cause fingerprint), the failures grouped by fingerprint, and the nodes whose jobs fail more
// often than chance allows. Plain data over the jobs' headers: every kind is read the same way.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "analyze_logs/core/finding.hpp"
#include "analyze_logs/core/job.hpp"

namespace alog::core {

// A failure's fingerprint: the catalogue or rule id of the job's root cause, then its normalised
// location (the root cause's first evidence line with what differs from job to job taken out:
// times, pids, ranks, addresses, sequence numbers, paths' variable parts; sizes, operation names
// and code locations kept). "" for a job with no root cause. Jobs failing the same way in the same
// place share it.
std::string fingerprint(const Header& h);
// The normalisation alone (tests, docs).
std::string normalise_location(std::string_view text);

// Civil "YYYY-MM-DD HH:MM:SS" (fractions and a 'T' allowed) -> seconds; -1 when not one.
double civil_seconds(std::string_view s);

struct FleetRow {
  size_t job = 0;  // index into the jobs given
  std::string fingerprint;
  bool failed = false;  // verdict failed or stuck: what the node blame counts
};

struct FingerprintGroup {
  std::string fingerprint;
  std::string id;       // the root cause's id
  std::string summary;  // the first job's root-cause summary
  Evidence example;     // its first evidence line
  std::vector<size_t> jobs;  // indices into the jobs given, in order
};

// A node and the jobs that ran on it. p_value: the one-sided exact binomial probability of at
// least `failed` failures in `jobs` jobs at the fleet's failure rate; blamed when that times the
// number of nodes tested (Bonferroni) is below alpha and at least two of its jobs failed.
struct NodeStat {
  std::string node;
  size_t jobs = 0, failed = 0;
  double p_value = 1, adjusted = 1;
  bool blamed = false;
  std::vector<size_t> failed_jobs;
};

struct Fleet {
  std::vector<FleetRow> rows;
  std::vector<FingerprintGroup> groups;  // most jobs first
  std::vector<NodeStat> nodes;           // blamed first, then by adjusted p-value, then name
  size_t failed = 0, with_nodes = 0;     // failed jobs; jobs that name their nodes
  double failure_rate = 0;               // failed / jobs
  double alpha = 0.05;
  size_t tested = 0;                     // nodes the test ran on (those with a failed job)
  std::vector<std::string> exclude;      // the blamed nodes, for srun/sbatch --exclude
};

Fleet fleet_of(const std::vector<const Job*>& jobs, double alpha = 0.05);

// P(X >= k) for X ~ Binomial(n, p), exact (log-space sums).
double binomial_tail(size_t n, size_t k, double p);

}  // namespace alog::core
