// analyze(): finds the driver log and session folders among the inputs, scans them, and decides
// what the run is doing.
//
// Decisions, in order: a fatal finding makes the run failed, and the earliest fatal finding is
// the root cause (an actor death whose own worker file shows why it died is a consequence of
// that cause, never the root). Otherwise "Training completed!" (or a full Training bar) means
// finished. Otherwise the phase reached and the silence decide between running and stuck, with
// per-phase silence limits (docs/RAY.md): after the shards reach 100 % SGLang sets up the KV
// cache and CUDA graphs without a word, which is normal for minutes and suspicious after 10.
//
// Silence needs an end of the input. With `live` it is the caller's clock. Without, it is the
// newest stamp of any input, Ray's own logs included, because raylet.out keeps writing state
// dumps while the cluster is alive: a driver silent since 09:21 next to a raylet.out written at
// 09:32 is a stall, whereas a driver log alone can only say where it stopped.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "analyze_logs/core/catalogue.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::ray {

namespace fs = std::filesystem;
using detail::FileKind;
using detail::Hit;
using detail::InputFile;
using detail::ScanState;

const Finding* RayReport::root() const {
  for (const auto& f : findings)
    if (f.root_cause) return &f;
  return nullptr;
}

const Phase& RayReport::phase(int number) const {
  static const Phase none;
  if (number < 1 || number > static_cast<int>(phases.size())) return none;
  return phases[static_cast<size_t>(number - 1)];
}

namespace {

constexpr size_t kSniffBytes = 64 * 1024;
constexpr size_t kMaxEvidence = 8;
constexpr int kWalkDepth = 4;

// Silence limits (seconds) before a phase counts as stuck; docs/RAY.md gives the reasons.
constexpr int64_t kSilenceAfterShards = 600;   // seed 004: "no further output for >10 min"
constexpr int64_t kSilenceShardLoading = 300;  // one shard takes seconds, not minutes
constexpr int64_t kSilenceEngineInit = 600;
constexpr int64_t kSilenceStartup = 300;
constexpr int64_t kSilenceTraining = 600;  // NCCL's default collective timeout is 10 min

struct PhaseInfo {
  int number;
  const char* name;
  const char* marker;
  const char* expected;
  int64_t max_s;
};
constexpr PhaseInfo kPhases[] = {
    {1, "Config & dataset", "Added N samples to controller", "seconds", 300},
    {2, "Placement groups", "bundle N, actual_bundle_index: M, node: ...", "seconds", 120},
    {3, "Mooncake master", "Auto-resolved mooncake master_server_address", "seconds", 120},
    {4, "TrainerActor init", "Device mesh (1D), Draft model: N trainable", "~1 min", 180},
    {5, "SglEngine init", "Multi-thread loading shards: N%", "5-15 min", 900},
    {6, "Queue wiring", "set_train_queue", "seconds", 120},
    {7, "Training loop", "Training: N%", "ongoing", 0},
};

bool has_session_files(const fs::path& dir) { return holds_session_logs(dir); }

std::optional<fs::path> session_logs_of(const fs::path& dir) {
  for (const fs::path& c : {dir, dir / "logs", dir / "session_latest" / "logs"})
    if (has_session_files(c)) return c;
  return std::nullopt;
}

// `worker-<hex>[-<job hex>]-<pid>.{out,err}`.
std::optional<std::pair<int64_t, bool>> worker_file_pid(const std::string& name) {
  static const RE2 re(R"(^worker-[0-9a-f]+(?:-[0-9a-f]+)?-(\d{1,10})\.(err|out)$)",
                      detail::re_options());
  int64_t pid = -1;
  std::string ext;
  if (!RE2::FullMatch(name, re, &pid, &ext)) return std::nullopt;
  return std::pair{pid, ext == "err"};
}

std::optional<FileKind> system_kind(const std::string& name) {
  if (name == "raylet.out" || name == "raylet.err") return FileKind::raylet;
  if (name == "gcs_server.out" || name == "gcs_server.err") return FileKind::gcs;
  if (name == "monitor.log" || name == "monitor.out" || name == "monitor.err")
    return FileKind::monitor;
  return std::nullopt;
}

// A year from a stamp in the path (`..._20260311_061205.log`, `session_2026-03-11_06-10-01_...`),
// needed by NCCL stamps, which carry none, when they come before any dated line.
int year_in_path(const fs::path& p) {
  static const RE2 a(R"(_(20\d\d)[01]\d[0-3]\d_\d{6})", detail::re_options());
  static const RE2 b(R"(session_(20\d\d)-\d\d-\d\d_)", detail::re_options());
  int y = 0;
  std::string s = p.string();
  if (RE2::PartialMatch(s, a, &y) || RE2::PartialMatch(s, b, &y)) return y;
  return 0;
}

// The `YYYYmmdd_HHMMSS` a recipe puts in its driver log name, for picking the newest run.
std::string name_stamp(const fs::path& p) {
  static const RE2 re(R"((\d{8}_\d{6}))", detail::re_options());
  std::string s;
  RE2::PartialMatch(p.filename().string(), re, &s);
  return s;
}

struct Discovery {
  std::vector<fs::path> drivers;
  std::vector<fs::path> sessions;
  std::vector<fs::path> single_files;  // worker / system files given one by one
  std::vector<std::string> ignored;
  std::vector<fs::path> ignored_drivers;  // older driver logs (also in `ignored`)
};

fs::path canonical_or_self(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p : c;
}

bool same_as_any(const std::vector<fs::path>& v, const fs::path& p) {
  fs::path c = canonical_or_self(p);
  for (const auto& q : v)
    if (canonical_or_self(q) == c) return true;
  return false;
}

void add_unique(std::vector<fs::path>& v, const fs::path& p) {
  if (!same_as_any(v, p)) v.push_back(p);
}

// A folder that is neither a session folder nor has one at a fixed place: walk a few levels
// for `running_logs/*.log` driver logs and session folders.
void walk(const fs::path& root, Discovery& d, std::vector<Problem>& problems) {
  std::vector<fs::path> sessions, drivers;
  std::error_code ec;
  fs::recursive_directory_iterator it(root,
                                      fs::directory_options::follow_directory_symlink |
                                          fs::directory_options::skip_permission_denied,
                                      ec);
  if (ec) {
    problems.push_back({root.string(), ec.message()});
    return;
  }
  size_t n = 0;
  for (fs::recursive_directory_iterator end; it != end && n < 200000; it.increment(ec), ++n) {
    if (ec) break;
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    std::error_code e2;
    if (it->is_directory(e2)) {
      if (name.starts_with(".")) {
        it.disable_recursion_pending();
        continue;
      }
      if (has_session_files(p)) {
        sessions.push_back(p);
        it.disable_recursion_pending();
      } else if (it.depth() >= kWalkDepth) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file(e2)) continue;
    bool in_running_logs = p.parent_path().filename() == "running_logs";
    if ((in_running_logs || it.depth() == 0) && is_driver_log(p)) drivers.push_back(p);
  }
  // `session_latest` is a link to the newest `session_<date>_<pid>`: keep it, drop the others
  // that live next to it (older sessions of the same node).
  std::sort(sessions.begin(), sessions.end(), [](const fs::path& a, const fs::path& b) {
    bool la = detail::is_latest_session(a), lb = detail::is_latest_session(b);
    if (la != lb) return la;
    return a < b;
  });
  std::set<fs::path> latest_parents;
  for (const auto& s : sessions) {
    fs::path sess = s.filename() == "logs" ? s.parent_path() : s;
    if (sess.filename() == "session_latest") latest_parents.insert(sess.parent_path());
  }
  for (const auto& s : sessions) {
    fs::path sess = s.filename() == "logs" ? s.parent_path() : s;
    bool older = sess.filename() != "session_latest" &&
                 sess.filename().string().starts_with("session_") &&
                 latest_parents.count(sess.parent_path());
    if (older && !same_as_any(d.sessions, s)) {
      d.ignored.push_back(s.string());
      continue;
    }
    add_unique(d.sessions, s);
  }
  // Several runs in one running_logs/: the newest by the stamp in its name.
  std::map<fs::path, std::vector<fs::path>> by_dir;
  for (const auto& p : drivers) by_dir[p.parent_path()].push_back(p);
  for (auto& [dir, v] : by_dir) {
    std::sort(v.begin(), v.end(), [](const fs::path& a, const fs::path& b) {
      auto sa = name_stamp(a), sb = name_stamp(b);
      if (sa != sb) return sa > sb;
      return a.filename() > b.filename();
    });
    add_unique(d.drivers, v.front());
    for (size_t i = 1; i < v.size(); ++i) {
      d.ignored.push_back(v[i].string());
      d.ignored_drivers.push_back(v[i]);
    }
  }
}

}  // namespace

