"""Lightning callbacks: sample images and the evaluation metrics."""

from gan_lab.callbacks.metrics import FID, BirthdayParadox, InceptionScore, MetricCallback, ModeCoverage
from gan_lab.callbacks.samples import LogSamples

__all__ = ["FID", "BirthdayParadox", "InceptionScore", "LogSamples", "MetricCallback", "ModeCoverage"]
