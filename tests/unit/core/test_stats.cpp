// summarize / percentile_sorted: count, mean, min, p50, p90, p95, p99, max, with percentiles by
// linear interpolation between closest ranks (numpy's default). Expected values are worked out
// by hand in the comments, or by an independent long-double reference in the test. The mean is
// the exactly rounded sum (math.fsum's) over the count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "analyze_logs/core/stats.hpp"

using namespace alog;

namespace {

// numpy.percentile(x, 100q) with the default linear method, written independently:
// h = (n-1)q, result = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
long double reference_percentile(std::vector<double> x, long double q) {
  std::sort(x.begin(), x.end());
  long double h = (static_cast<long double>(x.size()) - 1) * q;
  size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= x.size()) return x.back();
  return x[lo] + (h - static_cast<long double>(lo)) * (static_cast<long double>(x[lo + 1]) - x[lo]);
}

}  // namespace

TEST(Stats, FourValues) {
  std::vector<double> v{4, 1, 3, 2};
  Summary s = summarize(v);
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.p50, 2.5);   // h = 1.5
  EXPECT_DOUBLE_EQ(s.p90, 3.7);   // h = 2.7
  EXPECT_DOUBLE_EQ(s.p95, 3.85);  // h = 2.85
  EXPECT_DOUBLE_EQ(s.p99, 3.97);  // h = 2.97
  EXPECT_DOUBLE_EQ(s.max, 4);
}

TEST(Stats, ThreeUnsortedValues) {
  std::vector<double> v{10, 0, 20};
  Summary s = summarize(v);
  EXPECT_DOUBLE_EQ(s.mean, 10);
  EXPECT_DOUBLE_EQ(s.p50, 10);    // h = 1
  EXPECT_DOUBLE_EQ(s.p90, 18);    // h = 1.8
  EXPECT_DOUBLE_EQ(s.p95, 19);    // h = 1.9
  EXPECT_DOUBLE_EQ(s.p99, 19.8);  // h = 1.98
}

TEST(Stats, ElevenEvenlySpacedValuesHitRanksExactly) {
  std::vector<double> v;
  for (int i = 10; i >= 0; --i) v.push_back(i * 10.0);
  Summary s = summarize(v);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p90, 90);
  EXPECT_DOUBLE_EQ(s.p95, 95);
  EXPECT_DOUBLE_EQ(s.p99, 99);
  EXPECT_DOUBLE_EQ(s.mean, 50);
}

TEST(Stats, SeedBeforeFixFigures) {
  // Seed 002: "Queue Delay: Mean = 28453.2 ms", from two updates of the seed 000 kind.
  std::vector<double> v{30333.4, 26573.0};
  Summary s = summarize(v);
  EXPECT_NEAR(s.mean, 28453.2, 1e-9);
  EXPECT_NEAR(s.p50, 28453.2, 1e-9);
  EXPECT_NEAR(s.p90, 26573.0 + 0.9 * 3760.4, 1e-9);
}

TEST(Stats, OneValue) {
  std::vector<double> v{42.5};
  Summary s = summarize(v);
  EXPECT_EQ(s.count, 1u);
  for (double x : {s.mean, s.min, s.p50, s.p90, s.p95, s.p99, s.max}) EXPECT_DOUBLE_EQ(x, 42.5);
}

TEST(Stats, Empty) {
  std::vector<double> v;
  Summary s = summarize(v);
  EXPECT_EQ(s.count, 0u);
}

TEST(Stats, AllEqual) {
  std::vector<double> v(1000, 0.2);
  Summary s = summarize(v);
  for (double x : {s.min, s.p50, s.p90, s.p95, s.p99, s.max}) EXPECT_DOUBLE_EQ(x, 0.2);
  EXPECT_NEAR(s.mean, 0.2, 1e-15);
}

TEST(Stats, MeanIsExact) {
  // A naive sum loses the 1 entirely (1e16 + 1 == 1e16 in double).
  std::vector<double> v{1e16, 1, -1e16};
  EXPECT_EQ(summarize(v).mean, 1.0 / 3.0);
}