namespace detail {

// The deepest folder holding all `files` and `dirs`.
fs::path common_base(const std::vector<fs::path>& files, const std::vector<fs::path>& dirs) {
  std::vector<fs::path> folders;
  for (const auto& f : files) {
    std::error_code ec;
    folders.push_back(fs::absolute(f, ec).lexically_normal().parent_path());
  }
  for (const auto& d : dirs) {
    std::error_code ec;
    fs::path a = fs::absolute(d, ec).lexically_normal();
    if (!a.empty() && a.filename().empty()) a = a.parent_path();  // "dir/" -> "dir"
    folders.push_back(a);
  }
  if (folders.empty()) return {};
  fs::path base = folders.front();
  for (size_t i = 1; i < folders.size(); ++i) {
    const fs::path& q = folders[i];
    fs::path common;
    auto a = base.begin(), b = q.begin();
    for (; a != base.end() && b != q.end() && *a == *b; ++a, ++b) common /= *a;
    base = common;
  }
  return base;
}

std::string display_in(const fs::path& abs, const fs::path& base, const std::string& given) {
  if (!base.empty()) {
    fs::path rel = abs.lexically_relative(base);
    if (!rel.empty() && rel.native().rfind("..", 0) != 0) return rel.generic_string();
  }
  return given;
}

std::string display_of(const fs::path& p, const fs::path& base) {
  std::error_code ec;
  return display_in(fs::absolute(p, ec).lexically_normal(), base, p.generic_string());
}

bool is_latest_session(const fs::path& p) {
  return p.string().find("session_latest") != std::string::npos;
}

void discover(const std::vector<fs::path>& inputs, ScanState& st, RayReport& r,
              std::vector<fs::path>* ignored_drivers) {
  Discovery d;
  std::vector<fs::path> forced, direct, walked;
  auto add_walked = [&](const fs::path& p) {
    if (!same_as_any(d.drivers, p)) walked.push_back(p);
    add_unique(d.drivers, p);
  };
  for (const auto& in : inputs) {
    std::error_code ec;
    auto status = fs::status(in, ec);
    if (ec || !fs::exists(status)) {
      st.problems.push_back({in.string(), "No such file or directory"});
      continue;
    }
    if (fs::is_directory(status)) {
      if (auto logs = session_logs_of(in)) {
        if (!same_as_any(d.sessions, *logs)) direct.push_back(*logs);
        add_unique(d.sessions, *logs);
        // A RAY_TEMP_DIR or run folder may hold the driver's running_logs/ next to it.
        if (*logs != in) {
          Discovery sub;
          walk(in, sub, st.problems);
          for (const auto& p : sub.drivers) add_walked(p);
          for (const auto& p : sub.sessions) add_unique(d.sessions, p);
          for (auto& s : sub.ignored) d.ignored.push_back(std::move(s));
          for (auto& p : sub.ignored_drivers) d.ignored_drivers.push_back(std::move(p));
        }
      } else {
        Discovery sub;
        walk(in, sub, st.problems);
        if (sub.drivers.empty() && sub.sessions.empty())
          st.problems.push_back(
              {in.string(), "no TorchSpec driver log or Ray session logs folder found in it"});
        for (const auto& p : sub.drivers) add_walked(p);
        for (const auto& p : sub.sessions) add_unique(d.sessions, p);
        for (auto& s : sub.ignored) d.ignored.push_back(std::move(s));
        for (auto& p : sub.ignored_drivers) d.ignored_drivers.push_back(std::move(p));
      }
      continue;
    }
    std::string name = in.filename().string();
    if (worker_file_pid(name) || system_kind(name)) {
      add_unique(d.single_files, in);
      continue;
    }
    // A file given by name is read as a driver log even when it does not look like one.
    if (!is_driver_log(in)) {
      r.notes.push_back(
          fmt::format("{} does not look like a TorchSpec driver log; it was read as one anyway.",
                      in.filename().string()));
      if (!same_as_any(d.drivers, in)) forced.push_back(in);
    }
    add_unique(d.drivers, in);
  }

  auto add_file = [&](const fs::path& p, int group, const fs::path& dir) {
    InputFile f;
    f.path = p;
    f.group = group;
    f.dir = dir;
    f.forced = std::find(forced.begin(), forced.end(), p) != forced.end();
    f.walked = std::find(walked.begin(), walked.end(), p) != walked.end();
    std::string name = p.filename().string();
    if (auto w = worker_file_pid(name)) {
      f.kind = FileKind::worker;
      f.pid = w->first;
      f.err = w->second;
    } else if (auto k = system_kind(name)) {
      f.kind = *k;
    } else {
      f.kind = FileKind::driver;
    }
    f.year = year_in_path(p);
    st.files.push_back(std::move(f));
  };
  for (const auto& p : d.drivers) add_file(p, 0, p.parent_path());
  for (const auto& dir : d.sessions) {
    std::vector<fs::path> workers, system;
    std::error_code ec;
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (worker_file_pid(name))
        workers.push_back(it->path());
      else if (system_kind(name))
        system.push_back(it->path());
    }
    if (ec) st.problems.push_back({dir.string(), ec.message()});
    std::sort(workers.begin(), workers.end());
    std::sort(system.begin(), system.end());
    int group = std::find(direct.begin(), direct.end(), dir) != direct.end() ? 1 : 2;
    for (const auto& p : workers) add_file(p, group, dir);
    for (const auto& p : system) add_file(p, group, dir);
  }
  for (const auto& p : d.single_files) add_file(p, 3, p.parent_path());

