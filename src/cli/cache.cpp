// --cache DIR (cache.hpp): one entry per job under DIR/v2/.
#include "cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <span>

#include "analyze_logs/core/json_io.hpp"
#include "analyze_logs/hangs.hpp"
#include "analyze_logs/primerl/writers.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "ci.hpp"
#include "io.hpp"
#include "kinds.hpp"

namespace alog::cli {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;  // key order kept: bodies and top keys come back as written

namespace {

constexpr char kMagic[8] = {'A', 'L', 'O', 'G', 'C', 'A', 'C', 'H'};
// The entry's layout. Each layout has its own folder (DIR/v<N>/): a tool that writes another
// layout never reads or replaces these entries.
constexpr uint32_t kFormat = 2;
constexpr const char* kFolder = "v2";

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
  return fmt::format("{:08x}{:08x}.entry", c & 0xffffffffUL, a & 0xffffffffUL);
}

// ---- the header ---------------------------------------------------------------------------------

ojson header_to(const core::Header& h) {
  ojson f = ojson::array();
  for (const auto& x : h.findings) {
    ojson ev = ojson::array();
    for (const auto& e : x.evidence) ev.push_back(ojson::array({e.file, e.line, e.time, e.text}));
    f.push_back(ojson::array({x.id, static_cast<int>(x.severity), static_cast<int>(x.role),
                             x.summary, x.detail, x.fix, x.job, std::move(ev)}));
  }
  ojson in = ojson::array();
  for (const auto& i : h.inputs)
    in.push_back(ojson::array({i.path, i.kind, i.role, i.read, i.reason}));
  return ojson{{"verdict", static_cast<int>(h.verdict)},
              {"cause", h.cause},
              {"findings", std::move(f)},
              {"inputs", std::move(in)},
              {"started_at", h.started_at},
              {"ended_at", h.ended_at},
              {"nodes", h.nodes}};
}

core::Header header_from(const ojson& j) {
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

// The whole file into `out`, read at once (an entry is read whole: its checksum covers every
// byte). Throws std::runtime_error on a read error.
void read_all(const fs::path& p, std::string& out) {
  // O_NONBLOCK: a named pipe put in an entry's place must not block the run (it is refused below).
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw std::runtime_error(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw std::runtime_error(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("not a regular file");
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::strerror(errno));
    if (n == 0) break;  // shorter than it was a moment ago: the checksum says so
    got += static_cast<size_t>(n);
  }
  out.resize(got);
}

uint32_t crc_of(std::string_view s) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(s.data()), s.size()));
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A blob holding a JSON value as CBOR; empty for null.
std::string cbor_blob(const ojson& j) {
  if (j.is_null()) return {};
  const std::vector<uint8_t> b = ojson::to_cbor(j);
  return std::string(b.begin(), b.end());
}
ojson from_blob(std::optional<std::string_view> b) {
  if (!b || b->empty()) return nullptr;
  return core::from_cbor_bounded<ojson>(bytes_of(*b));
}

}  // namespace

std::string encode_entry(const ojson& meta, const std::vector<EntryBlob>& blobs) {
  ojson m = meta;
  ojson list = ojson::array();
  size_t total = 0;
  for (const auto& b : blobs) {
    list.push_back(ojson::array({b.name, b.bytes.size()}));
    total += b.bytes.size();
  }
  m["blobs"] = std::move(list);
  const std::vector<uint8_t> mb = ojson::to_cbor(m);
  if (mb.size() > UINT32_MAX) throw std::runtime_error("the entry's meta is over 4 GiB");
  std::string out;
  out.reserve(sizeof kMagic + 8 + mb.size() + total + 4);
  out.append(kMagic, sizeof kMagic);
  put_u32le(out, kFormat);
  put_u32le(out, static_cast<uint32_t>(mb.size()));
  out.append(reinterpret_cast<const char*>(mb.data()), mb.size());
  for (const auto& b : blobs) out.append(b.bytes);
  put_u32le(out, crc_of(out));
  return out;
}

std::optional<std::string_view> DecodedEntry::blob(std::string_view name) const {
  for (const auto& b : blobs)
    if (b.name == name) return b.bytes;
  return std::nullopt;
}

