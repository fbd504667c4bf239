// Fuzzes the Ray (TorchSpec) job parsers (ray.hpp): the line-level pieces on arbitrary bytes
// (Ray actor prefixes, de-dup suffixes, time stamps, tqdm bars, civil times), and ray::analyze on
// the input written as a driver log, a worker .err file or raylet.out, with the JSON and Markdown
// writers on the result. The contract is "never throws on content".
//
// Byte 0 picks the file the rest becomes: 0 driver log, 1 worker-*.err in a session folder,
// 2 raylet.out, 3 none (line functions only).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "analyze_logs/ray.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_ray invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond) \
  do {              \
    if (!(cond)) fail(#cond); \
  } while (0)

const fs::path& scratch_dir() {
  static const fs::path p = [] {
    fs::path dir = fs::temp_directory_path() / ("alog_fuzz_ray_" + std::to_string(::getpid()));
    fs::create_directories(dir / "running_logs");
    fs::create_directories(dir / "session_latest" / "logs");
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("alog_fuzz_ray_" + std::to_string(::getpid())), ec);
    });
    return dir;
  }();
  return p;
}

void line_functions(std::string_view s) {
  if (auto p = ray::parse_ray_prefix(s)) CHECK(p->length <= s.size());
  std::string_view line = s;
  uint64_t n = ray::strip_dedup(line);
  CHECK(n >= 1);
  CHECK(line.size() <= s.size() && line.data() >= s.data() && line.data() + line.size() <= s.data() + s.size());
  (void)ray::parse_stamp_ms(s, 2026);
  size_t consumed = 0;
  if (ray::parse_tqdm(s, consumed)) CHECK(consumed <= s.size());
  if (auto ms = ray::parse_civil_ms(s)) {
    std::string back = ray::format_civil(*ms);
    auto again = ray::parse_civil_ms(back);
    CHECK(again.has_value());
    CHECK(ray::format_civil(*again) == back);
  }
  for (int64_t sec : {int64_t{0}, int64_t{59}, int64_t{3600 * 30}, static_cast<int64_t>(s.size()) * 977})
    (void)ray::human_duration(sec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  int which = data[0] % 4;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Every line of the body through the line-level parsers.
  size_t start = 0;
  while (start <= body.size()) {
    size_t nl = body.find('\n', start);
    std::string_view l = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    line_functions(l);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (which == 3) return 0;

  const fs::path& dir = scratch_dir();
  fs::path file = which == 0   ? dir / "running_logs" / "torchspec_20260311_061247.log"
                  : which == 1 ? dir / "session_latest" / "logs" / "worker-0123abcd-01000000-4242.err"
                               : dir / "session_latest" / "logs" / "raylet.out";
  {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  ray::Options opt;  // not live: the end of the input is the newest stamp, no wall clock
  std::vector<fs::path> inputs = {which == 0 ? file : dir / "session_latest"};
  ray::RayReport r = ray::analyze(inputs, opt);
  CHECK(r.phases.size() == 7);
  (void)ray::to_json(r).dump();
  (void)ray::to_markdown(r);
  (void)ray::verdict_line(r);
  fs::remove(file);
  return 0;
}
