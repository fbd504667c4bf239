// The rows of kinds.hpp: each kind's analysis turned into core::Job (its header from the kind's
// own header() and its body from make_body()), and the keys it keeps at the top of report.json.
#include "kinds.hpp"

#include <fmt/format.h>

#include <array>
#include <map>
#include <set>
#include <filesystem>
#include <unordered_set>

#include "analyze_logs/core/fleet.hpp"
#include "analyze_logs/core/header_json.hpp"
#include "analyze_logs/hangs.hpp"
#include "analyze_logs/primerl/diagnose.hpp"
#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "cache.hpp"
#include "partial.hpp"

namespace fs = std::filesystem;

namespace alog::cli {

namespace {

using ojson = nlohmann::ordered_json;

// A prime-rl run among other jobs: its own writers' output, shown below the shared header.
class PrimeRlBody final : public core::Body {
 public:
  explicit PrimeRlBody(std::shared_ptr<const Report> r) : r_(std::move(r)) {}
  std::string text(const core::TextOptions& opt) const override {
    return to_text(*r_, TextOptions{opt.color, true});
  }
  std::string markdown() const override {
    // Its headings one level down, below the job's own.
    std::string md = to_markdown(*r_), o;
    size_t pos = 0;
    while (pos < md.size()) {
      size_t nl = md.find('\n', pos);
      if (nl == std::string::npos) nl = md.size();
      std::string_view line(md.data() + pos, nl - pos);
      if (line.starts_with("#")) o += "#";
      o.append(line);
      o += '\n';
      pos = nl + 1;
    }
    return o;
  }
  std::string html() const override {
    std::string page = to_html(*r_);
    size_t a = page.find("<main>"), b = page.rfind("</main>");
    if (a == std::string::npos || b == std::string::npos || b < a) return {};
    return page.substr(a + 6, b - a - 6);
  }
  void json(ojson& o) const override { o = to_json(*r_); }

 private:
  std::shared_ptr<const Report> r_;
};

// Discovery's notes ("took the newest of 2 sessions") as info findings: said, never silent.
void add_notes(core::Header& h, const std::vector<std::string>& notes) {
  for (const auto& n : notes) {
    core::Finding f;
    f.id = "discovery";
    f.severity = core::Severity::info;
    f.role = core::Role::collateral;
    f.summary = n;
    h.findings.push_back(std::move(f));
  }
}

// Inputs discovery skipped that the analysis did not list itself (a set: a folder may hold
// tens of thousands of files).
void add_skipped(core::Header& h, const std::vector<core::InputEntry>& inputs) {
  std::unordered_set<std::string> known;
  for (const auto& x : h.inputs) known.insert(x.path);
  for (const auto& e : inputs)
    if (known.insert(e.path).second) h.inputs.push_back(e);
}

// Two bodies one after the other: a kind's own, then the hang analysis of its files.
class JoinedBody final : public core::Body {
 public:
  JoinedBody(std::unique_ptr<core::Body> a, std::unique_ptr<core::Body> b)
      : a_(std::move(a)), b_(std::move(b)) {}
  std::string text(const core::TextOptions& opt) const override {
    std::string t = a_ ? a_->text(opt) : "";
    if (!t.empty() && !t.ends_with("\n")) t += '\n';
    return t + b_->text(opt);
  }
  std::string markdown() const override {
    return (a_ ? a_->markdown() : "") + "\n" + b_->markdown();
  }
  std::string html() const override { return (a_ ? a_->html() : "") + b_->html(); }
  // The kind's own JSON: the hang analysis is at the top of report.json (`hang`).
  void json(ojson& o) const override {
    if (a_) a_->json(o);
  }

