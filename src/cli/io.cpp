#include "io.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "analyze_logs/cli.hpp"
#include "analyze_logs/util.hpp"

namespace alog::cli {

void out(std::string_view s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0) {
    if (errno == EPIPE) std::_Exit(kExitOk);
    std::fprintf(stderr, "analyze-logs: cannot write to standard output: %s\n", std::strerror(errno));
    std::_Exit(kExitError);
  }
}

int error(const std::string& msg) {
  std::fprintf(stderr, "analyze-logs: %s\n", printable(msg).c_str());
  return kExitError;
}

int error_lines(const std::string& msg) {
  size_t end = msg.find('\n');
  error(msg.substr(0, end));
  while (end != std::string::npos) {
    size_t start = end + 1;
    end = msg.find('\n', start);
    std::fprintf(stderr, "%s\n", printable(msg.substr(start, end - start)).c_str());
  }
  return kExitError;
}

void warn(const std::string& msg) {
  std::fprintf(stderr, "analyze-logs: warning: %s\n", printable(msg).c_str());
}

void warn_inputs(const core::Header& h) {
  for (const auto& f : h.findings) {
    if (f.id == "input_partial" || f.id == "input_unreadable") {
      warn(f.summary);
    } else if (f.id == "file_problems") {  // srtctl and Ray: one line per file (the first 8)
      for (const auto& e : f.evidence) {
        // The message may name the file already.
        if (e.file.empty() || std::string_view(e.text).starts_with(e.file)) warn(e.text);
        else warn(fmt::format("{}: {}", e.file, e.text));
      }
    }
  }
}

}  // namespace alog::cli
