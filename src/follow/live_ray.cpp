// What a ray job's lines say about its components' progress (follow.hpp).
//
// Components (seed 004, FORMATS-serving-and-ray.md §4-5):
//   "Ray phase"              the seven TorchSpec start-up phases: progress at every phase marker (the
//                            one-shot analysis's code-emitted markers, src/ray/scan.cpp), detail
//                            "phase N: <name>", typical_s the phase's expected duration (seed 004:
//                            seconds / ~1 min / 5-15 min, as the one-shot analysis bounds them);
//                            finished when training starts (phase 7).
//   "training"               the driver's `Training:` bar: progress when its step count moves (loss
//                            from the postfix is the sample `training.loss`), checkpoint and eval
//                            lines; finished when the bar is full or `Training completed!`.
//   "actor <Name> pid=<N>"   one per Ray actor (relayed `(Name pid=N[, ip=A])` lines, or its own
//                            worker-*.{err,out} file): its start-up (init markers, its progress bars
//                            such as SglEngine's shard loading), finished at its own "initialized"
//                            marker or when training starts.
//   "actor <Name> pid=<N> steps"  the actor's step / iteration lines, when it prints any.
//   "raylet <session>"       raylet.out still growing (on_growth).
// The job ends at `Training completed!`, `ray job submit`'s `Job '…' succeeded|failed|stopped`, or
// the driver's own uncaught traceback (its closing exception line). Failure lines (NCCL watchdog,
// OOM, actor deaths, native crashes) are activity of the component whose line they are.
//
// The same actor line may arrive twice (relayed in the driver log and in the actor's own worker
// file): a ring of the latest 256 progress lines' hashes keeps it from counting twice. Bars are
// `\r`-separated updates on one physical line: each segment is read, a line glued after the last
// one is read on its own, and only a moved count is progress.
//
// Cost: one memchr for ESC, one for '\r'; the marker table runs only on INFO lines, the step regex
// only on lines holding "step" or "iter", the failure catalogue only on lines holding one of a few
// literals. State: per file, per actor, per phase; nothing grows with the number of lines.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/follow.hpp"
#include "analyze_logs/util.hpp"

