#!/usr/bin/env python3
"""A prime-rl run that is still running, for the --follow tests (tests/e2e/test_follow.sh).

    follow_writer.py RUN_DIR ACTION...

Writes RUN_DIR/logs/orchestrator.log, trainer.log and inference.log the way prime-rl does (loguru
colour codes, the step summaries, the tagged [weights]/[gen]/[ckpt] lines), one step at a time,
flushing each line, and does the actions in order:

    steps:N:GAP     N steps, GAP seconds apart (each: batch, weight update on both sides, both
                    step summaries, a checkpoint)
    pause:S         write nothing for S seconds
    rotate          rename orchestrator.log to orchestrator.log.1 and start a new one (logrotate's
                    create mode; RotatingFileHandler)
    truncate        copy orchestrator.log to orchestrator.log.1 and empty it (copytruncate)
    newfile         start logs/trainer_rank1.log (a file that appears later) with one trainer step
    partial         write half of a line, pause 0.3 s, write the rest
    finish          the orchestrator's last line, `Orchestrator finished.`
    stdout:N:GAP    N steps of orchestrator lines to standard output instead of files

Every action is logged to RUN_DIR/writer.log as `EPOCH ACTION` (the tests measure detection
latency from it); RUN_DIR/written.json holds what was written in all (steps, updates, batches).
"""
import json
import os
import shutil
import sys
import time

E = "\x1b"


def loguru(level, msg, t):
    hms = time.strftime("%H:%M:%S", time.localtime(t))
    colour = "32" if level == "SUCCESS" else "1"
    return f"{E}[2m{hms}{E}[0m {E}[{colour}m{E}[1m{level:>7}{E}[0m {E}[1m{E}[22m{msg}{E}[0m{E}[0m\n"


class Run:
    def __init__(self, root):
        self.root = root
        self.logs = os.path.join(root, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.step = 0
        self.written = {"steps": 0, "trainer_steps": 0, "updates": 0, "batches": 0, "ckpts": 0}
        self.files = {}
        self.actions = open(os.path.join(root, "writer.log"), "a", buffering=1)
        self.mono = 50000.0
        # A writer started again on the same run goes on where the last one stopped.
        saved = os.path.join(root, "written.json")
        if os.path.exists(saved):
            with open(saved) as f:
                self.written = json.load(f)
            self.step = self.written["steps"]
            self.mono += 1.5 * self.step

    def f(self, name):
        if name not in self.files:
            self.files[name] = open(os.path.join(self.logs, name), "a", buffering=1)
        return self.files[name]

    def log(self, what):
        self.actions.write(f"{time.time():.3f} {what}\n")

    def one_step(self, out=None):
        t = time.time()
        self.mono += 1.5
        orch = out or self.f("orchestrator.log")
        trid = f"{0xabc000 + self.step:016x}"
        orch.write(loguru("INFO", "[gen] batch.start inflight=66 target_batch=64", t))
        orch.write(loguru("INFO", f"[gen] batch.done completions=64 dur_ms={800 + self.step % 7 * 10}.5 inflight=70", t))
        self.written["batches"] += 1
        orch.write(loguru("INFO", f"[weights][{trid}] client.send url=http://10.0.0.5:8000 "
                          f"path=/models/run/checkpoints/step_{self.step} t={self.mono:.6f}", t))
        if out is None:
            inf = self.f("inference.log")
            inf.write(f"INFO 10-14 {time.strftime('%H:%M:%S')} [server.py:88] [weights][{trid}] "
                      f"server.recv path=/update_weights t={self.mono + 0.01:.6f}\n")
            inf.write(f"INFO 10-14 {time.strftime('%H:%M:%S')} [server.py:139] [weights][{trid}] "
                      f"rpc.done op=update_weights t={self.mono + 0.3:.6f} rpc_ms={250 + self.step % 5}.0\n")
        orch.write(loguru("INFO", f"[weights][{trid}] client.done wall_ms={300 + self.step % 5 + 20}.0 "
                          f"rpc_ms={250 + self.step % 5}.0 queue_ms={20 + self.step % 3}.0", t))
        self.written["updates"] += 1
        orch.write(loguru("SUCCESS", f"Step {self.step} | Time: 1.{self.step % 9}0s | Reward: 0.5 | "
                          f"Throughput: 16342.1 tokens/s | Seq. Length: 664.2 tokens/sample", t))
        self.written["steps"] += 1
        if out is None:
            tr = self.f("trainer.log")
            tr.write(f"[trainer0]:{time.strftime('%H:%M:%S')} SUCCESS Step {self.step} | Time: 1.20s | "
                     f"Loss: -0.0159 | Entropy: 0.7303 | Throughput: 11027 tokens/s | MFU: 29.7%\n")
            tr.write(f"[trainer0]:{time.strftime('%H:%M:%S')}    INFO [ckpt] write.done step={self.step} "
                     f"write_ms={600 + self.step}.0\n")
            self.written["trainer_steps"] += 1
            self.written["ckpts"] += 1
        self.step += 1

    def save(self):
        with open(os.path.join(self.root, "written.json"), "w") as f:
            json.dump(self.written, f)


def main():
    run = Run(sys.argv[1])
    for action in sys.argv[2:]:
        parts = action.split(":")
        run.log(action)
        if parts[0] == "steps":
            for i in range(int(parts[1])):
                if i:
                    time.sleep(float(parts[2]))
                run.one_step()
                run.log(f"step {run.step - 1}")
        elif parts[0] == "stdout":
            for i in range(int(parts[1])):
                if i:
                    time.sleep(float(parts[2]))
                run.one_step(out=sys.stdout)
                sys.stdout.flush()
        elif parts[0] == "pause":
            time.sleep(float(parts[1]))
        elif parts[0] == "rotate":
            run.files.pop("orchestrator.log").close()
            os.rename(os.path.join(run.logs, "orchestrator.log"), os.path.join(run.logs, "orchestrator.log.1"))
        elif parts[0] == "truncate":
            path = os.path.join(run.logs, "orchestrator.log")
            shutil.copyfile(path, path + ".1")
            with open(path, "r+") as f:
                f.truncate(0)
            # Appending continues from offset 0 (the handle is O_APPEND), as logrotate's copytruncate needs.
        elif parts[0] == "newfile":
            with open(os.path.join(run.logs, "trainer_rank1.log"), "a") as f:
                f.write(f"[trainer1]:{time.strftime('%H:%M:%S')} SUCCESS Step {run.step} | Time: 1.20s | "
                        f"Loss: -0.0159 | Entropy: 0.7303 | Throughput: 11027 tokens/s | MFU: 29.7%\n")
            run.written["trainer_steps"] += 1
        elif parts[0] == "partial":
            line = loguru("SUCCESS", f"Step {run.step} | Time: 1.00s | Reward: 0.5 | Throughput: 1.0 tokens/s", time.time())
            o = run.f("orchestrator.log")
            o.write(line[:40])
            o.flush()
            time.sleep(0.3)
            o.write(line[40:])
            run.step += 1
            run.written["steps"] += 1
        elif parts[0] == "finish":
            run.f("orchestrator.log").write(loguru("SUCCESS", "Orchestrator finished.", time.time()))
        else:
            sys.exit(f"follow_writer.py: unknown action {action}")
        run.save()
    run.log("done")
    run.save()


if __name__ == "__main__":
    main()
