"""PacGAN's Table 1 (Lin et al., NeurIPS 2018) under its own protocol: GAN, PacGAN2-4 and, as our extra row,
minibatch discrimination, on PacGAN's 2D grid and ring.

    python experiments/pacgan_table1/run_study.py --jobs 2           # the study: 5 seeds x 100 epochs, seed 0 to 400
    python experiments/pacgan_table1/run_study.py --datasets grid25 --variants gan pacgan4
    python experiments/pacgan_table1/run_study.py --report-only       # rebuild README.md and the figure
    python experiments/pacgan_table1/run_study.py --quick --out /tmp/pacgan-quick   # a smoke test of the pipeline

Every cell is an ordinary ``gan-lab-train experiment=pacgan_<data set> <variant> trainer.max_epochs=<E>
seed=<seed>`` run (configs/experiment/pacgan_*.yaml hold the protocol).  Seed 0 of each variant is evaluated
every 10 epochs (a learning curve) and then continued, from its last checkpoint, to ``--full-epochs``
(PacGAN's 400) as a second ordinary run (``ckpt_path=...``, an exact resume): the table uses the
``--epochs`` runs; the continuation shows whether they had plateaued.  Cells run in fresh processes and are
recorded with their commit, machine and libraries (:mod:`studies`); the study refuses a tree with
uncommitted changes unless ``--allow-dirty``, and resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/, where the studies package lives

from studies import Cell, latest_study_records, read_records, run_cells
from studies.cli import provenance_or_exit, stop_cleanly_on_sigterm, this_command
from studies.runner import QUIET

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DATASETS = ("grid25", "ring8")
#: Each variant's overrides on top of the protocol preset.
VARIANTS = {
    "gan": ["model=gan"],
    "pacgan2": ["model=pacgan", "model.pack=2"],
    "pacgan3": ["model=pacgan", "model.pack=3"],
    "pacgan4": ["model=pacgan", "model.pack=4"],
    "minibatch": ["model=minibatch_gan_2d"],  # 10 kernels of 5 before the logit of the same maxout D
}
#: The evaluation's values each cell records; the curve runs record them at every evaluation too.
RECORDED = ("metrics/modes_covered", "metrics/high_quality_fraction", "metrics/mode_kl", "metrics/js_grid",
            "metrics/birthday_support_size", "metrics/fid")
#: --quick: every part of the pipeline on a few short runs, not a result.
QUICK = ["data.dataset_size=2100", "evaluation.metrics.birthday.num_trials=10"]


def study_cells(datasets, variants, seeds: int, epochs: int, full_epochs: int, curve_every: int, out: Path,
                extra: list[str]):
    """The cells in the order they run: variant by variant (GAN, PacGAN2, ... on both data sets, so the published
    rows fill in first), every table run before the continuations."""
    cells, continuations = [], []
    for variant in variants:
        for dataset in datasets:
            base = [f"experiment=pacgan_{dataset}", *VARIANTS[variant], *QUIET, *extra]
            for seed in range(seeds):
                curve = seed == 0
                cells.append(Cell({"dataset": dataset, "variant": variant, "seed": seed, "epochs": epochs},
                                  [*base, f"trainer.max_epochs={epochs}", f"seed={seed}",
                                   *([f"trainer.check_val_every_n_epoch={curve_every}"] if curve else [])],
                                  Path("runs") / dataset / variant / f"seed{seed}-epochs{epochs}",
                                  curve_tags=RECORDED if curve else ()))
            if full_epochs > epochs:
                start = (out / cells[-seeds].run_dir / "checkpoints" / "last.ckpt").resolve()
                continuations.append(Cell({"dataset": dataset, "variant": variant, "seed": 0, "epochs": full_epochs},
                                          [*base, f"trainer.max_epochs={full_epochs}", "seed=0",
                                           f"trainer.check_val_every_n_epoch={curve_every}", f"ckpt_path={start}"],
                                          Path("runs") / dataset / variant / f"seed0-epochs{full_epochs}",
                                          curve_tags=RECORDED))
    return cells + continuations




def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="where runs/ and results.jsonl go (default: results/ here)")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per cell (default 5)")
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the table's runs (default 100)")
    parser.add_argument("--full-epochs", type=int, default=400,
                        help="seed 0 continued to this many epochs (PacGAN's 400; 0: no continuation)")
    parser.add_argument("--curve-every", type=int, default=10, help="seed 0's evaluations: every N epochs (10)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1 seed, 2 + 2 epochs, small data")
    parser.add_argument("--jobs", type=int, default=1, help="cells run at once (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell (default 1)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run on a tree with uncommitted changes (every record says +modified)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the report from results.jsonl")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every cell (after --)")
    args = parser.parse_args(argv)
    if min(args.jobs, args.threads, args.seeds, args.epochs, args.curve_every) < 1:
        parser.error("--jobs, --threads, --seeds, --epochs and --curve-every must be at least 1.")
    if args.quick:
        args.seeds, args.epochs, args.full_epochs, args.curve_every = 1, 2, 4, 1
    study = args.out is None and not args.quick
    args.out = (args.out or HERE / ("quick" if args.quick else "results")).resolve()
    args.report = HERE / "README.md" if study else args.out / "README.md"
    args.extra = (QUICK if args.quick else []) + list(args.overrides)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    stop_cleanly_on_sigterm()
    cells = study_cells(args.datasets, args.variants, args.seeds, args.epochs, args.full_epochs, args.curve_every,
                        args.out, args.extra)
    if args.report_only:
        current = latest_study_records(read_records(args.out / "results.jsonl"), [c.key for c in cells])
    else:
        provenance = provenance_or_exit(REPO_ROOT, args.threads, args.allow_dirty)
        current = run_cells(cells, args.out, provenance, RECORDED, args.jobs, this_command())
    sys.path.insert(0, str(HERE))
    from report import write_report  # noqa: E402 - beside this script

    write_report(current, args.report, args.out, table_epochs=args.epochs, curve_every=args.curve_every)
    print(f"Wrote {args.report}")


if __name__ == "__main__":
    main()
