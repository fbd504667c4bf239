// ByteSource::read_ahead (issue 22): a .gz or .zst input decompressed on a thread of its own, a
// few blocks ahead of the reader. The reader must not see the difference: the same bytes as the
// plain text for every block and read size (one byte, odd sizes, either side of a block, more than
// the whole input), across gzip members and zstd frames, for empty streams; after a truncated or
// corrupt stream, the same good bytes and then the same InputError as a reader without read-ahead,
// on every later call too. The thread is joined however early the reader stops: destroyed before
// reading, mid-block, with every block full, while waiting on a stalled pipe. Memory stays bounded:
// a reader that stops reading holds back the writer of a pipe.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "analyze_logs/input.hpp"
#include "support.hpp"

using namespace alog;
using namespace std::string_literals;

namespace {

using alog::test_support::TempDir;
using alog::test_support::gzip;
using alog::test_support::zstd;
using ReadAhead = input::ByteSource::ReadAhead;


// Log-like text of about `bytes` bytes that compresses about 3:1 (random numbers and ids).
std::string log_text(size_t bytes, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < bytes) {
    s += "11:22:20    INFO [weights][" + std::to_string(rng()) + "] client.done wall_ms=" +
         std::to_string(rng() % 99999) + " rpc_ms=" + std::to_string(rng() % 9999) + "\n";
    if (rng() % 50 == 0) s += std::string(rng() % 3000, static_cast<char>('a' + rng() % 26)) + "\n";
  }
  s.resize(bytes);
  return s;
}

struct Got {
  std::string bytes;
  std::string error;  // empty: the input ended normally
  bool operator==(const Got&) const = default;
};

// Reads src to its end (or its error) with reads of `cap` bytes.
Got drain(input::ByteSource& src, size_t cap) {
  Got g;
  std::string buf(cap, '\0');
  try {
    for (;;) {
      size_t n = src.read(buf.data(), cap);
      if (n == 0) break;
      EXPECT_LE(n, cap);
      g.bytes.append(buf.data(), n);
    }
  } catch (const input::InputError& e) {
    g.error = e.what();
  }
  return g;
}

Got read_ahead(const std::string& data, ReadAhead ra, size_t cap, const std::string& name = "x.log") {
  auto src = input::memory_source(data, name);
  src->read_ahead(ra);
  return drain(*src, cap);
}

Got read_direct(const std::string& data, size_t cap, const std::string& name = "x.log") {
  auto src = input::memory_source(data, name);
  return drain(*src, cap);
}

// What a reader gets after the input ended in an error: the error again, on every call.
void expect_error_is_sticky(input::ByteSource& src, const std::string& error) {
  char b[16];
  for (int i = 0; i < 3; ++i) {
    try {
      src.read(b, sizeof b);
      ADD_FAILURE() << "no error on call " << i << " after the first";
    } catch (const input::InputError& e) {
      EXPECT_EQ(std::string(e.what()), error);
    }
  }
}

}  // namespace

// ---- Same bytes -------------------------------------------------------------------------------

