// `analyze-logs partial` and the reading side of `analyze-logs merge` (partial.hpp). The kinds'
// own states come from their modules (primerl/partial.cpp, srtctl, ray, hangs/partial.cpp); this
// file plans, packs, checks and groups.
#include "partial.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "analyze_logs/cli.hpp"
#include "analyze_logs/core/discover.hpp"
#include "analyze_logs/core/interrupt.hpp"
#include "analyze_logs/core/json_io.hpp"
#include "analyze_logs/hangs.hpp"
#include "analyze_logs/primerl/analyzer.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/srtctl.hpp"
#include "analyze_logs/util.hpp"
#include "ci.hpp"
#include "io.hpp"
#include "kinds.hpp"
#include "registry.hpp"

namespace fs = std::filesystem;

namespace alog::cli {

namespace {

using json = nlohmann::json;

constexpr char kMagic[8] = {'A', 'L', 'O', 'G', 'P', 'A', 'R', 'T'};
constexpr uint32_t kContainer = 1;

// ---- plan ------------------------------------------------------------------------------------

// What the merge reads of a node's job: its kind and the path it was found at (which job of all
// the files together its state belongs to). The plan itself is made again over all the files.
json plan_json(const PlannedJob& pj) {
  return {{"kind", pj.kind}, {"root", pj.root}};
}

// ---- zstd ------------------------------------------------------------------------------------

std::string compress(const std::vector<uint8_t>& in) {
  ZSTD_CCtx* cx = ZSTD_createCCtx();
  if (!cx) throw std::runtime_error("zstd: out of memory");
  ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setPledgedSrcSize(cx, in.size());
  // Streamed into a string that grows with the output, not one the size of the input.
  std::string out;
  std::vector<char> buf(ZSTD_CStreamOutSize());
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (size_t left = 1; left != 0;) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    left = ZSTD_compressStream2(cx, &ob, &ib, ZSTD_e_end);
    if (ZSTD_isError(left)) {
      std::string why = ZSTD_getErrorName(left);
      ZSTD_freeCCtx(cx);
      throw std::runtime_error(fmt::format("zstd: {}", why));
    }
    out.append(buf.data(), ob.pos);
  }
  ZSTD_freeCCtx(cx);
  return out;
}

std::vector<uint8_t> decompress(std::string_view in) {
  ZSTD_DCtx* dx = ZSTD_createDCtx();
  if (!dx) throw std::runtime_error("zstd: out of memory");
  std::vector<uint8_t> out;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::vector<uint8_t> buf(ZSTD_DStreamOutSize());
  size_t last = 1;
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(dx, &ob, &ib);
    if (ZSTD_isError(last)) {
      std::string why = ZSTD_getErrorName(last);
      ZSTD_freeDCtx(dx);
      throw std::runtime_error(why);
    }
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(ob.pos));
    if (last == 0 && ib.pos < ib.size) {
      ZSTD_freeDCtx(dx);
      throw std::runtime_error("bytes follow the compressed document");
    }
  }
  ZSTD_freeDCtx(dx);
  if (last != 0) throw std::runtime_error("the compressed document is cut short");
  return out;
}

