// Byte sources: a raw reader (file descriptor or memory) and streaming decompressors on top of it.
// Compression is sniffed from the magic bytes so `orchestrator.log` that is really gzip, or a
// `.gz` piped through stdin, both work.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "analyze_logs/input.hpp"

namespace alog::input {

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
    default: return "none";
  }
}

namespace {

// Thrown by a raw read that a source being destroyed woke up (see Raw::set_cancel_fd); caught by
// the read-ahead thread, never seen by a reader.
struct Cancelled {};

// Raw bytes with a small peek buffer in front, so the magic bytes can be inspected and then
// handed to whichever decoder needs them.
class Raw {
 public:
  virtual ~Raw() = default;
  virtual size_t read_raw(char* buf, size_t cap) = 0;
  size_t read(char* buf, size_t cap) {
    size_t n = 0;
    if (peek_pos_ < peek_.size()) {
      n = std::min(cap, peek_.size() - peek_pos_);
      std::memcpy(buf, peek_.data() + peek_pos_, n);
      peek_pos_ += n;
      consumed_ += n;
      return n;
    }
    n = read_raw(buf, cap);
    consumed_ += n;
    return n;
  }
  // Reads up to n bytes ahead without consuming them.
  std::string_view peek(size_t n) {
    while (peek_.size() < n) {
      char tmp[16];
      size_t got = read_raw(tmp, std::min(sizeof tmp, n - peek_.size()));
      if (got == 0) break;
      peek_.append(tmp, got);
    }
    return std::string_view(peek_).substr(0, std::min(n, peek_.size()));
  }
  uint64_t consumed() const { return consumed_; }
  // Puts bytes already taken from the descriptor back in front of it (nothing read yet).
  void put_back(std::string bytes) { peek_ = std::move(bytes); }
  // For a regular file: the descriptor and the offset of the first byte not yet delivered.
  virtual std::optional<std::pair<int, uint64_t>> position() const { return std::nullopt; }
  // Whether a read can wait indefinitely (a pipe, a terminal): then a read-ahead thread gives an
  // eventfd that, once readable, makes such a wait throw Cancelled.
  virtual bool can_block() const { return false; }
  void set_cancel_fd(int fd) { cancel_fd_ = fd; }

 protected:
  int cancel_fd_ = -1;
  size_t unread_peek() const { return peek_.size() - peek_pos_; }

 private:
  std::string peek_;
  size_t peek_pos_ = 0;
  uint64_t consumed_ = 0;
};

class FdRaw : public Raw {
 public:
  FdRaw(int fd, std::string name, bool owned, bool regular = false)
      : fd_(fd), name_(std::move(name)), owned_(owned), regular_(regular) {}
  ~FdRaw() override {
    if (owned_) ::close(fd_);
  }
  size_t read_raw(char* buf, size_t cap) override {
    if (cancel_fd_ >= 0) wait_readable();
    for (;;) {
      ssize_t r = ::read(fd_, buf, cap);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      throw InputError(fmt::format("{}: read error: {}", name_, std::strerror(errno)));
    }
  }
  std::optional<std::pair<int, uint64_t>> position() const override {
    if (!regular_) return std::nullopt;
    off_t at = ::lseek(fd_, 0, SEEK_CUR);
    if (at < 0 || static_cast<uint64_t>(at) < unread_peek()) return std::nullopt;
    return std::make_pair(fd_, static_cast<uint64_t>(at) - unread_peek());
  }
  bool can_block() const override { return !regular_; }

 private:
  // Waits until the descriptor has bytes (or its end, or an error, which read(2) then reports) or
  // the cancel descriptor fires.
  void wait_readable() {
    pollfd p[2] = {{fd_, POLLIN, 0}, {cancel_fd_, POLLIN, 0}};
    for (;;) {
      int r = ::poll(p, 2, -1);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return;  // let read(2) wait (and report) as without a cancel descriptor
      if (p[1].revents) throw Cancelled{};
      return;
    }
  }

