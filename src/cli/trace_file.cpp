#include "trace_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <streambuf>

#include "analyze_logs/core/output_dir.hpp"
#include "analyze_logs/primerl/outputs.hpp"

namespace alog::cli {
namespace {

// An output stream buffer over a file descriptor that keeps the errno of the first failed write
// (std::ofstream only says that something failed).
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd) { setp(buf_.data(), buf_.data() + buf_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* d = pbase();
    size_t left = static_cast<size_t>(pptr() - pbase());
    while (left > 0 && error_ == 0) {
      ssize_t n = ::write(fd_, d, left);
      if (n < 0) {
        if (errno != EINTR) error_ = errno;
        continue;
      }
      d += n;
      left -= static_cast<size_t>(n);
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return error_ == 0;
  }

  int fd_;
  int error_ = 0;
  std::array<char, 1 << 16> buf_;
};

OutputError cannot_write(const std::string& path, int err) {
  return OutputError(fmt::format("{}: cannot write the trace: {}", path, std::strerror(err)));
}

}  // namespace

TraceFile::TraceFile(std::string path) : path_(std::move(path)) {
  // Registered first, and the file created under the interrupt lock: a signal either comes before
  // the file exists or finds it registered for removal.
  cleanup_ = std::make_unique<interrupt::Cleanup>([this] {
    if (created_ && !written_) ::unlink(path_.c_str());
  });
  auto lock = interrupt::hold();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ >= 0) {
    created_ = true;
    return;
  }
  if (errno == EEXIST) fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0) throw cannot_write(path_, errno);
}

TraceFile::~TraceFile() {
  cleanup_.reset();  // waits for _exit if an interrupt is being handled
  if (fd_ >= 0) ::close(fd_);
  if (created_ && !written_) ::unlink(path_.c_str());
}

void TraceFile::write(const Report& r) {
  // A regular file is emptied first; a device or pipe (/dev/stdout) is written as it is.
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && ::ftruncate(fd_, 0) != 0)
    throw cannot_write(path_, errno);
  FdBuf buf(fd_);
  std::ostream os(&buf);
  write_chrome_trace(r, os);
  os.flush();
  if (buf.error()) throw cannot_write(path_, buf.error());
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw cannot_write(path_, errno);
  written_ = true;
}

}  // namespace alog::cli
