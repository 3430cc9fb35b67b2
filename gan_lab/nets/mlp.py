"""Fully connected generator and discriminator, for 2D points and small images.

On 8x8 digits the fully connected pair reaches a higher Inception Score than
the DCGAN pair of :mod:`gan_lab.nets.dcgan` at the same wall time
(experiments/default_run/README.md), so ``configs/net/mlp_image.yaml`` is what
``data=digits`` trains; 64 pixels are few enough to see all at once.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch
from torch import Tensor, nn

from gan_lab.errors import ConfigError
from gan_lab.nets.dropout import Dropout
from gan_lab.nets.heads import LogitHead
from gan_lab.nets.init import apply_spectral_norm, normal_init_


def _hidden_stack(
    in_features: int, hidden_dims: Sequence[int], activation: nn.Module, dropout: float = 0.0, batch_norm: bool = False,
    batch_norm_momentum: float = 0.1,
) -> tuple[nn.Sequential, int]:
    """Linear layers of ``hidden_dims`` widths, each followed by batch norm (if asked), ``activation`` and dropout.

    With batch norm the linear layers have no bias: the norm's shift replaces it.
    """
    layers: list[nn.Module] = []
    for width in hidden_dims:
        layers.append(nn.Linear(in_features, width, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width, momentum=batch_norm_momentum))
        layers.append(activation)
        if dropout:
            layers.append(Dropout(dropout))
        in_features = width
    return nn.Sequential(*layers), in_features


class MLPGenerator(nn.Module):
    """``z (N, latent_dim) -> x (N, *output_shape)`` through ReLU hidden layers.

    ``output_activation="tanh"`` bounds images to [-1, 1]; 2D mixtures (whose
    modes lie at up to +-4) use a linear output.  ``batch_norm`` normalises
    each hidden layer before its ReLU (PacGAN's 2D generator), its running
    statistics kept as ``(1 - m) old + m new`` with ``m = batch_norm_momentum``;
    ``init_std`` starts weights as N(0, init_std^2) and biases at 0 (``None``:
    PyTorch's default).
    """

    def __init__(
        self,
        latent_dim: int,
        output_shape: Sequence[int],
        hidden_dims: Sequence[int] = (256, 256),
        output_activation: str | None = None,
        batch_norm: bool = False,
        batch_norm_momentum: float = 0.1,
        init_std: float | None = None,
    ) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.output_shape = tuple(int(s) for s in output_shape)
        body, width = _hidden_stack(self.latent_dim, hidden_dims, nn.ReLU(), batch_norm=batch_norm,
                                    batch_norm_momentum=batch_norm_momentum)
        activations = {None: nn.Identity(), "tanh": nn.Tanh()}
        if output_activation not in activations:
            raise ConfigError(f"Unknown output_activation {output_activation!r}; valid: {list(activations)}.")
        self.net = nn.Sequential(body, nn.Linear(width, math.prod(self.output_shape)), activations[output_activation])
        if init_std is not None:
            normal_init_(self, init_std)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(len(z), *self.output_shape)


class MLPDiscriminator(nn.Module):
    """``x (N, *input_shape) -> logits (N,)`` through LeakyReLU hidden layers.

    ``dropout`` after each hidden layer keeps D from memorising a small
    training set (on the digits it made the generator's classes more even:
    experiments/default_run/README.md).  ``spectral_norm`` divides each linear
    weight by its largest singular value (Miyato et al. 2018).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden_dims: Sequence[int] = (256, 256),
        minibatch: Mapping[str, int] | None = None,
        dropout: float = 0.0,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"MLPDiscriminator dropout must be in [0, 1), got {dropout!r}.")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.features, self.num_features = _hidden_stack(math.prod(self.input_shape), hidden_dims,
                                                         nn.LeakyReLU(0.2), dropout)
        self.head = LogitHead(self.num_features, minibatch)
        if spectral_norm:
            apply_spectral_norm(self)

    def feature_vector(self, x: Tensor) -> Tensor:
        """What the head sees, ``(N, num_features)``: a variant's extra heads (ACGAN, InfoGAN, projection) share it."""
        return self.features(torch.flatten(x, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.feature_vector(x))
