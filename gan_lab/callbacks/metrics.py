"""Metric callbacks: IS, FID (with KID), birthday-paradox support size, mode coverage.

Each callback is thin: the maths lives in :mod:`gan_lab.metrics` (functional,
float64, tested against known answers), and the samples and their features
come from :class:`~gan_lab.callbacks.evaluation.SharedEvaluation`, which
generates and scores them once per validation epoch for all callbacks.

At each evaluated validation epoch a callback logs ``metrics/...``; at the
first one it also logs the real data's own values under ``reference/...``
(what a perfect generator would score with the same sample count) and the
settings its numbers depend on under ``settings/...``.

Every rank computes the same numbers from the same gathered features, so
nothing is synchronised inside a rank-zero-only hook (which would hang DDP);
only drawing images is left to rank zero.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod

import pytorch_lightning as pl
import torch

from gan_lab.callbacks.evaluation import Scored, score, shared_evaluation
from gan_lab.callbacks.logging_utils import logging_step, tensorboard_writer
from gan_lab.callbacks.samples import image_grid
from gan_lab.metrics import (
    birthday_paradox,
    class_coverage,
    features_to_statistics,
    inception_score,
    kernel_inception_distance,
    mode_coverage,
    statistics_to_frechet_distance,
)
from gan_lab.metrics.evaluators import Evaluator

# Lightning suggests sync_dist=True for every epoch-level value in a distributed run.  Our
# values are already identical on every rank (computed from gathered features), so
# syncing would only cost a collective per value: silence the advice for our tags.
warnings.filterwarnings("ignore", message=r".*self\.log\('(metrics|reference|settings)/.*sync_dist=True")


class MetricCallback(pl.Callback, ABC):
    """Shared plumbing: when to evaluate, which evaluator, logging values and settings.

    Args:
        num_samples: generated (and real) samples the metric is computed on.
        every_n_epochs: evaluate at every n-th validation epoch.
        evaluator: ``"auto"`` (the right one for the data set), ``"mixture"``,
            ``"classifier"`` or ``"inception"``.
        seed: latent seed of the generated samples (fixed: epochs are comparable).
        real_seed: seed of the draw of real reference samples.
    """

    def __init__(
        self, num_samples: int = 5000, every_n_epochs: int = 1, evaluator: str = "auto", seed: int = 0, real_seed: int = 0
    ) -> None:
        if num_samples < 2:
            raise ValueError(f"num_samples must be at least 2, got {num_samples}.")
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be at least 1, got {every_n_epochs}.")
        self.num_samples = int(num_samples)
        self.every_n_epochs = int(every_n_epochs)
        self.evaluator_kind = evaluator
        self.seed = int(seed)
        self.real_seed = int(real_seed)
        self._evaluations = 0
        self._reference_logged = False

    # ------------------------------------------------------------------ hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        shared = shared_evaluation(trainer)
        shared.require(self.num_samples)
        # Build (or train) the evaluator now, so that bad settings fail before training starts.
        evaluator = shared.evaluator(self.evaluator_kind, trainer.datamodule)
        self.check(evaluator, trainer.datamodule)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self._evaluations += 1
        if (self._evaluations - 1) % self.every_n_epochs:
            return
        shared = shared_evaluation(trainer)
        evaluator = shared.evaluator(self.evaluator_kind, trainer.datamodule).to(pl_module.device)
        real = take(shared.real(evaluator, trainer.datamodule, self.real_seed), self.num_samples)
        fake = take(shared.fake(trainer, pl_module, evaluator, self.seed), self.num_samples)
        if not self._reference_logged:
            self._reference_logged = True
            self._log(pl_module, self.reference(real, evaluator, trainer.datamodule))
            self._log(pl_module, {f"settings/{key}": value for key, value in self.settings(evaluator).items()})
            writer = tensorboard_writer(trainer) if trainer.is_global_zero else None
            # The one setting that is not a number; every callback shares the evaluator, so write it once.
            if writer is not None and evaluator.name not in shared.described:
                shared.described.add(evaluator.name)
                writer.add_text("settings/evaluator", describe(evaluator), logging_step(trainer))
        values = self.compute(fake, real, evaluator, trainer.datamodule)
        self._log(pl_module, values)
        if trainer.is_global_zero:
            self.draw(trainer, fake, real)

    # ------------------------------------------------------------------ to implement
    def check(self, evaluator: Evaluator, datamodule) -> None:
        """Raise a ``ValueError`` if the settings cannot give a meaningful number."""

    @abstractmethod
    def compute(self, fake: Scored, real: Scored, evaluator: Evaluator, datamodule) -> dict[str, float]:
        """The ``metrics/...`` values of the generated samples."""

    @abstractmethod
    def reference(self, real: Scored, evaluator: Evaluator, datamodule) -> dict[str, float]:
        """The ``reference/...`` values: the same metric on real samples."""

    def settings(self, evaluator: Evaluator) -> dict[str, float]:
        accuracy = getattr(evaluator, "accuracy", None)
        values = {"num_samples": self.num_samples}
        if accuracy is not None:
            values["evaluator_accuracy"] = accuracy
        return values

    def draw(self, trainer: pl.Trainer, fake: Scored, real: Scored) -> None:
        """Optionally log an image (rank zero only)."""

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _log(pl_module: pl.LightningModule, values: dict[str, float]) -> None:
        for name, value in values.items():
            # Identical on every rank (computed from gathered features): no sync needed.
            pl_module.log(name, float(value), sync_dist=False)


def describe(evaluator: Evaluator) -> str:
    """One line naming the evaluator and what its numbers rest on."""
    text = f"{evaluator.name}: {evaluator.num_features}-d features, {evaluator.num_classes} classes"
    accuracy = getattr(evaluator, "accuracy", None)
    return text if accuracy is None else f"{text}, held-out accuracy {accuracy:.2%}"


def finite_or_minus_one(value: float) -> float:
    """TensorBoard cannot plot infinity: an infinite support estimate (no collision at all) is logged as -1."""
    return value if math.isfinite(value) else -1.0


def take(scored: Scored, n: int) -> Scored:
    """The first ``n`` samples of ``scored``."""
    labels = None if scored.labels is None else scored.labels[:n]
    return Scored(scored.samples[:n], scored.features[:n], scored.probs[:n], labels)


class InceptionScore(MetricCallback):
    """``metrics/inception_score`` and ``metrics/inception_score_std`` over ``splits`` splits.

    See :func:`gan_lab.metrics.inception_score` for the convention
    (Salimans et al. 2016: mean and ddof=0 std over splits, fixed-seed shuffle).
    """

    def __init__(self, splits: int = 10, **kwargs) -> None:
        super().__init__(**kwargs)
        self.splits = int(splits)

    def check(self, evaluator: Evaluator, datamodule) -> None:
        if self.splits > self.num_samples:
            raise ValueError(f"InceptionScore: splits={self.splits} exceeds num_samples={self.num_samples}.")

    def compute(self, fake, real, evaluator, datamodule):
        mean, std = inception_score(fake.probs, splits=self.splits, seed=self.seed)
        return {"metrics/inception_score": mean, "metrics/inception_score_std": std}

    def reference(self, real, evaluator, datamodule):
        mean, std = inception_score(real.probs, splits=self.splits, seed=self.seed)
        return {"reference/inception_score": mean, "reference/inception_score_std": std}

    def settings(self, evaluator):
        return {**super().settings(evaluator), "inception_score_splits": self.splits}


class FID(MetricCallback):
    """``metrics/fid`` (Heusel et al. 2017) and ``metrics/kid`` (Binkowski et al. 2018) on evaluator features.

    The real statistics are computed once.  ``reference/fid`` is the FID
    between two disjoint real samples of the same size (training vs held-out
    data): the floor that sample-size bias alone puts under any generator.
    """

    def __init__(self, kid_subsets: int = 100, kid_subset_size: int = 1000, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kid_subsets = int(kid_subsets)
        self.kid_subset_size = int(kid_subset_size)
        self._real_statistics = None

    def check(self, evaluator: Evaluator, datamodule) -> None:
        if self.num_samples <= evaluator.num_features:
            raise ValueError(
                f"FID: num_samples={self.num_samples} is too small for {evaluator.num_features}-dimensional "
                f"{evaluator.name} features: the covariance would be rank-deficient. Use at least "
                f"{evaluator.num_features + 1} samples (the FID authors recommend 10,000 or more)."
            )

    def compute(self, fake, real, evaluator, datamodule):
        if self._real_statistics is None:
            self._real_statistics = features_to_statistics(real.features)
        fid = statistics_to_frechet_distance(*self._real_statistics, *features_to_statistics(fake.features))
        kid, _ = self._kid(real.features, fake.features)
        return {"metrics/fid": fid, "metrics/kid": kid}

    def reference(self, real, evaluator, datamodule):
        held_out = datamodule.val_set.tensors[0]
        if len(held_out) <= evaluator.num_features:
            return {}  # too little held-out data for a meaningful reference FID
        held_out_features, _ = score(evaluator, held_out[: self.num_samples], torch.device("cpu"))
        held_out_features = held_out_features.to(real.features)
        fid = statistics_to_frechet_distance(*features_to_statistics(real.features), *features_to_statistics(held_out_features))
        kid, _ = self._kid(real.features, held_out_features, subset_size=min(self.kid_subset_size, len(held_out_features)))
        return {"reference/fid": fid, "reference/kid": kid, "settings/fid_reference_samples": len(held_out_features)}

    def _kid(self, real_features, fake_features, subset_size: int | None = None):
        return kernel_inception_distance(
            real_features, fake_features, num_subsets=self.kid_subsets, subset_size=subset_size or self.kid_subset_size,
            seed=self.seed,
        )


class BirthdayParadox(MetricCallback):
    """Support size by the birthday paradox (Arora, Risteski & Zhang, ICLR 2018).

    ``num_trials`` disjoint batches of ``batch_size`` generated samples; a
    batch collides if two of its samples are closer than a threshold
    calibrated on real batches of the same size (see
    :func:`gan_lab.metrics.birthday_paradox`).  Logs
    ``metrics/birthday_collision_rate``, ``metrics/birthday_support_size``
    (infinite when nothing collides, logged as -1 with the rate then 0) and
    ``metrics/birthday_support_size_low``, its 95 % lower confidence bound,
    and draws the closest pairs so a person can judge them, as the authors did.

    ``space="pixels"`` compares flattened samples (the paper's choice for
    faces); ``space="features"`` compares evaluator features (its choice for
    CIFAR-10).
    """

    def __init__(self, batch_size: int = 50, num_trials: int = 100, space: str = "pixels", num_pairs: int = 16, **kwargs) -> None:
        kwargs.setdefault("num_samples", batch_size * num_trials)
        super().__init__(**kwargs)
        if space not in ("pixels", "features"):
            raise ValueError(f"BirthdayParadox: unknown space {space!r}; valid: ['pixels', 'features'].")
        if batch_size * num_trials > self.num_samples:
            raise ValueError(
                f"BirthdayParadox: batch_size * num_trials = {batch_size * num_trials} exceeds num_samples="
                f"{self.num_samples}; trials use disjoint samples."
            )
        self.batch_size, self.num_trials, self.space, self.num_pairs = int(batch_size), int(num_trials), space, num_pairs
        self._threshold: float | None = None
        self._last_pairs = None

    def _points(self, scored: Scored) -> torch.Tensor:
        return scored.samples.flatten(1).double() if self.space == "pixels" else scored.features

    def _trials(self, scored: Scored) -> torch.Tensor:
        return self._points(scored)[: self.batch_size * self.num_trials]

    def _real_pool(self, evaluator: Evaluator, datamodule) -> torch.Tensor:
        """Distinct real training samples (pixels or features) to draw calibration batches from.

        Batches are drawn *without replacement* from this pool: with a small
        training set (digits: 1,617 images) a draw with replacement would put
        exact duplicates in real batches and calibrate the threshold to zero.
        """
        images = datamodule.train_set.tensors[0]
        if len(images) > self.num_samples:  # bound the work on large data sets; a fixed subset
            images = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(self.real_seed))[: self.num_samples]]
        if self.space == "pixels":
            return images.flatten(1).double()
        return score(evaluator, images, torch.device("cpu"))[0]

    def reference(self, real, evaluator, datamodule):
        pool = self._real_pool(evaluator, datamodule)

        def draw_real(n: int) -> torch.Tensor:  # seeded by birthday_paradox through torch's global generator
            return pool[torch.randperm(len(pool))[:n]]

        calibration = birthday_paradox(draw_real, self.batch_size, self.num_trials, reference=draw_real, seed=self.seed)
        self._threshold = calibration.threshold
        # Fresh real batches at the calibrated threshold: what a generator as diverse as the data scores.
        check = birthday_paradox(draw_real, self.batch_size, self.num_trials, threshold=self._threshold, seed=self.seed + 1)
        return {
            "reference/birthday_collision_rate": check.collision_rate,
            "reference/birthday_support_size": finite_or_minus_one(check.support_size),
            "settings/birthday_threshold": self._threshold,
            "settings/birthday_batch_size": self.batch_size,
            "settings/birthday_num_trials": self.num_trials,
            "settings/birthday_real_pool": len(pool),
        }

    def compute(self, fake, real, evaluator, datamodule):
        result = birthday_paradox(
            self._trials(fake), self.batch_size, self.num_trials, threshold=self._threshold, seed=self.seed,
            num_pairs=self.num_pairs,
        )
        self._last_pairs = result
        return {
            "metrics/birthday_collision_rate": result.collision_rate,
            "metrics/birthday_support_size": finite_or_minus_one(result.support_size),
            # 95 % lower bound: finite even when nothing collides ("the support is at least this").
            "metrics/birthday_support_size_low": finite_or_minus_one(result.support_size_interval[0]),
        }

    def draw(self, trainer, fake, real):
        writer = tensorboard_writer(trainer)
        pairs = getattr(self._last_pairs, "pair_samples", None)
        if writer is None or pairs is None or len(pairs) == 0 or self.space != "pixels" or fake.samples.ndim != 4:
            return
        images = torch.as_tensor(pairs).float().reshape(-1, *fake.samples.shape[1:])  # (2P, C, H, W): pairs side by side
        writer.add_image("birthday/closest_pairs", image_grid(images, nrow=2), logging_step(trainer))


class ModeCoverage(MetricCallback):
    """Mode counts where the modes are known.

    2D mixtures: the VEEGAN/PacGAN protocol (high quality within 3 std of the
    nearest centre; a mode is covered if a high-quality sample is nearest to
    it), logging ``metrics/modes_covered``, ``metrics/high_quality_fraction``
    and ``metrics/mode_kl``.  Labelled images: the evaluator's predicted
    classes (10 digits, 1,000 stacked-digit triples), ``metrics/modes_covered``
    and ``metrics/mode_kl``.
    """

    def __init__(self, threshold_stds: float = 3.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.threshold_stds = float(threshold_stds)

    def _coverage(self, scored: Scored, datamodule):
        centers = getattr(datamodule, "centers", None)
        if centers is not None:
            return mode_coverage(scored.samples, centers, datamodule.std, threshold_stds=self.threshold_stds)
        return class_coverage(scored.probs.argmax(dim=1), scored.probs.shape[1])

    def _values(self, prefix: str, scored: Scored, datamodule) -> dict[str, float]:
        coverage = self._coverage(scored, datamodule)
        values = {f"{prefix}/modes_covered": coverage.modes_covered, f"{prefix}/mode_kl": coverage.reverse_kl}
        if getattr(datamodule, "centers", None) is not None:
            values[f"{prefix}/high_quality_fraction"] = coverage.high_quality_fraction
        return values

    def compute(self, fake, real, evaluator, datamodule):
        return self._values("metrics", fake, datamodule)

    def reference(self, real, evaluator, datamodule):
        return self._values("reference", real, datamodule)
