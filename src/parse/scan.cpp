// The scanner's shape (see scan.hpp for the contract):
//
//  - Every thread, the caller included, runs the same loop: take a free chunk, read the next piece
//    of input straight into it, scan it, hand it in. The chunk is scanned by the thread that just
//    wrote it, while it is still in that core's cache, and no thread sits idle as "the reader" or
//    "the merger".
//  - A plain regular file is read by ranges (RangeReader): only handing out the next range is
//    serialised, and every thread copies its own range out of the page cache with pread(2) at the
//    same time. Anything else (pipes, .gz, .zst) is read sequentially (Filler): reads are
//    serialised and numbered. Both cut the input into the same segments, so the figures are the
//    same either way (ScanPositional.* holds them to each other). A compressed input is
//    decompressed ahead on a thread of the source's own (ByteSource::read_ahead), so the reading
//    thread only copies out decompressed blocks and decompression runs beside the scan.
//  - Hand-ins are merged strictly in read order by whichever thread completes the next one; the
//    event sink is therefore called from one thread at a time, in file order, and the figures
//    are the same for any thread count.
//  - A chunk is read in pieces of about Options::read_bytes and cut at its last '\n' or '\r'; only
//    when no separator has turned up does it grow, up to Options::chunk_bytes, which is the longest
//    segment parsed. A longer segment is streamed through; the reading thread keeps its head and
//    decides once whether it was tagged (then it is skipped as line_too_long).
//  - The byte tests are SIMD (AVX2 when the CPU has it, else SSE2/SSSE3): counting '\n', and
//    finding where a tag's ']' (after 's', 't' or 'n', the last letter of the four tags) or the
//    first bytes of a step-budget word stand, before the exact test (Teddy, see below). In real
//    logs ANSI colour codes put ~10 '[' on every line, but these three-byte patterns are rare, so
//    almost no untagged byte costs more than the vector scan.
#include "analyze_logs/scan.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>
#include <cerrno>
#include <optional>

#include "analyze_logs/parse.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ALOG_X86 1
#endif

namespace alog::scan {

// ---- Byte kernels -------------------------------------------------------------------------------
namespace {

uint64_t count_newlines_scalar(const char* p, size_t n) {
  uint64_t c = 0;
  for (size_t i = 0; i < n; ++i) c += p[i] == '\n';
  return c;
}

// The scanner's one pass over the bytes: the first candidate in [p, e) (a ']' that closes a tag,
// looking back no further than begin, or the start of a step-budget word: parse.hpp), or nullptr;
// and `nl` += the '\n's in [p, result) (or [p, e)). Counting on the way means the bytes between
// events are read once, not once per test. Any pointer into the candidate's line will do for the
// caller, which parses the whole line.

// The bytes a step-budget word starts with (parse::starts_step_word).
constexpr std::array<bool, 256> kWordFirst = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("SOHPRWUE\"")) t[c] = true;
  return t;
}();

inline bool candidate_at(const char* begin, const char* q, const char* e) {
  return *q == ']' ? parse::closes_tag(begin, q)
                   : kWordFirst[static_cast<unsigned char>(*q)] && parse::starts_step_word(q, e);
}

const char* next_tag_scalar(const char* begin, const char* p, const char* e, uint64_t& nl) {
  const char* q = p;
  while (q < e && !candidate_at(begin, q, e)) ++q;
  nl += count_newlines_scalar(p, static_cast<size_t>(q - p));
  return q < e ? q : nullptr;
}

#if ALOG_X86
// Byte-wise counters (cmpeq gives -1, subtracting it adds 1) folded into 64-bit lanes with SAD
// before they can wrap: no popcount, one compare and one subtract per vector.
uint64_t count_newlines_sse2(const char* p, size_t n) {
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  __m128i total = zero;
  size_t i = 0;
  while (i + 64 <= n) {
    __m128i acc = zero;
    size_t end = std::min(n - 63, i + 64 * 63);  // at most 252 increments per byte lane
    for (; i < end; i += 64) {
      auto ld = [&](size_t off) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + off)); };
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(ld(0), nl));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(ld(16), nl));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(ld(32), nl));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(ld(48), nl));
    }
    total = _mm_add_epi64(total, _mm_sad_epu8(acc, zero));
  }
  auto c = static_cast<uint64_t>(_mm_cvtsi128_si64(total)) +
           static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(total, total)));
  return c + count_newlines_scalar(p + i, n - i);
}

