// analyze_job: runs the stages over one folder and decides what happened.
//
// Root cause: the teardown moment is the earliest `CANCELLED AT` stamp. slurmstepd writes that
// line before it signals the tasks, so whatever a step prints while dying comes after it and
// carries its stamp; a signature stamped at or after the teardown is collateral. Among the
// rest, a fatal signature beats an error
// line and the earliest stamp wins; failures that start strictly later than a fatal root cause
// are its consequences. A worker whose step ended before the teardown has no CANCELLED line at
// all, which is why the crashed worker's log looks "cleaner" than its neighbours'.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "collect.hpp"

namespace alog::srtctl {

namespace fs = std::filesystem;

const WorkerFailure* JobReport::root() const {
  for (const auto& f : failures)
    if (f.root_cause) return &f;
  return nullptr;
}

std::vector<const BenchRun*> JobReport::unfinished() const {
  std::vector<const BenchRun*> out;
  for (const auto& r : runs)
    if (!r.finished()) out.push_back(&r);
  return out;
}

const BenchRun* JobReport::run(int64_t concurrency) const {
  for (const auto& r : runs)
    if (r.concurrency == concurrency && r.finished()) return &r;
  for (const auto& r : runs)
    if (r.concurrency == concurrency) return &r;
  return nullptr;
}

namespace {

// Most specific first: decides a worker's kind when its logs hold several signatures.
int kind_rank(std::string_view k) {
  // clang-format off
  static constexpr std::string_view order[] = {
      "cuda_oom", "host_oom", "nccl_timeout", "native_crash", "nccl_error", "kv_transfer",
      "sglang_crash", "actor_died", "init_failure", "nan_loss", "killed", "slurm_time_limit",
      "slurm_cancelled", "mooncake_failure", "mooncake_binary_missing", "runtime_error",
      "exception", "traceback", "error"};
  // clang-format on
  for (size_t i = 0; i < std::size(order); ++i)
    if (order[i] == k) return static_cast<int>(i);
  return 99;
}

int role_rank(std::string_view r) {
  static constexpr std::string_view order[] = {"decode", "prefill",   "agg",   "frontend",
                                               "nginx",  "benchmark", "batch", "orchestrator"};
  for (size_t i = 0; i < std::size(order); ++i)
    if (order[i] == r) return static_cast<int>(i);
  return 99;
}

}  // namespace

std::string kind_text(std::string_view k) {
  if (k == "cuda_oom") return "CUDA out of memory";
  if (k == "host_oom") return "host out of memory (OOM killer)";
  if (k == "nccl_timeout") return "NCCL collective timeout";
  if (k == "native_crash") return "native crash";
  if (k == "nccl_error") return "NCCL error";
  if (k == "kv_transfer") return "KV-cache transfer failure";
  if (k == "sglang_crash") return "SGLang scheduler crash";
  if (k == "killed") return "process killed";
  if (k == "exception") return "uncaught exception";
  if (k == "traceback") return "Python traceback";
  if (const core::Signature* sig = core::find_signature(k)) return std::string(sig->title);
  return "error line";
}


std::string worker_label(const std::string& role, int index, const std::string& node) {
  std::string s;
  if (role == "prefill" || role == "decode" || role == "agg")
    s = fmt::format("{} w{}", role, index);
  else if (role == "frontend")
    s = fmt::format("frontend {}", index < 0 ? 0 : index);
  else if (role == "benchmark")
    s = "benchmark client";
  else if (role == "batch")
    s = "batch script";
  else
    s = role;
  if (!node.empty()) s += " on " + node;
  return s;
}

namespace {

// Time order with unknown stamps last.
int64_t order_key(const std::string& t) {
  auto v = civil_seconds(t);
  return v ? *v : INT64_MAX;
}

std::optional<int> json_int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_number()) return static_cast<int>(it->get<double>());
  if (it->is_string()) {
    if (auto v = parse_int(it->get_ref<const std::string&>()); v && *v < 1000000000)
      return static_cast<int>(*v);
  }
  return std::nullopt;
}

std::string json_str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return {};
}