std::string host_name() {
  char h[256] = {};
  if (::gethostname(h, sizeof h - 1) != 0 || !h[0]) return "unknown-host";
  return h;
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

// ---- the kinds' states -------------------------------------------------------------------------

std::vector<fs::path> job_paths(const PlannedJob& pj) {
  std::vector<fs::path> paths;
  for (const auto& f : pj.direct) paths.emplace_back(f);
  for (const auto& f : pj.files) paths.emplace_back(f);
  for (const auto& d : pj.dirs) paths.emplace_back(d);
  return paths;
}

std::string job_dir(const PlannedJob& pj) {
  return pj.dirs.empty() ? pj.root : pj.dirs.front();
}

// A prime-rl run: every input's recorded events, and for the hang analysis that may follow
// (attach_prime_hangs) the files it would read, with the markers their ends hold.
json prime_state(const PlannedJob& pj, const PartialArgs& args, json& hang) {
  RunOptions ro;
  ro.threads = args.threads;
  ro.async_level = args.async_level;
  AnalysisOptions aopt = prime_options(ro, pj);
  // The hang candidates: hang files discovery gave the run, inputs whose end holds a marker and
  // every trainer log (read when any file of the run is marked), unclaimed files with a marker.
  std::vector<fs::path> candidates;
  json marked = json::array(), late = json::array();
  for (const auto& f : pj.hang_files) candidates.emplace_back(f);
  json inputs = json::array();
  // One input at a time: recorded, packed, and let go before the next is read.
  record_inputs(aopt, [&](RecordedInput&& r) {
    if (!r.unreadable && r.path != "-" && r.compression == "none") {
      bool m = hangs::tail_has_hang_marker(r.path);
      if (m) marked.push_back(r.path);
      if (m || recorded_role(r) == Role::trainer) candidates.emplace_back(r.path);
    }
    std::vector<uint8_t> packed = pack_recorded(r);
    r = RecordedInput{};
    inputs.push_back(json::binary(std::move(packed)));
  });
  for (const auto& e : pj.inputs) {
    if (e.read || late.size() >= 10000) continue;
    if (hangs::tail_has_hang_marker(e.path)) {
      late.push_back(e.path);
      candidates.emplace_back(e.path);
    }
  }
  hang = hangs::partial_state(candidates);
  hang["marked"] = std::move(marked);
  hang["late"] = std::move(late);
  return {{"inputs", std::move(inputs)}};
}

json kind_state(const PlannedJob& pj, const PartialArgs& args, json& hang) {
  if (pj.kind == "prime-rl") return prime_state(pj, args, hang);
  if (pj.kind == "srtctl") {
    hang = hangs::partial_state({fs::path(job_dir(pj))});
    return srtctl::partial_state(job_dir(pj),
                                 {.threads = args.threads, .max_failed_pct = args.max_failed_pct});
  }
  if (pj.kind == "ray") {
    hang = hangs::partial_state(job_paths(pj));
    return ray::partial_state(job_paths(pj), ray::Options{});
  }
  if (pj.kind == "hang") return hangs::partial_state(job_paths(pj));
  return json::object();  // unrecognised: its plan says all there is
}

// ---- the tree discovery walks -------------------------------------------------------------------

json seen_json(const core::FileSeen& f) {
  return {f.unreadable, f.lines, f.empty, f.binary, f.kind, f.role};
}

core::FileSeen seen_from(const json& j) {
  core::FileSeen f;
  j.at(0).get_to(f.unreadable);
  j.at(1).get_to(f.lines);
  j.at(2).get_to(f.empty);
  j.at(3).get_to(f.binary);
  j.at(4).get_to(f.kind);
  j.at(5).get_to(f.role);
  return f;
}

// Everything under one argument that discovery may look at: each entry (folder, file, link, other)
// with what each file showed (core::see_file). Where the partials meet, discovery walks a skeleton
// of the union of these trees, so it plans the jobs as one walk over every node's files would.
void record_dir(const fs::path& base, const fs::path& rel, int depth, json& entries) {
  std::error_code ec;
  fs::path at = rel.empty() ? base : base / rel;
  fs::directory_iterator it(at, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    fs::path r = rel / name;
    std::error_code e2;
    bool link = it->is_symlink(e2);
    std::string target;
    if (link) {
      fs::path t = fs::read_symlink(it->path(), e2);
      if (!e2) {
        fs::path abs = (t.is_absolute() ? t : it->path().parent_path() / t).lexically_normal();
        fs::path in = abs.lexically_relative(base.lexically_normal());
        if (!in.empty() && *in.begin() != "..") target = in.generic_string();
      }
    }
    auto st = fs::status(it->path(), e2);
    json e = {{"rel", r.generic_string()}, {"link", link}, {"target", target}};
    if (e2 || st.type() == fs::file_type::not_found) {
      e["t"] = "broken";
    } else if (fs::is_directory(st)) {
      e["t"] = "dir";
      // A link to a folder outside the tree is walked through: its entries are recorded beneath
      // it (the skeleton makes it a link to a stand-in folder that holds them).
      entries.push_back(e);
      bool skipped =
          name.starts_with(".") || name.starts_with("analysis_") || name.starts_with("comparison_");
      // A link to a folder of the same tree is that folder, recorded where it is.
      if (!skipped && target.empty() && depth < 30) record_dir(base, r, depth + 1, entries);
      continue;
    } else if (fs::is_regular_file(st)) {
      e["t"] = "file";
      // A link to a file is read through, as discovery reads it.
      e["seen"] = seen_json(core::see_file(it->path(), kind_probes(), {}));
    } else {
      e["t"] = "other";
    }
    entries.push_back(std::move(e));
  }
}

json record_tree(const std::string& arg) {
  // The folder's own name (discovery names a job after it: "." is the current folder's name).
  std::error_code ec0;
  fs::path abs = fs::absolute(arg, ec0).lexically_normal();
  if (abs.filename().empty()) abs = abs.parent_path();
  json t = {{"arg", arg}, {"name", abs.filename().string()}};
  std::error_code ec;
  if (fs::is_directory(arg, ec)) {
    t["t"] = "dir";
    json entries = json::array();
    record_dir(arg, {}, 0, entries);
    t["entries"] = std::move(entries);
  } else {
    t["t"] = "file";
    t["seen"] = seen_json(core::see_file(arg, kind_probes(), {}));
  }
  return t;
}

uint64_t bytes_under(const std::vector<std::string>& paths) {
  uint64_t n = 0;
  std::set<std::string> seen;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!seen.insert(p).second) continue;
    if (fs::is_directory(p, ec)) {
      for (fs::recursive_directory_iterator
               it(p, fs::directory_options::skip_permission_denied, ec),
           end;
           !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec)) n += it->file_size(ec);
    } else if (fs::is_regular_file(p, ec)) {
      n += fs::file_size(p, ec);
    }
  }
  return n;
}

