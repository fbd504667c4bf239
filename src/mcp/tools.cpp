// The four tools: their input schemas, and what each runs and answers (docs/MCP.md).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "analyze_logs/input.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace fs = std::filesystem;

namespace alog::mcp {
namespace {

// A refusal the model can act on: an error result, not a JSON-RPC error.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

json string_array(const char* description) {
  return {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}, {"description", description}};
}

const char* kWhen = "A time on the logs' own clock: 'YYYY-MM-DD HH:MM:SS' (a 'T' and fractions allowed; a date alone is its start)";

json schema(json properties, std::vector<std::string> required) {
  json s = {{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

// --- arguments -------------------------------------------------------------------------------

void check_known(const json& args, std::initializer_list<const char*> known) {
  for (auto it = args.begin(); it != args.end(); ++it)
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return it.key() == k; }))
      throw Refused(fmt::format("unknown argument '{}' (this tool takes: {})", it.key(), fmt::join(known, ", ")));
}

std::optional<std::string> opt_string(const json& args, const char* key) {
  if (!args.contains(key) || args[key].is_null()) return std::nullopt;
  if (!args[key].is_string()) throw Refused(fmt::format("'{}' must be a string", key));
  return args[key].get<std::string>();
}

std::vector<std::string> string_list(const json& args, const char* key, bool required) {
  if (!args.contains(key)) {
    if (required) throw Refused(fmt::format("'{}' is required: a list of paths", key));
    return {};
  }
  const json& v = args[key];
  std::vector<std::string> out;
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) throw Refused(fmt::format("'{}' must be a list of strings", key));
  for (const auto& e : v) {
    if (!e.is_string()) throw Refused(fmt::format("'{}' must be a list of strings", key));
    out.push_back(e.get<std::string>());
  }
  if (required && out.empty()) throw Refused(fmt::format("'{}' is empty: name at least one path", key));
  if (out.size() > 1000) throw Refused(fmt::format("'{}': more than 1,000 paths", key));
  return out;
}

size_t opt_count(const json& args, const char* key, size_t dflt, size_t max) {
  if (!args.contains(key) || args[key].is_null()) return dflt;
  const json& v = args[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > static_cast<int64_t>(max))
    throw Refused(fmt::format("'{}' must be an integer from 1 to {}", key, max));
  return v.get<size_t>();
}

bool opt_bool(const json& args, const char* key) {
  if (!args.contains(key) || args[key].is_null()) return false;
  if (!args[key].is_boolean()) throw Refused(fmt::format("'{}' must be true or false", key));
  return args[key].get<bool>();
}

std::optional<int64_t> opt_when(const json& args, const char* key) {
  auto s = opt_string(args, key);
  if (!s) return std::nullopt;
  auto t = parse_when(*s);
  if (!t) throw Refused(fmt::format("'{}': {} is not a time ('YYYY-MM-DD HH:MM:SS')", key, *s));
  return t;
}

std::vector<fs::path> resolve_all(const Roots& roots, const std::vector<std::string>& paths, bool check_links = true) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    std::string why;
    auto r = roots.resolve(p, why, check_links);
    if (!r) throw Refused(why);
    out.push_back(*r);
  }
  return out;
}

// --- the child analyses ----------------------------------------------------------------------

