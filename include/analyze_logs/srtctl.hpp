// srtctl (srt-slurm) serving jobs: one SLURM job folder `logs/{job}_{P}P_{D}D_{YYYYmmdd_HHMMSS}/`
// (or a parent holding many) turned into a JobReport that answers what people grep for: where
// each worker ran, when the model became ready, the benchmark numbers per concurrency, which
// worker failed first and why, and a verdict.
//
// The shape follows from how these jobs fail. The batch script ends at the first `srun` that
// exits, prints that step's exit code (often 0 after a crash, because the worker bootstrap
// ignores its child's status) and SLURM then cancels every other step, so every surviving
// worker logs errors at the same teardown moment. The signal that matters is the earliest fatal
// line before teardown; everything stamped later is collateral and is reported as such. Results
// come from two places that each may be missing (the `Serving Benchmark Result` blocks in
// benchmark.out and the per-run JSON files), so a run is keyed by concurrency and merged from
// both, and "started but produced neither" is its own state (unfinished), not an absence.
//
// Nothing in a job folder is trusted: an unreadable or malformed file becomes an entry in
// `problems`, never an exception. Metric keys are normalised to the sa-bench JSON names
// (`output_throughput`, `mean_ttft_ms`, `p99_e2el_ms`) whether they came from a block label or
// a JSON key, so block and JSON values merge and compare without a per-version table.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze_logs/core/finding.hpp"
#include "analyze_logs/core/job.hpp"
#include "analyze_logs/core/partial.hpp"

