"""Train one candidate default on the digits and record what it cost and what it reached.

    python experiments/default_run/run_candidate.py NAME [override ...] [--threads 1] [--log FILE]

Runs ``gan-lab-train <overrides>`` in this process (``gan_lab.cli.compose`` + ``gan_lab.cli.train``), then
appends one JSON line to the log: the GAN steps, wall and CPU seconds of the whole run and of its
evaluations, the final Inception Score, FID and largest class share, and the IS of every evaluation.
"""

from __future__ import annotations

import sys
import argparse
import json
import os
import resource
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/, where the studies package lives

from studies.provenance import cpu_model, head_commit

REPO = Path(__file__).resolve().parents[2]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log", default="experiments/default_run/runs.jsonl")
    parser.add_argument("--run-root", default="/tmp/gan_lab_default_run")
    args = parser.parse_args()
    commit = head_commit(REPO, allow_dirty=True)  # at the start: the code this run imports
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    import gan_lab.callbacks.evaluation as evaluation_module
    from gan_lab.cli.compose import compose_config
    from gan_lab.cli.train import train

    curve, shares, eval_cpu, eval_wall = [], [], [0.0], [0.0]
    original = evaluation_module.generate_and_score

    def recording(trainer, pl_module, *rest, **kwargs):
        fake = original(trainer, pl_module, *rest, **kwargs)
        counts = torch.bincount(fake.probs.argmax(1), minlength=fake.probs.shape[1]).double()
        shares.append((counts / counts.sum()).tolist())
        return fake

    original_evaluate = evaluation_module.Evaluation.evaluate

    def timed_evaluate(self, trainer, pl_module):
        c0, w0 = cpu_seconds(), time.perf_counter()
        values = original_evaluate(self, trainer, pl_module)
        eval_cpu[0] += cpu_seconds() - c0
        eval_wall[0] += time.perf_counter() - w0
        curve.append((pl_module.steps_done, round(values["metrics/inception_score"], 3)))
        return values

    evaluation_module.generate_and_score = recording
    evaluation_module.Evaluation.evaluate = timed_evaluate
    run_dir = Path(args.run_root) / args.name
    overrides = ["callbacks.progress_bar=null", *args.overrides]
    cfg = compose_config(overrides, run_dir)
    c0, w0 = cpu_seconds(), time.perf_counter()
    values = train(cfg, run_dir)
    cpu, wall = cpu_seconds() - c0, time.perf_counter() - w0
    steps = curve[-1][0]
    record = {
        "name": args.name, "overrides": args.overrides, "threads": args.threads, "steps": steps,
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "eval_wall_s": round(eval_wall[0], 1),
        "eval_cpu_s": round(eval_cpu[0], 1), "evaluations": len(curve),
        "train_cpu_ms_per_step": round(1000 * (cpu - eval_cpu[0]) / steps, 3),
        "train_wall_ms_per_step": round(1000 * (wall - eval_wall[0]) / steps, 3),
        "is": round(values["metrics/inception_score"], 3), "is_real": round(values["reference/inception_score"], 3),
        "fid": round(values["metrics/fid"], 3), "largest_class": round(100 * max(shares[-1]), 1),
        "modes_covered": values.get("metrics/modes_covered"), "curve": curve, "load_avg_end": os.getloadavg()[0],
        "commit": commit, "machine": cpu_model(),  # which code, which CPU
    }
    print(json.dumps(record))
    with open(args.log, "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
