#include "analyze_logs/core/output_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "analyze_logs/util.hpp"

namespace fs = std::filesystem;

namespace alog {
namespace {

// The staging folder the signal handler must remove (one at a time per process).
char g_staging[4096];
std::atomic<bool> g_staging_set{false};

void remove_tree_signal_safe(const char* dir) {
  // Only the flat files we create live in a staging folder: unlink them, then the folder. Other
  // threads keep running while the handler does this and may create one more file between the
  // listing and the rmdir, so a folder found not empty is emptied again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    int fd = ::open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      DIR* d = ::fdopendir(fd);
      if (d) {
        while (struct dirent* e = ::readdir(d)) {
          if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
          ::unlinkat(fd, e->d_name, 0);
        }
        ::closedir(d);
      } else {
        ::close(fd);
      }
    }
    if (::rmdir(dir) == 0 || errno != ENOTEMPTY) return;
  }
}

void on_signal(int sig) {
  if (g_staging_set.load()) remove_tree_signal_safe(g_staging);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void set_staging(const fs::path& p) {
  std::string s = p.string();
  if (s.size() >= sizeof g_staging) return;
  g_staging_set = false;
  std::memcpy(g_staging, s.c_str(), s.size() + 1);
  g_staging_set = true;
}

bool rename_noreplace(const fs::path& from, const fs::path& to, int& err) {
#ifdef SYS_renameat2
  long rc = ::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 1 /*RENAME_NOREPLACE*/);
  if (rc == 0) return true;
  err = errno;
  if (err != EINVAL && err != ENOSYS) return false;
#endif
  // File systems without renameat2: an existing (even empty) folder must never be replaced.
  struct stat st{};
  if (::lstat(to.c_str(), &st) == 0) {
    err = EEXIST;
    return false;
  }
  if (::rename(from.c_str(), to.c_str()) == 0) return true;
  err = errno;
  return false;
}

}  // namespace

void install_cleanup_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

OutputDir::OutputDir(const fs::path& parent, std::string_view prefix)
    : parent_(parent), prefix_(prefix), stamp_(folder_timestamp()) {
  struct stat st{};
  if (::stat(parent.c_str(), &st) != 0)
    throw OutputError(fmt::format("{}: cannot write the report here: {}", parent.string(), std::strerror(errno)));
  if (!S_ISDIR(st.st_mode))
    throw OutputError(fmt::format("{}: cannot write the report here: not a directory", parent.string()));
  std::string tmpl = (parent / fmt::format(".{}_{}.tmp-XXXXXX", prefix_, stamp_)).string();
  if (!::mkdtemp(tmpl.data()))
    throw OutputError(fmt::format("{}: cannot write the report here: {}", parent.string(), std::strerror(errno)));
  staging_ = tmpl;
  set_staging(staging_);
  // mkdtemp creates the folder 0700; the report is for the team reading the shared run folder,
  // so give it the mode any folder created here would get (0777 minus the umask).
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(staging_.c_str(), 0777 & ~mask);
}

OutputDir::~OutputDir() {
  if (!committed_) {
    g_staging_set = false;
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void OutputDir::write(std::string_view name, std::string_view content) {
  write_stream(name, [&](const Sink& sink) { sink(content); });
}

void OutputDir::write_stream(std::string_view name, const std::function<void(const Sink&)>& produce) {
  fs::path p = staging_ / std::string(name);
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw OutputError(fmt::format("{}: cannot write: {}", p.string(), std::strerror(errno)));
  auto fail = [&](int e) {
    ::close(fd);
    throw OutputError(fmt::format("{}: cannot write: {}", p.string(), std::strerror(e)));
  };
  produce([&](std::string_view content) {
    const char* d = content.data();
    size_t left = content.size();
    while (left > 0) {
      ssize_t n = ::write(fd, d, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail(errno);
      }
      d += n;
      left -= static_cast<size_t>(n);
    }
  });
  if (::close(fd) != 0)
    throw OutputError(fmt::format("{}: cannot write: {}", p.string(), std::strerror(errno)));
}

fs::path OutputDir::commit() {
  // Make the contents durable before the rename makes them visible.
  if (int dfd = ::open(staging_.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  for (int n = 1; n < 1000; ++n) {
    std::string name = n == 1 ? fmt::format("{}_{}", prefix_, stamp_) : fmt::format("{}_{}_{}", prefix_, stamp_, n);
    fs::path target = parent_ / name;
    int err = 0;
    if (rename_noreplace(staging_, target, err)) {
      committed_ = true;
      g_staging_set = false;
      return target;
    }
    if (err != EEXIST && err != ENOTEMPTY)
      throw OutputError(fmt::format("{}: cannot create the report folder: {}", target.string(), std::strerror(err)));
  }
  throw OutputError(fmt::format("{}: too many report folders for {}", parent_.string(), stamp_));
}

}  // namespace alog
