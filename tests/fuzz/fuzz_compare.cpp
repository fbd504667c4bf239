// Fuzzes the loader of `analyze-logs compare` (compare::load_runs on report.json files written by
// earlier runs, possibly by another build, possibly hand-edited) and everything downstream that
// reads those documents: compare_runs (metrics, statuses, diagnoses, --expect evaluation on the
// JSON) and the three renderings (COMPARE.md, the terminal tables, compare.json).
//
// Input: byte 0 picks the options (baseline, gate, an --expect); the rest is two documents
// separated by the first 0x1E byte (ASCII record separator). Without one, both runs are the same
// document. They are written to a private temporary folder as a.json and b.json, as a user would
// give them (`analyze-logs compare a.json b.json`).
//
// Contract: load_runs either accepts both documents or throws std::runtime_error whose message
// starts with the file it could not load; compare_runs on accepted documents never throws; the
// outputs are valid UTF-8 and compare.json can be serialised (dump throws on invalid UTF-8).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "analyze_logs/compare.hpp"
#include "analyze_logs/util.hpp"

using namespace alog;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz_compare invariant violated: %s %s\n", what, detail.c_str());
  std::abort();
}
#define CHECK(cond, detail)            \
  do {                                 \
    if (!(cond)) fail(#cond, (detail)); \
  } while (0)

const fs::path& scratch_dir() {
  static const fs::path p = [] {
    fs::path dir = fs::temp_directory_path() / ("alog_fuzz_compare_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("alog_fuzz_compare_" + std::to_string(::getpid())), ec);
    });
    return dir;
  }();
  return p;
}

void write_file(const fs::path& p, std::string_view body) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(body.data(), static_cast<std::streamsize>(body.size()));
}

bool valid_utf8(const std::string& s) { return utf8_clean(s) == s; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t opts = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view doc_a = rest, doc_b = rest;
  if (auto sep = rest.find('\x1e'); sep != std::string_view::npos) {
    doc_a = rest.substr(0, sep);
    doc_b = rest.substr(sep + 1);
  }
  const fs::path a = scratch_dir() / "a.json", b = scratch_dir() / "b.json";
  write_file(a, doc_a);
  write_file(b, doc_b);

  compare::Options opt;
  opt.runs = {a.string(), b.string()};
  opt.baseline = opts & 1;
  if (opts & 2) opt.fail_on_regression_pct = (opts & 4) ? 0.0 : 10.0;
  static const char* kExpect[] = {"weights.queue_ms.p99<300", "gen.dur_ms.count>=1",
                                  "ckpt.wait_ms.mean!=0", "weights.wall_ms.max==1e308"};
  if (opts & 8) opt.expect.push_back(kExpect[(opts >> 4) & 3]);
  opt.tool_version = "fuzz";

  std::vector<compare::Run> runs;
  try {
    runs = compare::load_runs(opt);
  } catch (const std::runtime_error& e) {
    std::string_view msg = e.what();
    CHECK(msg.starts_with(a.string() + ": ") || msg.starts_with(b.string() + ": "), std::string(msg));
    return 0;
  } catch (const std::exception& e) {
    fail("load_runs threw something other than std::runtime_error:", e.what());
  }
  CHECK(runs.size() == 2, "");
  for (const auto& r : runs) CHECK(r.kind == "report.json", r.kind);

  compare::Result res;
  try {
    res = compare::compare_runs(runs, opt);
  } catch (const std::exception& e) {
    fail("compare_runs threw on documents load_runs accepted:", e.what());
  }
  std::string json_text;
  try {
    json_text = res.json.dump(2);
  } catch (const std::exception& e) {
    fail("compare.json cannot be serialised:", e.what());
  }
  CHECK(valid_utf8(res.markdown), "COMPARE.md");
  CHECK(valid_utf8(res.terminal), "terminal");
  CHECK(valid_utf8(res.verdict), "verdict");
  for (const auto& line : res.regressions) CHECK(valid_utf8(line), line);
  // No gate: no regression line.
  if (!opt.fail_on_regression_pct) CHECK(res.regressions.empty(), "");
  return 0;
}
