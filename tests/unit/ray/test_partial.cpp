// partial_state / merge_partials (the Ray part of `analyze-logs partial` and `merge`): for every
// testdata job, split its files across parts several ways, each part written on "a node" that
// holds only its files at the same path, through CBOR, and the merged report must be the report
// of analysing all the files in one place, byte for byte. Then fold() itself: the state of files
// scanned one by one and folded equals the state of the same files scanned in turn, on the
// testdata and on files built to cross the two dependencies between files (an actor's rank named
// by an earlier file; `Added N samples` after a later phase seen in an earlier file).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "../../../src/ray/internal.hpp"
#include "analyze_logs/ray.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace alog::ray;
using alog::core::PartState;
using nlohmann::json;

namespace {

const fs::path kRay = fs::path(ALOG_TESTDATA) / "ray";
const char* kCases[] = {"actor_died", "nccl_timeout", "stuck_shards", "training"};

// The files of a testdata job, relative to its folder, sorted.
std::vector<fs::path> files_of(const std::string& the_case) {
  std::vector<fs::path> v;
  for (const auto& e : fs::recursive_directory_iterator(kRay / the_case))
    if (e.is_regular_file()) v.push_back(e.path().lexically_relative(kRay / the_case));
  std::sort(v.begin(), v.end());
  return v;
}

uint64_t bytes_of(const std::string& the_case, const std::vector<fs::path>& files) {
  uint64_t n = 0;
  for (const auto& f : files) n += fs::file_size(kRay / the_case / f);
  return n;
}

// One folder at a fixed path that each "node" fills with its own files in turn.
struct Node {
  alog::test_support::TempDir tmp{"alog_ray_partial"};
  fs::path root = tmp.path / "job";

  void hold(const std::string& the_case, const std::vector<fs::path>& files) const {
    fs::remove_all(root);
    fs::create_directories(root);
    for (const auto& f : files) {
      fs::create_directories((root / f).parent_path());
      fs::copy_file(kRay / the_case / f, root / f);
    }
  }
  // The part `host` writes for `files`, through CBOR as a partial file carries it.
  PartState part(const std::string& host, const std::string& the_case,
                 const std::vector<fs::path>& files, size_t* cbor_bytes = nullptr) const {
    hold(the_case, files);
    json state = partial_state({root}, {});
    std::vector<uint8_t> cbor = json::to_cbor(state);
    if (cbor_bytes) *cbor_bytes += cbor.size();
    return PartState{host, json::from_cbor(cbor)};
  }
  std::string direct(const std::string& the_case) const {
    hold(the_case, files_of(the_case));
    return to_json(analyze({root}, {})).dump();
  }
};

// Where two reports part, for the failure message.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  if (i == a.size() && i == b.size()) return "identical";
  size_t from = i > 200 ? i - 200 : 0;
  return "merged: ..." + a.substr(from, 400) + "\ndirect: ..." + b.substr(from, 400);
}

using Split = std::vector<std::vector<fs::path>>;

std::vector<std::pair<std::string, Split>> splits_of(const std::vector<fs::path>& files) {
  std::vector<std::pair<std::string, Split>> out;
  // Each file alone, except that monitor.log goes with the raylet.out of its folder: a folder
  // with monitor.log alone is not a Ray session folder to discovery (nor is it on a Ray node).
  Split alone;
  for (const auto& f : files)
    if (f.filename() != "monitor.log") alone.push_back({f});
  for (const auto& f : files)
    if (f.filename() == "monitor.log")
      for (auto& part : alone)
        if (part.front() == f.parent_path() / "raylet.out") part.push_back(f);
  out.emplace_back("each file alone", alone);
  for (size_t n : {2, 3}) {
    Split rr(n);
    for (size_t i = 0; i < files.size(); ++i) rr[i % n].push_back(files[i]);
    out.emplace_back("round-robin into " + std::to_string(n), rr);
  }
  Split workers(2);
  for (const auto& f : files)
    workers[f.filename().string().starts_with("worker-") ? 0 : 1].push_back(f);
  out.emplace_back("worker files apart", workers);
  Split nodes(2);
  for (const auto& f : files) nodes[f.begin()->string().starts_with("node-") ? 0 : 1].push_back(f);
  if (!nodes[0].empty()) out.emplace_back("node subfolders apart", nodes);
  return out;
}

