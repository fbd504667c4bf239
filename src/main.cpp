// The binary's entry point. Before anything else it makes sure glibc's malloc backs the heap with
// transparent huge pages and keeps freed memory for reuse (docs/PERFORMANCE.md, "Memory the
// kernel has to fault in"): these are glibc tunables, read only when a process starts, so the
// binary starts itself once more with them set. It does so only when GLIBC_TUNABLES does not
// already choose malloc's huge page mode (a user's own setting wins, and the second start does
// not start a third), and it goes on as it is when the exec fails.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "analyze_logs/cli.hpp"

namespace {

constexpr const char* kTunables =
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824";

void restart_with_malloc_tunables(char** argv) {
#if defined(__GLIBC__)
  const char* current = std::getenv("GLIBC_TUNABLES");
  if (current && std::strstr(current, "glibc.malloc.hugetlb")) return;
  std::string saved = current ? current : "";
  std::string value = saved.empty() ? std::string(kTunables) : saved + ":" + kTunables;
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // No /proc, or the binary is gone: run as we are, with the environment as it was.
  if (current) ::setenv("GLIBC_TUNABLES", saved.c_str(), 1);
  else ::unsetenv("GLIBC_TUNABLES");
#else
  (void)argv;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_malloc_tunables(argv);
  return alog::run_cli(argc, argv);
}
