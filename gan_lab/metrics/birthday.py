"""Support size by the birthday paradox (Arora, Risteski & Zhang, "Do GANs learn the distribution?", ICLR 2018).

If a distribution were uniform on N items, a batch of s samples would
contain a duplicate ("collision") with probability::

    P ≈ 1 - exp(-m / N),   m = s (s - 1) / 2 pairs,   so   N ≈ m / ln(1 / (1 - P))

At P = 50 % this gives N = m / ln 2 ≈ 0.72 s^2 (s = 400 -> N ≈ 115k;
s = 1,000 -> N ≈ 721k): that is what :func:`support_from_collision_rate`
computes.  Arora et al. draw batches from a GAN, look at the closest pairs
and judge duplicates by eye, and quote the rougher rule "collisions in at
least half the batches of s suggest a support of about s^2": DCGAN on
CelebA collides at s ≈ 400, so N ≈ 400^2 = 0.16 M (the formula at exactly
50 % would say 115k).  For non-uniform distributions the estimate is a
rough indication of the "effective" support of the dominant modes, not an
exact count.

What we automate, and how (the paper has a person judge the pairs):

* Distances are Euclidean between flattened samples (pixels, or evaluator
  features if the caller passes those), always in float64.  The fast
  Gram-matrix formula ||a||^2 + ||b||^2 - 2 a.b is not exactly 0 for
  identical vectors, so it only *screens* pairs: the few pairs that could be
  the closest ones (within a rigorous rounding bound) are recomputed exactly
  as ||a - b||.  Exact duplicates therefore have distance exactly 0.
* A collision is a pair at distance <= ``threshold``.  Without a threshold
  it is calibrated (:func:`calibrate_birthday`) on T real batches of the same
  size: with m_(1) <= ... <= m_(T) their sorted per-batch minimum distances
  and a = floor(0.05 T), the threshold is the largest float below m_(a+1),
  so at most a (5 %) of these batches collide.
* Real data has near-duplicates too, so at that threshold real batches
  collide at a rate P0 > 0; counting those as the generator's collisions
  biases N low (a generator that draws uniformly from K real digits was
  estimated at about 0.85 K).  The correction: a fake batch has no collision
  iff (a) its s draws are s distinct items, probability
  Q_N(s) = prod_{i=1}^{s-1} (1 - i/N), and (b) these s distinct items hold no
  near-duplicate pair, which is what a batch of s distinct real samples
  does, probability 1 - P0.  Hence::

      1 - P = Q_N(s) (1 - P0),   N solves  sum_{i=1}^{s-1} ln(1 - i/N) = ln(1 - P) - ln(1 - P0)

  and with ln Q_N(s) ≈ -m/N, N ≈ m / (ln(1/(1 - P)) - ln(1/(1 - P0))); P0 = 0
  gives the paper's formula back.  We solve the exact product (root in
  [m/L, m/L + s - 1], L the right-hand side): the approximation is biased
  low by a relative (2s - 1)/(6N), 3 % at s = 20, N = 200.  (b) assumes the
  generator's distinct items are as near-duplicated as real data; it holds
  exactly for a generator drawing from a subset of the real pool.
* P0 is measured on *fresh* real batches (by default 10 T of them), not on
  the calibration batches: those collide at most 5 % of the time by
  construction, which underestimates P0.  Real batches are cheap, so P0's
  uncertainty is small next to P's.  When P <= P0 the generator collides no
  more than real data does, its support is indistinguishable from the
  data's and ``support_size`` is ``inf``.  With a given ``threshold`` and no
  real data there is nothing to correct with: P0 = 0 (the old estimate).
* The 95 % interval: P and P0 come from independent binomial counts and N
  decreases in P and increases in P0, so 97.5 % Clopper-Pearson intervals
  for each (a Bonferroni split) give a rectangle that holds (P, P0) with
  probability >= 95 %, and its corners map to bounds on N: low from
  (P_high, P0_low), high from (P_low, P0_high) (inf if P_low <= P0_high).
  Clopper-Pearson and Bonferroni are both conservative.  Without real data,
  a 95 % Clopper-Pearson interval for P alone.
* The closest pairs across all trials are returned with their samples so a
  person can still judge them, as in the paper.

Randomness: samplers never touch global generators.  A callable sampler is
called as ``sample(n, generator)`` with its own CPU ``torch.Generator``
seeded from ``seed``; it must draw every random number from it (e.g.
``torch.randn(n, z_dim, generator=generator).to(device)``, or
``np.random.default_rng(int(torch.randint(2**62, (), generator=generator)))``
for numpy code).  A callback calibrates once per training run with
:func:`calibrate_birthday` and passes the result as ``calibration=`` at every
evaluation.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import brentq
from scipy.stats import beta
from torch import Tensor

#: A callable ``sample(n, generator) -> n samples``, or a tensor/array of samples split into consecutive batches.
Sampler = Callable[[int, torch.Generator], object] | Tensor | np.ndarray

#: Real batches allowed to collide at the calibrated threshold.
CALIBRATION_COLLISION_RATE = 0.05
#: Confidence level of ``support_size_interval``.
CONFIDENCE = 0.95
#: Fresh real batches per calibration batch used to measure the reference collision rate P0 (default).
REFERENCE_TRIALS_PER_TRIAL = 10
#: At most this many candidate pairs per trial are recomputed exactly (ties within rounding beyond it are dropped).
MAX_EXACT_PAIRS = 4096


class ClosestPair(NamedTuple):
    """A close pair: distance, positions ``i < j`` within the batch of trial ``trial``."""

    distance: float
    i: int
    j: int
    trial: int


@dataclass(frozen=True)
class BirthdayCalibration:
    """Outcome of :func:`calibrate_birthday`: compute once per run, pass as ``birthday_paradox(calibration=...)``.

    Attributes:
        threshold: collision distance (at most 5 % of the ``num_trials`` calibration batches collide).
        reference_collision_rate: P0, fraction of the ``reference_num_trials`` fresh real batches that
            collide at ``threshold``.
        reference_num_collisions: fresh real batches that collide.
        reference_num_trials: fresh real batches drawn (independent of the calibration batches).
        batch_size: s; the calibration only applies to batches of this size.
        num_trials: calibration batches.
        calibration_min_distances: ``(num_trials,)`` smallest pairwise distance of each calibration batch.
    """

    threshold: float
    reference_collision_rate: float
    reference_num_collisions: int
    reference_num_trials: int
    batch_size: int
    num_trials: int
    calibration_min_distances: np.ndarray = field(repr=False, compare=False)


@dataclass
class BirthdayResult:
    """Outcome of :func:`birthday_paradox`.

    Attributes:
        collision_rate: fraction P of trials whose batch holds a pair at distance <= threshold.
        support_size: N from P and the reference rate P0 (:func:`support_size_estimate`); ``math.inf``
            when P <= P0 (no more collisions than real data: support indistinguishable from the data's;
            with P0 = 0, when P = 0).  When P = 1, P is replaced by 1 - 1/(2T) (half a trial without
            collision) and a warning says the batch is too large to measure the support.
        support_size_interval: (low, high) 95 % interval for N from Clopper-Pearson intervals of P and P0
            with a Bonferroni split (of P alone without reference data); high = inf when P's lower
            bound is <= P0's upper bound, low = 0 when P's upper bound is 1.
        num_collisions: trials with a collision.
        threshold: the collision distance used (given or calibrated).
        batch_size, num_trials: s and T.
        min_distances: ``(T,)`` smallest pairwise distance of each trial.
        closest_pairs: up to ``num_pairs`` closest pairs over all trials, closest first.
        pair_samples: ``(len(closest_pairs), 2, *sample_shape)`` float64 array: the two samples of each pair.
        reference_collision_rate: P0, the collision rate of fresh real batches at ``threshold``
            (0 when only a threshold was given).
        reference_num_collisions, reference_num_trials: the counts behind P0 (0 and 0 without reference data).
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
    reference_collision_rate: float = 0.0
    reference_num_collisions: int = 0
    reference_num_trials: int = 0


