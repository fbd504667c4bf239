// nlohmann serialisers shared by the writers of partial states and cache entries (CBOR): an
// std::optional as null or its value, and the core types every kind's state carries. Every member
// is listed; a member added to one of these types must be added here, or a partial loses it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "analyze_logs/core/finding.hpp"

namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v)
      j = *v;
    else
      j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& v) {
    if (j.is_null())
      v.reset();
    else
      v = j.get<T>();
  }
};
}  // namespace nlohmann

namespace alog::core {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Evidence, file, line, time, text)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(InputEntry, path, kind, role, read, reason)

// CBOR to a tree, refusing a document nested deeper than `max_depth`: nlohmann's reader recurses
// once per level, so a crafted file (a partial, a cache entry) nested 300,000 deep would overflow
// the stack. Throws std::runtime_error ("nested deeper than N levels", "not a CBOR document").
template <typename Json>
class BoundedSax : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  using Base = nlohmann::detail::json_sax_dom_parser<Json>;
  BoundedSax(Json& j, int max_depth) : Base(j, false), max_(max_depth) {}
  bool start_object(std::size_t n) { return deeper() && Base::start_object(n); }
  bool start_array(std::size_t n) { return deeper() && Base::start_array(n); }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }
  bool too_deep = false;

 private:
  bool deeper() {
    if (++depth_ <= max_) return true;
    too_deep = true;
    return false;
  }
  int depth_ = 0, max_;
};

// Json: nlohmann::json, or nlohmann::ordered_json to keep the keys in the order written.
template <typename Json = nlohmann::json, typename Bytes>
Json from_cbor_bounded(const Bytes& cbor, int max_depth = 128) {
  Json j;
  BoundedSax<Json> sax(j, max_depth);
  bool ok = Json::sax_parse(cbor.begin(), cbor.end(), &sax, Json::input_format_t::cbor);
  if (sax.too_deep)
    throw std::runtime_error("nested deeper than " + std::to_string(max_depth) + " levels");
  if (!ok || sax.is_errored()) throw std::runtime_error("not a CBOR document");
  return j;
}

}  // namespace alog::core
