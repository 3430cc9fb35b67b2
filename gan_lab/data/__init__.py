"""Data modules: 2D Gaussian mixtures, embedded digits, and torchvision data sets."""

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
