"""The GAN game on distributions you can write down (Goodfellow et al. 2014, section 4).

For discrete distributions, or densities sampled on a fine 1D grid (pass
``dx``, the cell width, so that sums approximate integrals), these functions
compute the quantities of the paper's theory exactly:

* :func:`kl_divergence` and :func:`js_divergence` (lesson 2);
* :func:`optimal_discriminator` D*(x) = p_data(x) / (p_data(x) + p_g(x))
  (Proposition 1);
* :func:`value_function` V(G, D) = E_data[log D(x)] + E_g[log(1 - D(x))], so
  that V(G, D*) = -log 4 + 2 JS(p_data || p_g) (Theorem 1) can be checked
  numerically (lesson 3);
* :func:`gaussian_on_grid` and :func:`gaussian_mixture_on_grid` build 1D
  examples to feed them.

Inputs may be NumPy arrays, torch tensors or lists; all maths is float64
NumPy.  ``0 log 0 = 0`` throughout: points where the outer distribution has
no mass contribute nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

#: How far the total mass (sum times dx) may be from 1 before the input is rejected.
MASS_TOLERANCE = 1e-6


# ---------------------------------------------------------------------- input checks
def _float64(x, name: str) -> np.ndarray:
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
    array = _float64(p, name)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1D array of probabilities, got shape {array.shape}.")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must hold finite, non-negative values.")
    mass = float(array.sum() * dx)
    if abs(mass - 1.0) > MASS_TOLERANCE:
        raise ValueError(f"{name} must sum to 1 (times dx={dx:g}), but its mass is {mass:.6g}.")
    # Remove the (tolerated) rounding error: Theorem 1's identity uses that both masses are exactly 1.
    return array / mass


def _pair(p, q, names: tuple[str, str], dx: float) -> tuple[np.ndarray, np.ndarray]:
    dx = _check_dx(dx)
    a, b = _distribution(p, names[0], dx), _distribution(q, names[1], dx)
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}.")
    return a, b


# ---------------------------------------------------------------------- divergences
def _expectation_of_log(weights: np.ndarray, values: np.ndarray, dx: float) -> float:
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
    p, q = _pair(p, q, ("p", "q"), dx)
    return _kl(p, q, dx)


def js_divergence(p, q, dx: float = 1.0) -> float:
    """JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2, in nats.

    Symmetric, always finite (m > 0 wherever p or q is), 0 iff p = q, and at
    most log 2, reached when the supports are disjoint.
    """
    p, q = _pair(p, q, ("p", "q"), dx)
    m = 0.5 * (p + q)
    return 0.5 * _kl(p, m, dx) + 0.5 * _kl(q, m, dx)


# ---------------------------------------------------------------------- the game
def optimal_discriminator(p_data, p_g, dx: float = 1.0) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Proposition 1).

    ``dx`` only matters for checking the inputs (D* is a ratio of densities).
    Where neither distribution has mass, V(G, D) does not depend on D(x) at
    all, so every value is optimal; we return 1/2, the answer of a
    discriminator that cannot tell, which is also the limit of D* as both
    densities shrink together and keeps the output free of NaNs.
    """
    p_data, p_g = _pair(p_data, p_g, ("p_data", "p_g"), dx)
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def value_function(p_data, p_g, d, dx: float = 1.0) -> float:
    """V(G, D) = E_{x~p_data}[log D(x)] + E_{x~p_g}[log(1 - D(x))] (Goodfellow et al. 2014, eq. 1).

    ``d`` holds D's output in [0, 1] at each point. With ``d =
    optimal_discriminator(p_data, p_g)`` this equals -log 4 + 2 JS(p_data || p_g)
    (Theorem 1): against the best discriminator, the generator minimises a JS
    divergence, and the minimum -log 4 is reached only at p_g = p_data.

    Terms with zero weight count 0 (0 log 0 = 0).  A point with weight where
    D is exactly 0 (for p_data) or 1 (for p_g) gives -inf: D is certain and
    wrong there.  Beware that D* rounds to exactly 1.0 in float64 once
    p_g / p_data < 1e-16 (far Gaussian tails), turning a negligible term into
    -inf; :func:`gaussian_on_grid`'s ``floor`` avoids that.
    """
    p_data, p_g = _pair(p_data, p_g, ("p_data", "p_g"), dx)
    d = _float64(d, "d")
    if d.shape != p_data.shape:
        raise ValueError(f"d must have the distributions' shape {p_data.shape}, got {d.shape}.")
    if not np.all(np.isfinite(d)) or np.any((d < 0) | (d > 1)):
        raise ValueError("d must hold probabilities in [0, 1].")
    return _expectation_of_log(p_data, d, dx) + _expectation_of_log(p_g, 1.0 - d, dx)


