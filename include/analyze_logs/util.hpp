// Small helpers shared by every module: escaping text taken from logs before it reaches a
// Markdown table, HTML or a terminal, and number formatting that reports use consistently.
//
// Text in logs is hostile by default (ANSI codes, `|`, backticks, `<script>`, invalid UTF-8), so
// every writer routes log-derived strings through one of these functions.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace alog {

// Markdown table cell / inline text: escapes `|`, backticks, `<`, `>`, `&`, `*`, `_`, `[`, `]`,
// `\`, replaces control bytes (ANSI ESC included) by a visible `\xNN`, and invalid UTF-8 by U+FFFD.
std::string md_escape(std::string_view s);

// Markdown code span holding s verbatim: fenced by one more backtick than the longest run of
// backticks inside s (CommonMark), padded with a space when s starts or ends with a backtick.
// Nothing inside is escaped, because Markdown shows escapes literally in code; control bytes and
// invalid UTF-8 are replaced as in printable(), and line breaks become spaces.
std::string md_code(std::string_view s);

// Markdown inline text written by us (summaries, fixes) where `...` pairs mark code: the text
// between a pair becomes md_code, the rest md_escape; a backtick without a partner is escaped.
// Not for log text, whose backticks mean nothing.
std::string md_prose(std::string_view s);
// Our own prose split at its `...` pairs: the text between them through `text`, each code part
// (without its backticks) through `code`. md_prose and the HTML writer's prose are this.
std::string prose_with_code(std::string_view s, std::string (*text)(std::string_view),
                            std::string (*code)(std::string_view));

// HTML text or attribute value: `&`, `<`, `>`, `"`, `'`, control bytes and invalid UTF-8 as in
// md_escape.
std::string html_escape(std::string_view s);

// Printable single-line text for a terminal or a plain-text report: control bytes become `\xNN`,
// invalid UTF-8 becomes U+FFFD. Keeps everything else.
std::string printable(std::string_view s);

// A little-endian u32 appended to `out` / read at `at` (the caller checks at + 4 <= s.size()):
// the fixed fields of the tool's file containers (partials, cache entries).
void put_u32le(std::string& out, uint32_t v);
uint32_t get_u32le(std::string_view s, size_t at);
// Valid UTF-8 copy (invalid sequences replaced by U+FFFD) for JSON output, where nlohmann_json
// would otherwise throw on invalid UTF-8.
std::string utf8_clean(std::string_view s);
// `path` lies at or under `root`, both as given, compared as normalised relative paths ("-",
// standard input, only under itself).
bool path_under(const std::string& path, const std::string& root);

// Removes ANSI escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ESC \`, and two-byte
// `ESC x`) from s, appending the rest to out (out is not cleared). A sequence that s ends inside
// of is removed too; `cut`, when given, is set to its length (0 when s ends outside a sequence).
void strip_ansi(std::string_view s, std::string& out, size_t* cut = nullptr);

// How many bytes at the start of s are one character that is not text, or 0 when s starts with
// text (or is empty). Not text: a C0 control character other than tab (ESC included), DEL, a C1
// control (U+0080-U+009F), U+FEFF (a byte-order mark), U+FFFD (what an earlier tool made of an
// invalid byte), and each byte of invalid UTF-8 (one at a time).
size_t unreadable_char_len(std::string_view s);

// Parses s entirely as a finite decimal number (optional sign, digits, optional fraction,
// optional exponent). Returns nullopt for empty text, trailing garbage, nan, inf, or overflow.
std::optional<double> parse_finite(std::string_view s);

// Parses s entirely as a non-negative decimal integer that fits in int64.
std::optional<int64_t> parse_int(std::string_view s);

// True when the JSON text nests arrays/objects at most max_depth deep (strings skipped).
// A report as JSON text: indented by 2 like dump(2), except that the arrays of records that grow
// with the input (`updates`, `batches`, `server_only_updates`, wherever they are) hold one compact
// record per line, and arrays of numbers are on one line. Each record is one line for grep and
// `jq -c`, and a report stays a small fraction of its logs. `indent` is where the text starts
// (the nesting depth × 2) and `key` the key it stands under, as when it is spliced into an
// enclosing document.
std::string dump_report(const nlohmann::ordered_json& j, size_t indent = 0, std::string_view key = {});
// The same for a whole report whose tree holds placeholders: a string kSplicePrefix + N stands for
// pieces[N], text made by dump_report(value, indent) at the indentation where the placeholder
// is (2 per level). A fleet's report.json splices each job's kept text instead of building and
// dumping its tree again (--cache). Not reentrant across threads (one report at a time).
inline constexpr std::string_view kSplicePrefix = "\x01alog-splice:";
// Adds `text` to `pieces` and returns the placeholder that stands for it in the tree.
std::string splice_piece(std::vector<const std::string*>& pieces, const std::string& text);
std::string dump_report(const nlohmann::ordered_json& j, const std::vector<const std::string*>& pieces);
// The same text given to `sink` in parts of about 1 MiB, a piece that does not fit in a part
// as it is: never one string (a fleet's report.json is tens of MB).
void dump_report(const nlohmann::ordered_json& j, const std::vector<const std::string*>& pieces,
                 const std::function<void(std::string_view)>& sink);

// nlohmann_json parses recursively, so hostile input must be checked before it is parsed.
bool json_depth_ok(std::string_view json, int max_depth = 64);
// True when every byte is printable ASCII (0x20-0x7E): printable(s) would return s unchanged.
bool is_printable_ascii(std::string_view s);
// True when `s` holds any of `needles` (the literal prefilters and noise lists of the scanners).
bool contains_any(std::string_view s, std::span<const std::string_view> needles);

// nlohmann::json::parse without exceptions, after json_depth_ok: a discarded value when the text
// is malformed or nested deeper than max_depth.
nlohmann::json parse_json_bounded(std::string_view json, int max_depth = 64);

// Fixed-point with `decimals` digits ("28453.2"); never prints "-0.0".
std::string fixed(double v, int decimals = 1);

// At most `n` bytes of `s`, cut before a UTF-8 character rather than inside one, with "…" when
// something was cut, so a shortened text neither ends in a broken byte nor passes for whole.
std::string clip_utf8(std::string_view s, size_t n);

// Human byte count: "1.5 GiB", "512 B".
std::string human_bytes(uint64_t n);

// "2026-11-22 23:41:07" style local-time stamps and the folder stamp "20261122_234107".
std::string folder_timestamp();

}  // namespace alog
