// The step budget (docs/STEPS.md): folds the untagged step-budget events (Op::step_orch and
// after) into Report::steps, one record per training step paired by step number, then adds the
// step.* samples and the throughput verdict.
//
// Memory: every step is held until the end (its two halves may be in files read far apart), in
// compact halves (NaN for "not known"): bytes_per_step() of them, at most StepsReport::kMaxSteps
// steps (later ones are counted in StepsReport::untracked); the table handed to the report keeps
// at most max_table of them. Every statistic covers every step held.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze_logs/core/stats.hpp"
#include "analyze_logs/event.hpp"
#include "analyze_logs/primerl/model.hpp"

namespace alog {

class StepFolder {
 public:
  explicit StepFolder(size_t max_table);
  ~StepFolder();
  StepFolder(const StepFolder&) = delete;
  StepFolder& operator=(const StepFolder&) = delete;

  void begin_file(uint32_t file, std::string_view path);
  void on_event(const Event& ev);
  // A tagged `[weights] client.done`, for the step it falls in: its wall_ms (the orchestrator's
  // time in the update), its queue_ms (NaN for the -1.0 sentinel) and its trace id.
  void on_tagged_update(double wall_ms, double queue_ms, const TraceId& trace);
  void end_file();
  // Composes the records (metrics.jsonl preferred per component), fills r.steps and hands the
  // step.* samples over to `samples`.
  void finish(Report& r, std::vector<std::pair<std::string, SampleBuffer>>& samples);
  // What the steps held cost (the containers' capacities over the steps), for the memory test.
  size_t bytes_per_step() const;
  size_t steps_held() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What bounds throughput (from the means), its estimate, and the steps that show it most (top:
// the 5 steps with the largest wait, idle, hand-over). Called by finish().
void choose_bound(StepsReport& s, std::vector<StepRecord> (&top)[3]);
// The budget in three lines of at most 100 columns (terminal, SUMMARY.md): the means of the paired
// steps as shares, the bound and its estimate. Empty without a paired step.
std::vector<std::string> budget_lines(const StepsReport& s);
// The finding for the verdict of r.steps.
void diagnose_steps(Report& r);

}  // namespace alog
