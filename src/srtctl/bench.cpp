// benchmark.out and the sa-bench result JSON files.
//
// benchmark.out is a shell transcript, not a log: no timestamps except the bare `date` lines the
// script echoes around each run, a curl answer glued to the next echo (no trailing newline), and
// full result blocks for warm-ups as well as real runs. A block therefore belongs to the run
// opened by the last "Warming up ..." / "Running benchmark ..." line, whatever its position.
#include <re2/re2.h>

#include <algorithm>
#include <cmath>

#include "analyze_logs/input.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"

namespace alog::srtctl {

std::optional<double> BenchRun::metric(std::string_view key) const {
  for (const auto& [k, v] : metrics)
    if (k == key) return v;
  return std::nullopt;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool all_of_char(std::string_view s, char c) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [c](char x) { return x == c; });
}

void set_metric(Metrics& m, const std::string& key, double v) {
  for (auto& [k, old] : m)
    if (k == key) {
      old = v;
      return;
    }
  m.emplace_back(key, v);
}

void set_text(std::vector<std::pair<std::string, std::string>>& t, const std::string& key,
              std::string v) {
  for (auto& [k, old] : t)
    if (k == key) {
      old = std::move(v);
      return;
    }
  t.emplace_back(key, std::move(v));
}

std::optional<int64_t> to_int(const std::string& s) {
  return parse_int(s);
}

// "-3" or "12" within int range; the health check can print negative counts.
std::optional<int> small_int(const std::string& s) {
  bool neg = !s.empty() && s[0] == '-';
  auto v = parse_int(neg ? std::string_view(s).substr(1) : std::string_view(s));
  if (!v || *v > 1000000) return std::nullopt;
  return static_cast<int>(neg ? -*v : *v);
}

std::vector<int64_t> split_concurrencies(std::string_view s) {
  std::vector<int64_t> out;
  std::string cur;
  auto flush = [&] {
    if (auto v = parse_int(cur)) out.push_back(*v);
    cur.clear();
  };
  for (char c : s) {
    if (c >= '0' && c <= '9')
      cur += c;
    else
      flush();
  }
  flush();
  return out;
}

// The state of one pass over benchmark.out.
struct BenchParser {
  BenchmarkLog out;
  std::string rel;
  std::vector<Problem>& problems;

  // The run the next date line / block belongs to: (is_warmup, index).
  std::optional<std::pair<bool, size_t>> cur;
  bool in_block = false;
  uint64_t block_line = 0;
  Metrics block_metrics;
  std::vector<std::pair<std::string, std::string>> block_text;
  std::optional<int64_t> last_max_concurrency;  // "Maximum request concurrency: N" before a block
  bool ready_seen = false;

  BenchParser(std::string r, std::vector<Problem>& p) : rel(std::move(r)), problems(p) {}

  BenchRun* current() {
    if (!cur) return nullptr;
    auto& v = cur->first ? out.warmups : out.runs;
    return cur->second < v.size() ? &v[cur->second] : nullptr;
  }

  void open_run(bool warmup, int64_t concurrency, uint64_t line) {
    close_block(true);
    BenchRun r;
    r.warmup = warmup;
    r.concurrency = concurrency;
    r.line = line;
    r.isl = out.isl;
    r.osl = out.osl;
    auto& v = warmup ? out.warmups : out.runs;
    v.push_back(std::move(r));
    cur = std::make_pair(warmup, v.size() - 1);
    last_max_concurrency.reset();
  }

  // Ends the block being read; `truncated` when something else interrupted it.
  void close_block(bool truncated) {
    if (!in_block) return;
    in_block = false;
    BenchRun* r = current();
    auto max_conc = last_max_concurrency;
    if (r == nullptr || r->has_block) {
      // A block with no run line before it (another benchmark script): a real run of its own.
      open_run(false, -1, block_line);
      r = current();
    }
    r->has_block = true;
    r->block_truncated = truncated;
    for (auto& [k, v] : block_metrics) set_metric(r->metrics, k, v);
    for (auto& [k, v] : block_text) set_text(r->text, k, v);
    if (r->concurrency < 0) {
      if (auto mc = r->metric("max_concurrency"))
        r->concurrency = static_cast<int64_t>(*mc);
      else if (max_conc)
        r->concurrency = *max_conc;
    }
    if (auto done = r->metric("completed"); done && r->num_prompts)
      r->failed_requests = std::max<int64_t>(0, *r->num_prompts - static_cast<int64_t>(*done));
    if (truncated) problems.push_back({rel, fmt_truncated()});
    block_metrics.clear();
    block_text.clear();
  }

