// The terminal answer and the helpers that keep it inside a terminal: widths in code points,
// cutting and wrapping, tables that shrink, colour by severity.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "analyze_logs/render/fleet.hpp"
#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"

namespace alog::render {

namespace {

constexpr std::string_view kEllipsis = "\u2026";
constexpr std::string_view kReset = "\x1b[0m";

// Bytes of the escape sequence at s[i] (s[i] == ESC): CSI `ESC [ ... final`, else two bytes.
size_t escape_len(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j >= s.size()) return 1;
  if (s[j] != '[') return 2;
  ++j;
  while (j < s.size() && !(s[j] >= 0x40 && s[j] <= 0x7E)) ++j;
  return std::min(s.size(), j + 1) - i;
}

bool continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Bytes of the UTF-8 character at s[i] (its lead byte and continuation bytes).
size_t char_len(std::string_view s, size_t i) {
  size_t j = i + 1;
  while (j < s.size() && continuation(s[j])) ++j;
  return j - i;
}

std::string verdict_word(core::Verdict v) {
  std::string w(core::verdict_name(v));
  std::transform(w.begin(), w.end(), w.begin(), [](char c) { return static_cast<char>(c - 32); });
  return w;
}

// The finding's one-line form for the list below the root cause.
std::string finding_line(const core::Finding& f, bool color) {
  std::string role = f.role == core::Role::root_cause    ? "root cause"
                     : f.role == core::Role::consequence ? "consequence"
                                                         : "collateral";
  std::string s = fmt::format("  {} {}: {}", paint(fmt::format("{:<8}", core::severity_name(f.severity)),
                                                     tone_of(f.severity), color),
                              role, printable(f.summary));
  if (!f.evidence.empty() && !f.evidence.front().ref().empty()) {
    // The file name and line; the folder is in SUMMARY.md (long paths would push the line off).
    std::string ref = f.evidence.front().ref();
    size_t slash = f.evidence.front().file.rfind('/');
    if (slash != std::string::npos) ref.erase(0, slash + 1);
    s += fmt::format(" [{}]", printable(ref));
  }
  return s;
}

// "  at <file:line>, <time>". A reference wider than the terminal (Ray worker files carry a
// 56-digit id) is broken after a '/' rather than cut: the file:line is what the reader needs.
void where_lines(std::string ref, const std::string& time, size_t width, std::string& o) {
  std::string prefix = "  at ";
  const std::string indent = "     ";
  while (display_width(prefix) + display_width(ref) > width) {
    size_t room = width > display_width(prefix) ? width - display_width(prefix) : 0;
    // The last '/' whose prefix fits (byte offsets approximate columns; checked below).
    size_t cut = std::string::npos;
    for (size_t at = ref.find('/'); at != std::string::npos; at = ref.find('/', at + 1))
      if (display_width(std::string_view(ref).substr(0, at + 1)) <= room && at + 1 < ref.size()) cut = at;
    if (cut == std::string::npos) break;  // no place to break: fit() cuts below
    o += prefix + ref.substr(0, cut + 1) + "\n";
    ref.erase(0, cut + 1);
    prefix = indent;
  }
  std::string last = prefix + ref;
  if (display_width(last) + display_width(time) <= width) {
    o += last + time + "\n";
  } else {
    o += fit(last, width) + "\n";
    if (!time.empty()) o += fit(indent + time.substr(2), width) + "\n";
  }
}

void add_wrapped(std::string& o, std::string_view s, size_t width, std::string_view first,
                 std::string_view rest, size_t max_lines = 0) {
  auto lines = wrap(s, width, first, rest);
  if (max_lines && lines.size() > max_lines) {
    lines.resize(max_lines);
    // Mark the cut: the last kept line ends in "…".
    std::string& l = lines.back();
    l = display_width(l) < width ? l + std::string(kEllipsis) : fit(l + "x", width);
  }
  for (const auto& l : lines) o += l + "\n";
}

// "id ×3, other ×2": what a group of findings is, by id, most frequent first.
std::string count_ids(const std::vector<const core::Finding*>& fs) {
  std::map<std::string, size_t> n;
  for (const auto* f : fs) ++n[f->id.empty() ? f->summary : f->id];
  std::vector<std::pair<std::string, size_t>> v(n.begin(), n.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string s;
  for (const auto& [id, k] : v)
    s += fmt::format("{}{}{}", s.empty() ? "" : ", ", printable(id), k > 1 ? fmt::format(" \u00d7{}", k) : "");
  return s;
}

void header_text(const core::Job& job, const core::TextOptions& opt, std::string& o) {
  const core::Header& h = job.header;
  const size_t w = opt.width;
  std::string word = verdict_word(h.verdict);
  std::string cause = h.cause.empty() ? std::string("no cause given") : printable(h.cause);
  auto lines = wrap(cause, w, word + ": ", std::string(word.size() + 2, ' '));
  if (!lines.empty()) lines[0] = paint(word, tone_of(h), opt.color) + lines[0].substr(word.size());
  for (const auto& l : lines) o += l + "\n";

  const core::Finding* root = h.root();
  if (root) {
    o += "\n";
    add_wrapped(o,
                fmt::format("{} ({})", printable(root->summary), printable(root->id)), w,
                fmt::format("Root cause [{}]: ", core::severity_name(root->severity)),
                "  ", 2);
    if (opt.color) {
      // Colour the severity word in the line just written (plain text was fitted first).
      std::string tag = fmt::format("[{}]", core::severity_name(root->severity));
      size_t at = o.rfind("Root cause " + tag);
      if (at != std::string::npos)
        o.replace(at + 11, tag.size(), paint(tag, tone_of(root->severity), true));
    }
    if (!root->evidence.empty()) {
      const core::Evidence& e = root->evidence.front();
      if (!e.ref().empty())
        where_lines(printable(e.ref()), e.time.empty() ? std::string() : ", " + printable(e.time), w, o);
      // A quote that only repeats the summary says nothing more.
      if (!e.text.empty() && e.text != root->summary) add_wrapped(o, fmt::format("\"{}\"", printable(e.text)), w, "    ", "     ", 3);
      if (root->evidence.size() > 1)
        o += fit(fmt::format("  ({} more evidence line(s) in SUMMARY.md)", root->evidence.size() - 1), w) +
             "\n";
    }
    if (!root->detail.empty()) add_wrapped(o, printable(root->detail), w, "  ", "  ", 3);
    if (!root->fix.empty()) add_wrapped(o, printable(root->fix), w, "  Fix: ", "       ", 4);
  }

  // The rest: further root causes and consequences one line each (the first few), collateral
  // grouped by id, because after a crash every survivor logs errors that are noise.
  std::vector<const core::Finding*> main_rest, collateral;
  for (const auto& f : h.findings) {
    if (&f == root) continue;
    (f.role == core::Role::collateral ? collateral : main_rest).push_back(&f);
  }
  if (main_rest.empty() && collateral.empty()) return;
  o += fmt::format("\n{}:\n", root ? "Other findings" : "Findings");
  constexpr size_t kShown = 5;
  size_t shown = main_rest.size() > kShown ? kShown - 1 : main_rest.size();
  for (size_t i = 0; i < shown; ++i) o += fit(finding_line(*main_rest[i], opt.color), w) + "\n";
  if (shown < main_rest.size()) {
    std::vector<const core::Finding*> more(main_rest.begin() + static_cast<std::ptrdiff_t>(shown),
                                           main_rest.end());
    o += fit(fmt::format("  … {} more: {}", more.size(), count_ids(more)), w) + "\n";
  }
  if (collateral.size() <= 2) {
    for (const auto* f : collateral) o += fit(finding_line(*f, opt.color), w) + "\n";
  } else {
    o += fit(fmt::format("  {} collateral findings (noise from the teardown or the failure): {}",
                         collateral.size(), count_ids(collateral)),
             w) +
         "\n";
  }
}

void skipped_text(const core::Header& h, size_t w, std::string& o) {
  std::vector<const core::InputEntry*> skipped;
  for (const auto& in : h.inputs)
    if (!in.read) skipped.push_back(&in);
  if (skipped.empty()) return;
  o += fmt::format("\nSkipped inputs ({}):\n", skipped.size());
  if (skipped.size() <= 5) {
    for (const auto* in : skipped)
      o += fit(fmt::format("  {}: {}", printable(in->path), printable(in->reason.empty() ? "skipped" : in->reason)),
               w) +
           "\n";
    return;
  }
  // Many: one line per reason, with a count and the first path as an example.
  std::vector<std::pair<std::string, std::vector<const core::InputEntry*>>> by_reason;
  for (const auto* in : skipped) {
    auto it = std::find_if(by_reason.begin(), by_reason.end(),
                           [&](const auto& g) { return g.first == in->reason; });
    if (it == by_reason.end()) by_reason.push_back({in->reason, {in}});
    else it->second.push_back(in);
  }
  for (const auto& [reason, ins] : by_reason)
    o += fit(fmt::format("  {} × {} (e.g. {})", ins.size(), printable(reason.empty() ? "skipped" : reason),
                         printable(ins.front()->path)),
             w) +
         "\n";
}

}  // namespace

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\x1b') {
      i += escape_len(s, i);
      continue;
    }
    if (!continuation(s[i])) ++n;
    ++i;
  }
  return n;
}

