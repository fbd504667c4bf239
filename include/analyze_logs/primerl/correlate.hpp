// Trace correlation: joins the client half of each weight update (orchestrator log) with its
// server half (one of the inference logs) by trace id, estimates each server's clock offset, and
// derives the phases of every update.
//
// The `t=` values are time.monotonic() of each host, so a server's clock differs from the
// client's by an unknown offset. Every complete update bounds it from both sides: the server's
// [recv, rpc.done] must lie inside the client's [send, send + wall_ms]. Intersecting those bounds
// over all updates gives the offset with an uncertainty; when they conflict (drift, clock
// steps), the offset that violates the bounds least in total is used instead. The two logs' wall
// clocks (time of day beside t=, assumed NTP-synchronised) narrow the interval; where they
// contradict the updates, the updates win. Cross-host phases are values only when the interval
// is narrow (ClockEstimate::measured), ranges otherwise. See docs/CORRELATION.md.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analyze_logs/primerl/model.hpp"

namespace alog {

// Fills r.updates[*].server/phases/last_phase, r.server_only and r.clocks.
// Each server half is moved into its update (a ServerSide converts to a ServerBox).
void correlate(Report& r, std::vector<std::pair<TraceId, ServerBox>> servers);

// The other join: weight updates with the generation batches they overlap. From each update's
// batch range (set while reading) it fills every batch's update_count and longest_queued, in
// O(updates log updates + batches) whatever the number of updates in flight.
void link_batches(Report& r);

// Offset (server - client, seconds) for a server log, or nullopt when it could not be estimated.
// The middle of its interval: a point for ordering events (timelines), not a measurement.
std::optional<double> clock_offset(const Report& r, uint32_t server_file);

// The estimate for a server log, or null.
const ClockEstimate* clock_for(const Report& r, uint32_t server_file);

// The phases that cross hosts, as the ranges they take over every offset in the clock interval
// ({x, x} when that interval is a point). Empty when the update lacks the events or the offset.
struct MsRange {
  double lo = 0, hi = 0;
};
struct CrossHostRanges {
  std::optional<MsRange> client_to_server_ms, server_to_client_ms;
};
CrossHostRanges cross_host_ranges(const Report& r, const UpdateReport& u);
// The same with the update's clock estimate already found (c.file must be its server's log).
CrossHostRanges cross_host_ranges(const ClockEstimate& c, const UpdateReport& u);

// A table cell for a cross-host phase: the value when measured ("12.3"), else the range
// ("0.0–11200.0"), else "–".
std::string cross_host_cell(const std::optional<double>& value, const std::optional<MsRange>& range);

// The Clocks table's cells of one server log (SUMMARY.md and report.html): the offset ("a range"
// when not measured, "–" without one), the final interval, the one from the updates and the one
// from the wall clocks ("[lo, hi]" in seconds, "–" when unknown).
struct ClockCells {
  std::string offset, interval, causal, wall;
};
ClockCells clock_cells(const ClockEstimate& c);

// What holds for every offset in a server log's clock interval, over its complete updates with
// every phase: their total wall time and the totals of the cross-host phases at both ends.
struct CrossHostTotals {
  size_t updates = 0;
  double wall_ms = 0;
  MsRange client_to_server_ms, server_to_client_ms;
};
// One entry per r.clocks[i], in one pass over the updates.
std::vector<CrossHostTotals> cross_host_totals(const Report& r);

// One sentence per server log whose offset is a range, not a measurement (empty otherwise):
// "inference.log: the clock offset is known only to lie in [0.000, 11.200] s; for every offset in
// it, at least 21.4 s of the 22.1 s ..." (plain text; callers escape it for their format).
std::vector<std::string> offset_range_statements(const Report& r);

// Human description of an incomplete update's last phase ("engine: rpc.start without rpc.done").
std::string_view describe_last_phase(std::string_view phase);

}  // namespace alog