def calibrate_birthday(
    reference: Sampler,
    batch_size: int,
    num_trials: int,
    seed: int = 0,
    num_reference_trials: int | None = None,
) -> BirthdayCalibration:
    """Collision threshold from real batches, and the collision rate P0 of fresh real batches at it.

    Run it once per training run and reuse it at every evaluation (``birthday_paradox(calibration=...)``).

    Args:
        reference: distinct real samples.  A callable ``reference(n, generator)`` must return ``n``
            distinct real samples (draw *without replacement*: repeated samples collide at distance 0)
            using only ``generator``; it is called ``num_trials`` times for the calibration batches, then
            ``num_reference_trials`` times for the fresh batches.  A tensor/array gives the calibration
            batches as its first ``num_trials`` consecutive batches, and the fresh batches as random
            subsets (without replacement) of all its samples.
        batch_size: s, samples per batch (the same as the generator's batches).
        num_trials: T, calibration batches.
        seed: seeds the reference's own generator (the stream ``birthday_paradox(reference=..., seed=seed)``
            uses, so both give the same calibration).
        num_reference_trials: fresh real batches for P0; default ``10 * num_trials``.
    """
    _check_sizes(batch_size, num_trials)
    if num_reference_trials is None:
        num_reference_trials = REFERENCE_TRIALS_PER_TRIAL * num_trials
    if num_reference_trials < 1:
        raise ValueError(f"need num_reference_trials >= 1, got {num_reference_trials}.")
    _, reference_seed = _stream_seeds(seed)
    generator = torch.Generator().manual_seed(reference_seed)
    calibration_minima = _scan(_batches(reference, batch_size, num_trials, generator, "reference"), 0)[0]
    threshold = calibrated_threshold(calibration_minima)
    if callable(reference):
        fresh = _batches(reference, batch_size, num_reference_trials, generator, "reference")
    else:
        fresh = _random_subsets(reference, batch_size, num_reference_trials, generator)
    fresh_minima = _scan(fresh, 0)[0]
    collisions = int((fresh_minima <= threshold).sum())
    return BirthdayCalibration(
        threshold=threshold,
        reference_collision_rate=collisions / num_reference_trials,
        reference_num_collisions=collisions,
        reference_num_trials=int(num_reference_trials),
        batch_size=int(batch_size),
        num_trials=int(num_trials),
        calibration_min_distances=calibration_minima,
    )


