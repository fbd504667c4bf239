#include "analyze_logs/timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <queue>
#include <stdexcept>

#include "analyze_logs/correlate.hpp"
#include "analyze_logs/report.hpp"
#include "analyze_logs/util.hpp"

namespace alog {

TimelineSpool::TimelineSpool(std::filesystem::path out) : out_(std::move(out)) {}

TimelineSpool::~TimelineSpool() {
  for (auto& p : parts_) {
    if (p.f) std::fclose(p.f);
    std::error_code ec;
    std::filesystem::remove(p.path, ec);
  }
}

void TimelineSpool::begin_file(uint32_t file) {
  if (parts_.size() <= file) parts_.resize(file + 1);
  Part& p = parts_[file];
  p.path = out_;
  p.path += fmt::format(".part{}", file);
  p.f = std::fopen(p.path.c_str(), "w+");
  if (!p.f) throw std::runtime_error(fmt::format("{}: cannot write: {}", p.path.string(), std::strerror(errno)));
}

void TimelineSpool::add(const Event& ev, std::optional<double> t, std::string_view message) {
  Part& p = parts_[ev.file];
  if (!p.f) return;
  double tod = NAN;
  if (ev.tod >= 0) {
    if (p.last_tod >= 0 && ev.tod < p.last_tod - 43200) ++p.day;  // crossed midnight
    p.last_tod = ev.tod;
    tod = static_cast<double>(ev.tod) + 86400.0 * static_cast<double>(p.day);
  }
  bool client_side = ev.op == Op::client_send || ev.op == Op::client_done;
  if (client_side) p.client_clock = true;
  if (t && client_side && !std::isnan(tod)) tod_to_client_.push_back(*t - tod);
  // kind: 'c' client clock, 's' server clock, '-' none
  char kind = !t ? '-' : (ev.op == Op::server_recv || ev.op == Op::rpc_start || ev.op == Op::rpc_done) ? 's' : 'c';
  std::string tod_text = ev.tod >= 0 ? fmt::format("{:02}:{:02}:{:02}", ev.tod / 3600, ev.tod / 60 % 60, ev.tod % 60)
                                     : std::string("--:--:--");
  buf_.clear();
  fmt::format_to(std::back_inserter(buf_), "{}\t{:.17g}\t{:.17g}\t{}\t{}\t{}\n", kind, t ? *t : 0.0,
                 std::isnan(tod) ? -1.0 : tod, ev.line, tod_text, printable(message));
  if (std::fwrite(buf_.data(), 1, buf_.size(), p.f) != buf_.size())
    throw std::runtime_error(fmt::format("{}: write failed: {}", p.path.string(), std::strerror(errno)));
}

namespace {
struct Cursor {
  std::FILE* f = nullptr;
  uint32_t file = 0;
  std::string line;
  double key = 0;
  uint64_t lineno = 0;
  std::string rest;  // "HH:MM:SS\tmessage"
  bool have_key = false;
};

bool read_line(std::FILE* f, std::string& out) {
  out.clear();
  char buf[8192];
  while (std::fgets(buf, sizeof buf, f)) {
    out += buf;
    if (!out.empty() && out.back() == '\n') {
      out.pop_back();
      return true;
    }
  }
  return !out.empty();
}
}  // namespace

void TimelineSpool::finish(const Report& r) {
  std::optional<double> tod_map;
  if (!tod_to_client_.empty()) {
    std::sort(tod_to_client_.begin(), tod_to_client_.end());
    tod_map = tod_to_client_[tod_to_client_.size() / 2];
  }
  std::FILE* out = std::fopen(out_.c_str(), "w");
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write: {}", out_.string(), std::strerror(errno)));
  std::vector<Cursor> cur(parts_.size());
  auto advance = [&](Cursor& c) -> bool {
    std::string l;
    if (!read_line(c.f, l)) return false;
    // kind \t t \t tod \t line \t HH:MM:SS \t message
    size_t p1 = l.find('\t'), p2 = l.find('\t', p1 + 1), p3 = l.find('\t', p2 + 1), p4 = l.find('\t', p3 + 1);
    char kind = l[0];
    double t = std::strtod(l.c_str() + p1 + 1, nullptr);
    double tod = std::strtod(l.c_str() + p2 + 1, nullptr);
    c.lineno = std::strtoull(l.c_str() + p3 + 1, nullptr, 10);
    c.rest = l.substr(p4 + 1);
    std::optional<double> key;
    if (kind == 'c') key = t;
    else if (kind == 's') {
      if (auto off = clock_offset(r, c.file)) key = t - *off;
    }
    if (!key && tod >= 0) key = tod_map ? tod + *tod_map : tod;
    if (key) {
      c.key = *key;
      c.have_key = true;
    }
    return true;
  };
  using Item = std::pair<std::pair<double, std::pair<uint32_t, uint64_t>>, uint32_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  for (uint32_t i = 0; i < parts_.size(); ++i) {
    if (!parts_[i].f) continue;
    std::fflush(parts_[i].f);
    std::rewind(parts_[i].f);
    cur[i].f = parts_[i].f;
    cur[i].file = i;
    if (advance(cur[i])) heap.push({{cur[i].key, {i, cur[i].lineno}}, i});
  }
  // Events with no key at all before the first keyed one sort first (key 0 then line order).
  bool ok = true;
  while (!heap.empty()) {
    uint32_t i = heap.top().second;
    heap.pop();
    Cursor& c = cur[i];
    size_t tab = c.rest.find('\t');
    std::string line = fmt::format("{}  {}:{}  {}\n", c.rest.substr(0, tab), printable(r.file_name(i)), c.lineno,
                                   c.rest.substr(tab + 1));
    ok = ok && std::fwrite(line.data(), 1, line.size(), out) == line.size();
    if (advance(c)) heap.push({{c.key, {i, c.lineno}}, i});
  }
  ok = (std::fclose(out) == 0) && ok;
  if (!ok) throw std::runtime_error(fmt::format("{}: write failed", out_.string()));
}

}  // namespace alog
