// `analyze-logs --follow`: the job read as it grows (docs/FOLLOW.md).
//
// One loop, on the main thread: read what was appended to every file of the job (follow/tail.cpp),
// hand each line to its kind's classifier, track each component's progress and stalls
// (follow/tracker.cpp), draw the screen or write the lines of what changed, rewrite the --metrics
// file; every --interval, or at once while catching up. Files that appear later are found by
// planning the inputs again (the same discovery as a one-shot run), with a back-off when that
// walk is slow. The verdict and findings so far are a one-shot analysis of exactly the lines read
// (each followed file is copied as it is read, and the analysis reads the copies in place of the
// files: input::redirect), run on a second thread whenever the input changed, at most every
// max(interval, 9 × its own duration): at most a tenth of the time. So the numbers at any moment
// are those of a one-shot run over the same bytes, by construction. The end (the job's last line, standard input's end,
// Ctrl-C) writes the usual report folder of everything read, with the stalled findings.
#include <fmt/format.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <set>

#include "analyze_logs/cli.hpp"
#include "analyze_logs/core/interrupt.hpp"
#include "analyze_logs/follow.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/util.hpp"
#include "io.hpp"
#include "kinds.hpp"
#include "options.hpp"
#include "plan.hpp"
#include "registry.hpp"

namespace fs = std::filesystem;

namespace alog::cli {

namespace {

using ojson = nlohmann::ordered_json;

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string iso_time(double t) {
  time_t s = static_cast<time_t>(t);
  struct tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ago(double s) {
  if (s < 0) s = 0;
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.0f} min", s / 60);
  if (s < 172800) return fmt::format("{:.1f} h", s / 3600);
  return fmt::format("{:.1f} d", s / 86400);
}

// Files of a job the loop reads: what discovery named, and the log files inside the folders a
// kind reads itself (srtctl job folders, Ray session logs). Logs are copied for the analysis;
// anything else (a benchmark's result JSON, written whole) is read by the analysis where it is.
bool is_log_like(const fs::path& p) {
  std::string n = p.filename().string();
  for (std::string_view ext : {".log", ".out", ".err", ".txt", ".jsonl"})
    if (n.size() >= ext.size() && n.compare(n.size() - ext.size(), ext.size(), ext) == 0) return true;
  return false;
}

bool is_compressed_name(const std::string& n) {
  return n.ends_with(".gz") || n.ends_with(".zst") || n.ends_with(".zstd");
}

std::vector<std::string> job_files(const PlannedJob& pj) {
  std::vector<std::string> out;
  for (const auto& f : pj.direct) out.push_back(f);
  for (const auto& f : pj.files) out.push_back(f);
  for (const auto& d : pj.dirs) {
    std::error_code ec;
    fs::recursive_directory_iterator it(d, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::error_code e2;
      if (it->is_directory(e2)) {
        std::string name = it->path().filename().string();
        if (name.starts_with("analysis_") || name.starts_with(".") || it.depth() > 8) it.disable_recursion_pending();
        continue;
      }
      // Logs, and the JSON results a benchmark writes whole (the classifier sees them appear).
      if (it->is_regular_file(e2) && (is_log_like(it->path()) || it->path().extension() == ".json"))
        out.push_back(it->path().string());
    }
  }
  return out;
}

struct FollowedJob {
  std::string name, kind, root;
  std::unique_ptr<follow::Classifier> classifier;
  follow::Tracker tracker;
  // The latest analysis of the lines read so far.
  std::string verdict = "unknown", cause;
  std::vector<core::Finding> findings;
  bool analysed = false;
};

struct Snapshot {
  double started = 0, took = 0;
  uint64_t bytes = 0;  // lines read (copied) when it started
  std::vector<Analysed> jobs;
  std::string error;
};

class Loop {
 public:
  explicit Loop(const RunOptions& opt) : opt_(opt) {}
  int run();

 private:
  void plan_and_add(bool first);
  void on_line(const std::string& file, std::string_view line, double written, bool catch_up);
  void take_snapshot(Snapshot&& s);
  void restart_stdin(FollowedJob& j, const std::string& kind);
  std::vector<core::Finding> stalled_findings(const FollowedJob& j, double now) const;
  void report_changes(double now);
  void draw(double now);
  void write_metrics(double now);
  bool exit_on_hit(double now) const;
  int finish(const std::string& why, bool exit_on);
  follow::TrackerOptions tracker_options() const {
    follow::TrackerOptions t;
    t.stall_after = opt_.stall_after;
    return t;
  }