namespace alog::srtctl {

// Regression threshold used when a set of jobs is reported without an explicit `compare`.
inline constexpr double kDefaultRegressionPct = 5.0;
// The validity gate's default: a finished run with a larger share of failed requests (percent)
// is not a result (--max-failed-requests).
inline constexpr double kDefaultMaxFailedPct = 5.0;

enum class Verdict { healthy, degraded, failed };
std::string_view verdict_name(Verdict v);  // "healthy", "degraded", "failed"

// What the folder name says. P and D are worker counts (not node counts); aggregated jobs are
// `{job}_{N}A_{ts}`. `start` is the submission time srtctl stamped on the folder (local time),
// not when the job got its nodes.
struct JobName {
  std::string job_id;
  int prefill_workers = -1, decode_workers = -1, agg_workers = -1;  // -1: not in the name
  std::string start;  // "2025-11-22 04:13:41", empty when the name has no stamp
};
std::optional<JobName> parse_job_dir_name(std::string_view name);

// A per-node log file's identity, from its name: `{node}_{prefill|decode|agg}_w{i}.{out,err}`,
// `{node}_frontend_{i}.{out,err}`, `{node}_frontend.err` (frontend 0: a template quirk),
// `frontend.{out,err}`, `{node}_nginx.{out,err}`, `profile_{prefill,decode}.{out,err}`.
struct LogFileId {
  // prefill | decode | agg | frontend | nginx | profile; analyze_job also uses benchmark
  // (benchmark.err), batch (log.err) and orchestrator (v2 sweep_*.log).
  std::string role;
  int index = -1;    // worker / frontend index, -1 when the role has none
  std::string node;  // empty when the name carries no node
};
std::optional<LogFileId> classify_log_file(std::string_view filename);

// Lines that look alarming and are not (metrics-exporter retries, etcd waits, NCCL INFO, argument
// dumps): the one-shot scan and --follow's classifier skip them alike.
bool is_noise(std::string_view line);

// "Mean TTFT (ms)" -> "mean_ttft_ms", "Total Token throughput (tok/s)" -> "total_token_throughput",
// "mean_e2e_latency_ms" -> "mean_e2el_ms", "request_goodput:" -> "request_goodput". Labels with
// no known name become a snake_case slug, so an unknown line is kept rather than dropped.
std::string canonical_metric_key(std::string_view label_or_key);

// "2025-11-22 04:13:41" (optionally "T" instead of the space, and a fraction) -> seconds on a
// timezone-free civil clock; only differences between two stamps are meaningful.
std::optional<int64_t> civil_seconds(std::string_view stamp);
// The inverse: seconds -> "YYYY-mm-dd HH:MM:SS".
std::string civil_stamp(int64_t seconds);

// ---------------------------------------------------------------------------------------------

struct Problem {
  std::string file;     // relative to the job folder ("sa-bench_isl_1024_osl_1024/x.json")
  std::string message;  // "malformed JSON: ..." / "missing" / "truncated result block at line 57"
};

struct Leader {
  std::string role;  // prefill | decode | agg | frontend
  int index = -1;
  std::string node;
  std::string ip;  // empty when log.out did not print one
};

// From log.out (the batch script's echo lines).
struct Topology {
  std::vector<std::string> nodes;  // "Node i: host", index = i
  std::string master_node, master_ip, nginx_node;
  std::vector<Leader> leaders;  // one per prefill / decode / agg worker, in log order
  std::vector<Leader>
      frontends;                 // additional frontends ("Additional frontend i on node n: h (ip)")
  std::string frontend_url;      // "http://host:8000"
  std::optional<int> exit_code;  // "Script finished at <date> with exit code N"
  std::string finished_at;       // the `date` text of that line, verbatim
  std::string clock_zone;        // zone word of that `date` text ("UTC"), empty if none
  std::vector<std::string> errors;  // "Error: Expected 4 nodes but got 3 nodes"
};

// The health-check wait at the top of benchmark.out.
struct Readiness {
  bool polled = false;  // "Polling <url> every N seconds ..." seen
  std::string health_url;
  int not_ready_reports = 0;  // "Model is not ready, ..." lines (printed about once a minute)
  std::optional<int> waiting_prefill, waiting_decode;  // from the last "not ready" report
  bool ready = false;                                  // "Model is ready."
  bool timed_out = false;                              // "Model did not get healthy in N seconds"
  std::optional<int64_t> timeout_s;
  std::string ready_at;  // first date line after "Model is ready." (the warm-up start)
  std::optional<int64_t> ready_after_s;  // ready_at minus JobReport::started_at
};

using Metrics = std::vector<std::pair<std::string, double>>;  // canonical key -> value

// One benchmark run at one concurrency (warm-ups are kept apart in JobReport::warmups).
struct BenchRun {
  int64_t concurrency = -1;  // -1: could not be told
  bool warmup = false;
  std::optional<int64_t> isl, osl;
  std::optional<int64_t> num_prompts;
  uint64_t line = 0;             // benchmark.out line that started the run (0: JSON only)
  std::string started_at;        // date line after the start line
  std::string ended_at;          // date line after the result
  bool completed_line = false;   // "Completed benchmark with concurrency: N"
  bool has_block = false;        // a result block was parsed for this run
  bool block_truncated = false;  // the block had no closing "=====" line
  std::string json_file;         // relative path of the JSON result, empty if none
  Metrics metrics;               // JSON values win over the block's 2-decimal copies
  std::vector<std::pair<std::string, std::string>> text;  // non-numeric values ("backend")
  std::optional<int64_t> failed_requests;  // num_prompts - completed, or non-empty JSON errors
  std::string error;  // "ValueError: Initial test run failed ..." printed by the client
  // The validity gate (judge_run): why this finished run is not a result ("0 generated tokens",
  // "40 of 320 requests failed (12.5 %, limit 5 %)", "no benchmark duration: ..."); empty when
  // it is one, or when it did not finish.
  std::string invalid;
  bool finished() const { return has_block || !json_file.empty(); }
  bool valid() const { return finished() && invalid.empty(); }  // a result that counts
  std::optional<double> metric(std::string_view key) const;
};

// Every log file that was scanned for failure signatures.
struct WorkerLog {
  std::string file;
  LogFileId id;
  uint64_t lines = 0;
  std::string first_time, last_time;  // local-clock stamps seen in the file
  bool setup_complete = false;        // "... worker setup complete": printed even after a crash
};

// A worker (role, index, node) whose logs hold failure signatures.
struct WorkerFailure {
  std::string role;
  int index = -1;
  std::string node;
  std::string kind;    // a row id of core/catalogue.hpp (cuda_oom, host_oom, nccl_timeout, ...),
                       // or the scan's own `exception` (a traceback's closing line) / `error`
  bool fatal = false;  // the kind ends a process (the catalogue's `fatal`; `exception` too)
  std::string file;    // where the first error line is
  uint64_t line = 0;
  std::string first_error;  // that line, ANSI-stripped
  std::string time;         // local stamp of (or last before) the first error; "" unknown
  std::string exception;    // final line of the first traceback ("torch.OutOfMemoryError: ...")
  std::string last_frame;   // its innermost frame: `File "...", line N, in f`
  uint64_t signature_lines = 0;
  bool root_cause = false;
  bool collateral = false;  // first error at/after the teardown, or after the root cause
  std::string fix;          // the catalogue's fix for `kind`; "" for `error`
};

// A step that SLURM cancelled (`slurmstepd: error: *** STEP j.s ON host CANCELLED AT ts ***`).
struct CancelledStep {
  std::string file;
  uint64_t line = 0;
  std::string role;  // of the file ("batch" for log.err)
  int index = -1;
  std::string node;
  std::string time;
  bool time_limit = false;  // "... DUE TO TIME LIMIT"
};

// ---------------------------------------------------------------------------------------------
// SGLang's per-batch statistics (`Prefill batch` / `Decode batch` lines, old `batch.` and new
// `batch,` shapes; batch.cpp). Batch lines are most of a worker log, so they are parsed on a fast
// path (a prefix test, no regex, no allocation per line) and folded as they are read: lines of one
// second, DP rank and kind make a bucket, and each bucket is folded, in the order buckets were
// started, into what the report shows (statistics per benchmark window, the findings' figures, a
// time series of bounded length). Memory is bounded by the number of windows, DP ranks and the
// series' cap, not by the log's length.

enum BatchField : uint8_t {
  kNewSeq, kNewToken, kCachedToken, kTokenUsage, kRunningReq, kQueueReq, kPreallocReq,
  kTransferReq, kRetractedReq, kInflightReq, kInputTps, kGenTps, kBatchFieldCount
};
std::string_view batch_field_name(BatchField f);  // "new_seq", ..., "gen_tps"

struct BatchSample {
  int64_t t = 0;         // civil seconds of the line's stamp
  int dp = -1;           // DP rank from the prefix, -1 when none
  bool decode = false;   // Decode batch (else Prefill batch)
  int8_t cuda_graph = -1;  // -1 not printed, 0 False, 1 True
  double v[kBatchFieldCount] = {};  // NaN when the line has no such field
};
// One line (ANSI-free) -> sample; false when it is not a batch line with a readable stamp.
bool parse_batch_line(std::string_view line, BatchSample& out);

// Samples of one second, one DP rank, one kind: exact counts, sums, minima and maxima. A bucket
// lives only while its lines are read (a handful at once per worker); what stays is folded.
struct BatchBucket {
  int64_t t = 0;
  int dp = -1;
  bool decode = false;
  uint64_t line = 0;  // the first line of this second, rank and kind (findings quote it)
  uint32_t n = 0;  // lines
  uint32_t graph_false = 0, graph_true = 0;
  uint32_t count[kBatchFieldCount] = {};
  double sum[kBatchFieldCount] = {}, min[kBatchFieldCount] = {}, max[kBatchFieldCount] = {};
};

// A decode line running without CUDA graphs, or the KV pool retracting: kept with file:line
// for the findings.
struct BatchEvent {
  uint64_t line = 0;
  int64_t t = 0;
  std::string time;  // the line's stamp
  std::string text;  // cut to 400 bytes
  double running = 0;
};

// A benchmark window: a warm-up or run between its two date lines in benchmark.out. The worker
// scan is given the job's windows (bench_windows() before any worker log is read: the result files
// are small and read first) and folds each bucket into the windows holding its second; a window
// that did not end is open to the end of the logs.
struct BenchWindow {
  std::string label;  // "c64", "warm-up c64"
  int64_t concurrency = -1;
  bool warmup = false;
  size_t run = 0;      // index into JobReport::warmups (warm-up) or JobReport::runs
  uint64_t line = 0;   // benchmark.out line that started it (0: unknown)
  bool ended = false;  // its closing date line was seen (else it lasts to the last batch line)
  int64_t start = 0, end = 0;  // civil seconds, inclusive
  std::string started_at, ended_at;
};

// One (window, kind, rank) of a worker, folded bucket by bucket in the order the buckets were
// started (the order a stored list of buckets would have had, so sums add up in the same order).
struct WindowFold {
  uint64_t lines = 0;
  uint32_t graph_false = 0;
  uint64_t count[kBatchFieldCount] = {};
  double sum[kBatchFieldCount] = {}, max[kBatchFieldCount] = {};
  // Mean #queue-req of the first and last bucket in the window (per rank; unused for all ranks).
  bool queue = false;
  double first_queue = NAN, last_queue = NAN;
};
// Warm-up traffic in one measured window of one worker and kind (warmup_traffic()): the seconds
// whose #running-req + #queue-req over the DP ranks (each rank's smallest of the second) exceeds
// the concurrency. A second is summed once no bucket of it can come any more: buckets are folded
// in time order, give or take kTrafficReorderS seconds of stamps that go back.
inline constexpr int64_t kTrafficReorderS = 300;
struct TrafficFold {
  bool found = false;
  int64_t t = 0;             // the first second above the concurrency
  uint64_t line = 0;         // the worker's first batch line of that second
  double in_flight = 0;      // at that second
  double max_in_flight = 0;  // the largest over the window
  int ranks = 0;
};
// Decode generation in one window of one worker (result_mismatches()).
struct GenerationFold {
  bool any = false;  // a decode bucket generated (gen throughput > 0, or requests running)
  double max_gen_tps = 0;
  int64_t t = 0;      // the earliest generating bucket's second
  uint64_t line = 0;  // its first line
};
struct WorkerWindow {
  std::map<int, WindowFold> ranks[2];  // [decode]: key -2 = every rank together, else the DP rank
  TrafficFold traffic[2];              // [decode]
  GenerationFold generation;           // decode buckets only
};

// The worker's time series for charts and worker_timeseries.csv: a point per (kind, rank, bin).
struct SeriesPoint {
  int64_t t = 0;  // the bin's first second
  int dp = -1;
  bool decode = false;
  uint32_t n = 0;  // lines
  uint32_t count[kBatchFieldCount] = {};
  double sum[kBatchFieldCount] = {};
};
// Up to kSeriesExactBuckets buckets a worker keeps every bucket (bin_s 0: one point per bucket, in
// the order they were started), so the series are computed as from the full list. Past that, the
// points become bins of bin_s seconds (aligned on multiples of bin_s) per (kind, rank); when the
// worker's bins would span more than kSeriesMaxBins, bin_s doubles and neighbours merge (counts
// and sums merge exactly; the chart's and the CSV's step is then a multiple of bin_s).
inline constexpr size_t kSeriesExactBuckets = 4096;
inline constexpr int64_t kSeriesMaxBins = 1024;

struct WorkerBatches {
  std::string file;
  LogFileId id;
  std::optional<int> cuda_graph_max_bs;  // from the worker's server_args
  uint64_t lines = 0;                    // batch lines parsed
  uint64_t unreadable = 0;               // "Prefill/Decode batch" lines that did not parse
  uint64_t buckets = 0;                  // buckets (seconds per rank and kind) seen
  int64_t last_t = 0;                    // the second of the last bucket started
  bool has_kind[2] = {false, false};     // [decode]: buckets of that kind seen
  int64_t t_min[2] = {0, 0}, t_max[2] = {0, 0};  // [decode]: their first and last second
  // Per window of the windows the scan was given (window_spans: their first and last second,
  // INT64_MAX when it did not end; a reader whose windows differ finds nothing folded).
  std::vector<std::pair<int64_t, int64_t>> window_spans;
  std::vector<WorkerWindow> windows;
  int64_t series_bin_s = 0;         // 0: `series` holds every bucket; else bins of this width
  std::vector<SeriesPoint> series;  // bin_s 0: in the order started; else by (kind, rank, t)
  std::optional<BatchEvent> first_graph_off;  // first decode line with cuda graph: False
  std::optional<BatchEvent> first_over_max_bs;  // first decode line above cuda-graph-max-bs
  std::optional<BatchEvent> first_retract;      // first "KV cache pool is full" / #retracted-req > 0
  uint64_t retract_lines = 0;
};

// Folds a worker's batch samples into `out` (lines, buckets, windows, series) as they are read.
// Buckets are folded in the order they were started: one waits until the buckets started before
// it are complete (each (rank, kind) has one bucket open, closed by its next line of another
// second). At most kPendingBuckets wait; past that the oldest is folded as it is, and a line of
// its second that still comes (a stamp gone back across that many buckets) starts a new bucket.
inline constexpr size_t kPendingBuckets = 1024;
class BatchFolder {
 public:
  // `windows`: the job's benchmark windows (bench_windows() before the worker logs are read).
  BatchFolder(WorkerBatches& out, const std::vector<BenchWindow>& windows);
  ~BatchFolder();
  BatchFolder(const BatchFolder&) = delete;
  BatchFolder& operator=(const BatchFolder&) = delete;
  void add(const BatchSample& s, uint64_t line);
  void finish();  // folds what waits; call once, after the last add
  // Gives `sink` every bucket as it is folded, in the order folded (partial_state keeps them).
  void record(std::function<void(const BatchBucket&)> sink);
  // Folds a bucket another folder recorded, where add() would have folded it: buckets replayed in
  // their recorded order, then finish(), give what that folder's add()s would have given with
  // these windows, bit for bit. `lines`, `buckets` and `last_t` of the output are add()'s: the
  // caller sets them.
  void replay(const BatchBucket& b);

