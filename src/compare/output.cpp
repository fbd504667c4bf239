// Writing the comparison folder.

#include <fmt/format.h>

#include "analyze_logs/compare.hpp"
#include "analyze_logs/core/output_dir.hpp"

namespace fs = std::filesystem;

namespace alog::compare {

fs::path write_comparison(const Result& result, const fs::path& parent) {
  OutputDir dir(parent, "comparison");
  dir.write("COMPARE.md", result.markdown);
  dir.write("compare.json", result.json.dump(2) + "\n");
  return dir.commit();
}

}  // namespace alog::compare
