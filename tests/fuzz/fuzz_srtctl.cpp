// Fuzzes the srtctl job-folder parsers (srtctl.hpp): benchmark.out, log.out, the sa-bench result
// JSON, the failure-signature scan of worker logs in each mode, and the name parsers. They read
// files, so the input is written to a private temporary file first.
//
// Byte 0 picks the parser; the rest is the file's content (and, for the name parsers, the name).
// The contract is "never throws on content": any exception is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "analyze_logs/srtctl.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

const fs::path& scratch_file() {
  static const fs::path p = [] {
    fs::path dir = fs::temp_directory_path() / ("alog_fuzz_srtctl_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("alog_fuzz_srtctl_" + std::to_string(::getpid())), ec);
    });
    return dir / "input.log";
  }();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  int which = data[0] % 8;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Pure string parsers.
  (void)srtctl::parse_job_dir_name(body);
  (void)srtctl::classify_log_file(body);
  (void)srtctl::canonical_metric_key(body);
  (void)srtctl::civil_seconds(body);

  const fs::path& file = scratch_file();
  {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  std::vector<srtctl::Problem> problems;
  srtctl::LogFileId id{"prefill", 0, "node1"};
  switch (which) {
    case 0: (void)srtctl::parse_benchmark_out(file, "benchmark.out", problems); break;
    case 1: (void)srtctl::parse_log_out(file, "log.out", problems); break;
    case 2: (void)srtctl::read_result_json(file, "result.json", problems); break;
    case 3: (void)srtctl::scan_log(file, "w.err", id, srtctl::ScanMode::worker, problems, false); break;
    case 4: (void)srtctl::scan_log(file, "w.err", id, srtctl::ScanMode::worker, problems, true); break;
    case 5: (void)srtctl::scan_log(file, "benchmark.err", id, srtctl::ScanMode::client, problems); break;
    case 6: (void)srtctl::scan_log(file, "log.err", id, srtctl::ScanMode::batch, problems); break;
    default: (void)srtctl::parse_benchmark_out(file, "benchmark.out", problems); break;
  }
  return 0;
}
