// What a srtctl job's lines say about its components' progress (follow.hpp).
//
// Components (FORMATS-serving-and-ray.md §1, §3):
//   "worker <file stem>"   one per prefill / decode / agg worker log (`node01_prefill_w0`): progress at
//                          each start-up milestone (bootstrap, torch distributed, weight loading and its
//                          shard bar, KV cache, memory pool, CUDA graphs), finished when it is ready
//                          (`The server is fired up`, uvicorn's `Application startup complete`,
//                          Dynamo's `Registered endpoint`).
//   "serving <file stem>"  the same worker's `Prefill batch` / `Decode batch` lines (progress; a
//                          decode line's gen throughput is the sample `decode.gen_tps`).
//   "health check"         benchmark.out's wait for the workers: progress when the number still
//                          awaited changes, finished at `Model is ready.`.
//   "benchmark c=N"        one per concurrency (`warm-up c=N` for warm-ups): progress at each line of
//                          the run, each move of the client's request bar (benchmark.err) and, while
//                          it runs, the workers' batch lines (at most one per second of their stamps:
//                          sa-bench runs with --disable-tqdm, so the run is otherwise silent for
//                          minutes); finished when its result block closes or `Completed benchmark`
//                          is printed.
//   "batch script"         log.out / log.err: SLURM and srun errors as activity.
//   "orchestrator"         v2's sweep_{job}.log: its failures as activity; its health wait
//                          (`Waiting for server health` / `Server is healthy`) is the health check.
// The job ends at the v1 batch script's `Script finished at … with exit code N` or SLURM's
// `*** JOB … CANCELLED AT …`. Failure lines (OOM, NCCL, tracebacks, SLURM) are activity of the
// component whose file they are in, with the failure catalogue's title as the detail.
//
// Cost: batch lines (most of a worker log) are told by a prefix test and parsed without a regex
// or an allocation (srtctl's parse_batch_line); milestones are prefix tests on the message; the
// failure catalogue's RE2 set runs only on lines holding one of a few literals. Per file, the
// classifier keeps its role and component names (a map keyed by path); per concurrency, whether it
// finished. Nothing grows with the number of lines.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/follow.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace alog::follow {

namespace {

using Type = Signal::Type;

bool has(std::string_view s, std::string_view n) {
  return s.find(n) != std::string_view::npos;
}

// The basename of a path as discovery found it.
std::string_view base_name(std::string_view path) {
  size_t s = path.find_last_of('/');
  return s == std::string_view::npos ? path : path.substr(s + 1);
}


std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The latest state of a `\r`-separated progress line: its last non-empty segment.
std::string_view last_segment(std::string_view s) {
  while (!s.empty()) {
    size_t r = s.rfind('\r');
    if (r == std::string_view::npos) return s;
    std::string_view tail = s.substr(r + 1);
    if (!trim(tail).empty()) return tail;
    s = s.substr(0, r);
  }
  return s;
}

// A leading integer (after spaces); nullopt when there is none.
std::optional<int64_t> leading_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return v;
}

// A tqdm bar's `n/total` (`…| 41/82 [01:40<…`, `… 37/48 [06:10<…`): the counter before the
// bracket that opens the timing part. false when the segment has none.
bool bar_count(std::string_view seg, int64_t& n, int64_t& total) {
  size_t b = seg.find(" [");
  while (b != std::string_view::npos) {
    // Back up over "n/total".
    size_t e = b, s = b;
    while (s > 0 && (std::isdigit(static_cast<unsigned char>(seg[s - 1])) || seg[s - 1] == '/')) --s;
    std::string_view nt = seg.substr(s, e - s);
    size_t slash = nt.find('/');
    if (slash != std::string_view::npos && slash > 0 && slash + 1 < nt.size()) {
      auto a = leading_int(nt.substr(0, slash)), t = leading_int(nt.substr(slash + 1));
      if (a && t && *a >= 0 && *t > 0 && *a <= *t && s > 0 && (seg[s - 1] == ' ' || seg[s - 1] == '|')) {
        n = *a;
        total = *t;
        return true;
      }
    }
    b = seg.find(" [", b + 2);
  }
  return false;
}


