// read(2) into a buffer against mmap(2) of the same page-cached file, each followed by the same
// SIMD newline count: what mmap would save the scanner, which reads with pread(2) today
// (docs/PERFORMANCE.md, "mmap, measured"). The file is 64 MiB, or ALOG_BENCH_READ_MB. mmap also
// brings a hazard read(2) does not have: a file truncated under the scan raises SIGBUS on the
// next page touched, so the scanner may only use it behind a SIGBUS guard.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "analyze_logs/scan.hpp"
#include "bench_data.hpp"

namespace {

struct File {
  std::filesystem::path path;
  size_t size = 0;
  File() {
    path = std::filesystem::temp_directory_path() / ("alog-bench-read-" + std::to_string(::getpid()) + ".log");
    size_t mb = 64;
    if (const char* env = std::getenv("ALOG_BENCH_READ_MB")) mb = std::max(1ul, std::strtoul(env, nullptr, 10));
    std::string s = alog::bench::realistic_log(mb << 20);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(s.data(), 1, s.size(), f) != s.size() || std::fclose(f) != 0) std::abort();
    size = s.size();
  }
  ~File() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

const File& file() {
  static File f;
  return f;
}

void BM_ReadThenCount(benchmark::State& state) {
  const File& f = file();
  auto buf = std::make_unique<char[]>(1u << 20);
  for (auto _ : state) {
    int fd = ::open(f.path.c_str(), O_RDONLY);
    uint64_t n = 0;
    for (ssize_t r; (r = ::read(fd, buf.get(), 1u << 20)) > 0;)
      n += alog::scan::count_newlines(buf.get(), static_cast<size_t>(r));
    ::close(fd);
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.size));
}
BENCHMARK(BM_ReadThenCount)->Unit(benchmark::kMillisecond)->UseRealTime();

// flags: 0, or MAP_POPULATE (every page mapped before the count starts).
void BM_MmapThenCount(benchmark::State& state) {
  const File& f = file();
  const int flags = MAP_PRIVATE | static_cast<int>(state.range(0));
  for (auto _ : state) {
    int fd = ::open(f.path.c_str(), O_RDONLY);
    void* m = ::mmap(nullptr, f.size, PROT_READ, flags, fd, 0);
    if (m == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      ::close(fd);
      break;
    }
    ::madvise(m, f.size, MADV_SEQUENTIAL);
    benchmark::DoNotOptimize(alog::scan::count_newlines(static_cast<const char*>(m), f.size));
    ::munmap(m, f.size);
    ::close(fd);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.size));
}
BENCHMARK(BM_MmapThenCount)->Arg(0)->Arg(MAP_POPULATE)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
