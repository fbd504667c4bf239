#include "analyze_logs/primerl/steps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "analyze_logs/util.hpp"

namespace alog {

std::string_view step_source_name(StepSource s) {
  switch (s) {
    case StepSource::lines: return "lines";
    case StepSource::metrics: return "metrics.jsonl";
    default: return "none";
  }
}

std::string_view step_bound_name(StepBound b) {
  switch (b) {
    case StepBound::trainer: return "trainer-bound";
    case StepBound::inference: return "inference-bound";
    case StepBound::handover: return "hand-over-bound";
    default: return "none";
  }
}

namespace {

double val(const OptDouble& d) { return d ? *d : 0.0; }

struct OrchHalf {
  bool set = false;
  OptDouble o, p, u, e, g, off;
  uint32_t file = 0;
  uint64_t line = 0;
};
struct TrainerHalf {
  bool set = false;
  OptDouble t, w, c, b, s;
  uint32_t file = 0;
  uint64_t line = 0;
};
struct Rec {
  int64_t step = 0;
  OrchHalf orch[2];     // [0] lines, [1] metrics.jsonl
  TrainerHalf tr[2];
  bool ckpt = false;
};

// A metrics.jsonl step being gathered (several rows per step).
struct Row {
  bool open = false;
  int64_t step = 0;
  Event ev;
};

}  // namespace

struct StepFolder::Impl {
  size_t max_steps;
  std::vector<Rec> recs;
  std::unordered_map<int64_t, uint32_t> index;
  uint64_t untracked = 0;
  uint64_t orch_lines = 0, trainer_lines = 0, metrics_rows = 0;
  // The file being read.
  uint32_t file = 0;
  std::string path;
  double pend_p = 0, pend_u = 0, pend_e = 0, pend_w = 0, pend_b = 0;
  bool first_trainer_seen = false;
  bool trainer_pre07 = false;  // this trainer log's era (decided at its first step line)
  Row row;
  // The run: the orchestrator's step-line shape (5, 6, 7; 0 unknown), the trainer's, 0-based.
  int orch_shape = 0, trainer_shape = 0;
  bool any_pre07_trainer = false, any_post07_trainer = false;
  bool zero_based = false;

  Rec* get(int64_t step) {
    if (auto it = index.find(step); it != index.end()) return &recs[it->second];
    if (recs.size() >= max_steps) {
      ++untracked;
      return nullptr;
    }
    index.emplace(step, static_cast<uint32_t>(recs.size()));
    recs.push_back(Rec{});
    recs.back().step = step;
    return &recs.back();
  }

  void orch_step(const Event& ev) {
    ++orch_lines;
    auto step = static_cast<int64_t>(ev.get(Field::step));
    if (step == 0) zero_based = true;
    if (ev.has(Field::shape)) orch_shape = std::max(orch_shape, static_cast<int>(ev.get(Field::shape)));
    Rec* r = get(step);
    double o = ev.get(Field::secs), p = pend_p, u = pend_u, e = pend_e;
    pend_p = pend_u = pend_e = 0;
    if (!r) return;
    OrchHalf& h = r->orch[0];
    h = OrchHalf{};
    h.set = true;
    h.o = o;
    h.p = p;
    h.u = u;
    h.e = e;
    h.g = std::max(0.0, o - p - u - e);
    if (ev.has(Field::max_off_policy)) h.off = ev.get(Field::max_off_policy);
    else if (ev.has(Field::async_level)) h.off = ev.get(Field::async_level);
    h.file = ev.file;
    h.line = ev.line;
  }

