#include "analyze_logs/primerl/correlate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <unordered_map>

namespace alog {

std::optional<double> clock_offset(const Report& r, uint32_t server_file) {
  for (const auto& c : r.clocks)
    if (c.file == server_file && c.updates_used > 0) return c.offset_s;
  return std::nullopt;
}

const ClockEstimate* clock_for(const Report& r, uint32_t server_file) {
  for (const auto& c : r.clocks)
    if (c.file == server_file) return &c;
  return nullptr;
}

CrossHostRanges cross_host_ranges(const Report& r, const UpdateReport& u) {
  if (!u.server) return {};
  const ClockEstimate* c = clock_for(r, u.server->file);
  if (!c) return {};
  return cross_host_ranges(*c, u);
}

CrossHostRanges cross_host_ranges(const ClockEstimate& clock, const UpdateReport& u) {
  CrossHostRanges out;
  if (!u.server || clock.updates_used == 0) return out;
  const ServerSide& s = *u.server;
  const ClockEstimate* c = &clock;
  // client_to_server = first - offset - send falls as the offset grows; server_to_client =
  // send + wall - (done - offset) rises with it.
  auto first = s.recv_t ? s.recv_t : s.rpc_start_t;
  if (first)
    out.client_to_server_ms = MsRange{(*first - c->upper_s - u.send_t) * 1000, (*first - c->lower_s - u.send_t) * 1000};
  if (s.rpc_done_t && u.complete && u.wall_ms) {
    double client_done = u.send_t + *u.wall_ms / 1000;
    out.server_to_client_ms =
        MsRange{(client_done - (*s.rpc_done_t - c->lower_s)) * 1000, (client_done - (*s.rpc_done_t - c->upper_s)) * 1000};
  }
  return out;
}

std::string cross_host_cell(const std::optional<double>& value, const std::optional<MsRange>& range) {
  if (value) return fmt::format("{:.1f}", *value);
  if (range) return fmt::format("{:.1f}–{:.1f}", range->lo, range->hi);
  return "–";
}

ClockCells clock_cells(const ClockEstimate& c) {
  auto interval = [](const std::optional<double>& lo, const std::optional<double>& hi) {
    return lo && hi ? fmt::format("[{:.6f}, {:.6f}]", *lo, *hi) : std::string("–");
  };
  ClockCells cells;
  cells.offset = !c.updates_used ? "–" : c.measured() ? fmt::format("{:.6f}", c.offset_s) : "a range";
  cells.interval = c.updates_used ? interval(c.lower_s, c.upper_s) : "–";
  cells.causal = interval(c.causal_lower_s, c.causal_upper_s);
  cells.wall = interval(c.wall_lower_s, c.wall_upper_s);
  return cells;
}

std::vector<CrossHostTotals> cross_host_totals(const Report& r) {
  std::vector<CrossHostTotals> out(r.clocks.size());
  // Clock index by server file: one pass over the updates whatever the number of server logs.
  std::vector<uint32_t> by_file;
  for (size_t i = 0; i < r.clocks.size(); ++i) {
    if (by_file.size() <= r.clocks[i].file) by_file.resize(r.clocks[i].file + 1, UINT32_MAX);
    by_file[r.clocks[i].file] = static_cast<uint32_t>(i);
  }
  for (const auto& u : r.updates) {
    if (!u.server || u.server->file >= by_file.size() || by_file[u.server->file] == UINT32_MAX) continue;
    const uint32_t ci = by_file[u.server->file];
    auto ranges = cross_host_ranges(r.clocks[ci], u);
    if (!ranges.client_to_server_ms || !ranges.server_to_client_ms) continue;
    CrossHostTotals& t = out[ci];
    ++t.updates;
    t.wall_ms += *u.wall_ms;
    t.client_to_server_ms.lo += ranges.client_to_server_ms->lo;
    t.client_to_server_ms.hi += ranges.client_to_server_ms->hi;
    t.server_to_client_ms.lo += ranges.server_to_client_ms->lo;
    t.server_to_client_ms.hi += ranges.server_to_client_ms->hi;
  }
  return out;
}

std::vector<std::string> offset_range_statements(const Report& r) {
  std::vector<std::string> out;
  bool any = std::any_of(r.clocks.begin(), r.clocks.end(),
                         [](const ClockEstimate& c) { return c.updates_used > 0 && !c.measured(); });
  if (!any) return out;
  const auto totals = cross_host_totals(r);
  for (size_t ci = 0; ci < r.clocks.size(); ++ci) {
    const ClockEstimate& c = r.clocks[ci];
    if (c.updates_used == 0 || c.measured()) continue;
    const CrossHostTotals& t = totals[ci];
    std::string s = fmt::format(
        "{}: the clock offset is known only to lie in [{:.3f}, {:.3f}] s, so client→server and "
        "server→client are ranges, never its middle",
        r.file_name(c.file), c.lower_s, c.upper_s);
    if (t.updates > 0 && t.wall_ms > 0) {
      auto sec = [](double ms) { return fmt::format("{:.1f} s", ms / 1000); };
      s += fmt::format(
          ". For every offset in it, of the {} its {} updates took, at least {} ({:.1f}%) was spent "
          "before the server received the request (at most {}), and at most {} ({:.1f}%) after the "
          "engine finished",
          sec(t.wall_ms), t.updates, sec(std::max(0.0, t.client_to_server_ms.lo)),
          100 * std::max(0.0, t.client_to_server_ms.lo) / t.wall_ms, sec(t.client_to_server_ms.hi),
          sec(std::max(0.0, t.server_to_client_ms.hi)), 100 * std::max(0.0, t.server_to_client_ms.hi) / t.wall_ms);
    }
    out.push_back(s + ".");
  }
  return out;
}

void WallFit::add(int32_t tod, int16_t tod_ms, uint8_t tod_digits, double t) {
  // Unwrap midnight in file order: a drop of more than 12 hours is the next day (and a rise of
  // more than 12 hours a line of the day before, written late).
  if (last_tod >= 0) {
    if (tod < last_tod - 43200) ++day;
    else if (tod > last_tod + 43200) --day;
  }
  last_tod = tod;
  double resolution = tod_digits == 0 ? 1.0 : tod_digits == 1 ? 0.1 : tod_digits == 2 ? 0.01 : 0.001;
  double stamp = day * 86400.0 + tod + tod_ms / 1000.0;
  ++lines;
  hi = std::min(hi, stamp + resolution - t);
  double lo = stamp - t;
  if (los.size() < kKeep) {
    los.push_back(lo);
    std::push_heap(los.begin(), los.end(), std::greater<>());
  } else if (lo > los.front()) {
    std::pop_heap(los.begin(), los.end(), std::greater<>());
    los.back() = lo;
    std::push_heap(los.begin(), los.end(), std::greater<>());
  }
}

std::optional<std::pair<double, double>> WallFit::interval() const {
  double lo = -1e300;
  for (double x : los)
    if (x <= hi) lo = std::max(lo, x);
  if (lines == 0 || lo == -1e300) return std::nullopt;
  return std::pair{lo, hi};
}

uint64_t WallFit::late() const {
  return static_cast<uint64_t>(std::count_if(los.begin(), los.end(), [&](double x) { return x > hi; }));
}

std::string_view describe_last_phase(std::string_view phase) {
  if (phase == "client_to_server")
    return "sent, never received by the server (front-end queue or transit)";
  if (phase == "server_pre_rpc") return "received by the server, engine call never started";
  if (phase == "engine") return "engine call started, never finished (hung engine)";
  if (phase == "server_to_client") return "engine finished, the client never got the response";
  return "";
}

namespace {

std::string seconds_text(double s) {
  double a = std::fabs(s);
  if (a >= 86400) return fmt::format("{:.1f} days", a / 86400);
  if (a >= 3600) return fmt::format("{:.1f} h", a / 3600);
  if (a >= 1) return fmt::format("{:.1f} s", a);
  return fmt::format("{:.1f} ms", a * 1000);
}

// Intersects c's causal interval with what the wall clocks of the client's and the server's logs
// say: wall = t_client + c_client = t_server + c_server, so offset = c_client - c_server, known
// modulo a day (a time of day has no date) to within both fits' widths and the tolerated skew.
void narrow_with_wall_clocks(const Report& r, uint32_t client_file, ClockEstimate& c) {
  auto fit = [&](uint32_t f) -> std::optional<std::pair<double, double>> {
    if (f >= r.wall_fits.size()) return std::nullopt;
    return r.wall_fits[f].interval();
  };
  auto cc = fit(client_file), cs = fit(c.file);
  if (!cc || !cs) return;
  double lo = cc->first - cs->second - ClockEstimate::kWallSkewS;
  double hi = cc->second - cs->first + ClockEstimate::kWallSkewS;
  // The day count: the one that puts the wall interval's middle nearest the causal one's.
  double mid_causal = (c.lower_s + c.upper_s) / 2, mid_wall = (lo + hi) / 2;
  double days = std::round((mid_causal - mid_wall) / 86400);
  lo += days * 86400;
  hi += days * 86400;
  c.wall_lower_s = lo;
  c.wall_upper_s = hi;
  double nlo = std::max(lo, c.lower_s), nhi = std::min(hi, c.upper_s);
  if (nlo <= nhi) {
    c.lower_s = nlo;
    c.upper_s = nhi;
    c.offset_s = (nlo + nhi) / 2;
    c.method += " + wall clocks";
    return;
  }
  // Causality wins: an update's server events cannot lie outside its client's interval, whatever
  // the wall clocks say.
  double gap = lo > c.upper_s ? lo - c.upper_s : c.lower_s - hi;
  c.note = fmt::format(
      "the wall clocks of {} and {} disagree with the updates by {} (not synchronised, or a clock "
      "step): the offset comes from the updates alone",
      r.file_name(client_file), r.file_name(c.file), seconds_text(gap));
}

}  // namespace

void correlate(Report& r, std::vector<std::pair<TraceId, ServerBox>> servers) {
  // The server halves sorted by (id, position): 16 bytes each, where a hash multimap took ~50
  // (this index exists at the run's peak of memory, beside every record).
  struct Key {
    uint64_t value;
    uint32_t index;
    uint8_t len;
  };
  auto before = [](const Key& a, const Key& b) {
    return a.value != b.value ? a.value < b.value : a.len != b.len ? a.len < b.len : a.index < b.index;
  };
  std::vector<Key> by_trace;
  by_trace.reserve(servers.size());
  for (size_t i = 0; i < servers.size(); ++i)
    by_trace.push_back({servers[i].first.value, static_cast<uint32_t>(i), servers[i].first.len});
  std::sort(by_trace.begin(), by_trace.end(), before);
  std::vector<bool> claimed(servers.size(), false);

  // Join: the first unclaimed server half with the same id (in file order) belongs to the
  // first client half; a reused id pairs up in order.
  for (auto& u : r.updates) {
    auto it = std::lower_bound(by_trace.begin(), by_trace.end(), Key{u.trace.value, 0, u.trace.len}, before);
    for (; it != by_trace.end() && it->value == u.trace.value && it->len == u.trace.len; ++it) {
      if (claimed[it->index]) continue;
      claimed[it->index] = true;
      u.server = std::move(servers[it->index].second);
      break;
    }
  }
  std::vector<Key>().swap(by_trace);
  for (size_t i = 0; i < servers.size(); ++i)
    if (!claimed[i]) r.server_only.push_back({servers[i].first, *servers[i].second});

  // Clock offset per server log from complete updates.
  struct Bounds {
    double lo = -1e300, hi = 1e300;
    std::vector<double> los, his;
    std::optional<uint32_t> client_file;  // of the first update joined to this server log
  };
  std::map<uint32_t, Bounds> per_file;
  for (const auto& u : r.updates) {
    if (!u.server) continue;
    Bounds& row = per_file[u.server->file];  // every server log gets a row, even with no usable update
    if (!row.client_file) row.client_file = u.send_at.file;
    if (!u.complete || !u.wall_ms) continue;
    const ServerSide& s = *u.server;
    auto first = s.recv_t ? s.recv_t : s.rpc_start_t;
    auto last = s.rpc_done_t ? s.rpc_done_t : s.rpc_start_t;
    if (!first || !last) continue;
    double client_done = u.send_t + *u.wall_ms / 1000.0;
    double lo = *last - client_done;  // offset >= server_last - client_done
    double hi = *first - u.send_t;    // offset <= server_first - client_send
    Bounds& bd = per_file[s.file];
    bd.lo = std::max(bd.lo, lo);
    bd.hi = std::min(bd.hi, hi);
    bd.los.push_back(lo);
    bd.his.push_back(hi);
  }
  for (auto& [file, bd] : per_file) {
    ClockEstimate c;
    c.file = file;
    c.updates_used = bd.los.size();
    if (bd.los.empty()) {
      c.method = "none";
    } else if (bd.lo <= bd.hi) {
      c.method = "bounds";
      c.lower_s = bd.lo;
      c.upper_s = bd.hi;
      c.offset_s = (bd.lo + bd.hi) / 2;
    } else {
      // The bounds conflict (drift, a clock step, a mis-joined id). Take the offset that breaks
      // the fewest seconds of bounds: the minimiser of the summed distance to every update's
      // interval, which lies between the n-th and (n+1)-th smallest of all 2n endpoints. One
      // wild interval moves it by at most one endpoint.
      std::vector<double> ends(bd.los);
      ends.insert(ends.end(), bd.his.begin(), bd.his.end());
      std::sort(ends.begin(), ends.end());
      size_t n = bd.los.size();
      c.method = "least violation (bounds conflict)";
      c.lower_s = ends[n - 1];
      c.upper_s = ends[n];
      c.offset_s = (c.lower_s + c.upper_s) / 2;
    }
    if (c.updates_used > 0) {
      c.causal_lower_s = c.lower_s;
      c.causal_upper_s = c.upper_s;
      if (bd.client_file) narrow_with_wall_clocks(r, *bd.client_file, c);
    }
    r.clocks.push_back(c);
  }

  for (auto& u : r.updates) {
    if (u.server) {
      const ServerSide& s = *u.server;
      if (s.recv_t && s.rpc_start_t) u.phases.server_pre_rpc_ms = (*s.rpc_start_t - *s.recv_t) * 1000;
      if (s.rpc_start_t && s.rpc_done_t) u.phases.engine_ms = (*s.rpc_done_t - *s.rpc_start_t) * 1000;
      // Cross-host phases are values only when the offset is known to within kMeasuredWidthS;
      // otherwise they stay empty and are reported as ranges (cross_host_ranges).
      const ClockEstimate* c = clock_for(r, s.file);
      if (c && c->measured()) {
        auto ranges = cross_host_ranges(*c, u);
        if (ranges.client_to_server_ms)
          u.phases.client_to_server_ms = (ranges.client_to_server_ms->lo + ranges.client_to_server_ms->hi) / 2;
        if (ranges.server_to_client_ms)
          u.phases.server_to_client_ms = (ranges.server_to_client_ms->lo + ranges.server_to_client_ms->hi) / 2;
      }
    }
    if (!u.complete) {
      const ServerSide* s = u.server ? &*u.server : nullptr;
      if (!s || (!s->recv_t && !s->rpc_start_t && !s->rpc_done_t)) u.last_phase = "client_to_server";
      else if (!s->rpc_start_t && !s->rpc_done_t) u.last_phase = "server_pre_rpc";
      else if (!s->rpc_done_t) u.last_phase = "engine";
      else u.last_phase = "server_to_client";
    }
  }
}

void link_batches(Report& r) {
  const size_t nb = r.batches.size();
  if (nb == 0) return;
  // update_count: each update adds one over its range (a difference array).
  std::vector<int64_t> diff(nb + 1, 0);
  for (const auto& u : r.updates) {
    if (u.batch_count == 0) continue;
    diff[u.first_batch] += 1;
    diff[u.first_batch + u.batch_count] -= 1;
  }
  int64_t running = 0;
  for (size_t b = 0; b < nb; ++b) {
    running += diff[b];
    r.batches[b].update_count = static_cast<uint32_t>(running);
  }
  // longest_queued: updates by queue_ms, longest first (on a tie the one sent first); each batch
  // takes the first that covers it. `next` skips the batches already taken (union-find with path
  // halving), so each batch is taken once.
  // Sorted as (-queue_ms, index) pairs: the keys side by side, not read out of the large updates.
  std::vector<std::pair<double, uint32_t>> order;
  for (size_t i = 0; i < r.updates.size(); ++i)
    if (r.updates[i].queue_ms && r.updates[i].batch_count > 0)
      order.emplace_back(-*r.updates[i].queue_ms, static_cast<uint32_t>(i));
  std::sort(order.begin(), order.end());
  std::vector<uint32_t> next(nb + 1);
  std::iota(next.begin(), next.end(), 0u);
  auto free_from = [&](uint32_t x) {
    while (next[x] != x) {
      next[x] = next[next[x]];
      x = next[x];
    }
    return x;
  };
  for (const auto& entry : order) {
    const uint32_t i = entry.second;
    const auto& u = r.updates[i];
    const uint32_t end = u.first_batch + u.batch_count;
    for (uint32_t b = free_from(u.first_batch); b < end; b = free_from(b)) {
      r.batches[b].longest_queued = i;
      next[b] = b + 1;
    }
  }
}

}  // namespace alog
