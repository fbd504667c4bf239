// --cache DIR (cache.hpp): one CBOR entry per job under DIR/v1/.
#include "cache.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "analyze_logs/core/json_io.hpp"
#include "analyze_logs/hangs.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"
#include "ci.hpp"
#include "io.hpp"
#include "kinds.hpp"

namespace alog::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // key order kept: bodies and top keys come back as written
using ojson = nlohmann::ordered_json;

namespace {

constexpr int kFormat = 1;  // the entry's layout; a change makes every older entry a miss

// ---- the key ------------------------------------------------------------------------------------

// Folders no analysis reads inside a job: reports and comparisons written there, hidden ones.
bool skipped_dir(const std::string& name) {
  return name.starts_with(".") || name.starts_with("analysis_") || name.starts_with("comparison_");
}

void add_file(std::string& out, const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    out += fmt::format("{}\t-\n", p.string());
    return;
  }
  out +=
      fmt::format("{}\t{}\t{}.{:09}\t{}\n", p.string(), static_cast<long long>(st.st_size),
                  static_cast<long long>(st.st_mtim.tv_sec), static_cast<long>(st.st_mtim.tv_nsec),
                  static_cast<unsigned long long>(st.st_ino));
}

// Every file a job can read, with its size, modification time and inode: the inputs' identity.
std::string listing(const PlannedJob& pj, const fs::path& skip) {
  std::string out;
  std::vector<fs::path> files;
  for (const auto* v : {&pj.direct, &pj.files, &pj.hang_files})
    for (const auto& f : *v) files.emplace_back(f);
  for (const auto& d : pj.dirs) {
    std::error_code ec;
    fs::recursive_directory_iterator it(d, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::error_code ec2;
      if (it->is_directory(ec2)) {
        if (skipped_dir(it->path().filename().string()) ||
            fs::absolute(it->path(), ec2).lexically_normal() == skip)
          it.disable_recursion_pending();
        continue;
      }
      files.push_back(it->path());
    }
    if (ec) out += fmt::format("{}\tunreadable: {}\n", d, ec.message());
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  for (const auto& f : files) add_file(out, f);
  return out;
}

std::string identity(const PlannedJob& pj) {
  std::error_code ec;
  return fmt::format("{}\n{}\n{}\n{}\n", pj.kind, pj.name, pj.root,
                     fs::absolute(pj.root, ec).string());
}

std::string entry_name(const std::string& id) {
  const auto* p = reinterpret_cast<const Bytef*>(id.data());
  uLong c = crc32(0L, p, static_cast<uInt>(id.size()));
  uLong a = adler32(1L, p, static_cast<uInt>(id.size()));
  return fmt::format("{:08x}{:08x}.cbor", c & 0xffffffffUL, a & 0xffffffffUL);
}

// ---- the header ---------------------------------------------------------------------------------

json header_to(const core::Header& h) {
  json f = json::array();
  for (const auto& x : h.findings) {
    json ev = json::array();
    for (const auto& e : x.evidence) ev.push_back(json::array({e.file, e.line, e.time, e.text}));
    f.push_back(json::array({x.id, static_cast<int>(x.severity), static_cast<int>(x.role),
                             x.summary, x.detail, x.fix, x.job, std::move(ev)}));
  }
  json in = json::array();
  for (const auto& i : h.inputs)
    in.push_back(json::array({i.path, i.kind, i.role, i.read, i.reason}));
  return json{{"verdict", static_cast<int>(h.verdict)},
              {"cause", h.cause},
              {"findings", std::move(f)},
              {"inputs", std::move(in)},
              {"started_at", h.started_at},
              {"ended_at", h.ended_at},
              {"nodes", h.nodes}};
}

core::Header header_from(const json& j) {
  core::Header h;
  h.verdict = static_cast<core::Verdict>(j.at("verdict").get<int>());
  h.cause = j.at("cause").get<std::string>();
  for (const auto& x : j.at("findings")) {
    core::Finding f;
    f.id = x.at(0).get<std::string>();
    f.severity = static_cast<core::Severity>(x.at(1).get<int>());
    f.role = static_cast<core::Role>(x.at(2).get<int>());
    f.summary = x.at(3).get<std::string>();
    f.detail = x.at(4).get<std::string>();
    f.fix = x.at(5).get<std::string>();
    f.job = x.at(6).get<std::string>();
    for (const auto& e : x.at(7))
      f.evidence.push_back({e.at(0).get<std::string>(), e.at(1).get<uint64_t>(),
                            e.at(2).get<std::string>(), e.at(3).get<std::string>()});
    h.findings.push_back(std::move(f));
  }
  for (const auto& i : j.at("inputs"))
    h.inputs.push_back({i.at(0).get<std::string>(), i.at(1).get<std::string>(),
                        i.at(2).get<std::string>(), i.at(3).get<bool>(),
                        i.at(4).get<std::string>()});
  h.started_at = j.at("started_at").get<std::string>();
  h.ended_at = j.at("ended_at").get<std::string>();
  h.nodes = j.at("nodes").get<std::vector<std::string>>();
  return h;
}

// ---- the body -----------------------------------------------------------------------------------

// A body as it rendered: the report's terminal view is 100 columns wide, with or without colour.
class FrozenBody : public core::Body {
 public:
  FrozenBody(std::string plain, std::string color, std::string md, std::string html, ojson js)
      : plain_(std::move(plain)),
        color_(std::move(color)),
        md_(std::move(md)),
        html_(std::move(html)),
        json_(std::move(js)) {}
  std::string text(const core::TextOptions& opt) const override {
    return opt.color ? color_ : plain_;
  }
  std::string markdown() const override { return md_; }
  std::string html() const override { return html_; }
  void json(ojson& out) const override { out = json_; }

 private:
  std::string plain_, color_, md_, html_;
  ojson json_;
};

// The kind's keys at the top of report.json when the report holds this job alone of its kind.
ojson top_of(const Analysed& a) {
  if (auto p = prime_report(a)) return to_json(*p);
  if (const auto* r = std::any_cast<ray::RayReport>(&a.detail)) return ray::to_json(*r);
  if (const auto* h = std::any_cast<hangs::HangReport>(&a.detail)) return hangs::to_json(*h);
  return nullptr;
}

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

bool cacheable(const PlannedJob& pj) {
  if (pj.kind.empty() || pj.kind == "unrecognised" || pj.root == "-") return false;
  return std::none_of(pj.direct.begin(), pj.direct.end(),
                      [](const std::string& s) { return s == "-"; });
}

JobCache::JobCache(fs::path dir, std::string settings) : settings_(std::move(settings)) {
  std::error_code ec;
  fs::create_directories(dir / "v1", ec);
  if (ec || !fs::is_directory(dir / "v1", ec))
    throw std::runtime_error(fmt::format("--cache {}: cannot create the folder ({})", dir.string(),
                                         ec ? ec.message() : "not a folder"));
  dir_ = fs::absolute(dir, ec).lexically_normal();
  if (ec) dir_ = dir;
}

CacheKey JobCache::key(const PlannedJob& pj) const {
  CacheKey k;
  if (!cacheable(pj)) return k;
  k.cacheable = true;
  k.identity = identity(pj);
  k.listing = listing(pj, dir_);
  return k;
}

std::optional<Analysed> JobCache::load(const PlannedJob& pj, const CacheKey& k, bool need_top) {
  if (!k.cacheable) return std::nullopt;
  const fs::path file = dir_ / "v1" / entry_name(k.identity + settings_);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    std::vector<uint8_t> bytes = read_all(file);
    json e = core::from_cbor_bounded<json>(bytes);
    if (e.at("format").get<int>() != kFormat || e.at("settings").get<std::string>() != settings_ ||
        e.at("identity").get<std::string>() != k.identity ||
        e.at("listing").get<std::string>() != k.listing)
      return std::nullopt;  // another job, version or option, or a file changed: analysed again
    if (need_top && e.at("top").is_null() && e.at("has_top").get<bool>()) return std::nullopt;
    Analysed a;
    a.job.kind = e.at("kind").get<std::string>();
    a.job.name = e.at("name").get<std::string>();
    a.job.path = e.at("path").get<std::string>();
    a.job.header = header_from(e.at("header"));
    a.checks_failed = e.at("checks_failed").get<bool>();
    // The entry is ours: its strings are moved out, not copied (a fleet's entries hold tens of MB).
    auto take = [](json& v) { return std::move(v.get_ref<std::string&>()); };
    json& b = e.at("body");
    if (!b.is_null())
      a.job.body = std::make_unique<FrozenBody>(take(b.at("text")), take(b.at("text_color")),
                                                take(b.at("markdown")), take(b.at("html")),
                                                ojson(std::move(b.at("json"))));
    auto parts = std::make_shared<CachedParts>();
    parts->top = ojson(e.at("top"));
    parts->hang = ojson(e.at("hang"));
    for (const auto& c : e.at("checks"))
      parts->checks.push_back(
          {c.at(0).get<std::string>(), c.at(2).get<std::string>(), c.at(1).get<bool>()});
    if (const json& s = e.at("srtctl"); s.is_binary())
      a.detail = std::shared_ptr<const srtctl::JobReport>(
          std::make_shared<srtctl::JobReport>(srtctl::load_report(s.get_binary())));
    // Its element of report.json as text (an entry of an earlier build may lack it: made again).
    if (auto t = e.find("srtctl_text"); t != e.end() && t->is_string())
      a.srtctl_text = std::make_shared<const std::string>(take(*t));
    // Its share of a fleet's report.json (srtctl: its body is never in its element).
    if (auto t = e.find("fleet_text"); t != e.end() && t->is_array() && t->size() == 3 && (*t)[0].is_string() &&
                                       (*t)[1].is_string() && (*t)[2].is_string())
      a.fleet_text = std::make_shared<const FleetText>(FleetText{take((*t)[0]), take((*t)[1]), take((*t)[2])});
    a.cached = std::move(parts);
    ++hits_;
    return a;
  } catch (const std::exception& ex) {
    warn(fmt::format("--cache: {} is unreadable ({}); job {} is analysed again", file.string(),
                     ex.what(), pj.name));
    return std::nullopt;
  }
}

