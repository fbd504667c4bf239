#!/usr/bin/env python3
"""Writes testdata/steps/<run>/: prime-rl orchestrator and trainer logs (and metrics.jsonl) in the
v0.5, v0.6, v0.7 and v0.8 shapes with step budgets known exactly, and expected.json with each
step's parts as simulated (docs/STEPS.md). Every duration has one decimal (two in v0.5), so the
printed values are the simulated ones. Run from the repository root."""
import json
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "steps")


def dur6(s):
    """v0.6+ right-aligned 7-character duration."""
    if s < 1:
        t = f"{round(s * 1000)}ms"
    elif s < 60:
        t = f"{s:.1f}s"
    else:
        m, sec = divmod(round(s), 60)
        t = f"{m}m {sec}s"
    return f"{t:>7}"


def tod(t):
    t = int(t) % 86400
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def write(run, name, lines):
    path = os.path.join(ROOT, run, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def expected(run, steps, era, bound, includes):
    """steps: list of dicts with step, orch (O, P, U, E) and trainer (T_total, W, C, B, S) parts."""
    out = {"run": run, "generator": "testdata/gen/make_steps.py", "era": era, "bound": bound,
           "trainer_timer_includes_handover": includes, "steps": steps}
    with open(os.path.join(ROOT, run, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def budget(n, orch, trainer):
    """orch: (O, P, U, E) or None; trainer: (T_total, W, C, B, S) or None. A part that the run does
    not log is None: null in expected.json, and generation (the rest) includes it."""
    d = {"step": n}
    if orch:
        o, p, u, e = orch
        d.update(orchestrator_s=o, wait_for_trainer_s=p, weight_update_s=u, eval_s=e,
                 generation_s=round(o - (p or 0) - (u or 0) - (e or 0), 6))
    if trainer:
        t, w, c, b, s = trainer
        d.update(trainer_s=t, trainer_idle_s=w, compute_s=c, broadcast_s=b, save_s=s)
    return d


# v0.5, trainer-bound, 0-based, blocking evals on steps 3 and 7: the orchestrator waits at the async
# barrier (`Orchestrator resumed ... (after Xs)`); the trainer's timer excludes the broadcast.
def v05_trainer_bound():
    run = "v05_trainer_bound"
    orch, tr, exp = [], [], []
    clock = 12 * 3600
    for n in range(10):
        g, p, u = 18.0, 12.5, 1.2
        e = 41.27 if n in (3, 7) else 0.0
        o = round(g + p + u + e, 2)
        w, c, b = 0.3, 28.7, 2.4
        orch.append(f"{tod(clock)}    INFO Starting orchestrator step {n}")
        orch.append(f"{tod(clock + 1)}    INFO Orchestrator paused: waiting for trainer process to complete checkpoint {n} (>1 step(s) ahead). Training is progressing normally.")
        orch.append(f"{tod(clock + 13)}    INFO Orchestrator resumed: checkpoint {n} ready (after {p:.2f}s)")
        orch.append(f"{tod(clock + 14)}   DEBUG Updated weights to step {n} in {u:.2f}s")
        orch.append(f"Generating rollouts (train):  50%|#####     | 128/256 [00:09<00:09]\r{tod(clock + 20)}   INFO not a step line")
        if e:
            orch.append(f"{tod(clock + 30)} SUCCESS Evaluated gsm8k in {e:.2f}s (Avg@4=0.6120, Pass@4=0.7000)")
        glued = "Generating rollouts (train): 100%|##########| 256/256 [00:18<00:00]" if n == 2 else ""
        orch.append(f"{glued}{tod(clock + int(o))} SUCCESS Step {n} | Time: {o:.2f}s | Reward: 0.4123 | Throughput: 2408.9 tokens/s | Seq. Length: 845.6 tokens/sample | Async Level: 1 | Max. Off-Policy Level: {n % 2}")
        tr.append(f"[trainer0]:{tod(clock)}   DEBUG Weights broadcasted in {b:.2f}s")
        tr.append(f"[trainer0]:{tod(clock)}   DEBUG Waited for batch to arrive for {w:.2f} seconds")
        if n == 5:
            tr.append(f"[trainer0]:{tod(clock)}    INFO Saving checkpoint at step {n}")
        tr.append(f"[trainer0]:{tod(clock + 31)} SUCCESS Step {n} | Time: {w + c:.2f}s | Loss: 0.0012 | Entropy: 0.4511 | Grad. Norm: 0.2101 | LR: 1.00e-06 | Throughput: 9120 tokens/s | MFU: 31.4% | Peak Mem.: 61.2 GiB")
        exp.append(budget(n, (o, p, u, e), (round(w + c + b, 6), w, c, b, None)))
        clock += int(o) + 1
    write(run, "logs/orchestrator.log", orch)
    write(run, "logs/trainer.log", tr)
    expected(run, exp, "v0.5", "trainer-bound", False)


# v0.6, inference-bound, 0-based: no barrier, the trainer idles waiting for batches; durations
# reach `2m 5s`. Broadcast before the timer (v0.6.x).
def v06_inference_bound():
    run = "v06_inference_bound"
    orch, tr, exp = [], [], []
    clock = 3600
    for n in range(8):
        o = 125.0 if n % 2 == 0 else 64.0
        c, b = 30.0, 1.0
        w = o - c - b
        orch.append(f"{tod(clock)}    INFO Updating policy in-flight to v{n}")
        orch.append(f"{tod(clock + 5)}    INFO Train batch 192/256 (75.0%) (+8 buffered); 64 inflight rollouts (train=64, eval=0)")
        orch.append(f"{tod(clock + int(o))} SUCCESS Step {n} | {dur6(o)} | Reward 0.4123 | Trainable 240/256 (93.8%) | Turns 1.0 | Max Off-Policy 1 | Error 0.0% | Truncation 2.3%")
        tr.append(f"{tod(clock)}   DEBUG Weights broadcasted in {b:.2f}s")
        tr.append(f"{tod(clock)}   DEBUG Waited for batch to arrive for {w:.2f} seconds")
        tr.append(f"{tod(clock + int(o))} SUCCESS Step {n} | {dur6(w + c)} | Loss 0.0012 | Entropy 0.4511 | LR 1.00e-06 | Throughput 9120 tokens/s | MFU 31.4% | Peak Mem. 61.2 GiB")
        exp.append(budget(n, (o, None, None, None), (round(w + c + b, 6), w, c, b, None)))
        clock += int(o)
    write(run, "logs/orchestrator.log", orch)
    write(run, "logs/trainer.log", tr)
    expected(run, exp, "v0.6", "inference-bound", False)


# v0.7, hand-over dominated, 1-based, multi-env: weight updates and broadcasts take a third of the
# step; the trainer's timer includes the broadcast. The trainer log starts at step 3 (started later).
# The weight watcher's pause/resume lines (0.5 s) do not block from v0.6.0; the dispatcher's pause
# (1 s by the time of day) does. Step 5 runs a blocking eval (6 s, `Starting evals` to `Evaluated`).
def v07_handover():
    run = "v07_handover"
    orch, tr, exp = [], [], []
    clock = 7200
    for n in range(1, 11):
        g, p, u = 14.0, 1.0, 9.0
        e = 6.0 if n == 5 else 0.0
        o = g + p + u + e
        w, c, b = 0.5, 13.5, 9.5
        orch.append(f"{tod(clock)}    INFO Orchestrator paused: waiting for trainer to broadcast checkpoint {n}. Training is progressing normally.")
        orch.append(f"{tod(clock)}    INFO Orchestrator resumed: checkpoint {n} ready (after 0.5s)")
        orch.append(f"{tod(clock + 1)}   DEBUG Updated weights to step {n} in {u:.2f}s")
        orch.append(f"{tod(clock + 11)}    INFO Pausing dispatcher to prevent orchestrator from racing from trainer. Waiting for new policy...")
        orch.append(f"{tod(clock + 12)}    INFO Resuming dispatcher")
        if e:
            orch.append(f"{tod(clock + 13)}    INFO Starting evals in gsm8k (policy v{n - 1})")
            orch.append(f"{tod(clock + 19)} SUCCESS Evaluated gsm8k (Step {n}) | Policy v{n - 1} | {dur6(e)} | Reward 0.6120 | Turns 1.0")
        orch.append(f"{tod(clock + int(o))} SUCCESS Step {n} | {dur6(o)} | Reward 0.4123 | Trainable 240/256 (93.8%) | Turns 1.0 | Branches 1.0 | Max Off-Policy {n % 3} | Error 0.0% | Truncation 2.3%")
        orch.append("\t\t ╰─ gsm8k | Ratio 50.0% | Reward 0.4400 | Turns 1.0 | Step 99 | Truncation 2.0%")
        orch.append("\t\t ╰─ math | Ratio 50.0% | Reward 0.3800 | Turns 1.0 | Truncation 2.6%")
        if n >= 3:
            tr.append(f"[trainer0]:{tod(clock)}   DEBUG Waited for batch to arrive for {w:.2f} seconds")
            tr.append(f"[trainer0]:{tod(clock)}   DEBUG Weights broadcasted in {b:.2f}s")
            tr.append(f"[trainer0]:{tod(clock + int(o))} SUCCESS Step {n} | {dur6(w + c + b)} | Loss 0.0012 | Entropy 0.4511 | LR 1.00e-06 | MFU 31.4% | Peak Mem. 61.2 GiB")
        exp.append(budget(n, (o, p, u, e), (w + c + b, w, c, b, None) if n >= 3 else None))
        clock += int(o)
    write(run, "logs/orchestrator.log", orch)
    write(run, "logs/trainer.log", tr)
    expected(run, exp, "v0.7+", "hand-over-bound", True)


# v0.8: the same run twice, as lines (logs/) and as metrics.jsonl (metrics/), trainer-bound; the
# orchestrator misses step 4's line and row, the trainer's rows come two per step.
def v08_metrics():
    run = "v08_metrics"
    orch, tr, om, tm, exp = [], [], [], [], []
    clock = 10 * 3600
    t0 = 1780000000
    for n in range(1, 9):
        g, p = 11.5, 9.0
        o = g + p
        w, ld, fb, b, s = 0.2, 0.0, 18.5, 1.8, 0.0
        t = w + ld + fb + b + s
        if n != 4:
            # The batch is ready after generation and held until the policy arrives: the hold
            # line's time of day to the step line's is the wait (9 s).
            orch.append(f"{tod(clock + 11)}    INFO Holding batch {n} until the trainer publishes policy v{n - 1} (currently v{n - 2})")
            orch.append(f"{tod(clock + int(o))} SUCCESS Step {n} | {dur6(o)} | Reward 0.4123 | Trainable 240/256 (93.8%) | Turns 1.0 | Branches 1.0 | Max Off-Policy 1 | Error 0.0% | Cancelled 0.0% | Truncation 2.3%")
            om.append(json.dumps({"step": n, "time": t0 + n, "time/step": o, "time/wait_for_policy": p, "time/save_ckpt": 0.0}))
        tr.append(f"{tod(clock)}   DEBUG Waited for batch to arrive for {w:.2f} seconds")
        tr.append(f"{tod(clock)}   DEBUG Weights broadcasted in {b:.2f}s")
        tr.append(f"{tod(clock + int(t))} SUCCESS Step {n} | {dur6(t)} | Loss 0.0012 | Entropy 0.4511 | LR 1.00e-06 | MFU 31.4% | Peak Mem. 61.2 GiB")
        tm.append(json.dumps({"step": n, "time": t0 + n, "time/step": t, "time/wait_for_batch": w, "time/load_data": ld,
                              "time/forward_backward": fb, "time/broadcast_weights": b, "time/save_ckpt": s}))
        tm.append(json.dumps({"step": n, "time": t0 + n, "perf/throughput": 9120.0, "perf/mfu": 31.4}))
        exp.append(budget(n, (o, p, None, None) if n != 4 else None, (t, w, ld + fb, b, s)))
        clock += int(o)
    write(run, "logs/orchestrator.log", orch)
    write(run, "logs/trainer.log", tr)
    write(run, "metrics/orchestrator/metrics.jsonl", om)
    write(run, "metrics/trainer/metrics.jsonl", tm)
    expected(run, exp, "v0.8 (metrics.jsonl)", "trainer-bound", True)


if __name__ == "__main__":
    v05_trainer_bound()
    v06_inference_bound()
    v07_handover()
    v08_metrics()
