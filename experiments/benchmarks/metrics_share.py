"""How much of a run's wall time does the evaluation take?

    python experiments/benchmarks/metrics_share.py [overrides ...]

Trains the default configuration (or the one the Hydra overrides give) once,
timing every part of the evaluation: the real-data set-up (evaluator
features of real samples, each metric's real-side work), and at each
evaluation the generation and scoring of the samples, each metric's
computation and the logging of values and images, within which (2D data)
the game view (``game/field``: D on a grid, manifold, arrows, drawing and
rendering the figure) and the animation frames (PNG writes), and at the end
of fit the GIF.  Prints a table and the evaluation's share of the whole run, last.  Target (issue 12): at most 10 %
with an evaluation at least every 5 epochs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import gan_lab.callbacks.evaluation as evaluation_callback
from gan_lab import evaluation
from gan_lab.viz.animation import Animation
from gan_lab.cli.compose import compose_config
from gan_lab.metrics.shared_pass import SharedFeaturePass
from gan_lab.cli.train import train

SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def timed(name: str, function):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - start
            CALLS[name] += 1

    return wrapper


def instrument() -> list[str]:
    """Wrap the evaluation's parts in timers; returns the names of the top-level (non-overlapping) parts."""
    Evaluation = evaluation_callback.Evaluation
    Evaluation.prepare = timed("set-up (real data, once)", Evaluation.prepare)
    Evaluation.evaluate = timed("evaluations (all of it)", Evaluation.evaluate)
    evaluation_callback.generate_and_score = timed("  generate + evaluator", evaluation_callback.generate_and_score)
    Evaluation._log = timed("  logging and images", Evaluation._log)
    evaluation.GameView.image = timed("    game/field (field, figure, render)", evaluation.GameView.image)
    Animation.add_frames = timed("    animation frames (PNG)", Animation.add_frames)
    Animation.write = timed("GIF at the end of fit", Animation.write)
    # Precision/recall, density/coverage and KID share one pass, run by the first of them to be computed
    # (KID, in the config's order): its time is inside that metric's compute, and also shown on its own.
    SharedFeaturePass.__call__ = timed("    (shared pass: PR, DC, KID)", SharedFeaturePass.__call__)
    for name in evaluation.__all__:
        cls = getattr(evaluation, name)
        if isinstance(cls, type) and issubclass(cls, evaluation.EvaluationMetric) and cls is not evaluation.EvaluationMetric:
            cls.compute = timed(f"  {name}.compute", cls.compute)
            cls.prepare = timed(f"  ({name}.prepare, in set-up)", cls.prepare)
    return ["set-up (real data, once)", "evaluations (all of it)", "GIF at the end of fit"]


def main(overrides: list[str]) -> None:
    top_level = instrument()
    with tempfile.TemporaryDirectory() as run_dir:
        cfg = compose_config([*overrides, "callbacks.progress_bar=null"], Path(run_dir))
        start = time.perf_counter()
        values = train(cfg, Path(run_dir))
        total = time.perf_counter() - start
    spent = sum(SECONDS[name] for name in top_level)
    print(f"overrides: {' '.join(overrides) or '(default run)'}")
    print(f"epochs: {cfg.trainer.max_epochs}, evaluation every {cfg.trainer.check_val_every_n_epoch} epochs and at the end, "
          f"evaluation.num_samples={cfg.evaluation.num_samples}, evaluations: {CALLS['evaluations (all of it)']}")
    print("| part | calls | seconds |\n|---|---|---|")
    for name, seconds in SECONDS.items():
        print(f"| {name} | {CALLS[name]} | {seconds:.2f} |")
    print(f"| whole run (train + validate + evaluation) | 1 | {total:.1f} |")
    print(f"final: IS {values['metrics/inception_score']:.2f} (real {values['reference/inception_score']:.2f}), "
          f"FID {values['metrics/fid']:.2f}")
    game = "    game/field (field, figure, render)"
    if CALLS[game]:
        print(f"game/field: {SECONDS[game] / CALLS[game]:.3f} s per evaluation, share={SECONDS[game] / total:.4f}")
    print(f"share={spent / total:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