void read_job_json(const fs::path& file, const std::string& rel, JobReport& rep) {
  std::string text;
  try {
    auto src = input::open_source(file.string());
    std::string buf(1 << 16, '\0');
    while (size_t n = src->read(buf.data(), buf.size())) text.append(buf.data(), n);
  } catch (const std::exception& e) {
    rep.problems.push_back({rel, e.what()});
    return;
  }
  // Bounded nesting first: nlohmann_json recurses on it (a 200,000-deep file crashed).
  auto j = parse_json_bounded(text);
  if (j.is_discarded() || !j.is_object()) {
    rep.problems.push_back({rel, "malformed job metadata JSON, ignored"});
    return;
  }
  if (auto rm = j.find("run_metadata"); rm != j.end() && rm->is_object()) {  // v1
    rep.job_name = json_str(*rm, "job_name");
    rep.model = json_str(*rm, "model_dir");
    rep.gpu_type = json_str(*rm, "gpu_type");
    rep.gpus_per_node = json_int(*rm, "gpus_per_node");
    rep.prefill_nodes = json_int(*rm, "prefill_nodes");
    rep.decode_nodes = json_int(*rm, "decode_nodes");
    rep.agg_nodes = json_int(*rm, "agg_nodes");
    if (rep.job.prefill_workers < 0)
      if (auto v = json_int(*rm, "prefill_workers")) rep.job.prefill_workers = *v;
    if (rep.job.decode_workers < 0)
      if (auto v = json_int(*rm, "decode_workers")) rep.job.decode_workers = *v;
    if (rep.job.agg_workers < 0)
      if (auto v = json_int(*rm, "agg_workers")) rep.job.agg_workers = *v;
    if (rep.job.job_id.empty()) rep.job.job_id = json_str(*rm, "slurm_job_id");
  }
  if (auto pm = j.find("profiler_metadata"); pm != j.end() && pm->is_object()) {
    if (auto v = json_int(*pm, "isl")) rep.isl = *v;
    if (auto v = json_int(*pm, "osl")) rep.osl = *v;
    std::string c = json_str(*pm, "concurrencies");
    for (size_t i = 0; i < c.size();) {
      size_t x = c.find('x', i);
      if (auto v =
              parse_int(std::string_view(c).substr(i, x == std::string::npos ? c.npos : x - i)))
        rep.requested_concurrencies.push_back(*v);
      if (x == std::string::npos) break;
      i = x + 1;
    }
    rep.request_rate = json_str(*pm, "req-rate");
  }
  if (auto m = j.find("model"); m != j.end() && m->is_object()) rep.model = json_str(*m, "path");
  if (auto b = j.find("benchmark"); b != j.end() && b->is_object()) {  // v2
    if (auto v = json_int(*b, "isl")) rep.isl = *v;
    if (auto v = json_int(*b, "osl")) rep.osl = *v;
  }
}

// v2 keeps the health wait in the orchestrator log instead of benchmark.out.
detail::SweepState read_sweep_log(const fs::path& file, const std::string& rel) {
  detail::SweepState rd;
  try {
    input::for_each_line(file.string(), [&](std::string_view l, uint64_t) {
      std::string stamp = l.size() >= 19 && civil_seconds(l.substr(0, 19))
                              ? std::string(l.substr(0, 19))
                              : std::string();
      if (l.find("Waiting for server health") != std::string_view::npos) {
        rd.polled = true;
      } else if (l.find("Server is healthy") != std::string_view::npos) {
        rd.ready = true;
        if (rd.ready_at.empty()) rd.ready_at = stamp;
      } else if (l.find("Server did not become healthy") != std::string_view::npos) {
        rd.timed_out = true;
      }
      return true;
    });
  } catch (const std::exception& e) {
    rd.problems.push_back({rel, e.what()});
  }
  return rd;
}

// A sweep log's readiness over what the files before it said.
void apply_sweep(const detail::SweepState& s, Readiness& rd) {
  rd.polled = rd.polled || s.polled;
  rd.ready = rd.ready || s.ready;
  if (rd.ready_at.empty()) rd.ready_at = s.ready_at;
  rd.timed_out = rd.timed_out || s.timed_out;
}

std::string strip_compression(std::string n) {
  for (const char* ext : {".gz", ".zst"}) {
    size_t k = std::char_traits<char>::length(ext);
    if (n.size() > k && n.compare(n.size() - k, k, ext) == 0) return n.substr(0, n.size() - k);
  }
  return n;
}

std::vector<fs::path> sorted_children(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return out;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool same_size(const std::optional<int64_t>& a, const std::optional<int64_t>& b) {
  return !a || !b || *a == *b;
}

// A result folder: `{name}_isl_{N}_osl_{M}` (sized) or `sa-bench_custom_*`.
bool result_dir(const std::string& dn, int64_t& isl, int64_t& osl, bool& sized) {
  static const RE2 sized_dir(R"(.+_isl_(\d+)_osl_(\d+))");
  sized = RE2::FullMatch(dn, sized_dir, &isl, &osl);
  return sized || dn.rfind("sa-bench_custom_", 0) == 0;
}

// The result JSONs of `base`'s result folders, as FileStates with paths `prefix + dn/fn`.
void collect_results(const fs::path& base, const std::string& prefix, detail::Collected& c) {
  for (const auto& d : sorted_children(base)) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::string dn = d.filename().string();
    int64_t isl = 0, osl = 0;
    bool sized = false;
    if (!result_dir(dn, isl, osl, sized)) continue;
    for (const auto& f : sorted_children(d)) {
      std::string fn = strip_compression(f.filename().string());
      if (fn.size() < 5 || fn.compare(fn.size() - 5, 5, ".json") != 0) continue;
      if (fn.size() > 13 && fn.compare(fn.size() - 13, 13, ".pytorch.json") == 0) continue;
      if (!fs::is_regular_file(f, ec)) continue;
      std::string rel = prefix + dn + "/" + f.filename().string();
      detail::ResultState r;
      r.run = read_result_json(f, rel, r.problems);
      c.files.push_back({rel, "", rel, std::move(r)});
    }
  }
}

