// The failure-signature catalogue: one table, as data, of the log lines that say a distributed
// job failed (CUDA OOM, the kernel's OOM killer, NCCL watchdog timeouts, Ray actor deaths, native
// crashes, SLURM cancellations, NaN loss, ...), shared by every job kind. Each row holds its id,
// a title, its patterns, how bad it is, whether it ends the process, what to quote as evidence
// and the fix. Kinds scan their files with match_signature() and keep only what is about their
// context (which actor ran out of memory, which lines of a file are noise); the signatures and
// their fixes live here, so every kind knows every signature. docs/SIGNATURES.md has the table.
//
// Row order is precedence: a line that matches several rows gets the first. The specific rows
// come before the generic ones (a `c10::DistBackendError` termination is an NCCL timeout, not a
// generic native crash; a Ray actor death whose text lists "SIGSEGV" as a possible cause is an
// actor death).
//
// A new signature is one row in src/core/catalogue.cpp and one case in
// tests/unit/core/test_catalogue.cpp (a real line it must match, a near miss it must not).
//
// Selection: a kind that wants only some rows on some files (srtctl's SLURM batch log: host OOM
// and SLURM lines; its benchmark client log: tracebacks and CUDA OOM) builds a SignatureSet from
// row ids, in the kind, and passes it to match_signature(). Precedence is kept within the subset:
// a line is named by the first row of the subset that matches it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "analyze_logs/core/finding.hpp"

namespace alog::core {

// What a finding built from a row should quote as its evidence text.
enum class Quote {
  line,       // the matched line itself
  exception,  // the exception line that closes the traceback the matched line opens or sits in
};
std::string_view quote_name(Quote q);  // "line", "exception"

struct Signature {
  std::string_view id;     // "cuda_oom": stable, used by kinds and in JSON output
  std::string_view title;  // "CUDA out of memory"
  // RE2 syntax, case-sensitive unless the pattern says (?i); matched unanchored against the
  // ANSI-stripped line. A line matching any of them matches the row.
  std::span<const std::string_view> patterns;
  Severity severity = Severity::critical;
  bool fatal = false;  // the line means its process ended (or is about to)
  Quote quote = Quote::line;
  std::string_view fix;  // what to do, for a person reading the report
};

// Every row, in precedence order.
std::span<const Signature> catalogue();

// The row with that id, nullptr when there is none.
const Signature* find_signature(std::string_view id);

// A subset of the catalogue's rows, chosen by id.
class SignatureSet {
 public:
  static SignatureSet all();
  // Throws std::invalid_argument on an id that is not in the catalogue: a typo in a kind's
  // selection would otherwise silently match nothing.
  static SignatureSet of(std::initializer_list<std::string_view> ids);
  SignatureSet without(std::initializer_list<std::string_view> ids) const;
  bool contains(const Signature& s) const;
  bool contains_index(size_t row) const { return row < 64 && ((bits_ >> row) & 1u) != 0; }

 private:
  uint64_t bits_ = 0;  // bit i: row i of catalogue()
};

// The first row (of `among`) that matches `line`, nullptr when none does. `line` should be one
// ANSI-stripped line. One pass of a single RE2::Set over the line finds every row that matches,
// so the cost per line does not grow with the number of rows.
const Signature* match_signature(std::string_view line);
const Signature* match_signature(std::string_view line, const SignatureSet& among);

}  // namespace alog::core
