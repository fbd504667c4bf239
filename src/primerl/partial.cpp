// A prime-rl input as a partial holds it (`analyze-logs partial`): the scan's counts and events,
// packed. Integers are LEB128 varints (signed ones zig-zagged), a value is written only for the
// fields the event has, and the messages follow in one string: a few tens of bytes per tagged
// line before the partial's compression. Reading checks every length and code against the end of
// the bytes: a corrupt payload is an error naming what was wrong, never a crash.
#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

#include "analyze_logs/primerl/analyzer.hpp"

namespace alog {

namespace {

class Writer {
 public:
  Writer() : s_(own_) {}
  explicit Writer(std::string& into) : s_(into) {}  // appends to `into`
  void u(uint64_t v) {
    while (v >= 0x80) {
      s_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    s_.push_back(static_cast<char>(v));
  }
  void i(int64_t v) { u((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void str(std::string_view v) {
    u(v.size());
    s_.append(v);
  }
  void f64(double d) {
    char b[8];
    std::memcpy(b, &d, 8);
    s_.append(b, 8);
  }
  std::string take() { return std::move(s_); }

 private:
  std::string own_;
  std::string& s_;
};

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  uint64_t u() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= s_.size()) fail("a number runs past the end");
      auto b = static_cast<uint8_t>(s_[at_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("a number is longer than 64 bits");
  }
  int64_t i() {
    uint64_t z = u();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  template <typename T>
  T bounded(uint64_t max, const char* what) {
    uint64_t v = u();
    if (v > max) fail(fmt::format("{} {} is out of range", what, v));
    return static_cast<T>(v);
  }
  template <typename T>
  T signed_in(int64_t lo, int64_t hi, const char* what) {
    int64_t v = i();
    if (v < lo || v > hi) fail(fmt::format("{} {} is out of range", what, v));
    return static_cast<T>(v);
  }
  std::string_view str() {
    uint64_t n = u();
    if (n > s_.size() - at_) fail("a string runs past the end");
    std::string_view v = s_.substr(at_, n);
    at_ += n;
    return v;
  }
  double f64() {
    if (s_.size() - at_ < 8) fail("a value runs past the end");
    double d;
    std::memcpy(&d, s_.data() + at_, 8);
    at_ += 8;
    return d;
  }
  bool done() const { return at_ == s_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(fmt::format("recorded prime-rl input, byte {}: {}", at_, why));
  }

 private:
  std::string_view s_;
  size_t at_ = 0;
};

constexpr uint64_t kFormat = 1;  // of this payload; the partial's own version covers the rest

void write_event(Writer& w, const Event& e) {
  w.u(static_cast<uint64_t>(e.op));
  w.u(static_cast<uint64_t>(e.rpc_kind));
  w.u(e.has_path ? 1 : 0);
  w.u(e.tod_digits);
  w.u(e.sentinel);
  w.u(e.present);
  w.u(e.line);
  w.i(e.tod);
  w.i(e.mmdd);
  w.i(e.tod_ms);
  w.i(e.path_step);
  w.u(e.trace.value);
  w.u(e.trace.len);
  w.u(e.msg_len);
  for (int f = 0; f < kFieldCount; ++f)
    if (e.present & (1u << f)) w.f64(e.v[static_cast<size_t>(f)]);
}

// Decodes every event; `msg_off` runs over the messages in order and must end at their size.
void read_events(std::string_view events, uint64_t count, std::string_view messages,
                 const std::function<void(const Event&, std::string_view)>& f) {
  Reader rd(events);
  uint64_t msg_end = 0;
  for (uint64_t k = 0; k < count; ++k) {
    Event e;
    e.op = rd.bounded<Op>(kOpCount - 1, "operation");
    e.rpc_kind = rd.bounded<RpcKind>(static_cast<uint64_t>(RpcKind::other), "rpc kind");
    e.has_path = rd.bounded<int>(1, "path flag") == 1;
    e.tod_digits = rd.bounded<uint8_t>(9, "fraction digits");
    e.sentinel = rd.bounded<uint16_t>(UINT16_MAX, "sentinel mask");
    e.present = rd.bounded<uint32_t>((1u << kFieldCount) - 1, "field mask");
    e.line = rd.u();
    e.tod = rd.signed_in<int32_t>(-1, 86400 * 2, "time of day");
    e.mmdd = rd.signed_in<int16_t>(-1, 1231, "date");
    e.tod_ms = rd.signed_in<int16_t>(0, 999, "milliseconds");
    e.path_step = rd.i();
    e.trace.value = rd.u();
    e.trace.len = rd.bounded<uint8_t>(16, "trace id length");
    e.msg_len = rd.bounded<uint32_t>(messages.size() - msg_end, "message length");
    e.msg_off = static_cast<uint32_t>(msg_end);
    msg_end += e.msg_len;
    for (int fi = 0; fi < kFieldCount; ++fi)
      if (e.present & (1u << fi)) e.v[static_cast<size_t>(fi)] = rd.f64();
    f(e, messages.substr(e.msg_off, e.msg_len));
  }
  if (!rd.done()) rd.fail("bytes follow the last event");
  if (msg_end != messages.size())
    rd.fail(fmt::format("the messages hold {} bytes where the events name {}", messages.size(),
                        msg_end));
}

}  // namespace

void add_recorded(RecordedInput& r, const Event& ev, std::string_view msg) {
  if (r.messages.size() + msg.size() > UINT32_MAX)
    throw std::runtime_error(
        fmt::format("{}: more than 4 GiB of tagged messages in one input", r.path));
  Event e = ev;
  e.msg_off = static_cast<uint32_t>(r.messages.size());
  e.msg_len = static_cast<uint32_t>(msg.size());
  r.messages.append(msg);
  Writer w(r.events);
  write_event(w, e);
  ++r.event_count;
}

void RecordedInput::for_each(const std::function<void(const Event&, std::string_view)>& f) const {
  read_events(events, event_count, messages, f);
}

std::vector<uint8_t> pack_recorded(const RecordedInput& r) {
  Writer w;
  w.u(kFormat);
  w.str(r.path);
  w.str(r.item);
  w.u((r.from_folder ? 1u : 0u) | (r.unreadable ? 2u : 0u));
  w.str(r.error);
  w.str(r.compression);
  const scan::FileCounts& c = r.counts;
  w.u(c.bytes);
  w.u(c.lines);
  w.u(c.events);
  w.u(c.noise);
  w.u(c.step_lines);
  for (uint64_t n : c.skipped_by_reason) w.u(n);
  w.u(c.skip_samples.size());
  for (const auto& s : c.skip_samples) {
    w.u(s.line);
    w.u(static_cast<uint64_t>(s.reason));
  }
  w.u(c.unreadable_bytes);
  w.u(c.unreadable_lines);
  w.u(c.unreadable_samples.size());
  for (uint64_t l : c.unreadable_samples) w.u(l);
  w.u(c.partial ? 1 : 0);
  w.str(c.error);
  w.u(r.event_count);
  w.u(r.events.size());
  // The events and messages are copied once, straight into the bytes handed back.
  std::string head = w.take();
  Writer tail;
  tail.u(r.messages.size());
  std::string mid = tail.take();
  std::vector<uint8_t> out;
  out.reserve(head.size() + r.events.size() + mid.size() + r.messages.size());
  auto put = [&](std::string_view v) { out.insert(out.end(), v.begin(), v.end()); };
  put(head);
  put(r.events);
  put(mid);
  put(r.messages);
  return out;
}

RecordedInput unpack_recorded(std::string_view bytes) {
  Reader rd(bytes);
  RecordedInput r;
  if (uint64_t f = rd.u(); f != kFormat)
    rd.fail(fmt::format("format {} (this build reads {})", f, kFormat));
  r.path = rd.str();
  r.item = rd.str();
  auto flags = rd.bounded<unsigned>(3, "flags");
  r.from_folder = flags & 1;
  r.unreadable = flags & 2;
  r.error = rd.str();
  r.compression = rd.str();
  scan::FileCounts& c = r.counts;
  c.bytes = rd.u();
  c.lines = rd.u();
  c.events = rd.u();
  c.noise = rd.u();
  c.step_lines = rd.u();
  for (auto& n : c.skipped_by_reason) n = rd.u();
  auto samples = rd.bounded<size_t>(bytes.size(), "skip sample count");
  for (size_t k = 0; k < samples; ++k) {
    uint64_t line = rd.u();
    c.skip_samples.push_back({line, rd.bounded<SkipReason>(kSkipReasonCount - 1, "skip reason")});
  }
  c.unreadable_bytes = rd.u();
  c.unreadable_lines = rd.u();
  auto unreadable = rd.bounded<size_t>(bytes.size(), "unreadable sample count");
  for (size_t k = 0; k < unreadable; ++k) c.unreadable_samples.push_back(rd.u());
  c.partial = rd.bounded<int>(1, "partial flag") == 1;
  c.error = rd.str();
  r.event_count = rd.bounded<uint64_t>(bytes.size(), "event count");  // each takes a byte or more
  r.events = rd.str();
  r.messages = rd.str();
  if (!rd.done()) rd.fail("bytes follow the end");
  try {
    r.for_each([](const Event&, std::string_view) {});
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", r.path, e.what()));
  }
  return r;
}

}  // namespace alog
