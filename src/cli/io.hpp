// Standard output and error for the command line: one place that knows a closed pipe ends the
// program quietly (status 0, like ripgrep) and that every error is one printable line.
#pragma once

#include <string>
#include <string_view>

namespace alog::cli {

void out(std::string_view s);           // stdout; EPIPE -> _Exit(0), other failures -> _Exit(2)
int error(const std::string& msg);      // "analyze-logs: MSG" on stderr; returns kExitError
// An error of several '\n'-separated lines (a message and the list it introduces): the first as
// error() prints it, the others as they are; each made printable. Returns kExitError.
int error_lines(const std::string& msg);
void warn(const std::string& msg);      // "analyze-logs: warning: MSG" on stderr

}  // namespace alog::cli
