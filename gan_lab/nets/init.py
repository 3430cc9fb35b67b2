"""Weight initialisation and spectral normalisation, shared by the networks that follow a paper's recipe."""

from __future__ import annotations

from torch import nn

from gan_lab.errors import ConfigError


def normal_init_(module: nn.Module, std: float) -> nn.Module:
    """Weights of every linear and convolution layer of ``module`` to N(0, std^2), their biases to 0.

    The recipe of DCGAN (Radford et al. 2016) and of PacGAN's 2D networks (std 0.02).
    Normalisation layers keep their own initialisation (scale 1, shift 0); the
    minibatch discrimination tensor keeps its own (see its module).
    """
    if not std > 0:
        raise ConfigError(f"init_std must be positive (or null for PyTorch's default), got {std!r}.")
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) on every convolution and linear layer of ``module``.

    Uses torch's parametrisation (one power iteration per training forward).
    The minibatch discrimination tensor is left alone: it is a distance
    projection, not a layer whose gain needs bounding.
    """
    for layer in list(module.modules()):
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(layer)
    return module
