"""Test-only evaluation metrics, instantiated in real runs to simulate accidents."""

from __future__ import annotations

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
