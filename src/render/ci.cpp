// JUnit XML and GitHub workflow commands from the shared header (see render/ci.hpp for what each
// holds and why).
#include "analyze_logs/render/ci.hpp"

#include <fmt/format.h>

#include "analyze_logs/util.hpp"

namespace alog::render {

namespace {

std::string_view role_words(core::Role r) {
  switch (r) {
    case core::Role::root_cause:
      return "root cause";
    case core::Role::consequence:
      return "consequence";
    case core::Role::collateral:
      return "collateral";
  }
  return "";
}

// The finding as one block of text: summary, evidence lines, detail, fix.
std::string finding_text(const core::Finding& f) {
  std::string o = fmt::format("{}\n", f.summary);
  for (const auto& e : f.evidence) {
    std::string ref = e.ref().empty() ? std::string("(no file)") : e.ref();
    o += fmt::format("evidence: {}{}{}\n", ref, e.time.empty() ? "" : fmt::format(" ({})", e.time),
                     e.text.empty() ? "" : fmt::format(": {}", e.text));
  }
  if (!f.detail.empty()) o += fmt::format("detail: {}\n", f.detail);
  if (!f.fix.empty()) o += fmt::format("fix: {}\n", f.fix);
  return o;
}

}  // namespace

std::string xml_escape(std::string_view in) {
  const std::string s = utf8_clean(in);
  std::string o;
  o.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&apos;";
        break;
      case '\r':
        o += "&#13;";
        break;
      default:
        // XML 1.0 has no way to write the other C0 controls, not even as references.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')
          o += "\xEF\xBF\xBD";
        else
          o += c;
    }
  }
  return o;
}

std::string junit_xml(const std::vector<CiJob>& jobs, core::Severity gate) {
  size_t all_tests = 0, all_failures = 0;
  std::string suites;
  for (const auto& j : jobs) {
    const core::Header& h = *j.header;
    size_t tests = 1, failures = 0;
    std::string cases;
    const std::string cls = xml_escape(fmt::format("analyze-logs.{}", j.kind));
    cases += fmt::format(
        "    <testcase classname=\"{}\" name=\"verdict\">\n      <system-out>{}</system-out>\n    "
        "</testcase>\n",
        cls, xml_escape(fmt::format("{}: {}", core::verdict_name(h.verdict), h.cause)));
    for (const auto& c : j.checks) {
      ++tests;
      cases +=
          fmt::format("    <testcase classname=\"{}.expect\" name=\"{}\"", cls, xml_escape(c.name));
      if (c.passed) {
        cases += fmt::format(">\n      <system-out>{}</system-out>\n    </testcase>\n",
                             xml_escape(c.message));
      } else {
        ++failures;
        cases += fmt::format(
            ">\n      <failure type=\"expect\" message=\"{}\">{}</failure>\n    </testcase>\n",
            xml_escape(c.message), xml_escape(c.message));
      }
    }
    for (const auto& f : h.findings) {
      if (static_cast<int>(f.severity) < static_cast<int>(gate)) continue;
      ++tests;
      ++failures;
      std::string name = f.id;
      if (!f.evidence.empty() && !f.evidence.front().ref().empty())
        name = fmt::format("{} at {}", f.id, f.evidence.front().ref());
      cases += fmt::format(
          "    <testcase classname=\"{}.{}\" name=\"{}\">\n      <failure type=\"{}\" "
          "message=\"{}\">{}</failure>\n    </testcase>\n",
          cls, xml_escape(std::string(core::severity_name(f.severity))), xml_escape(name),
          xml_escape(fmt::format("{} {}", core::severity_name(f.severity), role_words(f.role))),
          xml_escape(f.summary), xml_escape(finding_text(f)));
    }
    all_tests += tests;
    all_failures += failures;
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n{}  "
        "</testsuite>\n",
        xml_escape(fmt::format("analyze-logs {}: {}", j.kind, j.name)), tests, failures, cases);
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"analyze-logs\" tests=\"{}\" "
      "failures=\"{}\" errors=\"0\">\n{}</testsuites>\n",
      all_tests, all_failures, suites);
}

namespace {
// The workflow-command format: '%', CR and LF are escaped in data; a property's value also
// escapes ':' and ',', which would end it.
std::string workflow_escape(std::string_view s, bool property) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    if (c == '%') o += "%25";
    else if (c == '\r') o += "%0D";
    else if (c == '\n') o += "%0A";
    else if (property && c == ':') o += "%3A";
    else if (property && c == ',') o += "%2C";
    else o += c;
  }
  return o;
}
}  // namespace

std::string workflow_escape_data(std::string_view s) { return workflow_escape(s, false); }

std::string workflow_escape_property(std::string_view s) { return workflow_escape(s, true); }

std::string github_annotations(const std::vector<CiJob>& jobs) {
  std::string o;
  for (const auto& j : jobs) {
    const std::string prefix = jobs.size() > 1 ? fmt::format("{}: ", j.name) : std::string();
    for (const auto& c : j.checks)
      if (!c.passed)
        o += fmt::format(
            "::error title={}::{}\n",
            workflow_escape_property(utf8_clean(fmt::format("{}check {} failed", prefix, c.name))),
            workflow_escape_data(utf8_clean(c.message)));
    for (const auto& f : j.header->findings) {
      if (f.severity == core::Severity::info) continue;
      std::string props;
      if (!f.evidence.empty() && !f.evidence.front().file.empty()) {
        props +=
            fmt::format("file={},", workflow_escape_property(utf8_clean(f.evidence.front().file)));
        if (f.evidence.front().line > 0) props += fmt::format("line={},", f.evidence.front().line);
      }
      props += fmt::format("title={}", workflow_escape_property(utf8_clean(fmt::format(
                                           "{}{} ({})", prefix, f.id, role_words(f.role)))));
      std::string text = finding_text(f);
      if (!text.empty() && text.back() == '\n') text.pop_back();
      o +=
          fmt::format("::{} {}::{}\n", f.severity == core::Severity::critical ? "error" : "warning",
                      props, workflow_escape_data(utf8_clean(text)));
    }
  }
  return o;
}

}  // namespace alog::render
