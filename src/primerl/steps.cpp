#include "analyze_logs/primerl/steps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"

namespace alog {

std::string_view step_source_name(StepSource s) {
  switch (s) {
    case StepSource::lines:
      return "lines";
    case StepSource::metrics:
      return "metrics.jsonl";
    default:
      return "none";
  }
}

std::string_view step_bound_name(StepBound b) {
  switch (b) {
    case StepBound::trainer:
      return "trainer-bound";
    case StepBound::inference:
      return "inference-bound";
    case StepBound::handover:
      return "hand-over-bound";
    default:
      return "none";
  }
}

namespace {

constexpr double kNA = std::numeric_limits<double>::quiet_NaN();
constexpr uint32_t kNone = UINT32_MAX;
bool known(double v) {
  return !std::isnan(v);
}
OptDouble opt(double v) {
  return known(v) ? OptDouble(v) : OptDouble(std::nullopt);
}
double val(const OptDouble& d) {
  return d ? *d : 0.0;
}
double or0(double v) {
  return known(v) ? v : 0.0;
}

// The orchestrator's half of a step, from its lines or from a metrics.jsonl row. From the lines,
// the parts are sums of the lines seen since the previous step line; whether they are known is
// decided per file at the end (a part whose lines never appear in the file is not logged).
struct OrchHalf {
  double o = kNA, barrier = 0, gate = 0, u = 0, e = 0, off = kNA;
  double m_wait = kNA, m_update = kNA, m_gen = kNA;  // metrics.jsonl only
  TraceId trace;  // the tagged view: the [weights] update that queued longest in the step ...
  uint64_t line = 0;
  uint32_t file = 0;
  double queue_ms = kNA;       // ... and its queue_ms
  double tagged_wall_ms = 0;   // the tagged updates' wall_ms in the step, summed (exact: doubles)
  bool gap = false;  // a wait from a time-of-day gap
};
// The trainer's half: its timer t as printed, and the parts.
struct TrainerHalf {
  double t = kNA, w = 0, b = 0, s = kNA, c = kNA;
  uint64_t line = 0;
  uint32_t file = 0;
  bool metrics = false;
};
struct Rec {
  int64_t step = 0;
  uint32_t ol = kNone, om = kNone, tl = kNone, tm = kNone;  // halves: lines, metrics.jsonl
  bool ckpt = false;
};

// What a file logged: a part is known for the file's steps when its lines appear in it at all.
struct FileSeen {
  bool barrier = false, gate = false, update = false, eval = false, idle = false, bcast = false;
  bool tagged_update = false;  // [weights] client.done lines: the weight update's time, tagged
  bool trainer_decided = false, trainer_pre07 = false;
  int orch_shape = 0;
};

// A metrics.jsonl step being gathered (several rows per step).
struct Row {
  bool open = false;
  int64_t step = 0;
  Event ev;
};

// Seconds from time of day a to b on one host's clock (a run may pass midnight once between).
double tod_gap(int32_t a, int32_t b) {
  if (a < 0 || b < 0) return kNA;
  int32_t d = b - a;
  if (d < 0) d += 86400;
  return static_cast<double>(d);
}

}  // namespace

struct StepFolder::Impl {
  size_t max_table;
  std::vector<Rec> recs;
  std::vector<OrchHalf> ol, om;
  std::vector<TrainerHalf> tl, tm;
  // Step number -> recs index: dense for the usual 0/1-based runs, a map for the rest.
  std::vector<uint32_t> dense;
  std::unordered_map<int64_t, uint32_t> sparse;
  uint64_t untracked = 0;
  uint64_t orch_lines = 0, trainer_lines = 0, metrics_rows = 0;
  std::vector<FileSeen> seen;  // by file index
  // The file being read.
  uint32_t file = 0;
  std::string path;
  double pend_barrier = 0, pend_gate = 0, pend_u = 0, pend_e = 0, pend_w = 0, pend_b = 0;
  double pend_queue = kNA, pend_tag_wall = 0;
  TraceId pend_trace;
  bool pend_gap = false;
  int32_t pause_tod = -1, dispatch_tod = -1, hold_tod = -1, eval_tod = -1;
  Row row;
  bool any_pre07_trainer = false, any_post07_trainer = false;
  int max_orch_shape = 0, max_trainer_shape = 0;
  bool zero_based = false;

  FileSeen& fs() { return seen[file]; }

  Rec* get(int64_t step) {
    if (step >= 0 && static_cast<uint64_t>(step) < dense.size() &&
        dense[static_cast<size_t>(step)] != kNone)
      return &recs[dense[static_cast<size_t>(step)]];
    if (auto it = sparse.find(step); it != sparse.end()) return &recs[it->second];
    if (recs.size() >= StepsReport::kMaxSteps) {
      ++untracked;
      return nullptr;
    }
    auto i = static_cast<uint32_t>(recs.size());
    // Dense while the step numbers stay within a few times the steps seen (no huge array for a
    // run that starts at step 10^9).
    if (step >= 0 && static_cast<uint64_t>(step) <= 4 * recs.size() + 4096) {
      auto k = static_cast<size_t>(step);
      if (dense.size() <= k) dense.resize(std::max(k + 1, dense.size() * 2), kNone);
      dense[k] = i;
    } else {
      sparse.emplace(step, i);
    }
    recs.push_back(Rec{});
    recs.back().step = step;
    return &recs.back();
  }

