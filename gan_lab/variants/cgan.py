"""Conditional GAN with a projection discriminator (Mirza & Osindero 2014; Miyato & Koyama 2018).

The generator is told which class to draw, ``G(z, y)`` (a label embedding
concatenated with the noise: :class:`~gan_lab.variants.conditioning.ConditionedGenerator`),
and the discriminator judges a sample *as a member of its class*.  The
projection discriminator does that with one inner product on D's features
``phi(x)`` (Miyato & Koyama 2018, eq. 3):

    D(x, y) = psi(phi(x)) + <embed(y), phi(x)>

where ``psi`` is D's own logit head.  The inner product is the log-ratio
``log p(y|x) - log q(y|x)`` of a softmax classifier, which the paper shows is
what the optimal conditional D computes; concatenating y to D's input instead
works less well.  Any loss applies unchanged (``configs/model/cgan.yaml``;
the paper pairs it with the hinge loss and spectral normalisation).
"""

from __future__ import annotations

from torch import Tensor, nn

from gan_lab.variants.conditioning import LabelConditionalGAN, shared_features


class ProjectionDiscriminator(nn.Module):
    """``D(x, y) = head(phi(x)) + <embed(y), phi(x)>`` around one of gan_lab's discriminators."""

    def __init__(self, discriminator: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.body = discriminator
        self.input_shape = tuple(discriminator.input_shape)
        self.embed = nn.Embedding(int(num_classes), shared_features(discriminator))
        nn.init.zeros_(self.embed.weight)  # start as the unconditional D; the classes are learned from there

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        features = self.body.feature_vector(x)  # (N, A)
        return self.body.head(features) + (self.embed(labels) * features).sum(dim=1)  # (N,)


class ConditionalGAN(LabelConditionalGAN):
    """cGAN: ``G(z, y)`` against a projection discriminator ``D(x, y)``; no loss term beyond the game's."""

    discriminator_is_conditional = True

    def __init__(self, generator, discriminator: nn.Module, *args, num_classes: int, **kwargs) -> None:
        super().__init__(generator, ProjectionDiscriminator(discriminator, num_classes), *args,
                         num_classes=num_classes, **kwargs)
