"""The standard sample-quality metrics as evaluation metrics: IS, FID, KID, precision/recall, density/coverage.

Each class is configured in ``configs/evaluation/default.yaml`` and documents
the tags it logs; the maths and its conventions are in :mod:`gan_lab.metrics`.
"""

from __future__ import annotations

import warnings

import torch

from gan_lab.errors import EvaluationError
from gan_lab.evaluation.metric import EvaluationMetric, held_out_sized
from gan_lab.metrics import (
    density_coverage,
    features_to_statistics,
    inception_score,
    kernel_inception_distance,
    precision_recall,
    statistics_to_frechet_distance,
)
from gan_lab.metrics.kid import KIDAgainstReal
from gan_lab.metrics.shared_pass import SharedFeaturePass


class InceptionScore(EvaluationMetric):
    """``metrics/inception_score`` and ``metrics/inception_score_std`` over ``splits`` splits.

    Salimans et al. 2016's convention (mean and ddof=0 std over splits, after a
    fixed-seed shuffle as in torch-fidelity); see :func:`gan_lab.metrics.inception_score`.
    """

    def __init__(self, splits: int = 10) -> None:
        if splits < 1:
            raise EvaluationError(f"evaluation.metrics.inception_score.splits must be >= 1, got {splits}.")
        self.splits = int(splits)

    def check(self, evaluator, datamodule, num_samples):
        if self.splits > num_samples:
            raise EvaluationError(f"inception_score: splits={self.splits} exceeds evaluation.num_samples={num_samples}.")

    def prepare(self, real):
        mean, std = inception_score(real.train.probs, splits=self.splits, seed=real.seed)
        return {"reference/inception_score": mean, "reference/inception_score_std": std,
                "settings/inception_score_splits": self.splits}

    def compute(self, fake, real):
        mean, std = inception_score(fake.probs, splits=self.splits, seed=real.seed)
        return {"metrics/inception_score": mean, "metrics/inception_score_std": std}


#: Why FID and KID are not computed on 2D points unless asked for (``on_raw_points: true``).
RAW_POINTS_NOTE = ("not computed: the evaluator's features are the raw 2D points, where FID compares only means and "
                   "covariances and KID little more (a generator on 2 of 8 modes can score near 0); read modes, "
                   "high-quality fraction, mode KL, JS by grid and precision/recall instead")


def on_raw_points(evaluator) -> bool:
    """Whether ``evaluator``'s features are the samples themselves (the 2D mixtures' exact evaluator)."""
    return evaluator.name == "mixture"


