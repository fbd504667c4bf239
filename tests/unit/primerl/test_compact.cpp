// Tests of the compact value types in include/analyze_logs/primerl/model.hpp that keep the per-update
// footprint small: they must behave like the std types they replace.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "analyze_logs/primerl/model.hpp"

namespace alog {
namespace {

TEST(OptDouble, BehavesLikeStdOptional) {
  OptDouble a;
  EXPECT_FALSE(a);
  EXPECT_FALSE(a.has_value());
  EXPECT_EQ(a.value_or(7.5), 7.5);
  EXPECT_THROW((void)a.value(), std::bad_optional_access);
  EXPECT_TRUE(a == std::nullopt);
  EXPECT_FALSE(std::optional<double>(a).has_value());

  a = 0.0;
  EXPECT_TRUE(a);
  EXPECT_EQ(*a, 0.0);
  EXPECT_TRUE(a == 0.0);
  EXPECT_FALSE(a == std::nullopt);
  EXPECT_EQ(std::optional<double>(a), std::optional<double>(0.0));

  a = -1.0;  // the -1.0 sentinel is a value like any other here
  EXPECT_EQ(a.value(), -1.0);
  a = std::nullopt;
  EXPECT_FALSE(a);

  OptDouble b = std::optional<double>(3.25), c = std::optional<double>();
  EXPECT_EQ(*b, 3.25);
  EXPECT_FALSE(c);
  EXPECT_TRUE(c == OptDouble());
  EXPECT_FALSE(b == c);
  EXPECT_TRUE(b == OptDouble(3.25));
  b.reset();
  EXPECT_FALSE(b);
}

TEST(OptDouble, EveryDoubleButTheReservedNaNIsAValue) {
  // Arithmetic on huge finite values can make inf and NaN; std::optional kept them as values,
  // and so does OptDouble (only one reserved NaN bit pattern means "absent").
  double huge = std::numeric_limits<double>::max();
  OptDouble inf = huge * 2, nan = (huge * 2) - (huge * 2), neg = -0.0;
  ASSERT_TRUE(inf);
  EXPECT_TRUE(std::isinf(*inf));
  ASSERT_TRUE(nan);
  EXPECT_TRUE(std::isnan(*nan));
  ASSERT_TRUE(neg);
  EXPECT_TRUE(std::signbit(*neg));
  OptDouble qnan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(qnan);
  EXPECT_EQ(sizeof(OptDouble), 8u);
}

TEST(Location, EightBytesUpToItsLimitsAndAnErrorBeyond) {
  EXPECT_EQ(sizeof(Location), 8u);
  Location zero;
  EXPECT_EQ(zero.file, 0u);
  EXPECT_EQ(zero.line, 0u);
  for (uint64_t line : {uint64_t{1}, uint64_t{12}, uint64_t{13}, (uint64_t{1} << 43) + 1}) {
    Location l{3, line};
    EXPECT_EQ(l.file, 3u);
    EXPECT_EQ(l.line, line);
  }
  Location odd{(1u << 19) + 1, 1};
  EXPECT_EQ(odd.file, (1u << 19) + 1);
  Location most{Location::kMaxFile, Location::kMaxLine};
  EXPECT_EQ(most.file, (1u << 20) - 1);
  EXPECT_EQ(most.line, (uint64_t{1} << 44) - 2);  // 2^44 - 1 marks an absent OptLocation
  // Never wrapped or clamped silently.
  EXPECT_THROW((Location{Location::kMaxFile + 1, 1}), std::length_error);
  EXPECT_THROW((Location{0, Location::kMaxLine + 1}), std::length_error);
  EXPECT_THROW((Location{0, UINT64_MAX}), std::length_error);
}

TEST(ServerBox, ReadsLikeAnOptionalAndCopiesDeep) {
  EXPECT_EQ(sizeof(ServerBox), 8u);
  ServerBox a;
  EXPECT_FALSE(a);
  ServerSide s;
  s.file = 2;
  s.rpc_ms = 12.5;
  a = s;
  ASSERT_TRUE(a);
  EXPECT_EQ(a->file, 2u);
  EXPECT_EQ((*a).rpc_ms, 12.5);
  ServerBox b = a;  // a deep copy
  b->rpc_ms = 99.0;
  EXPECT_EQ(a->rpc_ms, 12.5);
  EXPECT_EQ(b->rpc_ms, 99.0);
  const ServerSide* heap = &*b;
  ServerBox c = std::move(b);  // moves the pointer, no copy
  EXPECT_EQ(&*c, heap);
  c = a;  // assignment is deep too
  EXPECT_EQ(c->rpc_ms, 12.5);
  EXPECT_NE(&*c, &*a);
  c = std::nullopt;
  EXPECT_FALSE(c);
  UpdateReport u;
  u.server = s;
  UpdateReport v = u;
  EXPECT_NE(&*u.server, &*v.server);
  EXPECT_EQ(v.server->file, 2u);
  u.server.reset();
  EXPECT_FALSE(u.server);
  EXPECT_TRUE(v.server);
}

TEST(LastPhase, OneByteThatReadsLikeTheName) {
  EXPECT_EQ(sizeof(LastPhase), 1u);
  LastPhase p;
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(std::string_view(p), "");
  for (const char* name : {"client_to_server", "server_pre_rpc", "engine", "server_to_client"}) {
    p = name;
    EXPECT_FALSE(p.empty());
    EXPECT_TRUE(p == name);
    EXPECT_EQ(p.name(), name);
    EXPECT_EQ(std::string(std::string_view(p)), name);
  }
  EXPECT_FALSE(p == "engine");
  EXPECT_THROW(p = "nonsense", std::invalid_argument);
  EXPECT_EQ(p.name(), "server_to_client");  // unchanged by the failed assignment
}
TEST(OptLocation, EightBytesThatReadLikeAnOptionalLocation) {
  EXPECT_EQ(sizeof(OptLocation), 8u);
  OptLocation a;
  EXPECT_FALSE(a);
  EXPECT_FALSE(a.has_value());
  for (Location l : {Location{}, Location{0, 1}, Location{7, 12345}, Location{9, 77}, Location{Location::kMaxFile, Location::kMaxLine}}) {
    a = l;
    ASSERT_TRUE(a);
    EXPECT_EQ(a->file, l.file);
    EXPECT_EQ((*a).line, l.line);
  }
  a.reset();
  EXPECT_FALSE(a);
  a = Location{1, 2};
  a = std::nullopt;
  EXPECT_FALSE(a);
}

TEST(OptInt64, EightBytesThatReadLikeAnOptionalInt) {
  EXPECT_EQ(sizeof(OptInt64), 8u);
  OptInt64 s;
  EXPECT_FALSE(s);
  EXPECT_TRUE(s == std::nullopt);
  EXPECT_EQ(s.value_or(-1), -1);
  for (int64_t v : {int64_t{0}, int64_t{-7}, int64_t{42}, INT64_MAX, INT64_MIN + 1}) {
    s = v;
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, v);
    EXPECT_TRUE(s == v);
  }
  s.reset();
  EXPECT_FALSE(s);
  EXPECT_THROW(s = INT64_MIN, std::invalid_argument);
  EXPECT_FALSE(s);
}

}  // namespace
}  // namespace alog
