// scan_file: one pass over one file (driver log, worker file or Ray system log), feeding the
// phase markers, failure signatures, actors and activity times into the ScanState.
//
// The phase markers are a table (a row per emitted text), so a new TorchSpec message is a new
// row; the failure signatures are the shared catalogue (core/catalogue.hpp). A physical driver line
// is first cut on `\r` (tqdm updates), then at the end of each bar (a Ray line may be glued after
// the last update); a segment that is only a Ray prefix lends its actor to the segments after it,
// which is how a relayed `(SglEngine pid=N, ip=A) \rMulti-thread loading shards: ...` is
// attributed.
//
// Tracebacks and Ray's multi-line actor-death message are followed per source (the driver
// itself, or one relayed pid), because relayed lines of other actors interleave with them.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::ray::detail {

namespace {

constexpr size_t kMaxEvidenceText = 300;

// Failure signatures are the shared catalogue (core/catalogue.hpp): its first matching row names
// a line. Tracebacks are followed structurally here (a traceback is a hit only when its exception
// matched no row), so their row is left out of the line match; Ray's own logs are state dumps
// and RPC chatter, where only host-OOM and worker-death lines are evidence.
const core::SignatureSet& line_rows() {
  static const core::SignatureSet s = core::SignatureSet::all().without({"traceback", "cuda_graph_fallback", "kv_pool_retract", "queue_growth", "pd_imbalance",
                                                        "warmup_traffic", "result_mismatch"});
  return s;
}
const core::SignatureSet& system_rows() {
  static const core::SignatureSet s = core::SignatureSet::of({"host_oom", "actor_died"});
  return s;
}

// Ray's three levels: fatal (ends a process), error, warning (informational rows).
std::string_view ray_severity(const core::Signature& sig) {
  if (sig.fatal) return "fatal";
  return sig.severity == core::Severity::info ? "warning" : "error";
}

// `all_done`: the driver's "All N training actors and M inference engines initialized", which
// ends phases 4 and 5 only when their own done markers are missing (the slower side prints last).
enum class Role { start, done, all_done, progress };

struct MarkerRow {
  int phase;
  Role role;
  std::string_view needle;
  std::string_view also = {};
  int phase2 = 0;  // a second phase the same line marks (phases 4 and 5 end together)
};

// Code-emitted texts per phase (docs/RAY.md has the table with the reasons). `Added N samples
// to controller` is handled apart: it belongs to phase 1 only when nothing later was seen.
constexpr MarkerRow kMarkers[] = {
    {1, Role::start, "Detected nested config format"},
    {1, Role::start, "Max sequence length allowed for training"},
    {1, Role::start, "cached tokenized samples"},
    {1, Role::start, "samples, tokenizing with"},
    {1, Role::start, "Training steps (optimizer steps)"},
    {1, Role::start, "Generated vocab mapping"},
    {1, Role::start, " eval samples from "},
    {2, Role::start, "Connecting to existing Ray cluster"},
    {2, Role::start, "Started a local Ray instance"},
    {2, Role::start, "Connected to Ray cluster"},
    {2, Role::start, "No existing Ray cluster found"},
    {2, Role::start, "Ray cluster has ", " GPUs (need "},
    {2, Role::start, "Waiting for ", " GPUs (currently "},
    {2, Role::start, "Ray cluster GPUs: "},
    {2, Role::start, "Creating placement groups"},
    {2, Role::start, "placement group with "},
    {2, Role::start, "placement group..."},
    {2, Role::start, "actual_bundle_index:"},
    {3, Role::start, "Auto-resolved mooncake master_server_address"},
    {3, Role::start, "Auto-resolved mooncake metadata_port"},
    {3, Role::start, "Starting mooncake master on port"},
    {3, Role::start, "mooncake master started"},
    {3, Role::start, "mooncake master actor started"},
    {3, Role::start, "Mooncake services reachable"},
    {4, Role::start, "training actors and ", "to initialize in parallel"},
    {4, Role::start, "Device mesh (1D)"},
    {4, Role::start, "raft model: ", " trainable"},
    {4, Role::done, "Eagle3 model initialized with FSDP2"},
    {4, Role::done, "TargetLMHead initialized and synced"},
    {4, Role::all_done, "training actors and ", "engines initialized", 5},
    {5, Role::start, "Preparing sgl inference engines"},
    {5, Role::start, "Initializing ", " Sgl engines"},
    {5, Role::start, "Prepared multi-node Sgl engines"},
    {5, Role::start, "SglEngine rank ", "BEFORE init"},
    {5, Role::start, "multi-node TP enabled"},
    {5, Role::done, "SglEngine rank ", ": initialized from "},
    {5, Role::done, "Successfully initialized ", " engines"},
    {6, Role::start, "set_train_queue"},
    {6, Role::start, "Loaded vocab mapping into training actors"},
    {6, Role::start, "EagleMooncakeStore initialized"},
    {6, Role::start, "Data fetcher initialized with batch_size"},
    {7, Role::start, "Starting: num_steps="},
    {7, Role::start, "Resuming from step "},
    {7, Role::start, "Saving checkpoint at step "},
    {7, Role::start, "Saving final checkpoint at step "},
    {7, Role::start, "Epoch ", " completed ("},
    {7, Role::start, " eval: loss="},
    {7, Role::start, "Max steps reached"},
};

bool contains(std::string_view s, std::string_view n) {
  return s.find(n) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool blank(std::string_view s) {
  return trim(s).empty();
}

// Bash `set -x` lines (`+ echo ...`, `++ date ...`): the recipe's own trace, never evidence.
bool is_xtrace(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] == '+') ++i;
  return i > 0 && i < s.size() && s[i] == ' ';
}