TEST(RayPartial, MergedReportEqualsTheDirectOneForEverySplitOfEveryJob) {
  for (const char* the_case : kCases) {
    Node node;
    const auto files = files_of(the_case);
    ASSERT_GE(files.size(), 5u) << the_case;
    for (const auto& [how, split] : splits_of(files)) {
      std::vector<PartState> parts;
      for (size_t i = 0; i < split.size(); ++i)
        parts.push_back(node.part("node-" + std::to_string(i), the_case, split[i]));
      const std::string expected = node.direct(the_case);
      const std::string merged = to_json(merge_partials(parts, {})).dump();
      EXPECT_TRUE(merged == expected) << the_case << ", " << how << "\n"
                                      << first_difference(merged, expected);
      // The order of the parts is not the order of the files.
      std::reverse(parts.begin(), parts.end());
      const std::string reversed = to_json(merge_partials(parts, {})).dump();
      EXPECT_TRUE(reversed == expected) << the_case << ", " << how << ", parts reversed\n"
                                        << first_difference(reversed, expected);
    }
  }
}

// An older run's driver log next to the newest, and an older session folder next to
// session_latest: discovery in one place ignores both. A node holding only the older ones sees
// them as the run; the merge decides as in one place.
TEST(RayPartial, OlderRunsAreIgnoredAmongThePartsAsInOnePlace) {
  alog::test_support::TempDir src{"alog_ray_src"};
  fs::copy(kRay / "training", src.path, fs::copy_options::recursive);
  const fs::path older_log = "running_logs/kimi25_3node_train_20260310_080000.log";
  const fs::path older_session = "session_2026-03-10_08-00-00_000000_1111/logs";
  fs::copy_file(src.path / "running_logs/kimi25_3node_train_20260311_061205.log",
                src.path / older_log);
  fs::create_directories(src.path / older_session);
  fs::copy_file(src.path / "session_latest/logs/raylet.out",
                src.path / older_session / "raylet.out");
  const std::string the_case = src.path.string();  // kRay / an absolute path is that path
  const auto files = files_of(the_case);
  Node node;
  const std::string expected = node.direct(the_case);
  RayReport direct = analyze({node.root}, {});
  ASSERT_EQ(direct.ignored.size(), 2u);
  EXPECT_EQ(direct.ignored[0], (node.root / older_session).string());
  EXPECT_EQ(direct.ignored[1], (node.root / older_log).string());
  EXPECT_EQ(direct.driver_logs,
            std::vector<std::string>{"running_logs/kimi25_3node_train_20260311_061205.log"});

  auto splits = splits_of(files);
  Split older(2);
  for (const auto& f : files)
    older[f == older_log || f.parent_path() == older_session ? 0 : 1].push_back(f);
  splits.emplace_back("older run apart", older);
  for (const auto& [how, split] : splits) {
    std::vector<PartState> parts;
    for (size_t i = 0; i < split.size(); ++i)
      parts.push_back(node.part("node-" + std::to_string(i), the_case, split[i]));
    node.hold(the_case, files);
    const std::string merged = to_json(merge_partials(parts, {})).dump();
    EXPECT_TRUE(merged == expected) << how << "\n" << first_difference(merged, expected);
  }
  // The part with the older run alone took it for the run.
  PartState alone = node.part("n", the_case, older[0]);
  ASSERT_EQ(alone.state["files"].size(), 2u);
  EXPECT_EQ(alone.state["ignored"].size(), 0u);
}

