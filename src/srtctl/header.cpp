// JobReport -> core::Header. The srtctl analysis already decides the verdict, the root cause and
// which failures are collateral (docs/SRTCTL.md); this only restates those decisions in the
// shared vocabulary, so that every writer and `--fail-on` treat a serving job like any other.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include <algorithm>
#include <map>
#include <set>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace alog::srtctl {

namespace fs = std::filesystem;

namespace {

std::string joined(const std::string& dir, const std::string& rel) {
  if (rel.empty()) return dir;
  if (dir.empty() || dir == ".") return rel;
  return (fs::path(dir) / rel).lexically_normal().generic_string();
}

std::string fix_for(std::string_view id) {
  if (const core::Signature* s = core::find_signature(id)) return std::string(s->fix);
  return {};
}

// Fixes for what the verdict rests on when no worker failure explains it.
std::string verdict_fix(std::string_view id) {
  if (id == "never_ready")
    return "Read the first error in the prefill/decode worker logs; if there is none, the workers "
           "are still loading: raise the health-check timeout or check the model path and GPUs";
  if (id == "benchmark_unfinished" || id == "concurrency_never_ran")
    return "Find what stopped the benchmark (the root cause above, or the SLURM time limit) and "
           "rerun the missing concurrencies";
  if (id == "no_benchmark_output")
    return "Check that the benchmark step started: see log.err and the sbatch script";
  if (id == "failed_requests")
    return "Read benchmark.err and the frontend/worker logs at the time of the failed requests";
  if (id == "slurm_time_limit") return "Raise the job's time limit (--time) or run fewer concurrencies per job";
  if (id == "batch_script_error") return "Fix the allocation: the batch script stopped before launching workers";
  if (id == "file_problems") return "See the skipped inputs: a result file is malformed or missing";
  if (id == "invalid_runs" || id == "no_valid_results")
    return "Do not compare or publish these runs. Read benchmark.err and the frontend/worker logs over the run's "
           "window for why requests failed or generated nothing, then rerun them (--max-failed-requests sets the "
           "failed share allowed)";
  return {};
}

// One evidence line per invalid run (the first five): where its result is.
std::vector<core::Evidence> invalid_evidence(const JobReport& j) {
  std::vector<core::Evidence> out;
  const std::string bench = j.layout == "v2" ? "logs/benchmark.out" : "benchmark.out";
  for (const auto& r : j.runs) {
    if (!r.finished() || r.invalid.empty()) continue;
    if (out.size() == 5) break;
    core::Evidence e;
    if (r.line > 0 || r.json_file.empty()) {
      e.file = joined(j.dir, bench);
      e.line = r.line;
    } else {
      e.file = joined(j.dir, r.json_file);
    }
    e.time = r.started_at;
    e.text = fmt::format("concurrency {}: {}", r.concurrency, r.invalid);
    out.push_back(std::move(e));
  }
  return out;
}

// The file and line the verdict finding points at, when one can be named.
core::Evidence verdict_evidence(const JobReport& j) {
  core::Evidence e;
  std::string bench = j.layout == "v2" ? "logs/benchmark.out" : "benchmark.out";
  if (j.reason_id == "benchmark_unfinished") {
    for (const auto& r : j.runs)
      if (!r.finished()) {
        e.file = joined(j.dir, bench);
        e.line = r.line;
        e.time = r.started_at;
        e.text = fmt::format("benchmark at concurrency {} started", r.concurrency);
        return e;
      }
  }
  if (j.reason_id == "never_ready" || j.reason_id == "failed_requests" || j.reason_id == "concurrency_missing" ||
      j.reason_id == "concurrency_never_ran") {
    e.file = joined(j.dir, bench);
    e.text = j.reason;
    return e;
  }
  if (j.reason_id == "batch_script_error" || j.reason_id == "batch_exit_code") {
    e.file = joined(j.dir, j.layout == "v2" ? "logs/log.out" : "log.out");
    e.text = j.reason;
    return e;
  }
  if (j.reason_id == "file_problems" && !j.problems.empty()) {
    e.file = joined(j.dir, j.problems.front().file);
    e.text = j.problems.front().message;
    return e;
  }
  e.text = j.reason;
  return e;
}

}  // namespace