struct Regexes {
  RE2 rank_tag{R"(\[Rank (\d+)\])", re_options()};
  RE2 nccl_rank{R"(^\[rank(\d+)\]:)", re_options()};
  RE2 sgl_rank{R"(SglEngine rank (\d+):)", re_options()};
  RE2 world{R"(Device mesh \(1D\): world_size=(\d+))", re_options()};
  RE2 work{R"(WorkNCCL\(SeqNum=(\d+), OpType=(\w+))", re_options()};
  RE2 timeout{R"(Timeout\(ms\)=(\d+))", re_options()};
  RE2 field{R"(^\s+(class_name|actor_id|pid|namespace|ip|name): ?(\S*))", re_options()};
  RE2 worker_pid{R"(Worker PID: (\d+))", re_options()};
  RE2 worker_ip{R"(Worker IP address: ([0-9a-fA-F.:]+))", re_options()};
  RE2 exit_detail{R"((Worker exit type: .*?)(?: There are some potential root causes|$))",
                  re_options()};
  RE2 added{R"(Added \d+ samples to controller)", re_options()};
};

const Regexes& rx() {
  static const Regexes r;
  return r;
}

std::string cut(std::string_view s) {
  s = trim(s);
  if (s.size() > kMaxEvidenceText) s = s.substr(0, kMaxEvidenceText);
  return std::string(s);
}

// Who printed a segment: a relayed actor, a Ray system source, or the file's own process.
struct Source {
  std::string name;
  int64_t pid = -1;
  std::string ip;
  bool relayed = false;
};

class FileScanner {
 public:
  FileScanner(ScanState& st, size_t index) : st_(st), fi_(index), f_(st.files[index]) {
    year_ = f_.year;
    if (f_.kind == FileKind::worker) {
      w_ = &worker_acc();
    }
  }

  void line(std::string_view raw, uint64_t no) {
    clean_.clear();
    strip_ansi(raw, clean_);
    std::string_view s = clean_;
    if (f_.kind == FileKind::driver) ++st_.driver_lines;
    if (is_system()) {
      system_line(s, no);
      return;
    }
    Source inherited;
    bool inherit = false;
    size_t pos = 0;
    while (pos <= s.size()) {
      size_t cr = s.find('\r', pos);
      std::string_view seg = s.substr(pos, cr == std::string_view::npos ? s.npos : cr - pos);
      segment(seg, no, inherit ? &inherited : nullptr, inherited, inherit);
      if (cr == std::string_view::npos) break;
      pos = cr + 1;
    }
  }