__attribute__((target("avx2"))) uint64_t count_newlines_avx2(const char* p, size_t n) {
  const __m256i nl = _mm256_set1_epi8('\n');
  const __m256i zero = _mm256_setzero_si256();
  __m256i total = zero;
  size_t i = 0;
  while (i + 128 <= n) {
    __m256i acc = zero;
    size_t end = std::min(n - 127, i + 128 * 63);  // at most 252 increments per byte lane
    for (; i < end; i += 128) {
      const auto* v = reinterpret_cast<const __m256i*>(p + i);
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_loadu_si256(v), nl));
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_loadu_si256(v + 1), nl));
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_loadu_si256(v + 2), nl));
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_loadu_si256(v + 3), nl));
    }
    total = _mm256_add_epi64(total, _mm256_sad_epu8(acc, zero));
  }
  __m128i t2 = _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
  auto c = static_cast<uint64_t>(_mm_cvtsi128_si64(t2)) + static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(t2, t2)));
  return c + count_newlines_sse2(p + i, n - i);
}

// The vector test finds, 32 bytes at a time, the positions whose next three bytes may be a
// candidate: a step word's first three bytes ("Ste", "Sav", "Orc", ...; parse::starts_step_word)
// or one of 's', 't', 'n' followed by ']' (the last letter of a tag and its ']'). It is the
// Teddy algorithm of Hyperscan and ripgrep: each byte's low and high nibble look up the set of
// pattern groups ("buckets") that byte may stand for at that offset, and a position is kept when
// one bucket survives all three offsets. That admits a few near misses ("Stu") and nothing is
// lost; each position kept is confirmed with the exact test (confirm()). In real logs a bucket
// rarely survives, so almost no byte costs more than the vector test.
struct TeddyTables {
  uint8_t lo[3][16];
  uint8_t hi[3][16];
};

constexpr TeddyTables make_teddy() {
  struct Pattern {
    const char* bytes;  // three bytes; '\0' stands for any byte
    uint8_t bucket;
  };
  constexpr Pattern kPatterns[] = {
      {"Ste", 0}, {"Sta", 0}, {"Sav", 0}, {"Orc", 1}, {"Hit", 1}, {"Hol", 1}, {"Pau", 2},
      {"Res", 2}, {"Wai", 3}, {"Wei", 3}, {"Upd", 4}, {"Eva", 4}, {"\"st", 5},
      {"s]\0", 6}, {"t]\0", 6}, {"n]\0", 6}};
  TeddyTables t{};
  for (const Pattern& pat : kPatterns) {
    const auto bit = static_cast<uint8_t>(1u << pat.bucket);
    for (int j = 0; j < 3; ++j) {
      const auto c = static_cast<unsigned char>(pat.bytes[j]);
      for (int n = 0; n < 16; ++n) {
        if (c == 0 || (c & 15) == n) t.lo[j][n] |= bit;
        if (c == 0 || (c >> 4) == n) t.hi[j][n] |= bit;
      }
    }
  }
  return t;
}
constexpr TeddyTables kTeddy = make_teddy();

// The exact test at a position the vector test kept (q + 2 < e).
inline const char* confirm(const char* begin, const char* q, const char* e) {
  if (q[1] == ']' && parse::closes_tag(begin, q + 1)) return q + 1;
  if (kWordFirst[static_cast<unsigned char>(*q)] && parse::starts_step_word(q, e)) return q;
  return nullptr;
}

__attribute__((target("ssse3"))) inline __m128i teddy16(const char* x, const __m128i (&lo)[3],
                                                      const __m128i (&hi)[3]) {
  const __m128i low = _mm_set1_epi8(15);
  __m128i m = _mm_set1_epi8(-1);
  for (int j = 0; j < 3; ++j) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + j));
    __m128i l = _mm_shuffle_epi8(lo[j], _mm_and_si128(v, low));
    __m128i h = _mm_shuffle_epi8(hi[j], _mm_and_si128(_mm_srli_epi16(v, 4), low));
    m = _mm_and_si128(m, _mm_and_si128(l, h));
  }
  return m;
}

__attribute__((target("ssse3,popcnt"))) const char* next_tag_ssse3(const char* begin, const char* p, const char* e,
                                                                    uint64_t& nl) {
  if (*p == ']' && parse::closes_tag(begin, p)) return p;  // the vector test keeps the byte before a ']'
  __m128i lo[3], hi[3];
  for (int j = 0; j < 3; ++j) {
    lo[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kTeddy.lo[j]));
    hi[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kTeddy.hi[j]));
  }
  const __m128i lf = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
  for (; p + 66 <= e; p += 64) {
    uint64_t hits = 0, lines = 0;
    for (int k = 0; k < 4; ++k) {
      const char* x = p + 16 * k;
      __m128i m = teddy16(x, lo, hi);
      hits |= static_cast<uint64_t>(static_cast<uint16_t>(~_mm_movemask_epi8(_mm_cmpeq_epi8(m, zero)))) << (16 * k);
      lines |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(
                   _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)), lf))))
               << (16 * k);
    }
    for (; hits; hits &= hits - 1) {
      int i = std::countr_zero(hits);
      if (const char* q = confirm(begin, p + i, e)) {
        nl += static_cast<uint64_t>(std::popcount(lines & ((uint64_t{1} << i) - 1)));
        return q;
      }
    }
    nl += static_cast<uint64_t>(std::popcount(lines));
  }
  return next_tag_scalar(begin, p, e, nl);
}