class FID(EvaluationMetric):
    """``metrics/fid`` (Heusel et al. 2017) on evaluator features, float64 statistics.

    The real statistics are computed once per run.  ``reference/fid`` is the
    FID between the real training sample and the held-out split: what a
    generator drawing unseen real data would score.  A FID's bias depends on
    the number of samples, so where the held-out split is the smaller one
    (digits: 180 against 5,000), ``metrics/fid`` is the mean FID of generated
    subsets of the held-out size (:func:`~gan_lab.evaluation.metric.held_out_sized`),
    the value that compares with the reference, ``metrics/fid_std`` their
    standard deviation (how far one such FID, the reference's included, falls
    from another: on digits' 180 samples of 128-d features, a few units), and
    ``metrics/fid_all_samples`` the FID of all generated samples (lower; it
    compares only with other values from as many samples).  On 2D mixtures the
    features are the points themselves, where a Fréchet distance compares
    means and covariances only: it is skipped there (``settings/fid`` says
    why) unless ``on_raw_points`` is set.
    """

    def __init__(self, on_raw_points: bool = False) -> None:
        self._real_statistics = None
        self.on_raw_points, self._skip = bool(on_raw_points), False
        self._in_subsets = False  # score the generated samples at the held-out size (set in prepare)

    def check(self, evaluator, datamodule, num_samples):
        self._skip = on_raw_points(evaluator) and not self.on_raw_points
        if self._skip:
            return
        if num_samples <= evaluator.num_features:
            raise EvaluationError(
                f"fid: evaluation.num_samples={num_samples} is too small for {evaluator.num_features}-dimensional "
                f"{evaluator.name} features: the covariance would be rank-deficient. Use at least "
                f"{evaluator.num_features + 1} samples (the FID authors recommend 10,000 or more)."
            )

    def prepare(self, real):
        if self._skip:
            return {"settings/fid": RAW_POINTS_NOTE}
        self._real_statistics = features_to_statistics(real.train.features)
        held_out = real.held_out.features
        self._in_subsets = False
        if len(held_out) <= real.evaluator.num_features:
            return {}  # too little held-out data for a meaningful reference FID
        self._in_subsets = real.held_out_is_smaller
        return {"reference/fid": self._fid(held_out), "settings/fid_reference_samples": len(held_out)}

    def _fid(self, features) -> float:
        return statistics_to_frechet_distance(*self._real_statistics, *features_to_statistics(features))

    def compute(self, fake, real):
        if self._skip:
            return {}
        if not self._in_subsets:
            return {"metrics/fid": self._fid(fake.features)}
        subsets = torch.tensor([self._fid(subset) for subset in held_out_sized(fake.features, real)],
                               dtype=torch.float64)
        return {"metrics/fid": float(subsets.mean()), "metrics/fid_std": float(subsets.std(unbiased=False)),
                "metrics/fid_all_samples": self._fid(fake.features)}


class KID(EvaluationMetric):
    """``metrics/kid`` and ``metrics/kid_std`` (Binkowski et al. 2018): unbiased cubic-kernel MMD^2 over subsets.

    ``num_subsets`` subsets of ``subset_size`` samples, as torchmetrics and the
    paper's code (100 of 1,000).  The estimator is unbiased at every subset
    size, so ``reference/kid`` (held-out split against training data, in
    subsets of at most the held-out size) and ``metrics/kid`` estimate the same
    quantity and compare although they are made from different numbers of
    samples: only their spreads differ.  Skipped on raw 2D points, as :class:`FID` is, unless ``on_raw_points``.  A subset larger than the sample is capped at
    the sample count, with one warning at set-up that says so; the size used is
    logged as ``settings/kid_subset_size``.
    """

    def __init__(self, num_subsets: int = 100, subset_size: int = 1000, on_raw_points: bool = False) -> None:
        if num_subsets < 1 or subset_size < 2:
            raise EvaluationError(f"kid: need num_subsets >= 1 and subset_size >= 2, got {num_subsets}, {subset_size}.")
        self.num_subsets, self.subset_size = int(num_subsets), int(subset_size)
        self.on_raw_points, self._skip = bool(on_raw_points), False

    def check(self, evaluator, datamodule, num_samples):
        self._skip = on_raw_points(evaluator) and not self.on_raw_points

    def prepare(self, real):
        if self._skip:
            return {"settings/kid": RAW_POINTS_NOTE}
        num_samples = len(real.train.features)
        if self.subset_size > num_samples:
            warnings.warn(f"kid: subset_size={self.subset_size} is larger than evaluation.num_samples={num_samples}; "
                          f"using subsets of {num_samples} (values from other subset sizes are not comparable).",
                          UserWarning, stacklevel=2)
            self.subset_size = num_samples
        # The real side (subsets and their kernel sums) once per run; each evaluation adds the generated side,
        # in the pass over the generated features that it shares with the k-NN metrics.
        estimator = KIDAgainstReal(real.train.features, num_samples, self.num_subsets, self.subset_size, real.seed)
        self._key = real.shared_pass().add_kid(estimator)
        values = {"settings/kid_subsets": self.num_subsets, "settings/kid_subset_size": self.subset_size}
        held_out = real.held_out.features
        if len(held_out) >= 2:
            size = min(self.subset_size, len(held_out))  # a small held-out split caps it: stated in settings/
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values["reference/kid"] = kernel_inception_distance(real.train.features, held_out, self.num_subsets,
                                                                    size, real.seed)[0]
            values["settings/kid_reference_subset_size"] = size
        return values

    def compute(self, fake, real):
        if self._skip:
            return {}
        mean, std = real.shared_values(fake, self._key)
        return {"metrics/kid": mean, "metrics/kid_std": std}