  void finish() {
    // A file that ends inside a traceback: the traceback is still evidence of a crash.
    for (auto& [key, tb] : tbs_)
      if (tb.open) close_traceback(tb, "", key);
  }

 private:
  struct Traceback {
    bool open = false;
    Evidence start;
    std::optional<int64_t> t;
    Source src;
    std::string last_frame;  // innermost frame, with its code line
    std::string user_frame;  // innermost frame outside site-packages (the caller's own code)
    int code_for = 0;        // 1: the next code line belongs to last_frame, 2: to both
    uint64_t lines = 0;
  };
  struct ActorError {
    bool open = false;
    size_t hit = 0;
    int lines = 0;
  };

  bool is_system() const {
    return f_.kind == FileKind::raylet || f_.kind == FileKind::gcs || f_.kind == FileKind::monitor;
  }

  WorkerAcc& worker_acc() {
    for (auto& w : st_.workers)
      if (w.file == fi_) return w;
    WorkerAcc w;
    w.file = fi_;
    w.pid = f_.pid;
    st_.workers.push_back(w);
    return st_.workers.back();
  }

  Evidence make_ev(uint64_t no, std::string_view text, std::optional<int64_t> t, bool exact) {
    Evidence e;
    e.file = f_.display;
    e.line = no;
    if (t) e.time = format_civil(*t);
    e.time_exact = exact && t.has_value();
    e.text = cut(text);
    return e;
  }

  // `text`/`no`: the line, kept as evidence when it is the newest of its kind so far.
  void note_time(std::optional<int64_t> t, bool activity, uint64_t no, std::string_view text,
                 bool exact) {
    if (!t) return;
    if (activity) {
      if (!st_.first_t || *t < *st_.first_t) st_.first_t = t;
      if (!st_.activity_t || *t >= *st_.activity_t) {
        st_.activity_t = t;
        st_.activity_ev = make_ev(no, text, t, exact);
      }
    } else if (!st_.system_t || *t >= *st_.system_t) {
      st_.system_t = t;
      st_.system_source = f_.display;
      st_.system_ev = make_ev(no, text, t, exact);
    }
  }

  // Ray's own logs: their stamps say how long the cluster stayed alive; only host-OOM and
  // worker-death lines are signatures there (the rest is state dumps and RPC chatter).
  void system_line(std::string_view s, uint64_t no) {
    auto t = parse_stamp_ms(s, year_);
    if (t) {
      last_t_ = t;
      year_ = year_of(*t);
      note_time(t, false, no, s, true);
    }
    if (s.size() < 16) return;
    Source src;
    src.name = f_.kind == FileKind::raylet ? "raylet"
               : f_.kind == FileKind::gcs  ? "gcs_server"
                                           : "monitor";
    if (const core::Signature* sig = core::match_signature(s, system_rows()))
      add_hit(sig->id, ray_severity(*sig), s, no, t ? t : last_t_, t.has_value(), src, 1);
  }

  // `inherited`: the actor of a prefix-only segment earlier on this physical line.
  void segment(std::string_view seg, uint64_t no, const Source* inherited, Source& out_inherit,
               bool& inherit) {
    while (true) {
      Source src = inherited ? *inherited : Source{};
      if (f_.kind == FileKind::driver) {
        if (auto p = parse_ray_prefix(seg)) {
          src = Source{p->name, p->pid, p->ip, true};
          seg = seg.substr(p->length);
          if (blank(seg)) {
            out_inherit = src;
            inherit = true;
            return;
          }
        }
      } else if (f_.kind == FileKind::worker) {
        src.name = w_ ? w_->actor : "";
        src.pid = f_.pid;
      }
      size_t consumed = 0;
      std::string_view lead = seg;
      while (!lead.empty() && lead.front() == ' ') lead.remove_prefix(1);
      if (!lead.empty() && !std::isdigit(static_cast<unsigned char>(lead.front())) &&
          lead.front() != '[' && lead.find('%') != std::string_view::npos) {
        if (auto bar = parse_tqdm(seg, consumed)) {
          on_bar(*bar, seg.substr(0, consumed), no, src);
          seg = seg.substr(consumed);
          if (blank(seg)) return;
          inherited = nullptr;  // a glued line carries its own prefix (or none: the driver)
          continue;
        }
      }
      text(seg, no, src);
      return;
    }
  }