std::string fit(std::string_view s, size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return {};
  std::string out;
  bool coloured = false;
  size_t cols = 0;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\x1b') {
      size_t n = escape_len(s, i);
      out.append(s.substr(i, n));
      coloured = true;
      i += n;
      continue;
    }
    if (cols + 1 >= width) break;  // keep one column for the ellipsis
    size_t n = char_len(s, i);
    out.append(s.substr(i, n));
    ++cols;
    i += n;
  }
  out += kEllipsis;
  if (coloured) out += kReset;
  return out;
}

std::vector<std::string> wrap(std::string_view s, size_t width, std::string_view first, std::string_view rest) {
  std::vector<std::string> lines;
  std::string cur(first);
  size_t cur_w = display_width(first);
  bool empty = true;  // no word on the current line yet
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view word = s.substr(i, j - i);
    i = j;
    size_t ww = display_width(word);
    if (!empty && cur_w + 1 + ww > width) {
      lines.push_back(std::move(cur));
      cur = std::string(rest);
      cur_w = display_width(rest);
      empty = true;
    }
    if (!empty) {
      cur += ' ';
      ++cur_w;
    }
    size_t room = width > cur_w ? width - cur_w : 0;
    std::string piece = ww <= room ? std::string(word) : fit(word, room);
    cur += piece;
    cur_w += display_width(piece);
    empty = false;
  }
  if (!empty || lines.empty()) lines.push_back(fit(cur, width));
  return lines;
}

