#include "analyze_logs/primerl/diagnose.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/steps.hpp"
#include "analyze_logs/util.hpp"

namespace alog {
namespace {

// Fix texts, from seed 000 "Common Issues & Signatures" and seed 001 "Fix implemented".
constexpr const char* kFixQueue =
    "Use a dedicated admin client for weight updates (a fresh connection, no keep-alive) so they do not "
    "queue behind long-lived streaming inference requests.";
constexpr const char* kFixSlowLoad = "Faster storage; a smaller model; profile vLLM worker loading.";
constexpr const char* kFixCkpt = "Optimize checkpoint writing; check file system performance.";
constexpr const char* kFixTrunc = "Increase max_seq_len; tune async_level; check advantage computation.";
constexpr const char* kFixStale =
    "Tune async_level; check why the checkpoint was not ready sooner (trainer speed, checkpoint writes).";
constexpr const char* kFixSpike =
    "Shared resource contention between generation and weight updates: give weight updates a dedicated admin "
    "client so they do not queue behind generation traffic.";
constexpr const char* kFixIncomplete =
    "Inspect the inference server at the update's time: a send never received points at the front-end queue, "
    "an rpc.start without rpc.done at a hung engine; `analyze-logs --trace <id>` shows everything known.";

std::string pct(size_t k, size_t n) { return n ? fixed(100.0 * static_cast<double>(k) / static_cast<double>(n)) : "0"; }

Severity by_share(size_t k, size_t n, double critical_share) {
  return n && static_cast<double>(k) / static_cast<double>(n) >= critical_share ? Severity::critical : Severity::warning;
}

// Past --max-updates records are counted, not kept: a rule over them says it saw only those.
std::string capped(uint64_t untracked) {
  return untracked ? fmt::format(" (over the records kept: {} more beyond --max-updates are only in the statistics)", untracked)
                   : std::string();
}

struct Hit {
  double key;  // how bad (for ordering evidence)
  uint32_t file;
  uint64_t line;
  size_t item;  // what the rule needs to write the note (an index into its list)
};

// The n worst hits (largest key first, ties in the order found), each with the note written only
// for them: in a saturated run every update is a hit.
template <typename Note>
std::vector<Evidence> worst(std::vector<Hit> hits, Note note, size_t n = 5) {
  n = std::min(n, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end(), [](const Hit& a, const Hit& b) {
    return a.key > b.key || (a.key == b.key && a.item < b.item);
  });
  std::vector<Evidence> out;
  for (size_t i = 0; i < n; ++i) out.push_back({hits[i].file, hits[i].line, note(hits[i].item)});
  return out;
}

Location where_done(const UpdateReport& u) { return u.done_at ? *u.done_at : u.send_at; }

// The largest generation inflight over every batch that one of `updates` overlapped, or -1: one
// pass over the batches whatever the number of updates (their ranges are marked in a difference
// array).
double max_inflight(const Report& r, const std::vector<size_t>& updates) {
  std::vector<int64_t> cover(r.batches.size() + 1, 0);
  for (size_t i : updates) {
    const auto& u = r.updates[i];
    if (u.batch_count == 0) continue;
    cover[u.first_batch] += 1;
    cover[u.first_batch + u.batch_count] -= 1;
  }
  double m = -1;
  int64_t running = 0;
  for (size_t b = 0; b < r.batches.size(); ++b) {
    running += cover[b];
    if (running == 0) continue;
    const auto& bt = r.batches[b];
    if (bt.inflight_start) m = std::max(m, *bt.inflight_start);
    if (bt.inflight_done) m = std::max(m, *bt.inflight_done);
  }
  return m;
}

double val_or(const std::optional<double>& v) { return v ? *v : 0.0; }

void rule_queue_saturation(Report& r, double share) {
  double q = r.thresholds.get("queue_saturation.queue_ms"), rp = r.thresholds.get("queue_saturation.rpc_ms");
  size_t n = 0;
  std::vector<Hit> hits;
  double worst_q = 0, inflight = -1;
  const UpdateReport* worst_u = nullptr;
  std::vector<size_t> saturated;
  for (size_t i = 0; i < r.updates.size(); ++i) {
    const auto& u = r.updates[i];
    if (!u.queue_ms || !u.rpc_ms) continue;
    ++n;
    if (*u.queue_ms > q && *u.rpc_ms < rp) {
      Location l = where_done(u);
      hits.push_back({*u.queue_ms, l.file, l.line, i});
      if (*u.queue_ms > worst_q) worst_q = *u.queue_ms, worst_u = &u;
      saturated.push_back(i);
    }
  }
  if (hits.empty()) return;
  inflight = max_inflight(r, saturated);
  Diagnosis d;
  d.id = "queue_saturation";
  d.severity = by_share(hits.size(), n, share);
  const MetricReport* qm = r.metric("weights.queue_ms");
  d.summary = fmt::format("{} of {} updates ({}%) waited over {} ms in the front-end queue while the engine took under "
                          "{} ms; worst queue_ms {} ({}{}); queue_ms mean {} ms{}",
                          hits.size(), n, pct(hits.size(), n), fixed(q, 0), fixed(rp, 0), fixed(worst_q), worst_u->trace.str(),
                          worst_u->step ? fmt::format(", step {}", *worst_u->step) : "", qm ? fixed(qm->stats.mean) : "–",
                          inflight >= 0 ? fmt::format("; generation inflight up to {} during them", fixed(inflight, 0)) : "");
  d.summary += capped(r.anomalies.untracked_updates);
  d.evidence = worst(std::move(hits), [&](size_t i) {
    const auto& u = r.updates[i];
    return fmt::format("{} queue_ms={} rpc_ms={}", u.trace.str(), fixed(*u.queue_ms), fixed(*u.rpc_ms));
  });
  // The step budget's view of the worst update (docs/STEPS.md): the step it was logged in, when
  // the orchestrator log has step summaries.
  for (const StepRecord& st : r.steps.steps) {
    if (!st.weights_queue_s || !(st.weights_trace == worst_u->trace) || st.orch_line == 0) continue;
    if (d.evidence.size() >= 5) d.evidence.pop_back();  // at most five lines: the link is one
    d.evidence.push_back({st.orch_file, st.orch_line,
                          fmt::format("logged inside orchestrator step {}: {} s, {} s of it in weight updates (the step budget)",
                                      st.step, fixed(val_or(st.orch_s)), fixed(val_or(st.update_s)))});
    break;
  }
  d.fix = kFixQueue;
  d.thresholds = {{"queue_saturation.queue_ms", q}, {"queue_saturation.rpc_ms", rp}, {"critical_share", share}};
  r.diagnoses.push_back(std::move(d));
}

void rule_slow_weight_load(Report& r, double share) {
  double q = r.thresholds.get("slow_weight_load.queue_ms"), rp = r.thresholds.get("slow_weight_load.rpc_ms");
  size_t n = 0, no_gen = 0;
  std::vector<Hit> hits;
  double worst_rpc = 0;
  for (size_t i = 0; i < r.updates.size(); ++i) {
    const auto& u = r.updates[i];
    if (!u.queue_ms || !u.rpc_ms) continue;
    ++n;
    if (*u.queue_ms < q && *u.rpc_ms > rp) {
      Location l = where_done(u);
      hits.push_back({*u.rpc_ms, l.file, l.line, i});
      worst_rpc = std::max(worst_rpc, *u.rpc_ms);
      if (u.batch_count == 0) ++no_gen;
    }
  }
  if (hits.empty()) return;
  Diagnosis d;
  d.id = "slow_weight_load";
  d.severity = by_share(hits.size(), n, share);
  d.summary = fmt::format("{} of {} updates ({}%) spent over {} ms in the engine with under {} ms of queueing; worst "
                          "rpc_ms {}; {} of them with no concurrent generation batch",
                          hits.size(), n, pct(hits.size(), n), fixed(rp, 0), fixed(q, 0), fixed(worst_rpc), no_gen);
  d.summary += capped(r.anomalies.untracked_updates);
  d.evidence = worst(std::move(hits), [&](size_t i) {
    const auto& u = r.updates[i];
    return fmt::format("{} rpc_ms={} queue_ms={}", u.trace.str(), fixed(*u.rpc_ms), fixed(*u.queue_ms));
  });
  d.fix = kFixSlowLoad;
  d.thresholds = {{"slow_weight_load.queue_ms", q}, {"slow_weight_load.rpc_ms", rp}, {"critical_share", share}};
  r.diagnoses.push_back(std::move(d));
}

// Rules over one kind of point event: value > limit.
void rule_points(Report& r, double share, const char* id, const char* metric, const char* key, const char* what,
                 const char* unit, const char* fix, std::string extra = "") {
  const auto* pts = r.points(metric);
  if (!pts) return;
  double lim = r.thresholds.get(key);
  std::vector<Hit> hits;
  double w = 0;
  for (size_t i = 0; i < pts->size(); ++i) {
    const auto& p = (*pts)[i];
    if (p.value > lim) {
      hits.push_back({p.value, p.file, p.line, i});
      w = std::max(w, p.value);
    }
  }
  if (hits.empty()) return;
  Diagnosis d;
  d.id = id;
  d.severity = by_share(hits.size(), pts->size(), share);
  d.summary = fmt::format("{} of {} {} ({}%) over {}{}; worst {}{}{}", hits.size(), pts->size(), what,
                          pct(hits.size(), pts->size()), fixed(lim, 0), unit, fixed(w), unit, extra);
  d.summary += capped(r.anomalies.untracked_point_events);
  d.evidence = worst(std::move(hits), [&](size_t i) {
    const auto& p = (*pts)[i];
    return fmt::format("{}={}{}", std::string_view(metric).substr(std::string_view(metric).find('.') + 1), fixed(p.value),
                       p.step >= 0 ? fmt::format(" step={}", p.step) : "");
  });
  d.fix = fix;
  d.thresholds = {{key, lim}, {"critical_share", share}};
  r.diagnoses.push_back(std::move(d));
}

void rule_staleness(Report& r) {
  const auto* pts = r.points("rollout.staleness");
  if (!pts) return;
  double warn = r.thresholds.get("rollout.staleness.warning"), crit = r.thresholds.get("rollout.staleness.critical");
  std::vector<Hit> hits;
  size_t over_crit = 0;
  double w = 0;
  for (size_t i = 0; i < pts->size(); ++i) {
    const auto& p = (*pts)[i];
    if (p.value > warn) {
      hits.push_back({p.value, p.file, p.line, i});
      if (p.value > crit) ++over_crit;
      w = std::max(w, p.value);
    }
  }
  if (hits.empty()) return;
  Diagnosis d;
  d.id = "staleness_barrier";
  d.severity = over_crit ? Severity::critical : Severity::warning;
  d.summary = fmt::format("{} of {} rollouts ({}%) ran with staleness above async_level {} ({} above {}); worst {}: the "
                          "orchestrator hit the async barrier",
                          hits.size(), pts->size(), pct(hits.size(), pts->size()), fixed(warn, 0), over_crit, fixed(crit, 0),
                          fixed(w, 0));
  d.summary += capped(r.anomalies.untracked_point_events);
  d.evidence = worst(std::move(hits), [&](size_t i) {
    const auto& p = (*pts)[i];
    return fmt::format("staleness={}{}", fixed(p.value, 0), p.step >= 0 ? fmt::format(" step={}", p.step) : "");
  });
  d.fix = kFixStale;
  d.thresholds = {{"rollout.staleness.warning", warn}, {"rollout.staleness.critical", crit}};
  r.diagnoses.push_back(std::move(d));
}

void rule_gen_spike(Report& r, double share) {
  double dur = r.thresholds.get("gen_spike_during_update.dur_ms"), q = r.thresholds.get("gen_spike_during_update.queue_ms");
  std::vector<Hit> hits;
  size_t n = 0;
  double w = 0;
  std::vector<std::pair<double, const UpdateReport*>> during;  // per hit: its dur_ms, the update that waited longest
  for (const auto& b : r.batches) {
    if (!b.dur_ms) continue;
    ++n;
    if (*b.dur_ms <= dur) continue;
    // The update that waited longest among those running during the batch (link_batches).
    if (b.longest_queued == BatchReport::kNoUpdate) continue;
    const UpdateReport* hit = &r.updates[b.longest_queued];
    if (!hit->queue_ms || *hit->queue_ms <= q) continue;
    hits.push_back({*b.dur_ms, b.file, b.done_line, during.size()});
    during.emplace_back(*b.dur_ms, hit);
    w = std::max(w, *b.dur_ms);
  }
  if (hits.empty()) return;
  Diagnosis d;
  d.id = "gen_spike_during_update";
  d.severity = by_share(hits.size(), n, r.thresholds.get("critical_share"));
  (void)share;
  d.summary = fmt::format("{} of {} generation batches ({}%) took over {} ms while a weight update waited over {} ms in "
                          "the queue; worst batch {} ms: shared resource contention",
                          hits.size(), n, pct(hits.size(), n), fixed(dur, 0), fixed(q, 0), fixed(w));
  d.summary += capped(r.anomalies.untracked_batches);
  d.evidence = worst(std::move(hits), [&](size_t i) {
    const auto& [dur_ms, u] = during[i];
    return fmt::format("dur_ms={} during update {} (queue_ms={})", fixed(dur_ms), u->trace.str(), fixed(*u->queue_ms));
  });
  d.fix = kFixSpike;
  d.thresholds = {{"gen_spike_during_update.dur_ms", dur}, {"gen_spike_during_update.queue_ms", q}, {"critical_share", r.thresholds.get("critical_share")}};
  r.diagnoses.push_back(std::move(d));
}

void rule_incomplete(Report& r, double share) {
  std::vector<Hit> hits;
  std::map<std::string_view, size_t> by_phase;  // by name, as the summary lists them
  for (size_t i = 0; i < r.updates.size(); ++i) {
    const auto& u = r.updates[i];
    if (u.complete) continue;
    ++by_phase[u.last_phase];
    // Order evidence by how far along the update got (hung engine first), then by position.
    double key = u.last_phase == "engine" ? 3 : u.last_phase == "server_to_client" ? 2 : u.last_phase == "server_pre_rpc" ? 1 : 0;
    hits.push_back({key, u.send_at.file, u.send_at.line, i});
  }
  if (hits.empty()) return;
  std::string phases;
  for (const auto& [p, k] : by_phase) phases += fmt::format("{}{} {}", phases.empty() ? "" : ", ", k, describe_last_phase(p));
  Diagnosis d;
  d.id = "incomplete_update";
  d.severity = by_phase.count("engine") ? Severity::critical : by_share(hits.size(), r.updates.size(), share);
  d.summary = fmt::format("{} of {} weight updates never completed: {}", hits.size(), r.updates.size(), phases);
  d.summary += capped(r.anomalies.untracked_updates);
  d.evidence = worst(std::move(hits), [&](size_t i) {
    const auto& u = r.updates[i];
    return fmt::format("{} {}: {}", u.reload ? "reload" : "update", u.trace.str(), describe_last_phase(u.last_phase));
  });
  d.fix = kFixIncomplete;
  d.thresholds = {{"critical_share", share}};
  r.diagnoses.push_back(std::move(d));
}

}  // namespace

void diagnose(Report& r) {
  r.diagnoses.clear();
  double share = r.thresholds.get("critical_share");
  rule_queue_saturation(r, share);
  rule_slow_weight_load(r, share);
  std::string writes;
  if (const MetricReport* w = r.metric("ckpt.write_ms"))
    writes = fmt::format("; trainer write_ms mean {} ms, max {} ms", fixed(w->stats.mean), fixed(w->stats.max));
  rule_points(r, share, "ckpt_stall", "ckpt.wait_ms", "ckpt_stall.wait_ms", "checkpoint waits", " ms", kFixCkpt, writes);
  rule_points(r, share, "slow_ckpt_write", "ckpt.write_ms", "slow_ckpt_write.write_ms", "checkpoint writes", " ms", kFixCkpt);
  rule_points(r, share, "high_truncation", "rollout.trunc_pct", "high_truncation.trunc_pct", "rollouts", "%", kFixTrunc);
  rule_staleness(r);
  rule_gen_spike(r, share);
  rule_incomplete(r, share);
  diagnose_steps(r);
  std::stable_sort(r.diagnoses.begin(), r.diagnoses.end(), [](const Diagnosis& a, const Diagnosis& b) {
    return a.severity == Severity::critical && b.severity != Severity::critical;
  });
}

bool has_diagnosis_at_least(const Report& r, Severity level) {
  for (const auto& d : r.diagnoses)
    if (level == Severity::warning || d.severity == Severity::critical) return true;
  return false;
}

namespace {

// The statistics a check can name, and where each is in a Summary: parse and evaluate read this
// one table.
struct StatDef {
  std::string_view name;
  double (*get)(const Summary&);
};
constexpr StatDef kStatDefs[] = {
    {"count", [](const Summary& s) { return static_cast<double>(s.count); }},
    {"mean", [](const Summary& s) { return s.mean; }},
    {"min", [](const Summary& s) { return s.min; }},
    {"p50", [](const Summary& s) { return s.p50; }},
    {"p90", [](const Summary& s) { return s.p90; }},
    {"p95", [](const Summary& s) { return s.p95; }},
    {"p99", [](const Summary& s) { return s.p99; }},
    {"max", [](const Summary& s) { return s.max; }},
};

const StatDef* stat_def(std::string_view name) {
  for (const auto& d : kStatDefs)
    if (d.name == name) return &d;
  return nullptr;
}

template <class Table>
std::string names_of(const Table& table) {
  std::string s;
  for (const auto& d : table) s += fmt::format("{}{}", s.empty() ? "" : ", ", d.name);
  return s;
}

}  // namespace

std::string expect_metric_names() {
  return names_of(kMetricDefs);
}
std::string expect_stat_names() {
  return names_of(kStatDefs);
}

Expectation parse_expectation(std::string_view expr) {
  auto bad = [&](std::string_view why) {
    return std::invalid_argument(fmt::format("--expect '{}': {} (expected METRIC.STAT OP NUMBER, e.g. "
                                             "'weights.queue_ms.p99<300')",
                                             printable(expr), why));
  };
  size_t op = expr.find_first_of("<>=!");
  if (op == std::string_view::npos) throw bad("no comparison operator");
  size_t op_end = op + 1;
  if (op_end < expr.size() && expr[op_end] == '=') ++op_end;
  Expectation e;
  e.text = std::string(expr);
  e.op = std::string(expr.substr(op, op_end - op));
  if (e.op != "<" && e.op != "<=" && e.op != ">" && e.op != ">=" && e.op != "==" && e.op != "!=")
    throw bad(fmt::format("unknown operator '{}'", e.op));
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  std::string_view lhs = trim(expr.substr(0, op)), rhs = trim(expr.substr(op_end));
  if (metric_def(lhs))
    throw bad(fmt::format("no statistic after '{}' ({})", lhs, expect_stat_names()));
  size_t dot = lhs.rfind('.');
  if (dot == std::string_view::npos || dot == 0) throw bad("no METRIC.STAT before the operator");
  e.metric = std::string(lhs.substr(0, dot));
  e.stat = std::string(lhs.substr(dot + 1));
  // The names are a fixed set: a typo is a usage error now, not a failed check after the whole
  // input has been read.
  if (!metric_def(e.metric)) {
    std::string hint;
    for (const auto& d : kMetricDefs)
      if (d.name.starts_with(e.metric) || e.metric.starts_with(d.name))
        hint = hint.empty() ? fmt::format(" (did you mean {}?)", d.name) : " ";
    if (hint == " ") hint.clear();  // more than one candidate: the list says it
    throw std::invalid_argument(
        fmt::format("--expect '{}': unknown metric '{}'{}; the prime-rl metrics are {}",
                    printable(expr), printable(e.metric), hint, expect_metric_names()));
  }
  if (!stat_def(e.stat))
    throw bad(fmt::format("unknown statistic '{}' ({})", printable(e.stat), expect_stat_names()));
  auto v = parse_finite(rhs);
  if (!v) throw bad(fmt::format("'{}' is not a number", printable(rhs)));
  e.value = *v;
  return e;
}

namespace {
bool compare(double a, const std::string& op, double b) {
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  if (op == ">=") return a >= b;
  if (op == "==") return a == b;
  return a != b;
}

ExpectResult finish(const Expectation& e, std::optional<double> actual) {
  ExpectResult r;
  r.expr = e.text;
  r.actual = actual;
  if (!actual) {
    r.passed = false;
    r.measured = r.message = fmt::format("{} has no samples", e.metric);
    return r;
  }
  r.passed = compare(*actual, e.op, e.value);
  std::string value = fixed(*actual, e.stat == "count" ? 0 : 3);
  r.measured = fmt::format("{}.{} = {}", e.metric, e.stat, value);
  r.message = fmt::format("{} ({} {} {}: {})", r.measured, value, e.op, e.value,
                          r.passed ? "met" : "not met");
  return r;
}
}  // namespace

// A metric without samples has a count (0) and no other statistic.
ExpectResult evaluate(const Expectation& e, const Report& r) {
  const MetricReport* m = r.metric(e.metric);
  std::optional<double> v;
  if (e.stat == "count") {
    v = m ? static_cast<double>(m->stats.count) : 0.0;
  } else if (m && m->stats.count > 0) {
    if (const StatDef* s = stat_def(e.stat)) v = s->get(m->stats);
  }
  return finish(e, v);
}

ExpectResult evaluate(const Expectation& e, const nlohmann::json& j) {
  std::optional<double> v;
  if (j.is_object() && j.contains("metrics") && j["metrics"].is_object()) {
    const nlohmann::json& metrics = j["metrics"];
    auto m = metrics.find(e.metric);
    if (m == metrics.end()) {
      if (e.stat == "count") v = 0.0;  // a report written before every metric was listed
    } else if (m->is_object() && m->contains(e.stat) && (*m)[e.stat].is_number()) {
      v = (*m)[e.stat].get<double>();
      // A statistic of no sample is not a measurement (a count of 0 is).
      if (e.stat != "count" && m->contains("count") && (*m)["count"].is_number() &&
          (*m)["count"].get<double>() == 0)
        v.reset();
    }
  }
  return finish(e, v);
}

}  // namespace alog