  // Paths are shown relative to the folder that holds every input (a folder given as input
  // counts as its own base, so `running_logs/x.log` keeps its folder name).
  std::vector<fs::path> files, dirs;
  for (const auto& f : st.files) files.push_back(f.path);
  for (const auto& in : inputs) {
    std::error_code ec;
    if (!st.files.empty() && fs::is_directory(in, ec)) dirs.push_back(in);
  }
  fs::path base = common_base(files, dirs);
  r.base = base.string();
  for (auto& f : st.files) {
    f.display = display_of(f.path, base);
    if (f.kind == FileKind::driver) r.driver_logs.push_back(f.display);
    if (f.kind == FileKind::worker) ++r.worker_files;
  }
  for (const auto& s : d.sessions) r.session_dirs.push_back(display_of(s, base));
  for (const auto& s : d.ignored) r.ignored.push_back(s);
  if (ignored_drivers) *ignored_drivers = std::move(d.ignored_drivers);
}

std::string newest_stamp(const fs::path& p) {
  return name_stamp(p);
}

}  // namespace detail

namespace {

// ---------------------------------------------------------------------------------------------

std::string opt_time(std::optional<int64_t> t) {
  return t ? format_civil(*t) : std::string();
}

std::string actor_label(const std::string& name, int64_t pid, const std::string& ip, int rank) {
  std::string s = name.empty() ? std::string("actor") : name;
  std::vector<std::string> parts;
  if (rank >= 0 && name == "TrainerActor") parts.push_back(fmt::format("rank {}", rank));
  if (pid >= 0) parts.push_back(fmt::format("pid {}", pid));
  if (!ip.empty()) parts.push_back(ip);
  if (parts.empty()) return s;
  s += " (";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
  return s + ")";
}

int kind_priority(std::string_view k) {
  static constexpr std::string_view order[] = {"cuda_oom",     "host_oom",     "nccl_timeout",
                                               "init_failure", "sglang_crash", "native_crash",
                                               "nan_loss",     "traceback",    "actor_died"};
  for (size_t i = 0; i < std::size(order); ++i)
    if (order[i] == k) return static_cast<int>(i);
  return 50;
}

const char* kFixKvOom =
    "CUDA graph capture or the KV cache ran out of GPU memory: check nvidia-smi for GPU memory "
    "and the worker-*.err for CUDA errors; lower SGLang's mem_fraction_static or the CUDA-graph "
    "batch sizes.";
const char* kFixTrainOom =
    "Check nvidia-smi for GPU memory; lower the per-GPU batch or sequence length; "
    "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True helps when much memory is reserved but "
    "unallocated.";
const char* kFixPlacement =
    "Workers have not joined the Ray cluster yet: check `ray status` for the expected GPU count "
    "and that every worker node ran `ray start`.";
const char* kFixShards =
    "Slow NFS/disk or an OOM during model load: check dmesg for OOM kills and disk I/O with "
    "iostat.";
const char* kFixAfterShards =
    "CUDA graph capture hung or the KV cache ran out of memory: check nvidia-smi for GPU memory "
    "and the SglEngine worker-*.err for CUDA errors.";
const char* kFixTrainerInit =
    "`dist.init_process_group` hangs when the network interfaces differ across nodes: ensure "
    "NCCL_SOCKET_IFNAME, GLOO_SOCKET_IFNAME and TP_SOCKET_IFNAME match on all nodes; read the "
    "TrainerActor worker-*.err files.";
const char* kFixTrainingStall =
    "No training step for minutes: a collective may be hanging (NCCL's watchdog fires after its "
    "timeout, 10 min by default). Read the TrainerActor worker-*.err files for the rank that "
    "stopped first; check nvidia-smi utilisation.";
const char* kFixGeneric =
    "Read the worker-*.err files of the actors active in this phase (ls -lt session_latest/logs/"
    "worker-*.err | head) for the last thing each did.";

// The catalogue's fix, except where the actor decides it: a CUDA OOM in an SglEngine is the KV
// cache or CUDA-graph capture, in a trainer the batch.
std::string fix_for(const std::string& kind, const std::string& actor) {
  if (kind == "cuda_oom") return actor == "SglEngine" ? kFixKvOom : kFixTrainOom;
  if (const core::Signature* sig = core::find_signature(kind)) return std::string(sig->fix);
  return "Read the lines around the evidence in the same file.";
}

struct Group {
  Finding f;
  std::optional<int64_t> t;
  std::vector<const Hit*> hits;
};

std::string group_key(const Hit& h) {
  if (h.kind == "nccl_timeout") return "nccl_timeout";
  if (h.pid >= 0) return fmt::format("{}|pid{}", h.kind, h.pid);
  if (h.kind == "actor_died") return fmt::format("actor_died|{}:{}", h.file, h.ev.line);
  return fmt::format("{}|file{}", h.kind, h.file);
}

void add_evidence(Finding& f, const Evidence& e) {
  for (const auto& x : f.evidence)
    if (x.file == e.file && x.line == e.line) return;
  if (f.evidence.size() < kMaxEvidence) f.evidence.push_back(e);
}

struct Builder {
  ScanState& st;
  RayReport& r;
  const Options& opt;
  std::optional<int64_t> end_t;
  bool silence_measured = false;
  std::map<int64_t, std::string> worker_of_pid;  // display of worker-*-<pid>.err (or .out)
  std::map<int64_t, const detail::WorkerAcc*> worker_acc_of_pid;