  void actor_seen(const Source& src, std::optional<int64_t> t, uint64_t count) {
    if (src.pid < 0) return;
    auto& acc = st_.actors[src.pid];
    acc.a.pid = src.pid;
    if (acc.a.name.empty() && !src.name.empty()) acc.a.name = src.name;
    if (acc.a.ip.empty() && !src.ip.empty()) acc.a.ip = src.ip;
    if (f_.kind == FileKind::driver)
      acc.a.driver_lines += count;
    else
      acc.a.file_lines += 1;
    if (t && (!acc.last_t || *t > *acc.last_t)) acc.last_t = t;
  }

  void set_rank(const Source& src, int rank) {
    if (src.pid < 0 || rank < 0) return;
    auto& acc = st_.actors[src.pid];
    if (acc.a.rank < 0) acc.a.rank = rank;
    if (w_ && w_->rank < 0) w_->rank = rank;
  }

  static void mark_into(PhaseAcc& p, Role role, const Evidence& ev, std::optional<int64_t> t,
                        bool exact, uint64_t count) {
    p.count += count;
    if (!p.any) {
      p.any = true;
      p.first = ev;
      p.start_t = t;
      p.start_exact = exact;
    } else if (t && (!p.start_t || *t < *p.start_t)) {
      p.first = ev;
      p.start_t = t;
      p.start_exact = exact;
    }
    if (!t || !p.last_t || *t >= *p.last_t) {
      p.last = ev;
      p.last_timed = t.has_value();
      if (t) p.last_t = t;
    }
    if (!t) p.last_untimed = ev;
    if (role == Role::done && t && (!p.done_t || *t > *p.done_t)) p.done_t = t;
    if (role == Role::all_done && t && (!p.all_done_t || *t > *p.all_done_t)) p.all_done_t = t;
  }

  // `added`: an `Added N samples to controller` line (see ScanState::if_later).
  void mark(int phase, Role role, const Evidence& ev, std::optional<int64_t> t, bool exact,
            uint64_t count, bool added = false) {
    mark_into(st_.phases[phase], role, ev, t, exact, count);
    if (phase == 1 && !added) mark_into(st_.if_later[0], role, ev, t, exact, count);
    if (phase == 7 || added) mark_into(st_.if_later[1], role, ev, t, exact, count);
    if (phase == 1 && added) st_.added_early = true;
  }

  bool later_phase_seen(int phase) const {
    for (int q = phase + 1; q <= 7; ++q)
      if (st_.phases[q].any) return true;
    return false;
  }

