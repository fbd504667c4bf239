// HangReport -> the shared header (verdict, culprit finding with its evidence, what is not the
// cause) and the body: the answer (culprit, host, pid, what it was doing), where the others wait,
// and the main-thread stacks grouped across ranks, in terminal text, SUMMARY.md, report.html and
// report.json.
#include "analyze_logs/render/render.hpp"

#include <fmt/format.h>

#include <set>
#include <fmt/ranges.h>

#include "analyze_logs/hangs.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::hangs {

namespace {

using ojson = nlohmann::ordered_json;

std::string who(const HangReport& r, int rank) {
  std::string s = fmt::format("rank {}", rank);
  auto it = r.ranks.find(rank);
  if (it != r.ranks.end()) {
    if (!it->second.host.empty()) s += fmt::format(" ({}", it->second.host);
    if (it->second.pid >= 0)
      s += fmt::format("{}pid {}", it->second.host.empty() ? " (" : ", ", it->second.pid);
    if (!it->second.host.empty() || it->second.pid >= 0) s += ")";
  }
  return s;
}

std::string collective_line(const Collective& c) {
  std::string s = c.op.empty() ? "a collective" : c.op;
  if (c.seq >= 0) s += fmt::format(" SeqNum {}", c.seq);
  if (!c.pg.empty()) s += fmt::format(" on PG {}", c.pg);
  if (!c.sizes.empty()) s += ", " + c.sizes;
  if (c.timeout_ms >= 0) s += fmt::format(", timeout {} ms", c.timeout_ms);
  return s;
}

ojson frames_json(const std::vector<Frame>& v) {
  ojson a = ojson::array();
  for (const auto& f : v)
    a.push_back({{"func", utf8_clean(f.func)}, {"file", utf8_clean(f.file)}, {"line", f.line}});
  return a;
}

ojson ev_json(const core::Evidence& e) {
  return {{"file", utf8_clean(e.file)}, {"line", e.line}, {"text", utf8_clean(e.text)}};
}

ojson ints(const std::vector<int>& v) {
  ojson a = ojson::array();
  for (int x : v) a.push_back(x);
  return a;
}

class HangBody final : public core::Body {
 public:
  explicit HangBody(HangReport r) : r_(std::move(r)) {}

  std::string text(const core::TextOptions& opt) const override {
    std::string o;
    size_t w = opt.width;
    auto add = [&](const std::string& s, const char* first = "", const char* rest = "    ") {
      for (const auto& l : render::wrap(printable(s), w, first, rest)) o += l + "\n";
    };
    if (!r_.culprits.empty()) {
      std::vector<std::string> names;
      for (int c : r_.culprits) names.push_back(who(r_, c));
      add(fmt::format("Hung: {}  [confidence {}]", fmt::join(names, ", "), r_.confidence));
      if (!r_.culprit_frames.empty()) add("doing: " + frames_line(r_.culprit_frames, 4), "  ");
      if (!r_.culprit_differs.empty() && r_.culprit_differs.size() < r_.culprit_frames.size() &&
          r_.groups.size() > 1)
        add(fmt::format("parts from the others at: {} (they: {})", r_.culprit_differs.back().str(),
                        parting_peer()),
            "  ");
    } else {
      add("Hung rank: not decided");
    }
    for (const auto& u : r_.undecided) add("cannot decide: " + u, "  ");
    if (r_.collective) {
      add("Others wait in: " + collective_line(*r_.collective));
      if (!r_.collective->call_site.empty())
        add("called from: " + frames_line(r_.collective->frames, 3), "  ");
      if (!r_.collective->waiting.empty())
        add("waiting: rank " + rank_list_of(r_.collective->waiting), "  ");
    }
    if (!r_.without_dump.empty())
      add("No Flight Recorder dump from rank " + rank_list_of(r_.without_dump));
    if (!r_.groups.empty()) {
      o += render::paint("Main-thread stacks, grouped:", render::Tone::dim, opt.color) + "\n";
      size_t shown = 0;
      for (const auto& g : r_.groups) {
        if (++shown > 4) {
          add(fmt::format("… {} more group(s)", r_.groups.size() - 4), "  ");
          break;
        }
        add(fmt::format("rank {} ({}): {}", rank_list_of(g.ranks), g.ranks.size(),
                        frames_line(g.frames, 3)),
            "  ", "      ");
      }
      if (r_.common_threads_omitted)
        add(fmt::format("{} other thread(s) identical on every rank left out",
                        r_.common_threads_omitted),
            "  ");
      if (!r_.without_stack.empty())
        add("no stack dump from rank " + rank_list_of(r_.without_stack), "  ");
    }
    if (!r_.snapshots.empty()) add("Repeated snapshots:");
    for (const auto& sn : r_.snapshots) add(snapshot_line(sn), "  ", "      ");
    for (const auto& a : r_.ambiguities) add("mapping: " + a, "  ");
    return o;
  }

