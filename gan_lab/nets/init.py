"""Weight initialisation shared by the networks that follow a paper's recipe."""

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