std::string human_bytes(uint64_t b) {
  if (b < 10 * 1024) return fmt::format("{} B", b);
  if (b < 10 * 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(b) / 1024);
  if (b < 10ull * 1024 * 1024 * 1024)
    return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1024 * 1024));
  return fmt::format("{:.1f} GiB", static_cast<double>(b) / (1024.0 * 1024 * 1024));
}

}  // namespace

const std::vector<std::string>& partial_kinds() {
  static const std::vector<std::string> k{"srtctl"};
  return k;
}

int run_partial(const PartialArgs& args, const std::string& version) {
  for (const auto& in : args.inputs)
    if (in == "-")
      return error(
          "partial: standard input cannot be a partial's input (a partial stands for files on this "
          "node); "
          "give files or folders");
  Plan plan;
  try {
    if (args.kind.empty()) {
      plan = plan_jobs(args.inputs);
    } else {
      // The node's share of a job may not show what makes the job recognisable (log.out lives on
      // the head node): every input is one job of the kind named.
      for (const auto& in : args.inputs) {
        std::error_code ec;
        if (!fs::exists(in, ec))
          throw std::runtime_error(fmt::format("{}: {}", in, std::strerror(ENOENT)));
      }
      // An srtctl job folder named on the command line, as discovery plans one.
      if (args.inputs.size() != 1 || !fs::is_directory(args.inputs.front()))
        throw std::runtime_error(
            "partial --kind srtctl: give the one job folder (this node's share of it)");
      PlannedJob pj;
      pj.kind = args.kind;
      pj.root = args.inputs.front();
      std::string name = pj.root;
      while (name.size() > 1 && name.back() == '/') name.pop_back();
      pj.name = fs::path(name).filename().string();
      if (pj.name.empty()) pj.name = name;
      pj.dirs.push_back(pj.root);
      plan.jobs.push_back(std::move(pj));
    }
  } catch (const std::exception& e) {
    return error(e.what());
  }
  // The output file is made now: a FILE that cannot be written is said before any time is spent.
  std::optional<AtomicFile> out;
  try {
    out.emplace(args.out, "partial");
  } catch (const std::exception& e) {
    return error(e.what());
  }
  json doc;
  doc["format"] = "analyze-logs partial";
  doc["version"] = version;
  doc["host"] = host_name();
  doc["created"] = now_utc();
  doc["arguments"] = args.inputs;
  doc["forced_kind"] = args.kind;
  json jobs = json::array();
  std::vector<std::string> all_paths;
  try {
    for (const auto& pj : plan.jobs) {
      json j;
      j["plan"] = plan_json(pj);
      json hang = nullptr;
      j["state"] = kind_state(pj, args, hang);
      j["hang"] = std::move(hang);
      jobs.push_back(std::move(j));
      for (const auto& p : job_paths(pj)) all_paths.push_back(p.string());
      for (const auto& p : pj.hang_files) all_paths.push_back(p);
    }
  } catch (const FatalInputError& e) {
    return error(e.what());
  } catch (const std::exception& e) {
    return error(fmt::format("partial: {}", e.what()));
  }
  doc["jobs"] = std::move(jobs);
  json trees = json::array();
  for (const auto& in : args.inputs) trees.push_back(record_tree(in));
  // Files no kind claims whose end holds a hang marker (a silent rank's long log): with every
  // node's files seen they may be a prime-rl run's, read for its hang (attach_prime_hangs).
  std::vector<fs::path> loose;
  json late = json::array();
  for (const auto& t : trees) {
    if (t.at("t") != "dir") continue;
    for (const auto& e : t.at("entries")) {
      if (!e.contains("seen")) continue;
      core::FileSeen f = seen_from(e.at("seen"));
      if (!f.kind.empty() || f.binary || f.empty || !f.unreadable.empty()) continue;
      fs::path p = fs::path(t.at("arg").get<std::string>()) / e.at("rel").get<std::string>();
      if (late.size() < 10000 && hangs::tail_has_hang_marker(p)) {
        late.push_back(p.string());
        loose.push_back(p);
      }
    }
  }
  doc["trees"] = std::move(trees);
  json loose_hang = hangs::partial_state(loose);
  loose_hang["marked"] = json::array();
  loose_hang["late"] = std::move(late);
  doc["loose_hang"] = std::move(loose_hang);
  std::string payload;
  try {
    std::vector<uint8_t> cbor = json::to_cbor(doc);
    doc = json();  // the tree goes before the compressed copy is made
    payload = compress(cbor);
  } catch (const std::exception& e) {
    return error(fmt::format("partial: {}", e.what()));
  }
  std::string file(kMagic, sizeof kMagic);
  put_u32le(file, kContainer);
  file += payload;
  try {
    out->commit(file);
  } catch (const std::exception& e) {
    return error(e.what());
  }
  if (!args.quiet) {
    uint64_t in = bytes_under(all_paths);
    std::map<std::string, size_t> kinds_seen;
    for (const auto& pj : plan.jobs) ++kinds_seen[pj.kind];
    std::string what;
    for (const auto& [k, n] : kinds_seen)
      what += fmt::format("{}{} {}", what.empty() ? "" : ", ", n, k);
    std::fprintf(
        stderr,
        "analyze-logs: partial: %zu job%s (%s) from %s of files -> %s: %s (%.2f %% of the input)\n",
        plan.jobs.size(), plan.jobs.size() == 1 ? "" : "s", what.c_str(), human_bytes(in).c_str(),
        args.out.c_str(), human_bytes(file.size()).c_str(),
        in ? 100.0 * static_cast<double>(file.size()) / static_cast<double>(in) : 0.0);
  }
  return kExitOk;
}