DecodedEntry decode_entry(std::string_view s) {
  constexpr size_t head = sizeof kMagic + 8;
  if (s.size() < head + 4 || s.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic))
    throw std::runtime_error("not a cache entry");
  if (const uint32_t f = get_u32le(s, sizeof kMagic); f != kFormat)
    throw std::runtime_error(fmt::format("an entry of layout {}, not {}", f, kFormat));
  const size_t meta_len = get_u32le(s, sizeof kMagic + 4);
  if (meta_len > s.size() - head - 4) throw std::runtime_error("truncated");
  if (get_u32le(s, s.size() - 4) != crc_of(s.substr(0, s.size() - 4)))
    throw std::runtime_error("its checksum does not match: truncated or damaged");
  DecodedEntry e;
  e.meta = core::from_cbor_bounded<ojson>(bytes_of(s.substr(head, meta_len)));
  if (!e.meta.is_object() || !e.meta.contains("blobs") || !e.meta["blobs"].is_array())
    throw std::runtime_error("its meta is not a map with its blobs");
  size_t at = head + meta_len;
  const size_t end = s.size() - 4;
  for (const auto& b : e.meta["blobs"]) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_string() || !b[1].is_number_unsigned())
      throw std::runtime_error("a malformed blob list");
    const std::string& name = b[0].get_ref<const std::string&>();
    const uint64_t len = b[1].get<uint64_t>();
    if (len > end - at) throw std::runtime_error("a blob runs past the end");
    e.blobs.push_back({name, s.substr(at, len)});
    at += len;
  }
  if (at != end) throw std::runtime_error("bytes after the last blob");
  e.meta.erase("blobs");
  return e;
}

bool cacheable(const PlannedJob& pj) {
  if (pj.kind.empty() || pj.kind == "unrecognised" || pj.root == "-") return false;
  return std::none_of(pj.direct.begin(), pj.direct.end(),
                      [](const std::string& s) { return s == "-"; });
}

