// SGLang's batch statistics: the `Prefill batch` / `Decode batch` lines of every worker log
// (FORMATS-serving-and-ray.md §3.2, both the old `batch.` and the new `batch,` shapes), the
// benchmark windows they are cut into, the statistics per window, and rate matching of
// disaggregated jobs.
//
// The fields are a table of names, not a regex per shape: a line is `[stamp prefix] Kind batch`
// then `name: value` pairs split on ", ", so an old line, a new one, a PD-prefill or PD-decode
// line and one with speculative-decoding fields all go through the same loop, and a field the
// table does not know (`#token`, `accept len`) is skipped. The caller (scan.cpp) has already
// checked the line starts with '['; nothing here allocates.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <tuple>

#include "report_internal.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace alog::srtctl {

namespace {

struct FieldName {
  std::string_view label;
  BatchField field;
};
// `full token usage` is the hybrid models' name for the same figure.
constexpr FieldName kFields[] = {
    {"#new-seq", kNewSeq},
    {"#new-token", kNewToken},
    {"#cached-token", kCachedToken},
    {"token usage", kTokenUsage},
    {"full token usage", kTokenUsage},
    {"#running-req", kRunningReq},
    {"#queue-req", kQueueReq},
    {"#prealloc-req", kPreallocReq},
    {"#transfer-req", kTransferReq},
    {"#retracted-req", kRetractedReq},
    {"#inflight-req", kInflightReq},
    {"input throughput (token/s)", kInputTps},
    {"gen throughput (token/s)", kGenTps},
};

constexpr std::string_view kFieldNames[kBatchFieldCount] = {
    "new_seq",      "new_token",    "cached_token",  "token_usage",  "running_req", "queue_req",
    "prealloc_req", "transfer_req", "retracted_req", "inflight_req", "input_tps",   "gen_tps"};

}  // namespace

std::string_view batch_field_name(BatchField f) {
  return f < kBatchFieldCount ? kFieldNames[f] : std::string_view("?");
}

