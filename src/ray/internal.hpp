// Private to the Ray module: the scan accumulator that scan.cpp fills from the files and
// analyze.cpp turns into a RayReport. Everything time-like is milliseconds on the logs' civil
// clock (see ray.hpp).
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analyze_logs/ray.hpp"

namespace alog::ray::detail {

const RE2::Options& re_options();  // Latin-1: log bytes are not trusted to be UTF-8
int64_t tqdm_elapsed_s(const Progress& p);
int year_of(int64_t civil_ms);

// Shared by the writers (render.cpp) and the Body (body.cpp).
std::string hhmmss(const std::string& stamp);  // "2026-03-11 06:12:47" -> "06:12:47"
// "done", "running", "not reached", "failed here", "stuck" ("**stuck**" when bold).
std::string phase_status(const RayReport& r, const Phase& p, bool bold);
// SUMMARY.md below the verdict: run facts, phases, training, notes, collective timeout,
// [findings,] actors, ignored lines, problems. Without findings it opens with "## Run".
std::string markdown_sections(const RayReport& r, bool with_findings);

enum class FileKind { driver, worker, raylet, gcs, monitor };

struct InputFile {
  std::filesystem::path path;
  std::string display;
  FileKind kind = FileKind::driver;
  int64_t pid = -1;  // worker files: from `worker-<id>[-<job>]-<pid>.{out,err}`
  bool err = false;  // worker .err (else .out)
  int year = 0;      // from a stamp in the path, 0 when unknown (NCCL stamps need it)
  // Where discovery found it, for ordering the files of several partials as discover() orders
  // them (merge_partials): 0 a driver log, 1 a file of the session folder an input is (or holds
  // at logs/ or session_latest/logs/), 2 a file of a session folder found below an input, 3 a
  // file given alone; `dir` is the driver's folder or the session folder.
  int group = 0;
  std::filesystem::path dir;
  bool forced = false;  // given by name, read as a driver log though it does not look like one
  bool walked = false;  // a driver log found in a folder: the newest of its running_logs/
};

// One signature occurrence (a line, or a de-duplicated line that stands for several).
struct Hit {
  std::string kind;
  std::string severity;  // fatal | error | warning
  Evidence ev;
  std::optional<int64_t> t;
  std::string actor;
  int64_t pid = -1;
  std::string ip;
  int rank = -1;
  uint64_t count = 1;
  size_t file = 0;
  // The pid whose actor-table rank `rank` was taken from when the hit was made (-1: none, or the
  // rank came from the line). An earlier file may have named that rank: fold() resolves it.
  int64_t rank_pid = -1;
  bool in_worker_file = false;
  bool driver_own = false;  // printed by the driver process itself (no Ray prefix)
  std::string detail;       // Ray's exit detail, the NaN step
  std::string frame;        // innermost frame of the traceback that raised it
  std::string fix_key;
  // NCCL watchdog line (`Watchdog caught collective operation timeout`).
  bool watchdog = false;
  int64_t seq = -1;
  std::string op;
  int64_t timeout_ms = -1;
};

struct PhaseAcc {
  bool any = false;
  uint64_t count = 0;
  std::optional<int64_t> start_t;
  bool start_exact = false;
  Evidence first, last;
  std::optional<int64_t> last_t;
  // For fold(): whether `last` had a stamp, and the last marker without one (an unstamped
  // marker always becomes `last`; a stamped one only when not older than `last_t`).
  bool last_timed = false;
  std::optional<Evidence> last_untimed;
  std::optional<int64_t> done_t;
  std::optional<int64_t> all_done_t;
  // Latest state per bar (desc|pid): several engines each print their own shard bar.
  std::map<std::string, std::pair<Progress, std::optional<int64_t>>> bars;
};

struct ActorAcc {
  Actor a;
  std::optional<int64_t> last_t;
};

// What one worker-*.{err,out} file told.
struct WorkerAcc {
  size_t file = 0;
  int64_t pid = -1;
  std::string actor;
  int rank = -1;
  uint64_t lines = 0;
  std::optional<int64_t> last_t;
  Evidence last;
  bool watchdog = false;
  Evidence watchdog_ev;
};

struct ScanState {
  std::vector<InputFile> files;
  PhaseAcc phases[8];  // 1..7
  std::vector<Hit> hits;
  std::map<int64_t, ActorAcc> actors;
  std::vector<WorkerAcc> workers;
  std::optional<int64_t> first_t;     // oldest driver / worker line
  std::optional<int64_t> activity_t;  // newest driver / worker line (tqdm estimates included)
  std::optional<int64_t> system_t;    // newest raylet / gcs / monitor line
  std::string system_source;
  Evidence activity_ev, system_ev;
  bool finished = false;      // "Training completed!"
  bool bar_complete = false;  // the Training bar reached n == total
  Evidence finished_ev;
  uint64_t benign = 0;
  std::optional<Evidence> benign_first;
  int world_size = -1;
  uint64_t driver_lines = 0;
  std::optional<Progress> training;
  std::optional<int64_t> training_t;
  bool training_timed = false;               // `training` had a time (as PhaseAcc::last_timed)
  std::optional<Progress> training_untimed;  // the last Training bar without one
  std::vector<Problem> problems;
  // `Added N samples to controller` marks phase 1 only when no later phase was seen before it,
  // in this file or an earlier one. A file scanned alone that marked phase 1 with it keeps, in
  // `if_later`, its phases 1 and 7 as they would be had a later phase been seen before the file
  // (every such line in phase 7); fold() picks one of the two.
  bool added_early = false;
  PhaseAcc if_later[2];  // phase 1, phase 7 (without bars: those are the same either way)
};

// Reads one file into the state; an unreadable file adds a problem and keeps what was read.
// Scanning files 0..n-1 of one state in turn gives the same state as fold() of each file
// scanned alone (scan_one) in the same order.
void scan_file(ScanState& st, size_t index);

// One file scanned into a state of its own (`files` holds only it, indices are 0), its hits
// compacted.
ScanState scan_one(const InputFile& f);
// Folds a hit that repeats 8 earlier ones (all but its line, time and count) into the count of
// the last of them, unless it is earlier than all of them: the report does not change, and a
// file that repeats one error a million times keeps 8 hits, not a million.
void compact_hits(std::vector<Hit>& hits);
// Appends the state of one file scanned alone (scan_one) after the files already in `into`: the
// result is what scanning that file after them into `into` would have left (hits, workers, files
// in order; first-wins, last-wins, sums and extremes alike). `into.if_later` and
// `into.added_early` are left as they were: they only mean something in a one-file state.
void fold(ScanState& into, ScanState&& next);
// Names every evidence line and the system source of a one-file state after `display`.
void rename_file(ScanState& st, const std::string& display);

// A one-file state to JSON and back (partial_state / merge_partials); its evidence lines are
// named `display` when read. Reading throws std::runtime_error naming the key that is missing or
// of the wrong type, after `at` (where the value sits: "files[2].state").
nlohmann::json state_to_json(const ScanState& st);
ScanState state_from_json(const nlohmann::json& j, const std::string& display,
                          const std::string& at = "");
nlohmann::json file_to_json(const InputFile& f);
InputFile file_from_json(const nlohmann::json& j, const std::string& at = "");
const char* file_kind_name(FileKind k);

// analyze.cpp's pieces, shared with partial.cpp.
// `ignored_drivers`: the older driver logs of a running_logs/ (also in r.ignored).
void discover(const std::vector<std::filesystem::path>& inputs, ScanState& st, RayReport& r,
              std::vector<std::filesystem::path>* ignored_drivers = nullptr);
// The `YYYYmmdd_HHMMSS` in a driver log's name, by which the newest of a folder is chosen.
std::string newest_stamp(const std::filesystem::path& p);
// Scans st.files (each alone, folded in order).
void scan_all(ScanState& st);
// The decision over a scanned state: phases, findings, verdict, actors (r holds the discovery).
void decide(ScanState& st, RayReport& r, const Options& opt);
std::filesystem::path common_base(const std::vector<std::filesystem::path>& files,
                                  const std::vector<std::filesystem::path>& dirs);
// "running_logs/x.log": `abs` relative to `base` (else `given`).
std::string display_in(const std::filesystem::path& abs, const std::filesystem::path& base,
                       const std::string& given);
bool is_latest_session(const std::filesystem::path& p);

}  // namespace alog::ray::detail
