"""The mode-collapse study: {minimax, non_saturating} x {gan, minibatch_gan} on ring8, grid25, stacked digits.

    python experiments/mode_collapse/run_study.py                  # the whole study (5, 5 and 3 seeds), then the report
    python experiments/mode_collapse/run_study.py --quick          # smoke test: 1 seed, 2D only, 5 short epochs
    python experiments/mode_collapse/run_study.py --datasets grid25 --seeds-2d 10 --jobs 2
    python experiments/mode_collapse/run_study.py --report-only    # rebuild README.md and samples.png from the results
    python experiments/mode_collapse/run_study.py --datasets ring8 -- trainer.max_epochs=2   # extra Hydra overrides

Every cell (data set, loss, model, seed) is one ordinary training run, the one
``gan-lab-train experiment=mode_collapse_<data set> loss=<loss> model=<model> seed=<seed>``
does (the 2D data sets take ``model=minibatch_gan_2d``, the layer's size for
their small MLPs); its evaluation of the final generator follows the published
protocol (configs/experiment/mode_collapse_*.yaml).  Cells run in fresh
processes, are recorded with their commit, machine and libraries, and a
stopped study resumes where it stopped (:mod:`studies.runner`).  The
study refuses to start on a tree with uncommitted changes unless
``--allow-dirty`` (see :mod:`studies.provenance`).  The report
(:mod:`report`) is written from ``results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import product
from pathlib import Path

from omegaconf import OmegaConf

from gan_lab.cli.compose import compose_config
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/, where the studies package lives

from studies import Cell, latest_study_records, read_records, run_cells
from studies.cli import provenance_or_exit, stop_cleanly_on_sigterm, this_command
from studies.runner import QUIET, fingerprint

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
LOSSES = ("minimax", "non_saturating")
MODELS = ("gan", "minibatch_gan")
DATASETS = ("ring8", "grid25", "stacked_digits")
TWO_D = ("ring8", "grid25")
#: --quick: a smoke test of the whole pipeline (every 2D variant, the metrics, the report), not a result.
QUICK = ["trainer.max_epochs=5", "data.dataset_size=6000"]
#: What each cell records: the evaluation's final values.
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
#: The settings the report lists for each data set (from its minibatch_gan cells, which have them all), named as
#: the records' configs name them (the records were made before data.num_samples became data.dataset_size).
SHOWN_SETTINGS = (
    "data.num_samples", "data.val_fraction", "data.batch_size", "trainer.max_epochs",
    "model.optimizer_g.lr", "model.optimizer_d.lr", "model.optimizer_g.betas", "model.d_steps_per_g_step",
    "model.ema_decay", "model.generator.latent_dim", "model.generator.hidden_dims", "model.generator.base_width",
    "model.discriminator.hidden_dims", "model.discriminator.base_width", "model.discriminator.minibatch",
    "trainer.check_val_every_n_epoch", "evaluation.num_samples", "evaluation.metrics.birthday.batch_size",
    "evaluation.metrics.birthday.num_trials",
)


def cell_overrides(dataset: str, loss: str, model: str, extra: list[str]) -> list[str]:
    """The Hydra overrides of a cell, seed aside."""
    # The 2D MLPs take minibatch discrimination at the size documented in configs/model/minibatch_gan_2d.yaml.
    preset = f"{model}_2d" if model == "minibatch_gan" and dataset in TWO_D else model
    return [f"experiment=mode_collapse_{dataset}", f"loss={loss}", f"model={preset}", *QUIET, *extra]


def study_cells(datasets, losses, models, seeds_2d: int, seeds_stacked: int, extra: list[str]) -> list[Cell]:
    cells = []
    for dataset, loss, model in product(datasets, losses, models):
        overrides = cell_overrides(dataset, loss, model, extra)
        for seed in range(seeds_stacked if dataset == "stacked_digits" else seeds_2d):
            cells.append(Cell({"dataset": dataset, "loss": loss, "model": model, "seed": seed},
                              [*overrides, f"seed={seed}"],
                              Path("runs") / f"{dataset}-{fingerprint(overrides)}" / f"{model}-{loss}-seed{seed}"))
    return cells


def shown_settings(dataset: str, extra: list[str]) -> dict[str, str]:
    """The main training and evaluation settings of ``dataset``'s cells, as text."""
    cfg = compose_config(cell_overrides(dataset, "non_saturating", "minibatch_gan", extra), "/nonexistent/settings")
    values = {key: OmegaConf.select(cfg, key, default=None) for key in SHOWN_SETTINGS}
    return {key: json.dumps(OmegaConf.to_container(v) if OmegaConf.is_config(v) else v)
            for key, v in values.items() if v is not None}




def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path,
                        help="where runs/ and results.jsonl go (default: results/ here; quick/ with --quick)")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS,
                        help="default: all three (ring8 and grid25 with --quick)")
    parser.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds-2d", "--seeds", dest="seeds_2d", type=int,
                        help="seeds 0..N-1 per cell on ring8 and grid25 (default 5; 1 with --quick)")
    parser.add_argument("--seeds-stacked", "--stacked-seeds", dest="seeds_stacked", type=int, default=3,
                        help="seeds 0..N-1 per cell on stacked_digits (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 seed, 2D only, " + " ".join(QUICK))
    parser.add_argument("--jobs", type=int, default=1, help="cells run at once (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell (default 1)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run on a tree with uncommitted changes (every record says +modified)")
    parser.add_argument("--report", type=Path,
                        help="the report (default: README.md here; <out>/README.md with --out or --quick)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the report from results.jsonl")
    parser.add_argument("--no-report", action="store_true", help="run the cells, write no report")
    parser.add_argument("overrides", nargs="*",
                        help="extra Hydra overrides for every cell (after --), e.g. trainer.max_epochs=2")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.threads < 1:
        parser.error("--jobs and --threads must be at least 1.")
    # The committed report (README.md beside this script) is only written for the default results.
    study = args.out is None and not args.quick
    args.out = args.out or HERE / ("quick" if args.quick else "results")
    args.report = args.report or (HERE / "README.md" if study else args.out / "README.md")
    args.datasets = args.datasets or list(TWO_D if args.quick else DATASETS)
    args.seeds_2d = args.seeds_2d if args.seeds_2d is not None else (1 if args.quick else 5)
    args.extra = (QUICK if args.quick else []) + list(args.overrides)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    stop_cleanly_on_sigterm()
    cells = study_cells(args.datasets, args.losses, args.models, args.seeds_2d, args.seeds_stacked, args.extra)
    if args.report_only:  # the newest study's records, on the commit and machine they ran on
        current = latest_study_records(read_records(args.out / "results.jsonl"), [c.key for c in cells])
    else:
        provenance = provenance_or_exit(REPO_ROOT, args.threads, args.allow_dirty)
        current = run_cells(cells, args.out, provenance, RECORDED, args.jobs, this_command())
    if args.no_report:
        return
    sys.path.insert(0, str(HERE))
    from report import write_report  # noqa: E402 - beside this script

    stale = len(read_records(args.out / "results.jsonl")) - len(current)
    settings = {d: shown_settings(d, args.extra) for d in DATASETS if any(r["dataset"] == d for r in current)}
    write_report(current, args.report, args.out, settings=settings, stale=stale)
    print(f"Wrote {args.report}")


if __name__ == "__main__":
    main()
