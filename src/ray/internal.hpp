// Private to the Ray module: the scan accumulator that scan.cpp fills from the files and
// analyze.cpp turns into a RayReport. Everything time-like is milliseconds on the logs' civil
// clock (see ray.hpp).
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <filesystem>
#include <map>
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
  std::vector<Problem> problems;
};

// Reads one file into the state; an unreadable file adds a problem and keeps what was read.
void scan_file(ScanState& st, size_t index);

}  // namespace alog::ray::detail
