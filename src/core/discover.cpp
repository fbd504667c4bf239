// The generic walker behind core::discover(); see the header for what it promises.
#include "analyze_logs/core/discover.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "analyze_logs/core/interrupt.hpp"
#include "analyze_logs/input.hpp"

namespace alog::core {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------
// Temporary copies of standard input.

// Never destroyed: the interrupt thread may remove the copies while static destructors run.
std::mutex& copies_mu() {
  static auto* m = new std::mutex;
  return *m;
}
std::vector<fs::path>& copies() {
  static auto* v = new std::vector<fs::path>;
  return *v;
}

// Makes a folder for a copy of standard input from the mkdtemp template `tmpl` and remembers it
// for removal at exit or on a signal. The folder is made under the interrupt lock, after the
// removal is registered: a signal comes either before the folder exists or after it is listed.
bool make_copy_folder(std::string& tmpl) {
  static const bool registered = [] {
    std::atexit(remove_stdin_copies);
    static auto* on_signal = new interrupt::Cleanup(remove_stdin_copies);  // for the whole run
    return on_signal != nullptr;
  }();
  (void)registered;
  // The lock order is the interrupt thread's: the interrupt lock, then copies_mu().
  auto hold = interrupt::hold();
  if (!::mkdtemp(tmpl.data())) return false;
  std::lock_guard lock(copies_mu());
  copies().emplace_back(tmpl);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Heads of files.

// Decompresses as much of `raw` (the first bytes of a possibly compressed stream) as it holds.
std::string decompress_prefix(std::string raw, size_t max) {
  auto src = input::memory_source(std::move(raw), "<head>");
  std::string out(max, '\0');
  size_t got = 0;
  try {
    while (got < max) {
      size_t n = src->read(out.data() + got, max - got);
      if (n == 0) break;
      got += n;
    }
  } catch (const input::InputError&) {
    // A prefix of a compressed stream ends "truncated": what came before is the head.
  }
  out.resize(got);
  return out;
}

struct HeadShape {
  bool empty = false;
  bool binary = false;
  size_t lines = 0;
};

HeadShape shape_of(std::string_view head) {
  HeadShape s;
  if (head.empty()) {
    s.empty = true;
    return s;
  }
  std::string_view probe = head.substr(0, 8192);
  size_t odd = 0;
  for (char ch : probe) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0) {
      s.binary = true;
      break;
    }
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != 0x1b && c != '\f' && c != '\b')
      ++odd;
  }
  if (odd * 10 > probe.size()) s.binary = true;
  s.lines = static_cast<size_t>(std::count(head.begin(), head.end(), '\n'));
  if (head.back() != '\n') ++s.lines;
  return s;
}

// "orchestrator.log: No such file or directory" -> "No such file or directory".
std::string reason_of(const std::string& what, const fs::path& p) {
  std::string prefix = p.string() + ": ";
  if (what.starts_with(prefix)) return what.substr(prefix.size());
  return what;
}

bool is_generic_folder(const std::string& name) {
  static const RE2 session(R"(session_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_.*)");
  return name == "logs" || name == "log" || name == "running_logs" || name == "session_latest" ||
         RE2::FullMatch(name, session);
}