__attribute__((target("avx2"))) inline uint64_t mask64(__m256i a, __m256i b) {
  return static_cast<uint32_t>(_mm256_movemask_epi8(a)) | static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(b))) << 32;
}

__attribute__((target("avx2"))) inline __m256i teddy32(const char* x, const __m256i (&lo)[3],
                                                     const __m256i (&hi)[3]) {
  const __m256i low = _mm256_set1_epi8(15);
  __m256i m = _mm256_set1_epi8(-1);
  for (int j = 0; j < 3; ++j) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j));
    __m256i l = _mm256_shuffle_epi8(lo[j], _mm256_and_si256(v, low));
    __m256i h = _mm256_shuffle_epi8(hi[j], _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    m = _mm256_and_si256(m, _mm256_and_si256(l, h));
  }
  return m;
}

__attribute__((target("avx2,popcnt"))) const char* next_tag_avx2(const char* begin, const char* p, const char* e,
                                                                  uint64_t& nl) {
  if (*p == ']' && parse::closes_tag(begin, p)) return p;  // the vector test keeps the byte before a ']'
  __m256i lo[3], hi[3];
  for (int j = 0; j < 3; ++j) {  // vpshufb looks up within each 128-bit lane: the table in both
    lo[j] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kTeddy.lo[j])));
    hi[j] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kTeddy.hi[j])));
  }
  const __m256i lf = _mm256_set1_epi8('\n'), zero = _mm256_setzero_si256();
  for (; p + 66 <= e; p += 64) {
    uint64_t hits = ~mask64(_mm256_cmpeq_epi8(teddy32(p, lo, hi), zero),
                            _mm256_cmpeq_epi8(teddy32(p + 32, lo, hi), zero));
    if (!hits) {  // the common case: count the line ends and move on
      nl += static_cast<uint64_t>(std::popcount(
          mask64(_mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), lf),
                 _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), lf))));
      continue;
    }
    uint64_t lines = mask64(_mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), lf),
                            _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), lf));
    for (; hits; hits &= hits - 1) {
      int i = std::countr_zero(hits);
      if (const char* q = confirm(begin, p + i, e)) {
        nl += static_cast<uint64_t>(std::popcount(lines & ((uint64_t{1} << i) - 1)));
        return q;
      }
    }
    nl += static_cast<uint64_t>(std::popcount(lines));
  }
  return next_tag_scalar(begin, p, e, nl);
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

bool has_ssse3() {
  static const bool yes = __builtin_cpu_supports("ssse3");
  return yes;
}
#endif

}  // namespace

uint64_t count_newlines(const char* p, size_t n) {
#if ALOG_X86
  return has_avx2() ? count_newlines_avx2(p, n) : count_newlines_sse2(p, n);
#else
  return count_newlines_scalar(p, n);
#endif
}

namespace {
const char* next_tag(const char* begin, const char* p, const char* e, uint64_t& nl) {
  if (p >= e) return nullptr;
#if ALOG_X86
  if (has_avx2()) return next_tag_avx2(begin, p, e, nl);
  if (has_ssse3()) return next_tag_ssse3(begin, p, e, nl);
  return next_tag_scalar(begin, p, e, nl);
#else
  return next_tag_scalar(begin, p, e, nl);
#endif
}
}  // namespace

const char* find_tag_close(const char* begin, const char* p, const char* e) {
  uint64_t unused = 0;
  return next_tag(begin, p, e, unused);
}

const char* find_tag_close_with(std::string_view kernel, const char* begin, const char* p, const char* e,
                                uint64_t* newlines) {
  uint64_t nl = 0;
  const char* q = nullptr;
  if (p < e) {
#if ALOG_X86
    if (kernel == "avx2" && has_avx2()) q = next_tag_avx2(begin, p, e, nl);
    else if (kernel == "ssse3" && has_ssse3()) q = next_tag_ssse3(begin, p, e, nl);
    else q = next_tag_scalar(begin, p, e, nl);
#else
    q = next_tag_scalar(begin, p, e, nl);
#endif
  }
  if (newlines) *newlines += nl;
  return q;
}

std::string_view simd_level() {
#if ALOG_X86
  return has_avx2() ? "avx2" : has_ssse3() ? "ssse3" : "sse2";
#else
  return "scalar";
#endif
}

