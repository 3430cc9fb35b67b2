"""The GAN game on distributions you can write down (Goodfellow et al. 2014, section 4).

For discrete distributions, or densities sampled on a fine 1D grid (pass
``dx``, the cell width, so that sums approximate integrals), these functions
compute the quantities of the paper's theory exactly:

* :func:`kl_divergence` and :func:`js_divergence` (lesson 2);
* :func:`optimal_discriminator` D*(x) = p_data(x) / (p_data(x) + p_g(x))
  (Proposition 1);
* :func:`value_function` V(G, D) = E_data[log D(x)] + E_g[log(1 - D(x))], so
  that V(G, D*) = -log 4 + 2 JS(p_data || p_g) (Theorem 1) can be checked
  numerically (lesson 3).

Everything is float64 NumPy; ``0 log 0 = 0`` throughout (terms where the
outer distribution has no mass contribute nothing).
"""

from __future__ import annotations

import math

import numpy as np

#: How far the total mass may be from 1 before the input is rejected.
MASS_TOLERANCE = 1e-6


def _distribution(p, name: str, dx: float) -> np.ndarray:
    array = np.asarray(p, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1D array of probabilities, got shape {array.shape}.")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must hold finite, non-negative values.")
    mass = array.sum() * dx
    if abs(mass - 1.0) > MASS_TOLERANCE:
        raise ValueError(f"{name} must sum to 1 (times dx={dx}), but its mass is {mass:.6g}.")
    return array


def _pair(p, q, names: tuple[str, str], dx: float) -> tuple[np.ndarray, np.ndarray]:
    if not dx > 0:
        raise ValueError(f"dx must be a positive cell width, got {dx}.")
    a, b = _distribution(p, names[0], dx), _distribution(q, names[1], dx)
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}.")
    return a, b


def _expectation_of_log(weights: np.ndarray, values: np.ndarray, dx: float) -> float:
    """sum(weights * log(values)) * dx with 0 log(anything) = 0; -inf if weights > 0 where values = 0."""
    support = weights > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(weights[support] * np.log(values[support])) * dx)


def kl_divergence(p, q, dx: float = 1.0) -> float:
    """KL(p || q) = sum p log(p / q), in nats; ``inf`` if p has mass where q has none.

    Maximum likelihood fitting of q to samples of p minimises KL(p || q)
    (lesson 2). Not symmetric: KL(p || q) != KL(q || p) in general.
    """
    p, q = _pair(p, q, ("p", "q"), dx)
    if np.any((p > 0) & (q == 0)):
        return math.inf
    support = p > 0
    return float(np.sum(p[support] * (np.log(p[support]) - np.log(q[support]))) * dx)


def js_divergence(p, q, dx: float = 1.0) -> float:
    """JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2, in nats.

    Symmetric, always finite, 0 iff p = q, and at most log 2 (reached when the
    supports are disjoint).
    """
    p, q = _pair(p, q, ("p", "q"), dx)
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, dx) + 0.5 * kl_divergence(q, m, dx)


def optimal_discriminator(p_data, p_g, dx: float = 1.0) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Proposition 1).

    Where neither distribution has mass, any D is optimal (V does not depend
    on it there); we return 1/2, the value that says "cannot tell".
    """
    p_data, p_g = _pair(p_data, p_g, ("p_data", "p_g"), dx)
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def value_function(p_data, p_g, d, dx: float = 1.0) -> float:
    """V(G, D) = E_{x~p_data}[log D(x)] + E_{x~p_g}[log(1 - D(x))] (Goodfellow et al. 2014, eq. 1).

    ``d`` holds D's output in [0, 1] at each point. With ``d =
    optimal_discriminator(p_data, p_g)`` this equals -log 4 + 2 JS(p_data || p_g)
    (Theorem 1): the generator of the ideal game minimises a JS divergence.
    """
    p_data, p_g = _pair(p_data, p_g, ("p_data", "p_g"), dx)
    d = np.asarray(d, dtype=np.float64)
    if d.shape != p_data.shape:
        raise ValueError(f"d must have the distributions' shape {p_data.shape}, got {d.shape}.")
    if np.any((d < 0) | (d > 1)) or not np.all(np.isfinite(d)):
        raise ValueError("d must hold probabilities in [0, 1].")
    return _expectation_of_log(p_data, d, dx) + _expectation_of_log(p_g, 1.0 - d, dx)


__all__ = ["js_divergence", "kl_divergence", "optimal_discriminator", "value_function"]
