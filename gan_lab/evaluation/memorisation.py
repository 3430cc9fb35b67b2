"""``metrics/near_copy_fraction_*``: is the generator copying its training set? (lesson 8, at every evaluation)

Once a metric's reference compares like with like, a generator that beats real data is either lucky or
copying the digits it was trained on.  This metric tells which: the fraction of generated samples that
lie nearer to a training sample than the training samples lie to each other, i.e. at or below the 1 %
quantile (``quantile``) of the distances from training samples to their nearest *other* training sample
(:func:`gan_lab.metrics.near_copies.calibrated_copy_threshold`), in two spaces:

* ``..._pixels``: flattened samples (catches exact and near-exact copies; a one-pixel shift escapes it);
* ``..._features``: the evaluator's features (ignores small shifts, so a shifted copy is still caught).

``reference/near_copy_fraction_*`` is the held-out split's fraction at the same thresholds: what fresh
draws from the data score (about ``quantile`` by construction).  Image data only; 2D points, where every
sample of a narrow mode is near some training point, are skipped.  The maths is in :mod:`gan_lab.metrics.near_copies`.
"""

from __future__ import annotations

from gan_lab.errors import EvaluationError
from gan_lab.evaluation.metric import EvaluationMetric
from gan_lab.metrics.near_copies import COPY_QUANTILE, calibrated_copy_threshold, nearest_neighbours


class NearCopies(EvaluationMetric):
    """The fraction of generated samples that are near-copies of training samples, in pixels and in features."""

    def __init__(self, quantile: float = COPY_QUANTILE) -> None:
        if not 0 < quantile < 1:
            raise EvaluationError(f"evaluation.metrics.near_copies.quantile must be in (0, 1), got {quantile}.")
        self.quantile = float(quantile)
        self._spaces: dict[str, tuple] = {}  # space -> (training samples in it, copy threshold)

    def prepare(self, real):
        self._spaces = {}
        train = real.datamodule.train_set.tensors[0]
        if train.ndim != 4:  # images (N, C, H, W) only
            return {}
        train_features = real.evaluator.features(train.float()).double().cpu()
        held_out = real.datamodule.val_set.tensors[0]
        values = {"settings/near_copy_quantile": self.quantile, "settings/near_copy_training_samples": len(train)}
        for space, references, queries in (("pixels", train, held_out),
                                           ("features", train_features, real.held_out.features)):
            threshold = calibrated_copy_threshold(references, self.quantile)
            self._spaces[space] = (references, threshold)
            values[f"reference/near_copy_fraction_{space}"] = self._fraction(queries, space)
        return values

    def _fraction(self, queries, space: str) -> float:
        references, threshold = self._spaces[space]
        distances, _ = nearest_neighbours(queries, references)
        return float((distances[:, 0] <= threshold).double().mean())

    def compute(self, fake, real):
        if not self._spaces:
            return {}
        return {"metrics/near_copy_fraction_pixels": self._fraction(fake.samples, "pixels"),
                "metrics/near_copy_fraction_features": self._fraction(fake.features, "features")}