bool parse_batch_line(std::string_view s, BatchSample& out) {
  if (s.size() < 36 || s[0] != '[') return false;
  const void* rb = std::memchr(s.data(), ']', std::min<size_t>(s.size(), 120));
  if (!rb) return false;
  const size_t close = static_cast<size_t>(static_cast<const char*>(rb) - s.data());
  if (close < 20) return false;
  std::string_view rest = s.substr(close + 1);
  if (rest.starts_with(" Decode batch"))
    out.decode = true, rest.remove_prefix(13);
  else if (rest.starts_with(" Prefill batch"))
    out.decode = false, rest.remove_prefix(14);
  else
    return false;
  if (rest.starts_with(" [")) {  // `Prefill batch [iter],`
    size_t e = rest.find(']');
    if (e == std::string_view::npos) return false;
    rest.remove_prefix(e + 1);
  }
  if (rest.empty() || (rest[0] != '.' && rest[0] != ',')) return false;
  rest.remove_prefix(1);
  auto t = civil_seconds(s.substr(1, 19));
  if (!t) return false;
  out.t = *t;
  out.dp = -1;
  out.cuda_graph = -1;
  for (double& v : out.v) v = NAN;
  std::string_view prefix = s.substr(20, close - 20);
  if (size_t d = prefix.find("DP"); d != std::string_view::npos) {
    int dp = 0;
    auto [p, ec] = std::from_chars(prefix.data() + d + 2, prefix.data() + prefix.size(), dp);
    if (ec == std::errc() && p != prefix.data() + d + 2) out.dp = dp;
  }
  while (!rest.empty()) {
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t colon = item.find(": ");
    if (colon == std::string_view::npos) continue;
    std::string_view name = item.substr(0, colon), value = item.substr(colon + 2);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.remove_suffix(1);
    if (name == "cuda graph" || name == "cpu graph") {
      out.cuda_graph = value == "True" ? 1 : value == "False" ? 0 : -1;
      continue;
    }
    for (const auto& f : kFields) {
      if (f.label != name) continue;
      double v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec == std::errc() && p == value.data() + value.size() && std::isfinite(v))
        out.v[f.field] = v;
      break;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

std::vector<BenchWindow> bench_windows(const JobReport& r) {
  std::vector<BenchWindow> w;
  auto add = [&](const BenchRun& x, size_t index) {
    auto a = civil_seconds(x.started_at), b = civil_seconds(x.ended_at);
    if (!a) return;
    BenchWindow bw;
    bw.concurrency = x.concurrency;
    bw.warmup = x.warmup;
    bw.run = index;
    bw.line = x.line;
    bw.label = fmt::format("{}c{}", x.warmup ? "warm-up " : "", x.concurrency);
    bw.start = *a;
    bw.started_at = x.started_at;
    // A run that never ended (the worker died) lasts until its workers' last batch line.
    if (b && *b >= *a) {
      bw.end = *b;
      bw.ended_at = x.ended_at;
      bw.ended = true;
    } else {
      int64_t last = *a;
      for (const auto& wb : r.batches)
        if (wb.buckets) last = std::max(last, wb.last_t);
      bw.end = last;
    }
    w.push_back(std::move(bw));
  };
  for (size_t i = 0; i < r.warmups.size(); ++i) add(r.warmups[i], i);
  for (size_t i = 0; i < r.runs.size(); ++i) add(r.runs[i], i);
  std::stable_sort(w.begin(), w.end(),
                   [](const BenchWindow& a, const BenchWindow& b) { return a.start < b.start; });
  return w;
}

namespace {

// The warm-up a measured window may have inherited traffic from: one whose stated times overlap
// it (each is given to `overlap`), else the window just before it when that is a warm-up. Only
// ended windows' ends are read, so the answer is the same before and after the worker logs.
template <class F>
std::optional<size_t> warmup_before(const std::vector<BenchWindow>& windows, size_t mi,
                                    F&& overlap) {
  const BenchWindow& m = windows[mi];
  std::optional<size_t> from;
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    const BenchWindow& w = windows[wi];
    if (!w.warmup || !w.ended || !m.ended) continue;  // an unended window's end is a guess
    if (std::max(w.start, m.start) < std::min(w.end, m.end) || w.start == m.start) {
      overlap(wi);
      if (!from) from = wi;
    }
  }
  if (!from && mi > 0 && windows[mi - 1].warmup) from = mi - 1;
  return from;
}

// The worker's folds of window `wi`, when it was scanned with these windows.
const WorkerWindow* folded(const WorkerBatches& wb, const std::vector<BenchWindow>& windows,
                           size_t wi) {
  if (wb.windows.size() != windows.size() ||
      wb.window_spans[wi] !=
          std::make_pair(windows[wi].start, windows[wi].ended ? windows[wi].end : INT64_MAX))
    return nullptr;
  return &wb.windows[wi];
}

int64_t floor_to(int64_t t, int64_t step) {
  const int64_t q = t / step;
  return (q * step > t ? q - 1 : q) * step;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct BatchFolder::State {
  WorkerBatches& out;
  struct Span {
    int64_t start = 0, end = 0;
    bool traffic = false;  // warm-up traffic is looked for in it
    double concurrency = 0;
  };
  std::vector<Span> spans;
  // One per (rank, kind): its bucket being filled (`seq`), unless already folded.
  struct Stream {
    int dp = -1;
    bool decode = false;
    int64_t t = 0;
    uint64_t seq = 0, line = 0;
    bool folded = false;
  };
  std::vector<Stream> streams;
  struct Pending {
    BatchBucket b;
    uint32_t stream = 0;
    bool closed = false;
  };
  // Buckets in the order started, waiting for the older ones: a ring that grows to at most
  // kPendingBuckets + 1, so that a bucket costs no allocation once it has grown.
  std::vector<Pending> ring;
  size_t head = 0, count = 0;
  uint64_t base = 0;  // seq of the front
  Pending& at(uint64_t seq) { return ring[(head + (seq - base)) % ring.size()]; }
  Pending& front() { return ring[head]; }
  Pending& push() {
    if (count == ring.size()) {
      std::vector<Pending> bigger(std::max<size_t>(16, ring.size() * 2));
      for (size_t i = 0; i < count; ++i) bigger[i] = ring[(head + i) % ring.size()];
      ring = std::move(bigger);
      head = 0;
    }
    Pending& p = ring[(head + count++) % ring.size()];
    p = Pending{};
    return p;
  }
  void pop() {
    head = (head + 1) % ring.size();
    --count;
    ++base;
  }
  // Warm-up traffic per (window, kind): the seconds not yet summed, as (second, rank, smallest
  // running + queued, first line) by second from `first`, and the newest second folded. A vector
  // whose room is reused: a second costs no allocation.
  struct RankSecond {
    int64_t t = 0;
    int dp = -1;
    double v = 0;
    uint64_t line = 0;
  };
  struct OpenSeconds {
    std::vector<RankSecond> seconds;
    size_t first = 0;
    int64_t newest = INT64_MIN;
  };
  std::vector<std::array<OpenSeconds, 2>> traffic;
  std::map<std::tuple<bool, int, int64_t>, SeriesPoint> bins;  // series past the exact cap
  std::vector<SeriesPoint*> bin_cache;
  std::function<void(const BatchBucket&)> sink;
  int64_t lo = INT64_MAX, hi = INT64_MIN;  // seconds of every bucket

  explicit State(WorkerBatches& o) : out(o) {}

  // One second's ranks (sorted by rank here, so that they add up in rank order).
  static void sum_second(std::span<RankSecond> ranks, double concurrency, TrafficFold& x) {
    std::sort(ranks.begin(), ranks.end(),
              [](const RankSecond& a, const RankSecond& b) { return a.dp < b.dp; });
    double sum = 0;
    uint64_t line = UINT64_MAX;
    for (const auto& r : ranks) sum += r.v, line = std::min(line, r.line);
    if (sum <= concurrency) return;
    const int64_t t = ranks.front().t;
    if (!x.found || t < x.t) {
      x.t = t;
      x.line = line;
      x.in_flight = sum;
      x.ranks = static_cast<int>(ranks.size());
    }
    x.found = true;
    x.max_in_flight = std::max(x.max_in_flight, sum);
  }

  void add_second(size_t wi, int d, const RankSecond& r) {
    OpenSeconds& o = traffic[wi][d];
    auto& v = o.seconds;
    // Seconds come in time order but for stamps that go back: the place is nearly always the end.
    auto pos = v.end();
    while (pos != v.begin() + static_cast<std::ptrdiff_t>(o.first) && (pos - 1)->t > r.t) --pos;
    for (auto it = pos;
         it != v.begin() + static_cast<std::ptrdiff_t>(o.first) && (it - 1)->t == r.t; --it)
      if ((it - 1)->dp == r.dp) {  // the same second of a rank twice: the smaller
        (it - 1)->v = std::min((it - 1)->v, r.v);
        (it - 1)->line = std::min((it - 1)->line, r.line);
        return;
      }
    v.insert(pos, r);
    o.newest = std::max(o.newest, r.t);
  }

  void flush_seconds(size_t wi, int d, bool all) {
    OpenSeconds& o = traffic[wi][d];
    auto& v = o.seconds;
    while (o.first < v.size() && (all || v[o.first].t < o.newest - kTrafficReorderS)) {
      size_t end = o.first + 1;
      while (end < v.size() && v[end].t == v[o.first].t) ++end;
      sum_second({v.data() + o.first, end - o.first}, spans[wi].concurrency,
                 out.windows[wi].traffic[d]);
      o.first = end;
    }
    if (o.first == v.size() || o.first > 4096) {  // drop what was summed, keeping the room
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(o.first));
      o.first = 0;
    }
  }

  void add_bin(const SeriesPoint& p) {
    const int64_t t = floor_to(p.t, out.series_bin_s);
    // The bin each (rank, kind) added to last: its next bucket is nearly always in it.
    SeriesPoint* at = nullptr;
    for (auto& c : bin_cache)
      if (c->dp == p.dp && c->decode == p.decode) {
        if (c->t == t) at = c;
        break;
      }
    if (!at) {
      at = &bins[{p.decode, p.dp, t}];
      at->t = t;
      at->dp = p.dp;
      at->decode = p.decode;
      bool cached = false;
      for (auto& c : bin_cache)
        if (c->dp == p.dp && c->decode == p.decode) c = at, cached = true;
      if (!cached) bin_cache.push_back(at);
    }
    SeriesPoint& a = *at;
    a.n += p.n;
    for (size_t f = 0; f < kBatchFieldCount; ++f) a.count[f] += p.count[f], a.sum[f] += p.sum[f];
  }

  // Past kSeriesExactBuckets: bins of one second, then wider until the span fits.
  void bin_series() {
    if (out.series_bin_s == 0) {
      if (out.series.size() <= kSeriesExactBuckets) return;
      out.series_bin_s = 1;
      for (const auto& p : out.series) add_bin(p);
      std::vector<SeriesPoint>().swap(out.series);
    }
    while (floor_to(hi, out.series_bin_s) - floor_to(lo, out.series_bin_s) >=
           kSeriesMaxBins * out.series_bin_s) {
      out.series_bin_s *= 2;
      auto old = std::move(bins);
      bins.clear();
      bin_cache.clear();
      for (const auto& [k, p] : old) add_bin(p);
    }
  }

  void fold(const BatchBucket& b) {
    if (sink) sink(b);
    const int d = b.decode ? 1 : 0;
    if (!out.has_kind[d]) {
      out.has_kind[d] = true;
      out.t_min[d] = out.t_max[d] = b.t;
    }
    out.t_min[d] = std::min(out.t_min[d], b.t);
    out.t_max[d] = std::max(out.t_max[d], b.t);
    lo = std::min(lo, b.t);
    hi = std::max(hi, b.t);
    for (size_t wi = 0; wi < spans.size(); ++wi) {
      const Span& sp = spans[wi];
      if (b.t < sp.start || b.t > sp.end) continue;
      WorkerWindow& ww = out.windows[wi];
      for (int key : {-2, b.dp}) {
        WindowFold& s = ww.ranks[d][key];
        s.lines += b.n;
        s.graph_false += b.graph_false;
        for (size_t f = 0; f < kBatchFieldCount; ++f) {
          if (!b.count[f]) continue;
          s.max[f] = s.count[f] ? std::max(s.max[f], b.max[f]) : b.max[f];
          s.sum[f] += b.sum[f];
          s.count[f] += b.count[f];
        }
      }
      if (b.count[kQueueReq]) {
        WindowFold& s = ww.ranks[d][b.dp];
        const double q = b.sum[kQueueReq] / b.count[kQueueReq];
        if (!s.queue) s.first_queue = q;
        s.last_queue = q;
        s.queue = true;
      }
      if (sp.traffic && b.count[kRunningReq]) {
        const double v = b.min[kRunningReq] + (b.count[kQueueReq] ? b.min[kQueueReq] : 0.0);
        add_second(wi, d, {b.t, b.dp, v, b.line});
        flush_seconds(wi, d, false);
      }
      if (b.decode) {
        // What a decode bucket says about generation: its gen throughput, else (lines without
        // that field) whether anything was running.
        const double g = b.count[kGenTps]       ? b.max[kGenTps]
                         : b.count[kRunningReq] ? b.max[kRunningReq]
                                                : 0.0;
        GenerationFold& x = ww.generation;
        if (g > 0) {
          x.max_gen_tps = std::max(x.max_gen_tps, b.count[kGenTps] ? b.max[kGenTps] : 0.0);
          if (!x.any || b.t < x.t) x.t = b.t, x.line = b.line;
          x.any = true;
        }
      }
    }
    SeriesPoint p;
    p.t = b.t;
    p.dp = b.dp;
    p.decode = b.decode;
    p.n = b.n;
    std::copy(std::begin(b.count), std::end(b.count), p.count);
    std::copy(std::begin(b.sum), std::end(b.sum), p.sum);
    if (out.series_bin_s == 0)
      out.series.push_back(p);
    else
      add_bin(p);
    bin_series();
  }

  // Folds the buckets at the front that are complete, and the oldest while too many wait.
  void drain(bool all) {
    while (count > 0 && (all || front().closed || count > kPendingBuckets)) {
      Pending& p = front();
      if (!p.closed) streams[p.stream].folded = true;
      fold(p.b);
      pop();
    }
  }
};

BatchFolder::BatchFolder(WorkerBatches& out, const std::vector<BenchWindow>& windows)
    : st_(std::make_unique<State>(out)) {
  out.windows.assign(windows.size(), WorkerWindow{});
  out.window_spans.clear();
  st_->traffic.resize(windows.size());
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    const BenchWindow& w = windows[wi];
    State::Span sp;
    sp.start = w.start;
    sp.end = w.ended ? w.end : INT64_MAX;  // open to the end of the logs
    out.window_spans.emplace_back(sp.start, sp.end);
    sp.traffic = !w.warmup && w.concurrency > 0 && warmup_before(windows, wi, [](size_t) {});
    sp.concurrency = static_cast<double>(w.concurrency);
    st_->spans.push_back(sp);
  }
}

BatchFolder::~BatchFolder() = default;

void BatchFolder::add(const BatchSample& s, uint64_t line) {
  State& st = *st_;
  ++st.out.lines;
  State::Stream* stream = nullptr;
  for (auto& x : st.streams)
    if (x.dp == s.dp && x.decode == s.decode) stream = &x;
  BatchBucket* k = nullptr;
  if (stream && stream->t == s.t && !stream->folded) {
    k = &st.at(stream->seq).b;
  } else {
    const bool fresh = !stream || stream->t != s.t;  // else a line of a bucket already folded
    if (stream && !stream->folded) st.at(stream->seq).closed = true;
    if (!stream) {
      st.streams.push_back({s.dp, s.decode, s.t, 0, 0, false});
      stream = &st.streams.back();
    }
    if (fresh) {
      ++st.out.buckets;
      st.out.last_t = s.t;
      stream->line = line;
    }
    stream->t = s.t;
    stream->seq = st.base + st.count;
    stream->folded = false;
    State::Pending& p = st.push();
    p.b.t = s.t;
    p.b.dp = s.dp;
    p.b.decode = s.decode;
    p.b.line = stream->line;
    p.stream = static_cast<uint32_t>(stream - st.streams.data());
    k = &p.b;
  }
  ++k->n;
  k->graph_false += s.cuda_graph == 0;
  k->graph_true += s.cuda_graph == 1;
  for (size_t f = 0; f < kBatchFieldCount; ++f) {
    const double v = s.v[f];
    if (std::isnan(v)) continue;
    if (!k->count[f] || v < k->min[f]) k->min[f] = v;
    if (!k->count[f] || v > k->max[f]) k->max[f] = v;
    ++k->count[f];
    k->sum[f] += v;
  }
  st.drain(false);
}

void BatchFolder::finish() {
  State& st = *st_;
  st.drain(true);
  for (size_t wi = 0; wi < st.traffic.size(); ++wi)
    for (int d = 0; d < 2; ++d) st.flush_seconds(wi, d, true);
  if (st.out.series_bin_s > 0) {
    st.out.series.clear();
    for (auto& [key, p] : st.bins) st.out.series.push_back(p);
    st.bins.clear();
    st.bin_cache.clear();
  }
}

void BatchFolder::record(std::function<void(const BatchBucket&)> sink) {
  st_->sink = std::move(sink);
}

void BatchFolder::replay(const BatchBucket& b) {
  st_->fold(b);
}

// ---------------------------------------------------------------------------------------------

std::vector<WindowStats> window_stats(const JobReport& r, const std::vector<BenchWindow>& windows) {
  std::vector<WindowStats> out;
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    for (size_t wk = 0; wk < r.batches.size(); ++wk) {
      const WorkerBatches& wb = r.batches[wk];
      const WorkerWindow* ww = folded(wb, windows, wi);
      if (!ww) continue;
      const std::string worker = worker_label(wb.id.role, wb.id.index, wb.id.node);
      for (bool decode : {false, true}) {
        const std::map<int, WindowFold>& by = ww->ranks[decode ? 1 : 0];
        if (by.empty()) continue;
        auto row = [&](int key, const WindowFold& x) {
          WindowStats s;
          s.window = wi;
          s.worker = worker;
          s.role = wb.id.role;
          s.decode = decode;
          s.dp = key == -2 ? -1 : key;
          s.lines = x.lines;
          s.graph_false = x.graph_false;
          for (size_t f = 0; f < kBatchFieldCount; ++f) {
            if (!x.count[f]) continue;
            s.has[f] = true;
            s.mean[f] = x.sum[f] / static_cast<double>(x.count[f]);
            s.max[f] = x.max[f];
          }
          if (key == -2) {
            // The ranks' first and last mean #queue-req, summed.
            double first = 0, last = 0;
            bool any = false;
            for (const auto& [dp, q] : by)
              if (dp != -2 && q.queue) first += q.first_queue, last += q.last_queue, any = true;
            if (any) s.first_queue = first, s.last_queue = last;
          } else if (x.queue) {
            s.first_queue = x.first_queue;
            s.last_queue = x.last_queue;
          }
          return s;
        };
        // All ranks first, then each rank.
        out.push_back(row(-2, by.at(-2)));
        if (by.size() > 2)
          for (const auto& [key, x] : by)
            if (key != -2) out.push_back(row(key, x));
      }
    }
  }
  return out;
}

