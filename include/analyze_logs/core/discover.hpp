// Discovery: from what the user points us at (files, folders at any depth, `-`) to the jobs in it,
// each with its kind and the inputs that kind should read, plus every input that was skipped and
// why. The walker knows no kind: each kind is one row of a table of probes (src/cli/registry.cpp)
// that says which folders it reads whole, which folders of logs belong to one of its jobs, and
// which files are its own judging by their first bytes. A new kind is one more row.
//
// Files are judged by content (the first 64 KiB, decompressed), never by name or extension: a
// run's `orchestrator.out` is read, a `notes.txt` or a model file next to it is listed as skipped
// with the reason. Nothing is dropped silently; an argument where nothing is recognised gives an
// Unrecognised entry saying what was looked for and what the input looked like.
//
// Standard input: the head is sniffed without losing it. A kind that streams ("-" read by the
// kind itself) gets the sniffed bytes pushed back in front of standard input
// (input::push_back_stdin). A kind that reads files is given a copy of standard input in a
// temporary folder, `$TMPDIR/analyze-logs-stdin-XXXXXX/` (or DiscoverOptions::temp_dir), removed
// when the process exits normally.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/core/finding.hpp"

namespace alog::core {

struct KindProbe {
  std::string_view kind;  // "prime-rl", "srtctl", "ray"
  // What this kind looks for, for the "nothing recognised" message ("a folder with log.out and
  // benchmark.out (srtctl job)").
  std::string_view looks_for;
  // A folder this kind reads whole as one job (an srtctl job folder). May be empty.
  std::function<bool(const std::filesystem::path&)> claims_dir;
  // A folder of this kind's logs that is part of a job (a Ray session logs folder). May be empty.
  std::function<bool(const std::filesystem::path&)> claims_logs_dir;
  std::string_view logs_dir_role;  // role of such a folder ("session logs")
  // The role of a file from its first bytes ("driver log", "orchestrator log"); "" = not ours.
  // `file` is "-" for standard input; it may hint a role, never decide whether the file is ours.
  std::function<std::string(const std::filesystem::path& file, std::string_view head)> sniff;
  // The role of a text file whose head no probe claimed, from a read of the whole file; may be
  // empty. For kinds whose first recognisable line can come late (a vLLM server logs megabytes
  // of start-up before its first tagged line): a byte test fast enough to run over the file.
  std::function<std::string(const std::filesystem::path& file)> sniff_deep;
  // A role that starts a job of its own: a folder whose subfolders each hold one is several jobs
  // ("driver log" for Ray, "orchestrator log" for prime-rl). Empty: all of a kind's inputs under
  // one argument are one job.
  std::string_view anchor_role;
  // Standard input: "" = the kind reads "-" itself (streamed, sniffed bytes pushed back); else
  // the name of the file standard input is copied to in a temporary folder ("stdin.log").
  std::string_view stdin_file;
};

// What discovery read of one file: its first bytes' shape, and the kind that claimed it (by its
// head, or by a read of the whole text: sniff_deep). Computed from the file, or (`analyze-logs
// merge`) recorded by `analyze-logs partial` where the file was.
struct FileSeen {
  std::string unreadable;  // why it could not be read ("unreadable: ..." as the skip says); "" read
  size_t lines = 0;        // lines of the head
  bool empty = false, binary = false;
  std::string kind, role;  // the probe that claimed it; "" none
};

struct DiscoverOptions {
  size_t sniff_bytes = 64 * 1024;
  int max_depth = 24;              // folders below an argument
  size_t max_files = 100000;       // files sniffed per argument
  std::filesystem::path temp_dir;  // for copies of standard input; empty: the system's
  // When set, what is known of a file before it is read: a value is used as what the file
  // showed (`analyze-logs merge` walks a skeleton of empty files standing for several nodes'
  // files, and their heads were read where they were); nullopt reads the file.
  std::function<std::optional<FileSeen>(const std::filesystem::path&)> seen;
};

// Reads the head of `file` and asks the probes, as discovery does for every file it walks.
FileSeen see_file(const std::filesystem::path& file, std::span<const KindProbe> probes, const DiscoverOptions& opt);

struct DiscoveredJob {
  std::string kind;
  std::string name;                // the folder the user will recognise, relative to the argument
  std::string root;                // the folder (or file, or "-") that holds the job
  std::vector<std::string> files;  // files to read (claimed by sniffing), in walk order
  std::vector<std::string> dirs;   // folders to read whole (job folders, session logs folders)
  std::vector<InputEntry> inputs;  // files and dirs as read, plus this job's skipped inputs
  std::vector<std::string> notes;  // what discovery decided that a person should know
};

struct Unrecognised {
  std::string argument;
  std::string looked_for;   // "prime-rl logs (...); srtctl job folders (...); ..."
  std::string looked_like;  // "a folder of 3 files (2 text, 1 binary), ... none recognised"
};

struct Discovery {
  std::vector<DiscoveredJob> jobs;  // in argument order, then by kind (table order), then path
  std::vector<Unrecognised> unrecognised;  // one per argument in which nothing was recognised
  // Inputs that belong to no job and were not read, with the reason. (Inputs of a job that were
  // not read, such as an older Ray session, are in that job's `inputs` with read = false.)
  std::vector<InputEntry> skipped;
  std::vector<std::string> notes;  // limits reached, links followed
};

// A missing or unreadable argument. what() is one line naming it ("runs/x: No such file or
// directory").
class DiscoverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Discovery discover(const std::vector<std::string>& args, std::span<const KindProbe> probes,
                   const DiscoverOptions& opt = {});

// The first `max` bytes of a file, decompressed when it is .gz/.zst (by content). Throws
// input::InputError when it cannot be opened; a stream that breaks part-way gives what came
// before the break.
std::string read_head(const std::filesystem::path& file, size_t max);

// Deletes the temporary copies of standard input made so far (also run at exit).
void remove_stdin_copies();

}  // namespace alog::core
