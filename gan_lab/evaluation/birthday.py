"""The birthday-paradox support estimate as an evaluation metric (Arora, Risteski & Zhang, ICLR 2018)."""

from __future__ import annotations

import torch

from gan_lab.evaluation.metric import EvaluationError, EvaluationMetric, RealData
from gan_lab.evaluation.scored import Scored, score
from gan_lab.metrics import birthday_paradox, calibrate_birthday
from gan_lab.plots import image_grid

SPACES = ("pixels", "features")


class BirthdayParadox(EvaluationMetric):
    """How large is the generator's support?  Collisions in batches of ``batch_size`` samples.

    ``num_trials`` disjoint batches of the evaluation's samples; a batch
    collides if two of its samples are closer than a threshold calibrated once
    per run on real batches of the same size drawn without replacement from the
    distinct training samples (see :func:`gan_lab.metrics.birthday_paradox`).

    The estimate subtracts the collision rate that real data itself has at the
    threshold (near-duplicates between distinct real samples), measured on
    fresh real batches, so a generator that draws uniformly from K distinct
    real samples is estimated at about K.

    Logs ``metrics/birthday_collision_rate``, ``metrics/birthday_support_size``
    and its 95 % interval ``metrics/birthday_support_size_low`` /
    ``metrics/birthday_support_size_high`` (infinite where there are no more
    collisions than real data has: kept as ``inf`` in the results and shown as
    text, never drawn as a number), ``reference/birthday_collision_rate`` (real
    data's own rate at the threshold) and ``birthday/closest_pairs``, the
    closest generated pairs so that a person can judge them, as the authors did.

    ``space="pixels"`` compares flattened samples (the paper's choice for
    faces); ``space="features"`` compares evaluator features (its choice for CIFAR-10).
    """

    def __init__(self, batch_size: int = 50, num_trials: int = 100, space: str = "pixels", num_pairs: int = 16) -> None:
        if space not in SPACES:
            raise EvaluationError(f"birthday: unknown space {space!r}; valid: {list(SPACES)}.")
        if batch_size < 2 or num_trials < 1:
            raise EvaluationError(f"birthday: need batch_size >= 2 and num_trials >= 1, got {batch_size}, {num_trials}.")
        self.batch_size, self.num_trials, self.space, self.num_pairs = int(batch_size), int(num_trials), space, num_pairs
        self._calibration = None
        self._pairs = None

    def check(self, evaluator, datamodule, num_samples):
        if self.batch_size * self.num_trials > num_samples:
            raise EvaluationError(
                f"birthday: batch_size * num_trials = {self.batch_size * self.num_trials} exceeds "
                f"evaluation.num_samples={num_samples}; the trials use disjoint samples."
            )

    def _points(self, scored: Scored):
        return scored.samples.flatten(1).double() if self.space == "pixels" else scored.features

    def _real_pool(self, real: RealData):
        """Distinct real training samples (pixels or features) to draw calibration batches from.

        Batches are drawn *without replacement* from this pool: with a small
        training set (digits: 1,617 images) a draw with replacement would put
        exact duplicates in real batches and calibrate the threshold to zero.
        """
        images = real.datamodule.train_set.tensors[0]
        limit = max(len(real.train.samples), self.batch_size * self.num_trials)
        if len(images) > limit:  # bound the work on large data sets: a fixed subset
            order = torch.randperm(len(images), generator=torch.Generator().manual_seed(real.seed))
            images = images[order[:limit]]
        if self.space == "pixels":
            return images.flatten(1).double()
        return score(real.evaluator, images).features

    def prepare(self, real):
        pool = self._real_pool(real)

        def draw_real(n: int, generator: torch.Generator) -> torch.Tensor:
            return pool[torch.randperm(len(pool), generator=generator)[:n]]

        calibration = calibrate_birthday(draw_real, self.batch_size, self.num_trials, seed=real.seed)
        self._calibration = calibration
        return {
            "reference/birthday_collision_rate": calibration.reference_collision_rate,
            "settings/birthday_threshold": calibration.threshold,
            "settings/birthday_reference_trials": calibration.reference_num_trials,
            "settings/birthday_batch_size": self.batch_size,
            "settings/birthday_num_trials": self.num_trials,
            "settings/birthday_real_pool": len(pool),
        }

    def compute(self, fake, real):
        points = self._points(fake)[: self.batch_size * self.num_trials]
        result = birthday_paradox(points, self.batch_size, self.num_trials, calibration=self._calibration,
                                  seed=real.seed, num_pairs=self.num_pairs)
        self._pairs = result.pair_samples
        low, high = result.support_size_interval
        return {
            "metrics/birthday_collision_rate": result.collision_rate,
            "metrics/birthday_support_size": result.support_size,
            "metrics/birthday_support_size_low": low,
            "metrics/birthday_support_size_high": high,
        }

    def images(self, fake):
        if self._pairs is None or len(self._pairs) == 0 or self.space != "pixels" or fake.samples.ndim != 4:
            return {}
        pairs = torch.as_tensor(self._pairs).float().reshape(-1, *fake.samples.shape[1:])  # (2P, C, H, W), side by side
        return {"birthday/closest_pairs": image_grid(pairs, nrow=2)}
