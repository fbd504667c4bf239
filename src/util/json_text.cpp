#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "analyze_logs/util.hpp"

namespace alog {
namespace {

using J = nlohmann::ordered_json;

bool is_record_array(std::string_view key) {
  return key == "updates" || key == "batches" || key == "server_only_updates" || key == "step_table";
}

bool all_numbers(const J& a) {
  for (const auto& e : a)
    if (!e.is_number()) return false;
  return true;
}

void put(const J& v, size_t indent, std::string& out);

// An array of records, one compact record per line.
void put_records(const J& a, size_t indent, std::string& out) {
  out += '[';
  bool first = true;
  for (const auto& e : a) {
    out += first ? "\n" : ",\n";
    first = false;
    out.append(indent + 2, ' ');
    out += e.dump();
  }
  out += '\n';
  out.append(indent, ' ');
  out += ']';
}

void put(const J& v, size_t indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      out += first ? "\n" : ",\n";
      first = false;
      out.append(indent + 2, ' ');
      out += J(k).dump();
      out += ": ";
      if (x.is_array() && !x.empty() && is_record_array(k)) put_records(x, indent + 2, out);
      else put(x, indent + 2, out);
    }
    out += '\n';
    out.append(indent, ' ');
    out += '}';
  } else if (v.is_array() && !v.empty() && !all_numbers(v)) {
    out += '[';
    bool first = true;
    for (const auto& e : v) {
      out += first ? "\n" : ",\n";
      first = false;
      out.append(indent + 2, ' ');
      put(e, indent + 2, out);
    }
    out += '\n';
    out.append(indent, ' ');
    out += ']';
  } else {
    out += v.dump();  // a scalar, {}, [], or an array of numbers on one line
  }
}

}  // namespace

std::string dump_report(const nlohmann::ordered_json& j, size_t indent, std::string_view key) {
  std::string out;
  if (j.is_array() && !j.empty() && is_record_array(key)) put_records(j, indent, out);
  else put(j, indent, out);
  return out;
}

}  // namespace alog