  template <class H>
  static H& half(std::vector<H>& v, uint32_t& idx) {
    if (idx == kNone) {
      idx = static_cast<uint32_t>(v.size());
      v.emplace_back();
    }
    v[idx] = H{};
    return v[idx];
  }

  void orch_step(const Event& ev) {
    ++orch_lines;
    auto step = static_cast<int64_t>(ev.get(Field::step));
    if (step == 0) zero_based = true;
    int shape = ev.has(Field::shape) ? static_cast<int>(ev.get(Field::shape)) : 6;
    fs().orch_shape = std::max(fs().orch_shape, shape);
    max_orch_shape = std::max(max_orch_shape, shape);
    // A hold is over when its batch ships: at this line.
    if (hold_tod >= 0) {
      double g = tod_gap(hold_tod, ev.tod);
      if (known(g)) pend_gate += g, pend_gap = true;
      hold_tod = -1;
    }
    Rec* r = get(step);
    OrchHalf h;
    h.o = ev.get(Field::secs);
    h.barrier = pend_barrier;
    h.gate = pend_gate;
    h.u = pend_u;
    h.e = pend_e;
    h.gap = pend_gap;
    h.queue_ms = pend_queue;
    h.trace = pend_trace;
    h.tagged_wall_ms = pend_tag_wall;
    pend_queue = kNA;
    pend_tag_wall = 0;
    pend_barrier = pend_gate = pend_u = pend_e = 0;
    pend_gap = false;
    if (!r) return;
    if (ev.has(Field::max_off_policy))
      h.off = ev.get(Field::max_off_policy);
    else if (ev.has(Field::async_level))
      h.off = ev.get(Field::async_level);
    h.file = file;
    h.line = ev.line;
    half(ol, r->ol) = h;
  }

  void trainer_step(const Event& ev) {
    ++trainer_lines;
    auto step = static_cast<int64_t>(ev.get(Field::step));
    if (step == 0) zero_based = true;
    int shape = ev.has(Field::shape) ? static_cast<int>(ev.get(Field::shape)) : 6;
    max_trainer_shape = std::max(max_trainer_shape, shape);
    FileSeen& f = fs();
    if (!f.trainer_decided) {
      // Broadcast and save run before the timer up to v0.6.x, inside it from v0.7.0 (which also
      // made steps 1-based): the `Time:` shape, an orchestrator without `Branches`, or a first
      // step 0 say "before"; otherwise (v0.6+ shape, nothing else known) "from v0.7.0".
      f.trainer_decided = true;
      f.trainer_pre07 = shape == 5 || max_orch_shape == 5 || max_orch_shape == 6 || step == 0;
      (f.trainer_pre07 ? any_pre07_trainer : any_post07_trainer) = true;
    }
    Rec* r = get(step);
    TrainerHalf h;
    h.t = ev.get(Field::secs);
    h.w = pend_w;
    h.b = pend_b;
    pend_w = pend_b = 0;
    if (!r) return;
    h.file = file;
    h.line = ev.line;
    half(tl, r->tl) = h;
  }

  void flush_row() {
    if (!row.open) return;
    row.open = false;
    const Event& ev = row.ev;
    auto has = [&](Field f) { return ev.has(f); };
    auto get_na = [&](Field f) { return ev.has(f) ? ev.get(f) : kNA; };
    bool trainer = has(Field::m_wait_batch) || has(Field::m_load) || has(Field::m_fwd_bwd) ||
                   has(Field::m_broadcast);
    bool orch = has(Field::m_wait_policy) || has(Field::m_wait_ckpt) || has(Field::m_update) ||
                has(Field::m_generate);
    if (!trainer && !orch) {
      // Only time/step (and time/save_ckpt): the component from the file's folder or name.
      if (path.find("trainer") != std::string::npos)
        trainer = true;
      else if (path.find("orchestrator") != std::string::npos)
        orch = true;
    }
    if (trainer == orch || !has(Field::m_step)) return;  // cannot tell, or no step time
    Rec* r = get(row.step);
    if (!r) return;
    if (orch) {
      OrchHalf& h = half(om, r->om);
      h.o = ev.get(Field::m_step);
      h.m_wait =
          has(Field::m_wait_policy) ? ev.get(Field::m_wait_policy) : get_na(Field::m_wait_ckpt);
      h.m_update = get_na(Field::m_update);
      h.m_gen = get_na(Field::m_generate);
      h.file = file;
    } else {
      TrainerHalf& h = half(tm, r->tm);
      h.metrics = true;
      h.t =
          ev.get(Field::m_step);  // metrics.jsonl exists from v0.8.0: broadcast and save are inside
      h.w = get_na(Field::m_wait_batch);
      h.b = get_na(Field::m_broadcast);
      h.s = get_na(Field::m_save);
      if (has(Field::m_fwd_bwd)) h.c = or0(get_na(Field::m_load)) + ev.get(Field::m_fwd_bwd);
      h.file = file;
    }
  }

