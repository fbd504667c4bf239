// `analyze-logs partial` / `merge` for srtctl jobs: the per-file states of collect.hpp as JSON
// (the caller stores them as CBOR), and the merge of several nodes' states into one report.
//
// A state is read strictly: every key partial_state writes must be there with its type, so that a
// state from another version or a damaged file stops the merge with the place named, instead of
// becoming a report that silently lacks a worker.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "analyze_logs/srtctl.hpp"
#include "collect.hpp"
#include "persist_json.hpp"

namespace alog::srtctl {

using json = nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LogScan, log, hits, tracebacks, cancelled,
                                                slurm_errors, batches)

namespace detail {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(JobJsonState, job, job_name, model, gpu_type, gpus_per_node,
                                   prefill_nodes, decode_nodes, agg_nodes, isl, osl,
                                   requested_concurrencies, request_rate, problems)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LogOutState, topology, problems)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BenchOutState, log, problems)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ResultState, run, problems)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SweepState, polled, ready, timed_out, ready_at, problems)

// ---------------------------------------------------------------------------------------------
// Buckets as bytes.

namespace {

void put_varint(std::vector<uint8_t>& o, uint64_t v) {
  while (v >= 0x80) {
    o.push_back(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  o.push_back(static_cast<uint8_t>(v));
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t u) {
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

constexpr double kExactInt = 9007199254740992.0;  // 2^53
constexpr int64_t kMaxSecond = int64_t{1} << 40;  // beyond any civil_seconds() of a stamp

void put_number(std::vector<uint8_t>& o, double v) {
  if (std::isfinite(v) && std::fabs(v) < kExactInt && v == std::trunc(v) &&
      !(v == 0 && std::signbit(v))) {
    put_varint(o, zigzag(static_cast<int64_t>(v)) << 1);
    return;
  }
  o.push_back(1);
  const auto bits = std::bit_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) o.push_back(static_cast<uint8_t>(bits >> (8 * i)));
}

bool same_bits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

struct ByteReader {
  std::span<const uint8_t> in;
  const std::string& what;
  size_t pos = 0;

  [[noreturn]] void fail(std::string_view why) const {
    throw std::runtime_error(
        fmt::format("srtctl partial state: batch buckets of {}: {} at byte {}", what, why, pos));
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size()) fail("truncated");
      const uint8_t b = in[pos++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint too long");
  }
  uint32_t u32() {
    uint64_t v = varint();
    if (v > UINT32_MAX) fail("count out of range");
    return static_cast<uint32_t>(v);
  }
  double number() {
    const uint64_t u = varint();
    if (!(u & 1)) return static_cast<double>(unzigzag(u >> 1));
    if (u != 1) fail("bad number tag");
    if (in.size() - pos < 8) fail("truncated");
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(in[pos++]) << (8 * i);
    return std::bit_cast<double>(bits);
  }
};

}  // namespace

void BucketWriter::add(const BatchBucket& b, std::vector<uint8_t>& o) {
  put_varint(
      o, zigzag(static_cast<int64_t>(static_cast<uint64_t>(b.t) - static_cast<uint64_t>(prev_t_))));
  put_varint(o, zigzag(static_cast<int64_t>(b.line - prev_line_)));
  prev_t_ = b.t;
  prev_line_ = b.line;
  put_varint(o, zigzag(b.dp));
  uint64_t mask = 0;
  for (size_t f = 0; f < kBatchFieldCount; ++f)
    if (b.count[f]) mask |= uint64_t{1} << f;
  put_varint(o, mask << 1 | (b.decode ? 1 : 0));
  put_varint(o, b.n);
  put_varint(o, b.graph_false);
  put_varint(o, b.graph_true);
  for (size_t f = 0; f < kBatchFieldCount; ++f) {
    if (!b.count[f]) continue;
    const bool single =
        b.count[f] == 1 && same_bits(b.sum[f], b.min[f]) && same_bits(b.sum[f], b.max[f]);
    put_varint(o, uint64_t{b.count[f]} << 1 | (single ? 1 : 0));
    put_number(o, b.sum[f]);
    if (!single) {
      put_number(o, b.min[f]);
      put_number(o, b.max[f]);
    }
  }
}

void read_buckets(std::span<const uint8_t> bytes, const std::string& what,
                  const std::function<void(const BatchBucket&)>& f) {
  ByteReader r{bytes, what};
  int64_t t = 0;
  uint64_t line = 0;
  while (r.pos < bytes.size()) {
    BatchBucket b;
    // Unsigned: damaged deltas wrap instead of overflowing.
    t = static_cast<int64_t>(static_cast<uint64_t>(t) +
                             static_cast<uint64_t>(unzigzag(r.varint())));
    line += static_cast<uint64_t>(unzigzag(r.varint()));
    // Civil seconds of years 0 to 9999 at most: the folds subtract seconds and must not overflow.
    if (t < -kMaxSecond || t > kMaxSecond) r.fail("second out of range");
    b.t = t;
    b.line = line;
    const int64_t dp = unzigzag(r.varint());
    if (dp < INT32_MIN || dp > INT32_MAX) r.fail("rank out of range");
    b.dp = static_cast<int>(dp);
    const uint64_t mask = r.varint();
    if (mask >> (kBatchFieldCount + 1)) r.fail("unknown field");
    b.decode = mask & 1;
    b.n = r.u32();
    b.graph_false = r.u32();
    b.graph_true = r.u32();
    for (size_t k = 0; k < kBatchFieldCount; ++k) {
      if (!(mask >> (k + 1) & 1)) continue;
      const uint64_t c = r.varint();
      if ((c >> 1) == 0 || (c >> 1) > UINT32_MAX) r.fail("count out of range");
      b.count[k] = static_cast<uint32_t>(c >> 1);
      b.sum[k] = r.number();
      if (c & 1) {
        b.min[k] = b.max[k] = b.sum[k];
      } else {
        b.min[k] = r.number();
        b.max[k] = r.number();
      }
    }
    f(b);
  }
}

// ---------------------------------------------------------------------------------------------
// States as JSON.

namespace {

constexpr const char* kFormat = "srtctl-partial";

[[noreturn]] void bad(const std::string& where, std::string_view why) {
  throw std::runtime_error(fmt::format("srtctl partial state: {}: {}", where, why));
}

// The first key of `want` (what a decoded value writes) that `have` (what was read) lacks, as a
// path ("log.first_time", "hits[2].kind"); empty when none. The decoders fill a missing key with
// its default: this is what makes them strict.
std::string missing_key(const json& want, const json& have, const std::string& at) {
  if (want.is_object()) {
    if (!have.is_object()) return at.empty() ? "(the object itself)" : at;
    for (const auto& [k, v] : want.items()) {
      const std::string here = at.empty() ? k : at + "." + k;
      auto it = have.find(k);
      if (it == have.end()) return here;
      if (std::string m = missing_key(v, *it, here); !m.empty()) return m;
    }
  } else if (want.is_array() && have.is_array()) {
    for (size_t i = 0; i < std::min(want.size(), have.size()); ++i)
      if (std::string m = missing_key(want[i], have[i], fmt::format("{}[{}]", at, i)); !m.empty())
        return m;
  }
  return {};
}

template <class T>
T strict(const json& j, const std::string& where) {
  T v{};
  try {
    v = j.get<T>();
  } catch (const json::exception& e) {
    bad(where, e.what());
  }
  if (std::string m = missing_key(json(v), j, ""); !m.empty()) bad(where, "missing key " + m);
  return v;
}

const json& need(const json& j, const char* key, const std::string& where) {
  if (!j.is_object()) bad(where, "not an object");
  auto it = j.find(key);
  if (it == j.end()) bad(where, fmt::format("missing key {}", key));
  return *it;
}

std::string need_string(const json& j, const char* key, const std::string& where) {
  const json& v = need(j, key, where);
  if (!v.is_string()) bad(where, fmt::format("{} is not a string", key));
  return v.get<std::string>();
}

bool need_bool(const json& j, const char* key, const std::string& where) {
  const json& v = need(j, key, where);
  if (!v.is_boolean()) bad(where, fmt::format("{} is not a boolean", key));
  return v.get<bool>();
}

std::string_view mode_name(ScanMode m) {
  return m == ScanMode::client ? "client" : m == ScanMode::batch ? "batch" : "worker";
}

// The window-free figures of a scan: its folds are redone at the merge from the buckets.
json scan_json(const LogScan& sc) {
  json j = sc;
  if (sc.batches) {
    json& b = j["batches"];
    b["series"] = json::array();
    b["windows"] = json::array();
    b["window_spans"] = json::array();
  }
  return j;
}

// The UTC reading of a file's `...Z` stamps differs from the other only in stamps: the hits' times
// and exactness, the tracebacks' times, the file's first and last stamp and the first retraction's
// stamp. Those are kept ("stamps"); a reading that differs in anything else is kept whole.
json utc_stamps_json(const LogScan& u) {
  json d;
  d["hit_time"] = json::array();
  d["hit_exact"] = json::array();
  for (const auto& h : u.hits) {
    d["hit_time"].push_back(h.time);
    d["hit_exact"].push_back(h.exact);
  }
  d["tb_time"] = json::array();
  for (const auto& tb : u.tracebacks) d["tb_time"].push_back(tb.time);
  d["first_time"] = u.log.first_time;
  d["last_time"] = u.log.last_time;
  d["first_retract"] = u.batches ? json(u.batches->first_retract) : json(nullptr);
  return d;
}

LogScan apply_utc_stamps(const LogScan& scan, const json& d, const std::string& where) {
  LogScan u = scan;
  auto times = strict<std::vector<std::string>>(need(d, "hit_time", where), where + ": hit_time");
  auto exact = strict<std::vector<bool>>(need(d, "hit_exact", where), where + ": hit_exact");
  auto tb = strict<std::vector<std::string>>(need(d, "tb_time", where), where + ": tb_time");
  if (times.size() != u.hits.size() || exact.size() != u.hits.size() ||
      tb.size() != u.tracebacks.size())
    bad(where, "stamps do not match the scan's hits and tracebacks");
  for (size_t i = 0; i < u.hits.size(); ++i) {
    u.hits[i].time = times[i];
    u.hits[i].exact = exact[i];
  }
  for (size_t i = 0; i < u.tracebacks.size(); ++i) u.tracebacks[i].time = tb[i];
  u.log.first_time = strict<std::string>(need(d, "first_time", where), where + ": first_time");
  u.log.last_time = strict<std::string>(need(d, "last_time", where), where + ": last_time");
  const json& r = need(d, "first_retract", where);
  if (u.batches)
    u.batches->first_retract =
        r.is_null() ? std::nullopt
                    : std::optional<BatchEvent>(strict<BatchEvent>(r, where + ": first_retract"));
  else if (!r.is_null())
    bad(where, "first_retract without batch figures");
  return u;
}

json utc_json(const LogScan& scan, const LogScan& u) {
  json d = utc_stamps_json(u);
  bool same = false;
  try {  // compared as CBOR: a NaN (a KV-cache line's `running`) equals itself there
    same = json::to_cbor(json(apply_utc_stamps(scan, d, scan.log.file))) == json::to_cbor(json(u));
  } catch (const std::runtime_error&) {
  }
  json j;
  if (same)
    j["stamps"] = std::move(d);
  else
    j["whole"] = scan_json(u);
  return j;
}

json file_json(const FileState& f) {
  json j;
  j["path"] = f.path;
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, JobJsonState>) {
          j["type"] = "job_json";
          j["state"] = s;
        } else if constexpr (std::is_same_v<T, LogOutState>) {
          j["type"] = "log_out";
          j["state"] = s;
        } else if constexpr (std::is_same_v<T, BenchOutState>) {
          j["type"] = "benchmark_out";
          j["state"] = s;
        } else if constexpr (std::is_same_v<T, ResultState>) {
          j["type"] = "result";
          j["state"] = s;
        } else {
          j["type"] = "log";
          json st;
          st["id"] = s.id;
          st["mode"] = mode_name(s.mode);
          st["scan"] = scan_json(s.scan.scan);
          st["utc"] = s.scan.utc ? utc_json(s.scan.scan, *s.scan.utc) : json(nullptr);
          st["utc_stamps"] = s.scan.utc_stamps;
          st["buckets"] = json::binary(s.buckets);
          st["problems"] = s.problems;
          st["sweep"] = s.sweep ? json(*s.sweep) : json(nullptr);
          j["state"] = std::move(st);
        }
      },
      f.state);
  return j;
}

