// log.out (the batch script's echoes) and the failure-signature scan of every other log.
//
// Signatures are the shared catalogue (core/catalogue.hpp), whose first matching row names a line,
// so one line gets one kind and a new signature is one row there. Each hit carries the local-clock
// stamp of its line or of the last stamped line above it: tracebacks are unstamped, and their order
// against other files is only knowable through the line that announced them. Dynamo's own lines are
// stamped in UTC (`...Z`) while SGLang and the bootstrap use local time, so UTC stamps are used for
// ordering only when the batch node's `date` shows the job ran in UTC.
#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <optional>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "collect.hpp"

namespace alog::srtctl {

namespace {

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Topology parse_log_out(const std::filesystem::path& file, const std::string& rel,
                       std::vector<Problem>& problems) {
  Topology t;
  static const RE2 node(R"(Node (\d+): (\S+))");
  static const RE2 master(R"(Master IP address(?: \(node (\d+)\))?: (\S+))");
  static const RE2 nginx(R"(Nginx node(?: \(node \d+\))?: (\S+))");
  static const RE2 extra_fe(R"(Additional frontend (\d+) on node \d+: (\S+) \(([^)]*)\))");
  static const RE2 leader(
      R"((Prefill|Decode|Aggregated|Agg) worker (\d+) leader: (\S+) \(([^)]*)\))");
  static const RE2 master_node(R"(Launching frontend \+ NATS/ETCD on master node (\S+))");
  static const RE2 url(R"(Frontend available at: (\S+))");
  static const RE2 finished(R"(Script finished at (.*) with exit code (-?\d+))");
  static const RE2 error(R"(Error: (.+))");
  std::optional<int> master_idx;
  try {
    input::for_each_line(file.string(), [&](std::string_view raw, uint64_t) {
      std::string clean;
      strip_ansi(raw, clean);
      std::string_view s = rtrim(clean);
      re2::StringPiece sp(s.data(), s.size());
      int i = 0;
      std::string a, b, c, d;
      if (RE2::FullMatch(sp, node, &i, &a)) {
        if (i >= 0 && i < 100000) {
          if (t.nodes.size() <= static_cast<size_t>(i)) t.nodes.resize(static_cast<size_t>(i) + 1);
          t.nodes[static_cast<size_t>(i)] = a;
        }
      } else if (RE2::FullMatch(sp, master, &a, &b)) {
        t.master_ip = b;
        if (!a.empty()) master_idx = std::atoi(a.c_str());
      } else if (RE2::FullMatch(sp, nginx, &a)) {
        t.nginx_node = a;
      } else if (RE2::FullMatch(sp, extra_fe, &i, &a, &b)) {
        t.frontends.push_back({"frontend", i, a, b});
      } else if (RE2::FullMatch(sp, leader, &a, &i, &b, &c)) {
        std::string role = a == "Prefill" ? "prefill" : a == "Decode" ? "decode" : "agg";
        t.leaders.push_back({role, i, b, c});
      } else if (RE2::FullMatch(sp, master_node, &a)) {
        t.master_node = a;
      } else if (RE2::FullMatch(sp, url, &a)) {
        t.frontend_url = a;
      } else if (RE2::FullMatch(sp, finished, &a, &b)) {
        t.finished_at = a;
        static const RE2 zone(R"(\S+ \S+ +\d+ \d+:\d+:\d+(?: [AP]M)? ([A-Z]{2,5}) \d{4})");
        std::string z;
        if (RE2::FullMatch(a, zone, &z)) t.clock_zone = z;
        if (auto v = parse_int(b[0] == '-' ? std::string_view(b).substr(1) : std::string_view(b));
            v && *v < 100000)
          t.exit_code = static_cast<int>(b[0] == '-' ? -*v : *v);
      } else if (RE2::FullMatch(sp, error, &a)) {
        t.errors.push_back(std::string(s.substr(0, 400)));
      }
      return true;
    });
  } catch (const std::exception& e) {
    problems.push_back({rel, e.what()});
  }
  if (t.master_node.empty()) {
    // Multi-frontend layout: master is node 1; single frontend: node 0.
    size_t idx = master_idx ? static_cast<size_t>(*master_idx) : 0;
    if (!t.master_ip.empty() && idx < t.nodes.size()) t.master_node = t.nodes[idx];
  }
  return t;
}

namespace {

// What a line was named: a catalogue row, or one of the scan's own kinds (`error`, the generic
// error line; `exception`, the line that closes a traceback).
struct Kind {
  std::string_view id;
  bool fatal;
};

// The failure signatures are the shared catalogue (core/catalogue.hpp). Which rows apply depends
// on the file: log.err is the batch script's `set -x` trace, where only host OOM and SLURM's own
// lines are evidence; benchmark.err is the client, whose tracebacks and CUDA OOM count.
const core::SignatureSet& rows_for(ScanMode mode) {
  // Rows named from the batch metrics (batch.cpp), not from one line.
  static const core::SignatureSet every =
      core::SignatureSet::all().without({"cuda_graph_fallback", "kv_pool_retract", "queue_growth", "pd_imbalance",
                                                        "warmup_traffic", "result_mismatch"});
  static const core::SignatureSet batch =
      core::SignatureSet::of({"host_oom", "slurm_time_limit", "slurm_cancelled"});
  static const core::SignatureSet client = core::SignatureSet::of({"traceback", "cuda_oom"});
  return mode == ScanMode::batch ? batch : mode == ScanMode::client ? client : every;
}

// Lines that look alarming and are not: bootstrap echoes of the whole command line, argument
// dumps, Ray's metrics-exporter complaint, the etcd wait.
// A cheap test before the generic-error regex: every line it can match holds one of these.
bool might_name_error(std::string_view s) {
  for (std::string_view n :
       {"rror", "xception", "ERROR", "FATAL", "[error]", "[crit]", "[alert]", "[emerg]"})
    if (s.find(n) != std::string_view::npos) return true;
  return false;
}


// A stamp at the start of a line: "[2025-11-22 04:21:07 DP0 TP0]", "2025-11-22 04:21:07| root:",
// "2025-12-31 00:12:02,123 [INFO]", a bare `date` line, the `+ echo '2025-...'` of a shell trace,
// nginx's "2025/11/22 04:21:07 [error]", or Dynamo's UTC "2025-11-22T04:21:07.183Z".
struct Stamp {
  std::string local;  // "YYYY-mm-dd HH:MM:SS" on the job's local clock; empty if not known
  bool any = false;   // the line carries a stamp of some clock
  bool utc = false;   // Dynamo's `...Z`: `local` only when the job's clock is UTC
};

// The stamp as a UTC clock reads it; the scan drops a `...Z` stamp for a clock that is not UTC.
Stamp line_stamp(std::string_view s) {
  size_t pos = 0;
  if (!s.empty() && s[0] == '[') pos = 1;
  if (s.rfind("+ echo '", 0) == 0) pos = 8;
  if (s.size() < pos + 19) return {};
  std::string st(s.substr(pos, 19));
  if (st[4] == '/' && st[7] == '/') st[4] = st[7] = '-';  // nginx
  if (!civil_seconds(st)) return {};
  std::string_view rest = s.substr(pos + 19);
  size_t k = 0;
  if (!rest.empty() && rest[0] == '.')
    for (k = 1; k < rest.size() && rest[k] >= '0' && rest[k] <= '9'; ++k) {
    }
  st[10] = ' ';
  if (k < rest.size() && rest[k] == 'Z') return {st, true, true};
  return {st, true, false};
}

}  // namespace

namespace detail {

ClockedScan scan_log_clocks(const std::filesystem::path& file, const std::string& rel,
                            const LogFileId& id, ScanMode mode, std::vector<Problem>& problems,
                            std::optional<bool> utc_is_local,
                            const std::vector<BenchWindow>& windows, std::vector<uint8_t>* record) {
  // Not a failure signature: any line that names an error, kept as a weak hint for workers
  // whose logs hold nothing more specific.
  static const RE2 generic_error(
      R"(\b[A-Za-z_.]*(?:Error|Exception)\b|\bERROR\b|\bFATAL\b|\[(?:error|crit|alert|emerg)\] \d+#\d+:)");
  static const RE2 cancelled(
      R"(\*\*\* (?:STEP|JOB) (\S+) ON (\S+) CANCELLED AT (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})( DUE TO TIME LIMIT)?)");
  static const RE2 frame(R"(\s+File "[^"]*", line \d+, in .*)");
  static const RE2 exception_line(R"([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\b.*)");
  const core::SignatureSet& rows = rows_for(mode);

  // What depends on the job's clock: the scan of one reading of `...Z` stamps. With the clock
  // unknown (a node without log.out), both readings are kept in one pass; they share every
  // decision that does not depend on a stamp (signatures, tracebacks, batch lines).
  struct Clock {
    bool utc = false;
    LogScan sc;
    std::string last_stamp;
    // Unstamped hits wait for the next stamped line: that is the earliest time at which they are
    // known to have happened, and dating them by the previous stamp instead would let a
    // consequence (an NCCL WARN on the peer of a crashed rank) predate its cause. When the next
    // thing is the CANCELLED line (a stall followed by the teardown), the previous stamp stays.
    std::vector<size_t> pending;
    bool in_tb = false;
    Traceback tb;
    size_t tb_index = SIZE_MAX;
    std::optional<BatchEvent> first_retract;  // the KV-cache line's stamp is the clock's
  };
  std::vector<Clock> clocks;
  if (utc_is_local) {
    clocks.resize(1);
    clocks[0].utc = *utc_is_local;
  } else {
    clocks.resize(2);
    clocks[1].utc = true;
  }
  for (auto& c : clocks) {
    c.sc.log.file = rel;
    c.sc.log.id = id;
  }
  bool saw_utc = false;

  // Batch statistics: folded as they are read (BatchFolder), and the lines findings quote.
  WorkerBatches wb;
  wb.file = rel;
  wb.id = id;
  BatchFolder folder(wb, windows);
  BucketWriter writer;
  if (record) folder.record([&](const BatchBucket& b) { writer.add(b, *record); });
  BatchSample sample;
  auto event = [&](std::string_view text, uint64_t no, int64_t t, double running,
                   const std::string& stamp) {
    BatchEvent e;
    e.line = no;
    e.t = t;
    e.time = stamp;
    e.text = std::string(text.substr(0, 400));
    e.running = running;
    return e;
  };
  auto add_sample = [&](const BatchSample& b, std::string_view text, uint64_t no) {
    folder.add(b, no);
    const std::string& stamp = clocks[0].last_stamp;  // the batch line's own: every clock's
    const double running = b.v[kRunningReq];
    if (b.decode && b.cuda_graph == 0 && !wb.first_graph_off)
      wb.first_graph_off = event(text, no, b.t, running, stamp);
    if (b.decode && wb.cuda_graph_max_bs && !std::isnan(running) && running > *wb.cuda_graph_max_bs &&
        !wb.first_over_max_bs)
      wb.first_over_max_bs = event(text, no, b.t, running, stamp);
    if (!std::isnan(b.v[kRetractedReq]) && b.v[kRetractedReq] > 0) {
      ++wb.retract_lines;
      for (auto& c : clocks)
        if (!c.first_retract) c.first_retract = event(text, no, b.t, running, stamp);
    }
  };

  auto add_hit = [&](Clock& c, const Kind& sig, std::string_view text, uint64_t no, bool exact) {
    if (c.sc.hits.size() >= 64) return;
    SignatureHit h;
    h.kind = std::string(sig.id);
    h.fatal = sig.fatal;
    h.line = no;
    h.text = std::string(text.substr(0, 400));
    h.time = c.last_stamp;
    h.exact = exact;
    if (!exact) c.pending.push_back(c.sc.hits.size());
    c.sc.hits.push_back(std::move(h));
  };

  // A segment's classification, shared by the clocks (it does not depend on a stamp).
  struct Classified {
    bool done = false;
    std::optional<Kind> kind;
  };
  auto classify = [&](std::string_view s, Classified& memo) -> std::optional<Kind> {
    if (memo.done) return memo.kind;
    memo.done = true;
    if (const core::Signature* sig = core::match_signature(s, rows))
      memo.kind = Kind{sig->id, sig->fatal};
    else if (mode == ScanMode::worker && might_name_error(s) &&
             RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), generic_error))
      memo.kind = Kind{"error", false};
    return memo.kind;
  };

