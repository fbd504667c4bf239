// Visual outputs: a Chrome Trace Event file for Perfetto / chrome://tracing, Mermaid charts for
// SUMMARY.md, and a self-contained report.html. Like every writer they read only the Report.
//
// All three must stay usable on a run of any length, so the charts are downsampled (each plotted
// point is the largest of a bucket of consecutive samples: a bottleneck is a spike, and averaging
// would hide it) and the trace spends a fixed, small number of events per weight update.
//
// The trace needs one clock for everything. The client (orchestrator) clock of the `t=` values is
// the common clock of docs/CORRELATION.md; server times are mapped onto it with the estimated
// clock offsets, and events that carry only a time of day from their line prefix (generation
// batches, checkpoint waits and writes, rollouts) are mapped with the median of
// send_t - send_tod over the weight updates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "analyze_logs/primerl/model.hpp"

namespace alog {

// What write_chrome_trace did: the trace events it wrote (metadata aside) and the most it held at
// once, made and waiting for their turn (count and bytes of their text). The events are never
// all held: only those of the records read ahead to find the next one in time.
struct TraceWriteStats {
  uint64_t events = 0;
  size_t peak_held = 0;
  size_t peak_held_bytes = 0;
};

// `--trace-out FILE`: Chrome Trace Event Format, one event per line, events in time order.
// Timestamps in microseconds on the client clock. Streamed: memory does not grow with the number
// of events (src/primerl/trace.cpp says how). Stops early once `out` has failed.
TraceWriteStats write_chrome_trace(const Report& r, std::ostream& out);
// The same document as a json tree (parsed back from the stream): for tests and small runs only,
// a tree costs ~1.5 KB of memory per event, 16 events per correlated update.
nlohmann::ordered_json to_chrome_trace(const Report& r);

// Markdown section ("## Charts" and ```mermaid xychart-beta blocks): queue_ms and rpc_ms per
// update and generation batch duration, with their warning and critical thresholds. Empty when
// there is nothing to chart (no series with two or more samples).
std::string mermaid_charts(const Report& r);

// report.html: one page with no network requests, no scripts and no external fonts; charts are
// inline SVG.
std::string to_html(const Report& r);

// One chart's data, shared by the Mermaid and HTML writers.
struct ChartSeries {
  std::string metric;   // "weights.queue_ms": names the thresholds
  std::string title;    // "queue_ms per weight update"
  std::string x_label;  // "weight update, in send order"
  std::string unit;     // "ms", "%"
  size_t samples = 0;   // points before downsampling
  size_t bucket = 1;    // consecutive samples per plotted point (the largest is plotted)
  std::vector<double> y;
  std::optional<double> warning, critical;
};

// The series worth charting, in display order: queue_ms, rpc_ms (update_weights), rpc_ms
// (reload_weights) and gen batch dur_ms; with `extended`, also ckpt wait_ms / write_ms and
// rollout trunc_pct. Series with fewer than two samples are left out. Each has at most
// max_points points.
std::vector<ChartSeries> chart_series(const Report& r, size_t max_points, bool extended);

// One chart of report.html: an inline <svg> element (empty for a series without points). Its plot
// area is the <rect class="plot">; the data are the <polyline class="data"> and the circles of
// <g class="marks">; each threshold's label is a <g class="thr"> in the margin right of the plot,
// never over it.
std::string html_chart_svg(const ChartSeries& s);

// The step budget per step (docs/STEPS.md), for the stacked charts of SUMMARY.md and report.html:
// the orchestrator's wall split into waiting for the trainer, weight update, evals and generation
// (a part not logged counts 0 and generation holds it). At most max_points bars: each bar is the
// slowest step of a bucket of consecutive steps of the table.
struct StepBudgetChart {
  size_t steps = 0;   // steps of the table with an orchestrator half
  size_t bucket = 1;  // consecutive steps per bar
  std::vector<int64_t> step;                // the step shown by each bar
  std::vector<std::array<double, 4>> part;  // wait, update, evals, generation (seconds)
};
inline constexpr const char* kBudgetPartNames[4] = {"waiting for the trainer", "weight update", "evals",
                                                    "generation"};
inline constexpr const char* kBudgetPartColors[4] = {"#dc2626", "#d97706", "#7c3aed", "#2563eb"};
StepBudgetChart step_budget_chart(const Report& r, size_t max_points);
// Its report.html chart: an inline <svg> of stacked <rect class="part-K"> bars (empty without bars).
std::string html_step_budget_svg(const StepBudgetChart& c);

// Largest value of each bucket of ceil(n / max_points) consecutive values; `bucket` receives the
// bucket size. max_points == 0 is treated as 1.
std::vector<double> downsample_max(std::span<const double> v, size_t max_points, size_t& bucket);

}  // namespace alog