ScanState scan_state(const json& st, const std::string& where) {
  ScanState s;
  s.id = strict<LogFileId>(need(st, "id", where), where + ": id");
  const std::string mode = need_string(st, "mode", where);
  if (mode == "worker")
    s.mode = ScanMode::worker;
  else if (mode == "client")
    s.mode = ScanMode::client;
  else if (mode == "batch")
    s.mode = ScanMode::batch;
  else
    bad(where, fmt::format("unknown scan mode '{}'", mode));
  s.scan.scan = strict<LogScan>(need(st, "scan", where), where + ": scan");
  if (const json& u = need(st, "utc", where); !u.is_null()) {
    if (!u.is_object()) bad(where, "utc is not an object");
    if (auto d = u.find("stamps"); d != u.end())
      s.scan.utc = apply_utc_stamps(s.scan.scan, *d, where + ": utc");
    else if (auto w = u.find("whole"); w != u.end())
      s.scan.utc = strict<LogScan>(*w, where + ": utc");
    else
      bad(where, "utc has neither stamps nor whole");
  }
  s.scan.utc_stamps = need_bool(st, "utc_stamps", where);
  const json& b = need(st, "buckets", where);
  if (!b.is_binary()) bad(where, "buckets is not a byte string");
  s.buckets = b.get_binary();
  // Decoded once here so that damaged bytes stop the merge before anything is reported.
  read_buckets(s.buckets, where, [](const BatchBucket&) {});
  s.problems = strict<std::vector<Problem>>(need(st, "problems", where), where + ": problems");
  if (const json& w = need(st, "sweep", where); !w.is_null())
    s.sweep = strict<SweepState>(w, where + ": sweep");
  return s;
}