  void actors() {
    for (const auto& w : st.workers) {
      const InputFile& f = st.files[w.file];
      auto& acc = st.actors[w.pid];
      acc.a.pid = w.pid;
      if (acc.a.name.empty()) acc.a.name = w.actor;
      if (acc.a.rank < 0) acc.a.rank = w.rank;
      if (w.last_t && (!acc.last_t || *w.last_t > *acc.last_t)) acc.last_t = w.last_t;
      if (f.err || !worker_of_pid.count(w.pid)) {
        worker_of_pid[w.pid] = f.display;
        worker_acc_of_pid[w.pid] = &w;
      }
    }
    for (auto& [pid, acc] : st.actors) {
      auto it = worker_of_pid.find(pid);
      if (it != worker_of_pid.end()) acc.a.worker_file = it->second;
      acc.a.last_time = opt_time(acc.last_t);
    }
  }

  void phases() {
    for (const auto& info : kPhases) {
      Phase p;
      p.number = info.number;
      p.name = info.name;
      p.marker = info.marker;
      p.expected = info.expected;
      p.expected_max_s = info.max_s;
      const auto& acc = st.phases[info.number];
      p.reached = acc.any;
      p.markers = acc.count;
      if (p.reached) {
        p.first = acc.first;
        p.last = acc.last;
        p.start_approx = !acc.start_exact;
        if (acc.start_t) p.start = format_civil(*acc.start_t);
      }
      r.phases.push_back(std::move(p));
      if (acc.any) r.phase_reached = info.number;
    }
    for (auto& p : r.phases) {
      if (!p.reached) continue;
      const auto& acc = st.phases[p.number];
      std::optional<int64_t> end;
      bool done = false;
      auto own_done = acc.done_t ? acc.done_t : acc.all_done_t;
      if (own_done && (p.number == 4 || p.number == 5)) {
        end = own_done;
        done = true;
      } else {
        // Phases 4 and 5 run side by side: phase 5 starting does not end phase 4.
        for (int q = p.number + 1; q <= 7; ++q) {
          if (p.number == 4 && q == 5) continue;
          const auto& qa = st.phases[q];
          if (!qa.any) continue;
          done = true;
          if (qa.start_t && (!end || *qa.start_t < *end)) end = qa.start_t;
        }
      }
      p.done = done;
      p.ongoing = !done;
      if (!done) end = end_t;
      if (end) p.end = format_civil(*end);
      if (acc.start_t && end) {
        p.duration_s = std::max<int64_t>(0, (*end - *acc.start_t) / 1000);
        p.over_expected = p.expected_max_s > 0 && *p.duration_s > p.expected_max_s;
      }
      // The least advanced bar is the one holding the phase back (one per engine).
      const std::pair<Progress, std::optional<int64_t>>* best = nullptr;
      for (const auto& [key, v] : acc.bars) {
        if (!best || v.first.percent < best->first.percent ||
            (v.first.percent == best->first.percent && v.second && best->second &&
             *v.second > *best->second))
          best = &v;
      }
      if (best) p.progress = best->first;
    }
    if (st.training) {
      r.training = st.training;
      r.phases[6].progress = st.training;
    }
  }

  void times() {
    r.started_at = opt_time(st.first_t);
    r.last_output_at = opt_time(st.activity_t);
    r.live = opt.live;
    if (opt.live) {
      end_t = civil_ms_of(opt.now.value_or(std::chrono::system_clock::now()));
      r.end_source = "live clock";
      silence_measured = true;
    } else if (st.activity_t || st.system_t) {
      if (st.system_t && (!st.activity_t || *st.system_t > *st.activity_t)) {
        end_t = st.system_t;
        r.end_source = st.system_source;
        silence_measured = true;
      } else {
        end_t = st.activity_t;
        r.end_source = st.system_t ? st.system_source : "last driver or worker line";
        silence_measured = st.system_t.has_value();
      }
    }
    r.end_at = opt_time(end_t);
    if (end_t && st.activity_t) {
      int64_t s = (*end_t - *st.activity_t) / 1000;
      if (s < 0) {
        r.notes.push_back(fmt::format(
            "The logs' last line ({}) is later than the end time ({}): the log clock and this "
            "machine's clock differ (another time zone?).",
            format_civil(*st.activity_t), format_civil(*end_t)));
        s = 0;
      }
      r.silence_s = s;
    }
  }

  void in_phase() {
    if (r.phase_reached == 0 || !end_t) return;
    const auto& acc = st.phases[r.phase_reached];
    if (acc.start_t) r.in_phase_s = std::max<int64_t>(0, (*end_t - *acc.start_t) / 1000);
  }

  std::string title_for(const Group& g) {
    const Finding& f = g.f;
    std::string who = actor_label(f.actor, f.pid, f.ip, f.rank);
    const Hit& h = *g.hits.front();
    if (f.kind == "cuda_oom") return "CUDA out of memory in " + who;
    if (f.kind == "host_oom")
      return f.pid >= 0
                 ? "Host out of memory: " + who + " killed"
                 : "Host out of memory: the OOM killer or Ray's memory monitor killed workers";
    if (f.kind == "actor_died")
      return (f.actor.empty() && f.pid < 0 ? std::string("An actor") : who) +
             " died (RayActorError)";
    if (f.kind == "sglang_crash") return "SGLang scheduler crashed in " + who;
    if (f.kind == "native_crash") return "Process aborted in " + who;
    if (f.kind == "nan_loss")
      return "Loss is NaN" + (h.detail.empty() ? "" : " (" + h.detail + ")");
    if (f.kind == "nccl_error") return "NCCL error in " + who;
    if (f.kind == "init_failure") return "Initialisation failed: " + h.ev.text.substr(0, 160);
    if (f.kind == "traceback") {
      // The exception line, without the stamp and logger fields before it.
      std::string text = h.ev.text;
      return (f.actor.empty() || f.actor == "driver"
                  ? std::string("Uncaught exception in the driver: ")
                  : "Exception in " + who + ": ") +
             text.substr(0, 200);
    }
    return h.ev.text.substr(0, 200);
  }