void JobCache::store(const CacheKey& k, const Analysed& a, bool with_top) {
  if (!k.cacheable || a.job.kind == "unrecognised") return;
  const fs::path file = dir_ / "v1" / entry_name(k.identity + settings_);
  try {
    json e;
    e["format"] = kFormat;
    e["settings"] = settings_;
    e["identity"] = k.identity;
    e["listing"] = k.listing;
    e["kind"] = a.job.kind;
    e["name"] = a.job.name;
    e["path"] = a.job.path;
    e["header"] = header_to(a.job.header);
    e["checks_failed"] = a.checks_failed;
    if (a.job.body) {
      // An srtctl job's JSON is made from its JobReport at the top of report.json (top_srtctl),
      // never from its body: not kept twice.
      ojson body;
      if (a.job.kind != "srtctl") a.job.body->json(body);
      e["body"] = json{{"text", a.job.body->text({false, 100})},
                       {"text_color", a.job.body->text({true, 100})},
                       {"markdown", a.job.body->markdown()},
                       {"html", a.job.body->html()},
                       {"json", json(body)}};
    } else {
      e["body"] = nullptr;
    }
    // has_top: the kind has top keys at all (srtctl's come from its JobReport); top: them, when
    // this report needed them.
    const bool has_top = a.job.kind != "srtctl";
    e["has_top"] = has_top;
    e["top"] = has_top && with_top ? json(top_of(a)) : json(nullptr);
    e["hang"] = nullptr;
    if (const auto* h = std::any_cast<hangs::HangReport>(&a.hang))
      e["hang"] = json(hangs::to_json(*h));
    json checks = json::array();
    if (auto p = prime_report(a))
      for (const auto& x : p->expectations)
        checks.push_back(json::array({x.expr, x.passed, x.message}));
    e["checks"] = std::move(checks);
    e["srtctl"] = nullptr;
    if (const auto* r = std::any_cast<std::shared_ptr<const srtctl::JobReport>>(&a.detail)) {
      e["srtctl"] = json::binary(srtctl::save_report(**r));
      if (!a.srtctl_text) a.srtctl_text = std::make_shared<const std::string>(srtctl_job_text(a));
      e["srtctl_text"] = *a.srtctl_text;
      if (!a.fleet_text) a.fleet_text = std::make_shared<const FleetText>(fleet_text_of(a, true));
      e["fleet_text"] = json::array({a.fleet_text->element, a.fleet_text->findings, a.fleet_text->inputs});
    }
    const std::vector<uint8_t> bytes = json::to_cbor(e);
    // Atomic (a reader sees the old entry or the new one, never a part), and its temporary file
    // goes on Ctrl-C: the same writer as --junit's.
    AtomicFile out(file.string(), "cache entry");
    out.commit(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    ++stored_;
  } catch (const std::exception& ex) {
    if (!warned_write_.exchange(true))
      warn(fmt::format("--cache: {}; the report is complete, the cache is not", ex.what()));
  }
}

}  // namespace alog::cli
