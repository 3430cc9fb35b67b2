"""Train (or load) an evaluation classifier ahead of time and report its held-out accuracy.

    python -m gan_lab.evaluator_cli --data digits [--cache-dir DIR] [--seed 0]

Training runs use the same cache (``$GAN_LAB_CACHE`` or ``~/.cache/gan_lab``),
so a classifier trained here is loaded, not retrained, when a run needs it.
"""

from __future__ import annotations

import argparse
import time

from gan_lab.metrics.evaluators.cache import default_cache_dir
from gan_lab.metrics.evaluators.classifier import digits_classifier

#: Data sets this command can prepare a classifier for.
DATASETS = {"digits": digits_classifier}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gan_lab.evaluator_cli", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, choices=sorted(DATASETS), help="data set whose classifier to prepare")
    parser.add_argument("--cache-dir", default=None, help=f"cache directory (default: {default_cache_dir()})")
    parser.add_argument("--seed", type=int, default=0, help="training seed (part of the cache key)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    evaluator = DATASETS[args.data](cache_dir=args.cache_dir, seed=args.seed)
    how = "loaded from the cache" if evaluator.from_cache else "trained"
    print(f"{evaluator.name}: {how} in {time.perf_counter() - start:.1f} s")
    print(f"held-out accuracy: {evaluator.accuracy:.4f}")
    print(f"cache file: {evaluator.cache_path}")


if __name__ == "__main__":
    main()
