// Standard output and error for the command line: one place that knows a closed pipe ends the
// program quietly (status 0, like ripgrep) and that every error is one printable line.
#pragma once

#include <string>
#include <string_view>

#include "analyze_logs/core/finding.hpp"

namespace alog::cli {

void out(std::string_view s);           // stdout; EPIPE -> _Exit(0), other failures -> _Exit(2)
int error(const std::string& msg);      // "analyze-logs: MSG" on stderr; returns kExitError
// An error of several '\n'-separated lines (a message and the list it introduces): the first as
// error() prints it, the others as they are; each made printable. Returns kExitError.
int error_lines(const std::string& msg);
void warn(const std::string& msg);      // "analyze-logs: warning: MSG" on stderr
// A warning on stderr for each input of the header that was read only in part or not at all, in
// every output mode (the report says it too; stderr is where a script or a person looks first).
void warn_inputs(const core::Header& h);

}  // namespace alog::cli