  void metrics_row(const Event& ev) {
    ++metrics_rows;
    auto step = static_cast<int64_t>(ev.get(Field::step));
    if (row.open && row.step != step) flush_row();
    if (!row.open) {
      row.open = true;
      row.step = step;
      row.ev = Event{};
    }
    // The rows of one step are merged; a key given twice keeps its last value.
    for (int f = kTagFieldCount; f < kFieldCount; ++f) {
      uint32_t b = 1u << f;
      if (ev.present & b) {
        row.ev.present |= b;
        row.ev.v[static_cast<size_t>(f)] = ev.v[static_cast<size_t>(f)];
      }
    }
  }

  // A pause or resume of the barrier (before v0.6.0 it blocks the orchestrator; from v0.6.0 the
  // weight watcher logs it and rollouts go on, so finish() counts it only in the v0.5 shape).
  void waited(const Event& ev) {
    fs().barrier = true;
    if (ev.has(Field::secs)) {
      pend_barrier += ev.get(Field::secs);
    } else if (double g = tod_gap(pause_tod, ev.tod); known(g)) {
      pend_barrier += g;
      pend_gap = true;
    }
    pause_tod = -1;
  }
};

StepFolder::StepFolder(size_t max_steps) : impl_(std::make_unique<Impl>()) {
  impl_->max_table = std::min(max_steps, StepsReport::kMaxTable);
}
StepFolder::~StepFolder() = default;

void StepFolder::begin_file(uint32_t file, std::string_view path) {
  end_file();
  Impl& m = *impl_;
  m.file = file;
  if (m.seen.size() <= file) m.seen.resize(file + 1);
  m.path = std::string(path);
  m.pend_barrier = m.pend_gate = m.pend_u = m.pend_e = m.pend_w = m.pend_b = 0;
  m.pend_queue = kNA;
  m.pend_tag_wall = 0;
  m.pend_gap = false;
  m.pause_tod = m.dispatch_tod = m.hold_tod = m.eval_tod = -1;
}

void StepFolder::end_file() {
  impl_->flush_row();
}

size_t StepFolder::bytes_per_step() const {
  const Impl& m = *impl_;
  size_t n = std::max<size_t>(1, m.recs.size());
  size_t bytes = m.recs.capacity() * sizeof(Rec) +
                 (m.ol.capacity() + m.om.capacity()) * sizeof(OrchHalf) +
                 (m.tl.capacity() + m.tm.capacity()) * sizeof(TrainerHalf) +
                 m.dense.capacity() * sizeof(uint32_t) +
                 m.sparse.size() * (sizeof(std::pair<int64_t, uint32_t>) + 2 * sizeof(void*));
  return bytes / n;
}

size_t StepFolder::steps_held() const {
  return impl_->recs.size();
}

void StepFolder::on_tagged_update(double wall_ms, double queue_ms, const TraceId& trace) {
  Impl& m = *impl_;
  if (m.seen.size() <= m.file) m.seen.resize(m.file + 1);
  m.fs().tagged_update = true;
  m.pend_tag_wall += wall_ms;
  if (known(queue_ms) && (!known(m.pend_queue) || queue_ms > m.pend_queue))
    m.pend_queue = queue_ms, m.pend_trace = trace;
}

void StepFolder::on_event(const Event& ev) {
  Impl& m = *impl_;
  auto secs = [&] { return ev.has(Field::secs) ? ev.get(Field::secs) : 0.0; };
  switch (ev.op) {
    case Op::step_orch:
      m.orch_step(ev);
      break;
    case Op::step_trainer:
      m.trainer_step(ev);
      break;
    case Op::orch_pause:
      m.fs().barrier = true;
      m.pause_tod = ev.tod;
      break;
    case Op::orch_waited:
      m.waited(ev);
      break;
    case Op::dispatch_pause:
      m.fs().gate = true;
      m.dispatch_tod = ev.tod;
      break;
    case Op::dispatch_resume:
      m.fs().gate = true;
      if (double g = tod_gap(m.dispatch_tod, ev.tod); known(g)) m.pend_gate += g, m.pend_gap = true;
      m.dispatch_tod = -1;
      break;
    case Op::orch_hold:
      m.fs().gate = true;
      m.hold_tod = ev.tod;
      break;
    case Op::orch_updated:
      m.fs().update = true;
      m.pend_u += secs();
      break;
    case Op::eval_start:
      m.fs().eval = true;
      m.eval_tod = ev.tod;
      break;
    case Op::orch_eval:
      m.fs().eval = true;
      m.pend_e += secs();
      m.eval_tod = -1;
      break;
    case Op::trainer_waited:
      m.fs().idle = true;
      m.pend_w += secs();
      break;
    case Op::trainer_broadcast:
      m.fs().bcast = true;
      m.pend_b += secs();
      break;
    case Op::ckpt_saving:
      if (Rec* r = m.get(static_cast<int64_t>(ev.get(Field::step)))) r->ckpt = true;
      break;
    case Op::metrics_row:
      m.metrics_row(ev);
      break;
    default:
      break;
  }
}

namespace {

// The names of the parts, in StepRecord order, as report.json's table and the step.* metrics
// call them.
struct PartDef {
  const char* column;
  const char* metric;
  OptDouble StepRecord::*field;
  OptDouble StepsReport::*mean;  // nullptr: no mean (max_off_policy)
};
constexpr PartDef kParts[] = {
    {"orchestrator_s", "step.orchestrator_s", &StepRecord::orch_s, &StepsReport::orch_s},
    {"wait_for_trainer_s", "step.wait_for_trainer_s", &StepRecord::wait_s, &StepsReport::wait_s},
    {"weight_update_s", "step.weight_update_s", &StepRecord::update_s, &StepsReport::update_s},
    {"eval_s", "step.eval_s", &StepRecord::eval_s, &StepsReport::eval_s},
    {"generation_s", "step.generation_s", &StepRecord::gen_s, &StepsReport::gen_s},
    {"max_off_policy", "step.max_off_policy", &StepRecord::max_off_policy, nullptr},
    {"trainer_s", "step.trainer_s", &StepRecord::trainer_s, &StepsReport::trainer_s},
    {"trainer_idle_s", "step.trainer_idle_s", &StepRecord::idle_s, &StepsReport::idle_s},
    {"compute_s", "step.compute_s", &StepRecord::compute_s, &StepsReport::compute_s},
    {"broadcast_s", "step.broadcast_s", &StepRecord::broadcast_s, &StepsReport::broadcast_s},
    {"save_s", "step.save_s", &StepRecord::save_s, &StepsReport::save_s},
};

}  // namespace

namespace {

constexpr double kOutlierFactor = 2.0;  // an outlier's wall: at least twice the median ...
constexpr double kOutlierMinS = 5.0;    // ... and this much more than it

// Drift, the tenths, the median and the outliers (see StepsReport). walls: (step, wall) in step
// order. The slope is least squares over centred values (no cancellation at step 10^6).
void over_time(StepsReport& s, const std::vector<std::pair<double, double>>& walls,
               std::vector<StepRecord>& slowest) {
  if (walls.size() < 2) return;
  size_t tenth = std::max<size_t>(1, walls.size() / 10);
  double a = 0, b = 0;
  for (size_t i = 0; i < tenth; ++i) a += walls[i].second, b += walls[walls.size() - 1 - i].second;
  s.first_tenth_s = a / static_cast<double>(tenth);
  s.last_tenth_s = b / static_cast<double>(tenth);
  std::vector<double> sorted;
  sorted.reserve(walls.size());
  for (const auto& w : walls) sorted.push_back(w.second);
  // numpy's median: the middle, or the mean of the two middles (selected, not sorted).
  size_t h = sorted.size() / 2;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(h), sorted.end());
  double median = sorted[h];
  if (sorted.size() % 2 == 0)
    median = (*std::max_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(h)) + median) / 2;
  s.median_s = median;
  // The drift: least squares over the steps that are not outliers (an eval or a checkpoint every
  // 100 steps is not "getting slower"), on centred values (no cancellation at step 10^6).
  auto normal = [&](double w) { return w < kOutlierFactor * median || w - median < kOutlierMinS; };
  double n = 0, mx = 0, my = 0;
  for (const auto& [x, y] : walls)
    if (normal(y)) n += 1, mx += x, my += y;
  if (n >= 2) {
    mx /= n, my /= n;
    double sxy = 0, sxx = 0;
    for (const auto& [x, y] : walls)
      if (normal(y)) sxy += (x - mx) * (y - my), sxx += (x - mx) * (x - mx);
    if (sxx > 0) s.drift_s_per_100 = 100.0 * sxy / sxx;
  }
  std::sort(slowest.begin(), slowest.end(), [](const auto& x, const auto& y) {
    return val(x.orch_s) != val(y.orch_s) ? val(x.orch_s) > val(y.orch_s) : x.step < y.step;
  });
  for (const auto& x : slowest) {
    double o = val(x.orch_s);
    if (normal(o)) continue;
    std::vector<std::string> what;
    if (x.ckpt) what.emplace_back("checkpoint saved");
    if (val(x.save_s) > 0) what.push_back(fmt::format("save {:.1f} s", *x.save_s));
    if (val(x.eval_s) > 0) what.push_back(fmt::format("eval {:.1f} s", *x.eval_s));
    if (val(x.wait_s) > 0)
      what.push_back(fmt::format("trainer wait {:.1f} s", *x.wait_s));
    if (val(x.update_s) > 0) what.push_back(fmt::format("update {:.1f} s", *x.update_s));
    // The tagged view of the same step: a weight update that queued in the front end.
    if (val(x.weights_queue_s) >= 1.0)
      what.push_back(fmt::format("[weights] {} queued {:.1f} s", x.weights_trace.str(), *x.weights_queue_s));
    if (val(x.broadcast_s) > 0) what.push_back(fmt::format("broadcast {:.1f} s", *x.broadcast_s));
    std::string inside;
    for (const auto& w : what) inside += (inside.empty() ? "" : ", ") + w;
    if (inside.empty()) inside = "generation only (nothing else logged)";
    s.outliers.push_back({x.step, o, inside});
  }
}

}  // namespace

