// The rows of the failure-signature catalogue and the one-pass matcher over them. The line
// shapes are those of /work/shared/FORMATS-serving-and-ray.md (SGLang, Ray, NCCL, PyTorch OOM,
// the kernel's OOM killer, SLURM) and FORMATS-hangs.md (watchdog, faulthandler); the fixes come
// from the TorchSpec debugging guide (seed 004) and docs/RAY.md / docs/SRTCTL.md.
#include "analyze_logs/core/catalogue.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <array>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace alog::core {

namespace {

using P = std::string_view;

constexpr P kCudaOom[] = {
    R"((?:CUDA|HIP) out of memory)",
    R"(CUDA error: out of memory)",
    R"(torch\.(?:cuda\.)?OutOfMemoryError)",
};
constexpr P kHostOom[] = {
    R"(Out of memory: Killed process)",  // kernel, global OOM
    R"(Memory cgroup out of memory)",    // kernel, cgroup limit (SLURM's --mem)
    R"(oom-kill:)",                      // kernel, the victim line
    R"(invoked oom-killer)",             // kernel, the block's header
    R"(oom_kill event)",                 // slurmstepd
    R"(task \d+: Out Of Memory)",        // srun
    R"(\bOUT_OF_MEMORY\b)",              // SLURM job / step state
    R"(killed due to memory pressure)",  // Ray's memory monitor
    R"(Task was killed due to the node running low on memory)",  // Ray's OutOfMemoryError
};
constexpr P kNcclTimeout[] = {
    R"(Watchdog caught collective operation timeout)",
    R"(DistBackendError)",
    R"(watchdog thread terminated)",
    R"(detected by watchdog at work)",
    R"(failure detected by watchdog)",
    R"(Timeout at NCCL work:)",
    R"(Some NCCL operations have failed or timed out)",
    R"(taking the entire process down)",
    R"(Future for ProcessGroup abort timed out)",
    R"(Heartbeat monitor timed out)",
    R"(watchdog got stuck for)",
};
constexpr P kActorDied[] = {
    R"(RayActorError)",
    R"(ActorDiedError)",
    R"(The actor died unexpectedly)",
    R"(A worker died or was killed)",
    R"(The actor is dead because)",
    R"(Worker exit type: SYSTEM_ERROR)",
};
constexpr P kSglangCrash[] = {
    R"(Scheduler hit an exception)",
    R"(Received sigquit from a child process)",
    R"(scheduler is dead)",
    R"(Child process unexpectedly failed)",
};
constexpr P kInitFailure[] = {
    R"(engines to initialize after)",  // "Timeout waiting for Sgl engines to initialize after Ns"
    R"(Failed to initialize .*engines: )",
};
constexpr P kNativeCrash[] = {
    R"(terminate called after throwing)",
    R"(Fatal Python error)",
    R"(Segmentation fault)",
    R"(SIGABRT received)",
    R"(SIGSEGV)",
    R"(core dumped)",
    R"(std::bad_alloc)",
    R"(CUDA error: )",
    R"(device-side assert)",
    R"(\.cu:\d+: .*Assertion .* failed)",  // a CUDA kernel's assert (Indexing.cu)
};
constexpr P kNcclError[] = {
    R"(NCCL WARN)",
    R"(nccl(?:Remote|Internal|UnhandledCuda|System|InvalidUsage)Error)",
    R"(NCCL error)",
};
constexpr P kKvTransfer[] = {
    R"((?i:kv[ _]?transfer\S*\s.*(?:timed out|timeout|failed)))",
    R"(KV_TRANSFER_TIMEOUT)",
};
constexpr P kKilled[] = {
    R"((?:^|\s)Killed(?:\s|$))",  // bash's job report, srun's "task 0: Killed"
    R"(exit code 137)",
    R"(SIGKILL)",
};
constexpr P kSlurmTimeLimit[] = {
    R"(CANCELLED AT \S+ DUE TO TIME LIMIT)",
};
constexpr P kSlurmCancelled[] = {
    R"(\*\*\* (?:STEP|JOB) \S+ ON \S+ CANCELLED AT)",
};
constexpr P kNanLoss[] = {
    R"((?i:\bloss\s*[=:]\s*-?nan\b))",
};
constexpr P kMooncakeFailure[] = {
    R"(Failed to launch mooncake master actor)",
};
constexpr P kMooncakeBinary[] = {
    R"(Binary not found at)",
};
constexpr P kRuntimeError[] = {
    R"(No mooncake keys returned)",
    R"(Engine dispatch failed)",
};
constexpr P kTraceback[] = {
    R"(Traceback \(most recent call last\))",
};

constexpr std::string_view kFixNccl =
    "Usual cause: a network interface mismatch across nodes. Ensure NCCL_SOCKET_IFNAME, "
    "GLOO_SOCKET_IFNAME and TP_SOCKET_IFNAME match on all nodes. When one rank never reached the "
    "collective, read that rank's log (a Ray actor's worker-*.err) for what it was doing instead.";

// Order = precedence: the first row that matches names the line. Specific before generic.

// Named from SGLang's batch metrics (srtctl batch.cpp), not by matching one line: the pattern is
// the shape of the line the finding quotes as evidence. Scans exclude these rows.
constexpr std::string_view kCudaGraphFallback[] = {R"((?:Decode|Prefill) batch[.,].*cuda graph: False)"};
constexpr std::string_view kKvPoolRetract[] = {R"(KV cache pool is full\. Retract requests)",
                                               R"(Decode batch[.,].*#retracted-req: [1-9])"};
constexpr std::string_view kQueueGrowth[] = {R"(Decode batch[.,].*#queue-req: [1-9])"};
constexpr std::string_view kPdImbalance[] = {R"(Decode batch[.,].*#transfer-req: [1-9])"};

constexpr Signature kRows[] = {
    {"cuda_oom", "CUDA out of memory", kCudaOom, Severity::critical, true, Quote::line,
     "Check nvidia-smi for GPU memory. Training: lower the per-GPU batch or sequence length; "
     "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True helps when much memory is reserved but "
     "unallocated. Serving (SGLang): lower mem_fraction_static, the CUDA-graph batch sizes or "
     "max_running_requests."},
    {"host_oom", "Host out of memory (OOM killer)", kHostOom, Severity::critical, true, Quote::line,
     "Check dmesg for OOM kills (`dmesg -T | grep -i oom`) and the node's memory (`sacct -j <job> "
     "-o JobID,State,MaxRSS`); fewer dataset workers or smaller host buffers lower the footprint, "
     "or ask SLURM for more memory (--mem)."},
    {"nccl_timeout", "NCCL collective timeout", kNcclTimeout, Severity::critical, true, Quote::line,
     kFixNccl},
    {"actor_died", "Ray actor died", kActorDied, Severity::critical, true, Quote::line,
     "The actor crashed (on a remote node when it has an ip): find its worker-*.err by the PID "
     "from the error message in that node's session_latest/logs/ and read its last lines."},
    {"sglang_crash", "SGLang scheduler crash", kSglangCrash, Severity::critical, true,
     Quote::exception,
     "The SGLang scheduler died: the exception after `Scheduler hit an exception` in the same log "
     "(for a Ray SglEngine, its worker-*.err) is the cause."},
    {"init_failure", "Initialisation failed", kInitFailure, Severity::critical, true, Quote::line,
     "Check the inference engines' logs (a Ray SglEngine's worker-*.err: model path, GPU memory), "
     "`ray status` for the GPU count, and that the mooncake master binary exists on the head "
     "node."},
    {"native_crash", "Native crash (abort, segfault)", kNativeCrash, Severity::critical, true,
     Quote::line,
     "A process aborted: the first error before it in the same log (for a Ray actor, its "
     "worker-*.err) is the cause. A segfault, core dump or std::bad_alloc with no error before "
     "it points at host memory or a native library."},
    {"nccl_error", "NCCL error", kNcclError, Severity::warning, false, Quote::line, kFixNccl},
    {"kv_transfer", "KV-cache transfer failure", kKvTransfer, Severity::warning, false, Quote::line,
     "The prefill-to-decode KV-cache transfer failed: usually a consequence of a peer worker that "
     "died first (find its root cause); otherwise check the transfer backend's network (RDMA "
     "devices, NIXL / Mooncake) between the prefill and decode nodes."},
    {"killed", "Process killed (SIGKILL)", kKilled, Severity::critical, true, Quote::line,
     "The process got SIGKILL (exit code 137 / -9): most often the kernel's OOM killer (check "
     "`dmesg -T | grep -i oom` on its node and `sacct` MaxRSS), otherwise scancel, a time limit "
     "or `ray stop --force`."},
    {"slurm_time_limit", "SLURM time limit reached", kSlurmTimeLimit, Severity::critical, true,
     Quote::line,
     "The job hit its SLURM time limit: raise --time or resume from the last checkpoint; check "
     "its last progress line to see whether it was stuck before the limit."},
    {"slurm_cancelled", "SLURM cancelled the step", kSlurmCancelled, Severity::warning, false,
     Quote::line,
     "SLURM tore the step down (scancel, a node failure or the end of the job): when another "
     "worker failed first, this is collateral; otherwise check `sacct -j <job>` for who "
     "cancelled it."},
    {"nan_loss", "Loss is NaN", kNanLoss, Severity::critical, true, Quote::line,
     "Gradient explosion or a data issue: check max_grad_norm and inspect the data with "
     "save_debug_train_data."},
    {"mooncake_failure", "Mooncake master failed to launch", kMooncakeFailure, Severity::warning,
     false, Quote::line,
     "Check that the mooncake master binary exists on the head node and read the MooncakeMaster "
     "actor's worker-*.err."},
    {"mooncake_binary_missing", "Mooncake master binary not found", kMooncakeBinary, Severity::info,
     false, Quote::line,
     "The mooncake master was not launched because its binary is missing: install mooncake on the "
     "head node or point the recipe at the binary."},
    {"runtime_error", "TorchSpec data pipeline error", kRuntimeError, Severity::warning, false,
     Quote::line,
     "The inference-to-training data path failed (mooncake store or engine dispatch): read the "
     "SglEngine and MooncakeMaster worker-*.err around this time; an engine that died first is "
     "the usual cause."},
    {"traceback", "Python traceback", kTraceback, Severity::critical, true, Quote::exception,
     "The exception line and the frame that raised it name the failing call."},
    {"cuda_graph_fallback", "Decode batches above cuda-graph-max-bs", kCudaGraphFallback, Severity::warning, false,
     Quote::line,
     "Decode batches larger than cuda-graph-max-bs run without CUDA graphs (slower, and memory the "
     "graphs did not reserve): raise cuda-graph-max-bs to the batch the benchmark reaches, or cap "
     "max-running-requests per DP rank at it."},
    {"kv_pool_retract", "KV cache pool full: requests retracted", kKvPoolRetract, Severity::warning, false,
     Quote::line,
     "The KV cache ran out and the scheduler retracted running requests (they restart later): "
     "lower the concurrency or max-running-requests, or give the KV cache more memory "
     "(mem-fraction-static, fp8 KV cache, more decode GPUs)."},
    {"queue_growth", "Request queue grew during a benchmark window", kQueueGrowth, Severity::warning, false,
     Quote::line,
     "Requests waited longer and longer in the worker's queue: the worker (or, disaggregated, its "
     "side) cannot keep up at this concurrency; see the rate matching table for which side limits."},
    {"pd_imbalance", "Prefill/decode imbalance", kPdImbalance, Severity::warning, false, Quote::line,
     "One side of the disaggregated deployment limits the other: when decode limits (its queue and "
     "pending KV transfers grow while prefill idles) add decode workers or lower the concurrency; "
     "when prefill limits, add prefill workers or raise chunked-prefill-size."},
};

constexpr size_t kRowCount = std::size(kRows);
static_assert(kRowCount <= 64, "SignatureSet holds at most 64 rows");

// One RE2::Set of every pattern of every row; `row_of[i]` is the row of pattern i.
struct Matcher {
  std::unique_ptr<RE2::Set> set;
  std::vector<size_t> row_of;
  // Per-pattern regexes, used only when the Set's DFA runs out of memory on a line.
  std::vector<std::unique_ptr<RE2>> each;