namespace alog::follow {

namespace {

using Type = Signal::Type;

bool has(std::string_view s, std::string_view n) {
  return s.find(n) != std::string_view::npos;
}

std::string_view base_name(std::string_view path) {
  size_t s = path.find_last_of('/');
  return s == std::string_view::npos ? path : path.substr(s + 1);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}


std::optional<int64_t> leading_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return v;
}

// A tqdm bar: `desc: NN%|…| n/total [elapsed<remaining, rate, postfix]` or SGLang's
// `desc: NN% Completed | n/total [...]`. `end` is the byte after its closing ']' (the bar's end
// when the bracket is missing: a bar cut mid-way).
struct Bar {
  std::string_view desc;
  int64_t n = 0, total = 0;
  std::string_view bracket;  // inside [...]
  size_t end = 0;
  bool closed = false;  // its ']' was seen (else the bar was cut mid-way)
};
std::optional<Bar> parse_bar(std::string_view s) {
  size_t pct = s.find("%|");
  size_t pct2 = s.find("% Completed |");
  size_t p = std::min(pct, pct2);
  if (p == std::string_view::npos || p > 200) return std::nullopt;
  Bar b;
  size_t colon = s.rfind(": ", p);
  b.desc = trim(s.substr(0, colon == std::string_view::npos ? 0 : colon));
  size_t open = s.find(" [", p);
  if (open == std::string_view::npos) return std::nullopt;
  size_t st = open;
  while (st > p && (std::isdigit(static_cast<unsigned char>(s[st - 1])) || s[st - 1] == '/')) --st;
  std::string_view nt = s.substr(st, open - st);
  size_t slash = nt.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  auto n = leading_int(nt.substr(0, slash)), t = leading_int(nt.substr(slash + 1));
  if (!n || !t || *n < 0 || *t <= 0 || *n > *t) return std::nullopt;
  b.n = *n;
  b.total = *t;
  size_t close = s.find(']', open);
  if (close == std::string_view::npos) {
    b.bracket = s.substr(open + 2);
    b.end = s.size();
  } else {
    b.bracket = s.substr(open + 2, close - open - 2);
    b.end = close + 1;
    b.closed = true;
  }
  return b;
}

// `name=value` from a tqdm postfix; nullopt when the value may have been cut (the last one of a
// bar with no closing bracket).
std::optional<double> postfix_value(std::string_view bracket, std::string_view name, bool closed) {
  size_t at = 0;
  while ((at = bracket.find(name, at)) != std::string_view::npos) {
    if ((at == 0 || bracket[at - 1] == ' ') && at + name.size() < bracket.size() &&
        bracket[at + name.size()] == '=') {
      std::string_view v = bracket.substr(at + name.size() + 1);
      double d = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (ec != std::errc() || p == v.data()) return std::nullopt;
      if (p == v.data() + v.size() ? !closed : *p != ',') return std::nullopt;
      return d;
    }
    at += name.size();
  }
  return std::nullopt;
}

// Seconds per step from a tqdm rate (`4.00s/step`, `2.50step/s`, `10.02s/it`, `1.30it/s`) in the
// bracket; nullopt when there is none, it is `?`, or it may be cut.
std::optional<double> seconds_per_unit(std::string_view bracket, bool closed) {
  size_t comma = bracket.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view rate = bracket.substr(comma + 2);
  size_t end = rate.find(',');
  if (end == std::string_view::npos) {
    if (!closed) return std::nullopt;
  } else {
    rate = rate.substr(0, end);
  }
  rate = trim(rate);
  double v = 0;
  auto [p, ec] = std::from_chars(rate.data(), rate.data() + rate.size(), v);
  if (ec != std::errc() || p == rate.data() || !std::isfinite(v) || v <= 0) return std::nullopt;
  std::string_view unit(p, static_cast<size_t>(rate.data() + rate.size() - p));
  if (unit.starts_with("s/")) return v;
  if (unit.ends_with("/s")) return 1.0 / v;
  return std::nullopt;
}

// `(Name pid=N[, ip=A]) `, `(pid=N) `, `(raylet) `, `(raylet, ip=A) `, `(autoscaler +1m2s) `.
struct Prefix {
  std::string_view name;  // "SglEngine", "raylet", "" for `(pid=N)`
  int64_t pid = -1;
  size_t length = 0;
};
std::optional<Prefix> parse_prefix(std::string_view s) {
  if (s.size() < 4 || s[0] != '(') return std::nullopt;
  size_t close = s.find(')');
  if (close == std::string_view::npos || close > 200) return std::nullopt;
  std::string_view in = s.substr(1, close - 1);
  Prefix p;
  p.length = close + 1;
  if (p.length < s.size() && s[p.length] == ' ') ++p.length;
  if (in == "raylet" || in.starts_with("raylet, ip=") || in.starts_with("autoscaler")) {
    p.name = in.starts_with("autoscaler") ? "autoscaler" : "raylet";
    return p;
  }
  size_t pid = in.find("pid=");
  if (pid == std::string_view::npos) return std::nullopt;
  if (pid > 0 && in[pid - 1] != ' ') return std::nullopt;
  p.name = trim(in.substr(0, pid));
  for (char c : p.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '-'))
      return std::nullopt;
  auto v = leading_int(in.substr(pid + 4));
  if (!v || *v < 0) return std::nullopt;
  p.pid = *v;
  return p;
}

// Ray's ` [repeated Nx across cluster]` suffix (and what follows it) removed.
std::string_view strip_dedup(std::string_view s) {
  size_t r = s.find("[repeated ");
  if (r != std::string_view::npos && (r == 0 || s[r - 1] == ' ') && has(s.substr(r), "x across cluster]"))
    return s.substr(0, r == 0 ? 0 : r - 1);
  return s;
}