TEST(Stats, RandomSamplesAgainstLongDoubleReference) {
  std::mt19937_64 rng(9);
  for (size_t n : {2u, 3u, 17u, 100u, 101u, 999u, 10000u}) {
    std::vector<double> v(n);
    for (auto& x : v) x = static_cast<double>(rng() % 10000000) / 10.0;
    std::vector<double> copy = v;
    long double sum = 0;
    for (double x : v) sum += x;
    Summary s = summarize(copy);
    EXPECT_EQ(s.count, n);
    EXPECT_NEAR(s.mean, static_cast<double>(sum / static_cast<long double>(n)), 1e-9);
    EXPECT_DOUBLE_EQ(s.min, *std::min_element(v.begin(), v.end()));
    EXPECT_DOUBLE_EQ(s.max, *std::max_element(v.begin(), v.end()));
    EXPECT_NEAR(s.p50, static_cast<double>(reference_percentile(v, 0.50L)), 1e-9) << n;
    EXPECT_NEAR(s.p90, static_cast<double>(reference_percentile(v, 0.90L)), 1e-9) << n;
    EXPECT_NEAR(s.p95, static_cast<double>(reference_percentile(v, 0.95L)), 1e-9) << n;
    EXPECT_NEAR(s.p99, static_cast<double>(reference_percentile(v, 0.99L)), 1e-9) << n;
  }
}

TEST(Stats, SummarizeKeepsEverySample) {
  std::vector<double> v{3, 1, 2, 2, 9};
  summarize(v);
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v, (std::vector<double>{1, 2, 2, 3, 9}));
}

// The ranks the percentiles read are selected, not sorted: the figures must be the very ones a
// full sort gives, bit for bit, whatever the input order, duplicates and sizes.
TEST(Stats, SelectionGivesTheFiguresOfAFullSort) {
  std::mt19937_64 rng(21);
  for (size_t n : {1u, 2u, 3u, 4u, 5u, 10u, 11u, 99u, 100u, 101u, 1000u, 65537u}) {
    for (int dup : {0, 1}) {
      std::vector<double> v(n);
      for (auto& x : v) x = static_cast<double>(rng() % (dup ? 7 : 10000000)) / 10.0;
      std::vector<double> sorted = v;
      std::sort(sorted.begin(), sorted.end());
      Summary s = summarize(v);
      EXPECT_EQ(s.min, sorted.front());
      EXPECT_EQ(s.max, sorted.back());
      EXPECT_EQ(s.p50, percentile_sorted(sorted, 0.50)) << n;
      EXPECT_EQ(s.p90, percentile_sorted(sorted, 0.90)) << n;
      EXPECT_EQ(s.p95, percentile_sorted(sorted, 0.95)) << n;
      EXPECT_EQ(s.p99, percentile_sorted(sorted, 0.99)) << n;
      std::shuffle(sorted.begin(), sorted.end(), rng);
      EXPECT_EQ(summarize(sorted).mean, s.mean) << "the mean depends on the order, n=" << n;
    }
  }
}

// Python's math.fsum gives these (its documentation and test suite).
TEST(Stats, ExactSumIsRoundedOnce) {
  std::vector<double> tenths(10, 0.1);
  EXPECT_EQ(exact_sum(tenths), 1.0);  // a plain sum gives 0.9999999999999999
  EXPECT_EQ(exact_sum(std::vector<double>{1e16, 1, -1e16}), 1.0);
  EXPECT_EQ(exact_sum(std::vector<double>{1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50}), 1e-100);
  EXPECT_EQ(exact_sum(std::vector<double>{1e16, 1., 1e-16}), 10000000000000002.0);  // half to even, up
  EXPECT_EQ(exact_sum(std::vector<double>{}), 0.0);
  EXPECT_EQ(exact_sum(std::vector<double>{2.5}), 2.5);
  std::vector<double> big(3, 1e308);
  EXPECT_TRUE(std::isinf(exact_sum(big)));
}

TEST(StatsPercentile, EndsAndMiddle) {
  std::vector<double> v{1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 1), 5);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0.5), 3);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0.1), 1.4);  // h = 0.4
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0.625), 3.5);
}

TEST(SampleBuffer, TakeGivesEverySampleInOrderAcrossBlocks) {
  for (size_t n : {size_t{0}, size_t{1}, SampleBuffer::kBlock - 1, SampleBuffer::kBlock, SampleBuffer::kBlock + 1,
                   3 * SampleBuffer::kBlock + 17}) {
    SampleBuffer b;
    for (size_t i = 0; i < n; ++i) b.push_back(static_cast<double>(i) * 0.5);
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(b.empty(), n == 0);
    std::vector<double> v = b.take();
    ASSERT_EQ(v.size(), n);
    EXPECT_EQ(v.capacity(), n) << "exact size, no slack";
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(v[i], static_cast<double>(i) * 0.5) << i;
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.size(), 0u);
  }
}
