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
};

Stamp line_stamp(std::string_view s, bool utc_is_local) {
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
  if (k < rest.size() && rest[k] == 'Z') return {utc_is_local ? st : std::string(), true};
  return {st, true};
}

}  // namespace

LogScan scan_log(const std::filesystem::path& file, const std::string& rel, const LogFileId& id,
                 ScanMode mode, std::vector<Problem>& problems, bool utc_is_local,
                 const std::vector<BenchWindow>& windows) {
  LogScan sc;
  sc.log.file = rel;
  sc.log.id = id;

  // Not a failure signature: any line that names an error, kept as a weak hint for workers
  // whose logs hold nothing more specific.
  static const RE2 generic_error(
      R"(\b[A-Za-z_.]*(?:Error|Exception)\b|\bERROR\b|\bFATAL\b|\[(?:error|crit|alert|emerg)\] \d+#\d+:)");
  static const RE2 cancelled(
      R"(\*\*\* (?:STEP|JOB) (\S+) ON (\S+) CANCELLED AT (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})( DUE TO TIME LIMIT)?)");
  static const RE2 frame(R"(\s+File "[^"]*", line \d+, in .*)");
  static const RE2 exception_line(R"([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\b.*)");
  const core::SignatureSet& rows = rows_for(mode);

  std::string last_stamp;
  // Unstamped hits wait for the next stamped line: that is the earliest time at which they are
  // known to have happened, and dating them by the previous stamp instead would let a
  // consequence (an NCCL WARN on the peer of a crashed rank) predate its cause. When the next
  // thing is the CANCELLED line (a stall followed by the teardown), the previous stamp stays.
  std::vector<size_t> pending;
  bool in_tb = false;
  Traceback tb;
  size_t tb_index = SIZE_MAX;

  // Batch statistics: folded as they are read (BatchFolder), and the lines findings quote.
  WorkerBatches wb;
  wb.file = rel;
  wb.id = id;
  BatchFolder folder(wb, windows);
  BatchSample sample;
  auto event = [&](std::string_view text, uint64_t no, int64_t t, double running) {
    BatchEvent e;
    e.line = no;
    e.t = t;
    e.time = last_stamp;
    e.text = std::string(text.substr(0, 400));
    e.running = running;
    return e;
  };
  auto add_sample = [&](const BatchSample& b, std::string_view text, uint64_t no) {
    folder.add(b, no);
    const double running = b.v[kRunningReq];
    if (b.decode && b.cuda_graph == 0 && !wb.first_graph_off)
      wb.first_graph_off = event(text, no, b.t, running);
    if (b.decode && wb.cuda_graph_max_bs && !std::isnan(running) && running > *wb.cuda_graph_max_bs &&
        !wb.first_over_max_bs)
      wb.first_over_max_bs = event(text, no, b.t, running);
    if (!std::isnan(b.v[kRetractedReq]) && b.v[kRetractedReq] > 0) {
      ++wb.retract_lines;
      if (!wb.first_retract) wb.first_retract = event(text, no, b.t, running);
    }
  };

  auto add_hit = [&](const Kind& sig, std::string_view text, uint64_t no, bool exact) {
    if (sc.hits.size() >= 64) return;
    SignatureHit h;
    h.kind = std::string(sig.id);
    h.fatal = sig.fatal;
    h.line = no;
    h.text = std::string(text.substr(0, 400));
    h.time = last_stamp;
    h.exact = exact;
    if (!exact) pending.push_back(sc.hits.size());
    sc.hits.push_back(std::move(h));
  };

  auto classify = [&](std::string_view s) -> std::optional<Kind> {
    if (const core::Signature* sig = core::match_signature(s, rows))
      return Kind{sig->id, sig->fatal};
    if (mode == ScanMode::worker && might_name_error(s) &&
        RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), generic_error))
      return Kind{"error", false};
    return std::nullopt;
  };

  auto segment = [&](std::string_view s, uint64_t no) {
    Stamp stamp = line_stamp(s, utc_is_local);
    bool exact = !stamp.local.empty();
    if (exact) {
      for (size_t i : pending) sc.hits[i].time = stamp.local;
      pending.clear();
      last_stamp = stamp.local;
      if (sc.log.first_time.empty()) sc.log.first_time = stamp.local;
      sc.log.last_time = stamp.local;
    }

    // Inside a traceback: frames and code lines are not errors of their own.
    if (in_tb) {
      if (s.empty() || RE2::FullMatch(re2::StringPiece(s.data(), s.size()), frame)) {
        if (!s.empty()) {
          std::string_view f = s;
          while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
          tb.last_frame = std::string(f.substr(0, 400));
        }
        return;
      }
      if (s.front() == ' ' || s.front() == '\t') return;  // source line or ^^^^ markers
      in_tb = false;
      if (!stamp.any) {
        tb.exception = std::string(s.substr(0, 400));
        tb.exception_line = no;
      }
      if (tb_index < sc.tracebacks.size()) sc.tracebacks[tb_index] = tb;
      if (!stamp.any) {
        std::optional<Kind> sig = classify(s);
        if (!sig || sig->id == "error") sig = Kind{"exception", true};
        add_hit(*sig, s, no, exact);
        return;
      }
      // A stamped line ended the traceback without an exception line: treat it normally.
    }

    {
      re2::StringPiece sp(s.data(), s.size());
      std::string step, host, at, limit;
      if (s.find("CANCELLED AT") != std::string_view::npos &&
          RE2::PartialMatch(sp, cancelled, &step, &host, &at, &limit)) {
        CancelledStep c;
        c.file = rel;
        c.line = no;
        c.role = id.role;
        c.index = id.index;
        c.node = id.node.empty() ? host : id.node;
        at[10] = ' ';
        c.time = at;
        c.time_limit = !limit.empty();
        sc.cancelled.push_back(std::move(c));
        pending.clear();
        // What a step prints while being killed comes after this line and is collateral.
        last_stamp = at;
        return;
      }
      if (mode == ScanMode::batch && s.rfind("srun: error:", 0) == 0) {
        if (sc.slurm_errors.size() < 32) sc.slurm_errors.push_back(std::string(s.substr(0, 400)));
      }
    }
    if (mode == ScanMode::batch && (s.rfind("+ ", 0) == 0 || s.rfind("++ ", 0) == 0)) return;

    if (s.find("Traceback (most recent call last):") != std::string_view::npos) {
      in_tb = true;
      tb = Traceback{};
      tb.line = no;
      tb.time = last_stamp;
      if (sc.tracebacks.size() < 8) {
        sc.tracebacks.push_back(tb);
        tb_index = sc.tracebacks.size() - 1;
      } else {
        tb_index = SIZE_MAX;
      }
    }
    if (id.role != "" && s.find("worker setup complete") != std::string_view::npos)
      sc.log.setup_complete = true;
    if (mode == ScanMode::worker) {
      if (size_t at = s.find("cuda_graph_max_bs="); at != std::string_view::npos &&
                                                     s.find("server_args=") != std::string_view::npos) {
        int v = 0;
        const char* b = s.data() + at + 18;
        auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
        if (ec == std::errc() && p != b && v > 0) wb.cuda_graph_max_bs = v;
      }
      if (s.find("KV cache pool is full") != std::string_view::npos) {
        ++wb.retract_lines;
        if (!wb.first_retract) {
          auto t = civil_seconds(last_stamp);
          wb.first_retract = event(s, no, t ? *t : 0, NAN);
        }
      }
    }
    if (is_noise(s)) return;
    std::optional<Kind> sig = classify(s);
    if (!sig && mode == ScanMode::client) {
      if (RE2::FullMatch(re2::StringPiece(s.data(), s.size()), exception_line))
        sig = Kind{"exception", true};
      else if (s.find("All requests failed") != std::string_view::npos)
        sig = Kind{"error", false};
    }
    if (sig) add_hit(*sig, s, no, exact);
  };

  try {
    input::for_each_line(file.string(), [&](std::string_view raw, uint64_t no) {
      ++sc.log.lines;
      // Batch lines are most of a worker log: a prefix test, then a parse that allocates
      // nothing; they are never failure signatures, so they skip the scan below.
      if (mode == ScanMode::worker && !raw.empty() && raw[0] == '[') {
        if (parse_batch_line(raw, sample)) {
          last_stamp.assign(raw.data() + 1, 19);
          last_stamp[10] = ' ';
          for (size_t i : pending) sc.hits[i].time = last_stamp;
          pending.clear();
          if (sc.log.first_time.empty()) sc.log.first_time = last_stamp;
          sc.log.last_time = last_stamp;
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
        if (!seg.empty() || cr == std::string_view::npos) segment(rtrim(seg), no);
        if (cr == std::string_view::npos) break;
        start = cr + 1;
      }
      return true;
    });
  } catch (const std::exception& e) {
    problems.push_back({rel, e.what()});
  }
  if (in_tb && tb_index < sc.tracebacks.size()) sc.tracebacks[tb_index] = tb;
  folder.finish();
  if (wb.lines || wb.unreadable || wb.first_retract) sc.batches = std::move(wb);
  return sc;
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
