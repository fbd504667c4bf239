// The nlohmann serialisers of the srtctl types (persist.cpp: save_report / load_report;
// partial.cpp: the per-file states of `analyze-logs partial`). Every member of every type is listed
// here. A member added to a type in srtctl.hpp must be added below, or a cached job loses it:
// tests/unit/srtctl/test_persist.cpp round-trips every testdata job and compares the report.json,
// SUMMARY.md and HTML of both.
#pragma once

#include <nlohmann/json.hpp>

#include "analyze_logs/core/json_io.hpp"
#include "analyze_logs/srtctl.hpp"

namespace alog::srtctl {

NLOHMANN_JSON_SERIALIZE_ENUM(Verdict, {{Verdict::healthy, "healthy"},
                                       {Verdict::degraded, "degraded"},
                                       {Verdict::failed, "failed"}})

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(JobName, job_id, prefill_workers, decode_workers,
                                                agg_workers, start)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LogFileId, role, index, node)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Problem, file, message)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Leader, role, index, node, ip)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Topology, nodes, master_node, master_ip, nginx_node,
                                                leaders, frontends, frontend_url, exit_code,
                                                finished_at, clock_zone, errors)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Readiness, polled, health_url, not_ready_reports,
                                                waiting_prefill, waiting_decode, ready, timed_out,
                                                timeout_s, ready_at, ready_after_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BenchRun, concurrency, warmup, isl, osl,
                                                num_prompts, line, started_at, ended_at,
                                                completed_line, has_block, block_truncated,
                                                json_file, metrics, text, failed_requests, error,
                                                invalid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WorkerLog, file, id, lines, first_time, last_time,
                                                setup_complete)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WorkerFailure, role, index, node, kind, fatal, file,
                                                line, first_error, time, exception, last_frame,
                                                signature_lines, root_cause, collateral, fix)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CancelledStep, file, line, role, index, node, time,
                                                time_limit)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BatchEvent, line, t, time, text, running)
// C arrays have no `json::value()`: these use the strict form (every key present).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WindowFold, lines, graph_false, count, sum, max, queue,
                                   first_queue, last_queue)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TrafficFold, found, t, line, in_flight, max_in_flight, ranks)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(GenerationFold, any, max_gen_tps, t, line)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WorkerWindow, ranks, traffic, generation)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SeriesPoint, t, dp, decode, n, count, sum)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WorkerBatches, file, id, cuda_graph_max_bs, lines, unreadable,
                                   buckets, last_t, has_kind, t_min, t_max, window_spans, windows,
                                   series_bin_s, series, first_graph_off, first_over_max_bs,
                                   first_retract, retract_lines)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(JobReport, dir, name, layout, job, topology,
                                                job_name, model, gpu_type, gpus_per_node,
                                                prefill_nodes, decode_nodes, agg_nodes, isl, osl,
                                                requested_concurrencies, request_rate, started_at,
                                                readiness, runs, warmups, logs, failures, batches,
                                                cancelled, slurm_errors, teardown_at, time_limit,
                                                root_cause, verdict, reason, reason_id, problems)

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SignatureHit, kind, fatal, line, text, time, exact)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Traceback, line, time, exception, exception_line,
                                                last_frame)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BenchmarkLog, readiness, isl, osl, concurrencies,
                                                request_rate, runs, warmups)

}  // namespace alog::srtctl
