// nlohmann serialisers shared by the writers of partial states and cache entries (CBOR): an
// std::optional as null or its value, and the core types every kind's state carries. Every member
// is listed; a member added to one of these types must be added here, or a partial loses it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

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
}  // namespace alog::core
