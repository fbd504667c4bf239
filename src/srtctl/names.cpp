// Folder and file names: what a job folder is called, what each log file's name says about the
// process that wrote it, and the metric-label normalisation shared by the block and JSON readers.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace alog::srtctl {

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::healthy:
      return "healthy";
    case Verdict::degraded:
      return "degraded";
    case Verdict::failed:
      return "failed";
  }
  return "failed";
}

std::optional<JobName> parse_job_dir_name(std::string_view name) {
  static const RE2 disagg(R"((\d+)_(\d+)P_(\d+)D_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2}))");
  static const RE2 agg(R"((\d+)_(\d+)A_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2}))");
  JobName j;
  std::string y, mo, d, h, mi, s;
  int p = 0, dc = 0, a = 0;
  re2::StringPiece in(name.data(), name.size());
  if (RE2::FullMatch(in, disagg, &j.job_id, &p, &dc, &y, &mo, &d, &h, &mi, &s)) {
    j.prefill_workers = p;
    j.decode_workers = dc;
  } else if (RE2::FullMatch(in, agg, &j.job_id, &a, &y, &mo, &d, &h, &mi, &s)) {
    j.agg_workers = a;
  } else {
    return std::nullopt;
  }
  j.start = y + "-" + mo + "-" + d + " " + h + ":" + mi + ":" + s;
  if (!civil_seconds(j.start)) j.start.clear();  // 20251399_...: keep the id, drop the stamp
  return j;
}

std::optional<LogFileId> classify_log_file(std::string_view filename) {
  // Node names may hold underscores, so the role is matched from the right.
  static const RE2 worker(R"((.+)_(prefill|decode|agg)_w(\d+)\.(?:out|err))");
  static const RE2 frontend_i(R"((.+)_frontend_(\d+)\.(?:out|err))");
  static const RE2 frontend0(R"((.+)_frontend\.(?:out|err))");
  static const RE2 nginx(R"((.+)_nginx\.(?:out|err))");
  static const RE2 profile(R"(profile_(prefill|decode)\.(?:out|err))");
  re2::StringPiece in(filename.data(), filename.size());
  LogFileId id;
  int idx = 0;
  if (RE2::FullMatch(in, worker, &id.node, &id.role, &idx)) {
    id.index = idx;
  } else if (RE2::FullMatch(in, frontend_i, &id.node, &idx)) {
    id.role = "frontend";
    id.index = idx;
  } else if (RE2::FullMatch(in, frontend0, &id.node)) {
    id.role = "frontend";
    id.index = 0;
  } else if (filename == "frontend.out" || filename == "frontend.err") {
    id.role = "frontend";
    id.index = 0;
  } else if (RE2::FullMatch(in, nginx, &id.node)) {
    id.role = "nginx";
  } else if (RE2::FullMatch(in, profile, &id.node)) {
    // profile_{prefill,decode}: the captured group is the profiled role, not a node.
    id.role = "profile";
    id.index = id.node == "prefill" ? 0 : 1;
    id.node.clear();
  } else {
    return std::nullopt;
  }
  return id;
}

namespace {

std::string slug(std::string_view s) {
  std::string out;
  bool sep = false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.') {
      if (sep && !out.empty()) out += '_';
      sep = false;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      sep = true;
    }
  }
  return out;
}

// Latency metric names: the sa-bench block says E2EL, sglang.bench_serving says "E2E Latency",
// sglang's JSON says e2e_latency; all are one metric.
std::string metric_name(std::string_view m) {
  std::string s = slug(m);
  if (s == "e2e_latency" || s == "e2e" || s == "end_to_end_latency") return "e2el";
  return s;
}

}  // namespace

