"""R1 gradient penalty (Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually
Converge?", eq. 9).

    R1 = (gamma / 2) E_data[ ||grad_x D(x)||^2 ]

added to the discriminator's loss: D's logit is kept flat on the real data, so the game does not
circle around its equilibrium (the paper shows the non-saturating GAN with R1 converges locally where
the plain one need not).  Only real samples are penalised; the fakes are not used.  It costs one more
pass of D over the real batch with a double backward.  A ``penalty`` of :class:`gan_lab.training.losses.GANLoss`.
"""

import torch
from torch import Tensor, nn


def r1_penalty(discriminator: nn.Module, real: Tensor, fake: Tensor, gamma: float = 10.0) -> Tensor:
    """``gamma / 2 * E[||grad_x D(x)||^2]`` over the real batch ``real`` (``fake`` is not used)."""
    real = real.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return 0.5 * gamma * grads.flatten(1).pow(2).sum(1).mean()
