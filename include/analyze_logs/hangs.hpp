// Which rank hung, and where: reads what a hung distributed job leaves behind (py-spy and
// faulthandler stack dumps, PyTorch Flight Recorder dumps, torchrun's ChildFailedError table and
// error.json files, ProcessGroupNCCL watchdog lines, ncclras output, gloo monitoredBarrier
// errors), wherever they sit: a folder of dumps, per-rank logs, or one SLURM console file where
// ranks interleave behind `srun --label` and torchrun `[defaultN]:`/`[rankN]:` prefixes.
//
// Why a module of its own: when a job hangs every rank but one waits in a collective and every
// one of them reports the timeout, so the loudest lines name the wrong ranks. The rank to look at
// is the one that never arrived, and it usually says nothing. This module collects the quiet
// evidence (sequence numbers, missing dumps, RAS counters, the one stack that differs), maps every
// artifact to a global rank, host and pid, and decides the culprit with its confidence, or says
// what it cannot decide. The formats are in ../shared/FORMATS-hangs.md; the decision in
// docs/HANGS.md.
//
// Flight Recorder pickles are read by a decoder of exactly the pickle subset torch's C++ writer
// emits (plus the few opcodes Python uses when re-saving one). Anything else, class loading
// above all, is refused with a PickleError; nothing in a pickle is ever executed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/core/finding.hpp"
#include "analyze_logs/core/partial.hpp"
#include "analyze_logs/core/job.hpp"