// A failure line: a literal prefilter, then the shared catalogue. Returns the row's title, or
// "traceback" for a traceback header the catalogue does not name; empty when not a failure.
std::string_view failure_of(std::string_view s) {
  static constexpr std::string_view literals[] = {
      "rror",   "xception", "Traceback", "emory",  "Killed",  "NCCL",    "CANCELLED",
      "terminate called", "Fatal", "Segmentation", "SIGABRT", "oom", "scheduler is dead",
      "sigquit", "device-side assert"};
  if (!contains_any(s, literals) || srtctl::is_noise(s)) return {};
  if (const core::Signature* sig = core::match_signature(s)) return sig->title;
  if (has(s, "Traceback (most recent call last)")) return "traceback";
  return {};
}

// The value of `name` is followed by a ',' in the line: a line cut inside the value (a truncated
// file, a final fragment) must not give a shorter number.
bool field_complete(std::string_view line, std::string_view name) {
  size_t at = line.find(name);
  if (at == std::string_view::npos) return false;
  size_t i = at + name.size();
  while (i < line.size() && (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == '.' ||
                             line[i] == '-' || line[i] == 'e' || line[i] == '+'))
    ++i;
  return i < line.size() && line[i] == ',';
}

enum class Role : uint8_t { worker, frontend, benchmark_out, benchmark_err, batch, sweep, other };

struct FileInfo {
  Role role = Role::other;
  std::string stem;     // "node01_prefill_w0"
  std::string worker;   // "worker node01_prefill_w0"
  std::string serving;  // "serving node01_prefill_w0"
};

struct WorkerState {
  bool ready = false;
  int64_t bar_n = -1, bar_total = -1;  // the start-up bar's last count
};

// A start-up milestone: the start of an SGLang / bootstrap message, what it is called, and how
// long the next milestone may typically take (seeds 003/004: weight loading and graph capture
// take minutes on large models).
struct Milestone {
  std::string_view prefix;
  std::string_view name;
  double typical_s;
};
constexpr Milestone kMilestones[] = {
    {"Prefill worker setup started", "setup started", 0},
    {"Decode worker setup started", "setup started", 0},
    {"Aggregated worker setup started", "setup started", 0},
    {"Etcd is ready!", "etcd ready", 0},
    {"Successfully installed dynamo wheels", "dynamo installed", 0},
    {"Running command:", "engine launched", 600},
    {"Init torch distributed begin", "torch distributed init", 600},
    {"Init torch distributed ends", "torch distributed ready", 900},
    {"Load weight begin", "loading weights", 900},
    {"Load weight end", "weights loaded", 600},
    {"KV Cache is allocated", "KV cache allocated", 600},
    {"Memory pool end", "memory pool ready", 900},
    {"Capture cuda graph begin", "capturing CUDA graphs", 900},
    {"Capture cuda graph end", "CUDA graphs captured", 600},
    {"max_total_num_tokens=", "scheduler configured", 600},
};
constexpr std::string_view kReady[] = {
    "The server is fired up and ready to roll",
    "Application startup complete",
    "Registered endpoint",
};

// The message of a worker line: after `[stamp prefix] ` or `stamp| root: `, else the line.
std::string_view message_of(std::string_view s) {
  if (!s.empty() && s[0] == '[') {
    const void* rb = std::memchr(s.data(), ']', std::min<size_t>(s.size(), 120));
    if (rb) {
      size_t close = static_cast<size_t>(static_cast<const char*>(rb) - s.data());
      std::string_view m = s.substr(close + 1);
      if (!m.empty() && m[0] == ' ') m.remove_prefix(1);
      return m;
    }
  }
  if (s.size() > 27 && s[4] == '-' && s[19] == '|') {
    size_t r = s.find(": ", 20);
    if (r != std::string_view::npos && r < 40) return s.substr(r + 2);
  }
  return s;
}