std::string first_lines(const std::string& s, size_t n) {
  std::string out;
  size_t at = 0;
  for (size_t i = 0; i < n && at < s.size(); ++i) {
    size_t nl = s.find('\n', at);
    if (nl == std::string::npos) nl = s.size();
    out += s.substr(at, nl - at);
    out += '\n';
    at = nl + 1;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Runs the binary; returns its standard output for statuses 0 and 1, throws Refused otherwise.
std::string run(const Config& cfg, Call& call, std::vector<std::string> args) {
  ChildResult r = run_child(cfg.exe, args, call, cfg.call_timeout_s);
  if (r.cancelled) throw Refused("cancelled");
  if (r.timed_out) throw Refused(fmt::format("stopped after {:g} s (the server's time limit for one call)", cfg.call_timeout_s));
  if (r.out_truncated) throw Refused("the analysis wrote more than 256 MiB; name fewer inputs");
  if (r.status == 0 || r.status == 1) return r.out;
  std::string err = utf8_clean(first_lines(r.err, 20));
  // The CLI's messages start "analyze-logs: "; the tool's caller knows who speaks.
  if (err.starts_with("analyze-logs: ")) err.erase(0, 14);
  if (r.status == 2) throw Refused(err.empty() ? std::string("the analysis refused its inputs") : err);
  throw Refused(fmt::format("the analysis ended with status {}{}{}", r.status, err.empty() ? "" : ": ", err));
}

// report.json without the record lists no tool answers from (updates, batches, the step table):
// a run of millions of records parses in the memory of its header and figures. With `update`,
// the one update of that trace id is kept.
json parse_report(const std::string& out, const std::string& update = "") {
  std::string top_key;
  json::parser_callback_t keep = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::key) {
      if (depth == 1) top_key = parsed.get<std::string>();
      const std::string& k = parsed.get_ref<const std::string&>();
      if (k == "batches" || k == "step_table" || k == "server_only_updates") return false;
      if (k == "updates") return !update.empty() && depth == 1;
    }
    if (ev == json::parse_event_t::object_end && depth == 2 && top_key == "updates")
      return parsed.is_object() && parsed.contains("trace_id") && parsed["trace_id"] == update;
    return true;
  };
  json doc = json::parse(out, keep, false);
  if (doc.is_discarded() || !doc.is_object()) throw Refused("the analysis printed no JSON report");
  return doc;
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::string fmt_num(const json& v) {
  if (v.is_number_integer()) return fmt::format("{}", v.get<int64_t>());
  if (v.is_number()) return fmt::format("{:.6g}", v.get<double>());
  if (v.is_null()) return "-";
  return v.dump();
}

// Findings as the header has them, each with its evidence (file:line and text).
json findings_of(const json& doc) {
  json out = json::array();
  if (!doc.contains("findings") || !doc["findings"].is_array()) return out;
  for (const auto& f : doc["findings"]) {
    json g;
    for (const char* k : {"id", "severity", "role", "job", "summary", "detail", "fix"})
      if (f.contains(k) && !f[k].is_null()) g[k] = f[k];
    json ev = json::array();
    if (f.contains("evidence") && f["evidence"].is_array())
      for (const auto& e : f["evidence"]) {
        json x;
        for (const char* k : {"file", "line", "time", "text"})
          if (e.contains(k) && !e[k].is_null()) x[k] = e[k];
        ev.push_back(std::move(x));
      }
    g["evidence"] = std::move(ev);
    out.push_back(std::move(g));
  }
  return out;
}

// The kind's key figures: prime-rl's metrics, srtctl's benchmark points, Ray's progress, the hang.
json figures_of(const json& doc) {
  json fig = json::object();
  if (doc.contains("metrics") && doc["metrics"].is_object()) {
    json m = json::object();
    for (auto it = doc["metrics"].begin(); it != doc["metrics"].end(); ++it) {
      const json& s = it.value();
      if (!s.is_object() || !s.contains("count") || !s["count"].is_number() || s["count"].get<double>() <= 0) continue;
      json x;
      for (const char* k : {"count", "mean", "p50", "p90", "p99", "max", "unit"})
        if (s.contains(k)) x[k] = s[k];
      m[it.key()] = std::move(x);
    }
    fig["prime-rl"] = {{"metrics", std::move(m)}};
  }
  if (doc.contains("srtctl") && doc["srtctl"].is_object() && doc["srtctl"].contains("jobs")) {
    json jobs = json::array();
    for (const auto& j : doc["srtctl"]["jobs"]) {
      json x;
      for (const char* k : {"job_id", "name", "layout", "prefill_workers", "decode_workers", "agg_workers", "verdict"})
        if (j.contains(k)) x[k] = j[k];
      json runs = json::array();
      if (j.contains("runs") && j["runs"].is_array())
        for (const auto& r : j["runs"]) {
          json p;
          for (const char* k : {"concurrency", "isl", "osl", "status", "failed_requests"})
            if (r.contains(k)) p[k] = r[k];
          if (r.contains("metrics") && r["metrics"].is_object())
            for (const char* k : {"output_throughput", "request_throughput", "median_ttft_ms", "p99_ttft_ms", "median_tpot_ms", "p99_tpot_ms"})
              if (r["metrics"].contains(k)) p[k] = r["metrics"][k];
          runs.push_back(std::move(p));
        }
      x["runs"] = std::move(runs);
      jobs.push_back(std::move(x));
    }
    fig["srtctl"] = {{"jobs", std::move(jobs)}};
  }
  if (doc.contains("ray") && doc["ray"].is_object()) {
    const json& r = doc["ray"];
    json x;
    for (const char* k : {"phase_reached", "phase_reached_name", "in_phase_s", "silence_s", "started_at", "last_output_at", "training", "collective_timeout"})
      if (r.contains(k)) x[k] = r[k];
    fig["ray"] = std::move(x);
  }
  if (doc.contains("hang") && doc["hang"].is_object()) {
    const json& h = doc["hang"];
    json x;
    for (const char* k : {"world_size", "culprits", "confidence", "undecided", "nccl"})
      if (h.contains(k)) x[k] = h[k];
    fig["hang"] = std::move(x);
  }
  return fig;
}

std::string findings_text(const json& findings) {
  std::string t;
  for (const auto& f : findings) {
    t += fmt::format("- {} {}{}: {}\n", str(f, "severity"), str(f, "id"), f.contains("job") ? fmt::format(" [{}]", str(f, "job")) : "", str(f, "summary"));
    for (const auto& e : f["evidence"])
      t += e.contains("file") && !str(e, "file").empty() ? fmt::format("    {}:{}: {}\n", str(e, "file"), fmt_num(e.value("line", json())), str(e, "text"))
                                                          : fmt::format("    {}\n", str(e, "text"));
  }
  return t;
}

std::string figures_text(const json& fig) {
  std::string t;
  if (fig.contains("prime-rl")) {
    for (auto it = fig["prime-rl"]["metrics"].begin(); it != fig["prime-rl"]["metrics"].end(); ++it) {
      const json& s = it.value();
      t += fmt::format("  {}: n={} p50={} p99={} max={} {}\n", it.key(), fmt_num(s.value("count", json())), fmt_num(s.value("p50", json())),
                       fmt_num(s.value("p99", json())), fmt_num(s.value("max", json())), s.contains("unit") && s["unit"].is_string() ? s["unit"].get<std::string>() : "");
    }
  }
  if (fig.contains("srtctl"))
    for (const auto& j : fig["srtctl"]["jobs"]) {
      t += fmt::format("  job {} ({}): {}\n", fmt_num(j.value("job_id", json())), str(j, "layout"), str(j, "verdict"));
      for (const auto& r : j["runs"])
        t += fmt::format("    concurrency {}: {} , output {} tok/s, TTFT p50 {} ms, TPOT p50 {} ms, failed {}\n", fmt_num(r.value("concurrency", json())),
                         str(r, "status"), fmt_num(r.value("output_throughput", json())), fmt_num(r.value("median_ttft_ms", json())),
                         fmt_num(r.value("median_tpot_ms", json())), fmt_num(r.value("failed_requests", json())));
    }
  if (fig.contains("ray")) {
    const json& r = fig["ray"];
    t += fmt::format("  phase reached: {} {} ({} s in it), silent for {} s\n", fmt_num(r.value("phase_reached", json())), str(r, "phase_reached_name"),
                     fmt_num(r.value("in_phase_s", json())), fmt_num(r.value("silence_s", json())));
    if (r.contains("training") && r["training"].is_object())
      t += fmt::format("  training: {}/{} ({} %)\n", fmt_num(r["training"].value("n", json())), fmt_num(r["training"].value("total", json())),
                       fmt_num(r["training"].value("percent", json())));
  }
  if (fig.contains("hang"))
    t += fmt::format("  hang: culprit rank(s) {}, confidence {}, world size {}\n", fig["hang"].value("culprits", json::array()).dump(),
                     str(fig["hang"], "confidence"), fmt_num(fig["hang"].value("world_size", json())));
  return t;
}

ToolResult analyze(const json& args, const Roots& roots, const Config& cfg, Call& call) {
  check_known(args, {"paths", "live"});
  auto paths = resolve_all(roots, string_list(args, "paths", true));
  std::vector<std::string> a = {"--json", "--no-folder", "-q", "--no-github"};
  if (opt_bool(args, "live")) a.push_back("--live");
  for (const auto& p : paths) a.push_back(p.string());
  json doc = parse_report(run(cfg, call, a));
  json s;
  s["kind"] = doc.value("kind", json());
  s["verdict"] = doc.value("verdict", json());
  s["cause"] = doc.value("cause", json());
  s["findings"] = findings_of(doc);
  json jobs = json::array();
  if (doc.contains("jobs"))
    for (const auto& j : doc["jobs"]) jobs.push_back({{"name", j.value("name", json())}, {"kind", j.value("kind", json())}, {"path", j.value("path", json())},
                                                      {"verdict", j.value("verdict", json())}, {"cause", j.value("cause", json())}});
  s["jobs"] = std::move(jobs);
  json not_read = json::array();
  if (doc.contains("inputs"))
    for (const auto& in : doc["inputs"])
      if (in.contains("read") && in["read"].is_boolean() && !in["read"].get<bool>()) not_read.push_back(in);
  s["inputs_not_read"] = std::move(not_read);
  s["figures"] = figures_of(doc);
  std::string t = fmt::format("verdict: {} ({})\ncause: {}\n", str(s, "verdict"), str(s, "kind"), str(s, "cause"));
  if (s["jobs"].size() > 1)
    for (const auto& j : s["jobs"]) t += fmt::format("  job {} ({}): {}: {}\n", str(j, "name"), str(j, "kind"), str(j, "verdict"), str(j, "cause"));
  t += s["findings"].empty() ? std::string("findings: none\n") : fmt::format("findings ({}):\n{}", s["findings"].size(), findings_text(s["findings"]));
  if (std::string f = figures_text(s["figures"]); !f.empty()) t += fmt::format("key figures:\n{}", f);
  if (!s["inputs_not_read"].empty()) t += fmt::format("inputs not read: {}\n", s["inputs_not_read"].size());
  return {false, t, std::move(s)};
}

ToolResult compare(const json& args, const Roots& roots, const Config& cfg, Call& call) {
  check_known(args, {"runs", "baseline", "fail_on_regression_pct"});
  auto runs = resolve_all(roots, string_list(args, "runs", true));
  if (runs.size() < 2) throw Refused("'runs': give at least two runs (the first is the baseline unless 'baseline')");
  std::vector<std::string> a = {"compare", "--json", "--no-folder"};
  if (args.contains("baseline")) a.push_back(fmt::format("--baseline={}", opt_count(args, "baseline", 1, runs.size())));
  if (args.contains("fail_on_regression_pct")) {
    const json& v = args["fail_on_regression_pct"];
    if (!v.is_number() || v.get<double>() < 0) throw Refused("'fail_on_regression_pct' must be a number >= 0");
    a.push_back(fmt::format("--fail-on-regression={}", v.get<double>()));
  }
  for (const auto& p : runs) a.push_back(p.string());
  json doc = parse_report(run(cfg, call, a));
  json s;
  for (const char* k : {"kind", "verdict", "baseline", "runs", "regressions", "regressed", "checks_failed", "missing"})
    if (doc.contains(k)) s[k] = doc[k];
  std::string kind = doc.contains("runs") && doc["runs"].is_array() && !doc["runs"].empty() ? str(doc["runs"][0], "kind") : "";
  std::string t = fmt::format("{} runs compared: {}\n", kind, str(doc, "verdict"));
  if (!args.contains("fail_on_regression_pct"))
    t += "regressions: none listed (give fail_on_regression_pct to list the metrics worse than that)\n";
  else if (doc.contains("regressions") && doc["regressions"].is_array()) {
    t += doc["regressions"].empty() ? std::string("regressions: none beyond the threshold\n") : "regressions:\n";
    for (const auto& r : doc["regressions"])
      t += fmt::format("- {}: {}.{} {} -> {} ({:+.1f} %)\n", str(r, "run"), str(r, "metric"), str(r, "stat"), fmt_num(r.value("baseline", json())),
                       fmt_num(r.value("value", json())), r.contains("pct") && r["pct"].is_number() ? r["pct"].get<double>() : 0.0);
  }
  return {false, t, std::move(s)};
}

// The lines of one file, or of one Ray actor (its worker file and its lines relayed by the
// driver), within a window, at most max_lines of them (the first, or the last with tail).
struct Lines {
  json rows = json::array();
  uint64_t total = 0;
};

void add_lines(Lines& out, const fs::path& file, const std::function<bool(std::string_view)>& keep,
               std::optional<int64_t> since, std::optional<int64_t> until, size_t max_lines, bool tail, Call& call) {
  LineClock clock;
  std::vector<json> ring;  // tail: the last max_lines
  size_t next = 0;
  input::for_each_line(file.string(), [&](std::string_view line, uint64_t no) {
    if ((no & 0xffff) == 0 && call.cancelled) return false;
    std::optional<int64_t> stamp = clock.see(line);
    if ((since || until) && (!stamp || (since && *stamp < *since) || (until && *stamp > *until))) return true;
    if (!keep(line)) return true;
    ++out.total;
    json r = {{"file", file.string()}, {"line", no}, {"time", stamp ? json(ray::format_civil(*stamp)) : json()}, {"text", utf8_clean(line.substr(0, 2000))}};
    if (!tail) {
      if (out.rows.size() < max_lines) out.rows.push_back(std::move(r));
    } else if (ring.size() < max_lines) {
      ring.push_back(std::move(r));
    } else {
      ring[next] = std::move(r);
      next = (next + 1) % max_lines;
    }
    return true;
  });
  for (size_t i = 0; i < ring.size(); ++i) out.rows.push_back(std::move(ring[(next + i) % ring.size()]));
}

std::string lines_text(const Lines& l) {
  std::string t;
  for (const auto& r : l.rows) t += fmt::format("{}:{}: {}\n", str(r, "file"), fmt_num(r["line"]), str(r, "text"));
  if (l.total > l.rows.size()) t += fmt::format("({} more lines not shown)\n", l.total - l.rows.size());
  return t;
}

ToolResult trace(const json& args, const Roots& roots, const Config& cfg, Call& call) {
  check_known(args, {"path", "update", "actor", "since", "until", "max_lines", "tail"});
  auto path_s = opt_string(args, "path");
  if (!path_s) throw Refused("'path' is required: the run or job folder (or its logs)");
  auto update = opt_string(args, "update");
  auto actor = opt_string(args, "actor");
  if (update.has_value() == actor.has_value()) throw Refused("give one of 'update' (a weight update's trace id, or a unique prefix) or 'actor'");
  fs::path path = resolve_all(roots, {*path_s}).front();
  if (update) {
    if (update->empty() || update->find_first_not_of("0123456789abcdefABCDEF-_") != std::string::npos)
      throw Refused("'update': a trace id is hexadecimal (a unique prefix is enough)");
    std::string text = run(cfg, call, {"--trace", *update, "-q", "--no-github", path.string()});
    json s = {{"update", *update}};
    // The update's record, as report.json lists it: its full id is the trace view's first line.
    std::string full;
    if (text.starts_with("trace ")) full = text.substr(6, text.find_first_of(" \n", 6) - 6);
    if (!full.empty()) {
      s["trace_id"] = full;
      json doc = parse_report(run(cfg, call, {"--json", "--no-folder", "-q", "--no-github", path.string()}), full);
      if (doc.contains("updates") && doc["updates"].is_array())
        for (const auto& u : doc["updates"])
          if (str(u, "trace_id") == full) s["record"] = u;
    }
    return {false, text, std::move(s)};
  }
  // An actor: a Ray actor (name, pid, "rank N", or name:pid) or a process's log file (a path, a
  // file name, or a role the report gives it: "orchestrator", "trainer", ...).
  auto since = opt_when(args, "since"), until = opt_when(args, "until");
  size_t max_lines = opt_count(args, "max_lines", 200, 5000);
  bool tail = opt_bool(args, "tail");
  json doc = parse_report(run(cfg, call, {"--json", "--no-folder", "-q", "--no-github", path.string()}));
  const std::string& a = *actor;
  json s = {{"actor", a}};
  Lines lines;
  auto checked = [&](const fs::path& f) { return resolve_all(roots, {f.string()}).front(); };
  if (doc.contains("ray") && doc["ray"].contains("actors")) {
    const json& ray = doc["ray"];
    std::vector<const json*> hits;
    for (const auto& x : ray["actors"]) {
      std::string name = str(x, "name");
      std::string pid = x.contains("pid") && x["pid"].is_number() ? fmt::format("{}", x["pid"].get<int64_t>()) : "";
      std::string rank = x.contains("rank") && x["rank"].is_number() ? fmt::format("rank {}", x["rank"].get<int64_t>()) : "";
      if (a == name || a == pid || a == rank || a == fmt::format("{}:{}", name, pid) || a == fmt::format("{} {}", name, rank)) hits.push_back(&x);
    }
    if (hits.size() > 1) {
      std::string list;
      for (const auto* h : hits) list += fmt::format(" {}:{}", str(*h, "name"), fmt_num(h->value("pid", json())));
      throw Refused(fmt::format("'actor': {} names {} actors; give name:pid:{}", a, hits.size(), list));
    }
    if (hits.size() == 1) {
      const json& x = *hits.front();
      s["match"] = x;
      fs::path base = str(ray["inputs"], "base");
      int64_t pid = x.contains("pid") && x["pid"].is_number() ? x["pid"].get<int64_t>() : -1;
      if (std::string wf = str(x, "worker_file"); !wf.empty())
        add_lines(lines, checked(base / wf), [](std::string_view) { return true; }, since, until, max_lines, tail, call);
      if (pid >= 0 && ray["inputs"].contains("driver_logs"))
        for (const auto& d : ray["inputs"]["driver_logs"])
          add_lines(lines, checked(base / d.get<std::string>()), [pid](std::string_view l) {
            auto p = ray::parse_ray_prefix(l);
            return p && p->pid == pid;
          }, since, until, max_lines, tail, call);
    }
  }
  if (!s.contains("match")) {
    // A process's own log file: by path, file name or role.
    std::vector<json> hits;
    if (doc.contains("inputs"))
      for (const auto& in : doc["inputs"]) {
        fs::path p = str(in, "path");
        std::error_code ec;
        if (!fs::is_regular_file(p, ec)) continue;
        if (p.string() == a || p.filename().string() == a || str(in, "role") == a || p.string().ends_with(fmt::format("/{}", a))) hits.push_back(in);
      }
    if (hits.empty()) {
      std::string known;
      if (doc.contains("ray") && doc["ray"].contains("actors"))
        for (const auto& x : doc["ray"]["actors"]) known += fmt::format(" {}:{}", str(x, "name"), fmt_num(x.value("pid", json())));
      if (doc.contains("inputs"))
        for (const auto& in : doc["inputs"])
          if (fs::is_regular_file(str(in, "path"))) known += fmt::format(" {}", fs::path(str(in, "path")).filename().string());
      if (known.size() > 1500) known = fmt::format("{} …", known.substr(0, 1500));
      throw Refused(fmt::format("'actor': nothing in {} is called {}; known:{}", path.string(), a, known));
    }
    if (hits.size() > 1) throw Refused(fmt::format("'actor': {} names {} files; give the file's path", a, hits.size()));
    s["match"] = hits.front();
    add_lines(lines, checked(str(hits.front(), "path")), [](std::string_view) { return true; }, since, until, max_lines, tail, call);
  }
  if (call.cancelled) throw Refused("cancelled");
  // A Ray actor's two sources (its file, the driver's relay) in one order when every line has a
  // stamp; then at most max_lines of them.
  auto& rows = lines.rows;
  if (std::all_of(rows.begin(), rows.end(), [](const json& r) { return r["time"].is_string(); }))
    std::stable_sort(rows.begin(), rows.end(), [](const json& x, const json& y) { return x["time"].get<std::string>() < y["time"].get<std::string>(); });
  if (rows.size() > max_lines) {
    json kept = json::array();
    size_t from = tail ? rows.size() - max_lines : 0;
    for (size_t i = from; i < from + max_lines; ++i) kept.push_back(std::move(rows[i]));
    rows = std::move(kept);
  }
  s["lines"] = lines.rows;
  s["total"] = lines.total;
  s["shown"] = lines.rows.size();
  std::string t = fmt::format("{} lines of {} ({} shown{})\n", lines.total, a, lines.rows.size(), tail ? ", the last ones" : "") + lines_text(lines);
  return {false, t, std::move(s)};
}

ToolResult grep_tool(const json& args, const Roots& roots, Call& call) {
  check_known(args, {"pattern", "paths", "since", "until", "max_lines", "ignore_case"});
  auto pattern = opt_string(args, "pattern");
  if (!pattern) throw Refused("'pattern' is required (RE2 syntax)");
  GrepOptions o;
  o.pattern = *pattern;
  o.ignore_case = opt_bool(args, "ignore_case");
  o.max_lines = opt_count(args, "max_lines", 100, 1000);
  o.since_ms = opt_when(args, "since");
  o.until_ms = opt_when(args, "until");
  if (o.since_ms && o.until_ms && *o.since_ms > *o.until_ms) throw Refused("'since' is after 'until'");
  auto paths = string_list(args, "paths", false);
  if (paths.empty())
    for (const auto& r : roots.list()) o.paths.push_back(r);
  else
    o.paths = resolve_all(roots, paths, false);  // grep follows no link
  o.cancel = &call.cancelled;
  GrepResult g;
  try {
    g = grep(o);
  } catch (const std::invalid_argument& e) {
    throw Refused(e.what());
  }
  if (g.cancelled) throw Refused("cancelled");
  json s;
  json m = json::array();
  std::string t;
  for (const auto& x : g.matches) {
    m.push_back({{"file", x.file}, {"line", x.line}, {"time", x.time_ms ? json(ray::format_civil(*x.time_ms)) : json()}, {"text", x.text}});
    t += fmt::format("{}:{}: {}\n", x.file, x.line, x.text);
  }
  s["matches"] = std::move(m);
  s["total"] = g.total;
  s["shown"] = g.matches.size();
  s["more"] = g.total - g.matches.size();
  s["files"] = g.files;
  s["bytes"] = g.bytes;
  json skipped = json::array();
  for (const auto& [f, why] : g.skipped) skipped.push_back({{"file", f}, {"why", utf8_clean(why)}});
  s["skipped"] = std::move(skipped);
  s["complete"] = !g.stopped_at_bytes && !g.stopped_at_files;
  if (g.total > g.matches.size()) t += fmt::format("({} more matching lines not shown; narrow the pattern, the paths or the window)\n", g.total - g.matches.size());
  if (g.total == 0) t += fmt::format("no line matches in {} files\n", g.files);
  if (g.stopped_at_bytes) t += fmt::format("stopped after {} bytes (the server's limit for one grep); the counts cover what was read\n", g.bytes);
  if (g.stopped_at_files) t += fmt::format("stopped after {} files (the server's limit for one grep)\n", g.files);
  if (!g.skipped.empty()) t += fmt::format("{} files not read (binary or unreadable; see skipped)\n", g.skipped.size());
  return {false, t, std::move(s)};
}

}  // namespace

