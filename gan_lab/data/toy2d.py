"""2D Gaussian mixtures with known modes: the ring of 8 and the grid of 25.

These are the mode-collapse benchmarks of VEEGAN (Srivastava et al. 2017)
and PacGAN (Lin et al. 2018): a ring of 8 Gaussians on a circle of radius 1
with std 0.01, and a grid of 25 Gaussians at {-4, -2, 0, 2, 4}^2 with std
0.05.  Because every mode is known, a generator's mode coverage can be
counted exactly (see :func:`gan_lab.metrics.mode_coverage`).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from gan_lab.data.base import TensorDataModule, check_positive
from gan_lab.errors import ConfigError


def ring_centers(num_modes: int = 8, radius: float = 1.0) -> list[list[float]]:
    """``num_modes`` points evenly spaced on a circle of ``radius``, the first on the x axis."""
    angles = [2 * math.pi * k / num_modes for k in range(num_modes)]
    return [[radius * math.cos(a), radius * math.sin(a)] for a in angles]


def grid_centers(side: int = 5, spacing: float = 2.0) -> list[list[float]]:
    """A ``side`` x ``side`` grid centred on the origin, e.g. {-4, -2, 0, 2, 4}^2."""
    offset = (side - 1) / 2
    coords = [(i - offset) * spacing for i in range(side)]
    return [[x, y] for x in coords for y in coords]


class GaussianMixtureDataModule(TensorDataModule):
    """Equal-weight isotropic Gaussians at ``centers`` with a shared ``std``.

    Labels are the index of the component each point was drawn from.  The
    sample set is drawn once from ``data_seed``, so every run sees the same data.
    """

    shape = (2,)

    def __init__(
        self,
        centers: Sequence[Sequence[float]],
        std: float,
        dataset_size: int = 50_000,
        data_seed: int = 0,
        name: str = "gaussian_mixture",
        **loader_kwargs,
    ) -> None:
        super().__init__(**loader_kwargs)
        self.centers = torch.tensor([list(map(float, c)) for c in centers], dtype=torch.float32)
        if self.centers.ndim != 2 or self.centers.shape[1] != 2 or len(self.centers) == 0:
            raise ConfigError(f"data.centers must be a non-empty list of [x, y] pairs, got shape {tuple(self.centers.shape)}.")
        check_positive("data.std", std)
        check_positive("data.dataset_size", dataset_size)
        self.std = float(std)
        self.dataset_size = int(dataset_size)
        self.data_seed = int(data_seed)
        self.num_classes = len(self.centers)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def load(self) -> tuple[Tensor, Tensor]:
        g = torch.Generator().manual_seed(self.data_seed)
        labels = torch.randint(self.num_classes, (self.dataset_size,), generator=g)
        noise = torch.randn(self.dataset_size, 2, generator=g) * self.std
        return self.centers[labels] + noise, labels


class PointSetDataModule(TensorDataModule):
    """Any set of 2D points as the data (GAN Lab's "draw your own" distribution).

    The points are the data set itself: ``passes_per_epoch`` shuffled passes make an epoch, as for the digits,
    and a batch larger than the training split is shrunk to it.  There are no known modes, so mode counts do
    not apply; the playground's JS by grid compares with the points' own histogram.
    """

    shape = (2,)

    def __init__(self, points, batch_size: int = 256, passes_per_epoch: int = 10, **loader_kwargs) -> None:
        self.points = torch.as_tensor(points, dtype=torch.float32)
        if self.points.ndim != 2 or self.points.shape[1] != 2 or len(self.points) < 4:
            raise ConfigError(f"the points must be an (N, 2) array with N >= 4, got shape {tuple(self.points.shape)}.")
        super().__init__(batch_size=batch_size, passes_per_epoch=passes_per_epoch, **loader_kwargs)
        self.batch_size = min(self.batch_size, len(self.points) - self.validation_size(len(self.points)))
        self.num_classes = 1

    @property
    def name(self) -> str:
        return "points"

    def load(self) -> tuple[Tensor, Tensor]:
        return self.points, torch.zeros(len(self.points), dtype=torch.long)