std::string looked_for_of(std::span<const KindProbe> probes) {
  std::string s;
  for (const auto& p : probes) {
    if (!s.empty()) s += "; ";
    s += p.looks_for;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// One argument.

struct Item {
  const KindProbe* probe = nullptr;
  fs::path rel;  // relative to the argument ("" for the argument itself)
  bool dir = false;
  std::string role;
};

struct Counts {
  size_t files = 0, text = 0, binary = 0, empty = 0, unreadable = 0, other = 0, folders = 0;
  size_t lines = 0;
};

class Walker {
 public:
  Walker(std::string arg, std::span<const KindProbe> probes, const DiscoverOptions& opt,
         Discovery& out)
      : arg_(std::move(arg)), base_(arg_), probes_(probes), opt_(opt), out_(out) {}

  void run_dir() {
    dir({}, 0);
    finish();
  }

  void run_file() {
    file({});
    finish();
  }

 private:
  fs::path full(const fs::path& rel) const { return rel.empty() ? base_ : base_ / rel; }
  std::string shown(const fs::path& rel) const { return full(rel).generic_string(); }

  void skip(const fs::path& rel, std::string reason) {
    skipped_.push_back({shown(rel), "", "", false, std::move(reason)});
  }

  void dir(const fs::path& rel, int depth) {
    fs::path p = full(rel);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      skip(rel, fmt::format("unreadable: {}", std::strerror(errno)));
      return;
    }
    auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    if (auto it = visited_.find(key); it != visited_.end()) {
      skip(rel, fmt::format("same folder as {}, read once", shown(it->second)));
      return;
    }
    visited_.emplace(key, rel);
    for (const auto& probe : probes_)
      if (probe.claims_dir && probe.claims_dir(p)) {
        whole_.push_back({&probe, rel, true, "job folder"});
        return;
      }
    for (const auto& probe : probes_)
      if (probe.claims_logs_dir && probe.claims_logs_dir(p)) {
        items_.push_back({&probe, rel, true, std::string(probe.logs_dir_role)});
        return;
      }
    if (depth > 0) ++counts_.folders;
    if (depth >= opt_.max_depth) {
      skip(rel, fmt::format("not looked into: {} folders below the argument, the limit",
                            opt_.max_depth));
      return;
    }
    std::error_code ec;
    fs::directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      skip(rel, fmt::format("unreadable: {}", ec.message()));
      return;
    }
    struct Entry {
      std::string name;
      bool link;
    };
    std::vector<Entry> entries;
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::error_code e2;
      entries.push_back({it->path().filename().string(), it->is_symlink(e2)});
    }
    if (ec) skip(rel, fmt::format("listing stopped: {}", ec.message()));
    // Real folders before links, so a `session_latest` link is recognised as the session it
    // points to (read under its dated name) rather than the other way round.
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.link != b.link) return !a.link;
      return a.name < b.name;
    });
    for (const auto& e : entries) {
      fs::path r = rel / e.name;
      std::error_code e2;
      auto status = fs::status(full(r), e2);
      if (e2 || status.type() == fs::file_type::not_found) {
        ++counts_.other;
        skip(r, e.link ? "broken link" : fmt::format("unreadable: {}", e2.message()));
        continue;
      }
      if (fs::is_directory(status)) {
        if (e.name.starts_with(".")) {
          skip(r, "hidden folder");
        } else if (e.name.starts_with("analysis_") || e.name.starts_with("comparison_")) {
          skip(r, "an output folder of this tool");
        } else {
          dir(r, depth + 1);
        }
        continue;
      }
      if (!fs::is_regular_file(status)) {
        ++counts_.other;
        skip(r, "not a regular file (named pipe, socket or device); never opened");
        continue;
      }
      file(r);
    }
  }

  // Sniffs one file; true when a kind claimed it.
  bool file(const fs::path& rel) {
    fs::path p = full(rel);
    if (sniffed_ >= opt_.max_files) {
      ++over_limit_;
      return false;
    }
    ++sniffed_;
    ++counts_.files;
    std::optional<FileSeen> known;
    if (opt_.seen) known = opt_.seen(p);
    const FileSeen s = known ? std::move(*known) : see_file(p, probes_, opt_);
    if (!s.unreadable.empty()) {
      ++counts_.unreadable;
      skip(rel, s.unreadable);
      return false;
    }
    counts_.lines += s.lines;
    if (s.empty) {
      ++counts_.empty;
      skip(rel, "empty");
      return false;
    }
    if (!s.kind.empty()) {
      for (const auto& probe : probes_)
        if (probe.kind == s.kind) {
          ++counts_.text;
          items_.push_back({&probe, rel, false, s.role});
          return true;
        }
    }
    if (s.binary) {
      ++counts_.binary;
      skip(rel, "binary");
      return false;
    }
    ++counts_.text;
    skip(rel, "no line this tool recognises");
    return false;
  }

  // The name of the job rooted at `rel`.
  std::string name_of(const fs::path& rel) const {
    if (!rel.empty()) return rel.generic_string();
    fs::path a = fs::path(arg_).lexically_normal();
    if (a.filename().empty()) a = a.parent_path();
    std::string n = a.filename().string();
    if (n.empty() || n == "." || n == "..") {
      std::error_code ec;
      n = fs::absolute(a, ec).lexically_normal().filename().string();
    }
    return n.empty() ? arg_ : n;
  }

  static fs::path folder_of(const Item& it) { return it.dir ? it.rel : it.rel.parent_path(); }

  static std::vector<std::string> parts(const fs::path& p) {
    std::vector<std::string> v;
    for (const auto& c : p)
      if (!c.empty() && c != ".") v.push_back(c.string());
    return v;
  }

  // Items of one kind under `bound` components: one job, or one per subfolder that holds a run
  // of its own (an anchor-role input).
  void group(std::vector<Item> items, size_t bound) {
    std::vector<std::string> common = parts(folder_of(items.front()));
    bool direct = false;
    for (const auto& it : items) {
      auto ps = parts(folder_of(it));
      size_t n = 0;
      while (n < common.size() && n < ps.size() && common[n] == ps[n]) ++n;
      common.resize(n);
    }
    std::map<std::string, std::vector<Item>> by_child;
    for (const auto& it : items) {
      auto ps = parts(folder_of(it));
      if (ps.size() == common.size()) {
        direct = true;
        break;
      }
      by_child[ps[common.size()]].push_back(it);
    }
    const KindProbe* probe = items.front().probe;
    if (!direct && by_child.size() > 1 && !probe->anchor_role.empty()) {
      size_t anchored = 0;
      for (const auto& [child, v] : by_child)
        if (std::any_of(v.begin(), v.end(),
                        [&](const Item& i) { return !i.dir && i.role == probe->anchor_role; }))
          ++anchored;
      if (anchored > 1) {
        for (auto& [child, v] : by_child) group(std::move(v), common.size() + 1);
        return;
      }
    }
    while (common.size() > bound && is_generic_folder(common.back())) common.pop_back();
    fs::path root;
    for (const auto& c : common) root /= c;
    DiscoveredJob job;
    job.kind = std::string(probe->kind);
    job.name = name_of(root);
    job.root = shown(root);
    older_sessions(items, job);
    for (const auto& it : items) {
      (it.dir ? job.dirs : job.files).push_back(shown(it.rel));
      job.inputs.push_back({shown(it.rel), job.kind, it.role, true, ""});
    }
    jobs_.push_back(std::move(job));
  }

  // Several `session_<stamp>` folders of one node (siblings): Ray starts a new session on every
  // `ray start`, and only the newest belongs to the run that was collected with them.
  void older_sessions(std::vector<Item>& items, DiscoveredJob& job) {
    static const RE2 stamp(R"(session_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)_.*)");
    auto session_of = [](const Item& it) -> std::optional<fs::path> {
      if (!it.dir) return std::nullopt;
      fs::path s = it.rel.filename() == "logs" ? it.rel.parent_path() : it.rel;
      if (!RE2::FullMatch(s.filename().string(), stamp)) return std::nullopt;
      return s;
    };
    std::map<fs::path, std::vector<fs::path>> by_node;
    for (const auto& it : items)
      if (auto s = session_of(it)) by_node[s->parent_path()].push_back(*s);
    std::set<fs::path> older;
    for (auto& [node, sessions] : by_node) {
      if (sessions.size() < 2) continue;
      std::sort(sessions.begin(), sessions.end(), [](const fs::path& a, const fs::path& b) {
        return a.filename().string() > b.filename().string();
      });
      std::vector<std::string> names;
      for (size_t i = 1; i < sessions.size(); ++i) {
        older.insert(sessions[i]);
        names.push_back(sessions[i].filename().string());
      }
      job.notes.push_back(
          fmt::format("{} holds {} Ray sessions; read the newest, {}, and skipped the older {}",
                      node.empty() ? name_of({}) : node.generic_string(), sessions.size(),
                      sessions.front().filename().string(), fmt::join(names, ", ")));
    }
    if (older.empty()) return;
    std::vector<Item> kept;
    for (auto& it : items) {
      auto s = session_of(it);
      if (s && older.count(*s)) {
        job.inputs.push_back({shown(it.rel), job.kind, it.role, false, "older session"});
      } else {
        kept.push_back(std::move(it));
      }
    }
    items = std::move(kept);
  }

  std::string looked_like() const {
    const Counts& c = counts_;
    std::vector<std::string> bits;
    if (c.text) bits.push_back(fmt::format("{} text", c.text));
    if (c.binary) bits.push_back(fmt::format("{} binary", c.binary));
    if (c.empty) bits.push_back(fmt::format("{} empty", c.empty));
    if (c.unreadable) bits.push_back(fmt::format("{} unreadable", c.unreadable));
    if (c.other) bits.push_back(fmt::format("{} neither file nor folder", c.other));
    std::string what = fmt::format("{} file{}", c.files, c.files == 1 ? "" : "s");
    if (!bits.empty()) what += fmt::format(" ({})", fmt::join(bits, ", "));
    std::string where = is_folder_ ? fmt::format("a folder of {} in {} subfolder{}", what,
                                                 c.folders, c.folders == 1 ? "" : "s")
                        : c.binary ? std::string("a binary file")
                        : c.empty  ? std::string("an empty file")
                                   : std::string("a text file");
    if (is_folder_ && c.files == 0)
      return c.folders ? fmt::format("a folder of {} subfolder{} and no file", c.folders, c.folders == 1 ? "" : "s")
                       : std::string("an empty folder");
    return fmt::format(
        "{}; {} line{} read from the first {} KiB of each, none that any kind "
        "recognises",
        where, c.lines, c.lines == 1 ? "" : "s", opt_.sniff_bytes / 1024);
  }

  void finish() {
    // Whole folders first, each a job; then each kind's inputs grouped into runs.
    for (const auto& w : whole_) {
      DiscoveredJob job;
      job.kind = std::string(w.probe->kind);
      job.name = name_of(w.rel);
      job.root = shown(w.rel);
      job.dirs.push_back(job.root);
      job.inputs.push_back({job.root, job.kind, w.role, true, ""});
      jobs_.push_back(std::move(job));
    }
    for (const auto& probe : probes_) {
      std::vector<Item> mine;
      for (const auto& it : items_)
        if (it.probe == &probe) mine.push_back(it);
      if (!mine.empty()) group(std::move(mine), 0);
    }
    if (over_limit_)
      out_.notes.push_back(fmt::format("{}: stopped after {} files; {} more were not looked at",
                                       arg_, opt_.max_files, over_limit_));
    if (jobs_.empty()) out_.unrecognised.push_back({arg_, looked_for_of(probes_), looked_like()});
    for (auto& j : jobs_) out_.jobs.push_back(std::move(j));
    for (auto& s : skipped_) out_.skipped.push_back(std::move(s));
  }

 public:
  bool is_folder_ = false;

 private:
  std::string arg_;
  fs::path base_;
  std::span<const KindProbe> probes_;
  const DiscoverOptions& opt_;
  Discovery& out_;
  std::map<std::pair<uint64_t, uint64_t>, fs::path> visited_;
  std::vector<Item> whole_, items_;
  std::vector<InputEntry> skipped_;
  std::vector<DiscoveredJob> jobs_;
  Counts counts_;
  size_t sniffed_ = 0, over_limit_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Standard input.

