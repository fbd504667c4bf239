// Fuzzes the byte sources: magic-byte detection and the streaming gzip / zstd decoders behind
// input::memory_source, read to the end with odd buffer sizes, and for_each_line on top.
//
// Byte 0 picks the mode, byte 1 the read size, the rest is the payload:
//   0  "\x1f\x8b" + payload            gzip magic in front of garbage
//   1  "\x28\xb5\x2f\xfd" + payload    zstd magic in front of garbage
//   2  payload as is
//   3  gzip(payload), then truncated and/or one byte flipped (bytes 2..5 of the input say where)
//   4  zstd(payload), likewise
// Only InputError may escape, and its message names the source. For modes 3 and 4: an intact
// stream gives back exactly the payload; a truncated one always ends in InputError, after handing
// out only a prefix of the payload. A zstd stream gives the same bytes and error for any read
// size, errors included. With read-ahead (ByteSource::read_ahead, blocks of 1 + byte 1 % 61
// bytes) every input gives exactly what direct reads of one block at a time give.
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "analyze_logs/input.hpp"

using namespace alog;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_decompress invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond) \
  do {              \
    if (!(cond)) fail(#cond); \
  } while (0)

std::string gzip(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(n)) std::abort();
  out.resize(n);
  return out;
}

struct Outcome {
  std::string out;
  bool error = false;
  std::string message;
  input::Compression compression = input::Compression::none;
};

// Reads with reads of `step` bytes; with read-ahead in blocks of `ahead` bytes unless 0.
Outcome read_all(std::string bytes, size_t step, size_t ahead = 0) {
  Outcome o;
  auto src = input::memory_source(std::move(bytes), "fuzz.gz");
  o.compression = src->compression();
  if (ahead) src->read_ahead({ahead, 2});
  std::string buf(step, '\0');
  try {
    for (;;) {
      size_t n = src->read(buf.data(), buf.size());
      CHECK(n <= buf.size());
      if (n == 0) break;
      o.out.append(buf.data(), n);
      CHECK(o.out.size() < (64u << 20));  // a bomb must not run away (the fuzzer's limit is smaller)
    }
  } catch (const input::InputError& e) {
    CHECK(std::string_view(e.what()).starts_with("fuzz.gz: "));
    o.error = true;
    o.message = e.what();
  }
  CHECK(src->raw_bytes_read() <= src->total_raw_bytes());
  return o;
}

void lines(std::string bytes) {
  auto src = input::memory_source(std::move(bytes), "fuzz.gz");
  uint64_t last = 0;
  try {
    input::for_each_line(
        *src,
        [&](std::string_view line, uint64_t n) {
          CHECK(n == last + 1);
          CHECK(line.size() <= 256);
          CHECK(line.find('\n') == std::string_view::npos);
          last = n;
          return true;
        },
        256);
  } catch (const input::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  int mode = data[0] % 5;
  size_t step = 1 + data[1] % 97;
  size_t cut = static_cast<size_t>(data[2]) | static_cast<size_t>(data[3]) << 8;
  size_t flip = static_cast<size_t>(data[4]) | static_cast<size_t>(data[5]) << 8;
  std::string payload(reinterpret_cast<const char*>(data) + 6, size - 6);

  std::string bytes;
  switch (mode) {
    case 0: bytes = std::string("\x1f\x8b", 2) + payload; break;
    case 1: bytes = std::string("\x28\xb5\x2f\xfd", 4) + payload; break;
    case 2: bytes = payload; break;
    default: bytes = mode == 3 ? gzip(payload) : zstd(payload); break;
  }
  bool truncated = false, flipped = false;
  if (mode >= 3) {
    // cut: 0 keeps everything, else keeps cut % size bytes; flip: 0 none, else xor one byte.
    if (cut != 0 && cut % bytes.size() < bytes.size()) {
      bytes.resize(cut % bytes.size());
      truncated = true;
    }
    if (flip != 0 && !bytes.empty()) {
      bytes[flip % bytes.size()] = static_cast<char>(bytes[flip % bytes.size()] ^ 0x5a);
      flipped = true;
    }
  }

  Outcome o = read_all(bytes, step);
  if (mode >= 3 && !flipped) {
    if (!truncated) {
      CHECK(!o.error);
      CHECK(o.out == payload);
    } else if (bytes.size() >= 4) {  // shorter than the magic: read as plain bytes
      CHECK(o.error);
      CHECK(payload.compare(0, o.out.size(), o.out) == 0);
    }
  }
  // The same bytes read with a different buffer size give the same result.
  Outcome o2 = read_all(bytes, 65536);
  CHECK(o2.error == o.error);
  if (!o.error) CHECK(o2.out == o.out);
  if (o.compression == input::Compression::zstd) CHECK(o2.out == o.out && o2.message == o.message);
  // Read-ahead hands out exactly what direct reads of one block at a time give, error included.
  size_t block = 1 + data[1] % 61;
  Outcome direct = read_all(bytes, block);
  Outcome ahead = read_all(bytes, step, block);
  CHECK(ahead.error == direct.error && ahead.message == direct.message && ahead.out == direct.out);
  lines(bytes);
  return 0;
}
