// Ray training jobs (TorchSpec): the driver log `running_logs/<recipe>_<YYYYmmdd_HHMMSS>.log`
// and/or Ray session log folders (`session_latest/logs/` with `worker-*-<pid>.err`, `raylet.out`,
// `gcs_server.out`, `monitor.log`), turned into a RayReport that answers the questions of a
// person watching a run: which of the seven start-up phases it reached, how long each took
// against the typical duration, whether silence is normal (minutes after the model shards reach
// 100 %) or a stall, and when it failed, why, in which actor, with file:line evidence and a fix.
//
// The shape follows from what these logs can and cannot tell:
// * Several of the documented phase markers are unreliable in practice (`set_train_queue` is
//   never logged, `Added N samples to controller` prints at the start of the training loop), so
//   each phase is detected from a table of code-emitted markers (docs/RAY.md); phases 4 and 5
//   run in parallel, so a phase ends at its own "done" marker or at the earliest later phase.
// * The driver log interleaves relayed actor lines (`(SglEngine pid=N, ip=A) ...`) in arrival
//   order, de-duplicates them (`[repeated Nx across cluster]`) and glues tqdm updates with `\r`
//   and no timestamp. Bars get a wall time estimated from their elapsed counter; a de-duplicated
//   line counts as N occurrences; and which ranks logged a collective timeout is decided from the
//   per-worker files, never from the driver log (that is how the silent straggler is found).
// * Times are the logs' local civil clock without a zone. They are kept as milliseconds on that
//   clock; only the live "now" is converted, with the local zone of the machine running us.
//
// Nothing in the inputs is trusted: unreadable files become `problems`, garbage yields an empty
// report with verdict `unknown`, and analyze() never throws on content.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze_logs/core/finding.hpp"
#include "analyze_logs/core/job.hpp"
#include "analyze_logs/core/partial.hpp"

