// `compare` for every job kind: Ray runs (phase durations, progress, verdicts, the gate), srtctl
// job sets and analysis folders, mixed kinds as a usage error, report.json schemas 1 and 2. The
// library through compare_any, and the real binary for exit statuses and messages.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze_logs/compare.hpp"
#include "analyze_logs/ray.hpp"
#include "child.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
namespace ac = alog::compare;

namespace {

using alog::test_support::TempDir;

const fs::path kData = ALOG_TESTDATA;

std::string ray_run(const char* name) {
  return (kData / "ray" / name).string();
}
std::string job(const char* name) {
  return (kData / "srtctl" / "logs" / name).string();
}
const char* kJob59 = "4459_2P_1D_20251122_041341";
const char* kJob60 = "4460_2P_1D_20251122_061502";
const char* kJob61 = "4461_2P_1D_20251122_080011";

ac::Options options(std::vector<std::string> runs, std::optional<double> gate = std::nullopt) {
  ac::Options o;
  o.runs = std::move(runs);
  o.fail_on_regression_pct = gate;
  return o;
}

// Widest line, in code points (the terminal's columns for this text).
size_t widest_line(const std::string& text) {
  size_t best = 0, n = 0;
  for (unsigned char c : text) {
    if (c == '\n') {
      best = std::max(best, n);
      n = 0;
    } else if ((c & 0xC0) != 0x80) {
      ++n;
    }
  }
  return std::max(best, n);
}

void expect_plain_terminal(const std::string& t) {
  EXPECT_LE(widest_line(t), 100u) << t;
  for (const char* md : {"\\_", "\\|", "\\*", "**", "<br>", "|---", "&amp;"})
    EXPECT_EQ(t.find(md), std::string::npos) << md << " in\n" << t;
}

nlohmann::json ray_body(const std::vector<fs::path>& inputs) {
  return nlohmann::json(alog::ray::to_json(alog::ray::analyze(inputs, alog::ray::Options{})));
}

const nlohmann::ordered_json& phase(const ac::Result& r, int number) {
  return r.json["phases"][static_cast<size_t>(number - 1)];
}

// The single driver log of a testdata Ray run.
fs::path driver_log_of(const std::string& run) {
  for (const auto& e : fs::directory_iterator(fs::path(run) / "running_logs")) return e.path();
  return {};
}

alog::test_support::ChildOutcome run_binary(std::vector<std::string> args) {
  args.insert(args.begin(), alog::test_support::binary_under_test().string());
  return alog::test_support::run_piped(std::move(args));
}

// `analyze-logs ARGS -o parent` and the analysis folder it wrote.
fs::path analyse_with_binary(std::vector<std::string> inputs, const fs::path& parent) {
  inputs.push_back("-o");
  inputs.push_back(parent.string());
  auto o = run_binary(inputs);
  EXPECT_EQ(o.status, 0) << o.err;
  for (const auto& e : fs::directory_iterator(parent))
    if (e.path().filename().string().starts_with("analysis_")) return e.path();
  ADD_FAILURE() << "no analysis folder in " << parent << "\n" << o.out << o.err;
  return {};
}

}  // namespace

// ---- Ray ------------------------------------------------------------------------------------

TEST(CompareRay, NcclTimeoutAgainstTrainingShowsPhasesProgressAndVerdicts) {
  auto r = ac::compare_any(options({ray_run("training"), ray_run("nccl_timeout")}));
  EXPECT_EQ(r.json["kind"], "comparison");
  EXPECT_EQ(r.json["family"], "ray");
  const auto& runs = r.json["runs"];
  ASSERT_EQ(runs.size(), 2u);
  // The values are the Ray analysis's own, side by side.
  auto base = ray_body({ray_run("training")});
  auto other = ray_body({ray_run("nccl_timeout")});
  EXPECT_EQ(runs[0]["verdict"], base["verdict"]);
  EXPECT_EQ(runs[1]["verdict"], "failed");
  EXPECT_NE(base["verdict"], "failed");
  EXPECT_TRUE(runs[1]["verdict_worse"]);
  EXPECT_EQ(runs[1]["root_cause"]["kind"], "nccl_timeout");
  EXPECT_EQ(runs[1]["training"]["n"], other["training"]["n"]);
  EXPECT_EQ(runs[1]["training"]["total"], other["training"]["total"]);
  EXPECT_EQ(runs[0]["training"]["loss"], base["training"]["postfix"]["loss"]);
  for (int n = 1; n <= 7; ++n) {
    const auto& p = phase(r, n);
    auto idx = static_cast<size_t>(n - 1);
    EXPECT_EQ(p["runs"][0]["duration_s"], base["phases"][idx]["duration_s"]) << n;
    EXPECT_EQ(p["runs"][1]["duration_s"], other["phases"][idx]["duration_s"]) << n;
    if (p["runs"][0]["duration_s"].is_number() && p["runs"][1]["duration_s"].is_number()) {
      EXPECT_EQ(
          p["runs"][1]["change"]["abs_s"].get<int64_t>(),
          p["runs"][1]["duration_s"].get<int64_t>() - p["runs"][0]["duration_s"].get<int64_t>());
    }
  }
  // Without a gate nothing is a regression, however much worse the verdict.
  EXPECT_TRUE(r.regressions.empty());
  EXPECT_EQ(r.json["regressed"], false);
  EXPECT_TRUE(
      r.verdict.starts_with(base["verdict"].get<std::string>() + " → failed (nccl_timeout)"))
      << r.verdict;
  EXPECT_NE(r.terminal.find("nccl_timeout  failed!"), std::string::npos) << r.terminal;
  EXPECT_NE(r.terminal.find("P5 SglEngine init"), std::string::npos) << r.terminal;
  EXPECT_NE(r.markdown.find("## Phase durations"), std::string::npos);
  EXPECT_NE(r.markdown.find("## Training progress"), std::string::npos);
  expect_plain_terminal(r.terminal);
}

