// One set of writers for every job kind: the terminal answer, SUMMARY.md and report.html are
// written here from core::Job (the shared header: verdict, cause, findings with roles, inputs)
// and each kind's Body supplies only its own detail below that header. So the verdict, the root
// cause with its file:line and the fix read the same way whatever produced the job, and the
// escaping rules of each medium live in one place:
// * terminal: no Markdown escapes and no HTML entities; log text through printable() so control
//   bytes never reach the terminal; every line fits TextOptions::width columns (UTF-8 code
//   points); colour (ANSI SGR) by severity only when TextOptions::color;
// * Markdown: md_escape outside code spans, nothing escaped inside them (md_code);
// * HTML: html_escape, a self-contained page with no scripts and no requests.
//
// The small helpers (fitting, wrapping, terminal tables, colour, prose with code marks) are public
// so the bodies of each kind render their detail with the same rules.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze_logs/core/finding.hpp"
#include "analyze_logs/core/job.hpp"

namespace alog::render {

// ---- Whole reports ---------------------------------------------------------------------------

// The terminal answer: per job the verdict and cause, the root cause with its file:line, time,
// quoted text and fix, the other findings one line each (many consequences / collateral grouped
// and counted), the body's text, then skipped inputs. With several jobs, a one-line-per-job
// overview comes first.
std::string report_text(const std::vector<core::Job>& jobs, const core::TextOptions& opt);
// SUMMARY.md.
std::string report_markdown(const std::vector<core::Job>& jobs);
// report.html: one self-contained page.
std::string report_html(const std::vector<core::Job>& jobs);
// The same page given to `sink` in parts of about 1 MiB (a fleet's page is tens of MB), with
// `before_footer` (the kinds' views over all their jobs) just before its footer.
void report_html(const std::vector<core::Job>& jobs, std::string_view before_footer,
                 const std::function<void(std::string_view)>& sink);

// ---- Terminal helpers ------------------------------------------------------------------------

// Columns the text takes on a terminal: UTF-8 code points, ANSI escape sequences not counted.
size_t display_width(std::string_view s);
// s cut to at most `width` columns, ending in "…" when something was cut; a cut never splits a
// UTF-8 character or an escape sequence, and a colour left open is reset.
std::string fit(std::string_view s, size_t width);
// s (one paragraph, no colour) broken at spaces into lines of at most `width` columns; the first
// line starts with `first`, the others with `rest` (indents). A word longer than a line is cut.
std::vector<std::string> wrap(std::string_view s, size_t width, std::string_view first = "",
                              std::string_view rest = "");
// Every line of `text` passed through fit().
std::string fit_lines(std::string_view text, size_t width);

enum class Tone { plain, critical, warning, info, ok, dim };
Tone tone_of(core::Severity s);
Tone tone_of(core::Verdict v);
// The verdict's tone, raised to critical for a degraded job with a critical finding.
Tone tone_of(const core::Header& h);
// s wrapped in the tone's SGR colour when `color`, else s unchanged.
std::string paint(std::string_view s, Tone t, bool color);

// A plain-text table: columns padded to their widest cell; `right` marks right-aligned columns.
// When the table is wider than `width`, the last left-aligned column is shortened (cells cut
// with "…"), then every line is cut.
struct TextTable {
  std::vector<std::string> head;
  std::vector<bool> right;
  std::vector<std::vector<std::string>> rows;
};
std::string text_table(const TextTable& t, size_t width, std::string_view indent = "  ");

// ---- Markdown / HTML helpers -------------------------------------------------------------------

// CSS class of a severity / verdict level in report.html (.verdict.X, .diag.X, .badge.X, .s-X).
std::string html_level(Tone t);
// HTML counterpart of md_prose (util.hpp): `...` pairs in our own text become <code>.
std::string html_prose(std::string_view s);
// The CSS of report.html (shared with the prime-rl page).
std::string_view html_style();

}  // namespace alog::render
