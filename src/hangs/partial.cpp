// Hang artifacts where the logs live (`analyze-logs partial` / `merge`): each file's part
// (detail::FilePart: its Flight Recorder dump, or the stack dumps, watchdog lines, torchrun rows
// and RAS counters read from it) as JSON, and the decision over the parts of several nodes in the
// order one analysis over all the files would have read them.
#include "analyze_logs/core/partial.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "analyze_logs/core/json_io.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::hangs {

using json = nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Frame, func, file, line)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FrEntry, pg, pg_desc, pg_id, seq, p2p_seq, is_p2p, op, state,
                                   retired, timeout_ms, input_sizes, output_sizes, dtypes, frames)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FrGroup, name, desc, ranks, last_enqueued, last_completed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FrDump, file, rank, format, version, error, groups, entries)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Thread, id, name, status, main, frames)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(StackDump, source, file, line, pid, rank, rank_from, header,
                                   threads)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WatchLine, kind, rank, pg, seq, enqueued, completed, op,
                                   numel_in, numel_out, timeout_ms, other, pid, frame, ev)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TableRow, rank, local_rank, host, pid, exitcode, root_cause,
                                   traceback, ev)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RasRank, rank, ops, majority_ops, op, pid, node, ev)

namespace detail {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PidFact, rank, pid, host, source, nranks)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Facts, dumps, lines, table, ras, ids, problems, ambiguities,
                                   lines_read)
}  // namespace detail

namespace {

namespace fs = std::filesystem;
using detail::FilePart;

json part_json(const FilePart& p) {
  json j{{"path", p.path}, {"display", p.display}, {"what", static_cast<int>(p.what)}};
  if (p.what == FilePart::kFr) j["fr"] = p.fr;
  if (p.what == FilePart::kFacts) j["facts"] = p.facts;
  if (p.what == FilePart::kUnreadable) j["problem"] = p.problem;
  return j;
}

FilePart part_from(const json& j) {
  FilePart p;
  p.path = j.at("path").get<std::string>();
  p.display = j.at("display").get<std::string>();
  int what = j.at("what").get<int>();
  if (what < FilePart::kNone || what > FilePart::kUnreadable)
    throw std::runtime_error(fmt::format("hang state of {}: unknown part {}", p.display, what));
  p.what = static_cast<FilePart::What>(what);
  if (p.what == FilePart::kFr) p.fr = j.at("fr").get<FrDump>();
  if (p.what == FilePart::kFacts) p.facts = j.at("facts").get<detail::Facts>();
  if (p.what == FilePart::kUnreadable) p.problem = j.at("problem").get<std::string>();
  return p;
}

// A file's evidence names it by its display name: a file two hosts hold under one path is named
// `host:path` in its part, so the report tells them apart.
void rename(FilePart& p, const std::string& to) {
  const std::string from = p.display;
  auto fix = [&](std::string& s) {
    if (s == from) s = to;
  };
  fix(p.fr.file);
  for (auto& d : p.facts.dumps) fix(d.file);
  for (auto& l : p.facts.lines) fix(l.ev.file);
  for (auto& t : p.facts.table) fix(t.ev.file);
  for (auto& r : p.facts.ras) fix(r.ev.file);
  for (auto& pr : p.facts.problems) fix(pr.first);
  p.display = to;
}

}  // namespace

json partial_state(const std::vector<fs::path>& inputs) {
  json files = json::array(), problems = json::array();
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<std::pair<std::string, std::string>> walk_problems;
    for (const auto& [path, display] : detail::walk_inputs({inputs[i]}, walk_problems)) {
      json j = part_json(detail::read_file(path, display));
      j["input"] = inputs[i].string();
      files.push_back(std::move(j));
    }
    for (auto& [file, message] : walk_problems)
      problems.push_back({{"input", inputs[i].string()}, {"file", file}, {"message", message}});
  }
  return {{"files", std::move(files)}, {"problems", std::move(problems)}};
}

HangReport merge_partials(const std::vector<std::string>& inputs,
                          const std::vector<core::PartState>& parts) {
  struct One {
    size_t input;
    fs::path path;
    std::string host;
    FilePart part;
  };
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < inputs.size(); ++i) order.emplace(inputs[i], i);
  // The input a file is read under in the one analysis: the one its partial read it under, else
  // the first that holds it; inputs.size() for a file none holds (another job's: left out).
  auto input_of = [&](const json& j, const std::string& path) {
    auto it = order.find(j.at("input").get<std::string>());
    if (it != order.end()) return it->second;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (path_under(path, inputs[i])) return i;
    return inputs.size();
  };
  std::vector<One> all;
  std::vector<std::pair<size_t, std::pair<std::string, std::string>>> problems;
  try {
    for (const auto& ps : parts) {
      for (const auto& j : ps.state.at("files")) {
        FilePart p = part_from(j);
        size_t in = input_of(j, p.path);
        if (in == inputs.size()) continue;
        fs::path path = p.path;
        all.push_back({in, std::move(path), ps.host, std::move(p)});
      }
      for (const auto& j : ps.state.at("problems")) {
        size_t in = input_of(j, j.at("file").get<std::string>());
        if (in < inputs.size())
          problems.push_back(
              {in, {j.at("file").get<std::string>(), j.at("message").get<std::string>()}});
      }
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("hang state: {}", e.what()));
  }
  // One walk over every input, each sorted as the walk sorts: the order of the partials does not
  // matter.
  std::stable_sort(all.begin(), all.end(), [](const One& a, const One& b) {
    if (a.input != b.input) return a.input < b.input;
    if (a.path != b.path) return a.path < b.path;
    return a.host < b.host;
  });
  // One host's file read for two jobs of its partial (a Ray job's and a hang analysis): once.
  all.erase(std::unique(all.begin(), all.end(),
                        [](const One& a, const One& b) {
                          return a.input == b.input && a.path == b.path && a.host == b.host;
                        }),
            all.end());
  for (size_t i = 0; i < all.size();) {
    size_t j = i + 1;
    while (j < all.size() && all[j].input == all[i].input && all[j].path == all[i].path) ++j;
    if (j - i > 1)
      for (size_t k = i; k < j; ++k)
        rename(all[k].part, fmt::format("{}:{}", all[k].host, all[k].part.display));
    i = j;
  }
  std::stable_sort(problems.begin(), problems.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  problems.erase(std::unique(problems.begin(), problems.end()), problems.end());
  std::vector<std::pair<std::string, std::string>> walk_problems;
  for (auto& p : problems) walk_problems.push_back(std::move(p.second));
  std::vector<FilePart> ordered;
  for (auto& o : all) ordered.push_back(std::move(o.part));
  return detail::decide(std::move(ordered), std::move(walk_problems));
}

}  // namespace alog::hangs
