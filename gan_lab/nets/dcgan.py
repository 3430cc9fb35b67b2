"""DCGAN-style convolutional generator and discriminator (Radford et al. 2016).

Both are parameterised by image size and channels.  The generator starts
from a small ``base_size x base_size`` map and doubles it with strided
transposed convolutions until it reaches ``image_size``; the discriminator
mirrors it.  ``image_size`` must be even and at least 8, and is halved while
the result stays >= 4: 8 -> 4 (1 doubling), 28 -> 7 (2), 32 -> 4 (3), 64 -> 4 (4).
"""

from __future__ import annotations

from typing import Mapping

from torch import Tensor, nn

from gan_lab.errors import ConfigError
from gan_lab.nets.dropout import Dropout
from gan_lab.nets.heads import LogitHead
from gan_lab.nets.init import apply_spectral_norm


def upsampling_plan(image_size: int) -> tuple[int, int]:
    """Return ``(base_size, num_doublings)`` with ``base_size * 2**num_doublings == image_size``."""
    if image_size < 8 or image_size % 2:
        raise ConfigError(f"DCGAN image_size must be even and >= 8, got {image_size}.")
    size, doublings = image_size, 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        doublings += 1
    return size, doublings


class DCGANGenerator(nn.Module):
    """``z (N, latent_dim) -> images (N, channels, image_size, image_size)`` in [-1, 1]."""

    def __init__(self, latent_dim: int, image_size: int, channels: int, base_width: int = 64) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.output_shape = (int(channels), int(image_size), int(image_size))
        self.base_size, doublings = upsampling_plan(int(image_size))
        widths = [base_width * 2 ** (doublings - i) for i in range(doublings + 1)]  # e.g. [256, 128, 64]
        self.project = nn.Sequential(
            nn.Linear(self.latent_dim, widths[0] * self.base_size**2, bias=False),
            nn.BatchNorm1d(widths[0] * self.base_size**2),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        for w_in, w_out in zip(widths, widths[1:]):
            blocks += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(w_out), nn.ReLU()]
        self.upsample = nn.Sequential(*blocks)
        self.to_image = nn.Sequential(nn.Conv2d(widths[-1], channels, 3, padding=1), nn.Tanh())
        self._first_width = widths[0]

    def forward(self, z: Tensor) -> Tensor:
        x = self.project(z).view(len(z), self._first_width, self.base_size, self.base_size)
        return self.to_image(self.upsample(x))


class DCGANDiscriminator(nn.Module):
    """``images (N, channels, image_size, image_size) -> logits (N,)``.

    No batch normalisation: a discriminator's output for one sample should not
    depend on the rest of its batch (that is what minibatch discrimination
    does, explicitly), and gradient penalties (WGAN-GP) need per-sample
    gradients.  ``dropout`` helps on small data sets such as the 1,797 digits,
    where a discriminator otherwise memorises the training set.
    ``spectral_norm`` divides each convolution and linear weight by its
    largest singular value (Miyato et al. 2018), bounding D's Lipschitz constant.
    """

    def __init__(
        self,
        image_size: int,
        channels: int,
        base_width: int = 64,
        dropout: float = 0.0,
        minibatch: Mapping[str, int] | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = (int(channels), int(image_size), int(image_size))
        base_size, doublings = upsampling_plan(int(image_size))
        widths = [base_width * 2**i for i in range(doublings + 1)]  # e.g. [64, 128, 256]
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2)]
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(w_in, w_out, 4, stride=2, padding=1), nn.LeakyReLU(0.2), Dropout(dropout)]
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        self.num_features = widths[-1] * base_size**2
        self.head = LogitHead(self.num_features, minibatch)
        if spectral_norm:
            apply_spectral_norm(self)

    def feature_vector(self, x: Tensor) -> Tensor:
        """What the head sees, ``(N, num_features)``: a variant's extra heads (ACGAN, InfoGAN, projection) share it."""
        return self.features(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.feature_vector(x))


__all__ = ["DCGANDiscriminator", "DCGANGenerator", "apply_spectral_norm", "upsampling_plan"]
