// Exact summary statistics over every sample.
//
// Percentiles use linear interpolation between closest ranks (numpy's default, "type 7"):
// for sorted x[0..n-1] and q in [0,1], pos = (n-1)q, result = x[lo] + (x[hi]-x[lo])(pos-lo).
// The mean is a compensated (Neumaier) sum so that millions of samples do not drift.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace alog {

struct Summary {
  size_t count = 0;
  double mean = 0, min = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

// Percentile q in [0,1] of an ascending-sorted, non-empty range.
double percentile_sorted(std::span<const double> sorted, double q);

// Sorts `samples` in place and summarises them. count == 0 for an empty vector.
Summary summarize(std::vector<double>& samples);

}  // namespace alog