TEST(CompareRay, TheGateTripsOnAVerdictThatGotWorse) {
  for (const char* worse : {"nccl_timeout", "actor_died"}) {
    auto r = ac::compare_any(options({ray_run("training"), ray_run(worse)}, 10.0));
    ASSERT_FALSE(r.regressions.empty()) << worse;
    EXPECT_TRUE(r.regressions[0].starts_with(std::string(worse) + ": verdict "))
        << r.regressions[0];
    EXPECT_NE(r.regressions[0].find("→ failed"), std::string::npos) << r.regressions[0];
    EXPECT_EQ(r.json["regressions"][0]["what"], "verdict");
    EXPECT_EQ(r.json["regressed"], true);
  }
  // The other way round the verdict got better: not a regression.
  auto r = ac::compare_any(options({ray_run("actor_died"), ray_run("training")}, 10.0));
  for (const auto& g : r.json["regressions"]) EXPECT_NE(g["what"], "verdict") << g.dump();
  EXPECT_EQ(r.json["runs"][1]["verdict_worse"], false);
}

TEST(CompareRay, PhaseDurationGateJudgesOnlyPhasesDoneInBothRuns) {
  nlohmann::json body = ray_body({ray_run("training")});
  ac::Run a{"a", "a", body, ""};
  ac::Run b{"b", "b", body, ""};
  auto& ph = b.report["phases"];
  ASSERT_TRUE(ph[3]["done"].get<bool>());
  ASSERT_TRUE(ph[6]["ongoing"].get<bool>());
  int64_t p4 = ph[3]["duration_s"].get<int64_t>();
  ph[3]["duration_s"] = p4 * 3 / 2;                              // phase 4, done in both: +50 %
  ph[2]["duration_s"] = ph[2]["duration_s"].get<int64_t>() + 5;  // phase 3: +5 s (jitter)
  ph[6]["duration_s"] = ph[6]["duration_s"].get<int64_t>() * 3;  // phase 7: still running
  auto r = ac::compare_ray_runs({a, b}, options({"a", "b"}, 10.0));
  ASSERT_EQ(r.regressions.size(), 1u) << r.json["regressions"].dump(2);
  EXPECT_EQ(r.json["regressions"][0]["what"], "phase_duration");
  EXPECT_EQ(r.json["regressions"][0]["phase"], 4);
  EXPECT_EQ(r.json["regressions"][0]["baseline_s"], p4);
  EXPECT_FALSE(phase(r, 7)["runs"][1]["change"]["gated"].get<bool>());
  EXPECT_TRUE(phase(r, 3)["runs"][1]["change"]["gated"].get<bool>());
  EXPECT_FALSE(phase(r, 3)["runs"][1]["change"]["regression"].get<bool>());
  // A gate above the change lets it through; no gate, no regression.
  EXPECT_TRUE(ac::compare_ray_runs({a, b}, options({"a", "b"}, 60.0)).regressions.empty());
  EXPECT_TRUE(ac::compare_ray_runs({a, b}, options({"a", "b"})).regressions.empty());
  // Shorter is never worse.
  EXPECT_TRUE(ac::compare_ray_runs({b, a}, options({"b", "a"}, 10.0)).regressions.empty());
}

