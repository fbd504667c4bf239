#include "analyze_logs/core/stats.hpp"

#include <algorithm>
#include <cmath>

namespace alog {

double percentile_sorted(std::span<const double> x, double q) {
  if (x.empty()) return 0;
  double pos = (static_cast<double>(x.size()) - 1) * q;
  auto lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, x.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return x[lo] + (x[hi] - x[lo]) * frac;
}

Summary summarize(std::vector<double>& v) {
  Summary s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0, comp = 0;  // Neumaier summation
  for (double x : v) {
    double t = sum + x;
    comp += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  s.mean = (sum + comp) / static_cast<double>(v.size());
  s.min = v.front();
  s.max = v.back();
  s.p50 = percentile_sorted(v, 0.50);
  s.p90 = percentile_sorted(v, 0.90);
  s.p95 = percentile_sorted(v, 0.95);
  s.p99 = percentile_sorted(v, 0.99);
  return s;
}

std::vector<double> SampleBuffer::take() {
  std::vector<double> out;
  out.reserve(size());
  for (size_t b = 0; b < blocks_.size(); ++b) {
    size_t n = b + 1 == blocks_.size() ? used_ : kBlock;
    out.insert(out.end(), blocks_[b].get(), blocks_[b].get() + n);
    blocks_[b].reset();
  }
  blocks_.clear();
  used_ = 0;
  return out;
}

}  // namespace alog
