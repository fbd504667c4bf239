// The step budget (docs/STEPS.md): folds the untagged step-budget events (Op::step_orch and
// after) into Report::steps, one record per training step paired by step number, then adds the
// step.* samples and the throughput verdict.
//
// Memory: one StepRecord per step (about 200 bytes with its internal halves), at most
// max_steps of them; later steps are counted (StepsReport::untracked), not kept.
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
  explicit StepFolder(size_t max_steps);
  ~StepFolder();
  StepFolder(const StepFolder&) = delete;
  StepFolder& operator=(const StepFolder&) = delete;

  void begin_file(uint32_t file, std::string_view path);
  void on_event(const Event& ev);
  void end_file();
  // Composes the records (metrics.jsonl preferred per component), fills r.steps and hands the
  // step.* samples over to `samples`.
  void finish(Report& r, std::vector<std::pair<std::string, SampleBuffer>>& samples);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The verdict on r.steps (needs its means): what bounds throughput, and the finding for it.
void diagnose_steps(Report& r);

}  // namespace alog