TEST(CompareRay, ARunGivenThreeWaysLoadsAsRay) {
  const std::string run = ray_run("nccl_timeout");
  const fs::path driver = driver_log_of(run);
  const fs::path session = fs::path(run) / "session_latest" / "logs";
  ASSERT_FALSE(driver.empty());
  TempDir tmp;
  // An analysis folder written by analyze-logs on the driver log and the session folder.
  fs::path analysis = analyse_with_binary({driver.string(), session.string()}, tmp.path);
  ASSERT_FALSE(analysis.empty());
  auto doc = nlohmann::json::parse(std::ifstream(analysis / "report.json"));
  ASSERT_EQ(doc["kind"], "ray");
  auto r = ac::compare_any(options({run, analysis.string(), driver.string()}));
  ASSERT_EQ(r.json["family"], "ray");
  EXPECT_EQ(r.json["runs"][0]["form"], "log folder");
  EXPECT_EQ(r.json["runs"][1]["form"], "analysis folder");
  EXPECT_EQ(r.json["runs"][2]["form"], "driver log");
  // The parent folder and driver log + session folder are the same run.
  auto both = ray_body({driver, session});
  EXPECT_EQ(r.json["runs"][0]["verdict"], both["verdict"]);
  EXPECT_EQ(r.json["runs"][1]["verdict"], both["verdict"]);
  for (int n = 1; n <= 7; ++n) {
    const auto& p = phase(r, n);
    EXPECT_EQ(p["runs"][0]["duration_s"], both["phases"][static_cast<size_t>(n - 1)]["duration_s"]);
    EXPECT_EQ(p["runs"][1]["duration_s"], p["runs"][0]["duration_s"]) << n;
  }
  EXPECT_EQ(r.json["runs"][1]["root_cause"], r.json["runs"][0]["root_cause"]);
  // A folder with per-node session folders beneath it (actor_died) is a Ray run too.
  auto r2 = ac::compare_any(options({ray_run("actor_died"), ray_run("training")}));
  EXPECT_EQ(r2.json["family"], "ray");
  EXPECT_EQ(r2.json["runs"][0]["root_cause"]["kind"], "cuda_oom");
}

// ---- mixed kinds ------------------------------------------------------------------------------

TEST(CompareKinds, MixingKindsIsAUsageErrorNamingBoth) {
  const std::string prime = (kData / "runs" / "prefix").string();
  const std::string ray = ray_run("training");
  const std::string srt = job(kJob59);
  auto message = [](std::vector<std::string> runs) -> std::string {
    try {
      (void)ac::compare_any(options(std::move(runs)));
    } catch (const std::invalid_argument& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("wrong exception: ") + e.what();
    }
    return "(compared)";
  };
  EXPECT_EQ(message({prime, srt}), "compare: cannot compare an srtctl job (" + srt +
                                       ") with a prime-rl run (" + prime +
                                       "): compare runs of one kind");
  EXPECT_EQ(message({srt, ray}), "compare: cannot compare a Ray run (" + ray +
                                     ") with an srtctl job (" + srt +
                                     "): compare runs of one kind");
  EXPECT_EQ(message({ray, prime}), "compare: cannot compare a prime-rl run (" + prime +
                                       ") with a Ray run (" + ray + "): compare runs of one kind");
  // The third argument is the odd one out.
  EXPECT_EQ(message({ray, ray_run("nccl_timeout"), srt}),
            "compare: cannot compare an srtctl job (" + srt + ") with a Ray run (" + ray +
                "): compare runs of one kind");
}

// ---- report.json schemas ----------------------------------------------------------------------