bool is_noise(std::string_view s) {
  return has(s, "Failed to establish connection to the metrics exporter agent") ||
         has(s, "NCCL INFO");
}

// A failure line: a literal prefilter, then the shared catalogue. The row's title, or empty.
std::string_view failure_of(std::string_view s) {
  static constexpr std::string_view literals[] = {
      "rror",   "xception", "Traceback", "emory",  "Killed", "NCCL", "terminate called",
      "Fatal", "Segmentation", "SIGABRT", "died", "nan", "OOM", "Watchdog"};
  if (!contains_any(s, literals) || is_noise(s)) return {};
  if (const core::Signature* sig = core::match_signature(s)) return sig->title;
  return {};
}

// The phases (seed 004) and the one-shot analysis's bound on each (src/ray/analyze.cpp).
constexpr std::string_view kPhaseName[8] = {"",
                                            "Config & dataset",
                                            "Placement groups",
                                            "Mooncake master",
                                            "TrainerActor init",
                                            "SglEngine init",
                                            "Queue wiring",
                                            "Training"};
constexpr double kPhaseTypical[8] = {0, 300, 120, 120, 180, 900, 120, 0};

enum class Mark : uint8_t { start, done, all_done };
struct MarkerRow {
  int phase;
  Mark role;
  std::string_view needle;
  std::string_view also = {};
};
// The one-shot analysis's table (src/ray/scan.cpp kMarkers; docs/RAY.md has the reasons).
constexpr MarkerRow kMarkers[] = {
    {1, Mark::start, "Detected nested config format"},
    {1, Mark::start, "Max sequence length allowed for training"},
    {1, Mark::start, "cached tokenized samples"},
    {1, Mark::start, "samples, tokenizing with"},
    {1, Mark::start, "Training steps (optimizer steps)"},
    {1, Mark::start, "Generated vocab mapping"},
    {1, Mark::start, " eval samples from "},
    {2, Mark::start, "Connecting to existing Ray cluster"},
    {2, Mark::start, "Started a local Ray instance"},
    {2, Mark::start, "Connected to Ray cluster"},
    {2, Mark::start, "No existing Ray cluster found"},
    {2, Mark::start, "Ray cluster has ", " GPUs (need "},
    {2, Mark::start, "Waiting for ", " GPUs (currently "},
    {2, Mark::start, "Ray cluster GPUs: "},
    {2, Mark::start, "Creating placement groups"},
    {2, Mark::start, "placement group with "},
    {2, Mark::start, "placement group..."},
    {2, Mark::start, "actual_bundle_index:"},
    {3, Mark::start, "Auto-resolved mooncake master_server_address"},
    {3, Mark::start, "Auto-resolved mooncake metadata_port"},
    {3, Mark::start, "Starting mooncake master on port"},
    {3, Mark::done, "mooncake master started"},
    {3, Mark::start, "mooncake master actor started"},
    {3, Mark::start, "Mooncake services reachable"},
    {4, Mark::start, "training actors and ", "to initialize in parallel"},
    {4, Mark::start, "Device mesh (1D)"},
    {4, Mark::start, "raft model: ", " trainable"},
    {4, Mark::start, "Eagle3 model initialized with FSDP2"},
    {4, Mark::start, "TargetLMHead initialized and synced"},
    {4, Mark::all_done, "training actors and ", "engines initialized"},
    {5, Mark::start, "Preparing sgl inference engines"},
    {5, Mark::start, "Initializing ", " Sgl engines"},
    {5, Mark::start, "Prepared multi-node Sgl engines"},
    {5, Mark::start, "SglEngine rank ", "BEFORE init"},
    {5, Mark::start, "multi-node TP enabled"},
    {5, Mark::done, "SglEngine rank ", ": initialized from "},
    {5, Mark::start, "Successfully initialized ", " engines"},
    {6, Mark::start, "set_train_queue"},
    {6, Mark::start, "Loaded vocab mapping into training actors"},
    {6, Mark::start, "EagleMooncakeStore initialized"},
    {6, Mark::done, "Data fetcher initialized with batch_size"},
    {7, Mark::start, "Starting: num_steps="},
    {7, Mark::start, "Resuming from step "},
    {7, Mark::start, "Saving checkpoint at step "},
    {7, Mark::start, "Saving final checkpoint at step "},
    {7, Mark::start, "Epoch ", " completed ("},
    {7, Mark::start, " eval: loss="},
    {7, Mark::start, "Max steps reached"},
};

