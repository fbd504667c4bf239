// The Ray Body: the run's own detail below the shared header, on the testdata runs. It must not
// repeat the verdict or the findings, shows which ranks did not report a collective timeout, and
// writes the same JSON as to_json.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

#include "analyze_logs/ray.hpp"
#include "analyze_logs/render/render.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::ray;

namespace {

const std::filesystem::path kRay = std::filesystem::path(ALOG_TESTDATA) / "ray";

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

using alog::test_support::lines_of;

}  // namespace

TEST(RayBody, JsonIsToJson) {
  for (const char* run : {"training", "nccl_timeout", "actor_died", "stuck_shards"}) {
    RayReport r = analyze({kRay / run}, {});
    nlohmann::ordered_json j;
    make_body(r)->json(j);
    EXPECT_EQ(j, to_json(r)) << run;
  }
}

TEST(RayBody, TerminalShowsPhasesRanksAndActorsNotTheVerdict) {
  RayReport r = analyze({kRay / "nccl_timeout"}, {});
  ASSERT_TRUE(r.collective);
  std::string text = make_body(r)->text({false, 100});
  for (const auto& l : lines_of(text)) EXPECT_LE(render::display_width(l), 100u) << l;
  EXPECT_TRUE(text.starts_with("Phases:\n  #  phase ")) << text;
  for (const auto& p : r.phases) EXPECT_TRUE(contains(text, fmt::format("  {}  {}", p.number, p.name))) << p.name;
  EXPECT_TRUE(contains(text, "7  Training loop")) << text;
  EXPECT_TRUE(contains(text, "failed here")) << text;
  EXPECT_TRUE(contains(text, "Training: 1311/30000 (4 %)")) << text;
  EXPECT_TRUE(contains(text, "  reported: 0-1, 3\n")) << text;
  EXPECT_TRUE(contains(text, "  silent:   2  (")) << text;
  EXPECT_TRUE(contains(text, "Actors: 6 (")) << text;
  EXPECT_TRUE(contains(text, "TrainerActor pid 70213 rank 2: silent")) << text;
  // ok actors are counted, not listed.
  for (const auto& a : r.actors) {
    if (a.status != "ok") continue;
    EXPECT_FALSE(contains(text, fmt::format("pid {} ", a.pid))) << a.pid;
  }
  EXPECT_FALSE(contains(text, r.headline)) << text;
  EXPECT_FALSE(contains(text, "\x1b"));
  std::string color = make_body(r)->text({true, 100});
  EXPECT_TRUE(contains(color, "\x1b[31;1mfailed here\x1b[0m")) << color;
}

TEST(RayBody, TerminalOfAStuckRunShowsTheShardBar) {
  RayReport r = analyze({kRay / "stuck_shards"}, {});
  std::string text = make_body(r)->text({false, 100});
  EXPECT_TRUE(contains(text, "stuck")) << text;
  EXPECT_TRUE(contains(text, "Shard loading: ")) << text;
  EXPECT_TRUE(contains(text, "62 % (30/48)")) << text;
}

TEST(RayBody, MarkdownHasTheTablesWithoutVerdictOrFindings) {
  RayReport r = analyze({kRay / "nccl_timeout"}, {});
  std::string md = make_body(r)->markdown();
  EXPECT_TRUE(md.starts_with("## Run\n\n")) << md;
  EXPECT_FALSE(contains(md, "**Verdict")) << md;
  EXPECT_FALSE(contains(md, "## Findings")) << md;
  for (const char* h : {"## Phases", "| # | Phase |", "## Collective timeout", "- Silent (a worker file, no timeout line; likely stragglers): 2",
                        "## Actors"})
    EXPECT_TRUE(contains(md, h)) << h << "\n" << md;
  // to_markdown keeps the verdict and the findings.
  std::string whole = to_markdown(r);
  EXPECT_TRUE(contains(whole, "**Verdict: ")) << whole;
  EXPECT_TRUE(contains(whole, "## Findings")) << whole;
  EXPECT_TRUE(contains(whole, "## Collective timeout")) << whole;
}

TEST(RayBody, HtmlHasPhasesRanksAndActors) {
  RayReport r = analyze({kRay / "nccl_timeout"}, {});
  std::string html = make_body(r)->html();
  for (const char* h : {"<h2>Run</h2>", "<h2>Phases</h2>", "<h2>Collective timeout</h2>", "<h2>Actors</h2>",
                        "s-critical\">failed here</td>", "<td class=\"wrap s-critical\">2</td>"})
    EXPECT_TRUE(contains(html, h)) << h << "\n" << html;
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(contains(html, "Verdict"));
}
