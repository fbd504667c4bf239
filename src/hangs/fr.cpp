// Flight Recorder documents (pickle or JSON) read into FrDump by key presence, so every schema
// version (a bare list in torch 2.2; `seq_id` before `collective_seq_id`; int pg_config keys in
// 1.x; pg_status numbers or strings) lands in the same fields (FORMATS-hangs.md §1.4).
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "analyze_logs/hangs.hpp"
#include "analyze_logs/util.hpp"

namespace alog::hangs {

namespace {

using json = nlohmann::json;

int64_t int_of(const json& j, int64_t dflt = -1) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_unsigned()) return static_cast<int64_t>(j.get<uint64_t>());
  if (j.is_string()) {  // JSON form of pg_status: "29524"
    const auto& s = j.get_ref<const std::string&>();
    if (!s.empty() && s[0] == '-') {
      auto v = parse_int(std::string_view(s).substr(1));
      return v ? -*v : dflt;
    }
    auto v = parse_int(s);
    return v ? *v : dflt;
  }
  return dflt;
}

std::string str_of(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const json* at(const json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

std::vector<int> ranks_of(const json& j) {
  std::vector<int> out;
  if (j.is_array()) {
    for (const auto& x : j)
      if (int64_t v = int_of(x); v >= 0 && v < (1 << 24)) out.push_back(static_cast<int>(v));
    return out;
  }
  if (!j.is_string()) return out;
  // "[0, 1, 2, 3]": a string in the dump
  int64_t v = -1;
  for (char c : j.get_ref<const std::string&>()) {
    if (c >= '0' && c <= '9') {
      v = (v < 0 ? 0 : v) * 10 + (c - '0');
      if (v >= (1 << 24)) return {};
    } else {
      if (v >= 0) out.push_back(static_cast<int>(v));
      v = -1;
    }
  }
  if (v >= 0) out.push_back(static_cast<int>(v));
  return out;
}

FrEntry entry_of(const json& e) {
  FrEntry x;
  if (const json* v = at(e, "pg_id")) x.pg_id = int_of(*v);
  if (const json* v = at(e, "process_group"); v && v->is_array() && v->size() == 2) {
    x.pg = str_of((*v)[0]);
    x.pg_desc = str_of((*v)[1]);
  }
  if (const json* v = at(e, "collective_seq_id"))
    x.seq = int_of(*v);
  else if (const json* w = at(e, "seq_id"))
    x.seq = int_of(*w);
  if (const json* v = at(e, "p2p_seq_id")) x.p2p_seq = int_of(*v);
  if (const json* v = at(e, "is_p2p"); v && v->is_boolean()) x.is_p2p = v->get<bool>();
  if (const json* v = at(e, "profiling_name")) x.op = str_of(*v);
  if (!at(e, "is_p2p") &&
      (x.op.find(":send") != std::string::npos || x.op.find(":recv") != std::string::npos))
    x.is_p2p = true;
  if (const json* v = at(e, "state")) x.state = str_of(*v);
  if (const json* v = at(e, "retired"); v && v->is_boolean()) x.retired = v->get<bool>();
  if (const json* v = at(e, "timeout_ms")) x.timeout_ms = int_of(*v);
  if (const json* v = at(e, "input_sizes"))
    x.input_sizes = v->dump(-1, ' ', false, json::error_handler_t::replace);
  if (const json* v = at(e, "output_sizes"))
    x.output_sizes = v->dump(-1, ' ', false, json::error_handler_t::replace);
  if (const json* v = at(e, "input_dtypes"); v && v->is_array() && !v->empty())
    x.dtypes = str_of((*v)[0]);
  if (const json* v = at(e, "frames"); v && v->is_array())
    for (const auto& f : *v) {
      Frame fr;
      if (const json* n = at(f, "name")) fr.func = str_of(*n);
      if (const json* n = at(f, "filename")) fr.file = str_of(*n);
      if (const json* n = at(f, "line")) fr.line = int_of(*n, 0);
      x.frames.push_back(std::move(fr));
    }
  return x;
}

}  // namespace

FrDump fr_from_json(const json& doc) {
  FrDump d;
  const json* entries = nullptr;
  if (doc.is_array()) {  // torch 2.2: the entries alone
    entries = &doc;
  } else if (doc.is_object()) {
    if (const json* v = at(doc, "version")) d.version = str_of(*v);
    entries = at(doc, "entries");
    if (const json* pc = at(doc, "pg_config"); pc && pc->is_object()) {
      for (auto it = pc->begin(); it != pc->end(); ++it) {
        FrGroup g;
        g.name = it.key();
        if (it->is_object()) {
          if (const json* n = at(*it, "name")) g.name = str_of(*n);
          if (const json* n = at(*it, "desc")) g.desc = str_of(*n);
          if (const json* n = at(*it, "ranks")) g.ranks = ranks_of(*n);
        } else {
          g.ranks = ranks_of(*it);  // 1.x: {int: [ranks]}
        }
        d.groups.push_back(std::move(g));
      }
    }
    // pg_status is keyed by the local pg_id; the entries say which pg_id is which PG name.
    if (const json* ps = at(doc, "pg_status"); ps && ps->is_object()) {
      std::map<int64_t, std::string> id_to_name;
      if (entries && entries->is_array())
        for (const auto& e : *entries)
          if (const json* pg = at(e, "process_group"); pg && pg->is_array() && pg->size() == 2)
            if (const json* id = at(e, "pg_id")) id_to_name[int_of(*id)] = str_of((*pg)[0]);
      for (auto it = ps->begin(); it != ps->end(); ++it) {
        auto id = parse_int(it.key());
        std::string name = it.key();
        if (id)
          if (auto n = id_to_name.find(*id); n != id_to_name.end()) name = n->second;
        FrGroup* g = nullptr;
        for (auto& x : d.groups)
          if (x.name == name) g = &x;
        if (!g) {
          d.groups.push_back({});
          g = &d.groups.back();
          g->name = name;
        }
        if (const json* v = at(*it, "last_enqueued_collective")) g->last_enqueued = int_of(*v);
        if (const json* v = at(*it, "last_completed_collective")) g->last_completed = int_of(*v);
      }
    }
  } else {
    d.error = "neither a list of entries nor a dict: not a Flight Recorder dump";
    return d;
  }
  if (entries && entries->is_array())
    for (const auto& e : *entries)
      if (e.is_object()) d.entries.push_back(entry_of(e));
  // Old dumps name the PG only by pg_id; pg_config's key is then the same number.
  for (auto& e : d.entries)
    if (e.pg.empty() && e.pg_id >= 0) e.pg = std::to_string(e.pg_id);
  for (auto& e : d.entries)
    if (e.pg_desc.empty())
      for (const auto& g : d.groups)
        if (g.name == e.pg) e.pg_desc = g.desc;
  return d;
}

bool is_fr_head(std::string_view head) {
  // A pickle whose first keys are Flight Recorder's (`version` opens v1+ dumps, `pg_id` the
  // first entry of torch 2.2's bare list); a dump cut short still opens this way.
  if (head.size() >= 3 && static_cast<uint8_t>(head[0]) == 0x80 &&
      static_cast<uint8_t>(head[1]) >= 2 && static_cast<uint8_t>(head[1]) <= 5)
    for (std::string_view key : {"entries", "profiling_name", "pg_config", "version", "pg_id"})
      if (head.substr(0, 512).find(key) != std::string_view::npos) return true;
  size_t k = head.find_first_not_of(" \t\r\n");
  if (k == std::string_view::npos || (head[k] != '{' && head[k] != '[')) return false;
  return head.find("\"pg_config\"") != std::string_view::npos ||
         (head.find("\"profiling_name\"") != std::string_view::npos &&
          head.find("\"entries\"") != std::string_view::npos);
}

FrDump read_fr_file(const std::filesystem::path& file, std::string display) {
  FrDump d;
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      d.file = std::move(display);
      d.error = "unreadable";
      return d;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  }
  bool is_json = false;
  size_t k = bytes.find_first_not_of(" \t\r\n");
  if (k != std::string::npos && (bytes[k] == '{' || bytes[k] == '[')) is_json = true;
  try {
    json doc;
    if (is_json) {
      doc = parse_json_bounded(bytes);
      if (doc.is_discarded()) throw PickleError("malformed JSON (truncated?)");
    } else {
      doc = read_pickle(bytes);
    }
    d = fr_from_json(doc);
  } catch (const PickleError& e) {
    d.error = e.what();
  } catch (const std::exception& e) {  // nlohmann type errors on a hostile shape
    d.error = fmt::format("unexpected shape: {}", e.what());
  }
  d.format = is_json ? "json" : "pickle";
  d.file = std::move(display);
  // The global rank from the name: `nccl_trace_rank_3`, `rank_3.json`, `…_host_3`.
  std::string stem = file.filename().string();
  if (auto dot = stem.rfind(".json"); dot != std::string::npos && dot + 5 == stem.size())
    stem.resize(dot);
  size_t e = stem.size(), b = e;
  while (b > 0 && stem[b - 1] >= '0' && stem[b - 1] <= '9') --b;
  if (b < e && e - b < 8)
    d.rank = static_cast<int>(*parse_int(std::string_view(stem).substr(b, e - b)));
  return d;
}

}  // namespace alog::hangs
