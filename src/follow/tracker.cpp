// The component tracker of --follow (follow.hpp): progress, pace, stalls and the recent window.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analyze_logs/core/stats.hpp"
#include "analyze_logs/follow.hpp"
#include "analyze_logs/util.hpp"

namespace alog::follow {

namespace {

constexpr size_t kGaps = 64;                 // gaps kept per component for its pace
constexpr size_t kWindowCap = size_t{1} << 14;  // samples kept per metric in the window (the latest)

}  // namespace

std::string display_line(std::string_view line, size_t max) {
  std::string clean;
  strip_ansi(line.substr(0, std::min(line.size(), max * 4 + 64)), clean);  // util's: CSI, OSC, ESC x
  std::string out;
  out.reserve(std::min(clean.size(), max));
  for (char c : clean) {
    if (c == '\r' || c == '\n') continue;
    out += (static_cast<unsigned char>(c) < 0x20 && c != '\t') ? ' ' : c;
  }
  // Leading blanks say nothing; a line of only a progress bar's '\r' pieces keeps its last piece.
  size_t first = out.find_first_not_of(" \t");
  out.erase(0, first == std::string::npos ? out.size() : first);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  out = utf8_clean(out);
  if (out.size() > max) {
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "…";
  }
  return out;
}

double Component::expectation(const TrackerOptions& o) const {
  if (o.stall_after) return *o.stall_after;
  double pace = 0;
  if (gaps.size() >= 3) {
    std::vector<double> v(gaps.begin(), gaps.end());
    std::sort(v.begin(), v.end());
    pace = std::max(o.floor_s, o.pace_factor * percentile_sorted(v, 0.5));
  }
  // A phase known to take long (loading weights) is not cut short by a fast earlier pace.
  if (typical_s > 0) return std::max(pace, typical_s);
  return pace > 0 ? pace : o.default_s;
}

bool Component::can_stall() const { return !finished && (progress > 0 || typical_s > 0); }

std::string_view change_name(Change::Type t) {
  switch (t) {
    case Change::Type::new_component: return "new";
    case Change::Type::stalled: return "stalled";
    case Change::Type::resumed: return "resumed";
    case Change::Type::finished: return "finished";
    case Change::Type::job_ended: return "job_ended";
  }
  return "?";
}

void Tracker::apply(const Signal& s, std::string_view file, std::string_view line, double now, bool live) {
  if (s.type == Signal::Type::job_ended) {
    end_job(now, s.detail.empty() ? display_line(line) : s.detail);
    return;
  }
  if (s.type == Signal::Type::sample) {
    if (!std::isfinite(s.value) || s.value < 0) return;  // sentinels (-1.0) never enter a statistic
    auto& q = samples_[s.metric];
    q.emplace_back(now, s.value);
    if (q.size() > kWindowCap) q.pop_front();
    return;
  }
  auto [it, fresh] = components_.try_emplace(s.component);
  Component& c = it->second;
  if (fresh) {
    c.name = s.component;
    c.first_seen = now;
    c.last_progress = now;
    changes_.push_back({Change::Type::new_component, c.name, now, 0, s.detail});
  }
  // The phase it is in now: each progress says how long the next may take (0: nothing known);
  // before any progress, a line may say how long the first may take.
  if (s.type == Signal::Type::progress) c.typical_s = s.typical_s;
  else if (s.typical_s > 0 && c.progress == 0) c.typical_s = s.typical_s;
  // Raw (made readable only when shown): assigning reuses the strings' memory, line after line.
  if (c.file != file) c.file.assign(file);
  c.last_line.assign(line.substr(0, std::min<size_t>(line.size(), 4096)));
  c.last_line_at = now;
  switch (s.type) {
    case Signal::Type::progress: {
      // The pace: a duration the line measured itself, else (live only) the gap since the last.
      double gap = s.measured_s > 0 ? s.measured_s : live && c.progress > 0 ? now - c.last_progress : -1;
      if (gap >= 0) {
        c.gaps.push_back(gap);
        if (c.gaps.size() > kGaps) c.gaps.pop_front();
      }
      ++c.progress;
      c.last_progress = std::max(c.last_progress, now);
      if (!s.detail.empty()) c.last_detail = s.detail;
      if (c.stalled) {
        c.stalled = false;
        changes_.push_back({Change::Type::resumed, c.name, now, 0, c.last_detail});
      }
      break;
    }
    case Signal::Type::finished:
      if (!c.finished) {
        c.finished = true;
        if (!s.detail.empty()) c.last_detail = s.detail;
        c.last_progress = now;
        c.stalled = false;
        changes_.push_back({Change::Type::finished, c.name, now, 0, c.last_detail});
      }
      break;
    default: break;  // activity: the last line only
  }
}

void Tracker::check(double now) {
  if (ended_) return;
  for (auto& [name, c] : components_) {
    // Finished, or only ever logging (a frontend, a proxy) with no phase it is known to be in.
    if (!c.can_stall()) continue;
    double silent = now - c.last_progress;
    bool stalled = silent > c.expectation(o_);
    if (stalled && !c.stalled) changes_.push_back({Change::Type::stalled, name, now, silent, display_line(c.last_line)});
    if (!stalled && c.stalled) changes_.push_back({Change::Type::resumed, name, now, 0, c.last_detail});
    c.stalled = stalled;
  }
}

void Tracker::end_job(double now, std::string why) {
  if (ended_) return;
  ended_ = true;
  end_reason_ = std::move(why);
  for (auto& [name, c] : components_) c.stalled = false;
  changes_.push_back({Change::Type::job_ended, "job", now, 0, end_reason_});
}

std::vector<Change> Tracker::take_changes() {
  std::vector<Change> out;
  out.swap(changes_);
  return out;
}

uint64_t Tracker::progress_of(std::string_view prefix) const {
  uint64_t n = 0;
  for (const auto& [name, c] : components_)
    if (std::string_view(name).starts_with(prefix)) n += c.progress;
  return n;
}

std::vector<WindowStats> Tracker::window(double now) const {
  std::vector<WindowStats> out;
  for (const auto& [metric, q] : samples_) {
    std::vector<double> v;
    for (const auto& [t, x] : q)
      if (now - t <= o_.window_s) v.push_back(x);
    if (v.empty()) continue;
    Summary s = summarize(v);
    out.push_back({metric, s.count, s.p50, s.p90, s.p99, s.max, s.mean});
  }
  return out;
}

}  // namespace alog::follow
