// A one-file ScanState to JSON and back: what a Ray partial holds per file (partial.cpp). Every
// member of the scan state is listed here: a member added to ScanState, PhaseAcc, Hit, WorkerAcc
// or ActorAcc must be added below, or a merged report loses it (tests/unit/ray/test_partial.cpp
// compares merged and direct reports of every testdata job, and a folded state with the state
// of the same files scanned in turn).
//
// Reading checks every key and type itself instead of nlohmann's macros so that a damaged part
// is refused with the path of what is wrong (`hits[3].ev.line: expected an integer, got a
// string`), never read half-way. The states hold no floating point number, so JSON (and the
// caller's CBOR) round-trips them exactly.
#include <fmt/format.h>

#include <stdexcept>

#include "internal.hpp"

namespace alog::ray::detail {

using json = nlohmann::json;

namespace {

// A value that is not what was written: `path` grows from the leaf up as it is rethrown.
struct Bad {
  std::string path;
  std::string what;
};

const char* type_of(const json& j) {
  return j.type_name();
}

[[noreturn]] void bad_type(const char* want, const json& j) {
  throw Bad{"", fmt::format("expected {}, got {}", want, type_of(j))};
}

void from(const json& j, std::string& v) {
  if (!j.is_string()) bad_type("a string", j);
  v = j.get_ref<const std::string&>();
}
void from(const json& j, bool& v) {
  if (!j.is_boolean()) bad_type("a boolean", j);
  v = j.get<bool>();
}
void from(const json& j, int64_t& v) {
  if (!j.is_number_integer()) bad_type("an integer", j);
  if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw Bad{"", "integer out of range"};
  v = j.get<int64_t>();
}
void from(const json& j, uint64_t& v) {
  if (!j.is_number_unsigned()) bad_type("an unsigned integer", j);
  v = j.get<uint64_t>();
}
void from(const json& j, int& v) {
  int64_t x = 0;
  from(j, x);
  if (x < INT32_MIN || x > INT32_MAX) throw Bad{"", "integer out of range"};
  v = static_cast<int>(x);
}
static_assert(std::is_same_v<size_t, uint64_t>, "file indices are read as uint64_t");

// Declared before the templates that call them (they are found by ordinary lookup, not ADL).
struct Bar;
struct KeyedActor;
void from(const json& j, Evidence& e);
void from(const json& j, Progress& p);
void from(const json& j, std::pair<std::string, std::string>& kv);
void from(const json& j, Problem& p);
void from(const json& j, Hit& h);
void from(const json& j, Bar& b);
void from(const json& j, PhaseAcc& p);
void from(const json& j, ActorAcc& a);
void from(const json& j, KeyedActor& k);
void from(const json& j, WorkerAcc& w);
json to(const Evidence& e);
json to(const Progress& p);
json to(const Problem& p);
json to(const Hit& h);
json to(const WorkerAcc& w);

template <typename T>
void from(const json& j, std::optional<T>& v);
template <typename T>
void from(const json& j, std::vector<T>& v);

template <typename T>
void field(const json& j, const char* key, T& v) {
  if (!j.is_object()) bad_type("an object", j);
  auto it = j.find(key);
  if (it == j.end()) throw Bad{key, "missing"};
  try {
    from(*it, v);
  } catch (Bad& b) {
    b.path = b.path.empty()          ? std::string(key)
             : b.path.front() == '[' ? key + b.path
                                     : fmt::format("{}.{}", key, b.path);
    throw;
  }
}

template <typename T>
void from(const json& j, std::optional<T>& v) {
  if (j.is_null()) {
    v.reset();
    return;
  }
  T x{};
  from(j, x);
  v = std::move(x);
}

template <typename T>
void from(const json& j, std::vector<T>& v) {
  if (!j.is_array()) bad_type("an array", j);
  v.clear();
  v.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    T x{};
    try {
      from(j[i], x);
    } catch (Bad& b) {
      std::string at = fmt::format("[{}]", i);
      b.path = b.path.empty() ? at : b.path.front() == '[' ? at + b.path : at + "." + b.path;
      throw;
    }
    v.push_back(std::move(x));
  }
}

// ---- the types -------------------------------------------------------------------------------

template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// Every evidence line of a one-file state is of that file: its name is the file's, not
// repeated (worker file names are 100 bytes); an evidence never set is null.
thread_local const std::string* g_display = nullptr;

json to(const Evidence& e) {
  if (e.file.empty()) return nullptr;
  return {{"line", e.line}, {"time", e.time}, {"time_exact", e.time_exact}, {"text", e.text}};
}
void from(const json& j, Evidence& e) {
  e = Evidence{};
  if (j.is_null()) return;
  field(j, "line", e.line);
  field(j, "time", e.time);
  field(j, "time_exact", e.time_exact);
  field(j, "text", e.text);
  e.file = g_display ? *g_display : std::string();
}
json to(const std::optional<Evidence>& e) {
  return e ? to(*e) : json(nullptr);
}
json to(const Progress& p) {
  json postfix = json::array();
  for (const auto& [k, v] : p.postfix) postfix.push_back(json::array({k, v}));
  return {{"desc", p.desc},
          {"percent", p.percent},
          {"n", p.n},
          {"total", p.total},
          {"elapsed", p.elapsed},
          {"remaining", p.remaining},
          {"rate", p.rate},
          {"postfix", postfix},
          {"time", p.time},
          {"where", to(p.where)},
          {"actor", p.actor},
          {"pid", p.pid},
          {"ip", p.ip}};
}
void from(const json& j, std::pair<std::string, std::string>& kv) {
  if (!j.is_array() || j.size() != 2) bad_type("a [key, value] pair", j);
  try {
    from(j[0], kv.first);
    from(j[1], kv.second);
  } catch (Bad& b) {
    b.path = "[0|1]";
    throw;
  }
}
void from(const json& j, Progress& p) {
  field(j, "desc", p.desc);
  field(j, "percent", p.percent);
  field(j, "n", p.n);
  field(j, "total", p.total);
  field(j, "elapsed", p.elapsed);
  field(j, "remaining", p.remaining);
  field(j, "rate", p.rate);
  field(j, "postfix", p.postfix);
  field(j, "time", p.time);
  field(j, "where", p.where);
  field(j, "actor", p.actor);
  field(j, "pid", p.pid);
  field(j, "ip", p.ip);
}
json to(const std::optional<Progress>& p) {
  return p ? to(*p) : json(nullptr);
}

json to(const Problem& p) {
  return {{"file", p.file}, {"message", p.message}};
}
void from(const json& j, Problem& p) {
  field(j, "file", p.file);
  field(j, "message", p.message);
}

json to(const Hit& h) {
  return {{"kind", h.kind},
          {"severity", h.severity},
          {"ev", to(h.ev)},
          {"t", opt(h.t)},
          {"actor", h.actor},
          {"pid", h.pid},
          {"ip", h.ip},
          {"rank", h.rank},
          {"count", h.count},
          {"file", h.file},
          {"rank_pid", h.rank_pid},
          {"in_worker_file", h.in_worker_file},
          {"driver_own", h.driver_own},
          {"detail", h.detail},
          {"frame", h.frame},
          {"fix_key", h.fix_key},
          {"watchdog", h.watchdog},
          {"seq", h.seq},
          {"op", h.op},
          {"timeout_ms", h.timeout_ms}};
}
void from(const json& j, Hit& h) {
  field(j, "kind", h.kind);
  field(j, "severity", h.severity);
  field(j, "ev", h.ev);
  field(j, "t", h.t);
  field(j, "actor", h.actor);
  field(j, "pid", h.pid);
  field(j, "ip", h.ip);
  field(j, "rank", h.rank);
  field(j, "count", h.count);
  field(j, "file", h.file);
  field(j, "rank_pid", h.rank_pid);
  field(j, "in_worker_file", h.in_worker_file);
  field(j, "driver_own", h.driver_own);
  field(j, "detail", h.detail);
  field(j, "frame", h.frame);
  field(j, "fix_key", h.fix_key);
  field(j, "watchdog", h.watchdog);
  field(j, "seq", h.seq);
  field(j, "op", h.op);
  field(j, "timeout_ms", h.timeout_ms);
}

// A bar of a phase: its key (`desc|pid`), its last state and that state's time.
struct Bar {
  std::string key;
  Progress bar;
  std::optional<int64_t> t;
};
void from(const json& j, Bar& b) {
  field(j, "key", b.key);
  field(j, "bar", b.bar);
  field(j, "t", b.t);
}

// A phase nothing marked is null.
json to(const PhaseAcc& p) {
  if (!p.any) return nullptr;
  json bars = json::array();
  for (const auto& [key, v] : p.bars)
    bars.push_back({{"key", key}, {"bar", to(v.first)}, {"t", opt(v.second)}});
  return {{"count", p.count},
          {"start_t", opt(p.start_t)},
          {"start_exact", p.start_exact},
          {"first", to(p.first)},
          {"last", to(p.last)},
          {"last_t", opt(p.last_t)},
          {"last_timed", p.last_timed},
          {"last_untimed", to(p.last_untimed)},
          {"done_t", opt(p.done_t)},
          {"all_done_t", opt(p.all_done_t)},
          {"bars", bars}};
}
void from(const json& j, PhaseAcc& p) {
  p = PhaseAcc{};
  if (j.is_null()) return;
  p.any = true;
  field(j, "count", p.count);
  field(j, "start_t", p.start_t);
  field(j, "start_exact", p.start_exact);
  field(j, "first", p.first);
  field(j, "last", p.last);
  field(j, "last_t", p.last_t);
  field(j, "last_timed", p.last_timed);
  field(j, "last_untimed", p.last_untimed);
  field(j, "done_t", p.done_t);
  field(j, "all_done_t", p.all_done_t);
  std::vector<Bar> bars;
  field(j, "bars", bars);
  for (auto& b : bars) p.bars[b.key] = {std::move(b.bar), b.t};
}

json to(const ActorAcc& a) {
  return {{"name", a.a.name},
          {"pid", a.a.pid},
          {"ip", a.a.ip},
          {"rank", a.a.rank},
          {"worker_file", a.a.worker_file},
          {"last_time", a.a.last_time},
          {"driver_lines", a.a.driver_lines},
          {"file_lines", a.a.file_lines},
          {"status", a.a.status},
          {"last_t", opt(a.last_t)}};
}
void from(const json& j, ActorAcc& a) {
  field(j, "name", a.a.name);
  field(j, "pid", a.a.pid);
  field(j, "ip", a.a.ip);
  field(j, "rank", a.a.rank);
  field(j, "worker_file", a.a.worker_file);
  field(j, "last_time", a.a.last_time);
  field(j, "driver_lines", a.a.driver_lines);
  field(j, "file_lines", a.a.file_lines);
  field(j, "status", a.a.status);
  field(j, "last_t", a.last_t);
}
// The actor table is keyed by pid; a value's own pid may still be -1 (see fold_actor).
struct KeyedActor {
  int64_t key = -1;
  ActorAcc acc;
};
void from(const json& j, KeyedActor& k) {
  field(j, "key", k.key);
  from(j, k.acc);
}

json to(const WorkerAcc& w) {
  return {{"file", w.file},     {"pid", w.pid},           {"actor", w.actor},
          {"rank", w.rank},     {"lines", w.lines},       {"last_t", opt(w.last_t)},
          {"last", to(w.last)}, {"watchdog", w.watchdog}, {"watchdog_ev", to(w.watchdog_ev)}};
}
void from(const json& j, WorkerAcc& w) {
  field(j, "file", w.file);
  field(j, "pid", w.pid);
  field(j, "actor", w.actor);
  field(j, "rank", w.rank);
  field(j, "lines", w.lines);
  field(j, "last_t", w.last_t);
  field(j, "last", w.last);
  field(j, "watchdog", w.watchdog);
  field(j, "watchdog_ev", w.watchdog_ev);
}

template <typename T>
json array_of(const std::vector<T>& v) {
  json a = json::array();
  for (const auto& x : v) a.push_back(to(x));
  return a;
}

constexpr FileKind kKinds[] = {FileKind::driver, FileKind::worker, FileKind::raylet, FileKind::gcs,
                               FileKind::monitor};

// `prefix` is where the value sits in the part ("files[2].state").
std::string where(const std::string& prefix, const Bad& b) {
  std::string path = prefix;
  if (!b.path.empty()) path += (path.empty() || b.path.front() == '[' ? "" : ".") + b.path;
  return path.empty() ? b.what : fmt::format("{}: {}", path, b.what);
}

}  // namespace