FileState file_state(const json& j, const std::string& host, const std::string& where_part) {
  const std::string path = need_string(j, "path", where_part);
  const std::string where = fmt::format("{} file {}", where_part, path);
  const std::string type = need_string(j, "type", where);
  const json& st = need(j, "state", where);
  FileState f;
  f.path = path;
  f.host = host;
  f.rel = path;
  if (type == "job_json")
    f.state = strict<JobJsonState>(st, where);
  else if (type == "log_out")
    f.state = strict<LogOutState>(st, where);
  else if (type == "benchmark_out")
    f.state = strict<BenchOutState>(st, where);
  else if (type == "result")
    f.state = strict<ResultState>(st, where);
  else if (type == "log")
    f.state = scan_state(st, where);
  else
    bad(where, fmt::format("unknown file type '{}'", type));
  return f;
}

}  // namespace

}  // namespace detail

nlohmann::json partial_state(const std::filesystem::path& dir, const JobOptions& opt) {
  detail::Collected c = detail::collect_partial(dir, opt);
  json files = json::array();
  for (const auto& f : c.files) files.push_back(detail::file_json(f));
  json j;
  j["format"] = detail::kFormat;
  j["version"] = kPartialVersion;
  j["dir"] = c.dir;
  j["name"] = c.name;
  j["top_files"] = c.top_files;
  j["logs_dir"] = c.logs_dir;
  j["files"] = std::move(files);
  return j;
}

