// Compact storage for the prime-rl model (primerl/model.hpp): types that hold what
// std::optional, std::vector and std::string would, in fewer bytes, because a report keeps one
// UpdateReport and BatchReport per weight update and generation batch (docs/PERFORMANCE.md,
// Memory). Each reads like the standard type it replaces, so code that reads the model uses it as
// plain data (`if (u.rpc_ms) use(*u.rpc_ms)`, `if (u.server) use(u.server->rpc_ms)`) and never sees the
// packing. Their limits are in docs/RELIABILITY.md, Limits.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace alog {

// An optional double in 8 bytes instead of std::optional's 16 (an update holds eleven of them).
//
// Invariant: "absent" is one reserved quiet-NaN bit pattern (kAbsentBits). Every other double,
// including the NaN that arithmetic can make from huge finite inputs (inf - inf), is a present
// value, so the semantics are std::optional<double>'s for every value the analysis can store:
// parsed values are finite (parse_finite rejects nan and inf) and IEEE arithmetic never yields
// this payload from non-NaN operands. Storing the reserved pattern itself (only possible by
// bit-casting it on purpose) means "absent"; debug builds assert it never happens.
class OptDouble {
 public:
  constexpr OptDouble() noexcept = default;
  constexpr OptDouble(std::nullopt_t) noexcept {}
  constexpr OptDouble(double v) noexcept : bits_(std::bit_cast<uint64_t>(v)) { assert(bits_ != kAbsentBits); }
  constexpr OptDouble(const std::optional<double>& v) noexcept : OptDouble(v ? OptDouble(*v) : OptDouble()) {}

  constexpr OptDouble& operator=(std::nullopt_t) noexcept {
    bits_ = kAbsentBits;
    return *this;
  }
  constexpr OptDouble& operator=(double v) noexcept { return *this = OptDouble(v); }

  constexpr bool has_value() const noexcept { return bits_ != kAbsentBits; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  // Like std::optional: reading an absent value is a bug (asserted in debug builds).
  constexpr double operator*() const noexcept {
    assert(has_value());
    return std::bit_cast<double>(bits_);
  }
  double value() const {
    if (!has_value()) throw std::bad_optional_access();
    return std::bit_cast<double>(bits_);
  }
  constexpr double value_or(double other) const noexcept { return has_value() ? std::bit_cast<double>(bits_) : other; }
  constexpr void reset() noexcept { bits_ = kAbsentBits; }
  constexpr operator std::optional<double>() const noexcept {
    return has_value() ? std::optional<double>(std::bit_cast<double>(bits_)) : std::nullopt;
  }

  // std::optional's comparisons: absent == absent, present values compare as doubles.
  friend constexpr bool operator==(const OptDouble& a, const OptDouble& b) noexcept {
    return a.has_value() == b.has_value() && (!a.has_value() || *a == *b);
  }
  friend constexpr bool operator==(const OptDouble& a, double b) noexcept { return a.has_value() && *a == b; }
  friend constexpr bool operator==(const OptDouble& a, std::nullopt_t) noexcept { return !a.has_value(); }

 private:
  static constexpr uint64_t kAbsentBits = 0x7ff8'a10c'0000'0001ULL;  // quiet NaN, payload "alog"
  uint64_t bits_ = kAbsentBits;
};
static_assert(sizeof(OptDouble) == 8);

// A place in an input in 8 bytes (an update holds up to five): the input's index in 20 bits and
// the 1-based line in 44. Limits: inputs 0 .. 1,048,575 and lines up to 2^44 - 2 (17.6 T lines, a
// file of at least 16 TiB; 2^44 - 1 marks an absent OptLocation); a place beyond them throws
// std::length_error (the run ends with an error) rather than being stored wrong. See
// docs/RELIABILITY.md, Limits.
struct Location {
  static constexpr uint64_t kMaxFile = (uint64_t{1} << 20) - 1;
  static constexpr uint64_t kMaxLine = (uint64_t{1} << 44) - 2;
  static constexpr uint64_t kFileMask = (uint64_t{1} << 20) - 1, kLineMask = (uint64_t{1} << 44) - 1;

  constexpr Location() noexcept = default;
  // (The masks only keep -Wconversion quiet: a value they would change throws.)
  constexpr Location(uint64_t f, uint64_t l)
      : file(static_cast<uint32_t>(f & kFileMask)), line(l & kLineMask) {
    if (f > kMaxFile || l > kMaxLine)
      throw std::length_error(f > kMaxFile ? "more than 1,048,576 inputs hold weight updates (the limit)"
                                           : "a line number beyond 2^44 - 2 (the limit)");
  }

  // Read as `loc.file` / `loc.line` (bit-fields: copy them, never take their address).
  uint32_t file : 20 = 0;  // shares the 8 bytes with line (the static_assert holds it)
  uint64_t line : 44 = 0;
};
static_assert(sizeof(Location) == 8);

// An optional Location in 8 bytes: absent is the line 2^44 - 1, which no Location holds. Reads
// like std::optional<Location> (`if (l)`, `*l`, `l->line`, `reset()`), read-only through * and ->.
class OptLocation {
 public:
  constexpr OptLocation() noexcept { v_.line = kAbsentLine; }
  constexpr OptLocation(std::nullopt_t) noexcept : OptLocation() {}
  constexpr OptLocation(const Location& l) noexcept : v_(l) {}
  constexpr OptLocation& operator=(std::nullopt_t) noexcept { return *this = OptLocation(); }