  void findings() {
    std::map<std::string, Group> groups;
    std::vector<std::string> order;
    for (const auto& h : st.hits) {
      std::string key = group_key(h);
      auto [it, fresh] = groups.try_emplace(key);
      Group& g = it->second;
      if (fresh) {
        order.push_back(key);
        g.f.kind = h.kind;
        g.f.severity = h.severity;
      }
      if (h.severity == "fatal") g.f.severity = "fatal";
      g.hits.push_back(&h);
      g.f.occurrences += h.count;
      if (h.t && (!g.t || *h.t < *g.t)) g.t = h.t;
      if (g.f.pid < 0 && h.pid >= 0 && h.kind != "nccl_timeout") g.f.pid = h.pid;
      if (g.f.actor.empty() && !h.actor.empty() && h.kind != "nccl_timeout") g.f.actor = h.actor;
      if (g.f.ip.empty() && !h.ip.empty() && h.kind != "nccl_timeout") g.f.ip = h.ip;
      if (g.f.detail.empty() && !h.detail.empty()) g.f.detail = h.detail;
    }
    // Fill names from the actor table (a worker file knows its actor, the relay knows its ip).
    for (auto& [key, g] : groups) {
      if (g.f.pid < 0) {
        if (g.f.actor.empty() && g.hits.front()->driver_own && g.f.kind != "actor_died")
          g.f.actor = "driver";
        continue;
      }
      auto it = st.actors.find(g.f.pid);
      if (it == st.actors.end()) continue;
      if (g.f.actor.empty() || g.f.actor == "raylet" || g.f.actor == "gcs_server")
        g.f.actor = it->second.a.name;
      if (g.f.ip.empty()) g.f.ip = it->second.a.ip;
      g.f.rank = it->second.a.rank;
      g.f.worker_file = it->second.a.worker_file;
    }
    // Generic crash lines of a process that has a more specific cause are part of that cause
    // (an SGLang crash keeps the exception of the traceback that came with it).
    static constexpr const char* kFoldOrder[] = {"cuda_oom",     "host_oom",     "nccl_timeout",
                                                 "sglang_crash", "native_crash", "traceback"};
    auto fold_rank = [](const std::string& k) {
      for (size_t i = 0; i < std::size(kFoldOrder); ++i)
        if (k == kFoldOrder[i]) return static_cast<int>(i);
      return -1;
    };
    auto specific_of = [&](int64_t pid, int below) -> Group* {
      for (int i = 0; i < below; ++i) {
        std::string k = kFoldOrder[i];
        if (k == "nccl_timeout") {
          auto it = groups.find(k);
          if (it != groups.end())
            for (const Hit* h : it->second.hits)
              if (h->pid == pid) return &it->second;
          continue;
        }
        auto it = groups.find(fmt::format("{}|pid{}", k, pid));
        if (it != groups.end() && !it->second.hits.empty()) return &it->second;
      }
      return nullptr;
    };
    for (auto& key : order) {
      Group& g = groups[key];
      int rank = fold_rank(g.f.kind);
      if (g.f.pid < 0 || rank <= 2) continue;  // only sglang_crash, native_crash, traceback fold
      if (Group* s = specific_of(g.f.pid, rank)) {
        s->f.occurrences += g.f.occurrences;
        if (g.f.kind == "traceback" && s->f.kind == "sglang_crash" && s->f.detail.empty())
          s->f.detail = "Exception: " + g.hits.front()->ev.text + ".";
        for (const Hit* h : g.hits) s->hits.push_back(h);
        if (s->t && g.t && *g.t < *s->t) s->t = g.t;
        g.hits.clear();
      }
    }

    collective(groups);

    std::vector<Group*> live_groups;
    for (auto& key : order) {
      Group& g = groups[key];
      if (g.hits.empty()) continue;
      // Evidence: the first lines, worker files first when both exist (the driver relays them).
      std::vector<const Hit*> hs = g.hits;
      if (g.f.kind == "nccl_timeout" && !g.f.evidence.empty()) hs.clear();  // already chosen
      std::stable_sort(hs.begin(), hs.end(), [](const Hit* a, const Hit* b) {
        if (a->watchdog != b->watchdog) return a->watchdog;
        return a->in_worker_file && !b->in_worker_file;
      });
      for (const Hit* h : hs) add_evidence(g.f, h->ev);
      g.f.time = opt_time(g.t);
      if (g.f.kind != "nccl_timeout") g.f.title = title_for(g);
      g.f.fix = fix_for(g.f.kind, g.f.actor);
      for (const Hit* h : g.hits)
        if (!h->frame.empty()) {
          std::string frame = "Raised at " + h->frame + ".";
          g.f.detail = g.f.detail.empty() ? frame : g.f.detail + " " + frame;
          break;
        }
      live_groups.push_back(&g);
    }

    // An actor death: point at its worker file and at the cause found there.
    for (Group* g : live_groups) {
      if (g->f.kind != "actor_died") continue;
      Finding& f = g->f;
      Group* cause = nullptr;
      if (f.pid >= 0)
        for (Group* c : live_groups)
          if (c != g && c->f.severity == "fatal" && c->f.kind != "actor_died" &&
              (c->f.pid == f.pid || (c->f.kind == "nccl_timeout" &&
                                     std::any_of(c->hits.begin(), c->hits.end(),
                                                 [&](const Hit* h) { return h->pid == f.pid; }))) &&
              (!cause || kind_priority(c->f.kind) < kind_priority(cause->f.kind)))
            cause = c;
      std::string where;
      if (!f.worker_file.empty()) {
        where = fmt::format("Its log is {}.", f.worker_file);
      } else if (f.pid >= 0) {
        where = fmt::format(
            "Its log is worker-*-{}.err in session_latest/logs/ on {}; that file is not among the "
            "inputs.",
            f.pid, f.ip.empty() ? std::string("the driver's node") : f.ip);
      }
      std::string because;
      if (cause) {
        const Evidence* e = nullptr;
        for (const Hit* h : cause->hits)
          if (h->pid == f.pid && h->in_worker_file) {
            e = &h->ev;
            break;
          }
        if (!e)
          for (const Hit* h : cause->hits)
            if (h->pid == f.pid) {
              e = &h->ev;
              break;
            }
        if (e) {
          because = fmt::format(
              "It died of: {} ({}).",
              cause->f.kind == "nccl_timeout" ? "the NCCL watchdog abort" : cause->f.title,
              e->ref());
          add_evidence(f, *e);
        }
        f.consequence = true;
      } else if (f.pid >= 0) {
        auto it = worker_acc_of_pid.find(f.pid);
        if (it != worker_acc_of_pid.end() && it->second->lines > 0) {
          because = fmt::format(
              "Its worker file has no error; it ends at {} ({}): a SIGKILL (OOM killer, ray stop) "
              "leaves no trace.",
              it->second->last.time.empty() ? "an unstamped line" : it->second->last.time,
              it->second->last.ref());
          add_evidence(f, it->second->last);
        }
      }
      std::string d = f.detail;
      for (const auto& part : {where, because})
        if (!part.empty()) d = d.empty() ? part : d + " " + part;
      f.detail = d;
    }

    // Root cause: the earliest fatal finding; ties go to the more specific kind.
    Group* root = nullptr;
    for (Group* g : live_groups) {
      if (g->f.severity != "fatal" || g->f.consequence) continue;
      if (!root) {
        root = g;
        continue;
      }
      bool earlier = g->t && (!root->t || *g->t < *root->t);
      bool same = g->t == root->t;
      if (earlier || (same && kind_priority(g->f.kind) < kind_priority(root->f.kind))) root = g;
    }
    if (root) {
      root->f.root_cause = true;
      for (Group* g : live_groups)
        if (g != root && g->f.severity == "fatal") g->f.consequence = true;
    }
    std::stable_sort(live_groups.begin(), live_groups.end(), [](const Group* a, const Group* b) {
      if (a->f.root_cause != b->f.root_cause) return a->f.root_cause;
      int sa = a->f.severity == "fatal" ? 0 : a->f.severity == "error" ? 1 : 2;
      int sb = b->f.severity == "fatal" ? 0 : b->f.severity == "error" ? 1 : 2;
      if (sa != sb) return sa < sb;
      if (a->t && b->t && *a->t != *b->t) return *a->t < *b->t;
      return a->t.has_value() && !b->t.has_value();
    });
    for (Group* g : live_groups) r.findings.push_back(std::move(g->f));
  }

