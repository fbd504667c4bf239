// A job's result as the writers see it: the shared header (core/finding.hpp) and the kind's own
// detail behind one small interface. Each writer (terminal, SUMMARY.md, report.html,
// report.json) renders the header itself, the same way for every kind, and asks the body for its
// section in that medium. A new job kind is a new Body; a new medium is a new method here and one
// writer.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "analyze_logs/core/finding.hpp"

namespace alog::core {

struct TextOptions {
  bool color = false;
  size_t width = 100;  // columns the terminal view must fit
};

class Body {
 public:
  virtual ~Body() = default;
  // Terminal view below the header: plain text, no Markdown escapes or HTML entities, lines of
  // at most opt.width columns, colour (ANSI SGR) only when opt.color.
  virtual std::string text(const TextOptions& opt) const = 0;
  // SUMMARY.md section below the header (starts with a "## " heading or is empty).
  virtual std::string markdown() const = 0;
  // report.html fragment below the header (no <html>/<body>; escaped; no scripts).
  virtual std::string html() const = 0;
  // The kind's detail as JSON: the value stored under the kind's key in report.json.
  virtual void json(nlohmann::ordered_json& out) const = 0;
};

struct Job {
  std::string kind;  // "prime-rl", "srtctl", "ray"
  std::string name;  // what the user will recognise: the folder or file name
  std::string path;  // the job's root as discovered (folder or file), "-" for standard input
  Header header;
  std::unique_ptr<Body> body;  // may be null when the kind has nothing beyond the header
};

}  // namespace alog::core