  std::string fmt_truncated() const {
    return "result block at line " + std::to_string(block_line) +
           " has no closing ===== line (truncated)";
  }

  void block_line_kv(std::string_view s) {
    static const RE2 kv(R"((.+?):\s+(\S(?:.*\S)?))");
    std::string label, value;
    if (!RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kv, &label, &value)) return;
    std::string key = canonical_metric_key(label);
    if (key.empty()) return;
    if (auto v = parse_finite(value))
      set_metric(block_metrics, key, *v);
    else
      set_text(block_text, key, value);
  }

  void line(std::string_view raw, uint64_t no) {
    std::string clean;
    strip_ansi(raw, clean);
    std::string_view s = trim(clean);
    re2::StringPiece sp(s.data(), s.size());

    if (in_block) {
      if (all_of_char(s, '=') && s.size() >= 10) {
        close_block(false);
        return;
      }
      if (s.find("Serving Benchmark Result") != std::string_view::npos) {
        close_block(true);  // a new block before this one closed
      } else if (s.empty() || s.front() == '-') {
        return;  // section header ("----Time to First Token----")
      } else if (s.find("Warming up") == std::string_view::npos &&
                 s.find("Running benchmark") == std::string_view::npos &&
                 s.find("Completed benchmark") == std::string_view::npos) {
        block_line_kv(s);
        return;
      } else {
        close_block(true);
      }
    }

    if (s.size() == 19 && civil_seconds(s)) {
      if (ready_seen && out.readiness.ready_at.empty()) out.readiness.ready_at = std::string(s);
      if (BenchRun* r = current()) {
        if (r->started_at.empty())
          r->started_at = std::string(s);
        else if (r->ended_at.empty() && (r->has_block || r->completed_line))
          r->ended_at = std::string(s);
      }
      return;
    }
    if (s.find("Serving Benchmark Result") != std::string_view::npos && s.front() == '=') {
      in_block = true;
      block_line = no;
      return;
    }

    static const RE2 warm(R"(Warming up (?:model )?with concurrency (\d+))");
    static const RE2 run(
        R"(Running benchmark with concurrency: (\d+)(?: and num-prompts: (\d+))?)");
    static const RE2 result_dir(R"(_isl_(\d+)_osl_(\d+))");
    static const RE2 completed(R"(Completed benchmark with concurrency: (\d+))");
    static const RE2 maxc(R"(Maximum request concurrency: (\d+))");
    static const RE2 polling(R"(Polling (\S+) every (\d+) seconds)");
    static const RE2 not_ready(
        R"(Model is not ready, waiting for (-?\d+) prefills and (-?\d+) decodes)");
    static const RE2 timeout(R"(Model did not get healthy in (\d+) seconds)");
    static const RE2 config1(R"(Config (\d+); (\d+); ([\d ]*); (\S+))");
    static const RE2 config2(
        R"(SA-Bench Config: .*isl=(\d+); osl=(\d+); concurrencies=([\dx]+)(?:; req_rate=(\S+))?)");
    static const RE2 exc(R"(([A-Za-z_][\w.]*(?:Error|Exception)): ?(.*))");

    std::string a, b, c, d;
    int64_t n = 0;
    if (RE2::PartialMatch(sp, warm, &n)) {
      open_run(true, n, no);
    } else if (RE2::PartialMatch(sp, run, &a, &b)) {
      open_run(false, to_int(a).value_or(-1), no);
      BenchRun* r = current();
      r->num_prompts = to_int(b);
      if (RE2::PartialMatch(sp, result_dir, &c, &d)) {
        r->isl = to_int(c);
        r->osl = to_int(d);
      }
    } else if (RE2::PartialMatch(sp, completed, &n)) {
      BenchRun* r = current();
      if (r == nullptr || r->warmup || r->concurrency != n) {
        // "Completed" for a run whose start line we never saw.
        open_run(false, n, no);
        r = current();
      }
      r->completed_line = true;
    } else if (RE2::PartialMatch(sp, maxc, &n)) {
      last_max_concurrency = n;
      if (BenchRun* r = current(); r && r->concurrency < 0) r->concurrency = n;
    } else if (RE2::PartialMatch(sp, polling, &a, &b)) {
      out.readiness.polled = true;
      out.readiness.health_url = a;
    } else if (RE2::PartialMatch(sp, not_ready, &a, &b)) {
      out.readiness.polled = true;
      ++out.readiness.not_ready_reports;
      out.readiness.waiting_prefill = small_int(a);
      out.readiness.waiting_decode = small_int(b);
    } else if (s.find("Model is ready.") != std::string_view::npos) {
      out.readiness.ready = true;
      ready_seen = true;
    } else if (RE2::PartialMatch(sp, timeout, &n)) {
      out.readiness.timed_out = true;
      out.readiness.timeout_s = n;
    } else if (RE2::PartialMatch(sp, config1, &a, &b, &c, &d) ||
               RE2::PartialMatch(sp, config2, &a, &b, &c, &d)) {
      out.isl = to_int(a);
      out.osl = to_int(b);
      out.concurrencies = split_concurrencies(c);
      out.request_rate = d;
    } else if (RE2::FullMatch(sp, exc, &a, &b)) {
      if (BenchRun* r = current(); r && r->error.empty()) r->error = std::string(s.substr(0, 400));
    }
  }
};

}  // namespace

