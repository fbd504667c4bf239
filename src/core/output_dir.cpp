#include "analyze_logs/core/output_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "analyze_logs/core/interrupt.hpp"
#include "analyze_logs/util.hpp"

namespace fs = std::filesystem;

namespace alog {
namespace {

// Removes a staging folder from the signal-handling thread (core/interrupt.hpp). The folder is
// first renamed to a name nobody else knows, so a writer thread that is still running can create
// nothing more in it; then it is removed.
void remove_staging(const fs::path& staging) {
  std::error_code ec;
  fs::path dead = staging;
  dead += "-interrupted";
  if (::rename(staging.c_str(), dead.c_str()) == 0) fs::remove_all(dead, ec);
  else fs::remove_all(staging, ec);
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

OutputDir::OutputDir(const fs::path& parent, std::string_view prefix)
    : parent_(parent), prefix_(prefix), stamp_(folder_timestamp()) {
  struct stat st{};
  if (::stat(parent.c_str(), &st) != 0)
    throw OutputError(fmt::format("{}: cannot write the report here: {}", parent.string(), std::strerror(errno)));
  if (!S_ISDIR(st.st_mode))
    throw OutputError(fmt::format("{}: cannot write the report here: not a directory", parent.string()));
  // Registered first, and the folder made under the interrupt lock: a signal either comes before
  // the folder exists or finds it registered for removal.
  cleanup_ = std::make_unique<interrupt::Cleanup>([this] {
    if (!committed_ && !staging_.empty()) remove_staging(staging_);
  });
  std::string tmpl = (parent / fmt::format(".{}_{}.tmp-XXXXXX", prefix_, stamp_)).string();
  {
    auto lock = interrupt::hold();
    if (!::mkdtemp(tmpl.data()))
      throw OutputError(fmt::format("{}: cannot write the report here: {}", parent.string(), std::strerror(errno)));
    staging_ = tmpl;
  }
  // mkdtemp creates the folder 0700; the report is for the team reading the shared run folder,
  // so give it the mode any folder created here would get (0777 minus the umask).
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(staging_.c_str(), 0777 & ~mask);
}

OutputDir::~OutputDir() {
  cleanup_.reset();  // waits for _exit if an interrupt is being handled
  if (!committed_) {
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
    auto lock = interrupt::hold();  // an interrupt now either removes the staging folder or waits
    if (rename_noreplace(staging_, target, err)) {
      committed_ = true;
      return target;
    }
    if (err != EEXIST && err != ENOTEMPTY)
      throw OutputError(fmt::format("{}: cannot create the report folder: {}", target.string(), std::strerror(err)));
  }
  throw OutputError(fmt::format("{}: too many report folders for {}", parent_.string(), stamp_));
}

}  // namespace alog
