// Loading the arguments of `compare` into report.json documents, and naming them.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "analyze_logs/compare.hpp"
#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"
#include "kinds.hpp"

namespace fs = std::filesystem;

namespace alog::compare {
namespace {

std::runtime_error fail(const std::string& arg, std::string_view why) {
  return std::runtime_error(fmt::format("{}: {}", printable(arg), printable(why)));
}

bool ends_with_json(const std::string& s) {
  if (s.size() < 5) return false;
  std::string tail = s.substr(s.size() - 5);
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == ".json";
}

// A prime-rl report.json document, or an error naming `arg` (which may be the folder holding it).
nlohmann::json read_report(const fs::path& file, const std::string& arg) {
  nlohmann::json j = detail::read_report_doc(file, arg);
  if (std::string k = detail::doc_kind(j); k != "prime-rl")
    throw fail(
        arg, fmt::format("{} report.json, not a prime-rl one", k == "ray" ? "a Ray" : "an srtctl"));
  for (auto it = j["metrics"].begin(); it != j["metrics"].end(); ++it)
    if (!it->is_object()) throw fail(arg, fmt::format("metric \"{}\" is not an object", it.key()));
  if (j.contains("diagnoses") && !j["diagnoses"].is_array())
    throw fail(arg, "not an analyze-logs report.json (\"diagnoses\" is not an array)");
  return j;
}

nlohmann::json analyze_now(const std::string& arg, const Options& opt) {
  AnalysisOptions ao;
  ao.inputs = {arg};
  ao.threads = std::max(1u, opt.threads);
  ao.async_level = opt.async_level;
  ao.tool_version = opt.tool_version;
  try {
    Report r = analyze(ao);
    diagnose(r);
    return nlohmann::json(to_json(r));
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // The analyzer's messages already start with the path it could not read.
    if (msg.starts_with(arg + ":")) throw std::runtime_error(printable(msg));
    throw fail(arg, msg);
  }
}

// What an argument is, decided from the file system alone (cheap), so that every argument is
// checked before any of them is analysed: a typo in the last argument fails at once, not after
// minutes of analysis of the first.
Run classify(const std::string& arg) {
  auto st = detail::check_argument(arg);
  std::error_code ec;
  Run run;
  run.source = arg;
  if (fs::is_directory(st)) {
    fs::path dir(arg);
    if (fs::is_regular_file(dir / "report.json", ec))
      run.kind = "analysis folder";
    else if (fs::is_regular_file(dir / "compare.json", ec))
      throw fail(arg, "a comparison folder, not a run or an analysis folder");
    else
      run.kind = "run folder";
  } else {
    run.kind = ends_with_json(arg) ? "report.json" : "log file";
  }
  return run;
}

// Path components, last first, with "report.json" standing for its folder.
std::vector<std::string> components_reversed(const std::string& source) {
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(source), ec);
  if (ec) p = fs::path(source);
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();  // trailing '/'
  if (p.filename() == "report.json" && p.has_parent_path()) p = p.parent_path();
  std::vector<std::string> out;
  for (const auto& c : p) {
    std::string s = c.string();
    if (s.empty() || s == "/" || s == ".") continue;
    out.push_back(s);
  }
  std::reverse(out.begin(), out.end());
  if (out.empty()) out.push_back(source.empty() ? "run" : source);
  return out;
}

std::string suffix(const std::vector<std::string>& rev, size_t k) {
  k = std::min(k, rev.size());
  std::string s;
  for (size_t i = k; i-- > 0;) {
    s += rev[i];
    if (i) s += '/';
  }
  return s;
}

}  // namespace

std::vector<std::string> make_labels(const std::vector<std::string>& sources) {
  std::vector<std::vector<std::string>> comps;
  for (const auto& s : sources) comps.push_back(components_reversed(s));
  std::vector<std::string> labels(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    size_t k = 1;
    auto clashes = [&](size_t kk) {
      for (size_t j = 0; j < sources.size(); ++j)
        if (j != i && comps[j] != comps[i] && suffix(comps[j], kk) == suffix(comps[i], kk))
          return true;
      return false;
    };
    while (k < comps[i].size() && clashes(k)) ++k;
    labels[i] = suffix(comps[i], k);
  }
  // The same run given twice (or two paths that normalise alike): number the repeats.
  for (size_t i = 0; i < labels.size(); ++i) {
    int n = 1;
    for (size_t j = 0; j < i; ++j)
      if (comps[j] == comps[i]) ++n;
    if (n > 1) labels[i] += fmt::format(" ({})", n);
  }
  return labels;
}

std::vector<Run> load_runs(const Options& opt) {
  if (opt.runs.size() < 2)
    throw std::invalid_argument(
        fmt::format("compare needs at least two runs ({} given)", opt.runs.size()));
  if (opt.baseline >= opt.runs.size())
    throw std::invalid_argument(
        fmt::format("--baseline {}: only {} runs given", opt.baseline + 1, opt.runs.size()));
  std::vector<Run> runs;
  for (const auto& arg : opt.runs) runs.push_back(classify(arg));
  for (auto& r : runs) {  // documents first: a bad one fails before any analysis runs
    if (r.kind == "analysis folder")
      r.report = read_report(fs::path(r.source) / "report.json", r.source);
    else if (r.kind == "report.json")
      r.report = read_report(r.source, r.source);
  }
  for (auto& r : runs)
    if (r.kind == "run folder" || r.kind == "log file") r.report = analyze_now(r.source, opt);
  auto labels = make_labels(opt.runs);
  for (size_t i = 0; i < runs.size(); ++i) runs[i].label = labels[i];
  return runs;
}

}  // namespace alog::compare
