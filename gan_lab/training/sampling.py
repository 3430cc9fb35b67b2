"""Drawing samples from a GAN: the part of ``GANModule`` that training, evaluation, notebooks and ``gan-lab-eval`` share.

G's inputs are drawn in one place, :meth:`GeneratorSampling.sample_inputs`, and
G is called in one place, :meth:`GeneratorSampling.generate_from`: a
conditional variant overrides the first (noise plus a label or a code) and
everything that draws samples follows.  A class using this mixin has
``generator``, ``generator_ema`` (``None`` or a
``torch.optim.swa_utils.AveragedModel``), ``latent_dim`` and ``device``.

Conditional variants also say what their conditions mean to the evaluation
(:attr:`GeneratorSampling.condition_values`, :meth:`~GeneratorSampling.condition_value`,
:meth:`~GeneratorSampling.condition_for`): which class or code value a sample
was asked for, and how to ask for one (the by-class sample grid, the game view).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn


class GeneratorInputs(NamedTuple):
    """What G is given: noise and, for a conditional variant, a condition."""

    z: Tensor  # (N, latent_dim)
    condition: Tensor | None  # (N,) class labels, (N, c) codes, or None (unconditional)


class GeneratorSampling:
    """Latent inputs and samples, with fixed seeds where comparisons need them."""

    #: How many discrete values the condition takes (classes, or InfoGAN's categorical code): ``None`` if unconditional.
    condition_values: int | None = None
    #: ``"class"``: a condition asks for a class of the data (cGAN, ACGAN; evaluated by class accuracy);
    #: ``"code"``: an unsupervised latent code (InfoGAN; evaluated by how well it determines the class).
    condition_kind: str | None = None

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

    def sample_inputs(self, n: int, generator: torch.Generator | None = None) -> GeneratorInputs:
        """G's inputs for ``n`` samples; unconditional: noise alone.  Seeded by ``generator`` as :meth:`sample_latent`."""
        return GeneratorInputs(self.sample_latent(n, generator), None)

    def generate_from(self, network: nn.Module, inputs: GeneratorInputs) -> Tensor:
        """``network(z)``, or ``network(z, condition)`` for a conditional variant: the one place G is called."""
        if inputs.condition is None:
            return network(inputs.z)
        return network(inputs.z, inputs.condition)

    def condition_value(self, condition: Tensor) -> Tensor:
        """The discrete value ``(N,)`` of each condition (its class, or its categorical code)."""
        raise NotImplementedError(f"{type(self).__name__} is not conditional.")

    def condition_for(self, values: Tensor) -> Tensor:
        """The condition that asks for each of ``values`` ``(N,)`` (other code parts at their centre)."""
        raise NotImplementedError(f"{type(self).__name__} is not conditional.")

    @torch.no_grad()
    def generate(self, n: int, seed: int = 0, batch_size: int = 1024, values: Tensor | None = None) -> Tensor:
        """``n`` samples from inputs drawn with ``seed``: the same seed gives the same samples.

        ``values`` ``(n,)``: ask a conditional model for these classes (or code values).  The generator
        runs in eval mode, so batch-norm layers use their running statistics and a sample does not depend
        on the others in its batch.
        """
        inputs = self.sample_inputs(n, torch.Generator().manual_seed(seed))
        if values is not None:
            inputs = GeneratorInputs(inputs.z, self.condition_for(values.to(self.device)))
        generator = self.sampling_generator
        was_training = generator.training
        generator.eval()
        try:
            return torch.cat([self.generate_from(generator, chunk) for chunk in split_inputs(inputs, batch_size)])
        finally:
            generator.train(was_training)

    def forward(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        return self.generate_from(self.sampling_generator, GeneratorInputs(z, condition))


def split_inputs(inputs: GeneratorInputs, size: int) -> list[GeneratorInputs]:
    """``inputs`` in chunks of ``size`` samples (the last may be shorter)."""
    zs = inputs.z.split(size)
    if inputs.condition is None:
        return [GeneratorInputs(z, None) for z in zs]
    return [GeneratorInputs(z, c) for z, c in zip(zs, inputs.condition.split(size))]