namespace alog::ray {

// ---------------------------------------------------------------------------------------------
// Inputs.

// A TorchSpec driver log, by content: the first ~64 KB mention torchspec (the `set -x` trace of
// `python3 -m torchspec.train_entry`), a TorchSpec actor in a Ray prefix (`(TrainerActor pid=`,
// `(SglEngine pid=`, `(MooncakeMaster pid=`) or a TorchSpec phase marker. A generic Ray driver
// log (vLLM, verl) is not claimed.
bool is_driver_log(const std::filesystem::path& file);
// The same test on the first bytes of a log (standard input, or a head already read).
bool is_driver_log_head(std::string_view head);
// `dir` itself holds a Ray session's logs (raylet.out, gcs_server.out or worker-*.{out,err});
// unlike is_session_logs_dir, `dir/logs` and `dir/session_latest/logs` do not count, so that
// discovery sees each dated session of a node.
bool holds_session_logs(const std::filesystem::path& dir);

// A Ray session log folder: `dir` itself, `dir/logs` (session_latest/) or
// `dir/session_latest/logs` (the RAY_TEMP_DIR) holds raylet.out, gcs_server.out or
// worker-*.{out,err}.
bool is_session_logs_dir(const std::filesystem::path& dir);

struct Options {
  // Measure silence up to `now` (or the wall clock when `now` is empty). Without `live`, the
  // end of the input is the newest timestamp in any input, Ray's own logs included (raylet.out
  // keeps writing state dumps while the cluster lives); `now` is then ignored. File times are
  // never used: copies, archives and checkouts reset them.
  bool live = false;
  std::optional<std::chrono::system_clock::time_point> now;
};

// ---------------------------------------------------------------------------------------------
// Report.

enum class Verdict { unknown, running, finished, stuck, failed };
std::string_view verdict_name(Verdict v);  // "unknown", "running", "finished", "stuck", "failed"

struct Evidence {
  std::string file;  // relative to the folder that holds all inputs ("running_logs/x.log")
  uint64_t line = 0;
  std::string time;         // "2026-03-11 06:12:47", "" when unknown
  bool time_exact = false;  // the line's own stamp (else the last stamp before it, or estimated)
  std::string text;         // ANSI-stripped, de-dup suffix removed, cut to 300 bytes
  std::string ref() const;  // "file:line"
};

struct Problem {
  std::string file;
  std::string message;
};

// The last state of a tqdm bar (`Multi-thread loading shards:  62% Completed | 30/48 [...]`,
// `Training:  40%|...| 5634/14085 [...]`).
struct Progress {
  std::string desc;
  int percent = 0;
  int64_t n = 0, total = 0;
  std::string elapsed, remaining, rate;                      // as printed ("6:15:33", "4.00s/step")
  std::vector<std::pair<std::string, std::string>> postfix;  // loss=0.912, acc=0.633, ...
  std::string time;  // wall time: bar start (last stamp before it) + elapsed
  Evidence where;
  std::string actor;  // who printed it (SglEngine for the shard bar, "" for the driver's bars)
  int64_t pid = -1;
  std::string ip;
};

struct Phase {
  int number = 0;  // 1..7
  std::string name;
  std::string marker;          // the documented marker (seed 004), for the table
  std::string expected;        // "seconds", "~1 min", "5-15 min", "ongoing"
  int64_t expected_max_s = 0;  // over this the phase is flagged (0: no limit)
  bool reached = false;
  bool done = false;     // ended (its own done marker or a later phase started)
  bool ongoing = false;  // still running at the end of the input
  bool over_expected = false;
  std::string start, end;  // stamps; end of an ongoing phase is the end of the input
  std::optional<int64_t> duration_s;
  bool start_approx = false;         // the first marker had no stamp of its own
  uint64_t markers = 0;              // marker lines seen (de-dup counts included)
  std::optional<Progress> progress;  // phase 5: shard loading; phase 7: training
  Evidence first, last;              // first and last marker line
};

struct Finding {
  // a row id of core/catalogue.hpp (cuda_oom, host_oom, nccl_timeout, nccl_error, actor_died,
  // sglang_crash, native_crash, nan_loss, traceback, init_failure, ...), or stall, slow_phase
  std::string kind;
  std::string severity;  // fatal | error | warning
  std::string title;     // one line
  std::string detail;    // what else is known (exit detail, straggler, last frame)
  std::string actor;     // actor class, "driver", "raylet", "" unknown
  int64_t pid = -1;
  std::string ip;
  int rank = -1;
  std::string time;          // first occurrence
  uint64_t occurrences = 0;  // lines, de-dup counts included
  std::string worker_file;   // the worker-*.err of that pid when it is among the inputs
  bool root_cause = false;
  bool consequence = false;        // a fatal finding that started after the root cause
  std::vector<Evidence> evidence;  // first lines (up to 8), then the cause in the worker file
  std::string fix;                 // the catalogue's (cuda_oom: by actor), or the phase's
};

struct Actor {
  std::string name;  // TrainerActor, SglEngine, MooncakeMaster, ... ("" when only a pid is known)
  int64_t pid = -1;
  std::string ip;           // empty: the driver's node (Ray adds `ip=` only for other nodes)
  int rank = -1;            // `[Rank k]`, `[rankk]:` or `SglEngine rank k:`
  std::string worker_file;  // worker-*-<pid>.err (display path), "" when not among the inputs
  std::string last_time;    // newest stamp from this actor (driver relay or its own file)
  uint64_t driver_lines = 0, file_lines = 0;
  std::string status;  // ok | died | error | watchdog timeout | silent (straggler?)
};

// A collective that timed out (NCCL watchdog).
struct CollectiveTimeout {
  std::string op;  // ALLREDUCE, _REDUCE_SCATTER_BASE, ...
  int64_t seq = -1;
  int64_t timeout_ms = -1;
  std::string time;                 // first watchdog line
  bool per_worker = false;          // ranks come from worker-*.err files (else from the driver log)
  std::vector<int> reported_ranks;  // logged the watchdog message
  std::vector<int> silent_ranks;    // have a worker file, never logged it: likely stragglers
  std::vector<int> unseen_ranks;    // below world_size, no worker file among the inputs
  int world_size = -1;
};

struct RayReport {
  std::vector<std::string> driver_logs;   // display paths
  std::vector<std::string> session_dirs;  // display paths
  std::vector<std::string> ignored;       // older driver logs in a running_logs/ folder
  std::string base;                       // the folder display paths are relative to
  uint64_t driver_lines = 0, worker_files = 0;

  std::vector<Phase> phases;         // always 7, phase 1 first
  int phase_reached = 0;             // 0: no marker at all
  std::optional<Progress> training;  // the last Training bar (also in phases[6].progress)

  std::string started_at;      // first stamp of the job
  std::string last_output_at;  // newest driver / worker line (tqdm estimates included)
  std::string end_at;          // the end of the input (see Options)
  std::string end_source;      // "live clock", "raylet.out", "driver log", ...
  bool live = false;
  std::optional<int64_t> silence_s;   // end_at - last_output_at
  std::optional<int64_t> in_phase_s;  // end_at - start of the phase reached
  bool finished_marker = false;       // "Training completed!"