TEST(ReadAhead, SameBytesForEveryBlockAndReadSize) {
  std::string text = log_text(700'000);
  const std::string gz = gzip(text), zs = zstd(text);
  struct Case {
    size_t block;
    std::vector<size_t> caps;
  };
  // Reads smaller than, equal to, either side of and larger than a block, and than the input.
  std::vector<Case> cases = {
      {4096, {1000, 4095, 4096, 4097, 65536}},
      {65536, {7, 65535, 65536, 65537, 1u << 20}},
      {1u << 20, {4096, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, 4u << 20}},
      {777'777, {333'333, 777'777, 3u << 20}},  // a block larger than the whole output
  };
  for (const auto* data : {&gz, &zs})
    for (const auto& c : cases)
      for (unsigned blocks : {1u, 2u, 3u})
        for (size_t cap : c.caps) {
          Got g = read_ahead(*data, {c.block, blocks}, cap);
          EXPECT_EQ(g.error, "");
          ASSERT_EQ(g.bytes.size(), text.size()) << "block " << c.block << " x" << blocks << " cap " << cap;
          EXPECT_TRUE(g.bytes == text) << "block " << c.block << " x" << blocks << " cap " << cap;
        }
}

TEST(ReadAhead, OneByteBlocksAndOneByteReads) {
  std::string text = log_text(20'000, 2);
  for (const std::string& data : {gzip(text), zstd(text)}) {
    EXPECT_EQ(read_ahead(data, {1, 1}, 1).bytes, text);
    EXPECT_EQ(read_ahead(data, {1, 3}, 4096).bytes, text);
    EXPECT_EQ(read_ahead(data, {7, 2}, 1).bytes, text);
  }
}

TEST(ReadAhead, MultiFrameZstdAndMultiMemberGzipAcrossBlockBoundaries) {
  std::string a = log_text(300'000, 3), b = log_text(5, 4), c = log_text(200'001, 5);
  // Frames of different levels, with and without checksums, an empty frame between them.
  std::string zs = zstd(a, 1) + zstd("", 3) + zstd(b, 19, false) + zstd(c, 3);
  std::string gz = gzip(a, 1) + gzip("", 6) + gzip(b, 9) + gzip(c);
  for (const auto* data : {&zs, &gz})
    for (size_t block : {size_t{4096}, size_t{300'000}, size_t{300'001}, size_t{1} << 20})
      for (size_t cap : {size_t{999}, size_t{1} << 20}) {
        Got g = read_ahead(*data, {block, 3}, cap);
        EXPECT_EQ(g.error, "") << block << " " << cap;
        EXPECT_TRUE(g.bytes == a + b + c) << block << " " << cap;
      }
}

TEST(ReadAhead, EmptyStreamsEndAtOnceAndStayEnded) {
  for (const std::string& data : {gzip(""), zstd(""), zstd("") + zstd("")}) {
    auto src = input::memory_source(data, "empty.log.zst");
    src->read_ahead({});
    char b[8];
    EXPECT_EQ(src->read(b, sizeof b), 0u);
    EXPECT_EQ(src->read(b, sizeof b), 0u);
    EXPECT_EQ(src->raw_bytes_read(), data.size());
  }
}

TEST(ReadAhead, FilesAndConsumedBytes) {
  TempDir d;
  std::string text = log_text(3u << 20, 6);
  std::string zs = zstd(text);
  auto p = d.write("trainer.log.zst", zs);
  auto src = input::open_source(p.string());
  EXPECT_FALSE(src->positional().has_value());
  src->read_ahead({65536, 3});
  EXPECT_EQ(src->compression(), input::Compression::zstd);
  EXPECT_EQ(src->name(), p.string());
  EXPECT_EQ(src->total_raw_bytes(), zs.size());
  // raw_bytes_read() counts the compressed bytes behind what was delivered: it never goes back,
  // stays behind the total until the end, and is the whole file at the end.
  std::string got, buf(100'000, '\0');
  uint64_t last = 0;
  bool behind = false;
  while (size_t n = src->read(buf.data(), buf.size())) {
    got.append(buf.data(), n);
    uint64_t raw = src->raw_bytes_read();
    EXPECT_GE(raw, last);
    last = raw;
    behind = behind || raw < zs.size();
  }
  EXPECT_TRUE(behind);
  EXPECT_EQ(src->raw_bytes_read(), zs.size());
  EXPECT_TRUE(got == text);
}

TEST(ReadAhead, AfterSomeDirectReadsAndCalledTwice) {
  std::string text = log_text(500'000, 7);
  for (const std::string& data : {gzip(text), zstd(text)}) {
    auto src = input::memory_source(data, "x.gz");
    std::string head(12'345, '\0');
    size_t got = 0;
    while (got < head.size()) got += src->read(head.data() + got, head.size() - got);
    src->read_ahead({4096, 2});
    src->read_ahead({1u << 20, 3});  // a no-op: already reading ahead
    Got rest = drain(*src, 10'000);
    EXPECT_EQ(rest.error, "");
    EXPECT_TRUE(head + rest.bytes == text);
  }
}

TEST(ReadAhead, PlainInputIsUnchangedAndStaysPositional) {
  TempDir d;
  std::string text = log_text(100'000, 8);
  auto p = d.write("plain.log", text);
  auto src = input::open_source(p.string());
  src->read_ahead({});
  EXPECT_EQ(src->compression(), input::Compression::none);
  auto pos = src->positional();
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->end, text.size());
  EXPECT_EQ(read_ahead(text, {}, 4096).bytes, text);
}

// ---- Errors -----------------------------------------------------------------------------------

// A truncated stream: every byte that could be decoded, then the same error as a reader without
// read-ahead, whatever the block and read sizes.
TEST(ReadAhead, TruncatedStreamsGiveTheSameBytesAndErrorAsDirectReads) {
  std::string text = log_text(2u << 20, 9);
  const std::string gz = gzip(text), zs = zstd(text);
  for (const auto* full : {&gz, &zs})
    for (double at : {0.0001, 0.3, 0.77, 0.9999}) {
      std::string cut = full->substr(0, static_cast<size_t>(static_cast<double>(full->size()) * at));
      const std::string name = full == &gz ? "cut.log.gz" : "cut.log.zst";
      Got want = read_direct(cut, 1u << 20, name);
      ASSERT_NE(want.error, "") << at;
      EXPECT_NE(want.error.find(name + ": truncated "), std::string::npos) << want.error;
      EXPECT_EQ(text.compare(0, want.bytes.size(), want.bytes), 0);
      EXPECT_EQ(read_direct(cut, 4096, name), want) << "direct reads must not depend on the read size";
      for (size_t block : {size_t{4096}, size_t{65536}, size_t{1} << 20})
        for (size_t cap : {size_t{1000}, size_t{4u} << 20}) {
          Got g = read_ahead(cut, {block, 3}, cap, name);
          EXPECT_EQ(g.error, want.error) << at << " " << block << " " << cap;
          EXPECT_EQ(g.bytes.size(), want.bytes.size()) << at << " " << block << " " << cap;
          EXPECT_TRUE(g.bytes == want.bytes);
        }
    }
}

// A corrupt stream or garbage after the data: the same bytes and error as a reader without
// read-ahead that reads a block at a time (the decoder is called the same way), and the error
// again on every later call.
TEST(ReadAhead, CorruptStreamsGiveTheSameBytesAndErrorAsDirectReads) {
  std::string text = log_text(2u << 20, 10);
  std::vector<std::pair<std::string, std::string>> inputs;  // (bytes, name)
  for (double at : {0.2, 0.5, 0.8}) {
    std::string gz = gzip(text), zs = zstd(text);
    gz[static_cast<size_t>(static_cast<double>(gz.size()) * at)] ^= 0x5a;
    zs[static_cast<size_t>(static_cast<double>(zs.size()) * at)] ^= 0x5a;
    inputs.emplace_back(gz, "bad.log.gz");
    inputs.emplace_back(zs, "bad.log.zst");
  }
  inputs.emplace_back(gzip(text) + "junk after the member", "junk.log.gz");
  inputs.emplace_back("\x28\xb5\x2f\xfd"s + "garbage garbage garbage\n", "garbage.log");
  inputs.emplace_back("\x1f\x8b"s + "this is not deflate data at all\n", "garbage.log");
  for (const auto& [data, name] : inputs)
    for (size_t block : {size_t{65536}, size_t{1} << 20}) {
      Got want = read_direct(data, block, name);
      ASSERT_NE(want.error, "") << name;
      EXPECT_TRUE(want.error.starts_with(name + ": corrupt ")) << want.error;
      for (size_t cap : {size_t{4096}, block + 1}) {
        auto src = input::memory_source(data, name);
        src->read_ahead({block, 3});
        Got g = drain(*src, cap);
        EXPECT_EQ(g.error, want.error) << name << " " << block << " " << cap;
        EXPECT_EQ(g.bytes.size(), want.bytes.size()) << name << " " << block << " " << cap;
        EXPECT_TRUE(g.bytes == want.bytes);
        expect_error_is_sticky(*src, want.error);
      }
    }
}

// ---- Stopping early ---------------------------------------------------------------------------

// Destroyed at every stage: before the first read (the producer filling or waiting with every
// block full), after one byte, at and across a block boundary, after the end, after an error.
// Each must join the thread (ASan and TSan-free runs check no thread or block outlives it).
TEST(ReadAhead, DestroyedMidStreamJoinsCleanly) {
  std::string text = log_text(1u << 20, 11);
  std::string gz = gzip(text), zs = zstd(text);
  std::string cut = zs.substr(0, zs.size() / 2);
  for (int round = 0; round < 20; ++round)
    for (const auto* data : {&gz, &zs, &cut})
      for (size_t stop_after : {size_t{0}, size_t{1}, size_t{4096}, size_t{4097}, size_t{50'000}, size_t{2} << 20}) {
        auto src = input::memory_source(*data, "stop.log");
        src->read_ahead({4096, 3});
        if (round % 2) std::this_thread::sleep_for(std::chrono::microseconds(200));  // let it fill up
        std::string got, buf(4096, '\0');
        try {
          while (got.size() < stop_after) {
            size_t n = src->read(buf.data(), std::min(buf.size(), stop_after - got.size()));
            if (n == 0) break;
            got.append(buf.data(), n);
          }
        } catch (const input::InputError&) {
          EXPECT_EQ(data, &cut);
        }
        EXPECT_EQ(text.compare(0, got.size(), got), 0);
        src.reset();  // joins
      }
}

// The early stop as the scanner and for_each_line make it: a reader that returns after a few lines.
TEST(ReadAhead, EarlyStopOfALineReader) {
  std::string text = log_text(3u << 20, 12);
  for (const std::string& data : {gzip(text), zstd(text)}) {
    auto src = input::memory_source(data, "lines.log");
    src->read_ahead({65536, 2});
    uint64_t seen = 0;
    std::string first;
    input::for_each_line(*src, [&](std::string_view line, uint64_t no) {
      if (no == 1) first = line;
      seen = no;
      return no < 1000;
    });
    EXPECT_EQ(seen, 1000u);
    EXPECT_EQ(first, text.substr(0, text.find('\n')));
  }
}

namespace {

// A pipe whose write end the test holds, opened by path as `analyze-logs /dev/fd/N` would.
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error("pipe");
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  std::string path() const { return "/proc/self/fd/" + std::to_string(r); }
  void close_write() {
    if (w >= 0) ::close(w);
    w = -1;
  }
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

// The producer waits in read(2) on a pipe whose writer has gone quiet (not closed): destroying
// the source must wake it and return, not wait for the writer.
TEST(ReadAhead, DestroyedWhileWaitingOnAStalledPipe) {
  std::string text = log_text(1u << 20, 13);
  std::string zs = zstd(text);
  // The magic alone (open_source sniffs it), part of a block, most of a pipe's capacity.
  for (size_t sent : {size_t{4}, size_t{1000}, size_t{60'000}}) {
    Pipe p;
    ASSERT_TRUE(write_all(p.w, std::string_view(zs).substr(0, sent)));
    auto src = input::open_source(p.path());
    ASSERT_EQ(src->compression(), input::Compression::zstd);
    src->read_ahead({4096, 2});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the producer is in read(2)
    auto done = std::async(std::launch::async, [&] { src.reset(); });
    if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      ADD_FAILURE() << "the source was not destroyed while its pipe was stalled (sent " << sent << ")";
      p.close_write();  // unblocks it, so the test ends
    }
    done.get();
  }
}

// Bounded memory: a reader that stops reading holds back a pipe's writer after a few blocks
// (blocks x block_bytes decompressed, the decoder's input buffer and the pipe's), and all of a
// long stream arrives intact once it reads again.
TEST(ReadAhead, AStoppedReaderHoldsBackThePipesWriter) {
  std::string text = log_text(24u << 20, 14);
  std::string zs = zstd(text, 1);
  ASSERT_GT(zs.size(), 2u << 20);
  Pipe p;
  ASSERT_EQ(::fcntl(p.w, F_SETFL, O_NONBLOCK), 0);
  std::atomic<size_t> written{0};
  std::atomic<bool> quit{false};
  std::thread writer([&] {
    size_t off = 0;
    while (off < zs.size() && !quit) {
      ssize_t n = ::write(p.w, zs.data() + off, std::min<size_t>(65536, zs.size() - off));
      if (n > 0) {
        off += static_cast<size_t>(n);
        written = off;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    if (off == zs.size()) p.close_write();
  });
  while (written < 4) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto src = input::open_source(p.path());
  src->read_ahead({65536, 3});
  char first[100];
  size_t n = src->read(first, sizeof first);
  ASSERT_GT(n, 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  size_t held = written;
  // 3 blocks of 64 KiB decompressed ahead are under 64 KiB of this stream; with the decoder's
  // 128 KiB input buffer, a 64 KiB pipe and one write in flight, well under 1 MiB of the 3 MB has
  // left the writer.
  EXPECT_LT(held, size_t{1} << 20);
  Got rest = drain(*src, 1u << 20);
  EXPECT_EQ(rest.error, "");
  EXPECT_EQ(n + rest.bytes.size(), text.size());
  EXPECT_TRUE(std::string(first, n) + rest.bytes == text);
  quit = true;
  writer.join();
}
