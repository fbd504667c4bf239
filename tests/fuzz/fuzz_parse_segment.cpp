// Fuzzes the line parser: parse::parse_segment (ANSI stripping, JSON-lines records, the prefix
// table, tags, trace ids, operations and key=value fields), strip_prefix and parse_message on
// arbitrary bytes.
//
// Beyond "no crash, no sanitizer report" it checks what the rest of the program relies on: an
// event's numbers are finite, non-negative except `t` and the -1.0 sentinel, within the range the
// parser promises, its required fields are present, and the result does not depend on what the
// reused scratch buffers held before. Unreadable bytes dropped from before a tag are counted only
// on a line read as tagged, never more than the segment holds; first_tag finds a tag.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "analyze_logs/event.hpp"
#include "analyze_logs/parse.hpp"

using namespace alog;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_parse_segment invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond) \
  do {              \
    if (!(cond)) fail(#cond); \
  } while (0)

bool inside(std::string_view inner, std::string_view outer) {
  return inner.empty() ||
         (inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size());
}

void check_event(const Event& ev) {
  CHECK((ev.sentinel & ~ev.present) == 0);
  CHECK(ev.trace.len <= 16);
  if (op_tag(ev.op) == "weights") CHECK(!ev.trace.empty());
  CHECK(ev.tod >= -1 && ev.tod <= 86400);
  for (int i = 0; i < kFieldCount; ++i) {
    auto f = static_cast<Field>(i);
    if (!ev.has(f)) continue;
    double x = ev.get(f);
    CHECK(std::isfinite(x));
    CHECK(std::fabs(x) <= 1e15);  // the parser's promise: sums and int casts cannot overflow
    if (ev.is_sentinel(f)) {
      CHECK(f == Field::rpc_ms || f == Field::queue_ms);
      CHECK(x == -1.0);
    } else if (f != Field::t) {
      CHECK(x >= 0 && !std::signbit(x));
    }
  }
  switch (ev.op) {
    case Op::client_done:
      CHECK(ev.has(Field::wall_ms) && ev.has(Field::rpc_ms) && ev.has(Field::queue_ms));
      CHECK(ev.sample(Field::wall_ms));
      break;
    case Op::rpc_done: CHECK(ev.has(Field::t) && ev.has(Field::rpc_ms)); break;
    case Op::client_send: case Op::server_recv: case Op::rpc_start: CHECK(ev.has(Field::t)); break;
    case Op::write_done: CHECK(ev.has(Field::write_ms)); break;
    case Op::wait_done: CHECK(ev.has(Field::wait_ms)); break;
    case Op::batch_done: CHECK(ev.has(Field::dur_ms)); break;
    case Op::rollout: CHECK(ev.has(Field::trunc_pct) || ev.has(Field::staleness)); break;
    default: break;
  }
}

bool same(const Event& a, const Event& b) {
  return a.op == b.op && a.rpc_kind == b.rpc_kind && a.has_path == b.has_path && a.sentinel == b.sentinel &&
         a.present == b.present && a.tod == b.tod && a.mmdd == b.mmdd && a.path_step == b.path_step &&
         a.trace == b.trace && std::memcmp(a.v.data(), b.v.data(), sizeof(double) * kFieldCount) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view seg(reinterpret_cast<const char*>(data), size);

  // Fresh scratch.
  parse::Scratch fresh;
  Event a;
  parse::Result ra = parse::parse_segment(seg, a, fresh);
  CHECK(inside(ra.message, seg) || inside(ra.message, fresh.ansi) ||
        inside(ra.message, fresh.json) || inside(ra.message, fresh.clean));
  CHECK(ra.unreadable <= size);
  if (ra.unreadable) CHECK(ra.outcome != parse::Outcome::none);
  if (ra.outcome == parse::Outcome::event) check_event(a);
  if (ra.outcome == parse::Outcome::noise) CHECK(a.trace.empty());
  if (ra.outcome == parse::Outcome::skipped) CHECK(static_cast<int>(ra.reason) < kSkipReasonCount);

  // Scratch dirtied by another (ANSI-coloured, JSON) segment first: same answer.
  parse::Scratch dirty;
  Event junk;
  std::string other = "\x1b[1m{\"message\": \"[gen] batch.done dur_ms=5 \x1b[0m\"}" + std::string(seg.rbegin(), seg.rend());
  parse::parse_segment(other, junk, dirty);
  parse::parse_segment("\x1b[2m12:00:00\x1b[0m    INFO [ckpt] write.done write_ms=1", junk, dirty);
  Event b;
  parse::Result rb = parse::parse_segment(seg, b, dirty);
  CHECK(ra.outcome == rb.outcome);
  if (ra.outcome == parse::Outcome::skipped) CHECK(ra.reason == rb.reason);
  if (ra.outcome == parse::Outcome::event) CHECK(same(a, b));
  CHECK(ra.unreadable == rb.unreadable);

  // The lower layers alone, on the raw bytes.
  parse::Prefix p = parse::strip_prefix(seg);
  CHECK(inside(p.message, seg));
  CHECK(p.tod >= -1 && p.tod <= 86400);
  CHECK(!p.shape.empty());
  Event c;
  parse::Result rc = parse::parse_message(seg, c);
  CHECK(inside(rc.message, seg));
  if (rc.outcome == parse::Outcome::event) check_event(c);

  // The hot path's byte test never reads before the buffer.
  for (size_t i = 0; i < size; ++i)
    if (seg[i] == ']') (void)parse::closes_tag(seg.data(), seg.data() + i);
  size_t tag = parse::first_tag(seg);
  if (tag != std::string_view::npos) {
    std::string_view t = seg.substr(tag);
    CHECK(t.starts_with("[weights]") || t.starts_with("[ckpt]") || t.starts_with("[gen]") ||
          t.starts_with("[rollout]"));
  }
  return 0;
}