class _NearestNeighbourMetric(EvaluationMetric):
    """What the k-nearest-neighbour metrics share: the real balls' radii once per run, two values per call.

    Recall and coverage grow with the number of generated samples, so where the held-out split is smaller
    than the generated sample, ``metrics/<tag>`` is the mean over generated subsets of the held-out size
    (what compares with ``reference/<tag>``) and ``metrics/<tag>_all_samples`` the value from all of them.
    Precision and density are means over generated samples, so their two values differ only by the
    samples a last partial subset leaves out.

    Subclasses name their ``function`` ((real, fake, k, real_radii2) -> (a, b)), used for the reference
    values, the ``SharedFeaturePass`` method that registers the same metric for the evaluations
    (``register``), and the two ``tags``.
    """

    name: str
    tags: tuple[str, str]
    function = None
    register = None

    def __init__(self, k: int) -> None:
        if k < 1:
            raise EvaluationError(f"{self.name}: k must be >= 1, got {k}.")
        self.k = int(k)
        self._real_radii2 = None
        self._in_subsets = False

    def check(self, evaluator, datamodule, num_samples):
        if num_samples <= self.k:
            raise EvaluationError(f"{self.name}: evaluation.num_samples={num_samples} must exceed k={self.k}.")

    def _values(self, prefix: str, real, other) -> dict[str, float]:
        pair = type(self).function(real.train.features, other, k=self.k, real_radii2=self._real_radii2)
        return {f"{prefix}/{tag}": value for tag, value in zip(self.tags, pair)}

    def prepare(self, real):
        shared = real.shared_pass()
        self._key = type(self).register(shared, self.k)
        self._real_radii2 = shared.real_radii2(self.k)  # once per run
        values = {f"settings/{self.name}_k": self.k}
        self._in_subsets = False
        if len(real.held_out.features) > self.k:
            values.update(self._values("reference", real, real.held_out.features))
            self._in_subsets = real.held_out_is_smaller
        return values

    def compute(self, fake, real):
        pair = real.shared_values(fake, self._key)
        if not self._in_subsets:
            return {f"metrics/{tag}": value for tag, value in zip(self.tags, pair)}
        matched = real.subset_values(fake, self._key)
        return {**{f"metrics/{tag}": value for tag, value in zip(self.tags, matched)},
                **{f"metrics/{tag}_all_samples": value for tag, value in zip(self.tags, pair)}}


class PrecisionRecall(_NearestNeighbourMetric):
    """``metrics/precision`` and ``metrics/recall`` (Kynkaanniemi et al. 2019) on evaluator features.

    See :func:`gan_lab.metrics.precision_recall`.  ``reference/...`` compares
    the real training sample with the held-out split.
    """

    name, tags = "precision_recall", ("precision", "recall")
    function = staticmethod(precision_recall)
    register = SharedFeaturePass.add_precision_recall

    def __init__(self, k: int = 3) -> None:
        super().__init__(k)


class DensityCoverage(_NearestNeighbourMetric):
    """``metrics/density`` and ``metrics/coverage`` (Naeem et al. 2020) on evaluator features.

    See :func:`gan_lab.metrics.density_coverage`.  ``reference/...`` compares
    the real training sample with the held-out split.
    """

    name, tags = "density_coverage", ("density", "coverage")
    function = staticmethod(density_coverage)
    register = SharedFeaturePass.add_density_coverage

    def __init__(self, k: int = 5) -> None:
        super().__init__(k)
