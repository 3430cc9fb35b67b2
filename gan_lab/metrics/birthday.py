"""Support size by the birthday paradox (Arora, Risteski & Zhang, "Do GANs learn the distribution?", ICLR 2018).

If a distribution were uniform on N items, a batch of s samples would
contain a duplicate ("collision") with probability::

    P ≈ 1 - exp(-s (s - 1) / (2 N)),   so   N = s (s - 1) / (2 ln(1 / (1 - P)))

(50 % at N ≈ 0.72 s^2: s = 400 -> N ≈ 115k).  Arora et al. draw batches
from a GAN, look at the closest pairs and judge duplicates by eye; a
collision rate of about 50 % at batch size s suggests a support of about
0.72 s^2 (DCGAN on CelebA: s ≈ 400, N ≈ 0.16 M).  For non-uniform
distributions the estimate is a rough upper bound on the "effective" support
of the dominant modes, not an exact count.

What we automate, and how (the paper has a person judge the pairs):

* Distances are Euclidean between flattened samples (pixels, or evaluator
  features if the caller passes those), always in float64.  The fast
  Gram-matrix formula ||a||^2 + ||b||^2 - 2 a.b is not exactly 0 for
  identical vectors, so it only *screens* pairs: the few pairs that could be
  the closest ones (within a rigorous rounding bound) are recomputed exactly
  as ||a - b||.  Exact duplicates therefore have distance exactly 0.
* A collision is a pair at distance <= ``threshold``.  Without a threshold
  it is calibrated on ``reference`` (real) batches of the same size and
  count: with m_(1) <= ... <= m_(T) the sorted per-batch minimum distances of
  the T reference batches and a = floor(0.05 T), the threshold is the
  largest float below m_(a+1).  At most a real batches (5 %) then collide,
  and a generator as diverse as the data collides about as rarely.
* P is the fraction of colliding trials; its 95 % Clopper-Pearson interval
  is mapped through the same formula (N decreases as P grows).
* The closest pairs across all trials are returned with their samples so a
  person can still judge them, as in the paper.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from scipy.stats import beta
from torch import Tensor

Sampler = Callable[[int], object] | Tensor | np.ndarray

#: Real batches allowed to collide at the calibrated threshold.
CALIBRATION_COLLISION_RATE = 0.05
#: Confidence level of ``support_size_interval``.
CONFIDENCE = 0.95
#: At most this many candidate pairs per trial are recomputed exactly (ties within rounding beyond it are dropped).
MAX_EXACT_PAIRS = 4096


class ClosestPair(NamedTuple):
    """A close pair: distance, positions ``i < j`` within the batch of trial ``trial``."""

    distance: float
    i: int
    j: int
    trial: int


@dataclass
class BirthdayResult:
    """Outcome of :func:`birthday_paradox`.

    Attributes:
        collision_rate: fraction P of trials whose batch holds a pair at distance <= threshold.
        support_size: N = s (s - 1) / (2 ln(1 / (1 - P))); ``math.inf`` when P = 0; when P = 1
            the formula gives 0, so P is replaced by 1 - 1/(2T) (half a trial without collision)
            and a warning says the batch is too large to measure the support.
        support_size_interval: (low, high) 95 % interval for N from the Clopper-Pearson interval of P
            (high = inf when no trial collides; low = 0 when every trial does).
        num_collisions: trials with a collision.
        threshold: the collision distance used (given or calibrated).
        batch_size, num_trials: s and T.
        min_distances: ``(T,)`` smallest pairwise distance of each trial.
        closest_pairs: up to ``num_pairs`` closest pairs over all trials, closest first.
        pair_samples: ``(len(closest_pairs), 2, *sample_shape)`` float64 array: the two samples of each pair.
    """

    collision_rate: float
    support_size: float
    support_size_interval: tuple[float, float]
    num_collisions: int
    threshold: float
    batch_size: int
    num_trials: int
    min_distances: np.ndarray
    closest_pairs: list[ClosestPair]
    pair_samples: np.ndarray


def birthday_paradox(
    sample: Sampler,
    batch_size: int,
    num_trials: int,
    threshold: float | None = None,
    reference: Sampler | None = None,
    seed: int = 0,
    num_pairs: int = 20,
) -> BirthdayResult:
    """Collision rate of batches of ``batch_size`` samples and the support size it implies.

    Args:
        sample: a callable ``sample(n)`` returning ``n`` samples (any shape, first axis = samples),
            or a tensor/array of at least ``num_trials * batch_size`` samples, split into
            consecutive batches (so it must be in random order).
        batch_size: s, samples per trial.
        num_trials: T, number of batches.
        threshold: collision distance; if None it is calibrated on ``reference``.
        reference: real samples (same forms as ``sample``) for the calibration.
        seed: seeds ``torch`` (and numpy's global generator) around the calls of callable samplers;
            the reference sampler gets a different, derived seed.
        num_pairs: how many closest pairs to return.
    """
    if batch_size < 2 or num_trials < 1 or num_pairs < 0:
        raise ValueError(
            f"need batch_size >= 2, num_trials >= 1 and num_pairs >= 0, got {batch_size}, {num_trials}, {num_pairs}."
        )
    if (threshold is None) == (reference is None):
        raise ValueError(
            "pass exactly one of threshold (a collision distance) and reference (real samples to calibrate it on)."
        )
    sample_seed, reference_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    if threshold is None:
        reference_minima = _scan(_batches(reference, batch_size, num_trials, reference_seed, "reference"), 0)[0]
        threshold = calibrated_threshold(reference_minima)
    if not threshold >= 0:
        raise ValueError(f"threshold must be a non-negative distance, got {threshold}.")

    minima, pairs, pair_samples = _scan(_batches(sample, batch_size, num_trials, sample_seed, "sample"), num_pairs)
    collisions = int((minima <= threshold).sum())
    rate = collisions / num_trials
    if collisions == num_trials:
        warnings.warn(
            f"birthday paradox: all {num_trials} batches of {batch_size} samples collide, so the support is too small "
            "to measure at this batch size; support_size is only indicative (P taken as 1 - 1/(2T)). "
            "Use a smaller batch_size.",
            UserWarning,
            stacklevel=2,
        )
    point_rate = rate if collisions < num_trials else 1 - 1 / (2 * num_trials)
    low_rate, high_rate = clopper_pearson(collisions, num_trials, CONFIDENCE)
    return BirthdayResult(
        collision_rate=rate,
        support_size=support_from_collision_rate(point_rate, batch_size),
        # Higher P means a smaller support, so the interval's ends swap.
        support_size_interval=(
            support_from_collision_rate(high_rate, batch_size),
            support_from_collision_rate(low_rate, batch_size),
        ),
        num_collisions=collisions,
        threshold=float(threshold),
        batch_size=int(batch_size),
        num_trials=int(num_trials),
        min_distances=minima,
        closest_pairs=pairs,
        pair_samples=pair_samples,
    )


def support_from_collision_rate(rate: float, batch_size: int) -> float:
    """N = s (s - 1) / (2 ln(1 / (1 - P))): the uniform support whose batches of s collide with probability P."""
    if not 0 <= rate <= 1:
        raise ValueError(f"a collision rate is a probability, got {rate}.")
    if rate == 0:
        return math.inf
    if rate == 1:
        return 0.0
    pairs = batch_size * (batch_size - 1) / 2
    return pairs / -math.log1p(-rate)  # log1p keeps small rates accurate


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
def _batches(source: Sampler, batch_size: int, num_trials: int, seed: int, name: str):
    """Yield ``num_trials`` batches of ``batch_size`` samples as they came, (s, *sample_shape)."""
    if callable(source):
        # Seed the global generators samplers use (torch's, numpy's legacy one), and leave the caller's
        # random state as it was afterwards.
        numpy_state = np.random.get_state()
        try:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                np.random.seed(seed)
                for _ in range(num_trials):
                    batch = _as_tensor(source(batch_size))
                    if batch.ndim == 0 or len(batch) != batch_size:
                        raise ValueError(
                            f"{name}({batch_size}) returned shape {tuple(batch.shape)}, not {batch_size} samples."
                        )
                    yield batch
        finally:
            np.random.set_state(numpy_state)
        return
    samples = _as_tensor(source)
    needed = batch_size * num_trials
    if samples.ndim == 0 or len(samples) < needed:
        raise ValueError(
            f"{name} holds {0 if samples.ndim == 0 else len(samples)} samples, but batch_size * num_trials = {needed}."
        )
    for trial in range(num_trials):
        yield samples[trial * batch_size : (trial + 1) * batch_size]


def _scan(batches, num_pairs: int) -> tuple[np.ndarray, list[ClosestPair], np.ndarray]:
    """Per-trial minimum distances, and the ``num_pairs`` closest pairs over all trials with their samples."""
    minima = []
    best: list[tuple[ClosestPair, np.ndarray]] = []  # running top num_pairs: memory stays O(num_pairs)
    sample_shape: tuple[int, ...] = ()
    for trial, batch in enumerate(batches):
        sample_shape = tuple(batch.shape[1:])
        points = batch.reshape(len(batch), -1).to(torch.float64)  # (s, D)
        distances, i, j = closest_pairs_in_batch(points, max(num_pairs, 1))
        minima.append(float(distances[0]))
        for k in range(min(num_pairs, len(distances))):
            if len(best) == num_pairs and float(distances[k]) >= best[-1][0].distance:
                break  # ascending: no later pair of this trial can enter the running top list
            pair = ClosestPair(float(distances[k]), int(i[k]), int(j[k]), trial)
            best.append((pair, torch.stack([batch[pair.i], batch[pair.j]]).to(torch.float64).cpu().numpy()))
        best.sort(key=lambda entry: (entry[0].distance, entry[0].trial, entry[0].i, entry[0].j))
        del best[num_pairs:]
    pairs = [pair for pair, _ in best]
    pair_samples = np.stack([s for _, s in best]) if best else np.zeros((0, 2, *sample_shape))
    return np.asarray(minima, dtype=np.float64), pairs, pair_samples


def closest_pairs_in_batch(points: Tensor, k: int) -> tuple[Tensor, Tensor, Tensor]:
    """The ``k`` closest pairs (i < j) of ``(s, D)`` float64 points: exact distances, ascending, and indices.

    Screening uses the Gram matrix (one matrix product); the candidates are recomputed as ||a - b||.
    Rounding bound: each Gram squared distance is within ``bound`` of the exact one (dot products of
    length D are accurate to ~D eps |a||b|), so every pair of the true top k has a Gram value at most
    (k-th smallest Gram value) + 2 bound, and only those pairs need exact distances.
    """
    s, dim = points.shape
    k = min(k, s * (s - 1) // 2)
    squared_norms = points.square().sum(dim=1)  # (s,)
    d2 = points @ points.T  # (s, s)
    d2.mul_(-2).add_(squared_norms[:, None]).add_(squared_norms[None, :])
    d2.fill_diagonal_(math.inf)
    bound = 4 * (dim + 3) * torch.finfo(torch.float64).eps * float(squared_norms.max())
    row_min = d2.amin(dim=1)  # (s,): each row's nearest neighbour
    if 2 * k <= s:
        # The 2k smallest row minima name at least k distinct pairs (a pair is at most two rows' minimum),
        # so the k-th smallest pair is no farther than the 2k-th smallest row minimum.
        kth = torch.kthvalue(row_min, 2 * k).values
    else:
        kth = d2[torch.isfinite(d2)].max()  # few points: every pair is a candidate
    cutoff = kth + 2 * bound
    rows = torch.nonzero(row_min <= cutoff).squeeze(1)  # only rows with a candidate
    local_i, j = torch.nonzero(d2[rows] <= cutoff, as_tuple=True)
    i = rows[local_i]
    keep = i < j  # each unordered pair once
    i, j = i[keep], j[keep]
    if len(i) > MAX_EXACT_PAIRS:
        # Thousands of pairs tied within rounding (e.g. a collapsed generator): keep the Gram-closest ones.
        order = torch.topk(d2[i, j], MAX_EXACT_PAIRS, largest=False).indices
        i, j = i[order], j[order]
    exact = (points[i] - points[j]).square().sum(dim=1).sqrt()  # identical vectors give exactly 0
    order = torch.argsort(exact, stable=True)[:k]
    return exact[order].cpu(), i[order].cpu(), j[order].cpu()


def _as_tensor(values) -> Tensor:
    if isinstance(values, Tensor):
        return values.detach()
    return torch.as_tensor(np.asarray(values))