  int fd_;
  std::string name_;
  bool owned_;
  bool regular_;
};

class MemRaw : public Raw {
 public:
  explicit MemRaw(std::string d) : data_(std::move(d)) {}
  size_t read_raw(char* buf, size_t cap) override {
    size_t n = std::min(cap, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

class SourceBase : public ByteSource {
 public:
  SourceBase(std::unique_ptr<Raw> raw, std::string name, uint64_t total)
      : raw_(std::move(raw)), name_(std::move(name)), total_(total) {}
  const std::string& name() const override { return name_; }
  uint64_t total_raw_bytes() const override { return total_; }
  uint64_t raw_bytes_read() const override { return raw_->consumed(); }
  Raw& raw() { return *raw_; }

  // A decoder that fails part-way through a call has already decoded bytes into buf: those are
  // delivered first and the error is thrown by the next call (and every call after it), so the
  // readable part of a truncated or corrupt stream is never lost with the error.
  size_t read(char* buf, size_t cap) final {
    if (failed_) throw InputError(error_);
    produced_ = 0;
    try {
      return decode(buf, cap);
    } catch (const InputError& e) {
      failed_ = true;
      error_ = e.what();
      if (produced_ == 0) throw;
      return produced_;
    }
  }

 protected:
  // Fills buf like read(); before throwing, sets produced_ to the bytes already in buf.
  virtual size_t decode(char* buf, size_t cap) = 0;

  std::unique_ptr<Raw> raw_;
  std::string name_;
  uint64_t total_;
  size_t produced_ = 0;

 private:
  bool failed_ = false;
  std::string error_;
};

class PlainSource : public SourceBase {
 public:
  using SourceBase::SourceBase;
  size_t decode(char* buf, size_t cap) override { return raw_->read(buf, cap); }
  Compression compression() const override { return Compression::none; }
  std::optional<Positional> positional() const override {
    auto at = raw_->position();
    if (!at || total_ == 0) return std::nullopt;
    return Positional{at->first, std::min(at->second, total_), total_};
  }
};

constexpr size_t kInChunk = 256 * 1024;

class GzipSource : public SourceBase {
 public:
  GzipSource(std::unique_ptr<Raw> raw, std::string name, uint64_t total)
      : SourceBase(std::move(raw), std::move(name), total), in_(kInChunk) {
    std::memset(&zs_, 0, sizeof zs_);
    // 15 + 32: zlib or gzip header, detected automatically.
    if (inflateInit2(&zs_, 15 + 32) != Z_OK) throw InputError(name_ + ": cannot initialise zlib");
  }
  ~GzipSource() override { inflateEnd(&zs_); }
  Compression compression() const override { return Compression::gzip; }

  size_t decode(char* buf, size_t cap) override {
    if (done_) return 0;
    cap = std::min<size_t>(cap, 1u << 30);  // avail_out is 32 bits
    try {
      return inflate_into(buf, cap);
    } catch (const InputError&) {
      produced_ = cap - zs_.avail_out;
      throw;
    }
  }

 private:
  size_t inflate_into(char* buf, size_t cap) {
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(cap);
    while (zs_.avail_out > 0) {
      if (zs_.avail_in == 0) {
        size_t n = raw_->read(in_.data(), in_.size());
        if (n == 0) {
          if (!in_member_) {
            done_ = true;
            break;
          }
          throw InputError(fmt::format(
              "{}: truncated gzip stream: input ended after {} compressed bytes ({} bytes "
              "decompressed)",
              name_, raw_->consumed(), zs_.total_out + out_before_));
        }
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = static_cast<uInt>(n);
      }
      if (!in_member_) {
        // Another gzip member follows (concatenated .gz files, as `cat a.gz b.gz` makes).
        if (zs_.avail_in >= 1 && zs_.next_in[0] != 0x1f) {
          throw InputError(fmt::format("{}: corrupt gzip stream: trailing garbage after {} compressed bytes",
                                       name_, raw_->consumed() - zs_.avail_in));
        }
        out_before_ += zs_.total_out;
        inflateReset(&zs_);
        in_member_ = true;
      }
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw InputError(fmt::format("{}: corrupt gzip stream after {} compressed bytes: {}", name_,
                                     raw_->consumed() - zs_.avail_in,
                                     zs_.msg ? zs_.msg : "data error"));
      }
    }
    return cap - zs_.avail_out;
  }

  z_stream zs_;
  std::vector<char> in_;
  bool in_member_ = true;
  bool done_ = false;
  uint64_t out_before_ = 0;
};

class ZstdSource : public SourceBase {
 public:
  ZstdSource(std::unique_ptr<Raw> raw, std::string name, uint64_t total)
      : SourceBase(std::move(raw), std::move(name), total), in_(ZSTD_DStreamInSize()) {
    ds_ = ZSTD_createDStream();
    if (!ds_) throw InputError(name_ + ": cannot initialise zstd");
    size_t first = ZSTD_initDStream(ds_);
    frame_start_ = ZSTD_isError(first) || first == 0 ? 1 : first;
  }
  ~ZstdSource() override { ZSTD_freeDStream(ds_); }
  Compression compression() const override { return Compression::zstd; }

  size_t decode(char* buf, size_t cap) override {
    ZSTD_outBuffer out{buf, cap, 0};
    try {
      return decompress_into(out);
    } catch (const InputError&) {
      produced_ = out.pos;
      produced_total_ += out.pos;
      throw;
    }
  }

 private:
  // A ZSTD_decompressStream call that fails does not say what it wrote into the output before it
  // failed: that part is lost. So that no good byte is lost, and the bytes delivered before an
  // error do not depend on the read sizes, each call is given only the input of the next decoding
  // step (the rest of a frame header, a block header, a block's body, a checksum: the size
  // zstd asks for, less the next block header it asks for with a block's body), and output left
  // over when the reader's buffer filled is flushed by a call given no input. A failing call has
  // then flushed nothing: every block before the corrupt one is delivered, and the error names the
  // compressed offset where the failing step began.
  size_t decompress_into(ZSTD_outBuffer& out) {
    while (out.pos < out.size) {
      ZSTD_inBuffer step{in_.data(), inb_.pos, inb_.pos};  // no input: flush only
      if (!flush_pending_) {
        if (inb_.pos == inb_.size) {
          size_t n = raw_->read(in_.data(), in_.size());
          if (n == 0) {
            if (last_ != 0)
              throw InputError(fmt::format(
                  "{}: truncated zstd stream: input ended after {} compressed bytes ({} bytes "
                  "decompressed)",
                  name_, raw_->consumed(), produced_total_ + out.pos));
            break;
          }
          inb_ = ZSTD_inBuffer{in_.data(), n, 0};
          step_end_ = 0;
        }
        if (step_end_ <= inb_.pos) step_end_ = inb_.pos + std::min(step_size(), inb_.size - inb_.pos);
        step = ZSTD_inBuffer{in_.data(), step_end_, inb_.pos};
      }
      size_t rc = ZSTD_decompressStream(ds_, &out, &step);
      if (ZSTD_isError(rc))
        throw InputError(fmt::format("{}: corrupt zstd stream after {} compressed bytes: {}",
                                     name_, raw_->consumed() - (inb_.size - inb_.pos),
                                     ZSTD_getErrorName(rc)));
      inb_.pos = step.pos;
      last_ = rc;
      flush_pending_ = rc != 0 && out.pos == out.size;
    }
    produced_total_ += out.pos;
    return out.pos;
  }

  // Input for the next call: at a frame's start, the first bytes of its header; else what zstd
  // asked for (`last_`), which after a block's body includes the next block's 3-byte header.
  size_t step_size() const {
    constexpr size_t kBlockHeader = 3;
    if (last_ == 0) return frame_start_;
    return last_ > kBlockHeader ? last_ - kBlockHeader : last_;
  }

  ZSTD_DStream* ds_;
  std::vector<char> in_;
  ZSTD_inBuffer inb_{nullptr, 0, 0};
  size_t step_end_ = 0;      // the current step is in_[inb_.pos, step_end_)
  size_t last_ = 0;          // zstd's last answer: 0 at a frame's end, else input it wants next
  size_t frame_start_ = 1;
  bool flush_pending_ = false;
  uint64_t produced_total_ = 0;
};

// A compressed source that, once read_ahead() is called, decompresses on a thread of its own (the
// producer) into a ring of a few blocks while the reader (the consumer) copies out of them. The
// producer calls the decoder exactly as a reader without read-ahead would with cap = block_bytes,
// so the bytes and the error after them are the same. Until read_ahead(), reads go straight to the
// decoder.
//
// Blocks are free (the producer takes one and fills it outside the lock), full (queued in stream
// order) or being read (the front of the queue, copied from outside the lock; only the consumer
// pops it). The producer stops at the end of input, at the decoder's first exception (the
// consumer gets it after the last full block, and on every call after), or when the source is
// destroyed: the destructor sets stop_, wakes a producer waiting for a free block or, through
// the eventfd, in a pipe's read, and joins it.
class AheadSource : public ByteSource {
 public:
  explicit AheadSource(std::unique_ptr<SourceBase> inner) : inner_(std::move(inner)) {}
  ~AheadSource() override {
    if (!producer_.joinable()) return;
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_free_.notify_all();
    if (cancel_fd_ >= 0) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t w = ::write(cancel_fd_, &one, sizeof one);
    }
    producer_.join();
    if (cancel_fd_ >= 0) ::close(cancel_fd_);
  }
  AheadSource(const AheadSource&) = delete;
  AheadSource& operator=(const AheadSource&) = delete;

  const std::string& name() const override { return inner_->name(); }
  Compression compression() const override { return inner_->compression(); }
  uint64_t total_raw_bytes() const override { return inner_->total_raw_bytes(); }
  uint64_t raw_bytes_read() const override {
    return producer_.joinable() ? raw_delivered_.load(std::memory_order_relaxed) : inner_->raw_bytes_read();
  }

  // Without an eventfd or a thread (out of descriptors or threads), reads stay on the caller's
  // thread: read-ahead only makes them faster.
  void read_ahead(ReadAhead opt) override {
    if (producer_.joinable()) return;
    if (inner_->raw().can_block()) {
      cancel_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (cancel_fd_ < 0) return;
      inner_->raw().set_cancel_fd(cancel_fd_);
    }
    block_bytes_ = std::max<size_t>(opt.block_bytes, 1);
    raw_delivered_ = inner_->raw_bytes_read();
    blocks_.clear();
    free_.clear();
    for (unsigned i = 0; i < std::max(opt.blocks, 1u); ++i) {
      blocks_.push_back(std::make_unique<Block>());
      blocks_.back()->data.reset(new char[block_bytes_]);
      free_.push_back(blocks_.back().get());
    }
    try {
      producer_ = std::thread([this] { produce(); });
    } catch (const std::system_error&) {
      if (cancel_fd_ >= 0) {
        inner_->raw().set_cancel_fd(-1);
        ::close(std::exchange(cancel_fd_, -1));
      }
    }
  }

  size_t read(char* buf, size_t cap) override {
    if (!producer_.joinable()) return inner_->read(buf, cap);
    if (cap == 0) return 0;
    Block* b = nullptr;
    {
      std::unique_lock lk(mu_);
      cv_full_.wait(lk, [&] { return !full_.empty() || ended_; });
      if (full_.empty()) {
        raw_delivered_.store(end_raw_, std::memory_order_relaxed);
        if (error_) std::rethrow_exception(error_);
        return 0;
      }
      b = full_.front();
    }
    size_t n = std::min(cap, b->len - b->pos);
    std::memcpy(buf, b->data.get() + b->pos, n);
    b->pos += n;
    raw_delivered_.store(b->raw_after, std::memory_order_relaxed);
    if (b->pos == b->len) {
      {
        std::lock_guard lk(mu_);
        full_.pop_front();
        free_.push_back(b);
      }
      cv_free_.notify_one();
    }
    return n;
  }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t len = 0, pos = 0;
    uint64_t raw_after = 0;  // compressed bytes consumed once this block was decoded
  };

