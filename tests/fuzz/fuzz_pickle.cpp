// Fuzzes the Flight Recorder readers (hangs.hpp): read_pickle on arbitrary bytes must either give
// a document or throw PickleError, never crash, loop or grow without bound; fr_from_json then
// reads whatever shape came out; the JSON form goes through parse_json_bounded and the same reader.
// The contract is "never throws anything but PickleError on content".
//
// Byte 0 picks the path: even = pickle, odd = JSON text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "analyze_logs/hangs.hpp"
#include "analyze_logs/util.hpp"

using namespace alog;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  nlohmann::json doc;
  if (data[0] % 2 == 0) {
    try {
      // A small budget: the fuzzer's inputs are small, and this bounds each run's time.
      doc = hangs::read_pickle(in, 200000);
    } catch (const hangs::PickleError&) {
      return 0;
    }
  } else {
    doc = parse_json_bounded(in);
    if (doc.is_discarded()) return 0;
  }
  hangs::FrDump d = hangs::fr_from_json(doc);
  if (d.entries.size() > size) {
    std::fprintf(stderr, "fuzz_pickle: more entries than input bytes\n");
    std::abort();
  }
  for (const auto& e : d.entries) (void)e.frames.size();
  return 0;
}
