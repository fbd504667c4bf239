// The command line: parses options with CLI11, picks the analysis for the inputs (prime-rl logs,
// an srtctl job folder, a Ray job), writes the report folder and prints the summary.
#pragma once

namespace alog {

// Exit statuses (documented in README and --help):
constexpr int kExitOk = 0;          // the analysis ran (whatever it found)
constexpr int kExitCheckFailed = 1; // an --expect failed, a --fail-on diagnosis, or a regression
constexpr int kExitError = 2;       // usage error, unreadable input, unwritable --out

int run_cli(int argc, char** argv);

}  // namespace alog