def birthday_paradox(
    sample: Sampler,
    batch_size: int,
    num_trials: int,
    threshold: float | None = None,
    reference: Sampler | None = None,
    seed: int = 0,
    num_pairs: int = 20,
    *,
    calibration: BirthdayCalibration | None = None,
    num_reference_trials: int | None = None,
) -> BirthdayResult:
    """Collision rate of batches of ``batch_size`` samples and the support size it implies.

    Give exactly one of ``threshold``, ``reference`` and ``calibration``.

    Args:
        sample: a callable ``sample(n, generator)`` returning ``n`` samples (any shape, first axis =
            samples) and drawing its randomness only from ``generator``, a CPU ``torch.Generator`` seeded
            from ``seed`` (global generators are never seeded or read by this function); or a
            tensor/array of at least ``num_trials * batch_size`` samples, split into consecutive batches
            (so it must be in random order).
        batch_size: s, samples per trial.
        num_trials: T, number of batches.
        threshold: collision distance.  With a threshold alone no reference collision rate is known:
            P0 = 0, i.e. the uncorrected estimate.
        reference: real samples (see :func:`calibrate_birthday`): calibrates here, as
            ``calibrate_birthday(reference, batch_size, num_trials, seed, num_reference_trials)``.
        seed: seeds the sampler's generator; the reference gets a different, derived stream.
        num_pairs: how many closest pairs to return.
        calibration: a :func:`calibrate_birthday` result for this ``batch_size`` (threshold and P0).
        num_reference_trials: fresh real batches for P0 when calibrating here (default ``10 * num_trials``).
    """
    _check_sizes(batch_size, num_trials)
    if num_pairs < 0:
        raise ValueError(f"need num_pairs >= 0, got {num_pairs}.")
    if sum(x is not None for x in (threshold, reference, calibration)) != 1:
        raise ValueError(
            "pass exactly one of threshold (a collision distance), reference (real samples to calibrate it on) "
            "and calibration (a calibrate_birthday result)."
        )
    if reference is not None:
        calibration = calibrate_birthday(reference, batch_size, num_trials, seed, num_reference_trials)
    if calibration is not None:
        if calibration.batch_size != batch_size:
            raise ValueError(
                f"the calibration is for batches of {calibration.batch_size}, not {batch_size}: thresholds and "
                "reference collision rates depend on the batch size."
            )
        threshold = calibration.threshold
        reference_collisions, reference_trials = calibration.reference_num_collisions, calibration.reference_num_trials
    else:
        reference_collisions, reference_trials = 0, 0
    if not threshold >= 0:
        raise ValueError(f"threshold must be a non-negative distance, got {threshold}.")

    sample_seed, _ = _stream_seeds(seed)
    generator = torch.Generator().manual_seed(sample_seed)
    minima, pairs, pair_samples = _scan(_batches(sample, batch_size, num_trials, generator, "sample"), num_pairs)
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
    reference_rate = reference_collisions / reference_trials if reference_trials else 0.0
    if reference_trials:
        # Bonferroni: each rate's interval at 1 - alpha/2, so both hold together with probability >= 1 - alpha.
        each = 1 - (1 - CONFIDENCE) / 2
        low_rate, high_rate = clopper_pearson(collisions, num_trials, each)
        reference_low, reference_high = clopper_pearson(reference_collisions, reference_trials, each)
    else:
        low_rate, high_rate = clopper_pearson(collisions, num_trials, CONFIDENCE)
        reference_low = reference_high = 0.0
    return BirthdayResult(
        collision_rate=rate,
        support_size=support_size_estimate(point_rate, batch_size, reference_rate),
        # N decreases in P and increases in P0.
        support_size_interval=(
            support_size_estimate(high_rate, batch_size, reference_low),
            support_size_estimate(low_rate, batch_size, reference_high),
        ),
        num_collisions=collisions,
        threshold=float(threshold),
        batch_size=int(batch_size),
        num_trials=int(num_trials),
        min_distances=minima,
        closest_pairs=pairs,
        pair_samples=pair_samples,
        reference_collision_rate=reference_rate,
        reference_num_collisions=reference_collisions,
        reference_num_trials=reference_trials,
    )


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
def _check_sizes(batch_size: int, num_trials: int) -> None:
    if batch_size < 2 or num_trials < 1:
        raise ValueError(f"need batch_size >= 2 and num_trials >= 1, got {batch_size} and {num_trials}.")