BenchmarkLog parse_benchmark_out(const std::filesystem::path& file, const std::string& rel,
                                 std::vector<Problem>& problems) {
  BenchParser p(rel, problems);
  try {
    input::for_each_line(file.string(), [&](std::string_view l, uint64_t no) {
      p.line(l, no);
      return true;
    });
  } catch (const std::exception& e) {
    problems.push_back({rel, e.what()});
  }
  p.close_block(true);
  // Runs opened before the Config line was seen (none in practice) get its ISL/OSL.
  for (auto* v : {&p.out.runs, &p.out.warmups})
    for (auto& r : *v) {
      if (!r.isl) r.isl = p.out.isl;
      if (!r.osl) r.osl = p.out.osl;
    }
  return std::move(p.out);
}

std::optional<BenchRun> read_result_json(const std::filesystem::path& file, const std::string& rel,
                                         std::vector<Problem>& problems) {
  std::string text;
  try {
    auto src = input::open_source(file.string());
    std::string buf(1 << 16, '\0');
    for (;;) {
      size_t n = src->read(buf.data(), buf.size());
      if (n == 0) break;
      text.append(buf.data(), n);
    }
  } catch (const std::exception& e) {
    problems.push_back({rel, std::string("unreadable: ") + e.what()});
    return std::nullopt;
  }
  // A result is one flat object; nlohmann_json recurses on nesting, so a file nested 200,000
  // deep overflowed the stack (SIGSEGV) before this bound (docs/RELIABILITY.md).
  nlohmann::json j = parse_json_bounded(text);
  if (j.is_discarded()) {
    problems.push_back({rel, text.empty() ? "empty file, expected a JSON result"
                                          : "malformed JSON, result ignored"});
    return std::nullopt;
  }
  if (!j.is_object()) {
    problems.push_back({rel, "JSON is not an object, result ignored"});
    return std::nullopt;
  }
  BenchRun r;
  r.json_file = rel;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = it.value();
    std::string key = canonical_metric_key(it.key());
    if (key.empty()) continue;
    if (v.is_number()) {
      double d = v.get<double>();
      if (std::isfinite(d)) set_metric(r.metrics, key, d);
    } else if (v.is_string()) {
      set_text(r.text, key, v.get<std::string>());
    }
  }
  if (auto mc = j.find("max_concurrency"); mc != j.end() && mc->is_number()) {
    double d = mc->get<double>();
    if (std::isfinite(d) && d >= 0) r.concurrency = static_cast<int64_t>(d);
  }
  std::string name = file.filename().string();
  if (r.concurrency < 0) {
    static const RE2 by_name(R"(concurrency_(\d+))");
    int64_t n = 0;
    if (RE2::PartialMatch(name, by_name, &n)) r.concurrency = n;
  }
  if (r.concurrency < 0)
    problems.push_back({rel, "no max_concurrency in the JSON and no concurrency_N in its name"});
  if (auto np = r.metric("num_prompts")) r.num_prompts = static_cast<int64_t>(*np);
  if (auto errs = j.find("errors"); errs != j.end() && errs->is_array()) {
    int64_t bad = 0;
    for (const auto& e : *errs)
      if (e.is_string() && !e.get_ref<const std::string&>().empty()) ++bad;
    r.failed_requests = bad;
  }
  if (!r.failed_requests && r.num_prompts)
    if (auto done = r.metric("completed"))
      r.failed_requests = std::max<int64_t>(0, *r.num_prompts - static_cast<int64_t>(*done));
  if (!r.metric("completed") && !r.metric("request_throughput") && !r.metric("output_throughput"))
    problems.push_back({rel, "no benchmark metrics (completed, throughputs) in the JSON"});
  return r;
}

}  // namespace alog::srtctl
