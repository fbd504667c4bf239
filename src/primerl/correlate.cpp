#include "analyze_logs/primerl/correlate.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <unordered_map>

namespace alog {

std::optional<double> clock_offset(const Report& r, uint32_t server_file) {
  for (const auto& c : r.clocks)
    if (c.file == server_file && c.updates_used > 0) return c.offset_s;
  return std::nullopt;
}

std::string_view describe_last_phase(std::string_view phase) {
  if (phase == "client_to_server")
    return "sent, never received by the server (front-end queue or transit)";
  if (phase == "server_pre_rpc") return "received by the server, engine call never started";
  if (phase == "engine") return "engine call started, never finished (hung engine)";
  if (phase == "server_to_client") return "engine finished, the client never got the response";
  return "";
}

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
  };
  std::map<uint32_t, Bounds> per_file;
  for (const auto& u : r.updates) {
    if (!u.server) continue;
    per_file[u.server->file];  // every server log gets a row, even with no usable update
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
    r.clocks.push_back(c);
  }

  for (auto& u : r.updates) {
    if (u.server) {
      const ServerSide& s = *u.server;
      auto off = clock_offset(r, s.file);
      if (s.recv_t && s.rpc_start_t) u.phases.server_pre_rpc_ms = (*s.rpc_start_t - *s.recv_t) * 1000;
      if (s.rpc_start_t && s.rpc_done_t) u.phases.engine_ms = (*s.rpc_done_t - *s.rpc_start_t) * 1000;
      if (off) {
        auto first = s.recv_t ? s.recv_t : s.rpc_start_t;
        if (first) u.phases.client_to_server_ms = (*first - *off - u.send_t) * 1000;
        if (s.rpc_done_t && u.complete && u.wall_ms)
          u.phases.server_to_client_ms = (u.send_t + *u.wall_ms / 1000 - (*s.rpc_done_t - *off)) * 1000;
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
  std::vector<uint32_t> order;
  for (size_t i = 0; i < r.updates.size(); ++i)
    if (r.updates[i].queue_ms && r.updates[i].batch_count > 0) order.push_back(static_cast<uint32_t>(i));
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    double qa = *r.updates[a].queue_ms, qb = *r.updates[b].queue_ms;
    return qa > qb || (qa == qb && a < b);
  });
  std::vector<uint32_t> next(nb + 1);
  std::iota(next.begin(), next.end(), 0u);
  auto free_from = [&](uint32_t x) {
    while (next[x] != x) {
      next[x] = next[next[x]];
      x = next[x];
    }
    return x;
  };
  for (uint32_t i : order) {
    const auto& u = r.updates[i];
    const uint32_t end = u.first_batch + u.batch_count;
    for (uint32_t b = free_from(u.first_batch); b < end; b = free_from(b)) {
      r.batches[b].longest_queued = i;
      next[b] = b + 1;
    }
  }
}

}  // namespace alog
