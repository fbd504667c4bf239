#include "analyze_logs/scan.hpp"

#include <bit>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "analyze_logs/parse.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace alog::scan {

uint64_t count_newlines(const char* p, size_t n) {
  uint64_t c = 0;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  for (; i + 64 <= n; i += 64) {
    auto m = [&](size_t off) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + off));
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl))));
    };
    c += static_cast<uint64_t>(std::popcount(m(0) | m(16) << 16 | m(32) << 32 | m(48) << 48));
  }
#endif
  for (; i < n; ++i) c += p[i] == '\n';
  return c;
}

namespace {

const char* last_separator(const char* b, const char* e) {
  const void* nl = memrchr(b, '\n', static_cast<size_t>(e - b));
  const char* from = nl ? static_cast<const char*>(nl) : b;
  const void* cr = memrchr(from, '\r', static_cast<size_t>(e - from));
  if (cr) return static_cast<const char*>(cr);
  return static_cast<const char*>(nl);
}

struct Chunk {
  std::vector<char> buf;
  size_t len = 0;
  bool starts_mid = false;  // begins inside a segment longer than a chunk
  bool ends_mid = false;    // its last segment continues in the next chunk
  // Results, relative to the chunk (line = '\n' count before the event).
  std::vector<Event> events;
  std::string arena;
  uint64_t newlines = 0;
  uint64_t noise = 0;
  std::array<uint64_t, kSkipReasonCount> skips{};
  std::vector<SkipSample> samples;
  bool done = false;
};

void process(Chunk& c, parse::Scratch& scratch, size_t max_samples) {
  c.events.clear();
  c.arena.clear();
  c.samples.clear();
  c.skips.fill(0);
  c.noise = 0;
  const char* b = c.buf.data();
  const char* e = b + c.len;
  const char* begin = b;
  if (c.starts_mid) {
    // The head of this chunk is the tail of an over-long segment: not a segment start.
    const char* nl = static_cast<const char*>(std::memchr(b, '\n', c.len));
    const char* lim = nl ? nl : e;
    const char* cr = static_cast<const char*>(std::memchr(b, '\r', static_cast<size_t>(lim - b)));
    const char* sep = cr ? cr : nl;
    begin = sep ? sep + 1 : e;
  }
  uint64_t nl_count = 0;
  const char* counted = b;
  const char* p = begin;
  while (p < e) {
    const char* q = static_cast<const char*>(std::memchr(p, ']', static_cast<size_t>(e - p)));
    if (!q) break;
    if (!parse::closes_tag(begin, q)) {
      p = q + 1;
      continue;
    }
    // The segment around the candidate: back to the previous '\n' or '\r', on to the next.
    const void* pn = memrchr(begin, '\n', static_cast<size_t>(q - begin));
    const char* line_start = pn ? static_cast<const char*>(pn) + 1 : begin;
    const void* pr = memrchr(line_start, '\r', static_cast<size_t>(q - line_start));
    const char* seg_start = pr ? static_cast<const char*>(pr) + 1 : line_start;
    const char* nn = static_cast<const char*>(std::memchr(q, '\n', static_cast<size_t>(e - q)));
    const char* lim = nn ? nn : e;
    const char* nr = static_cast<const char*>(std::memchr(q, '\r', static_cast<size_t>(lim - q)));
    const char* seg_end = nr ? nr : lim;

    nl_count += count_newlines(counted, static_cast<size_t>(seg_start - counted));
    counted = seg_start;

    Event ev;
    auto r = parse::parse_segment(std::string_view(seg_start, static_cast<size_t>(seg_end - seg_start)),
                                  ev, scratch);
    bool truncated = seg_end == e && c.ends_mid;
    if (r.outcome != parse::Outcome::none && truncated) {
      r.outcome = parse::Outcome::skipped;
      r.reason = SkipReason::line_too_long;
    }
    switch (r.outcome) {
      case parse::Outcome::event:
        ev.line = nl_count;
        ev.msg_off = static_cast<uint32_t>(c.arena.size());
        ev.msg_len = static_cast<uint32_t>(r.message.size());
        c.arena.append(r.message);
        c.events.push_back(ev);
        break;
      case parse::Outcome::noise:
        ++c.noise;
        break;
      case parse::Outcome::skipped:
        ++c.skips[static_cast<int>(r.reason)];
        if (c.samples.size() < max_samples) c.samples.push_back({nl_count, r.reason});
        break;
      case parse::Outcome::none:
        break;
    }
    p = seg_end;
  }
  nl_count += count_newlines(counted, static_cast<size_t>(e - counted));
  c.newlines = nl_count;
}

// Fills chunks from the source; each chunk ends at the last '\n' or '\r' it holds.
class Filler {
 public:
  Filler(input::ByteSource& src, size_t cap, FileCounts& counts)
      : src_(src), cap_(cap), counts_(counts) {}

