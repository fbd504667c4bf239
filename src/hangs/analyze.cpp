// The decision (docs/HANGS.md): every input read into facts (lines.cpp, fr.cpp), every artifact
// mapped to a global rank, then the suspects named by each kind of evidence, compared, and the
// culprit(s) kept with a confidence, or what cannot be decided said as such.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "analyze_logs/core/discover.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/util.hpp"
#include "internal.hpp"

namespace alog::hangs {

namespace fs = std::filesystem;
using detail::Facts;

namespace {

constexpr size_t kMaxFiles = 100000;

std::string rank_list(const std::vector<int>& v) {
  // "0-2, 4-7"
  std::vector<int> s(v);
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j + 1 < s.size() && s[j + 1] == s[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += j == i       ? fmt::format("{}", s[i])
           : j == i + 1 ? fmt::format("{}, {}", s[i], s[j])
                        : fmt::format("{}-{}", s[i], s[j]);
    i = j + 1;
  }
  return out;
}

bool is_ip(const std::string& h) {
  return !h.empty() && h.find_first_not_of("0123456789.") == std::string::npos;
}

bool collective_frame(const Frame& f) {
  static const std::set<std::string, std::less<>> ops{"all_reduce",
                                                      "all_gather",
                                                      "all_gather_into_tensor",
                                                      "reduce_scatter",
                                                      "reduce_scatter_tensor",
                                                      "broadcast",
                                                      "barrier",
                                                      "monitored_barrier",
                                                      "all_to_all",
                                                      "all_to_all_single",
                                                      "reduce",
                                                      "gather",
                                                      "scatter",
                                                      "send",
                                                      "recv",
                                                      "wait",
                                                      "all_gather_object",
                                                      "broadcast_object_list"};
  if (f.file.find("distributed_c10d") != std::string::npos) return true;
  if (f.file.find("torch/distributed") != std::string::npos && ops.count(f.func)) return true;
  return false;
}

std::string stack_key(const std::vector<Frame>& fr) {
  std::string k;
  for (const auto& f : fr) {
    k += f.str();
    k += '\n';
  }
  return k;
}

void walk(const fs::path& in, std::vector<std::pair<fs::path, std::string>>& files, HangReport& r) {
  std::error_code ec;
  if (!fs::is_directory(in, ec)) {
    files.emplace_back(in, in.generic_string());
    return;
  }
  fs::recursive_directory_iterator it(in, fs::directory_options::skip_permission_denied, ec), end;
  std::vector<std::pair<fs::path, std::string>> found;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name.starts_with(".") || name.starts_with("analysis_") || name.starts_with("comparison_"))
        it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (found.size() >= kMaxFiles) {
      r.problems.emplace_back(in.generic_string(),
                              fmt::format("more than {} files: the rest not read", kMaxFiles));
      break;
    }
    found.emplace_back(it->path(), it->path().generic_string());
  }
  if (ec) r.problems.emplace_back(in.generic_string(), "listing stopped: " + ec.message());
  std::sort(found.begin(), found.end());
  for (auto& f : found) files.push_back(std::move(f));
}

struct Decider {
  HangReport& r;
  Facts& f;
  std::map<int, Suspect> suspects;
  std::map<std::string, std::set<int>> named;  // evidence kind -> ranks it names

  void suspect(int rank, const std::string& kind, const core::Evidence& ev) {
    if (rank < 0) return;
    auto& s = suspects[rank];
    s.rank = rank;
    if (std::find(s.evidence_kinds.begin(), s.evidence_kinds.end(), kind) == s.evidence_kinds.end())
      s.evidence_kinds.push_back(kind);
    if (s.evidence.size() < 6) s.evidence.push_back(ev);
    named[kind].insert(rank);
  }

