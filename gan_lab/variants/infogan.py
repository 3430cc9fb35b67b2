"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information Maximizing
Generative Adversarial Nets", eq. 5-6).

Part of G's input is a *code* ``c``: here one categorical variable with
``num_codes`` values (uniform) and ``num_continuous`` variables uniform on
[-1, 1].  Nothing tells the game what the code should mean; InfoGAN only asks
that it stay recoverable from the sample, maximising a lower bound of the
mutual information ``I(c; G(z, c))`` through an auxiliary distribution
``Q(c | x)`` that shares D's features:

    L_I = E_{c, x ~ G(z, c)}[log Q(c | x)]
        = -[CE(Q_cat(x), c_cat) + 1/2 ||Q_cont(x) - c_cont||^2] + const   (a unit-variance Gaussian for c_cont)

``lambda * (-L_I)`` is added to both players' losses (D's, which trains the Q head, and G's),
logged as ``train/info_loss_d`` and ``train/info_loss_g``.  On the digits, with as many code values as
classes, the categorical code comes to pick the digit although no label is ever used: the evaluation's
``metrics/code_class_agreement`` measures how far.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.errors import ConfigError
from gan_lab.training.module import GANModule, Judgement
from gan_lab.training.sampling import GeneratorInputs
from gan_lab.variants.conditioning import check_conditional_settings, conditioned_generator, shared_features


class InfoGANDiscriminator(nn.Module):
    """``x -> (logits (N,), code_logits (N, K), continuous_means (N, n))``: D plus the Q head on its features."""

    def __init__(self, discriminator: nn.Module, num_codes: int, num_continuous: int, hidden: int = 128) -> None:
        super().__init__()
        self.body = discriminator
        self.input_shape = tuple(discriminator.input_shape)
        self.num_codes = int(num_codes)
        self.q = nn.Sequential(nn.Linear(shared_features(discriminator), hidden), nn.LeakyReLU(0.2),
                               nn.Linear(hidden, self.num_codes + int(num_continuous)))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        features = self.body.feature_vector(x)  # (N, A)
        q = self.q(features)  # (N, K + n)
        return self.body.head(features), q[:, : self.num_codes], q[:, self.num_codes:]


class InfoGAN(GANModule):
    """``G(z, c)`` with a latent code c that Q recovers from the sample; no labels are used.

    Args (besides :class:`GANModule`'s):
        num_codes: values of the categorical code (``${data_classes:}``: as many as the data has classes).
        num_continuous: continuous codes, uniform on [-1, 1] (the paper's digits: 2; 0: none).
        info_weight: lambda, the mutual-information term's weight (the paper: 1).
    """

    condition_kind = "code"

    def __init__(self, generator, discriminator: nn.Module, *args, num_codes: int, num_continuous: int = 0,
                 info_weight: float = 1.0, **kwargs) -> None:
        if int(num_codes) < 2 or int(num_continuous) < 0:
            raise ConfigError(f"InfoGAN needs num_codes >= 2 and num_continuous >= 0, got {num_codes}, {num_continuous}.")
        codes, continuous = int(num_codes), int(num_continuous)
        super().__init__(conditioned_generator(generator, codes + continuous),
                         InfoGANDiscriminator(discriminator, codes, continuous), *args, **kwargs)
        check_conditional_settings(self)
        self.num_codes, self.num_continuous, self.info_weight = codes, continuous, float(info_weight)
        self.condition_values = codes

    def sample_inputs(self, n: int, generator: torch.Generator | None = None) -> GeneratorInputs:
        z = self.sample_latent(n, generator)
        device = None if generator is not None else self.device  # seeded draws on the CPU, then moved
        codes = torch.randint(self.num_codes, (n,), generator=generator, device=device)
        continuous = torch.rand(n, self.num_continuous, generator=generator, device=device) * 2 - 1
        return GeneratorInputs(z, self.code_vector(codes.to(self.device), continuous.to(self.device)))

    def code_vector(self, codes: Tensor, continuous: Tensor) -> Tensor:
        """The condition ``(N, K + n)``: the categorical code one-hot, then the continuous codes."""
        return torch.cat([F.one_hot(codes, self.num_codes).float(), continuous], dim=1)

    def condition_value(self, condition: Tensor) -> Tensor:
        return condition[:, : self.num_codes].argmax(dim=1)

    def condition_for(self, values: Tensor) -> Tensor:
        return self.code_vector(values.long(), torch.zeros(len(values), self.num_continuous, device=values.device))

    def information_loss(self, fake: Judgement) -> Tensor:
        """``-L_I`` up to a constant: how badly Q recovers the code of each fake."""
        code_logits, continuous_means = fake.extras
        loss = F.cross_entropy(code_logits, self.condition_value(fake.condition))
        if self.num_continuous:
            loss = loss + 0.5 * (continuous_means - fake.condition[:, self.num_codes:]).pow(2).sum(1).mean()
        return self.info_weight * loss

    def discriminator_terms(self, real: Judgement, fake: Judgement) -> dict[str, Tensor]:
        return {"train/info_loss_d": self.information_loss(fake)}

    def generator_terms(self, fake: Judgement, real: Judgement | None) -> dict[str, Tensor]:
        return {"train/info_loss_g": self.information_loss(fake)}