  // Which ranks logged the watchdog message, from the worker files when there are any.
  void collective(std::map<std::string, Group>& groups) {
    auto it = groups.find("nccl_timeout");
    if (it == groups.end()) return;
    Group& g = it->second;
    const Hit* first = nullptr;
    for (const Hit* h : g.hits)
      if (h->watchdog && (!first || (h->t && (!first->t || *h->t < *first->t)))) first = h;
    CollectiveTimeout c;
    if (first) {
      c.op = first->op;
      c.seq = first->seq;
      c.timeout_ms = first->timeout_ms;
      c.time = opt_time(first->t);
    }
    std::string cls;
    for (const Hit* h : g.hits)
      if (h->watchdog && h->in_worker_file) {
        c.per_worker = true;
        if (cls.empty()) cls = st.actors.count(h->pid) ? st.actors[h->pid].a.name : h->actor;
      }
    std::set<int> reported, silent;
    std::map<int, int64_t> pid_of_rank;
    std::map<int, const detail::WorkerAcc*> silent_acc;
    if (c.per_worker) {
      // A rank counts as reporting when any of its files (.err or .out) has the message.
      std::map<int64_t, bool> pid_reported;
      for (const auto& w : st.workers) pid_reported[w.pid] = pid_reported[w.pid] || w.watchdog;
      for (const auto& w : st.workers) {
        std::string name = st.actors.count(w.pid) ? st.actors[w.pid].a.name : w.actor;
        if (name != cls) continue;
        int rank = w.rank >= 0 ? w.rank : st.actors[w.pid].a.rank;
        if (rank < 0) continue;
        pid_of_rank[rank] = w.pid;
        if (pid_reported[w.pid]) {
          reported.insert(rank);
        } else if (w.lines > 0) {
          silent.insert(rank);
          if (!silent_acc.count(rank) || st.files[w.file].err) silent_acc[rank] = &w;
        }
      }
    } else {
      for (const Hit* h : g.hits)
        if (h->watchdog && h->rank >= 0) reported.insert(h->rank);
    }
    for (int rk : silent) reported.erase(rk);
    c.reported_ranks.assign(reported.begin(), reported.end());
    c.silent_ranks.assign(silent.begin(), silent.end());
    if (st.world_size > 0 && c.per_worker && cls == "TrainerActor") {
      c.world_size = st.world_size;
      for (int k = 0; k < st.world_size; ++k)
        if (!reported.count(k) && !silent.count(k)) c.unseen_ranks.push_back(k);
    }

    Finding& f = g.f;
    f.kind = "nccl_timeout";
    f.actor = cls;
    std::string what =
        c.op.empty() ? std::string("a collective") : fmt::format("{} (SeqNum {})", c.op, c.seq);
    std::string limit = c.timeout_ms > 0 ? fmt::format(" ran past its {} timeout",
                                                       human_duration(c.timeout_ms / 1000))
                                         : " timed out";
    f.title = "NCCL collective timeout: " + what + limit;
    auto list = [](const std::vector<int>& v) {
      std::string s;
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s;
    };
    std::string d;
    if (c.per_worker) {
      d = fmt::format("Rank{} {} logged the watchdog message (per worker-*.err).",
                      c.reported_ranks.size() == 1 ? "" : "s", list(c.reported_ranks));
      if (!c.silent_ranks.empty()) {
        f.title += fmt::format("; rank{} {} never reported it (likely straggler)",
                               c.silent_ranks.size() == 1 ? "" : "s", list(c.silent_ranks));
        for (int rk : c.silent_ranks) {
          const auto* w = silent_acc[rk];
          std::string last = w->last_t ? format_civil(*w->last_t) : std::string("unknown");
          std::string gap;
          if (w->last_t && first && first->t)
            gap = fmt::format(", {} before the first watchdog message",
                              human_duration((*first->t - *w->last_t) / 1000));
          d += fmt::format(
              " Rank {} ({} pid {}) did not: it was not inside the collective and is the likely "
              "straggler; its last line is at {}{} ({}).",
              rk, cls.empty() ? std::string("actor") : cls, w->pid, last, gap, w->last.ref());
        }
      }
      if (!c.unseen_ranks.empty())
        d += fmt::format(
            " No worker file was given for rank{} {} (world_size={}); they may be on "
            "another node.",
            c.unseen_ranks.size() == 1 ? "" : "s", list(c.unseen_ranks), c.world_size);
    } else {
      d = fmt::format(
          "Only the driver log shows it, and Ray de-duplicates repeated lines there "
          "(`[repeated Nx across cluster]`), so which ranks reported cannot be told{}. Pass the "
          "session logs folder (worker-*.err of each rank) to find the rank that did not report: "
          "that is the likely straggler.",
          c.reported_ranks.empty() ? std::string()
                                   : fmt::format(" (seen: rank {})", list(c.reported_ranks)));
    }
    f.detail = d;
    // Evidence: one watchdog line per reporting rank (by rank), each silent rank's last line,
    // then the first driver copy (the line a person finds with grep).
    std::map<int, const Hit*> by_rank;
    const Hit* driver_copy = nullptr;
    for (const Hit* h : g.hits) {
      if (!h->watchdog) continue;
      if (!h->in_worker_file && !driver_copy) driver_copy = h;
      if (c.per_worker && !h->in_worker_file) continue;
      int rk = h->rank;
      if (rk < 0 && st.actors.count(h->pid)) rk = st.actors[h->pid].a.rank;
      if (!by_rank.count(rk)) by_rank[rk] = h;
    }
    for (const auto& [rk, h] : by_rank) add_evidence(f, h->ev);
    for (int rk : c.silent_ranks) add_evidence(f, silent_acc[rk]->last);
    if (driver_copy && c.per_worker) add_evidence(f, driver_copy->ev);
    for (auto& [pid, acc] : st.actors) {
      if (acc.a.rank >= 0 && acc.a.name == cls) {
        if (reported.count(acc.a.rank)) acc.a.status = "watchdog timeout";
        if (silent.count(acc.a.rank)) acc.a.status = "silent (likely straggler)";
      }
    }
    r.collective = std::move(c);
  }

