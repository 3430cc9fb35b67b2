"""The mode-collapse study: {minimax, non_saturating} x {gan, minibatch_gan} on ring8, grid25, stacked digits.

    python experiments/mode_collapse/run_study.py                       # the whole study, then the report
    python experiments/mode_collapse/run_study.py --datasets grid25 --seeds 5
    python experiments/mode_collapse/run_study.py --report-only         # rebuild README.md from results

Every cell (data set, loss, model, seed) is one ordinary training run of
``gan-lab-train experiment=mode_collapse_<data set> loss=<loss> model=<model>
seed=<seed>``, composed from the same Hydra configs and trained in this
process, with the metric callbacks evaluating the final generator under the
published protocol (see the experiment configs).  Each finished cell appends
one JSON line to ``<out>/results.jsonl``; cells already there are skipped, so
an interrupted study resumes where it stopped.  The report
(``experiments/mode_collapse/README.md`` and ``samples.png``) is written by
:mod:`report` from that file.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from itertools import product
from pathlib import Path

import torch

from gan_lab.compose import compose_config
from gan_lab.train import train

HERE = Path(__file__).resolve().parent
LOSSES = ("minimax", "non_saturating")
MODELS = ("gan", "minibatch_gan")
DATASETS = ("ring8", "grid25", "stacked_digits")
#: Minibatch layer size on the 2D data sets: 50 kernels of 5 (the paper's code uses 100 x 5) halves the
#: layer's cost, which at these tiny MLPs is most of a step (experiments/benchmarks/README.md).
MINIBATCH_2D = ["model.discriminator.minibatch.num_kernels=50"]
#: What each cell records: the callbacks' final values.
RECORDED = (
    "metrics/modes_covered",
    "metrics/high_quality_fraction",
    "metrics/mode_kl",
    "metrics/inception_score",
    "metrics/fid",
    "metrics/birthday_support_size",
    "metrics/birthday_support_size_low",
    "metrics/birthday_collision_rate",
)


def cell_key(cell: dict) -> tuple:
    return cell["dataset"], cell["loss"], cell["model"], cell["seed"]


def done_cells(results: Path) -> set[tuple]:
    if not results.exists():
        return set()
    return {cell_key(json.loads(line)) for line in results.read_text().splitlines() if line.strip()}


def run_cell(dataset: str, loss: str, model: str, seed: int, out: Path, extra: list[str]) -> dict:
    """Train one cell and return its record."""
    run_dir = out / "runs" / dataset / f"{model}-{loss}-seed{seed}"
    overrides = [f"experiment=mode_collapse_{dataset}", f"loss={loss}", f"model={model}", f"seed={seed}",
                 "callbacks.progress_bar=null", "trainer.enable_model_summary=false"]
    if model == "minibatch_gan" and dataset != "stacked_digits":
        overrides += MINIBATCH_2D
    overrides += extra
    cfg = compose_config(overrides, run_dir)
    start = time.perf_counter()
    metrics = train(cfg, run_dir)
    seconds = time.perf_counter() - start
    return {
        "dataset": dataset, "loss": loss, "model": model, "seed": seed, "seconds": round(seconds, 1),
        "overrides": overrides, "checkpoint": str((run_dir / "checkpoints" / "last.ckpt").relative_to(out)),
        **{tag.split("/", 1)[1]: metrics[tag] for tag in RECORDED if tag in metrics},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where runs and results.jsonl go")
    parser.add_argument("--datasets", nargs="+", default=["grid25", "ring8", "stacked_digits"], choices=DATASETS)
    parser.add_argument("--seeds", type=int, default=5, help="seeds per cell on ring8 and grid25")
    parser.add_argument("--stacked-seeds", type=int, default=3, help="seeds per cell on stacked_digits")
    parser.add_argument("--report", type=Path, default=HERE / "README.md", help="the report to write")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the report from results.jsonl")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every cell (e.g. for a smoke test)")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    if not args.report_only:
        finished = done_cells(results)
        for dataset in args.datasets:
            seeds = range(args.stacked_seeds if dataset == "stacked_digits" else args.seeds)
            for loss, model, seed in product(LOSSES, MODELS, seeds):
                if (dataset, loss, model, seed) in finished:
                    continue
                record = run_cell(dataset, loss, model, seed, args.out, list(args.overrides))
                with results.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                print(f"{dataset} {loss} {model} seed {seed}: {record['seconds']} s, "
                      f"modes {record.get('modes_covered')}", flush=True)

    from report import write_report  # noqa: E402 - beside this script

    machine = f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, no GPU"
    write_report(results, args.report, args.out, machine)
    print(f"Wrote {args.report}")


if __name__ == "__main__":
    main()