class SrtctlClassifier final : public Classifier {
 public:
  void on_line(std::string_view file, std::string_view line, std::vector<Signal>& out) override {
    const FileInfo& f = info(file);
    if (line.empty()) return;
    switch (f.role) {
      case Role::worker: return worker_line(f, line, out);
      case Role::frontend:
      case Role::other: return failure_only(f, line, out);
      case Role::benchmark_out: return bench_out(line, out);
      case Role::benchmark_err: return bench_err(line, out);
      case Role::batch: return batch_line(line, out);
      case Role::sweep: return sweep_line(line, out);
    }
  }

 private:
  // ---- files ----
  const FileInfo& info(std::string_view file) {
    if (last_ && last_name_ == file) return *last_;
    auto it = files_.find(file);
    if (it == files_.end()) it = files_.emplace(std::string(file), make_info(file)).first;
    last_name_ = it->first;
    last_ = &it->second;
    return it->second;
  }

  static FileInfo make_info(std::string_view file) {
    FileInfo f;
    std::string_view b = base_name(file);
    size_t dot = b.rfind('.');
    f.stem = std::string(dot == std::string_view::npos ? b : b.substr(0, dot));
    if (b == "benchmark.out") {
      f.role = Role::benchmark_out;
    } else if (b == "benchmark.err") {
      f.role = Role::benchmark_err;
    } else if (b == "log.out" || b == "log.err") {
      f.role = Role::batch;
    } else if (b.starts_with("sweep_") && b.ends_with(".log")) {
      f.role = Role::sweep;  // v2's orchestrator (srtctl.cli.do_sweep)
    } else if (auto id = srtctl::classify_log_file(b)) {
      if (id->role == "prefill" || id->role == "decode" || id->role == "agg") {
        f.role = Role::worker;
        f.worker = "worker " + f.stem;
        f.serving = "serving " + f.stem;
      } else if (id->role == "frontend") {
        f.role = Role::frontend;
        f.worker = "frontend " + f.stem;
      } else if (id->role == "nginx") {
        f.worker = "nginx " + f.stem;  // failures only, as activity
      }
    }
    if (f.role == Role::other && f.worker.empty()) f.worker = "file " + std::string(b);
    return f;
  }

  static void push(std::vector<Signal>& out, Type t, std::string_view component,
                   std::string detail = {}, double typical_s = 0) {
    Signal s;
    s.type = t;
    s.component = std::string(component);
    s.detail = std::move(detail);
    s.typical_s = typical_s;
    out.push_back(std::move(s));
  }

  void set_ready(WorkerState& w, const std::string& worker, std::string_view why, std::vector<Signal>& out) {
    w.ready = true;
    push(out, Type::finished, worker, std::string(why));
  }