void StepFolder::finish(Report& r, std::vector<std::pair<std::string, SampleBuffer>>& samples) {
  end_file();
  Impl& m = *impl_;
  StepsReport& s = r.steps;
  s.untracked = m.untracked;
  s.orch_lines = m.orch_lines;
  s.trainer_lines = m.trainer_lines;
  s.metrics_rows = m.metrics_rows;
  s.zero_based = m.zero_based;
  bool orch_metrics = !m.om.empty(), trainer_metrics = !m.tm.empty();
  s.orch_source = orch_metrics    ? StepSource::metrics
                  : !m.ol.empty() ? StepSource::lines
                                  : StepSource::none;
  s.trainer_source = trainer_metrics ? StepSource::metrics
                     : !m.tl.empty() ? StepSource::lines
                                     : StepSource::none;
  if (trainer_metrics || orch_metrics)
    s.era = "v0.8 (metrics.jsonl)";
  else if (m.max_orch_shape == 5 || m.max_trainer_shape == 5)
    s.era = "v0.5";
  else if (m.max_orch_shape == 6 || (m.any_pre07_trainer && !m.any_post07_trainer))
    s.era = "v0.6";
  else if (m.max_orch_shape == 7 || m.any_post07_trainer)
    s.era = "v0.7+";
  s.trainer_timer_includes_handover =
      trainer_metrics || (m.any_post07_trainer && !m.any_pre07_trainer);

  std::vector<uint32_t> order(m.recs.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return m.recs[a].step < m.recs[b].step; });

  std::vector<SampleBuffer> buf(std::size(kParts));
  double sum[std::size(kParts)] = {};
  uint64_t cnt[std::size(kParts)] = {};
  bool any_known[std::size(kParts)] = {};
  // The top steps of each bound (trainer: wait, inference: idle, hand-over: update + broadcast +
  // save), kept to 5 as they come.
  std::vector<StepRecord> top[3];
  auto keep_top = [](std::vector<StepRecord>& v, const StepRecord& x,
                     double (*key)(const StepRecord&)) {
    if (v.size() < 5) {
      v.push_back(x);
      return;
    }
    auto low = std::min_element(v.begin(), v.end(),
                                [&](const auto& a, const auto& b) { return key(a) < key(b); });
    if (key(x) > key(*low)) *low = x;
  };
  auto k_wait = [](const StepRecord& x) { return val(x.wait_s); };
  auto k_idle = [](const StepRecord& x) { return val(x.idle_s); };
  auto k_hand = [](const StepRecord& x) {
    return val(x.update_s) + val(x.broadcast_s) + val(x.save_s);
  };

  // The run over time: sums for the slope, the walls in step order, the slowest steps.
  std::vector<std::pair<double, double>> walls;
  std::vector<StepRecord> slowest;
  auto k_wall = [](const StepRecord& x) { return val(x.orch_s); };
  for (uint32_t i : order) {
    const Rec& x = m.recs[i];
    StepRecord out;
    out.step = x.step;
    out.ckpt = x.ckpt;
    const OrchHalf* lo = x.ol != kNone ? &m.ol[x.ol] : nullptr;
    const OrchHalf* mo = x.om != kNone ? &m.om[x.om] : nullptr;
    // The lines' parts, known only where the file logs them. From v0.6.0 the barrier lines
    // come from the weight watcher and do not block: the wait is the dispatcher's pauses and
    // the holds.
    double lo_wait = kNA, lo_u = kNA, lo_e = kNA;
    if (lo) {
      const FileSeen& f = m.seen[lo->file];
      if (f.orch_shape == 5) {
        if (f.barrier || f.gate) lo_wait = lo->barrier + lo->gate;
      } else if (f.gate) {
        lo_wait = lo->gate;
      }
      if (f.update) lo_u = lo->u;
      // No `Updated weights` line, but the tagged [weights] lines time the same call: the
      // orchestrator waits for its client.done (docs/STEPS.md).
      else if (f.tagged_update) lo_u = lo->tagged_wall_ms / 1000.0;
      if (f.eval) lo_e = lo->e;
    }
    if (mo) {
      // metrics.jsonl is exact: its wall, wait and update; blocking evals only from the lines.
      out.orch_src = StepSource::metrics;
      out.orch_s = mo->o;
      out.wait_s = opt(mo->m_wait);
      out.update_s = opt(mo->m_update);
      if (!out.update_s && lo) out.update_s = opt(lo_u);
      double rest = mo->o - or0(mo->m_wait) - val(out.update_s);
      out.eval_s = lo ? opt(known(lo_e) ? std::min(lo_e, std::max(0.0, rest)) : kNA) : std::nullopt;
      out.gen_s = known(mo->m_gen) ? mo->m_gen : std::max(0.0, rest - val(out.eval_s));
      out.max_off_policy = lo ? opt(lo->off) : std::nullopt;
      out.orch_file = mo->file;
      if (lo) out.orch_line = lo->line, out.orch_file = lo->file;
    } else if (lo) {
      out.orch_src = StepSource::lines;
      out.orch_s = lo->o;
      out.wait_s = opt(lo_wait);
      out.update_s = opt(lo_u);
      out.eval_s = opt(lo_e);
      out.gen_s = std::max(0.0, lo->o - or0(lo_wait) - or0(lo_u) - or0(lo_e));
      out.max_off_policy = opt(lo->off);
      out.orch_file = lo->file;
      out.orch_line = lo->line;
      if (known(lo_wait) && lo->gap) s.wait_from_gaps = true;
    }
    if (lo && known(lo->queue_ms)) {
      out.weights_queue_s = lo->queue_ms / 1000.0;
      out.weights_trace = lo->trace;
    }
    const TrainerHalf* lt = x.tl != kNone ? &m.tl[x.tl] : nullptr;
    const TrainerHalf* mt = x.tm != kNone ? &m.tm[x.tm] : nullptr;
    if (mt) {
      out.trainer_src = StepSource::metrics;
      out.trainer_s = mt->t;
      out.idle_s = opt(mt->w);
      out.broadcast_s = opt(mt->b);
      out.save_s = opt(mt->s);
      out.compute_s =
          known(mt->c) ? mt->c : std::max(0.0, mt->t - or0(mt->w) - or0(mt->b) - or0(mt->s));
      out.trainer_file = mt->file;
      if (lt) out.trainer_line = lt->line, out.trainer_file = lt->file;
    } else if (lt) {
      const FileSeen& f = m.seen[lt->file];
      double w = f.idle ? lt->w : kNA, b = f.bcast ? lt->b : kNA;
      out.trainer_src = StepSource::lines;
      out.idle_s = opt(w);
      out.broadcast_s = opt(b);
      if (f.trainer_pre07) {  // broadcast (and save) before the timer
        out.trainer_s = lt->t + or0(b);
        out.compute_s = std::max(0.0, lt->t - or0(w));
      } else {
        out.trainer_s = lt->t;
        out.compute_s = std::max(0.0, lt->t - or0(w) - or0(b));
      }
      out.trainer_file = lt->file;
      out.trainer_line = lt->line;
    }
    if (!lo && !mo && !lt && !mt) continue;  // only a `Saving checkpoint` line
    ++s.total;
    bool paired = out.paired();
    if (paired) ++s.paired;
    for (size_t k = 0; k < std::size(kParts); ++k) {
      const OptDouble& v = out.*kParts[k].field;
      if (!v) continue;
      buf[k].push_back(*v);
      any_known[k] = true;
      if (paired) sum[k] += *v, ++cnt[k];
    }
    if (out.orch_s) {
      walls.emplace_back(static_cast<double>(out.step), *out.orch_s);
      keep_top(slowest, out, k_wall);
    }
    if (out.max_off_policy) {
      double v = *out.max_off_policy;
      if (!s.off_policy_first) s.off_policy_first = v;
      s.off_policy_last = v;
      s.off_policy_max = std::max(v, val(s.off_policy_max));
      if (v > r.async_level) ++s.off_policy_above_async;
    }
    if (paired) {
      keep_top(top[0], out, k_wait);
      keep_top(top[1], out, k_idle);
      keep_top(top[2], out, k_hand);
    }
    if (s.steps.size() < m.max_table)
      s.steps.push_back(out);
    else
      ++s.table_omitted;
  }
  for (size_t k = 0; k < std::size(kParts); ++k) {
    if (kParts[k].mean && cnt[k]) s.*kParts[k].mean = sum[k] / static_cast<double>(cnt[k]);
    if (!any_known[k] && s.total && std::string_view(kParts[k].column) != "max_off_policy" &&
        std::string_view(kParts[k].column) != "generation_s" &&
        std::string_view(kParts[k].column) != "compute_s")
      s.not_logged.emplace_back(kParts[k].column);
  }
  over_time(s, walls, slowest);
  for (size_t k = 0; k < std::size(kParts); ++k)
    if (!buf[k].empty()) samples.emplace_back(kParts[k].metric, std::move(buf[k]));
  m.recs.clear();
  m.ol.clear(), m.om.clear(), m.tl.clear(), m.tm.clear();
  m.dense.clear();
  m.sparse.clear();
  choose_bound(s, top);
}

