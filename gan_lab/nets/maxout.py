"""Maxout networks (Goodfellow et al. 2013, "Maxout Networks"): the discriminator of PacGAN's 2D experiments.

A maxout layer computes ``pieces`` affine maps of its input and keeps, for
each of its ``width`` units, the largest: ``h_u = max_k (W_k x + b_k)_u``.
It is a learned piecewise-linear activation; GAN (Goodfellow et al. 2014),
VEEGAN and PacGAN (Lin et al. 2018) used maxout discriminators on their
small data sets.  PacGAN's 2D discriminator is three maxout layers of 200
units with 5 pieces each, then a linear layer to one logit
(``configs/net/pacgan_mlp.yaml``; the protocol is in ``experiments/pacgan_table1/``).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch
from torch import Tensor, nn

from gan_lab.errors import ConfigError
from gan_lab.nets.heads import LogitHead
from gan_lab.nets.init import apply_spectral_norm, normal_init_


class Maxout(nn.Module):
    """``(N, in_features) -> (N, width)``: the largest of ``pieces`` affine maps, unit by unit."""

    def __init__(self, in_features: int, width: int, pieces: int) -> None:
        super().__init__()
        if pieces < 1 or width < 1:
            raise ConfigError(f"Maxout needs width >= 1 and pieces >= 1, got {width} and {pieces}.")
        self.width, self.pieces = int(width), int(pieces)
        self.linear = nn.Linear(in_features, self.width * self.pieces)  # one product for all pieces

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).view(len(x), self.width, self.pieces).amax(dim=2)  # (N, width, pieces) -> (N, width)


class MaxoutDiscriminator(nn.Module):
    """``x (N, *input_shape) -> logits (N,)`` through maxout layers of ``hidden_dims`` units.

    Args:
        input_shape: the shape of what D judges (a sample, or a PacGAN pack of m samples).
        hidden_dims: units per maxout layer, e.g. PacGAN's ``[200, 200, 200]``.
        pieces: affine pieces per unit (PacGAN: 5).
        minibatch: optional minibatch discrimination before the logit (see :class:`LogitHead`).
        init_std: if set, weights start as N(0, init_std^2) and biases at 0 (PacGAN: 0.02);
            ``None`` keeps PyTorch's default initialisation.
        spectral_norm: divide each linear weight by its largest singular value (Miyato et al. 2018).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden_dims: Sequence[int] = (200, 200, 200),
        pieces: int = 5,
        minibatch: Mapping[str, int] | None = None,
        init_std: float | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        layers, width = [], math.prod(self.input_shape)
        for units in hidden_dims:
            layers.append(Maxout(width, units, pieces))
            width = units
        self.features = nn.Sequential(*layers)
        self.num_features = width
        self.head = LogitHead(width, minibatch)
        if init_std is not None:
            normal_init_(self, init_std)
        if spectral_norm:
            apply_spectral_norm(self)

    def feature_vector(self, x: Tensor) -> Tensor:
        """What the head sees, ``(N, num_features)``: a variant's extra heads (ACGAN, InfoGAN, projection) share it."""
        return self.features(torch.flatten(x, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.feature_vector(x))
