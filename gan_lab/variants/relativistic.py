"""Relativistic average GAN (Jolicoeur-Martineau 2018, "The relativistic discriminator: a key element
missing from standard GAN", RaSGAN: the standard BCE form of section 4.2 / Algorithm 2).

The discriminator judges whether a real sample is *more realistic than the average fake*, and a fake
less realistic than the average real one.  With ``C`` the raw output (the logit), ``sigma`` the
sigmoid, and means over each batch:

    D_real = sigma(C(x_r) - E_f[C(x_f)])        D_fake = sigma(C(x_f) - E_r[C(x_r)])
    loss_D = -E_r[log D_real] - E_f[log(1 - D_fake)]
           = E_r[softplus(-(C(x_r) - E_f C(x_f)))] + E_f[softplus(C(x_f) - E_r C(x_r))]
    loss_G = -E_f[log D_fake] - E_r[log(1 - D_real)]
           = E_f[softplus(-(C(x_f) - E_r C(x_r)))] + E_r[softplus(C(x_r) - E_f C(x_f))]

The generator's loss is the discriminator's with real and fake swapped, so it needs the real batch's
logits too: ``configs/loss/relativistic_average.yaml`` sets ``generator_needs_real: true``, and the
generator step then runs D on the real batch as well (no gradient reaches D or the data through them;
gradients reach G through ``C(x_f)`` in both terms, unlike the standard loss where the real term drops
out).
"""

import torch.nn.functional as F
from torch import Tensor


def relativistic_average_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    real_vs_fake = real_logits - fake_logits.mean()  # (B,)
    fake_vs_real = fake_logits - real_logits.mean()  # (B,)
    return F.softplus(-real_vs_fake).mean() + F.softplus(fake_vs_real).mean()


def relativistic_average_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return relativistic_average_discriminator_loss(fake_logits, real_logits)  # the same game, roles swapped
