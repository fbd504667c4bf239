// TEMPORARY: srtctl's partial state arrives with its kind (branch wt-srtp); until then a partial
// of an srtctl job is an error saying so. Removed when that branch is merged.
#include <stdexcept>

#include "analyze_logs/core/partial.hpp"
#include "analyze_logs/srtctl.hpp"

namespace alog::srtctl {
nlohmann::json partial_state(const std::filesystem::path&, const JobOptions&) {
  throw std::runtime_error("srtctl jobs: not yet in partials");
}
JobReport merge_partials(const std::vector<core::PartState>&, const JobOptions&) {
  throw std::runtime_error("srtctl jobs: not yet in partials");
}
}  // namespace alog::srtctl
