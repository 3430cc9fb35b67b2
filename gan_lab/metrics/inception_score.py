"""Inception Score (Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016).

For generated samples x with class probabilities p(y|x) from a classifier::

    IS = exp( E_x KL( p(y|x) || p(y) ) ),    p(y) = E_x p(y|x)

where p(y) is the *marginal* over the generated samples: one distribution
over classes, the same for every x (it is not indexed by the sample).  The
same number in entropies::

    log IS = H(y) - E_x H(y|x)

High when each prediction is confident (low H(y|x)) and the predictions
together cover many classes (high H(y)); bounded by 1 <= IS <= K.

Convention (Salimans et al.'s code, torch-fidelity's ``isc``): the samples
are split into ``splits`` parts, p(y) is each part's own mean prediction, and
the result is ``np.mean`` and ``np.std`` (ddof=0) of the per-split scores.
Splits are assigned after a permutation by a fixed-seed generator (as
torch-fidelity does; torchmetrics uses an unseeded shuffle, so its value
changes from run to run): class-sorted input would otherwise change IS a lot.
Everything is computed in float64 (torchmetrics uses float32).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch
from scipy.special import rel_entr

#: How far a row of ``probs`` may sum from 1 (float32 softmax over 1,000
#: classes is off by ~1e-6; anything larger means logits or unnormalised scores).
ROW_SUM_TOLERANCE = 1e-3


def inception_score(probs, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """Mean and standard deviation of the Inception Score over ``splits`` splits.

    Args:
        probs: ``(N, K)`` class probabilities p(y|x) (tensor or array), rows summing to 1.
        splits: number of parts the N samples are divided into (10 in the paper).
        seed: seed of the permutation that assigns samples to splits.

    Returns:
        ``(mean, std)``: ``np.mean`` and ``np.std`` (ddof=0) of the per-split scores.
    """
    p = _checked_probabilities(probs)
    n = len(p)
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be between 1 and the number of samples ({n}), got {splits}.")
    p = p[np.random.default_rng(seed).permutation(n)]
    # Boundaries (i * N) // splits use every sample; part sizes differ by at most one.
    bounds = [(i * n) // splits for i in range(splits + 1)]
    scores = [_split_score(p[lo:hi]) for lo, hi in pairwise(bounds)]
    return float(np.mean(scores)), float(np.std(scores))


def _split_score(p: np.ndarray) -> float:
    """exp(mean_i KL(p(y|x_i) || p(y))) with p(y) the mean row of this split."""
    marginal = p.mean(axis=0, keepdims=True)  # (1, K): p(y), shared by every sample of the split
    # rel_entr(a, b) = a log(a / b), defined as 0 when a == 0 (0 log 0 = 0); a > 0 implies b > 0 here.
    kl_per_sample = rel_entr(p, marginal).sum(axis=1)  # (n,)
    return float(np.exp(kl_per_sample.mean()))


def _checked_probabilities(probs) -> np.ndarray:
    if isinstance(probs, torch.Tensor):
        probs = probs.detach().cpu().numpy()
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"probs must be a non-empty 2-D (N, K) array of class probabilities, got shape {p.shape}.")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative (class probabilities, not logits).")
    row_sums = p.sum(axis=1)
    worst = float(np.abs(row_sums - 1).max())
    if worst > ROW_SUM_TOLERANCE:
        raise ValueError(
            f"each row of probs must sum to 1, but a row's sum is off by {worst:.3g}; "
            "pass softmax probabilities, not logits."
        )
    # Renormalise in float64 so that each row is a distribution to rounding error (float32 sums drift ~1e-7).
    return p / row_sums[:, None]