  std::string markdown() const override {
    std::string o = "## Which rank hung\n\n";
    if (!r_.culprits.empty()) {
      std::vector<std::string> names;
      for (int c : r_.culprits) names.push_back(who(r_, c));
      o += fmt::format("**Hung:** {} (confidence {})\n\n",
                       md_escape(fmt::format("{}", fmt::join(names, ", "))), r_.confidence);
      for (const auto& s : r_.suspects)
        if (std::find(r_.culprits.begin(), r_.culprits.end(), s.rank) != r_.culprits.end())
          o += fmt::format("- rank {}: {}\n", s.rank,
                           md_escape(fmt::format("{}", fmt::join(s.evidence_kinds, ", "))));
      o += "\n";
      if (!r_.culprit_frames.empty()) {
        o += fmt::format("Its main thread ({}), innermost first:\n\n",
                         md_escape(r_.culprit_stack_file));
        for (const auto& f : r_.culprit_frames) o += "    " + printable(f.str()) + "\n";
        o += "\n";
      }
    } else {
      o += "**Hung rank:** not decided\n\n";
    }
    for (const auto& u : r_.undecided) o += "- cannot decide: " + md_escape(u) + "\n";
    if (!r_.undecided.empty()) o += "\n";
    if (r_.collective) {
      o += "**Others wait in:** " + md_escape(collective_line(*r_.collective)) + "\n\n";
      if (!r_.collective->frames.empty()) {
        for (const auto& f : r_.collective->frames) o += "    " + printable(f.str()) + "\n";
        o += "\n";
      }
      if (!r_.collective->waiting.empty())
        o += "Waiting ranks: " + rank_list_of(r_.collective->waiting) + "\n\n";
    }
    if (!r_.without_dump.empty())
      o += "No Flight Recorder dump from rank " + rank_list_of(r_.without_dump) + "\n\n";
    if (!r_.groups.empty()) {
      o += "### Main-thread stacks, grouped\n\n";
      for (const auto& g : r_.groups) {
        o += fmt::format("Rank {} ({}):\n\n", rank_list_of(g.ranks), g.ranks.size());
        for (const auto& f : g.frames) o += "    " + printable(f.str()) + "\n";
        o += "\n";
      }
      if (r_.common_threads_omitted)
        o += fmt::format("{} other thread(s) identical on every rank left out.\n\n",
                         r_.common_threads_omitted);
    }
    if (!r_.snapshots.empty()) {
      o += "### Repeated snapshots\n\n";
      for (const auto& sn : r_.snapshots) {
        o += "- " + md_escape(snapshot_line(sn)) + "\n";
        if (sn.moved) {
          o += "\n      first:\n";
          for (const auto& f : sn.first) o += "        " + printable(f.str()) + "\n";
          o += "      last:\n";
          for (const auto& f : sn.last) o += "        " + printable(f.str()) + "\n";
          o += "\n";
        }
      }
      o += "\n";
    }
    if (!r_.ambiguities.empty()) {
      o += "### Rank mapping\n\n";
      for (const auto& a : r_.ambiguities) o += "- " + md_escape(a) + "\n";
      o += "\n";
    }
    return o;
  }

