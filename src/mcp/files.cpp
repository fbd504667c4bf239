// The MCP server's reach into the file system: the roots every path is confined to, and grep.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "analyze_logs/input.hpp"
#include "analyze_logs/mcp.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace fs = std::filesystem;

namespace alog::mcp {
namespace {

// `p` equals `root` or lies below it (both canonical).
bool below(const fs::path& p, const fs::path& root) {
  const std::string& a = p.native();
  const std::string& r = root.native();
  if (a == r) return true;
  if (r == "/") return true;
  return a.size() > r.size() && a.compare(0, r.size(), r) == 0 && a[r.size()] == '/';
}

}  // namespace

Roots::Roots(const std::vector<std::string>& roots) {
  if (roots.empty()) throw std::invalid_argument("mcp: give at least one ROOT folder the tools may read");
  for (const auto& r : roots) {
    std::error_code ec;
    fs::path c = fs::canonical(r, ec);
    if (ec) throw std::invalid_argument(fmt::format("{}: {}", r, ec.message()));
    roots_.push_back(c);
  }
}

bool Roots::inside(const fs::path& canonical) const {
  return std::any_of(roots_.begin(), roots_.end(), [&](const fs::path& r) { return below(canonical, r); });
}

std::optional<fs::path> Roots::resolve(const std::string& path, std::string& why, bool check_links, size_t max_entries) const {
  if (path.empty()) {
    why = "an empty path";
    return std::nullopt;
  }
  if (path.find('\0') != std::string::npos) {
    why = "a path with a NUL byte";
    return std::nullopt;
  }
  fs::path p = path;
  if (p.is_relative()) p = roots_.front() / p;
  std::error_code ec;
  fs::path c = fs::canonical(p, ec);
  if (ec) {
    why = fmt::format("{}: {}", path, ec.message());
    return std::nullopt;
  }
  if (!inside(c)) {
    why = fmt::format("{}: outside the roots this server may read ({})", path, roots_.front().string());
    return std::nullopt;
  }
  if (!check_links || !fs::is_directory(c, ec)) return c;
  // A folder: the analysis walks it and follows links, so every link under it must stay inside.
  size_t seen = 0;
  fs::recursive_directory_iterator it(c, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (++seen > max_entries) {
      why = fmt::format("{}: more than {} files and folders under it; name a folder further down", path, max_entries);
      return std::nullopt;
    }
    std::error_code e2;
    if (!it->is_symlink(e2)) continue;
    fs::path target = fs::canonical(it->path(), e2);
    if (e2) continue;  // dangling or a loop: nothing is read through it
    if (!inside(target)) {
      why = fmt::format("{}: the link {} leads outside the roots this server may read", path, it->path().string());
      return std::nullopt;
    }
  }
  return c;
}

std::optional<int64_t> parse_when(const std::string& s) {
  if (s.size() == 10) return ray::parse_civil_ms(s + " 00:00:00");  // a date alone: its start
  return ray::parse_civil_ms(s);
}

GrepResult grep(const GrepOptions& opt) {
  if (opt.pattern.empty()) throw std::invalid_argument("pattern: empty");
  if (opt.pattern.size() > 4096) throw std::invalid_argument("pattern: longer than 4,096 bytes");
  RE2::Options ro;
  ro.set_log_errors(false);
  ro.set_case_sensitive(!opt.ignore_case);
  ro.set_max_mem(int64_t{8} << 20);  // a pattern whose program needs more is refused, not run
  RE2 re(opt.pattern, ro);
  if (!re.ok()) {
    if (re.error_code() == RE2::ErrorPatternTooLarge)
      throw std::invalid_argument("pattern: too expensive (its automaton needs more than 8 MiB); simplify the repetition counts");
    throw std::invalid_argument(fmt::format("pattern: {} (RE2 syntax)", re.error()));
  }
  bool windowed = opt.since_ms || opt.until_ms;
  GrepResult res;
  auto grep_file = [&](const fs::path& file) -> bool {
    if (opt.cancel && opt.cancel->load()) {
      res.cancelled = true;
      return false;
    }
    if (res.files >= opt.max_files) {
      res.stopped_at_files = true;
      return false;
    }
    ++res.files;
    LineClock clock;
    std::optional<int64_t> stamp;
    // Each line as it ends: matched against its first 1 MiB (a longer line is cut there).
    auto on_line = [&](std::string_view line, uint64_t no) {
      if (windowed) {
        stamp = clock.see(line);
        if (!stamp || (opt.since_ms && *stamp < *opt.since_ms) || (opt.until_ms && *stamp > *opt.until_ms)) return;
      }
      if (!RE2::PartialMatch(line, re)) return;
      ++res.total;
      if (res.matches.size() >= opt.max_lines) return;
      GrepMatch m;
      m.file = file.string();
      m.line = no;
      m.text = utf8_clean(line.substr(0, 2000));
      if (windowed)
        m.time_ms = stamp;
      else if (auto t = ray::parse_stamp_ms(line, clock.year()))
        m.time_ms = t;
      res.matches.push_back(std::move(m));
    };
    try {
      // Read in blocks, not line by line: the byte budget and a cancellation are checked every
      // block, however long a line is.
      auto src = input::open_source(file.string());
      constexpr size_t kBlock = size_t{1} << 20, kMaxLine = size_t{1} << 20;
      std::string buf(kBlock, '\0'), line;
      bool cut = false;
      size_t head = 0;  // bytes of the file's start checked for a NUL
      uint64_t no = 0;
      while (true) {
        size_t n = src->read(buf.data(), kBlock);
        if (n == 0) break;
        // (A read may deliver only a few bytes: the first 4 KiB are checked over as many reads.)
        if (head < 4096) {
          size_t look = std::min<size_t>(n, 4096 - head);
          head += look;
          if (std::string_view(buf.data(), look).find('\0') != std::string_view::npos) {
            res.skipped.emplace_back(file.string(), "binary (a NUL byte in its first 4 KiB)");
            return true;
          }
        }
        res.bytes += n;
        std::string_view chunk(buf.data(), n);
        while (!chunk.empty()) {
          size_t nl = chunk.find('\n');
          std::string_view piece = chunk.substr(0, nl);
          if (!cut) {
            size_t room = kMaxLine - line.size();
            line.append(piece.substr(0, room));
            cut = piece.size() > room;
          }
          if (nl == std::string_view::npos) break;
          if (!line.empty() && line.back() == '\r') line.pop_back();
          on_line(line, ++no);
          line.clear();
          cut = false;
          chunk.remove_prefix(nl + 1);
        }
        if (opt.cancel && opt.cancel->load()) {
          res.cancelled = true;
          break;
        }
        if (res.bytes >= opt.max_bytes) {
          res.stopped_at_bytes = true;
          break;
        }
      }
      if (!line.empty() && !res.cancelled && !res.stopped_at_bytes) {
        if (line.back() == '\r') line.pop_back();
        on_line(line, ++no);
      }
    } catch (const std::exception& e) {
      res.skipped.emplace_back(file.string(), e.what());
    }
    return !res.stopped_at_bytes && !res.cancelled;
  };
  for (const auto& p : opt.paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      if (!fs::is_regular_file(p, ec)) {
        res.skipped.emplace_back(p.string(), "not a regular file (a pipe or a device is never read)");
        continue;
      }
      if (!grep_file(p)) break;
      continue;
    }
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::error_code e2;
      if (it->is_regular_file(e2) && !it->is_symlink(e2)) files.push_back(it->path());
      if (files.size() > opt.max_files) break;
    }
    std::sort(files.begin(), files.end());
    bool go_on = true;
    for (const auto& f : files)
      if (!(go_on = grep_file(f))) break;
    if (!go_on) break;
  }
  return res;
}

}  // namespace alog::mcp
