#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"

namespace alog {
namespace {
std::string ms(const std::optional<double>& v) { return v ? fixed(*v) + " ms" : "unknown"; }
std::string at(const Report& r, const Location& l) { return fmt::format("{}:{}", printable(r.file_name(l.file)), l.line); }

void server_lines(std::string& o, const Report& r, const ServerSide& s) {
  // On the client's clock: a time when the offset is measured, the interval when it is a range.
  const ClockEstimate* c = clock_for(r, s.file);
  auto client = [&](double t) {
    if (!c || c->updates_used == 0) return std::string();
    if (c->measured()) return fmt::format(" (client clock {:.6f})", t - c->offset_s);
    return fmt::format(" (client clock {:.3f}–{:.3f})", t - c->upper_s, t - c->lower_s);
  };
  if (s.recv_at) fmt::format_to(std::back_inserter(o), "  {:<28} server.recv  t={}{}\n", at(r, *s.recv_at), fmt::format("{}", *s.recv_t), client(*s.recv_t));
  if (s.start_at) fmt::format_to(std::back_inserter(o), "  {:<28} rpc.start    t={}{}\n", at(r, *s.start_at), fmt::format("{}", *s.rpc_start_t), client(*s.rpc_start_t));
  if (s.done_at)
    fmt::format_to(std::back_inserter(o), "  {:<28} rpc.done     t={} rpc_ms={}{}\n", at(r, *s.done_at), fmt::format("{}", *s.rpc_done_t),
                   s.rpc_ms ? fixed(*s.rpc_ms) : "?", client(*s.rpc_done_t));
}
}  // namespace

std::optional<std::string> trace_view(const Report& r, std::string_view prefix, std::string& error) {
  std::set<std::string> ids;
  for (const auto& u : r.updates)
    if (u.trace.str().starts_with(prefix)) ids.insert(u.trace.str());
  for (const auto& s : r.server_only)
    if (s.trace.str().starts_with(prefix)) ids.insert(s.trace.str());
  if (ids.empty()) {
    error = fmt::format("no weight update with a trace id starting with '{}' in the given logs", printable(prefix));
    return std::nullopt;
  }
  if (ids.size() > 1) {
    // `--trace 1` on a long run matches thousands: the first few say what to type next.
    constexpr size_t kShown = 20;
    error = fmt::format("trace id prefix '{}' is ambiguous: {} trace ids start with it; give more "
                        "of the id:",
                        printable(prefix), ids.size());
    size_t n = 0;
    for (const auto& id : ids) {
      if (n++ == kShown) break;
      error += "\n  " + id;
    }
    if (ids.size() > kShown)
      error += fmt::format("\n  ... and {} more ({} match)", ids.size() - kShown, ids.size());
    return std::nullopt;
  }
  const std::string id = *ids.begin();
  std::string o;
  auto out = std::back_inserter(o);
  for (const auto& u : r.updates) {
    if (u.trace.str() != id) continue;
    fmt::format_to(out, "trace {}  {}{}  {}\n", id, u.reload ? "reload" : "update",
                   u.step ? fmt::format(" step {}", *u.step) : "",
                   u.complete ? "complete" : fmt::format("INCOMPLETE: {}", describe_last_phase(u.last_phase)));
    fmt::format_to(out, "  {:<28} client.send  t={}\n", at(r, u.send_at), fmt::format("{}", u.send_t));
    if (u.server) server_lines(o, r, *u.server);
    if (u.done_at)
      fmt::format_to(out, "  {:<28} client.done  wall_ms={} rpc_ms={} queue_ms={}\n", at(r, *u.done_at), ms(u.wall_ms),
                     u.rpc_ms ? ms(u.rpc_ms) : "-1.0 (not reported)", u.queue_ms ? ms(u.queue_ms) : "-1.0 (not reported)");
    const auto& p = u.phases;
    auto ranges = cross_host_ranges(r, u);
    auto cross = [&](const std::optional<double>& v, const std::optional<MsRange>& rg) {
      if (v || !rg) return ms(v);
      return fmt::format("{}–{} ms", fixed(rg->lo), fixed(rg->hi));
    };
    fmt::format_to(out, "phases: client→server {}, server before engine {}, engine {}, server→client {}\n",
                   cross(p.client_to_server_ms, ranges.client_to_server_ms), ms(p.server_pre_rpc_ms), ms(p.engine_ms),
                   cross(p.server_to_client_ms, ranges.server_to_client_ms));
    if (u.server) {
      for (const auto& c : r.clocks)
        if (c.file == u.server->file && c.updates_used) {
          if (c.measured())
            fmt::format_to(out, "clock offset of {}: {:.6f} s (bounds [{:.6f}, {:.6f}], {} updates, {})\n",
                           printable(r.file_name(c.file)), c.offset_s, c.lower_s, c.upper_s, c.updates_used, c.method);
          else
            fmt::format_to(out,
                           "clock offset of {}: somewhere in [{:.6f}, {:.6f}] s ({} updates, {}), so the phases that "
                           "cross hosts are ranges\n",
                           printable(r.file_name(c.file)), c.lower_s, c.upper_s, c.updates_used, c.method);
          if (!c.note.empty()) fmt::format_to(out, "  {}\n", printable(c.note));
        }
    } else {
      o += "no server-side lines for this trace id in the given logs\n";
    }
    if (u.batch_count == 0) o += "overlapping generation batches: none\n";
    // A hung update overlaps every later batch: the first few are listed, then how many more.
    constexpr uint32_t kListed = 20;
    for (uint32_t bi = u.first_batch; bi < u.first_batch + std::min(u.batch_count, kListed); ++bi) {
      const auto& b = r.batches[bi];
      fmt::format_to(out, "overlapping generation batch #{}: {}:{}-{} dur_ms={} inflight={}\n", bi, printable(r.file_name(b.file)),
                     b.start_line, b.done_line, b.dur_ms ? fixed(*b.dur_ms) : "?",
                     b.inflight_done ? fixed(*b.inflight_done, 0) : b.inflight_start ? fixed(*b.inflight_start, 0) : "?");
    }
    if (u.batch_count > kListed)
      fmt::format_to(out, "… and {} more overlapping generation batches (#{} to #{})\n", u.batch_count - kListed,
                     u.first_batch + kListed, u.first_batch + u.batch_count - 1);
    o += "\n";
  }
  for (const auto& s : r.server_only) {
    if (s.trace.str() != id) continue;
    fmt::format_to(out, "trace {}  server side only (no client.send in the given logs)\n", id);
    server_lines(o, r, s.server);
    o += "\n";
  }
  return o;
}

}  // namespace alog