  std::string html() const override {
    std::string o = "<h2>Which rank hung</h2>\n";
    if (!r_.culprits.empty()) {
      std::vector<std::string> names;
      for (int c : r_.culprits) names.push_back(who(r_, c));
      o += fmt::format("<p><b>Hung:</b> {} (confidence {})</p>\n",
                       html_escape(fmt::format("{}", fmt::join(names, ", "))), r_.confidence);
      if (!r_.culprit_frames.empty()) {
        o += "<pre>";
        for (const auto& f : r_.culprit_frames) o += html_escape(f.str()) + "\n";
        o += "</pre>\n";
      }
    } else {
      o += "<p><b>Hung rank:</b> not decided</p>\n";
    }
    for (const auto& u : r_.undecided) o += "<p>cannot decide: " + html_escape(u) + "</p>\n";
    if (r_.collective) {
      o += "<p><b>Others wait in:</b> " + html_escape(collective_line(*r_.collective)) + "</p>\n";
      if (!r_.collective->frames.empty()) {
        o += "<pre>";
        for (const auto& f : r_.collective->frames) o += html_escape(f.str()) + "\n";
        o += "</pre>\n";
      }
    }
    if (!r_.without_dump.empty())
      o += "<p>No Flight Recorder dump from rank " + rank_list_of(r_.without_dump) + "</p>\n";
    if (!r_.groups.empty()) {
      o += "<h3>Main-thread stacks, grouped</h3>\n";
      for (const auto& g : r_.groups) {
        o += fmt::format("<p>Rank {} ({}):</p>\n<pre>", rank_list_of(g.ranks), g.ranks.size());
        for (const auto& f : g.frames) o += html_escape(f.str()) + "\n";
        o += "</pre>\n";
      }
    }
    if (!r_.snapshots.empty()) {
      o += "<h3>Repeated snapshots</h3>\n<ul>\n";
      for (const auto& sn : r_.snapshots) o += "<li>" + html_escape(snapshot_line(sn)) + "</li>\n";
      o += "</ul>\n";
    }
    for (const auto& a : r_.ambiguities) o += "<p>mapping: " + html_escape(a) + "</p>\n";
    return o;
  }

  void json(ojson& out) const override { out = to_json(r_); }

 private:
  // "rank 2: the same main-thread stack in 3 snapshots: stuck in wait (threading.py:331)", or
  // "rank 5: moved between 2 snapshots (running): from X to Y".
  static std::string snapshot_line(const Snapshots& sn) {
    if (!sn.moved)
      return fmt::format("rank {}: the same main-thread stack in {} snapshots: stuck in {}", sn.rank,
                         sn.count, sn.last.empty() ? std::string("(no frame)") : sn.last.front().str());
    return fmt::format("rank {}: its main thread moved between {} snapshots (it runs): from {} to {}",
                       sn.rank, sn.count,
                       sn.first.empty() ? std::string("(no frame)") : sn.first.front().str(),
                       sn.last.empty() ? std::string("(no frame)") : sn.last.front().str());
  }

  // The majority's frame at the depth where the culprit's stack parts from it.
  std::string parting_peer() const {
    for (const auto& g : r_.groups) {
      if (std::find(g.ranks.begin(), g.ranks.end(), r_.culprits.front()) != g.ranks.end()) continue;
      size_t common = r_.culprit_frames.size() - r_.culprit_differs.size();
      if (g.frames.size() > common) return g.frames[g.frames.size() - 1 - common].str();
      break;
    }
    return "?";
  }

  HangReport r_;
};

}  // namespace

