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

double exact_sum(std::span<const double> x) {
  // Shewchuk's algorithm, as Python's math.fsum: the running sum is kept exactly as a few
  // non-overlapping partials (one or two for real durations), rounded once at the end.
  std::vector<double> partials;
  double naive = 0;
  for (double v : x) {
    naive += v;
    size_t i = 0;
    for (double y : partials) {
      if (std::fabs(v) < std::fabs(y)) std::swap(v, y);
      double hi = v + y;
      double lo = y - (hi - v);
      if (lo != 0) partials[i++] = lo;
      v = hi;
    }
    partials.resize(i);
    partials.push_back(v);
  }
  if (!std::isfinite(naive)) return naive;  // an overflow (or a non-finite sample) is what it is
  size_t n = partials.size();
  if (n == 0) return 0;
  double hi = partials[--n];
  double lo = 0;
  while (n > 0) {
    double v = hi;
    double y = partials[--n];
    hi = v + y;
    lo = y - (hi - v);
    if (lo != 0) break;
  }
  // Round half to even across the partials left below (what a single rounding of the exact sum
  // gives).
  if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
    double y = lo * 2;
    double v = hi + y;
    if (y == v - hi) hi = v;
  }
  return hi;
}

Summary summarize(std::vector<double>& v) {
  Summary s;
  s.count = v.size();
  if (v.empty()) return s;
  s.mean = exact_sum(v) / static_cast<double>(v.size());
  auto [mn, mx] = std::minmax_element(v.begin(), v.end());
  s.min = *mn;
  s.max = *mx;
  // Only the ranks the percentiles read are put in place (ascending, each selection on what lies
  // above the one before): about 2n comparisons instead of a sort's n log n.
  const double qs[] = {0.50, 0.90, 0.95, 0.99};
  size_t ranks[8];
  size_t nr = 0;
  const size_t last = v.size() - 1;
  for (double q : qs) {
    auto lo = static_cast<size_t>(std::floor(static_cast<double>(last) * q));
    ranks[nr++] = lo;
    ranks[nr++] = std::min(lo + 1, last);
  }
  std::sort(ranks, ranks + nr);
  size_t from = 0;
  for (size_t i = 0; i < nr; ++i) {
    size_t k = ranks[i];
    if (k < from) continue;  // already in place
    std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(k),
                     v.end());
    from = k + 1;
  }
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
