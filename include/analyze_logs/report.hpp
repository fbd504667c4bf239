// The Report: everything the analyses found, as plain data. Writers (Markdown, JSON, text,
// stats files, trace) read only this; analyses only fill it. A new output touches only writers.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/event.hpp"
#include "analyze_logs/scan.hpp"
#include "analyze_logs/stats.hpp"
#include "analyze_logs/thresholds.hpp"

namespace alog {

enum class Role { orchestrator, inference, trainer, unknown };
std::string_view role_name(Role r);

struct InputReport {
  std::string path;
  Role role = Role::unknown;
  std::string compression = "none";
  scan::FileCounts counts;
  bool unreadable = false;  // could not be opened (inside a run folder: skipped, not fatal)
  std::string error;        // why unreadable, or why partial
};

struct MetricReport {
  std::string name;  // "weights.queue_ms"
  std::string unit;  // "ms", "%", ""
  Summary stats;
  Status status = Status::none;
};

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

// A list of indices (updates <-> generation batches) in 16 bytes that holds up to two without a
// heap allocation: most updates overlap one or two batches and most batches one or two updates,
// where a std::vector<uint32_t> took 24 bytes plus a 32-byte heap block. Only what the code needs
// of std::vector: push_back, size, empty, [], iteration, ==, assignment from a braced list.
class IndexList {
 public:
  using value_type = uint32_t;
  using const_iterator = const uint32_t*;

  IndexList() noexcept {}
  IndexList(std::initializer_list<uint32_t> v) { assign(v.begin(), v.end()); }
  IndexList(const IndexList& o) { assign(o.begin(), o.end()); }
  IndexList(IndexList&& o) noexcept { take(o); }
  IndexList& operator=(const IndexList& o) {
    if (this != &o) {
      size_ = 0;
      assign(o.begin(), o.end());
    }
    return *this;
  }
  IndexList& operator=(IndexList&& o) noexcept {
    if (this != &o) {
      free();
      take(o);
    }
    return *this;
  }
  IndexList& operator=(std::initializer_list<uint32_t> v) {
    size_ = 0;
    assign(v.begin(), v.end());
    return *this;
  }
  ~IndexList() { free(); }

  void push_back(uint32_t v) {
    if (size_ == cap_) grow();
    data()[size_++] = v;
  }
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  uint32_t operator[](size_t i) const noexcept {
    assert(i < size_);
    return data()[i];
  }
  const uint32_t* begin() const noexcept { return data(); }
  const uint32_t* end() const noexcept { return data() + size_; }
  friend bool operator==(const IndexList& a, const IndexList& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const IndexList& a, const std::vector<uint32_t>& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  static constexpr uint32_t kInline = 2;
  bool on_heap() const noexcept { return cap_ > kInline; }
  uint32_t* data() noexcept { return on_heap() ? heap_ : inline_; }
  const uint32_t* data() const noexcept { return on_heap() ? heap_ : inline_; }
  void assign(const uint32_t* b, const uint32_t* e) {
    for (; b != e; ++b) push_back(*b);
  }
  void grow() {
    if (cap_ > UINT32_MAX / 2) throw std::length_error("IndexList: too many indices");
    uint32_t cap = cap_ * 2;
    auto* p = new uint32_t[cap];
    // An indexed loop, not std::copy: GCC 12 at -O1 under ASan sees the inline array of the union
    // in the memmove std::copy becomes and warns of bounds it cannot know (-Warray-bounds).
    const uint32_t* from = data();
    for (uint32_t i = 0; i < size_; ++i) p[i] = from[i];
    free();
    heap_ = p;
    cap_ = cap;
  }
  void free() noexcept {
    if (on_heap()) delete[] heap_;
    cap_ = kInline;
  }
  void take(IndexList& o) noexcept {  // *this holds no heap block
    size_ = o.size_;
    cap_ = o.cap_;
    if (o.on_heap()) heap_ = o.heap_;
    else std::copy(o.inline_, o.inline_ + kInline, inline_);
    o.size_ = 0;
    o.cap_ = kInline;
  }

  uint32_t size_ = 0, cap_ = kInline;
  union {
    uint32_t inline_[kInline] = {};
    uint32_t* heap_;
  };
};
static_assert(sizeof(IndexList) == 16);

// Server-side half of a weight update, from one inference log.
struct ServerSide {
  uint32_t file = 0;
  RpcKind kind = RpcKind::none;
  OptDouble recv_t, rpc_start_t, rpc_done_t, rpc_ms;
  OptLocation recv_at, start_at, done_at;
};

// An optional ServerSide kept out of line: 8 bytes in an update that has no server half (an
// orchestrator-only log) instead of the whole ServerSide. Copies are deep, moves move the pointer;
// it reads like std::optional<ServerSide> (`if (u.server)`, `u.server->rpc_ms`, `*u.server`).
class ServerBox {
 public:
  ServerBox() noexcept = default;
  ServerBox(std::nullopt_t) noexcept {}
  ServerBox(const ServerSide& s) : p_(std::make_unique<ServerSide>(s)) {}
  ServerBox(const ServerBox& o) : p_(o.p_ ? std::make_unique<ServerSide>(*o.p_) : nullptr) {}
  ServerBox(ServerBox&&) noexcept = default;
  ServerBox& operator=(const ServerBox& o) {
    if (this != &o) *this = o.p_ ? ServerBox(*o.p_) : ServerBox();
    return *this;
  }
  ServerBox& operator=(ServerBox&&) noexcept = default;
  ServerBox& operator=(const ServerSide& s) {
    if (p_) *p_ = s;
    else p_ = std::make_unique<ServerSide>(s);
    return *this;
  }
  ServerBox& operator=(std::nullopt_t) noexcept {
    p_.reset();
    return *this;
  }

