// Input layer: turns a path (plain file, .gz, .zst, standard input) into a stream of bytes, and
// bytes into lines. Compression is detected from the first bytes, never from the name.
//
// Reads use read(2) or pread(2) into large buffers, never mmap: a file truncated while we read it
// must give a short read, not SIGBUS (ripgrep learned this the hard way).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace alog::input {

enum class Compression { none, gzip, zstd };
std::string_view compression_name(Compression c);

// An input that could not be opened or read. what() is one line naming the file and the reason,
// ready for stderr ("orchestrator.log: No such file or directory").
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A sequential source of decompressed bytes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to `cap` bytes of `buf`; returns 0 at the end of input. Throws InputError on a read
  // error or a corrupt/truncated compressed stream (the message names the file and says how many
  // compressed bytes were consumed).
  virtual size_t read(char* buf, size_t cap) = 0;
  // The name used in messages and reports ("-" shows as "<stdin>").
  virtual const std::string& name() const = 0;
  virtual Compression compression() const = 0;
  // Size on disk when known (regular files), else 0; and raw (compressed) bytes consumed so far.
  virtual uint64_t total_raw_bytes() const = 0;
  virtual uint64_t raw_bytes_read() const = 0;

  // An uncompressed regular file (named, or standard input redirected from one): its descriptor
  // and the bytes [begin, end) not yet read, end being its size when opened. The scanner then
  // reads disjoint ranges with pread(2) on every thread at once instead of calling read().
  // nullopt for pipes, terminals, compressed data and memory. read() must not be mixed with it.
  struct Positional {
    int fd = -1;
    uint64_t begin = 0, end = 0;
  };
  virtual std::optional<Positional> positional() const { return std::nullopt; }

  // For a reader that takes the whole input (the scanner): from this call on, a compressed source
  // decompresses on a thread of its own, at most `blocks` blocks of `block_bytes` ahead of the
  // reader, and read() hands out those bytes. What the reader gets does not change: read()
  // delivers the bytes a reader without read-ahead gets when it reads block_bytes at a time, then
  // throws the same InputError, at the same point of the stream, on this and every later call.
  // raw_bytes_read() then counts the compressed bytes behind what read() has delivered. The thread
  // is always joined when the source is destroyed, however early the reader stops (a producer
  // waiting on a pipe is woken). A no-op for uncompressed input and once reading ahead.
  struct ReadAhead {
    size_t block_bytes = size_t{1} << 20;
    unsigned blocks = 3;
  };
  virtual void read_ahead(ReadAhead) {}
};

// Opens `path` ("-" for standard input). Throws InputError if it cannot be opened, is a
// directory, or is not readable.
std::unique_ptr<ByteSource> open_source(const std::string& path);

// --follow: from now on open_source(path) reads `copy` instead, still named `path`. The follow
// loop keeps a copy of every line it read of a growing file (across rotation and truncation), so
// the analysis of the job so far reads exactly those bytes. Paths are compared lexically
// normalised ("a//b/./c" is "a/b/c"). Process-wide, like standard input; an empty `copy` removes it.
void redirect(const std::string& path, const std::string& copy);

// Puts `bytes`, already read from standard input (file descriptor 0) by whoever sniffed it, back in
// front of it: the next open_source("-") delivers them before reading the descriptor, so a
// consumer sees exactly the bytes it would have seen unsniffed. Raw bytes (still compressed when
// the input is). Several calls stack, the last one's bytes first.
void push_back_stdin(std::string bytes);

// Wraps an in-memory buffer (tests, fuzzers). Compression is detected as for files.
std::unique_ptr<ByteSource> memory_source(std::string data, std::string name = "<memory>");

// Calls fn(line, line_number) for each '\n'-terminated line (the '\n' and one trailing '\r'
// removed; a last line without '\n' is still delivered). Line numbers start at 1. Lines longer
// than `max_line` bytes are delivered truncated to max_line bytes (their length is not
// otherwise limited in memory). Returning false from fn stops early.
void for_each_line(ByteSource& src, const std::function<bool(std::string_view, uint64_t)>& fn,
                   size_t max_line = 1 << 20);

// Convenience: opens `path` and runs for_each_line on it.
void for_each_line(const std::string& path,
                   const std::function<bool(std::string_view, uint64_t)>& fn,
                   size_t max_line = 1 << 20);

}  // namespace alog::input
