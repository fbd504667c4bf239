#include "analyze_logs/core/header_json.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "analyze_logs/core/fleet.hpp"
#include "analyze_logs/util.hpp"

namespace alog::core {

using ojson = nlohmann::ordered_json;

ojson to_json(const Evidence& e) {
  ojson j;
  j["file"] = e.file.empty() ? ojson(nullptr) : ojson(utf8_clean(e.file));
  j["line"] = e.line ? ojson(e.line) : ojson(nullptr);
  j["time"] = e.time.empty() ? ojson(nullptr) : ojson(utf8_clean(e.time));
  j["text"] = utf8_clean(e.text);
  return j;
}

ojson to_json(const Finding& f) {
  ojson j;
  j["id"] = f.id;
  j["severity"] = severity_name(f.severity);
  j["role"] = role_name(f.role);
  j["summary"] = utf8_clean(f.summary);
  j["detail"] = f.detail.empty() ? ojson(nullptr) : ojson(utf8_clean(f.detail));
  ojson ev = ojson::array();
  for (const auto& e : f.evidence) ev.push_back(to_json(e));
  j["evidence"] = std::move(ev);
  j["fix"] = f.fix.empty() ? ojson(nullptr) : ojson(utf8_clean(f.fix));
  if (!f.job.empty()) j["job"] = utf8_clean(f.job);
  return j;
}

ojson to_json(const InputEntry& in) {
  ojson j;
  j["path"] = utf8_clean(in.path);
  j["kind"] = in.kind.empty() ? ojson(nullptr) : ojson(in.kind);
  j["role"] = in.role.empty() ? ojson(nullptr) : ojson(utf8_clean(in.role));
  j["read"] = in.read;
  j["reason"] = in.reason.empty() ? ojson(nullptr) : ojson(utf8_clean(in.reason));
  return j;
}

void put_header(ojson& doc, const Header& h) {
  doc["verdict"] = verdict_name(h.verdict);
  doc["cause"] = utf8_clean(h.cause);
  ojson f = ojson::array();
  for (const auto& x : h.findings) f.push_back(to_json(x));
  doc["findings"] = std::move(f);
  ojson in = ojson::array();
  for (const auto& x : h.inputs) in.push_back(to_json(x));
  doc["inputs"] = std::move(in);
}

void put_place(ojson& doc, const Header& h) {
  doc["started_at"] = h.started_at.empty() ? ojson(nullptr) : ojson(utf8_clean(h.started_at));
  doc["ended_at"] = h.ended_at.empty() ? ojson(nullptr) : ojson(utf8_clean(h.ended_at));
  double a = civil_seconds(h.started_at), b = civil_seconds(h.ended_at);
  doc["duration_s"] = a >= 0 && b >= a ? ojson(b - a) : ojson(nullptr);
  ojson n = ojson::array();
  for (const auto& x : h.nodes) n.push_back(utf8_clean(x));
  doc["nodes"] = std::move(n);
}

namespace {

std::string str_member(const nlohmann::json& j, const char* key, const std::string& where, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw std::invalid_argument(fmt::format("{}: missing \"{}\"", where, key));
    return {};
  }
  if (!it->is_string()) throw std::invalid_argument(fmt::format("{}: \"{}\" is not a string", where, key));
  return it->get<std::string>();
}

}  // namespace

Header header_from_json(const nlohmann::json& doc) {
  if (!doc.is_object()) throw std::invalid_argument("report.json: not an object");
  Header h;
  std::string v = str_member(doc, "verdict", "report.json", true);
  auto verdict = verdict_from_name(v);
  if (!verdict) throw std::invalid_argument(fmt::format("report.json: unknown verdict \"{}\"", v));
  h.verdict = *verdict;
  h.cause = str_member(doc, "cause", "report.json", false);
  auto fs = doc.find("findings");
  if (fs != doc.end()) {
    if (!fs->is_array()) throw std::invalid_argument("report.json: \"findings\" is not an array");
    size_t i = 0;
    for (const auto& fj : *fs) {
      std::string where = fmt::format("report.json: findings[{}]", i++);
      if (!fj.is_object()) throw std::invalid_argument(where + ": not an object");
      Finding f;
      f.id = str_member(fj, "id", where, true);
      std::string sev = str_member(fj, "severity", where, true);
      auto s = severity_from_name(sev);
      if (!s) throw std::invalid_argument(fmt::format("{}: unknown severity \"{}\"", where, sev));
      f.severity = *s;
      std::string role = str_member(fj, "role", where, false);
      f.role = role == "consequence" ? Role::consequence : role == "collateral" ? Role::collateral : Role::root_cause;
      f.summary = str_member(fj, "summary", where, false);
      f.detail = str_member(fj, "detail", where, false);
      f.fix = str_member(fj, "fix", where, false);
      f.job = str_member(fj, "job", where, false);
      h.findings.push_back(std::move(f));
    }
  }
  h.started_at = str_member(doc, "started_at", "report.json", false);
  h.ended_at = str_member(doc, "ended_at", "report.json", false);
  if (auto ns = doc.find("nodes"); ns != doc.end() && ns->is_array())
    for (const auto& n : *ns)
      if (n.is_string()) h.nodes.push_back(n.get<std::string>());
  return h;
}

}  // namespace alog::core
