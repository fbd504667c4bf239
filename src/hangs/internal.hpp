// What one input gave the hang analysis before anything is decided (lines.cpp fills it, analyze.cpp
// decides over all of them).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "analyze_logs/hangs.hpp"

namespace alog::hangs::detail {

struct PidFact {  // pid (and host) of a global rank, and who said so
  int rank = -1;
  int64_t pid = -1;
  std::string host;
  std::string source;  // "torchrun table", "RAS", "NCCL init line"
  int nranks =
      -1;  // NCCL init: the communicator's size (only the world communicator maps global ranks)
};

struct Facts {
  std::vector<StackDump> dumps;
  std::vector<WatchLine> lines;
  std::vector<TableRow> table;
  std::vector<RasRank> ras;
  std::vector<PidFact> ids;
  std::vector<std::pair<std::string, std::string>> problems;
  std::vector<std::string> ambiguities;  // mappings a line left uncertain (said in the report)
  uint64_t lines_read = 0;
};

// What one file gave, before anything is decided: analyze() reads each file into one, and
// `analyze-logs merge` gets them from the partials (partial.cpp) of the nodes that held them.
struct FilePart {
  enum What { kNone, kFr, kFacts, kUnreadable };  // none: empty, or binary and not a dump
  std::string path, display;
  What what = kNone;
  FrDump fr;
  Facts facts;          // a text file or a torchrun error.json
  std::string problem;  // unreadable: why
};
FilePart read_file(const std::filesystem::path& path, const std::string& display);
// The files under the inputs in the order analyze() reads them (a folder walked, sorted), and
// what the walk could not list.
std::vector<std::pair<std::filesystem::path, std::string>> walk_inputs(
    const std::vector<std::filesystem::path>& inputs, std::vector<std::pair<std::string, std::string>>& problems);
// The decision over every file's part, in file order.
HangReport decide(std::vector<FilePart> parts, std::vector<std::pair<std::string, std::string>> walk_problems);

// Reads one text file (plain, .gz, .zst) line by line; `display` names it in evidence.
void scan_text(const std::string& path, const std::string& display, Facts& out);
// A torchrun error.json (its `message` read for the barrier and exception lines).
void scan_error_json(const std::string& path, const std::string& display, Facts& out);
// The rank a file's name gives (`rank3`, `rank_3`, `rank-3`), -1 when none.
int rank_from_name(std::string_view name);
// The TP and PP ranks of an SGLang logger prefix at the start of a line (`[2025-04-03 20:06:34
// DP1 TP2 EP2] …`), -1 when absent.
struct SglangRank {
  int tp = -1, pp = -1;
};
SglangRank sglang_rank(std::string_view line);

}  // namespace alog::hangs::detail

namespace alog::hangs {
// "0-2, 4-7"
std::string rank_list_of(const std::vector<int>& v);
}  // namespace alog::hangs