// What discovery could not read is in the part, and in the merged report as in the direct one.
TEST(RayPartial, DiscoveryProblemsAreCarried) {
  Node node;
  node.hold("stuck_shards", files_of("stuck_shards"));
  const std::vector<fs::path> inputs{node.root, node.root / "no_such_folder"};
  RayReport direct = analyze(inputs, {});
  ASSERT_EQ(direct.problems.size(), 1u);
  json state = json::from_cbor(json::to_cbor(partial_state(inputs, {})));
  ASSERT_EQ(state["problems"].size(), 1u);
  RayReport merged = merge_partials({PartState{"n", state}}, {});
  EXPECT_EQ(to_json(merged).dump(), to_json(direct).dump());
  EXPECT_EQ(merged.problems.front().message, "No such file or directory");
}

TEST(RayPartial, TheMergedReportIsARealOne) {
  // The equality above would hold for two empty reports; these are not.
  Node node;
  std::vector<PartState> parts;
  auto files = files_of("nccl_timeout");
  for (size_t i = 0; i < files.size(); ++i)
    parts.push_back(node.part("n" + std::to_string(i), "nccl_timeout", {files[i]}));
  RayReport r = merge_partials(parts, {});
  EXPECT_EQ(r.verdict, Verdict::failed);
  ASSERT_NE(r.root(), nullptr);
  EXPECT_EQ(r.root()->kind, "nccl_timeout");
  ASSERT_TRUE(r.collective.has_value());
  EXPECT_TRUE(r.collective->per_worker);
  EXPECT_FALSE(r.collective->silent_ranks.empty());
  EXPECT_EQ(r.worker_files, 12u);
  EXPECT_EQ(r.driver_logs,
            std::vector<std::string>{"running_logs/qwen3_8b_train_20260313_101502.log"});
  EXPECT_EQ(r.session_dirs, std::vector<std::string>{"session_latest/logs"});
}

TEST(RayPartial, StateSizeAgainstInputSize) {
  // The figures for docs/PERFORMANCE.md (printed). The testdata files are a few hundred bytes
  // each, about the size of one file's state, so there is no bound to check on them.
  for (const char* the_case : kCases) {
    Node node;
    auto files = files_of(the_case);
    size_t cbor = 0;
    node.part("n", the_case, files, &cbor);
    uint64_t in = bytes_of(the_case, files);
    std::printf("ray partial %-13s input %6llu B in %2zu files, state %6zu B CBOR (%.0f %%)\n",
                the_case, static_cast<unsigned long long>(in), files.size(), cbor,
                100.0 * static_cast<double>(cbor) / static_cast<double>(in));
  }
}