namespace alog::hangs {

// ---- Flight Recorder ---------------------------------------------------------------------------

class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Decodes a pickle of the Flight Recorder subset into JSON (tuples become arrays, integer dict
// keys become strings). Throws PickleError naming the offset and the opcode for anything outside
// the subset, a truncated stream, or a document that shares objects into more than
// `max_values` values (a bound on what a small hostile file can expand into).
nlohmann::json read_pickle(std::string_view bytes, size_t max_values = 1'000'000);

struct Frame {
  std::string func;
  std::string file;
  int64_t line = 0;         // 0: unknown (a native frame)
  std::string str() const;  // "func (file:line)"
};

struct FrEntry {
  std::string pg;       // the process group's name (GUID) as the dump gives it, "" when absent
  std::string pg_desc;  // "default_pg", the user's description, ""
  int64_t pg_id = -1;
  int64_t seq = -1;  // collective_seq_id (or seq_id in the oldest dumps)
  int64_t p2p_seq = -1;
  bool is_p2p = false;
  std::string op;     // profiling_name: "nccl:all_reduce"
  std::string state;  // scheduled, started, completed
  bool retired = false;
  int64_t timeout_ms = -1;
  std::string input_sizes;  // as JSON text: "[[1571911]]"
  std::string output_sizes;
  std::string dtypes;         // "Float" ...
  std::vector<Frame> frames;  // innermost first
};

struct FrGroup {
  std::string name;  // pg_config key
  std::string desc;
  std::vector<int> ranks;                           // global ranks; empty when the dump did not say
  int64_t last_enqueued = -1, last_completed = -1;  // pg_status, -1 when absent
};

struct FrDump {
  std::string file;
  int rank = -1;        // from the file name (`…rank_3`, `rank_3.json`, trailing digits)
  std::string format;   // "pickle", "json"
  std::string version;  // "2.10", "" for the oldest (a bare list)
  std::string error;    // why it could not be read (truncated, refused); the rest is empty
  std::vector<FrGroup> groups;
  std::vector<FrEntry> entries;
};

// A dump's decoded document (pickle or JSON) read by key presence across schema versions.
FrDump fr_from_json(const nlohmann::json& doc);
// Reads a Flight Recorder file (pickle, or JSON by its first byte); never throws on content.
FrDump read_fr_file(const std::filesystem::path& file, std::string display);
// A head that is a Flight Recorder dump (pickle protocol 2 opening, or FR JSON keys).
bool is_fr_head(std::string_view head);

// ---- Stacks ------------------------------------------------------------------------------------

struct Thread {
  std::string id;      // py-spy tid, faulthandler 0x… pthread id
  std::string name;    // "MainThread", "" when unknown
  std::string status;  // idle, active, active+gil; "current" for faulthandler's faulting thread
  bool main = false;
  std::vector<Frame> frames;  // innermost first
};

struct StackDump {
  std::string source;  // "py-spy", "faulthandler"
  std::string file;
  uint64_t line = 0;  // where the dump starts
  int64_t pid = -1;
  int rank = -1;          // global rank, -1 when unmapped
  std::string rank_from;  // how the rank was known: "[rank3] prefix", "file name", "pid 48213
                          // (torchrun table)"
  std::string header;     // "Timeout (0:15:00)!", "Process 48213: python train.py"
  std::vector<Thread> threads;
  const Thread* main_thread() const;
};

// ---- Lines -------------------------------------------------------------------------------------

// The prefixes of one console line, outermost first, and what is left.
struct Prefixed {
  int task = -1;         // `srun --label` task: "1: "
  int local_rank = -1;   // torchrun `[default3]:`
  int rank = -1;         // `[rank3]:`, the global rank
  int64_t ray_pid = -1;  // Ray's `(TrainerActor pid=514317, ip=10.0.0.1) ` on a driver's output
  std::string_view ray_ip;
  std::string_view rest;
};
Prefixed strip_prefixes(std::string_view line);

// A watchdog or TorchElastic line, decoded.
struct WatchLine {
  enum class Kind {
    timeout,       // Watchdog caught collective operation timeout: WorkNCCL(SeqNum=…)
    status,        // … at work: N, last enqueued NCCL work: E, last completed NCCL work: C
    dump_signal,   // Received a dump signal … from  rank N … Last enqueued NCCL work: E, …
    first_signal,  // First PG on this rank to signal dumping
    stack,    // "#0 all_reduce from …/distributed_c10d.py:3174" after "Stack trace of the failed
              // collective"
    barrier,  // Rank N failed to pass monitoredBarrier in T ms
    abort,    // DistBackendError, terminate called, Some NCCL operations have failed
    sigterm,  // torchrun agent: Sending process P closing signal SIGTERM
  };
  Kind kind = Kind::timeout;
  int rank = -1;     // the reporting process's global rank
  std::string pg;    // "0(default_pg)", "PG 3", "" when the line did not say
  int64_t seq = -1;  // timed-out work
  int64_t enqueued = -1, completed = -1;
  std::string op;  // ALLREDUCE
  int64_t numel_in = -1, numel_out = -1, timeout_ms = -1;
  int other = -1;    // dump signal from rank N; barrier: the rank that failed to pass
  int64_t pid = -1;  // sigterm
  Frame frame;       // stack
  core::Evidence ev;
};

struct TableRow {  // one failure of a torchrun ChildFailedError table
  int rank = -1, local_rank = -1;
  std::string host;
  int64_t pid = -1;
  int exitcode = 0;
  bool root_cause = false;  // under "Root Cause (first observed failure)"
  std::string traceback;
  core::Evidence ev;
};

struct RasRank {  // "Rank 3 has launched up to operation 16870 -- GPU 3 managed by process 48213 on
                  // node 10.64.3.7"
  int rank = -1;
  int64_t ops = -1;
  int64_t majority_ops = -1;  // "7 ranks have launched up to operation 16871"
  std::string op;             // "AllGather"
  int64_t pid = -1;
  std::string node;
  core::Evidence ev;
};

struct Identity {  // what is known about one global rank
  std::string host;
  int64_t pid = -1;
  std::vector<std::string> sources;  // where each fact came from
};

// ---- The analysis ------------------------------------------------------------------------------

struct StackGroup {
  std::vector<int> ranks;          // ranks with this main-thread stack (unmapped dumps as -1)
  std::vector<std::string> files;  // their dump files
  std::vector<Frame> frames;       // innermost first
  bool in_collective = false;      // a torch.distributed frame is on it
};

// A rank dumped more than once (collectors append a snapshot every few minutes): whether its
// main thread moved between the first and the last. Unchanged: it is stuck there. Moved: it runs
// (a loop that never reaches the collective, a slow step), and its stack is a moment of it.
struct Snapshots {
  int rank = -1;
  size_t count = 0;
  bool moved = false;
  std::vector<Frame> first, last;  // main thread, innermost first
  core::Evidence first_ev, last_ev;
};

struct Collective {
  std::string op, pg;
  int64_t seq = -1;
  std::string sizes;
  int64_t timeout_ms = -1;
  std::string
      call_site;  // innermost user-visible frame of the waiters (FR frames or the stack line)
  std::vector<Frame> frames;  // the waiters' call stack as FR or the watchdog gives it
  std::vector<int> waiting;   // ranks that enqueued it (or reported its timeout)
  core::Evidence ev;
};

struct Suspect {
  int rank = -1;
  std::vector<std::string> evidence_kinds;  // "sequence numbers", "flight recorder", "missing
                                            // dump", "ras", "barrier message", "stack outlier"
  std::vector<core::Evidence> evidence;
};

struct HangReport {
  std::string base;   // folder the displayed paths are relative to
  bool hang = false;  // any sign of a hang at all
  bool nccl = false;  // SeqNum / Flight Recorder evidence (false: a gloo barrier, a plain stall)
  int world_size = -1;
  std::vector<int> culprits;
  std::string confidence;              // "high", "medium", "low", "" when undecided
  std::vector<std::string> undecided;  // what could not be decided, one sentence each
  std::vector<Suspect> suspects;
  std::optional<Collective> collective;
  std::map<int, Identity> ranks;
  std::vector<std::string> ambiguities;  // mappings that were not certain
  std::vector<int> without_dump;   // ranks of the PG with no Flight Recorder dump (when any exist)
  std::vector<int> without_stack;  // ranks with no stack dump (when any exist)
  std::vector<StackGroup> groups;  // main-thread stacks grouped, largest group first
  std::vector<Snapshots> snapshots;  // ranks dumped more than once, by rank
  size_t common_threads_omitted = 0;   // threads identical on every rank, left out
  std::vector<Frame> culprit_frames;   // the culprit's main thread, innermost first
  std::vector<Frame> culprit_differs;  // its frames below where it parts from the majority
  std::string culprit_stack_file;
  std::vector<StackDump> dumps;
  std::vector<FrDump> fr;
  std::vector<WatchLine> lines;
  std::vector<TableRow> table;
  std::vector<RasRank> ras;
  std::vector<core::Finding> not_cause;  // first reporter, torchrun root cause, aborts
  std::vector<std::string> files;        // inputs read
  std::vector<std::pair<std::string, std::string>> problems;  // file, message
  uint64_t lines_read = 0;
};

// Reads every file (a folder is walked) and decides.
HangReport analyze(const std::vector<std::filesystem::path>& inputs);
// The head of a text file holds a hang artifact (a stack dump, watchdog/TorchElastic lines, RAS).
bool is_hang_head(std::string_view head);
// Whether the last `bytes` of a plain (uncompressed) file hold a hang marker (is_hang_head's, or
// SGLang's `Pyspy dump for PID`): the cheap test a kind whose own scan skips untagged lines (a
// prime-rl run) makes before reading a log again for hang artifacts. A hung process stops
// writing, so what it left (the watchdog lines, the dumps, the abort) is at the end of its log.
// One pread(2) per file; false for a file that cannot be opened or read, and for anything but a
// regular file (a named pipe is never opened: it would block).
bool tail_has_hang_marker(const std::filesystem::path& file, size_t bytes = size_t{1} << 20);
// A report worth attaching to another kind's job: it holds a hang's evidence (watchdog or
// barrier lines, Flight Recorder dumps, RAS counters, py-spy dumps or faulthandler timeout
// dumps), not only a crash's faulthandler dump or the abort lines that follow one.
bool has_hang_evidence(const HangReport& r);

// ---- Where the logs live (`analyze-logs partial` / `merge`) -----------------------------------
// On a node: each file under `inputs` with what it gave (its dump, its facts), before anything is
// decided, as JSON (the caller stores it as CBOR). No log text but the evidence lines.
nlohmann::json partial_state(const std::vector<std::filesystem::path>& inputs);
// Where the partials meet: the report analyze(inputs) would give over every part's files read in
// one place. `inputs`: the inputs of that one analysis, in order (a file goes with the input it
// was found under). A file two hosts hold under one path is two files, named `host:path`. Throws
// std::runtime_error naming what is wrong in a state that is not one partial_state wrote.
HangReport merge_partials(const std::vector<std::string>& inputs, const std::vector<core::PartState>& parts);

core::Header header(const HangReport& r);
std::unique_ptr<core::Body> make_body(const HangReport& r);
nlohmann::ordered_json to_json(const HangReport& r);
// The answer in one screen, for the terminal body: culprit, host, pid, what it was doing.
std::string frames_line(const std::vector<Frame>& frames, size_t max);  // "wait ← get ← …"

}  // namespace alog::hangs