  void identities() {
    int max_nranks = -1;
    for (const auto& id : f.ids) max_nranks = std::max(max_nranks, id.nranks);
    std::unordered_map<int64_t, std::set<int>> pid_ranks;
    for (const auto& id : f.ids) {
      if (id.source == "NCCL init line" && id.nranks != max_nranks)
        continue;  // a sub-communicator's rank
      if (id.rank < 0) continue;
      auto& who = r.ranks[id.rank];
      std::string src = fmt::format("{} ({}{})", id.source, id.host.empty() ? "" : id.host + ", ",
                                    id.pid >= 0 ? fmt::format("pid {}", id.pid) : "");
      // At most 8 kept per rank: a log full of distinct pids for one rank stays linear.
      if (who.sources.size() < 8 &&
          std::find(who.sources.begin(), who.sources.end(), src) == who.sources.end())
        who.sources.push_back(src);
      if (id.pid >= 0) {
        if (who.pid >= 0 && who.pid != id.pid)
          r.ambiguities.push_back(
              fmt::format("rank {}: pid {} and pid {} both given (a restart?); kept pid {}",
                          id.rank, who.pid, id.pid, who.pid));
        else
          who.pid = id.pid;
        pid_ranks[id.pid].insert(id.rank);
      }
      // A host name over an IP (RAS gives node IPs, NCCL and torchrun give names).
      if (!id.host.empty() && (who.host.empty() || (is_ip(who.host) && !is_ip(id.host))))
        who.host = id.host;
    }
    for (const auto& t : f.table) {
      if (t.rank < 0) continue;
      auto& who = r.ranks[t.rank];
      if (who.host.empty() || is_ip(who.host)) who.host = t.host;
      if (t.pid >= 0) {
        if (who.pid >= 0 && who.pid != t.pid)
          r.ambiguities.push_back(fmt::format(
              "rank {}: pid {} (torchrun table) differs from pid {}", t.rank, t.pid, who.pid));
        else
          who.pid = t.pid;
        pid_ranks[t.pid].insert(t.rank);
      }
      std::string src = fmt::format("torchrun table ({}, pid {})", t.host, t.pid);
      // At most 8 kept per rank: a log full of distinct pids for one rank stays linear.
      if (who.sources.size() < 8 &&
          std::find(who.sources.begin(), who.sources.end(), src) == who.sources.end())
        who.sources.push_back(src);
    }
    // Dumps without a rank: by pid. A pid claimed by two ranks (two nodes reuse pids) is said, not
    // guessed.
    for (auto& d : f.dumps) {
      if (d.pid < 0) continue;
      auto it = pid_ranks.find(d.pid);
      if (it == pid_ranks.end()) {
        if (d.rank < 0)
          r.ambiguities.push_back(
              fmt::format("{}: {} dump of pid {} maps to no rank (no log names that pid); left out",
                          d.file, d.source, d.pid));
        continue;
      }
      if (it->second.size() > 1) {
        r.ambiguities.push_back(
            fmt::format("{}: pid {} belongs to ranks {} (same pid on several hosts){}", d.file,
                        d.pid, rank_list({it->second.begin(), it->second.end()}),
                        d.rank >= 0 ? fmt::format("; kept rank {} from the {}", d.rank, d.rank_from)
                                    : "; left out"));
        continue;
      }
      int pr = *it->second.begin();
      if (d.rank >= 0 && d.rank != pr) {
        r.ambiguities.push_back(
            fmt::format("{}: the {} says rank {}, pid {} is rank {}; kept rank {} (pid)", d.file,
                        d.rank_from, d.rank, d.pid, pr, pr));
      }
      if (d.rank != pr) {
        d.rank = pr;
        d.rank_from = fmt::format("pid {}", d.pid);
      }
    }
    for (auto& d : f.dumps)
      if (d.rank >= 0 && d.pid >= 0 && r.ranks[d.rank].pid < 0) r.ranks[d.rank].pid = d.pid;
  }

  int world() {
    int w = -1;
    for (const auto& id : f.ids) w = std::max(w, id.nranks);
    for (const auto& d : r.fr)
      for (const auto& g : d.groups) w = std::max(w, static_cast<int>(g.ranks.size()));
    for (const auto& [rank, who] : r.ranks) w = std::max(w, rank + 1);
    for (const auto& l : f.lines) w = std::max(w, std::max(l.rank, l.other) + 1);
    for (const auto& d : f.dumps) w = std::max(w, d.rank + 1);
    for (const auto& d : r.fr) w = std::max(w, d.rank + 1);
    return w;
  }

  void sequence_numbers() {
    // The stuck collective: the SeqNum most timeout lines report, per process group.
    std::map<std::pair<std::string, int64_t>, std::vector<const WatchLine*>> by;
    for (const auto& l : f.lines)
      if (l.kind == WatchLine::Kind::timeout || (l.kind == WatchLine::Kind::status && l.seq >= 0))
        by[{l.pg, l.seq}].push_back(&l);
    const std::vector<const WatchLine*>* best = nullptr;
    for (const auto& [k, v] : by)
      if (!best || v.size() > best->size()) best = &v;
    if (best) {
      Collective c;
      for (const auto* l : *best) {
        if (c.op.empty() && !l->op.empty()) {
          c.op = l->op;
          c.timeout_ms = l->timeout_ms;
          if (l->numel_in >= 0)
            c.sizes = fmt::format("NumelIn={} NumelOut={}", l->numel_in, l->numel_out);
          c.ev = l->ev;
        }
        if (c.pg.empty()) c.pg = l->pg;
        c.seq = l->seq;
        if (c.ev.file.empty()) c.ev = l->ev;
        if (l->rank >= 0) c.waiting.push_back(l->rank);
      }
      // One rank's "Stack trace of the failed collective" (every waiting rank prints the same).
      const WatchLine* first_stack = nullptr;
      for (const auto& l : f.lines)
        if (l.kind == WatchLine::Kind::stack) {
          if (!first_stack) first_stack = &l;
          if (l.rank == first_stack->rank && l.ev.file == first_stack->ev.file &&
              c.frames.size() < 12)
            c.frames.push_back(l.frame);
          if (l.rank != first_stack->rank || l.ev.file != first_stack->ev.file) break;
        }
      if (!c.frames.empty()) c.call_site = c.frames.front().str();
      r.collective = std::move(c);
      r.nccl = true;
    }
    // Ranks whose own lines say they never enqueued it.
    if (!r.collective) return;
    int64_t S = r.collective->seq;
    std::map<int, std::pair<int64_t, const WatchLine*>> enq;
    for (const auto& l : f.lines) {
      if (l.rank < 0 || l.enqueued < 0) continue;
      if (!l.pg.empty() && !r.collective->pg.empty() && l.pg != r.collective->pg) continue;
      auto& e = enq[l.rank];
      if (!e.second || l.enqueued > e.first) e = {l.enqueued, &l};
    }
    for (const auto& [rank, e] : enq)
      if (e.first < S)
        suspect(rank, "sequence numbers", e.second->ev);
      else
        r.collective->waiting.push_back(rank);
    seq_ranks_ = enq.size();
  }