 private:
  struct State;
  std::unique_ptr<State> st_;
};

struct JobReport {
  std::string dir;     // as given
  std::string name;    // folder name
  std::string layout;  // "v1" (logs/{job}_{P}P_{D}D_{ts}/) or "v2" (outputs/{job}/logs/)
  JobName job;
  Topology topology;
  // From {job_id}.json when present.
  std::string job_name, model, gpu_type;
  std::optional<int> gpus_per_node, prefill_nodes, decode_nodes, agg_nodes;
  // What the benchmark was asked to do (the `Config` line or {job_id}.json).
  std::optional<int64_t> isl, osl;
  std::vector<int64_t> requested_concurrencies;
  std::string request_rate;
  std::string started_at;  // earliest local stamp in a worker log (the nodes' real start)
  Readiness readiness;
  std::vector<BenchRun> runs;     // real runs, sorted by (isl, osl, concurrency)
  std::vector<BenchRun> warmups;  // in log order
  std::vector<WorkerLog> logs;
  std::vector<WorkerFailure> failures;  // root cause first, then by time
  std::vector<WorkerBatches> batches;   // workers whose logs hold batch lines
  std::vector<CancelledStep> cancelled;
  std::vector<std::string> slurm_errors;  // `srun: error: ...` lines of log.err
  std::string teardown_at;                // earliest CANCELLED AT stamp
  bool time_limit = false;
  std::string root_cause;  // one line, empty when nothing failed
  Verdict verdict = Verdict::healthy;
  std::string reason;  // one line
  // What the verdict rests on, as a finding id: batch_script_error, never_ready,
  // no_benchmark_output, benchmark_unfinished, no_benchmark_results, concurrency_never_ran,
  // no_valid_results, concurrency_missing, worker_failure, worker_error, invalid_runs,
  // failed_requests, batch_exit_code, file_problems, slurm_time_limit, analysis_stopped; empty
  // when healthy.
  std::string reason_id;
  std::vector<Problem> problems;

