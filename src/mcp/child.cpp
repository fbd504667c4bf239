// A child analysis: this binary run with --json --no-folder, in its own process group, so that a
// cancelled or overdue call, or the server's end, stops all of it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "internal.hpp"

extern char** environ;

namespace alog::mcp {

void Call::cancel() {
  cancelled = true;
  std::lock_guard lk(mu);
  for (pid_t p : children) ::kill(-p, SIGTERM);
}

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

ChildResult run_child(const std::string& exe, const std::vector<std::string>& args, Call& call,
                      double timeout_s, size_t max_out) {
  ChildResult r;
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    close_fd(out_pipe[0]);
    close_fd(out_pipe[1]);
    r.err = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  // Its own process group (killed as one), no blocked signals, default dispositions for the ones
  // this server blocks or ignores.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &defaults);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv_s;
  argv_s.push_back(exe);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc;
  {
    // Registered under the lock so that a cancel() racing with the spawn kills it.
    std::lock_guard lk(call.mu);
    rc = call.cancelled ? ECANCELED : ::posix_spawn(&pid, exe.c_str(), &fa, &at, argv.data(), environ);
    if (rc == 0) call.children.push_back(pid);
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (rc != 0) {
    close_fd(out_pipe[0]);
    close_fd(err_pipe[0]);
    r.cancelled = rc == ECANCELED;
    r.err = rc == ECANCELED ? std::string("cancelled") : std::string(exe) + ": " + std::strerror(rc);
    return r;
  }
  double start = now_s(), killed_at = 0;
  char buf[65536];
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out_pipe[0] >= 0) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_pipe[0] >= 0) fds[n++] = {err_pipe[0], POLLIN, 0};
    int pr = ::poll(fds, n, 100);
    if (pr < 0 && errno != EINTR) break;
    for (nfds_t i = 0; pr > 0 && i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      bool is_out = fds[i].fd == out_pipe[0];
      if (got <= 0) {
        close_fd(is_out ? out_pipe[0] : err_pipe[0]);
        continue;
      }
      std::string& dst = is_out ? r.out : r.err;
      size_t cap = is_out ? max_out : size_t{65536};
      size_t keep = std::min(static_cast<size_t>(got), cap - std::min(cap, dst.size()));
      dst.append(buf, keep);
      if (is_out && keep < static_cast<size_t>(got)) r.out_truncated = true;
    }
    double t = now_s();
    if (!killed_at) {
      if (call.cancelled) r.cancelled = true;
      if (t - start > timeout_s) r.timed_out = true;
      if (r.cancelled || r.timed_out || r.out_truncated) {
        ::kill(-pid, SIGTERM);
        killed_at = t;
      }
    } else if (t - killed_at > 2) {
      ::kill(-pid, SIGKILL);  // it had two seconds to clean up after itself
      killed_at = t + 1e9;
    }
  }
  close_fd(out_pipe[0]);
  close_fd(err_pipe[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  {
    std::lock_guard lk(call.mu);
    call.children.erase(std::remove(call.children.begin(), call.children.end(), pid), call.children.end());
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (call.cancelled) r.cancelled = true;
  return r;
}

}  // namespace alog::mcp