namespace {

struct ReadPartial {
  std::string file, host;
  std::vector<std::string> arguments;
  json doc;
};

ReadPartial read_partial(const std::string& file, const std::string& version) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw std::runtime_error(fmt::format("{}: {}", file, std::strerror(errno)));
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw std::runtime_error(fmt::format("{}: read error", file));
  std::string bytes = ss.str();
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw std::runtime_error(fmt::format(
        "{}: not a partial of analyze-logs (write one with `analyze-logs partial`)", file));
  const uint32_t container = get_u32le(bytes, 8);
  if (container != kContainer)
    throw std::runtime_error(
        fmt::format("{}: a partial of container version {} (this analyze-logs {} reads {}): "
                    "write it again with this version",
                    file, container, version, kContainer));
  ReadPartial p;
  p.file = file;
  try {
    std::vector<uint8_t> cbor = decompress(std::string_view(bytes).substr(12));
    p.doc = core::from_cbor_bounded(cbor);
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("{}: a corrupt partial ({}); write it again", file, e.what()));
  }
  try {
    if (p.doc.at("format") != "analyze-logs partial") throw std::runtime_error("not a partial");
    std::string v = p.doc.at("version").get<std::string>();
    if (v != version)
      throw std::invalid_argument(
          fmt::format("{}: written by analyze-logs {}; this is analyze-logs {}: write the partials "
                      "again with this version (their states are this version's own)",
                      file, v, version));
    p.host = p.doc.at("host").get<std::string>();
    p.arguments = p.doc.at("arguments").get<std::vector<std::string>>();
    if (!p.doc.at("jobs").is_array()) throw std::runtime_error("jobs is not a list");
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("{}: a corrupt partial ({}); write it again", file, e.what()));
  }
  return p;
}

