// The analysis run: find the jobs in the inputs (registry + discovery), analyse each with its
// kind, and write one report folder over all of them. Every kind answers in the shared header
// (core/finding.hpp), so the exit status and `--fail-on` are decided here once, from the headers.
//
// One case keeps a path of its own: a single prime-rl run, the tool's first use and the one
// measured in docs/PERFORMANCE.md. Its report.json is streamed (memory flat in the number of
// updates), its timeline is spooled to disk while scanning, and it writes the per-metric stats
// files. Any other mix of jobs goes through the shared writers (render/).
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "analyze_logs/cli.hpp"
#include "analyze_logs/core/discover.hpp"
#include "analyze_logs/core/fleet.hpp"
#include "analyze_logs/core/header_json.hpp"
#include "analyze_logs/core/job.hpp"
#include "analyze_logs/core/output_dir.hpp"
#include "analyze_logs/hangs.hpp"
#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/primerl/outputs.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/render/fleet.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"
#include "cache.hpp"
#include "ci.hpp"
#include "io.hpp"
#include "kinds.hpp"
#include "options.hpp"
#include "partial.hpp"
#include "plan.hpp"
#include "registry.hpp"
#include "progress.hpp"
#include "trace_file.hpp"

namespace fs = std::filesystem;

namespace alog::cli {

namespace {

using ojson = nlohmann::ordered_json;

int exit_status(const RunOptions& opt, const std::vector<const core::Header*>& headers, bool checks_failed) {
  int rc = checks_failed ? kExitCheckFailed : kExitOk;
  if (!opt.fail_on.empty()) {
    core::Severity level = opt.fail_on == "critical" ? core::Severity::critical : core::Severity::warning;
    for (const auto* h : headers)
      if (h->has_at_least(level)) rc = kExitCheckFailed;
  }
  return rc;
}

// Standard output: the terminal text, SUMMARY.md or report.json, then the report folder's path as
// the last line (on stderr with JSON). With a folder, report.json is the file just written, not a
// second serialisation; without one (--no-folder), `json` writes the same document and no path
// is printed.
void print_report(const RunOptions& opt, const std::optional<fs::path>& dir,
                  const std::string& text, const std::string& md,
                  const std::function<void()>& json) {
  if (opt.report_dir && dir) *opt.report_dir = dir->string();
  if (!opt.print) return;
  if (opt.format == "json") {
    if (dir) {
      std::ifstream f(*dir / "report.json", std::ios::binary);
      std::vector<char> buf(1u << 20);
      while (f.read(buf.data(), static_cast<std::streamsize>(buf.size())) || f.gcount() > 0)
        out(std::string_view(buf.data(), static_cast<size_t>(f.gcount())));
      std::fprintf(stderr, "%s\n", dir->c_str());
    } else {
      json();
    }
  } else {
    out(opt.format == "md" ? md : text);
    if (dir) out(dir->string() + "\n");
  }
}

// --trace-out, written once the report folder (if any) is in place: a failure now keeps it.
int write_trace(TraceFile& trace, const Report& report, const std::optional<fs::path>& dir) {
  try {
    trace.write(report);
  } catch (const OutputError& e) {
    if (!dir) return error(e.what());
    return error(fmt::format("{} (the report folder {} is complete)", e.what(), dir->string()));
  }
  return kExitOk;
}

std::string skipped_markdown(const core::Header& h) {
  std::string o;
  for (const auto& in : h.inputs)
    if (!in.read) o += fmt::format("- {}: {}\n", md_code(in.path), md_escape(in.reason));
  if (!o.empty()) o = "\n## Inputs not read\n\n" + o;
  std::string stalled;  // --follow: components that stopped making progress
  for (const auto& f : h.findings)
    if (f.id == "stalled") {
      stalled += "- **" + md_escape(f.summary) + "**";
      if (!f.evidence.empty()) stalled += "; last line (" + md_code(f.evidence.front().ref()) + "): " + md_code(f.evidence.front().text);
      stalled += "\n";
    }
  if (!stalled.empty()) o = "\n## Stalled (--follow)\n\n" + stalled + o;
  std::string notes;
  for (const auto& f : h.findings)
    if (f.id == "discovery") notes += "- " + md_escape(f.summary) + "\n";
  if (!notes.empty()) o += "\n## Discovery\n\n" + notes;
  return o;
}

// A single prime-rl run: the streamed, measured path (see the file comment). With --no-folder
// nothing touches the disk: no timeline is spooled and report.json is streamed to stdout.
// What CI is shown of a job: its header and, for prime-rl, its --expect checks.
render::CiJob ci_job(const Analysed& a) {
  render::CiJob j{a.job.name, a.job.kind, &a.job.header};
  if (a.cached)
    for (const auto& c : a.cached->checks) j.checks.push_back({c.name, c.passed, c.message});
  if (auto prime = prime_report(a))
    for (const auto& e : prime->expectations) j.checks.push_back({e.expr, e.passed, e.message});
  return j;
}

int run_single_prime(const RunOptions& opt, const PlannedJob& pj, TraceFile* trace, AtomicFile* junit) {
  AnalysisOptions aopt = prime_options(opt, pj);
  // A run merged from partials is read from what they recorded; any other from its files.
  auto read_run = [&](std::unique_ptr<TimelineSpool>& timeline) {
    return pj.parts ? prime_merged(aopt, pj, timeline) : analyze(aopt, timeline);
  };
  if (!opt.trace_id.empty()) {
    std::unique_ptr<TimelineSpool> none;
    Report report = read_run(none);
    std::string err;
    auto text = trace_view(report, opt.trace_id, err);
    if (!text) return error_lines(err);
    out(*text);
    return kExitOk;
  }
  std::optional<OutputDir> dir;
  if (!opt.no_folder) {
    dir.emplace(opt.out_parent, "analysis");
    aopt.timeline_path = dir->staging() / "timeline.txt";
  }
  Progress progress(!opt.quiet && ::isatty(2));
  aopt.progress = [&](const std::string& name, uint64_t done, uint64_t total) { progress.update(name, done, total); };
  Analysed a;
  a.job.kind = pj.kind;
  a.job.name = pj.name;
  a.job.path = pj.root;
  std::unique_ptr<TimelineSpool> timeline;
  std::shared_ptr<Report> analysed;
  try {
    analysed = std::make_shared<Report>(read_run(timeline));
    a.detail = analysed;
  } catch (const FatalInputError& e) {
    progress.clear();
    return error(e.what());
  }
  progress.clear();
  finish_prime(a, opt, pj);
  a.job.body = prime_body(analysed);
  // Hang artifacts at the end of its logs (a trainer stuck in a collective): the hang section
  // follows the run's own in every output, and report.json gets `hang`.
  const bool hang = attach_prime_hangs(a, pj);
  std::optional<ojson> hang_json;
  std::string hang_md, hang_html;
  if (hang) {
    const auto& hr = std::any_cast<const hangs::HangReport&>(a.hang);
    hang_json = hangs::to_json(hr);
    auto body = hangs::make_body(hr);
    hang_md = fmt::format("\n{}", body->markdown());
    hang_html = body->html();
  }
  if (opt.amend) opt.amend(a);
  warn_inputs(a.job.header);
  const Report& report = *analysed;
  int rc = exit_status(opt, {&a.job.header}, a.checks_failed);

  ojson jobs = ojson::array();
  jobs.push_back(job_element(a, /*body_on_top=*/true));

  // prime-rl's own SUMMARY.md, and what discovery skipped or noted, which the Report never saw.
  auto make_summary_md = [&] { return to_markdown(report) + hang_md + skipped_markdown(a.job.header); };
  auto make_html = [&] {
    std::string page = to_html(report);
    if (size_t at = page.rfind("</main>"); at != std::string::npos && !hang_html.empty())
      page.insert(at, hang_html);
    return page;
  };
  const JsonHeader json_header{&a.job.header, &jobs, hang_json ? &*hang_json : nullptr};
  auto terminal_text = [&] {
    if (opt.format != "text") return std::string();
    std::vector<core::Job> one;
    one.push_back(core::Job{a.job.kind, a.job.name, a.job.path, a.job.header, std::move(a.job.body)});
    return render::report_text(one, core::TextOptions{opt.color, 100});
  };

  if (!dir) {
    if (trace)
      if (int trc = write_trace(*trace, report, std::nullopt)) return trc;
    std::string summary_md = make_summary_md();
    if (int crc = write_ci_outputs(opt, junit, {ci_job(a)}, summary_md)) return crc;
    print_report(opt, std::nullopt, terminal_text(), summary_md, [&] {
      write_json(report, [](std::string_view piece) { out(piece); }, json_header, opt.threads);
    });
    return rc;
  }

  // The outputs only read the report: timeline.txt (a merge of the spooled events), SUMMARY.md
  // and report.html are made and written on a second thread while this one writes report.json.
  std::exception_ptr side_error;
  std::string summary_md;
  std::thread side([&] {
    try {
      if (timeline) timeline->finish(report);
      summary_md = make_summary_md();
      dir->write("SUMMARY.md", summary_md);
      dir->write("report.html", make_html());
    } catch (...) {
      side_error = std::current_exception();
    }
  });
  std::exception_ptr main_error;
  try {
    dir->write_stream("report.json",
                      [&](const OutputDir::Sink& sink) { write_json(report, sink, json_header, opt.threads); });
  } catch (...) {
    main_error = std::current_exception();
  }
  side.join();
  timeline.reset();  // removes the spool's part files
  if (main_error) std::rethrow_exception(main_error);
  if (side_error) std::rethrow_exception(side_error);
  dir->write("slowest_updates.txt", slowest_updates_txt(report));
  for (const auto& [name, content] : stats_files(report)) dir->write(name, content);
  std::optional<fs::path> final_dir = dir->commit();
  if (trace)
    if (int trc = write_trace(*trace, report, final_dir)) return trc;
  if (int crc = write_ci_outputs(opt, junit, {ci_job(a)}, summary_md)) return crc;
  print_report(opt, final_dir, terminal_text(), summary_md, {});
  return rc;
}

// report.json over any set of jobs: the worst verdict and every finding at the top, each job's
// header in `jobs[]`, and each kind's body where scripts already read it (`srtctl`, `ray`, and
// prime-rl's fields at the top level when the report holds one run of that kind).
// `pieces`: text the kinds' rows put in the tree as placeholders (dump_report's splice).
ojson report_json(const RunOptions& opt, const std::vector<Analysed>& all, std::vector<const std::string*>& pieces) {
  std::map<std::string, size_t> per_kind;
  for (const auto& a : all) ++per_kind[a.job.kind];
  ojson doc;
  doc["schema"] = core::kReportSchema;
  doc["tool"] = {{"name", "analyze-logs"}, {"version", opt.tool_version}};
  doc["kind"] = per_kind.size() == 1 ? all.front().job.kind : std::string("mixed");

  core::Header top;
  const Analysed* worst = nullptr;
  for (const auto& a : all)
    if (!worst || core::verdict_rank(a.job.header.verdict) > core::verdict_rank(worst->job.header.verdict)) worst = &a;
  top.verdict = worst ? worst->job.header.verdict : core::Verdict::unknown;
  top.cause = !worst ? "no input" : all.size() == 1 ? worst->job.header.cause
                                                     : worst->job.name + ": " + worst->job.header.cause;
  // A kind's body is at the top (its row's top_json) for srtctl always and for the others when the
  // report holds one job of that kind; otherwise it is kept in the job's element.
  auto body_on_top = [&](const Analysed& a) { return a.job.kind == "srtctl" || per_kind[a.job.kind] == 1; };
  if (all.size() > 1) {
    // A fleet: each job's element and its findings and inputs spliced in as text (made here, or
    // kept by --cache), not built into one tree and dumped.
    auto splice = [&](const std::string& text) { return splice_piece(pieces, text); };
    ojson findings = ojson::array(), inputs = ojson::array(), jobs = ojson::array();
    for (const auto& a : all) {
      if (!a.fleet_text) a.fleet_text = std::make_shared<const FleetText>(fleet_text_of(a, body_on_top(a)));
      if (!a.fleet_text->findings.empty()) findings.push_back(splice(a.fleet_text->findings));
      if (!a.fleet_text->inputs.empty()) inputs.push_back(splice(a.fleet_text->inputs));
      jobs.push_back(splice(a.fleet_text->element));
    }
    doc["verdict"] = core::verdict_name(top.verdict);
    doc["cause"] = utf8_clean(top.cause);
    doc["findings"] = std::move(findings);
    doc["inputs"] = std::move(inputs);
    doc["jobs"] = std::move(jobs);
  } else {
    for (const auto& a : all) {
      for (const auto& f : a.job.header.findings) top.findings.push_back(f);
      for (const auto& in : a.job.header.inputs) top.inputs.push_back(in);
    }
    core::put_header(doc, top);
    ojson jobs = ojson::array();
    for (const auto& a : all) jobs.push_back(job_element(a, body_on_top(a)));
    doc["jobs"] = std::move(jobs);
  }
  if (all.size() > 1) {
    std::vector<const core::Job*> ptrs;
    for (const auto& a : all) ptrs.push_back(&a.job);
    doc["fleet"] = render::fleet_json(ptrs, core::fleet_of(ptrs));
  }

  for (const auto& row : kinds()) {
    if (!row.top_json) continue;
    std::vector<const Analysed*> mine;
    for (const auto& x : all)
      if (x.job.kind == row.probe.kind) mine.push_back(&x);
    if (!mine.empty()) row.top_json(mine, opt, doc, pieces);
  }
  return doc;
}

// Every planned job, in plan order. Several jobs (a fleet) are analysed on up to -j threads at
// once, each job with its share of the threads; the first failure (in plan order) is rethrown.
// With --cache, a job whose entry matches is brought back instead (cache.hpp), and every job
// analysed is kept; a prime-rl run is always analysed when --trace-out needs its events.
std::vector<Analysed> analyse_all(const Plan& plan, const RunOptions& opt, JobCache* cache) {
  const size_t n = plan.jobs.size();
  std::vector<Analysed> all(n);
  std::map<std::string, size_t> per_kind;  // a kind alone in the report puts its keys at the top
  for (const auto& pj : plan.jobs) ++per_kind[pj.kind];
  auto one = [&](size_t i, const RunOptions& o) {
    const PlannedJob& pj = plan.jobs[i];
    const bool use = cache && !(pj.kind == "prime-rl" && !o.trace_out.empty());
    const bool alone = per_kind.at(pj.kind) == 1;
    CacheKey key;
    if (use) {
      key = cache->key(pj);  // before the analysis reads the files
      if (std::optional<Analysed> hit = cache->load(pj, key, alone)) {
        all[i] = std::move(*hit);
        return;
      }
    }
    all[i] = kind(pj.kind).analyse(pj, o);
    if (use) cache->store(key, all[i], alone);
  };
  size_t workers = std::min<size_t>(std::max(1u, opt.threads), n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) one(i, opt);
    return all;
  }
  RunOptions inner = opt;
  inner.threads = std::max<unsigned>(1, opt.threads / static_cast<unsigned>(workers));
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        one(i, inner);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return all;
}

}  // namespace