const char* file_kind_name(FileKind k) {
  switch (k) {
    case FileKind::driver:
      return "driver";
    case FileKind::worker:
      return "worker";
    case FileKind::raylet:
      return "raylet";
    case FileKind::gcs:
      return "gcs";
    case FileKind::monitor:
      return "monitor";
  }
  return "driver";
}

json state_to_json(const ScanState& st) {
  json j;
  json phases = json::array();
  for (int p = 1; p <= 7; ++p) phases.push_back(to(st.phases[p]));
  j["phases"] = phases;
  j["hits"] = array_of(st.hits);
  json actors = json::array();
  for (const auto& [pid, acc] : st.actors) {
    json a = to(acc);
    a["key"] = pid;
    actors.push_back(std::move(a));
  }
  j["actors"] = actors;
  j["workers"] = array_of(st.workers);
  j["first_t"] = opt(st.first_t);
  j["activity_t"] = opt(st.activity_t);
  j["system_t"] = opt(st.system_t);
  j["system_source"] = st.system_source;
  j["activity_ev"] = to(st.activity_ev);
  j["system_ev"] = to(st.system_ev);
  j["finished"] = st.finished;
  j["bar_complete"] = st.bar_complete;
  j["finished_ev"] = to(st.finished_ev);
  j["benign"] = st.benign;
  j["benign_first"] = to(st.benign_first);
  j["world_size"] = st.world_size;
  j["driver_lines"] = st.driver_lines;
  j["training"] = to(st.training);
  j["training_t"] = opt(st.training_t);
  j["training_timed"] = st.training_timed;
  j["training_untimed"] = to(st.training_untimed);
  j["problems"] = array_of(st.problems);
  j["added_early"] = st.added_early;
  // Only read when the file marked phase 1 with `Added N samples` (fold()).
  j["if_later"] =
      st.added_early ? json::array({to(st.if_later[0]), to(st.if_later[1])}) : json(nullptr);
  return j;
}

