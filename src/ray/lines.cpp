// Line-level pieces of the Ray module: Ray's driver prefix and de-dup suffix, the stamp shapes
// of the logs that meet in a TorchSpec run, tqdm bars, and the civil clock they are all put on.
//
// Stamps are found by shape near the start of the line rather than by one regex per format: the
// same TorchSpec line appears bare in a worker file and behind a Ray prefix in the driver, and
// SGLang, Ray C++ and Ray Python lines differ only in what follows the date.
#include <fmt/format.h>
#include <re2/re2.h>

#include <cctype>
#include <ctime>

#include "analyze_logs/ray.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::ray {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Value of n digits at s[i..i+n), or -1 when any is not a digit.
int digits(std::string_view s, size_t i, size_t n) {
  if (i + n > s.size()) return -1;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[i + k];
    if (!is_digit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d;
};
Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

std::optional<int64_t> make_ms(int y, int mo, int d, int h, int mi, int s, int ms) {
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 ||
      ms < 0)
    return std::nullopt;
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60000 + int64_t{s} * 1000 + ms;
}

// Milliseconds of a fraction starting at s[i] (after the separator): 1-9 digits.
int fraction_ms(std::string_view s, size_t i) {
  int v = 0, n = 0;
  while (i < s.size() && is_digit(s[i]) && n < 9) {
    if (n < 3) v = v * 10 + (s[i] - '0');
    ++n;
    ++i;
  }
  if (n == 0) return 0;
  for (int k = n; k < 3; ++k) v *= 10;
  return v;
}

// `HH:MM:SS` at s[i].
bool clock_at(std::string_view s, size_t i, int& h, int& mi, int& sec) {
  h = digits(s, i, 2);
  mi = digits(s, i + 3, 2);
  sec = digits(s, i + 6, 2);
  return h >= 0 && mi >= 0 && sec >= 0 && i + 8 <= s.size() && s[i + 2] == ':' && s[i + 5] == ':';
}

// How far into a line a stamp may start: past a `[rank12]:` tag and a bracket, not into the
// message, where dates in paths or payloads would be mistaken for the line's time.
constexpr size_t kStampWindow = 40;

const RE2::Options& latin1() {
  static const RE2::Options o = [] {
    RE2::Options x;
    x.set_encoding(RE2::Options::EncodingLatin1);
    x.set_log_errors(false);
    return x;
  }();
  return o;
}

int64_t elapsed_seconds(std::string_view e) {
  // "MM:SS", "H:MM:SS"; anything else (tqdm's "1 day, 2:03:04") counts what it can.
  int64_t total = 0, cur = 0;
  bool any = false;
  for (char c : e) {
    if (is_digit(c)) {
      cur = cur * 10 + (c - '0');
      any = true;
    } else if (c == ':') {
      total = (total + cur) * 60;
      cur = 0;
    } else {
      total = 0;
      cur = 0;
      any = false;
    }
  }
  return any ? total + cur : -1;
}

}  // namespace

const RE2::Options& detail::re_options() {
  return latin1();
}

int64_t detail::tqdm_elapsed_s(const Progress& p) {
  return elapsed_seconds(p.elapsed);
}

int detail::year_of(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
  return static_cast<int>(civil_from_days(days).y);
}

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::running:
      return "running";
    case Verdict::finished:
      return "finished";
    case Verdict::stuck:
      return "stuck";
    case Verdict::failed:
      return "failed";
    case Verdict::unknown:
      break;
  }
  return "unknown";
}

std::string Evidence::ref() const {
  return fmt::format("{}:{}", file, line);
}

std::optional<int64_t> parse_civil_ms(std::string_view s) {
  if (s.size() < 19) return std::nullopt;
  int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  int h, mi, sec;
  if (y < 0 || mo < 0 || d < 0 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      !clock_at(s, 11, h, mi, sec))
    return std::nullopt;
  int ms = 0;
  if (s.size() > 20 && (s[19] == ',' || s[19] == '.')) ms = fraction_ms(s, 20);
  return make_ms(y, mo, d, h, mi, sec, ms);
}

