"""The birthday-paradox estimate on generators of known support: uniform draws from K real digits.

A generator that draws uniformly (with replacement) from K distinct training digits has support
exactly K, and its distinct items are as near-duplicated as real data.  Calibrated as the
``BirthdayParadox`` callback does (real batches drawn without replacement from the 1,617 distinct
training digits, pixels in [-1, 1]), the reference-corrected estimate must be unbiased (median within
10 % of K) and its 95 % interval must cover K in at least 90 % of repetitions, with and without
small pixel noise (then the generator's repeats are only near-duplicates).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_lab.data.digits import DigitsDataModule
from gan_lab.metrics import birthday_paradox, calibrate_birthday

NUM_TRIALS = 100  # batches per evaluation and calibration batches, the callback's default


def training_pool() -> torch.Tensor:
    """The 1,617 distinct training digits, flattened float64 pixels in [-1, 1] (the callback's pixel pool)."""
    return DigitsDataModule().train_set.tensors[0].flatten(1).double()


def real_sampler(pool: torch.Tensor):
    def draw_real(n: int, generator: torch.Generator) -> torch.Tensor:  # without replacement, as the callback
        return pool[torch.randperm(len(pool), generator=generator)[:n]]

    return draw_real


def known_support_sampler(pool: torch.Tensor, support: int, noise: float, seed: int):
    """Uniform draws with replacement from ``support`` random distinct pool items, plus Gaussian pixel noise."""
    items = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:support]]

    def draw_fake(n: int, generator: torch.Generator) -> torch.Tensor:
        batch = items[torch.randint(support, (n,), generator=generator)]
        if noise:
            batch = batch + noise * torch.randn(batch.shape, generator=generator, dtype=batch.dtype)
        return batch

    return draw_fake


def known_support_study(
    configs: list[tuple[int, int, float]], repetitions: int, first_seed: int = 0, pool: torch.Tensor | None = None
) -> dict[tuple[int, int, float], dict[str, float]]:
    """For each (K, batch size, noise): median estimate / K and interval coverage over ``repetitions`` runs.

    Each repetition calibrates once per batch size (a fresh training run) and evaluates every
    generator with that calibration, as a callback calibrates once and evaluates every epoch.
    """
    pool = training_pool() if pool is None else pool
    draw_real = real_sampler(pool)
    estimates: dict[tuple[int, int, float], list[float]] = {c: [] for c in configs}
    covered: dict[tuple[int, int, float], list[bool]] = {c: [] for c in configs}
    for rep in range(first_seed, first_seed + repetitions):
        for batch_size in sorted({s for _, s, _ in configs}):
            calibration = calibrate_birthday(draw_real, batch_size, NUM_TRIALS, seed=rep)
            for config in configs:
                support, s, noise = config
                if s != batch_size:
                    continue
                fake = known_support_sampler(pool, support, noise, seed=10_000 + rep)
                result = birthday_paradox(fake, s, NUM_TRIALS, calibration=calibration, seed=rep, num_pairs=0)
                low, high = result.support_size_interval
                estimates[config].append(result.support_size)
                covered[config].append(low <= support <= high)
    return {
        c: {
            "median_ratio": float(np.median(estimates[c])) / c[0],
            "coverage": float(np.mean(covered[c])),
            "repetitions": repetitions,
        }
        for c in configs
    }


CONFIGS = [(200, 20, 0.0), (200, 20, 0.02), (1000, 40, 0.0), (1000, 40, 0.02), (1617, 40, 0.0), (1617, 40, 0.02)]


@pytest.mark.slow
def test_known_supports_are_recovered_with_calibrated_coverage():
    table = known_support_study(CONFIGS, repetitions=25)  # ~15 s on one idle thread
    for (support, s, noise), row in table.items():
        label = f"K={support}, s={s}, noise={noise}: {row}"
        assert abs(row["median_ratio"] - 1) <= 0.10, label
        assert row["coverage"] >= 0.90, label


def test_noisy_copies_collide_but_distinct_digits_rarely_do():
    # Why noise std 0.02 keeps repeats collisions: two noisy copies are ~0.02 sqrt(2 * 64) = 0.23 apart,
    # far below the calibrated threshold (the nearest distinct training digits are >= 0.9 apart).
    pool = training_pool()
    calibration = calibrate_birthday(real_sampler(pool), 40, NUM_TRIALS, seed=0)
    assert 0.9 < calibration.threshold < 2.0
    assert 0 < calibration.reference_collision_rate < 0.15
    assert calibration.reference_num_trials == 10 * NUM_TRIALS
    everything = birthday_paradox(real_sampler(pool), 40, NUM_TRIALS, calibration=calibration, seed=0)
    assert everything.support_size == math.inf or everything.support_size > 10_000  # the data itself: P ~ P0
