// Writers of the Ray report: the `ray` value of report.json, the SUMMARY.md body and the one
// terminal line. They read only the RayReport. Every log-derived string goes through
// md_escape (Markdown) or utf8_clean (JSON); log text is never put in a code span, where the
// escapes would show literally.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analyze_logs/ray.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::ray {

namespace {

using json = nlohmann::ordered_json;

json str(const std::string& s) {
  return utf8_clean(s);
}

json opt_str(const std::string& s) {
  return s.empty() ? json(nullptr) : str(s);
}

json evidence_json(const Evidence& e) {
  json j;
  j["file"] = str(e.file);
  j["line"] = e.line;
  j["ref"] = str(e.ref());
  j["time"] = opt_str(e.time);
  j["time_exact"] = e.time_exact;
  j["text"] = str(e.text);
  return j;
}

json progress_json(const Progress& p) {
  json j;
  j["desc"] = str(p.desc);
  j["percent"] = p.percent;
  j["n"] = p.n;
  j["total"] = p.total;
  j["elapsed"] = str(p.elapsed);
  j["remaining"] = str(p.remaining);
  j["rate"] = str(p.rate);
  json post = json::object();
  for (const auto& [k, v] : p.postfix) post[utf8_clean(k)] = str(v);
  j["postfix"] = post;
  j["time"] = opt_str(p.time);
  j["time_estimated"] = true;
  j["evidence"] = evidence_json(p.where);
  return j;
}

template <typename T>
json opt_num(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json ints(const std::vector<int>& v) {
  json a = json::array();
  for (int x : v) a.push_back(x);
  return a;
}

std::string esc(const std::string& s) {
  return md_escape(s);
}

std::string dash_if_empty(const std::string& s) {
  return s.empty() ? "-" : esc(s);
}

}  // namespace

namespace detail {

std::string hhmmss(const std::string& stamp) {
  // "2026-03-11 06:12:47" -> "06:12:47" in tables where the date repeats.
  return stamp.size() >= 19 ? stamp.substr(11, 8) : stamp;
}

std::string phase_status(const RayReport& r, const Phase& p, bool bold) {
  auto b = [bold](const char* s) { return bold ? fmt::format("**{}**", s) : std::string(s); };
  if (!p.reached) return "not reached";
  if (p.number == r.phase_reached || p.ongoing) {
    if (r.verdict == Verdict::failed && p.number == r.phase_reached) return b("failed here");
    if (r.verdict == Verdict::stuck && p.number == r.phase_reached) return b("stuck");
    if (p.ongoing) return p.number == 4 && r.phase_reached == 5 ? "running (beside 5)" : "running";
  }
  return p.over_expected ? "done, slow" : "done";
}

}  // namespace detail

using namespace detail;

namespace {

std::string progress_cell(const Phase& p) {
  if (!p.progress) return "";
  const Progress& g = *p.progress;
  std::string s = fmt::format("{} % ({}/{})", g.percent, g.n, g.total);
  for (const auto& [k, v] : g.postfix)
    if (k == "loss") s += ", loss " + esc(v);
  return s;
}

}  // namespace

json to_json(const RayReport& r) {
  json j;
  j["verdict"] = std::string(verdict_name(r.verdict));
  j["headline"] = str(r.headline);
  j["summary"] = str(r.summary);
  j["reason"] = str(r.reason);
  j["phase_reached"] = r.phase_reached;
  j["phase_reached_name"] = r.phase_reached ? str(r.phase(r.phase_reached).name) : json(nullptr);
  j["in_phase_s"] = opt_num(r.in_phase_s);
  j["silence_s"] = opt_num(r.silence_s);
  j["started_at"] = opt_str(r.started_at);
  j["last_output_at"] = opt_str(r.last_output_at);
  j["end_at"] = opt_str(r.end_at);
  j["end_source"] = opt_str(r.end_source);
  j["live"] = r.live;
  j["finished_marker"] = r.finished_marker;

  json inputs;
  inputs["base"] = str(r.base);
  inputs["driver_logs"] = json::array();
  for (const auto& d : r.driver_logs) inputs["driver_logs"].push_back(str(d));
  inputs["session_dirs"] = json::array();
  for (const auto& d : r.session_dirs) inputs["session_dirs"].push_back(str(d));
  inputs["ignored"] = json::array();
  for (const auto& d : r.ignored) inputs["ignored"].push_back(str(d));
  inputs["driver_lines"] = r.driver_lines;
  inputs["worker_files"] = r.worker_files;
  j["inputs"] = inputs;

  j["phases"] = json::array();
  for (const auto& p : r.phases) {
    json x;
    x["number"] = p.number;
    x["name"] = p.name;
    x["marker"] = p.marker;
    x["expected"] = p.expected;
    x["expected_max_s"] = p.expected_max_s;
    x["reached"] = p.reached;
    x["done"] = p.done;
    x["ongoing"] = p.ongoing;
    x["over_expected"] = p.over_expected;
    x["start"] = opt_str(p.start);
    x["start_approx"] = p.start_approx;
    x["end"] = opt_str(p.end);
    x["duration_s"] = opt_num(p.duration_s);
    x["markers"] = p.markers;
    x["progress"] = p.progress ? progress_json(*p.progress) : json(nullptr);
    x["first"] = p.reached ? evidence_json(p.first) : json(nullptr);
    x["last"] = p.reached ? evidence_json(p.last) : json(nullptr);
    j["phases"].push_back(std::move(x));
  }
  j["training"] = r.training ? progress_json(*r.training) : json(nullptr);

  j["findings"] = json::array();
  for (const auto& f : r.findings) {
    json x;
    x["kind"] = f.kind;
    x["severity"] = f.severity;
    x["title"] = str(f.title);
    x["detail"] = str(f.detail);
    x["actor"] = opt_str(f.actor);
    x["pid"] = f.pid >= 0 ? json(f.pid) : json(nullptr);
    x["ip"] = opt_str(f.ip);
    x["rank"] = f.rank >= 0 ? json(f.rank) : json(nullptr);
    x["time"] = opt_str(f.time);
    x["occurrences"] = f.occurrences;
    x["worker_file"] = opt_str(f.worker_file);
    x["root_cause"] = f.root_cause;
    x["consequence"] = f.consequence;
    x["evidence"] = json::array();
    for (const auto& e : f.evidence) x["evidence"].push_back(evidence_json(e));
    x["fix"] = str(f.fix);
    j["findings"].push_back(std::move(x));
  }
  if (r.collective) {
    const auto& c = *r.collective;
    json x;
    x["op"] = str(c.op);
    x["seq"] = c.seq >= 0 ? json(c.seq) : json(nullptr);
    x["timeout_ms"] = c.timeout_ms >= 0 ? json(c.timeout_ms) : json(nullptr);
    x["time"] = opt_str(c.time);
    x["per_worker"] = c.per_worker;
    x["reported_ranks"] = ints(c.reported_ranks);
    x["silent_ranks"] = ints(c.silent_ranks);
    x["unseen_ranks"] = ints(c.unseen_ranks);
    x["world_size"] = c.world_size >= 0 ? json(c.world_size) : json(nullptr);
    j["collective_timeout"] = std::move(x);
  } else {
    j["collective_timeout"] = nullptr;
  }
  j["actors"] = json::array();
  for (const auto& a : r.actors) {
    json x;
    x["name"] = opt_str(a.name);
    x["pid"] = a.pid;
    x["ip"] = opt_str(a.ip);
    x["rank"] = a.rank >= 0 ? json(a.rank) : json(nullptr);
    x["worker_file"] = opt_str(a.worker_file);
    x["last_time"] = opt_str(a.last_time);
    x["driver_lines"] = a.driver_lines;
    x["file_lines"] = a.file_lines;
    x["status"] = a.status;
    j["actors"].push_back(std::move(x));
  }
  json b;
  b["text"] = "Failed to establish connection to the metrics exporter agent";
  b["lines"] = r.benign_lines;
  b["first"] = r.benign_first ? evidence_json(*r.benign_first) : json(nullptr);
  j["ignored_benign"] = std::move(b);
  j["notes"] = json::array();
  for (const auto& n : r.notes) j["notes"].push_back(str(n));
  j["problems"] = json::array();
  for (const auto& p : r.problems) {
    json x;
    x["file"] = str(p.file);
    x["message"] = str(p.message);
    j["problems"].push_back(std::move(x));
  }
  return j;
}

std::string verdict_line(const RayReport& r) {
  return printable(r.summary.empty() ? r.headline : r.summary);
}

namespace detail {

std::string markdown_sections(const RayReport& r, bool with_findings) {
  std::string md;
  auto out = [&md](std::string_view s) { md.append(s); };
  // As a body, the run's facts open under a heading of their own (the header is above).
  if (!with_findings) out("## Run\n\n");
  if (!r.driver_logs.empty()) {
    out("- Driver log: ");
    for (size_t i = 0; i < r.driver_logs.size(); ++i) out((i ? ", " : "") + esc(r.driver_logs[i]));
    out(fmt::format(" ({} lines)\n", r.driver_lines));
  }
  if (!r.session_dirs.empty()) {
    out("- Ray session logs: ");
    for (size_t i = 0; i < r.session_dirs.size(); ++i)
      out((i ? ", " : "") + esc(r.session_dirs[i]));
    out(fmt::format(" ({} worker files)\n", r.worker_files));
  }
  if (!r.started_at.empty()) out(fmt::format("- First line: {}\n", esc(r.started_at)));
  if (!r.last_output_at.empty())
    out(fmt::format(
        "- Last output: {}{}\n", esc(r.last_output_at),
        r.silence_s ? fmt::format(" ({} before the end of the input)", human_duration(*r.silence_s))
                    : std::string()));
  if (!r.end_at.empty())
    out(fmt::format("- End of the input: {} ({})\n", esc(r.end_at), esc(r.end_source)));
  out("\n");

  out("## Phases\n\n");
  out("| # | Phase | Started | Duration | Typical | Progress | Status | First marker |\n");
  out("|---|---|---|---|---|---|---|---|\n");
  for (const auto& p : r.phases) {
    std::string dur = p.duration_s ? human_duration(*p.duration_s) : std::string();
    if (p.ongoing && p.duration_s) dur += " so far";
    if (p.over_expected) dur = "**" + dur + "**";
    out(fmt::format("| {} | {} | {}{} | {} | {} | {} | {} | {} |\n", p.number, esc(p.name),
                    esc(hhmmss(p.start)), p.start_approx && !p.start.empty() ? " (approx.)" : "",
                    dur, esc(p.expected), progress_cell(p), phase_status(r, p, true),
                    p.reached ? esc(p.first.ref()) : std::string()));
  }
  out("\n");
  if (r.training && !r.training->postfix.empty()) {
    out("Last training step: ");
    out(fmt::format("{}/{} ({} %), elapsed {}, remaining {}", r.training->n, r.training->total,
                    r.training->percent, esc(r.training->elapsed), esc(r.training->remaining)));
    for (const auto& [k, v] : r.training->postfix) out(fmt::format(", {}={}", esc(k), esc(v)));
    out("\n\n");
  }
  for (const auto& n : r.notes) out("- " + esc(n) + "\n");
  if (!r.notes.empty()) out("\n");

  if (r.collective) {
    const CollectiveTimeout& c = *r.collective;
    auto list = [](const std::vector<int>& v) {
      return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, ", "));
    };
    out("## Collective timeout\n\n");
    out(fmt::format("{} seq {}{}{}, from {}:\n\n", esc(c.op), c.seq >= 0 ? std::to_string(c.seq) : "?",
                    c.timeout_ms >= 0 ? fmt::format(", timeout {} ms", c.timeout_ms) : std::string(),
                    c.time.empty() ? std::string() : " at " + esc(c.time),
                    c.per_worker ? "the per-worker files" : "the driver log"));
    out(fmt::format("- Reported the timeout: {}\n", list(c.reported_ranks)));
    out(fmt::format("- Silent (a worker file, no timeout line; likely stragglers): {}\n", list(c.silent_ranks)));
    out(fmt::format("- Unseen (no worker file among the inputs): {}\n", list(c.unseen_ranks)));
    if (c.world_size >= 0) out(fmt::format("- World size: {}\n", c.world_size));
    out("\n");
  }
  if (with_findings) {
    out("## Findings\n\n");
    if (r.findings.empty()) out("No failure signature found.\n\n");
    int i = 0;
    for (const auto& f : r.findings) {
      std::string tag = f.root_cause ? " (root cause)" : f.consequence ? " (consequence)" : "";
      out(fmt::format("### {}. {}{}\n\n", ++i, esc(f.title), tag));
      std::vector<std::string> meta{f.severity};
      if (!f.time.empty()) meta.push_back(esc(f.time));
      if (f.occurrences > 1) meta.push_back(fmt::format("{} lines", f.occurrences));
      if (!f.worker_file.empty()) meta.push_back("worker file " + esc(f.worker_file));
      std::string m;
      for (size_t k = 0; k < meta.size(); ++k) m += (k ? " · " : "") + meta[k];
      out("*" + m + "*\n\n");
      if (!f.detail.empty()) out(esc(f.detail) + "\n\n");
      if (!f.evidence.empty()) {
        out("Evidence:\n");
        for (const auto& e : f.evidence)
          out(fmt::format("- {}{}: {}\n", esc(e.ref()),
                          e.time.empty() ? "" : " (" + esc(e.time) + ")", esc(e.text)));
        out("\n");
      }
      if (!f.fix.empty()) out("Fix: " + esc(f.fix) + "\n\n");
    }

  }
  if (!r.actors.empty()) {
    out("## Actors\n\n");
    out("| Actor | Rank | pid | ip | Worker file | Last line | Status |\n");
    out("|---|---|---|---|---|---|---|\n");
    for (const auto& a : r.actors)
      out(fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", dash_if_empty(a.name),
                      a.rank >= 0 ? std::to_string(a.rank) : "-", a.pid,
                      a.ip.empty() ? "driver node" : esc(a.ip), dash_if_empty(a.worker_file),
                      dash_if_empty(a.last_time), esc(a.status)));
    out("\n");
  }

  if (r.benign_lines || !r.ignored.empty()) {
    out("## Ignored\n\n");
    if (r.benign_lines)
      out(fmt::format(
          "- {} × Failed to establish connection to the metrics exporter agent: a harmless Ray "
          "metrics warning that does not affect training{}.\n",
          r.benign_lines,
          r.benign_first ? " (first at " + esc(r.benign_first->ref()) + ")" : std::string()));
    for (const auto& s : r.ignored) out("- Older run or session not analysed: " + esc(s) + "\n");
    out("\n");
  }
  if (!r.problems.empty()) {
    out("## Problems\n\n");
    for (const auto& p : r.problems)
      out(fmt::format("- {}{}\n", p.file.empty() ? "" : esc(p.file) + ": ", esc(p.message)));
    out("\n");
  }
  return md;
}

}  // namespace detail

std::string to_markdown(const RayReport& r) {
  std::string md;
  auto out = [&md](std::string_view s) { md.append(s); };
  out("# Ray training job (TorchSpec)\n\n");
  out(fmt::format("**Verdict: {}**\n\n", esc(r.headline)));
  if (!r.reason.empty()) out(esc(r.reason) + "\n\n");
  md += markdown_sections(r, true);
  return md;
}

}  // namespace alog::ray
