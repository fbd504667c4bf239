// Running the analyze-logs binary under test as a child process, with standard output and
// standard error as pipes (the CLI tests that check exit statuses, stdout and stderr).
#pragma once

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace alog::test_support {

// The binary under test: $ALOG_TEST_BINARY, else the analyze-logs of this build.
inline std::filesystem::path binary_under_test() {
  if (const char* b = std::getenv("ALOG_TEST_BINARY"); b && *b) return b;
  return ALOG_BINARY;  // set by CMake, which builds it before these tests
}

struct ChildOutcome {
  int status = -1;  // exit status, or 128 + the signal
  std::string out, err;
};

inline std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (auto& a : args) v.push_back(a.data());
  v.push_back(nullptr);
  return v;
}

inline int wait_status(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Runs args (args[0] the program) with stdout and stderr as pipes, read until both close (or two
// minutes without output). `in_child` runs in the child before exec (e.g. to set its environment).
inline ChildOutcome run_piped(std::vector<std::string> args, const std::function<void()>& in_child = {}) {
  int out[2], err[2];
  if (::pipe(out) != 0 || ::pipe(err) != 0) return {};
  auto argv = argv_of(args);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::close(out[0]);
    ::close(err[0]);
    if (in_child) in_child();
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  ChildOutcome r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0 && ::poll(fds, 2, 120000) > 0) {
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n > 0) {
        (k == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else {
        ::close(fds[k].fd);
        fds[k].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  r.status = wait_status(pid);
  return r;
}

}  // namespace alog::test_support