// One result JSON merged into the runs: into the run of benchmark.out at its concurrency and
// sizes, else a run of its own.
void merge_result(const detail::ResultState& st, const std::string& dn, JobReport& rep) {
  for (const auto& p : st.problems) rep.problems.push_back(p);
  if (!st.run) return;
  int64_t isl = 0, osl = 0;
  bool sized = false;
  result_dir(dn, isl, osl, sized);
  std::optional<BenchRun> r = st.run;
  if (sized) {
    r->isl = isl;
    r->osl = osl;
  }
  BenchRun* match = nullptr;
  for (auto& x : rep.runs)
    if (x.concurrency == r->concurrency && r->concurrency >= 0 && x.json_file.empty() &&
        same_size(x.isl, r->isl) && same_size(x.osl, r->osl)) {
      match = &x;
      break;
    }
  if (match == nullptr) {
    rep.runs.push_back(std::move(*r));
    return;
  }
  // The JSON has full precision; the block's 2-decimal copies only fill gaps.
  match->json_file = r->json_file;
  if (!match->isl) match->isl = r->isl;
  if (!match->osl) match->osl = r->osl;
  for (auto& [k, v] : r->metrics) {
    bool found = false;
    for (auto& [mk, mv] : match->metrics)
      if (mk == k) {
        mv = v;
        found = true;
      }
    if (!found) match->metrics.emplace_back(k, v);
  }
  for (auto& kv : r->text) match->text.push_back(kv);
  if (r->failed_requests) match->failed_requests = r->failed_requests;
  if (!match->num_prompts) match->num_prompts = r->num_prompts;
}

struct HitRef {
  const SignatureHit* hit;
  const LogScan* scan;
};

void build_failures(const std::vector<LogScan>& scans, JobReport& rep) {
  auto td = civil_seconds(rep.teardown_at);
  std::map<std::tuple<std::string, int, std::string>, std::vector<HitRef>> groups;
  for (const auto& sc : scans)
    for (const auto& h : sc.hits)
      groups[{sc.log.id.role, sc.log.id.index, sc.log.id.node}].push_back({&h, &sc});

  for (auto& [key, hits] : groups) {
    auto collateral = [&](const SignatureHit& h) {
      auto t = civil_seconds(h.time);
      return t && td && *t >= *td;
    };
    std::stable_sort(hits.begin(), hits.end(), [](const HitRef& a, const HitRef& b) {
      int64_t ta = order_key(a.hit->time), tb = order_key(b.hit->time);
      if (ta != tb) return ta < tb;
      if (a.scan != b.scan) return a.scan->log.file < b.scan->log.file;
      return a.hit->line < b.hit->line;
    });
    std::vector<HitRef> live;
    for (const auto& h : hits)
      if (!collateral(*h.hit)) live.push_back(h);
    const std::vector<HitRef>& use = live.empty() ? hits : live;

    WorkerFailure f;
    std::tie(f.role, f.index, f.node) = key;
    const HitRef& first = use.front();
    f.file = first.scan->log.file;
    f.line = first.hit->line;
    f.first_error = first.hit->text;
    f.time = first.hit->time;
    f.kind = first.hit->kind;
    for (const auto& h : use) {
      if (kind_rank(h.hit->kind) < kind_rank(f.kind)) f.kind = h.hit->kind;
      f.fatal = f.fatal || h.hit->fatal;
    }
    // `exception` is the line that closes a traceback: the traceback's fix applies.
    if (const core::Signature* sig =
            core::find_signature(f.kind == "exception" ? std::string_view("traceback") : f.kind))
      f.fix = std::string(sig->fix);
    f.signature_lines = hits.size();
    f.collateral = live.empty();
    // The traceback that holds or follows the first error, in the same file.
    for (const auto& tb : first.scan->tracebacks) {
      uint64_t end = tb.exception_line ? tb.exception_line : UINT64_MAX;
      if (end >= f.line) {
        f.exception = tb.exception;
        f.last_frame = tb.last_frame;
        break;
      }
    }
    rep.failures.push_back(std::move(f));
  }

  // Root cause: fatal first, then earliest, then most specific.
  auto better = [](const WorkerFailure& a, const WorkerFailure& b) {
    if (a.collateral != b.collateral) return !a.collateral;
    if (a.fatal != b.fatal) return a.fatal;
    int64_t ta = order_key(a.time), tb = order_key(b.time);
    if (ta != tb) return ta < tb;
    if (kind_rank(a.kind) != kind_rank(b.kind)) return kind_rank(a.kind) < kind_rank(b.kind);
    if (role_rank(a.role) != role_rank(b.role)) return role_rank(a.role) < role_rank(b.role);
    return std::tie(a.index, a.node) < std::tie(b.index, b.node);
  };
  std::sort(rep.failures.begin(), rep.failures.end(), better);
  if (!rep.failures.empty() && !rep.failures.front().collateral) {
    WorkerFailure& root = rep.failures.front();
    root.root_cause = true;
    auto rt = civil_seconds(root.time);
    for (size_t i = 1; i < rep.failures.size(); ++i) {
      auto t = civil_seconds(rep.failures[i].time);
      if (root.fatal && rt && t && *t > *rt) rep.failures[i].collateral = true;
    }
    // Root first, then the other live failures by time, then the collateral ones.
    std::stable_sort(rep.failures.begin() + 1, rep.failures.end(),
                     [](const WorkerFailure& a, const WorkerFailure& b) {
                       if (a.collateral != b.collateral) return !a.collateral;
                       return order_key(a.time) < order_key(b.time);
                     });
    rep.root_cause =
        fmt::format("{}: {}", worker_label(root.role, root.index, root.node), kind_text(root.kind));
    if (!root.time.empty()) rep.root_cause += " at " + root.time;
    rep.root_cause += fmt::format(" ({}:{})", root.file, root.line);
  }
}