  Matcher() {
    RE2::Options o;
    o.set_encoding(RE2::Options::EncodingLatin1);  // log bytes are not trusted to be UTF-8
    o.set_log_errors(false);
    o.set_max_mem(64 << 20);
    set = std::make_unique<RE2::Set>(o, RE2::UNANCHORED);
    for (size_t r = 0; r < kRowCount; ++r) {
      for (std::string_view p : kRows[r].patterns) {
        std::string err;
        if (set->Add(re2::StringPiece(p.data(), p.size()), &err) < 0)
          throw std::logic_error("catalogue pattern of " + std::string(kRows[r].id) + ": " + err);
        row_of.push_back(r);
        each.push_back(std::make_unique<RE2>(re2::StringPiece(p.data(), p.size()), o));
      }
    }
    if (!set->Compile()) throw std::logic_error("catalogue patterns do not compile as a set");
  }
};

const Matcher& matcher() {
  static const Matcher m;
  return m;
}

}  // namespace

std::string_view quote_name(Quote q) {
  switch (q) {
    case Quote::line:
      return "line";
    case Quote::exception:
      return "exception";
  }
  return "line";
}

std::span<const Signature> catalogue() {
  return kRows;
}

const Signature* find_signature(std::string_view id) {
  for (const auto& s : kRows)
    if (s.id == id) return &s;
  return nullptr;
}