  void produce() {
    for (;;) {
      Block* b = nullptr;
      {
        std::unique_lock lk(mu_);
        cv_free_.wait(lk, [&] { return stop_ || !free_.empty(); });
        if (stop_) return;
        b = free_.back();
        free_.pop_back();
      }
      size_t n = 0;
      std::exception_ptr error;
      try {
        n = inner_->read(b->data.get(), block_bytes_);
      } catch (const Cancelled&) {
        return;  // the source is being destroyed
      } catch (...) {
        error = std::current_exception();
      }
      uint64_t raw = inner_->raw_bytes_read();
      bool last = n == 0 || error;
      {
        std::lock_guard lk(mu_);
        if (n > 0) {
          b->len = n;
          b->pos = 0;
          b->raw_after = raw;
          full_.push_back(b);
        } else {
          free_.push_back(b);
        }
        if (last) {
          ended_ = true;
          end_raw_ = raw;
          error_ = error;
        }
      }
      cv_full_.notify_one();
      if (last) return;
    }
  }

  std::unique_ptr<SourceBase> inner_;
  size_t block_bytes_ = 0;
  std::vector<std::unique_ptr<Block>> blocks_;
  int cancel_fd_ = -1;
  std::atomic<uint64_t> raw_delivered_{0};

  std::mutex mu_;
  std::condition_variable cv_free_, cv_full_;
  std::vector<Block*> free_;  // mu_
  std::deque<Block*> full_;   // mu_; the front one is being read
  bool stop_ = false;         // mu_
  bool ended_ = false;        // mu_: the producer has returned its last block
  uint64_t end_raw_ = 0;      // mu_
  std::exception_ptr error_;  // mu_ (read only after ended_)
  std::thread producer_;      // last: started once everything above exists
};

std::unique_ptr<ByteSource> wrap(std::unique_ptr<Raw> raw, std::string name, uint64_t total) {
  std::string_view magic = raw->peek(4);
  auto u = [&](size_t i) { return static_cast<unsigned char>(magic[i]); };
  if (magic.size() >= 2 && u(0) == 0x1f && u(1) == 0x8b)
    return std::make_unique<AheadSource>(std::make_unique<GzipSource>(std::move(raw), std::move(name), total));
  if (magic.size() >= 4 && u(0) == 0x28 && u(1) == 0xb5 && u(2) == 0x2f && u(3) == 0xfd)
    return std::make_unique<AheadSource>(std::make_unique<ZstdSource>(std::move(raw), std::move(name), total));
  return std::make_unique<PlainSource>(std::move(raw), std::move(name), total);
}

}  // namespace

