// A JobReport to CBOR and back, whole (--cache, src/cli/cache.cpp): a cached srtctl job gives the
// same body, report.json, set view and CSV files as the analysis did. CBOR, not JSON text: it
// keeps NaN, every double's bits and non-UTF-8 bytes of log lines as they were.
// The serialisers are in persist_json.hpp.
#include <nlohmann/json.hpp>

#include "analyze_logs/srtctl.hpp"
#include "persist_json.hpp"

namespace alog::srtctl {

using json = nlohmann::json;

std::vector<uint8_t> save_report(const JobReport& r) {
  return json::to_cbor(json(r));
}

JobReport load_report(std::span<const uint8_t> cbor) {
  return core::from_cbor_bounded(cbor).get<JobReport>();
}

}  // namespace alog::srtctl