const MarkerRow* match_marker(std::string_view s) {
  for (const auto& row : kMarkers)
    if (has(s, row.needle) && (row.also.empty() || has(s, row.also))) return &row;
  return nullptr;
}

// The message of a TorchSpec / Ray Python line: after `[stamp] file.py:N LEVEL ` or
// `stamp\tLEVEL file.py:N -- `; the line itself otherwise.
std::string_view message_of(std::string_view s) {
  for (std::string_view lvl : {" INFO ", " WARNING ", " ERROR ", " DEBUG "}) {
    size_t at = s.find(lvl);
    if (at != std::string_view::npos && at < 80) {
      std::string_view m = s.substr(at + lvl.size());
      if (size_t dash = m.find(" -- "); dash != std::string_view::npos && dash < 40)
        m.remove_prefix(dash + 4);
      return m;
    }
  }
  if (size_t tab = s.find("\tINFO "); tab != std::string_view::npos && tab < 40) {
    std::string_view m = s.substr(tab + 6);
    if (size_t dash = m.find(" -- "); dash != std::string_view::npos && dash < 40) m.remove_prefix(dash + 4);
    return m;
  }
  return s;
}

// A TorchSpec / Python logging record at ERROR level (`[ts] file.py:N ERROR …`,
// `ts\tERROR file.py:N -- …`).
bool is_error_record(std::string_view s) {
  size_t at = s.find("ERROR ");
  return at != std::string_view::npos && at > 0 && at < 80 && (s[at - 1] == ' ' || s[at - 1] == '\t') &&
         (s[0] == '[' || std::isdigit(static_cast<unsigned char>(s[0])) != 0);
}

std::string cut(std::string_view s, size_t max = 160) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // UTF-8 safe
  return std::string(s.substr(0, n)) + "…";
}

enum class FileKind : uint8_t { driver, worker, raylet, system };

struct FileInfo {
  FileKind kind = FileKind::driver;
  int64_t pid = -1;        // worker files
  std::string actor;       // worker files: from `:actor_name:`
  std::string raylet;      // "raylet <session>"
  bool in_traceback = false;  // driver: inside its own traceback
  bool traceback_logged = false;      // ... printed by a logger after an ERROR record
  bool last_was_error_record = false;  // the driver's previous own line was an ERROR record
};

struct ActorState;
// Who a line is from, when on_line already read its Ray prefix.
struct Source {
  bool given = false;
  ActorState* actor = nullptr;  // (Name pid=N)
  bool raylet = false;          // (raylet), (autoscaler …)
};

struct ActorState {
  std::string name;     // "actor SglEngine pid=1"
  std::string steps;    // "actor SglEngine pid=1 steps"
  bool done = false;    // its start-up finished
  bool progressed = false;  // it made progress once
  std::map<std::string, int64_t, std::less<>> bars;  // bar desc -> last count (a few per actor)
  int64_t step = -1;
};

class RayClassifier final : public Classifier {
 public:
  RayClassifier()
      : step_re_(R"((?i)\b(?:global[ _]step|step|iteration|iter)\s*[:=#]?\s*(\d+))") {}