  void trainer_step(const Event& ev) {
    ++trainer_lines;
    auto step = static_cast<int64_t>(ev.get(Field::step));
    if (step == 0) zero_based = true;
    int shape = ev.has(Field::shape) ? static_cast<int>(ev.get(Field::shape)) : 6;
    trainer_shape = std::max(trainer_shape, shape);
    if (!first_trainer_seen) {
      // Broadcast and save run before the timer up to v0.6.x, inside it from v0.7.0 (which also
      // made steps 1-based): the `Time:` shape, an orchestrator without `Branches`, or a first
      // step 0 say "before"; otherwise (v0.6+ shape, nothing else known) "from v0.7.0".
      first_trainer_seen = true;
      trainer_pre07 = shape == 5 || orch_shape == 5 || orch_shape == 6 || step == 0;
      (trainer_pre07 ? any_pre07_trainer : any_post07_trainer) = true;
    }
    Rec* r = get(step);
    double t = ev.get(Field::secs), w = pend_w, b = pend_b;
    pend_w = pend_b = 0;
    if (!r) return;
    TrainerHalf& h = r->tr[0];
    h = TrainerHalf{};
    h.set = true;
    h.w = w;
    h.b = b;
    if (trainer_pre07) {
      h.t = t + b;
      h.c = std::max(0.0, t - w);
    } else {
      h.t = t;
      h.c = std::max(0.0, t - w - b);
    }
    h.file = ev.file;
    h.line = ev.line;
  }