namespace {
// Bytes discovery read from standard input to sniff it; the next open_source("-") delivers them
// first. Process-wide because standard input is.
std::string& stdin_pushed_back() {
  static std::string bytes;
  return bytes;
}
}  // namespace

void push_back_stdin(std::string bytes) {
  std::string& held = stdin_pushed_back();
  held = std::move(bytes) + held;
}

namespace {
std::mutex& redirect_mu() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::string>& redirects() {
  static std::map<std::string, std::string> m;
  return m;
}
std::string redirect_key(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}
}  // namespace

void redirect(const std::string& path, const std::string& copy) {
  std::lock_guard lock(redirect_mu());
  if (copy.empty()) redirects().erase(redirect_key(path));
  else redirects()[redirect_key(path)] = copy;
}

std::unique_ptr<ByteSource> open_source(const std::string& path) {
  std::string open_path = path;
  if (path != "-") {
    std::lock_guard lock(redirect_mu());
    if (!redirects().empty())
      if (auto it = redirects().find(redirect_key(path)); it != redirects().end()) open_path = it->second;
  }
  if (path == "-") {
    struct stat st{};
    bool regular = ::fstat(0, &st) == 0 && S_ISREG(st.st_mode);
    uint64_t total = regular ? st.st_size : 0;
    std::string prefix = std::exchange(stdin_pushed_back(), std::string());
    // A pushed-back head means the descriptor's offset is past it: no positional reads then.
    auto raw = std::make_unique<FdRaw>(0, "<stdin>", false, regular && prefix.empty());
    if (!prefix.empty()) raw->put_back(std::move(prefix));
    return wrap(std::move(raw), "<stdin>", total);
  }
  int fd = ::open(open_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("{}: {}", path, std::strerror(errno)));
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw InputError(fmt::format("{}: {}", path, std::strerror(e)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InputError(fmt::format("{}: is a directory, not a log file", path));
  }
  uint64_t total = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  auto raw = std::make_unique<FdRaw>(fd, path, true, S_ISREG(st.st_mode));
  try {
    return wrap(std::move(raw), path, total);
  } catch (const InputError&) {
    throw;
  }
}

std::unique_ptr<ByteSource> memory_source(std::string data, std::string name) {
  uint64_t total = data.size();
  return wrap(std::make_unique<MemRaw>(std::move(data)), std::move(name), total);
}

void for_each_line(ByteSource& src, const std::function<bool(std::string_view, uint64_t)>& fn,
                   size_t max_line) {
  std::vector<char> buf(1 << 20);
  std::string carry;
  bool overflow = false;  // the current line already exceeded max_line
  uint64_t lineno = 0;
  auto emit = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return fn(line, ++lineno);
  };
  for (;;) {
    size_t n = src.read(buf.data(), buf.size());
    if (n == 0) break;
    std::string_view chunk(buf.data(), n);
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      std::string_view piece = chunk.substr(0, nl);
      if (!overflow) {
        size_t room = max_line - std::min(max_line, carry.size());
        carry.append(piece.substr(0, room));
        if (piece.size() > room) overflow = true;
      }
      if (nl == std::string_view::npos) break;
      if (!emit(carry)) return;
      carry.clear();
      overflow = false;
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!carry.empty() || overflow) emit(carry);
}

void for_each_line(const std::string& path,
                   const std::function<bool(std::string_view, uint64_t)>& fn, size_t max_line) {
  auto src = open_source(path);
  for_each_line(*src, fn, max_line);
}

}  // namespace alog::input