  const WorkerFailure* root() const;
  std::vector<const BenchRun*> unfinished() const;
  const BenchRun* run(int64_t concurrency) const;  // first real run at that concurrency
};

// ---------------------------------------------------------------------------------------------
// Stages. analyze_job runs them over the folder's files; they are public so each can be tested
// on its own. `rel` is the name used in problems and reports. None throws on bad content; an
// unreadable file adds a problem and yields what was read so far.

// benchmark.out: the readiness wait, the Config line, warm-ups and runs with their blocks.
struct BenchmarkLog {
  Readiness readiness;
  std::optional<int64_t> isl, osl;
  std::vector<int64_t> concurrencies;  // requested ("Config 1024; 1024; 64 128; inf")
  std::string request_rate;
  std::vector<BenchRun> runs, warmups;  // in log order
};
BenchmarkLog parse_benchmark_out(const std::filesystem::path& file, const std::string& rel,
                                 std::vector<Problem>& problems);

Topology parse_log_out(const std::filesystem::path& file, const std::string& rel,
                       std::vector<Problem>& problems);

// One sa-bench result JSON: concurrency from `max_concurrency`, else `concurrency_N` in the file
// name; every top-level number as a metric. nullopt (and a problem) when unreadable/malformed.
std::optional<BenchRun> read_result_json(const std::filesystem::path& file, const std::string& rel,
                                         std::vector<Problem>& problems);

// Failure-signature scan of one log file.
struct SignatureHit {
  std::string kind;
  bool fatal = false;
  uint64_t line = 0;
  std::string text;  // ANSI-stripped, cut to 400 bytes
  // The line's own stamp; for an unstamped line the next stamped line's, or the previous one's
  // when the file ends or is cancelled first ("" when the file has none).
  std::string time;
  bool exact = false;  // `time` is the line's own stamp
};
struct Traceback {
  uint64_t line = 0;  // "Traceback (most recent call last):"
  std::string time;
  std::string exception;  // the closing exception line ("" when the file ends inside it)
  uint64_t exception_line = 0;
  std::string last_frame;
};
enum class ScanMode {
  worker,  // engine / frontend / nginx logs: every signature
  client,  // benchmark.err: tracebacks and exception lines only (the spot-check answer is prose)
  batch,   // log.err: SLURM lines and host OOM only (the rest is the `set -x` trace)
};
struct LogScan {
  WorkerLog log;
  std::vector<SignatureHit> hits;     // the first 64
  std::vector<Traceback> tracebacks;  // the first 8
  std::vector<CancelledStep> cancelled;
  std::vector<std::string> slurm_errors;
  std::optional<WorkerBatches> batches;  // only when the file holds batch lines
};
// `utc_is_local`: the job's clock is UTC (log.out's `date` says so), so Dynamo's `...Z` stamps
// can be ordered against SGLang's local ones.
// `windows`: the job's benchmark windows, into which batch lines are folded (none: no window).
LogScan scan_log(const std::filesystem::path& file, const std::string& rel, const LogFileId& id,
                 ScanMode mode, std::vector<Problem>& problems, bool utc_is_local = false,
                 const std::vector<BenchWindow>& windows = {});

// ---------------------------------------------------------------------------------------------

// A directory named like a job folder, or holding the characteristic files (log.out with
// benchmark.out / sbatch_script.sh / per-worker logs; v2: logs/ with sweep_*.log or worker logs).
bool is_job_dir(const std::filesystem::path& dir);
// Not a job folder itself, and holds at least one job folder as a direct child.
bool is_job_set_dir(const std::filesystem::path& dir);
// The first bytes of a job's log.out (the sbatch script's output), by content.
bool is_job_log_head(std::string_view head);

// "decode w0 on node-3", "frontend 0", "benchmark client", "batch script".
std::string worker_label(const std::string& role, int index, const std::string& node);
// "CUDA out of memory", "NCCL collective timeout", ... for a WorkerFailure::kind.
std::string kind_text(std::string_view kind);

// The validity gate: a finished run is not a result when it generated no tokens (0 successful
// requests, 0 generated tokens, or 0 output tok/s), when more than max_failed_pct percent of its
// requests failed, or when its result lacks the measured window (no positive benchmark
// duration). Sets r.invalid (cleared when valid); unfinished runs are left alone.
void judge_run(BenchRun& r, double max_failed_pct = kDefaultMaxFailedPct);
// "c64 (0 generated tokens), c128 (...)": the invalid finished runs of `r`, for the verdict's
// reason and the finding.
std::string invalid_runs_text(const JobReport& r);

struct JobOptions {
  unsigned threads = 0;  // log files scanned at once (0: one per core, at most 16)
  double max_failed_pct = kDefaultMaxFailedPct;  // the validity gate (judge_run)
};
// Never throws on content. The folder's log files are scanned on up to `threads` threads; the
// report is the same whatever the count. Invalid runs (judge_run) stay in `runs`, marked; the
// verdict counts only valid ones as results.
JobReport analyze_job(const std::filesystem::path& dir, const JobOptions& opt);
JobReport analyze_job(const std::filesystem::path& dir, unsigned threads = 0);
std::vector<JobReport> analyze_set(const std::filesystem::path& dir, const JobOptions& opt = JobOptions{});  // by job id

// ---------------------------------------------------------------------------------------------
// Analysis where the logs live (core/partial.hpp; partial.cpp). A job's files may be spread over
// the nodes that wrote them (node-local scratch: each node holds its own worker logs; the batch
// node holds log.out, benchmark.out, the results and {job}.json). partial_state runs on one node
// over the folder as that node has it (any subset of the job's files at their usual relative
// paths, even only worker logs), and keeps per file what analyze_job needs: parsed log.out,
// benchmark.out, results and job metadata; per log file its scan (signature hits with their
// lines, tracebacks, cancelled steps, clocks, counts) and its batch buckets (per second, DP rank
// and kind) in the order BatchFolder folds them, never raw lines. What depends on another file is
// resolved by merge_partials: the layout (v1/v2) from where the parts found log.out,
// benchmark.out and logs/; the clock (a file with Dynamo's `...Z` stamps keeps both readings of
// them, and the merge takes the one log.out's `date` asks for); the benchmark windows (the
// buckets are replayed into a BatchFolder given the job's windows, bit for bit what folding while
// reading gives).
//
// The job is the folder name: every part must have been taken from a folder of the same name
// (the job's `{job}_{P}P_{D}D_{ts}` on every node), which gives the job id, its worker counts and
// the name of {job_id}.json. JobReport::dir is the smallest of the parts' paths.
// merge_partials(parts) over the parts of any split of a job folder's files equals
// analyze_job(folder) (save_report bytes), whatever the order of `parts`. A path held by parts of
// two hosts is kept from each, named `host:path` (only then); of log.out, benchmark.out and
// {job_id}.json, which one job has once, the first host's counts and the others are problems.
// A state that is not what partial_state wrote throws std::runtime_error naming what is wrong.
inline constexpr int kPartialVersion = 1;
nlohmann::json partial_state(const std::filesystem::path& dir, const JobOptions& opt);
JobReport merge_partials(const std::vector<core::PartState>& parts, const JobOptions& opt);

// The whole report as CBOR and back (persist.cpp; --cache keeps a job's analysis with it).
// load_report throws nlohmann::json::exception on a malformed or foreign input.
std::vector<uint8_t> save_report(const JobReport& r);
JobReport load_report(std::span<const uint8_t> cbor);

nlohmann::ordered_json to_json(const std::vector<JobReport>& jobs);  // the value under "srtctl"
// The same over reports owned elsewhere (the CLI's analysed jobs): the report-wide views read
// them in place instead of copying them.
// with_jobs false: all but "jobs" (the CLI splices each job's element as text, job_to_json).
nlohmann::ordered_json to_json(const std::vector<const JobReport*>& jobs, bool with_jobs = true);

// The shared header (core/finding.hpp) of one job: its verdict and cause, a finding per worker
// failure (root cause, consequence or collateral) and per thing the verdict rests on, and the
// files read and skipped.
core::Header header(const JobReport& job);
nlohmann::ordered_json job_to_json(const JobReport& job);  // one element of to_json(...)["jobs"]
std::string to_markdown(const std::vector<JobReport>& jobs);

// The job's detail below the shared header (core/job.hpp) in every medium: topology, readiness,
// benchmark results, unfinished runs, per-worker errors with root/collateral tags, problems. It
// leaves the verdict and the findings to the header; json() writes job_to_json(job).
std::unique_ptr<core::Body> make_body(JobReport job);
std::unique_ptr<core::Body> make_body(std::shared_ptr<const JobReport> job);  // shares, no copy

// One row per (job, concurrency) against jobs[baseline]; `regressions` gets one line per metric
// worse by more than pct percent (throughput down, latency up) and per concurrency the baseline
// finished but the job did not.
std::string compare_markdown(const std::vector<JobReport>& jobs, size_t baseline, double pct,
                             std::vector<std::string>& regressions);
nlohmann::ordered_json compare_json(const std::vector<JobReport>& jobs, size_t baseline,
                                    double pct);

// ---------------------------------------------------------------------------------------------
// Benchmark windows and the batch statistics in each (batch.cpp).

// Warm-ups and runs with both date lines, in time order.
std::vector<BenchWindow> bench_windows(const JobReport& r);

struct WindowStats {
  size_t window = 0;  // index into bench_windows()
  std::string worker;  // "decode w0 on node"
  std::string role;
  int dp = -1;         // -1: all ranks of the worker
  bool decode = false;
  uint64_t lines = 0;
  uint32_t graph_false = 0;
  double mean[kBatchFieldCount] = {}, max[kBatchFieldCount] = {};
  bool has[kBatchFieldCount] = {};
  double first_queue = NAN, last_queue = NAN;  // #queue-req at the window's first and last line
};
// Per window, per worker and kind (all its DP ranks together), then per DP rank.
std::vector<WindowStats> window_stats(const JobReport& r, const std::vector<BenchWindow>& w);

// Rate matching of a disaggregated job in one window: what the prefill side fed against what the
// decode side generated, and which side limited.
struct RateMatch {
  size_t window = 0;
  double prefill_input_tps = NAN;   // sum over prefill workers of their mean input throughput
  double decode_gen_tps = NAN;      // sum over decode workers of their mean generation throughput
  double decode_queue_growth = NAN;  // last minus first #queue-req, summed over decode ranks
  double prefill_queue_max = NAN;
  double transfer_max = NAN;          // largest #transfer-req on a decode rank
  std::string limiter;   // "decode", "prefill", "balanced", "" unknown
  std::string evidence;  // one sentence
};
std::vector<RateMatch> rate_matching(const JobReport& r, const std::vector<BenchWindow>& w,
                                     const std::vector<WindowStats>& s);
// Warm-up traffic inside a measured window. Either the warm-up's own date lines overlap the
// measured window's, or, in a measured window that comes straight after a warm-up, a worker's
// batch lines show more requests in flight than the run's concurrency allows: #running-req plus
// #queue-req over its DP ranks within one second (each rank's smallest value of that second, so
// a request that finished and was replaced within the second is not counted twice). The client
// never has more than `concurrency` requests open, so the excess is the warm-up's requests still
// running on the server.
struct WarmupTraffic {
  size_t window = 0;   // the measured window (index into bench_windows())
  size_t warmup = 0;   // the warm-up window
  bool overlap = false;  // the stated times overlap; else the worker fields say what was seen
  size_t worker = SIZE_MAX;  // index into JobReport::batches
  bool decode = false;       // the kind of batch line that showed it
  int64_t t = 0;             // the first second above the concurrency
  std::string time;          // that second as a stamp
  uint64_t line = 0;         // the worker's first batch line of that second
  double in_flight = 0;      // at that second
  double max_in_flight = 0;  // the largest over the window
  int ranks = 0;             // DP ranks that reported in that second
};
std::vector<WarmupTraffic> warmup_traffic(const JobReport& r, const std::vector<BenchWindow>& w);

// A finished measured run whose batch metrics contradict its result: the result says requests
// completed (or tokens were generated) but no decode batch line of any decode / aggregated worker
// generated anything in its window although their logs cover it; or the reverse, the result says
// nothing completed (or 0 output tok/s) while decode batches generated tokens in its window.
// Windows shorter than kMismatchMinWindowS are skipped: decode lines are printed only every
// `decode-log-interval` steps.
inline constexpr int64_t kMismatchMinWindowS = 10;
struct ResultMismatch {
  size_t window = 0;               // index into bench_windows()
  bool zero_generation = false;    // result completed, batches generated nothing; else reverse
  std::optional<double> completed, output_tps;  // what the result says
  std::vector<size_t> workers;     // zero_generation: decode-capable workers covering the window
  size_t worker = SIZE_MAX;        // reverse: the first worker generating in the window
  uint64_t line = 0;               // reverse: its first decode line generating in the window
  std::string time;
  double max_gen_tps = 0;          // reverse: the largest gen throughput in the window
};
std::vector<ResultMismatch> result_mismatches(const JobReport& r,
                                              const std::vector<BenchWindow>& w);

// The job's batch view: windows, workers, per-window statistics and rate matching (report.json
// `srtctl.jobs[].batches`), and the same as SUMMARY.md / report.html sections.
nlohmann::ordered_json batches_json(const JobReport& r);
std::string batches_markdown(const JobReport& r);
std::string batches_html(const JobReport& r);

// Per worker (and batch kind) over time: the worker's series (WorkerBatches::series) averaged over
// `step` seconds, with `step` chosen so that there are at most max_points samples however long the
// run (deterministic: the same lines give the same series). From every bucket, step is
// ceil(span / max_points) seconds from the first second; from bins (a long run), it is a multiple
// of the bins' width, from a multiple of itself. Values are means over every line of the step;
// NaN where the step has no line with that field.
struct WorkerSeries {
  size_t worker = 0;  // index into JobReport::batches
  bool decode = false;
  int64_t t0 = 0, step = 1;  // civil seconds of the first sample, seconds per sample
  std::vector<int64_t> t;    // each sample's start
  std::vector<double> running, queue, token_usage;  // mean per DP rank
};
std::vector<WorkerSeries> worker_series(const JobReport& r, size_t max_points = 240);
// report.html: an inline SVG per worker of #running-req and #queue-req, and one of token usage,
// over time, with the benchmark windows shaded (warm-ups apart); at most max_workers workers
// (the rest are in worker_timeseries.csv).
std::string worker_series_html(const JobReport& r, size_t max_points = 240, size_t max_workers = 32);
// worker_window_stats.csv and worker_timeseries.csv over every job. The time series is averaged
// into buckets wide enough that each (worker, rank, kind) writes at most max_rows_per_worker rows
// (chosen as worker_series() chooses its step); the `bucket_s` column says how wide.
std::vector<std::pair<std::string, std::string>> batches_csv(const std::vector<JobReport>& jobs,
                                                             size_t max_rows_per_worker = 2000);
std::vector<std::pair<std::string, std::string>> batches_csv(
    const std::vector<const JobReport*>& jobs, size_t max_rows_per_worker = 2000);
// One job's rows of those two files, without their header lines (--cache keeps them as text).
struct BatchCsvRows {
  std::string window_stats, timeseries;
};
BatchCsvRows batches_csv_rows(const JobReport& r, size_t max_rows_per_worker = 2000);
// The two files from each job's rows, in order: batches_csv(jobs) is this of each job's rows.
std::vector<std::pair<std::string, std::string>> batches_csv(const std::vector<const BatchCsvRows*>& rows);

// ---------------------------------------------------------------------------------------------
// Benchmark points and the Pareto frontier (points.cpp): how people compare serving
// configurations. A point is one finished run of one job; its two axes are output tokens/s per
// GPU (what the deployment costs) and tokens/s per user (1000 / mean TPOT, what a user sees).
// A point is on the frontier of its ISL/OSL when no other point of that shape is at least as
// good on both axes and better on one.

struct LatencyTriple {
  std::optional<double> mean, median, p99;  // ms
};

struct BenchPoint {
  std::string job;       // job id
  std::string name;      // "4459 c64": job and concurrency, how the frontier names it
  std::string topology;  // "2P/1D", "4A", "" unknown
  std::optional<int> gpus;
  std::optional<int64_t> isl, osl;
  int64_t concurrency = -1;
  std::optional<double> output_tps, total_tps;                  // whole job, tok/s
  std::optional<double> output_tps_per_gpu, total_tps_per_gpu;  // null without a GPU count
  std::optional<double> tps_per_user;                           // 1000 / mean TPOT
  LatencyTriple ttft{}, tpot{}, itl{}, e2el{};
  std::optional<int64_t> completed, failed;
  bool frontier = false;  // on the Pareto frontier of its ISL/OSL
};

// The job's GPU count: gpus_per_node x (prefill + decode nodes, or aggregated nodes) from
// {job}.json, else gpus_per_node x the distinct nodes of its worker logs; nullopt when unknown.
std::optional<int> job_gpus(const JobReport& r);
std::string topology_name(const JobReport& r);  // "2P/1D", "4A", ""

struct ShapeFrontier {
  std::optional<int64_t> isl, osl;
  std::vector<size_t> members;                // indexes into SweepView::points, by tok/s/user
  std::optional<size_t> best_at_cutoff;       // most output tok/s/GPU with tok/s/user >= cutoff
  size_t points = 0;                          // points of this shape on both axes
};

struct ExcludedRun {
  std::string name;  // "4459 c64", like BenchPoint::name
  std::string why;   // BenchRun::invalid
};

struct SweepView {
  std::vector<BenchPoint> points;  // by (isl, osl, job order, concurrency)
  std::vector<ShapeFrontier> shapes;
  std::optional<double> min_tps_user;  // --min-tps-user
  std::vector<ExcludedRun> excluded;   // finished runs the validity gate refused, in job order
};

// Every valid finished run of `jobs` as a point (the invalid ones in `excluded`), frontiers per ISL/OSL, and the cutoff's answer.
// O(n log n) in the number of points.
SweepView sweep_view(const std::vector<JobReport>& jobs, std::optional<double> min_tps_user);
SweepView sweep_view(const std::vector<const JobReport*>& jobs, std::optional<double> min_tps_user);
nlohmann::ordered_json sweep_json(const SweepView& v);
std::string sweep_text(const SweepView& v, size_t width);  // terminal, width columns
std::string sweep_markdown(const SweepView& v);            // "## Benchmark points" ...
// The latency curves as mermaid charts (part of sweep_markdown): per ISL/OSL, mean TPOT and mean
// TTFT against concurrency, one line per job that has a point at every concurrency of the chart.
std::string latency_mermaid(const SweepView& v);
std::string sweep_html(const SweepView& v);                // tables and SVG scatter charts
// CSV files beside report.json: name -> content.
std::vector<std::pair<std::string, std::string>> sweep_csv(const SweepView& v);

// Benchmark points in `compare`: each side is one job or a job set, and a side's point for an
// (ISL, OSL, concurrency) is that of its first job (by id) that finished it, as in the run
// comparison. Each point is compared with the baseline side's point of the same key: per metric
// the change in percent (throughputs per GPU and per user: higher is better; latencies: lower),
// and the frontier is that of every side's points together, per ISL/OSL. Informational: the
// regression gate stays on the run comparison's metrics.
struct PointChange {
  size_t side = 0;
  BenchPoint point;  // `frontier`: on the frontier of all sides' points of its shape
  bool matched = false;  // the baseline side has a point of the same key
  std::vector<std::pair<std::string, double>> change_pct;  // metric -> % against the baseline
};
struct PointsComparison {
  std::vector<std::string> labels;  // per side
  size_t baseline = 0;
  std::vector<PointChange> rows;  // by (ISL, OSL, concurrency, side)
  // Per ISL/OSL: the frontier over every side, "label: point", by tok/s/user.
  std::vector<std::pair<std::string, std::vector<std::string>>> frontiers;
};
// The metrics compared, in order, and whether higher is better.
const std::vector<std::pair<std::string, bool>>& point_metrics();
PointsComparison compare_points(const std::vector<std::vector<JobReport>>& sides,
                                const std::vector<std::string>& labels, size_t baseline);
nlohmann::ordered_json points_comparison_json(const PointsComparison& c);
std::string points_comparison_markdown(const PointsComparison& c);
std::string points_comparison_text(const PointsComparison& c, size_t width);

}  // namespace alog::srtctl