  void on_line(std::string_view file, std::string_view line, std::vector<Signal>& out) override {
    FileInfo& f = info(file);
    if (line.empty()) return;
    if (f.kind == FileKind::raylet || f.kind == FileKind::system) {
      if (f.kind == FileKind::raylet) {
        std::string_view s = trim(without_ansi(line, buf_));
        if (std::string_view fail = failure_of(s); !fail.empty())
          push(out, Type::activity, f.raylet, std::string(fail));
      }
      return;
    }
    std::string_view s = without_ansi(line, buf_);
    if (s.empty()) return;  // colour codes only
    // The Ray prefix names the source of every `\r` segment after it.
    Source src;
    if (f.kind == FileKind::driver && s[0] == '(') {
      if (auto p = parse_prefix(s)) {
        s.remove_prefix(p->length);
        src.given = true;
        if (p->pid >= 0)
          src.actor = actor(p->name, p->pid);
        else
          src.raylet = true;
      }
    }
    // `\r`-separated bar updates: each segment on its own.
    if (!std::memchr(s.data(), '\r', s.size())) return text(f, s, 0, src, out);
    size_t pos = 0;
    while (pos <= s.size()) {
      size_t r = s.find('\r', pos);
      std::string_view seg = s.substr(pos, r == std::string_view::npos ? std::string_view::npos : r - pos);
      if (!seg.empty()) text(f, seg, 0, src, out);
      if (r == std::string_view::npos) break;
      pos = r + 1;
    }
  }

  void on_growth(std::string_view file, uint64_t bytes, std::vector<Signal>& out) override {
    FileInfo& f = info(file);
    if (f.kind != FileKind::raylet || bytes == 0) return;
    push(out, Type::progress, f.raylet, fmt::format("+{} bytes", bytes));
  }

 private:
  FileInfo& info(std::string_view file) {
    if (last_ && last_name_ == file) return *last_;
    auto it = files_.find(file);
    if (it == files_.end()) it = files_.emplace(std::string(file), make_info(file)).first;
    last_name_ = it->first;
    last_ = &it->second;
    return it->second;
  }

  static FileInfo make_info(std::string_view file) {
    FileInfo f;
    std::string_view b = base_name(file);
    if (b == "raylet.out" || b == "raylet.err") {
      f.kind = FileKind::raylet;
      // Named by the session and the folder that holds it (`node-10.0.0.2/session_latest`):
      // each node has its own session folder, often all called session_latest.
      std::string_view dir = file.substr(0, file.size() - b.size());
      if (dir.ends_with("/")) dir.remove_suffix(1);
      if (dir.ends_with("/logs")) dir.remove_suffix(5);
      else if (dir == "logs") dir = {};
      size_t cut = dir.find_last_of('/');
      if (cut != std::string_view::npos && cut > 0) {
        size_t up = dir.find_last_of('/', cut - 1);
        if (up != std::string_view::npos) dir.remove_prefix(up + 1);
      }
      f.raylet = dir.empty() ? "raylet" : fmt::format("raylet {}", dir);
    } else if ((b.starts_with("worker-") || b.starts_with("io_worker-")) &&
               (b.ends_with(".out") || b.ends_with(".err"))) {
      f.kind = FileKind::worker;
      std::string_view stem = b.substr(0, b.size() - 4);
      size_t dash = stem.rfind('-');
      if (dash != std::string_view::npos)
        if (auto pid = leading_int(stem.substr(dash + 1)); pid && *pid >= 0) f.pid = *pid;
    } else if (b.starts_with("gcs_server") || b.starts_with("monitor") || b.starts_with("dashboard") ||
               b.starts_with("log_monitor") || b.starts_with("python-core-") || b.starts_with("event_") ||
               b.starts_with("runtime_env") || b.starts_with("raylet")) {
      f.kind = FileKind::system;
    }
    return f;
  }

  static void push(std::vector<Signal>& out, Type t, std::string_view component, std::string detail = {},
                   double typical_s = 0) {
    Signal s;
    s.type = t;
    s.component = std::string(component);
    s.detail = std::move(detail);
    s.typical_s = typical_s;
    out.push_back(std::move(s));
  }