std::vector<RateMatch> rate_matching(const JobReport& r, const std::vector<BenchWindow>& windows,
                                     const std::vector<WindowStats>& stats) {
  std::vector<RateMatch> out;
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    RateMatch m;
    m.window = wi;
    bool pre = false, dec = false;
    double in = 0, gen = 0, growth = 0, pq = 0, tr = 0;
    for (const auto& s : stats) {
      if (s.window != wi || s.dp >= 0) continue;  // all-ranks rows; rank means summed below
      if (s.role == "prefill" && !s.decode) {
        pre = true;
        pq = std::max(pq, s.has[kQueueReq] ? s.max[kQueueReq] : 0.0);
      }
      if (s.role == "decode" && s.decode) {
        dec = true;
        if (!std::isnan(s.first_queue)) growth += s.last_queue - s.first_queue;
        tr = std::max(tr, s.has[kTransferReq] ? s.max[kTransferReq] : 0.0);
      }
    }
    if (!pre || !dec) continue;
    // Throughput is per rank: a worker's rate is the sum of its ranks' means.
    for (const auto& s : stats) {
      if (s.window != wi) continue;
      bool per_rank = s.dp >= 0;
      bool has_ranks = false;
      for (const auto& o : stats)
        if (o.window == wi && o.worker == s.worker && o.decode == s.decode && o.dp >= 0)
          has_ranks = true;
      if (per_rank != has_ranks) continue;
      if (s.role == "prefill" && !s.decode && s.has[kInputTps]) in += s.mean[kInputTps];
      if (s.role == "decode" && s.decode && s.has[kGenTps]) gen += s.mean[kGenTps];
    }
    m.prefill_input_tps = in;
    m.decode_gen_tps = gen;
    m.decode_queue_growth = growth;
    m.prefill_queue_max = pq;
    m.transfer_max = tr;
    if ((growth > 0 || tr > 0) && pq == 0) {
      m.limiter = "decode";
      m.evidence = fmt::format(
          "decode #queue-req grew by {:.0f} and #transfer-req reached {:.0f} while the prefill "
          "queue stayed "
          "empty; prefill fed {:.0f} input tok/s, decode generated {:.0f} tok/s",
          growth, tr, in, gen);
    } else if (pq > 0 && growth <= 0 && tr == 0) {
      m.limiter = "prefill";
      m.evidence = fmt::format(
          "prefill #queue-req reached {:.0f} while the decode queue did not grow and no KV "
          "transfer waited; "
          "prefill fed {:.0f} input tok/s, decode generated {:.0f} tok/s",
          pq, in, gen);
    } else {
      m.limiter = "balanced";
      m.evidence = fmt::format(
          "neither queue grew; prefill fed {:.0f} input tok/s, decode generated {:.0f} tok/s", in,
          gen);
    }
    out.push_back(std::move(m));
  }
  (void)r;
  return out;
}

