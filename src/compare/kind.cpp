// Which kind of job each `compare` argument is, and the one entry point that refuses to mix kinds
// and hands the arguments to the comparison of their kind.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "kinds.hpp"

namespace fs = std::filesystem;

namespace alog::compare {
namespace detail {
namespace {

constexpr int kMaxReportDepth = 64;
// The report.json schemas this build reads: 1, and 2 (1 plus top-level verdict, cause, findings,
// inputs and jobs; every body key unchanged).
constexpr int64_t kMinSchema = 1, kMaxSchema = 2;
// The bounded walk of holds_ray_logs: deep enough for RAY_TEMP_DIR/session_latest/logs under a
// per-node folder (`node-10.0.0.2/session_latest/logs`), small enough to be instant on a home dir.
constexpr int kRayWalkDepth = 4;
constexpr size_t kRayWalkEntries = 20000;

bool ends_with_json(const std::string& s) {
  if (s.size() < 5) return false;
  std::string tail = s.substr(s.size() - 5);
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == ".json";
}

// Ray session files directly in `dir` (not below it: the walk finds the folder that holds them).
bool has_session_files(const fs::path& dir) {
  std::error_code ec;
  size_t n = 0;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end && n < kRayWalkEntries; it.increment(ec), ++n) {
    std::string name = it->path().filename().string();
    if (name == "raylet.out" || name == "gcs_server.out" ||
        (name.starts_with("worker-") && (name.ends_with(".err") || name.ends_with(".out"))))
      return true;
  }
  return false;
}

std::string string_member(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::runtime_error arg_error(const std::string& arg, std::string_view why) {
  return std::runtime_error(fmt::format("{}: {}", printable(arg), printable(why)));
}

nlohmann::json read_report_doc(const fs::path& file, const std::string& arg) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw arg_error(arg, std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw arg_error(arg, "read error");
  const std::string text = ss.str();
  // nlohmann_json recurses on nesting (parsing, copying, printing): a document nested 200,000
  // deep overflowed the stack (SIGSEGV) before this check.
  if (!json_depth_ok(text, kMaxReportDepth))
    throw arg_error(arg,
                    fmt::format("not an analyze-logs report.json (nested deeper than {} levels)",
                                kMaxReportDepth));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range 406 for a number that overflows a double (1e999):
    // "[json.exception.parse_error.101] parse error at line 1, column 1: ..." -> after "] ".
    std::string msg = e.what();
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    throw arg_error(arg, fmt::format("not valid JSON ({})", msg));
  }
  if (!j.is_object()) throw arg_error(arg, "not an analyze-logs report.json (not a JSON object)");
  const std::string kind = string_member(j, "kind");
  if (kind == "comparison")
    throw arg_error(arg, "a compare.json (a comparison), not a report.json");
  // A "kind" that is not a string is ignored (read as prime-rl, as before kinds existed); a kind
  // this build does not know is refused rather than compared as something it is not.
  if (!kind.empty() && kind != "prime-rl" && kind != "srtctl" && kind != "ray")
    throw arg_error(arg, fmt::format("a report.json of kind \"{}\", which compare does not know",
                                     printable(kind)));
  // The body every kind must have: prime-rl's metrics, the others' value under their kind.
  const std::string body = kind == "srtctl" || kind == "ray" ? kind : "metrics";
  if (!j.contains("schema") || !j["schema"].is_number_integer() || !j.contains(body))
    throw arg_error(
        arg, fmt::format("not an analyze-logs report.json (expected \"schema\" and \"{}\")", body));
  if (auto s = j["schema"].get<int64_t>(); s < kMinSchema || s > kMaxSchema)
    throw arg_error(arg, fmt::format("report.json schema {} is not supported (this build reads "
                                     "schemas {} and {})",
                                     s, kMinSchema, kMaxSchema));
  if (!j[body].is_object())
    throw arg_error(arg,
                    fmt::format("not an analyze-logs report.json (\"{}\" is not an object)", body));
  return j;
}

std::string doc_kind(const nlohmann::json& doc) {
  std::string k = string_member(doc, "kind");
  return k.empty() ? "prime-rl" : k;
}

bool holds_ray_logs(const fs::path& dir) {
  std::error_code ec;
  if (has_session_files(dir)) return true;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return false;
  size_t n = 0;
  for (fs::recursive_directory_iterator end; it != end && n < kRayWalkEntries;
       it.increment(ec), ++n) {
    if (ec) break;
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    std::error_code e2;
    if (it->is_directory(e2)) {
      if (name.starts_with(".") || it.depth() >= kRayWalkDepth) {
        it.disable_recursion_pending();
        continue;
      }
      if (has_session_files(p)) return true;
      continue;
    }
    // Driver logs are `running_logs/<recipe>_<stamp>.log`, or a log given in the folder itself;
    // reading the head of every *.log below would be slow on a prime-rl run folder of rank logs.
    if (!name.ends_with(".log") || !it->is_regular_file(e2)) continue;
    bool in_running_logs = p.parent_path().filename() == "running_logs";
    if ((in_running_logs || it.depth() == 0) && ray::is_driver_log(p)) return true;
  }
  return false;
}

fs::file_status check_argument(const std::string& arg) {
  if (arg.empty()) throw std::runtime_error("compare: an empty argument is not a run");
  if (arg == "-") throw arg_error(arg, "standard input cannot be compared (give a file or folder)");
  std::error_code ec;
  auto st = fs::status(arg, ec);
  if (ec || !fs::exists(st)) {
    int err = ec ? ec.value() : ENOENT;
    throw arg_error(arg, std::strerror(err == 0 ? ENOENT : err));
  }
  return st;
}

Detected detect(const std::string& arg) {
  auto st = check_argument(arg);
  std::error_code ec;
  Detected d;
  d.source = arg;
  auto from_doc = [&](nlohmann::json doc, const char* form) {
    std::string k = doc_kind(doc);
    d.kind = k == "srtctl" ? Kind::srtctl : k == "ray" ? Kind::ray : Kind::prime_rl;
    d.form = form;
    d.doc = std::move(doc);
  };
  if (fs::is_directory(st)) {
    fs::path dir(arg);
    if (fs::is_regular_file(dir / "report.json", ec)) {
      from_doc(read_report_doc(dir / "report.json", arg), "analysis folder");
    } else if (fs::is_regular_file(dir / "compare.json", ec)) {
      throw arg_error(arg, "a comparison folder, not a run or an analysis folder");
    } else if (srtctl::is_job_dir(dir)) {
      d.kind = Kind::srtctl;
      d.form = "job folder";
    } else if (srtctl::is_job_set_dir(dir)) {
      d.kind = Kind::srtctl;
      d.form = "job set";
    } else if (ray::is_session_logs_dir(dir) || holds_ray_logs(dir)) {
      d.kind = Kind::ray;
      d.form = "log folder";
    } else {
      d.kind = Kind::prime_rl;
      d.form = "run folder";
    }
    return d;
  }
  if (ends_with_json(arg)) {
    from_doc(read_report_doc(arg, arg), "report.json");
  } else if (ray::is_driver_log(arg)) {
    d.kind = Kind::ray;
    d.form = "driver log";
  } else {
    d.kind = Kind::prime_rl;
    d.form = "log file";
  }
  return d;
}

std::string kind_noun(const Detected& d) {
  switch (d.kind) {
    case Kind::srtctl: {
      bool set = d.form == "job set" ||
                 (d.doc.is_object() && d.doc.contains("srtctl") && d.doc["srtctl"].is_object() &&
                  d.doc["srtctl"].contains("jobs") && d.doc["srtctl"]["jobs"].is_array() &&
                  d.doc["srtctl"]["jobs"].size() > 1);
      return set ? "an srtctl job set" : "an srtctl job";
    }
    case Kind::ray:
      return "a Ray run";
    case Kind::prime_rl:
      break;
  }
  return "a prime-rl run";
}

}  // namespace detail

Result compare_any(const Options& opt) {
  if (opt.runs.size() < 2)
    throw std::invalid_argument(
        fmt::format("compare needs at least two runs ({} given)", opt.runs.size()));
  if (opt.baseline >= opt.runs.size())
    throw std::invalid_argument(
        fmt::format("--baseline {}: only {} runs given", opt.baseline + 1, opt.runs.size()));
  std::vector<detail::Detected> args;
  for (const auto& a : opt.runs) args.push_back(detail::detect(a));
  // The first argument sets the kind; the first one of another kind is named against it.
  for (size_t i = 1; i < args.size(); ++i)
    if (args[i].kind != args[0].kind)
      throw std::invalid_argument(
          fmt::format("compare: cannot compare {} ({}) with {} ({}): compare runs of one kind",
                      detail::kind_noun(args[i]), printable(args[i].source),
                      detail::kind_noun(args[0]), printable(args[0].source)));
  switch (args[0].kind) {
    case detail::Kind::srtctl:
      return detail::compare_srtctl(args, opt);
    case detail::Kind::ray:
      return detail::compare_ray(args, opt);
    case detail::Kind::prime_rl:
      break;
  }
  return compare_runs(load_runs(opt), opt);
}

}  // namespace alog::compare
