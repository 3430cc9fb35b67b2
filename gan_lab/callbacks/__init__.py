"""Lightning callbacks: the evaluation (samples and metrics) of the generator."""

from gan_lab.callbacks.evaluation import Evaluation

__all__ = ["Evaluation"]
