// analyze_job in two steps: what each file of a job folder yields on its own (collect), and the
// report built from those per-file states (finish). analyze_job collects and finishes in one
// place; `analyze-logs partial` collects on each node (partial_state, partial.cpp) and `merge`
// finishes where the partials meet (merge_partials). Both go through the same finish code, so
// the report does not depend on where the files were read.
//
// What a file yields cannot depend on another file, and three things do: the clock (log.out's
// `date` says whether Dynamo's `...Z` stamps are local), the benchmark windows (benchmark.out and
// the result files) into which batch lines are folded, and the layout (v1 or v2, from which files
// sit where). So a scan keeps both readings of `...Z` stamps when the clock is unknown, and the
// buckets of its batch lines in the order BatchFolder folded them (replayed at finish into a
// folder given the job's windows), and a node reads both candidate bases (the folder and logs/).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "analyze_logs/srtctl.hpp"

namespace alog::srtctl::detail {

// One scan, with both readings of `...Z` stamps when the caller does not know the clock.
struct ClockedScan {
  LogScan scan;                // the clock given; unknown: `...Z` stamps are not local
  std::optional<LogScan> utc;  // unknown clock and the file has `...Z` stamps: they are local
  bool utc_stamps = false;     // the file has `...Z` stamps
};
// scan_log, with the clock possibly unknown (nullopt) and, when `record` is given, every batch
// bucket appended to it as BatchFolder folds it (BucketWriter's encoding).
ClockedScan scan_log_clocks(const std::filesystem::path& file, const std::string& rel,
                            const LogFileId& id, ScanMode mode, std::vector<Problem>& problems,
                            std::optional<bool> utc_is_local,
                            const std::vector<BenchWindow>& windows, std::vector<uint8_t>* record);

// Buckets as bytes: per bucket, varints (zigzag for signed) of the second and line as deltas from
// the previous bucket's, the rank, (field mask << 1 | decode), n, graph_false, graph_true, then per
// field present (count << 1 | single) and its value (single: sum, min and max are one number) or
// sum, min, max. A number is varint(zigzag(i) << 1) when it is an integer of at most 53 bits
// (and not -0), else 0x01 and the double's 8 bytes (little-endian): exact, and about 1 to 3 bytes
// for the counters that are most of a batch line.
class BucketWriter {
 public:
  void add(const BatchBucket& b, std::vector<uint8_t>& out);

 private:
  int64_t prev_t_ = 0;
  uint64_t prev_line_ = 0;
};
// Calls `f` per bucket, in order; throws std::runtime_error naming `what` on bytes BucketWriter
// did not write.
void read_buckets(std::span<const uint8_t> bytes, const std::string& what,
                  const std::function<void(const BatchBucket&)>& f);

// What each kind of file yields. Problems are the file's own, in the order analyze_job adds them.
struct JobJsonState {  // {job_id}.json: what read_job_json sets
  JobName job;
  std::string job_name, model, gpu_type;
  std::optional<int> gpus_per_node, prefill_nodes, decode_nodes, agg_nodes;
  std::optional<int64_t> isl, osl;
  std::vector<int64_t> requested_concurrencies;
  std::string request_rate;
  std::vector<Problem> problems;
};
struct LogOutState {
  Topology topology;
  std::vector<Problem> problems;
};
struct BenchOutState {
  BenchmarkLog log;
  std::vector<Problem> problems;
};
struct ResultState {  // one result JSON; its ISL/OSL come from its folder's name at finish
  std::optional<BenchRun> run;
  std::vector<Problem> problems;
};
struct SweepState {  // v2 sweep_*.log read for readiness
  bool polled = false, ready = false, timed_out = false;
  std::string ready_at;  // the first healthy line's stamp
  std::vector<Problem> problems;
};
struct ScanState {
  LogFileId id;
  ScanMode mode = ScanMode::worker;
  ClockedScan scan;
  // analyze_job: scan.batches was folded with the job's windows as it was read. Else `buckets`
  // holds the recorded buckets and scan.batches the figures that do not depend on the windows.
  bool folded = false;
  std::vector<uint8_t> buckets;
  std::vector<Problem> problems;
  std::optional<SweepState> sweep;
};

struct FileState {
  std::string path;  // relative to the job folder, as on the node ("logs/x_decode_w0.out")
  std::string host;  // merge: the host of the part that holds it
  std::string rel;   // the name the report uses: `path`, or `host:path` when two hosts hold it
  std::variant<JobJsonState, LogOutState, BenchOutState, ResultState, ScanState> state;
};

// A job folder's files, or the union of several parts' files.
struct Collected {
  std::string dir;               // as given
  std::string name;              // folder name
  bool top_files = false;        // log.out or benchmark.out directly in the folder
  bool logs_dir = false;         // the folder has logs/
  std::vector<FileState> files;  // by (path, host): the order analyze_job reads them in
};

// Everything a node can read of `dir` (both candidate bases; scans record their buckets and keep
// both clocks). Throws std::runtime_error when `dir` is not a folder.
Collected collect_partial(const std::filesystem::path& dir, const JobOptions& opt);
// The report over the collected files (the same as analyze_job over a folder holding them all).
JobReport finish(Collected& c, const JobOptions& opt);
// analyze_job's: `scan_here` scans the folder's log files once the windows and the clock are
// known, adding them to c.files; `is_dir` false gives the report of a path that is no folder.
using ScanHere = std::function<void(Collected&, const std::string& prefix,
                                    const std::vector<BenchWindow>&, bool utc)>;
JobReport finish(Collected& c, const JobOptions& opt, const ScanHere& scan_here, bool is_dir);
// Path order as std::filesystem::path compares (element by element): the order analyze_job
// lists a folder's files in.
bool path_less(const std::string& a, const std::string& b);
// Gives each file held by several hosts the name `host:path`, in every place the name is kept.
void rename_file(FileState& f, const std::string& rel);

}  // namespace alog::srtctl::detail
