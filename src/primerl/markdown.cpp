#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/primerl/steps.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"

namespace alog {
namespace {

std::string num(const std::optional<double>& v, int d = 1) { return v ? fixed(*v, d) : "–"; }

const char* headline_label(std::string_view metric) {
  if (metric == "weights.queue_ms") return "Queue Delay";
  if (metric == "weights.rpc_ms") return "RPC Time";
  if (metric == "ckpt.wait_ms") return "Ckpt Wait";
  if (metric == "rollout.trunc_pct") return "Truncation";
  return nullptr;
}

}  // namespace

std::string verdict_line(const Report& r) {
  if (!r.diagnoses.empty()) {
    const Diagnosis* worst = &r.diagnoses.front();
    for (const auto& d : r.diagnoses)
      if (d.severity == Severity::critical && worst->severity != Severity::critical) worst = &d;
    return fmt::format("{}: {} — {}", worst->severity == Severity::critical ? "CRITICAL" : "WARNING",
                       worst->id, worst->summary);
  }
  if (r.total_events() == 0) return "No events found: no tagged [weights]/[ckpt]/[gen]/[rollout] line in the input";
  // Events, but not the orchestrator's: nothing can be judged "ok" without the client side.
  for (const auto& f : header(r).findings)
    if (f.id == "missing_orchestrator_log") return "UNKNOWN: " + f.summary;
  const MetricReport* worst = nullptr;
  for (const auto& m : r.metrics)
    if (m.status > Status::good && (!worst || m.status > worst->status)) worst = &m;
  if (worst) {
    std::string_view stat = r.thresholds.judged_on(worst->name);
    double v = stat == "max" ? worst->stats.max : worst->stats.mean;
    return fmt::format("{}: {} {} = {}{} is above the {} threshold", worst->status == Status::critical ? "CRITICAL" : "WARNING",
                       worst->name, stat, fixed(v), worst->unit, status_name(worst->status));
  }
  return "OK: no known bottleneck found; every metric is within its thresholds";
}

std::string to_markdown(const Report& r) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "# Bottleneck Analysis Summary\n\n");
  fmt::format_to(out, "**Verdict:** {}\n\n", md_escape(verdict_line(r)));

  // The lines users of analyze_logs.sh grep for, unchanged in shape.
  o += "```\n";
  for (const char* m : {"weights.queue_ms", "weights.rpc_ms", "ckpt.wait_ms", "rollout.trunc_pct"}) {
    const MetricReport* mr = r.metric(m);
    const char* label = headline_label(m);
    std::string pad(std::max<size_t>(1, 12 - std::string_view(label).size()), ' ');
    if (mr)
      fmt::format_to(out, "{}:{}Mean = {} {}{}\n", label, pad, fixed(mr->stats.mean), mr->unit,
                     mr->status == Status::none ? "" : fmt::format(" ({})", status_name(mr->status)));
    else
      fmt::format_to(out, "{}:{}no samples\n", label, pad);
  }
  o += "```\n\n";

  o += "## Diagnosis\n\n";
  if (r.diagnoses.empty()) {
    o += r.total_events() == 0 ? "No events found, so nothing to diagnose.\n\n"
                               : "No known bottleneck found.\n\n";
  } else {
    for (const auto& d : r.diagnoses) {
      fmt::format_to(out, "### {} `{}`\n\n{}\n\n", d.severity == Severity::critical ? "🔴 critical" : "🟡 warning",
                     d.id, md_escape(d.summary));
      if (!d.evidence.empty()) {
        o += "Evidence:\n";
        for (const auto& e : d.evidence)
          fmt::format_to(out, "- {}:{} {}\n", md_escape(r.file_name(e.file)), e.line, md_escape(e.note));
        o += "\n";
      }
      // Fixes are ours and mark commands with backticks: render those as code spans.
      fmt::format_to(out, "Fix: {}\n\n", md_prose(d.fix));
    }
  }

  if (!r.expectations.empty()) {
    o += "## Checks\n\n| expectation | actual | result |\n|---|---|---|\n";
    for (const auto& e : r.expectations)
      // Plain text, not a code span: backslash escapes and entities are literal inside backticks.
      fmt::format_to(out, "| {} | {} | {} |\n", md_escape(e.expr), num(e.actual, 3), e.passed ? "met" : "**FAILED**");
    o += "\n";
  }

  o += "## Metrics\n\n";
  if (r.metrics.empty()) {
    o += "No samples.\n\n";
  } else {
    o += "| metric | count | mean | min | p50 | p90 | p95 | p99 | max | status |\n";
    o += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const auto& m : r.metrics) {
      const auto& s = m.stats;
      fmt::format_to(out, "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", m.name,
                     m.unit.empty() ? "" : fmt::format(" ({})", m.unit), s.count, fixed(s.mean), fixed(s.min),
                     fixed(s.p50), fixed(s.p90), fixed(s.p95), fixed(s.p99), fixed(s.max),
                     m.status == Status::none ? "–" : std::string(status_name(m.status)));
    }
    o += "\nStatus uses the thresholds below on the mean (staleness: on the max).\n\n";
  }
  if (auto budget = budget_lines(r.steps); !budget.empty()) {
    o += "## Step budget\n\n```\n";
    for (const auto& l : budget) o += printable(l) + "\n";
    o += "```\n\n";
    if (!r.steps.not_logged.empty()) {
      o += "Not logged (null in report.json, in no statistic; generation includes them):";
      for (const auto& n : r.steps.not_logged) o += " `" + n + "`";
      o += ". How each part is read: docs/STEPS.md.\n\n";
    }
  }
  o += mermaid_charts(r);

  auto top = slowest_updates(r, 10);
  o += "## Slowest updates\n\n";
  if (top.empty()) {
    o += "No completed weight update.\n\n";
  } else {
    o += "| trace id | op | step | wall_ms | rpc_ms | queue_ms | client→server | server pre-rpc | engine | server→client | where |\n";
    o += "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    bool any_range = false;
    for (size_t i : top) {
      const auto& u = r.updates[i];
      auto ranges = cross_host_ranges(r, u);
      any_range |= (!u.phases.client_to_server_ms && ranges.client_to_server_ms) ||
                   (!u.phases.server_to_client_ms && ranges.server_to_client_ms);
      fmt::format_to(out, "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}:{} |\n", u.trace.str(),
                     u.reload ? "reload" : "update", u.step ? std::to_string(*u.step) : "–", num(u.wall_ms),
                     num(u.rpc_ms), num(u.queue_ms),
                     cross_host_cell(u.phases.client_to_server_ms, ranges.client_to_server_ms),
                     num(u.phases.server_pre_rpc_ms), num(u.phases.engine_ms),
                     cross_host_cell(u.phases.server_to_client_ms, ranges.server_to_client_ms),
                     md_escape(r.file_name(u.send_at.file)), u.send_at.line);
    }
    o += "\n";
    if (any_range)
      o += "A range `a–b` is every value the phase takes over the clock offset's interval (see Clocks): "
           "it crosses hosts and the offset is not known more closely.\n\n";
    // Share of total update time per phase, over updates with every phase known: the cross-host
    // ones at both ends of their clock interval (the four always add up to wall_ms).
    double tot[4] = {0, 0, 0, 0}, c2s_hi = 0, s2c_hi = 0;
    size_t n = 0;
    for (const auto& u : r.updates) {
      const auto& p = u.phases;
      if (!p.server_pre_rpc_ms || !p.engine_ms) continue;
      auto ranges = cross_host_ranges(r, u);
      if (!ranges.client_to_server_ms || !ranges.server_to_client_ms) continue;
      tot[0] += ranges.client_to_server_ms->lo;
      c2s_hi += ranges.client_to_server_ms->hi;
      tot[1] += *p.server_pre_rpc_ms;
      tot[2] += *p.engine_ms;
      tot[3] += ranges.server_to_client_ms->lo;
      s2c_hi += ranges.server_to_client_ms->hi;
      ++n;
    }
    // At the interval's upper end client→server is at its least and server→client at its most:
    // the four then add up to the updates' wall time, as they do at every offset.
    double all = tot[0] + tot[1] + tot[2] + s2c_hi;
    auto share = [&](double lo, double hi) {
      if (hi - lo <= ClockEstimate::kMeasuredWidthS * 1000 * static_cast<double>(n))
        return fixed(100 * (lo + hi) / 2 / all) + "%";
      return fmt::format("{}–{}%", fixed(100 * lo / all), fixed(100 * hi / all));
    };
    if (n > 0 && all > 0) {
      fmt::format_to(out, "Where update time went ({} fully correlated updates): client→server {}, server before "
                          "the engine {}%, engine {}%, server→client {}.\n\n",
                     n, share(tot[0], c2s_hi), fixed(100 * tot[1] / all), fixed(100 * tot[2] / all),
                     share(tot[3], s2c_hi));
    }
  }

  // The first kIncompleteListed, as report.html lists them; report.json has them all.
  size_t incomplete = 0;
  std::string items;
  for (const auto& u : r.updates)
    if (!u.complete && ++incomplete <= kIncompleteListed)
      fmt::format_to(std::back_inserter(items), "- `{}` ({}, sent at {}:{}): {}\n", u.trace.str(),
                     u.reload ? "reload" : "update", md_escape(r.file_name(u.send_at.file)), u.send_at.line,
                     describe_last_phase(u.last_phase));
  for (const auto& s : r.server_only)
    if (++incomplete <= kIncompleteListed)
      fmt::format_to(std::back_inserter(items), "- `{}`: server side only in {} (no client.send in the given logs)\n",
                     s.trace.str(), md_escape(r.file_name(s.server.file)));
  if (incomplete > 0) {
    o += "## Incomplete updates\n\n";
    o += items;
    if (incomplete > kIncompleteListed)
      fmt::format_to(out, "- … and {} more (see report.json)\n", incomplete - kIncompleteListed);
    o += "\n";
  }

  if (!r.clocks.empty()) {
    o += "## Clocks\n\n| server log | offset (s) | interval (s) | from the updates (s) | from the wall clocks (s) | "
         "updates used | method |\n|---|---:|---|---|---|---:|---|\n";
    for (const auto& c : r.clocks) {
      auto cells = clock_cells(c);
      fmt::format_to(out, "| {} | {} | {} | {} | {} | {} | {} |\n", md_escape(r.file_name(c.file)), cells.offset,
                     cells.interval, cells.causal, cells.wall, c.updates_used, c.method);
    }
    o += "\n";
    for (const auto& c : r.clocks)
      if (!c.note.empty()) fmt::format_to(out, "- {}: {}.\n", md_escape(r.file_name(c.file)), md_escape(c.note));
    for (const auto& s : offset_range_statements(r)) fmt::format_to(out, "- {}\n", md_escape(s));
    bool any_note = std::any_of(r.clocks.begin(), r.clocks.end(), [](const ClockEstimate& c) {
      return !c.note.empty() || (c.updates_used && !c.measured());
    });
    if (any_note) o += "\n";
  }

  o += "## Inputs\n\n| file | role | compression | lines | events | skipped | noise | notes |\n";
  o += "|---|---|---|---:|---:|---:|---:|---|\n";
  for (const auto& in : r.inputs)
    fmt::format_to(out, "| {} | {} | {} | {} | {} | {} | {} | {} |\n", md_escape(in.path),
                   role_name(in.role), in.compression, in.counts.lines, in.counts.events,
                   in.counts.skipped(), in.counts.noise, md_escape(input_notes(in)));
  o += "\n";
  bool any_samples = false;
  for (const auto& in : r.inputs) any_samples |= !in.counts.skip_samples.empty();
  if (any_samples) {
    o += "Skipped lines (first ones per file):\n\n";
    for (const auto& in : r.inputs)
      for (const auto& s : in.counts.skip_samples)
        fmt::format_to(out, "- {}:{} {}\n", md_escape(in.path), s.line, skip_reason_name(s.reason));
    o += "\n";
  }
  const auto& a = r.anomalies;
  if (a.done_without_send || a.duplicate_done || a.reused_trace_id || a.rpc_done_without_start ||
      a.batch_done_without_start || a.untracked_updates || a.untracked_batches || a.untracked_point_events) {
    o += "## Inconsistent sequences\n\n";
    auto line = [&](uint64_t n, const char* what) {
      if (n) fmt::format_to(out, "- {} {}\n", n, what);
    };
    line(a.done_without_send, "client.done without a client.send (counted in wall/rpc/queue statistics, no update entry)");
    line(a.duplicate_done, "second client.done for the same update (ignored for the update, counted in statistics)");
    line(a.reused_trace_id, "trace id reused by a later client.send (treated as a new update)");
    line(a.rpc_done_without_start, "rpc.done without rpc.start");
    line(a.batch_done_without_start, "gen batch.done without batch.start");
    line(a.untracked_updates, "trace ids beyond --max-updates (counted in statistics, not listed)");
    line(a.untracked_batches, "gen batches beyond --max-updates (counted in statistics, not listed; diagnoses cover the listed ones)");
    line(a.untracked_point_events, "ckpt/rollout events beyond --max-updates of their kind (counted in statistics, not listed; diagnoses cover the listed ones)");
    o += "\n";
  }
  o += "## Thresholds\n\n| threshold | value |\n|---|---:|\n";
  for (const auto& [k, v] : r.thresholds.all()) fmt::format_to(out, "| {} | {} |\n", k, fmt::format("{}", v));
  o += "\nFiles in this folder: `report.json` (machine-readable), `report.html` (charts), `timeline.txt`, `slowest_updates.txt`, `*_stats.txt`.\n";
  return o;
}