// A skeleton of the union of several nodes' trees: every folder and link as it was, every file an
// empty file, in a private temporary folder removed when the merge has planned its jobs.
class Skeleton {
 public:
  Skeleton() {
    std::string tmpl = (fs::temp_directory_path() / "analyze-logs-merge-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      throw std::runtime_error(fmt::format("merge: a temporary folder: {}", std::strerror(errno)));
    dir_ = tmpl;
    cleanup_ = std::make_unique<interrupt::Cleanup>([d = dir_] {
      std::error_code ec;
      fs::remove_all(d, ec);
    });
  }
  ~Skeleton() {
    cleanup_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Skeleton(const Skeleton&) = delete;
  Skeleton& operator=(const Skeleton&) = delete;
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
  std::unique_ptr<interrupt::Cleanup> cleanup_;
};

struct Tree {
  std::string arg, name;
  bool is_dir = false;
  std::optional<core::FileSeen> seen;           // a file argument
  std::map<std::string, json> entries;          // rel -> entry, in the order first seen
  std::map<std::string, core::FileSeen> files;  // rel -> what it showed
};

void add_tree(std::vector<Tree>& trees, const json& t) {
  std::string arg = t.at("arg").get<std::string>();
  auto it = std::find_if(trees.begin(), trees.end(), [&](const Tree& x) { return x.arg == arg; });
  if (it == trees.end()) {
    trees.push_back({arg, t.at("name").get<std::string>(), false, std::nullopt, {}, {}});
    it = trees.end() - 1;
  }
  if (t.at("t") == "dir") {
    it->is_dir = true;
    for (const auto& e : t.at("entries")) {
      std::string rel = e.at("rel").get<std::string>();
      if (rel.empty() || fs::path(rel).is_absolute() || rel.find("..") != std::string::npos)
        throw std::runtime_error(fmt::format("an entry outside its folder: {}", rel));
      it->entries.emplace(rel, e);
      if (e.contains("seen")) {
        core::FileSeen f = seen_from(e.at("seen"));
        auto [at, fresh] = it->files.emplace(rel, f);
        // Two nodes' files under one path: the one a kind claimed stands for both.
        if (!fresh && at->second.kind.empty() && !f.kind.empty()) at->second = f;
      }
    }
  } else if (!it->seen || (it->seen->kind.empty() && t.contains("seen"))) {
    it->seen = seen_from(t.at("seen"));
  }
}

// Replaces the skeleton's paths by the arguments they stand for, in every string of the plan.
struct Rewrite {
  std::vector<std::pair<std::string, std::string>> pairs;  // skeleton prefix -> argument
  std::string operator()(std::string s) const {
    for (const auto& [from, to] : pairs)
      for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
  }
  void all(std::vector<std::string>& v) const {
    for (auto& x : v) x = (*this)(x);
  }
};

}  // namespace

Plan plan_from_partials(const std::vector<std::string>& files, const std::string& version) {
  struct PartJob {
    std::string file, host, kind, root;
    const json* state;
    const json* hang;
    bool used = false;
  };
  std::vector<ReadPartial> partials;
  std::set<std::string> seen_files;
  for (const auto& file : files) {
    std::error_code ec;
    std::string id = fs::weakly_canonical(file, ec).string();
    if (!seen_files.insert(ec ? file : id).second)
      throw std::runtime_error(
          fmt::format("{}: given twice (its files would be counted twice)", file));
    partials.push_back(read_partial(file, version));
  }
  std::vector<Tree> trees;
  std::vector<PartJob> parts;
  std::vector<core::PartState> loose;  // every partial's hang parts of files no kind claimed
  for (const auto& p : partials) {
    try {
      for (const auto& t : p.doc.at("trees")) add_tree(trees, t);
      loose.push_back({p.host, p.doc.at("loose_hang")});
      for (const auto& j : p.doc.at("jobs"))
        parts.push_back({p.file, p.host, j.at("plan").at("kind").get<std::string>(),
                         j.at("plan").at("root").get<std::string>(), &j.at("state"),
                         &j.at("hang")});
    } catch (const std::exception& e) {
      throw std::runtime_error(
          fmt::format("{}: a corrupt partial ({}); write it again", p.file, e.what()));
    }
  }
  Plan plan;
  {
    // Discovery over the skeleton, each file showing what it showed on its node.
    Skeleton sk;
    std::vector<std::string> args;
    std::map<std::string, core::FileSeen> seen;  // skeleton path -> what the file showed
    Rewrite rw;
    for (size_t i = 0; i < trees.size(); ++i) {
      const Tree& t = trees[i];
      std::string base =
          t.name.empty() || t.name == "." || t.name == ".." || t.name == "/" ? "root" : t.name;
      fs::path root = sk.dir() / fmt::format("{:04}", i) / base;
      std::string a = t.arg;
      bool slash = a.size() > 1 && a.back() == '/';
      if (t.is_dir) {
        fs::create_directories(root);
        // Links to folders outside the tree first (their entries are made through them, in a
        // stand-in), then folders and files, then the other links (to what is in the tree, or
        // to a stand-in file).
        size_t stand_ins = 0;
        for (int pass = 0; pass < 3; ++pass)
          for (const auto& [rel, e] : t.entries) {
            const bool link = e.at("link").get<bool>();
            const std::string type = e.at("t").get<std::string>();
            const std::string target = e.at("target").get<std::string>();
            const bool outer_dir = link && type == "dir" && target.empty();
            if ((pass == 0) != outer_dir || (pass == 1) == link) continue;
            fs::path at = root / rel;
            std::error_code ec;
            fs::create_directories(at.parent_path(), ec);
            if (link) {
              fs::path to = type == "broken" ? sk.dir() / "missing"
                            : !target.empty()
                                ? root / target
                                : sk.dir() / fmt::format("stand-in-{}-{}", i, ++stand_ins);
              if (type != "broken" && target.empty()) {
                if (type == "dir")
                  fs::create_directories(to, ec);
                else
                  std::ofstream(to).put('\0');
              }
              fs::create_symlink(to, at, ec);
            } else if (type == "dir") {
              fs::create_directories(at, ec);
            } else if (type == "file") {
              std::ofstream(at.string());
            } else if (type == "other") {
              ::mkfifo(at.c_str(), 0600);
            }
            if (ec)
              throw std::runtime_error(fmt::format("merge: {}: {}", at.string(), ec.message()));
          }
        for (const auto& [rel, f] : t.files) seen.emplace((root / rel).string(), f);
        args.push_back(root.string() + (slash ? "/" : ""));
      } else {
        fs::create_directories(root.parent_path());
        fs::path file = root;
        std::ofstream(file.string());
        if (t.seen) seen.emplace(file.string(), *t.seen);
        args.push_back(file.string());
      }
      rw.pairs.push_back({args.back(), a});
      if (slash) rw.pairs.push_back({root.string(), a.substr(0, a.size() - 1)});
    }
    std::sort(rw.pairs.begin(), rw.pairs.end(),
              [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
    core::DiscoverOptions dopt;
    dopt.seen = [&](const fs::path& p) -> std::optional<core::FileSeen> {
      auto it = seen.find(p.string());
      if (it != seen.end()) return it->second;
      return core::FileSeen{};  // a stand-in: an empty file
    };
    plan = plan_jobs(args, dopt);
    for (auto& pj : plan.jobs) {
      pj.name = rw(pj.name);
      pj.root = rw(pj.root);
      rw.all(pj.direct);
      rw.all(pj.files);
      rw.all(pj.dirs);
      rw.all(pj.hang_files);
      rw.all(pj.notes);
      rw.all(pj.roles);
      pj.first_name = rw(pj.first_name);
      pj.unrecognised = rw(pj.unrecognised);
      pj.looked_like = rw(pj.looked_like);
      for (auto& e : pj.inputs) {
        e.path = rw(e.path);
        e.reason = rw(e.reason);
      }
    }
  }
  // Each job's parts: prime-rl and hang states are read file by file (each job takes its own
  // files); an srtctl or Ray state goes to the job of its kind whose root holds its root.
  for (auto& pj : plan.jobs) {
    auto mp = std::make_shared<MergedParts>();
    for (auto& pt : parts) {
      bool mine =
          pt.kind == pj.kind && (pj.kind == "prime-rl" || pj.kind == "hang" ||
                                 path_under(pt.root, pj.root) || path_under(pj.root, pt.root));
      if (mine) {
        mp->states.push_back({pt.host, *pt.state});
        pt.used = true;
      }
      if (!pt.hang->is_null()) mp->hangs.push_back({pt.host, *pt.hang});
      // A file the hang kind claimed on its node may be a run's hang file with every node's seen.
      if (pt.kind == "hang") mp->hangs.push_back({pt.host, *pt.state});
    }
    for (const auto& l : loose) mp->hangs.push_back(l);
    pj.parts = mp;
  }
  if (plan.jobs.empty()) throw std::runtime_error("merge: the partials hold no job");
  // A job a node found whose kind no job of all the files together has (an srtctl share read with
  // --kind whose head node's files are in no partial): said, not dropped silently.
  for (const auto& pt : parts)
    if (!pt.used && (pt.kind == "srtctl" || pt.kind == "ray"))
      warn(fmt::format(
          "merge: {}: its {} job at {} is not a job of all the partials' files together (is the "
          "partial of the node holding the rest of it missing?); left out",
          pt.file, pt.kind, pt.root));
  return plan;
}

}  // namespace alog::cli
