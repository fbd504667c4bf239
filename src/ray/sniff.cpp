// Content tests for discovery: a TorchSpec driver log from its first bytes (standard input has no
// path), and a folder that itself holds a Ray session's logs.
#include <algorithm>
#include <cctype>
#include <string>

#include "analyze_logs/ray.hpp"
#include "analyze_logs/util.hpp"

namespace alog::ray {

namespace fs = std::filesystem;

bool is_driver_log_head(std::string_view head) {
  std::string clean;
  strip_ansi(head, clean);
  std::transform(clean.begin(), clean.end(), clean.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  static constexpr std::string_view needles[] = {"torchspec",
                                                 "(traineractor pid=",
                                                 "(sglengine pid=",
                                                 "(mooncakemaster pid=",
                                                 "multi-thread loading shards",
                                                 "actual_bundle_index:",
                                                 "auto-resolved mooncake",
                                                 "device mesh (1d)",
                                                 "eaglemooncakestore"};
  return std::any_of(std::begin(needles), std::end(needles),
                     [&](std::string_view n) { return clean.find(n) != std::string::npos; });
}

bool holds_session_logs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  size_t n = 0;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end && n < 200000; it.increment(ec), ++n) {
    std::string name = it->path().filename().string();
    if (name == "raylet.out" || name == "gcs_server.out" ||
        (name.starts_with("worker-") && (name.ends_with(".err") || name.ends_with(".out"))))
      return true;
  }
  return false;
}

}  // namespace alog::ray