// ---- The verdict ---------------------------------------------------------------------------

namespace {

constexpr size_t kMinPaired = 3;         // fewer paired steps: no verdict
constexpr double kWaitShare = 0.10;      // the orchestrator waits >= 10 % of its step: trainer side
constexpr double kIdleShare = 0.10;      // the trainer idles >= 10 % of its step: inference side
constexpr double kHandoverShare = 0.25;  // update + broadcast + save >= 25 % of the step

std::string s1(double v) {
  return fmt::format("{:.1f} s", v);
}
std::string s1(const OptDouble& v) {
  return v ? s1(*v) : std::string("not logged");
}
std::string pc(double part, double whole) {
  return whole > 0 ? fmt::format("{:.0f} %", 100.0 * part / whole) : "0 %";
}
std::string pc(const OptDouble& part, const OptDouble& whole) {
  return part && whole ? pc(*part, *whole) : std::string("not logged");
}

}  // namespace

void choose_bound(StepsReport& s, std::vector<StepRecord> (&top)[3]) {
  s.bound = StepBound::none;
  s.evidence.clear();
  if (s.paired < kMinPaired || !s.orch_s || !s.trainer_s || *s.orch_s <= 0 || *s.trainer_s <= 0)
    return;
  double o = *s.orch_s, t = *s.trainer_s;
  bool handover_known = s.update_s || s.broadcast_s || s.save_s;
  double handover = val(s.update_s) + val(s.broadcast_s) + val(s.save_s);
  double wait_share = val(s.wait_s) / o, idle_share = val(s.idle_s) / t;
  int which = -1;
  if (handover_known && handover / o >= kHandoverShare)
    s.bound = StepBound::handover, which = 2;
  else if (s.wait_s && wait_share >= kWaitShare && wait_share > idle_share)
    s.bound = StepBound::trainer, which = 0;
  else if (s.idle_s && idle_share >= kIdleShare)
    s.bound = StepBound::inference, which = 1;
  if (which < 0) return;
  switch (s.bound) {
    case StepBound::trainer:
      s.estimate_s = o - *s.wait_s;
      s.estimate_basis =
          "the trainer keeps up (no wait for it) and generation, weight updates and evals take "
          "what they take now";
      break;
    case StepBound::inference:
      s.estimate_s = t - *s.idle_s;
      s.estimate_basis =
          "generation scales with more inference replicas and the trainer's busy time stays as it "
          "is";
      break;
    default:
      s.estimate_s = std::max({o - handover, val(s.gen_s) + val(s.eval_s), val(s.compute_s)});
      s.estimate_basis =
          "the weight update, broadcast and checkpoint save cost nothing (overlapped or much "
          "faster) and generation "
          "and compute stay as they are";
      break;
  }
  s.evidence = std::move(top[which]);
  std::sort(s.evidence.begin(), s.evidence.end(),
            [](const auto& a, const auto& b) { return a.step < b.step; });
}