std::string join_ints(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s;
}

void decide_verdict(JobReport& rep, bool have_benchmark_out) {
  const WorkerFailure* root = rep.root();
  std::vector<int64_t> done, unfinished_c, missing;
  size_t valid = 0, invalid = 0;
  std::string unfinished_desc;
  for (const auto& r : rep.runs) {
    if (r.finished()) {
      done.push_back(r.concurrency);
      (r.valid() ? valid : invalid)++;
    } else {
      unfinished_c.push_back(r.concurrency);
      if (unfinished_desc.empty())
        unfinished_desc =
            fmt::format("benchmark at concurrency {} started{} never finished", r.concurrency,
                        r.started_at.empty() ? "" : " " + r.started_at);
    }
  }
  for (int64_t c : rep.requested_concurrencies)
    if (std::find(done.begin(), done.end(), c) == done.end() &&
        std::find(unfinished_c.begin(), unfinished_c.end(), c) == unfinished_c.end())
      missing.push_back(c);
  std::string root_txt = root ? rep.root_cause : std::string();
  if (root_txt.empty() && rep.time_limit) root_txt = "SLURM time limit at " + rep.teardown_at;
  auto with_root = [&](std::string s) {
    if (!root_txt.empty()) s += "; first failure: " + root_txt;
    return s;
  };
  auto fail = [&](std::string id, std::string why) {
    rep.verdict = Verdict::failed;
    rep.reason_id = std::move(id);
    rep.reason = std::move(why);
  };
  auto degrade = [&](std::string id, std::string why) {
    rep.verdict = Verdict::degraded;
    rep.reason_id = std::move(id);
    rep.reason = std::move(why);
  };
  const auto& rd = rep.readiness;
  int64_t failed_requests = 0;
  int64_t failed_at = -1;
  for (const auto& r : rep.runs)
    if (r.failed_requests && *r.failed_requests > 0) {
      failed_requests += *r.failed_requests;
      if (failed_at < 0) failed_at = r.concurrency;
    }

  if (!rep.topology.errors.empty()) {
    fail("batch_script_error", "batch script: " + rep.topology.errors.front());
  } else if (done.empty() && rd.polled && !rd.ready) {
    std::string s = "model never became ready";
    if (rd.timed_out && rd.timeout_s)
      s += fmt::format(" (health check gave up after {} s", *rd.timeout_s);
    else if (rd.timed_out)
      s += " (health check gave up";
    else
      s += " (health check still polling when the log ends";
    if (rd.waiting_prefill && rd.waiting_decode)
      s += fmt::format(", still waiting for {} prefills and {} decodes", *rd.waiting_prefill,
                       *rd.waiting_decode);
    s += ")";
    fail("never_ready", with_root(s));
  } else if (done.empty() && !have_benchmark_out) {
    fail("no_benchmark_output", with_root("no benchmark output (benchmark.out missing) and no result files"));
  } else if (!unfinished_desc.empty()) {
    std::string s = root_txt.empty() ? unfinished_desc : root_txt + "; " + unfinished_desc;
    if (!missing.empty()) s += "; never ran: concurrency " + join_ints(missing);
    fail("benchmark_unfinished", s);
  } else if (done.empty()) {
    fail("no_benchmark_results", with_root("no benchmark results"));
  } else if (valid == 0) {
    fail("no_valid_results", with_root(fmt::format("no valid benchmark result: {} finished run{} {} not a result: {}",
                                                   invalid, invalid == 1 ? "" : "s", invalid == 1 ? "is" : "are",
                                                   invalid_runs_text(rep))));
  } else if (!missing.empty() && (root_txt.size() || rep.time_limit)) {
    fail("concurrency_never_ran", root_txt + "; never ran: concurrency " + join_ints(missing));
  } else if (!missing.empty()) {
    degrade("concurrency_missing", "no result for concurrency " + join_ints(missing));
  } else if (root && root->fatal) {
    degrade("worker_failure", fmt::format("all {} runs have results, but {}", done.size(), rep.root_cause));
  } else if (root) {
    degrade("worker_error", rep.root_cause + ": " + clip_utf8(root->first_error, 160));
  } else if (invalid > 0) {
    degrade("invalid_runs", fmt::format("{} of {} finished runs {} not a result: {}", invalid, done.size(),
                                        invalid == 1 ? "is" : "are", invalid_runs_text(rep)));
  } else if (failed_requests > 0) {
    degrade("failed_requests",
        fmt::format("{} failed requests (first at concurrency {})", failed_requests, failed_at));
  } else if (rep.topology.exit_code && *rep.topology.exit_code != 0) {
    degrade("batch_exit_code", fmt::format("batch script exited with code {}", *rep.topology.exit_code));
  } else if (!rep.problems.empty()) {
    degrade("file_problems", fmt::format("{} file problem(s); first: {}: {}", rep.problems.size(),
                        rep.problems.front().file, rep.problems.front().message));
  } else if (rep.time_limit) {
    degrade("slurm_time_limit", "job ended at the SLURM time limit");
  } else {
    rep.verdict = Verdict::healthy;
    rep.reason = fmt::format("{} run{} with results; no worker errors before teardown", done.size(),
                             done.size() == 1 ? "" : "s");
  }
}

}  // namespace