  void on_bar(Progress bar, std::string_view text, uint64_t no, const Source& src) {
    bar.desc = std::string(trim(bar.desc));
    std::string key = bar.desc + "|" + std::to_string(src.pid);
    int64_t el = tqdm_elapsed_s(bar);
    std::optional<int64_t> t;
    auto& state = bars_[key];
    if (el >= 0) {
      // A new bar (or a restarted one) was created after the last stamp seen before it, and
      // its elapsed counter runs from its creation.
      if (!state.seen || el < state.last_elapsed) state.base = last_t_;
      state.seen = true;
      state.last_elapsed = el;
      if (state.base) t = *state.base + el * 1000;
    }
    Evidence ev = make_ev(no, text, t, false);
    bar.where = ev;
    bar.actor = src.name;
    bar.pid = src.pid;
    bar.ip = src.ip;
    bar.time = ev.time;
    note_time(t, true, no, text, false);
    actor_seen(src, t, 0);
    if (w_) {
      ++w_->lines;
      if (t && (!w_->last_t || *t >= *w_->last_t)) w_->last_t = t;
      w_->last = ev;
    }
    const std::string& d = bar.desc;
    if (contains(d, "loading shards") || contains(d, "checkpoint shards")) {
      mark(5, Role::progress, ev, t, false, 1);
      st_.phases[5].bars[key] = {bar, t};
    } else if (d.starts_with("Capturing batches")) {
      mark(5, Role::start, ev, t, false, 1);
    } else if (d == "Training") {
      mark(7, Role::progress, ev, t, false, 1);
      st_.phases[7].bars[key] = {bar, t};
      if (!st_.training_t || !t || *t >= *st_.training_t) {
        st_.training = bar;
        st_.training_timed = t.has_value();
        if (t) st_.training_t = t;
      }
      if (!t) st_.training_untimed = bar;
      if (bar.total > 0 && bar.n >= bar.total) st_.bar_complete = true;
      for (const auto& [k, v] : bar.postfix) {
        if (k == "loss" && (v == "nan" || v == "NaN" || v == "-nan" || v == "inf")) {
          add_hit("nan_loss", ray_severity(*core::find_signature("nan_loss")), text, no, t, false,
                  src, 1)
              .detail = fmt::format("step {}/{}", bar.n, bar.total);
        }
      }
    }
  }

  Hit& add_hit(std::string_view kind, std::string_view severity, std::string_view text, uint64_t no,
               std::optional<int64_t> t, bool exact, const Source& src, uint64_t count) {
    Hit h;
    h.kind = std::string(kind);
    h.severity = std::string(severity);
    h.ev = make_ev(no, text, t, exact);
    h.t = t;
    h.actor = src.name;
    h.pid = src.pid;
    h.ip = src.ip;
    h.count = count;
    h.file = fi_;
    h.in_worker_file = f_.kind == FileKind::worker;
    h.driver_own = f_.kind == FileKind::driver && !src.relayed;
    if (h.pid >= 0) {
      h.rank_pid = h.pid;
      auto it = st_.actors.find(h.pid);
      if (it != st_.actors.end()) h.rank = it->second.a.rank;
    }
    st_.hits.push_back(std::move(h));
    return st_.hits.back();
  }

  void close_traceback(Traceback& tb, std::string_view exception_line, int64_t key) {
    tb.open = false;
    (void)key;
    std::string_view ex = trim(exception_line);
    // An exception that matched a signature already became that finding; the traceback only
    // adds where it was raised.
    if (last_hit_from_exception_) {
      st_.hits[*last_hit_from_exception_].frame =
          tb.user_frame.empty() ? tb.last_frame : tb.user_frame;
      return;
    }
    std::string_view severity = tb.src.relayed || f_.kind != FileKind::driver ? "error" : "fatal";
    Hit& h = add_hit("traceback", severity, ex.empty() ? std::string_view(tb.start.text) : ex,
                     tb.start.line, tb.t, tb.start.time_exact, tb.src, 1);
    if (ex.empty()) h.ev.text = cut(tb.start.text + " (the file ends inside the traceback)");
    h.ev.line = tb.start.line;
    h.frame = tb.user_frame.empty() ? tb.last_frame : tb.user_frame;
  }

