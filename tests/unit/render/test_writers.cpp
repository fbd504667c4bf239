// The writers on every srtctl and Ray testdata job (real bodies, hand-built headers): the
// terminal answer fits 100 columns with no Markdown escapes or HTML entities, colours only when
// asked, shows the root cause's file:line on the first screen; SUMMARY.md puts references and
// commands in code spans without escapes inside; report.html is balanced and has no scripts.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "analyze_logs/render/render.hpp"
#include "analyze_logs/util.hpp"
#include "render_jobs.hpp"
#include "support.hpp"

using namespace alog;
using namespace alog::test_support;

namespace {

using alog::test_support::lines_of;

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

void expect_clean_terminal(const std::string& text, size_t width) {
  for (const auto& l : lines_of(text)) EXPECT_LE(render::display_width(l), width) << "[" << l << "]";
  for (const char* bad : {"\\_", "&amp;", "&lt;", "&gt;", "\\|", "\\`", "\\*"})
    EXPECT_FALSE(contains(text, bad)) << bad << " in:\n" << text;
}

void expect_balanced_html(const std::string& html) {
  EXPECT_FALSE(contains(html, "<script")) << html;
  EXPECT_FALSE(contains(html, "<link"));
  EXPECT_FALSE(contains(html, "src="));
  for (const char* tag : {"html", "head", "body", "main", "section", "table", "tr", "ul", "li", "details", "div",
                          "h1", "h2", "h3", "p", "code"}) {
    std::regex open(std::string("<") + tag + "[ >]");
    auto n_open = std::distance(std::sregex_iterator(html.begin(), html.end(), open), std::sregex_iterator());
    EXPECT_EQ(n_open, static_cast<long>(count(html, std::string("</") + tag + ">"))) << "<" << tag << ">";
  }
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(html.ends_with("</html>\n"));
}

// Writes the outputs beside the build for a person to look at (ALOG_RENDER_DUMP=dir).
void dump(const std::string& name, const std::vector<core::Job>& jobs) {
  const char* dir = std::getenv("ALOG_RENDER_DUMP");
  if (!dir) return;
  std::filesystem::create_directories(std::filesystem::path(dir) / name);
  std::ofstream(std::filesystem::path(dir) / name / "terminal.txt") << render::report_text(jobs, {true, 100});
  std::ofstream(std::filesystem::path(dir) / name / "SUMMARY.md") << render::report_markdown(jobs);
  std::ofstream(std::filesystem::path(dir) / name / "report.html") << render::report_html(jobs);
}

struct Case {
  std::string kind, name;
};
std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (const auto& n : srtctl_job_names()) v.push_back({"srtctl", n});
  for (const auto& n : ray_job_names()) v.push_back({"ray", n});
  return v;
}
core::Job job_of(const Case& c) {
  return c.kind == "srtctl" ? srtctl_job(c.name) : ray_job(c.name);
}

