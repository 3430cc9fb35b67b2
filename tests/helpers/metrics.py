"""Test-only metric code: a brute-force reference for the k-NN metrics, and metrics that simulate accidents in runs."""

from __future__ import annotations

import numpy as np

from gan_lab.evaluation import EvaluationMetric


class FailsAtEvaluation(EvaluationMetric):
    """Raise at the ``number``-th evaluation (1-based): a bug in a metric, mid-run."""

    def __init__(self, number: int = 2) -> None:
        self.number, self.calls = int(number), 0

    def compute(self, fake, real):
        self.calls += 1
        if self.calls == self.number:
            raise RuntimeError(f"metric failed at evaluation {self.calls}")
        return {"metrics/survived": float(self.calls)}


def brute_force_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> tuple[float, float, float, float]:
    """Full distance matrices from explicit differences, radii the way both reference codes take them.

    Like kynkaat's ``np.partition(..)[:, k]`` and clovaai's ``get_kth_value(.., k + 1)``: sort each
    row *with* the zero self-distance and take the (k+1)-th smallest.  Precision/recall with ``<=``
    (kynkaat), density/coverage with ``<`` (clovaai).
    """

    def distances(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))  # (len(a), len(b)), exact 0 on duplicates

    def radii(x, k):
        return np.sort(distances(x, x), axis=1)[:, k]

    real_fake = distances(real, fake)  # (N, M)
    precision = (real_fake <= radii(real, k_pr)[:, None]).any(axis=0).mean()
    recall = (real_fake <= radii(fake, k_pr)[None, :]).any(axis=1).mean()
    inside = real_fake < radii(real, k_dc)[:, None]
    density = inside.sum(axis=0).mean() / k_dc
    coverage = (real_fake.min(axis=1) < radii(real, k_dc)).mean()
    return float(precision), float(recall), float(density), float(coverage)
