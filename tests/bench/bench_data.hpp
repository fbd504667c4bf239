// In-memory inputs for the micro-benchmarks: a deterministic, realistic orchestrator log (ANSI
// colour codes on every line, ~6.5 % tagged lines, tqdm '\r' segments, tracebacks, bracketed
// chatter), and a ByteSource that serves a buffer without copying it, so a benchmark of scan()
// measures the scanner and not a 64 MB memcpy per iteration.
//
// The end-to-end benchmark uses tests/bench/gen_log.py instead; this one only has to look like a
// real log to the hot loop (byte mix, line lengths, ']' density).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "analyze_logs/input.hpp"

namespace alog::bench {

inline std::string ansi_prefix(uint32_t tod, std::string_view level = "   INFO") {
  return fmt::format("\x1b[32m{:02}:{:02}:{:02}\x1b[0m \x1b[1m{}\x1b[0m \x1b[1m\x1b[22m", tod / 3600 % 24,
                     tod / 60 % 60, tod % 60, level);
}

// About `bytes` bytes of log, whole lines, the same for the same seed.
inline std::string realistic_log(size_t bytes, uint32_t seed = 1) {
  std::mt19937_64 rng(seed);
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto pick = [&](uint64_t n) { return rng() % n; };
  std::string out;
  out.reserve(bytes + 4096);
  uint32_t tod = 18 * 3600;
  uint64_t step = 0, cycle_pos = 0, tid = 0;
  double t = 53000.0;
  static constexpr std::string_view kChatter[] = {
      "Generating rollouts for step {} with {} samples",
      "Loaded batch of {} prompts from buffer [dataset=train] [split={}]",
      "Scheduler state: {} inflight requests, {} finished",
      "HTTP Request: POST http://10.0.0.2:8000/v1/chat/completions \"HTTP/1.1 200 OK\" [{}ms] [{}]",
      "Reward stats: step={} mean={}.5 std=0.25 [min=0.0, max=1.0]",
  };
  while (out.size() < bytes) {
    if (pick(20) == 0) ++tod;
    uint64_t r = pick(1000);
    if (r < 65) {
      std::string body;
      switch (cycle_pos++ % 7) {
        case 0: body = fmt::format("[gen] batch.start inflight={} target_batch=64", 64 + pick(96)); break;
        case 1:
          tid = rng();
          body = fmt::format("[weights][{:016x}] client.send url=http://10.0.0.2:8000 path=/models/run/step_{} t={:.4f}",
                             tid, step, t);
          break;
        case 2:
          body = fmt::format("[weights][{:016x}] client.done wall_ms={:.1f} rpc_ms={:.1f} queue_ms={:.1f}", tid,
                             uni(300, 900), uni(300, 800), uni(1, 60));
          break;
        case 3:
          body = fmt::format("[gen] batch.done completions=64 dur_ms={:.1f} inflight={}", uni(1000, 5000), 64 + pick(96));
          break;
        case 4: body = fmt::format("[ckpt] wait.start target_step={}", step); break;
        case 5: body = fmt::format("[ckpt] wait.done target_step={} wait_ms={:.1f}", step, uni(1, 100)); break;
        default:
          body = fmt::format("[rollout] trunc_pct={:.1f} current_step={} ckpt_step={} staleness={}", uni(0, 40), step + 1,
                             step, pick(3));
          ++step;
          t += 3.1;
          break;
      }
      out += ansi_prefix(tod);
      out += body;
      out += "\x1b[0m\x1b[0m\n";
    } else if (r < 80) {
      for (int p = 0; p < 100; p += 25)
        out += fmt::format("Rollouts: {:3}%|{:10}| {}/100 [00:{:02}<00:10, 9.8it/s]\r", p, std::string(p / 10, '#'), p, p);
      out += '\n';
    } else if (r < 85) {
      out += ansi_prefix(tod, "  ERROR");
      out += "Traceback (most recent call last):\x1b[0m\n  File \"/app/prime_rl/orchestrator.py\", line 123, in run\n"
             "    await self.step()  # [weights] retried\nRuntimeError: update [weights][abc] failed\n";
    } else {
      out += ansi_prefix(tod);
      out += fmt::format(fmt::runtime(kChatter[pick(std::size(kChatter))]), step, pick(1000));
      out += "\x1b[0m\x1b[0m\n";
    }
  }
  return out;
}

// Serves a buffer it does not own, in reads of at most `max_read` bytes (like read(2) on a pipe).
class ViewSource : public input::ByteSource {
 public:
  explicit ViewSource(std::string_view data, size_t max_read = 1u << 30) : data_(data), max_read_(max_read) {}
  size_t read(char* buf, size_t cap) override {
    size_t n = std::min({cap, max_read_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }
  input::Compression compression() const override { return input::Compression::none; }
  uint64_t total_raw_bytes() const override { return data_.size(); }
  uint64_t raw_bytes_read() const override { return pos_; }

 private:
  std::string_view data_;
  size_t max_read_;
  size_t pos_ = 0;
  std::string name_ = "<bench>";
};

}  // namespace alog::bench
