// What a prime-rl run's lines say about its components' progress (follow.hpp).
//
// The lines are read by the same parser as the one-shot analysis (parse_segment: tagged events
// and the step summaries of every version, docs/STEPS.md). Components:
//   orchestrator steps   a step summary with a reward (`Step N | Time: ... | Reward ...`)
//   trainer steps        a step summary with a loss
//   weight updates       `[weights] client.done` (tagged) or `Updated weights to step N in Xs`
//   generation batches   `[gen] batch.done`
//   checkpoints          `[ckpt] write.done` or `Saving checkpoint at step N`
//   inference <file>     each inference server: `[weights]` server-side `rpc.done`
// The run ends with the orchestrator's `Orchestrator finished.`; `Trainer finished` ends the
// trainer's steps.
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "analyze_logs/follow.hpp"
#include "analyze_logs/parse.hpp"

namespace alog::follow {

namespace {

// A line worth parsing: it may hold a tag or a step-budget word (the same tests as the scanner's).
bool may_matter(std::string_view l) {
  const char* b = l.data();
  const char* e = b + l.size();
  for (const char* p = b; p < e; ++p) {
    switch (*p) {
      case ']':
        if (parse::closes_tag(b, p)) return true;
        break;
      case 'S': case 'O': case 'H': case 'P': case 'R': case 'W': case 'U': case 'E': case '"': case 'T':
        if (parse::starts_step_word(p, e)) return true;
        if (*p == 'T' && static_cast<size_t>(e - p) >= 16 && std::memcmp(p, "Trainer finished", 16) == 0) return true;
        if (*p == 'O' && static_cast<size_t>(e - p) >= 21 && std::memcmp(p, "Orchestrator finished", 21) == 0)
          return true;
        break;
      default: break;
    }
  }
  return false;
}

class PrimeRl final : public Classifier {
 public:
  void on_line(std::string_view file, std::string_view line, std::vector<Signal>& out) override {
    // A log's first line: its component exists from now on, so a process that never gets to its
    // first step (a model that never loads, a server that never answers) is stalled in time too.
    if (seen_.size() < 4096 && seen_.insert(std::string(file)).second) {
      std::string name = std::filesystem::path(std::string(file)).filename().string();
      std::string component = name.find("orchestrator") != std::string::npos ? "orchestrator steps"
                              : name.find("trainer") != std::string::npos    ? "trainer steps"
                              : name.find("inference") != std::string::npos || name.find("vllm") != std::string::npos
                                  ? server(file)
                                  : std::string();
      if (!component.empty()) {
        // Until its first step: loading the model, connecting (no seed gives a duration: 10 min).
        Signal first = make_signal(Signal::Type::activity, std::move(component));
        first.typical_s = 600;
        out.push_back(std::move(first));
      }
    }
    // A tagged message may follow a progress bar's pieces on one line: each '\r' piece is read
    // on its own, as the scanner does.
    while (true) {
      size_t cr = line.find('\r');
      std::string_view piece = line.substr(0, cr);
      if (may_matter(piece)) on_segment(file, piece, out);
      if (cr == std::string_view::npos) break;
      line.remove_prefix(cr + 1);
    }
  }

 private:
  void on_segment(std::string_view file, std::string_view line, std::vector<Signal>& out) {
    Event ev{};
    parse::Result r = parse::parse_segment(line, ev, scratch_);
    if (r.outcome != parse::Outcome::event) {
      // The run's end and the trainer's: untagged lines the parser does not make events of.
      if (line.find(" finished") == std::string_view::npos) return;
      std::string clean = display_line(line, 4096);
      std::string_view msg = parse::strip_prefix(clean).message;
      while (!msg.empty() && (msg.front() == ' ' || msg.front() == '\t')) msg.remove_prefix(1);
      if (msg.starts_with("Orchestrator finished"))
        out.push_back(make_signal(Signal::Type::job_ended, "orchestrator", "the orchestrator finished"));
      else if (msg.starts_with("Trainer finished"))
        out.push_back(make_signal(Signal::Type::finished, "trainer steps", "the trainer finished"));
      return;
    }
    auto progress = [&](std::string component, std::string detail, double measured = 0) {
      Signal s = make_signal(Signal::Type::progress, std::move(component), std::move(detail));
      s.measured_s = measured;
      out.push_back(std::move(s));
    };
    auto activity = [&](std::string component) { out.push_back(make_signal(Signal::Type::activity, std::move(component))); };
    auto sample = [&](std::string_view metric, double v) {
      Signal s = make_signal(Signal::Type::sample, {});
      s.metric = std::string(metric);
      s.value = v;
      out.push_back(std::move(s));
    };
    auto step_of = [&](Field f) { return ev.has(f) ? fmt::format("step {}", static_cast<int64_t>(ev.get(f))) : std::string(); };
    switch (ev.op) {
      case Op::step_orch:
        progress("orchestrator steps", fmt::format("{} ({:.1f} s)", step_of(Field::step), ev.get(Field::secs)),
                 ev.get(Field::secs));
        sample("step.orchestrator_s", ev.get(Field::secs));
        break;
      case Op::step_trainer:
        progress("trainer steps", fmt::format("{} ({:.1f} s)", step_of(Field::step), ev.get(Field::secs)),
                 ev.get(Field::secs));
        sample("step.trainer_s", ev.get(Field::secs));
        break;
      case Op::client_send: activity("weight updates"); break;
      case Op::client_done:
        progress("weight updates", fmt::format("{} in {:.0f} ms", ev.trace.str(), ev.get(Field::wall_ms)));
        sample("weights.wall_ms", ev.get(Field::wall_ms));
        if (ev.sample(Field::queue_ms)) sample("weights.queue_ms", ev.get(Field::queue_ms));
        if (ev.sample(Field::rpc_ms)) sample("weights.rpc_ms", ev.get(Field::rpc_ms));
        break;
      case Op::orch_updated:
        progress("weight updates", fmt::format("{} in {:.1f} s", step_of(Field::step), ev.get(Field::secs)));
        break;
      case Op::batch_start: activity("generation batches"); break;
      case Op::batch_done:
        progress("generation batches", fmt::format("batch in {:.0f} ms", ev.get(Field::dur_ms)));
        sample("gen.dur_ms", ev.get(Field::dur_ms));
        break;
      case Op::write_done: progress("checkpoints", step_of(Field::step)); break;
      case Op::ckpt_saving: progress("checkpoints", fmt::format("saving {}", step_of(Field::step))); break;
      case Op::server_recv: case Op::rpc_start:
        activity(server(file));
        break;
      case Op::rpc_done:
        progress(server(file), fmt::format("{} rpc {:.0f} ms", ev.trace.str(), ev.get(Field::rpc_ms)));
        break;
      default: break;
    }
  }

  std::string server(std::string_view file) {
    return fmt::format("inference {}", std::filesystem::path(std::string(file)).filename().string());
  }
  parse::Scratch scratch_;
  std::set<std::string> seen_;  // files whose first line was seen (at most 4096 kept)
};

}  // namespace

std::unique_ptr<Classifier> make_primerl_classifier() { return std::make_unique<PrimeRl>(); }

}  // namespace alog::follow