class EveryJob : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(EveryJob, TerminalFitsHasNoEscapesAndColoursOnlyWhenAsked) {
  std::vector<core::Job> jobs;
  jobs.push_back(job_of(GetParam()));
  dump(GetParam().kind + "_" + GetParam().name, jobs);
  std::string plain = render::report_text(jobs, {false, 100});
  std::string color = render::report_text(jobs, {true, 100});
  expect_clean_terminal(plain, 100);
  expect_clean_terminal(color, 100);
  EXPECT_FALSE(contains(plain, "\x1b")) << plain;
  EXPECT_TRUE(contains(color, "\x1b[")) << color;
  // The verdict word opens the answer; the body is there too.
  auto lines = lines_of(plain);
  ASSERT_FALSE(lines.empty());
  std::string word(core::verdict_name(jobs[0].header.verdict));
  for (auto& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(lines[0].rfind(word + ": ", 0), 0u) << lines[0];
  const char* body_mark = GetParam().kind == "srtctl" ? "Job " : "Phases:";
  EXPECT_TRUE(contains(plain, body_mark)) << plain;
  // Narrower terminals are honoured too.
  expect_clean_terminal(render::report_text(jobs, {false, 60}), 60);
}

TEST_P(EveryJob, RootCauseFileLineIsOnTheFirstScreenAndPrintedOnce) {
  std::vector<core::Job> jobs;
  jobs.push_back(job_of(GetParam()));
  const core::Finding* root = jobs[0].header.root();
  if (!root || root->evidence.empty()) GTEST_SKIP() << "no root cause in this job";
  std::string ref = root->evidence.front().ref();
  // A reference wider than the terminal is broken after a '/': joined, the lines hold it whole.
  auto lines = lines_of(render::report_text(jobs, {false, 100}));
  std::string first_screen;
  for (size_t i = 0; i < lines.size() && i < 15; ++i)
    first_screen += lines[i].substr(std::min(lines[i].find_first_not_of(' '), lines[i].size()));
  EXPECT_TRUE(contains(first_screen, ref)) << ref << " not in the first 15 lines of:\n" << render::report_text(jobs, {false, 100});
  EXPECT_EQ(count(render::report_text(jobs, {false, 100}), "Root cause ["), 1u);
}

TEST_P(EveryJob, MarkdownPutsReferencesAndCommandsInCodeSpans) {
  std::vector<core::Job> jobs;
  jobs.push_back(job_of(GetParam()));
  std::string md = render::report_markdown(jobs);
  EXPECT_EQ(md.rfind("# ", 0), 0u);
  EXPECT_TRUE(contains(md, fmt::format("**Verdict: {}**", core::verdict_name(jobs[0].header.verdict)))) << md;
  EXPECT_EQ(count(md, "**Verdict"), 1u) << "the body must not repeat the verdict:\n" << md;
  EXPECT_FALSE(contains(md, "\\`")) << md;
  EXPECT_FALSE(contains(md, "`analyze-logs --trace &lt;id&gt;`")) << md;
  for (const auto& f : jobs[0].header.findings) {
    if (f.role == core::Role::collateral || f.evidence.empty()) continue;
    EXPECT_TRUE(contains(md, md_code(f.evidence.front().ref()))) << f.evidence.front().ref();
    if (contains(f.fix, "`analyze-logs --trace <id>`")) {
      EXPECT_TRUE(contains(md, "`analyze-logs --trace <id>`")) << md;
    }
  }
  const char* body_heading = GetParam().kind == "srtctl" ? "## Benchmark results" : "## Phases";
  EXPECT_TRUE(contains(md, body_heading)) << md;
  EXPECT_TRUE(contains(md, "## Inputs")) << md;
}

TEST_P(EveryJob, HtmlIsBalancedAndSelfContained) {
  std::vector<core::Job> jobs;
  jobs.push_back(job_of(GetParam()));
  std::string html = render::report_html(jobs);
  expect_balanced_html(html);
  EXPECT_TRUE(contains(html, "Content-Security-Policy"));
  EXPECT_TRUE(contains(html, fmt::format("Verdict: {}", core::verdict_name(jobs[0].header.verdict))));
  if (const core::Finding* root = jobs[0].header.root(); root && !root->evidence.empty()) {
    EXPECT_TRUE(contains(html, "<code>" + html_escape(root->evidence.front().ref()) + "</code>")) << html;
  }
}

INSTANTIATE_TEST_SUITE_P(Testdata, EveryJob, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           std::string n = p.param.kind + "_" + p.param.name;
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(RenderWriters, SeveralJobsOpenWithAnOverviewThatFitsOneScreen) {
  std::vector<core::Job> jobs;
  for (const auto& n : srtctl_job_names()) jobs.push_back(srtctl_job(n));
  for (const auto& n : ray_job_names()) jobs.push_back(ray_job(n));
  dump("all", jobs);
  std::string text = render::report_text(jobs, {false, 100});
  expect_clean_terminal(text, 100);
  auto lines = lines_of(text);
  ASSERT_GT(lines.size(), jobs.size() + 2);
  EXPECT_TRUE(lines[0].starts_with(fmt::format("{} jobs: ", jobs.size()))) << lines[0];
  // Header row, then one row per job naming it and its kind.
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_TRUE(contains(lines[2 + i], jobs[i].kind)) << lines[2 + i];
    EXPECT_TRUE(contains(lines[2 + i], jobs[i].name.substr(0, 10))) << lines[2 + i];
  }
  for (const auto& j : jobs) EXPECT_TRUE(contains(text, "\u2500\u2500 " + j.name)) << j.name;

  std::string md = render::report_markdown(jobs);
  EXPECT_TRUE(md.starts_with(fmt::format("# analyze-logs: {} jobs", jobs.size())));
  // The bodies' "## " headings nest under each job's "## " heading.
  EXPECT_TRUE(contains(md, "\n### Benchmark results")) << md;
  EXPECT_TRUE(contains(md, "\n### Phases")) << md;
  EXPECT_FALSE(contains(md, "\n## Phases")) << md;
  EXPECT_EQ(count(md, "**Verdict: "), jobs.size());
  expect_balanced_html(render::report_html(jobs));
}

namespace {

// A header whose every string is hostile for some medium.
core::Job hostile_job(size_t collateral, size_t skipped) {
  core::Job j;
  j.kind = "srtctl";
  j.name = "job_<1>|x";
  j.path = "/logs/job_<1>|x";
  j.header.verdict = core::Verdict::failed;
  j.header.cause = "decode_w0 died: a_b | <script>alert(1)</script> & *bold* \x1b[31mred";
  core::Finding root;
  root.id = "cuda_oom";
  root.severity = core::Severity::critical;
  root.summary = "CUDA OOM in decode_w0 (`torch.OutOfMemoryError`) <x>";
  root.evidence.push_back({"node_1_decode_w0.err", 1234, "2025-11-22 04:20:11",
                           "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB | `a` ``b`` <c>"});
  root.fix = "Lower --mem-fraction-static; then run `analyze-logs --trace <id>` & check `a_b|c`.";
  j.header.findings.push_back(root);
  for (size_t i = 0; i < collateral; ++i) {
    core::Finding f;
    f.id = i % 2 ? "nccl_error" : "traceback";
    f.severity = core::Severity::warning;
    f.role = core::Role::collateral;
    f.summary = fmt::format("worker {} errored at teardown", i);
    f.evidence.push_back({fmt::format("node_{}.err", i), static_cast<uint64_t>(i + 1), "", "NCCL error"});
    j.header.findings.push_back(f);
  }
  for (size_t i = 0; i < skipped; ++i)
    j.header.inputs.push_back({fmt::format("extra_{}.log", i), "", "", false, i % 3 ? "not a log of any kind" : "empty"});
  j.header.inputs.push_back({"log.out", "srtctl", "batch log", true, ""});
  return j;
}

}  // namespace

TEST(RenderWriters, HostileTextIsPlainOnTheTerminalAndEscapedPerMedium) {
  std::vector<core::Job> jobs;
  jobs.push_back(hostile_job(1, 1));
  std::string text = render::report_text(jobs, {false, 100});
  expect_clean_terminal(text, 100);
  EXPECT_FALSE(contains(text, "\x1b")) << "log control bytes must not reach the terminal";
  EXPECT_TRUE(contains(text, "\\x1B[31mred")) << text;
  EXPECT_TRUE(contains(text, "a_b | <script>")) << text;
  EXPECT_TRUE(contains(text, "node_1_decode_w0.err:1234, 2025-11-22 04:20:11")) << text;
  EXPECT_TRUE(contains(text, "`analyze-logs --trace <id>`")) << text;

  std::string md = render::report_markdown(jobs);
  EXPECT_TRUE(contains(md, "run `analyze-logs --trace <id>` &amp; check `a_b|c`.")) << md;
  EXPECT_TRUE(contains(md, "`node_1_decode_w0.err:1234`")) << md;
  // The quoted log line holds a run of two backticks: its fence is three.
  EXPECT_TRUE(contains(md, "```torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB | `a` ``b`` <c>```"))
      << md;
  EXPECT_TRUE(contains(md, "a\\_b \\| &lt;script&gt;")) << md;
  EXPECT_FALSE(contains(md, "<script")) << md;
  EXPECT_FALSE(contains(md, "\x1b")) << md;

  std::string html = render::report_html(jobs);
  expect_balanced_html(html);
  EXPECT_TRUE(contains(html, "<code>analyze-logs --trace &lt;id&gt;</code>")) << html;
  EXPECT_TRUE(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
}

TEST(RenderWriters, ManyCollateralFindingsAndSkippedInputsAreGroupedAndCounted) {
  std::vector<core::Job> jobs;
  jobs.push_back(hostile_job(30, 12));
  std::string text = render::report_text(jobs, {false, 100});
  expect_clean_terminal(text, 100);
  EXPECT_TRUE(contains(text, "30 collateral findings")) << text;
  EXPECT_TRUE(contains(text, "nccl_error \u00d715")) << text;
  EXPECT_FALSE(contains(text, "worker 7 errored")) << "collateral must not be printed one by one:\n" << text;
  EXPECT_TRUE(contains(text, "Skipped inputs (12):")) << text;
  EXPECT_TRUE(contains(text, "8 \u00d7 not a log of any kind (e.g. extra_1.log)")) << text;
  EXPECT_TRUE(contains(text, "4 \u00d7 empty (e.g. extra_0.log)")) << text;
  EXPECT_LT(lines_of(text).size(), 25u) << text;
  // SUMMARY.md keeps them all.
  std::string md = render::report_markdown(jobs);
  EXPECT_TRUE(contains(md, "worker 7 errored")) << md;
  EXPECT_TRUE(contains(md, "**skipped**: not a log of any kind")) << md;

  // A few are each shown on their own line.
  jobs[0] = hostile_job(2, 2);
  text = render::report_text(jobs, {false, 100});
  EXPECT_TRUE(contains(text, "worker 1 errored at teardown [node_1.err:2]")) << text;
  EXPECT_TRUE(contains(text, "  extra_1.log: not a log of any kind")) << text;
}

TEST(RenderWriters, ColourMarksSeverityAndStripsToThePlainText) {
  std::vector<core::Job> jobs;
  jobs.push_back(hostile_job(1, 0));
  std::string color = render::report_text(jobs, {true, 100});
  EXPECT_TRUE(color.starts_with("\x1b[31;1mFAILED\x1b[0m: ")) << color;
  EXPECT_TRUE(contains(color, "\x1b[31;1m[critical]\x1b[0m")) << color;
  EXPECT_TRUE(contains(color, "\x1b[33mwarning \x1b[0m")) << color;
  std::string stripped;
  strip_ansi(color, stripped);
  EXPECT_EQ(stripped, render::report_text(jobs, {false, 100}));
}

TEST(RenderWriters, NoJobsAndNullBody) {
  EXPECT_EQ(render::report_text({}, {}), "No job found in the inputs.\n");
  std::vector<core::Job> jobs(1);
  jobs[0].kind = "prime-rl";
  jobs[0].name = "run";
  jobs[0].header.verdict = core::Verdict::ok;
  jobs[0].header.cause = "nothing is wrong";
  EXPECT_EQ(render::report_text(jobs, {false, 100}), "OK: nothing is wrong\n");
  EXPECT_TRUE(contains(render::report_markdown(jobs), "**Verdict: ok**: nothing is wrong"));
  expect_balanced_html(render::report_html(jobs));
}

// report.html streamed (the report folder's copy): the same page as report_html(jobs), with the
// kinds' views just before its footer, in parts of about 1 MiB.
TEST(RenderWriters, HtmlStreamedIsThePageInBoundedParts) {
  // Every srtctl testdata job (real bodies), then 30 jobs whose sections are 100 KB each.
  struct Big : core::Body {
    std::string text(const core::TextOptions&) const override { return "big\n"; }
    std::string markdown() const override { return "## big\n"; }
    std::string html() const override { return "<p>" + std::string(100000, 'x') + "</p>\n"; }
    void json(nlohmann::ordered_json& out) const override { out = nullptr; }
  };
  std::vector<core::Job> jobs;
  for (const auto& n : srtctl_job_names()) jobs.push_back(srtctl_job(n));
  for (int k = 0; k < 30; ++k) {
    core::Job j;
    j.kind = "ray";
    j.name = "big-" + std::to_string(k);
    j.path = "/logs/" + j.name;
    j.body = std::make_unique<Big>();
    jobs.push_back(std::move(j));
  }
  const std::string page = render::report_html(jobs);
  ASSERT_GT(page.size(), size_t{2} << 20) << "too small to be streamed in several parts";
  const std::string view = "<section><h2>srtctl: every benchmark point</h2></section>\n";
  std::string streamed;
  std::vector<size_t> sizes;
  render::report_html(jobs, view, [&](std::string_view part) {
    streamed += part;
    sizes.push_back(part.size());
  });
  const size_t footer = page.rfind("<footer>");
  ASSERT_NE(footer, std::string::npos);
  EXPECT_EQ(streamed, page.substr(0, footer) + view + page.substr(footer));
  expect_balanced_html(streamed);
  ASSERT_GE(sizes.size(), 3u);
  size_t largest_body = 0;
  for (const auto& j : jobs) largest_body = std::max(largest_body, j.body->html().size());
  for (size_t s : sizes) EXPECT_LE(s, (size_t{1} << 20) + largest_body + 4096);
  // One job: one part, the same page.
  std::vector<core::Job> one;
  one.push_back(srtctl_job(srtctl_job_names().front()));
  std::string single;
  render::report_html(one, {}, [&](std::string_view part) { single += part; });
  EXPECT_EQ(single, render::report_html(one));
}