  bool has_value() const noexcept { return p_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  // Like std::optional: dereferencing an empty box is a bug (asserted in debug builds).
  const ServerSide& operator*() const noexcept {
    assert(p_);
    return *p_;
  }
  ServerSide& operator*() noexcept {
    assert(p_);
    return *p_;
  }
  const ServerSide* operator->() const noexcept { return &**this; }
  ServerSide* operator->() noexcept { return &**this; }
  void reset() noexcept { p_.reset(); }

 private:
  std::unique_ptr<ServerSide> p_;
};

struct Phases {
  OptDouble client_to_server_ms, server_pre_rpc_ms, engine_ms, server_to_client_ms;
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

// Members ordered so that the small ones share the last 8 bytes (no padding between members).
struct UpdateReport {
  TraceId trace;
  OptInt64 step;
  OptDouble wall_ms, rpc_ms, queue_ms;  // rpc/queue empty for the -1.0 sentinel
  double send_t = 0;
  Location send_at;
  OptLocation done_at;
  ServerBox server;  // joined by trace id (correlation); empty when no server log has the id
  Phases phases;
  IndexList overlapping_batches;  // indices into Report::batches
  int32_t send_tod = -1;
  bool reload = false;
  bool complete = false;
  LastPhase last_phase;  // for incomplete updates
};

struct BatchReport {
  uint32_t file = 0;
  uint64_t start_line = 0, done_line = 0;  // 0 when that side is missing
  int32_t start_tod = -1, done_tod = -1;
  OptDouble dur_ms, inflight_start, inflight_done;
  IndexList updates;  // indices into Report::updates that ran during the batch
};

// A single-valued event kept for evidence and timelines: ckpt waits and writes, rollout
// truncation and staleness (a few per training step, so cheap to keep).
// (Members ordered for 32 bytes, not 40; the constructor keeps the order PointEvent{file, line,
// tod, value, step}.)
struct PointEvent {
  PointEvent() noexcept = default;
  PointEvent(uint32_t f, uint64_t l, int32_t t, double v, int64_t s) noexcept
      : line(l), value(v), step(s), file(f), tod(t) {}

  uint64_t line = 0;
  double value = 0;
  int64_t step = -1;  // target_step / step / current_step when the line has one
  uint32_t file = 0;
  int32_t tod = -1;
};
static_assert(sizeof(PointEvent) == 32);

struct Evidence {
  uint32_t file = 0;
  uint64_t line = 0;
  std::string note;  // "queue_ms=30333.4"
};

enum class Severity { warning, critical };
std::string_view severity_name(Severity s);

struct Diagnosis {
  std::string id;
  Severity severity = Severity::warning;
  std::string summary;
  std::vector<Evidence> evidence;
  std::string fix;
  std::vector<std::pair<std::string, double>> thresholds;
};

struct ExpectResult {
  std::string expr;
  bool passed = false;
  std::optional<double> actual;
  std::string message;
};

struct ClockEstimate {
  uint32_t file = 0;  // the server's log
  double offset_s = 0;        // server t - client t
  double lower_s = 0, upper_s = 0;
  size_t updates_used = 0;
  std::string method;  // "bounds", "least violation (bounds conflict)", "none"
};

// Inconsistent sequences: never fatal, always counted.
struct Anomalies {
  uint64_t done_without_send = 0;
  uint64_t duplicate_done = 0;
  uint64_t reused_trace_id = 0;
  uint64_t rpc_done_without_start = 0;
  uint64_t batch_done_without_start = 0;
  uint64_t untracked_updates = 0;  // beyond --max-updates
  // Also beyond --max-updates (each kind counted on its own): gen batches, and ckpt/rollout
  // events of one metric. Their samples are in the statistics; they are not listed.
  uint64_t untracked_batches = 0;
  uint64_t untracked_point_events = 0;
};

// A server-side update with no client side (another client, or the orchestrator log cut at the
// start): listed, not dropped.
struct ServerOnlyUpdate {
  TraceId trace;
  ServerSide server;
};

struct Report {
  int schema = 1;
  std::string tool_version;
  int async_level = 2;
  Thresholds thresholds{2};
  std::vector<InputReport> inputs;
  std::vector<MetricReport> metrics;
  // Deques, not vectors: they grow without a reallocation peak (old and new arrays at once) and
  // indices stay valid. Nothing may rely on contiguity.
  std::deque<UpdateReport> updates;
  std::vector<ServerOnlyUpdate> server_only;
  std::deque<BatchReport> batches;
  // "ckpt.wait_ms", "ckpt.write_ms", "rollout.trunc_pct", "rollout.staleness" -> events in
  // input order (deques, like updates: they grow with the input).
  std::vector<std::pair<std::string, std::deque<PointEvent>>> point_events;
  std::vector<Diagnosis> diagnoses;
  std::vector<ExpectResult> expectations;
  std::vector<ClockEstimate> clocks;
  Anomalies anomalies;
  uint64_t total_events() const;
  const MetricReport* metric(std::string_view name) const;
  const std::deque<PointEvent>* points(std::string_view metric) const;
  std::string file_name(uint32_t file) const;
};

}  // namespace alog
