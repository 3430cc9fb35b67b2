"""Lightning callbacks: sample images and the evaluation metrics."""

from gan_lab.callbacks.samples import LogSamples

__all__ = ["LogSamples"]
