#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

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

// Pieces of text dumped elsewhere that stand in the tree as placeholder strings (kSplicePrefix + N).
thread_local const std::vector<const std::string*>* g_pieces = nullptr;
// Where the text goes when it is streamed (dump_report with a sink): `out` is handed over whenever
// it passes kFlushAt, and a piece that does not fit in what is left goes out from its own string.
thread_local const std::function<void(std::string_view)>* g_sink = nullptr;
constexpr size_t kFlushAt = size_t{1} << 20;

void flush(std::string& out) {
  if (g_sink && !out.empty()) {
    (*g_sink)(out);
    out.clear();
  }
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
    if (out.size() > kFlushAt) flush(out);
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
      if (out.size() > kFlushAt) flush(out);
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
      if (out.size() > kFlushAt) flush(out);
    }
    out += '\n';
    out.append(indent, ' ');
    out += ']';
  } else if (g_pieces && v.is_string() && v.get_ref<const std::string&>().starts_with(kSplicePrefix)) {
    // A piece already dumped at this indentation (dump_report(value, indent)): its text as it is.
    const std::string& ref = v.get_ref<const std::string&>();
    size_t n = std::stoul(ref.substr(kSplicePrefix.size()));
    const std::string& piece = *g_pieces->at(n);
    if (g_sink && out.size() + piece.size() > kFlushAt) {
      flush(out);
      (*g_sink)(piece);
    } else {
      out += piece;
    }
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

std::string dump_report(const nlohmann::ordered_json& j, const std::vector<const std::string*>& pieces) {
  g_pieces = &pieces;
  std::string out;
  try {
    put(j, 0, out);
  } catch (...) {
    g_pieces = nullptr;
    throw;
  }
  g_pieces = nullptr;
  return out;
}

std::string splice_piece(std::vector<const std::string*>& pieces, const std::string& text) {
  pieces.push_back(&text);
  return std::string(kSplicePrefix) + std::to_string(pieces.size() - 1);
}

void dump_report(const nlohmann::ordered_json& j, const std::vector<const std::string*>& pieces,
                 const std::function<void(std::string_view)>& sink) {
  struct Reset {
    ~Reset() {
      g_pieces = nullptr;
      g_sink = nullptr;
    }
  } reset;
  g_pieces = &pieces;
  g_sink = &sink;
  std::string out;
  out.reserve(kFlushAt + (kFlushAt >> 2));
  put(j, 0, out);
  flush(out);
}

}  // namespace alog
