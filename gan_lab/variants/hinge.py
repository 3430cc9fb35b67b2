"""Hinge loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, eq. 16-17, as in SN-GAN and BigGAN).

    loss_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]
    loss_G = -E[D(G(z))]

The discriminator stops caring about samples it already separates by a
margin of 1, which steadies training.  Used by ``configs/loss/hinge.yaml``.
"""

import torch.nn.functional as F
from torch import Tensor


def hinge_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_generator_loss(fake_logits: Tensor) -> Tensor:
    return -fake_logits.mean()