std::vector<size_t> slowest_updates(const Report& r, size_t n) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < r.updates.size(); ++i)
    if (r.updates[i].wall_ms) idx.push_back(i);
  auto before = [&](size_t a, size_t b) {
    double wa = *r.updates[a].wall_ms, wb = *r.updates[b].wall_ms;
    return wa > wb || (wa == wb && a < b);
  };
  n = std::min(n, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(), before);
  idx.resize(n);
  return idx;
}

std::string slowest_updates_txt(const Report& r) {
  std::string o = "# trace_id op step wall_ms rpc_ms queue_ms send_location\n";
  for (size_t i : slowest_updates(r, 10)) {
    const auto& u = r.updates[i];
    o += fmt::format("{} {} {} {} {} {} {}:{}\n", u.trace.str(), u.reload ? "reload" : "update",
                     u.step ? std::to_string(*u.step) : "-", num(u.wall_ms), u.rpc_ms ? fixed(*u.rpc_ms) : "-",
                     u.queue_ms ? fixed(*u.queue_ms) : "-", printable(r.file_name(u.send_at.file)), u.send_at.line);
  }
  return o;
}

std::string unreadable_note(const scan::FileCounts& c) {
  if (!c.unreadable_bytes) return "";
  std::string where =
      c.unreadable_samples.empty() ? "" : fmt::format("line {}", c.unreadable_samples.front());
  if (c.unreadable_lines > 1 && !where.empty()) where = "first at " + where;
  return fmt::format("{} unreadable byte{} before {} dropped{}", c.unreadable_bytes,
                     c.unreadable_bytes == 1 ? "" : "s",
                     c.unreadable_lines == 1
                         ? std::string("a tag")
                         : fmt::format("the tags of {} lines", c.unreadable_lines),
                     where.empty() ? "" : " (" + where + ")");
}