// ---- Chunks -------------------------------------------------------------------------------------
namespace {

// The last '\n' or '\r' in [b, e), or nullptr.
const char* last_separator(const char* b, const char* e) {
  const void* nl = memrchr(b, '\n', static_cast<size_t>(e - b));
  const char* from = nl ? static_cast<const char*>(nl) : b;
  const void* cr = memrchr(from, '\r', static_cast<size_t>(e - from));
  if (cr) return static_cast<const char*>(cr);
  return static_cast<const char*>(nl);
}

// The first '\n' or '\r' in [b, e), or e.
const char* first_separator(const char* b, const char* e) {
  const char* nl = static_cast<const char*>(std::memchr(b, '\n', static_cast<size_t>(e - b)));
  const char* lim = nl ? nl : e;
  const char* cr = static_cast<const char*>(std::memchr(b, '\r', static_cast<size_t>(lim - b)));
  return cr ? cr : lim;
}

struct Chunk {
  std::unique_ptr<char[]> buf;  // capacity Options::chunk_bytes; pages are touched only as filled
  size_t cap = 0;               // positional chunks: the buffer's size
  size_t off = 0;               // the chunk's bytes start at buf + off (a positional chunk keeps the byte before)
  size_t len = 0;
  uint64_t seq = 0;
  bool starts_mid = false;  // begins inside a segment longer than a chunk
  bool ends_mid = false;    // its last segment continues in the next chunk
  bool long_skip = false;   // a tagged over-long segment ended in this chunk (line 0 of it)
  size_t scan_len = 0;      // bytes to scan: len, less an unterminated tail cut by a read error
  bool cut_tail = false;    // that tail was tagged: skipped as cut_by_error
  bool long_tail = false;   // positional: the scan stops before a tagged over-long segment (line_too_long)
  // Positional reads: the file bytes this chunk owns (the segments starting in them), the last of
  // them, and a read error or shrinking file met while reading them.
  uint64_t owned = 0;
  char last_owned = '\n';
  std::string error;
  // Results, relative to the chunk (line = '\n' count before the event).
  std::vector<Event> events;
  std::string arena;
  uint64_t newlines = 0;
  uint64_t noise = 0;
  std::array<uint64_t, kSkipReasonCount> skips{};
  std::vector<SkipSample> samples;
  uint64_t unreadable_bytes = 0, unreadable_lines = 0;
  std::vector<uint64_t> unreadable_samples;
};

void add_skip(Chunk& c, uint64_t line, SkipReason reason, size_t max_samples) {
  ++c.skips[static_cast<int>(reason)];
  if (c.samples.size() < max_samples) c.samples.push_back({line, reason});
}

// Whether a segment that is not parsed whole (over-long, or cut by a read error) was a tagged
// line: then it is skipped and counted; untagged, it was chatter.
bool was_tagged(std::string_view seg, parse::Scratch& scratch) {
  if (!find_tag_close(seg.data(), seg.data(), seg.data() + seg.size())) return false;
  Event ev;
  return parse::parse_segment(seg, ev, scratch).outcome != parse::Outcome::none;
}

// A chunk whose input ended in an error was cut at an arbitrary byte: its unterminated last
// segment may end inside a number ("queue_ms=284" of 28453.2), so it is left out of the scan and
// counted as cut_by_error if it was tagged. `data` is where the chunk's bytes start.
void leave_out_cut_tail(Chunk& c, const char* data, parse::Scratch& scratch) {
  const char* e = data + c.len;
  if (c.len == 0 || e[-1] == '\n' || e[-1] == '\r') return;
  const char* sep = last_separator(data, e);
  if (!sep && c.starts_mid) return;  // the end of an over-long segment: judged as such
  const char* tail = sep ? sep + 1 : data;
  c.scan_len = static_cast<size_t>(tail - data);
  c.cut_tail = was_tagged(std::string_view(tail, static_cast<size_t>(e - tail)), scratch);
}

void process(Chunk& c, parse::Scratch& scratch, size_t max_samples) {
  c.events.clear();
  c.arena.clear();
  c.samples.clear();
  c.skips.fill(0);
  c.noise = 0;
  c.unreadable_bytes = c.unreadable_lines = 0;
  c.unreadable_samples.clear();
  const char* b = c.buf.get() + c.off;
  const char* e = b + c.scan_len;
  const char* begin = b;
  if (c.long_skip) add_skip(c, 0, SkipReason::line_too_long, max_samples);
  if (c.starts_mid) {
    // The head of this chunk is the tail of an over-long segment: not a segment start.
    const char* sep = first_separator(b, e);
    begin = sep < e ? sep + 1 : e;
  }
  // nl_count: '\n's before p. A segment holds no '\n', so the count at a candidate ']' is the
  // count at its segment's start, and still the count at the separator that ends it.
  uint64_t nl_count = count_newlines(b, static_cast<size_t>(begin - b));
  const char* p = begin;
  while (p < e) {
    const char* q = next_tag(begin, p, e, nl_count);
    if (!q) break;
    // The segment around the candidate: back to the previous '\n' or '\r', on to the next.
    const void* pn = memrchr(begin, '\n', static_cast<size_t>(q - begin));
    const char* line_start = pn ? static_cast<const char*>(pn) + 1 : begin;
    const void* pr = memrchr(line_start, '\r', static_cast<size_t>(q - line_start));
    const char* seg_start = pr ? static_cast<const char*>(pr) + 1 : line_start;
    const char* seg_end = first_separator(q, e);
    if (seg_end == e && c.ends_mid) break;  // an over-long segment: the reading thread judges it

    Event ev;
    auto r = parse::parse_segment(std::string_view(seg_start, static_cast<size_t>(seg_end - seg_start)), ev, scratch);
    switch (r.outcome) {
      case parse::Outcome::event:
        ev.line = nl_count;
        ev.msg_off = static_cast<uint32_t>(c.arena.size());
        ev.msg_len = static_cast<uint32_t>(r.message.size());
        c.arena.append(r.message);
        c.events.push_back(ev);
        break;
      case parse::Outcome::noise: ++c.noise; break;
      case parse::Outcome::skipped: add_skip(c, nl_count, r.reason, max_samples); break;
      case parse::Outcome::none: break;
    }
    if (r.unreadable) {  // a tag read past bytes that are not text
      c.unreadable_bytes += r.unreadable;
      if (c.unreadable_lines++ < max_samples) c.unreadable_samples.push_back(nl_count);
    }
    p = seg_end;
  }
  // The tail after scan_len holds no '\n' (it follows the last separator), so nl_count is its line.
  if (c.cut_tail) add_skip(c, nl_count, SkipReason::cut_by_error, max_samples);
  if (c.long_tail) add_skip(c, nl_count, SkipReason::line_too_long, max_samples);
  c.newlines = nl_count;
}

// Fills chunks from the source, in order; called under the read lock.
class Filler {
 public:
  Filler(input::ByteSource& src, size_t cap, size_t read_bytes, FileCounts& counts)
      : src_(src), cap_(cap), read_bytes_(std::clamp<size_t>(read_bytes, 64, cap)), counts_(counts),
        head_cap_(std::max<size_t>(cap, 4096)) {}