ScanState state_from_json(const json& j, const std::string& display, const std::string& at) {
  ScanState st;
  g_display = &display;
  struct Reset {
    ~Reset() { g_display = nullptr; }
  } reset;
  try {
    std::vector<std::optional<json>> phases;
    if (!j.is_object()) bad_type("an object", j);
    auto it = j.find("phases");
    if (it == j.end()) throw Bad{"phases", "missing"};
    if (!it->is_array() || it->size() != 7) throw Bad{"phases", "expected an array of 7"};
    for (int p = 1; p <= 7; ++p) {
      try {
        from((*it)[static_cast<size_t>(p - 1)], st.phases[p]);
      } catch (Bad& b) {
        b.path = fmt::format("phases[{}]{}{}", p - 1, b.path.empty() ? "" : ".", b.path);
        throw;
      }
    }
    field(j, "hits", st.hits);
    std::vector<KeyedActor> actors;
    field(j, "actors", actors);
    for (auto& a : actors) st.actors[a.key] = std::move(a.acc);
    field(j, "workers", st.workers);
    field(j, "first_t", st.first_t);
    field(j, "activity_t", st.activity_t);
    field(j, "system_t", st.system_t);
    field(j, "system_source", st.system_source);
    field(j, "activity_ev", st.activity_ev);
    field(j, "system_ev", st.system_ev);
    field(j, "finished", st.finished);
    field(j, "bar_complete", st.bar_complete);
    field(j, "finished_ev", st.finished_ev);
    field(j, "benign", st.benign);
    field(j, "benign_first", st.benign_first);
    field(j, "world_size", st.world_size);
    field(j, "driver_lines", st.driver_lines);
    field(j, "training", st.training);
    field(j, "training_t", st.training_t);
    field(j, "training_timed", st.training_timed);
    field(j, "training_untimed", st.training_untimed);
    field(j, "problems", st.problems);
    field(j, "added_early", st.added_early);
    if (st.added_early) {
      auto il = j.find("if_later");
      if (il == j.end()) throw Bad{"if_later", "missing"};
      if (!il->is_array() || il->size() != 2) throw Bad{"if_later", "expected an array of 2"};
      for (size_t i = 0; i < 2; ++i) {
        try {
          from((*il)[i], st.if_later[i]);
        } catch (Bad& b) {
          b.path = fmt::format("if_later[{}]{}{}", i, b.path.empty() ? "" : ".", b.path);
          throw;
        }
      }
    }
  } catch (const Bad& b) {
    throw std::runtime_error(where(at, b));
  }
  return st;
}