  Finding stall_finding(const std::string& title, const std::string& detail, const char* fix) {
    Finding f;
    f.kind = "stall";
    f.severity = "warning";
    f.title = title;
    f.detail = detail;
    f.fix = fix;
    f.time = r.last_output_at;
    const Phase& p = r.phase(r.phase_reached);
    if (p.progress) add_evidence(f, p.progress->where);
    if (!st.activity_ev.file.empty()) add_evidence(f, st.activity_ev);
    if (!st.system_ev.file.empty() && st.system_t && st.activity_t && *st.system_t > *st.activity_t)
      add_evidence(f, st.system_ev);
    return f;
  }

  void verdict() {
    const int P = r.phase_reached;
    const Phase& ph = r.phase(P);
    std::string where = P ? fmt::format("phase {} ({})", P, ph.name) : std::string();
    std::string clock;
    if (r.in_phase_s && silence_measured)
      clock = fmt::format("in {} for {}, no output for {}", where, human_duration(*r.in_phase_s),
                          human_duration(r.silence_s.value_or(0)));
    else if (r.in_phase_s)
      clock = fmt::format("in {} for {}", where, human_duration(*r.in_phase_s));
    std::string progress;
    if (P == 5 && ph.progress)
      progress = fmt::format("shard loading at {} % ({}/{})", ph.progress->percent, ph.progress->n,
                             ph.progress->total);
    if (P == 7 && r.training)
      progress = fmt::format("training at {} % ({}/{} steps)", r.training->percent, r.training->n,
                             r.training->total);

    bool stamps = st.first_t.has_value();
    if (!stamps && (st.driver_lines > 0 || !st.workers.empty()))
      r.notes.push_back("No timestamps in the input: phase durations and silence are unknown.");
    else if (stamps && !silence_measured)
      r.notes.push_back(
          "The end of the input is the driver's own last line, so silence cannot be measured: "
          "pass the Ray session logs folder (raylet.out keeps writing while the cluster lives) or "
          "use --live.");

    // Phases over their typical duration (the ongoing one is judged by the stall rules below).
    for (const auto& p : r.phases) {
      if (!p.reached || !p.over_expected || (p.ongoing && p.number == P)) continue;
      Finding f;
      f.kind = "slow_phase";
      f.severity = "warning";
      f.title = fmt::format("Phase {} ({}) took {}, over the typical {}", p.number, p.name,
                            human_duration(p.duration_s.value_or(0)), p.expected);
      f.time = p.start;
      f.fix = p.number == 2   ? kFixPlacement
              : p.number == 4 ? kFixTrainerInit
              : p.number == 5 ? kFixShards
                              : kFixGeneric;
      add_evidence(f, p.first);
      add_evidence(f, p.last);
      r.findings.push_back(std::move(f));
    }

    if (const Finding* root = r.root()) {
      r.verdict = Verdict::failed;
      r.headline = "failed: " + root->title;
      for (const auto& f : r.findings)
        if (f.kind == "actor_died" && f.consequence && root->kind != "nccl_timeout" && f.pid >= 0 &&
            f.pid == root->pid)
          r.headline += ", which then died (RayActorError)";
      r.reason = root->detail;
      if (P)
        r.reason += (r.reason.empty() ? "" : " ") + fmt::format("The run had reached {}.", where);
      if (!progress.empty()) r.reason += fmt::format(" Last progress: {}.", progress);
      r.summary = r.headline;
      if (!root->evidence.empty()) r.summary += fmt::format(" [{}]", root->evidence.front().ref());
      return;
    }
    if (st.finished || st.bar_complete) {
      r.verdict = Verdict::finished;
      r.headline = "finished: training completed";
      if (r.training) r.headline += fmt::format(" ({}/{} steps)", r.training->n, r.training->total);
      r.reason = st.finished ? fmt::format("The recipe printed `Training completed!` ({}).",
                                           st.finished_ev.ref())
                             : "The Training bar reached its total.";
      r.summary = r.headline;
      return;
    }
    if (P == 0) {
      r.verdict = Verdict::unknown;
      bool any_input = st.driver_lines > 0 || !st.workers.empty();
      r.headline = any_input ? "unknown: no TorchSpec phase marker found"
                             : "unknown: no Ray or TorchSpec log lines were read";
      r.reason = any_input ? "None of the seven start-up phases' markers appear in the input."
                           : "The inputs hold no driver log or worker file with content.";
      r.summary = r.headline;
      return;
    }

    // -1: silence not measured (no end of input beyond the driver's own last line).
    const int64_t silence = silence_measured && r.silence_s ? *r.silence_s : -1;
    int64_t limit = kSilenceStartup;
    const char* fix = kFixGeneric;
    std::string why;
    bool shards_full = P == 5 && ph.progress && ph.progress->percent >= 100;
    if (P == 5 && !ph.done) {
      if (shards_full) {
        limit = kSilenceAfterShards;
        fix = kFixAfterShards;
        why = "the shards reached 100 % and nothing followed";
        if (silence >= 0 && silence <= limit)
          r.notes.push_back(fmt::format(
              "Silence after the shards reach 100 % is normal for some minutes: SGLang allocates "
              "the KV cache and captures CUDA graphs without output. It becomes suspicious after "
              "{} (no output for {} so far).",
              human_duration(kSilenceAfterShards), human_duration(silence)));
      } else if (ph.progress) {
        limit = kSilenceShardLoading;
        fix = kFixShards;
        why = fmt::format("shard loading stopped at {} % ({}/{})", ph.progress->percent,
                          ph.progress->n, ph.progress->total);
      } else {
        limit = kSilenceEngineInit;
        fix = kFixShards;
        why = "the engines have not started loading the model";
      }
    } else if (P == 2) {
      fix = kFixPlacement;
      why = "the placement groups are not ready";
    } else if (P == 4) {
      fix = kFixTrainerInit;
      why = "the trainers did not finish initialising";
    } else if (P == 7) {
      limit = kSilenceTraining;
      fix = kFixTrainingStall;
      why = "no training progress";
    } else {
      why = fmt::format("nothing after the last {} marker", ph.name);
    }

    if (silence > limit) {
      r.verdict = Verdict::stuck;
      r.headline = fmt::format("stuck in {}", where);
      r.reason = fmt::format("{}{}{}.", clock.empty() ? "" : clock, clock.empty() ? "" : ": ", why);
      r.reason[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(r.reason[0])));
      if (!st.system_ev.file.empty() && st.system_t && st.activity_t &&
          *st.system_t > *st.activity_t) {
        // Liveness is measured against the same end as the silence: with --live that is now, and
        // a raylet.out silent for as long says the cluster is gone, not alive.
        const int64_t system_silence = end_t ? (*end_t - *st.system_t) / 1000 : 0;
        if (r.live && system_silence > limit)
          r.reason += fmt::format(
              " {} kept writing until {}, but it too has been silent for {}: the whole job has "
              "stopped (or these are not the logs it is writing now).",
              st.system_source, format_civil(*st.system_t), human_duration(system_silence));
        else
          r.reason += fmt::format(" {} kept writing until {}: the cluster is alive.",
                                  st.system_source, format_civil(*st.system_t));
      }
      std::string title =
          fmt::format("No output for {} in {}: {}", human_duration(silence), where, why);
      std::string detail = r.reason;
      if (P == 5 && ph.progress && ph.progress->pid >= 0) {
        // The engine printing the bar is the one to look at, usually on another node.
        auto it = worker_of_pid.find(ph.progress->pid);
        detail +=
            it != worker_of_pid.end()
                ? fmt::format(" The loading engine is {} pid {}; its log is {}.",
                              ph.progress->actor, ph.progress->pid, it->second)
                : fmt::format(
                      " The loading engine is {} pid {}{}: read worker-*-{}.err in "
                      "session_latest/logs/ on {} (not among the inputs).",
                      ph.progress->actor, ph.progress->pid,
                      ph.progress->ip.empty() ? "" : " on " + ph.progress->ip, ph.progress->pid,
                      ph.progress->ip.empty() ? std::string("the driver's node") : ph.progress->ip);
      }
      Finding f = stall_finding(title, detail, fix);
      if (P == 5 && ph.progress && ph.progress->pid >= 0) {
        f.actor = ph.progress->actor;
        f.pid = ph.progress->pid;
        f.ip = ph.progress->ip;
        auto it = worker_of_pid.find(f.pid);
        if (it != worker_of_pid.end()) f.worker_file = it->second;
      }
      r.findings.insert(r.findings.begin(), std::move(f));
      r.summary = fmt::format("stuck {}: {}", clock.empty() ? "in " + where : clock, why);
      return;
    }
    r.verdict = Verdict::running;
    r.headline = fmt::format("running: {}", where);
    if (!progress.empty()) r.headline += ", " + progress;
    r.reason = clock.empty() ? std::string() : clock + ".";
    if (r.reason.size())
      r.reason[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(r.reason[0])));
    if (ph.over_expected && ph.ongoing)
      r.reason += fmt::format(" The phase has taken {}, over the typical {}.",
                              human_duration(ph.duration_s.value_or(0)), ph.expected);
    r.summary = "running: " + (clock.empty() ? where : clock);
    if (!progress.empty()) r.summary += ", " + progress;
    if (shards_full && silence >= 0) r.summary += " (silence after 100 % is normal up to 10 min)";
  }

  void finish_actors() {
    std::set<int64_t> died;
    std::set<int64_t> erred;
    for (const auto& f : r.findings) {
      if (f.kind == "actor_died" && f.pid >= 0) died.insert(f.pid);
      if ((f.severity == "fatal" || f.severity == "error") && f.pid >= 0) erred.insert(f.pid);
    }
    for (auto& [pid, acc] : st.actors) {
      Actor a = acc.a;
      if (died.count(pid))
        a.status = "died";
      else if (a.status.empty())
        a.status = erred.count(pid) ? "error" : "ok";
      if (a.name.empty() && a.driver_lines == 0 && a.file_lines == 0) continue;  // idle worker
      r.actors.push_back(std::move(a));
    }
    std::stable_sort(r.actors.begin(), r.actors.end(), [](const Actor& a, const Actor& b) {
      if (a.name != b.name) return a.name < b.name;
      if (a.rank != b.rank) return a.rank < b.rank;
      return a.pid < b.pid;
    });
    if (st.benign) {
      r.benign_lines = st.benign;
      r.benign_first = st.benign_first;
    }
    for (auto& p : st.problems) r.problems.push_back(std::move(p));
  }

  void run() {
    r.driver_lines = st.driver_lines;
    r.finished_marker = st.finished;
    actors();
    times();
    phases();
    in_phase();
    findings();
    verdict();
    finish_actors();
  }
};

}  // namespace