  void text(std::string_view s, uint64_t no, const Source& src) {
    uint64_t count = strip_dedup(s);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (s.empty()) return;
    if (f_.kind == FileKind::worker && s.front() == ':') {
      // Ray's control tokens: `:actor_name:TrainerActor`, `:job_id:01000000`, `:task_name:...`.
      if (s.starts_with(":actor_name:") && w_) {
        w_->actor = std::string(trim(s.substr(12)));
        auto& acc = st_.actors[f_.pid];
        acc.a.pid = f_.pid;
        if (acc.a.name.empty()) acc.a.name = w_->actor;
      }
      if (s.starts_with(":job_id:") || s.starts_with(":actor_name:") ||
          s.starts_with(":task_name:") || s.starts_with(":task_attempt_"))
        return;
    }
    if (f_.kind == FileKind::driver && !src.relayed && is_xtrace(s)) return;

    auto t = parse_stamp_ms(s, year_);
    bool exact = t.has_value();
    if (t) {
      last_t_ = t;
      year_ = year_of(*t);
    }
    auto when = t ? t : last_t_;
    note_time(t, true, no, s, true);
    Source who = src;
    if (w_ && who.name.empty()) who.name = w_->actor;
    actor_seen(who, t, count);
    Evidence ev = make_ev(no, s, when, exact);
    if (w_) {
      ++w_->lines;
      if (t && (!w_->last_t || *t >= *w_->last_t)) w_->last_t = t;
      w_->last = ev;
    }

    // Ranks: TorchSpec's `[Rank k]` (trainer dp rank), NCCL's `[rankk]:`, `SglEngine rank k:`.
    int rank = -1;
    if (contains(s, "ank") &&
        (RE2::PartialMatch(s, rx().nccl_rank, &rank) ||
         RE2::PartialMatch(s, rx().rank_tag, &rank) || RE2::PartialMatch(s, rx().sgl_rank, &rank)))
      set_rank(who, rank);
    int ws = -1;
    if (contains(s, "Device mesh") && RE2::PartialMatch(s, rx().world, &ws) && ws > st_.world_size)
      st_.world_size = ws;

    int64_t key = who.relayed || f_.kind == FileKind::worker ? who.pid : -1;

    // Continuation of Ray's actor-death message: indented `class_name: X`, `pid: N`, `ip: A`.
    auto ae = aerr_.find(key);
    if (ae != aerr_.end() && ae->second.open) {
      Hit& h = st_.hits[ae->second.hit];
      std::string fname, fval;
      if (++ae->second.lines <= 12 && RE2::PartialMatch(s, rx().field, &fname, &fval)) {
        if (fname == "class_name") h.actor = fval;
        if (fname == "pid") {
          try {
            h.pid = std::stoll(fval);
          } catch (...) {
          }
        }
        if (fname == "ip") h.ip = fval;
        return;
      }
      ae->second.open = false;
      if (s.starts_with("The actor is dead because") || s.starts_with("The actor never ran")) {
        h.detail = cut(s);
        return;
      }
    }

    // Tracebacks: frames and code lines are indented; the first unindented line closes them.
    auto& tb = tbs_[key];
    last_hit_from_exception_.reset();
    bool closing = false;
    if (tb.open) {
      bool indented = s.front() == ' ' || s.front() == '\t';
      if (indented || s.starts_with("Traceback (most recent call last)") ||
          s.starts_with("During handling of the above exception") ||
          s.starts_with("The above exception was the direct cause")) {
        ++tb.lines;
        std::string_view st = trim(s);
        if (st.starts_with("File ")) {
          tb.last_frame = std::string(st);
          bool library = contains(st, "-packages/") || contains(st, "\"<frozen");
          if (!library) tb.user_frame = tb.last_frame;
          tb.code_for = library ? 1 : 2;
        } else if (tb.code_for && !st.empty() &&
                   st.find_first_not_of("^~ ") != std::string_view::npos) {
          std::string code = cut(st).substr(0, 160);
          tb.last_frame += ": " + code;
          if (tb.code_for == 2) tb.user_frame += ": " + code;
          tb.code_for = 0;
        }
        if (contains(s, "set_train_queue")) mark(6, Role::start, ev, when, exact, 1);
        return;
      }
      closing = true;
    }

    bool matched = match_signatures(s, no, when, exact, who, count);
    if (closing) {
      if (matched) last_hit_from_exception_ = st_.hits.size() - 1;
      close_traceback(tb, s, key);
      last_hit_from_exception_.reset();
    }
    if (contains(s, "Traceback (most recent call last)")) {
      tb = Traceback{};
      tb.open = true;
      tb.start = ev;
      tb.t = when;
      tb.src = who;
    }

    match_markers(s, ev, when, exact, count);
    if (f_.kind == FileKind::driver && !src.relayed && s == "Training completed!") {
      st_.finished = true;
      st_.finished_ev = ev;
    }
  }