JobReport merge_partials(const std::vector<core::PartState>& parts, const JobOptions& opt) {
  using detail::bad;
  using detail::need;
  if (parts.empty()) throw std::runtime_error("srtctl partial state: no parts to merge");
  detail::Collected c;
  struct Entry {
    const json* file;
    std::string path, host;
  };
  std::vector<Entry> entries;
  bool first = true;
  for (size_t i = 0; i < parts.size(); ++i) {
    const json& st = parts[i].state;
    const std::string where = fmt::format("part {} (host {})", i, parts[i].host);
    if (detail::need_string(st, "format", where) != detail::kFormat)
      bad(where, fmt::format("format is not {}", detail::kFormat));
    const json& v = need(st, "version", where);
    if (!v.is_number_integer() || v.get<int64_t>() != kPartialVersion)
      bad(where, fmt::format("version {} is not {}", v.dump(), kPartialVersion));
    const std::string name = detail::need_string(st, "name", where);
    const std::string dir = detail::need_string(st, "dir", where);
    if (first) {
      c.name = name;
      c.dir = dir;
      first = false;
    } else if (name != c.name) {
      bad(where, fmt::format("job folder {} is not {}: parts of different jobs", name, c.name));
    }
    c.dir = std::min(c.dir, dir);
    c.top_files = detail::need_bool(st, "top_files", where) || c.top_files;
    c.logs_dir = detail::need_bool(st, "logs_dir", where) || c.logs_dir;
    const json& files = need(st, "files", where);
    if (!files.is_array()) bad(where, "files is not an array");
    for (const auto& f : files)
      entries.push_back({&f, detail::need_string(f, "path", where), parts[i].host});
  }
  // The order analyze_job reads the files in, then by host; a file given twice by one host (the
  // same part twice) counts once.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.path != b.path) return detail::path_less(a.path, b.path);
    return a.host < b.host;
  });
  std::vector<Entry> unique;
  for (auto& e : entries) {
    if (!unique.empty() && unique.back().path == e.path && unique.back().host == e.host) {
      if (*unique.back().file != *e.file)
        bad(fmt::format("host {}", e.host), fmt::format("two different states of {}", e.path));
      continue;
    }
    unique.push_back(e);
  }
  for (size_t i = 0; i < unique.size(); ++i) {
    const Entry& e = unique[i];
    detail::FileState f = detail::file_state(*e.file, e.host, fmt::format("host {}", e.host));
    const bool shared = (i > 0 && unique[i - 1].path == e.path) ||
                        (i + 1 < unique.size() && unique[i + 1].path == e.path);
    if (shared) detail::rename_file(f, e.host + ":" + e.path);
    c.files.push_back(std::move(f));
  }
  return detail::finish(c, opt);
}

}  // namespace alog::srtctl
