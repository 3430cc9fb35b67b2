"""Support sizes from collision rates, and the confidence intervals behind them (see :mod:`gan_lab.metrics.birthday`)."""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import brentq
from scipy.stats import beta

#: Real batches allowed to collide at the calibrated threshold.
CALIBRATION_COLLISION_RATE = 0.05
#: Confidence level of ``support_size_interval``.
CONFIDENCE = 0.95


def support_from_collision_rate(rate: float, batch_size: int) -> float:
    """N = s (s - 1) / (2 ln(1 / (1 - P))): the paper's approximation (no reference correction, ln Q ≈ -m/N)."""
    if not 0 <= rate <= 1:
        raise ValueError(f"a collision rate is a probability, got {rate}.")
    if rate == 0:
        return math.inf
    if rate == 1:
        return 0.0
    pairs = batch_size * (batch_size - 1) / 2
    return pairs / -math.log1p(-rate)  # log1p keeps small rates accurate


def support_size_estimate(collision_rate: float, batch_size: int, reference_collision_rate: float = 0.0) -> float:
    """N solving prod_{i=1}^{s-1} (1 - i/N) = (1 - P) / (1 - P0): the uniform support, with real data's near-duplicates.

    ``math.inf`` when P <= P0 (no more collisions than real data), 0 when P = 1 (no information).
    """
    for name, rate in (("collision_rate", collision_rate), ("reference_collision_rate", reference_collision_rate)):
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} is a probability, got {rate}.")
    if collision_rate <= reference_collision_rate:
        return math.inf
    if collision_rate == 1:
        return 0.0
    excess = math.log1p(-reference_collision_rate) - math.log1p(-collision_rate)  # L > 0
    if excess <= 0:  # rounding when the rates differ by a few ulps
        return math.inf
    steps = np.arange(1, batch_size, dtype=np.float64)

    def log_distinct(n: float) -> float:  # ln Q_n(s) + L: increasing in n, root in [m/L, m/L + s - 1]
        return float(np.log1p(-steps / n).sum()) + excess

    pairs = batch_size * (batch_size - 1) / 2
    # Q_n(s) <= exp(-m/n) and Q_n(s) >= exp(-m/(n - s + 1)); Q_n(s) = 0 at n = s - 1.
    low = max(pairs / excess, (batch_size - 1) * (1 + 1e-12))
    high = pairs / excess + batch_size - 1
    if log_distinct(low) >= 0:  # rounding at the bracket's ends
        return low
    if log_distinct(high) <= 0:
        return high
    return float(brentq(log_distinct, low, high, xtol=1e-12 * high, rtol=1e-14))


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided confidence interval for a binomial proportion."""
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def calibrated_threshold(reference_minima: np.ndarray) -> float:
    """Largest distance at which at most 5 % of the reference batches collide.

    With the per-batch minima sorted, m_(1) <= ... <= m_(T), and a = floor(0.05 T), the
    threshold is the largest float below m_(a+1): only batches with a minimum <= m_(a) collide.
    """
    minima = np.sort(np.asarray(reference_minima, dtype=np.float64))
    allowed = math.floor(CALIBRATION_COLLISION_RATE * len(minima))
    boundary = minima[allowed]
    if boundary <= 0:
        warnings.warn(
            f"birthday paradox: more than {CALIBRATION_COLLISION_RATE:.0%} of the reference batches contain exact "
            "duplicates (was the reference sampled with replacement?); using threshold 0, so only exact duplicates "
            "count as collisions. Calibrate on distinct real samples.",
            UserWarning,
            stacklevel=3,
        )
        return 0.0
    return float(np.nextafter(boundary, 0.0))


# --------------------------------------------------------------------------- batches and distances
