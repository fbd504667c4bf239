// The MCP server's parts: a call's cancellation state, the child analysis it runs, the tools.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <climits>
#include <optional>
#include <string_view>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze_logs/mcp.hpp"
#include "analyze_logs/ray.hpp"

namespace alog::mcp {

using json = nlohmann::json;

// A file's clock, line by line: the stamp a line carries, else the last one before it; NCCL's
// year-less stamps take the year of the file's stamps before them (grep's windows, trace's lines).
class LineClock {
 public:
  std::optional<int64_t> see(std::string_view line) {
    if (auto t = ray::parse_stamp_ms(line, year_)) {
      // The year is worked out again only when the day changes, not on every line.
      int64_t day = *t >= 0 ? *t / 86400000 : (*t - 86399999) / 86400000;
      if (day != day_) {
        day_ = day;
        year_ = std::stoi(ray::format_civil(*t).substr(0, 4));
      }
      stamp_ = t;
    }
    return stamp_;
  }
  int year() const { return year_; }

 private:
  std::optional<int64_t> stamp_;
  int64_t day_ = INT64_MIN;
  int year_ = 0;
};

// One tools/call in flight: cancelled by notifications/cancelled or the server's end; the child
// it runs (one at a time; -1 when none) is killed with its process group.
struct Call {
  std::atomic<bool> cancelled{false};
  std::mutex mu;
  std::vector<pid_t> children;
  void cancel();  // sets `cancelled` and kills the children's process groups
};

struct ChildResult {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
  bool cancelled = false, timed_out = false, out_truncated = false;
};

// Runs `exe args...` with standard input /dev/null, in a process group of its own, its output
// collected (at most max_out bytes of standard output, 64 KiB of standard error).
ChildResult run_child(const std::string& exe, const std::vector<std::string>& args, Call& call,
                      double timeout_s, size_t max_out = size_t{256} << 20);

// A tool's answer: text for the model, structured content for programs; `error` sets isError.
struct ToolResult {
  bool error = false;
  std::string text;
  json structured;  // an object, or null for none
};

json tool_list();
// Runs tool `name` on `args`; throws std::out_of_range for an unknown tool (a JSON-RPC error).
ToolResult call_tool(const std::string& name, const json& args, const Roots& roots, const Config& cfg, Call& call);

}  // namespace alog::mcp
