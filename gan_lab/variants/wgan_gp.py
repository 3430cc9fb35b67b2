"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", Algorithm 1).

The discriminator is a critic whose raw output estimates the Wasserstein-1
distance through the Kantorovich-Rubinstein duality; a gradient penalty on
random interpolates between real and generated samples keeps it close to
1-Lipschitz:

    loss_D = E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)||_2 - 1)^2],
             x_hat = eps x + (1 - eps) G(z),  eps ~ U[0, 1] per sample
    loss_G = -E[D(G(z))]

The penalty needs the critic and both batches, which is why ``GANLoss`` has a
``penalty(discriminator, real, fake)`` hook.  The paper trains the critic 5
times per generator step with Adam(1e-4, betas=(0, 0.9));
``configs/loss/wgan_gp.yaml`` sets those too.  Critics must not use batch
normalisation (the penalty is per sample); gan_lab's discriminators have none.
"""

import torch
from torch import Tensor, nn


def wasserstein_critic_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return fake_logits.mean() - real_logits.mean()


def wasserstein_generator_loss(fake_logits: Tensor) -> Tensor:
    return -fake_logits.mean()


def gradient_penalty(discriminator: nn.Module, real: Tensor, fake: Tensor, weight: float = 10.0) -> Tensor:
    """``weight * E[(||grad_x D(x_hat)||_2 - 1)^2]`` on random interpolates ``x_hat``."""
    eps = torch.rand(len(real), *([1] * (real.ndim - 1)), device=real.device)  # (B, 1, ..., 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grads,) = torch.autograd.grad(discriminator(x_hat).sum(), x_hat, create_graph=True)
    return weight * ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()
