// The bytes appended to growing files, for --follow (follow.hpp: Tail).
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "analyze_logs/follow.hpp"
#include "analyze_logs/input.hpp"

namespace fs = std::filesystem;

namespace alog::follow {

namespace {

constexpr size_t kRead = size_t{4} << 20;        // bytes per read
constexpr size_t kLineHead = size_t{64} << 10;   // what a classifier sees of a longer line
constexpr size_t kMaxPartial = size_t{1} << 20;  // an unfinished line kept in memory at most

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double mtime_s(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

void write_all(int fd, const char* p, size_t n, const std::string& name) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw std::runtime_error(fmt::format("{}: {}", name, std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

bool compressed_magic(const char* p, size_t n) {
  auto u = [&](size_t i) { return static_cast<unsigned char>(p[i]); };
  return (n >= 2 && u(0) == 0x1f && u(1) == 0x8b) || (n >= 4 && u(0) == 0x28 && u(1) == 0xb5 && u(2) == 0x2f && u(3) == 0xfd);
}

std::string compressed_message(const std::string& path) {
  return fmt::format("{}: compressed; --follow reads a log as it grows, and a compressed stream cannot be "
                     "followed (analyse it without --follow)",
                     path);
}

}  // namespace

struct Tail::File {
  std::string path;
  int fd = -1;
  bool is_stdin = false, stdin_eof = false;
  uint64_t dev = 0, ino = 0;
  uint64_t off = 0;
  uint64_t catch_up_end = 0;  // bytes present when added: lines before it are catch-up
  std::string partial;         // an unfinished last line (at most kMaxPartial bytes kept)
  bool partial_copied = false;  // partial was longer than kMaxPartial: its head is in the copy already
  size_t partial_handed = 0;    // bytes of partial handed over already, up to a '\r' (progress bars)
  int copy_fd = -1;
  std::string copy_path;
  uint64_t copied = 0;
  double mtime = 0;
};

Tail::Tail(std::string copy_dir) : copy_dir_(std::move(copy_dir)), buf_(kRead) {}

Tail::~Tail() {
  for (auto& f : files_) {
    if (f->fd >= 0) ::close(f->fd);
    if (f->copy_fd >= 0) ::close(f->copy_fd);
    if (!f->copy_path.empty()) input::redirect(f->path, "");
  }
}

bool Tail::follows(const std::string& path) const {
  std::string key = fs::path(path).lexically_normal().string();
  for (const auto& f : files_)
    if (fs::path(f->path).lexically_normal().string() == key) return true;
  if (path == "-") return false;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return false;
  auto id = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
  return std::find(seen_ids_.begin(), seen_ids_.end(), id) != seen_ids_.end();
}

void Tail::add(const std::string& path, bool copy) {
  auto f = std::make_unique<File>();
  f->path = path;
  if (path == "-") {
    f->is_stdin = true;
    // Its own descriptor: the follow loop puts the copy on descriptor 0 for the analysis.
    f->fd = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
    if (f->fd < 0) throw input::InputError(fmt::format("-: standard input: {}", std::strerror(errno)));
    struct stat st{};
    char magic[4];
    ssize_t n = ::fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) ? ::pread(f->fd, magic, sizeof magic, ::lseek(f->fd, 0, SEEK_CUR)) : 0;
    if (n > 0 && compressed_magic(magic, static_cast<size_t>(n))) {
      ::close(f->fd);
      throw input::InputError(compressed_message("-"));
    }
  } else {
    f->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) throw input::InputError(fmt::format("{}: {}", path, std::strerror(errno)));
    struct stat st{};
    if (::fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      int e = errno;
      ::close(f->fd);
      throw input::InputError(S_ISDIR(st.st_mode) ? fmt::format("{}: is a directory, not a log file", path)
                                                  : fmt::format("{}: {}", path, std::strerror(e ? e : EINVAL)));
    }
    char magic[4];
    ssize_t n = ::pread(f->fd, magic, sizeof magic, 0);
    if (n > 0 && compressed_magic(magic, static_cast<size_t>(n))) {
      ::close(f->fd);
      throw input::InputError(compressed_message(path));
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->catch_up_end = static_cast<uint64_t>(st.st_size);
    f->mtime = mtime_s(st);
    seen_ids_.emplace_back(f->dev, f->ino);
  }
  if (copy) {
    std::string base = path == "-" ? std::string("stdin") : fs::path(path).filename().string();
    f->copy_path = (fs::path(copy_dir_) / fmt::format("{}-{}", files_.size(), base)).string();
    f->copy_fd = ::open(f->copy_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f->copy_fd < 0) {
      if (!f->is_stdin) ::close(f->fd);
      throw std::runtime_error(fmt::format("{}: {}", f->copy_path, std::strerror(errno)));
    }
    if (!f->is_stdin) input::redirect(path, f->copy_path);
  }
  ++stats_.files;
  files_.push_back(std::move(f));
}

bool Tail::has_stdin() const {
  for (const auto& f : files_)
    if (f->is_stdin) return true;
  return false;
}

bool Tail::stdin_ended() const {
  for (const auto& f : files_)
    if (f->is_stdin) return f->stdin_eof;
  return false;
}

uint64_t Tail::copied_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f->copied;
  return n;
}

// Hands over every complete line of [p, p+n) (after what `partial` holds) and copies them: the
// copy gets the bytes of complete lines, in one write per read; an unfinished line is held until
// its '\n' comes (beyond kMaxPartial its bytes are copied at once, its head kept for the line).
void Tail::deliver(File& f, const char* p, size_t n, double written, const LineFn& line) {
  auto copy = [&](const char* from, size_t len) {
    if (f.copy_fd < 0 || len == 0) return;
    try {
      write_all(f.copy_fd, from, len, f.copy_path);
      f.copied += len;
    } catch (const std::runtime_error& e) {
      // A full disk: the follow goes on; the analysis reads the file itself from now on (what a
      // copytruncate empties is then lost to it). Said once, by the loop.
      ::close(f.copy_fd);
      f.copy_fd = -1;
      input::redirect(f.path, "");
      if (copy_error_.empty())
        copy_error_ = fmt::format("{} (the copy of {}); the analysis reads the file itself from now on", e.what(), f.path);
    }
  };
  const char* const base = p;
  const char* const end = p + n;
  const char* pending = p;  // bytes of this read not copied yet
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!nl) break;
    bool catch_up = !f.is_stdin && f.off + static_cast<uint64_t>(nl - base) < f.catch_up_end;
    std::string_view l;
    if (!f.partial.empty() || f.partial_copied) {
      if (!f.partial_copied) copy(f.partial.data(), f.partial.size());  // they precede this read's bytes
      size_t room = kMaxPartial - std::min(kMaxPartial, f.partial.size());
      f.partial.append(p, std::min(room, static_cast<size_t>(nl - p)));
      l = std::string_view(f.partial).substr(std::min(f.partial_handed, f.partial.size()));
    } else {
      l = std::string_view(p, static_cast<size_t>(nl - p));
    }
    if (l.size() > kLineHead) l = l.substr(0, kLineHead);
    line(f.path, l, written, catch_up);
    ++stats_.lines;
    f.partial.clear();
    f.partial_copied = false;
    f.partial_handed = 0;
    p = nl + 1;
  }
  copy(pending, static_cast<size_t>(p - pending));
  if (p < end) {
    size_t len = static_cast<size_t>(end - p);
    if (!f.partial_copied && f.partial.size() + len <= kMaxPartial) {
      f.partial.append(p, len);
    } else {
      if (!f.partial_copied) copy(f.partial.data(), f.partial.size());
      f.partial_copied = true;
      copy(p, len);
      size_t room = kMaxPartial - std::min(kMaxPartial, f.partial.size());
      f.partial.append(p, std::min(room, len));
    }
    // A progress bar rewrites its line with '\r' and writes no '\n' for minutes: the pieces up
    // to its last '\r' are handed over now (each once), the rest with the line's '\n'.
    size_t r = f.partial.rfind('\r');
    if (r != std::string::npos && r >= f.partial_handed) {
      std::string_view piece = std::string_view(f.partial).substr(f.partial_handed, r + 1 - f.partial_handed);
      if (piece.size() > kLineHead) piece = piece.substr(0, kLineHead);
      bool catch_up = !f.is_stdin && f.off + static_cast<uint64_t>(end - base) < f.catch_up_end;
      line(f.path, piece, written, catch_up);
      f.partial_handed = r + 1;
    }
  }
}

