"""How much of the default run's wall time do the metric callbacks take?

    python experiments/benchmarks/metrics_share.py [overrides ...]

Trains the default configuration (or the one the Hydra overrides give) once,
timing every metric callback hook (evaluator set-up, and each validation
epoch's sampling, feature extraction and metric maths), and prints the
callbacks' share of the whole run.  Target (issue 3): at most 10 %.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from gan_lab.callbacks.metrics import MetricCallback
from gan_lab.compose import compose_config
from gan_lab.train import train

SECONDS: dict[str, float] = defaultdict(float)


def timed(name: str, hook):
    def wrapper(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return hook(self, *args, **kwargs)
        finally:
            SECONDS[f"{type(self).__name__}.{name}"] += time.perf_counter() - start

    return wrapper


def main(overrides: list[str]) -> None:
    for name in ("setup", "on_validation_epoch_end"):
        setattr(MetricCallback, name, timed(name, getattr(MetricCallback, name)))
    with tempfile.TemporaryDirectory() as run_dir:
        cfg = compose_config([*overrides, "callbacks.progress_bar=null"], Path(run_dir))
        start = time.perf_counter()
        metrics = train(cfg, Path(run_dir))
        total = time.perf_counter() - start
    spent = sum(SECONDS.values())
    print(f"overrides: {' '.join(overrides) or '(default run)'}")
    print(f"epochs: {cfg.trainer.max_epochs}, validation every {cfg.trainer.check_val_every_n_epoch}, "
          f"metrics.num_samples={cfg.metrics.num_samples}")
    print("| part | seconds |\n|---|---|")
    for name, seconds in sorted(SECONDS.items(), key=lambda item: -item[1]):
        print(f"| {name} | {seconds:.1f} |")
    print(f"| all metric callbacks | {spent:.1f} |\n| whole run (train + validate + metrics) | {total:.1f} |")
    print(f"final: IS {metrics['metrics/inception_score']:.2f}, FID {metrics['metrics/fid']:.1f}")
    print(f"share={spent / total:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