namespace {

// f(0) .. f(n - 1) on up to `threads` threads (0: one per core, at most 16); the first exception
// a call throws is rethrown here once every thread has stopped.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& f) {
  if (threads == 0) threads = std::min(16u, std::max(1u, std::thread::hardware_concurrency()));
  const size_t k = std::min<size_t>(threads, n);
  if (k <= 1) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(k);
  auto work = [&](size_t slot) {
    try {
      for (size_t i; (i = next.fetch_add(1)) < n;) f(i);
    } catch (...) {
      errors[slot] = std::current_exception();
      next.store(n);  // the others stop at their next file
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(k - 1);
  for (size_t slot = 1; slot < k; ++slot) helpers.emplace_back(work, slot);
  work(0);
  for (auto& t : helpers) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace

std::string invalid_runs_text(const JobReport& rep) {
  std::vector<std::string> parts;
  for (const auto& r : rep.runs)
    if (r.finished() && !r.invalid.empty()) parts.push_back(fmt::format("c{} ({})", r.concurrency, r.invalid));
  return fmt::format("{}", fmt::join(parts, ", "));
}

void judge_run(BenchRun& r, double max_failed_pct) {
  r.invalid.clear();
  if (!r.finished()) return;
  const auto completed = r.metric("completed");
  const auto tokens = r.metric("total_output_tokens");
  const auto out_tps = r.metric("output_throughput");
  const auto duration = r.metric("duration");
  if (completed && *completed <= 0) {
    r.invalid = "0 successful requests";
  } else if (tokens && *tokens <= 0) {
    r.invalid = "0 generated tokens";
  } else if (!tokens && out_tps && *out_tps <= 0) {
    r.invalid = "0 output tok/s";
  } else if (!duration || !(*duration > 0)) {
    r.invalid = duration ? fmt::format("benchmark duration {} s: no measured window", *duration)
                         : std::string("no benchmark duration: the measured window is missing");
  }
  if (!r.invalid.empty() || !r.failed_requests || *r.failed_requests <= 0) return;
  // The share of the requests sent: the prompts asked for, else completed plus failed.
  double sent = r.num_prompts && *r.num_prompts > 0 ? static_cast<double>(*r.num_prompts)
                : completed ? *completed + static_cast<double>(*r.failed_requests)
                            : 0.0;
  if (sent <= 0) return;
  double pct = 100.0 * static_cast<double>(*r.failed_requests) / sent;
  if (pct > max_failed_pct)
    r.invalid = fmt::format("{} of {} requests failed ({} %, limit {} %)", *r.failed_requests,
                            static_cast<int64_t>(sent), fixed(pct, 1), fixed(max_failed_pct, 1));
}

JobReport analyze_job(const fs::path& dir_in, unsigned threads) {
  return analyze_job(dir_in, JobOptions{.threads = threads});
}

namespace {

JobName job_of_name(const std::string& name) {
  if (auto jn = parse_job_dir_name(name)) return *jn;
  JobName j;
  size_t k = 0;
  while (k < name.size() && name[k] >= '0' && name[k] <= '9') ++k;
  j.job_id = k > 0 ? name.substr(0, k) : name;
  return j;
}

detail::JobJsonState read_job_state(const fs::path& file, const std::string& rel,
                                    const JobName& job) {
  JobReport tmp;
  tmp.job = job;
  read_job_json(file, rel, tmp);
  detail::JobJsonState s;
  s.job = std::move(tmp.job);
  s.job_name = std::move(tmp.job_name);
  s.model = std::move(tmp.model);
  s.gpu_type = std::move(tmp.gpu_type);
  s.gpus_per_node = tmp.gpus_per_node;
  s.prefill_nodes = tmp.prefill_nodes;
  s.decode_nodes = tmp.decode_nodes;
  s.agg_nodes = tmp.agg_nodes;
  s.isl = tmp.isl;
  s.osl = tmp.osl;
  s.requested_concurrencies = std::move(tmp.requested_concurrencies);
  s.request_rate = std::move(tmp.request_rate);
  s.problems = std::move(tmp.problems);
  return s;
}

// `{folder}/{job_id}.json`, and log.out, benchmark.out and the result files of `base` (the
// folder, or its logs/ for v2, with `prefix` "logs/").
void collect_meta(const fs::path& dir, const JobName& job, detail::Collected& c) {
  std::error_code ec;
  if (fs::is_regular_file(dir / (job.job_id + ".json"), ec)) {
    std::string rel = job.job_id + ".json";
    c.files.push_back({rel, "", rel, read_job_state(dir / rel, rel, job)});
  }
}
void collect_base(const fs::path& base, const std::string& prefix, detail::Collected& c) {
  std::error_code ec;
  if (fs::is_regular_file(base / "log.out", ec)) {
    detail::LogOutState s;
    s.topology = parse_log_out(base / "log.out", prefix + "log.out", s.problems);
    c.files.push_back({prefix + "log.out", "", prefix + "log.out", std::move(s)});
  }
  if (fs::is_regular_file(base / "benchmark.out", ec)) {
    detail::BenchOutState s;
    s.log = parse_benchmark_out(base / "benchmark.out", prefix + "benchmark.out", s.problems);
    c.files.push_back({prefix + "benchmark.out", "", prefix + "benchmark.out", std::move(s)});
  }
  collect_results(base, prefix, c);
}

// Every log file of `base` that is scanned: workers, the benchmark client's stderr, the batch
// script's stderr, v2's orchestrator logs. The files are independent, so they are scanned on up
// to `threads` threads (worker logs are most of a job's bytes); each scan writes its own slot,
// taken in file order afterwards, so the result does not depend on the thread count. With
// `record`, batch buckets are kept for a later fold (the windows are not known here).
void scan_base(const fs::path& base, const std::string& prefix, unsigned threads,
               const std::vector<BenchWindow>& windows, std::optional<bool> utc, bool record,
               detail::Collected& c) {
  std::vector<std::pair<fs::path, detail::ScanState>> tasks;
  std::error_code ec;
  for (const auto& f : sorted_children(base)) {
    if (!fs::is_regular_file(f, ec)) continue;
    std::string fn = f.filename().string();
    std::string plain = strip_compression(fn);
    detail::ScanState st;
    if (auto id = classify_log_file(plain)) {
      st.id = *id;
    } else if (plain == "benchmark.err") {
      st.id = {"benchmark", -1, ""};
      st.mode = ScanMode::client;
    } else if (plain == "log.err") {
      st.id = {"batch", -1, ""};
      st.mode = ScanMode::batch;
    } else if (plain.rfind("sweep_", 0) == 0 && plain.size() > 4 &&
               plain.compare(plain.size() - 4, 4, ".log") == 0) {
      st.id = {"orchestrator", -1, ""};
      st.sweep.emplace();  // also read for readiness
    } else {
      continue;
    }
    tasks.emplace_back(f, std::move(st));
  }
  parallel_for(tasks.size(), threads, [&](size_t i) {
    auto& [file, st] = tasks[i];
    const std::string rel = prefix + file.filename().string();
    st.scan = detail::scan_log_clocks(file, rel, st.id, st.mode, st.problems, utc, windows,
                                      record ? &st.buckets : nullptr);
    st.folded = !record;
    if (st.sweep) *st.sweep = read_sweep_log(file, rel);
  });
  for (auto& [file, st] : tasks) {
    std::string rel = prefix + file.filename().string();
    c.files.push_back({rel, "", rel, std::move(st)});
  }
}

std::string parent_of(const std::string& path) {
  size_t k = path.rfind('/');
  return k == std::string::npos ? std::string() : path.substr(0, k + 1);
}

// A file's scan with the job's clock, its batches folded into the job's windows.
LogScan finished_scan(detail::ScanState& st, bool utc, const std::vector<BenchWindow>& windows) {
  LogScan sc = utc && st.scan.utc ? std::move(*st.scan.utc) : std::move(st.scan.scan);
  if (st.folded || !sc.batches) return sc;
  const WorkerBatches& seen = *sc.batches;
  WorkerBatches wb;
  wb.file = seen.file;
  wb.id = seen.id;
  wb.cuda_graph_max_bs = seen.cuda_graph_max_bs;
  wb.lines = seen.lines;
  wb.unreadable = seen.unreadable;
  wb.buckets = seen.buckets;
  wb.last_t = seen.last_t;
  wb.first_graph_off = seen.first_graph_off;
  wb.first_over_max_bs = seen.first_over_max_bs;
  wb.first_retract = seen.first_retract;
  wb.retract_lines = seen.retract_lines;
  {
    BatchFolder folder(wb, windows);
    detail::read_buckets(st.buckets, wb.file, [&](const BatchBucket& b) { folder.replay(b); });
    folder.finish();
  }
  sc.batches = std::move(wb);
  return sc;
}

}  // namespace

namespace detail {

Collected collect_partial(const fs::path& dir_in, const JobOptions& opt) {
  fs::path dir = dir_in;
  if (dir.filename().empty()) dir = dir.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error(fmt::format("{}: not a directory", dir_in.string()));
  Collected c;
  c.dir = dir_in.string();
  c.name = dir.filename().string();
  c.top_files = fs::exists(dir / "log.out", ec) || fs::exists(dir / "benchmark.out", ec);
  c.logs_dir = fs::is_directory(dir / "logs", ec);
  // Both candidate bases: which one the job uses depends on files other nodes may hold.
  collect_meta(dir, job_of_name(c.name), c);
  collect_base(dir, "", c);
  if (c.logs_dir) collect_base(dir / "logs", "logs/", c);
  scan_base(dir, "", opt.threads, {}, std::nullopt, true, c);
  if (c.logs_dir) scan_base(dir / "logs", "logs/", opt.threads, {}, std::nullopt, true, c);
  std::stable_sort(c.files.begin(), c.files.end(), [](const FileState& a, const FileState& b) {
    return path_less(a.path, b.path);
  });
  return c;
}

void rename_file(FileState& f, const std::string& rel) {
  const std::string old = f.rel;
  auto fix = [&](std::string& s) {
    if (s == old) s = rel;
  };
  auto fix_problems = [&](std::vector<Problem>& v) {
    for (auto& p : v) fix(p.file);
  };
  auto fix_scan = [&](LogScan& sc) {
    fix(sc.log.file);
    for (auto& x : sc.cancelled) fix(x.file);
    if (sc.batches) fix(sc.batches->file);
  };
  std::visit(
      [&](auto& s) {
        using T = std::decay_t<decltype(s)>;
        fix_problems(s.problems);
        if constexpr (std::is_same_v<T, ResultState>) {
          if (s.run) fix(s.run->json_file);
        } else if constexpr (std::is_same_v<T, ScanState>) {
          fix_scan(s.scan.scan);
          if (s.scan.utc) fix_scan(*s.scan.utc);
          if (s.sweep) fix_problems(s.sweep->problems);
        }
      },
      f.state);
  f.rel = rel;
}

bool path_less(const std::string& a, const std::string& b) {
  return fs::path(a) < fs::path(b);
}

JobReport finish(Collected& c, const JobOptions& opt, const ScanHere& scan_here, bool is_dir) {
  JobReport rep;
  rep.dir = c.dir;
  rep.name = c.name;
  const bool v2 = !c.top_files && c.logs_dir;
  rep.layout = v2 ? "v2" : "v1";
  const std::string prefix = v2 ? "logs/" : "";
  rep.job = job_of_name(rep.name);

  try {
    if (!is_dir) {
      rep.problems.push_back({rep.name, "not a directory"});
      decide_verdict(rep, false);
      return rep;
    }
    // A file that only one part can have, held by several hosts: the first host's counts.
    auto one = [&](const std::string& path, auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      T* found = nullptr;
      std::string first;
      for (auto& f : c.files) {
        if (f.path != path) continue;
        T* s = std::get_if<T>(&f.state);
        if (!s) continue;
        if (!found) {
          found = s;
          first = f.rel;
        } else {
          rep.problems.push_back({f.rel, fmt::format("also held as {}; not used", first)});
        }
      }
      return found;
    };
    if (auto* j = one(rep.job.job_id + ".json", static_cast<JobJsonState*>(nullptr))) {
      for (auto& p : j->problems) rep.problems.push_back(p);
      rep.job = j->job;
      rep.job_name = j->job_name;
      rep.model = j->model;
      rep.gpu_type = j->gpu_type;
      rep.gpus_per_node = j->gpus_per_node;
      rep.prefill_nodes = j->prefill_nodes;
      rep.decode_nodes = j->decode_nodes;
      rep.agg_nodes = j->agg_nodes;
      rep.isl = j->isl;
      rep.osl = j->osl;
      rep.requested_concurrencies = j->requested_concurrencies;
      rep.request_rate = j->request_rate;
    }

    if (auto* l = one(prefix + "log.out", static_cast<LogOutState*>(nullptr))) {
      rep.topology = l->topology;
      for (auto& p : l->problems) rep.problems.push_back(p);
    } else if (rep.layout == "v1") {
      rep.problems.push_back({"log.out", "missing"});
    }

    BenchOutState* bo = one(prefix + "benchmark.out", static_cast<BenchOutState*>(nullptr));
    const bool have_bench = bo != nullptr;
    if (have_bench) {
      for (auto& p : bo->problems) rep.problems.push_back(p);
      const BenchmarkLog& b = bo->log;
      rep.readiness = b.readiness;
      if (b.isl) rep.isl = b.isl;
      if (b.osl) rep.osl = b.osl;
      if (!b.concurrencies.empty()) rep.requested_concurrencies = b.concurrencies;
      if (!b.request_rate.empty()) rep.request_rate = b.request_rate;
      rep.runs = b.runs;
      rep.warmups = b.warmups;
    } else {
      rep.problems.push_back({prefix + "benchmark.out", "missing"});
    }
    // Result files: those of the base's result folders, then (v2) those of the folder's.
    for (const std::string& at :
         v2 ? std::vector<std::string>{prefix, ""} : std::vector<std::string>{prefix}) {
      for (auto& f : c.files) {
        auto* r = std::get_if<ResultState>(&f.state);
        if (!r || f.path.compare(0, at.size(), at) != 0) continue;
        std::string rest = f.path.substr(at.size());
        size_t slash = rest.find('/');
        if (slash == std::string::npos || rest.find('/', slash + 1) != std::string::npos) continue;
        merge_result(*r, rest.substr(0, slash), rep);
      }
    }
    std::stable_sort(rep.runs.begin(), rep.runs.end(), [](const BenchRun& a, const BenchRun& b) {
      return std::tuple(a.isl.value_or(-1), a.osl.value_or(-1), a.concurrency) <
             std::tuple(b.isl.value_or(-1), b.osl.value_or(-1), b.concurrency);
    });

    // The benchmark windows are known from benchmark.out and the result files: each worker's
    // batch lines are folded into them (a window that did not end stays open).
    const std::vector<BenchWindow> windows = bench_windows(rep);
    const std::string& zone = rep.topology.clock_zone;
    const bool utc = zone == "UTC" || zone == "GMT";
    if (scan_here) scan_here(c, prefix, windows, utc);

    std::vector<LogScan> scans;
    for (auto& f : c.files) {
      auto* st = std::get_if<ScanState>(&f.state);
      if (!st || parent_of(f.path) != prefix) continue;
      if (st->sweep) {
        for (auto& p : st->sweep->problems) rep.problems.push_back(p);
        apply_sweep(*st->sweep, rep.readiness);
      }
      for (auto& p : st->problems) rep.problems.push_back(p);
      scans.push_back(finished_scan(*st, utc, windows));
    }

    for (auto& sc : scans) {
      rep.logs.push_back(sc.log);
      if (sc.batches) rep.batches.push_back(std::move(*sc.batches));
      for (const auto& cs : sc.cancelled) {
        rep.cancelled.push_back(cs);
        if (cs.time_limit) rep.time_limit = true;
        if (rep.teardown_at.empty() || order_key(cs.time) < order_key(rep.teardown_at))
          rep.teardown_at = cs.time;
      }
      for (const auto& e : sc.slurm_errors) rep.slurm_errors.push_back(e);
      const std::string& r = sc.log.id.role;
      if (r != "benchmark" && r != "batch" && r != "orchestrator" && !sc.log.first_time.empty() &&
          (rep.started_at.empty() || order_key(sc.log.first_time) < order_key(rep.started_at)))
        rep.started_at = sc.log.first_time;
    }
    if (!rep.readiness.ready_at.empty()) {
      auto a = civil_seconds(rep.readiness.ready_at);
      auto s = civil_seconds(rep.started_at.empty() ? rep.job.start : rep.started_at);
      if (a && s && *a >= *s) rep.readiness.ready_after_s = *a - *s;
    }
    // Worker counts for folders whose name does not carry them (v2, renamed folders).
    if (rep.job.prefill_workers < 0 && rep.job.decode_workers < 0 && rep.job.agg_workers < 0) {
      std::set<std::pair<std::string, int>> workers;
      for (const auto& l : rep.logs)
        if (l.id.role == "prefill" || l.id.role == "decode" || l.id.role == "agg")
          workers.insert({l.id.role, l.id.index});
      int p = 0, d = 0, a = 0;
      for (const auto& [role, i] : workers) (role == "prefill" ? p : role == "decode" ? d : a)++;
      if (p + d + a > 0) {
        if (a > 0) rep.job.agg_workers = a;
        if (p + d > 0) {
          rep.job.prefill_workers = p;
          rep.job.decode_workers = d;
        }
      }
    }
    build_failures(scans, rep);
    for (auto& r : rep.runs) judge_run(r, opt.max_failed_pct);
    decide_verdict(rep, have_bench);
  } catch (const std::exception& e) {
    // Only resource exhaustion or a filesystem race gets here; keep what was found.
    rep.problems.push_back({rep.name, std::string("analysis stopped: ") + e.what()});
    rep.verdict = Verdict::failed;
    rep.reason_id = "analysis_stopped";
    if (rep.reason.empty()) rep.reason = "analysis stopped: " + std::string(e.what());
  }
  return rep;
}

JobReport finish(Collected& c, const JobOptions& opt) {
  return finish(c, opt, nullptr, true);
}

}  // namespace detail

JobReport analyze_job(const fs::path& dir_in, const JobOptions& opt) {
  fs::path dir = dir_in;
  if (dir.filename().empty()) dir = dir.parent_path();
  detail::Collected c;
  c.dir = dir_in.string();
  c.name = dir.filename().string();
  std::error_code ec;
  c.top_files = fs::exists(dir / "log.out", ec) || fs::exists(dir / "benchmark.out", ec);
  c.logs_dir = fs::is_directory(dir / "logs", ec);
  const bool is_dir = fs::is_directory(dir, ec);
  const bool v2 = !c.top_files && c.logs_dir;
  // The files this layout reads, then the log files once the windows and the clock are known,
  // folded as they are read: the same finish as merge_partials, without keeping the buckets.
  try {
    if (is_dir) {
      collect_meta(dir, job_of_name(c.name), c);
      collect_base(v2 ? dir / "logs" : dir, v2 ? "logs/" : "", c);
      if (v2) collect_results(dir, "", c);
    }
  } catch (const std::exception& e) {
    JobReport rep;
    rep.dir = c.dir;
    rep.name = c.name;
    rep.layout = v2 ? "v2" : "v1";
    rep.job = job_of_name(rep.name);
    rep.problems.push_back({rep.name, std::string("analysis stopped: ") + e.what()});
    rep.verdict = Verdict::failed;
    rep.reason_id = "analysis_stopped";
    rep.reason = "analysis stopped: " + std::string(e.what());
    return rep;
  }
  auto scan_here = [&](detail::Collected& cc, const std::string& prefix,
                       const std::vector<BenchWindow>& windows, bool utc) {
    scan_base(prefix.empty() ? dir : dir / "logs", prefix, opt.threads, windows, utc, false, cc);
    std::stable_sort(cc.files.begin(), cc.files.end(),
                     [](const detail::FileState& a, const detail::FileState& b) {
                       return detail::path_less(a.path, b.path);
                     });
  };
  return detail::finish(c, opt, scan_here, is_dir);
}

std::vector<JobReport> analyze_set(const fs::path& dir, const JobOptions& opt) {
  std::vector<JobReport> jobs;
  for (const auto& child : sorted_children(dir)) {
    std::error_code ec;
    if (fs::is_directory(child, ec) && is_job_dir(child)) jobs.push_back(analyze_job(child, opt));
  }
  std::stable_sort(jobs.begin(), jobs.end(), [](const JobReport& a, const JobReport& b) {
    auto ia = parse_int(a.job.job_id), ib = parse_int(b.job.job_id);
    if (ia && ib && *ia != *ib) return *ia < *ib;
    if (ia.has_value() != ib.has_value()) return ia.has_value();
    if (a.job.job_id != b.job.job_id) return a.job.job_id < b.job.job_id;
    return a.name < b.name;
  });
  return jobs;
}

}  // namespace alog::srtctl
