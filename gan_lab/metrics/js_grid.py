"""The Jensen-Shannon divergence of two 2D distributions estimated on a grid of cells ("JS by grid").

GAN Lab (Kahng et al., "GAN Lab: Understanding Complex Deep Generative
Models using Interactive Visual Experimentation", IEEE VIS 2018) shows how
far the generated points are from the real ones by cutting the plane into
cells, histogramming both point sets on the same cells and computing the
divergence of the two histograms.  Here:

* the cells are a ``bins`` x ``bins`` grid over a square box around the data
  (:func:`square_box`: the data's bounding box with a margin), plus **one
  outside cell** for everything beyond the box, so both histograms stay
  normalised and a generator that throws points far away is penalised
  instead of ignored;
* :func:`histogram_on_grid` turns points into cell probabilities;
* :func:`gaussian_mixture_cell_probabilities` gives the *exact* cell
  probabilities of an equal-weight isotropic Gaussian mixture (ring8,
  grid25): per component the mass of a rectangle is a product of two
  differences of normal CDFs;
* :func:`js_grid` is the JS divergence of two such histograms in nats
  (natural log), so it lies in [0, log 2]: 0 for identical histograms, log 2
  for disjoint ones.  It reuses :func:`gan_lab.metrics.divergences.js_divergence`.

A histogram of N points is a noisy estimate, so even a perfect generator
scores above 0; the evaluation logs that floor beside the value (see
:class:`gan_lab.evaluation.JSGrid`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lab.metrics.inputs import as_float64
from gan_lab.metrics.divergences import js_divergence

#: A box ``(x_min, x_max, y_min, y_max)``.
Box = tuple[float, float, float, float]


def square_box(points, margin: float = 0.25) -> Box:
    """The smallest square holding ``(N, 2)`` points, centred on their bounding box, widened by ``margin``.

    ``margin`` is a fraction of the side added on each side (0.25: the box is 1.5 times the data's
    extent).  Square, so a heat map over it has square cells and equal axes.
    """
    x = as_float64(points)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"points must be a non-empty (N, 2) array, got shape {tuple(x.shape)}.")
    if not margin >= 0:
        raise ValueError(f"margin must be non-negative, got {margin}.")
    low, high = x.min(dim=0).values, x.max(dim=0).values
    centre = (low + high) / 2
    half = float((high - low).max()) / 2 * (1 + 2 * margin) or 1.0  # a single point: a unit box around it
    return (float(centre[0]) - half, float(centre[0]) + half, float(centre[1]) - half, float(centre[1]) + half)


def cell_edges(box: Box, bins: int) -> tuple[Tensor, Tensor]:
    """The ``bins + 1`` cell edges along x and along y (float64)."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}.")
    x_min, x_max, y_min, y_max = box
    if not (x_max > x_min and y_max > y_min):
        raise ValueError(f"box must have x_min < x_max and y_min < y_max, got {box}.")
    return (torch.linspace(x_min, x_max, bins + 1, dtype=torch.float64),
            torch.linspace(y_min, y_max, bins + 1, dtype=torch.float64))


def histogram_on_grid(points, box: Box, bins: int) -> Tensor:
    """Cell probabilities of ``(N, 2)`` points: ``(bins * bins + 1,)``, the last entry the outside cell.

    Cell ``(i, j)`` (x index i, y index j) is entry ``i * bins + j``; a cell holds its lower edges,
    and the box's upper edges belong to the last cells.
    """
    x = as_float64(points).cpu()
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"points must be a non-empty (N, 2) array, got shape {tuple(x.shape)}.")
    x_min, x_max, y_min, y_max = box
    cell_edges(box, bins)  # checks box and bins
    # Cell indices by scaling, then the upper edge folded into the last cell.
    i = ((x[:, 0] - x_min) / (x_max - x_min) * bins).floor()
    j = ((x[:, 1] - y_min) / (y_max - y_min) * bins).floor()
    i = torch.where(x[:, 0] == x_max, bins - 1, i)
    j = torch.where(x[:, 1] == y_max, bins - 1, j)
    inside = (i >= 0) & (i < bins) & (j >= 0) & (j < bins)  # NaN points fall outside
    index = torch.where(inside, i * bins + j, torch.full_like(i, bins * bins)).long()
    counts = torch.bincount(index, minlength=bins * bins + 1).double()
    return counts / len(x)


def gaussian_mixture_cell_probabilities(centers, std: float, box: Box, bins: int) -> Tensor:
    """Exact cell probabilities ``(bins * bins + 1,)`` of equal-weight isotropic Gaussians at ``centers``.

    For one component N(mu, std^2 I) the mass of cell [a, b) x [c, d) is
    (Phi((b - mu_x) / std) - Phi((a - mu_x) / std)) (Phi((d - mu_y) / std) - Phi((c - mu_y) / std));
    the mixture averages the components; the outside cell holds the rest, 1 - (mass inside the box).
    Same cell order as :func:`histogram_on_grid`.
    """
    c = as_float64(centers).cpu()
    if c.ndim != 2 or c.shape[1] != 2 or len(c) == 0:
        raise ValueError(f"centers must be a non-empty (K, 2) array, got shape {tuple(c.shape)}.")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}.")
    x_edges, y_edges = cell_edges(box, bins)
    # Mass of each x interval and each y interval, per component: (K, bins) each.
    mass_x = torch.special.ndtr((x_edges[None, :] - c[:, :1]) / std).diff(dim=1)
    mass_y = torch.special.ndtr((y_edges[None, :] - c[:, 1:]) / std).diff(dim=1)
    inside = torch.einsum("ki,kj->ij", mass_x, mass_y).flatten() / len(c)  # (bins * bins,)
    outside = (1.0 - inside.sum()).clamp(min=0.0)
    return torch.cat([inside, outside.view(1)])


def js_grid(p: Tensor, q: Tensor) -> float:
    """JS(p || q) in nats of two cell-probability vectors (e.g. from :func:`histogram_on_grid`); in [0, log 2]."""
    return js_divergence(as_float64(p).cpu().numpy(), as_float64(q).cpu().numpy())
