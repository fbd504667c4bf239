#include "analyze_logs/core/fleet.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

namespace alog::core {
namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool hex(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A digit run that names a place in code, kept: `file.py:123`, `file.cpp:607`, `line 42`.
bool code_location(std::string_view text, size_t at) {
  std::string_view before = text.substr(0, at);
  if (before.ends_with("line ")) return true;
  if (!before.ends_with(":")) return false;
  before.remove_suffix(1);
  for (std::string_view ext : {".py", ".cpp", ".cc", ".h", ".hpp", ".cu", ".c", ".rs", ".go"})
    if (before.ends_with(ext)) return true;
  return false;
}

}  // namespace

std::string normalise_location(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (!word_char(c)) {
      // Runs of blanks collapse to one space.
      if (c == ' ' || c == '\t') {
        if (!out.empty() && out.back() != ' ') out += ' ';
        ++i;
        continue;
      }
      out += c;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && word_char(text[j])) ++j;
    std::string_view tok = text.substr(i, j - i);
    bool all_hex = std::all_of(tok.begin(), tok.end(), hex);
    bool has_digit = std::any_of(tok.begin(), tok.end(), digit);
    if ((tok.size() > 2 && (tok.starts_with("0x") || tok.starts_with("0X")) &&
         std::all_of(tok.begin() + 2, tok.end(), hex)) ||
        (tok.size() >= 8 && all_hex && has_digit && !std::all_of(tok.begin(), tok.end(), digit))) {
      out += "<id>";  // addresses, trace ids, hashes
    } else if (std::all_of(tok.begin(), tok.end(), digit) && code_location(text, i)) {
      out += tok;
    } else {
      // Every other digit run is a number that differs from job to job: one '#'.
      for (size_t k = 0; k < tok.size();) {
        if (digit(tok[k])) {
          out += '#';
          while (k < tok.size() && digit(tok[k])) ++k;
        } else {
          out += tok[k++];
        }
      }
    }
    i = j;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string fingerprint(const Header& h) {
  const Finding* f = h.root();
  if (!f || h.verdict == Verdict::ok || h.verdict == Verdict::running) return {};
  std::string where = normalise_location(f->summary);
  if (where.size() > 160) where.resize(160);
  // What the catalogue's failures carry that tells one place from another: the size a CUDA
  // allocation asked for, the collective and its element count.
  static const RE2 alloc(R"(Tried to allocate ([0-9.]+ ?[KMGT]?i?B))");
  static const RE2 op(R"(OpType=(\w+))");
  static const RE2 numel(R"(NumelIn=(\d+))");
  std::string text = f->summary + "\n" + f->detail;
  for (const auto& e : f->evidence) text += "\n" + e.text;
  std::string size, op_type, n;
  if (RE2::PartialMatch(text, alloc, &size)) where += fmt::format(" [allocate {}]", size);
  if (RE2::PartialMatch(text, op, &op_type))
    where += RE2::PartialMatch(text, numel, &n) ? fmt::format(" [{} NumelIn={}]", op_type, n) : fmt::format(" [{}]", op_type);
  return fmt::format("{} @ {}", f->id, where);
}

double civil_seconds(std::string_view s) {
  auto num = [&](size_t at, size_t n) -> int {
    if (at + n > s.size()) return -1;
    int v = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (!digit(s[k])) return -1;
      v = v * 10 + (s[k] - '0');
    }
    return v;
  };
  int y = num(0, 4), mo = num(5, 2), d = num(8, 2), hh = num(11, 2), mi = num(14, 2), ss = num(17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60 ||
      s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return -1;
  // Days from the civil date (Howard Hinnant's algorithm).
  int yy = y - (mo <= 2);
  int era = (yy >= 0 ? yy : yy - 399) / 400;
  int yoe = yy - era * 400;
  int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  double days = static_cast<double>(era) * 146097 + doe - 719468;
  double frac = 0;
  if (s.size() > 20 && (s[19] == '.' || s[19] == ',')) {
    double scale = 0.1;
    for (size_t k = 20; k < s.size() && digit(s[k]); ++k, scale /= 10) frac += (s[k] - '0') * scale;
  }
  return days * 86400 + hh * 3600 + mi * 60 + ss + frac;
}

double binomial_tail(size_t n, size_t k, double p) {
  if (k == 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  double sum = 0, lp = std::log(p), lq = std::log1p(-p);
  double ln_n = std::lgamma(static_cast<double>(n) + 1);
  for (size_t i = k; i <= n; ++i) {
    double di = static_cast<double>(i);
    double term = ln_n - std::lgamma(di + 1) - std::lgamma(static_cast<double>(n - i) + 1) + di * lp + static_cast<double>(n - i) * lq;
    sum += std::exp(term);
  }
  return std::min(1.0, sum);
}

Fleet fleet_of(const std::vector<const Job*>& jobs, double alpha) {
  Fleet fl;
  fl.alpha = alpha;
  std::map<std::string, size_t> group_at;
  std::map<std::string, NodeStat> nodes;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Header& h = jobs[i]->header;
    FleetRow r;
    r.job = i;
    r.fingerprint = fingerprint(h);
    r.failed = h.verdict == Verdict::failed || h.verdict == Verdict::stuck;
    fl.failed += r.failed;
    if (!r.fingerprint.empty()) {
      auto [it, fresh] = group_at.emplace(r.fingerprint, fl.groups.size());
      if (fresh) {
        FingerprintGroup g;
        g.fingerprint = r.fingerprint;
        g.id = h.root()->id;
        g.summary = h.root()->summary;
        if (!h.root()->evidence.empty()) g.example = h.root()->evidence.front();
        fl.groups.push_back(std::move(g));
      }
      fl.groups[it->second].jobs.push_back(i);
    }
    if (!h.nodes.empty()) ++fl.with_nodes;
    std::set<std::string> seen(h.nodes.begin(), h.nodes.end());
    for (const auto& n : seen) {
      NodeStat& s = nodes[n];
      s.node = n;
      ++s.jobs;
      if (r.failed) {
        ++s.failed;
        s.failed_jobs.push_back(i);
      }
    }
    fl.rows.push_back(std::move(r));
  }
  std::stable_sort(fl.groups.begin(), fl.groups.end(), [](const auto& a, const auto& b) { return a.jobs.size() > b.jobs.size(); });
  fl.failure_rate = jobs.empty() ? 0 : static_cast<double>(fl.failed) / static_cast<double>(jobs.size());
  fl.tested = nodes.size();
  for (auto& [name, s] : nodes) {
    s.p_value = binomial_tail(s.jobs, s.failed, fl.failure_rate);
    s.adjusted = std::min(1.0, s.p_value * static_cast<double>(fl.tested));
    s.blamed = s.failed >= 2 && s.adjusted < alpha;
    fl.nodes.push_back(std::move(s));
  }
  std::stable_sort(fl.nodes.begin(), fl.nodes.end(), [](const NodeStat& a, const NodeStat& b) {
    if (a.blamed != b.blamed) return a.blamed;
    if (a.adjusted != b.adjusted) return a.adjusted < b.adjusted;
    return a.node < b.node;
  });
  for (const auto& s : fl.nodes)
    if (s.blamed) fl.exclude.push_back(s.node);
  std::sort(fl.exclude.begin(), fl.exclude.end());
  return fl;
}

}  // namespace alog::core