// A line cut by rotation, truncation or the end: delivered as it is.
void Tail::end_line(File& f, const LineFn& line, double written) {
  if (f.partial.empty() && !f.partial_copied) return;
  if (f.copy_fd >= 0) {
    try {
      if (!f.partial_copied) write_all(f.copy_fd, f.partial.data(), f.partial.size(), f.copy_path);
      write_all(f.copy_fd, "\n", 1, f.copy_path);
      f.copied += (f.partial_copied ? 0 : f.partial.size()) + 1;
    } catch (const std::runtime_error& e) {
      ::close(f.copy_fd);
      f.copy_fd = -1;
      input::redirect(f.path, "");
      if (copy_error_.empty()) copy_error_ = e.what();
    }
  }
  std::string_view l = std::string_view(f.partial).substr(std::min(f.partial_handed, f.partial.size()));
  if (l.size() > kLineHead) l = l.substr(0, kLineHead);
  line(f.path, l, written, false);
  ++stats_.lines;
  f.partial.clear();
  f.partial_copied = false;
  f.partial_handed = 0;
}

uint64_t Tail::read_file(File& f, const LineFn& line, const GrowthFn& growth, uint64_t budget) {
  uint64_t got = 0;
  if (f.is_stdin) {
    while (!f.stdin_eof && got < budget) {
      struct pollfd pfd{f.fd, POLLIN, 0};
      int r = ::poll(&pfd, 1, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      ssize_t n = ::read(f.fd, buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        f.stdin_eof = true;
        end_line(f, line, now_s());
        break;
      }
      deliver(f, buf_.data(), static_cast<size_t>(n), now_s(), line);
      f.off += static_cast<uint64_t>(n);
      got += static_cast<uint64_t>(n);
    }
    if (got) growth(f.path, got);
    stats_.bytes += got;
    return got;
  }
  for (int rounds = 0; rounds < 4; ++rounds) {
    struct stat st{};
    if (::fstat(f.fd, &st) == 0) {
      f.mtime = mtime_s(st);
      if (static_cast<uint64_t>(st.st_size) < f.off) {
        // copytruncate: the file was emptied (and maybe written again): read it from its start.
        end_line(f, line, f.mtime);
        f.off = 0;
        f.catch_up_end = 0;
        ++stats_.truncations;
      }
    }
    double written = std::min(f.mtime, now_s());
    while (got < budget) {
      ssize_t n = ::pread(f.fd, buf_.data(), buf_.size(), static_cast<off_t>(f.off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      deliver(f, buf_.data(), static_cast<size_t>(n), written, line);
      f.off += static_cast<uint64_t>(n);
      got += static_cast<uint64_t>(n);
    }
    if (got >= budget) {
      behind_ = true;
      break;
    }
    // At the end of the file we hold: has the path been given to another file (rotation)?
    struct stat now_st{};
    if (::stat(f.path.c_str(), &now_st) != 0) break;  // renamed away, not created again yet
    if (static_cast<uint64_t>(now_st.st_dev) == f.dev && static_cast<uint64_t>(now_st.st_ino) == f.ino) break;
    int nfd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nfd < 0) break;
    struct stat nst{};
    if (::fstat(nfd, &nst) != 0 || !S_ISREG(nst.st_mode)) {
      ::close(nfd);
      break;
    }
    end_line(f, line, written);
    ::close(f.fd);
    f.fd = nfd;
    f.dev = nst.st_dev;
    f.ino = nst.st_ino;
    f.off = 0;
    f.catch_up_end = 0;
    seen_ids_.emplace_back(f.dev, f.ino);
    ++stats_.rotations;
  }
  if (got) growth(f.path, got);
  stats_.bytes += got;
  return got;
}

uint64_t Tail::poll(const LineFn& line, const GrowthFn& growth, uint64_t budget) {
  behind_ = false;
  uint64_t got = 0;
  // Each file gets its share of the budget, so catch-up of a big file does not starve the others.
  uint64_t share = files_.empty() ? budget : std::max<uint64_t>(kRead, budget / files_.size());
  for (auto& f : files_) got += read_file(*f, line, growth, share);
  return got;
}

void Tail::flush(const LineFn& line) {
  for (auto& f : files_) end_line(*f, line, f->is_stdin ? now_s() : f->mtime);
}

}  // namespace alog::follow
