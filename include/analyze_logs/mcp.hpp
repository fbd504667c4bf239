// `analyze-logs mcp ROOT...`: the Model Context Protocol on standard input and output (JSON-RPC 2.0,
// one message a line), for coding agents. Four tools: analyze, trace, compare, grep
// (docs/MCP.md). Every path a client names is confined to the roots given on the command line.
//
// analyze, trace and compare run this same binary as a child process (`--json --no-folder`), in
// a process group of its own: a cancelled call, a call past its time limit or the server's end
// kills the group, and a crash in an analysis is an error result, never the server's end. grep
// runs in the server: RE2 (linear time, a bounded program), a bounded number of lines and bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace alog::mcp {

struct Config {
  std::vector<std::string> roots;  // as given on the command line (at least one)
  std::string exe;                 // the analyze-logs binary the analyses run as
  std::string version;             // serverInfo.version
  double call_timeout_s = 600;     // a tool call longer than this is stopped: an error result
  unsigned max_parallel = 2;       // tool calls running at once; more wait their turn
};

// Serves until `in_fd` ends (the client closed it) and the calls in flight have been answered;
// returns the exit status (0). Throws std::invalid_argument naming a root that does not exist.
int serve(int in_fd, int out_fd, const Config& cfg);

// The roots, canonical, and the one check every path goes through.
class Roots {
 public:
  // Throws std::invalid_argument ("ROOT: No such file or directory") for a root that is missing.
  explicit Roots(const std::vector<std::string>& roots);
  // A path a client gave: relative to the first root when not absolute, made canonical (symbolic
  // links resolved), and inside a root. A folder's own tree is walked (at most `max_entries`
  // entries): a symbolic link in it that leads outside every root makes the whole path refused,
  // since an analysis of the folder would follow it (grep, which follows none, passes
  // check_links = false). nullopt with `why` set when refused.
  std::optional<std::filesystem::path> resolve(const std::string& path, std::string& why,
                                               bool check_links = true, size_t max_entries = 200000) const;
  bool inside(const std::filesystem::path& canonical) const;
  const std::vector<std::filesystem::path>& list() const { return roots_; }

 private:
  std::vector<std::filesystem::path> roots_;
};

// grep: lines matching an RE2 pattern in the files under `paths` (already resolved), optionally
// only those stamped within [since_ms, until_ms] (the logs' civil clock; a line without a stamp
// has its file's last stamp before it; lines before a file's first stamp are outside any window).
struct GrepOptions {
  std::string pattern;
  bool ignore_case = false;
  std::vector<std::filesystem::path> paths;
  std::optional<int64_t> since_ms, until_ms;
  size_t max_lines = 100;            // matches returned; the rest are counted
  uint64_t max_bytes = uint64_t{16} << 30;  // bytes read (decompressed) before stopping
  size_t max_files = 100000;
  const std::atomic<bool>* cancel = nullptr;
};
struct GrepMatch {
  std::string file;
  uint64_t line = 0;
  std::string text;  // at most 2,000 bytes, made valid UTF-8
  std::optional<int64_t> time_ms;
};
struct GrepResult {
  std::vector<GrepMatch> matches;
  uint64_t total = 0;  // every match, shown or not
  uint64_t files = 0, bytes = 0;
  std::vector<std::pair<std::string, std::string>> skipped;  // file, why (binary, unreadable, ...)
  bool stopped_at_bytes = false, stopped_at_files = false, cancelled = false;
};
// Throws std::invalid_argument for a pattern RE2 rejects, or one too large (its program would
// need more than a few MiB): the message says which.
GrepResult grep(const GrepOptions& opt);

// "2026-03-13 10:48:40" (or with 'T', fractions allowed) -> milliseconds on the civil clock.
std::optional<int64_t> parse_when(const std::string& s);

}  // namespace alog::mcp