  // `first`: the first clock, which alone writes what every clock shares (wb's figures).
  auto segment = [&](Clock& c, bool first, std::string_view s, uint64_t no, const Stamp& st,
                     Classified& memo) {
    LogScan& sc = c.sc;
    const bool exact = !st.local.empty() && (!st.utc || c.utc);
    if (exact) {
      for (size_t i : c.pending) sc.hits[i].time = st.local;
      c.pending.clear();
      c.last_stamp = st.local;
      if (sc.log.first_time.empty()) sc.log.first_time = st.local;
      sc.log.last_time = st.local;
    }

    // Inside a traceback: frames and code lines are not errors of their own.
    if (c.in_tb) {
      if (s.empty() || RE2::FullMatch(re2::StringPiece(s.data(), s.size()), frame)) {
        if (!s.empty()) {
          std::string_view f = s;
          while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
          c.tb.last_frame = std::string(f.substr(0, 400));
        }
        return;
      }
      if (s.front() == ' ' || s.front() == '\t') return;  // source line or ^^^^ markers
      c.in_tb = false;
      if (!st.any) {
        c.tb.exception = std::string(s.substr(0, 400));
        c.tb.exception_line = no;
      }
      if (c.tb_index < sc.tracebacks.size()) sc.tracebacks[c.tb_index] = c.tb;
      if (!st.any) {
        std::optional<Kind> sig = classify(s, memo);
        if (!sig || sig->id == "error") sig = Kind{"exception", true};
        add_hit(c, *sig, s, no, exact);
        return;
      }
      // A stamped line ended the traceback without an exception line: treat it normally.
    }

    {
      re2::StringPiece sp(s.data(), s.size());
      std::string step, host, at, limit;
      if (s.find("CANCELLED AT") != std::string_view::npos &&
          RE2::PartialMatch(sp, cancelled, &step, &host, &at, &limit)) {
        CancelledStep cs;
        cs.file = rel;
        cs.line = no;
        cs.role = id.role;
        cs.index = id.index;
        cs.node = id.node.empty() ? host : id.node;
        at[10] = ' ';
        cs.time = at;
        cs.time_limit = !limit.empty();
        sc.cancelled.push_back(std::move(cs));
        c.pending.clear();
        // What a step prints while being killed comes after this line and is collateral.
        c.last_stamp = at;
        return;
      }
      if (mode == ScanMode::batch && s.rfind("srun: error:", 0) == 0) {
        if (sc.slurm_errors.size() < 32) sc.slurm_errors.push_back(std::string(s.substr(0, 400)));
      }
    }
    if (mode == ScanMode::batch && (s.rfind("+ ", 0) == 0 || s.rfind("++ ", 0) == 0)) return;

    if (s.find("Traceback (most recent call last):") != std::string_view::npos) {
      c.in_tb = true;
      c.tb = Traceback{};
      c.tb.line = no;
      c.tb.time = c.last_stamp;
      if (sc.tracebacks.size() < 8) {
        sc.tracebacks.push_back(c.tb);
        c.tb_index = sc.tracebacks.size() - 1;
      } else {
        c.tb_index = SIZE_MAX;
      }
    }
    if (id.role != "" && s.find("worker setup complete") != std::string_view::npos)
      sc.log.setup_complete = true;
    if (mode == ScanMode::worker) {
      if (size_t at = s.find("cuda_graph_max_bs=");
          first && at != std::string_view::npos &&
          s.find("server_args=") != std::string_view::npos) {
        int v = 0;
        const char* b = s.data() + at + 18;
        auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
        if (ec == std::errc() && p != b && v > 0) wb.cuda_graph_max_bs = v;
      }
      if (s.find("KV cache pool is full") != std::string_view::npos) {
        if (first) ++wb.retract_lines;
        if (!c.first_retract) {
          auto t = civil_seconds(c.last_stamp);
          c.first_retract = event(s, no, t ? *t : 0, NAN, c.last_stamp);
        }
      }
    }
    if (is_noise(s)) return;
    std::optional<Kind> sig = classify(s, memo);
    if (!sig && mode == ScanMode::client) {
      if (RE2::FullMatch(re2::StringPiece(s.data(), s.size()), exception_line))
        sig = Kind{"exception", true};
      else if (s.find("All requests failed") != std::string_view::npos)
        sig = Kind{"error", false};
    }
    if (sig) add_hit(c, *sig, s, no, exact);
  };