# ---------------------------------------------------------------------- 1D examples
def _checked_grid(grid) -> np.ndarray:
    grid = _float64(grid, "grid")
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)):
        raise ValueError(f"grid must be a finite 1D array of at least 2 points, got shape {grid.shape}.")
    steps = np.diff(grid)
    # Equal cells: each point then stands for the same width, so normalising the values normalises the masses.
    if steps[0] <= 0 or not np.allclose(steps, steps[0], rtol=1e-6, atol=0):
        raise ValueError("grid must be increasing and evenly spaced (e.g. np.linspace).")
    return grid


def gaussian_mixture_on_grid(grid, means: Sequence[float], stds: Sequence[float],
                             weights: Sequence[float] | None = None, floor: float = 0.0) -> np.ndarray:
    """Cell masses of a 1D Gaussian mixture on an evenly spaced ``grid``, summing to 1.

    Each component is normalised on the grid (a Gaussian truncated to the
    grid's range), then mixed with ``weights`` (equal by default).  The result
    is a probability per grid point, for the divergences' default ``dx=1``;
    divide by the grid step for density values.

    ``floor`` mixes in that much uniform mass, ``(1 - floor) * mixture + floor
    / len(grid)``: with e.g. ``floor=1e-9`` no point has a density ratio below
    float64's resolution, so D* never rounds to exactly 0 or 1 (see
    :func:`value_function`), at a cost of about ``floor`` nats in any divergence.
    """
    grid = _checked_grid(grid)
    means, stds = np.atleast_1d(_float64(means, "means")), np.atleast_1d(_float64(stds, "stds"))
    weights = np.ones_like(means) if weights is None else np.atleast_1d(_float64(weights, "weights"))
    if not (means.ndim == stds.ndim == weights.ndim == 1 and means.size == stds.size == weights.size > 0):
        raise ValueError(f"means, stds and weights must be 1D of one length, got {means.shape}, {stds.shape}, "
                         f"{weights.shape}.")
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(stds)) and np.all(stds > 0)):
        raise ValueError("means must be finite and stds positive.")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum.")
    if not 0 <= floor < 1:
        raise ValueError(f"floor must be in [0, 1), got {floor}.")
    mixture = np.zeros_like(grid)
    for mean, std, weight in zip(means, stds, weights / weights.sum(), strict=True):
        log_density = -0.5 * ((grid - mean) / std) ** 2
        # Subtract the largest value before exp so that a component far from the grid still normalises.
        component = np.exp(log_density - log_density.max())
        mixture += weight * component / component.sum()
    return (1 - floor) * mixture + floor / grid.size


def gaussian_on_grid(grid, mean: float, std: float, floor: float = 0.0) -> np.ndarray:
    """Cell masses of N(mean, std^2) on an evenly spaced ``grid``, summing to 1.

    See :func:`gaussian_mixture_on_grid` for the normalisation and ``floor``.
    """
    return gaussian_mixture_on_grid(grid, [mean], [std], floor=floor)


__all__ = [
    "gaussian_mixture_on_grid",
    "gaussian_on_grid",
    "js_divergence",
    "kl_divergence",
    "optimal_discriminator",
    "value_function",
]