SignatureSet SignatureSet::all() {
  SignatureSet s;
  s.bits_ = kRowCount == 64 ? ~uint64_t{0} : (uint64_t{1} << kRowCount) - 1;
  return s;
}

SignatureSet SignatureSet::of(std::initializer_list<std::string_view> ids) {
  SignatureSet s;
  for (auto id : ids) {
    const Signature* sig = find_signature(id);
    if (sig == nullptr)
      throw std::invalid_argument("no signature '" + std::string(id) + "' in the catalogue");
    s.bits_ |= uint64_t{1} << static_cast<size_t>(sig - kRows);
  }
  return s;
}

SignatureSet SignatureSet::without(std::initializer_list<std::string_view> ids) const {
  SignatureSet s = *this;
  s.bits_ &= ~of(ids).bits_;
  return s;
}

bool SignatureSet::contains(const Signature& s) const {
  std::less<const Signature*> lt;  // defined order even for a pointer outside the table
  if (lt(&s, kRows) || !lt(&s, kRows + kRowCount)) return false;
  return contains_index(static_cast<size_t>(&s - kRows));
}

const Signature* match_signature(std::string_view line) {
  static const SignatureSet every = SignatureSet::all();
  return match_signature(line, every);
}

const Signature* match_signature(std::string_view line, const SignatureSet& among) {
  const Matcher& m = matcher();
  re2::StringPiece sp(line.data(), line.size());
  RE2::Set::ErrorInfo info{};
  size_t best = kRowCount;
  // Most lines match nothing. Asked only whether anything matches, the DFA stops at the first
  // match; listing every match (to find the first row) is left to the few lines that have one.
  if (m.set->Match(sp, nullptr, &info)) {
    thread_local std::vector<int> hits;
    hits.clear();
    if (m.set->Match(sp, &hits, &info)) {
      for (int i : hits) {
        size_t r = m.row_of[static_cast<size_t>(i)];
        if (r < best && among.contains_index(r)) best = r;
      }
      return best < kRowCount ? &kRows[best] : nullptr;
    }
  }
  if (info.kind == RE2::Set::kOutOfMemory) {
    // The DFA's cache was exhausted on this line: fall back to one regex per pattern.
    for (size_t i = 0; i < m.each.size(); ++i) {
      size_t r = m.row_of[i];
      if (r < best && among.contains_index(r) && RE2::PartialMatch(sp, *m.each[i])) best = r;
    }
  }
  return best < kRowCount ? &kRows[best] : nullptr;
}

}  // namespace alog::core
