"""One evaluation of the default digits run, before and after issue 12, side by side in one process.

    python experiments/benchmarks/evaluation_speed.py [--epochs 15] [--repeats 5] [--threads N]

Trains the default configuration's generator for a few epochs (a collapsed,
untrained generator would make the birthday test and the k-NN metrics
unrealistically cheap or expensive), prepares the evaluation of
``configs/evaluation/default.yaml`` once, then times one evaluation by two
routes, taking turns (old, new, old, new, ...) so that drifts in machine speed
hit both alike:

* **old**: the route before issue 12: the classifier with PyTorch's pooling
  layers (``nn.MaxPool2d``, ``nn.AdaptiveAvgPool2d``), and precision/recall,
  density/coverage and KID each computed alone, as their metric objects did
  (``precision_recall``, ``density_coverage`` with the real radii of the run,
  ``KIDAgainstReal``);
* **new**: ``Evaluation``'s own route: scoring with the faster, bit-identical
  pooling (:mod:`gan_lab.evaluation.evaluators.pooling`), and the three metrics
  from one :class:`~gan_lab.metrics.shared_pass.SharedFeaturePass`, run by the
  first of them to be computed (KID, in the config's order).

IS, FID, the birthday test and mode coverage run the same code in both routes.
Each part's CPU time (``time.process_time``: all threads) and wall time are
the median over ``--repeats`` evaluations; the values of the two routes are
compared (largest relative difference over every metric).  Prints the load
average before and after: on a loaded machine, wall times with more than one
thread are unreliable (threads wait for each other's time slices).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch import nn

from gan_lab.cli.compose import compose_config
from gan_lab.evaluation import KID, DensityCoverage, PrecisionRecall
from gan_lab.evaluation.scored import generate_and_score
from gan_lab.metrics import density_coverage, precision_recall
from gan_lab.evaluation.evaluators.pooling import AdaptiveAvgPool2, MaxPool2
from gan_lab.metrics.kid import KIDAgainstReal

QUIET = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False}


def trained_setup(epochs: int, run_dir: Path):
    """The default config's model trained for ``epochs`` epochs, and its evaluation callback, prepared."""
    cfg = compose_config([f"trainer.max_epochs={epochs}"], run_dir)
    datamodule, model = instantiate(cfg.data), instantiate(cfg.model)
    pl.Trainer(max_epochs=epochs, num_sanity_val_steps=0, limit_val_batches=0, **QUIET).fit(model, datamodule=datamodule)
    evaluation = instantiate(cfg.evaluation)
    trainer = pl.Trainer(callbacks=[evaluation], limit_val_batches=1, **QUIET)
    trainer.validate(model, datamodule=datamodule, verbose=False)  # prepare() and one evaluation
    return trainer, model, evaluation


def standard_pooling(evaluator) -> nn.Module:
    """The classifier as it was before issue 12: PyTorch's own pooling layers (a deep copy)."""
    import copy

    old = copy.deepcopy(evaluator)
    for name, module in list(old.named_modules()):
        parent = old.get_submodule(name.rsplit(".", 1)[0]) if "." in name else old
        if isinstance(module, MaxPool2):
            setattr(parent, name.rsplit(".", 1)[-1], nn.MaxPool2d(2))
        elif isinstance(module, AdaptiveAvgPool2):
            setattr(parent, name.rsplit(".", 1)[-1], nn.AdaptiveAvgPool2d(2))
    return old


def old_compute(metric, fake, real, state):
    """What each metric object computed before issue 12 (the three that now share a pass computed alone)."""
    if isinstance(metric, KID):
        mean, std = state["kid"](fake.features)
        return {"metrics/kid": mean, "metrics/kid_std": std}
    if isinstance(metric, PrecisionRecall | DensityCoverage):
        function = precision_recall if isinstance(metric, PrecisionRecall) else density_coverage
        pair = function(real.train.features, fake.features, k=metric.k, real_radii2=metric._real_radii2)
        return {f"metrics/{tag}": value for tag, value in zip(metric.tags, pair)}
    return metric.compute(fake, real)


def one_evaluation(route: str, trainer, model, evaluation, evaluator, state, seconds) -> dict[str, float]:
    """Generate, score and compute every metric once by ``route``; adds (cpu, wall) per part to ``seconds``."""

    def timed(part, function, *args):
        cpu, wall = time.process_time(), time.perf_counter()
        result = function(*args)
        seconds[(route, part)].append((time.process_time() - cpu, time.perf_counter() - wall))
        return result

    cpu, wall = time.process_time(), time.perf_counter()
    fake = timed("generate + evaluator", generate_and_score, trainer, model, evaluator, evaluation.num_samples,
                 evaluation.latent_seed)
    values = {}
    for name, metric in evaluation.metrics.items():
        compute = metric.compute if route == "new" else old_compute
        args = (fake, evaluation._real) if route == "new" else (metric, fake, evaluation._real, state)
        values.update(timed(name, compute, *args))
    seconds[(route, "all of one evaluation")].append((time.process_time() - cpu, time.perf_counter() - wall))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15, help="training epochs of the generator first (default 15)")
    parser.add_argument("--repeats", type=int, default=5, help="evaluations per route (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as run_dir:
        trainer, model, evaluation = trained_setup(args.epochs, Path(run_dir))
    real, new_evaluator = evaluation._real, evaluation.evaluator
    kid = evaluation.metrics["kid"]
    state = {"kid": KIDAgainstReal(real.train.features, evaluation.num_samples, kid.num_subsets, kid.subset_size,
                                   real.seed)}
    evaluators = {"old": standard_pooling(new_evaluator), "new": new_evaluator}
    seconds, values = defaultdict(list), {}
    for repeat in range(args.repeats):
        for route in ("old", "new") if repeat % 2 == 0 else ("new", "old"):
            values[route] = one_evaluation(route, trainer, model, evaluation, evaluators[route], state, seconds)
    load_after = os.getloadavg()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs; "
          f"{args.epochs} training epochs; median of {args.repeats} evaluations per route, taking turns")
    print(f"load average before: {load_before[0]:.2f}, after: {load_after[0]:.2f}")
    print("| part | old CPU (s) | new CPU (s) | old wall (s) | new wall (s) | CPU ratio old/new |")
    print("|---|---|---|---|---|---|")
    parts = dict.fromkeys(part for _, part in seconds)
    for part in parts:
        old = [statistics.median(t[i] for t in seconds[("old", part)]) for i in (0, 1)]
        new = [statistics.median(t[i] for t in seconds[("new", part)]) for i in (0, 1)]
        label = f"{part} (the shared pass)" if part == "kid" else part
        ratio = f"{old[0] / new[0]:.1f}" if new[0] > 1e-3 else "-"
        print(f"| {label} | {old[0]:.3f} | {new[0]:.3f} | {old[1]:.3f} | {new[1]:.3f} | {ratio} |")
    differences = {tag: abs(values["old"][tag] - values["new"][tag]) / max(abs(values["old"][tag]), 1e-300)
                   for tag in values["old"]}
    worst = max(differences, key=differences.get)
    print(f"largest relative difference between the routes' values: {differences[worst]:.1e} ({worst})")
    print({tag: round(value, 6) for tag, value in values["new"].items()})


if __name__ == "__main__":
    main()