  bool fill(Chunk& c) {
    if (!c.buf) c.buf.reset(new char[cap_]);
    char* b = c.buf.get();
    size_t len = carry_.size();
    if (len) std::memcpy(b, carry_.data(), len);
    carry_.clear();
    // Read about read_bytes; grow towards cap only while no separator has been seen.
    size_t target = std::max(read_bytes_, std::min(cap_, len + read_bytes_ / 2));
    const char* sep = nullptr;
    size_t searched = 0;
    for (;;) {
      while (len < target && !eof_) {
        size_t n = 0;
        try {
          n = src_.read(b + len, target - len);
        } catch (const input::InputError& ex) {
          counts_.partial = true;
          counts_.error = ex.what();
        }
        if (n == 0) eof_ = true;
        len += n;
      }
      if (eof_ || len == 0) break;
      sep = last_separator(b + searched, b + len);
      if (sep || target == cap_) break;
      searched = len;
      target = std::min(cap_, target * 2);
    }
    if (len == 0) return false;
    c.off = 0;
    c.starts_mid = next_starts_mid_;
    c.ends_mid = false;
    c.long_skip = false;
    c.len = len;
    if (!eof_) {
      if (sep) {
        c.len = static_cast<size_t>(sep - b) + 1;
        carry_.assign(b + c.len, b + len);
        next_starts_mid_ = false;
      } else {
        c.ends_mid = true;
        next_starts_mid_ = true;
      }
    } else {
      next_starts_mid_ = false;
    }
    track_long_segment(c);
    cut_tail_after_error(c);
    counts_.bytes += c.len;
    last_byte_ = b[c.len - 1];
    return true;
  }
  char last_byte() const { return last_byte_; }

 private:
  // The last chunk of an input that ended in an error (a truncated or corrupt compressed stream,
  // a read error) loses its unterminated tail. (A plain file's unterminated last line is read: a
  // file is not known to be cut.)
  void cut_tail_after_error(Chunk& c) {
    c.scan_len = c.len;
    c.cut_tail = false;
    if (eof_ && counts_.partial && !c.ends_mid) leave_out_cut_tail(c, c.buf.get(), scratch_);
  }