json tool_list() {
  json paths_prop = string_array("Files or folders (any depth) of one or more jobs; relative paths are under the server's first root");
  json tools = json::array();
  tools.push_back(
      {{"name", "analyze"},
       {"title", "Analyze job logs"},
       {"description",
        "Analyze the logs of ML training or serving jobs (prime-rl, srtctl/SGLang, Ray, hung jobs): the verdict (ok, degraded, failed, "
        "stuck, running, unknown), the sentence naming its cause, findings with evidence (file:line), and the kind's key figures."},
       {"inputSchema", schema({{"paths", paths_prop}, {"live", {{"type", "boolean"}, {"description", "Ray jobs still running: measure the silence up to now"}}}}, {"paths"})},
       {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}});
  tools.push_back(
      {{"name", "trace"},
       {"title", "One update's or one actor's timeline"},
       {"description",
        "The timeline of one weight update (prime-rl: client and server halves joined by trace id, with its phases) or the lines of one "
        "actor or process (a Ray actor by name, pid, 'rank N' or name:pid; a process by its log file's name, path or role), in order, "
        "with file:line."},
       {"inputSchema",
        schema({{"path", {{"type", "string"}, {"description", "The run or job (folder or file)"}}},
                {"update", {{"type", "string"}, {"description", "A weight update's trace id, or a unique prefix of it"}}},
                {"actor", {{"type", "string"}, {"description", "A Ray actor (name, pid, 'rank N', name:pid) or a log file (name, path, role)"}}},
                {"since", {{"type", "string"}, {"description", kWhen}}},
                {"until", {{"type", "string"}, {"description", kWhen}}},
                {"max_lines", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5000}, {"description", "Lines returned (default 200); the rest are counted"}}},
                {"tail", {{"type", "boolean"}, {"description", "Return the last max_lines lines instead of the first"}}}},
               {"path"})},
       {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}});
  tools.push_back(
      {{"name", "compare"},
       {"title", "Compare runs"},
       {"description",
        "Compare two or more runs or jobs of one kind (analysis folders, report.json files, logs, run or job folders) against a baseline: "
        "the verdict line (what changed) and the metrics that regressed."},
       {"inputSchema", schema({{"runs", string_array("The runs, the baseline first (unless 'baseline')")},
                               {"baseline", {{"type", "integer"}, {"minimum", 1}, {"description", "Which run is the baseline (1-based; default 1)"}}},
                               {"fail_on_regression_pct", {{"type", "number"}, {"minimum", 0}, {"description", "A metric worse by more than this percent is a regression"}}}},
                              {"runs"})},
       {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}});
  tools.push_back(
      {{"name", "grep"},
       {"title", "Search the logs"},
       {"description",
        "Lines matching a pattern (RE2 syntax: no backreferences; linear time) in the files under the paths (default: every root), "
        "optionally only lines stamped within a time window, with file:line and time. At most max_lines lines, with a count of the "
        "rest. Compressed files (gzip, zstd) are read; binary files are skipped and listed."},
       {"inputSchema", schema({{"pattern", {{"type", "string"}, {"description", "RE2 regular expression, searched anywhere in the line"}}},
                               {"paths", string_array("Files or folders to search (default: every root)")},
                               {"since", {{"type", "string"}, {"description", kWhen}}},
                               {"until", {{"type", "string"}, {"description", kWhen}}},
                               {"max_lines", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"description", "Lines returned (default 100); the rest are counted"}}},
                               {"ignore_case", {{"type", "boolean"}}}},
                              {"pattern"})},
       {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}});
  return tools;
}

ToolResult call_tool(const std::string& name, const json& args_in, const Roots& roots, const Config& cfg, Call& call) {
  static const std::map<std::string, int> known = {{"analyze", 0}, {"trace", 1}, {"compare", 2}, {"grep", 3}};
  auto it = known.find(name);
  if (it == known.end()) throw std::out_of_range(fmt::format("Unknown tool: {}", name));
  json args = args_in.is_null() ? json::object() : args_in;
  try {
    if (!args.is_object()) throw Refused("arguments must be an object");
    switch (it->second) {
      case 0: return analyze(args, roots, cfg, call);
      case 1: return trace(args, roots, cfg, call);
      case 2: return compare(args, roots, cfg, call);
      default: return grep_tool(args, roots, call);
    }
  } catch (const Refused& e) {
    return {true, e.what(), json{{"error", e.what()}}};
  } catch (const json::exception& e) {
    return {true, fmt::format("unexpected report: {}", e.what()), json{{"error", e.what()}}};
  } catch (const std::exception& e) {
    return {true, e.what(), json{{"error", e.what()}}};
  }
}

}  // namespace alog::mcp