  // A pending send or recv (`nccl:send 0->1`, `nccl:recv 1<-0`, group ranks) read from an entry.
  struct P2p {
    bool send = false;
    int self = -1, peer = -1;  // global ranks
  };
  static std::optional<P2p> p2p_of(const FrEntry& x, const FrDump& d) {
    std::string_view op = x.op;
    size_t colon = op.find(':');
    if (colon != std::string_view::npos) op.remove_prefix(colon + 1);
    P2p p;
    std::string_view arrow;
    if (op.starts_with("send ")) p.send = true, arrow = "->";
    else if (op.starts_with("recv ")) arrow = "<-";
    else return std::nullopt;
    op.remove_prefix(5);
    size_t a = op.find(arrow);
    if (a == std::string_view::npos) return std::nullopt;
    auto self = parse_int(op.substr(0, a)), peer = parse_int(op.substr(a + 2));
    if (!self || !peer || *self > 1'000'000 || *peer > 1'000'000) return std::nullopt;
    // Group ranks to global ranks through the PG's rank list when the dump gives one.
    auto global = [&](int64_t g) -> int {
      for (const auto& pg : d.groups)
        if (pg.name == x.pg && !pg.ranks.empty())
          return g < static_cast<int64_t>(pg.ranks.size()) ? pg.ranks[static_cast<size_t>(g)] : -1;
      return static_cast<int>(g);
    };
    p.self = global(*self);
    p.peer = global(*peer);
    if (p.self < 0 || p.peer < 0) return std::nullopt;
    return p;
  }

  // Send/recv hangs: a rank waits in a send (or recv) that its peer never posted. For every
  // pending point-to-point entry, the peer's dump must hold the matching pending op; a peer whose
  // dump has none never posted it (a peer without a dump is the missing-dump evidence).
  void point_to_point(const std::map<int, const FrDump*>& dump_of) {
    std::map<int, std::vector<std::pair<P2p, const FrEntry*>>> pending;
    for (const auto& [rank, d] : dump_of)
      for (const auto& x : d->entries) {
        if (!x.is_p2p || x.state == "completed") continue;
        if (auto p = p2p_of(x, *d)) pending[rank].emplace_back(*p, &x);
      }
    for (const auto& [rank, ops] : pending)
      for (const auto& [p, x] : ops) {
        auto peer_dump = dump_of.find(p.peer);
        if (peer_dump == dump_of.end() || p.peer == rank) continue;
        bool matched = false;
        if (auto it = pending.find(p.peer); it != pending.end())
          for (const auto& [q, y] : it->second) matched |= q.send != p.send && q.peer == rank;
        if (matched) continue;
        const std::string what = p.send ? "recv" : "send";
        suspect(p.peer, "flight recorder",
                {peer_dump->second->file, 0, "",
                 fmt::format("rank {} waits in {} (p2p_seq_id {}); rank {}'s dump has no pending {} "
                             "{} rank {}",
                             rank, x->op, x->p2p_seq, p.peer, what, p.send ? "from" : "to", rank)});
        if (!r.collective) {
          r.collective = Collective{};
          r.collective->op = x->op;
          r.collective->seq = x->p2p_seq;
          r.collective->pg = x->pg.empty() ? "" : fmt::format("{}({})", x->pg, x->pg_desc);
          r.collective->sizes = fmt::format("in {} out {}{}", x->input_sizes, x->output_sizes,
                                            x->dtypes.empty() ? "" : " " + x->dtypes);
          r.collective->timeout_ms = x->timeout_ms;
          r.collective->frames = x->frames;
          if (!x->frames.empty()) r.collective->call_site = x->frames.front().str();
          r.collective->ev = {dump_of.at(rank)->file, 0, "",
                              fmt::format("p2p_seq_id {} {} state {}", x->p2p_seq, x->op, x->state)};
        }
        if (r.collective && r.collective->op == x->op) r.collective->waiting.push_back(rank);
      }
  }