  // nullptr past kMaxActors: a log of made-up prefixes must not grow the state without bound.
  static constexpr size_t kMaxActors = 4096;
  ActorState* actor(std::string_view name, int64_t pid) {
    auto pit = actors_.find(pid);
    if (pit == actors_.end()) {
      if (actor_count_ >= kMaxActors) return nullptr;
      pit = actors_.emplace(pid, std::map<std::string, ActorState, std::less<>>{}).first;
    }
    auto& by_name = pit->second;
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      ActorState a;
      a.name = name.empty() ? fmt::format("actor pid={}", pid) : fmt::format("actor {} pid={}", name, pid);
      a.steps = a.name + " steps";
      if (actor_count_ >= kMaxActors) return nullptr;
      ++actor_count_;
      it = by_name.emplace(std::string(name), std::move(a)).first;
    }
    return &it->second;
  }

  // A progress line seen lately (the same actor line relayed by the driver and in its own file).
  bool seen_lately(std::string_view component, std::string_view text) {
    uint64_t h = std::hash<std::string_view>{}(text) * 1000003u ^ std::hash<std::string_view>{}(component);
    for (uint64_t x : ring_)
      if (x == h) return true;
    ring_[ring_at_++ % ring_.size()] = h;
    return false;
  }

  // The component the driver's own lines belong to.
  const char* driver_component() const { return phase_done_ ? "training" : "Ray phase"; }

  void reach_training(std::vector<Signal>& out) {
    if (phase_done_) return;
    phase_done_ = true;
    reached_ = 7;
    push(out, Type::progress, "Ray phase", "phase 7: Training");
    push(out, Type::finished, "Ray phase", "phase 7: Training");
    // Actors whose own "initialized" line was folded into another's by Ray's de-duplication.
    for (auto& [pid, by_name] : actors_)
      for (auto& [name, a] : by_name)
        if (!a.done) {
          a.done = true;
          push(out, Type::finished, a.name, "training started");
        }
  }

  // One line (or one `\r` segment) of a driver or worker file, ANSI-free.
  void text(FileInfo& f, std::string_view s, int depth, Source src, std::vector<Signal>& out) {
    if (s.empty() || depth > 2) return;
    ActorState* a = src.actor;
    bool raylet_relay = src.raylet;
    if (src.given) {
      // The line's prefix was read by on_line.
    } else if (f.kind == FileKind::worker) {
      if (s[0] == ':') {  // control tokens
        if (s.starts_with(":actor_name:")) f.actor = std::string(trim(s.substr(12)).substr(0, 120));
        return;
      }
      a = actor(f.actor, f.pid);
    } else {
      if (depth == 0 && s.size() > 1 && s[0] == '+' && (s[1] == ' ' || s[1] == '+')) return;  // set -x
      if (s[0] == '(') {
        if (auto p = parse_prefix(s)) {
          s.remove_prefix(p->length);
          if (p->pid >= 0)
            a = actor(p->name, p->pid);
          else
            raylet_relay = true;
        }
      }
    }
    if (a && !a->done && phase_done_) {
      // An actor first heard of after training started (a restart, a pid de-duplication hid):
      // its start-up is over.
      a->done = true;
      push(out, Type::finished, a->name, "training started");
    }
    s = strip_dedup(s);
    if (s.empty()) return;  // a prefix with nothing after it
    const bool indented = s[0] == ' ' || s[0] == '\t';
    std::string_view t = trim(s);
    if (t.empty()) return;

    // A progress bar (and whatever was glued after it).
    if (std::memchr(t.data(), '%', std::min<size_t>(t.size(), 220))) {
      if (auto bar = parse_bar(t)) {
        bar_line(f, a, *bar, out);
        // A line glued after the bar has its own source (its own prefix, or the driver).
        if (bar->end < t.size()) text(f, t.substr(bar->end), depth + 1, Source{}, out);
        return;
      }
    }
    if (raylet_relay) {
      std::string_view fail = failure_of(t);
      push(out, Type::activity, driver_component(), std::string(fail.empty() ? "raylet" : fail));
      return;
    }
    const bool own = a == nullptr;  // the driver's own line
    if (own && f.kind == FileKind::driver) {
      if (driver_end(f, t, indented, out)) return;
    }
    if (is_noise(t)) return;
    std::string_view fail = failure_of(t);
    if (!fail.empty()) {
      push(out, Type::activity, a ? std::string_view(a->name) : std::string_view(driver_component()),
           std::string(fail), a && !a->progressed && !a->done ? kPhaseTypical[5] : 0);
      return;
    }
    // Phase markers are INFO lines.
    if (has(t, "INFO")) {
      std::string_view m = message_of(t);
      if (const MarkerRow* row = match_marker(m); row && marker(f, a, *row, m, out)) return;
      if (has(m, "samples to controller") && m.starts_with("Added ")) {
        if (reached_ == 0 || reached_ == 1) {
          MarkerRow r{1, Mark::start, "Added N samples to controller"};
          if (marker(f, a, r, m, out)) return;
        } else {
          reach_training(out);
          return;
        }
      }
    }
    // An actor's step lines.
    if (a && (has(t, "step") || has(t, "Step") || has(t, "iter") || has(t, "Iter"))) {
      int64_t n = -1;
      if (RE2::PartialMatch(re2::StringPiece(t.data(), t.size()), step_re_, &n) && n >= 0) {
        if (n != a->step) {
          a->step = n;
          push(out, Type::progress, a->steps, fmt::format("step {}", n));
        }
        return;
      }
    }
    if (a) {
      // Before its first progress an actor's lines come during start-up, which seed 004 puts at
      // up to 15 minutes (phase 5).
      push(out, Type::activity, a->name, {}, a->progressed || a->done ? 0 : kPhaseTypical[5]);
    } else if (f.kind == FileKind::driver) {
      push(out, Type::activity, driver_component());
    }
  }

  // A phase marker: progress of the phase (and of its actor). True when handled.
  bool marker(FileInfo&, ActorState* a, const MarkerRow& row, std::string_view m,
              std::vector<Signal>& out) {
    const int p = row.phase;
    const bool fresh = !seen_lately(a ? std::string_view(a->name) : std::string_view("driver"), m);
    if (p == 7) {
      if (fresh && phase_done_) push(out, Type::progress, "training", cut(m));
      reach_training(out);
      return true;
    }
    if (!fresh) return true;
    if (!phase_done_) {
      reached_ = std::max(reached_, p);
      push(out, Type::progress, "Ray phase", fmt::format("phase {}: {}", p, kPhaseName[p]),
           kPhaseTypical[reached_]);
    }
    if (a && !a->done) {
      if (row.role == Mark::done) {
        a->done = a->progressed = true;
        push(out, Type::progress, a->name, cut(m));
        push(out, Type::finished, a->name, cut(m));
      } else {
        a->progressed = true;
        push(out, Type::progress, a->name, cut(m), kPhaseTypical[p]);
      }
    }
    return true;
  }

  void bar_line(FileInfo&, ActorState* a, const Bar& b, std::vector<Signal>& out) {
    if (!a) {
      if (b.desc == "Training") {
        if (b.n == training_n_) return;
        const int64_t steps = training_n_ >= 0 && b.n > training_n_ ? b.n - training_n_ : 0;
        training_n_ = b.n;
        reach_training(out);
        push(out, Type::progress, "training", fmt::format("step {}/{}", b.n, b.total));
        // The bar's own rate measures the time these steps took: the component's pace, also in
        // catch-up.
        if (auto per = seconds_per_unit(b.bracket, b.closed); per && steps > 0)
          out.back().measured_s = *per * static_cast<double>(steps);
        if (auto loss = postfix_value(b.bracket, "loss", b.closed); loss && std::isfinite(*loss)) {
          Signal s;
          s.type = Type::sample;
          s.component = "training";
          s.metric = "training.loss";
          s.value = *loss;
          out.push_back(std::move(s));
        }
        if (b.n == b.total && !training_done_) {
          training_done_ = true;
          push(out, Type::finished, "training", fmt::format("step {}/{}", b.n, b.total));
        }
        return;
      }
      // Another driver bar (dataset tokenizing): the phase is alive, no marker.
      push(out, Type::activity, driver_component(), fmt::format("{} {}/{}", b.desc, b.n, b.total));
      return;
    }
    auto it = a->bars.find(b.desc);
    if (it == a->bars.end()) {
      if (a->bars.size() >= 16) return;  // bounded: an actor has a few bars
      it = a->bars.emplace(std::string(b.desc.substr(0, 120)), -1).first;
    }
    // The same bar arrives relayed and from the actor's own file: only a count beyond the
    // highest seen is progress.
    if (b.n <= it->second) return;
    it->second = b.n;
    const bool shards = has(b.desc, "loading shards");
    // After 100% of the shards, KV cache and CUDA graphs take minutes in silence (seed 004).
    const double typical = shards ? kPhaseTypical[5] : 0;
    std::string detail = fmt::format("{} {}/{}", b.desc, b.n, b.total);
    if (!a->done) {
      a->progressed = true;
      push(out, Type::progress, a->name, detail, typical);
    }
    if (shards) {
      if (!phase_done_) {
        reached_ = std::max(reached_, 5);
        push(out, Type::progress, "Ray phase", fmt::format("phase 5: {}", kPhaseName[5]), kPhaseTypical[5]);
      }
    } else if (a->done) {
      push(out, Type::progress, a->steps, detail);  // a bar of its work after start-up
    }
  }

  // The driver's end: `Training completed!`, `Job '…' succeeded|failed|stopped`, its own uncaught
  // traceback's closing exception. True when the line was one of those (or inside the traceback).
  bool driver_end(FileInfo& f, std::string_view t, bool indented, std::vector<Signal>& out) {
    if (t == "Training completed!" || has(t, "INFO Training completed!")) {
      if (!training_done_) {
        training_done_ = true;
        push(out, Type::finished, "training", "Training completed!");
      }
      push(out, Type::job_ended, "training", "Training completed!");
      return true;
    }
    if (t.starts_with("Job '") &&
        (has(t, "' succeeded") || has(t, "' failed") || has(t, "' stopped") || has(t, "' was stopped"))) {
      push(out, Type::job_ended, driver_component(), cut(t));
      return true;
    }
    if (t.starts_with("Traceback (most recent call last):")) {
      f.in_traceback = true;
      // Right after an ERROR record it is the logger's (`logger.exception`): the driver goes on.
      f.traceback_logged = f.last_was_error_record;
      push(out, Type::activity, driver_component(), "traceback");
      return true;
    }
    f.last_was_error_record = is_error_record(t);
    if (f.in_traceback) {
      // Frames are indented; the first line that is not closes the traceback.
      if (indented) return true;
      f.in_traceback = false;
      if (f.traceback_logged) return false;
      size_t colon = t.find(':');
      std::string_view name = t.substr(0, colon);
      const bool exception =
          colon != std::string_view::npos && !name.empty() && name.find(' ') == std::string_view::npos &&
          (name.ends_with("Error") || name.ends_with("Exception") || name.ends_with("Exit") ||
           name.ends_with("Interrupt"));
      if (exception || name == "KeyboardInterrupt") {
        push(out, Type::job_ended, driver_component(), "driver exited: " + cut(t));
        return true;
      }
    }
    return false;
  }
  std::map<std::string, FileInfo, std::less<>> files_;
  std::map<int64_t, std::map<std::string, ActorState, std::less<>>> actors_;  // pid -> name -> state
  std::string_view last_name_;
  FileInfo* last_ = nullptr;
  std::string buf_;
  std::array<uint64_t, 256> ring_{};
  size_t ring_at_ = 0;
  size_t actor_count_ = 0;
  int reached_ = 0;
  bool phase_done_ = false;
  bool training_done_ = false;
  int64_t training_n_ = -1;
  RE2 step_re_;
};

}  // namespace

std::unique_ptr<Classifier> make_ray_classifier() {
  return std::make_unique<RayClassifier>();
}

}  // namespace alog::follow
