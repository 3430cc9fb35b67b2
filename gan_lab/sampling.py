"""Drawing samples from a trained GAN: the part of ``GANModule`` that evaluation, notebooks and ``gan-lab-eval`` use.

Kept apart from the training logic (:mod:`gan_lab.module`) so each reads on
its own.  A class using this mixin has ``generator``, ``generator_ema``
(``None`` or a ``torch.optim.swa_utils.AveragedModel``), ``latent_dim`` and
``device``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GeneratorSampling:
    """Latent noise and samples, with fixed seeds where comparisons need them."""

    @property
    def sampling_generator(self) -> nn.Module:
        """The network samples are drawn from: the weight average if ``ema_decay`` is set, else the generator."""
        return self.generator if self.generator_ema is None else self.generator_ema.module

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Standard normal noise ``(n, latent_dim)`` on the module's device.

        With a (CPU) ``generator`` the noise is drawn on the CPU and moved, so a seed gives the same
        noise on every device; without one (training) it is drawn on the device itself.
        """
        if generator is None:
            return torch.randn(n, self.latent_dim, device=self.device)
        return torch.randn(n, self.latent_dim, generator=generator).to(self.device)

    @torch.no_grad()
    def generate(self, n: int, seed: int = 0, batch_size: int = 1024) -> Tensor:
        """``n`` samples from noise drawn with ``seed``: the same seed gives the same samples.

        The generator runs in eval mode, so batch-norm layers use their running
        statistics and a sample does not depend on the others in its batch.
        """
        z = self.sample_latent(n, torch.Generator().manual_seed(seed))
        generator = self.sampling_generator
        was_training = generator.training
        generator.eval()
        try:
            return torch.cat([generator(chunk) for chunk in z.split(batch_size)])
        finally:
            generator.train(was_training)

    def forward(self, z: Tensor) -> Tensor:
        return self.sampling_generator(z)