// The training job grown to a long run: tens of thousands of driver, worker and raylet lines,
// Training bars, harmless metrics-agent errors and one error line repeated 2,000 times.
TEST(RayPartial, ALongRunsStateStaysSmall) {
  Node node;
  node.hold("training", files_of("training"));
  const fs::path log = node.root / "running_logs/kimi25_3node_train_20260311_061205.log";
  std::string driver, worker, raylet;
  for (int i = 0; i < 40000; ++i) {
    int s = i * 2;
    std::string stamp = fmt::format("2026-03-11 {:02}:{:02}:{:02},{:03}", 12 + s / 3600,
                                    s / 60 % 60, s % 60, i % 1000);
    driver += fmt::format(
        "\x1b[36m(TrainerActor pid=387604)\x1b[0m [{}] trainer.py:301 INFO [Rank 0] step {} "
        "grad_norm=0.{} lr=1e-4\n",
        stamp, 5634 + i, 1000 + i % 9000);
    if (i % 10 == 0)
      driver += fmt::format(
          "Training:  40%|####      | {}/14085 [6:{:02}:{:02}<9:29:08,  4.00s/step, loss=0.9, "
          "acc=0.63]\n",
          5634 + i / 10, i / 600 % 60, i / 10 % 60);
    if (i % 20 == 0)
      driver += fmt::format(
          "\x1b[36m(SglEngine pid=387611)\x1b[0m [{}] Failed to establish connection to the "
          "metrics exporter agent. Metrics will not be exported.\n",
          stamp);
    if (i % 20 == 5)
      driver += fmt::format(
          "\x1b[36m(SglEngine pid=387611)\x1b[0m [{}] node-3:387611:387700 [3] NCCL WARN "
          "NET/IB : Got async event : port error\n",
          stamp);
    worker +=
        fmt::format("[{}] trainer.py:301 INFO [Rank 0] step {} tokens=1048576\n", stamp, 5634 + i);
    if (i % 2 == 0)
      raylet += fmt::format(
          "[{} I 387501 387501] (raylet) node_manager.cc:525: [state-dump] "
          "NodeManager: InitialConfigResources: {{GPU: 8}}\n",
          stamp);
  }
  auto append = [](const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::app | std::ios::binary) << text;
  };
  append(log, driver);
  fs::path worker_file, raylet_file = node.root / "session_latest/logs/raylet.out";
  for (const auto& e : fs::directory_iterator(node.root / "session_latest/logs"))
    if (e.path().filename().string().ends_with("-387604.err")) worker_file = e.path();
  ASSERT_FALSE(worker_file.empty());
  append(worker_file, worker);
  append(raylet_file, raylet);

  uint64_t in = 0;
  for (const auto& e : fs::recursive_directory_iterator(node.root))
    if (e.is_regular_file()) in += e.file_size();
  json state = partial_state({node.root}, {});
  const size_t cbor = json::to_cbor(state).size();
  std::printf("ray partial long run     input %llu B, state %zu B CBOR (%.3f %%)\n",
              static_cast<unsigned long long>(in), cbor,
              100.0 * static_cast<double>(cbor) / static_cast<double>(in));
  EXPECT_GT(in, 8u << 20);
  EXPECT_LT(cbor, in / 100);
  // The repeated error kept a few hits per file, and the merged report counts all 2,000.
  RayReport direct = analyze({node.root}, {});
  RayReport merged = merge_partials({PartState{"n", state}}, {});
  EXPECT_EQ(to_json(merged).dump(), to_json(direct).dump());
  uint64_t aborted = 0;
  for (const auto& f : merged.findings)
    if (f.evidence.size() && f.evidence.front().text.find("NCCL WARN NET/IB") != std::string::npos)
      aborted += f.occurrences;
  EXPECT_EQ(aborted, 2000u);
  EXPECT_EQ(state["files"][0]["state"]["hits"].size(), 8u);
}

TEST(RayPartial, SamePathOnTwoHostsKeepsBothFiles) {
  Node node;
  const std::string the_case = "nccl_timeout";
  auto files = files_of(the_case);
  fs::path worker;
  for (const auto& f : files)
    if (f.filename().string().ends_with("-70212.err")) worker = f;
  ASSERT_FALSE(worker.empty());
  std::vector<PartState> parts{node.part("node-a", the_case, files),
                               node.part("node-b", the_case, {worker})};
  node.hold(the_case, files);
  RayReport direct = analyze({node.root}, {});
  RayReport r = merge_partials(parts, {});
  EXPECT_EQ(r.worker_files, direct.worker_files + 1);
  // The driver log is held by one host only: its name is unchanged.
  EXPECT_EQ(r.driver_logs, direct.driver_logs);
  // The worker file is on both: each copy is named after its host (the folder is listed once).
  EXPECT_EQ(r.session_dirs, std::vector<std::string>{"session_latest/logs"});
  const std::string dump = to_json(r).dump();
  const std::string name = worker.generic_string();
  EXPECT_NE(dump.find("node-a:" + name), std::string::npos);
  EXPECT_NE(dump.find("node-b:" + name), std::string::npos);
  // Both files count: the actor of that pid has the lines of both.
  auto actor = [](const RayReport& rep, int64_t pid) -> const Actor* {
    for (const auto& a : rep.actors)
      if (a.pid == pid) return &a;
    return nullptr;
  };
  const Actor* one = actor(direct, 70212);
  const Actor* two = actor(r, 70212);
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  EXPECT_GT(one->file_lines, 0u);
  EXPECT_EQ(two->file_lines, 2 * one->file_lines);
  // Either order of the parts gives the same report.
  std::reverse(parts.begin(), parts.end());
  EXPECT_EQ(to_json(merge_partials(parts, {})).dump(), dump);
}

