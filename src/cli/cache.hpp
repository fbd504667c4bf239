// --cache DIR: each job's analysis kept under DIR, keyed by what it read (every file's path,
// size and modification time) and how (the tool's version and the options that change a job's
// result), so that re-running over a growing archive analyses only new or changed jobs and gives
// the same report (docs/FLEET.md, "The cache").
//
// An entry is one file per job under DIR/v2/, written atomically (a temporary file, then rename):
// a small CBOR map (the key, the header, the --expect checks) and the large parts as raw blobs
// beside it (its body in every medium, what its kind adds at the top of report.json; for srtctl
// its JobReport without the batch statistics, its report.json text and its CSV rows), with a
// CRC-32 of the whole (encode_entry). A warm run copies the texts out as they are instead of
// parsing them. An entry that does not match
// (another version, other options, a file changed, added or removed) is a miss; one that cannot
// be read (truncated, checksum, another layout) is a miss with a warning, and is replaced.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "plan.hpp"

namespace alog::cli {

struct Analysed;

// What a cached job brings back besides its header and body: the kind's keys at the top of
// report.json (used when the report holds only this job of its kind), the attached hang
// analysis's JSON, and the --expect checks (name, passed, message).
struct CachedParts {
  nlohmann::ordered_json top;   // null when none
  nlohmann::ordered_json hang;  // null when none
  struct Check {
    std::string name, message;
    bool passed = false;
  };
  std::vector<Check> checks;
};

// What identifies a job's entry: which job (kind, name, root) and every file it can read, as
// they were before the analysis read them (a file that changes during the analysis is then a
// change for the next run, never hidden by an entry keyed after it).
struct CacheKey {
  bool cacheable = false;
  std::string identity, listing;
};

class JobCache {
 public:
  // `settings`: everything besides the inputs that changes a job's result (version, options).
  // Creates `dir`; throws std::runtime_error naming it when it cannot.
  JobCache(std::filesystem::path dir, std::string settings);
  CacheKey key(const PlannedJob& pj) const;
  // The job as it was analysed, or nullopt (a miss, or a job that is never cached: standard
  // input, nothing recognised). `need_top`: the report holds no other job of its kind, so its
  // kind's keys at the top of report.json are needed (an entry kept without them is a miss).
  std::optional<Analysed> load(const PlannedJob& pj, const CacheKey& k, bool need_top);
  // Keeps `a` under `k` (the key taken before the analysis); `with_top`: keep its
  // kind's top keys too (a prime-rl run's are its whole report.json: kept only when needed).
  // A failure to write is a warning, never fatal.
  void store(const CacheKey& k, const Analysed& a, bool with_top);
  size_t hits() const { return hits_; }
  size_t stored() const { return stored_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string settings_;
  std::atomic<size_t> hits_{0}, stored_{0};
  std::atomic<bool> warned_write_{false};
};

// The entry's container (exposed for its tests): "ALOGCACH", the layout (u32), the meta's
// length (u32), the meta (CBOR; its "blobs" lists each blob's name and length in order), the
// blobs, and the CRC-32 (u32) of everything before it; integers little-endian.
struct EntryBlob {
  std::string name;
  std::string_view bytes;
};
std::string encode_entry(const nlohmann::ordered_json& meta, const std::vector<EntryBlob>& blobs);
struct DecodedEntry {
  nlohmann::ordered_json meta;  // without "blobs"
  std::vector<EntryBlob> blobs;  // views into the bytes decoded
  // The blob of that name; nullopt when the entry has none.
  std::optional<std::string_view> blob(std::string_view name) const;
};
// Throws std::runtime_error saying what is wrong (not an entry, another layout, truncated, the
// checksum, a malformed meta).
DecodedEntry decode_entry(std::string_view bytes);

// Whether a planned job can be cached at all (not standard input, something recognised).
bool cacheable(const PlannedJob& pj);

}  // namespace alog::cli
