"""KL and JS divergences of discrete distributions (or densities on a 1D grid, with ``dx`` the cell width).

Inputs may be NumPy arrays, torch tensors or lists; they are checked (non-negative, mass 1) and the maths is
float64 NumPy, with ``0 log 0 = 0``: points where the outer distribution has no mass contribute nothing.
Used by JS by grid (:mod:`gan_lab.metrics.js_grid`) and by the theory lessons (:mod:`gan_lab.lessons.theory`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: How far the total mass (sum times dx) may be from 1 before the input is rejected.
MASS_TOLERANCE = 1e-6


# ---------------------------------------------------------------------- input checks
def as_float64_array(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}.") from error


def _check_dx(dx: float) -> float:
    if not (math.isfinite(dx) and dx > 0):
        raise ValueError(f"dx must be a positive, finite cell width, got {dx}.")
    return float(dx)


def _distribution(p, name: str, dx: float) -> np.ndarray:
    """``p`` as a float64 1D distribution whose mass (sum * dx) is 1, or a ValueError saying what is wrong."""
    array = as_float64_array(p, name)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1D array of probabilities, got shape {array.shape}.")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must hold finite, non-negative values.")
    mass = float(array.sum() * dx)
    if abs(mass - 1.0) > MASS_TOLERANCE:
        raise ValueError(f"{name} must sum to 1 (times dx={dx:g}), but its mass is {mass:.6g}.")
    # Remove the (tolerated) rounding error: Theorem 1's identity uses that both masses are exactly 1.
    return array / mass


def checked_pair(p, q, names: tuple[str, str], dx: float) -> tuple[np.ndarray, np.ndarray]:
    dx = _check_dx(dx)
    a, b = _distribution(p, names[0], dx), _distribution(q, names[1], dx)
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}.")
    return a, b


# ---------------------------------------------------------------------- divergences
def expectation_of_log(weights: np.ndarray, values: np.ndarray, dx: float) -> float:
    """sum(weights * log(values)) * dx with 0 log(anything) = 0; -inf if weights > 0 where values = 0."""
    support = weights > 0  # 0 log 0 = 0: points without weight are skipped, whatever log(values) is
    with np.errstate(divide="ignore"):
        return float(np.sum(weights[support] * np.log(values[support])) * dx)


def _kl(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """KL(p || q) of already checked distributions."""
    if np.any((p > 0) & (q == 0)):
        return math.inf
    support = p > 0
    return float(np.sum(p[support] * (np.log(p[support]) - np.log(q[support]))) * dx)


def kl_divergence(p, q, dx: float = 1.0) -> float:
    """KL(p || q) = sum p log(p / q) (times dx), in nats; ``inf`` if p has mass where q has none.

    Fitting q by maximum likelihood to samples of p minimises KL(p || q)
    (lesson 2), which is why it is infinite when q misses part of p's support.
    Not symmetric: KL(p || q) != KL(q || p) in general.
    """
    p, q = checked_pair(p, q, ("p", "q"), dx)
    return _kl(p, q, dx)


def js_divergence(p, q, dx: float = 1.0) -> float:
    """JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2, in nats.

    Symmetric, always finite (m > 0 wherever p or q is), 0 iff p = q, and at
    most log 2, reached when the supports are disjoint.
    """
    p, q = checked_pair(p, q, ("p", "q"), dx)
    m = 0.5 * (p + q)
    return 0.5 * _kl(p, m, dx) + 0.5 * _kl(q, m, dx)