  const RunOptions& opt_;
  std::string copy_dir_;
  std::unique_ptr<follow::Tail> tail_;
  std::vector<std::unique_ptr<FollowedJob>> jobs_;
  std::map<std::string, FollowedJob*> job_of_file_;
  std::vector<follow::Signal> signals_;
  bool tty_ = false;
  double next_plan_ = 0, plan_cost_ = 0;
  std::future<Snapshot> running_;
  double next_snapshot_ = 0;
  uint64_t snapshot_bytes_ = UINT64_MAX;  // copied bytes at the last snapshot
  double last_snapshot_at_ = 0;
  std::set<std::string> reported_findings_;  // "job\tid\tsummary" already written as a line
  std::string stdin_copy_;
  size_t unfollowable_ = 0;  // jobs of kinds that cannot be followed (read once at the end)
  std::string last_emitted_;      // --json: the verdicts and findings of the last `analysis` line
  double last_emitted_at_ = 0;
  bool caught_up_ = false;
  double ended_at_ = 0;  // when the job's end was read
  double started_ = now_s();
  std::map<std::string, std::string> dropped_;  // files not read on their own (drop_inputs)
};

void Loop::plan_and_add(bool first) {
  double t0 = now_s();
  std::vector<std::string> inputs;
  for (const auto& in : opt_.inputs)
    if (in != "-") inputs.push_back(in);
  if (!inputs.empty()) {
    Plan plan = plan_jobs(inputs);  // throws on a missing input (the caller says so, exit 2)
    for (const auto& pj : plan.jobs) {
      FollowedJob* j = nullptr;
      for (auto& x : jobs_)
        if (x->root == pj.root && x->kind == pj.kind) j = x.get();
      if (!j) {
        auto c = follow::make_classifier(pj.kind);
        if (!c) {
          if (pj.kind == "unrecognised" || pj.kind.empty()) {
            // Not a job yet (an empty folder, a server still starting): planned again each time.
            if (first) warn(fmt::format("--follow: {} is not (yet) a job of any kind; waiting for its lines", pj.name));
          } else if (first) {
            warn(fmt::format("--follow: {} is {}: read once at the end, not followed", pj.name, describe_kind(pj.kind)));
            ++unfollowable_;
          }
          continue;
        }
        auto nj = std::make_unique<FollowedJob>();
        nj->name = pj.name;
        nj->kind = pj.kind;
        nj->root = pj.root;
        nj->classifier = std::move(c);
        nj->tracker = follow::Tracker(tracker_options());
        j = nj.get();
        jobs_.push_back(std::move(nj));
      }
      for (const auto& f : job_files(pj)) {
        if (job_of_file_.count(f)) continue;
        // A file that appears while following and is a followed file rotated away (the same
        // file under a new name, or a copy named like one: `orchestrator.log.1`, `-20261206`):
        // its lines were read under the old name; read again they would count twice.
        if (!first) {
          std::string rotated_from;
          if (tail_->follows(f)) rotated_from = "a file already read";
          for (const auto& [g, owner] : job_of_file_)
            if (owner && f.size() > g.size() + 1 && f.compare(0, g.size(), g) == 0 && (f[g.size()] == '.' || f[g.size()] == '-') &&
                std::isdigit(static_cast<unsigned char>(f[g.size() + 1])))
              rotated_from = g;
          if (!rotated_from.empty()) {
            job_of_file_[f] = nullptr;
            dropped_[f] = fmt::format("--follow: rotated away from {} while it was followed; its lines were read there",
                                      rotated_from);
            continue;
          }
        }
        if (is_compressed_name(f)) {
          bool named = std::find(inputs.begin(), inputs.end(), f) != inputs.end();
          if (named) throw input::InputError(fmt::format("{}: compressed; --follow reads a log as it grows, "
                                                         "and a compressed stream cannot be followed "
                                                         "(analyse it without --follow)", f));
          job_of_file_[f] = nullptr;  // read by the analysis as it is, never followed
          continue;
        }
        try {
          tail_->add(f, is_log_like(f) || std::find(pj.direct.begin(), pj.direct.end(), f) != pj.direct.end());
          job_of_file_[f] = j;
        } catch (const input::InputError& e) {
          bool named = std::find(inputs.begin(), inputs.end(), f) != inputs.end();
          if (named) throw;
          job_of_file_[f] = nullptr;
          if (first) warn(e.what());
        }
      }
    }
  }
  plan_cost_ = now_s() - t0;
  // A slow walk (a huge tree) is done less often: at most a tenth of the time goes to it.
  next_plan_ = now_s() + std::max(opt_.interval, 10 * plan_cost_);
}

void Loop::on_line(const std::string& file, std::string_view line, double written, bool catch_up) {
  auto it = job_of_file_.find(file);
  FollowedJob* j = it == job_of_file_.end() ? nullptr : it->second;
  if (!j) return;
  signals_.clear();
  j->classifier->on_line(file, line, signals_);
  double t = std::min(written, now_s());
  for (const auto& s : signals_) j->tracker.apply(s, file, line, t, !catch_up);
}

std::vector<core::Finding> Loop::stalled_findings(const FollowedJob& j, double now) const {
  std::vector<std::pair<double, core::Finding>> out;
  for (const auto& [name, c] : j.tracker.components()) {
    if (!c.stalled) continue;
    core::Finding f;
    f.id = "stalled";
    f.severity = core::Severity::critical;
    f.role = core::Role::root_cause;
    double silent = now - c.last_progress;
    f.summary = fmt::format("{}: no progress for {} (expected within {})", name, ago(silent),
                            ago(c.expectation(j.tracker.options())));
    f.detail = fmt::format("last progress {}{} at {}; its last line is usually the action that hung",
                           c.last_detail.empty() ? std::string() : c.last_detail + ", ",
                           c.progress == 1 ? "once" : fmt::format("{} in all", c.progress), iso_time(c.last_progress));
    core::Evidence e;
    e.file = c.file;
    e.time = iso_time(c.last_line_at);
    e.text = follow::display_line(c.last_line);
    f.evidence.push_back(std::move(e));
    f.fix = "Take stack dumps of the processes now (py-spy dump --pid PID, or kill -USR1 for "
            "faulthandler) and analyse them with analyze-logs (docs/HANGS.md); then cancel or "
            "restart the job.";
    out.emplace_back(silent / std::max(1e-9, c.expectation(j.tracker.options())), std::move(f));
  }
  // The most overdue first: the verdict's cause names it.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<core::Finding> sorted;
  for (auto& [ratio, f] : out) sorted.push_back(std::move(f));
  return sorted;
}

// Standard input is read as prime-rl until the analysis has told its kind by content (a Ray
// driver log piped in, say): then it is read again, from its copy, by that kind's classifier.
void Loop::restart_stdin(FollowedJob& j, const std::string& kind) {
  auto c = follow::make_classifier(kind);
  if (!c || stdin_copy_.empty()) return;
  j.kind = kind;
  j.classifier = std::move(c);
  j.tracker = follow::Tracker(tracker_options());
  double now = now_s();
  try {
    input::for_each_line(stdin_copy_, [&](std::string_view line, uint64_t) {
      signals_.clear();
      j.classifier->on_line("-", line, signals_);
      for (const auto& sig : signals_) j.tracker.apply(sig, "-", line, now, false);
      return true;
    });
  } catch (const input::InputError& e) {
    warn(fmt::format("--follow: {}", e.what()));
  }
}

void Loop::take_snapshot(Snapshot&& s) {
  last_snapshot_at_ = s.started;
  if (!s.error.empty()) {
    warn(fmt::format("--follow: the analysis so far failed: {}", s.error));
    return;
  }
  for (auto& a : s.jobs)
    for (auto& j : jobs_)
      if (j->root == a.job.path || j->name == a.job.name) {
        if (j->root == "-" && a.job.kind != j->kind) restart_stdin(*j, a.job.kind);
        j->verdict = std::string(core::verdict_name(a.job.header.verdict));
        j->cause = a.job.header.cause;
        j->findings = a.job.header.findings;
        j->analysed = true;
      }
  // --json: an `analysis` line when the verdict or the findings changed, when it covers every
  // line read so far (the input is quiet), or every 30 s: not one per interval of a busy log.
  std::string key;
  for (const auto& j : jobs_) {
    key += j->verdict + "\t" + j->cause + "\n";
    for (const auto& f : j->findings) key += f.id + "\t" + f.summary + "\n";
  }
  bool emit = key != last_emitted_ || s.bytes == tail_->copied_bytes() || now_s() >= last_emitted_at_ + 30;
  if (!tty_ && opt_.format == "json" && emit) {
    last_emitted_ = key;
    last_emitted_at_ = now_s();
    for (const auto& j : jobs_) {
      ojson o;
      o["ts"] = iso_time(now_s());
      o["event"] = "analysis";
      o["job"] = utf8_clean(j->name);
      o["t"] = now_s();
      o["bytes"] = s.bytes;
      bool stalled = false;
      for (const auto& [n, c] : j->tracker.components()) stalled |= c.stalled;
      o["verdict"] = stalled ? std::string("stuck") : j->verdict;
      o["analysis_verdict"] = j->verdict;
      auto st = stalled_findings(*j, now_s());
      o["cause"] = utf8_clean(st.empty() ? j->cause : st.front().summary);
      ojson ids = ojson::array();
      for (const auto& f : j->findings) ids.push_back({{"id", f.id}, {"severity", core::severity_name(f.severity)}, {"summary", utf8_clean(f.summary)}});
      o["findings"] = std::move(ids);
      o["progress"] = ojson::object();
      for (const auto& [name, c] : j->tracker.components()) o["progress"][utf8_clean(name)] = c.progress;
      // prime-rl: the exact statistics so far, as report.json gives them (`metrics`).
      for (const auto& a : s.jobs)
        if (a.job.path == j->root)
          if (auto r = prime_report(a)) {
            ojson m = ojson::object();
            for (const auto& x : r->metrics)
              m[x.name] = {{"count", x.stats.count}, {"mean", x.stats.mean}, {"p50", x.stats.p50},
                           {"p90", x.stats.p90}, {"p99", x.stats.p99}, {"max", x.stats.max}};
            o["metrics"] = std::move(m);
          }
      out(o.dump() + "\n");
    }
  } else if (!tty_ && opt_.format != "json") {
    for (const auto& j : jobs_)
      for (const auto& f : j->findings) {
        if (f.severity == core::Severity::info) continue;
        std::string seen = j->name + "\t" + f.id + "\t" + f.summary;
        if (!reported_findings_.insert(seen).second) continue;
        out(fmt::format("{} {} finding {} {}: {}\n", iso_time(now_s()), j->name, core::severity_name(f.severity), f.id,
                        f.summary));
      }
  }
}

void Loop::report_changes(double now) {
  for (auto& j : jobs_) {
    for (const auto& c : j->tracker.take_changes()) {
      if (tty_) continue;
      if (opt_.format == "json") {
        ojson o;
        o["ts"] = iso_time(c.at);
        o["t"] = c.at;
        o["event"] = std::string(follow::change_name(c.type));
        o["job"] = utf8_clean(j->name);
        o["component"] = utf8_clean(c.component);
        if (c.type == follow::Change::Type::stalled) {
          const auto& comp = j->tracker.components().at(c.component);
          o["silent_s"] = std::round(c.silent_s * 1000) / 1000;
          o["expected_s"] = comp.expectation(j->tracker.options());
          o["last_progress"] = iso_time(comp.last_progress);
          o["file"] = utf8_clean(comp.file);
          o["last_line"] = c.detail;
        } else {
          o["detail"] = utf8_clean(c.detail);
        }
        out(o.dump() + "\n");
      } else {
        std::string what;
        switch (c.type) {
          case follow::Change::Type::stalled: {
            const auto& comp = j->tracker.components().at(c.component);
            what = fmt::format("STALLED {}: no progress for {} (expected within {}); last line: {}", c.component,
                               ago(c.silent_s), ago(comp.expectation(j->tracker.options())), c.detail);
            break;
          }
          case follow::Change::Type::resumed: what = fmt::format("resumed {}: {}", c.component, c.detail); break;
          case follow::Change::Type::finished: what = fmt::format("finished {}", c.component); break;
          case follow::Change::Type::job_ended: what = fmt::format("job ended: {}", c.detail); break;
          case follow::Change::Type::new_component:
            what = fmt::format("new {}{}", c.component, c.detail.empty() ? std::string() : ": " + c.detail);
            break;
        }
        out(fmt::format("{} {} {}\n", iso_time(c.at), j->name, what));
      }
    }
  }
  (void)now;
}

void Loop::draw(double now) {
  // The terminal's size: at most 100 columns, and no more rows than it has (a screen taller than
  // the terminal would scroll on every redraw).
  size_t width = 100, rows = 0;
  if (struct winsize ws{}; ::ioctl(1, TIOCGWINSZ, &ws) == 0) {
    if (ws.ws_col > 0) width = std::min<size_t>(width, std::max<size_t>(ws.ws_col, 40));
    if (ws.ws_row > 0) rows = std::max<size_t>(ws.ws_row, 10);
  }
  auto cut = [&](std::string s, size_t w) {
    if (s.size() <= w) return s;
    size_t n = w > 1 ? w - 1 : 0;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
    return s + "…";
  };
  std::vector<std::string> top, footer;
  const auto& st = tail_->stats();
  top.push_back(cut(fmt::format("analyze-logs --follow · {} · read {:.1f} MB, {} lines, {} files{}{} · every {} s",
                                iso_time(now), static_cast<double>(st.bytes) / 1e6, st.lines, st.files,
                                st.rotations ? fmt::format(", {} rotated", st.rotations) : std::string(),
                                st.truncations ? fmt::format(", {} truncated", st.truncations) : std::string(),
                                opt_.interval),
                    width));
  footer.push_back("Ctrl-C: stop and write the report");
  // Per job: its fixed lines, and its components (stalled first, then running, then finished),
  // each one or two lines; the components share what rows are left.
  struct JobLines {
    std::vector<std::string> head, tail;
    std::vector<std::vector<std::string>> comps;
  };
  std::vector<JobLines> per_job;
  for (const auto& j : jobs_) {
    JobLines jl;
    std::string verdict = j->analysed ? j->verdict : std::string("…");
    std::string cause = j->cause;
    auto stalled = stalled_findings(*j, now);
    if (!stalled.empty()) {
      verdict = "stuck";
      cause = stalled.front().summary;
    }
    if (j->tracker.job_ended()) verdict += " (ended)";
    jl.head.push_back(cut(fmt::format("{} ({}): {}{}", j->name, j->kind, verdict, cause.empty() ? "" : " — " + cause), width));
    if (last_snapshot_at_ > 0) jl.head.push_back(fmt::format("  analysis of the lines read {} ago", ago(now - last_snapshot_at_)));
    jl.head.push_back(cut(fmt::format("  {:<34} {:>7}  {:<28} {:>9}", "component", "count", "last progress", "ago"), width));
    std::vector<const follow::Component*> order;
    for (const auto& [name, c] : j->tracker.components()) order.push_back(&c);
    auto rank = [](const follow::Component* c) { return c->stalled ? 0 : c->finished ? 2 : 1; };
    std::stable_sort(order.begin(), order.end(), [&](auto* x, auto* y) { return rank(x) < rank(y); });
    for (const auto* c : order) {
      std::vector<std::string> lines;
      std::string state = c->finished ? "done" : c->stalled ? "STALLED" : "";
      std::string row = cut(fmt::format("  {:<34} {:>7}  {:<28} {:>9} {}", cut(c->name, 34), c->progress,
                                        cut(c->last_detail, 28), ago(now - c->last_progress), state),
                            width);
      if (c->stalled && opt_.color) row = "\x1b[31m" + row + "\x1b[0m";
      lines.push_back(std::move(row));
      if (!c->last_line.empty() && !c->finished)
        lines.push_back(cut("    └ " + follow::display_line(c->last_line), width));
      jl.comps.push_back(std::move(lines));
    }
    auto w = j->tracker.window(now);
    if (!w.empty()) {
      jl.tail.push_back(fmt::format("  last {} min:", j->tracker.options().window_s / 60));
      for (const auto& x : w)
        jl.tail.push_back(cut(fmt::format("    {:<22} n={:<6} p50 {:.4g}  p90 {:.4g}  p99 {:.4g}  max {:.4g}", x.metric,
                                          x.count, x.p50, x.p90, x.p99, x.max),
                              width));
    }
    size_t shown = 0, more = 0;
    for (const auto* list : {&stalled, &j->findings})
      for (const auto& f : *list) {
        if (f.severity == core::Severity::info) continue;
        if (shown >= 4) {
          ++more;
          continue;
        }
        ++shown;
        std::string row = cut(fmt::format("  [{}] {}: {}", core::severity_name(f.severity), f.id, f.summary), width);
        if (opt_.color) row = (f.severity == core::Severity::critical ? "\x1b[31m" : "\x1b[33m") + row + "\x1b[0m";
        jl.tail.push_back(std::move(row));
      }
    if (more) jl.tail.push_back(fmt::format("  … and {} more findings", more));
    per_job.push_back(std::move(jl));
  }
  size_t fixed = top.size() + footer.size();
  for (const auto& jl : per_job) fixed += jl.head.size() + jl.tail.size();
  size_t room = rows == 0 ? SIZE_MAX : rows > fixed ? (rows - fixed) / std::max<size_t>(1, per_job.size()) : 1;
  std::string o = "\x1b[H\x1b[2J";
  for (const auto& l : top) o += l + "\n";
  for (const auto& jl : per_job) {
    for (const auto& l : jl.head) o += l + "\n";
    size_t used = 0, i = 0;
    for (; i < jl.comps.size(); ++i) {
      size_t need = jl.comps[i].size() + (i + 1 < jl.comps.size() ? 1 : 0);  // room for "… more"
      if (used + need > room) break;
      for (const auto& l : jl.comps[i]) o += l + "\n";
      used += jl.comps[i].size();
    }
    if (i < jl.comps.size()) o += fmt::format("  … and {} more components\n", jl.comps.size() - i);
    for (const auto& l : jl.tail) o += l + "\n";
  }
  for (const auto& l : footer) o += l + "\n";
  out(o);
}

// Prometheus text format (exposition format 0.0.4), written whole to FILE.tmp and renamed over
// FILE: the node_exporter textfile-collector convention (docs/FOLLOW.md lists the metrics).
void Loop::write_metrics(double now) {
  if (opt_.metrics_file.empty()) return;
  auto esc = [](std::string_view v) {
    std::string s;
    for (char c : utf8_clean(v)) {
      if (c == '\\') s += "\\\\";
      else if (c == '"') s += "\\\"";
      else if (c == '\n') s += "\\n";
      else s += c;
    }
    return s;
  };
  std::string m;
  auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    m += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  family("analyze_logs_component_last_progress_timestamp_seconds", "gauge",
         "Unix time of the component's last progress (a step, an update, a batch, a request count).");
  for (const auto& j : jobs_)
    for (const auto& [n, c] : j->tracker.components())
      m += fmt::format("analyze_logs_component_last_progress_timestamp_seconds{{job=\"{}\",kind=\"{}\",component=\"{}\"}} {:.3f}\n",
                       esc(j->name), j->kind, esc(n), c.last_progress);
  family("analyze_logs_component_stalled", "gauge", "1 when the component made no progress for longer than its expectation.");
  for (const auto& j : jobs_)
    for (const auto& [n, c] : j->tracker.components())
      m += fmt::format("analyze_logs_component_stalled{{job=\"{}\",kind=\"{}\",component=\"{}\"}} {}\n", esc(j->name), j->kind,
                       esc(n), c.stalled ? 1 : 0);
  family("analyze_logs_component_stall_expectation_seconds", "gauge", "Silence after which the component is stalled.");
  for (const auto& j : jobs_)
    for (const auto& [n, c] : j->tracker.components())
      m += fmt::format("analyze_logs_component_stall_expectation_seconds{{job=\"{}\",kind=\"{}\",component=\"{}\"}} {:.3f}\n",
                       esc(j->name), j->kind, esc(n), c.expectation(j->tracker.options()));
  family("analyze_logs_component_progress_total", "counter",
         "Progress the component made since the follow started (updates, steps, batches, ...).");
  for (const auto& j : jobs_)
    for (const auto& [n, c] : j->tracker.components())
      m += fmt::format("analyze_logs_component_progress_total{{job=\"{}\",kind=\"{}\",component=\"{}\"}} {}\n", esc(j->name),
                       j->kind, esc(n), c.progress);
  // The window's statistics, once per job (they select over up to 16384 samples per metric).
  std::vector<std::vector<follow::WindowStats>> windows;
  for (const auto& j : jobs_) windows.push_back(j->tracker.window(now));
  family("analyze_logs_window_quantile", "gauge", "Quantile of a metric over the recent window.");
  for (size_t ji = 0; ji < jobs_.size(); ++ji)
    for (const auto& s : windows[ji])
      for (auto [q, v] : {std::pair{"0.5", s.p50}, {"0.9", s.p90}, {"0.99", s.p99}, {"1", s.max}})
        m += fmt::format("analyze_logs_window_quantile{{job=\"{}\",metric=\"{}\",quantile=\"{}\"}} {}\n", esc(jobs_[ji]->name),
                         esc(s.metric), q, v);
  family("analyze_logs_window_samples", "gauge", "Samples of a metric in the recent window.");
  for (size_t ji = 0; ji < jobs_.size(); ++ji)
    for (const auto& s : windows[ji])
      m += fmt::format("analyze_logs_window_samples{{job=\"{}\",metric=\"{}\"}} {}\n", esc(jobs_[ji]->name), esc(s.metric), s.count);
  family("analyze_logs_findings", "gauge", "Findings so far, by severity (stalled components included).");
  for (const auto& j : jobs_) {
    std::map<std::string, int> by{{"info", 0}, {"warning", 0}, {"critical", 0}};
    for (const auto& f : j->findings) ++by[std::string(core::severity_name(f.severity))];
    for (const auto& [n, c] : j->tracker.components()) by["critical"] += c.stalled;
    for (const auto& [sev, n] : by)
      m += fmt::format("analyze_logs_findings{{job=\"{}\",severity=\"{}\"}} {}\n", esc(j->name), sev, n);
  }
  family("analyze_logs_follow_read_bytes_total", "counter", "Bytes read from the followed files.");
  m += fmt::format("analyze_logs_follow_read_bytes_total {}\n", tail_->stats().bytes);
  family("analyze_logs_follow_job_ended", "gauge", "1 once the job ended.");
  for (const auto& j : jobs_)
    m += fmt::format("analyze_logs_follow_job_ended{{job=\"{}\"}} {}\n", esc(j->name), j->tracker.job_ended() ? 1 : 0);

  std::string tmp = opt_.metrics_file + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  bool ok = f && std::fwrite(m.data(), 1, m.size(), f) == m.size();
  if (f) ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), opt_.metrics_file.c_str()) != 0) {
    static bool warned = false;
    if (!warned) warn(fmt::format("--metrics {}: {}", opt_.metrics_file, std::strerror(errno)));
    warned = true;
    std::remove(tmp.c_str());
  }
}

