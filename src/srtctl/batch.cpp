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
#include <cstring>
#include <map>
#include <tuple>

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
  auto add = [&](const BenchRun& x) {
    auto a = civil_seconds(x.started_at), b = civil_seconds(x.ended_at);
    if (!a) return;
    BenchWindow bw;
    bw.concurrency = x.concurrency;
    bw.warmup = x.warmup;
    bw.label = fmt::format("{}c{}", x.warmup ? "warm-up " : "", x.concurrency);
    bw.start = *a;
    bw.started_at = x.started_at;
    // A run that never ended (the worker died) lasts until its workers' last batch line.
    if (b && *b >= *a) {
      bw.end = *b;
      bw.ended_at = x.ended_at;
    } else {
      int64_t last = *a;
      for (const auto& wb : r.batches)
        if (!wb.buckets.empty()) last = std::max(last, wb.buckets.back().t);
      bw.end = last;
    }
    w.push_back(std::move(bw));
  };
  for (const auto& x : r.warmups) add(x);
  for (const auto& x : r.runs) add(x);
  std::stable_sort(w.begin(), w.end(),
                   [](const BenchWindow& a, const BenchWindow& b) { return a.start < b.start; });
  return w;
}

std::vector<WindowStats> window_stats(const JobReport& r, const std::vector<BenchWindow>& windows) {
  std::vector<WindowStats> out;
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    const auto& w = windows[wi];
    for (const auto& wb : r.batches) {
      const std::string worker = worker_label(wb.id.role, wb.id.index, wb.id.node);
      for (bool decode : {false, true}) {
        // key: dp (-2 = all ranks together)
        std::map<int, WindowStats> by;
        std::map<int, std::pair<double, double>> queue;  // per rank: first, last second's mean
        for (const auto& b : wb.buckets) {
          if (b.decode != decode || b.t < w.start || b.t > w.end) continue;
          for (int key : {-2, b.dp}) {
            WindowStats& s = by[key];
            s.lines += b.n;
            s.graph_false += b.graph_false;
            for (size_t f = 0; f < kBatchFieldCount; ++f) {
              if (!b.count[f]) continue;
              if (!s.has[f]) s.max[f] = b.max[f];
              s.max[f] = std::max(s.max[f], b.max[f]);
              s.mean[f] += b.sum[f];  // a sum until divided below
              s.has[f] = true;
            }
          }
          if (b.count[kQueueReq]) {
            double q = b.sum[kQueueReq] / b.count[kQueueReq];
            auto it = queue.find(b.dp);
            if (it == queue.end())
              queue.emplace(b.dp, std::make_pair(q, q));
            else
              it->second.second = q;
          }
        }
        if (by.empty()) continue;
        // Counts per field for the means: recount (buckets are few per window).
        std::map<int, std::array<uint64_t, kBatchFieldCount>> counts;
        for (const auto& b : wb.buckets) {
          if (b.decode != decode || b.t < w.start || b.t > w.end) continue;
          for (int key : {-2, b.dp})
            for (size_t f = 0; f < kBatchFieldCount; ++f) counts[key][f] += b.count[f];
        }
        for (auto& [key, s] : by) {
          s.window = wi;
          s.worker = worker;
          s.role = wb.id.role;
          s.decode = decode;
          s.dp = key == -2 ? -1 : key;
          for (size_t f = 0; f < kBatchFieldCount; ++f)
            if (s.has[f]) s.mean[f] /= static_cast<double>(counts[key][f]);
          if (key == -2) {
            double first = 0, last = 0;
            for (const auto& [dp, q] : queue) first += q.first, last += q.second;
            if (!queue.empty()) s.first_queue = first, s.last_queue = last;
          } else if (auto it = queue.find(key); it != queue.end()) {
            s.first_queue = it->second.first;
            s.last_queue = it->second.second;
          }
        }
        // All ranks first, then each rank.
        out.push_back(std::move(by[-2]));
        if (by.size() > 2 || (by.size() == 2 && by.begin()->first != -2))
          for (auto& [key, s] : by)
            if (key != -2) out.push_back(std::move(s));
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
                       {"seconds", wb.buckets.size()}});
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
  return o;
}

std::vector<std::pair<std::string, std::string>> batches_csv(const std::vector<JobReport>& jobs,
                                                             size_t max_rows_per_worker) {
  std::string ws =
      "job,window,warmup,concurrency,started_at,ended_at,worker,kind,dp,lines,cuda_graph_false";
  for (size_t f = 0; f < kBatchFieldCount; ++f)
    ws += fmt::format(",{0}_mean,{0}_max", batch_field_name(static_cast<BatchField>(f)));
  ws += "\n";
  std::string ts = "job,worker,kind,dp,t,bucket_s,lines";
  for (size_t f = 0; f < kBatchFieldCount; ++f)
    ts += fmt::format(",{}_mean", batch_field_name(static_cast<BatchField>(f)));
  ts += "\n";
  auto num = [](bool has, double v) { return has ? fmt::format("{}", v) : std::string(); };
  for (const auto& r : jobs) {
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
      if (wb.buckets.empty()) continue;
      const std::string who = csv_field(worker_label(wb.id.role, wb.id.index, wb.id.node));
      int64_t t0 = wb.buckets.front().t, t1 = t0;
      for (const auto& b : wb.buckets) t0 = std::min(t0, b.t), t1 = std::max(t1, b.t);
      const int64_t step =
          std::max<int64_t>(1, (t1 - t0 + 1 + static_cast<int64_t>(max_rows_per_worker) - 1) /
                                   static_cast<int64_t>(std::max<size_t>(1, max_rows_per_worker)));
      std::map<std::tuple<bool, int, int64_t>, BatchBucket> agg;
      for (const auto& b : wb.buckets) {
        BatchBucket& a = agg[{b.decode, b.dp, t0 + (b.t - t0) / step * step}];
        a.n += b.n;
        for (size_t f = 0; f < kBatchFieldCount; ++f)
          a.count[f] += b.count[f], a.sum[f] += b.sum[f];
      }
      for (const auto& [k, a] : agg) {
        const auto& [decode, dp, t] = k;
        ts += fmt::format("{},{},{},{},{},{},{}", id, who, decode ? "decode" : "prefill",
                          dp < 0 ? std::string() : std::to_string(dp), t, step, a.n);
        for (size_t f = 0; f < kBatchFieldCount; ++f)
          ts += fmt::format(",{}",
                            a.count[f] ? fmt::format("{}", a.sum[f] / a.count[f]) : std::string());
        ts += "\n";
      }
    }
  }
  return {{"worker_window_stats.csv", std::move(ws)}, {"worker_timeseries.csv", std::move(ts)}};
}

}  // namespace alog::srtctl