  Verdict verdict = Verdict::unknown;
  std::string headline;            // "stuck in phase 5 (SglEngine init)", "failed: ..."
  std::string reason;              // one or two sentences
  std::string summary;             // the terminal line (verdict_line)
  std::vector<std::string> notes;  // silence is normal / measured how / what to give next

  std::vector<Finding> findings;  // root cause first, then by time
  std::optional<CollectiveTimeout> collective;
  std::vector<Actor> actors;  // by name, then rank, then pid

  uint64_t benign_lines = 0;  // harmless metrics-exporter errors (de-dup counts included)
  std::optional<Evidence> benign_first;
  std::vector<Problem> problems;

  const Finding* root() const;
  const Phase& phase(int number) const;  // 1..7
};

RayReport analyze(const std::vector<std::filesystem::path>& inputs, const Options& opt);

// Analysis where the logs live (core/partial.hpp). partial_state: on a node, the files analyze()
// would read among `inputs`, each with the state its scan left (phase markers, hits with their
// evidence lines, actors, the worker file's last line, clocks, counts: never the raw lines), and
// discovery's problems and ignored files. merge_partials: the report analyze() gives over the
// files of all the parts in one place (the same order, the same fold of the file states, the
// same decision); two parts holding the same path on different hosts keep both files, shown as
// `host:path`. A part that is not what partial_state wrote throws std::runtime_error naming the
// host and the key that is wrong.
nlohmann::json partial_state(const std::vector<std::filesystem::path>& inputs, const Options& opt);
RayReport merge_partials(const std::vector<core::PartState>& parts, const Options& opt);

nlohmann::ordered_json to_json(const RayReport& r);  // the value under "ray"
std::string to_markdown(const RayReport& r);         // SUMMARY.md body, verdict first
std::string verdict_line(const RayReport& r);        // one line for the terminal

// The shared header (core/finding.hpp): finished -> ok (degraded when a phase ran far over its
// typical time), running, stuck, failed, unknown; each Finding with its role; inputs.
core::Header header(const RayReport& r);
// The run's detail below the shared header (core/job.hpp) in every medium: phases, training
// progress, the collective timeout's ranks, actors, notes. It leaves the verdict and the
// findings to the header; json() writes to_json(r).
std::unique_ptr<core::Body> make_body(RayReport r);

// ---------------------------------------------------------------------------------------------
// Line-level pieces, public so each can be tested alone.

// `(Name pid=N[, ip=A]) `, `(pid=N) `, `(raylet) `, `(raylet, ip=A) `, `(autoscaler +1m2s) ` at
// the start of an ANSI-stripped driver line.
struct RayPrefix {
  std::string name;  // "SglEngine", "raylet", "" for `(pid=N)`
  int64_t pid = -1;
  std::string ip;
  size_t length = 0;  // bytes of the prefix and the space after it
};
std::optional<RayPrefix> parse_ray_prefix(std::string_view line);

// Removes Ray's ` [repeated Nx across cluster]` suffix (and the one-time explanation after it)
// from `line`; returns N, or 1 when the line was not de-duplicated.
uint64_t strip_dedup(std::string_view& line);

// The stamp near the start of a line, as milliseconds on the logs' civil clock:
// `[2026-03-11 06:12:47,318]` (TorchSpec), `2026-03-11 06:12:47,318\tINFO` (Ray Python),
// `[2026-03-11 06:12:47,318 E 1 2]` (Ray C++), `[2026-03-11 06:12:47 TP0]` (SGLang),
// `[rank0]:[E311 06:12:47.408271257 ...` (NCCL: no year, `year` is used).
std::optional<int64_t> parse_stamp_ms(std::string_view line, int year);

// A tqdm bar at the start of `s` (leading spaces allowed); `consumed` is set to the bytes up to
// and including the closing `]`, so whatever was glued after it can be parsed as its own line.
std::optional<Progress> parse_tqdm(std::string_view s, size_t& consumed);

// Civil clock helpers: "2026-03-11 06:12:47" <-> milliseconds, and the local-zone conversion
// used for the live clock (tests build `Options::now` with local_time_point).
std::optional<int64_t> parse_civil_ms(std::string_view stamp);
std::string format_civil(int64_t ms);  // "2026-03-11 06:12:47"
std::chrono::system_clock::time_point local_time_point(int64_t civil_ms);
int64_t civil_ms_of(std::chrono::system_clock::time_point tp);

// "45 s", "14 min", "2 h 05 min".
std::string human_duration(int64_t seconds);

}  // namespace alog::ray