TEST(CompareKinds, Schema1And2ReportsCompareAndAHigherSchemaIsNamed) {
  TempDir tmp;
  const std::string before = (kData / "compare" / "before.report.json").string();
  // A schema-1 analysis folder (the file as an older build wrote it).
  fs::create_directories(tmp.path / "old");
  fs::copy_file(before, tmp.path / "old" / "report.json");
  auto v2 = nlohmann::json::parse(std::ifstream(before));
  ASSERT_EQ(v2["schema"], 1);
  v2["schema"] = 2;
  v2["cause"] = nullptr;
  v2["findings"] = nlohmann::json::array();
  v2["jobs"] = nlohmann::json::array();
  fs::path v2file = tmp.write("v2.report.json", v2.dump());
  auto r = ac::compare_any(options({(tmp.path / "old").string(), v2file.string(), before}));
  EXPECT_EQ(r.json["kind"], "comparison");
  EXPECT_FALSE(r.json.contains("family"));
  EXPECT_EQ(r.json["runs"].size(), 3u);

  // Ray reports of schema 1 and 2 (the same body), and a schema 3 one named in the error.
  TempDir out;
  fs::path analysis = analyse_with_binary({ray_run("training")}, out.path);
  auto doc = nlohmann::json::parse(std::ifstream(analysis / "report.json"));
  // The binary writes schema 2; the same body as an older build wrote it is schema 1.
  EXPECT_EQ(doc["schema"], 2);
  EXPECT_EQ(doc["verdict"], "running");
  doc["schema"] = 1;
  for (const char* k : {"verdict", "cause", "findings", "inputs", "jobs"}) doc.erase(k);
  fs::path ray2 = tmp.write("ray1.json", doc.dump());
  auto rr = ac::compare_any(options({analysis.string(), ray2.string()}));
  EXPECT_EQ(rr.json["family"], "ray");
  EXPECT_EQ(phase(rr, 5)["runs"][1]["change"]["abs_s"], 0);
  doc["schema"] = 3;
  fs::path ray3 = tmp.write("ray3.json", doc.dump());
  try {
    (void)ac::compare_any(options({analysis.string(), ray3.string()}));
    ADD_FAILURE() << "schema 3 compared";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), ray3.string() +
                                         ": report.json schema 3 is not supported (this build "
                                         "reads schemas 1 and 2)");
  }
}

// ---- srtctl -----------------------------------------------------------------------------------

TEST(CompareSrtctl, TwoJobSetsComparePerConcurrencyWithVerdicts) {
  TempDir tmp;
  for (auto [set, name] :
       {std::pair{"before", kJob59}, std::pair{"after", kJob60}, std::pair{"after", kJob61}}) {
    fs::create_directories(tmp.path / set);
    fs::copy(job(name), tmp.path / set / name, fs::copy_options::recursive);
  }
  auto r = ac::compare_any(
      options({(tmp.path / "before").string(), (tmp.path / "after").string()}, 5.0));
  ASSERT_EQ(r.json["family"], "srtctl");
  EXPECT_EQ(r.json["runs"][0]["form"], "job set");
  EXPECT_EQ(r.json["runs"][1]["jobs"].size(), 2u);
  // One row per concurrency per side, the set's verdict on every row.
  std::vector<int64_t> before, after;
  for (const auto& row : r.json["srtctl"]["rows"]) {
    if (!row["concurrency"].is_number()) continue;
    (row["baseline"].get<bool>() ? before : after).push_back(row["concurrency"].get<int64_t>());
    if (!row["baseline"].get<bool>()) {
      EXPECT_EQ(row["verdict"], "failed");
    }
  }
  EXPECT_EQ(before, (std::vector<int64_t>{64, 128, 256}));
  EXPECT_EQ(after, (std::vector<int64_t>{64, 128, 256}));
  // 4460 ran 128 slower than 4459 and is failed: both are regressions beyond 5 %.
  bool tput = false, verdict = false;
  for (const auto& g : r.regressions) {
    tput |= g.starts_with("after c=128: output_throughput");
    verdict |= g.starts_with("after: verdict healthy → failed");
  }
  EXPECT_TRUE(tput) << r.terminal;
  EXPECT_TRUE(verdict) << r.terminal;
  EXPECT_NE(r.terminal.find("out tok/s"), std::string::npos);
  expect_plain_terminal(r.terminal);
  // The full table is in COMPARE.md.
  EXPECT_NE(r.markdown.find("E2EL P99"), std::string::npos);
  // The benchmark points per GPU and per user, matched by ISL/OSL and concurrency: 4460 c128
  // made 184.28 output tok/s/GPU against 4459's 199.60 (16 GPUs each).
  const auto& pts = r.json["srtctl"]["points"];
  EXPECT_EQ(pts["baseline"], "before");
  bool c128 = false;
  for (const auto& row : pts["rows"]) {
    if (row["side"] != "after" || row["concurrency"] != 128) continue;
    c128 = true;
    EXPECT_EQ(row["point"], "4460 c128");
    EXPECT_EQ(row["gpus"], 16);
    EXPECT_NEAR(row["change_pct"]["output_tps_per_gpu"].get<double>(), (184.28 - 199.60) / 199.60 * 100, 0.01);
    EXPECT_FALSE(row["frontier"].get<bool>());
  }
  EXPECT_TRUE(c128);
  EXPECT_EQ(pts["frontiers"][0]["frontier"].size(), 3u);  // 4459's three points
  EXPECT_NE(r.terminal.find("Benchmark points against before"), std::string::npos) << r.terminal;
  EXPECT_NE(r.markdown.find("## Benchmark points against before"), std::string::npos);
  // The verdict stays the terminal's last line.
  EXPECT_TRUE(r.terminal.ends_with(r.verdict + "\n")) << r.terminal;
}

