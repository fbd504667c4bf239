#include "analyze_logs/core/interrupt.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

namespace alog::interrupt {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Never destroyed: the signal thread may use them while static destructors run at exit.
std::mutex& mu() {
  static auto* m = new std::mutex;
  return *m;
}
std::vector<std::pair<uint64_t, std::function<void()>>>& cleanups() {
  static auto* v = new std::vector<std::pair<uint64_t, std::function<void()>>>;
  return *v;
}
uint64_t g_next_id = 1;  // under mu()
std::atomic<int> g_pending{0};
std::atomic<int> g_graceful_fd{-1};  // --follow: the first signal only asks the loop to stop
std::atomic<int> g_requested{0};

extern "C" void exit_at_once(int sig) { ::_exit(128 + sig); }

[[noreturn]] void handle(int sig, const sigset_t& set) {
  g_pending = sig;
  struct sigaction sa{};
  sa.sa_handler = exit_at_once;
  sigemptyset(&sa.sa_mask);
  for (int s : kSignals)
    if (::sigismember(&set, s) == 1) ::sigaction(s, &sa, nullptr);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);  // this thread takes the next one, at once
  mu().lock();  // never unlocked: no report folder is committed after this point
  auto& list = cleanups();
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    try {
      it->second();
    } catch (...) {
      // A cleanup that fails must not keep the others from running.
    }
  }
  ::_exit(128 + sig);
}

}  // namespace

void install() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kSignals) {
      // A signal ignored when we start stays ignored (as GNU sort and CPython do): `nohup` ignores
      // SIGHUP, and a non-interactive shell's `cmd &` ignores SIGINT, for the job to outlive them.
      // Blocking it would make it pending again and let sigwait take it.
      struct sigaction old{};
      if (::sigaction(s, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
      sigaddset(&set, s);
    }
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      for (;;) {
        int sig = 0;
        if (::sigwait(&set, &sig) != 0) continue;
        int fd = g_graceful_fd.load();
        if (fd >= 0 && g_requested.load() == 0) {
          g_requested = sig;
          uint64_t one = 1;
          [[maybe_unused]] ssize_t w = ::write(fd, &one, sizeof one);  // an eventfd: wakes the loop
          continue;
        }
        handle(sig, set);
      }
    }).detach();
  });
}

int pending() { return g_pending.load(); }

void graceful(int wake_fd) { g_graceful_fd = wake_fd; }

int requested() { return g_requested.load(); }

std::unique_lock<std::mutex> hold() { return std::unique_lock<std::mutex>(mu()); }

Cleanup::Cleanup(std::function<void()> fn) {
  std::lock_guard lock(mu());
  id_ = g_next_id++;
  cleanups().emplace_back(id_, std::move(fn));
}

Cleanup::~Cleanup() {
  std::lock_guard lock(mu());
  auto& list = cleanups();
  for (auto it = list.begin(); it != list.end(); ++it)
    if (it->first == id_) {
      list.erase(it);
      break;
    }
}

}  // namespace alog::interrupt