std::vector<WarmupTraffic> warmup_traffic(const JobReport& r,
                                          const std::vector<BenchWindow>& windows) {
  std::vector<WarmupTraffic> out;
  for (size_t mi = 0; mi < windows.size(); ++mi) {
    const BenchWindow& m = windows[mi];
    if (m.warmup) continue;
    const std::optional<size_t> from = warmup_before(windows, mi, [&](size_t wi) {
      WarmupTraffic x;
      x.window = mi;
      x.warmup = wi;
      x.overlap = true;
      out.push_back(x);
    });
    if (!from || m.concurrency <= 0) continue;
    for (size_t k = 0; k < r.batches.size(); ++k) {
      const WorkerWindow* ww = folded(r.batches[k], windows, mi);
      if (!ww) continue;
      std::optional<WarmupTraffic> best;
      for (bool decode : {true, false}) {
        const TrafficFold& f = ww->traffic[decode ? 1 : 0];
        if (!f.found || (best && f.t >= best->t)) continue;
        WarmupTraffic x;
        x.window = mi;
        x.warmup = *from;
        x.worker = k;
        x.decode = decode;
        x.t = f.t;
        x.line = f.line;
        x.in_flight = f.in_flight;
        x.max_in_flight = f.max_in_flight;
        x.ranks = f.ranks;
        best = x;
      }
      if (best) {
        best->time = civil_stamp(best->t);
        out.push_back(std::move(*best));
      }
    }
  }
  return out;
}