json file_to_json(const InputFile& f) {
  return {{"display", f.display},
          {"path", f.path.generic_string()},
          {"kind", file_kind_name(f.kind)},
          {"pid", f.pid},
          {"err", f.err},
          {"year", f.year},
          {"group", f.group},
          {"dir", f.dir.generic_string()},
          {"forced", f.forced},
          {"walked", f.walked}};
}

InputFile file_from_json(const json& j, const std::string& at) {
  InputFile f;
  try {
    std::string path, dir, kind;
    field(j, "display", f.display);
    field(j, "path", path);
    field(j, "kind", kind);
    field(j, "pid", f.pid);
    field(j, "err", f.err);
    field(j, "year", f.year);
    field(j, "group", f.group);
    field(j, "dir", dir);
    field(j, "forced", f.forced);
    field(j, "walked", f.walked);
    f.path = path;
    f.dir = dir;
    bool known = false;
    for (FileKind k : kKinds)
      if (kind == file_kind_name(k)) {
        f.kind = k;
        known = true;
      }
    if (!known) throw Bad{"kind", fmt::format("unknown file kind '{}'", kind)};
    if (f.group < 0 || f.group > 3) throw Bad{"group", "expected 0 to 3"};
  } catch (const Bad& b) {
    throw std::runtime_error(where(at, b));
  }
  return f;
}

}  // namespace alog::ray::detail