  bool match_signatures(std::string_view s, uint64_t no, std::optional<int64_t> when, bool exact,
                        const Source& who, uint64_t count) {
    if (contains(s, "Failed to establish connection to the metrics exporter agent")) {
      // Harmless (seed 004): Ray could not reach its metrics agent. Counted, never a finding.
      st_.benign += count;
      if (!st_.benign_first) st_.benign_first = make_ev(no, s, when, exact);
      return false;
    }
    if (const core::Signature* sig = core::match_signature(s, line_rows())) {
      std::string_view kind = sig->id;
      Hit& h = add_hit(kind, ray_severity(*sig), s, no, when, exact, who, count);
      if (kind == "nccl_timeout" && contains(s, "Watchdog caught collective operation timeout")) {
        h.watchdog = true;
        RE2::PartialMatch(s, rx().work, &h.seq, &h.op);
        RE2::PartialMatch(s, rx().timeout, &h.timeout_ms);
        int r = -1;
        if (RE2::PartialMatch(s, rx().nccl_rank, &r) || RE2::PartialMatch(s, rx().rank_tag, &r)) {
          h.rank = r;
          h.rank_pid = -1;
        }
        if (w_ && !w_->watchdog) {
          w_->watchdog = true;
          w_->watchdog_ev = h.ev;
        }
      }
      if (kind == "actor_died") {
        int64_t pid = -1;
        std::string ip, detail;
        if (RE2::PartialMatch(s, rx().worker_pid, &pid)) h.pid = pid;
        if (RE2::PartialMatch(s, rx().worker_ip, &ip)) h.ip = ip;
        if (RE2::PartialMatch(s, rx().exit_detail, &detail)) h.detail = cut(detail);
        if (contains(s, "RayActorError") || contains(s, "ActorDiedError")) {
          // The fields that name the actor follow on their own lines.
          h.pid = -1;
          h.ip.clear();
          h.actor.clear();
          int64_t key = who.relayed || f_.kind == FileKind::worker ? who.pid : -1;
          aerr_[key] = ActorError{true, st_.hits.size() - 1, 0};
        }
        if (who.name == "raylet") h.actor.clear();
      }
      return true;
    }
    return false;
  }

  void match_markers(std::string_view s, const Evidence& ev, std::optional<int64_t> when,
                     bool exact, uint64_t count) {
    if (contains(s, "samples to controller") && RE2::PartialMatch(s, rx().added)) {
      // Printed when the training loop starts (after phases 2-6); phase 1 only when nothing
      // later has been seen, as the docs' table has it.
      mark(later_phase_seen(1) ? 7 : 1, Role::start, ev, when, exact, count, true);
      return;
    }
    for (const auto& row : kMarkers) {
      if (!contains(s, row.needle) || (!row.also.empty() && !contains(s, row.also))) continue;
      mark(row.phase, row.role, ev, when, exact, count);
      if (row.phase2) mark(row.phase2, row.role, ev, when, exact, count);
      return;
    }
  }

  ScanState& st_;
  size_t fi_;
  const InputFile& f_;
  WorkerAcc* w_ = nullptr;
  int year_ = 0;
  std::optional<int64_t> last_t_;
  std::string clean_;
  struct BarState {
    bool seen = false;
    int64_t last_elapsed = 0;
    std::optional<int64_t> base;
  };
  std::map<std::string, BarState> bars_;
  std::map<int64_t, Traceback> tbs_;
  std::map<int64_t, ActorError> aerr_;
  std::optional<size_t> last_hit_from_exception_;
};

}  // namespace

void scan_file(ScanState& st, size_t index) {
  FileScanner sc(st, index);
  try {
    input::for_each_line(st.files[index].path.string(), [&](std::string_view line, uint64_t no) {
      sc.line(line, no);
      return true;
    });
  } catch (const std::exception& e) {
    st.problems.push_back({st.files[index].display, e.what()});
  }
  sc.finish();
}

ScanState scan_one(const InputFile& f) {
  ScanState st;
  st.files.push_back(f);
  scan_file(st, 0);
  compact_hits(st.hits);
  return st;
}

}  // namespace alog::ray::detail
