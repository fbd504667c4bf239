// input::open_source / memory_source / for_each_line: plain, gzip and zstd inputs (compressed
// here with zlib and libzstd, then read back), compression detected from the bytes and never
// from the name, concatenated gzip members, small and odd read sizes, and the one-line errors
// for files that cannot be opened.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/input.hpp"
#include "support.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

using alog::test_support::TempDir;
using alog::test_support::gzip;

std::string zstd(std::string_view in, int level = 3) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Some log text that does not compress to nothing: varied numbers, a few long lines.
std::string sample_text(size_t lines, uint32_t seed = 5) {
  std::mt19937 rng(seed);
  std::string s;
  for (size_t i = 0; i < lines; ++i) {
    s += "11:22:20    INFO [weights][" + std::to_string(rng()) +
         "] client.done wall_ms=" + std::to_string(rng() % 99999) +
         " rpc_ms=" + std::to_string(rng() % 9999) + " queue_ms=" + std::to_string(rng() % 999) +
         "\n";
    if (i % 97 == 0) s += std::string(rng() % 5000, 'x') + "\n";
  }
  return s;
}

std::string read_all(input::ByteSource& src, size_t buf_size) {
  std::string out, buf(buf_size, '\0');
  for (;;) {
    size_t n = src.read(buf.data(), buf.size());
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

std::vector<std::string> lines_of(input::ByteSource& src, size_t max_line = 1 << 20) {
  std::vector<std::string> v;
  input::for_each_line(
      src,
      [&](std::string_view l, uint64_t n) {
        EXPECT_EQ(n, v.size() + 1);
        v.emplace_back(l);
        return true;
      },
      max_line);
  return v;
}

}  // namespace

// ---- Round trips ------------------------------------------------------------------------------

TEST(InputSource, PlainMemoryRoundTrip) {
  std::string text = sample_text(300);
  auto src = input::memory_source(text, "x.log");
  EXPECT_EQ(src->compression(), input::Compression::none);
  EXPECT_EQ(src->name(), "x.log");
  EXPECT_EQ(read_all(*src, 4096), text);
  EXPECT_EQ(src->raw_bytes_read(), text.size());
  EXPECT_EQ(src->total_raw_bytes(), text.size());
}

TEST(InputSource, GzipRoundTripWithEveryReadSize) {
  std::string text = sample_text(2000);
  std::string gz = gzip(text);
  for (size_t buf : {1u, 7u, 4096u, 1u << 20}) {
    auto src = input::memory_source(gz, "o.log.gz");
    EXPECT_EQ(src->compression(), input::Compression::gzip);
    EXPECT_EQ(read_all(*src, buf), text) << buf;
    EXPECT_EQ(src->raw_bytes_read(), gz.size());
  }
}

TEST(InputSource, ZstdRoundTripWithEveryReadSize) {
  std::string text = sample_text(2000);
  std::string zs = zstd(text);
  for (size_t buf : {1u, 7u, 4096u, 1u << 20}) {
    auto src = input::memory_source(zs, "o.log.zst");
    EXPECT_EQ(src->compression(), input::Compression::zstd);
    EXPECT_EQ(read_all(*src, buf), text) << buf;
  }
}

TEST(InputSource, ConcatenatedGzipMembersReadAsOneStream) {
  std::string a = sample_text(500, 1), b = sample_text(10, 2), c = "last line without newline";
  auto src = input::memory_source(gzip(a) + gzip(b, 1) + gzip(c, 9));
  EXPECT_EQ(read_all(*src, 1000), a + b + c);
}

TEST(InputSource, ConcatenatedZstdFramesReadAsOneStream) {
  std::string a = sample_text(300, 3), b = sample_text(300, 4);
  auto src = input::memory_source(zstd(a) + zstd(b, 19));
  EXPECT_EQ(read_all(*src, 333), a + b);
}

TEST(InputSource, EmptyCompressedMembers) {
  auto g = input::memory_source(gzip(""));
  EXPECT_EQ(read_all(*g, 100), "");
  auto z = input::memory_source(zstd(""));
  EXPECT_EQ(read_all(*z, 100), "");
  auto e = input::memory_source("");
  EXPECT_EQ(e->compression(), input::Compression::none);
  EXPECT_EQ(read_all(*e, 100), "");
}

TEST(InputSource, CompressionIsDetectedFromBytesNotFromTheName) {
  TempDir d;
  std::string text = sample_text(100);
  auto p1 = d.write("orchestrator.log", gzip(text));  // gzip named .log
  auto p2 = d.write("inference.log.gz", text);        // plain named .gz
  auto p3 = d.write("trainer.log", zstd(text));       // zstd named .log
  auto s1 = input::open_source(p1.string());
  EXPECT_EQ(s1->compression(), input::Compression::gzip);
  EXPECT_EQ(read_all(*s1, 65536), text);
  auto s2 = input::open_source(p2.string());
  EXPECT_EQ(s2->compression(), input::Compression::none);
  EXPECT_EQ(read_all(*s2, 65536), text);
  auto s3 = input::open_source(p3.string());
  EXPECT_EQ(s3->compression(), input::Compression::zstd);
  EXPECT_EQ(read_all(*s3, 65536), text);
}

TEST(InputSource, FileSizesAndNames) {
  TempDir d;
  std::string gz = gzip(sample_text(100));
  auto p = d.write("a.log.gz", gz);
  auto s = input::open_source(p.string());
  EXPECT_EQ(s->name(), p.string());
  EXPECT_EQ(s->total_raw_bytes(), gz.size());
  read_all(*s, 4096);
  EXPECT_EQ(s->raw_bytes_read(), gz.size());
}

TEST(InputSource, OneOrTwoByteInputsAreNotMistakenForCompression) {
  for (std::string s :
       {std::string("\x1f"), std::string("\x1f\x8b"), std::string("\x28\xb5\x2f")}) {
    auto src = input::memory_source(s);
    try {
      std::string got = read_all(*src, 16);
      if (src->compression() == input::Compression::none) {
        EXPECT_EQ(got, s);
      }
    } catch (const input::InputError&) {
      // a bare gzip magic is a truncated gzip stream: an error is fine, a crash is not
      EXPECT_NE(src->compression(), input::Compression::none);
    }
  }
}

// ---- Errors -----------------------------------------------------------------------------------

TEST(InputSource, MissingFileIsOneLineNamingIt) {
  try {
    input::open_source("/nonexistent/dir/orchestrator.log");
    FAIL() << "no exception";
  } catch (const input::InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("/nonexistent/dir/orchestrator.log"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(InputSource, DirectoryIsNotALogFile) {
  TempDir d;
  try {
    input::open_source(d.path.string());
    FAIL() << "no exception";
  } catch (const input::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(d.path.string()), std::string::npos);
  }
}

TEST(InputSource, TruncatedGzipThrowsAfterTheReadablePart) {
  std::string text = sample_text(3000);
  std::string gz = gzip(text);
  auto src = input::memory_source(gz.substr(0, gz.size() * 2 / 3), "cut.log.gz");
  std::string got, buf(4096, '\0');
  bool threw = false;
  try {
    for (;;) {
      size_t n = src->read(buf.data(), buf.size());
      if (n == 0) break;
      got.append(buf.data(), n);
    }
  } catch (const input::InputError& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("cut.log.gz"), std::string::npos);
  }
  EXPECT_TRUE(threw);
  EXPECT_GT(got.size(), text.size() / 3);
  EXPECT_EQ(text.compare(0, got.size(), got), 0)
      << "what was delivered is a prefix of the original";
}

TEST(InputSource, TruncatedZstdThrowsAfterTheReadablePart) {
  std::string text = sample_text(3000);
  std::string zs = zstd(text);
  auto src = input::memory_source(zs.substr(0, zs.size() / 2), "cut.log.zst");
  std::string got, buf(4096, '\0');
  bool threw = false;
  try {
    for (;;) {
      size_t n = src->read(buf.data(), buf.size());
      if (n == 0) break;
      got.append(buf.data(), n);
    }
  } catch (const input::InputError& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("cut.log.zst"), std::string::npos);
  }
  EXPECT_TRUE(threw);
  EXPECT_EQ(text.compare(0, got.size(), got), 0);
}

// ---- Lines ------------------------------------------------------------------------------------

TEST(InputLines, LinesAreNumberedFromOneWithCrAndNewlineRemoved) {
  auto src = input::memory_source("a\r\nb\n\nc\r\nlast");
  auto v = lines_of(*src);
  EXPECT_EQ(v, (std::vector<std::string>{"a", "b", "", "c", "last"}));
}

TEST(InputLines, OnlyOneTrailingCarriageReturnIsRemoved) {
  auto src = input::memory_source("tqdm 1\rtqdm 2\r\r\n");
  auto v = lines_of(*src);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "tqdm 1\rtqdm 2\r");
}