 private:
  std::unique_ptr<core::Body> a_, b_;
};

// Ray worker .err files and srtctl worker logs can hold py-spy blocks (SGLang's watchdog, a
// hang watchdog writing to stderr) or sit beside Flight Recorder dumps: then the job's own files
// also answer which rank hung. Attached only when such dumps are there, so a job whose files
// only quote watchdog lines (which the kind reads itself) is left as it was.
// The hang analysis of a job's files: read here, or finished from what the partials hold of them.
hangs::HangReport hang_report(const PlannedJob& pj, const std::vector<fs::path>& paths) {
  if (!pj.parts) return hangs::analyze(paths);
  std::vector<std::string> inputs;
  for (const auto& p : paths) inputs.push_back(p.string());
  return hangs::merge_partials(inputs, pj.parts->hangs);
}

void attach_hangs(Analysed& a, const PlannedJob& pj, const std::vector<fs::path>& paths) {
  hangs::HangReport r = hang_report(pj, paths);
  if (r.dumps.empty() && r.fr.empty()) return;
  core::Header h = hangs::header(r);
  for (auto& f : h.findings) {
    if (f.id == "file_problems") continue;
    // The kind's own root cause stays the job's; the hang analysis says which rank.
    if (f.role == core::Role::root_cause && f.id != "hang_culprit") f.role = core::Role::consequence;
    a.job.header.findings.push_back(std::move(f));
  }
  a.job.body = std::make_unique<JoinedBody>(std::move(a.job.body), hangs::make_body(r));
  a.hang = std::move(r);
}

}  // namespace

// A prime-rl run's scan reads tagged lines only, so a trainer log that ends in a NCCL watchdog
// timeout and stack dumps is read again, by the hang analysis, only when the last MiB of one of
// its plain files holds a hang marker (hangs::tail_has_hang_marker: one pread per file, nothing
// on a run without one). Then its marked files and every trainer log are read (a silent rank's
// own log maps its pid), and the findings join the run's after its own. The run's verdict
// becomes `stuck` only when its own is milder.
bool attach_prime_hangs(Analysed& a, const PlannedJob& pj) {
  auto rep = prime_report(a);
  if (!rep) return false;
  // Merged from partials: which ends held a marker was seen where the files were.
  std::unordered_set<std::string> marked_there;
  if (pj.parts)
    for (const auto& h : pj.parts->hangs)
      for (const auto* key : {"marked", "late"})
        if (h.state.contains(key))  // a prime-rl run's (another kind's job has none)
          for (const auto& m : h.state.at(key)) marked_there.insert(m.get<std::string>());
  auto has_marker = [&](const std::string& path) {
    return pj.parts ? marked_there.count(path) > 0 : hangs::tail_has_hang_marker(path);
  };
  std::vector<fs::path> paths;
  // Files discovery gave the hang kind under the run's folder: claimed for their hang artifacts.
  bool marked = !pj.hang_files.empty();
  for (const auto& f : pj.hang_files) paths.emplace_back(f);
  for (const auto& in : rep->inputs) {
    if (in.unreadable || in.path == "<stdin>" || in.compression != "none") continue;
    bool m = has_marker(in.path);
    marked |= m;
    if (m || in.role == Role::trainer) paths.emplace_back(in.path);
  }
  // Files under the run's folder no kind claimed (a silent rank's long log whose first KiB show
  // nothing): read when their end holds a marker.
  std::vector<std::string> late;
  for (const auto& e : pj.inputs) {
    if (e.read || late.size() >= 10000) continue;
    if (has_marker(e.path)) late.push_back(e.path);
  }
  marked |= !late.empty();
  for (const auto& f : late) paths.emplace_back(f);
  if (!marked) return false;
  hangs::HangReport r = hang_report(pj, paths);
  if (!hangs::has_hang_evidence(r)) return false;
  // The files read for the hang only are inputs of the run too (read, role "hang artifacts").
  auto& ins = a.job.header.inputs;
  std::erase_if(ins, [&](const core::InputEntry& e) {
    return !e.read && std::find(late.begin(), late.end(), e.path) != late.end();
  });
  for (const auto& f : pj.hang_files) ins.push_back({f, "prime-rl", "hang artifacts", true, {}});
  for (const auto& f : late) ins.push_back({f, "prime-rl", "hang artifacts", true, {}});
  core::Header h = hangs::header(r);
  if (core::verdict_rank(h.verdict) > core::verdict_rank(a.job.header.verdict)) {
    a.job.header.verdict = h.verdict;
    a.job.header.cause = h.cause;
  }
  for (auto& f : h.findings) {
    if (f.id == "file_problems") continue;
    if (f.role == core::Role::root_cause && f.id != "hang_culprit") f.role = core::Role::consequence;
    a.job.header.findings.push_back(std::move(f));
  }
  core::sort_findings(a.job.header.findings);
  a.job.body = std::make_unique<JoinedBody>(std::move(a.job.body), hangs::make_body(r));
  a.hang = std::move(r);
  return true;
}

namespace {

// `hang` at the top of report.json: the one attached hang analysis among a kind's jobs.
void top_attached_hang(const std::vector<const Analysed*>& mine, ojson& doc) {
  const Analysed* one = nullptr;
  auto has_hang = [](const Analysed* a) { return a->cached ? !a->cached->hang.is_null() : a->hang.has_value(); };
  for (const auto* a : mine)
    if (has_hang(a)) {
      if (one) return;  // several: each job's findings carry theirs
      one = a;
    }
  if (one && !doc.contains("hang"))
    doc["hang"] = one->cached ? one->cached->hang : hangs::to_json(std::any_cast<const hangs::HangReport&>(one->hang));
}

Analysed start(const PlannedJob& pj) {
  Analysed a;
  a.job.kind = pj.kind;
  a.job.name = pj.name;
  a.job.path = pj.root;
  return a;
}

void finish(Analysed& a, const PlannedJob& pj) {
  add_notes(a.job.header, pj.notes);
  add_skipped(a.job.header, pj.inputs);
  core::sort_findings(a.job.header.findings);
}

}  // namespace

// ---- srtctl ----------------------------------------------------------------------------------

Analysed analyse_srtctl(const PlannedJob& pj, const RunOptions& opt) {
  Analysed a = start(pj);
  // One report shared by the body and the report-wide views: never copied.
  const srtctl::JobOptions jo{.threads = opt.threads, .max_failed_pct = opt.max_failed_pct};
  auto r = std::make_shared<const srtctl::JobReport>(
      pj.parts ? srtctl::merge_partials(pj.parts->states, jo)
               : srtctl::analyze_job(pj.dirs.empty() ? pj.root : pj.dirs.front(), jo));
  a.job.header = srtctl::header(*r);
  a.job.body = srtctl::make_body(r);
  a.detail = std::move(r);
  attach_hangs(a, pj, {fs::path(pj.dirs.empty() ? pj.root : pj.dirs.front())});
  finish(a, pj);
  return a;
}

namespace {

// An srtctl job's report, in place.
const srtctl::JobReport& srtctl_report(const Analysed& a) {
  return *std::any_cast<const std::shared_ptr<const srtctl::JobReport>&>(a.detail);
}

// The srtctl reports of these jobs, in place.
std::vector<const srtctl::JobReport*> srtctl_reports(const std::vector<const Analysed*>& mine) {
  std::vector<const srtctl::JobReport*> jobs;
  for (const auto* a : mine) jobs.push_back(&srtctl_report(*a));
  return jobs;
}

}  // namespace

ojson job_element(const Analysed& a, bool body_on_top) {
  ojson j;
  j["name"] = utf8_clean(a.job.name);
  j["kind"] = a.job.kind;
  j["path"] = utf8_clean(a.job.path);
  core::put_header(j, a.job.header);
  core::put_place(j, a.job.header);
  std::string fp = core::fingerprint(a.job.header);
  j["fingerprint"] = fp.empty() ? ojson(nullptr) : ojson(utf8_clean(fp));
  if (!body_on_top && a.job.body) {
    ojson body;
    a.job.body->json(body);
    j[a.job.kind] = std::move(body);
  }
  return j;
}

FleetText fleet_text_of(const Analysed& a, bool body_on_top) {
  FleetText t;
  t.element = dump_report(job_element(a, body_on_top), 4);
  const std::string sep = ",\n    ";
  for (auto f : a.job.header.findings) {
    f.job = a.job.name;
    if (!t.findings.empty()) t.findings += sep;
    t.findings += dump_report(core::to_json(f), 4);
  }
  for (const auto& in : a.job.header.inputs) {
    if (!t.inputs.empty()) t.inputs += sep;
    t.inputs += dump_report(core::to_json(in), 4);
  }
  return t;
}

srtctl::BatchCsvRows srtctl_csv_rows(const Analysed& a) {
  return srtctl::batches_csv_rows(srtctl_report(a));
}

std::string srtctl_job_text(const Analysed& a) {
  return dump_report(srtctl::job_to_json(srtctl_report(a)), 6);
}

// `srtctl`: every srtctl job of the report, with their comparison when there are several.
void top_srtctl(const std::vector<const Analysed*>& mine, const RunOptions& opt, ojson& doc,
                std::vector<const std::string*>& pieces) {
  const std::vector<const srtctl::JobReport*> jobs = srtctl_reports(mine);
  // Each job's element as text, spliced into report.json (kept by --cache, else made here): a
  // fleet's 1,000 jobs are not built as one tree and dumped again.
  ojson list = ojson::array();
  for (const auto* a : mine) {
    if (!a->srtctl_text) a->srtctl_text = std::make_shared<const std::string>(srtctl_job_text(*a));
    list.push_back(splice_piece(pieces, *a->srtctl_text));
  }
  ojson top;
  top["jobs"] = std::move(list);
  ojson rest = srtctl::to_json(jobs, /*with_jobs=*/false);
  for (auto it = rest.begin(); it != rest.end(); ++it) top[it.key()] = std::move(it.value());
  doc["srtctl"] = std::move(top);
  doc["srtctl"]["sweep"] = srtctl::sweep_json(srtctl::sweep_view(jobs, opt.min_tps_user));
  top_attached_hang(mine, doc);
}

// The benchmark points of every srtctl job of the report, their frontiers and the cutoff's
// answer, below the jobs; the same tables as CSV beside report.json.
SetView set_view_srtctl(const std::vector<const Analysed*>& mine, const RunOptions& opt) {
  const std::vector<const srtctl::JobReport*> jobs = srtctl_reports(mine);
  const srtctl::SweepView v = srtctl::sweep_view(jobs, opt.min_tps_user);
  SetView s;
  s.text = srtctl::sweep_text(v, 100);
  s.markdown = srtctl::sweep_markdown(v);
  s.html = srtctl::sweep_html(v);
  s.files = srtctl::sweep_csv(v);
  // Each job's CSV rows (kept by --cache, else made here), joined.
  std::vector<const srtctl::BatchCsvRows*> rows;
  for (const auto* a : mine) {
    if (!a->srtctl_csv) a->srtctl_csv = std::make_shared<const srtctl::BatchCsvRows>(srtctl_csv_rows(*a));
    rows.push_back(a->srtctl_csv.get());
  }
  for (auto& f : srtctl::batches_csv(rows)) s.files.push_back(std::move(f));
  return s;
}

// ---- Ray -------------------------------------------------------------------------------------

Analysed analyse_ray(const PlannedJob& pj, const RunOptions& opt) {
  Analysed a = start(pj);
  std::vector<fs::path> paths;
  for (const auto& f : pj.direct) paths.emplace_back(f);
  for (const auto& f : pj.files) paths.emplace_back(f);
  for (const auto& d : pj.dirs) paths.emplace_back(d);
  ray::Options ro;
  ro.live = opt.live;
  ray::RayReport r = pj.parts ? ray::merge_partials(pj.parts->states, ro) : ray::analyze(paths, ro);
  a.job.header = ray::header(r);
  a.job.body = ray::make_body(r);
  a.detail = std::move(r);
  attach_hangs(a, pj, paths);
  finish(a, pj);
  return a;
}

// `ray`: the Ray job's report when the report holds one (several keep theirs in jobs[]).
void top_ray(const std::vector<const Analysed*>& mine, const RunOptions&, ojson& doc,
             std::vector<const std::string*>&) {
  if (mine.size() == 1)
    doc["ray"] = mine.front()->cached ? mine.front()->cached->top
                                      : ray::to_json(std::any_cast<const ray::RayReport&>(mine.front()->detail));
  top_attached_hang(mine, doc);
}

// ---- prime-rl --------------------------------------------------------------------------------

Analysed analyse_prime(const PlannedJob& pj, const RunOptions& opt) {
  Analysed a = start(pj);
  std::shared_ptr<Report> report;
  if (pj.parts) {
    std::unique_ptr<TimelineSpool> none;
    report = std::make_shared<Report>(prime_merged(prime_options(opt, pj), pj, none));
  } else {
    report = std::make_shared<Report>(analyze(prime_options(opt, pj)));
  }
  a.detail = report;
  finish_prime(a, opt, pj);
  a.job.body = std::make_unique<PrimeRlBody>(report);
  attach_prime_hangs(a, pj);
  return a;
}

// prime-rl's own fields (metrics, updates, clocks, ...) at the top, where scripts read them,
// when the report holds one run.
void top_prime(const std::vector<const Analysed*>& mine, const RunOptions&, ojson& doc,
               std::vector<const std::string*>&) {
  top_attached_hang(mine, doc);
  if (mine.size() != 1) return;
  ojson p = mine.front()->cached ? mine.front()->cached->top : to_json(*prime_report(*mine.front()));
  for (auto it = p.begin(); it != p.end(); ++it)
    if (!doc.contains(it.key())) doc[it.key()] = it.value();
}

// ---- hang artifacts --------------------------------------------------------------------------

Analysed analyse_hang(const PlannedJob& pj, const RunOptions&) {
  Analysed a = start(pj);
  std::vector<fs::path> paths;
  for (const auto& f : pj.direct) paths.emplace_back(f);
  for (const auto& f : pj.files) paths.emplace_back(f);
  for (const auto& d : pj.dirs) paths.emplace_back(d);
  hangs::HangReport r = pj.parts ? hangs::merge_partials(
                                      [&] {
                                        std::vector<std::string> v;
                                        for (const auto& p : paths) v.push_back(p.string());
                                        return v;
                                      }(),
                                      pj.parts->states)
                                : hangs::analyze(paths);
  a.job.header = hangs::header(r);
  a.job.body = hangs::make_body(r);
  a.detail = std::move(r);
  finish(a, pj);
  return a;
}

// `hang`: the hang analysis when the report holds one set.
void top_hang(const std::vector<const Analysed*>& mine, const RunOptions&, ojson& doc,
              std::vector<const std::string*>&) {
  if (mine.size() == 1)
    doc["hang"] = mine.front()->cached ? mine.front()->cached->top
                                       : hangs::to_json(std::any_cast<const hangs::HangReport&>(mine.front()->detail));
}

// ---- nothing recognised ----------------------------------------------------------------------

// Never "ok": says what was looked for and what the input looked like.
Analysed analyse_unrecognised(const PlannedJob& pj, const RunOptions&) {
  Analysed a = start(pj);
  a.job.kind = "unrecognised";
  a.job.header.verdict = core::Verdict::unknown;
  a.job.header.cause = pj.unrecognised;
  core::Finding f;
  f.id = "no_input_recognised";
  f.severity = core::Severity::warning;
  f.summary = pj.unrecognised;
  f.detail = pj.looked_like;
  f.fix = "Give a prime-rl run (its orchestrator, inference and trainer logs), an srtctl job folder, "
          "a Ray job's driver log and session logs, or what a hung job left (stack or Flight Recorder "
          "dumps, its console or per-rank logs)";
  a.job.header.findings.push_back(std::move(f));
  finish(a, pj);
  return a;
}

Report prime_merged(const AnalysisOptions& aopt, const PlannedJob& pj, std::unique_ptr<TimelineSpool>& timeline) {
  // Every partial's recorded inputs; a path two hosts hold is two inputs, named `host:path`.
  // Only this run's: a partial's run may hold files that, with every node's files seen, are
  // another run's.
  std::set<std::string> named(aopt.inputs.begin(), aopt.inputs.end()), found_here(aopt.found_inputs.begin(), aopt.found_inputs.end());
  std::vector<RecordedInput> recs;
  std::vector<std::string> hosts;
  for (const auto& part : pj.parts->states) {
    for (const auto& b : part.state.at("inputs")) {
      const auto& bin = b.get_binary();
      RecordedInput r = unpack_recorded(std::string_view(reinterpret_cast<const char*>(bin.data()), bin.size()));
      if (!named.count(r.item) && !found_here.count(r.path)) continue;
      recs.push_back(std::move(r));
      hosts.push_back(part.host);
    }
  }
  std::map<std::string, size_t> times;
  for (const auto& r : recs) ++times[r.path];
  for (size_t i = 0; i < recs.size(); ++i)
    if (times[recs[i].path] > 1) recs[i].path = fmt::format("{}:{}", hosts[i], recs[i].path);
  // In the order analyze() reads them: each named input (a folder's logs in find_run_logs' order),
  // then the files discovery found, in its walk order (the merged plan's).
  std::vector<const RecordedInput*> order;
  std::vector<bool> taken(recs.size(), false);
  for (const auto& in : aopt.inputs) {
    std::vector<size_t> mine;
    for (size_t i = 0; i < recs.size(); ++i)
      if (!taken[i] && recs[i].item == in) mine.push_back(i);
    std::stable_sort(mine.begin(), mine.end(),
                     [&](size_t x, size_t y) { return run_log_before(in, recs[x].path, recs[y].path); });
    for (size_t i : mine) {
      taken[i] = true;
      order.push_back(&recs[i]);
    }
  }
  std::map<std::string, size_t> found_at;
  for (size_t i = 0; i < aopt.found_inputs.size(); ++i) found_at.emplace(aopt.found_inputs[i], i);
  std::vector<size_t> found;
  for (size_t i = 0; i < recs.size(); ++i)
    if (!taken[i]) found.push_back(i);
  std::stable_sort(found.begin(), found.end(), [&](size_t x, size_t y) {
    auto at = [&](size_t i) {
      auto it = found_at.find(recs[i].path);
      return it == found_at.end() ? found_at.size() : it->second;
    };
    return at(x) < at(y);
  });
  for (size_t i : found) order.push_back(&recs[i]);
  return analyze_recorded(aopt, order, timeline);
}

AnalysisOptions prime_options(const RunOptions& opt, const PlannedJob& pj) {
  AnalysisOptions a;
  a.inputs = pj.direct;
  a.found_inputs = pj.files;
  a.threads = opt.threads;
  a.async_level = opt.async_level;
  a.thresholds = opt.thresholds;
  a.max_updates = opt.max_updates;
  a.tool_version = opt.tool_version;
  return a;
}

// Diagnosis, --expect and the header of an analysed prime-rl report.
void finish_prime(Analysed& a, const RunOptions& opt, const PlannedJob& pj) {
  Report& report = *prime_report(a);
  diagnose(report);
  for (const auto& e : opt.expectations) {
    report.expectations.push_back(evaluate(e, report));
    if (!report.expectations.back().passed) a.checks_failed = true;
  }
  a.job.header = header(report);
  // What discovery saw in an input nothing claimed, on the finding that says so.
  if (!pj.unrecognised.empty())
    for (auto& f : a.job.header.findings)
      if (f.id == "no_input_recognised") f.detail = pj.unrecognised + "; " + pj.looked_like;
  add_notes(a.job.header, pj.notes);
  add_skipped(a.job.header, pj.inputs);
  core::sort_findings(a.job.header.findings);
}

std::shared_ptr<Report> prime_report(const Analysed& a) {
  if (const auto* p = std::any_cast<std::shared_ptr<Report>>(&a.detail)) return *p;
  return nullptr;
}

std::unique_ptr<core::Body> prime_body(std::shared_ptr<const Report> report) {
  return std::make_unique<PrimeRlBody>(std::move(report));
}

}  // namespace alog::cli
