// partial_state / merge_partials (partial.cpp): a job's files split over "nodes" in many ways,
// each node's share analysed alone at the same path (as on the nodes of one SLURM job), its state
// taken through CBOR, and the merge of the states compared byte for byte (save_report) with
// analyze_job over the whole folder. Also: the order of the parts does not matter, one path held
// by two hosts is kept from each, and a damaged state throws naming what is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "bundled.hpp"
#include "analyze_logs/srtctl.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog;
using namespace alog::srtctl;
using alog::test_support::TempDir;
using json = nlohmann::json;

namespace {

std::vector<fs::path> bundled_jobs() { return test_support::bundled_srtctl_jobs(); }

// Every regular file of `job`, as paths relative to it, sorted.
std::vector<std::string> files_of(const fs::path& job) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(job))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), job).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

void place(const fs::path& from, const fs::path& to, const std::vector<std::string>& files) {
  fs::remove_all(to);
  fs::create_directories(to);
  for (const auto& f : files) {
    fs::create_directories((to / f).parent_path());
    fs::copy_file(from / f, to / f);
  }
}

using Split = std::vector<std::vector<std::string>>;

// The first difference of two reports, as report.json text around it; empty when the CBOR of
// both is the same.
std::string report_diff(const JobReport& a, const JobReport& b) {
  auto ca = save_report(a), cb = save_report(b);
  if (ca == cb) return {};
  std::string ja = json::from_cbor(ca).dump(1), jb = json::from_cbor(cb).dump(1);
  size_t k = 0;
  while (k < ja.size() && k < jb.size() && ja[k] == jb[k]) ++k;
  size_t from = k > 300 ? k - 300 : 0;
  return "merged:\n" + ja.substr(from, 600) + "\n\nanalyze_job:\n" + jb.substr(from, 600) +
         (ja == jb ? "\n(the JSON texts agree: a difference in doubles' bits or NaN)" : "");
}

struct Outcome {
  JobReport merged, full;
  std::vector<core::PartState> parts;
};

// Each part at one fixed path `<tmp>/<job name>`, alone, as each node would hold it; its state
// through CBOR; then the whole folder at that path for analyze_job.
Outcome run_split(const fs::path& src, const Split& split, const TempDir& t,
                  const JobOptions& opt = JobOptions{.threads = 2}) {
  const fs::path at = t.path / "node" / src.filename();
  Outcome o;
  for (size_t k = 0; k < split.size(); ++k) {
    place(src, at, split[k]);
    json st = partial_state(at, opt);
    std::vector<uint8_t> cbor = json::to_cbor(st);
    o.parts.push_back({"node" + std::to_string(k), json::from_cbor(cbor)});
  }
  place(src, at, files_of(src));
  o.full = analyze_job(at, opt);
  o.merged = merge_partials(o.parts, opt);
  return o;
}

bool is_worker_log(const std::string& rel) {
  std::string fn = fs::path(rel).filename().string();
  return rel.find('/') == std::string::npos || rel.rfind("logs/", 0) == 0
             ? classify_log_file(fn).has_value()
             : false;
}

std::string role_of(const std::string& rel) {
  auto id = classify_log_file(fs::path(rel).filename().string());
  return id ? id->role : std::string();
}

// The splits the brief asks for: each file alone; round-robin into 2 and 3; worker logs apart
// from the rest; decode (and aggregated) workers apart from prefill workers and the rest.
std::vector<std::pair<std::string, Split>> splits_of(const std::vector<std::string>& files) {
  std::vector<std::pair<std::string, Split>> out;
  Split each;
  for (const auto& f : files) each.push_back({f});
  out.emplace_back("each file alone", each);
  for (size_t n : {2, 3}) {
    Split rr(n);
    for (size_t i = 0; i < files.size(); ++i) rr[i % n].push_back(files[i]);
    out.emplace_back("round-robin into " + std::to_string(n), rr);
  }
  Split workers(2);
  for (const auto& f : files) workers[is_worker_log(f) ? 0 : 1].push_back(f);
  out.emplace_back("workers apart", workers);
  Split roles(3);
  for (const auto& f : files) {
    std::string r = is_worker_log(f) ? role_of(f) : std::string();
    roles[r == "decode" || r == "agg" ? 0 : r == "prefill" ? 1 : 2].push_back(f);
  }
  out.emplace_back("decode apart from prefill", roles);
  return out;
}