namespace {

// Findings from the batch metrics: decode batches above cuda-graph-max-bs, KV-pool retractions,
// queue growth and the side that limits a disaggregated job. One that precedes a fatal failure on
// the same worker is named on that failure's finding as its likely trigger.
void add_batch_findings(const JobReport& j, core::Header& h) {
  struct Linked {
    size_t finding;
    const WorkerBatches* wb;
    int64_t t;
  };
  std::vector<Linked> linked;
  const size_t first_batch = h.findings.size();
  auto ev = [&](const WorkerBatches& wb, const BatchEvent& e) {
    return core::Evidence{joined(j.dir, wb.file), e.line, e.time, e.text};
  };
  for (const auto& wb : j.batches) {
    const std::string who = worker_label(wb.id.role, wb.id.index, wb.id.node);
    if (wb.first_over_max_bs && wb.first_graph_off) {
      core::Finding x;
      x.id = "cuda_graph_fallback";
      x.severity = core::Severity::warning;
      x.role = core::Role::root_cause;
      x.summary = fmt::format("{}: decode batches of {:.0f} requests, above cuda-graph-max-bs {}, ran without CUDA "
                              "graphs (cuda graph: False)",
                              who, wb.first_over_max_bs->running, *wb.cuda_graph_max_bs);
      x.evidence.push_back(ev(wb, *wb.first_over_max_bs));
      if (wb.first_graph_off->line != wb.first_over_max_bs->line) x.evidence.push_back(ev(wb, *wb.first_graph_off));
      x.fix = fix_for(x.id);
      linked.push_back({h.findings.size(), &wb, wb.first_over_max_bs->t});
      h.findings.push_back(std::move(x));
    }
    if (wb.first_retract) {
      core::Finding x;
      x.id = "kv_pool_retract";
      x.severity = core::Severity::warning;
      x.role = core::Role::root_cause;
      x.summary = fmt::format("{}: KV cache pool full, requests retracted ({} line{})", who, wb.retract_lines,
                              wb.retract_lines == 1 ? "" : "s");
      x.evidence.push_back(ev(wb, *wb.first_retract));
      x.fix = fix_for(x.id);
      linked.push_back({h.findings.size(), &wb, wb.first_retract->t});
      h.findings.push_back(std::move(x));
    }
  }
  const auto windows = bench_windows(j);
  const auto stats = window_stats(j, windows);
  for (const auto& s : stats) {
    const auto& w = windows[s.window];
    if (w.warmup || s.dp >= 0 || !s.decode || std::isnan(s.first_queue)) continue;
    if (s.last_queue > s.first_queue && s.last_queue >= 8) {
      core::Finding x;
      x.id = "queue_growth";
      x.severity = core::Severity::warning;
      x.role = core::Role::root_cause;
      x.summary = fmt::format("{}: #queue-req grew from {:.0f} to {:.0f} during concurrency {}", s.worker,
                              s.first_queue, s.last_queue, w.concurrency);
      for (const auto& wb : j.batches)
        if (worker_label(wb.id.role, wb.id.index, wb.id.node) == s.worker)
          x.evidence.push_back({joined(j.dir, wb.file), 0, w.started_at,
                                fmt::format("window {} .. {}: {} decode batch lines, max #queue-req {:.0f}",
                                            w.started_at, w.ended_at, s.lines, s.max[kQueueReq])});
      x.fix = fix_for(x.id);
      h.findings.push_back(std::move(x));
    }
  }
  for (const auto& m : rate_matching(j, windows, stats)) {
    const auto& w = windows[m.window];
    if (w.warmup || (m.limiter != "decode" && m.limiter != "prefill")) continue;
    core::Finding x;
    x.id = "pd_imbalance";
    x.severity = core::Severity::warning;
    x.role = core::Role::root_cause;
    x.summary = fmt::format("concurrency {}: the {} side limits the job", w.concurrency, m.limiter);
    x.detail = m.evidence;
    x.evidence.push_back({joined(j.dir, j.layout == "v2" ? "logs/benchmark.out" : "benchmark.out"), 0, w.started_at,
                          fmt::format("window {} .. {}", w.started_at, w.ended_at)});
    x.fix = fix_for(x.id);
    h.findings.push_back(std::move(x));
  }
  const std::string bench = joined(j.dir, j.layout == "v2" ? "logs/benchmark.out" : "benchmark.out");
  auto window_evidence = [&](const BenchWindow& w) {
    return core::Evidence{bench, w.line, w.started_at,
                          fmt::format("{} {} .. {}", w.warmup ? "warm-up at concurrency" : "run at concurrency",
                                      w.concurrency, w.started_at,
                                      w.ended_at.empty() ? std::string("(did not end)") : w.ended_at)};
  };
  for (const auto& x : warmup_traffic(j, windows)) {
    const auto& w = windows[x.window];
    const auto& wu = windows[x.warmup];
    core::Finding f;
    f.id = "warmup_traffic";
    f.severity = core::Severity::warning;
    f.role = core::Role::root_cause;
    if (x.overlap) {
      f.summary = fmt::format("the warm-up at concurrency {} ({} .. {}) overlaps the measured run at concurrency {} "
                              "({} .. {})",
                              wu.concurrency, wu.started_at, wu.ended_at, w.concurrency, w.started_at, w.ended_at);
      f.detail = "benchmark.out's date lines put the warm-up and the measured run at the same time: the run's "
                 "figures include warm-up requests";
    } else {
      const WorkerBatches& wb = j.batches[x.worker];
      const std::string who = worker_label(wb.id.role, wb.id.index, wb.id.node);
      f.summary = fmt::format("{}: {:.0f} requests in flight at {}, above the run's concurrency {}, right after the "
                              "warm-up at concurrency {}",
                              who, x.in_flight, x.time, w.concurrency, wu.concurrency);
      f.detail = fmt::format("#running-req + #queue-req of its {} lines over {} DP rank{} in that second; up to {:.0f} "
                             "during the run at concurrency {}: the excess are warm-up requests still running",
                             x.decode ? "decode" : "prefill", x.ranks, x.ranks == 1 ? "" : "s", x.max_in_flight,
                             w.concurrency);
      f.evidence.push_back({joined(j.dir, wb.file), x.line, x.time,
                            fmt::format("{} batch lines at {}: {:.0f} requests running or queued over {} DP rank{}",
                                        x.decode ? "Decode" : "Prefill", x.time, x.in_flight, x.ranks,
                                        x.ranks == 1 ? "" : "s")});
      linked.push_back({h.findings.size(), &wb, x.t});
    }
    f.evidence.push_back(window_evidence(wu));
    f.evidence.push_back(window_evidence(w));
    f.fix = fix_for(f.id);
    h.findings.push_back(std::move(f));
  }
  for (const auto& x : result_mismatches(j, windows)) {
    const auto& w = windows[x.window];
    const BenchRun& run = j.runs[w.run];
    core::Finding f;
    f.id = "result_mismatch";
    f.severity = core::Severity::warning;
    f.role = core::Role::root_cause;
    const std::string says =
        x.completed ? fmt::format("{:.0f} requests completed", *x.completed)
                    : fmt::format("{:.2f} output tok/s", x.output_tps.value_or(0.0));
    f.evidence.push_back(window_evidence(w));
    if (!run.json_file.empty()) f.evidence.push_back({joined(j.dir, run.json_file), 0, "", "the run's result file"});
    if (x.zero_generation) {
      std::vector<std::string> who;
      for (size_t k : x.workers) {
        const WorkerBatches& wb = j.batches[k];
        who.push_back(worker_label(wb.id.role, wb.id.index, wb.id.node));
        f.evidence.push_back({joined(j.dir, wb.file), 0, "",
                              fmt::format("no decode batch line generating tokens between {} and {}", w.started_at,
                                          w.ended_at)});
      }
      f.summary = fmt::format("concurrency {}: the result says {}{}, but no decode batch generated tokens during "
                              "its window ({} .. {})",
                              w.concurrency, says,
                              x.completed && x.output_tps ? fmt::format(" at {:.2f} output tok/s", *x.output_tps) : "",
                              w.started_at, w.ended_at);
      f.detail = fmt::format("the logs of {} cover the window", fmt::join(who, ", "));
    } else {
      const WorkerBatches& wb = j.batches[x.worker];
      // Lines without a gen throughput field count as generating when they ran requests.
      const std::string did = x.max_gen_tps > 0 ? fmt::format("generated up to {:.2f} tok/s", x.max_gen_tps)
                                                : std::string("ran requests");
      f.summary = fmt::format("concurrency {}: the result says {}, but decode batches {} during its window ({} .. {})",
                              w.concurrency, says, did, w.started_at, w.ended_at);
      f.detail = fmt::format("first generating decode batch line: {} at {}",
                             worker_label(wb.id.role, wb.id.index, wb.id.node), x.time);
      f.evidence.push_back({joined(j.dir, wb.file), x.line, x.time, "decode batch line generating tokens"});
    }
    f.fix = fix_for(f.id);
    h.findings.push_back(std::move(f));
  }
  // A job has one root cause: when a worker failure is it, what the batch metrics show is told
  // below it (and a precursor is named on it as the likely trigger).
  if (j.root())
    for (size_t i = first_batch; i < h.findings.size(); ++i) h.findings[i].role = core::Role::consequence;
  // The likely trigger of a fatal failure on the same worker that came after it.
  for (const auto& l : linked) {
    for (const auto& f : j.failures) {
      if (!f.fatal || f.collateral || f.role != l.wb->id.role || f.index != l.wb->id.index || f.node != l.wb->id.node)
        continue;
      auto ft = civil_seconds(f.time);
      if (!ft || *ft < l.t) continue;
      core::Finding& trig = h.findings[l.finding];
      if (!trig.detail.empty()) trig.detail += "; ";
      trig.detail += fmt::format("preceded the {} on the same worker at {}: its likely trigger", kind_text(f.kind), f.time);
      for (auto& x : h.findings) {
        if (x.id != f.kind || x.evidence.empty() || x.evidence.front().line != f.line) continue;
        if (!x.detail.empty()) x.detail += "; ";
        x.detail += fmt::format("likely trigger: {} ({}:{})", trig.summary, l.wb->file, trig.evidence.front().line);
        x.evidence.push_back(trig.evidence.front());
      }
      break;
    }
  }
}

}  // namespace

