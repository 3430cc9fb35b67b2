"""Mode counts for data with known modes (VEEGAN: Srivastava et al. 2017; PacGAN: Lin et al. 2018).

2D mixtures (ring of 8, grid of 25), the VEEGAN/PacGAN protocol:

* each sample belongs to its nearest centre;
* it is *high quality* if its Euclidean distance to that centre is at most
  ``threshold_stds`` (3) standard deviations of the mixture components;
* a mode is *covered* if at least one high-quality sample belongs to it.

``reverse_kl`` is KL(q || uniform) = sum_k q_k log(q_k K) (0 log 0 = 0) of
q, the histogram of high-quality samples per mode normalised by their
number.  PacGAN's code (``MetricLogger`` in
``synthetic_data_experiments/PacGAN/pacgan/extensions.py``) logs the entropy
H(q) of that same histogram; the two carry the same information, since
KL(q || uniform) = log K - H(q), and the KL is what its Table 1 reports.  It
is 0 for perfectly balanced modes and log K when every high-quality sample
sits on one mode.  With no high-quality sample at all q is undefined and
``reverse_kl`` is ``math.inf``.  (PacGAN tests ``distance < 3 std``
strictly; the two differ only on a set of measure zero.)

Labelled images (``class_coverage``), the Stacked-MNIST protocol (Metz et
al. 2017, VEEGAN, PacGAN): every sample counts; a mode is covered if some
sample is classified into it; the reverse KL is that of the predicted-class
histogram to uniform over all ``num_classes`` (10 digits, 1,000 triples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import xlogy

from gan_lab.metrics.inputs import as_float64


@dataclass
class ModeCounts:
    """Mode statistics of a sample.

    Attributes:
        modes_covered: modes with at least one (high-quality) sample.
        num_modes: K.
        high_quality_fraction: fraction of samples within the distance threshold (1.0 for classes).
        reverse_kl: KL(q || uniform over K) of the (high-quality) mode histogram q; inf if q is empty.
        counts: ``(K,)`` int array, (high-quality) samples per mode.
    """

    modes_covered: int
    num_modes: int
    high_quality_fraction: float
    reverse_kl: float
    counts: np.ndarray


def mode_coverage(samples, centers, std: float, threshold_stds: float = 3.0) -> ModeCounts:
    """VEEGAN/PacGAN mode statistics of ``(N, D)`` samples around ``(K, D)`` centres of isotropic std ``std``."""
    x = as_float64(samples)
    c = as_float64(centers).to(x.device)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1] or len(c) == 0:
        raise ValueError(
            f"samples must be (N, D) and centers (K, D) with the same D and K >= 1, "
            f"got {tuple(x.shape)} and {tuple(c.shape)}."
        )
    if len(x) == 0:
        raise ValueError("samples is empty.")
    if not std > 0 or not threshold_stds > 0:
        raise ValueError(f"std and threshold_stds must be positive, got {std} and {threshold_stds}.")
    # Direct differences, not the Gram formula: K is small and samples can sit exactly on a centre.
    distances = (x[:, None, :] - c[None, :, :]).square().sum(dim=-1).sqrt()  # (N, K)
    nearest_distance, nearest = distances.min(dim=1)  # (N,), (N,)
    high_quality = nearest_distance <= threshold_stds * std  # (N,)
    counts = np.bincount(nearest[high_quality].cpu().numpy(), minlength=len(c))
    return _coverage(counts, high_quality_fraction=float(high_quality.double().mean()))


def class_coverage(predicted_classes, num_classes: int) -> ModeCounts:
    """Mode statistics of predicted class labels ``(N,)`` in ``[0, num_classes)`` (every sample counts)."""
    if isinstance(predicted_classes, torch.Tensor):
        predicted_classes = predicted_classes.detach().cpu().numpy()
    labels = np.asarray(predicted_classes)
    if labels.ndim != 1 or len(labels) == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"predicted_classes must be a non-empty 1-D integer array, got {labels.dtype} {labels.shape}.")
    if num_classes < 1 or labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"predicted classes must lie in [0, {num_classes}), got [{labels.min()}, {labels.max()}].")
    return _coverage(np.bincount(labels, minlength=num_classes), high_quality_fraction=1.0)


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(q || uniform over len(counts)) of the histogram q = counts / counts.sum(); inf for an empty histogram."""
    total = counts.sum()
    if total == 0:
        return math.inf
    q = counts.astype(np.float64) / total
    # sum q log(q K) = sum q log q + log K; xlogy gives 0 log 0 = 0 for empty modes.
    return max(float(xlogy(q, q).sum() + math.log(len(counts))), 0.0)  # >= 0; clip rounding below 0


def _coverage(counts: np.ndarray, high_quality_fraction: float) -> ModeCounts:
    return ModeCounts(
        modes_covered=int((counts > 0).sum()),
        num_modes=len(counts),
        high_quality_fraction=high_quality_fraction,
        reverse_kl=kl_to_uniform(counts),
        counts=counts.astype(np.int64),
    )