  // ---- worker logs ----
  void worker_line(const FileInfo& f, std::string_view raw, std::vector<Signal>& out) {
    WorkerState& w = workers_[f.stem];
    // The fast path: batch lines are most of a worker log.
    if (raw[0] == '[') {
      std::string_view m = message_of(raw);
      if (m.starts_with("Prefill batch") || m.starts_with("Decode batch")) {
        const bool decode = m[0] == 'D';
        // A worker serving batches is up, whether or not its version printed a ready line.
        if (!w.ready) set_ready(w, f.worker, "serving", out);
        srtctl::BatchSample b;
        const bool parsed = srtctl::parse_batch_line(raw, b);
        std::string detail;
        if (parsed && !std::isnan(b.v[srtctl::kRunningReq]))
          detail = fmt::format("{} batch, {} running", decode ? "decode" : "prefill",
                               b.v[srtctl::kRunningReq]);
        else
          detail = decode ? "decode batch" : "prefill batch";
        // The running benchmark moves while its requests are served: sa-bench runs with
        // --disable-tqdm under srtctl, so between `Starting main benchmark run` and the result
        // block benchmark.out says nothing for minutes. At most one such progress per second of
        // the workers' clock.
        if (!cur_.empty() && !cur_done_ && parsed && b.t > run_t_) {
          run_t_ = b.t;
          push(out, Type::progress, cur_, "requests being served (" + detail + ")");
        }
        push(out, Type::progress, f.serving, std::move(detail));
        if (parsed && decode && std::isfinite(b.v[srtctl::kGenTps]) && field_complete(raw, "gen throughput (token/s): ")) {
          Signal s;
          s.type = Type::sample;
          s.component = f.serving;
          s.metric = "decode.gen_tps";
          s.value = b.v[srtctl::kGenTps];
          out.push_back(std::move(s));
        }
        return;
      }
    }
    std::string_view s = trim(without_ansi(raw, buf_));
    if (s.empty()) return;
    const std::string& comp = w.ready ? f.serving : f.worker;
    // Start-up bars (weight loading, CUDA-graph capture): progress when the count moves.
    if (!w.ready && (has(s, "% Completed |") || has(s, "%|"))) {
      std::string_view seg = last_segment(s);
      int64_t n = 0, total = 0;
      if (bar_count(seg, n, total)) {
        if (n != w.bar_n || total != w.bar_total) {
          w.bar_n = n;
          w.bar_total = total;
          const bool capture = has(seg, "Capturing");
          push(out, Type::progress, f.worker,
               fmt::format("{} {}/{}", capture ? "capturing CUDA graphs" : "loading weights", n, total), 900);
        }
        return;  // the repeated 100% line: nothing moved
      }
    }
    if (std::string_view fail = failure_of(s); !fail.empty()) {
      push(out, Type::activity, comp, std::string(fail));
      return;
    }
    if (!w.ready) {
      std::string_view m = message_of(s);
      for (auto r : kReady)
        if (has(s, r)) {
          push(out, Type::progress, f.worker, "ready");
          set_ready(w, f.worker, "ready", out);
          return;
        }
      for (const auto& ms : kMilestones)
        if (m.starts_with(ms.prefix)) {
          push(out, Type::progress, f.worker, std::string(ms.name), ms.typical_s);
          return;
        }
    }
    if (srtctl::is_noise(s)) return;
    push(out, Type::activity, comp);  // its last line
  }

  void failure_only(const FileInfo& f, std::string_view raw, std::vector<Signal>& out) {
    std::string_view s = trim(without_ansi(raw, buf_));
    if (std::string_view fail = failure_of(s); !fail.empty())
      push(out, Type::activity, f.worker, std::string(fail));
  }

  // ---- log.out / log.err: the batch script ----
  void batch_line(std::string_view raw, std::vector<Signal>& out) {
    std::string_view s = trim(without_ansi(raw, buf_));
    if (s.starts_with("Script finished at ")) {
      size_t w = s.rfind("with exit code ");
      std::string why = "batch script finished";
      if (w != std::string_view::npos) {
        if (auto code = leading_int(s.substr(w + 15)))
          why = fmt::format("batch script finished with exit code {}", *code);
      }
      push(out, Type::job_ended, "batch script", std::move(why));
      return;
    }
    if (s.starts_with("slurmstepd: error: *** JOB ") && has(s, " CANCELLED AT ")) {
      push(out, Type::job_ended, "batch script",
           has(s, "DUE TO TIME LIMIT") ? "SLURM cancelled the job (time limit)"
                                       : "SLURM cancelled the job");
      return;
    }
    if (s.starts_with("+")) return;  // the `set -x` trace
    if (s.starts_with("srun: error:") || s.starts_with("Error: ") ||
        s.starts_with("slurmstepd: error:")) {
      std::string_view fail = failure_of(s);
      push(out, Type::activity, "batch script",
           std::string(!fail.empty() ? fail : s.starts_with("srun") ? "srun error" : "batch script error"));
      return;
    }
  }

  // ---- v2: sweep_{job}.log, the orchestrator (the health wait is here, not in benchmark.out) ----
  void sweep_line(std::string_view raw, std::vector<Signal>& out) {
    std::string_view s = trim(without_ansi(raw, buf_));
    if (has(s, "Waiting for server health")) {
      push(out, Type::progress, "health check", "waiting for the server", 3600);
    } else if (has(s, "Server is healthy")) {
      ready_all("server is healthy", out);
    } else if (has(s, "Server did not become healthy")) {
      push(out, Type::activity, "health check", "health check gave up");
    } else if (has(s, "Benchmark failed with exit code")) {
      push(out, Type::activity, "orchestrator", "benchmark failed");
    } else if (std::string_view fail = failure_of(s); !fail.empty()) {
      push(out, Type::activity, "orchestrator", std::string(fail));
    }
  }