TEST(CompareSrtctl, AnAnalysisFolderComparesWithTheJobFolder) {
  TempDir tmp;
  fs::path analysis = analyse_with_binary({job(kJob60)}, tmp.path);
  ASSERT_FALSE(analysis.empty());
  auto r = ac::compare_any(options({job(kJob60), analysis.string()}, 5.0));
  ASSERT_EQ(r.json["family"], "srtctl");
  EXPECT_EQ(r.json["runs"][1]["form"], "analysis folder");
  // The same job read twice: every change is 0 and nothing regressed.
  size_t compared = 0;
  for (const auto& row : r.json["srtctl"]["rows"]) {
    if (row["baseline"].get<bool>()) continue;
    for (const auto& [k, v] : row["change_pct"].items()) {
      EXPECT_DOUBLE_EQ(v.get<double>(), 0.0) << k;
      ++compared;
    }
  }
  EXPECT_GT(compared, 10u);
  EXPECT_TRUE(r.regressions.empty()) << r.terminal;
  expect_plain_terminal(r.terminal);
  // The points of the analysis folder keep their GPU count (read back from report.json's meta):
  // per-GPU figures on both sides, every change 0.
  size_t points = 0;
  for (const auto& row : r.json["srtctl"]["points"]["rows"]) {
    EXPECT_EQ(row["gpus"], 16) << row.dump();
    if (row["baseline"].get<bool>()) continue;
    ++points;
    EXPECT_TRUE(row["matched"].get<bool>());
    for (const auto& [k, v] : row["change_pct"].items()) EXPECT_DOUBLE_EQ(v.get<double>(), 0.0) << k;
    EXPECT_TRUE(row["change_pct"].contains("output_tps_per_gpu"));
  }
  EXPECT_EQ(points, 2u);  // 4460's c64 and c128 (c256 never finished)
}

// ---- the binary -------------------------------------------------------------------------------

TEST(CompareKindsCli, RayRunsExitOneOnlyWithTheGate) {
  TempDir tmp;
  auto plain = run_binary(
      {"compare", ray_run("training"), ray_run("nccl_timeout"), "-o", tmp.path.string()});
  EXPECT_EQ(plain.status, 0) << plain.err;
  EXPECT_NE(plain.out.find("failed!"), std::string::npos) << plain.out;
  auto gated = run_binary({"compare", ray_run("training"), ray_run("nccl_timeout"),
                           "--fail-on-regression", "10", "-o", tmp.path.string()});
  EXPECT_EQ(gated.status, 1) << gated.err;
  std::string folder = gated.out.substr(0, gated.out.size() - 1);
  folder = folder.substr(folder.rfind('\n') + 1);
  auto j = nlohmann::json::parse(std::ifstream(fs::path(folder) / "compare.json"));
  EXPECT_EQ(j["family"], "ray");
  EXPECT_EQ(j["regressed"], true);
  EXPECT_NE(alog::test_support::slurp(fs::path(folder) / "COMPARE.md").find("Phase durations"),
            std::string::npos);
}

TEST(CompareKindsCli, MixedKindsExitTwoWithOneLineNamingBoth) {
  TempDir tmp;
  const std::string prime = (kData / "runs" / "prefix").string();
  const std::string ray = ray_run("training");
  const std::string srt = job(kJob59);
  struct Case {
    std::string a, b, first_noun, second_noun;
  };
  for (const auto& c : {Case{prime, srt, "an srtctl job", "a prime-rl run"},
                        Case{srt, ray, "a Ray run", "an srtctl job"},
                        Case{ray, prime, "a prime-rl run", "a Ray run"}}) {
    auto o = run_binary({"compare", c.a, c.b, "-o", tmp.path.string()});
    EXPECT_EQ(o.status, 2);
    EXPECT_EQ(o.err, "analyze-logs: compare: cannot compare " + c.first_noun + " (" + c.b +
                         ") with " + c.second_noun + " (" + c.a + "): compare runs of one kind\n");
    EXPECT_EQ(o.out, "");
  }
  EXPECT_TRUE(fs::is_empty(tmp.path));
}

TEST(CompareKindsCli, Schema1AnalysisFolderStillCompares) {
  TempDir tmp;
  fs::create_directories(tmp.path / "old");
  fs::copy_file(kData / "compare" / "before.report.json", tmp.path / "old" / "report.json");
  fs::create_directories(tmp.path / "out");
  auto o = run_binary({"compare", (tmp.path / "old").string(),
                       (kData / "compare" / "before.report.json").string(), "-o",
                       (tmp.path / "out").string()});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
}