def _stream_seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for the sampler's and the reference's generators."""
    sample_seed, reference_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    return sample_seed, reference_seed


def _check_sampler_signature(source, name: str) -> None:
    """Fail clearly on the old one-argument protocol ``sample(n)``."""
    try:
        inspect.signature(source).bind(1, None)
    except TypeError:
        raise TypeError(
            f"{name} must be called as {name}(n, generator) and draw its randomness from the torch.Generator it "
            "is given (birthday_paradox no longer seeds torch's or numpy's global generators)."
        ) from None
    except ValueError:  # no signature available (some builtins): just call it
        pass


def _batches(
    source: Sampler, batch_size: int, num_trials: int, generator: torch.Generator, name: str
) -> Iterator[Tensor]:
    """Yield ``num_trials`` batches of ``batch_size`` samples as they came, (s, *sample_shape)."""
    if callable(source):
        _check_sampler_signature(source, name)
        for _ in range(num_trials):
            batch = _as_tensor(source(batch_size, generator))
            if batch.ndim == 0 or len(batch) != batch_size:
                raise ValueError(
                    f"{name}({batch_size}, generator) returned shape {tuple(batch.shape)}, not {batch_size} samples."
                )
            yield batch
        return
    samples = _as_tensor(source)
    needed = batch_size * num_trials
    if samples.ndim == 0 or len(samples) < needed:
        raise ValueError(
            f"{name} holds {0 if samples.ndim == 0 else len(samples)} samples, but batch_size * num_trials = {needed}."
        )
    for trial in range(num_trials):
        yield samples[trial * batch_size : (trial + 1) * batch_size]


def _random_subsets(source, batch_size: int, num_batches: int, generator: torch.Generator) -> Iterator[Tensor]:
    """``num_batches`` random subsets of ``batch_size`` distinct samples of a tensor/array."""
    samples = _as_tensor(source)
    for _ in range(num_batches):
        yield samples[torch.randperm(len(samples), generator=generator)[:batch_size]]


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
