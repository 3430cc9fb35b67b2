"""The GAN game on distributions you can write down (Goodfellow et al. 2014, section 4).

For discrete distributions, or densities sampled on a fine 1D grid (pass
``dx``, the cell width, so that sums approximate integrals), these functions
compute the quantities of the paper's theory exactly:

* :func:`kl_divergence` and :func:`js_divergence` (lesson 2; from :mod:`gan_lab.metrics.divergences`);
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

from collections.abc import Sequence

import numpy as np

from gan_lab.metrics.divergences import as_float64_array, checked_pair, expectation_of_log, js_divergence, kl_divergence

__all__ = ["js_divergence", "kl_divergence", "optimal_discriminator", "value_function", "gaussian_on_grid",
           "gaussian_mixture_on_grid"]


# ---------------------------------------------------------------------- the game
def optimal_discriminator(p_data, p_g, dx: float = 1.0) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Proposition 1).

    ``dx`` only matters for checking the inputs (D* is a ratio of densities).
    Where neither distribution has mass, V(G, D) does not depend on D(x) at
    all, so every value is optimal; we return 1/2, the answer of a
    discriminator that cannot tell, which is also the limit of D* as both
    densities shrink together and keeps the output free of NaNs.
    """
    p_data, p_g = checked_pair(p_data, p_g, ("p_data", "p_g"), dx)
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
    p_data, p_g = checked_pair(p_data, p_g, ("p_data", "p_g"), dx)
    d = as_float64_array(d, "d")
    if d.shape != p_data.shape:
        raise ValueError(f"d must have the distributions' shape {p_data.shape}, got {d.shape}.")
    if not np.all(np.isfinite(d)) or np.any((d < 0) | (d > 1)):
        raise ValueError("d must hold probabilities in [0, 1].")
    return expectation_of_log(p_data, d, dx) + expectation_of_log(p_g, 1.0 - d, dx)


# ---------------------------------------------------------------------- 1D examples
def _checked_grid(grid) -> np.ndarray:
    grid = as_float64_array(grid, "grid")
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
    means, stds = np.atleast_1d(as_float64_array(means, "means")), np.atleast_1d(as_float64_array(stds, "stds"))
    weights = np.ones_like(means) if weights is None else np.atleast_1d(as_float64_array(weights, "weights"))
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
