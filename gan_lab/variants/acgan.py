"""ACGAN: the auxiliary classifier GAN (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with
Auxiliary Classifier GANs", eq. 2-3).

The generator is told a class, ``G(z, c)``; the discriminator does not see
it, but besides its real/fake logit it predicts the class of every sample
from the same features.  With ``L_C = E[log P(C = c | x)]`` over real and
generated samples, D maximises ``L_S + L_C`` and G maximises ``L_C - L_S``: both
players want the class to be recognisable, so G learns to draw the class it
is asked for.  Here ``L_S`` is the run's loss (any of ``configs/loss/``) and
the class terms are added as cross-entropies:

    D: + w [CE(class(x), y) + CE(class(G(z, c)), c)]        G: + w CE(class(G(z, c)), c)

logged as ``train/class_loss_d`` and ``train/class_loss_g``.
"""

from __future__ import annotations

from torch import Tensor, nn

from gan_lab.training.module import Judgement
from gan_lab.variants.conditioning import LabelConditionalGAN, class_cross_entropy, shared_features


class AuxiliaryClassifierDiscriminator(nn.Module):
    """``x -> (logits (N,), class_logits (N, K))``: one of gan_lab's discriminators plus a linear class head."""

    def __init__(self, discriminator: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.body = discriminator
        self.input_shape = tuple(discriminator.input_shape)
        self.classify = nn.Linear(shared_features(discriminator), int(num_classes))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features = self.body.feature_vector(x)  # (N, A)
        return self.body.head(features), self.classify(features)


class ACGAN(LabelConditionalGAN):
    """``G(z, c)`` against ``D(x) -> (real/fake, class)``; both players add the class cross-entropy.

    Args (besides :class:`~gan_lab.variants.conditioning.LabelConditionalGAN`'s):
        class_loss_weight: w, the class terms' weight (the paper: 1).
    """

    def __init__(self, generator, discriminator: nn.Module, *args, num_classes: int,
                 class_loss_weight: float = 1.0, **kwargs) -> None:
        super().__init__(generator, AuxiliaryClassifierDiscriminator(discriminator, num_classes), *args,
                         num_classes=num_classes, **kwargs)
        self.class_loss_weight = float(class_loss_weight)

    def discriminator_terms(self, real: Judgement, fake: Judgement) -> dict[str, Tensor]:
        (real_classes,), (fake_classes,) = real.extras, fake.extras
        loss = class_cross_entropy(real_classes, real.condition) + class_cross_entropy(fake_classes, fake.condition)
        return {"train/class_loss_d": self.class_loss_weight * loss}

    def generator_terms(self, fake: Judgement, real: Judgement | None) -> dict[str, Tensor]:
        (fake_classes,) = fake.extras
        return {"train/class_loss_g": self.class_loss_weight * class_cross_entropy(fake_classes, fake.condition)}