  void flush_row() {
    if (!row.open) return;
    row.open = false;
    const Event& ev = row.ev;
    auto has = [&](Field f) { return ev.has(f); };
    auto get_or0 = [&](Field f) { return ev.has(f) ? ev.get(f) : 0.0; };
    bool trainer = has(Field::m_wait_batch) || has(Field::m_load) || has(Field::m_fwd_bwd) || has(Field::m_broadcast);
    bool orch = has(Field::m_wait_policy) || has(Field::m_wait_ckpt) || has(Field::m_update) || has(Field::m_generate);
    if (!trainer && !orch) {
      // Only time/step (and time/save_ckpt): the component from the file's folder or name.
      if (path.find("trainer") != std::string::npos) trainer = true;
      else if (path.find("orchestrator") != std::string::npos) orch = true;
    }
    if (trainer == orch || !has(Field::m_step)) return;  // cannot tell, or no step time
    Rec* r = get(row.step);
    if (!r) return;
    double step_s = ev.get(Field::m_step);
    if (orch) {
      OrchHalf& h = r->orch[1];
      h = OrchHalf{};
      h.set = true;
      h.o = step_s;
      h.p = has(Field::m_wait_policy) ? ev.get(Field::m_wait_policy) : get_or0(Field::m_wait_ckpt);
      h.u = get_or0(Field::m_update);
      h.e = 0.0;
      h.g = has(Field::m_generate) ? ev.get(Field::m_generate) : std::max(0.0, step_s - val(h.p) - val(h.u));
      h.file = file;
    } else {
      TrainerHalf& h = r->tr[1];
      h = TrainerHalf{};
      h.set = true;
      h.t = step_s;  // metrics.jsonl exists from v0.8.0: broadcast and save are inside the step
      h.w = get_or0(Field::m_wait_batch);
      h.b = get_or0(Field::m_broadcast);
      h.s = get_or0(Field::m_save);
      h.c = has(Field::m_fwd_bwd) ? get_or0(Field::m_load) + ev.get(Field::m_fwd_bwd)
                                  : std::max(0.0, step_s - val(h.w) - val(h.b) - val(h.s));
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
};

StepFolder::StepFolder(size_t max_steps) : impl_(std::make_unique<Impl>()) {
  impl_->max_steps = std::min(max_steps, StepsReport::kMaxTable);
}
StepFolder::~StepFolder() = default;

void StepFolder::begin_file(uint32_t file, std::string_view path) {
  end_file();
  Impl& m = *impl_;
  m.file = file;
  m.path = std::string(path);
  m.pend_p = m.pend_u = m.pend_e = m.pend_w = m.pend_b = 0;
  m.first_trainer_seen = false;
}

void StepFolder::end_file() { impl_->flush_row(); }

void StepFolder::on_event(const Event& ev) {
  Impl& m = *impl_;
  auto secs = [&] { return ev.has(Field::secs) ? ev.get(Field::secs) : 0.0; };
  switch (ev.op) {
    case Op::step_orch: m.orch_step(ev); break;
    case Op::step_trainer: m.trainer_step(ev); break;
    case Op::orch_waited: m.pend_p += secs(); break;
    case Op::orch_updated: m.pend_u += secs(); break;
    case Op::orch_eval: m.pend_e += secs(); break;
    case Op::trainer_waited: m.pend_w += secs(); break;
    case Op::trainer_broadcast: m.pend_b += secs(); break;
    case Op::ckpt_saving:
      if (Rec* r = m.get(static_cast<int64_t>(ev.get(Field::step)))) r->ckpt = true;
      break;
    case Op::metrics_row: m.metrics_row(ev); break;
    default: break;
  }
}

void StepFolder::finish(Report& r, std::vector<std::pair<std::string, SampleBuffer>>& samples) {
  end_file();
  Impl& m = *impl_;
  StepsReport& s = r.steps;
  s.untracked = m.untracked;
  s.orch_lines = m.orch_lines;
  s.trainer_lines = m.trainer_lines;
  s.metrics_rows = m.metrics_rows;
  s.zero_based = m.zero_based;
  bool orch_metrics = false, trainer_metrics = false, orch_lines = false, trainer_lines = false;
  for (const Rec& x : m.recs) {
    orch_metrics |= x.orch[1].set;
    trainer_metrics |= x.tr[1].set;
    orch_lines |= x.orch[0].set;
    trainer_lines |= x.tr[0].set;
  }
  s.orch_source = orch_metrics ? StepSource::metrics : orch_lines ? StepSource::lines : StepSource::none;
  s.trainer_source = trainer_metrics ? StepSource::metrics : trainer_lines ? StepSource::lines : StepSource::none;
  if (trainer_metrics || orch_metrics) s.era = "v0.8 (metrics.jsonl)";
  else if (m.orch_shape == 5 || m.trainer_shape == 5) s.era = "v0.5";
  else if (m.orch_shape == 6 || (m.any_pre07_trainer && !m.any_post07_trainer)) s.era = "v0.6";
  else if (m.orch_shape == 7 || m.any_post07_trainer) s.era = "v0.7+";
  s.trainer_timer_includes_handover = trainer_metrics || (m.any_post07_trainer && !m.any_pre07_trainer);

  std::vector<uint32_t> order(m.recs.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return m.recs[a].step < m.recs[b].step; });

  const char* kNames[] = {"step.orchestrator_s", "step.wait_for_trainer_s", "step.weight_update_s", "step.eval_s",
                          "step.generation_s",   "step.max_off_policy",     "step.trainer_s",       "step.trainer_idle_s",
                          "step.compute_s",      "step.broadcast_s",        "step.save_s"};
  std::vector<SampleBuffer> buf(std::size(kNames));
  auto add = [&](int k, const OptDouble& v) {
    if (v) buf[static_cast<size_t>(k)].push_back(*v);
  };
  double sum[10] = {};
  for (uint32_t i : order) {
    const Rec& x = m.recs[i];
    StepRecord out;
    out.step = x.step;
    out.ckpt = x.ckpt;
    int oi = orch_metrics ? 1 : 0, ti = trainer_metrics ? 1 : 0;
    const OrchHalf& o = x.orch[oi];
    if (o.set) {
      out.orch_src = oi ? StepSource::metrics : StepSource::lines;
      out.orch_s = o.o;
      out.wait_s = o.p;
      out.update_s = o.u;
      out.eval_s = o.e;
      out.gen_s = o.g;
      out.max_off_policy = o.off;
      if (oi && x.orch[0].set) {
        // Blocking evals are only in the lines: take them from there, out of generation.
        double e = std::min(val(x.orch[0].e), val(o.g));
        out.eval_s = e;
        out.gen_s = val(o.g) - e;
        out.max_off_policy = x.orch[0].off;
      }
      out.orch_file = oi ? o.file : o.file;
      out.orch_line = o.line;
    }
    const TrainerHalf& t = x.tr[ti];
    if (t.set) {
      out.trainer_src = ti ? StepSource::metrics : StepSource::lines;
      out.trainer_s = t.t;
      out.idle_s = t.w;
      out.compute_s = t.c;
      out.broadcast_s = t.b;
      out.save_s = t.s;
      out.trainer_file = t.file;
      out.trainer_line = t.line;
    }
    if (!o.set && !t.set) continue;  // only a `Saving checkpoint` line
    add(0, out.orch_s), add(1, out.wait_s), add(2, out.update_s), add(3, out.eval_s), add(4, out.gen_s);
    add(5, out.max_off_policy);
    add(6, out.trainer_s), add(7, out.idle_s), add(8, out.compute_s), add(9, out.broadcast_s), add(10, out.save_s);
    if (out.paired()) {
      ++s.paired;
      const OptDouble* parts[10] = {&out.orch_s,    &out.wait_s, &out.update_s,  &out.eval_s,      &out.gen_s,
                                    &out.trainer_s, &out.idle_s, &out.compute_s, &out.broadcast_s, &out.save_s};
      for (int k = 0; k < 10; ++k) sum[k] += val(*parts[k]);
    }
    s.steps.push_back(out);
  }
  if (s.paired) {
    double n = static_cast<double>(s.paired);
    double* means[10] = {&s.orch_s,    &s.wait_s, &s.update_s,  &s.eval_s,      &s.gen_s,
                         &s.trainer_s, &s.idle_s, &s.compute_s, &s.broadcast_s, &s.save_s};
    for (int k = 0; k < 10; ++k) *means[k] = sum[k] / n;
  }
  for (size_t k = 0; k < std::size(kNames); ++k)
    if (!buf[k].empty()) samples.emplace_back(kNames[k], std::move(buf[k]));
  m.recs.clear();
  m.index.clear();
}

// ---- The verdict ---------------------------------------------------------------------------

namespace {

constexpr size_t kMinPaired = 3;       // fewer paired steps: no verdict
constexpr double kWaitShare = 0.10;    // the orchestrator waits >= 10 % of its step: trainer side
constexpr double kIdleShare = 0.10;    // the trainer idles >= 10 % of its step: inference side
constexpr double kHandoverShare = 0.25;  // update + broadcast + save >= 25 % of the step

std::string s1(double v) { return fmt::format("{:.1f} s", v); }
std::string pc(double part, double whole) { return whole > 0 ? fmt::format("{:.0f} %", 100.0 * part / whole) : "0 %"; }

}  // namespace

void diagnose_steps(Report& r) {
  StepsReport& s = r.steps;
  s.bound = StepBound::none;
  if (s.paired < kMinPaired || s.orch_s <= 0 || s.trainer_s <= 0) return;
  double handover = s.update_s + s.broadcast_s + s.save_s;
  double wait_share = s.wait_s / s.orch_s, idle_share = s.idle_s / s.trainer_s;
  if (handover / s.orch_s >= kHandoverShare) s.bound = StepBound::handover;
  else if (wait_share >= kWaitShare && wait_share > idle_share) s.bound = StepBound::trainer;
  else if (idle_share >= kIdleShare) s.bound = StepBound::inference;
  if (s.bound == StepBound::none) return;

  Diagnosis d;
  d.severity = Severity::warning;
  // The steps that show it most (the largest part), at most five, in step order.
  auto part = [&](const StepRecord& x) {
    switch (s.bound) {
      case StepBound::trainer: return val(x.wait_s);
      case StepBound::inference: return val(x.idle_s);
      default: return val(x.update_s) + val(x.broadcast_s) + val(x.save_s);
    }
  };
  std::vector<const StepRecord*> top;
  for (const auto& x : s.steps)
    if (x.paired()) top.push_back(&x);
  std::stable_sort(top.begin(), top.end(), [&](auto* a, auto* b) { return part(*a) > part(*b); });
  if (top.size() > 5) top.resize(5);
  std::sort(top.begin(), top.end(), [](auto* a, auto* b) { return a->step < b->step; });

  std::string shares = fmt::format(
      "mean over {} paired steps: orchestrator {} (generation {}, waiting for the trainer {}, weight update {}, "
      "evals {}); trainer {} (idle {}, compute {}, broadcast {}, save {})",
      s.paired, s1(s.orch_s), pc(s.gen_s, s.orch_s), pc(s.wait_s, s.orch_s), pc(s.update_s, s.orch_s),
      pc(s.eval_s, s.orch_s), s1(s.trainer_s), pc(s.idle_s, s.trainer_s), pc(s.compute_s, s.trainer_s),
      pc(s.broadcast_s, s.trainer_s), pc(s.save_s, s.trainer_s));
  switch (s.bound) {
    case StepBound::trainer:
      d.id = "steps.trainer_bound";
      s.estimate_s = s.orch_s - s.wait_s;
      s.estimate_basis =
          "the trainer keeps up (no wait for it) and generation, weight updates and evals take what they take now";
      d.summary = fmt::format(
          "trainer-bound: the orchestrator waits {} of each step for the trainer while the trainer idles {}; with the "
          "orchestrator's own {} of work as the floor, steps would take {} instead of {}",
          pc(s.wait_s, s.orch_s), pc(s.idle_s, s.trainer_s), s1(s.estimate_s), s1(s.estimate_s), s1(s.orch_s));
      d.fix = "Tune async_level (a higher --async-level lets the orchestrator run further ahead of the trainer), or give "
              "the trainer more GPUs.";
      break;
    case StepBound::inference:
      d.id = "steps.inference_bound";
      s.estimate_s = s.trainer_s - s.idle_s;
      s.estimate_basis = "generation scales with more inference replicas and the trainer's busy time stays as it is";
      d.summary = fmt::format(
          "inference-bound: the trainer idles {} of each step waiting for the batch while the orchestrator waits {}; "
          "with the trainer's busy {} as the floor, steps would take {} instead of {}",
          pc(s.idle_s, s.trainer_s), pc(s.wait_s, s.orch_s), s1(s.estimate_s), s1(s.estimate_s), s1(s.orch_s));
      d.fix = "Add inference replicas (more inference GPUs) so batches are ready when the trainer asks for them.";
      break;
    default: {
      d.id = "steps.handover_bound";
      s.estimate_s = std::max({s.orch_s - handover, s.gen_s + s.eval_s, s.compute_s});
      s.estimate_basis =
          "the weight update, broadcast and checkpoint save cost nothing (overlapped or much faster) and generation "
          "and compute stay as they are";
      d.summary = fmt::format(
          "hand-over-bound: weight update {}, broadcast {} and checkpoint save {} take {} of each step; without them "
          "steps would take {} instead of {}",
          s1(s.update_s), s1(s.broadcast_s), s1(s.save_s), pc(handover, s.orch_s), s1(s.estimate_s), s1(s.orch_s));
      d.fix = s.save_s >= s.update_s + s.broadcast_s
                  ? "Optimize checkpoint writing (faster storage, a longer checkpoint interval); check file system performance."
                  : "Faster weight transfer: faster storage or an NCCL broadcast; a smaller model; profile vLLM worker loading.";
      break;
    }
  }
  uint32_t where = top.front()->orch_line ? top.front()->orch_file : top.front()->trainer_file;
  d.evidence.push_back({where, 0, shares});
  d.evidence.push_back({where, 0, fmt::format("estimate {} per step, assuming {}", s1(s.estimate_s), s.estimate_basis)});
  for (const auto* x : top) {
    uint32_t f = x->orch_line ? x->orch_file : x->trainer_line ? x->trainer_file : UINT32_MAX;
    uint64_t line = x->orch_line ? x->orch_line : x->trainer_line;
    d.evidence.push_back({f, line,
                          fmt::format("step {}: orchestrator {} (waited {}, update {}, evals {}), trainer {} (idle {}, "
                                      "broadcast {}, save {})",
                                      x->step, s1(val(x->orch_s)), s1(val(x->wait_s)), s1(val(x->update_s)),
                                      s1(val(x->eval_s)), s1(val(x->trainer_s)), s1(val(x->idle_s)),
                                      s1(val(x->broadcast_s)), s1(val(x->save_s)))});
  }
  r.diagnoses.push_back(std::move(d));
}

}  // namespace alog
