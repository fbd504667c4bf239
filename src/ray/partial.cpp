// partial_state / merge_partials: the Ray analysis split where the logs live.
//
// A node keeps, per file analyze() would read, the file's own scan (scan_one): the scan reads
// nothing of other files except an actor's rank and whether a later phase came first, and fold()
// resolves both. The merge puts the files of all parts in the order discover() gives files found
// in one place (driver logs by folder, then each session folder's worker files and Ray's own logs
// by path, `session_latest` first, then files given alone), folds their states in that order and
// decides as analyze() does, so the report is the one of all the files in one place. Display paths
// are made again against the folder that holds every part's base; a file path held by two hosts
// becomes `host:path` in each (a session folder held by two is listed once).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "internal.hpp"

namespace alog::ray {

namespace fs = std::filesystem;
using json = nlohmann::json;
using detail::InputFile;
using detail::ScanState;

namespace {

constexpr int kStateVersion = 1;

fs::path absolute_of(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return (ec ? p : a).lexically_normal();
}

// One file of one part, as read back.
struct Item {
  std::string host;
  InputFile f;  // its path and dir absolute (on the node that wrote the part)
  ScanState st;
};

struct Part {
  std::string host;
  std::string base;
  std::vector<std::string> ignored;       // older sessions of a node
  std::vector<fs::path> ignored_drivers;  // older driver logs of a running_logs/ (absolute)
  std::vector<Problem> problems;
  std::vector<Item> items;
};

// `at`: where `j` sits in the part ("files[2]"), for the message.
std::string path_of(const std::string& at, const char* k) {
  return at.empty() ? std::string(k) : fmt::format("{}.{}", at, k);
}

const json& key(const json& j, const char* k, const std::string& at = "") {
  auto it = j.find(k);
  if (it == j.end()) throw std::runtime_error(fmt::format("{}: missing", path_of(at, k)));
  return *it;
}

std::string str(const json& j, const char* k, const std::string& at = "") {
  const json& v = key(j, k, at);
  if (!v.is_string())
    throw std::runtime_error(
        fmt::format("{}: expected a string, got {}", path_of(at, k), v.type_name()));
  return v.get<std::string>();
}

const json& arr(const json& j, const char* k) {
  const json& v = key(j, k);
  if (!v.is_array())
    throw std::runtime_error(fmt::format("{}: expected an array, got {}", k, v.type_name()));
  return v;
}

Part read_part(const core::PartState& ps) {
  Part p;
  p.host = ps.host;
  const json& j = ps.state;
  try {
    if (!j.is_object())
      throw std::runtime_error(fmt::format("expected an object, got {}", j.type_name()));
    const json& v = key(j, "version");
    if (!v.is_number_integer() || v.get<int64_t>() != kStateVersion)
      throw std::runtime_error(
          fmt::format("version: expected {}, got {}", kStateVersion, v.dump()));
    p.base = str(j, "base");
    for (const auto& s : arr(j, "ignored")) {
      if (!s.is_string()) throw std::runtime_error("ignored: expected strings");
      p.ignored.push_back(s.get<std::string>());
    }
    for (const auto& s : arr(j, "ignored_drivers")) {
      if (!s.is_string()) throw std::runtime_error("ignored_drivers: expected strings");
      p.ignored_drivers.emplace_back(s.get<std::string>());
    }
    const json& problems = arr(j, "problems");
    for (size_t i = 0; i < problems.size(); ++i) {
      std::string at = fmt::format("problems[{}]", i);
      if (!problems[i].is_object())
        throw std::runtime_error(fmt::format("{}: expected an object", at));
      p.problems.push_back({str(problems[i], "file", at), str(problems[i], "message", at)});
    }
    const json& files = arr(j, "files");
    for (size_t i = 0; i < files.size(); ++i) {
      const json& jf = files[i];
      std::string at = fmt::format("files[{}]", i);
      if (!jf.is_object())
        throw std::runtime_error(fmt::format("{}: expected an object, got {}", at, jf.type_name()));
      Item it;
      it.host = ps.host;
      it.f = detail::file_from_json(jf, at);
      it.st = detail::state_from_json(key(jf, "state", at), it.f.display, at + ".state");
      p.items.push_back(std::move(it));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("Ray partial state of host '{}': {}", ps.host, e.what()));
  }
  return p;
}

// discover()'s order: driver logs by folder; the session folder an input is; session folders
// found below (`session_latest` first, then by path), each with its worker files before Ray's
// own logs, each by path; files given alone last.
auto order_key(const Item& it) {
  const InputFile& f = it.f;
  bool session = f.group == 1 || f.group == 2;
  int latest = f.group == 2 && detail::is_latest_session(f.dir) ? 0 : 1;
  int system = session && f.kind != detail::FileKind::worker ? 1 : 0;
  fs::path dir = f.group == 3 ? fs::path() : f.dir;
  return std::make_tuple(f.group, latest, dir, system, f.path, it.host);
}

}  // namespace

json partial_state(const std::vector<fs::path>& inputs, const Options& opt) {
  (void)opt;  // the clock is the merge's: the state holds the logs' own times only
  RayReport r;
  ScanState st;
  json files = json::array();
  std::vector<fs::path> older;
  try {
    detail::discover(inputs, st, r, &older);
    for (const auto& f : st.files) {
      // Absolute: the merge places the files of every part under the folder holding them all.
      InputFile a = f;
      a.path = absolute_of(f.path);
      a.dir = absolute_of(f.dir);
      json jf = detail::file_to_json(a);
      jf["state"] = detail::state_to_json(detail::scan_one(f));
      files.push_back(std::move(jf));
    }
  } catch (const std::exception& e) {
    st.problems.push_back({"", fmt::format("analysis stopped: {}", e.what())});
  }
  json problems = json::array();
  for (const auto& p : st.problems) problems.push_back({{"file", p.file}, {"message", p.message}});
  // The older driver logs apart: the merge chooses the newest of a folder among all parts.
  json ignored = json::array(), ignored_drivers = json::array();
  for (const auto& s : r.ignored)
    if (std::none_of(older.begin(), older.end(),
                     [&](const fs::path& o) { return o.string() == s; }))
      ignored.push_back(s);
  for (const auto& o : older) ignored_drivers.push_back(absolute_of(o).generic_string());
  return {{"version", kStateVersion}, {"base", r.base},
          {"ignored", ignored},       {"ignored_drivers", ignored_drivers},
          {"problems", problems},     {"files", std::move(files)}};
}

RayReport merge_partials(const std::vector<core::PartState>& parts, const Options& opt) {
  std::vector<Part> ps;
  for (const auto& p : parts) ps.push_back(read_part(p));
  // What is per part (discovery's problems and ignored files) in an order of its own.
  std::stable_sort(ps.begin(), ps.end(), [](const Part& a, const Part& b) {
    return std::tie(a.host, a.base, a.ignored) < std::tie(b.host, b.base, b.ignored);
  });

  RayReport r;
  ScanState st;
  std::vector<Item> items;
  std::vector<fs::path> bases;
  std::set<std::pair<std::string, fs::path>> seen;     // one host's file given by two parts: once
  std::map<fs::path, std::vector<fs::path>> older_in;  // running_logs/ -> its older driver logs
  std::set<fs::path> older_sessions;
  for (auto& p : ps) {
    for (const auto& o : p.ignored_drivers) older_in[o.parent_path()].push_back(o);
    if (!p.base.empty()) bases.emplace_back(p.base);
    for (auto& pr : p.problems) st.problems.push_back(std::move(pr));
    for (auto& s : p.ignored) older_sessions.insert(std::move(s));
    for (auto& it : p.items)
      if (seen.emplace(it.host, it.f.path).second) items.push_back(std::move(it));
  }
  // A dated session folder next to a `session_latest` is an older session of that node, as
  // discovery decides among the folders of all the parts (a part may hold the older one alone).
  auto session_of = [](const fs::path& dir) {
    return dir.filename() == "logs" ? dir.parent_path() : dir;
  };
  std::set<fs::path> latest_parents;
  for (const auto& it : items)
    if ((it.f.group == 1 || it.f.group == 2) && session_of(it.f.dir).filename() == "session_latest")
      latest_parents.insert(session_of(it.f.dir).parent_path());
  std::erase_if(items, [&](const Item& it) {
    fs::path sess = session_of(it.f.dir);
    bool older = it.f.group == 2 && sess.filename() != "session_latest" &&
                 sess.filename().string().starts_with("session_") &&
                 latest_parents.count(sess.parent_path());
    if (older) older_sessions.insert(it.f.dir);
    return older;
  });
  for (const auto& s : older_sessions) r.ignored.push_back(s.string());

  // The newest driver log of a folder, as discovery chooses it among the logs of all the parts
  // (each part chose among its own); the others are ignored, after the older sessions.
  std::map<fs::path, std::vector<fs::path>> logs_in = older_in;
  for (const auto& it : items)
    if (it.f.group == 0 && it.f.walked) logs_in[it.f.dir].push_back(it.f.path);
  std::set<fs::path> dropped;
  for (auto& [dir, v] : logs_in) {
    std::sort(v.begin(), v.end(), [](const fs::path& a, const fs::path& b) {
      auto sa = detail::newest_stamp(a), sb = detail::newest_stamp(b);
      if (sa != sb) return sa > sb;
      return a.filename() > b.filename();
    });
    v.erase(std::unique(v.begin(), v.end()), v.end());
    for (size_t i = 1; i < v.size(); ++i) {
      dropped.insert(v[i]);
      r.ignored.push_back(v[i].string());
    }
  }
  std::erase_if(items, [&](const Item& it) {
    return it.f.group == 0 && it.f.walked && dropped.count(it.f.path);
  });
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return order_key(a) < order_key(b); });

  fs::path base = detail::common_base({}, bases);
  r.base = base.string();
  // A display path held by two hosts names each file after its host.
  std::vector<std::string> display(items.size());
  std::map<std::string, std::set<std::string>> hosts_of;
  for (size_t i = 0; i < items.size(); ++i) {
    const fs::path& path = items[i].f.path;
    display[i] = detail::display_in(path, base, path.generic_string());
    hosts_of[display[i]].insert(items[i].host);
  }
  // A session folder is listed once, whichever hosts hold it (as the folders of one place).
  std::vector<std::string> session_dirs;
  std::set<std::string> dirs_listed;
  for (size_t i = 0; i < items.size(); ++i) {
    Item& it = items[i];
    std::string name = display[i];
    if (hosts_of[name].size() > 1) name = fmt::format("{}:{}", it.host, name);
    if (name != it.f.display) detail::rename_file(it.st, name);
    it.f.display = name;
    if (it.f.group == 1 || it.f.group == 2) {
      std::string d = detail::display_in(it.f.dir, base, it.f.dir.generic_string());
      if (dirs_listed.insert(d).second) session_dirs.push_back(d);
    }
    if (it.f.kind == detail::FileKind::driver) r.driver_logs.push_back(it.f.display);
    if (it.f.kind == detail::FileKind::worker) ++r.worker_files;
    if (it.f.forced)
      r.notes.push_back(
          fmt::format("{} does not look like a TorchSpec driver log; it was read as one anyway.",
                      it.f.path.filename().string()));
  }
  r.session_dirs = std::move(session_dirs);

  for (auto& it : items) {
    it.st.files.clear();
    it.st.files.push_back(std::move(it.f));
    detail::fold(st, std::move(it.st));
  }
  detail::decide(st, r, opt);
  return r;
}

}  // namespace alog::ray