  // The health check passed: it and every worker seen so far are up.
  void ready_all(std::string_view why, std::vector<Signal>& out) {
    if (health_done_) return;
    health_done_ = true;
    push(out, Type::progress, "health check", std::string(why));
    push(out, Type::finished, "health check", std::string(why));
    // The frontend sees every worker registered: those whose logs said no ready line of a
    // version we know are up all the same.
    for (auto& [stem, w] : workers_)
      if (!w.ready) set_ready(w, "worker " + stem, fmt::format("{} (health check)", why), out);
  }

  // ---- benchmark.out: health check, warm-ups, runs ----
  std::string run_name(int64_t c, bool warmup) const {
    return fmt::format("{} c={}", warmup ? "warm-up" : "benchmark", c);
  }

  void start_run(int64_t c, bool warmup, std::string detail, std::vector<Signal>& out) {
    cur_c_ = c;
    cur_warmup_ = warmup;
    cur_ = run_name(c, warmup);
    bar_n_ = -1;
    run_t_ = INT64_MIN;
    cur_done_ = false;
    in_block_ = false;
    finished_.erase(cur_);  // a concurrency run again (a second sweep) is followed afresh
    push(out, Type::progress, cur_, std::move(detail));
  }

  void finish_run(std::string detail, std::vector<Signal>& out) {
    if (cur_.empty() || finished_.count(cur_)) return;
    cur_done_ = true;
    if (finished_.size() < 4096) finished_.insert(cur_);
    push(out, Type::finished, cur_, std::move(detail));
  }