std::vector<ResultMismatch> result_mismatches(const JobReport& r,
                                              const std::vector<BenchWindow>& windows) {
  std::vector<ResultMismatch> out;
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    const BenchWindow& w = windows[wi];
    if (w.warmup || !w.ended || w.run >= r.runs.size()) continue;
    const BenchRun& run = r.runs[w.run];
    if (!run.finished() || w.end - w.start < kMismatchMinWindowS) continue;
    ResultMismatch x;
    x.window = wi;
    x.completed = run.metric("completed");
    x.output_tps = run.metric("output_throughput");
    const bool claims = x.completed ? *x.completed > 0 : x.output_tps && *x.output_tps > 0;
    const bool none = x.completed ? *x.completed == 0 : x.output_tps && *x.output_tps == 0;
    if (!claims && !none) continue;
    bool any_generation = false;
    int64_t first = 0;
    for (size_t k = 0; k < r.batches.size(); ++k) {
      const WorkerBatches& wb = r.batches[k];
      if ((wb.id.role != "decode" && wb.id.role != "agg") || !wb.has_kind[1]) continue;
      if (const WorkerWindow* ww = folded(wb, windows, wi); ww && ww->generation.any) {
        const GenerationFold& g = ww->generation;
        any_generation = true;
        x.max_gen_tps = std::max(x.max_gen_tps, g.max_gen_tps);
        // The earliest generating line in the window, over every worker.
        if (x.worker == SIZE_MAX || g.t < first) {
          x.worker = k;
          x.line = g.line;
          first = g.t;
          x.time = civil_stamp(g.t);
        }
      }
      // The worker's log covers the window: its stamps start before the window ends and go on
      // until after it started. A log that stopped earlier says nothing about the window.
      for (const auto& l : r.logs) {
        if (l.file != wb.file) continue;
        auto a = civil_seconds(l.first_time), b = civil_seconds(l.last_time);
        if (a && b && *a <= w.end && *b >= w.start) x.workers.push_back(k);
        break;
      }
    }
    if (claims && !any_generation && !x.workers.empty()) {
      x.zero_generation = true;
      x.worker = SIZE_MAX;
      out.push_back(std::move(x));
    } else if (none && any_generation) {
      x.workers.clear();
      out.push_back(std::move(x));
    }
  }
  return out;
}

}  // namespace alog::srtctl

namespace alog::srtctl {

namespace {

std::string f2(bool has, double v) {
  return has && std::isfinite(v) ? fmt::format("{:.2f}", v) : std::string("–");
}

// The columns of the per-window tables: the figures people read first.
constexpr BatchField kShown[] = {kRunningReq,   kQueueReq, kTokenUsage, kTransferReq,
                                 kRetractedReq, kInputTps, kGenTps};

// A CSV field: quoted when it holds a separator, a quote or a line break (RFC 4180).
std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string o = "\"";
  for (char c : v) {
    if (c == '"') o += '"';
    o += c;
  }
  o += '"';
  return o;
}

std::string rank_text(int dp) {
  return dp < 0 ? std::string("all") : fmt::format("DP{}", dp);
}

}  // namespace

nlohmann::ordered_json batches_json(const JobReport& r) {
  using ojson = nlohmann::ordered_json;
  const auto windows = bench_windows(r);
  const auto stats = window_stats(r, windows);
  ojson o;
  ojson ws = ojson::array();
  for (const auto& w : windows)
    ws.push_back({{"label", w.label},
                  {"concurrency", w.concurrency},
                  {"warmup", w.warmup},
                  {"started_at", w.started_at},
                  {"ended_at", w.ended_at.empty() ? ojson(nullptr) : ojson(w.ended_at)}});
  o["windows"] = std::move(ws);
  ojson workers = ojson::array();
  for (const auto& wb : r.batches)
    workers.push_back({{"worker", utf8_clean(worker_label(wb.id.role, wb.id.index, wb.id.node))},
                       {"file", utf8_clean(wb.file)},
                       {"batch_lines", wb.lines},
                       {"unreadable_lines", wb.unreadable},
                       {"cuda_graph_max_bs",
                        wb.cuda_graph_max_bs ? ojson(*wb.cuda_graph_max_bs) : ojson(nullptr)},
                       {"seconds", wb.buckets}});
  o["workers"] = std::move(workers);
  ojson st = ojson::array();
  for (const auto& s : stats) {
    ojson mean = ojson::object(), max = ojson::object();
    for (size_t f = 0; f < kBatchFieldCount; ++f) {
      if (!s.has[f]) continue;
      mean[std::string(batch_field_name(static_cast<BatchField>(f)))] = s.mean[f];
      max[std::string(batch_field_name(static_cast<BatchField>(f)))] = s.max[f];
    }
    st.push_back(
        {{"window", windows[s.window].label},
         {"worker", utf8_clean(s.worker)},
         {"kind", s.decode ? "decode" : "prefill"},
         {"dp", s.dp < 0 ? ojson(nullptr) : ojson(s.dp)},
         {"lines", s.lines},
         {"cuda_graph_false", s.graph_false},
         {"mean", std::move(mean)},
         {"max", std::move(max)},
         {"queue_first", std::isnan(s.first_queue) ? ojson(nullptr) : ojson(s.first_queue)},
         {"queue_last", std::isnan(s.last_queue) ? ojson(nullptr) : ojson(s.last_queue)}});
  }
  o["window_stats"] = std::move(st);
  ojson rm = ojson::array();
  for (const auto& m : rate_matching(r, windows, stats))
    rm.push_back({{"window", windows[m.window].label},
                  {"prefill_input_tps", m.prefill_input_tps},
                  {"decode_gen_tps", m.decode_gen_tps},
                  {"decode_queue_growth", m.decode_queue_growth},
                  {"prefill_queue_max", m.prefill_queue_max},
                  {"transfer_max", m.transfer_max},
                  {"limiter", m.limiter},
                  {"evidence", m.evidence}});
  o["rate_matching"] = std::move(rm);
  return o;
}

