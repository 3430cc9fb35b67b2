"""The birthday test itself: collisions in a generator's batches, and the support size they imply (see
:mod:`gan_lab.metrics.birthday` for the method)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from gan_lab.metrics.birthday.batches import ClosestPair, Sampler, draw_batches, check_sizes, scan_batches, stream_seeds
from gan_lab.metrics.birthday.calibration import BirthdayCalibration, calibrate_birthday
from gan_lab.metrics.birthday.support import CONFIDENCE, clopper_pearson, support_size_estimate


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
    check_sizes(batch_size, num_trials)
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

    sample_seed, _ = stream_seeds(seed)
    generator = torch.Generator().manual_seed(sample_seed)
    minima, pairs, pair_samples = scan_batches(draw_batches(sample, batch_size, num_trials, generator, "sample"), num_pairs)
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
