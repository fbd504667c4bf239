// fold(): the state of files scanned one by one, each alone, combined as if they had been scanned
// in turn into one state. Each rule mirrors what scan.cpp does to a shared state: sums for
// counters, first-wins for names and the first lines of things, last-wins (newest stamp, ties to
// the later line) for the newest lines. Two things a file reads from the files before it are
// kept apart when it is scanned alone and resolved here: the rank of an actor named by an earlier
// file (Hit::rank_pid) and whether a later phase was seen before `Added N samples to controller`
// (ScanState::if_later).
#include <fmt/format.h>

#include <set>
#include <utility>

#include "internal.hpp"

namespace alog::ray::detail {

namespace {

template <typename T>
void keep_min(std::optional<T>& a, const std::optional<T>& b) {
  if (b && (!a || *b < *a)) a = b;
}

template <typename T>
void keep_max(std::optional<T>& a, const std::optional<T>& b) {
  if (b && (!a || *b > *a)) a = b;
}

// The "last" of a sequence where an entry without a time always replaces the current one and
// one with a time only when not older than the newest time so far: `next`'s last entry when it
// survives `into`'s newest time, else its last entry without a time, else `into`'s.
template <typename V>
void fold_last(V& last, std::optional<int64_t>& last_t, bool& last_timed,
               std::optional<V>& last_untimed, const V& n_last, const std::optional<int64_t>& n_t,
               bool n_timed, const std::optional<V>& n_untimed) {
  if (!n_timed || !last_t || (n_t && *n_t >= *last_t)) {
    last = n_last;
    last_timed = n_timed;
  } else if (n_untimed) {
    last = *n_untimed;
    last_timed = false;
  }
  keep_max(last_t, n_t);
  if (n_untimed) last_untimed = n_untimed;
}

void fold_phase(PhaseAcc& p, PhaseAcc&& n) {
  if (!n.any) return;
  if (!p.any) {
    p = std::move(n);
    return;
  }
  p.count += n.count;
  if (n.start_t && (!p.start_t || *n.start_t < *p.start_t)) {
    p.first = std::move(n.first);
    p.start_t = n.start_t;
    p.start_exact = n.start_exact;
  }
  fold_last(p.last, p.last_t, p.last_timed, p.last_untimed, n.last, n.last_t, n.last_timed,
            n.last_untimed);
  keep_max(p.done_t, n.done_t);
  keep_max(p.all_done_t, n.all_done_t);
  for (auto& [key, bar] : n.bars) p.bars[key] = std::move(bar);
}

void fold_actor(ActorAcc& a, const ActorAcc& n) {
  if (n.a.pid >= 0) a.a.pid = n.a.pid;
  if (a.a.name.empty()) a.a.name = n.a.name;
  if (a.a.ip.empty()) a.a.ip = n.a.ip;
  if (a.a.rank < 0) a.a.rank = n.a.rank;
  a.a.driver_lines += n.a.driver_lines;
  a.a.file_lines += n.a.file_lines;
  keep_max(a.last_t, n.last_t);
}

}  // namespace

void fold(ScanState& st, ScanState&& n) {
  const size_t offset = st.files.size();
  for (auto& f : n.files) st.files.push_back(std::move(f));

  // Read before this file's own lines are folded in: what the earlier files had told.
  bool later_seen = false;
  for (int q = 2; q <= 7; ++q) later_seen = later_seen || st.phases[q].any;
  if (n.added_early && later_seen) {
    // Had the files been scanned in turn, every `Added N samples` line here was phase 7.
    n.if_later[1].bars = std::move(n.phases[7].bars);
    n.phases[1] = std::move(n.if_later[0]);
    n.phases[7] = std::move(n.if_later[1]);
  }

  for (auto& h : n.hits) {
    h.file += offset;
    if (h.rank_pid >= 0) {
      auto it = st.actors.find(h.rank_pid);
      if (it != st.actors.end() && it->second.a.rank >= 0) h.rank = it->second.a.rank;
    }
    st.hits.push_back(std::move(h));
  }
  for (int p = 1; p <= 7; ++p) fold_phase(st.phases[p], std::move(n.phases[p]));
  for (auto& [pid, acc] : n.actors) {
    auto it = st.actors.find(pid);
    if (it == st.actors.end())
      st.actors.emplace(pid, std::move(acc));
    else
      fold_actor(it->second, acc);
  }
  for (auto& w : n.workers) {
    w.file += offset;
    st.workers.push_back(std::move(w));
  }

  keep_min(st.first_t, n.first_t);
  if (n.activity_t && (!st.activity_t || *n.activity_t >= *st.activity_t)) {
    st.activity_t = n.activity_t;
    st.activity_ev = std::move(n.activity_ev);
  }
  if (n.system_t && (!st.system_t || *n.system_t >= *st.system_t)) {
    st.system_t = n.system_t;
    st.system_source = std::move(n.system_source);
    st.system_ev = std::move(n.system_ev);
  }
  if (n.finished) {
    st.finished = true;
    st.finished_ev = std::move(n.finished_ev);
  }
  st.bar_complete = st.bar_complete || n.bar_complete;
  st.benign += n.benign;
  if (!st.benign_first) st.benign_first = std::move(n.benign_first);
  if (n.world_size > st.world_size) st.world_size = n.world_size;
  st.driver_lines += n.driver_lines;
  if (n.training) {
    if (!st.training) {
      st.training = std::move(n.training);
      st.training_t = n.training_t;
      st.training_timed = n.training_timed;
      st.training_untimed = std::move(n.training_untimed);
    } else {
      fold_last(*st.training, st.training_t, st.training_timed, st.training_untimed, *n.training,
                n.training_t, n.training_timed, n.training_untimed);
    }
  }
  for (auto& p : n.problems) st.problems.push_back(std::move(p));
}

void compact_hits(std::vector<Hit>& hits) {
  // What decide() reads of a group's hits: the sum of their counts, the earliest time (and the
  // earliest watchdog line's fields), and the first of each kind of line as evidence, at most 8
  // (kMaxEvidence) lines per group. A hit that differs from 8 earlier ones in nothing but its
  // line, time and count, and is not earlier than them, changes none of that: it only counts.
  constexpr size_t kKeep = 8;
  struct Seen {
    std::set<uint64_t> lines;
    std::optional<int64_t> min_t;
    size_t last = 0;
  };
  std::map<std::string, Seen> seen;
  std::vector<Hit> out;
  out.reserve(hits.size());
  for (auto& h : hits) {
    // An actor death without a pid is a finding of its own per line (group_key).
    if (h.kind == "actor_died" && h.pid < 0) {
      out.push_back(std::move(h));
      continue;
    }
    std::string key = fmt::format(
        "{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}"
        "\x1f{}\x1f{}",
        h.kind, h.severity, h.actor, h.pid, h.ip, h.rank, h.rank_pid, h.file, h.in_worker_file,
        h.driver_own, h.detail, h.frame, h.fix_key, h.watchdog, h.seq, h.op, h.timeout_ms);
    Seen& s = seen[key];
    if (s.lines.size() >= kKeep && (!h.t || (s.min_t && *h.t >= *s.min_t))) {
      out[s.last].count += h.count;
      continue;
    }
    s.lines.insert(h.ev.line);
    if (h.t && (!s.min_t || *h.t < *s.min_t)) s.min_t = h.t;
    s.last = out.size();
    out.push_back(std::move(h));
  }
  hits = std::move(out);
}

void rename_file(ScanState& st, const std::string& display) {
  auto ev = [&](Evidence& e) {
    if (!e.file.empty()) e.file = display;
  };
  auto progress = [&](Progress& p) { ev(p.where); };
  for (auto& f : st.files) f.display = display;
  auto phase = [&](PhaseAcc& p) {
    ev(p.first);
    ev(p.last);
    if (p.last_untimed) ev(*p.last_untimed);
    for (auto& [key, bar] : p.bars) progress(bar.first);
  };
  for (auto& p : st.phases) phase(p);
  for (auto& p : st.if_later) phase(p);
  for (auto& h : st.hits) ev(h.ev);
  for (auto& w : st.workers) {
    ev(w.last);
    ev(w.watchdog_ev);
  }
  if (!st.system_source.empty()) st.system_source = display;
  ev(st.activity_ev);
  ev(st.system_ev);
  ev(st.finished_ev);
  if (st.benign_first) ev(*st.benign_first);
  if (st.training) progress(*st.training);
  if (st.training_untimed) progress(*st.training_untimed);
  for (auto& p : st.problems) p.file = display;
}

}  // namespace alog::ray::detail
