// The job kinds this tool knows, as a table: one row per kind, holding how discovery recognises
// its inputs (core::KindProbe). Adding a kind is adding a row. The rows will also say how each
// kind is analysed; for now they hold the probes only.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "analyze_logs/core/discover.hpp"

namespace alog::cli {

// In the order discovery tries them: srtctl (whole folders), Ray, prime-rl.
std::span<const core::KindProbe> kind_probes();

// The role of a prime-rl log from its first bytes ("orchestrator log", "inference log", "trainer
// log"), "" when no line in it is a [weights]/[gen]/[ckpt]/[rollout] event. The file's name only
// chooses between roles.
std::string prime_rl_role(const std::filesystem::path& file, std::string_view head);
// The same judged over the whole file (decompressed): for logs whose first tagged line comes
// after the head discovery sniffs (a vLLM server's start-up).
std::string prime_rl_role_deep(const std::filesystem::path& file);

}  // namespace alog::cli