std::string fit_lines(std::string_view text, size_t width) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    bool nl = j != std::string_view::npos;
    if (!nl) j = text.size();
    out += fit(text.substr(i, j - i), width);
    if (nl) out += '\n';
    i = nl ? j + 1 : j;
  }
  return out;
}

Tone tone_of(core::Severity s) {
  switch (s) {
    case core::Severity::critical: return Tone::critical;
    case core::Severity::warning: return Tone::warning;
    case core::Severity::info: return Tone::info;
  }
  return Tone::plain;
}

Tone tone_of(core::Verdict v) {
  switch (v) {
    case core::Verdict::failed:
    case core::Verdict::stuck: return Tone::critical;
    case core::Verdict::degraded:
    case core::Verdict::unknown: return Tone::warning;
    case core::Verdict::running: return Tone::info;
    case core::Verdict::ok: return Tone::ok;
  }
  return Tone::plain;
}

Tone tone_of(const core::Header& h) {
  // A degraded run whose root cause is critical (a saturated queue) is shown as severe as it is.
  if (h.verdict == core::Verdict::degraded && h.has_at_least(core::Severity::critical)) return Tone::critical;
  return tone_of(h.verdict);
}

std::string paint(std::string_view s, Tone t, bool color) {
  if (!color) return std::string(s);
  const char* c = "";
  switch (t) {
    case Tone::critical: c = "\x1b[31;1m"; break;
    case Tone::warning: c = "\x1b[33m"; break;
    case Tone::info: c = "\x1b[36m"; break;
    case Tone::ok: c = "\x1b[32m"; break;
    case Tone::dim: c = "\x1b[2m"; break;
    case Tone::plain: return std::string(s);
  }
  return fmt::format("{}{}{}", c, s, kReset);
}