std::string format_civil(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
  int64_t rem = ms - days * 86400000;
  Civil c = civil_from_days(days);
  int64_t s = rem / 1000;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", c.y, c.m, c.d, s / 3600, s / 60 % 60,
                     s % 60);
}

std::chrono::system_clock::time_point local_time_point(int64_t civil_ms) {
  int64_t days = civil_ms >= 0 ? civil_ms / 86400000 : (civil_ms - 86399999) / 86400000;
  int64_t rem = civil_ms - days * 86400000;
  Civil c = civil_from_days(days);
  std::tm tm{};
  tm.tm_year = static_cast<int>(c.y - 1900);
  tm.tm_mon = static_cast<int>(c.m) - 1;
  tm.tm_mday = static_cast<int>(c.d);
  tm.tm_hour = static_cast<int>(rem / 3600000);
  tm.tm_min = static_cast<int>(rem / 60000 % 60);
  tm.tm_sec = static_cast<int>(rem / 1000 % 60);
  tm.tm_isdst = -1;
  std::time_t t = std::mktime(&tm);
  return std::chrono::system_clock::from_time_t(t) + std::chrono::milliseconds(rem % 1000);
}

int64_t civil_ms_of(std::chrono::system_clock::time_point tp) {
  auto ms_total =
      std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  std::time_t t =
      static_cast<std::time_t>(ms_total >= 0 ? ms_total / 1000 : (ms_total - 999) / 1000);
  int64_t frac = ms_total - static_cast<int64_t>(t) * 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  auto ms = make_ms(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    std::min(tm.tm_sec, 59), static_cast<int>(frac));
  return ms.value_or(0);
}

std::string human_duration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return fmt::format("{} s", seconds);
  if (seconds < 3600) return fmt::format("{} min", (seconds + 30) / 60);
  int64_t m = (seconds + 30) / 60;
  return fmt::format("{} h {:02} min", m / 60, m % 60);
}

std::optional<int64_t> parse_stamp_ms(std::string_view s, int year) {
  size_t window = std::min(s.size(), kStampWindow);
  // `YYYY-MM-DD HH:MM:SS[,.]frac` (TorchSpec, Ray Python and C++, SGLang).
  for (size_t i = 0; i < window && i + 19 <= s.size(); ++i) {
    if (!is_digit(s[i]) || (i > 0 && is_digit(s[i - 1]))) continue;
    if (s[i + 4] != '-') continue;
    if (auto ms = parse_civil_ms(s.substr(i))) return ms;
  }
  // NCCL / glog: `[E0321 02:07:08.408271257` or `[E321 ...`: month and day without a year.
  if (year <= 0) return std::nullopt;
  for (size_t i = 0; i + 2 < window; ++i) {
    if (s[i] != '[' || (s[i + 1] != 'E' && s[i + 1] != 'W' && s[i + 1] != 'I')) continue;
    size_t j = i + 2, n = 0;
    while (j + n < s.size() && is_digit(s[j + n])) ++n;
    if (n != 3 && n != 4) continue;
    int md = digits(s, j, n);
    int mo = md / 100, d = md % 100;
    size_t c = j + n;
    int h, mi, sec;
    if (c >= s.size() || s[c] != ' ' || !clock_at(s, c + 1, h, mi, sec)) continue;
    int ms = 0;
    if (c + 9 < s.size() && s[c + 9] == '.') ms = fraction_ms(s, c + 10);
    if (auto v = make_ms(year, mo, d, h, mi, sec, ms)) return v;
  }
  return std::nullopt;
}