std::string batches_markdown(const JobReport& r) {
  if (r.batches.empty()) return {};
  const auto windows = bench_windows(r);
  const auto stats = window_stats(r, windows);
  std::string o = "\n## Worker batch metrics per benchmark window\n\n";
  o +=
      "From the workers' `Prefill batch` / `Decode batch` lines, cut at the benchmark's date lines "
      "(warm-ups marked). Mean (max) per window; `all` = every DP rank of the worker.\n\n";
  o += "| window | from | to | worker | kind | rank | lines | running | queue | token usage | "
       "transfer | "
       "retracted | input tok/s | gen tok/s | cuda graph off "
       "|\n|---|---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& s : stats) {
    const auto& w = windows[s.window];
    std::string row =
        fmt::format("| {} | {} | {} | {} | {} | {} | {} |", w.label, w.started_at,
                    w.ended_at.empty() ? "(did not end)" : w.ended_at, md_escape(s.worker),
                    s.decode ? "decode" : "prefill", rank_text(s.dp), s.lines);
    for (BatchField f : kShown)
      row += fmt::format(" {} ({}) |", f2(s.has[f], s.mean[f]), f2(s.has[f], s.max[f]));
    o += fmt::format("{} {} |\n", row, s.graph_false);
  }
  auto rm = rate_matching(r, windows, stats);
  if (!rm.empty()) {
    o += "\n### Rate matching (prefill against decode)\n\n| window | prefill input tok/s | decode "
         "gen tok/s | decode "
         "queue growth | max transfer-req | limits | evidence |\n|---|--:|--:|--:|--:|---|---|\n";
    for (const auto& m : rm)
      o += fmt::format("| {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {} | {} |\n",
                       windows[m.window].label, m.prefill_input_tps, m.decode_gen_tps,
                       m.decode_queue_growth, m.transfer_max, m.limiter, md_escape(m.evidence));
  }
  return o;
}

std::string batches_html(const JobReport& r) {
  if (r.batches.empty()) return {};
  const auto windows = bench_windows(r);
  const auto stats = window_stats(r, windows);
  std::string o =
      "<h2>Worker batch metrics per benchmark window</h2>\n<div class=\"scroll\"><table><tr>"
      "<th class=\"l\">window</th><th class=\"l\">from</th><th class=\"l\">to</th><th "
      "class=\"l\">worker</th>"
      "<th class=\"l\">kind</th><th>rank</th><th>lines</th>";
  for (BatchField f : kShown) o += fmt::format("<th>{} mean (max)</th>", batch_field_name(f));
  o += "<th>cuda graph off</th></tr>\n";
  for (const auto& s : stats) {
    const auto& w = windows[s.window];
    o += fmt::format(
        "<tr><td class=\"l{}\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td "
        "class=\"l\">{}</td>"
        "<td class=\"l\">{}</td><td>{}</td><td>{}</td>",
        w.warmup ? " s-info" : "", html_escape(w.label), html_escape(w.started_at),
        html_escape(w.ended_at.empty() ? "(did not end)" : w.ended_at), html_escape(s.worker),
        s.decode ? "decode" : "prefill", rank_text(s.dp), s.lines);
    for (BatchField f : kShown)
      o += fmt::format("<td>{} ({})</td>", f2(s.has[f], s.mean[f]), f2(s.has[f], s.max[f]));
    o += fmt::format("<td>{}</td></tr>\n", s.graph_false);
  }
  o += "</table></div>\n";
  auto rm = rate_matching(r, windows, stats);
  if (!rm.empty()) {
    o += "<h3>Rate matching (prefill against decode)</h3>\n<table><tr><th "
         "class=\"l\">window</th><th>prefill input "
         "tok/s</th><th>decode gen tok/s</th><th>decode queue growth</th><th>max "
         "transfer-req</th><th "
         "class=\"l\">limits</th><th class=\"l\">evidence</th></tr>\n";
    for (const auto& m : rm)
      o += fmt::format(
          "<tr><td "
          "class=\"l\">{}</td><td>{:.0f}</td><td>{:.0f}</td><td>{:.0f}</td><td>{:.0f}</td><td "
          "class=\"l\">{}</td><td class=\"wrap\">{}</td></tr>\n",
          html_escape(windows[m.window].label), m.prefill_input_tps, m.decode_gen_tps,
          m.decode_queue_growth, m.transfer_max, m.limiter, html_escape(m.evidence));
    o += "</table>\n";
  }
  o += worker_series_html(r);
  return o;
}

namespace {

// The step of a series over [t0, t1] with at most `max_points` steps, and its first step's start.
// Every bucket kept (bin_s 0): ceil(span / max_points) from t0, as over the full list. Bins of
// bin_s seconds: a multiple of bin_s, steps aligned on multiples of the step, so that a bin falls
// in exactly one step.
std::pair<int64_t, int64_t> series_step(int64_t t0, int64_t t1, int64_t bin_s, size_t max_points) {
  const int64_t n = static_cast<int64_t>(std::max<size_t>(1, max_points));
  const int64_t need = std::max<int64_t>(1, (t1 - t0 + 1 + n - 1) / n);
  if (bin_s == 0) return {t0, need};
  int64_t step = (need + bin_s - 1) / bin_s * bin_s;
  while ((floor_to(t1, step) - floor_to(t0, step)) / step + 1 > n) step += bin_s;
  return {floor_to(t0, step), step};
}

}  // namespace