std::string text_table(const TextTable& t, size_t width, std::string_view indent) {
  size_t ncol = t.head.size();
  std::vector<size_t> w(ncol, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < ncol && c < row.size(); ++c) w[c] = std::max(w[c], display_width(row[c]));
  };
  measure(t.head);
  for (const auto& r : t.rows) measure(r);
  auto right = [&](size_t c) { return c < t.right.size() && t.right[c]; };
  size_t total = display_width(indent);
  for (size_t c = 0; c < ncol; ++c) total += w[c] + (c ? 2 : 0);
  if (total > width) {
    // Shorten the last left-aligned column (usually free text) before cutting whole lines.
    for (size_t c = ncol; c-- > 0;)
      if (!right(c)) {
        size_t excess = total - width;
        size_t keep = std::max<size_t>(8, w[c] > excess ? w[c] - excess : 0);
        w[c] = std::min(w[c], keep);
        break;
      }
  }
  std::string o;
  auto line = [&](const std::vector<std::string>& row) {
    std::string l(indent);
    for (size_t c = 0; c < ncol; ++c) {
      std::string cell = fit(c < row.size() ? row[c] : std::string(), w[c]);
      std::string pad(w[c] - display_width(cell), ' ');
      if (c) l += "  ";
      l += right(c) ? pad + cell : cell + pad;
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    o += fit(l, width) + "\n";
  };
  line(t.head);
  for (const auto& r : t.rows) line(r);
  return o;
}

std::string report_text(const std::vector<core::Job>& jobs, const core::TextOptions& opt) {
  std::string o;
  const size_t w = opt.width;
  if (jobs.empty()) return "No job found in the inputs.\n";
  if (jobs.size() > 1) {
    std::map<std::string, size_t> by_verdict;
    for (const auto& j : jobs) ++by_verdict[std::string(core::verdict_name(j.header.verdict))];
    std::string counts;
    for (const auto& [v, n] : by_verdict) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, v);
    o += fit(fmt::format("{} jobs: {}", jobs.size(), counts), w) + "\n";
    std::vector<const core::Job*> ptrs;
    for (const auto& j : jobs) ptrs.push_back(&j);
    o += fleet_text(jobs, core::fleet_of(ptrs), opt);
    if (jobs.size() > kFleetSectionsMax) {
      o += fmt::format("\n{}\n", fit(fmt::format("{} jobs: each one's findings are in SUMMARY.md and report.html (or --format md).",
                                                jobs.size()), w));
      return o;
    }
  }
  for (const auto& j : jobs) {
    if (jobs.size() > 1)
      o += fmt::format("\n{}\n", fit(fmt::format("\u2500\u2500 {} ({})", printable(j.name), j.kind), w));
    std::string part;
    header_text(j, opt, part);
    if (j.body) {
      std::string b = j.body->text(opt);
      if (!b.empty()) part.append("\n").append(b);
      if (!part.empty() && part.back() != '\n') part += '\n';
    }
    skipped_text(j.header, w, part);
    o += fit_lines(part, w);
  }
  return o;
}

}  // namespace alog::render