void expect_all_splits_equal(const fs::path& job, const std::string& label) {
  const auto files = files_of(job);
  ASSERT_FALSE(files.empty()) << job;
  for (const auto& [name, split] : splits_of(files)) {
    TempDir t("alog_partial");
    Outcome o = run_split(job, split, t);
    EXPECT_EQ(report_diff(o.merged, o.full), "") << label << ", split: " << name;
    // Whatever order the parts come in.
    std::vector<core::PartState> rev(o.parts.rbegin(), o.parts.rend());
    EXPECT_EQ(report_diff(merge_partials(rev, JobOptions{.threads = 1}), o.full), "")
        << label << ", split: " << name << ", parts reversed";
  }
}

// A v2 (`outputs/{job}/logs/`) copy of a bundled job: its logs, log.out and benchmark.out under
// logs/, its result folders and {job_id}.json at the top.
fs::path v2_copy(const fs::path& src, const fs::path& parent) {
  fs::path dst = parent / src.filename();
  for (const auto& f : files_of(src)) {
    const bool top = f.find('/') != std::string::npos || fs::path(f).extension() == ".json";
    fs::path to = top ? dst / f : dst / "logs" / f;
    fs::create_directories(to.parent_path());
    fs::copy_file(src / f, to);
  }
  return dst;
}

