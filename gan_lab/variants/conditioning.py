"""What the conditional variants share: a generator that takes a condition, and a GAN conditioned on labels.

A conditional generator is any network called as ``G(z, condition)``.  The
shipped networks are unconditional, so :class:`ConditionedGenerator` turns one
into a conditional one the simplest way (Mirza & Osindero 2014): encode the
condition (a learned label embedding, or a code as it is), concatenate it with
the noise, and feed the result to the network built with a wider input.  The
model configs ask Hydra for the net group's network as a factory
(``generator: "${network:generator,{_partial_: true}}"``), so the variant can widen it without a second config.

:class:`LabelConditionalGAN` is the base of cGAN (:mod:`gan_lab.variants.cgan`)
and ACGAN (:mod:`gan_lab.variants.acgan`): fakes are asked for classes drawn
from the training data's class frequencies, real batches carry their labels.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.errors import ConfigError
from gan_lab.training.module import GANModule
from gan_lab.training.sampling import GeneratorInputs

NetworkOrFactory = nn.Module | Callable[..., nn.Module]


class ConditionedGenerator(nn.Module):
    """``G(z, c) = net([z, encode(c)])``: an unconditional network fed the noise and the encoded condition.

    Args:
        net: the network, whose ``latent_dim`` is ``latent_dim`` plus the encoding's width.
        latent_dim: the noise's size (the generator's ``latent_dim``, as the module draws it).
        encode: maps a condition to ``(N, width)`` floats, e.g. an ``nn.Embedding`` of labels;
            ``None`` takes the condition as it is (InfoGAN's codes are already vectors).
    """

    def __init__(self, net: nn.Module, latent_dim: int, encode: nn.Module | None = None) -> None:
        super().__init__()
        self.net, self.encode = net, encode
        self.latent_dim, self.output_shape = int(latent_dim), tuple(net.output_shape)

    def forward(self, z: Tensor, condition: Tensor) -> Tensor:
        code = condition if self.encode is None else self.encode(condition)  # (N, width)
        return self.net(torch.cat([z, code], dim=1))


def conditioned_generator(generator: NetworkOrFactory, width: int, encode: nn.Module | None = None) -> nn.Module:
    """A conditional generator: ``generator`` itself if it is a network (your own, taking ``(z, c)``), else
    the factory's network with ``width`` more inputs, wrapped in a :class:`ConditionedGenerator`."""
    if isinstance(generator, nn.Module):
        return generator
    latent_dim = getattr(generator, "keywords", {}).get("latent_dim")
    if latent_dim is None:
        raise ConfigError("A conditional variant builds its generator from a factory with a latent_dim "
                          "(generator: \"${network:generator,{_partial_: true}}\", as configs/model/cgan.yaml sets).")
    return ConditionedGenerator(generator(latent_dim=int(latent_dim) + width), int(latent_dim), encode)


def check_conditional_settings(module: GANModule) -> None:
    """A condition is one per sample: PacGAN's packs of several samples have no single one."""
    if module.pack != 1:
        raise ConfigError(f"{type(module).__name__} judges single samples: model.pack must be 1, got {module.pack}.")


def shared_features(discriminator: nn.Module) -> int:
    """The width of the features a discriminator's head sees (its ``num_features``), for a variant's extra head."""
    if not hasattr(discriminator, "feature_vector") or not hasattr(discriminator, "num_features"):
        raise ConfigError(f"{type(discriminator).__name__} has no feature_vector(x) / num_features: a variant's extra "
                          "head needs the features D's logit is computed from (gan_lab.nets' discriminators have them).")
    return int(discriminator.num_features)


class LabelConditionalGAN(GANModule):
    """A GAN whose generator is asked for a class: ``G(z, y)``, with y drawn from the data's class frequencies.

    Args (besides :class:`GANModule`'s):
        num_classes: how many classes the labels range over (``${data_classes:}`` in the configs).
        embedding_dim: width of the learned label embedding concatenated with the noise.
    """

    condition_kind = "class"

    def __init__(self, generator: NetworkOrFactory, discriminator: nn.Module, *args, num_classes: int,
                 embedding_dim: int = 16, **kwargs) -> None:
        if int(num_classes) < 2 or int(embedding_dim) < 1:
            raise ConfigError(f"A conditional GAN needs num_classes >= 2 and embedding_dim >= 1, got {num_classes} "
                              f"and {embedding_dim} (the data set must have labels: data.num_classes).")
        generator = conditioned_generator(generator, int(embedding_dim), nn.Embedding(int(num_classes), int(embedding_dim)))
        super().__init__(generator, discriminator, *args, **kwargs)
        check_conditional_settings(self)
        self.condition_values = int(num_classes)
        # The classes fakes are asked for: the training labels' frequencies (set in setup; kept in checkpoints,
        # so gan-lab-eval draws the same classes without the data).
        self.register_buffer("class_frequencies", torch.full((self.condition_values,), 1.0 / self.condition_values))

    def setup(self, stage: str) -> None:
        super().setup(stage)
        labels = self.trainer.datamodule.train_set.tensors[1]
        counts = torch.bincount(labels.long(), minlength=self.condition_values)
        if len(counts) != self.condition_values:
            raise ConfigError(f"The data's labels reach {len(counts) - 1}, but num_classes={self.condition_values}.")
        self.class_frequencies.copy_(counts.double().div(counts.sum()).float())

    def sample_inputs(self, n: int, generator: torch.Generator | None = None) -> GeneratorInputs:
        z = self.sample_latent(n, generator)
        if generator is None:  # training: on the device
            labels = torch.multinomial(self.class_frequencies, n, replacement=True)
        else:  # evaluation: from the evaluation's own seeded generator, on the CPU, then moved
            labels = torch.multinomial(self.class_frequencies.cpu(), n, replacement=True, generator=generator)
        return GeneratorInputs(z, labels.to(self.device))

    def real_condition(self, labels: Tensor) -> Tensor:
        return labels

    def condition_value(self, condition: Tensor) -> Tensor:
        return condition

    def condition_for(self, values: Tensor) -> Tensor:
        return values.long()


def class_cross_entropy(class_logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy of predicted class logits ``(N, K)`` against labels ``(N,)``."""
    return F.cross_entropy(class_logits, labels.long())