bool Loop::exit_on_hit(double now) const {
  if (opt_.exit_on.empty()) return false;
  for (const auto& j : jobs_) {
    for (const auto& [n, c] : j->tracker.components())
      if (c.stalled) return true;
    if (opt_.exit_on == "critical")
      for (const auto& f : j->findings)
        if (f.severity == core::Severity::critical) return true;
  }
  (void)now;
  return false;
}

int Loop::finish(const std::string& why, bool exit_on) {
  if (running_.valid()) running_.wait();
  tail_->flush([&](const std::string& file, std::string_view line, double written, bool catch_up) {
    on_line(file, line, written, catch_up);
  });
  double now = now_s();
  for (auto& j : jobs_) j->tracker.check(now);
  report_changes(now);
  write_metrics(now);
  // The final report: the one-shot analysis of every line read, with the stalled findings.
  RunOptions o = opt_;
  o.follow = false;
  o.dropped_inputs = dropped_;
  o.print = tty_ && opt_.format != "json";
  std::string dir;
  o.report_dir = &dir;
  std::map<std::string, std::vector<core::Finding>> stalled;
  for (const auto& j : jobs_) stalled[j->root] = stalled_findings(*j, now);
  o.amend = [&](Analysed& a) {
    auto it = stalled.find(a.job.path);
    if (it == stalled.end() || it->second.empty()) return;
    for (const auto& f : it->second) a.job.header.findings.push_back(f);
    // sort_findings keeps the order within a severity: the stalled ones (most overdue first) lead.
    std::stable_partition(a.job.header.findings.begin(), a.job.header.findings.end(),
                          [](const core::Finding& f) { return f.id == "stalled"; });
    core::sort_findings(a.job.header.findings);
    if (core::verdict_rank(core::Verdict::stuck) > core::verdict_rank(a.job.header.verdict)) {
      a.job.header.verdict = core::Verdict::stuck;
      a.job.header.cause = it->second.front().summary;
    }
  };
  if (!stdin_copy_.empty()) {
    int c = ::open(stdin_copy_.c_str(), O_RDONLY | O_CLOEXEC);
    if (c >= 0) {
      ::dup2(c, 0);
      ::close(c);
    }
  }
  int rc = run_analysis(o);
  if (!o.print) {
    if (opt_.format == "json") {
      ojson e;
      e["ts"] = iso_time(now_s());
      e["t"] = now_s();
      e["event"] = "end";
      e["why"] = why;
      e["report"] = dir.empty() ? ojson() : ojson(dir);
      e["exit_status"] = exit_on && rc == kExitOk ? kExitCheckFailed : rc;
      out(e.dump() + "\n");
    } else {
      out(fmt::format("{} end: {}{}\n", iso_time(now_s()), why, dir.empty() ? std::string() : "; report in " + dir));
      if (!dir.empty()) out(dir + "\n");
    }
  }
  if (exit_on && rc == kExitOk) rc = kExitCheckFailed;
  return rc;
}