ojson to_json(const HangReport& r) {
  ojson j;
  j["hang"] = r.hang;
  j["nccl"] = r.nccl;
  j["world_size"] = r.world_size >= 0 ? ojson(r.world_size) : ojson(nullptr);
  j["culprits"] = ints(r.culprits);
  j["confidence"] = r.confidence.empty() ? ojson(nullptr) : ojson(r.confidence);
  j["undecided"] = ojson::array();
  for (const auto& u : r.undecided) j["undecided"].push_back(utf8_clean(u));
  j["suspects"] = ojson::array();
  for (const auto& s : r.suspects) {
    ojson x{{"rank", s.rank}, {"evidence_kinds", s.evidence_kinds}, {"evidence", ojson::array()}};
    for (const auto& e : s.evidence) x["evidence"].push_back(ev_json(e));
    j["suspects"].push_back(std::move(x));
  }
  j["culprit_frames"] = frames_json(r.culprit_frames);
  j["culprit_differs"] = frames_json(r.culprit_differs);
  if (r.collective) {
    const auto& c = *r.collective;
    j["collective"] = {{"op", utf8_clean(c.op)},
                       {"pg", utf8_clean(c.pg)},
                       {"seq", c.seq >= 0 ? ojson(c.seq) : ojson(nullptr)},
                       {"sizes", utf8_clean(c.sizes)},
                       {"timeout_ms", c.timeout_ms >= 0 ? ojson(c.timeout_ms) : ojson(nullptr)},
                       {"call_site", utf8_clean(c.call_site)},
                       {"frames", frames_json(c.frames)},
                       {"waiting", ints(c.waiting)},
                       {"evidence", ev_json(c.ev)}};
  } else {
    j["collective"] = nullptr;
  }
  j["ranks"] = ojson::object();
  for (const auto& [rank, id] : r.ranks) {
    ojson s = ojson::array();
    for (const auto& x : id.sources) s.push_back(utf8_clean(x));
    j["ranks"][std::to_string(rank)] = {{"host", utf8_clean(id.host)},
                                        {"pid", id.pid >= 0 ? ojson(id.pid) : ojson(nullptr)},
                                        {"sources", s}};
  }
  j["ambiguities"] = ojson::array();
  for (const auto& a : r.ambiguities) j["ambiguities"].push_back(utf8_clean(a));
  j["without_fr_dump"] = ints(r.without_dump);
  j["without_stack_dump"] = ints(r.without_stack);
  j["stack_groups"] = ojson::array();
  for (const auto& g : r.groups) {
    ojson files = ojson::array();
    for (const auto& f : g.files) files.push_back(utf8_clean(f));
    j["stack_groups"].push_back({{"ranks", ints(g.ranks)},
                                 {"files", files},
                                 {"in_collective", g.in_collective},
                                 {"frames", frames_json(g.frames)}});
  }
  j["common_threads_omitted"] = r.common_threads_omitted;
  j["snapshots"] = ojson::array();
  for (const auto& sn : r.snapshots) {
    j["snapshots"].push_back({{"rank", sn.rank},
                              {"count", sn.count},
                              {"moved", sn.moved},
                              {"first", frames_json(sn.first)},
                              {"last", frames_json(sn.last)},
                              {"first_at", utf8_clean(sn.first_ev.ref())},
                              {"last_at", utf8_clean(sn.last_ev.ref())}});
  }
  j["fr_dumps"] = ojson::array();
  for (const auto& d : r.fr)
    j["fr_dumps"].push_back(
        {{"file", utf8_clean(d.file)},
         {"rank", d.rank >= 0 ? ojson(d.rank) : ojson(nullptr)},
         {"format", d.format},
         {"version", utf8_clean(d.version)},
         {"entries", d.entries.size()},
         {"error", d.error.empty() ? ojson(nullptr) : ojson(utf8_clean(d.error))}});
  j["stack_dumps"] = ojson::array();
  for (const auto& d : r.dumps)
    j["stack_dumps"].push_back({{"file", utf8_clean(d.file)},
                                {"line", d.line},
                                {"source", d.source},
                                {"pid", d.pid >= 0 ? ojson(d.pid) : ojson(nullptr)},
                                {"rank", d.rank >= 0 ? ojson(d.rank) : ojson(nullptr)},
                                {"rank_from", utf8_clean(d.rank_from)},
                                {"threads", d.threads.size()}});
  j["ras"] = ojson::array();
  for (const auto& x : r.ras)
    j["ras"].push_back({{"rank", x.rank},
                        {"ops", x.ops},
                        {"majority_ops", x.majority_ops},
                        {"op", utf8_clean(x.op)},
                        {"pid", x.pid},
                        {"node", utf8_clean(x.node)}});
  j["files"] = r.files.size();
  j["lines_read"] = r.lines_read;
  return j;
}