  // A segment longer than a chunk starts a chunk that ends mid-segment and ends in the first
  // separator of a later chunk (or at the end of input). Its head, at least cap bytes, decides
  // whether it was a tagged line we could not read (line_too_long, reported on the chunk where
  // it ends, whose line 0 it is) or chatter.
  void track_long_segment(Chunk& c) {
    const char* b = c.buf.get();
    const char* e = b + c.len;
    const char* piece_end = e;
    if (c.starts_mid) {
      piece_end = first_separator(b, e);
    } else if (c.ends_mid) {
      head_.clear();
    } else {
      return;
    }
    size_t room = head_cap_ - std::min(head_cap_, head_.size());
    head_.append(b, std::min(room, static_cast<size_t>(piece_end - b)));
    if (c.ends_mid) return;  // continues in the next chunk
    // Ends here: judge it.
    c.long_skip = was_tagged(head_, scratch_);
    head_.clear();
  }

  input::ByteSource& src_;
  size_t cap_;
  size_t read_bytes_;
  FileCounts& counts_;
  size_t head_cap_;
  std::string carry_;
  std::string head_;
  parse::Scratch scratch_;
  bool eof_ = false;
  bool next_starts_mid_ = false;
  char last_byte_ = '\n';
};

// Reads a regular file by ranges with pread(2), on every thread at once: a chunk owns the bytes
// [a, b) handed out in order under the read lock, that is the segments that start in them. It
// reads the byte before a (is a a segment start?), then [a, b), then on past b to the end of its
// last segment. Only the hand-out is serialised; the copy out of the page cache, which was the
// main serial part of a read(2) pipeline, runs on all threads.
//
// The result is the same as the read(2) pipeline's for every chunk size: the same segments are
// parsed, a segment of chunk_bytes or more is judged by its head (line_too_long if tagged) and
// is never parsed, and lines are numbered from the '\n's in the owned bytes.
class RangeReader {
 public:
  RangeReader(const input::ByteSource::Positional& pos, const std::string& name, size_t cap, size_t read_bytes)
      : pos_(pos), name_(name), cap_(cap), read_bytes_(std::clamp<size_t>(read_bytes, 64, cap)),
        head_cap_(std::max<size_t>(cap, 4096)), next_(pos.begin) {}

  // Under the read lock: the next range, or false at the end.
  bool reserve(uint64_t& a, uint64_t& b) {
    if (stop_ || next_ >= pos_.end) return false;
    a = next_;
    b = std::min<uint64_t>(pos_.end, a + read_bytes_);
    next_ = b;
    return true;
  }
  // After a read error or a short read, later ranges are not handed out (they would not be
  // merged: the figures stop where reading stopped, as with read(2)).
  void stop() { stop_ = true; }

  // Outside the lock: fills c with range [a, b) and the rest of its last segment.
  void fill(Chunk& c, uint64_t a, uint64_t b, parse::Scratch& scratch) {
    size_t need = 1 + read_bytes_ + head_cap_ + 1;
    if (c.cap < need) {
      c.buf.reset(new char[need]);
      c.cap = need;
    }
    c.error.clear();
    c.starts_mid = c.ends_mid = c.long_skip = c.cut_tail = c.long_tail = false;
    c.owned = 0;
    c.off = a > pos_.begin ? 1 : 0;
    char* data = c.buf.get() + c.off;
    size_t want = static_cast<size_t>(b - a);
    size_t got = 0;
    size_t one = 0;
    if (c.off && (!pread_all(c.buf.get(), 1, a - 1, c, one) || one != 1)) {
      if (c.error.empty()) c.error = shrank(a - 1);
      c.len = c.scan_len = 0;
      return;
    }
    bool ok = pread_all(data, want, a, c, got);
    c.owned = got;
    c.len = got;
    c.scan_len = got;
    if (got) c.last_owned = data[got - 1];
    c.starts_mid = c.off && c.buf[0] != '\n' && c.buf[0] != '\r';
    if (!ok || got < want) {
      // Cut short: like a read(2) error, the unterminated tail is not parsed (cut_by_error if it
      // was tagged), since it may end inside a number.
      if (c.error.empty()) c.error = shrank(a + got);
      leave_out_cut_tail(c, data, scratch);
      return;
    }
    // The last segment that starts in [a, b): complete it from the bytes after b.
    const char* e = data + got;
    const char* sep = last_separator(data, e);
    if (sep == e - 1) return;  // the range ends at a separator
    if (!sep && c.starts_mid) return;  // inside a segment that started earlier: nothing is ours
    const char* s = sep ? sep + 1 : data;
    size_t seg = static_cast<size_t>(e - s);
    size_t len = got;
    uint64_t at = b;
    size_t piece = 4096;
    for (;;) {
      if (at >= pos_.end) break;  // the unterminated last line of the file: parsed
      size_t room = std::min<size_t>(piece, head_cap_ - seg);
      room = static_cast<size_t>(std::min<uint64_t>(room, pos_.end - at));
      size_t n = 0;
      bool rd = pread_all(data + len, room, at, c, n);
      const char* x = first_separator(data + len, data + len + n);
      if (x < data + len + n) {
        seg += static_cast<size_t>(x - (data + len));
        len = static_cast<size_t>(x - data);
        break;
      }
      len += n;
      seg += n;
      at += n;
      if (!rd || n < room) {  // a read error or the file shrank inside the last segment
        if (c.error.empty()) c.error = shrank(at);
        c.scan_len = static_cast<size_t>(s - data);
        c.cut_tail = was_tagged(std::string_view(s, static_cast<size_t>(data + len - s)), scratch);
        return;
      }
      if (seg >= head_cap_) break;
      piece *= 2;
    }
    if (seg >= cap_) {
      // Too long to parse: judged by its head, then left out of the scan (the chunks it runs
      // into skip it, as they start inside a segment).
      c.scan_len = static_cast<size_t>(s - data);
      c.long_tail = was_tagged(std::string_view(s, std::min(seg, head_cap_)), scratch);
      return;
    }
    c.scan_len = len;
  }