int Loop::run() {
  tty_ = ::isatty(1) && opt_.format != "json";
  // The copies of what was read: a private folder, removed however the run ends.
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = (fs::path(tmp && *tmp ? tmp : "/tmp") / "analyze-logs-follow-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return error(fmt::format("--follow: cannot make a folder in {}: {}", tmp ? tmp : "/tmp", std::strerror(errno)));
  copy_dir_ = tmpl;
  struct Remove {
    std::string dir;
    ~Remove() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove{copy_dir_};
  interrupt::Cleanup cleanup([dir = copy_dir_] {
    std::error_code ec;
    fs::remove_all(dir, ec);
  });
  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return error(fmt::format("--follow: eventfd: {}", std::strerror(errno)));
  interrupt::graceful(wake);
  struct CloseWake {
    int fd;
    ~CloseWake() {
      interrupt::graceful(-1);
      ::close(fd);
    }
  } close_wake{wake};

  tail_ = std::make_unique<follow::Tail>(copy_dir_);
  try {
    if (std::find(opt_.inputs.begin(), opt_.inputs.end(), "-") != opt_.inputs.end()) {
      tail_->add("-", true);
      auto j = std::make_unique<FollowedJob>();
      j->name = "<stdin>";
      j->kind = "prime-rl";
      j->root = "-";
      j->classifier = follow::make_classifier("prime-rl");
      j->tracker = follow::Tracker(tracker_options());
      job_of_file_["-"] = j.get();
      jobs_.push_back(std::move(j));
      stdin_copy_ = (fs::path(copy_dir_) / "0-stdin").string();
    }
    plan_and_add(true);
  } catch (const std::exception& e) {
    return error(e.what());
  }
  if (jobs_.empty() && unfollowable_ > 0)
    return error("--follow: no input is a job that can be followed (prime-rl, srtctl or Ray)");

  auto line_fn = [&](const std::string& file, std::string_view line, double written, bool catch_up) {
    on_line(file, line, written, catch_up);
  };
  auto growth_fn = [&](const std::string& file, uint64_t bytes) {
    auto it = job_of_file_.find(file);
    if (it == job_of_file_.end() || !it->second) return;
    signals_.clear();
    it->second->classifier->on_growth(file, bytes, signals_);
    for (const auto& s : signals_) it->second->tracker.apply(s, file, "", now_s(), true);
  };

  double next_draw = 0, next_metrics = 0;
  double idle_wait = 0.05;  // grows to the interval while nothing is appended
  for (;;) {
    uint64_t got = tail_->poll(line_fn, growth_fn, uint64_t{256} << 20);
    if (std::string e = tail_->take_copy_error(); !e.empty()) warn(fmt::format("--follow: {}", e));
    double now = now_s();
    if (now >= next_plan_) {
      try {
        plan_and_add(false);
      } catch (const std::exception& e) {
        warn(fmt::format("--follow: {}", e.what()));
        next_plan_ = now + std::max(opt_.interval, 10 * plan_cost_);
      }
    }
    // The analysis so far, on its own thread.
    if (running_.valid() && running_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      Snapshot s = running_.get();
      next_snapshot_ = s.started + std::max(opt_.interval, 9 * s.took);
      take_snapshot(std::move(s));
    }
    uint64_t copied = tail_->copied_bytes();
    if (!running_.valid() && !tail_->behind() && now >= next_snapshot_ && copied != snapshot_bytes_) {
      snapshot_bytes_ = copied;
      if (!stdin_copy_.empty()) {
        int c = ::open(stdin_copy_.c_str(), O_RDONLY | O_CLOEXEC);
        if (c >= 0) {
          ::dup2(c, 0);
          ::close(c);
        }
      }
      RunOptions o = opt_;
      o.dropped_inputs = dropped_;
      running_ = std::async(std::launch::async, [o, copied] {
        Snapshot s;
        s.started = now_s();
        s.bytes = copied;
        try {
          Plan plan = plan_jobs(o.inputs);
          drop_inputs(plan, o.dropped_inputs);
          for (const auto& pj : plan.jobs) s.jobs.push_back(kind(pj.kind).analyse(pj, o));
        } catch (const std::exception& e) {
          s.error = e.what();
        }
        s.took = now_s() - s.started;
        return s;
      });
    }
    for (auto& j : jobs_) j->tracker.check(now);
    report_changes(now);
    bool all_ended = !jobs_.empty() && std::all_of(jobs_.begin(), jobs_.end(), [](const auto& j) { return j->tracker.job_ended(); });
    // Standard input alone is followed until it ends, whatever its lines say.
    if (tail_->has_stdin() && opt_.inputs.size() == 1) all_ended = tail_->stdin_ended();
    // The job's last line is not the last line of every process: the others get one interval
    // (at most 2 s) to write theirs, read as they come, before the report.
    if (all_ended) {
      if (ended_at_ == 0) ended_at_ = now;
      if (now < ended_at_ + std::min(opt_.interval, 2.0) && !(tail_->has_stdin() && opt_.inputs.size() == 1)) all_ended = false;
    }
    if (tty_ && (now >= next_draw || all_ended)) {
      draw(now);
      next_draw = now + opt_.interval;
    }
    if (now >= next_metrics || all_ended) {
      write_metrics(now);
      next_metrics = now + opt_.interval;
    }
    if (int sig = interrupt::requested()) return finish(fmt::format("stopped by {}", sig == SIGINT ? "Ctrl-C (SIGINT)" : sig == SIGTERM ? "SIGTERM" : "SIGHUP"), false);
    if (all_ended) return finish("the job ended", false);
    if (exit_on_hit(now)) return finish(fmt::format("--exit-on {}", opt_.exit_on), true);
    if (!caught_up_ && !tail_->behind()) {
      caught_up_ = true;
      double took = now_s() - started_;
      const auto& st = tail_->stats();
      if (!tty_ && opt_.format == "json")
        out(ojson({{"ts", iso_time(now_s())}, {"t", now_s()}, {"event", "caught_up"}, {"bytes", st.bytes},
                   {"lines", st.lines}, {"seconds", took}}).dump() + "\n");
      else if (!tty_)
        out(fmt::format("{} caught up: {:.1f} MB, {} lines read in {:.1f} s\n", iso_time(now_s()),
                        static_cast<double>(st.bytes) / 1e6, st.lines, took));
    }
    if (tail_->behind()) continue;
    // Nothing left to read: sleep until the next poll (shorter while lines keep coming), or a signal.
    idle_wait = got ? 0.05 : std::min(opt_.interval / 4, idle_wait * 2);
    struct pollfd p{wake, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(idle_wait * 1000));
  }
}

}  // namespace

int run_follow(const RunOptions& opt) {
  if (!opt.trace_id.empty() || !opt.trace_out.empty())
    return error("--follow and --trace/--trace-out cannot be used together (they read a run once); give one of them");
  Loop loop(opt);
  return loop.run();
}

}  // namespace alog::cli
