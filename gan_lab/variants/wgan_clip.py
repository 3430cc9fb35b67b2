"""WGAN with weight clipping (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", Algorithm 1).

The critic ``f`` estimates the Wasserstein-1 distance through the
Kantorovich-Rubinstein duality, ``W(P_r, P_g) = sup_{||f||_L <= 1} E_r[f] - E_g[f]``,
over a family of functions kept Lipschitz by clipping every weight into
``[-c, c]`` after each critic update (c = 0.01).  The losses are WGAN-GP's
(:mod:`gan_lab.variants.wgan_gp`, without its penalty); the clipping is a step
hook, ``GANLoss.after_discriminator_step``, not a custom optimiser.  The paper
trains the critic 5 times per generator step with RMSprop at 5e-5 (momentum-based
optimisers made the critic unstable): ``configs/loss/wgan_clip.yaml``.

The paper's own caveat, visible in the game view: clipping pushes the weights to
the box's corners, so the critic is a crude function and learns slowly; WGAN-GP
replaced it with a gradient penalty.
"""

import torch
from torch import nn


@torch.no_grad()
def clip_weights(discriminator: nn.Module, limit: float = 0.01) -> None:
    """Clip every parameter of the critic into ``[-limit, limit]`` (in place)."""
    for parameter in discriminator.parameters():
        parameter.clamp_(-limit, limit)