 private:
  // Reads n bytes at off; false (c.error set) on a read error; got: bytes read (fewer at the end).
  bool pread_all(char* dst, size_t n, uint64_t off, Chunk& c, size_t& got) {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(pos_.fd, dst + done, n - done, static_cast<off_t>(off + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        c.error = fmt::format("{}: read error: {}", name_, std::strerror(errno));
        got = done;
        return false;
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    got = done;
    return true;
  }

  std::string shrank(uint64_t at) const {
    return fmt::format("{}: the file shrank while it was read ({} of {} bytes)", name_, at, pos_.end);
  }

  input::ByteSource::Positional pos_;
  const std::string& name_;
  size_t cap_;
  size_t read_bytes_;
  size_t head_cap_;
  uint64_t next_;
  bool stop_ = false;
};

class Merger {
 public:
  Merger(uint32_t file, FileCounts& counts, const Options& opt, const EventSink& sink, bool positional)
      : file_(file), counts_(counts), opt_(opt), sink_(sink), positional_(positional) {}
  void merge(Chunk& c) {
    if (discard_) return;  // after a positional read error: what was read after it is not used
    if (positional_) {
      counts_.bytes += c.owned;
      if (c.owned) last_byte_ = c.last_owned;
      if (!c.error.empty()) {
        counts_.partial = true;
        counts_.error = c.error;
        discard_ = true;
      }
    }
    for (Event& ev : c.events) {
      ev.line += base_ + 1;
      ev.file = file_;
      if (is_step_op(ev.op)) ++counts_.step_lines;
      else ++counts_.events;
      sink_(ev, std::string_view(c.arena).substr(ev.msg_off, ev.msg_len));
    }
    counts_.noise += c.noise;
    for (int i = 0; i < kSkipReasonCount; ++i) counts_.skipped_by_reason[i] += c.skips[i];
    for (auto s : c.samples)
      if (counts_.skip_samples.size() < opt_.max_skip_samples) counts_.skip_samples.push_back({s.line + base_ + 1, s.reason});
    counts_.unreadable_bytes += c.unreadable_bytes;
    counts_.unreadable_lines += c.unreadable_lines;
    for (uint64_t line : c.unreadable_samples)
      if (counts_.unreadable_samples.size() < opt_.max_skip_samples)
        counts_.unreadable_samples.push_back(line + base_ + 1);
    base_ += c.newlines;
  }
  uint64_t newlines() const { return base_; }
  char last_byte() const { return last_byte_; }

 private:
  uint32_t file_;
  FileCounts& counts_;
  const Options& opt_;
  const EventSink& sink_;
  bool positional_;
  bool discard_ = false;
  char last_byte_ = '\n';
  uint64_t base_ = 0;
};

// Every thread runs Pipeline::run(). Locks: read_mu_ serialises the source (and the progress
// callback); mu_ guards the chunk pool and the hand-ins. The sink is called by one thread at a
// time (the `merging_` flag, set and cleared under mu_), strictly in read order.
class Pipeline {
 public:
  Pipeline(input::ByteSource& src, uint32_t file, const Options& opt, const EventSink& sink, FileCounts& counts)
      : src_(src),
        opt_(opt),
        cap_(std::max<size_t>(opt.chunk_bytes, 64)),
        filler_(src, cap_, opt.read_bytes, counts),
        merger_(file, counts, opt, sink, src.positional().has_value()) {
    if (auto pos = src.positional()) range_.emplace(*pos, src.name(), cap_, opt.read_bytes);
    // Chunks in flight: one per thread plus slack so a slow hand-in does not stall the others;
    // bounded so memory stays flat (a thread without a chunk waits, it cannot deadlock: the
    // oldest chunk is always being scanned or merged).
    size_t threads = std::max(1u, opt.threads);
    size_t by_memory = std::max<size_t>(2, (size_t{64} << 20) / cap_);
    pool_limit_ = std::min(threads + 2, std::max(by_memory, size_t{2}));
  }

  void run() {
    parse::Scratch scratch;
    try {
      for (;;) {
        Chunk* c = take_free();
        if (!c) return;
        if (!read_into(*c, scratch)) {
          give_back(c);
          return;
        }
        process(*c, scratch, opt_.max_skip_samples);
        hand_in(c);
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }
  uint64_t newlines() const { return merger_.newlines(); }
  char last_byte() const { return range_ ? merger_.last_byte() : filler_.last_byte(); }

 private:
  Chunk* take_free() {
    std::unique_lock lk(mu_);
    for (;;) {
      if (stop_ || done_reading_) return nullptr;
      if (!free_.empty()) {
        Chunk* c = free_.back();
        free_.pop_back();
        return c;
      }
      if (pool_.size() < pool_limit_) {
        pool_.push_back(std::make_unique<Chunk>());
        return pool_.back().get();
      }
      cv_free_.wait(lk);
    }
  }

  void give_back(Chunk* c) {
    {
      std::lock_guard lk(mu_);
      free_.push_back(c);
    }
    cv_free_.notify_all();
  }

  bool read_into(Chunk& c, parse::Scratch& scratch) {
    if (range_) {
      uint64_t a = 0, b = 0;
      {
        std::lock_guard lk(read_mu_);
        if (eof_ || !range_->reserve(a, b)) {
          eof_ = true;
          std::lock_guard lk2(mu_);
          done_reading_ = true;
          return false;
        }
        c.seq = next_read_++;
        if (opt_.progress) opt_.progress(b, src_.total_raw_bytes());
      }
      range_->fill(c, a, b, scratch);  // the copy runs outside the lock
      if (!c.error.empty()) {
        std::lock_guard lk(read_mu_);
        range_->stop();
      }
      return true;
    }
    std::lock_guard lk(read_mu_);
    if (eof_) return false;
    if (!filler_.fill(c)) {
      eof_ = true;
      std::lock_guard lk2(mu_);
      done_reading_ = true;
      return false;
    }
    c.seq = next_read_++;
    if (opt_.progress) opt_.progress(src_.raw_bytes_read(), src_.total_raw_bytes());
    return true;
  }

  void hand_in(Chunk* c) {
    std::unique_lock lk(mu_);
    ready_.emplace(c->seq, c);
    if (merging_) return;  // the thread merging now will take it
    merging_ = true;
    for (;;) {
      auto it = ready_.begin();
      if (it == ready_.end() || it->first != next_merge_) break;
      Chunk* x = it->second;
      ready_.erase(it);
      ++next_merge_;
      bool ok = !stop_;
      lk.unlock();
      if (ok) {
        try {
          merger_.merge(*x);
        } catch (...) {
          fail(std::current_exception());
        }
      }
      lk.lock();
      free_.push_back(x);
      cv_free_.notify_all();
    }
    merging_ = false;
  }

  void fail(std::exception_ptr e) {
    {
      std::lock_guard lk(mu_);
      if (!error_) error_ = e;
      stop_ = true;
    }
    cv_free_.notify_all();
  }

  input::ByteSource& src_;
  const Options& opt_;
  size_t cap_;
  Filler filler_;
  Merger merger_;
  std::optional<RangeReader> range_;
  size_t pool_limit_;

  std::mutex read_mu_;
  bool eof_ = false;         // read_mu_
  uint64_t next_read_ = 0;   // read_mu_

  std::mutex mu_;
  std::condition_variable cv_free_;
  std::vector<std::unique_ptr<Chunk>> pool_;
  std::vector<Chunk*> free_;
  std::map<uint64_t, Chunk*> ready_;
  uint64_t next_merge_ = 0;
  bool merging_ = false;
  bool done_reading_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace

FileCounts scan(input::ByteSource& src, uint32_t file_index, const Options& opt, const EventSink& on_event) {
  FileCounts counts;
  if (opt.read_ahead && !src.positional()) src.read_ahead({});
  Pipeline pipe(src, file_index, opt, on_event, counts);
  std::vector<std::thread> helpers;
  for (unsigned i = 1; i < std::max(1u, opt.threads); ++i) helpers.emplace_back([&] { pipe.run(); });
  pipe.run();
  for (auto& t : helpers) t.join();
  pipe.rethrow();
  counts.lines = pipe.newlines() + (counts.bytes > 0 && pipe.last_byte() != '\n' ? 1 : 0);
  return counts;
}

}  // namespace alog::scan
