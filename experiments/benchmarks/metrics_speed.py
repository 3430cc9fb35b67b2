"""How fast are the metrics?  FID from features and the birthday-paradox test.

    python experiments/benchmarks/metrics_speed.py [--repeats 3]

(a) FID at d = 2048 (Inception pool features), N = 10,000 real and 10,000
    generated features with a non-trivial covariance: ``gan_lab``'s
    ``frechet_distance`` (Cholesky + symmetric eigenvalues, torch float64) vs
    the ``scipy.linalg.sqrtm`` route of pytorch-fid's
    ``calculate_frechet_distance`` (numpy float64), on identical inputs.
    Timed end to end (features -> number) and for the distance step alone
    (statistics -> number), which is where the two routes differ.
(b) The birthday-paradox test at s = 1,000, 64-d features, 100 trials, with
    a given threshold, and with a ``calibrate_birthday`` result (the same scan:
    what every evaluation costs); and the calibration itself, run once per
    training run: 100 real batches for the threshold plus 1,000 fresh ones
    for the real collision rate (about 11 scans).

Each time is the best of ``--repeats`` runs, alternating between the compared
sides.  The last lines are a markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy.linalg
import torch

from gan_lab.metrics import (
    birthday_paradox,
    calibrate_birthday,
    features_to_statistics,
    frechet_distance,
    statistics_to_frechet_distance,
)


def best_times(functions, repeats: int):
    """[(smallest wall time over ``repeats`` calls, last result)] per function.

    Calls alternate between the functions (a, b, a, b, ...) so that noise from other processes on a
    shared machine hits every side alike; the minimum is the least disturbed run.
    """
    times = [[] for _ in functions]
    results = [None] * len(functions)
    for _ in range(repeats):
        for k, fn in enumerate(functions):
            start = time.perf_counter()
            results[k] = fn()
            times[k].append(time.perf_counter() - start)
    return [(min(t), r) for t, r in zip(times, results)]


def sqrtm_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def sqrtm_distance(mu1, sigma1, mu2, sigma2) -> float:
    """pytorch-fid's formulation: trace of scipy's matrix square root of S1 S2, retried with a ridge."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(sigma1)) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_features(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Two feature sets with different, correlated covariances and means (like real vs generated)."""
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    real = np.abs(rng.normal(size=(n, d)) @ mixing + 0.1 * rng.normal(size=(n, d)))  # ReLU-like, non-negative
    fake = np.abs(1.1 * rng.normal(size=(n, d)) @ mixing + 0.2 * rng.normal(size=(n, d)) + 0.05)
    return real, fake


def benchmark_fid(repeats: int, n: int = 10_000, d: int = 2048) -> list[tuple[str, str, str]]:
    real, fake = fid_features(n, d)
    real_t, fake_t = torch.from_numpy(real), torch.from_numpy(fake)

    (ours_total, ours), (scipy_total, reference) = best_times(
        [
            lambda: frechet_distance(real_t, fake_t),
            lambda: sqrtm_distance(*sqrtm_statistics(real), *sqrtm_statistics(fake)),
        ],
        repeats,
    )
    ours_stats = features_to_statistics(real_t) + features_to_statistics(fake_t)
    scipy_stats = sqrtm_statistics(real) + sqrtm_statistics(fake)
    (ours_step, _), (scipy_step, _) = best_times(
        [lambda: statistics_to_frechet_distance(*ours_stats), lambda: sqrtm_distance(*scipy_stats)], repeats
    )

    rel = abs(ours - reference) / abs(reference)
    print(f"(a) FID, d={d}, N={n} + {n}")
    print(
        f"    features -> FID : gan_lab {ours_total:7.2f} s   scipy.sqrtm route {scipy_total:7.2f} s   "
        f"ratio {scipy_total / ours_total:5.1f}x"
    )
    print(
        f"    statistics -> FID: gan_lab {ours_step:7.2f} s   scipy.sqrtm route {scipy_step:7.2f} s   "
        f"ratio {scipy_step / ours_step:5.1f}x"
    )
    print(f"    values: gan_lab {ours:.10f}   scipy.sqrtm {reference:.10f}   relative difference {rel:.1e}")
    return [
        (
            f"FID features -> value (d={d}, N={n}+{n})",
            f"{ours_total:.2f} s",
            f"{scipy_total:.2f} s ({scipy_total / ours_total:.1f}x)",
        ),
        (
            f"FID statistics -> value (d={d})",
            f"{ours_step:.2f} s",
            f"{scipy_step:.2f} s ({scipy_step / ours_step:.1f}x)",
        ),
        ("FID value", f"{ours:.8f}", f"{reference:.8f} (rel. diff. {rel:.0e})"),
    ]


def benchmark_birthday(repeats: int, s: int = 1000, d: int = 64, trials: int = 100) -> list[tuple[str, str, str]]:
    generator = torch.Generator().manual_seed(0)
    fake = torch.randn(s * trials, d, generator=generator)
    real = torch.randn(s * trials, d, generator=generator)
    calibration = calibrate_birthday(real, s, trials)
    (fixed, _), (evaluated, result), (calibrating, _) = best_times(
        [
            lambda: birthday_paradox(fake, s, trials, threshold=calibration.threshold),
            lambda: birthday_paradox(fake, s, trials, calibration=calibration),
            lambda: calibrate_birthday(real, s, trials),
        ],
        repeats,
    )
    print(f"(b) birthday paradox, s={s}, {d}-d features, {trials} trials")
    print(
        f"    given threshold: {fixed:.2f} s   given a calibration: {evaluated:.2f} s   "
        f"calibrate_birthday ({trials} + {calibration.reference_num_trials} real batches): {calibrating:.2f} s\n"
        f"    threshold {calibration.threshold:.3f}, real collision rate {calibration.reference_collision_rate:.3f}, "
        f"generated {result.collision_rate:.2f} -> support {result.support_size:.3g}"
    )
    return [
        (f"birthday test (s={s}, {d}-d, {trials} trials)", f"{evaluated:.2f} s", "target <= 2 s"),
        (
            "birthday calibration (once per run)",
            f"{calibrating:.2f} s",
            f"{trials} + {calibration.reference_num_trials} real batches",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads "
        f"{torch.get_num_threads()}, CUDA {'yes' if torch.cuda.is_available() else 'no'}; "
        f"torch {torch.__version__}, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    rows = benchmark_fid(args.repeats) + benchmark_birthday(args.repeats)
    print()
    print("| measurement | gan_lab | reference |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
