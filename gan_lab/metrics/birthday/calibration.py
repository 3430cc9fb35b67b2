"""Calibrating the birthday-paradox test on real data: the collision threshold and real data's own collision rate.

See :mod:`gan_lab.metrics.birthday` for the maths (the 5 % calibration floor,
why P0 is measured on *fresh* real batches).  A callback calibrates once per
training run and passes the result to every evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from gan_lab.metrics.birthday.batches import Sampler, draw_batches, check_sizes, random_subsets, scan_batches, stream_seeds
from gan_lab.metrics.birthday.support import calibrated_threshold

#: Fresh real batches per calibration batch used to measure the reference collision rate P0 (default).
REFERENCE_TRIALS_PER_TRIAL = 10


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
    check_sizes(batch_size, num_trials)
    if num_reference_trials is None:
        num_reference_trials = REFERENCE_TRIALS_PER_TRIAL * num_trials
    if num_reference_trials < 1:
        raise ValueError(f"need num_reference_trials >= 1, got {num_reference_trials}.")
    _, reference_seed = stream_seeds(seed)
    generator = torch.Generator().manual_seed(reference_seed)
    calibration_minima = scan_batches(draw_batches(reference, batch_size, num_trials, generator, "reference"), 0)[0]
    threshold = calibrated_threshold(calibration_minima)
    if callable(reference):
        fresh = draw_batches(reference, batch_size, num_reference_trials, generator, "reference")
    else:
        fresh = random_subsets(reference, batch_size, num_reference_trials, generator)
    fresh_minima = scan_batches(fresh, 0)[0]
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
