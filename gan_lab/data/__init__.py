"""Data modules (Lightning ``LightningDataModule``): 2D Gaussian mixtures, the embedded digits, torchvision data sets.

Each yields ``(samples, labels)`` batches and knows its sample ``shape`` (and, for mixtures, its modes).  Imports
only ``gan_lab.errors``: data knows nothing of networks, training or evaluation.
"""

from gan_lab.data.base import TensorDataModule
from gan_lab.data.digits import DigitsDataModule, StackedDigitsDataModule
from gan_lab.data.toy2d import GaussianMixtureDataModule, grid_centers, ring_centers

__all__ = [
    "DigitsDataModule",
    "GaussianMixtureDataModule",
    "StackedDigitsDataModule",
    "TensorDataModule",
    "grid_centers",
    "ring_centers",
]
