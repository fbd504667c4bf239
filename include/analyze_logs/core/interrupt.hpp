// Interruption (SIGINT, SIGTERM, SIGHUP) handled the async-signal-safe way.
//
// install() blocks the three signals in the calling thread before any other thread exists (every
// thread inherits the mask) and starts one thread that waits for them with sigwait(2). No signal
// handler ever runs in the middle of the analysis, so nothing is interrupted inside malloc or a
// lock. When a signal arrives, that thread (an ordinary thread, free to allocate and take locks):
//   1. makes any further SIGINT/SIGTERM/SIGHUP end the process at once (a handler that only calls
//      _exit, which is async-signal-safe): a second Ctrl-C never waits for the cleanup;
//   2. takes the interrupt lock, so no report folder can be renamed into place from then on, and
//      runs the registered cleanups (newest first): the staging folder, the copies of stdin;
//   3. ends the process with _exit(128 + signal): 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
// The other threads are never stopped one by one: _exit ends them all, wherever they are.
// A signal already ignored when install() runs (SIGHUP under nohup, SIGINT in a background job of a
// non-interactive shell) is left ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

namespace alog::interrupt {

// Call once, early in main, before any thread is started. Later calls do nothing.
void install();

// The signal being handled, or 0.
int pending();

// --follow: from now on the first signal does not end the process. It is recorded (requested())
// and an 8-byte 1 is written to `wake_fd` (an eventfd the loop waits on), so the loop can stop and
// write its report. A second signal is handled as above: cleanups, then 128 + signal.
void graceful(int wake_fd);
int requested();

// Holds the interrupt lock: while it is held no cleanup runs, and once a signal is being handled
// it is never granted again (the caller waits for _exit). Hold it around a step that must not be
// undone half-way, such as renaming a finished report folder into place.
std::unique_lock<std::mutex> hold();

// A cleanup registered for the lifetime of this object. fn runs with the interrupt lock held, on
// the signal-handling thread; it must not call hold() or construct or destroy a Cleanup.
class Cleanup {
 public:
  explicit Cleanup(std::function<void()> fn);
  ~Cleanup();
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  uint64_t id_;
};

}  // namespace alog::interrupt