std::string error_of(const std::vector<PartState>& parts) {
  try {
    merge_partials(parts, {});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(RayPartial, ADamagedStateIsRefusedWithWhatIsWrong) {
  Node node;
  const PartState good = node.part("node-7", "training", files_of("training"));
  ASSERT_GE(good.state["files"].size(), 2u);
  auto damaged = [&](const std::function<void(json&)>& change) {
    PartState p = good;
    change(p.state);
    return error_of({p});
  };
  EXPECT_EQ(error_of({good}), "<no error>");
  std::string e = damaged([](json& j) { j["files"][1]["state"].erase("hits"); });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': files[1].state.hits: missing");
  e = damaged([](json& j) { j["files"][0]["state"]["driver_lines"] = "many"; });
  EXPECT_EQ(e,
            "Ray partial state of host 'node-7': files[0].state.driver_lines: expected an "
            "unsigned integer, got string");
  e = damaged([](json& j) {
    for (auto& p : j["files"][0]["state"]["phases"])
      if (!p.is_null()) p["first"]["line"] = -1;
  });
  EXPECT_NE(e.find("files[0].state.phases["), std::string::npos) << e;
  EXPECT_NE(e.find("].first.line: expected an unsigned integer, got number"), std::string::npos)
      << e;
  e = damaged([](json& j) { j["files"][0]["state"]["hits"] = json::array({json::object()}); });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': files[0].state.hits[0].kind: missing");
  e = damaged([](json& j) { j["files"][0]["kind"] = "printer"; });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': files[0].kind: unknown file kind 'printer'");
  e = damaged([](json& j) { j.erase("files"); });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': files: missing");
  e = damaged([](json& j) { j["version"] = 99; });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': version: expected 1, got 99");
  e = damaged([](json& j) { j = json::array(); });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': expected an object, got array");
  e = damaged([](json& j) { j["files"][0]["state"] = 3; });
  EXPECT_EQ(e,
            "Ray partial state of host 'node-7': files[0].state: expected an object, got number");
  e = damaged([](json& j) { j["files"][0].erase("state"); });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': files[0].state: missing");
  e = damaged([](json& j) { j["files"][0]["state"]["phases"] = json::array(); });
  EXPECT_EQ(e, "Ray partial state of host 'node-7': files[0].state.phases: expected an array of 7");
  e = damaged([](json& j) { j["files"][0]["state"]["actors"][0]["last_t"] = true; });
  EXPECT_EQ(e,
            "Ray partial state of host 'node-7': files[0].state.actors[0].last_t: expected an "
            "integer, got boolean");
}

// ---- fold() against scanning in turn ---------------------------------------------------------

using detail::InputFile;
using detail::ScanState;

// The state as JSON with the files, without what only a one-file state uses.
json comparable(const ScanState& st) {
  json j = detail::state_to_json(st);
  j.erase("added_early");
  j.erase("if_later");
  json files = json::array();
  for (const auto& f : st.files) files.push_back(detail::file_to_json(f));
  j["files"] = files;
  return j;
}

// Scanned in turn into one state (hits compacted as scan_one does), and each alone then folded.
std::pair<ScanState, ScanState> in_turn_and_folded(const std::vector<InputFile>& files) {
  ScanState seq;
  seq.files = files;
  for (size_t i = 0; i < files.size(); ++i) detail::scan_file(seq, i);
  detail::compact_hits(seq.hits);
  ScanState folded;
  for (const auto& f : files) detail::fold(folded, detail::scan_one(f));
  return {std::move(seq), std::move(folded)};
}

TEST(RayFold, FoldedStateEqualsTheStateScannedInTurnOnTestdata) {
  for (const char* the_case : kCases) {
    ScanState st;
    RayReport r;
    detail::discover({kRay / the_case}, st, r);
    ASSERT_GE(st.files.size(), 5u);
    auto [seq, folded] = in_turn_and_folded(st.files);
    EXPECT_GT(seq.hits.size() + seq.actors.size(), 0u) << the_case;
    EXPECT_EQ(comparable(folded).dump(), comparable(seq).dump()) << the_case;
    // Through JSON (the partial's form) and back, each file's state folds to the same state.
    ScanState through;
    for (const auto& f : st.files) {
      ScanState one =
          detail::state_from_json(detail::state_to_json(detail::scan_one(f)), f.display);
      one.files = {f};
      detail::fold(through, std::move(one));
    }
    EXPECT_EQ(comparable(through).dump(), comparable(seq).dump()) << the_case;
  }
}

InputFile file(const fs::path& p, detail::FileKind kind, int64_t pid = -1) {
  InputFile f;
  f.path = p;
  f.display = p.filename().string();
  f.kind = kind;
  f.pid = pid;
  f.err = kind == detail::FileKind::worker;
  return f;
}

TEST(RayFold, DependenciesBetweenFilesAreResolvedAtTheFold) {
  alog::test_support::TempDir tmp{"alog_ray_fold"};
  using detail::FileKind;
  // 1: a worker file names its rank; the placement-group phase starts; a stamped marker and a
  //    Training bar.
  auto a = tmp.write("worker-aa-100.err",
                     ":actor_name:TrainerActor\n"
                     "[2026-03-11 06:12:47,318] [Rank 3] starting\n");
  auto b = tmp.write("a.log",
                     "[2026-03-11 06:13:00,000] Connected to Ray cluster\n"
                     "[2026-03-11 06:20:00,000] Creating placement groups\n"
                     "[2026-03-11 06:30:00,000] Starting: num_steps=100\n"
                     "Training:  10%|#         | 10/100 [00:10<01:30,  1.00s/step]\n");
  // 2: the driver relays an OOM of that actor (no rank on the line); `Added N samples` after
  //    the earlier file's later phases is phase 7; a placement marker older than the newest one
  //    and one without a stamp; a Training bar without a time.
  //    (Before the file's first stamp a line has no time at all.)
  auto c = tmp.write("b.log",
                     "(TrainerActor pid=100) torch.OutOfMemoryError: CUDA out of memory. Tried "
                     "to allocate 2.00 GiB\n"
                     "Added 64 samples to controller\n"
                     "placement group with 8 bundles\n"
                     "Training:  20%|##        | 20/100 [00:20<01:20,  1.00s/step]\n"
                     "[2026-03-11 06:15:00,000] Creating placement groups\n");
  std::vector<InputFile> files{file(a, FileKind::worker, 100), file(b, FileKind::driver),
                               file(c, FileKind::driver)};
  auto [seq, folded] = in_turn_and_folded(files);
  EXPECT_EQ(comparable(folded).dump(), comparable(seq).dump());
  // Scanned alone, the second driver log decides otherwise: that is what the fold corrects.
  const ScanState alone = detail::scan_one(files[2]);
  EXPECT_EQ(alone.hits.front().rank, -1);
  EXPECT_TRUE(alone.phases[1].any);
  EXPECT_TRUE(alone.added_early);
  // What the fold had to resolve, as scanning in turn decided it.
  ASSERT_FALSE(folded.hits.empty());
  EXPECT_EQ(folded.hits.front().kind, "cuda_oom");
  EXPECT_EQ(folded.hits.front().rank, 3);
  EXPECT_EQ(folded.hits.front().file, 2u);
  EXPECT_FALSE(folded.phases[1].any);
  EXPECT_TRUE(folded.phases[7].any);
  // The newest placement marker of the first log stays `last` against the older one of the
  // second, which the second log alone would have kept; the one without a time replaces it.
  EXPECT_EQ(folded.phases[2].last.text, "placement group with 8 bundles");
  EXPECT_EQ(folded.phases[2].count, 4u);
  ASSERT_TRUE(folded.training.has_value());
  EXPECT_EQ(folded.training->n, 20);
  EXPECT_EQ(alone.phases[2].last.text, "[2026-03-11 06:15:00,000] Creating placement groups");

  // The other order: no later phase before `Added N samples`, which is then phase 1.
  std::vector<InputFile> reversed{files[2], files[1], files[0]};
  auto [seq2, folded2] = in_turn_and_folded(reversed);
  EXPECT_EQ(comparable(folded2).dump(), comparable(seq2).dump());
  EXPECT_TRUE(folded2.phases[1].any);
}

}  // namespace

namespace {

TEST(RayFold, ARepeatedErrorKeepsEightHitsAndTheSameReport) {
  alog::test_support::TempDir tmp{"alog_ray_repeat"};
  std::string log = "[2026-03-11 06:00:00,000] Connected to Ray cluster\n";
  for (int i = 0; i < 500; ++i)
    log += fmt::format(
        "[2026-03-11 06:{:02}:{:02},000] (SglEngine pid=7, ip=10.0.0.3) RuntimeError: CUDA error: "
        "an illegal memory access was encountered\n",
        10 + i / 60, i % 60);
  auto path = tmp.write("running_logs/x_20260311_060000.log", log);
  InputFile f = file(path, detail::FileKind::driver);
  ScanState all;
  all.files = {f};
  detail::scan_file(all, 0);
  ASSERT_EQ(all.hits.size(), 500u);
  ScanState one = detail::scan_one(f);
  ASSERT_EQ(one.hits.size(), 8u);
  uint64_t count = 0;
  for (const auto& h : one.hits) count += h.count;
  EXPECT_EQ(count, 500u);
  // decide() gives the same report from the 500 hits and from the 8.
  RayReport a, b;
  detail::decide(all, a, {});
  detail::decide(one, b, {});
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  ASSERT_FALSE(b.findings.empty());
  EXPECT_EQ(b.findings.front().occurrences, 500u);
}

}  // namespace

namespace {

// Log lines are bytes, not UTF-8: CBOR carries them as they were (JSON text could not).
TEST(RayPartial, NonUtf8BytesOfEvidenceSurviveThePart) {
  alog::test_support::TempDir tmp{"alog_ray_bytes"};
  tmp.write(
      "running_logs/x_20260311_060000.log",
      "+ python3 -m torchspec.train_entry\n"
      "[2026-03-11 06:00:00,000] Connected to Ray cluster\n"
      "[2026-03-11 06:00:01,000] torch.OutOfMemoryError: CUDA out of memory \xff\xfe caf\xe9\n");
  RayReport direct = analyze({tmp.path}, {});
  json state = json::from_cbor(json::to_cbor(partial_state({tmp.path}, {})));
  RayReport merged = merge_partials({PartState{"n", state}}, {});
  ASSERT_EQ(merged.findings.size(), 1u);
  ASSERT_FALSE(merged.findings.front().evidence.empty());
  const std::string& text = merged.findings.front().evidence.front().text;
  EXPECT_NE(text.find("\xff\xfe caf\xe9"), std::string::npos);
  EXPECT_EQ(text, direct.findings.front().evidence.front().text);
  auto dump = [](const RayReport& r) {
    return to_json(r).dump(-1, ' ', false, json::error_handler_t::replace);
  };
  EXPECT_EQ(dump(merged), dump(direct));
}

}  // namespace