TEST(InputLines, LongLinesAreTruncatedButLineNumbersKeepCounting) {
  std::string text = "short\n" + std::string(5000, 'x') + "\nafter\n";
  auto src = input::memory_source(text);
  auto v = lines_of(*src, 100);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[1], std::string(100, 'x'));
  EXPECT_EQ(v[2], "after");
}

TEST(InputLines, LinesOfACompressedFile) {
  TempDir d;
  std::string text = "one\ntwo\r\nthree";
  auto p = d.write("x.log.zst", zstd(text));
  std::vector<std::string> v;
  input::for_each_line(p.string(), [&](std::string_view l, uint64_t) {
    v.emplace_back(l);
    return true;
  });
  EXPECT_EQ(v, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(InputLines, ReturningFalseStopsEarly) {
  auto src = input::memory_source(gzip("1\n2\n3\n4\n"));
  int seen = 0;
  input::for_each_line(*src, [&](std::string_view, uint64_t n) {
    ++seen;
    return n < 2;
  });
  EXPECT_EQ(seen, 2);
}

TEST(InputLines, LinesSpanningTheReadBuffer) {
  // for_each_line reads 1 MiB at a time: lines cut across that boundary must come out whole.
  std::string text;
  size_t n = 0;
  while (text.size() < (3u << 20)) {
    ++n;
    text += "line " + std::to_string(n - 1) + " " + std::string(n % 300, 'p') + "\n";
  }
  auto src = input::memory_source(gzip(text));
  size_t count = 0;
  bool ok = true;
  input::for_each_line(*src, [&](std::string_view l, uint64_t ln) {
    std::string want = "line " + std::to_string(ln - 1) + " " + std::string(ln % 300, 'p');
    ok = ok && l == want;
    ++count;
    return true;
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(count, n);
}