// The run over time (drift, outlier steps, Max Off-Policy) as terminal lines.
static void over_time_lines(const StepsReport& s, std::vector<std::string>& out) {
  if (s.drift_s_per_100 && s.first_tenth_s && s.last_tenth_s)
    out.push_back(fmt::format(
        "  over time: {:+.2f} s per 100 steps (first tenth {}, last tenth {}); {} outlier step{}",
        *s.drift_s_per_100, s1(s.first_tenth_s), s1(s.last_tenth_s), s.outliers.size(),
        s.outliers.size() == 1 ? "" : "s"));
  for (const auto& o : s.outliers) {
    std::string l = fmt::format("    step {}: {} ({:.1f}x the median) with {}", o.step, s1(o.orch_s),
                                o.orch_s / val(s.median_s), o.inside);
    out.push_back(render::fit(l, 100));  // the whole list is in report.json
  }
  if (s.off_policy_max)
    out.push_back(
        fmt::format("  max off-policy: {} at the start, {} at the end, {} at most; {} step{} above "
                    "--async-level",
                    *s.off_policy_first, *s.off_policy_last, *s.off_policy_max,
                    s.off_policy_above_async, s.off_policy_above_async == 1 ? "" : "s"));
}

std::vector<std::string> budget_lines(const StepsReport& s) {
  std::vector<std::string> out;
  if (!s.total) return out;
  if (!s.paired) {
    // One side only (an orchestrator log without its trainer's, or the reverse): no budget and
    // no verdict, but the run over time still shows.
    out.push_back(fmt::format("step budget: {} step{}, none with both halves logged: no verdict",
                              s.total, s.total == 1 ? "" : "s"));
    over_time_lines(s, out);
    return out;
  }
  std::string src = s.orch_source == s.trainer_source
                        ? std::string(step_source_name(s.orch_source))
                        : fmt::format("{}/{}", step_source_name(s.orch_source),
                                      step_source_name(s.trainer_source));
  out.push_back(fmt::format(
      "step budget, mean of {} paired steps ({}, {}): {}", s.paired, s.era, src,
      s.bound == StepBound::none
          ? std::string("no bound found")
          : fmt::format("{}, {} a step without it", step_bound_name(s.bound), s1(s.estimate_s))));
  out.push_back(fmt::format("  orchestrator {}: generation {}, waiting {}, update {}, evals {}",
                            s1(s.orch_s), pc(s.gen_s, s.orch_s), pc(s.wait_s, s.orch_s),
                            pc(s.update_s, s.orch_s), pc(s.eval_s, s.orch_s)));
  out.push_back(fmt::format("  trainer {}: idle {}, compute {}, broadcast {}, save {}",
                            s1(s.trainer_s), pc(s.idle_s, s.trainer_s),
                            pc(s.compute_s, s.trainer_s), pc(s.broadcast_s, s.trainer_s),
                            pc(s.save_s, s.trainer_s)));
  over_time_lines(s, out);
  return out;
}