std::vector<WorkerSeries> worker_series(const JobReport& r, size_t max_points) {
  std::vector<WorkerSeries> out;
  max_points = std::max<size_t>(2, max_points);
  for (size_t k = 0; k < r.batches.size(); ++k) {
    const WorkerBatches& wb = r.batches[k];
    // Decode lines for decode and aggregated workers, prefill lines for prefill workers; a worker
    // with only the other kind is drawn with that.
    const bool decode = wb.id.role == "prefill" ? !wb.has_kind[0] : wb.has_kind[1];
    if (!wb.has_kind[decode ? 1 : 0]) continue;
    const int64_t t1 = wb.t_max[decode ? 1 : 0];
    WorkerSeries s;
    s.worker = k;
    s.decode = decode;
    std::tie(s.t0, s.step) = series_step(wb.t_min[decode ? 1 : 0], t1, wb.series_bin_s, max_points);
    const size_t slots = static_cast<size_t>((t1 - s.t0) / s.step + 1);
    std::vector<double> sum[3], cnt[3];
    for (int f = 0; f < 3; ++f) sum[f].assign(slots, 0.0), cnt[f].assign(slots, 0.0);
    constexpr BatchField kFields3[3] = {kRunningReq, kQueueReq, kTokenUsage};
    for (const auto& b : wb.series) {
      if (b.decode != decode) continue;
      const size_t i = static_cast<size_t>((b.t - s.t0) / s.step);
      for (int f = 0; f < 3; ++f)
        if (b.count[kFields3[f]]) sum[f][i] += b.sum[kFields3[f]], cnt[f][i] += b.count[kFields3[f]];
    }
    for (size_t i = 0; i < slots; ++i) {
      bool any = false;
      for (int f = 0; f < 3; ++f) any |= cnt[f][i] > 0;
      if (!any) continue;  // no line in this step: a gap, not a zero
      s.t.push_back(s.t0 + static_cast<int64_t>(i) * s.step);
      auto mean = [&](int f) { return cnt[f][i] > 0 ? sum[f][i] / cnt[f][i] : NAN; };
      s.running.push_back(mean(0));
      s.queue.push_back(mean(1));
      s.token_usage.push_back(mean(2));
    }
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

struct Line {
  const char* label;
  const char* color;
  const std::vector<double>* y;
};

// One time-series chart: x in minutes since `x0`, the windows as shaded bands, one polyline per
// series (broken where a value is missing or a step had no line).
std::string series_svg(const std::string& aria, const std::string& ylabel, const WorkerSeries& s,
                       const std::vector<Line>& lines, const std::vector<BenchWindow>& windows,
                       int64_t x0, int64_t x1, std::optional<double> ymax_fixed) {
  constexpr double W = 560, H = 200, L = 52, R = 12, T = 10, B = 34;
  double ymax = ymax_fixed.value_or(0);
  if (!ymax_fixed)
    for (const auto& l : lines)
      for (double v : *l.y)
        if (std::isfinite(v)) ymax = std::max(ymax, v);
  if (ymax <= 0) ymax = 1;
  if (!ymax_fixed) ymax *= 1.1;
  const double span = static_cast<double>(std::max<int64_t>(1, x1 - x0));
  auto fx = [&](double t) { return L + (t - static_cast<double>(x0)) / span * (W - L - R); };
  auto fy = [&](double y) { return T + (1 - y / ymax) * (H - T - B); };
  std::string o = fmt::format("<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n", W, H,
                              html_escape(aria));
  size_t shaded = 0;
  for (const auto& w : windows) {
    if (w.end < x0 || w.start > x1) continue;
    const double label_y = T + 10 + static_cast<double>(shaded++ % 2) * 12;  // neighbours apart
    const double a = fx(static_cast<double>(std::max(w.start, x0))),
                 b = fx(static_cast<double>(std::min(w.end + 1, x1)));
    o += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\" "
        "opacity=\"0.35\"><title>{} {} .. {}</title></rect>\n",
        a, T, std::max(0.5, b - a), H - T - B, w.warmup ? "#fde68a" : "#dbeafe", html_escape(w.label),
        html_escape(w.started_at), html_escape(w.ended_at.empty() ? "(did not end)" : w.ended_at));
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\">{}</text>\n", a + 2, label_y, html_escape(w.label));
  }
  o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#9ca3af\"/>\n", L, H - B,
                   W - R, H - B);
  o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#9ca3af\"/>\n", L, T, L,
                   H - B);
  for (int k = 0; k <= 4; ++k) {
    const double y = ymax * k / 4, t = static_cast<double>(x0) + span * k / 4;
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", L - 4,
                     fy(y) + 4, fixed(y, ymax >= 10 ? 0 : 2));
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", fx(t),
                     H - B + 14, fixed((t - static_cast<double>(x0)) / 60.0, 1));
  }
  o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">minutes since {}</text>\n",
                   (L + W - R) / 2, H - 4, html_escape(civil_stamp(x0)));
  o += fmt::format(
      "<text x=\"12\" y=\"{0:.1f}\" transform=\"rotate(-90 12 {0:.1f})\" "
      "text-anchor=\"middle\">{1}</text>\n",
      (T + H - B) / 2, html_escape(ylabel));
  for (const auto& l : lines) {
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        o += fmt::format(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"><title>{}</title>"
            "</polyline>\n",
            l.color, pts, l.label);
      pts.clear();
    };
    // Batch lines are sparse (a decode line every `decode-log-interval` steps, none while idle):
    // a dot per sample, joined to the previous one only when they are close, so that an idle
    // stretch is not drawn as if the last value went on.
    const int64_t join = std::max<int64_t>(3 * s.step, 30);
    std::string dots;
    for (size_t i = 0; i < s.t.size(); ++i) {
      const double v = (*l.y)[i];
      if (!std::isfinite(v) || (i > 0 && s.t[i] - s.t[i - 1] > join)) flush();
      if (!std::isfinite(v)) continue;
      const double x = fx(static_cast<double>(s.t[i]) + static_cast<double>(s.step) / 2), y = fy(v);
      pts += fmt::format("{:.1f},{:.1f} ", x, y);
      dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"1.6\"/>", x, y);
    }
    flush();
    if (!dots.empty()) o += fmt::format("<g fill=\"{}\">{}</g>\n", l.color, dots);
  }
  o += "</svg>\n";
  return o;
}

}  // namespace