// The first raw bytes of standard input. A regular file is read with pread at its offset (left
// where it was); anything else is read, and `consumed` says the bytes are gone from fd 0.
// Reads at most `max` bytes of standard input, stopping early once `enough` says the bytes so far
// decide the matter: a producer that pauses after its first lines must not stall us until it
// has written 64 KiB.
std::string stdin_raw_head(size_t max, bool& consumed, const std::function<bool(const std::string&)>& enough) {
  std::string raw(max, '\0');
  size_t got = 0;
  struct stat st {};
  consumed = !(::fstat(0, &st) == 0 && S_ISREG(st.st_mode));
  off_t at = consumed ? 0 : ::lseek(0, 0, SEEK_CUR);
  if (!consumed && at < 0) consumed = true;
  while (got < max) {
    ssize_t n = consumed ? ::read(0, raw.data() + got, max - got)
                         : ::pread(0, raw.data() + got, max - got, at + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw DiscoverError(fmt::format("-: standard input: {}", std::strerror(errno)));
    if (n == 0) break;
    got += static_cast<size_t>(n);
    if (got < max && enough) {
      std::string so_far = raw.substr(0, got);
      if (enough(so_far)) break;
    }
  }
  raw.resize(got);
  return raw;
}

void write_all(int fd, const char* p, size_t n, const fs::path& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw DiscoverError(fmt::format("{}: {}", path.string(), std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Copies standard input (after `prefix`, the bytes already taken from it) to dir/name.
fs::path copy_stdin(const DiscoverOptions& opt, std::string_view name, const std::string& prefix) {
  fs::path tmp = opt.temp_dir.empty() ? fs::temp_directory_path() : opt.temp_dir;
  std::string tmpl = (tmp / "analyze-logs-stdin-XXXXXX").string();
  if (!make_copy_folder(tmpl))
    throw DiscoverError(fmt::format("-: cannot make a folder for standard input in {}: {}",
                                    tmp.string(), std::strerror(errno)));
  fs::path dir = tmpl;
  fs::path file = dir / name;
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw DiscoverError(fmt::format("{}: {}", file.string(), std::strerror(errno)));
  try {
    write_all(fd, prefix.data(), prefix.size(), file);
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(0, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw DiscoverError(fmt::format("-: standard input: {}", std::strerror(errno)));
      if (n == 0) break;
      write_all(fd, buf.data(), static_cast<size_t>(n), file);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return file;
}

void discover_stdin(std::span<const KindProbe> probes, const DiscoverOptions& opt, Discovery& out,
                    bool& stdin_used) {
  if (stdin_used) {
    out.notes.push_back("-: standard input was given more than once; read once");
    return;
  }
  stdin_used = true;
  bool consumed = false;
  std::string raw = stdin_raw_head(opt.sniff_bytes, consumed, [&](const std::string& so_far) {
    // Only whole lines are judged, so a line cut by the pipe is not misread.
    size_t nl = so_far.rfind('\n');
    if (nl == std::string::npos) return false;
    std::string head = decompress_prefix(so_far.substr(0, nl + 1), opt.sniff_bytes);
    for (const auto& probe : probes)
      if (probe.sniff && !probe.sniff("-", head).empty()) return true;
    return false;
  });
  std::string head = decompress_prefix(raw, opt.sniff_bytes);
  for (const auto& probe : probes) {
    if (!probe.sniff) continue;
    std::string role = probe.sniff("-", head);
    if (role.empty()) continue;
    DiscoveredJob job;
    job.kind = std::string(probe.kind);
    job.name = "<stdin>";
    if (probe.stdin_file.empty()) {
      if (consumed) input::push_back_stdin(std::move(raw));
      job.root = "-";
      job.files.push_back("-");
      job.inputs.push_back({"-", job.kind, role, true, ""});
    } else {
      fs::path copy = copy_stdin(opt, probe.stdin_file, consumed ? raw : std::string());
      job.root = copy.parent_path().string();
      job.files.push_back(copy.string());
      job.inputs.push_back({copy.string(), job.kind, role, true, ""});
      job.notes.push_back(
          fmt::format("standard input was copied to {} to be read; the copy is removed at exit",
                      copy.string()));
    }
    out.jobs.push_back(std::move(job));
    return;
  }
  // Not ours: leave standard input as it was for whoever reads it next.
  if (consumed) input::push_back_stdin(std::move(raw));
  HeadShape s = shape_of(head);
  out.unrecognised.push_back(
      {"-", looked_for_of(probes),
       s.empty ? std::string("standard input was empty")
               : fmt::format("standard input: {}, {} line{} in its first {} KiB, none that any "
                             "kind recognises",
                             s.binary ? "binary" : "text", s.lines, s.lines == 1 ? "" : "s",
                             opt.sniff_bytes / 1024)});
}

}  // namespace

FileSeen see_file(const fs::path& p, std::span<const KindProbe> probes, const DiscoverOptions& opt) {
  FileSeen s;
  std::string head;
  try {
    head = read_head(p, opt.sniff_bytes);
  } catch (const input::InputError& e) {
    s.unreadable = "unreadable: " + reason_of(e.what(), p);
    return s;
  }
  HeadShape shape = shape_of(head);
  s.lines = shape.lines;
  s.empty = shape.empty;
  s.binary = shape.binary;
  if (s.empty) return s;
  for (const auto& probe : probes) {
    if (!probe.sniff) continue;
    std::string role = probe.sniff(p, head);
    if (!role.empty()) {
      s.kind = probe.kind;
      s.role = std::move(role);
      return s;
    }
  }
  if (s.binary) return s;
  for (const auto& probe : probes) {
    if (!probe.sniff_deep) continue;
    std::string role = probe.sniff_deep(p);
    if (!role.empty()) {
      s.kind = probe.kind;
      s.role = std::move(role);
      return s;
    }
  }
  return s;
}

std::string read_head(const fs::path& file, size_t max) {
  auto src = input::open_source(file.string());
  std::string head(max, '\0');
  size_t got = 0;
  try {
    while (got < max) {
      size_t n = src->read(head.data() + got, max - got);
      if (n == 0) break;
      got += n;
    }
  } catch (const input::InputError&) {
    if (got == 0) throw;
  }
  head.resize(got);
  return head;
}

void remove_stdin_copies() {
  std::lock_guard lock(copies_mu());
  for (const auto& d : copies()) {
    std::error_code ec;
    fs::remove_all(d, ec);
  }
  copies().clear();
}

Discovery discover(const std::vector<std::string>& args, std::span<const KindProbe> probes,
                   const DiscoverOptions& opt) {
  Discovery out;
  bool stdin_used = false;
  for (const auto& arg : args) {
    if (arg == "-") {
      discover_stdin(probes, opt, out, stdin_used);
      continue;
    }
    struct stat st {};
    if (::stat(arg.c_str(), &st) != 0)
      throw DiscoverError(fmt::format("{}: {}", arg, std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) {
      if (::access(arg.c_str(), R_OK | X_OK) != 0)
        throw DiscoverError(fmt::format("{}: {}", arg, std::strerror(errno)));
      Walker w(arg, probes, opt, out);
      w.is_folder_ = true;
      w.run_dir();
    } else if (S_ISREG(st.st_mode)) {
      if (::access(arg.c_str(), R_OK) != 0)
        throw DiscoverError(fmt::format("{}: {}", arg, std::strerror(errno)));
      Walker w(arg, probes, opt, out);
      w.run_file();
    } else {
      throw DiscoverError(
          fmt::format("{}: not a file or folder (a named pipe, socket or device); give it as "
                      "standard input instead",
                      arg));
    }
  }
  return out;
}

}  // namespace alog::core