void diagnose_steps(Report& r) {
  const StepsReport& s = r.steps;
  if (s.bound == StepBound::none || s.evidence.empty()) return;
  // Every run is bound by something: the bound is a finding (a warning) only when removing it
  // would save at least a quarter of each step; otherwise the budget lines and report.json's
  // `steps.bound` still name it.
  if (!(val(s.orch_s) > 0) || s.estimate_s > 0.75 * val(s.orch_s)) return;
  Diagnosis d;
  d.severity = Severity::warning;
  std::string shares = fmt::format(
      "mean over {} paired steps: orchestrator {} (generation {}, waiting for the trainer {}, "
      "weight update {}, "
      "evals {}); trainer {} (idle {}, compute {}, broadcast {}, save {})",
      s.paired, s1(s.orch_s), pc(s.gen_s, s.orch_s), pc(s.wait_s, s.orch_s),
      pc(s.update_s, s.orch_s), pc(s.eval_s, s.orch_s), s1(s.trainer_s), pc(s.idle_s, s.trainer_s),
      pc(s.compute_s, s.trainer_s), pc(s.broadcast_s, s.trainer_s), pc(s.save_s, s.trainer_s));
  double o = val(s.orch_s);
  switch (s.bound) {
    case StepBound::trainer:
      d.id = "trainer_bound";
      d.summary = fmt::format(
          "trainer-bound: the orchestrator waits {} of each step for the trainer {}; with the "
          "orchestrator's own {} "
          "of work as the floor, steps would take {} instead of {}",
          pc(s.wait_s, s.orch_s),
          s.idle_s ? fmt::format("while the trainer idles {}", pc(s.idle_s, s.trainer_s))
                   : std::string("(the trainer's idle time is not logged)"),
          s1(s.estimate_s), s1(s.estimate_s), s1(o));
      d.fix =
          "Tune async_level (a higher --async-level lets the orchestrator run further ahead of the "
          "trainer), or give "
          "the trainer more GPUs.";
      break;
    case StepBound::inference:
      d.id = "inference_bound";
      d.summary = fmt::format(
          "inference-bound: the trainer idles {} of each step waiting for the batch {}; with the "
          "trainer's busy {} as "
          "the floor, steps would take {} instead of {}",
          pc(s.idle_s, s.trainer_s),
          s.wait_s ? fmt::format("while the orchestrator waits {}", pc(s.wait_s, s.orch_s))
                   : std::string("(the orchestrator's wait for the trainer is not logged)"),
          s1(s.estimate_s), s1(s.estimate_s), s1(o));
      d.fix =
          "Add inference replicas (more inference GPUs) so batches are ready when the trainer asks "
          "for them.";
      break;
    default: {
      d.id = "handover_bound";
      double handover = val(s.update_s) + val(s.broadcast_s) + val(s.save_s);
      d.summary = fmt::format(
          "hand-over-bound: weight update {}, broadcast {} and checkpoint save {} take {} of each "
          "step; without them "
          "steps would take {} instead of {}",
          s1(s.update_s), s1(s.broadcast_s), s1(s.save_s), pc(handover, o), s1(s.estimate_s),
          s1(o));
      d.fix = val(s.save_s) >= val(s.update_s) + val(s.broadcast_s)
                  ? "Optimize checkpoint writing (faster storage, a longer checkpoint interval); "
                    "check file system performance."
                  : "Faster weight transfer: faster storage or an NCCL broadcast; a smaller model; "
                    "profile vLLM worker loading.";
      break;
    }
  }
  const StepRecord& first = s.evidence.front();
  uint32_t where = first.orch_line ? first.orch_file : first.trainer_file;
  d.evidence.push_back({where, 0, shares});
  std::string basis =
      fmt::format("estimate {} per step, assuming {}", s1(s.estimate_s), s.estimate_basis);
  if (!s.not_logged.empty()) {
    basis += "; not logged (not in the estimate):";
    for (const auto& n : s.not_logged) basis += " " + n;
  }
  d.evidence.push_back({where, 0, basis});
  for (const auto& x : s.evidence) {
    uint32_t f = x.orch_line ? x.orch_file : x.trainer_line ? x.trainer_file : UINT32_MAX;
    uint64_t line = x.orch_line ? x.orch_line : x.trainer_line;
    d.evidence.push_back(
        {f, line,
         fmt::format(
             "step {}: orchestrator {} (waited {}, update {}, evals {}), trainer {} (idle {}, "
             "broadcast {}, save {})",
             x.step, s1(x.orch_s), s1(x.wait_s), s1(x.update_s), s1(x.eval_s), s1(x.trainer_s),
             s1(x.idle_s), s1(x.broadcast_s), s1(x.save_s))});
  }
  r.diagnoses.push_back(std::move(d));
}

}  // namespace alog
