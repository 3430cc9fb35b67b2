"""Least-squares GAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks", eq. 2).

The discriminator's raw output ``D(x)`` (the logit, no sigmoid) is regressed
towards 1 for real and 0 for generated samples; the generator pushes its
samples' outputs towards 1:

    loss_D = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]
    loss_G = 1/2 E[(D(G(z)) - 1)^2]

Unlike the log loss, the squared loss keeps penalising fakes that are on the
right side of the boundary but far from the data, so gradients do not vanish.
Used by ``configs/loss/least_squares.yaml``.
"""

from torch import Tensor


def least_squares_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return 0.5 * ((real_logits - 1) ** 2).mean() + 0.5 * (fake_logits**2).mean()


def least_squares_generator_loss(fake_logits: Tensor) -> Tensor:
    return 0.5 * ((fake_logits - 1) ** 2).mean()