std::string worker_series_html(const JobReport& r, size_t max_points, size_t max_workers) {
  const auto series = worker_series(r, max_points);
  if (series.empty()) return {};
  const auto windows = bench_windows(r);
  // One time axis for every worker of the job, so that their charts line up.
  int64_t x0 = INT64_MAX, x1 = INT64_MIN;
  for (const auto& s : series) {
    x0 = std::min(x0, s.t.front());
    x1 = std::max(x1, s.t.back() + s.step);
  }
  for (const auto& w : windows) {
    x0 = std::min(x0, w.start);
    x1 = std::max(x1, w.end + 1);
  }
  std::string o =
      "<h3>Worker batch metrics over time</h3>\n<p>Mean per DP rank of the worker's batch lines, "
      "averaged over the step shown; benchmark runs shaded blue, warm-ups yellow. Every point is "
      "in worker_timeseries.csv.</p>\n";
  size_t shown = 0;
  for (const auto& s : series) {
    if (shown == max_workers) break;
    ++shown;
    const WorkerBatches& wb = r.batches[s.worker];
    const std::string who = worker_label(wb.id.role, wb.id.index, wb.id.node);
    const std::string kind = s.decode ? "decode" : "prefill";
    o += fmt::format("<h4>{} ({} lines, {} s per point)</h4>\n", html_escape(who), kind, s.step);
    o += fmt::format(
        "<figure>{}<figcaption><span style=\"color:#2563eb\">■</span> #running-req "
        "<span style=\"color:#ea580c\">■</span> #queue-req</figcaption></figure>\n",
        series_svg(fmt::format("{}: running and queued requests over time", who), "requests", s,
                   {{"#running-req", "#2563eb", &s.running}, {"#queue-req", "#ea580c", &s.queue}}, windows,
                   x0, x1, std::nullopt));
    bool usage = false;
    for (double v : s.token_usage) usage |= std::isfinite(v);
    if (usage)
      o += fmt::format(
          "<figure>{}<figcaption><span style=\"color:#16a34a\">■</span> token usage (KV "
          "cache)</figcaption></figure>\n",
          series_svg(fmt::format("{}: token usage over time", who), "token usage", s,
                     {{"token usage", "#16a34a", &s.token_usage}}, windows, x0, x1, 1.0));
  }
  if (shown < series.size())
    o += fmt::format("<p>{} more workers are not drawn; their series are in worker_timeseries.csv.</p>\n",
                     series.size() - shown);
  return o;
}

std::vector<std::pair<std::string, std::string>> batches_csv(const std::vector<JobReport>& jobs,
                                                             size_t max_rows_per_worker) {
  return batches_csv(detail::pointers_to(jobs), max_rows_per_worker);
}

std::vector<std::pair<std::string, std::string>> batches_csv(
    const std::vector<const JobReport*>& jobs, size_t max_rows_per_worker) {
  std::vector<BatchCsvRows> rows;
  rows.reserve(jobs.size());
  for (const JobReport* r : jobs) rows.push_back(batches_csv_rows(*r, max_rows_per_worker));
  std::vector<const BatchCsvRows*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);
  return batches_csv(ptrs);
}

std::vector<std::pair<std::string, std::string>> batches_csv(const std::vector<const BatchCsvRows*>& rows) {
  std::string ws =
      "job,window,warmup,concurrency,started_at,ended_at,worker,kind,dp,lines,cuda_graph_false";
  for (size_t f = 0; f < kBatchFieldCount; ++f)
    ws += fmt::format(",{0}_mean,{0}_max", batch_field_name(static_cast<BatchField>(f)));
  ws += "\n";
  std::string ts = "job,worker,kind,dp,t,bucket_s,lines";
  for (size_t f = 0; f < kBatchFieldCount; ++f)
    ts += fmt::format(",{}_mean", batch_field_name(static_cast<BatchField>(f)));
  ts += "\n";
  size_t nw = ws.size(), nt = ts.size();
  for (const BatchCsvRows* r : rows) nw += r->window_stats.size(), nt += r->timeseries.size();
  ws.reserve(nw);
  ts.reserve(nt);
  for (const BatchCsvRows* r : rows) {
    ws += r->window_stats;
    ts += r->timeseries;
  }
  return {{"worker_window_stats.csv", std::move(ws)}, {"worker_timeseries.csv", std::move(ts)}};
}

BatchCsvRows batches_csv_rows(const JobReport& r, size_t max_rows_per_worker) {
  std::string ws, ts;
  auto num = [](bool has, double v) { return has ? fmt::format("{}", v) : std::string(); };
  const std::string id = csv_field(r.job.job_id.empty() ? r.name : r.job.job_id);
  const auto windows = bench_windows(r);
  for (const auto& s : window_stats(r, windows)) {
    const auto& w = windows[s.window];
    ws += fmt::format("{},{},{},{},{},{},{},{},{},{},{}", id, w.label, w.warmup ? 1 : 0,
                      w.concurrency, w.started_at, w.ended_at, csv_field(s.worker),
                      s.decode ? "decode" : "prefill",
                      s.dp < 0 ? std::string() : std::to_string(s.dp), s.lines, s.graph_false);
    for (size_t f = 0; f < kBatchFieldCount; ++f)
      ws += fmt::format(",{},{}", num(s.has[f], s.mean[f]), num(s.has[f], s.max[f]));
    ws += "\n";
  }
  // The time series in buckets of `step` seconds, chosen so that a worker writes at most
  // max_rows_per_worker rows per (rank, kind): long runs are averaged, not cut.
  for (const auto& wb : r.batches) {
    if (wb.series.empty()) continue;
    const std::string who = csv_field(worker_label(wb.id.role, wb.id.index, wb.id.node));
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (int d = 0; d < 2; ++d)
      if (wb.has_kind[d]) t0 = std::min(t0, wb.t_min[d]), t1 = std::max(t1, wb.t_max[d]);
    const auto [first, step] = series_step(t0, t1, wb.series_bin_s, max_rows_per_worker);
    std::map<std::tuple<bool, int, int64_t>, SeriesPoint> agg;
    for (const auto& b : wb.series) {
      SeriesPoint& a = agg[{b.decode, b.dp, first + (b.t - first) / step * step}];
      a.n += b.n;
      for (size_t f = 0; f < kBatchFieldCount; ++f)
        a.count[f] += b.count[f], a.sum[f] += b.sum[f];
    }
    for (const auto& [k, a] : agg) {
      const auto& [decode, dp, t] = k;
      ts += fmt::format("{},{},{},{},{},{},{}", id, who, decode ? "decode" : "prefill",
                        dp < 0 ? std::string() : std::to_string(dp), t, step, a.n);
      for (size_t f = 0; f < kBatchFieldCount; ++f)
        ts += fmt::format(",{}", a.count[f] ? fmt::format("{}", a.sum[f] / a.count[f]) : std::string());
      ts += "\n";
    }
  }
  return {std::move(ws), std::move(ts)};
}

}  // namespace alog::srtctl