  constexpr bool has_value() const noexcept { return v_.line != kAbsentLine; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr const Location& operator*() const noexcept {
    assert(has_value());
    return v_;
  }
  constexpr const Location* operator->() const noexcept { return &**this; }
  constexpr void reset() noexcept { v_.line = kAbsentLine; }

 private:
  static constexpr uint64_t kAbsentLine = Location::kMaxLine + 1;
  Location v_;
};
static_assert(sizeof(OptLocation) == 8);

// An optional int64_t in 8 bytes (an update's step): absent is INT64_MIN, which steps (parsed as
// non-negative) never are; storing INT64_MIN throws std::invalid_argument.
class OptInt64 {
 public:
  constexpr OptInt64() noexcept = default;
  constexpr OptInt64(std::nullopt_t) noexcept {}
  constexpr OptInt64(int64_t v) : v_(v) {
    if (v == kAbsent) throw std::invalid_argument("OptInt64 cannot hold INT64_MIN");
  }
  constexpr OptInt64& operator=(std::nullopt_t) noexcept {
    v_ = kAbsent;
    return *this;
  }

  constexpr bool has_value() const noexcept { return v_ != kAbsent; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr int64_t operator*() const noexcept {
    assert(has_value());
    return v_;
  }
  constexpr int64_t value_or(int64_t other) const noexcept { return has_value() ? v_ : other; }
  constexpr void reset() noexcept { v_ = kAbsent; }
  friend constexpr bool operator==(const OptInt64& a, int64_t b) noexcept { return a.has_value() && a.v_ == b; }
  friend constexpr bool operator==(const OptInt64& a, std::nullopt_t) noexcept { return !a.has_value(); }

 private:
  static constexpr int64_t kAbsent = INT64_MIN;
  int64_t v_ = kAbsent;
};
static_assert(sizeof(OptInt64) == 8);

// An optional T kept out of line: 8 bytes in the owner when absent instead of the whole T (an
// update from an orchestrator-only log has no server half). Copies are deep, moves move the
// pointer; it reads like std::optional<T> (`if (b)`, `b->x`, `*b`, `b = t`, `b = std::nullopt`).
template <class T>
class OutOfLine {
 public:
  OutOfLine() noexcept = default;
  OutOfLine(std::nullopt_t) noexcept {}
  OutOfLine(const T& v) : p_(std::make_unique<T>(v)) {}
  OutOfLine(const OutOfLine& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  OutOfLine(OutOfLine&&) noexcept = default;
  OutOfLine& operator=(const OutOfLine& o) {
    if (this != &o) *this = o.p_ ? OutOfLine(*o.p_) : OutOfLine();
    return *this;
  }
  OutOfLine& operator=(OutOfLine&&) noexcept = default;
  OutOfLine& operator=(const T& v) {
    if (p_) *p_ = v;
    else p_ = std::make_unique<T>(v);
    return *this;
  }
  OutOfLine& operator=(std::nullopt_t) noexcept {
    p_.reset();
    return *this;
  }

  bool has_value() const noexcept { return p_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  // Like std::optional: dereferencing an empty box is a bug (asserted in debug builds).
  const T& operator*() const noexcept {
    assert(p_);
    return *p_;
  }
  T& operator*() noexcept {
    assert(p_);
    return *p_;
  }
  const T* operator->() const noexcept { return &**this; }
  T* operator->() noexcept { return &**this; }
  void reset() noexcept { p_.reset(); }

 private:
  std::unique_ptr<T> p_;
};

// Where an incomplete update stopped (set by correlate()): one of four fixed names, or none for a
// complete update, in 1 byte instead of a 32-byte std::string. Reads like the string it replaced
// (`empty()`, `== "engine"`, converts to std::string_view); assigning any other name throws
// std::invalid_argument.
class LastPhase {
 public:
  LastPhase() noexcept = default;
  LastPhase(std::string_view name) : id_(parse(name)) {}
  LastPhase(const char* name) : LastPhase(std::string_view(name)) {}

  bool empty() const noexcept { return id_ == 0; }
  std::string_view name() const noexcept { return kNames[id_]; }
  operator std::string_view() const noexcept { return name(); }
  friend bool operator==(const LastPhase& a, std::string_view b) noexcept { return a.name() == b; }

 private:
  static constexpr std::string_view kNames[] = {"", "client_to_server", "server_pre_rpc", "engine", "server_to_client"};
  static uint8_t parse(std::string_view name) {
    for (uint8_t i = 0; i < std::size(kNames); ++i)
      if (kNames[i] == name) return i;
    throw std::invalid_argument("not a last phase: " + std::string(name));
  }
  uint8_t id_ = 0;
};

}  // namespace alog
