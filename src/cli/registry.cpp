// The table of job kinds (see registry.hpp).
#include "registry.hpp"

#include "kinds.hpp"

#include <array>

#include "analyze_logs/event.hpp"
#include "analyze_logs/hangs.hpp"
#include "analyze_logs/parse.hpp"
#include "analyze_logs/input.hpp"
#include "analyze_logs/ray.hpp"
#include "analyze_logs/scan.hpp"
#include "analyze_logs/srtctl.hpp"

namespace alog::cli {

namespace fs = std::filesystem;

std::string prime_rl_role(const fs::path& file, std::string_view head) {
  parse::Scratch scratch;
  // Counted as the analyzer counts them (analyzer.cpp, end_file), so discovery and the analysis
  // give a file the same role.
  uint64_t orch = 0, inf = 0, tr = 0;
  size_t events = 0;
  // Segments as the scanner cuts them: '\n' lines, and the pieces of a line between tqdm's '\r'.
  size_t pos = 0;
  while (pos < head.size()) {
    size_t end = head.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view seg = head.substr(pos, end - pos);
    pos = end + 1;
    // A tag, or a step summary / metrics.jsonl row (what every prime-rl run writes, tagged
    // instrumentation or not: docs/STEPS.md).
    if (seg.find(']') == std::string_view::npos && seg.find("Step ") == std::string_view::npos &&
        seg.find("\"step\"") == std::string_view::npos)
      continue;
    Event ev;
    auto r = parse::parse_segment(seg, ev, scratch);
    if (r.outcome == parse::Outcome::noise) {
      ++inf;  // `[weights][-] server.recv`: the inference server's middleware
      ++events;
      continue;
    }
    if (r.outcome != parse::Outcome::event) continue;
    if (is_step_op(ev.op)) {
      // Only the step summaries and metrics.jsonl rows name a run: "Waited for ..." or
      // "Evaluated ..." alone could be anybody's.
      if (ev.op == Op::step_orch) ++orch, ++events;
      else if (ev.op == Op::step_trainer) ++tr, ++events;
      else if (ev.op == Op::metrics_row) ++events;
      continue;
    }
    ++events;
    switch (ev.op) {
      case Op::server_recv: case Op::rpc_start: case Op::rpc_done: ++inf; break;
      case Op::write_done: ++tr; break;
      default: ++orch; break;
    }
  }
  if (events == 0) return "";
  std::string name = file.generic_string();
  if (name.find("orchestrator") != std::string::npos) return "orchestrator log";
  if (name.find("inference") != std::string::npos || name.find("vllm") != std::string::npos)
    return "inference log";
  if (name.find("trainer") != std::string::npos || name.find("rank") != std::string::npos)
    return "trainer log";
  if (orch >= inf && orch >= tr) return "orchestrator log";
  if (inf >= tr) return "inference log";
  return "trainer log";
}

std::string prime_rl_role_deep(const fs::path& file) {
  std::unique_ptr<input::ByteSource> src;
  try {
    src = input::open_source(file.string());
  } catch (const input::InputError&) {
    return "";
  }
  // The scanner's byte test (a ']' closing one of the four tags) over the whole file, each hit's
  // line then judged by the same test as a head; the line being cut between two reads is handled
  // by carrying the unfinished last line over (at most 64 KiB of it).
  std::string data;
  std::vector<char> buf(1u << 20);
  try {
    for (;;) {
      size_t n = src->read(buf.data(), buf.size());
      if (n == 0) break;
      data.append(buf.data(), n);
      const char* b = data.data();
      const char* e = b + data.size();
      const char* p = b;
      while (const char* hit = scan::find_tag_close(b, p, e)) {
        size_t at = static_cast<size_t>(hit - b);
        size_t ls = data.rfind('\n', at);
        ls = ls == std::string::npos ? 0 : ls + 1;
        size_t le = data.find('\n', at);
        if (le == std::string::npos) break;  // the line goes on in the next read
        std::string role = prime_rl_role(file, std::string_view(data).substr(ls, le - ls));
        if (!role.empty()) return role;
        p = b + le + 1;
      }
      size_t last = data.rfind('\n');
      data.erase(0, last == std::string::npos ? 0 : last + 1);
      if (data.size() > (64u << 10)) data.erase(0, data.size() - (64u << 10));
    }
  } catch (const input::InputError&) {
  }
  return "";
}

// The registry: every job kind this tool knows, one row each, in the order discovery tries them
// (srtctl reads whole folders, then Ray, then prime-rl, which takes any tagged text). A row says
// what the kind claims (its probe) and how it is analysed (kinds.cpp). The last row stands for
// inputs no kind claimed.
std::span<const Kind> kinds() {
  static const std::array<Kind, 5> table{{
      {
          .probe =
              {
              .kind = "srtctl",
              .looks_for = "srtctl job folders (log.out with benchmark.out, sbatch_script.sh or "
                           "per-worker logs; or logs/ with sweep_*.log)",
              .claims_dir = [](const fs::path& d) { return srtctl::is_job_dir(d); },
              .claims_logs_dir = {},
              .logs_dir_role = "",
              .sniff = [](const fs::path&, std::string_view head) -> std::string {
                return srtctl::is_job_log_head(head) ? "job log" : "";
              },
              .sniff_deep = {},
              .anchor_role = "job log",
              .stdin_file = "log.out",
              },
          .described = "an srtctl serving job",
          .analyse = analyse_srtctl,
          .top_json = top_srtctl,
          .set_view = set_view_srtctl,
      },
      {
          .probe =
              {
              .kind = "ray",
              .looks_for = "TorchSpec/Ray logs (a driver log naming torchspec or its actors; "
                           "session folders with raylet.out, gcs_server.out or worker-*.out/.err)",
              .claims_dir = {},
              .claims_logs_dir = [](const fs::path& d) { return ray::holds_session_logs(d); },
              .logs_dir_role = "session logs",
              .sniff = [](const fs::path&, std::string_view head) -> std::string {
                return ray::is_driver_log_head(head) ? "driver log" : "";
              },
              .sniff_deep = {},
              .anchor_role = "driver log",
              .stdin_file = "running_logs/stdin.log",
              },
          .described = "a Ray job",
          .analyse = analyse_ray,
          .top_json = top_ray,
          .set_view = nullptr,
      },
      {
          .probe =
              {
              .kind = "prime-rl",
              .looks_for = "prime-rl logs (lines with a [weights]/[gen]/[ckpt]/[rollout] tag)",
              .claims_dir = {},
              .claims_logs_dir = {},
              .logs_dir_role = "",
              .sniff = prime_rl_role,
              .sniff_deep = prime_rl_role_deep,
              .anchor_role = "orchestrator log",
              .stdin_file = "",
              },
          .described = "a prime-rl run",
          .analyse = analyse_prime,
          .top_json = top_prime,
          .set_view = nullptr,
      },
      {
          // After the kinds whose logs may quote hang lines: a trainer log or a Ray worker file
          // stays with its job; what is left (dumps, console files, error.json) is a hang set.
          .probe =
              {
              .kind = "hang",
              .looks_for = "hang artifacts (py-spy or faulthandler dumps, Flight Recorder dumps, NCCL watchdog "
                           "lines, torchrun ChildFailedError tables or error.json, ncclras output)",
              .claims_dir = {},
              .claims_logs_dir = {},
              .logs_dir_role = "",
              .sniff = [](const fs::path&, std::string_view head) -> std::string {
                if (hangs::is_fr_head(head)) return "flight recorder dump";
                return hangs::is_hang_head(head) ? "hang artifacts" : "";
              },
              .sniff_deep = {},
              .anchor_role = "",
              .stdin_file = "console.log",
              },
          .described = "a hung job's artifacts",
          .analyse = analyse_hang,
          .top_json = top_hang,
          .set_view = nullptr,
      },
      {
          .probe = {},
          .described = "an unrecognised input",
          .analyse = analyse_unrecognised,
          .top_json = nullptr,
          .set_view = nullptr,
      },
  }};
  return table;
}

const Kind& kind(std::string_view name) {
  for (const auto& k : kinds())
    if (k.probe.kind == name) return k;
  return kinds().back();
}

std::span<const core::KindProbe> kind_probes() {
  static const std::vector<core::KindProbe> probes = [] {
    std::vector<core::KindProbe> v;
    for (const auto& k : kinds())
      if (!k.probe.kind.empty()) v.push_back(k.probe);
    return v;
  }();
  return probes;
}

}  // namespace alog::cli