  void flight_recorder() {
    std::vector<const FrDump*> ok;
    std::set<int> have;
    for (const auto& d : r.fr) {
      if (!d.error.empty()) continue;
      ok.push_back(&d);
      if (d.rank >= 0) have.insert(d.rank);
    }
    if (ok.empty()) return;
    r.nccl = true;
    // The group to judge: the collective's PG when the watchdog named it, else the default PG,
    // else the one with most ranks.
    std::string pg;
    std::vector<int> members;
    for (const auto* d : ok)
      for (const auto& g : d->groups) {
        bool want =
            r.collective && !r.collective->pg.empty() && r.collective->pg.starts_with(g.name + "(");
        if (want || (pg.empty() && (g.desc == "default_pg" || g.name == "0")) ||
            g.ranks.size() > members.size()) {
          if (!pg.empty() && !want && g.ranks.size() <= members.size()) continue;
          pg = g.name;
          members = g.ranks;
          if (want) break;
        }
      }
    // Per rank: last enqueued seq in that PG.
    std::map<int, int64_t> last;
    std::map<int, const FrDump*> dump_of;
    int64_t S = -1;
    for (const auto* d : ok) {
      if (d->rank < 0) continue;
      int64_t e = -1;
      for (const auto& g : d->groups)
        if (g.name == pg && g.last_enqueued >= 0) e = g.last_enqueued;
      for (const auto& x : d->entries)
        if ((x.pg == pg || pg.empty()) && !x.is_p2p) e = std::max(e, x.seq);
      last[d->rank] = e;
      dump_of[d->rank] = d;
      S = std::max(S, e);
    }
    // The stuck entry (on a rank that enqueued S): op, sizes, frames of the waiters.
    const FrEntry* stuck = nullptr;
    std::string stuck_file;
    for (const auto& [rank, d] : dump_of)
      for (const auto& x : d->entries)
        if ((x.pg == pg || pg.empty()) && !x.is_p2p && x.seq == S && x.state != "completed") {
          stuck = &x;
          stuck_file = d->file;
        }
    if (stuck) {
      if (!r.collective) {
        r.collective = Collective{};
        r.collective->seq = S;
        r.collective->ev = {
            stuck_file, 0, "",
            fmt::format("collective_seq_id {} {} state {}", S, stuck->op, stuck->state)};
      }
      auto& c = *r.collective;
      if (c.seq == S || c.seq < 0) {
        if (c.op.empty()) c.op = stuck->op;
        if (c.pg.empty()) c.pg = fmt::format("{}({})", stuck->pg, stuck->pg_desc);
        c.sizes = fmt::format("in {} out {}{}", stuck->input_sizes, stuck->output_sizes,
                              stuck->dtypes.empty() ? "" : " " + stuck->dtypes);
        if (c.timeout_ms < 0) c.timeout_ms = stuck->timeout_ms;
        if (c.frames.empty()) c.frames = stuck->frames;
        if (c.call_site.empty() && !c.frames.empty()) c.call_site = c.frames.front().str();
      }
    }
    for (const auto& [rank, e] : last) {
      if (e < S) {
        suspect(rank, "flight recorder",
                {dump_of[rank]->file, 0, "",
                 fmt::format("last enqueued collective_seq_id {} < {} (the others')", e, S)});
      } else if (r.collective && r.collective->seq == S) {
        r.collective->waiting.push_back(rank);
      }
      // An entry at S that differs from the stuck one: a mismatch.
      if (stuck && e >= S)
        for (const auto& x : dump_of[rank]->entries)
          if (x.pg == stuck->pg && x.seq == S && !x.is_p2p &&
              (x.op != stuck->op || x.input_sizes != stuck->input_sizes))
            suspect(rank, "flight recorder",
                    {dump_of[rank]->file, 0, "",
                     fmt::format("entry {} differs: {} {} vs {} {}", S, x.op, x.input_sizes,
                                 stuck->op, stuck->input_sizes)});
    }
    point_to_point(dump_of);
    // Missing dumps: every live rank dumps when one rank signals, so no dump is itself evidence.
    if (members.empty()) {
      int w = world();
      for (int k = 0; k < w; ++k) members.push_back(k);
    }
    for (int m : members)
      if (!have.count(m)) {
        r.without_dump.push_back(m);
        std::string unreadable;
        for (const auto& d : r.fr)
          if (d.rank == m && !d.error.empty()) unreadable = d.file;
        suspect(
            m, "missing dump",
            {unreadable, 0, "",
             unreadable.empty()
                 ? fmt::format("no Flight Recorder dump of rank {} among {} dumps", m, ok.size())
                 : fmt::format("Flight Recorder dump of rank {} unreadable (killed mid-write?)",
                               m)});
      }
  }

  void ras() {
    for (const auto& x : f.ras) {
      r.ras.push_back(x);
      if (x.majority_ops >= 0 && x.ops >= 0 && x.ops < x.majority_ops) suspect(x.rank, "ras", x.ev);
    }
  }

