#include "analyze_logs/primerl/timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <queue>
#include <stdexcept>
#include <utility>

#include "analyze_logs/primerl/correlate.hpp"
#include "analyze_logs/primerl/model.hpp"
#include "analyze_logs/util.hpp"

namespace alog {

TimelineSpool::TimelineSpool(std::filesystem::path out, bool direct) : out_(std::move(out)), direct_(direct) {}

TimelineSpool::~TimelineSpool() {
  remove_parts();
  if (direct_out_) std::fclose(direct_out_);
}

void TimelineSpool::remove_parts() noexcept {
  for (auto& p : parts_) {
    if (p.f) std::fclose(p.f);
    p.f = nullptr;
    std::error_code ec;
    if (!p.path.empty()) std::filesystem::remove(p.path, ec);
  }
}

void TimelineSpool::begin_file(uint32_t file, std::string_view name) {
  if (parts_.size() <= file) parts_.resize(file + 1);
  Part& p = parts_[file];
  if (direct_) {
    if (direct_out_) throw std::logic_error("timeline: a direct timeline has one input");
    direct_out_ = std::fopen(out_.c_str(), "w");
    if (!direct_out_)
      throw std::runtime_error(fmt::format("{}: cannot write: {}", out_.string(), std::strerror(errno)));
    direct_name_ = printable(name);
    direct_buf_.reserve((1u << 20) + 4096);
    return;
  }
  p.path = out_;
  p.path += fmt::format(".part{}", file);
  p.f = std::fopen(p.path.c_str(), "w+");
  if (!p.f) throw std::runtime_error(fmt::format("{}: cannot write: {}", p.path.string(), std::strerror(errno)));
  std::setvbuf(p.f, nullptr, _IOFBF, 1u << 18);
}

// A spooled event is a fixed header and the message, in the machine's own byte order (the part
// files live only for the run): no number is formatted until the merge writes the line.
namespace {
struct RecordHead {
  double t;        // on the event's own clock; meaningful when kind != '-'
  double tod;      // unwrapped seconds of the day, or -1
  uint64_t line;
  int32_t tod_sec;  // the time of day as printed, or -1
  uint32_t msg_len;
  char kind;        // 'c' client clock, 's' server clock, '-' none
};
}  // namespace

namespace {
// One line of timeline.txt: `HH:MM:SS  file:line  message`.
void append_line(std::string& buf, int32_t tod_sec, std::string_view name, uint64_t lineno, std::string_view msg) {
  // Put together by hand (a 1 GiB log has ~460 k events; fmt's formatting into a growing string
  // cost more than the merge itself).
  char head[48];
  char* w = head;
  if (tod_sec >= 0) {
    auto two = [&w](int v) {
      *w++ = static_cast<char>('0' + v / 10 % 10);
      *w++ = static_cast<char>('0' + v % 10);
    };
    int h = tod_sec / 3600;
    if (h >= 100) w = std::to_chars(w, w + 8, h / 100).ptr;  // not from a clock, but never lose digits
    two(h);
    *w++ = ':';
    two(tod_sec / 60 % 60);
    *w++ = ':';
    two(tod_sec % 60);
  } else {
    std::memcpy(w, "--:--:--", 8);
    w += 8;
  }
  *w++ = ' ';
  *w++ = ' ';
  buf.append(head, w);
  buf += name;
  w = head;
  *w++ = ':';
  w = std::to_chars(w, head + sizeof head, lineno).ptr;
  *w++ = ' ';
  *w++ = ' ';
  buf.append(head, w);
  buf += msg;
  buf += '\n';
}
}  // namespace

void TimelineSpool::flush_direct() {
  if (direct_buf_.empty()) return;
  if (std::fwrite(direct_buf_.data(), 1, direct_buf_.size(), direct_out_) != direct_buf_.size())
    throw std::runtime_error(fmt::format("{}: write failed: {}", out_.string(), std::strerror(errno)));
  direct_buf_.clear();
}

void TimelineSpool::add(const Event& ev, std::optional<double> t, std::string_view message) {
  if (direct_) {
    if (!direct_out_) return;
    if (is_printable_ascii(message)) {
      append_line(direct_buf_, ev.tod >= 0 ? ev.tod : -1, direct_name_, ev.line, message);
    } else {
      append_line(direct_buf_, ev.tod >= 0 ? ev.tod : -1, direct_name_, ev.line, printable(message));
    }
    if (direct_buf_.size() >= (1u << 20)) flush_direct();
    return;
  }
  Part& p = parts_[ev.file];
  if (!p.f) return;
  double tod = -1.0;
  if (ev.tod >= 0) {
    if (p.last_tod >= 0 && ev.tod < p.last_tod - 43200) ++p.day;  // crossed midnight
    p.last_tod = ev.tod;
    tod = static_cast<double>(ev.tod) + 86400.0 * static_cast<double>(p.day);
  }
  bool client_side = ev.op == Op::client_send || ev.op == Op::client_done;
  if (client_side) p.client_clock = true;
  if (t && client_side && tod >= 0) tod_to_client_.push_back(*t - tod);
  RecordHead h{};
  h.kind = !t ? '-' : (ev.op == Op::server_recv || ev.op == Op::rpc_start || ev.op == Op::rpc_done) ? 's' : 'c';
  h.t = t ? *t : 0.0;
  h.tod = tod;
  h.line = ev.line;
  h.tod_sec = ev.tod >= 0 ? ev.tod : -1;
  // Messages are nearly always printable ASCII: written as they are, escaped only when not.
  std::string escaped;
  std::string_view msg = message;
  if (!is_printable_ascii(message)) msg = escaped = printable(message);
  h.msg_len = static_cast<uint32_t>(msg.size());
  if (fwrite_unlocked(&h, sizeof h, 1, p.f) != 1 || fwrite_unlocked(msg.data(), 1, msg.size(), p.f) != msg.size())
    throw std::runtime_error(fmt::format("{}: write failed: {}", p.path.string(), std::strerror(errno)));
}

namespace {
struct Cursor {
  std::FILE* f = nullptr;
  uint32_t file = 0;
  double key = 0;
  uint64_t lineno = 0;
  int32_t tod_sec = -1;
  std::string_view msg;  // into buf, valid until the next advance
  bool have_key = false;
  // The part file is read through a buffer of its own: records are taken in place.
  std::vector<char> buf;
  size_t pos = 0, end = 0;
  // Makes n bytes available at buf[pos]; false at the end of the file.
  bool need(size_t n) {
    if (end - pos >= n) return true;
    std::memmove(buf.data(), buf.data() + pos, end - pos);
    end -= pos;
    pos = 0;
    if (buf.size() < n) buf.resize(std::max(n, buf.size() * 2));
    while (end < n) {
      size_t got = fread_unlocked(buf.data() + end, 1, buf.size() - end, f);
      if (got == 0) return false;
      end += got;
    }
    return true;
  }
};
}  // namespace

void TimelineSpool::finish(const Report& r) {
  if (direct_) {
    if (!direct_out_) {  // the one input could not be opened: an empty timeline, as with parts
      direct_out_ = std::fopen(out_.c_str(), "w");
      if (!direct_out_)
        throw std::runtime_error(fmt::format("{}: cannot write: {}", out_.string(), std::strerror(errno)));
    }
    flush_direct();
    std::FILE* f = std::exchange(direct_out_, nullptr);
    if (std::fclose(f) != 0) throw std::runtime_error(fmt::format("{}: write failed", out_.string()));
    return;
  }
  std::optional<double> tod_map;
  if (!tod_to_client_.empty()) {
    std::vector<double> v = tod_to_client_.take();
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    tod_map = v[v.size() / 2];
  }
  std::FILE* out = std::fopen(out_.c_str(), "w");
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write: {}", out_.string(), std::strerror(errno)));
  std::vector<Cursor> cur(parts_.size());
  std::vector<std::optional<double>> offsets(parts_.size());
  std::vector<std::string> names(parts_.size());
  bool ok = true;
  auto advance = [&](Cursor& c) -> bool {
    RecordHead h;
    if (!c.need(sizeof h)) {
      if (c.end != c.pos) ok = false;  // a record cut short (disk full while spooling is caught in add)
      return false;
    }
    std::memcpy(&h, c.buf.data() + c.pos, sizeof h);
    c.pos += sizeof h;
    if (!c.need(h.msg_len)) {
      ok = false;
      return false;
    }
    c.msg = std::string_view(c.buf.data() + c.pos, h.msg_len);
    c.pos += h.msg_len;
    c.lineno = h.line;
    c.tod_sec = h.tod_sec;
    std::optional<double> key;
    if (h.kind == 'c') key = h.t;
    else if (h.kind == 's' && offsets[c.file]) key = h.t - *offsets[c.file];
    if (!key && h.tod >= 0) key = tod_map ? h.tod + *tod_map : h.tod;
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
    offsets[i] = clock_offset(r, i);
    names[i] = printable(r.file_name(i));
    cur[i].f = parts_[i].f;
    cur[i].buf.resize(1u << 20);
    cur[i].file = i;
    if (advance(cur[i])) heap.push({{cur[i].key, {i, cur[i].lineno}}, i});
  }
  // Events with no key at all before the first keyed one sort first (key 0 then line order).
  std::string buf;
  buf.reserve((1u << 20) + 4096);
  while (!heap.empty()) {
    uint32_t i = heap.top().second;
    heap.pop();
    Cursor& c = cur[i];
    append_line(buf, c.tod_sec, names[i], c.lineno, c.msg);
    if (buf.size() >= (1u << 20)) {
      ok = ok && std::fwrite(buf.data(), 1, buf.size(), out) == buf.size();
      buf.clear();
    }
    if (advance(c)) heap.push({{c.key, {i, c.lineno}}, i});
  }
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), out) == buf.size();
  ok = (std::fclose(out) == 0) && ok;
  // The parts are not needed any more: removed here, on the thread that merged them, rather than
  // by the destructor on the thread that commits the report (a 1 GiB log spools ~50 MB).
  remove_parts();
  if (!ok) throw std::runtime_error(fmt::format("{}: write failed", out_.string()));
}

}  // namespace alog