std::string input_notes(const InputReport& in) {
  std::string notes;
  if (in.unreadable)
    notes = "unreadable, skipped: " + in.error;
  else if (in.counts.partial)
    notes = "partial: " + in.error;
  for (int k = 0; k < kSkipReasonCount; ++k)
    if (in.counts.skipped_by_reason[k])
      notes += fmt::format("{}{} {}", notes.empty() ? "" : "; ", in.counts.skipped_by_reason[k],
                           skip_reason_name(static_cast<SkipReason>(k)));
  if (std::string u = unreadable_note(in.counts); !u.empty())
    notes += (notes.empty() ? "" : "; ") + u;
  return notes;
}

std::vector<std::pair<std::string, std::string>> stats_files(const Report& r) {
  struct Group {
    const char* file;
    std::vector<std::pair<const char*, const char*>> metrics;  // key prefix, metric
  };
  const Group groups[] = {
      {"queue_ms_stats.txt", {{"queue_ms", "weights.queue_ms"}}},
      {"rpc_ms_stats.txt", {{"rpc_ms", "weights.rpc_ms"}}},
      {"wall_ms_stats.txt", {{"wall_ms", "weights.wall_ms"}}},
      {"reload_rpc_ms_stats.txt", {{"reload_rpc_ms", "weights.reload_rpc_ms"}}},
      {"ckpt_wait_stats.txt", {{"wait_ms", "ckpt.wait_ms"}}},
      {"ckpt_write_stats.txt", {{"write_ms", "ckpt.write_ms"}}},
      {"gen_batch_stats.txt", {{"dur_ms", "gen.dur_ms"}, {"inflight", "gen.inflight"}}},
      {"rollout_stats.txt", {{"trunc_pct", "rollout.trunc_pct"}, {"staleness", "rollout.staleness"}}},
      // The step budget (docs/STEPS.md), seconds per step.
      {"step_stats.txt",
       {{"orchestrator_s", "step.orchestrator_s"},
        {"wait_for_trainer_s", "step.wait_for_trainer_s"},
        {"weight_update_s", "step.weight_update_s"},
        {"eval_s", "step.eval_s"},
        {"generation_s", "step.generation_s"},
        {"max_off_policy", "step.max_off_policy"},
        {"trainer_s", "step.trainer_s"},
        {"trainer_idle_s", "step.trainer_idle_s"},
        {"compute_s", "step.compute_s"},
        {"broadcast_s", "step.broadcast_s"},
        {"save_s", "step.save_s"}}},
  };
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& g : groups) {
    std::string o;
    for (const auto& [key, metric] : g.metrics) {
      const MetricReport* m = r.metric(metric);
      o += fmt::format("{}.metric={}\n", key, metric);
      if (!m) {
        o += fmt::format("{}.count=0\n", key);
        continue;
      }
      const auto& s = m->stats;
      o += fmt::format("{0}.count={1}\n{0}.mean={2}\n{0}.min={3}\n{0}.p50={4}\n{0}.p90={5}\n{0}.p95={6}\n"
                       "{0}.p99={7}\n{0}.max={8}\n",
                       key, s.count, fixed(s.mean, 3), fixed(s.min, 3), fixed(s.p50, 3), fixed(s.p90, 3),
                       fixed(s.p95, 3), fixed(s.p99, 3), fixed(s.max, 3));
      if (m->status != Status::none) o += fmt::format("{}.status={}\n", key, status_name(m->status));
    }
    files.emplace_back(g.file, std::move(o));
  }
  return files;
}

}  // namespace alog
