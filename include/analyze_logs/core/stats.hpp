// Exact summary statistics over every sample.
//
// Percentiles use linear interpolation between closest ranks (numpy's default, "type 7"):
// for sorted x[0..n-1] and q in [0,1], pos = (n-1)q, result = x[lo] + (x[hi]-x[lo])(pos-lo).
// The mean is the exactly rounded sum (Shewchuk's algorithm, as Python's math.fsum) divided by the
// count: millions of samples do not drift, and the order the samples come in does not matter.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace alog {

struct Summary {
  size_t count = 0;
  double mean = 0, min = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

// Percentile q in [0,1] of an ascending-sorted, non-empty range.
double percentile_sorted(std::span<const double> sorted, double q);

// Summarises `samples`, reordering them (only the ranks the percentiles read are put in place:
// no full sort). count == 0 for an empty vector.
Summary summarize(std::vector<double>& samples);

// The sum of x rounded once, exactly as the sum of the real numbers would round.
double exact_sum(std::span<const double> x);

// Samples as they arrive, 8 bytes each: blocks of 64 KiB instead of one growing array, so adding
// never copies and never leaves up to half of a doubled array unused. take() hands them over as
// one exact-size vector, freeing each block as it is copied (peak: the samples plus one block).
class SampleBuffer {
 public:
  static constexpr size_t kBlock = 8192;
  void push_back(double v) {
    if (used_ == kBlock || blocks_.empty()) {
      blocks_.push_back(std::make_unique_for_overwrite<double[]>(kBlock));
      used_ = 0;
    }
    blocks_.back()[used_++] = v;
  }
  size_t size() const { return blocks_.empty() ? 0 : (blocks_.size() - 1) * kBlock + used_; }
  bool empty() const { return blocks_.empty(); }
  std::vector<double> take();

 private:
  std::vector<std::unique_ptr<double[]>> blocks_;
  size_t used_ = 0;
};

}  // namespace alog