  void barrier() {
    for (const auto& l : f.lines)
      if (l.kind == WatchLine::Kind::barrier) {
        suspect(l.other, "barrier message", l.ev);
        if (!r.collective) {
          // gloo's monitored_barrier: no SeqNum, the error names the rank.
          Collective c;
          c.op = "monitored_barrier";
          c.timeout_ms = l.timeout_ms;
          c.ev = l.ev;
          r.collective = std::move(c);
        }
      }
  }

  void stacks() {
    // Last dump per rank (collectors append snapshots); unmapped dumps are grouped but name no
    // rank.
    std::map<int, const StackDump*> by_rank;
    // Per rank: its first dump, how many, and whether any differs from the one before it.
    struct Seen {
      const StackDump* first = nullptr;
      std::string key;  // the last dump's main-thread stack
      size_t count = 0;
      bool moved = false;
    };
    std::map<int, Seen> dumped;
    std::vector<const StackDump*> unmapped;
    for (const auto& d : f.dumps) {
      if (!d.main_thread()) continue;
      if (d.rank < 0) continue;
      by_rank[d.rank] = &d;
      Seen& s = dumped[d.rank];
      std::string key = stack_key(d.main_thread()->frames);
      if (!s.first) s.first = &d;
      else if (key != s.key) s.moved = true;
      s.key = std::move(key);
      ++s.count;
    }
    if (by_rank.empty()) return;
    // Repeated snapshots of one rank: did its main thread move between them?
    for (const auto& [rank, sv] : dumped) {
      if (sv.count < 2) continue;
      const StackDump* a = sv.first;
      const StackDump* b = by_rank[rank];
      Snapshots sn;
      sn.rank = rank;
      sn.count = sv.count;
      sn.first = a->main_thread()->frames;
      sn.last = b->main_thread()->frames;
      sn.moved = sv.moved;
      sn.first_ev = {a->file, a->line, "", a->header};
      sn.last_ev = {b->file, b->line, "", b->header};
      r.snapshots.push_back(std::move(sn));
    }
    std::vector<const StackDump*> use;
    for (const auto& [k, d] : by_rank) use.push_back(d);
    std::map<std::string, size_t> idx;
    for (const auto* d : use) {
      const Thread* t = d->main_thread();
      std::string key = stack_key(t->frames);
      auto it = idx.find(key);
      if (it == idx.end()) {
        it = idx.emplace(key, r.groups.size()).first;
        StackGroup g;
        g.frames = t->frames;
        for (const auto& fr : t->frames) g.in_collective |= collective_frame(fr);
        r.groups.push_back(std::move(g));
      }
      r.groups[it->second].ranks.push_back(d->rank);
      r.groups[it->second].files.push_back(d->file);
    }
    std::stable_sort(
        r.groups.begin(), r.groups.end(),
        [](const StackGroup& a, const StackGroup& b) { return a.ranks.size() > b.ranks.size(); });
    // Threads the same on every rank (pin-memory, tqdm monitors) are left out of the view.
    std::map<std::string, size_t> other;
    for (const auto* d : use) {
      std::set<std::string> seen;
      for (const auto& t : d->threads)
        if (!t.main && seen.insert(stack_key(t.frames)).second) ++other[stack_key(t.frames)];
    }
    for (const auto& [k, n] : other)
      if (n == use.size() && use.size() > 1) ++r.common_threads_omitted;
    int w = r.world_size;
    for (int k = 0; k < w; ++k)
      if (!by_rank.count(k)) r.without_stack.push_back(k);
    // The one stack that differs: outside a collective while the majority waits in one, or alone
    // against a majority of more than half.
    const StackGroup& major = r.groups.front();
    if (use.size() >= 3 && r.groups.size() > 1) {
      for (size_t g = 1; g < r.groups.size(); ++g) {
        const auto& x = r.groups[g];
        bool outlier = (major.in_collective && !x.in_collective) ||
                       (major.ranks.size() * 2 > use.size() && x.ranks.size() == 1);
        if (!outlier) continue;
        for (size_t k = 0; k < x.ranks.size(); ++k)
          suspect(
              x.ranks[k], "stack outlier",
              {x.files[k], by_rank[x.ranks[k]]->line, "",
               fmt::format("main thread in {}; {} of {} ranks in {}",
                           x.frames.empty() ? "?" : x.frames.front().str(), major.ranks.size(),
                           use.size(), major.frames.empty() ? "?" : major.frames.front().str())});
      }
    }
    if (r.collective && r.collective->frames.empty() && major.in_collective) {
      r.collective->frames.assign(
          major.frames.begin(), major.frames.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(
                                                           major.frames.size(), 6)));
      r.collective->call_site = major.frames.front().str();
      for (int x : major.ranks) r.collective->waiting.push_back(x);
    }
    stacks_by_rank_ = std::move(by_rank);
  }

  void decide() {
    static const std::vector<std::string> order{"sequence numbers", "flight recorder",
                                                "barrier message",  "ras",
                                                "stack outlier",    "missing dump"};
    static const std::set<std::string> strong{"sequence numbers", "flight recorder",
                                              "barrier message"};
    std::string first;
    for (const auto& k : order)
      if (named.count(k)) {
        first = k;
        break;
      }
    for (const auto& [rank, s] : suspects) r.suspects.push_back(s);
    if (first.empty()) {
      if (r.hang) {
        std::string why;
        if (r.collective && r.collective->seq >= 0 && r.world_size > 1 &&
            seq_ranks_ >= static_cast<size_t>(r.world_size))
          why = fmt::format(
              "every rank with a status line enqueued SeqNum {}: none left the schedule, so look "
              "at the network and NCCL (WARN lines, RAS) rather than a rank",
              r.collective->seq);
        else
          why =
              "no sequence numbers, Flight Recorder dumps, RAS counts, barrier message or "
              "differing stack name a rank";
        r.undecided.push_back(why);
      }
      return;
    }
    const std::set<int>& chosen = named[first];
    std::set<std::string> agree;
    std::vector<std::string> disagree;
    for (const auto& [k, ranks] : named) {
      if (k == first) continue;
      std::vector<int> in, out;
      for (int x : ranks) (chosen.count(x) ? in : out).push_back(x);
      if (!in.empty()) agree.insert(k);
      if (!out.empty())
        disagree.push_back(
            fmt::format("{} name{} rank {}", k, k.ends_with("s") ? "" : "s", rank_list(out)));
    }
    bool first_strong = strong.count(first) > 0;
    if (!first_strong && !disagree.empty() && agree.empty()) {
      r.undecided.push_back(
          fmt::format("the evidence conflicts and none of it is decisive: {} name{} rank {}, {}",
                      first, first.ends_with("s") ? "" : "s",
                      rank_list({chosen.begin(), chosen.end()}), fmt::join(disagree, ", ")));
      return;
    }
    r.culprits.assign(chosen.begin(), chosen.end());
    if (!disagree.empty())
      r.undecided.push_back(fmt::format(
          "the evidence does not all agree: {} name{} rank {}, but {}", first,
          first.ends_with("s") ? "" : "s", rank_list(r.culprits), fmt::join(disagree, ", ")));
    if (!disagree.empty())
      r.confidence = first_strong ? "medium" : "low";
    else if (!agree.empty())
      r.confidence = first_strong || agree.size() >= 2 ? "high" : "medium";
    else
      r.confidence = first_strong ? "medium" : "low";
    // Where the culprit is.
    for (int c : r.culprits) {
      auto it = stacks_by_rank_.find(c);
      if (it == stacks_by_rank_.end()) continue;
      const Thread* t = it->second->main_thread();
      r.culprit_frames = t->frames;
      r.culprit_stack_file = it->second->file;
      // Below where it parts from the majority (compared from the outermost frame).
      const StackGroup* major = nullptr;
      for (const auto& g : r.groups)
        if (std::find(g.ranks.begin(), g.ranks.end(), c) == g.ranks.end()) {
          major = &g;
          break;
        }
      size_t common = 0;
      if (major) {
        const auto& a = t->frames;
        const auto& b = major->frames;
        while (common < a.size() && common < b.size() &&
               a[a.size() - 1 - common].str() == b[b.size() - 1 - common].str())
          ++common;
      }
      // With no other stack to compare with, nothing is said to differ.
      if (major)
        r.culprit_differs.assign(t->frames.begin(),
                                 t->frames.end() - static_cast<std::ptrdiff_t>(common));
      break;
    }
    if (r.culprits.size() == 1 && r.culprit_frames.empty() && !r.dumps.empty())
      r.undecided.push_back(fmt::format(
          "where rank {} is: no stack dump of it (py-spy or faulthandler)", r.culprits.front()));
  }

  void not_the_cause() {
    std::set<int> culprit(r.culprits.begin(), r.culprits.end());
    // The first detector.
    int first = -1;
    core::Evidence fev;
    for (const auto& l : f.lines)
      if (l.kind == WatchLine::Kind::first_signal && l.rank >= 0) {
        first = l.rank;
        fev = l.ev;
        break;
      }
    if (first < 0)
      for (const auto& l : f.lines)
        if (l.kind == WatchLine::Kind::dump_signal && l.other >= 0 && l.other != l.rank) {
          first = l.other;
          fev = l.ev;
          break;
        }
    if (first >= 0 && !culprit.count(first)) {
      core::Finding x;
      x.id = "hang_first_reporter";
      x.severity = core::Severity::info;
      x.role = core::Role::consequence;
      x.summary = fmt::format(
          "Rank {} reported the timeout first: it waited, it is not the hung rank", first);
      x.detail =
          "The first detector signals the others to dump; it names who noticed, not who is missing";
      x.evidence.push_back(fev);
      r.not_cause.push_back(std::move(x));
    }
    for (const auto& t : f.table) {
      if (!t.root_cause || culprit.count(t.rank)) continue;
      core::Finding x;
      x.id = "hang_torchrun_root_cause";
      x.severity = core::Severity::info;
      x.role = core::Role::consequence;
      x.summary = fmt::format(
          "torchrun's \"Root Cause (first observed failure)\" is rank {} ({} exitcode {}): the "
          "first to report, not the hung rank",
          t.rank, t.host, t.exitcode);
      x.detail =
          "torchrun picks the failure with the smallest time stamp; a hung rank is usually still "
          "alive and gets SIGTERM";
      x.evidence.push_back(t.ev);
      r.not_cause.push_back(std::move(x));
    }
    size_t aborts = 0, timeouts = 0;
    std::vector<core::Evidence> ev, tev;
    std::set<int> reporters;
    for (const auto& l : f.lines) {
      if (l.kind == WatchLine::Kind::abort) {
        ++aborts;
        if (ev.size() < 3) ev.push_back(l.ev);
      }
      if (l.kind == WatchLine::Kind::timeout) {
        ++timeouts;
        if (l.rank >= 0) reporters.insert(l.rank);
        if (tev.size() < 2) tev.push_back(l.ev);
      }
    }
    if (timeouts) {
      core::Finding x;
      x.id = "hang_watchdog_timeouts";
      x.severity = core::Severity::info;
      x.role = core::Role::consequence;
      x.summary = fmt::format(
          "{} watchdog timeout line{}{}: the waiting ranks reporting the hang", timeouts,
          timeouts == 1 ? "" : "s",
          reporters.empty()
              ? ""
              : fmt::format(" from rank {}", rank_list({reporters.begin(), reporters.end()})));
      x.evidence = tev;
      r.not_cause.push_back(std::move(x));
    }
    if (aborts) {
      core::Finding x;
      x.id = "hang_aborts";
      x.severity = core::Severity::info;
      x.role = core::Role::collateral;
      x.summary = fmt::format(
          "{} abort / DistBackendError line{} after the timeout: the watchdog taking processes "
          "down, not a cause",
          aborts, aborts == 1 ? "" : "s");
      x.evidence = ev;
      r.not_cause.push_back(std::move(x));
    }
  }

  std::map<int, const StackDump*> stacks_by_rank_;
  size_t seq_ranks_ = 0;  // ranks whose own lines gave their last enqueued SeqNum
};

}  // namespace