core::Header header(const JobReport& j) {
  core::Header h;
  h.verdict = j.verdict == Verdict::healthy    ? core::Verdict::ok
              : j.verdict == Verdict::degraded ? core::Verdict::degraded
                                               : core::Verdict::failed;
  h.cause = j.reason;
  const WorkerFailure* root = j.root();

  for (const auto& f : j.failures) {
    core::Finding x;
    x.id = f.kind;
    // Collateral is noise the failure (or the teardown) made elsewhere: shown, never alarming.
    x.severity = f.collateral ? core::Severity::info : f.fatal ? core::Severity::critical : core::Severity::warning;
    x.role = f.root_cause ? core::Role::root_cause
             : f.collateral ? core::Role::collateral
                            : (root ? core::Role::consequence : core::Role::root_cause);
    x.summary = worker_label(f.role, f.index, f.node) + ": " + kind_text(f.kind);
    if (!f.exception.empty()) x.summary += ": " + clip_utf8(f.exception, 200);
    if (!f.last_frame.empty()) x.detail = "last frame: " + f.last_frame;
    if (f.signature_lines > 1) {
      if (!x.detail.empty()) x.detail += "; ";
      x.detail += fmt::format("{} matching lines in the worker's logs", f.signature_lines);
    }
    if (f.collateral) {
      if (!x.detail.empty()) x.detail += "; ";
      x.detail += "at or after the teardown (or after the root cause): a consequence, not a cause";
    }
    x.evidence.push_back({joined(j.dir, f.file), f.line, f.time, f.first_error});
    x.fix = f.fix.empty() ? fix_for(f.kind) : f.fix;
    h.findings.push_back(std::move(x));
  }

  const bool verdict_is_worker = j.reason_id == "worker_failure" || j.reason_id == "worker_error";
  if (!j.reason_id.empty() && !verdict_is_worker) {
    core::Finding x;
    x.id = j.reason_id;
    x.severity = j.verdict == Verdict::failed ? core::Severity::critical : core::Severity::warning;
    x.role = root ? core::Role::consequence : core::Role::root_cause;
    // The reason names the root cause too ("<root>; benchmark ... never finished"); the root cause
    // is its own finding, so this one says only what followed.
    x.summary = j.reason;
    if (root && !j.root_cause.empty()) {
      for (const std::string& cut : {j.root_cause + "; ", "; first failure: " + j.root_cause}) {
        size_t at = x.summary.find(cut);
        if (at != std::string::npos) x.summary.erase(at, cut.size());
      }
    }
    if (j.reason_id == "invalid_runs" || j.reason_id == "no_valid_results")
      x.evidence = invalid_evidence(j);
    else if (core::Evidence e = verdict_evidence(j); !e.file.empty())
      x.evidence.push_back(std::move(e));
    x.fix = verdict_fix(j.reason_id);
    if (x.fix.empty()) x.fix = fix_for(j.reason_id);
    h.findings.push_back(std::move(x));
  }

  // SLURM's teardown: every step cancelled at once. The time limit is a cause; a cancellation
  // that follows a worker's crash is collateral.
  if (!j.cancelled.empty() && j.reason_id != "slurm_time_limit") {
    const CancelledStep& c = j.cancelled.front();
    core::Finding x;
    x.id = j.time_limit ? "slurm_time_limit" : "slurm_cancelled";
    x.severity = j.time_limit ? core::Severity::critical : core::Severity::info;
    x.role = j.time_limit && !root ? core::Role::root_cause : core::Role::collateral;
    x.summary = fmt::format("SLURM cancelled {} step{}{}{}", j.cancelled.size(), j.cancelled.size() == 1 ? "" : "s",
                            j.time_limit ? " at the time limit" : "",
                            j.teardown_at.empty() ? "" : " at " + j.teardown_at);
    x.evidence.push_back({joined(j.dir, c.file), c.line, c.time, "*** STEP CANCELLED ***"});
    x.fix = fix_for(x.id);
    h.findings.push_back(std::move(x));
  }

  // Invalid runs when the verdict rests on something else (a worker's failure, a missing
  // concurrency): still not results, and said so.
  size_t invalid = 0;
  for (const auto& r : j.runs) invalid += r.finished() && !r.invalid.empty();
  if (invalid > 0 && j.reason_id != "invalid_runs" && j.reason_id != "no_valid_results") {
    core::Finding x;
    x.id = "invalid_runs";
    x.severity = core::Severity::warning;
    x.role = root ? core::Role::consequence : core::Role::root_cause;
    x.summary = fmt::format("{} finished run{} {} not a result: {}", invalid, invalid == 1 ? "" : "s",
                            invalid == 1 ? "is" : "are", invalid_runs_text(j));
    x.evidence = invalid_evidence(j);
    x.fix = verdict_fix(x.id);
    h.findings.push_back(std::move(x));
  }

  int64_t failed_requests = 0;
  for (const auto& r : j.runs)
    if (r.failed_requests) failed_requests += *r.failed_requests;
  if (failed_requests > 0 && j.reason_id != "failed_requests") {
    core::Finding x;
    x.id = "failed_requests";
    x.severity = core::Severity::warning;
    x.role = root ? core::Role::consequence : core::Role::root_cause;
    x.summary = fmt::format("{} failed benchmark requests", failed_requests);
    x.evidence.push_back({joined(j.dir, j.layout == "v2" ? "logs/benchmark.out" : "benchmark.out"), 0, "",
                          x.summary});
    x.fix = verdict_fix("failed_requests");
    h.findings.push_back(std::move(x));
  }
  add_batch_findings(j, h);
  // A job that ran to the end but whose batch metrics show a problem (the queue grew, the KV pool
  // filled, decode ran without CUDA graphs) is not OK: degraded, with that finding as its cause.
  if (h.verdict == core::Verdict::ok)
    for (const auto& f : h.findings)
      if (f.role == core::Role::root_cause && f.severity != core::Severity::info) {
        h.verdict = core::Verdict::degraded;
        h.cause = f.summary;
        break;
      }
  if (!j.problems.empty() && j.reason_id != "file_problems") {
    h.findings.push_back(core::file_problems_finding(j.problems, "in the job folder", [&](const auto& p) {
      return core::Evidence{joined(j.dir, p.file), 0, "", p.message};
    }));
  }
  core::sort_findings(h.findings);

  // Inputs: what was read, and every other file of the folder with why it was not.
  std::set<std::string> read;
  auto add_read = [&](const std::string& rel, const std::string& role) {
    if (rel.empty() || !read.insert(rel).second) return;
    h.inputs.push_back({joined(j.dir, rel), "srtctl", role, true, {}});
  };
  const std::string pre = j.layout == "v2" ? "logs/" : "";
  std::error_code ec;
  if (fs::is_regular_file(fs::path(j.dir) / (pre + "log.out"), ec)) add_read(pre + "log.out", "batch log");
  if (fs::is_regular_file(fs::path(j.dir) / (pre + "benchmark.out"), ec)) add_read(pre + "benchmark.out", "benchmark log");
  if (!j.job.job_id.empty() && fs::is_regular_file(fs::path(j.dir) / (j.job.job_id + ".json"), ec))
    add_read(j.job.job_id + ".json", "job metadata");
  for (const auto& r : j.runs) add_read(r.json_file, "benchmark result");
  for (const auto& r : j.warmups) add_read(r.json_file, "benchmark result");
  for (const auto& l : j.logs) add_read(l.file, l.id.role + " log");
  std::map<std::string, std::string> problem_of;
  for (const auto& p : j.problems) problem_of.emplace(p.file, p.message);
  fs::recursive_directory_iterator it(j.dir, fs::directory_options::skip_permission_denied, ec), end;
  size_t seen = 0;
  for (; !ec && it != end && seen < 4096; it.increment(ec), ++seen) {
    std::error_code ec2;
    std::string name = it->path().filename().string();
    if (it->is_directory(ec2)) {
      if (name.starts_with(".") || name.starts_with("analysis_") || name.starts_with("comparison_") ||
          name == "cached_assets" || it.depth() >= 3)
        it.disable_recursion_pending();
      continue;
    }
    std::string rel = fs::relative(it->path(), j.dir, ec2).generic_string();
    if (ec2 || read.count(rel)) continue;
    auto p = problem_of.find(rel);
    std::string why = p != problem_of.end() ? p->second
                      : (name.ends_with(".yaml") || name.ends_with(".sh") || name.ends_with(".conf") ||
                         name.ends_with("_config.json"))
                          ? "configuration, not a log"
                          : "not a file the srtctl analysis reads";
    h.inputs.push_back({joined(j.dir, rel), "srtctl", "", false, why});
  }
  // Its place (the fleet view): the workers' first stamp to the teardown or the last stamp of any
  // log; the nodes log.out lists, else those the worker logs are named after.
  h.started_at = j.started_at;
  h.ended_at = j.teardown_at;
  for (const auto& l : j.logs) {
    if (h.started_at.empty() || (!l.first_time.empty() && l.first_time < h.started_at)) h.started_at = l.first_time;
    if (j.teardown_at.empty() && l.last_time > h.ended_at) h.ended_at = l.last_time;
  }
  std::set<std::string> nodes(j.topology.nodes.begin(), j.topology.nodes.end());
  if (nodes.empty())
    for (const auto& l : j.logs)
      if (!l.id.node.empty()) nodes.insert(l.id.node);
  h.nodes.assign(nodes.begin(), nodes.end());
  return h;
}

}  // namespace alog::srtctl
