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

// Creates `dir` and its missing parents (as `mkdir -p`), listing in `created` the folders it
// made, outermost first. Returns 0, or the errno of the first folder that could not be made.
int make_parents(const fs::path& dir, std::vector<fs::path>& created) {
  fs::path prefix;
  for (const auto& part : dir) {
    prefix /= part;
    struct stat st{};
    if (::stat(prefix.c_str(), &st) == 0) continue;  // a file here fails at the next mkdir
    if (errno != ENOENT) return errno;
    if (::mkdir(prefix.c_str(), 0777) == 0) {
      created.push_back(prefix);
    } else if (errno != EEXIST) {  // EEXIST: made by another run since the stat
      return errno;
    }
  }
  return 0;
}

// Removes the folders make_parents created, innermost first, as long as they are empty.
void remove_created(const std::vector<fs::path>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it)
    if (::rmdir(it->c_str()) != 0) return;
}

}  // namespace

OutputDir::OutputDir(const fs::path& parent, std::string_view prefix)
    : parent_(parent), prefix_(prefix), stamp_(folder_timestamp()) {
  // Registered first, and every folder made under the interrupt lock: a signal either comes
  // before a folder exists or finds it registered for removal.
  cleanup_ = std::make_unique<interrupt::Cleanup>([this] {
    if (committed_) return;
    if (!staging_.empty()) remove_staging(staging_);
    remove_created(created_);
  });
  // The destructor does not run when the constructor throws: undo what was made here first.
  auto fail = [&](std::string_view why) {
    auto lock = interrupt::hold();
    remove_created(created_);
    created_.clear();
    return OutputError(fmt::format("{}: {}", parent.string(), why));
  };
  {
    auto lock = interrupt::hold();
    if (int err = make_parents(parent, created_)) {
      lock.unlock();
      throw fail(fmt::format("cannot create this folder for the report: {}", std::strerror(err)));
    }
  }
  struct stat st{};
  if (::stat(parent.c_str(), &st) != 0)
    throw fail(fmt::format("cannot write the report here: {}", std::strerror(errno)));
  if (!S_ISDIR(st.st_mode)) throw fail("cannot write the report here: not a directory");
  std::string tmpl = (parent / fmt::format(".{}_{}.tmp-XXXXXX", prefix_, stamp_)).string();
  {
    auto lock = interrupt::hold();
    if (!::mkdtemp(tmpl.data())) {
      int err = errno;
      lock.unlock();
      throw fail(fmt::format("cannot write the report here: {}", std::strerror(err)));
    }
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
    if (!staging_.empty()) fs::remove_all(staging_, ec);
    remove_created(created_);
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