bool is_hang_head(std::string_view head) {
  static const std::string_view marks[] = {
      "Watchdog caught collective operation timeout",
      "failure detected by watchdog at work",
      "last enqueued NCCL work",
      "Received a dump signal due to a collective timeout",
      "failed to pass monitoredBarrier",
      "torch.distributed.elastic.multiprocessing.errors.ChildFailedError",
      "has launched up to operation",
      "(most recent call first):",
      "Timeout (0:",
  };
  if (contains_any(head, marks)) return true;
  // py-spy: `Process <pid>: ` at a line start followed by `Thread <id> (`
  for (size_t k = head.find("Process "); k != std::string_view::npos;
       k = head.find("Process ", k + 1)) {
    if (k > 0 && head[k - 1] != '\n' && head[k - 1] != ' ') continue;
    if (head.find("\nThread ", k) != std::string_view::npos &&
        head.find("Python v", k) != std::string_view::npos)
      return true;
  }
  // error.json of a TorchElastic worker
  size_t s = head.find_first_not_of(" \t\r\n");
  if (s != std::string_view::npos && head.substr(s).starts_with("{\"message\"") &&
      head.find("extraInfo") != std::string_view::npos)
    return true;
  return false;
}

bool tail_has_hang_marker(const fs::path& file, size_t bytes) {
  // Only a regular file is opened: opening a named pipe would block until a writer comes (and
  // O_NONBLOCK covers one swapped in between the two calls).
  struct stat first {};
  if (::stat(file.c_str(), &first) != 0 || !S_ISREG(first.st_mode)) return false;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st {};
  std::string buf;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    auto size = static_cast<uint64_t>(st.st_size);
    uint64_t from = size > bytes ? size - bytes : 0;
    buf.resize(static_cast<size_t>(size - from));
    size_t got = 0;
    while (got < buf.size()) {
      ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(from + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    buf.resize(got);
  }
  ::close(fd);
  if (buf.empty()) return false;
  std::string_view t(buf);
  return is_hang_head(t) || t.find("Pyspy dump for PID") != std::string_view::npos;
}

bool has_hang_evidence(const HangReport& r) {
  if (!r.fr.empty() || !r.ras.empty()) return true;
  for (const auto& l : r.lines)
    if (l.kind != WatchLine::Kind::abort && l.kind != WatchLine::Kind::sigterm) return true;
  for (const auto& d : r.dumps)
    if (d.source == "py-spy" || d.header.starts_with("Timeout (")) return true;
  return false;
}

namespace detail {

FilePart read_file(const fs::path& path, const std::string& display) {
  FilePart p;
  p.path = path.string();
  p.display = display;
  std::string head;
  try {
    head = core::read_head(path, 4096);
  } catch (const input::InputError& e) {
    p.what = FilePart::kUnreadable;
    p.problem = e.what();
    return p;
  }
  if (head.empty()) return p;
  if (is_fr_head(head) || (static_cast<uint8_t>(head[0]) == 0x80 &&
                           path.filename().string().find("trace") != std::string::npos)) {
    p.what = FilePart::kFr;
    p.fr = read_fr_file(path, display);
    return p;
  }
  size_t s = head.find_first_not_of(" \t\r\n");
  if (s != std::string::npos && head.substr(s).starts_with("{\"message\"")) {
    p.what = FilePart::kFacts;
    scan_error_json(path.string(), display, p.facts);
    return p;
  }
  if (head.find('\0') != std::string::npos) return p;  // binary, not ours
  p.what = FilePart::kFacts;
  scan_text(path.string(), display, p.facts);
  return p;
}

std::vector<std::pair<fs::path, std::string>> walk_inputs(const std::vector<fs::path>& inputs,
                                                          std::vector<std::pair<std::string, std::string>>& problems) {
  HangReport r;
  std::vector<std::pair<fs::path, std::string>> files;
  for (const auto& in : inputs) walk(in, files, r);
  problems = std::move(r.problems);
  return files;
}

HangReport decide(std::vector<FilePart> parts, std::vector<std::pair<std::string, std::string>> walk_problems) {
  HangReport r;
  r.problems = std::move(walk_problems);
  Facts f;
  // The facts of every file in file order, as one scan over all of them would have gathered.
  for (auto& p : parts) {
    switch (p.what) {
      case FilePart::kNone: continue;
      case FilePart::kUnreadable: r.problems.emplace_back(p.display, std::move(p.problem)); continue;
      case FilePart::kFr:
        r.fr.push_back(std::move(p.fr));
        if (!r.fr.back().error.empty()) r.problems.emplace_back(p.display, r.fr.back().error);
        r.files.push_back(p.display);
        continue;
      case FilePart::kFacts: {
        Facts& g = p.facts;
        for (auto& x : g.dumps) f.dumps.push_back(std::move(x));
        for (auto& x : g.lines) f.lines.push_back(std::move(x));
        for (auto& x : g.table) f.table.push_back(std::move(x));
        for (auto& x : g.ras) f.ras.push_back(std::move(x));
        for (auto& x : g.ids) f.ids.push_back(std::move(x));
        for (auto& x : g.problems) f.problems.push_back(std::move(x));
        for (auto& x : g.ambiguities) f.ambiguities.push_back(std::move(x));
        f.lines_read += g.lines_read;
        r.files.push_back(p.display);
        continue;
      }
    }
  }
  for (auto& p : f.problems) r.problems.push_back(std::move(p));
  for (auto& a : f.ambiguities) r.ambiguities.push_back(std::move(a));
  r.lines_read = f.lines_read;

  Decider d{r, f, {}, {}, {}, 0};
  d.identities();
  r.world_size = d.world();
  r.hang = !f.dumps.empty() || !r.fr.empty() || !f.lines.empty() || !f.ras.empty();
  d.sequence_numbers();
  d.flight_recorder();
  d.ras();
  d.barrier();
  // Stacks need the world size and the dumps mapped.
  d.stacks();
  d.decide();
  d.not_the_cause();
  if (r.collective) {
    auto& w = r.collective->waiting;
    std::sort(w.begin(), w.end());
    w.erase(std::unique(w.begin(), w.end()), w.end());
    std::erase_if(w, [&](int x) {
      return std::find(r.culprits.begin(), r.culprits.end(), x) != r.culprits.end();
    });
  }
  std::sort(r.without_dump.begin(), r.without_dump.end());
  r.dumps = std::move(f.dumps);
  r.lines = std::move(f.lines);
  r.table = std::move(f.table);
  return r;
}

}  // namespace detail

// Every file read into its own facts (detail::read_file), then one decision over all of them in
// file order: the same two steps `analyze-logs merge` takes over the files of several partials.
HangReport analyze(const std::vector<fs::path>& inputs) {
  std::vector<std::pair<std::string, std::string>> problems;
  std::vector<detail::FilePart> parts;
  for (const auto& [path, display] : detail::walk_inputs(inputs, problems))
    parts.push_back(detail::read_file(path, display));
  return detail::decide(std::move(parts), std::move(problems));
}

std::string frames_line(const std::vector<Frame>& frames, size_t max) {
  std::string s;
  for (size_t k = 0; k < frames.size() && k < max; ++k) {
    if (k) s += " ← ";
    s += frames[k].str();
  }
  if (frames.size() > max) s += fmt::format(" ← … ({} more)", frames.size() - max);
  return s;
}

std::string rank_list_of(const std::vector<int>& v) {
  return rank_list(v);
}

}  // namespace alog::hangs
