// Analysis where the logs live (`analyze-logs partial` / `merge`): what one partial holds of one
// job for its kind. Each kind that can be finished elsewhere has, in its own header,
//   nlohmann::json partial_state(<its inputs>, <its options>);    // on the node, per file
//   <Report> merge_partials(const std::vector<PartState>&, ...);  // where the partials meet
// and the report of merge_partials over the states of any split of a job's files equals the
// report of analysing all the files in one place.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace alog::core {

// One job's state as one partial holds it, and the host that partial was written on: two hosts
// may hold files under the same path (each node's /tmp/ray/session_latest/logs/raylet.out), and
// the merge names such files `host:path`.
struct PartState {
  std::string host;
  nlohmann::json state;
};

}  // namespace alog::core