std::optional<RayPrefix> parse_ray_prefix(std::string_view line) {
  if (line.empty() || line[0] != '(') return std::nullopt;
  size_t close = line.find(')');
  if (close == std::string_view::npos || close > 160) return std::nullopt;
  if (close + 1 < line.size() && line[close + 1] != ' ') return std::nullopt;
  std::string_view in = line.substr(1, close - 1);
  RayPrefix p;
  p.length = std::min(line.size(), close + 2);
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
           c == '-';
  };
  size_t i = 0;
  if (!in.starts_with("pid=")) {
    while (i < in.size() && name_char(in[i])) ++i;
    if (i == 0) return std::nullopt;
    p.name = std::string(in.substr(0, i));
    std::string_view rest = in.substr(i);
    // `(raylet)`, `(raylet, ip=A)`, `(autoscaler +1m2s)`: system sources without a pid.
    if (rest.empty())
      return p.name == "raylet" || p.name == "autoscaler" ? std::optional(p) : std::nullopt;
    if (rest.starts_with(", ip=") && p.name == "raylet") {
      p.ip = std::string(rest.substr(5));
      return p;
    }
    if (p.name == "autoscaler" && rest.starts_with(" +")) return p;
    if (!rest.starts_with(" pid=")) return std::nullopt;
    i += 1;
  }
  std::string_view rest = in.substr(i + 4);
  size_t n = 0;
  while (n < rest.size() && is_digit(rest[n])) ++n;
  if (n == 0 || n > 10) return std::nullopt;
  p.pid = std::stoll(std::string(rest.substr(0, n)));
  rest = rest.substr(n);
  if (rest.starts_with(", ip=")) {
    p.ip = std::string(rest.substr(5));
    rest = {};
  }
  if (!rest.empty()) return std::nullopt;
  for (char c : p.ip)
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':'))
      return std::nullopt;
  return p;
}

uint64_t strip_dedup(std::string_view& line) {
  size_t at = line.rfind("[repeated ");
  if (at == std::string_view::npos) return 1;
  size_t i = at + 10, n = 0;
  while (i + n < line.size() && is_digit(line[i + n])) ++n;
  if (n == 0 || n > 9) return 1;
  std::string_view tail = line.substr(i + n);
  if (!tail.starts_with("x across cluster]")) return 1;
  uint64_t count = std::stoull(std::string(line.substr(i, n)));
  line = line.substr(0, at);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return count == 0 ? 1 : count;
}

std::optional<Progress> parse_tqdm(std::string_view s, size_t& consumed) {
  // `{desc}: {pct}% Completed | n/total [elapsed<remaining, rate]` (SGLang) and
  // `{desc}: {pct}%|{bar}| n/total [elapsed<remaining, rate{, postfix}]` (tqdm's default).
  static const RE2 re(
      R"(^(\s*([^:|\[\]]{1,120}?): *(\d{1,3})%(?: Completed \||\|[^|]*\|) *(\d{1,12})/(\d{1,12}) \[([0-9:]{1,12})<([^,\]]*)(?:, *([^\]]*))?\]))",
      latin1());
  re2::StringPiece m[8];
  if (!RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), re, &m[0], &m[1], &m[2], &m[3],
                         &m[4], &m[5], &m[6], &m[7]))
    return std::nullopt;
  auto sv = [](const re2::StringPiece& x) { return std::string_view(x.data(), x.size()); };
  std::string_view whole = sv(m[0]), desc = sv(m[1]), pct = sv(m[2]), n = sv(m[3]),
                   total = sv(m[4]), elapsed = sv(m[5]), remaining = sv(m[6]), rest = sv(m[7]);
  Progress p;
  p.desc = std::string(desc);
  p.percent = std::stoi(std::string(pct));
  p.n = std::stoll(std::string(n));
  p.total = std::stoll(std::string(total));
  p.elapsed = std::string(elapsed);
  p.remaining = std::string(remaining);
  // The rate comes first, then `key=value` pairs separated by ", ".
  bool first = true;
  while (!rest.empty()) {
    size_t comma = rest.find(", ");
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    size_t eq = item.find('=');
    if (first && eq == std::string_view::npos)
      p.rate = std::string(item);
    else if (eq != std::string_view::npos)
      p.postfix.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    first = false;
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 2);
  }
  consumed = whole.size();
  return p;
}

}  // namespace alog::ray