  try {
    input::for_each_line(file.string(), [&](std::string_view raw, uint64_t no) {
      for (auto& c : clocks) ++c.sc.log.lines;
      // Batch lines are most of a worker log: a prefix test, then a parse that allocates
      // nothing; they are never failure signatures, so they skip the scan below.
      if (mode == ScanMode::worker && !raw.empty() && raw[0] == '[') {
        if (parse_batch_line(raw, sample)) {
          for (auto& c : clocks) {
            c.last_stamp.assign(raw.data() + 1, 19);
            c.last_stamp[10] = ' ';
            for (size_t i : c.pending) c.sc.hits[i].time = c.last_stamp;
            c.pending.clear();
            if (c.sc.log.first_time.empty()) c.sc.log.first_time = c.last_stamp;
            c.sc.log.last_time = c.last_stamp;
          }
          add_sample(sample, rtrim(raw), no);
          return true;
        }
        if (raw.find(" batch") != std::string_view::npos &&
            (raw.find("] Prefill batch") != std::string_view::npos ||
             raw.find("] Decode batch") != std::string_view::npos))
          ++wb.unreadable;
      }
      std::string clean;
      strip_ansi(raw, clean);
      std::string_view s = rtrim(clean);
      // Progress bars rewrite one physical line with '\r'; an error may be glued after them.
      size_t start = 0;
      for (;;) {
        size_t cr = s.find('\r', start);
        std::string_view seg = s.substr(start, cr == std::string_view::npos ? s.npos : cr - start);
        if (!seg.empty() || cr == std::string_view::npos) {
          seg = rtrim(seg);
          const Stamp st = line_stamp(seg);
          saw_utc = saw_utc || st.utc;
          Classified memo;
          for (size_t ci = 0; ci < clocks.size(); ++ci)
            segment(clocks[ci], ci == 0, seg, no, st, memo);
        }
        if (cr == std::string_view::npos) break;
        start = cr + 1;
      }
      return true;
    });
  } catch (const std::exception& e) {
    problems.push_back({rel, e.what()});
  }
  folder.finish();
  ClockedScan out;
  out.utc_stamps = saw_utc;
  if (clocks.size() == 2 && !saw_utc) clocks.pop_back();  // both readings are the same
  for (size_t ci = 0; ci < clocks.size(); ++ci) {
    Clock& c = clocks[ci];
    if (c.in_tb && c.tb_index < c.sc.tracebacks.size()) c.sc.tracebacks[c.tb_index] = c.tb;
    if (wb.lines || wb.unreadable || c.first_retract) {
      if (ci + 1 < clocks.size())
        c.sc.batches = wb;
      else
        c.sc.batches = std::move(wb);
      c.sc.batches->first_retract = std::move(c.first_retract);
    }
  }
  out.scan = std::move(clocks[0].sc);
  if (clocks.size() == 2) out.utc = std::move(clocks[1].sc);
  return out;
}

}  // namespace detail

LogScan scan_log(const std::filesystem::path& file, const std::string& rel, const LogFileId& id,
                 ScanMode mode, std::vector<Problem>& problems, bool utc_is_local,
                 const std::vector<BenchWindow>& windows) {
  return detail::scan_log_clocks(file, rel, id, mode, problems, utc_is_local, windows, nullptr)
      .scan;
}

bool is_noise(std::string_view s) {
  static constexpr std::string_view noise[] = {
      "Failed to establish connection to the metrics exporter agent",
      "Etcd not ready yet",
      "Running command:",
      "server_args=ServerArgs(",
      "Namespace(",
      "NCCL INFO",
  };
  return contains_any(s, noise);
}

}  // namespace alog::srtctl
