"""Lightning callbacks: the evaluation (samples, metrics, the game view) of the generator, and its animation."""

from gan_lab.callbacks.animation import Animation
from gan_lab.callbacks.evaluation import Evaluation

__all__ = ["Animation", "Evaluation"]