std::string canonical_metric_key(std::string_view label) {
  std::string_view l = label;
  while (!l.empty() && (l.back() == ':' || l.back() == ' ')) l.remove_suffix(1);
  while (!l.empty() && l.front() == ' ') l.remove_prefix(1);

  // Statistic lines: "Mean TTFT (ms)", "P99.9 ITL (ms)", "Median E2E Latency (ms)".
  static const RE2 stat(R"((Mean|Median|Std|Max|Min|P\d+(?:\.\d+)?) (.+) \(ms\))");
  std::string st, metric;
  if (RE2::FullMatch(re2::StringPiece(l.data(), l.size()), stat, &st, &metric)) {
    std::transform(st.begin(), st.end(), st.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return st + "_" + metric_name(metric) + "_ms";
  }
  // JSON keys already in snake case: only the latency spelling and the goodput colon differ.
  static const RE2 json_stat(R"((mean|median|std|max|min|p\d+(?:\.\d+)?)_(.+)_ms)");
  if (RE2::FullMatch(re2::StringPiece(l.data(), l.size()), json_stat, &st, &metric))
    return st + "_" + metric_name(metric) + "_ms";

  static const std::pair<std::string_view, std::string_view> known[] = {
      {"successful requests", "completed"},
      {"benchmark duration (s)", "duration"},
      {"total input tokens", "total_input_tokens"},
      {"total generated tokens", "total_output_tokens"},
      {"total generated tokens (retokenized)", "total_output_tokens_retokenized"},
      {"request throughput (req/s)", "request_throughput"},
      {"request goodput (req/s)", "request_goodput"},
      {"input token throughput (tok/s)", "input_throughput"},
      {"output token throughput (tok/s)", "output_throughput"},
      {"total token throughput (tok/s)", "total_token_throughput"},
      {"max request concurrency", "max_concurrency"},
      {"maximum request concurrency", "max_concurrency"},
      {"traffic request rate", "request_rate"},
      {"accept length", "accept_length"},
  };
  std::string lower(l);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [k, v] : known)
    if (lower == k) return std::string(v);
  return slug(l);
}

std::optional<int64_t> civil_seconds(std::string_view s) {
  // YYYY-mm-dd[ T]HH:MM:SS, anything after (fraction, zone) ignored.
  if (s.size() < 19) return std::nullopt;
  auto num = [&](size_t pos, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       sec = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *sec > 60)
    return std::nullopt;
  // Days from civil (Howard Hinnant's algorithm).
  int64_t yy = *y - (*mo <= 2 ? 1 : 0);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t mp = (*mo + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + *d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + *h * 3600 + *mi * 60 + *sec;
}

std::string civil_stamp(int64_t t) {
  // Civil from days (Howard Hinnant's algorithm), the inverse of civil_seconds.
  int64_t days = (t >= 0 ? t : t - 86399) / 86400, sod = t - days * 86400;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, m, d, sod / 3600, sod / 60 % 60,
                     sod % 60);
}

namespace {

namespace fs = std::filesystem;

bool has_file(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

// Worker logs, or a result folder, directly in `dir`.
bool has_job_files(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return false;
  static const RE2 result_dir(R"(.+_isl_\d+_osl_\d+|sa-bench_custom_.+)");
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return false;
    std::string n = it->path().filename().string();
    std::error_code ec2;
    if (it->is_regular_file(ec2)) {
      auto id = classify_log_file(n);
      if (id && id->role != "profile") return true;
    } else if (it->is_directory(ec2) && RE2::FullMatch(n, result_dir)) {
      return true;
    }
  }
  return false;
}

bool has_sweep_log(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return false;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return false;
    std::string n = it->path().filename().string();
    if (n.rfind("sweep_", 0) == 0 && n.size() > 10 && n.substr(n.size() - 4) == ".log") return true;
  }
  return false;
}

}  // namespace

bool is_job_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  fs::path p = dir;
  if (p.filename().empty()) p = p.parent_path();  // "logs/4459_.../"
  if (parse_job_dir_name(p.filename().string())) return true;
  // v1 without the usual name (renamed or copied folders).
  if (has_file(dir, "log.out") &&
      (has_file(dir, "benchmark.out") || has_file(dir, "sbatch_script.sh") || has_job_files(dir)))
    return true;
  // v2: outputs/{job_id}/logs/ with the orchestrator's sweep log or worker logs.
  fs::path logs = dir / "logs";
  if (fs::is_directory(logs, ec) && (has_sweep_log(logs) || has_job_files(logs))) return true;
  return false;
}

bool is_job_set_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || is_job_dir(dir)) return false;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return false;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return false;
    std::error_code ec2;
    if (it->is_directory(ec2) && is_job_dir(it->path())) return true;
  }
  return false;
}

}  // namespace alog::srtctl