int run_analysis(const RunOptions& opt) {
  // Copies of standard input (for kinds that read files) go as soon as the run ends, whatever
  // way it ends; the exit handler is only the fallback.
  struct RemoveCopies {
    ~RemoveCopies() { core::remove_stdin_copies(); }
  } remove_copies;
  Plan plan;
  try {
    if (!opt.partials.empty()) {
      plan = plan_from_partials(opt.partials, opt.tool_version);  // `analyze-logs merge`
    } else {
      plan = plan_jobs(opt.inputs);
      drop_inputs(plan, opt.dropped_inputs);
    }
  } catch (const std::exception& e) {
    return error(e.what());
  }
  size_t prime_jobs = 0;
  for (const auto& pj : plan.jobs) prime_jobs += pj.kind == "prime-rl";
  // Options that only mean something for a prime-rl run: an error, not silently ignored.
  if (prime_jobs == 0) {
    std::string kind = plan.jobs.empty() ? std::string("the input") : describe_kind(plan.jobs.front().kind);
    if (!opt.trace_out.empty())
      return error(fmt::format("--trace-out: {} has no weight updates to trace (only prime-rl runs do)", kind));
    if (!opt.expectations.empty())
      return error(fmt::format("--expect: {} has none of the prime-rl metrics it checks; "
                               "compare jobs with `analyze-logs compare --fail-on-regression PCT`",
                               kind));
    if (!opt.trace_id.empty())
      return error(fmt::format("--trace: {} has no weight updates (only prime-rl runs do)", kind));
  } else if (prime_jobs > 1 && (!opt.trace_id.empty() || !opt.trace_out.empty())) {
    return error(fmt::format("--trace and --trace-out read one prime-rl run; the inputs hold {}", prime_jobs));
  }
  if (opt.live)
    for (const auto& pj : plan.jobs)
      if (pj.kind != "ray") warn(fmt::format("--live: {} is not a Ray job; measured as collected", pj.name));
  // A --trace-out FILE that cannot be written is said now, before any time is spent.
  std::optional<TraceFile> trace;
  if (!opt.trace_out.empty() && opt.trace_id.empty()) {
    try {
      trace.emplace(opt.trace_out);
    } catch (const OutputError& e) {
      return error(e.what());
    }
  }
  TraceFile* trace_file = trace ? &*trace : nullptr;
  // --junit FILE likewise: its temporary file is made now, beside FILE.
  std::optional<AtomicFile> junit;
  if (!opt.junit.empty()) {
    try {
      junit.emplace(opt.junit, "JUnit report");
    } catch (const OutputError& e) {
      return error(e.what());
    }
  }
  AtomicFile* junit_file = junit ? &*junit : nullptr;

  if (plan.jobs.size() == 1 && plan.jobs.front().kind == "prime-rl") {
    if (!opt.cache_dir.empty() && !opt.quiet)
      std::fprintf(stderr, "analyze-logs: --cache: a single prime-rl run streams its report as it is read and is "
                           "not kept; the cache serves reports of several jobs\n");
    try {
      return run_single_prime(opt, plan.jobs.front(), trace_file, junit_file);
    } catch (const std::exception& e) {
      return error(e.what());
    }
  }
  if (!opt.trace_id.empty()) {
    for (const auto& pj : plan.jobs)
      if (pj.kind == "prime-rl") {
        try {
          std::unique_ptr<TimelineSpool> none;
          Report report = pj.parts ? prime_merged(prime_options(opt, pj), pj, none) : analyze(prime_options(opt, pj));
          std::string err;
          auto text = trace_view(report, opt.trace_id, err);
          if (!text) return error_lines(err);
          out(*text);
          return kExitOk;
        } catch (const std::exception& e) {
          return error(e.what());
        }
      }
  }

  std::optional<JobCache> cache;
  if (!opt.cache_dir.empty()) {
    try {
      cache.emplace(opt.cache_dir, opt.cache_settings);
    } catch (const std::exception& e) {
      return error(e.what());
    }
  }
  try {
    std::vector<Analysed> all = analyse_all(plan, opt, cache ? &*cache : nullptr);
    if (cache && !opt.quiet)
      std::fprintf(stderr, "analyze-logs: --cache: %zu of %zu job%s from %s, %zu analysed and kept\n",
                   cache->hits(), all.size(), all.size() == 1 ? "" : "s", cache->dir().c_str(), cache->stored());
    if (opt.amend)
      for (auto& a : all) opt.amend(a);
    std::vector<core::Job> jobs;
    std::vector<const core::Header*> headers;
    bool checks_failed = false;
    for (auto& a : all) {
      headers.push_back(&a.job.header);
      checks_failed |= a.checks_failed;
      warn_inputs(a.job.header);
    }
    int rc = exit_status(opt, headers, checks_failed);
    // The writers take the jobs by value-free view: move them out and back.
    struct Lent {
      std::vector<Analysed>& all;
      std::vector<core::Job>& jobs;
      Lent(std::vector<Analysed>& a, std::vector<core::Job>& j) : all(a), jobs(j) {
        for (auto& x : all) jobs.push_back(std::move(x.job));
      }
      ~Lent() {
        for (size_t i = 0; i < all.size(); ++i) all[i].job = std::move(jobs[i]);
        jobs.clear();
      }
    };
    std::string text, md;
    {
      Lent lent(all, jobs);
      text = render::report_text(jobs, core::TextOptions{opt.color, 100});
      md = render::report_markdown(jobs);
    }
    // Each kind's view over all its jobs, after the jobs (before the page's footer).
    std::vector<std::pair<std::string, std::string>> set_files;
    std::string set_html;  // before report.html's footer
    for (const auto& row : kinds()) {
      if (!row.set_view) continue;
      std::vector<const Analysed*> mine;
      for (const auto& x : all)
        if (x.job.kind == row.probe.kind) mine.push_back(&x);
      if (mine.empty()) continue;
      SetView sv = row.set_view(mine, opt);
      // A fleet's terminal view is its table: a kind's view over all its jobs (srtctl: every
      // benchmark point) is left to SUMMARY.md and report.html, as each job's section is.
      if (!sv.text.empty() && all.size() <= render::kFleetSectionsMax) text += "\n" + sv.text;
      else if (!sv.text.empty())
        text += fmt::format("\n{}'s view over its {} jobs (benchmark points, frontiers): SUMMARY.md and report.html.\n",
                            row.probe.kind, mine.size());
      if (!sv.markdown.empty()) md += "\n" + sv.markdown;
      set_html += sv.html;
      for (auto& f : sv.files) set_files.push_back(std::move(f));
    }
    // report.json only when something takes it: the folder, or --json on standard output (a
    // terminal view with --no-folder would build and drop it; 47 MB for 1,000 serving jobs).
    const bool want_json = !opt.no_folder || (opt.print && opt.format == "json");
    // Never one string: streamed into the folder's report.json, or onto standard output with
    // --json --no-folder (with the folder, --json prints the file written).
    std::vector<const std::string*> pieces;
    const ojson doc = want_json ? report_json(opt, all, pieces) : ojson();

    std::optional<fs::path> final_dir;
    if (!opt.no_folder) {
      OutputDir dir(opt.out_parent, "analysis");
      dir.write("SUMMARY.md", md);
      dir.write_stream("report.html", [&](const OutputDir::Sink& sink) {
        Lent lent(all, jobs);
        render::report_html(jobs, set_html, sink);
      });
      dir.write_stream("report.json", [&](const OutputDir::Sink& sink) {
        dump_report(doc, pieces, sink);
        sink("\n");
      });
      for (const auto& [name, content] : set_files) dir.write(name, content);
      final_dir = dir.commit();
    }
    if (trace_file)
      for (const auto& a : all)
        if (auto prime = prime_report(a))
          if (int trc = write_trace(*trace_file, *prime, final_dir)) return trc;
    std::vector<render::CiJob> ci;
    for (const auto& a : all) ci.push_back(ci_job(a));
    if (int crc = write_ci_outputs(opt, junit_file, ci, md)) return crc;
    print_report(opt, final_dir, text, md, [&] {
      dump_report(doc, pieces, [](std::string_view part) { out(part); });
      out("\n");
    });
    return rc;
  } catch (const FatalInputError& e) {
    return error(e.what());
  } catch (const std::exception& e) {
    return error(e.what());
  }
}

}  // namespace alog::cli
