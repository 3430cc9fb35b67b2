"""How much of the data's variety the generator covers: mode counts, JS by grid, the birthday-paradox support size.

The instruments of mode collapse (``notebooks/04_mode_collapse.ipynb``):

* :class:`ModeCoverage`: exact mode counts where the modes are known (2D mixtures; labelled images via the evaluator);
* :class:`JSGrid`: GAN Lab's "JS by grid" on 2D data (Kahng et al., IEEE VIS 2018);
* :class:`BirthdayParadox`: the support size from collisions in small batches (Arora, Risteski & Zhang, ICLR 2018).

The maths is in :mod:`gan_lab.metrics` (``mode_coverage``, ``js_grid``, ``birthday``).
"""

from __future__ import annotations

import torch

from gan_lab.data.base import is_2d
from gan_lab.errors import EvaluationError
from gan_lab.evaluation.metric import EvaluationMetric, RealData
from gan_lab.evaluation.scored import Scored, score
from gan_lab.metrics import birthday_paradox, calibrate_birthday, class_coverage, mode_coverage
from gan_lab.metrics.js_grid import gaussian_mixture_cell_probabilities, histogram_on_grid, js_grid, square_box
from gan_lab.viz.plots import image_grid


class ModeCoverage(EvaluationMetric):
    """Mode counts where the modes are known.

    2D mixtures: the VEEGAN/PacGAN protocol (high quality within
    ``threshold_stds`` std of the nearest centre; a mode is covered if a
    high-quality sample is nearest to it): ``metrics/modes_covered``,
    ``metrics/high_quality_fraction`` and ``metrics/mode_kl`` (reverse KL of the
    mode histogram to uniform).  Labelled images: the evaluator's predicted
    classes (10 digits, 1,000 stacked-digit triples), ``metrics/modes_covered``
    and ``metrics/mode_kl``.  ``settings/num_modes`` is the number there are.
    """

    def __init__(self, threshold_stds: float = 3.0) -> None:
        self.threshold_stds = float(threshold_stds)

    def _values(self, prefix: str, scored: Scored, datamodule) -> dict[str, float]:
        centers = getattr(datamodule, "centers", None)
        if centers is not None:
            coverage = mode_coverage(scored.samples, centers, datamodule.std, threshold_stds=self.threshold_stds)
        else:
            coverage = class_coverage(scored.probs.argmax(dim=1), scored.probs.shape[1])
        values = {f"{prefix}/modes_covered": coverage.modes_covered, f"{prefix}/mode_kl": coverage.reverse_kl}
        if centers is not None:
            values[f"{prefix}/high_quality_fraction"] = coverage.high_quality_fraction
        return values

    def prepare(self, real):
        centers = getattr(real.datamodule, "centers", None)
        num_modes = len(centers) if centers is not None else real.evaluator.num_classes
        return {**self._values("reference", real.train, real.datamodule), "settings/num_modes": num_modes}

    def compute(self, fake, real):
        return self._values("metrics", fake, real.datamodule)


class JSGrid(EvaluationMetric):
    """``metrics/js_grid``: JS divergence (nats, in [0, log 2]) between data and generator on ``bins`` x ``bins`` cells.

    The cells cover a square box around the real training sample (its bounding box widened by
    ``margin`` on each side, fixed once per run so that evaluations compare), plus one cell for
    everything outside it; see :mod:`gan_lab.metrics.js_grid`.

    What the generated histogram is compared with, and the reference:

    * a known Gaussian mixture (the data module has ``centers`` and ``std``: ring8, grid25): the
      data's **exact** cell probabilities (normal CDFs per cell).  ``reference/js_grid`` is the
      estimate for the real training sample (``evaluation.num_samples`` points) against those
      exact probabilities: the value a perfect generator would get with the same number of
      points, which is above 0 only because a histogram of finitely many points is noisy.
      (Comparing with exact probabilities removes the data side's sampling noise from every
      value, so the curve and its floor depend on the generator's sample alone.)
    * any other 2D data: the real training sample's histogram stands for the data, and
      ``reference/js_grid`` compares it with the held-out split's, as FID's reference does.

    Data that is not 2D (images) logs nothing: the grid needs points in the plane.
    """

    def __init__(self, bins: int = 50, margin: float = 0.25) -> None:
        if bins < 1:
            raise EvaluationError(f"js_grid: bins must be >= 1, got {bins}.")
        if not margin >= 0:
            raise EvaluationError(f"js_grid: margin must be >= 0, got {margin}.")
        self.bins, self.margin = int(bins), float(margin)
        self._box = None
        self._data_cells = None  # the data's cell probabilities, once per run

    def prepare(self, real: RealData):
        if not is_2d(real.datamodule):
            self._box = self._data_cells = None
            return {}
        datamodule = real.datamodule
        train_points = real.train.samples
        self._box = square_box(train_points, self.margin)
        train_cells = histogram_on_grid(train_points, self._box, self.bins)
        centers, std = getattr(datamodule, "centers", None), getattr(datamodule, "std", None)
        if centers is not None and std is not None:
            self._data_cells = gaussian_mixture_cell_probabilities(centers, std, self._box, self.bins)
            reference, target = js_grid(train_cells, self._data_cells), "exact Gaussian-mixture cell probabilities"
        else:
            self._data_cells = train_cells
            held_out = histogram_on_grid(real.held_out.samples, self._box, self.bins)
            reference, target = js_grid(train_cells, held_out), "the real training sample's histogram"
        return {"reference/js_grid": reference, "settings/js_grid_bins": self.bins,
                "settings/js_grid_box_side": self._box[1] - self._box[0], "settings/js_grid_data": target}

    def compute(self, fake, real):
        if self._data_cells is None:
            return {}
        return {"metrics/js_grid": js_grid(histogram_on_grid(fake.samples, self._box, self.bins), self._data_cells)}


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