  bool fill(Chunk& c) {
    if (c.buf.size() != cap_) c.buf.resize(cap_);
    size_t len = carry_.size();
    if (len) std::memcpy(c.buf.data(), carry_.data(), len);
    carry_.clear();
    while (len < cap_ && !eof_) {
      size_t n = 0;
      try {
        n = src_.read(c.buf.data() + len, cap_ - len);
      } catch (const input::InputError& ex) {
        counts_.partial = true;
        counts_.error = ex.what();
      }
      if (n == 0) eof_ = true;
      len += n;
    }
    if (len == 0) return false;
    c.starts_mid = next_starts_mid_;
    c.ends_mid = false;
    c.len = len;
    if (!eof_) {
      const char* b = c.buf.data();
      const char* sep = last_separator(b, b + len);
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
    counts_.bytes += c.len;
    last_byte_ = c.buf[c.len - 1];
    return true;
  }
  char last_byte() const { return last_byte_; }

 private:
  input::ByteSource& src_;
  size_t cap_;
  FileCounts& counts_;
  std::string carry_;
  bool eof_ = false;
  bool next_starts_mid_ = false;
  char last_byte_ = '\n';
};

class Merger {
 public:
  Merger(uint32_t file, FileCounts& counts, const Options& opt, const EventSink& sink)
      : file_(file), counts_(counts), opt_(opt), sink_(sink) {}
  void merge(Chunk& c) {
    for (Event& ev : c.events) {
      ev.line += base_ + 1;
      ev.file = file_;
      sink_(ev, std::string_view(c.arena).substr(ev.msg_off, ev.msg_len));
    }
    counts_.events += c.events.size();
    counts_.noise += c.noise;
    for (int i = 0; i < kSkipReasonCount; ++i) counts_.skipped_by_reason[i] += c.skips[i];
    for (auto s : c.samples)
      if (counts_.skip_samples.size() < opt_.max_skip_samples)
        counts_.skip_samples.push_back({s.line + base_ + 1, s.reason});
    base_ += c.newlines;
  }
  uint64_t newlines() const { return base_; }

 private:
  uint32_t file_;
  FileCounts& counts_;
  const Options& opt_;
  const EventSink& sink_;
  uint64_t base_ = 0;
};

}  // namespace

FileCounts scan(input::ByteSource& src, uint32_t file_index, const Options& opt,
                const EventSink& on_event) {
  FileCounts counts;
  Filler filler(src, std::max<size_t>(opt.chunk_bytes, 64), counts);
  Merger merger(file_index, counts, opt, on_event);
  auto report_progress = [&] {
    if (opt.progress) opt.progress(src.raw_bytes_read(), src.total_raw_bytes());
  };

  if (opt.threads <= 1) {
    Chunk c;
    parse::Scratch scratch;
    while (filler.fill(c)) {
      process(c, scratch, opt.max_skip_samples);
      merger.merge(c);
      report_progress();
    }
  } else {
    std::mutex m;
    std::condition_variable cv_work, cv_done;
    std::deque<Chunk*> queue;
    bool stop = false;
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < opt.threads; ++i) {
      workers.emplace_back([&] {
        parse::Scratch scratch;
        for (;;) {
          Chunk* c;
          {
            std::unique_lock lk(m);
            cv_work.wait(lk, [&] { return stop || !queue.empty(); });
            if (queue.empty()) return;
            c = queue.front();
            queue.pop_front();
          }
          process(*c, scratch, opt.max_skip_samples);
          {
            std::lock_guard lk(m);
            c->done = true;
          }
          cv_done.notify_all();
        }
      });
    }
    std::vector<std::unique_ptr<Chunk>> pool;
    std::vector<Chunk*> free_list;
    std::deque<Chunk*> inflight;
    const size_t max_inflight = opt.threads * 2 + 2;
    bool reader_done = false;
    for (;;) {
      while (!reader_done && inflight.size() < max_inflight) {
        if (free_list.empty()) {
          pool.push_back(std::make_unique<Chunk>());
          free_list.push_back(pool.back().get());
        }
        Chunk* c = free_list.back();
        if (!filler.fill(*c)) {
          reader_done = true;
          break;
        }
        free_list.pop_back();
        {
          std::lock_guard lk(m);
          c->done = false;
          queue.push_back(c);
        }
        cv_work.notify_one();
        inflight.push_back(c);
        report_progress();
      }
      if (inflight.empty()) break;
      Chunk* c = inflight.front();
      {
        std::unique_lock lk(m);
        cv_done.wait(lk, [&] { return c->done; });
      }
      inflight.pop_front();
      merger.merge(*c);
      free_list.push_back(c);
    }
    {
      std::lock_guard lk(m);
      stop = true;
    }
    cv_work.notify_all();
    for (auto& w : workers) w.join();
  }
  counts.lines = merger.newlines() + (counts.bytes > 0 && filler.last_byte() != '\n' ? 1 : 0);
  return counts;
}

}  // namespace alog::scan