std::string throw_text(const std::vector<core::PartState>& parts) {
  try {
    merge_partials(parts, JobOptions{});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

TEST(SrtctlPartial, EveryBundledJobEveryWayOfSplittingIt) {
  const auto jobs = bundled_jobs();
  ASSERT_GE(jobs.size(), 9u);
  for (const auto& job : jobs) {
    SCOPED_TRACE(job.filename().string());
    // The analysis is not trivial: something was read from the files.
    JobReport r = analyze_job(job);
    EXPECT_FALSE(r.logs.empty());
    expect_all_splits_equal(job, job.filename().string());
  }
}

TEST(SrtctlPartial, V2LayoutEveryWayOfSplittingIt) {
  for (const char* src :
       {"srtctl/logs/4459_2P_1D_20251122_041341", "srtctl/sweep/5003_2P_1D_20251201_100000"}) {
    TempDir t("alog_partial_v2");
    fs::path job = v2_copy(fs::path(ALOG_TESTDATA) / src, t.path);
    ASSERT_EQ(analyze_job(job).layout, "v2");
    expect_all_splits_equal(job, std::string("v2 ") + src);
  }
}

// The same job on a clock that is not UTC: its `...Z` stamps are not local, so the other reading
// of every file that has them is the one the merge must take.
TEST(SrtctlPartial, JobNotOnUtcEveryWayOfSplittingIt) {
  const fs::path src = fs::path(ALOG_TESTDATA) / "srtctl/logs/4459_2P_1D_20251122_041341";
  TempDir t("alog_partial_pst");
  const fs::path job = t.path / src.filename();
  place(src, job, files_of(src));
  std::string log_out = test_support::slurp(job / "log.out");
  const size_t at = log_out.find(" UTC 2025 with exit code");
  ASSERT_NE(at, std::string::npos);
  log_out.replace(at, 4, " PST");
  t.write((src.filename() / "log.out").string(), log_out);
  JobReport utc = analyze_job(src), pst = analyze_job(job);
  ASSERT_EQ(pst.topology.clock_zone, "PST");
  // The clock changes what the files say (a hit's time, a file's first stamp).
  size_t differ = 0;
  ASSERT_EQ(utc.logs.size(), pst.logs.size());
  for (size_t i = 0; i < utc.logs.size(); ++i)
    differ += utc.logs[i].first_time != pst.logs[i].first_time ||
              utc.logs[i].last_time != pst.logs[i].last_time;
  for (size_t i = 0; i < std::min(utc.failures.size(), pst.failures.size()); ++i)
    differ += utc.failures[i].time != pst.failures[i].time;
  EXPECT_GT(differ, 0u);
  expect_all_splits_equal(job, "4459 on PST");
}

// A node holding only worker logs does not know the clock (log.out) nor the windows
// (benchmark.out): the 4459 workers have Dynamo `...Z` lines and the job ran in UTC.
TEST(SrtctlPartial, ClockAndWindowsComeFromAnotherNode) {
  const fs::path job = fs::path(ALOG_TESTDATA) / "srtctl/logs/4459_2P_1D_20251122_041341";
  JobReport full = analyze_job(job);
  ASSERT_EQ(full.topology.clock_zone, "UTC");
  TempDir t("alog_partial_clock");
  const fs::path at = t.path / job.filename();
  place(job, at, {"watchtower-aqua-cn02_frontend.err"});
  json st = partial_state(at, JobOptions{});
  ASSERT_EQ(st["files"].size(), 1u);
  const json& s = st["files"][0]["state"];
  EXPECT_TRUE(s["utc_stamps"].get<bool>());
  // Both readings kept, the UTC one as the stamps that differ.
  ASSERT_TRUE(s["utc"].is_object());
  EXPECT_TRUE(s["utc"].contains("stamps"));
  // The frontend's error line is stamped `...Z`: its own stamp on a UTC clock, else the next one.
  ASSERT_EQ(s["scan"]["hits"].size(), 1u);
  EXPECT_FALSE(s["scan"]["hits"][0]["exact"].get<bool>());
  EXPECT_EQ(s["utc"]["stamps"]["hit_exact"], json::array({true}));
  // The folds are not kept: they are redone with the windows.
  place(job, at, {"watchtower-aqua-cn03_decode_w0.err"});
  const json w = partial_state(at, JobOptions{})["files"][0]["state"];
  ASSERT_FALSE(w["scan"]["batches"].is_null());
  EXPECT_GT(w["scan"]["batches"]["lines"].get<int>(), 0);
  EXPECT_TRUE(w["scan"]["batches"]["windows"].empty());
  EXPECT_TRUE(w["scan"]["batches"]["series"].empty());
  EXPECT_FALSE(w["buckets"].get_binary().empty());
}

// Past kSeriesExactBuckets buckets a worker's series is binned, and the windows (a warm-up and
// eight runs) each hold thousands of buckets: split worker by worker.
TEST(SrtctlPartial, GeneratedJobWorkerByWorker) {
  TempDir t("alog_partial_gen");
  const fs::path gen = fs::path(ALOG_TESTDATA).parent_path() / "tests/bench/gen_srtctl_job.py";
  std::string cmd = "python3 " + test_support::shell_quote(gen.string()) + " " +
                    test_support::shell_quote((t.path / "src").string()) +
                    " --workers 3 --mb 3 > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  fs::path job = fs::directory_iterator(t.path / "src")->path();
  const auto files = files_of(job);
  Split split(1);
  for (const auto& f : files)
    if (is_worker_log(f))
      split.push_back({f});
    else
      split[0].push_back(f);
  ASSERT_EQ(split.size(), 4u);
  Outcome o = run_split(job, split, t);
  ASSERT_EQ(o.full.batches.size(), 3u);
  for (const auto& wb : o.full.batches) {
    EXPECT_GT(wb.buckets, kSeriesExactBuckets);
    EXPECT_GT(wb.series_bin_s, 0);
    ASSERT_EQ(wb.windows.size(), 9u);
  }
  EXPECT_EQ(report_diff(o.merged, o.full), "");
  std::vector<core::PartState> rev(o.parts.rbegin(), o.parts.rend());
  EXPECT_EQ(report_diff(merge_partials(rev, JobOptions{}), o.full), "");
  // Buckets, not lines: each worker's state is a small share of its log.
  for (const auto& p : o.parts) {
    for (const auto& f : p.state["files"]) {
      if (f["type"] != "log") continue;
      const auto bytes = f["state"]["buckets"].get_binary().size();
      const auto log = fs::file_size(job / f["path"].get<std::string>());
      EXPECT_LT(bytes * 4, log) << f["path"];
    }
  }
}

TEST(SrtctlPartial, SamePathOnTwoHostsKeepsBoth) {
  const fs::path job = fs::path(ALOG_TESTDATA) / "srtctl/logs/4459_2P_1D_20251122_041341";
  const std::string dup = "watchtower-aqua-cn03_decode_w0.err";
  TempDir t("alog_partial_dup");
  const fs::path at = t.path / job.filename();
  place(job, at, files_of(job));
  std::vector<core::PartState> parts{{"hostb", partial_state(at, JobOptions{})}};
  place(job, at, {dup});
  parts.push_back({"hosta", partial_state(at, JobOptions{})});
  place(job, at, files_of(job));
  JobReport full = analyze_job(at);
  JobReport m = merge_partials(parts, JobOptions{});
  ASSERT_EQ(m.logs.size(), full.logs.size() + 1);
  std::vector<std::string> named;
  for (const auto& l : m.logs)
    if (l.file.find(':') != std::string::npos) named.push_back(l.file);
  EXPECT_EQ(named, (std::vector<std::string>{"hosta:" + dup, "hostb:" + dup}));
  // The other files keep their names.
  for (const auto& l : full.logs) {
    if (l.file == dup) continue;
    EXPECT_TRUE(std::any_of(m.logs.begin(), m.logs.end(), [&](const WorkerLog& x) {
      return x.file == l.file;
    })) << l.file;
  }
  size_t batches_named = 0;
  for (const auto& b : m.batches) batches_named += b.file.rfind("host", 0) == 0;
  EXPECT_EQ(batches_named, 2u);
  // The same part given twice counts once.
  std::vector<core::PartState> twice{parts[0], parts[0]};
  EXPECT_EQ(report_diff(merge_partials(twice, JobOptions{}), full), "");
}

TEST(SrtctlPartial, DamagedStateThrowsNamingWhatIsWrong) {
  const fs::path job = fs::path(ALOG_TESTDATA) / "srtctl/logs/4459_2P_1D_20251122_041341";
  const json good = partial_state(job, JobOptions{});
  auto log_entry = [](json& st) -> json& {
    for (auto& f : st["files"])
      if (f["type"] == "log" && !f["state"]["buckets"].get_binary().empty()) return f;
    throw std::logic_error("no log with buckets");
  };
  auto with = [&](auto edit) {
    json st = good;
    edit(st);
    return throw_text({{"h", st}});
  };
  EXPECT_EQ(throw_text({}), "srtctl partial state: no parts to merge");
  EXPECT_NE(with([](json& s) { s.erase("files"); }).find("missing key files"), std::string::npos);
  EXPECT_NE(with([](json& s) { s["version"] = 99; }).find("version 99 is not 1"),
            std::string::npos);
  EXPECT_NE(with([](json& s) { s["format"] = "prime-rl"; }).find("format is not srtctl-partial"),
            std::string::npos);
  EXPECT_NE(with([](json& s) { s["files"] = 3; }).find("files is not an array"), std::string::npos);
  std::string m = with([&](json& s) { log_entry(s)["state"]["scan"]["log"].erase("lines"); });
  EXPECT_NE(m.find("missing key log.lines"), std::string::npos) << m;
  EXPECT_NE(m.find("watchtower-aqua-"), std::string::npos) << m;  // which file
  m = with([&](json& s) { log_entry(s)["state"]["scan"]["hits"] = "x"; });
  EXPECT_NE(m.find(": scan: "), std::string::npos) << m;
  m = with([&](json& s) { log_entry(s)["state"]["buckets"] = "x"; });
  EXPECT_NE(m.find("buckets is not a byte string"), std::string::npos) << m;
  m = with([&](json& s) {
    auto& b = log_entry(s)["state"]["buckets"].get_binary();
    b.resize(b.size() - 1);
  });
  EXPECT_NE(m.find("batch buckets of "), std::string::npos) << m;
  EXPECT_NE(m.find("truncated at byte"), std::string::npos) << m;
  auto utc_entry = [](json& st) -> json& {
    for (auto& f : st["files"])
      if (f["type"] == "log" && f["state"]["utc"].is_object()) return f["state"]["utc"];
    throw std::logic_error("no log with both readings");
  };
  m = with([&](json& s) { utc_entry(s) = json::object({{"other", 1}}); });
  EXPECT_NE(m.find("utc has neither stamps nor whole"), std::string::npos) << m;
  m = with([&](json& s) { utc_entry(s)["stamps"]["hit_exact"].push_back(true); });
  EXPECT_NE(m.find("stamps do not match the scan's hits and tracebacks"), std::string::npos) << m;
  m = with([&](json& s) { s["files"][0]["type"] = "weird"; });
  EXPECT_NE(m.find("unknown file type 'weird'"), std::string::npos) << m;
  m = with([&](json& s) { s["files"][0]["state"] = json::array(); });
  EXPECT_NE(m.find("file " + good["files"][0]["path"].get<std::string>()), std::string::npos) << m;
  // Two jobs' parts.
  json other = good;
  other["name"] = "4460_2P_1D_20251122_061502";
  m = throw_text({{"a", good}, {"b", other}});
  EXPECT_NE(m.find("parts of different jobs"), std::string::npos) << m;
  // One host, two different states of one file.
  json changed = good;
  log_entry(changed)["state"]["scan"]["log"]["lines"] = 1;
  m = throw_text({{"a", good}, {"a", changed}});
  EXPECT_NE(m.find("two different states of"), std::string::npos) << m;
  // The undamaged state merges.
  EXPECT_EQ(report_diff(merge_partials({{"h", good}}, JobOptions{}), analyze_job(job)), "");
}

// Every byte of a worker's buckets damaged in turn: the merge throws std::runtime_error or gives a
// report, and never crashes (the ASan build runs this too).
TEST(SrtctlPartial, DamagedBucketBytesNeverCrash) {
  const fs::path job = fs::path(ALOG_TESTDATA) / "srtctl/sweep/5003_2P_1D_20251201_100000";
  const json good = partial_state(job, JobOptions{});
  size_t file = SIZE_MAX;
  for (size_t i = 0; i < good["files"].size(); ++i)
    if (good["files"][i]["type"] == "log" &&
        good["files"][i]["state"]["buckets"].get_binary().size() > 100)
      file = i;
  ASSERT_NE(file, SIZE_MAX);
  const size_t n = good["files"][file]["state"]["buckets"].get_binary().size();
  size_t thrown = 0, merged = 0;
  for (size_t i = 0; i < n; ++i)
    for (int flip : {0x01, 0x80, 0xff}) {
      json st = good;
      auto& b = st["files"][file]["state"]["buckets"].get_binary()[i];
      b = static_cast<uint8_t>(b ^ flip);
      try {
        JobReport r = merge_partials({{"h", st}}, JobOptions{});
        EXPECT_FALSE(r.name.empty());
        ++merged;
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("batch buckets of "), std::string::npos) << e.what();
        ++thrown;
      }
    }
  EXPECT_EQ(thrown + merged, 3 * n);
  EXPECT_GT(thrown, 0u);
  EXPECT_GT(merged, 0u);
}

TEST(SrtctlPartial, NotAFolderThrows) {
  TempDir t("alog_partial_nodir");
  EXPECT_THROW(partial_state(t.path / "nope", JobOptions{}), std::runtime_error);
}