bool is_driver_log(const fs::path& file) {
  std::string head;
  try {
    auto src = input::open_source(file.string());
    head.resize(kSniffBytes);
    size_t got = 0;
    while (got < head.size()) {
      size_t n = src->read(head.data() + got, head.size() - got);
      if (n == 0) break;
      got += n;
    }
    head.resize(got);
  } catch (const std::exception&) {
    return false;
  }
  return is_driver_log_head(head);
}

bool is_session_logs_dir(const fs::path& dir) {
  return session_logs_of(dir).has_value();
}

namespace {

// Every report has the seven phases and a headline, even when the analysis stopped early.
void complete(RayReport& r) {
  if (r.phases.empty())
    for (const auto& info : kPhases) {
      Phase p;
      p.number = info.number;
      p.name = info.name;
      p.marker = info.marker;
      p.expected = info.expected;
      p.expected_max_s = info.max_s;
      r.phases.push_back(std::move(p));
    }
  if (r.headline.empty()) r.headline = "unknown";
}

}  // namespace

RayReport analyze(const std::vector<fs::path>& inputs, const Options& opt) {
  RayReport r;
  ScanState st;
  bool scanned = false;
  try {
    detail::discover(inputs, st, r);
    detail::scan_all(st);
    scanned = true;
  } catch (const std::exception& e) {
    r.problems.push_back({"", fmt::format("analysis stopped: {}", e.what())});
  }
  if (scanned)
    detail::decide(st, r, opt);
  else
    complete(r);
  return r;
}

namespace detail {

void scan_all(ScanState& st) {
  std::vector<InputFile> files = std::move(st.files);
  st.files.clear();
  for (const auto& f : files) fold(st, scan_one(f));
}

void decide(ScanState& st, RayReport& r, const Options& opt) {
  try {
    Builder b{st, r, opt, {}, false, {}, {}};
    b.run();
  } catch (const std::exception& e) {
    r.problems.push_back({"", fmt::format("analysis stopped: {}", e.what())});
  }
  complete(r);
}

}  // namespace detail

}  // namespace alog::ray