  void bench_out(std::string_view raw, std::vector<Signal>& out) {
    std::string_view s = trim(without_ansi(raw, buf_));
    if (s.empty()) return;
    // The health-check wait.
    if (s.starts_with("Polling ") && has(s, "to check whether")) {
      push(out, Type::progress, "health check", "polling the frontend", 3600);
      return;
    }
    if (s.starts_with("Model is not ready, waiting for ")) {
      auto p = leading_int(s.substr(32));
      size_t a = s.find(" prefills and ");
      std::optional<int64_t> d;
      if (a != std::string_view::npos) d = leading_int(s.substr(a + 14));
      if (!p || !d) {  // cut mid-way: says nothing about the count
        push(out, Type::activity, "health check");
        return;
      }
      const int64_t pp = *p, dd = *d;
      std::string detail = fmt::format("waiting for {} prefills and {} decodes", pp, dd);
      if (pp != wait_p_ || dd != wait_d_) {
        wait_p_ = pp;
        wait_d_ = dd;
        push(out, Type::progress, "health check", std::move(detail), 3600);
      } else {
        push(out, Type::activity, "health check", std::move(detail));
      }
      return;
    }
    if (s.starts_with("Model is ready")) {
      ready_all("model is ready", out);
      return;
    }
    if (s.starts_with("Model did not get healthy")) {
      push(out, Type::activity, "health check", "health check gave up");
      return;
    }
    // A warm-up (its line may be glued to the spot check's JSON, §1.5).
    if (size_t w = s.find("Warming up model with concurrency "); w != std::string_view::npos) {
      if (auto c = leading_int(s.substr(w + 34))) {
        start_run(*c, true, "warm-up started", out);
        return;
      }
    }
    if (s.starts_with("Running benchmark with concurrency: ")) {
      if (auto c = leading_int(s.substr(36))) {
        std::string detail = "started";
        size_t np = s.find("num-prompts: ");
        if (np != std::string_view::npos)
          if (auto m = leading_int(s.substr(np + 13)))
            detail = fmt::format("started, {} prompts", *m);
        start_run(*c, false, std::move(detail), out);
        return;
      }
    }
    if (s.starts_with("Completed benchmark with concurrency: ")) {
      if (auto c = leading_int(s.substr(38))) {
        if (cur_c_ != *c || cur_warmup_) {
          cur_c_ = *c;
          cur_warmup_ = false;
          cur_ = run_name(*c, false);
          cur_done_ = finished_.count(cur_) > 0;
        }
        finish_run("completed", out);
      }
      return;
    }
    if (s.find("Serving Benchmark Result") != std::string_view::npos && s.starts_with("=")) {
      in_block_ = true;
      if (!cur_.empty() && !finished_.count(cur_)) push(out, Type::progress, cur_, "writing its result");
      return;
    }
    // sa-bench prints the concurrency before its block (after `Running benchmark …`, so it names
    // the run already started); sglang.bench_serving prints it inside its block, with no run line.
    if (s.starts_with("Maximum request concurrency: ") || s.starts_with("Max request concurrency:")) {
      auto c = leading_int(s.substr(s.find(':') + 1));
      if (c && (cur_.empty() || finished_.count(cur_))) {
        const bool block = in_block_;
        start_run(*c, false, "started", out);
        in_block_ = block;
      } else if (!cur_.empty() && !finished_.count(cur_)) {
        push(out, Type::progress, cur_, std::string(s));
      }
      return;
    }
    if (cur_.empty()) return;
    if (in_block_) {
      if (s.find_first_not_of('=') == std::string_view::npos && s.size() >= 20) {
        in_block_ = false;
        finish_run("result written", out);
        return;
      }
      if (s.starts_with("Successful requests:")) {
        if (auto n = leading_int(s.substr(20)))
          push(out, Type::progress, cur_, fmt::format("{} requests done", *n));
      }
      return;
    }
    if (s.starts_with("Starting initial single prompt test run") ||
        s.starts_with("Initial test run completed") || s.starts_with("Starting warmup with") ||
        s.starts_with("Warmup completed")) {
      push(out, Type::progress, cur_, std::string(s));
      return;
    }
    if (std::string_view fail = failure_of(s); !fail.empty()) {
      push(out, Type::activity, cur_, std::string(fail));
      return;
    }
    if (s.starts_with("ValueError:") || s.starts_with("Traceback")) {
      push(out, Type::activity, cur_, "error");
      return;
    }
  }

  // ---- benchmark.err: the client's request bar and its errors ----
  void bench_err(std::string_view raw, std::vector<Signal>& out) {
    std::string_view s = without_ansi(raw, buf_);
    if (s.starts_with("+")) return;  // the `set -x` trace
    if (!cur_.empty() && s.find('|') != std::string_view::npos && s.find('/') != std::string_view::npos) {
      int64_t n = 0, total = 0;
      if (bar_count(last_segment(s), n, total)) {
        if (n != bar_n_) {
          bar_n_ = n;
          push(out, Type::progress, cur_, fmt::format("{}/{} requests", n, total));
        }
        return;
      }
    }
    std::string_view t = trim(s);
    if (std::string_view fail = failure_of(t); !fail.empty())
      push(out, Type::activity, cur_.empty() ? std::string_view("benchmark client") : cur_,
           std::string(fail));
  }

  std::map<std::string, FileInfo, std::less<>> files_;
  std::map<std::string, WorkerState, std::less<>> workers_;
  std::string_view last_name_;
  const FileInfo* last_ = nullptr;
  std::string buf_;
  // benchmark.out
  std::string cur_;
  int64_t cur_c_ = -1;
  bool cur_warmup_ = false;
  bool in_block_ = false;
  bool cur_done_ = false;      // the current run finished
  int64_t run_t_ = INT64_MIN;  // the workers' stamp of the latest batch progress of the run
  int64_t bar_n_ = -1;
  int64_t wait_p_ = -2, wait_d_ = -2;
  bool health_done_ = false;
  std::set<std::string> finished_;
};

}  // namespace

std::unique_ptr<Classifier> make_srtctl_classifier() {
  return std::make_unique<SrtctlClassifier>();
}

}  // namespace alog::follow