JobCache::JobCache(fs::path dir, std::string settings) : settings_(std::move(settings)) {
  std::error_code ec;
  fs::create_directories(dir / kFolder, ec);
  if (ec || !fs::is_directory(dir / kFolder, ec))
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
  const fs::path file = dir_ / kFolder / entry_name(k.identity + settings_);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    // The bytes of each entry are read into the thread's one buffer: a warm run over a fleet
    // keeps what it uses of each (copied out below), not every entry's bytes.
    thread_local std::string buffer;
    struct Trim {  // an entry of tens of MB (a prime-rl run's top keys) is not kept after it
      std::string& b;
      ~Trim() {
        if (b.capacity() > (size_t{16} << 20)) std::string().swap(b);
      }
    } trim{buffer};
    read_all(file, buffer);
    const DecodedEntry d = decode_entry(buffer);
    const ojson& e = d.meta;
    if (e.at("settings").get_ref<const std::string&>() != settings_ ||
        e.at("identity").get_ref<const std::string&>() != k.identity ||
        e.at("listing").get_ref<const std::string&>() != k.listing)
      return std::nullopt;  // another job, version or option, or a file changed: analysed again
    const auto top = d.blob("top");
    if (need_top && (!top || top->empty()) && e.at("has_top").get<bool>()) return std::nullopt;
    Analysed a;
    a.job.kind = e.at("kind").get<std::string>();
    a.job.name = e.at("name").get<std::string>();
    a.job.path = e.at("path").get<std::string>();
    a.job.header = header_from(e.at("header"));
    a.checks_failed = e.at("checks_failed").get<bool>();
    if (e.at("has_body").get<bool>()) {
      auto text = [&](const char* name) {
        if (auto b = d.blob(name)) return std::string(*b);
        throw std::runtime_error(fmt::format("no {} blob", name));
      };
      a.job.body = std::make_unique<FrozenBody>(text("text"), text("text_color"), text("markdown"), text("html"),
                                                from_blob(d.blob("body_json")));
    }
    auto parts = std::make_shared<CachedParts>();
    if (need_top) parts->top = from_blob(top);  // unused otherwise: not decoded
    parts->hang = from_blob(d.blob("hang"));
    for (const auto& c : e.at("checks"))
      parts->checks.push_back(
          {c.at(0).get<std::string>(), c.at(2).get<std::string>(), c.at(1).get<bool>()});
    if (auto r = d.blob("srtctl")) {
      a.detail = std::shared_ptr<const srtctl::JobReport>(
          std::make_shared<srtctl::JobReport>(srtctl::load_report(bytes_of(*r))));
      // Its element of report.json and its share of a fleet's report.json, as text.
      const auto st = d.blob("srtctl_text");
      const auto fe = d.blob("fleet_element"), ff = d.blob("fleet_findings"), fi = d.blob("fleet_inputs");
      const auto cw = d.blob("csv_window_stats"), ct = d.blob("csv_timeseries");
      if (!st || !fe || !ff || !fi || !cw || !ct)
        throw std::runtime_error("an srtctl job without its report.json text or CSV rows");
      a.srtctl_csv = std::make_shared<const srtctl::BatchCsvRows>(srtctl::BatchCsvRows{std::string(*cw), std::string(*ct)});
      a.srtctl_text = std::make_shared<const std::string>(*st);
      a.fleet_text = std::make_shared<const FleetText>(FleetText{std::string(*fe), std::string(*ff), std::string(*fi)});
    }
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
  const fs::path file = dir_ / kFolder / entry_name(k.identity + settings_);
  try {
    ojson e;
    e["settings"] = settings_;
    e["identity"] = k.identity;
    e["listing"] = k.listing;
    e["kind"] = a.job.kind;
    e["name"] = a.job.name;
    e["path"] = a.job.path;
    e["header"] = header_to(a.job.header);
    e["checks_failed"] = a.checks_failed;
    e["has_body"] = a.job.body != nullptr;
    // has_top: the kind has top keys at all (srtctl's come from its JobReport); the "top" blob:
    // them, when this report needed them.
    const bool has_top = a.job.kind != "srtctl";
    e["has_top"] = has_top;
    ojson checks = ojson::array();
    if (auto p = prime_report(a))
      for (const auto& x : p->expectations) checks.push_back(ojson::array({x.expr, x.passed, x.message}));
    e["checks"] = std::move(checks);

    std::deque<std::string> held;  // the blobs' bytes (their views point here: never moved)
    std::vector<EntryBlob> blobs;
    auto add = [&](const char* name, std::string bytes) {
      held.push_back(std::move(bytes));
      blobs.push_back({name, held.back()});
    };
    if (a.job.body) {
      // An srtctl job's JSON is made from its JobReport at the top of report.json (top_srtctl),
      // never from its body: not kept twice.
      ojson body;
      if (a.job.kind != "srtctl") a.job.body->json(body);
      add("text", a.job.body->text({false, 100}));
      add("text_color", a.job.body->text({true, 100}));
      add("markdown", a.job.body->markdown());
      add("html", a.job.body->html());
      add("body_json", cbor_blob(body));
    }
    if (has_top && with_top) add("top", cbor_blob(top_of(a)));
    if (const auto* h = std::any_cast<hangs::HangReport>(&a.hang)) add("hang", cbor_blob(hangs::to_json(*h)));
    if (const auto* r = std::any_cast<std::shared_ptr<const srtctl::JobReport>>(&a.detail)) {
      // The report without its batch statistics, whose only readers are kept as text: the body,
      // its report.json element and its CSV rows.
      srtctl::JobReport light = **r;
      light.batches.clear();
      const std::vector<uint8_t> rb = srtctl::save_report(light);
      add("srtctl", std::string(rb.begin(), rb.end()));
      if (!a.srtctl_csv) a.srtctl_csv = std::make_shared<const srtctl::BatchCsvRows>(srtctl_csv_rows(a));
      add("csv_window_stats", a.srtctl_csv->window_stats);
      add("csv_timeseries", a.srtctl_csv->timeseries);
      if (!a.srtctl_text) a.srtctl_text = std::make_shared<const std::string>(srtctl_job_text(a));
      add("srtctl_text", *a.srtctl_text);
      if (!a.fleet_text) a.fleet_text = std::make_shared<const FleetText>(fleet_text_of(a, true));
      add("fleet_element", a.fleet_text->element);
      add("fleet_findings", a.fleet_text->findings);
      add("fleet_inputs", a.fleet_text->inputs);
    }
    const std::string bytes = encode_entry(e, blobs);
    // Atomic (a reader sees the old entry or the new one, never a part), and its temporary file
    // goes on Ctrl-C: the same writer as --junit's.
    AtomicFile out(file.string(), "cache entry");
    out.commit(bytes);
    ++stored_;
  } catch (const std::exception& ex) {
    if (!warned_write_.exchange(true))
      warn(fmt::format("--cache: {}; the report is complete, the cache is not", ex.what()));
  }
}

}  // namespace alog::cli
