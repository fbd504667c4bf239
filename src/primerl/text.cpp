#include <fmt/format.h>

#include "analyze_logs/primerl/steps.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/util.hpp"

namespace alog {
namespace {
const char* color_of(Status s) {
  switch (s) {
    case Status::good: return "\x1b[32m";
    case Status::warning: return "\x1b[33m";
    case Status::critical: return "\x1b[31;1m";
    default: return "";
  }
}

void print_verdict(const Report& r, const TextOptions& opt, std::string& o) {
  auto out = std::back_inserter(o);
  auto paint = [&](const std::string& s, const char* c) {
    return opt.color && *c ? fmt::format("{}{}\x1b[0m", c, s) : s;
  };
  std::string verdict = verdict_line(r);
  const char* vc = verdict.starts_with("CRITICAL") ? color_of(Status::critical)
                   : verdict.starts_with("WARNING") ? color_of(Status::warning)
                   : verdict.starts_with("OK")      ? color_of(Status::good)
                                                    : "";
  fmt::format_to(out, "{}\n", paint(printable(verdict), vc));
  // The verdict line already names the top diagnosis (the first critical one, else the first):
  // list only the others, so the answer is not printed twice.
  const Diagnosis* top = nullptr;
  for (const auto& d : r.diagnoses)
    if (!top || (d.severity == Severity::critical && top->severity != Severity::critical)) top = &d;
  for (const auto& d : r.diagnoses) {
    if (&d == top) continue;
    fmt::format_to(out, "  {} {}: {}\n", paint(std::string(severity_name(d.severity)),
                                               color_of(d.severity == Severity::critical ? Status::critical : Status::warning)),
                   d.id, printable(d.summary));
  }
}

}  // namespace

std::string to_text(const Report& r, const TextOptions& opt) {
  std::string o;
  auto out = std::back_inserter(o);
  auto paint = [&](const std::string& s, const char* c) {
    return opt.color && *c ? fmt::format("{}{}\x1b[0m", c, s) : s;
  };
  uint64_t skipped = 0;
  for (const auto& in : r.inputs) skipped += in.counts.skipped();
  fmt::format_to(out, "{} input(s), {} events, {} skipped lines, {} updates\n", r.inputs.size(), r.total_events(),
                 skipped, r.updates.size());
  for (const auto& in : r.inputs) {
    if (in.unreadable) continue;
    uint64_t bad = in.counts.unreadable_bytes;
    fmt::format_to(
        out, "  {} ({}{}): {} lines, {} events{}{}\n", printable(in.path), role_name(in.role),
        in.compression == "none" ? "" : ", " + in.compression, in.counts.lines, in.counts.events,
        in.counts.skipped() ? fmt::format(", {} skipped", in.counts.skipped()) : "",
        bad ? fmt::format(", {} unreadable byte{} dropped", bad, bad == 1 ? "" : "s") : "");
  }
  if (!opt.body_only) print_verdict(r, opt, o);
  if (!r.metrics.empty()) {
    fmt::format_to(out, "\n{:<24} {:>7} {:>10} {:>10} {:>10} {:>10}  {}\n", "metric", "count", "mean", "p50", "p99",
                   "max", "status");
    for (const auto& m : r.metrics) {
      std::string st = m.status == Status::none ? "-" : std::string(status_name(m.status));
      fmt::format_to(out, "{:<24} {:>7} {:>10} {:>10} {:>10} {:>10}  {}\n", m.name, m.stats.count, fixed(m.stats.mean),
                     fixed(m.stats.p50), fixed(m.stats.p99), fixed(m.stats.max), paint(st, color_of(m.status)));
    }
  }
  if (auto budget = budget_lines(r.steps); !budget.empty()) {
    o += "\n";
    for (const auto& l : budget) o += printable(l) + "\n";
  }
  for (const auto& e : r.expectations)
    fmt::format_to(
        out, "check {}: {} ({})\n", printable(e.expr),
        paint(e.passed ? "met" : "FAILED", color_of(e.passed ? Status::good : Status::critical)),
        printable(e.measured));
  return o;
}

}  // namespace alog
