// Standard input replaced for the length of a scope: by a pipe fed from a thread (any size, no
// deadlock), or by an open file, as `cmd | analyze-logs -` and `analyze-logs - < file` give it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

namespace alog::test_support {

class StdinSwap {
 public:
  // Standard input is a pipe that delivers `bytes` then ends.
  static StdinSwap pipe_of(std::string bytes) {
    ::signal(SIGPIPE, SIG_IGN);  // a test that stops reading early must not die of it
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error("pipe");
    StdinSwap s(p[0]);
    s.writer_ = std::thread([fd = p[1], b = std::move(bytes)] {
      size_t off = 0;
      while (off < b.size()) {
        ssize_t w = ::write(fd, b.data() + off, b.size() - off);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
      ::close(fd);
    });
    return s;
  }
  // Standard input is `file`, opened for reading at offset `at`.
  static StdinSwap file_of(const std::filesystem::path& file, off_t at = 0) {
    int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error("open " + file.string());
    ::lseek(fd, at, SEEK_SET);
    return StdinSwap(fd);
  }
  StdinSwap(StdinSwap&& o) noexcept : saved_(o.saved_), writer_(std::move(o.writer_)) {
    o.saved_ = -1;
  }
  ~StdinSwap() {
    if (saved_ < 0) return;
    // Unblocks the writer should the test not have read everything.
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::close(devnull);
    if (writer_.joinable()) writer_.join();
    ::dup2(saved_, 0);
    ::close(saved_);
  }

 private:
  explicit StdinSwap(int fd) : saved_(::dup(0)) {
    ::dup2(fd, 0);
    ::close(fd);
  }
  int saved_;
  std::thread writer_;
};

}  // namespace alog::test_support