core::Header header(const HangReport& r) {
  core::Header h;
  h.verdict = r.hang ? core::Verdict::stuck : core::Verdict::unknown;
  if (!r.culprits.empty()) {
    std::vector<std::string> names;
    for (int c : r.culprits) names.push_back(who(r, c));
    std::string where =
        r.culprit_frames.empty() ? "" : "; it is in " + r.culprit_frames.front().str();
    std::string what = r.collective
                           ? fmt::format(" never entered {}", collective_line(*r.collective))
                           : " did not arrive where the others wait";
    h.cause = fmt::format("{}{}{}", fmt::join(names, ", "), what, where);
    core::Finding x;
    x.id = "hang_culprit";
    x.severity = core::Severity::critical;
    x.role = core::Role::root_cause;
    x.summary = fmt::format("Hung: {} ({} confidence)", fmt::join(names, ", "), r.confidence);
    std::vector<std::string> kinds;
    for (const auto& s : r.suspects)
      if (std::find(r.culprits.begin(), r.culprits.end(), s.rank) != r.culprits.end()) {
        kinds.push_back(fmt::format("rank {}: {}", s.rank, fmt::join(s.evidence_kinds, ", ")));
        for (const auto& e : s.evidence)
          if (x.evidence.size() < 8) x.evidence.push_back(e);
      }
    x.detail = fmt::format("evidence: {}", fmt::join(kinds, "; "));
    if (!r.culprit_frames.empty()) {
      x.detail += ". Its main thread: " + frames_line(r.culprit_frames, 6);
      x.evidence.push_back({r.culprit_stack_file, 0, "", "stack dump of the hung rank"});
    }
    x.fix =
        "Look at what the hung rank does in its stack (a data loader, a checkpoint write, a branch "
        "the others did not take); "
        "its dump and the ranks' logs are in the evidence";
    h.findings.push_back(std::move(x));
  } else if (r.hang) {
    h.cause = r.undecided.empty() ? "a hang, and nothing says which rank"
                                  : "a hang; which rank is not decided: " + r.undecided.front();
  } else {
    h.cause = "no hang artifact in the inputs";
  }
  for (const auto& u : r.undecided) {
    core::Finding x;
    x.id = "hang_undecided";
    x.severity = core::Severity::warning;
    x.role = r.culprits.empty() ? core::Role::root_cause : core::Role::consequence;
    x.summary = "Cannot decide: " + u;
    x.fix =
        "Collect py-spy dumps (py-spy dump --pid) of every rank, keep every rank's Flight Recorder "
        "dump (TORCH_FR_BUFFER_SIZE, TORCH_FR_DUMP_ON_TIMEOUT) and the full console";
    h.findings.push_back(std::move(x));
  }
  if (r.collective) {
    core::Finding x;
    x.id = "hang_collective";
    x.severity = core::Severity::info;
    x.role = core::Role::consequence;
    x.summary = "Others wait in " + collective_line(*r.collective);
    if (!r.collective->call_site.empty())
      x.detail = "called from " + frames_line(r.collective->frames, 4);
    if (!r.collective->waiting.empty())
      x.detail += (x.detail.empty() ? "" : "; ") + std::string("waiting: rank ") +
                  rank_list_of(r.collective->waiting);
    x.evidence.push_back(r.collective->ev);
    h.findings.push_back(std::move(x));
  }
  if (!r.without_dump.empty()) {
    core::Finding x;
    x.id = "hang_missing_dump";
    x.severity = core::Severity::info;
    x.role = core::Role::consequence;
    x.summary = "No Flight Recorder dump from rank " + rank_list_of(r.without_dump);
    x.detail =
        "Every live rank dumps when one signals; a rank without a dump was killed, stuck holding "
        "the GIL, or wrote elsewhere";
    h.findings.push_back(std::move(x));
  }
  for (const auto& n : r.not_cause) h.findings.push_back(n);
  if (!r.ambiguities.empty()) {
    core::Finding x;
    x.id = "hang_rank_mapping";
    x.severity = core::Severity::info;
    x.role = core::Role::collateral;
    x.summary =
        fmt::format("{} artifact(s) not mapped to a rank with certainty", r.ambiguities.size());
    for (size_t k = 0; k < r.ambiguities.size() && k < 6; ++k)
      x.evidence.push_back({"", 0, "", r.ambiguities[k]});
    h.findings.push_back(std::move(x));
  }
  if (!r.problems.empty()) {
    h.findings.push_back(core::file_problems_finding(r.problems, "reading the inputs", [](const auto& p) {
      return core::Evidence{p.first, 0, "", p.second};
    }));
  }
  core::sort_findings(h.findings);
  for (const auto& f : r.files) h.inputs.push_back({f, "hang", "hang artifacts", true, {}});
  // Its nodes (the fleet view): the hosts the ranks were mapped to.
  std::set<std::string> nodes;
  for (const auto& [rank, id] : r.ranks)
    if (!id.host.empty()) nodes.insert(id.host);
  h.nodes.assign(nodes.begin(), nodes.end());
  return h;
}

std::unique_ptr<core::Body> make_body(const HangReport& r) {
  return std::make_unique<HangBody>(r);
}

}  // namespace alog::hangs
