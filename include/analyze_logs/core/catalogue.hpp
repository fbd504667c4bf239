// Placeholder until the catalogue lands (helper branch h-cat).
#pragma once
#include <string_view>
#include "analyze_logs/core/finding.hpp"
namespace alog::core {
struct Signature {
  std::string_view id, title, fix;
  Severity severity = Severity::critical;
};
const Signature* find_signature(std::string_view id);
}  // namespace alog::core
