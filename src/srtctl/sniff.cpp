// Content test for discovery: the sbatch script's log (log.out) of an srtctl job, from its first
// bytes, for a log.out given alone or on standard input.
#include <re2/re2.h>

#include "analyze_logs/srtctl.hpp"

namespace alog::srtctl {

bool is_job_log_head(std::string_view head) {
  // Lines the job script prints while it lays out the nodes, and the srun lines that start
  // workers; one alone could be chance, two are the script.
  static const RE2 marks(
      R"((?m)^(?:Prefill worker leaders:|Decode worker leaders:|Nginx node \(node \d+\):|Master IP address \(node \d+\):|Frontend hosts:|srun .*--worker_type ))");
  re2::StringPiece in(head.data(), head.size());
  int n = 0;
  while (n < 2 && RE2::FindAndConsume(&in, marks)) ++n;
  return n >= 2;
}

}  // namespace alog::srtctl
