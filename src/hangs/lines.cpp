// Line by line over a text input: prefixes stripped (`srun --label`, torchrun `[defaultN]:`,
// `[rankN]:`), one-line facts matched against a table of shapes, and the multi-line blocks
// (py-spy dumps, faulthandler dumps, torchrun's failure table, RAS errors) assembled per stream,
// a stream being one prefix combination, because ranks interleave line by line in a console file.
#include <fmt/format.h>
#include <re2/re2.h>

#include <array>
#include <map>
#include <set>

#include "analyze_logs/input.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::hangs {

std::string Frame::str() const {
  if (file.empty()) return func;
  if (line <= 0) return fmt::format("{} ({})", func, file);
  return fmt::format("{} ({}:{})", func, file, line);
}

const Thread* StackDump::main_thread() const {
  for (const auto& t : threads)
    if (t.main) return &t;
  return threads.empty() ? nullptr : &threads.back();
}

namespace {

bool digits(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

Prefixed strip_prefixes(std::string_view line) {
  Prefixed p;
  // `srun --label`: "0: " or " 12: " (right-aligned task ids).
  size_t k = line.find_first_not_of(' ');
  if (k != std::string_view::npos && k < 4) {
    size_t c = line.find(": ", k);
    if (c != std::string_view::npos && c > k && digits(line.substr(k, c - k))) {
      p.task = to_int(line.substr(k, c - k));
      line.remove_prefix(c + 2);
    }
  }
  // Ray: `(Name pid=N[, ip=X]) ` before a worker's line on the driver's output.
  if (line.starts_with("(")) {
    size_t close = line.find(") ");
    size_t at = line.find(" pid=");
    if (close != std::string_view::npos && close < 120 && at != std::string_view::npos &&
        at < close) {
      std::string_view v = line.substr(at + 5, close - at - 5);
      size_t comma = v.find(',');
      std::string_view pid = v.substr(0, comma);
      if (digits(pid)) {
        p.ray_pid = to_int(pid);
        if (size_t ip = v.find("ip=");
            comma != std::string_view::npos && ip != std::string_view::npos)
          p.ray_ip = v.substr(ip + 3);
        line.remove_prefix(close + 2);
      }
    }
  }
  // torchrun `[<role><local_rank>]:` then the C++ logger's `[rank<N>]:` (then maybe one space).
  for (int pass = 0; pass < 2 && line.starts_with("["); ++pass) {
    size_t close = line.find("]:");
    if (close == std::string_view::npos || close > 40) break;
    std::string_view inner = line.substr(1, close - 1);
    size_t d = inner.size();
    while (d > 0 && inner[d - 1] >= '0' && inner[d - 1] <= '9') --d;
    if (d == inner.size() || d == 0 || inner.size() - d > 7) break;
    std::string_view name = inner.substr(0, d);
    bool ident = true;
    for (char c : name)
      ident &= (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    if (!ident) break;
    int v = to_int(inner.substr(d));
    if (name == "rank")
      p.rank = v;
    else if (p.local_rank < 0 && p.rank < 0)
      p.local_rank = v;
    else
      break;
    line.remove_prefix(close + 2);
    if (p.rank >= 0 && line.starts_with(" ")) line.remove_prefix(1);
  }
  p.rest = line;
  return p;
}

namespace detail {

SglangRank sglang_rank(std::string_view line) {
  // `[2025-04-03 20:06:34 DP1 TP0]`, `[2026-07-05 19:49:44.257 DP1 TP1 EP1]`, `[… PP1 TP3]`; the
  // logger's prefix, at the start of the line.
  SglangRank r;
  if (line.size() < 21 || line[0] != '[' || line[5] != '-' || line[8] != '-') return r;
  size_t close = line.find(']');
  if (close == std::string_view::npos || close > 80) return r;
  std::string_view inner = line.substr(1, close - 1);
  size_t pos = inner.find(' ');  // after the date
  if (pos == std::string_view::npos) return r;
  pos = inner.find(' ', pos + 1);  // after the time
  while (pos != std::string_view::npos) {
    size_t b = pos + 1, e = inner.find(' ', b);
    std::string_view tok = inner.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    size_t k = 0;
    while (k < tok.size() && tok[k] >= 'A' && tok[k] <= 'Z') ++k;
    std::string_view name = tok.substr(0, k), n = tok.substr(k);
    if (digits(n)) {
      if (name == "TP") r.tp = to_int(n);
      if (name == "PP") r.pp = to_int(n);
    }
    pos = e;
  }
  return r;
}

int rank_from_name(std::string_view name) {
  for (size_t k = name.find("rank"); k != std::string_view::npos; k = name.find("rank", k + 1)) {
    size_t d = k + 4;
    if (d < name.size() && (name[d] == '_' || name[d] == '-')) ++d;
    size_t e = d;
    while (e < name.size() && name[e] >= '0' && name[e] <= '9') ++e;
    if (e > d && e - d < 8) return to_int(name.substr(d, e - d));
  }
  return -1;
}

namespace {

using Kind = WatchLine::Kind;

const RE2& re(const char* p) {
  // One compiled pattern per call site (function-local statics in the callers).
  return *new RE2(p);
}

struct Res {
  const RE2& timeout = re(
      R"(Watchdog caught collective operation timeout: WorkNCCL\(SeqNum=(\d+), OpType=(\w+)(?:, NumelIn=(\d+), NumelOut=(\d+))?, Timeout\(ms\)=(\d+)\))");
  const RE2& status = re(
      R"(at (?:NCCL )?work(?: sequence id)?: (\d+),? (?:PG status: )?last enqueued (?:NCCL )?work: (-?\d+), last completed (?:NCCL )?work: (-?\d+))");
  const RE2& dump_signal = re(
      R"(Received a dump signal due to a collective timeout from\s+(?:rank (\d+)|this local rank).*?Last enqueued NCCL work: (-?\d+), last completed NCCL work: (-?\d+))");
  const RE2& pg_guid = re(R"(\[PG ID \d+ PG GUID (\S+) Rank \d+\])");
  const RE2& pg_num = re(R"(\[PG (\d+) Rank \d+\])");
  const RE2& stack_frame = re(R"(^#(\d+) (\S+) from (.+):(\d+)\s*$)");
  const RE2& barrier = re(R"(Rank (\d+) failed to pass monitoredBarrier in (\d+) ms)");
  const RE2& sigterm = re(R"(Sending process (\d+) closing signal SIGTERM)");
  const RE2& abort = re(
      R"(DistBackendError|terminate called after throwing|Some NCCL operations have failed or timed out|taking the entire process down|Process group watchdog thread terminated with exception)");
  const RE2& nccl_init = re(
      R"(^(?:\[[^\]]*\] )?([\w.-]+):(\d+):\d+ \[\d+\] NCCL INFO .*\brank (\d+) n[Rr]anks (\d+))");
  const RE2& pyspy_process = re(R"(^Process (\d+): (.*)$)");
  const RE2& pyspy_thread = re(R"(^Thread (\S+) \(([\w+]+)\)(?:: \"(.*)\")?\s*$)");
  const RE2& pyspy_frame = re(R"(^    (\S.*?) \((.*?)(?::(\d+))?\)\s*$)");
  const RE2& fh_thread = re(
      R"(^(Current thread|Thread) (0x[0-9a-fA-F]+)(?: \[(.*)\])? \(most recent call first\):\s*$)");
  const RE2& fh_frame = re(R"(^  File \"(.*)\", line (\d+) in (.*?)\s*$)");
  const RE2& fh_start = re(
      R"(^(Timeout \([0-9:.]+\)!|Fatal Python error: .*|Stack \(most recent call first\):)\s*$)");
  const RE2& ras_head = re(R"(^#\d+-\d+ \(\w+\) (MISMATCH|INCOMPLETE|ERROR))");
  const RE2& ras_type = re(R"(Communicator ranks have different (\w+) operation counts)");
  const RE2& ras_major = re(R"((\d+) ranks have launched up to operation (\d+))");
  const RE2& ras_rank = re(
      R"(Rank (\d+) has launched up to operation (\d+)(?: -- GPU \d+ managed by process (\d+) on node (\S+))?)");
  const RE2& tbl_idx = re(R"(^\[(\d+)\]:\s*$)");
  const RE2& tbl_field = re(R"(^  (time|host|rank|exitcode|error_file|traceback)\s*: ?(.*)$)");
  const RE2& tbl_rank = re(R"((\d+) \(local_rank: (\d+)\))");
  const RE2& tbl_exit = re(R"((-?\d+) \(pid: (\d+)\))");
};

const Res& res() {
  static const Res r;
  return r;
}

int64_t num(const std::string& s) {
  if (s.empty()) return -1;
  bool neg = s[0] == '-';
  auto v = parse_int(std::string_view(s).substr(neg ? 1 : 0));
  return v ? (neg ? -*v : *v) : -1;
}

// One stream's open block.
struct Stream {
  enum class Block { none, pyspy, fh, table, ras, fr_stack } block = Block::none;
  StackDump dump;
  TableRow row;
  bool root_section = false;
  int borders = 0;
  std::string field;  // table: the last field, for traceback continuation lines
  RasRank ras;        // op and majority of the open RAS error
  int rank = -1;      // global rank learned from a `[rankN]:` line of this stream
  int blank_run = 0;
};

class Scanner {
 public:
  Scanner(std::string display, Facts& out) : display_(std::move(display)), out_(out) {
    file_rank_ = rank_from_name(display_);
    // A Ray worker file names its process: `worker-<hex>[-<job hex>]-<pid>.err`.
    static const RE2 ray_worker(
        R"((?:^|/)worker-[0-9a-f]+(?:-[0-9a-f]+)?-(\d{1,10})\.(?:err|out)$)");
    std::string pid;
    if (RE2::PartialMatch(display_, ray_worker, &pid)) file_pid_ = num(pid);
  }

  void line(std::string_view raw, uint64_t no) {
    ++out_.lines_read;
    std::string clean;
    if (raw.find('\x1b') != std::string_view::npos) {
      strip_ansi(raw, clean);
      raw = clean;
    }
    Prefixed p = strip_prefixes(raw);
    std::string key = fmt::format("{}|{}|{}", p.task, p.local_rank, p.ray_pid);
    if (p.ray_pid >= 0 && !ray_told_.count(p.ray_pid)) {
      // A Ray actor's line naming its rank (`[Rank 2]`, TorchSpec's trainer) maps its pid.
      static const RE2 said(R"(\[Rank (\d+)\])");
      std::string rk;
      int r = p.rank;
      if (r < 0 && RE2::PartialMatch(p.rest, said, &rk)) r = static_cast<int>(num(rk));
      if (r >= 0) {
        out_.ids.push_back({r, p.ray_pid, std::string(p.ray_ip), "Ray actor prefix", -1});
        ray_told_.insert(p.ray_pid);
      }
    }
    Stream& s = streams_[key];
    if (p.rank >= 0) {
      s.rank = p.rank;
      // The first `[rankN]:` line of a Ray worker file maps that worker's pid to the rank.
      if (file_pid_ >= 0 && !pid_told_) {
        out_.ids.push_back({p.rank, file_pid_, "", "Ray worker file", -1});
        pid_told_ = true;
      }
    }
    prefix_rank_ = p.rank >= 0 ? p.rank : s.rank;
    int rank = prefix_rank_ >= 0 ? prefix_rank_ : file_rank_;
    std::string_view rest = p.rest;
    if (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
    // SGLang's watchdog: `[2025-04-03 20:06:34 DP1 TP2] Pyspy dump for PID 4242:` is the only
    // line of its dump with the logger's prefix; the TP rank there maps the dumped pid.
    if (size_t at = rest.find("Pyspy dump for PID "); at != std::string_view::npos) {
      std::string_view tail = rest.substr(at + 19);
      size_t d = 0;
      while (d < tail.size() && d < 10 && tail[d] >= '0' && tail[d] <= '9') ++d;
      SglangRank sr = sglang_rank(rest.substr(0, at));
      if (d > 0 && sr.tp >= 0) {
        int64_t pid = num(std::string(tail.substr(0, d)));
        if (sr.pp > 0 && out_.ambiguities.size() < 100)
          out_.ambiguities.push_back(fmt::format(
              "{}:{}: pid {} is TP{} of pipeline stage PP{}: its global rank depends on the TP "
              "size; left unmapped",
              display_, no, pid, sr.tp, sr.pp));
        else if (sr.pp <= 0)
          out_.ids.push_back({sr.tp, pid, "", "SGLang TP prefix", -1});
      }
    }
    // Outside a block, a line none of start()'s patterns can match costs no regex and no evidence.
    if (s.block == Stream::Block::none && !may_start(rest)) return;
    core::Evidence ev{display_, no, "", clip_utf8(printable(raw), 400)};
    if (block(s, rest, rank, ev)) return;
    start(s, rest, rank, ev);
  }

  void finish() {
    for (auto& [k, s] : streams_) close(s);
  }

 private:
  void close(Stream& s) {
    switch (s.block) {
      case Stream::Block::pyspy:
      case Stream::Block::fh:
        if (!s.dump.threads.empty()) {
          auto& d = s.dump;
          if (d.source == "faulthandler" && !d.threads.empty()) {
            // Main thread last, unless one is marked current.
            bool any = false;
            for (auto& t : d.threads) any |= t.main;
            if (!any) d.threads.back().main = true;
          }
          out_.dumps.push_back(std::move(d));
        }
        break;
      case Stream::Block::table:
        if (s.row.rank >= 0) out_.table.push_back(std::move(s.row));
        break;
      default:
        break;
    }
    s.block = Stream::Block::none;
    s.dump = {};
    s.row = {};
  }

  void new_dump(Stream& s, const char* source, int, const core::Evidence& ev, std::string header) {
    int rank = prefix_rank_;
    close(s);
    s.dump.source = source;
    s.dump.file = display_;
    s.dump.line = ev.line;
    s.dump.header = std::move(header);
    if (rank >= 0) {
      s.dump.rank = rank;
      s.dump.rank_from = fmt::format("[rank{}] prefix", rank);
    } else if (file_rank_ >= 0) {
      s.dump.rank = file_rank_;
      s.dump.rank_from = "file name";
    }
  }

  // Continues the stream's open block with this line; false when the line is not part of it
  // (the block is then closed and the line judged afresh).
  bool block(Stream& s, std::string_view rest, int rank, const core::Evidence& ev) {
    const Res& R = res();
    std::string a, b, c, d;
    switch (s.block) {
      case Stream::Block::none:
        return false;
      case Stream::Block::pyspy: {
        if (RE2::FullMatch(rest, R.pyspy_thread, &a, &b, &c)) {
          Thread t;
          t.id = a;
          t.status = b;
          t.name = c;
          t.main = (s.dump.pid >= 0 && a == std::to_string(s.dump.pid)) || c == "MainThread";
          s.dump.threads.push_back(std::move(t));
          return true;
        }
        if (!s.dump.threads.empty() && RE2::FullMatch(rest, R.pyspy_frame, &a, &b, &c)) {
          s.dump.threads.back().frames.push_back({a, b, c.empty() ? 0 : num(c)});
          return true;
        }
        if (rest.starts_with("        ") || rest.starts_with("Python v") ||
            rest.starts_with("Parent Process") || (rest.empty() && s.dump.threads.empty()))
          return true;
        break;
      }
      case Stream::Block::fh: {
        if (RE2::FullMatch(rest, R.fh_thread, &a, &b, &c)) {
          Thread t;
          t.id = b;
          t.name = c;
          t.main = a == "Current thread";
          t.status = t.main ? "current" : "";
          s.dump.threads.push_back(std::move(t));
          s.blank_run = 0;
          return true;
        }
        if (RE2::FullMatch(rest, R.fh_frame, &a, &b, &c)) {
          if (s.dump.threads.empty()) s.dump.threads.push_back({"", "", "current", true, {}});
          s.dump.threads.back().frames.push_back({c, a, num(b)});
          s.blank_run = 0;
          return true;
        }
        if (rest == "  ..." || rest == "  <no Python frame>" || rest == "  Garbage-collecting" ||
            rest == "...")
          return true;
        if (rest.empty() && ++s.blank_run < 2) return true;
        if (rest.starts_with("Extension modules:")) {
          close(s);
          return true;
        }
        break;
      }
      case Stream::Block::table: {
        if (rest.starts_with("=====")) {
          if (++s.borders >= 2) {
            close(s);
            return true;
          }
          return true;
        }
        if (rest.starts_with("-----")) return true;
        if (rest.starts_with("Root Cause")) {
          if (s.row.rank >= 0) out_.table.push_back(std::move(s.row));
          s.row = {};
          s.root_section = true;
          return true;
        }
        if (RE2::FullMatch(rest, R.tbl_idx, &a)) {
          if (s.row.rank >= 0) out_.table.push_back(std::move(s.row));
          s.row = {};
          s.row.root_cause = s.root_section;
          s.row.ev = ev;
          return true;
        }
        if (RE2::FullMatch(rest, R.tbl_field, &a, &b)) {
          s.field = a;
          if (a == "host") s.row.host = b;
          if (a == "rank" && RE2::PartialMatch(b, R.tbl_rank, &c, &d)) {
            s.row.rank = static_cast<int>(num(c));
            s.row.local_rank = static_cast<int>(num(d));
          }
          if (a == "exitcode" && RE2::PartialMatch(b, R.tbl_exit, &c, &d)) {
            s.row.exitcode = static_cast<int>(num(c));
            s.row.pid = num(d);
          }
          if (a == "traceback") s.row.traceback = clip_utf8(b, 300);
          return true;
        }
        if (rest.starts_with("  ")) return true;  // a traceback's continuation
        if (rest.empty() || rest.starts_with("train") ||
            rest.find("FAILED") != std::string_view::npos || rest.starts_with("Failures:"))
          return true;
        break;
      }
      case Stream::Block::ras: {
        if (RE2::PartialMatch(rest, R.ras_type, &a)) {
          s.ras.op = a;
          return true;
        }
        if (RE2::PartialMatch(rest, R.ras_major, &a, &b)) {
          s.ras.majority_ops = num(b);
          return true;
        }
        if (RE2::PartialMatch(rest, R.ras_rank, &a, &b, &c, &d)) {
          RasRank r = s.ras;
          r.rank = static_cast<int>(num(a));
          r.ops = num(b);
          r.pid = num(c);
          r.node = d;
          r.ev = ev;
          out_.ras.push_back(r);
          if (r.pid >= 0) out_.ids.push_back({r.rank, r.pid, r.node, "RAS", -1});
          return true;
        }
        if (rest.starts_with("  ")) return true;
        break;
      }
      case Stream::Block::fr_stack: {
        if (RE2::FullMatch(rest, R.stack_frame, &a, &b, &c, &d)) {
          WatchLine w;
          w.kind = Kind::stack;
          w.rank = rank;
          w.frame = {b, c, num(d)};
          w.ev = ev;
          out_.lines.push_back(std::move(w));
          return true;
        }
        break;
      }
    }
    close(s);
    return false;
  }

  // Whether a line outside a block can start one or be a one-line fact: the literal text every
  // pattern of start() needs (at the start of the line, or anywhere in it). Most lines of a worker
  // log (SGLang's batch lines, vLLM's statistics) have none and skip the ~15 regexes.
  static bool may_start(std::string_view rest) {
    static constexpr std::string_view kStarts[] = {"Process ", "Timeout (", "Fatal Python error",
                                                   "Stack (most recent", "Current thread", "Thread ",
                                                   "#"};
    for (auto w : kStarts)
      if (rest.starts_with(w)) return true;
    static constexpr std::string_view kAnywhere[] = {
        "ChildFailedError", "Stack trace of the failed collective", "DistBackendError",
        "terminate called after throwing", "Some NCCL operations", "taking the entire process down",
        "Process group watchdog", "Watchdog caught", "Received a dump signal", "last enqueued",
        "First PG on this rank", "monitoredBarrier", "closing signal SIGTERM", "NCCL INFO"};
    for (auto w : kAnywhere)
      if (rest.find(w) != std::string_view::npos) return true;
    return false;
  }

  void start(Stream& s, std::string_view rest, int rank, const core::Evidence& ev) {
    const Res& R = res();
    std::string a, b, c, d, e;
    // Blocks.
    if (RE2::FullMatch(rest, R.pyspy_process, &a, &b)) {
      new_dump(s, "py-spy", rank, ev, clip_utf8(std::string(rest), 200));
      s.block = Stream::Block::pyspy;
      s.dump.pid = num(a);
      return;
    }
    if (RE2::FullMatch(rest, R.fh_start, &a)) {
      new_dump(s, "faulthandler", rank, ev, a);
      s.block = Stream::Block::fh;
      s.blank_run = 0;
      return;
    }
    if (RE2::FullMatch(rest, R.fh_thread, &a, &b, &c)) {
      new_dump(s, "faulthandler", rank, ev, "");
      s.block = Stream::Block::fh;
      s.blank_run = 0;
      block(s, rest, rank, ev);
      return;
    }
    if (rest.find("ChildFailedError") != std::string_view::npos && !rest.starts_with("  ")) {
      close(s);
      s.block = Stream::Block::table;
      s.borders = 0;
      s.root_section = false;
      return;
    }
    if (RE2::PartialMatch(rest, R.ras_head)) {
      close(s);
      s.block = Stream::Block::ras;
      s.ras = {};
      return;
    }
    if (rest.find("Stack trace of the failed collective:") != std::string_view::npos) {
      close(s);
      s.block = Stream::Block::fr_stack;
      return;
    }
    // One-line facts.
    WatchLine w;
    w.rank = rank;
    w.ev = ev;
    if (RE2::PartialMatch(rest, R.pg_guid, &a))
      w.pg = a;
    else if (RE2::PartialMatch(rest, R.pg_num, &a))
      w.pg = "PG " + a;
    // The abort blocks quote the timeout line inside them: judged as aborts first.
    if (RE2::PartialMatch(rest, R.abort)) {
      w.kind = Kind::abort;
    } else if (RE2::PartialMatch(rest, R.timeout, &a, &b, &c, &d, &e)) {
      w.kind = Kind::timeout;
      w.seq = num(a);
      w.op = b;
      w.numel_in = num(c);
      w.numel_out = num(d);
      w.timeout_ms = num(e);
    } else if (RE2::PartialMatch(rest, R.dump_signal, &a, &b, &c)) {
      w.kind = Kind::dump_signal;
      w.other = a.empty() ? rank : static_cast<int>(num(a));
      w.enqueued = num(b);
      w.completed = num(c);
    } else if (RE2::PartialMatch(rest, R.status, &a, &b, &c)) {
      w.kind = Kind::status;
      w.seq = num(a);
      w.enqueued = num(b);
      w.completed = num(c);
    } else if (rest.find("First PG on this rank to signal dumping") != std::string_view::npos) {
      w.kind = Kind::first_signal;
    } else if (RE2::PartialMatch(rest, R.barrier, &a, &b)) {
      w.kind = Kind::barrier;
      w.other = static_cast<int>(num(a));
      w.timeout_ms = num(b);
    } else if (RE2::PartialMatch(rest, R.sigterm, &a)) {
      w.kind = Kind::sigterm;
      w.pid = num(a);
    } else {
      if (RE2::PartialMatch(rest, R.nccl_init, &a, &b, &c, &d))
        out_.ids.push_back(
            {static_cast<int>(num(c)), num(b), a, "NCCL init line", static_cast<int>(num(d))});
      return;
    }
    out_.lines.push_back(std::move(w));
  }

  std::string display_;
  Facts& out_;
  int file_rank_ = -1;
  // The current line's rank from a `[rankN]:` prefix, its own or its stream's.
  int prefix_rank_ = -1;
  int64_t file_pid_ = -1;  // a Ray worker file's pid, from its name
  bool pid_told_ = false;
  std::set<int64_t> ray_told_;  // Ray actor pids already mapped
  std::map<std::string, Stream> streams_;
};

}  // namespace

void scan_text(const std::string& path, const std::string& display, Facts& out) {
  Scanner sc(display, out);
  try {
    input::for_each_line(path, [&](std::string_view l, uint64_t no) {
      sc.line(l, no);
      return true;
    });
  } catch (const input::InputError& e) {
    out.problems.emplace_back(display, e.what());
  }
  sc.finish();
}

void scan_error_json(const std::string& path, const std::string& display, Facts& out) {
  std::string text;
  try {
    input::for_each_line(path, [&](std::string_view l, uint64_t) {
      text.append(l);
      text += '\n';
      return text.size() < (4u << 20);
    });
  } catch (const input::InputError& e) {
    out.problems.emplace_back(display, e.what());
    return;
  }
  auto doc = parse_json_bounded(text);
  if (doc.is_discarded() || !doc.is_object()) {
    out.problems.emplace_back(display, "error.json is not valid JSON; skipped");
    return;
  }
  std::string msg;
  auto m = doc.find("message");
  if (m != doc.end()) {
    if (m->is_string())
      msg = m->get<std::string>();
    else if (m->is_object() && m->contains("message") && (*m)["message"].is_string())
      msg = (*m)["message"].get<std::string>();
  }
  if (msg.empty()) {
    out.problems.emplace_back(display, "error.json without a message; skipped");
    return;
  }
  // The message is a whole traceback text; judge each of its lines as a log line of this file.
  Scanner sc(display, out);
  uint64_t no = 0;
  size_t pos = 0;
  while (pos <= msg.size()) {
    size_t nl = msg.find('\n', pos);
    if (nl == std::string::npos) nl = msg.size();
    std::string_view l(msg.data() + pos, nl - pos);
    // Evidence points at the file (line 1: the JSON is one line).
    sc.line(l, 1);
    ++no;
    pos = nl + 1;
  }
  out.lines_read -= no;
  ++out.lines_read;
  sc.finish();
}

}  // namespace detail

}  // namespace alog::hangs
