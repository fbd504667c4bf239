// Trace correlation: joins the client half of each weight update (orchestrator log) with its
// server half (one of the inference logs) by trace id, estimates each server's clock offset, and
// derives the phases of every update.
//
// The `t=` values are time.monotonic() of each host, so a server's clock differs from the
// client's by an unknown offset. Every complete update bounds it from both sides: the server's
// [recv, rpc.done] must lie inside the client's [send, send + wall_ms]. Intersecting those bounds
// over all updates gives the offset with an uncertainty; when they conflict (drift, clock
// steps), the offset that violates the bounds least in total is used instead. See docs/CORRELATION.md.
#pragma once

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
std::optional<double> clock_offset(const Report& r, uint32_t server_file);

// Human description of an incomplete update's last phase ("engine: rpc.start without rpc.done").
std::string_view describe_last_phase(std::string_view phase);

}  // namespace alog
