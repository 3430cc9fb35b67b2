"""GAN losses as small pure functions of discriminator logits.

A discriminator returns logits ``l``; ``D(x) = sigmoid(l)``.  Working on
logits keeps every loss numerically stable: ``log D = -softplus(-l)`` and
``log(1 - D) = -softplus(l)`` never take the log of a rounded-off 0.

Each loss is a :class:`GANLoss`: a discriminator loss ``(real_logits,
fake_logits) -> scalar``, a generator loss ``fake_logits -> scalar`` (or
``(real_logits, fake_logits) -> scalar`` with ``generator_needs_real: true``,
for losses such as the relativistic GAN's that compare fakes with real data)
an optional ``penalty(discriminator, real, fake) -> scalar`` added to the
discriminator loss (the hook WGAN-GP's gradient penalty needs; ``discriminator``
is D as a function ``samples -> logits``), and an optional
``after_discriminator_step(discriminator)`` run after each of D's updates (the
hook WGAN's weight clipping needs).  A config
file builds one by naming the functions, e.g. ``configs/loss/minimax.yaml``;
adding a loss is one function here (or in a file of its own) plus one YAML
file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Callable, Optional

import torch.nn.functional as F
from torch import Tensor, nn

DiscriminatorLoss = Callable[[Tensor, Tensor], Tensor]
GeneratorLoss = Callable[..., Tensor]  # (fake_logits) or, with generator_needs_real, (real_logits, fake_logits)
Penalty = Callable[[Callable[[Tensor], Tensor], Tensor, Tensor], Tensor]
StepHook = Callable[[nn.Module], None]


def bce_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The discriminator's binary cross-entropy (Goodfellow et al. 2014, eq. 1).

    D maximises ``E_data[log D(x)] + E_z[log(1 - D(G(z)))]``, i.e. minimises
    ``-log D(x) - log(1 - D(G(z)))``, averaged over each batch.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def minimax_generator_loss(fake_logits: Tensor) -> Tensor:
    """The original, saturating generator loss: minimise ``E_z[log(1 - D(G(z)))]``.

    Goodfellow et al. (2014), eq. 1.  When D confidently rejects the fakes
    (``D(G(z)) -> 0``) this loss is flat: its gradient with respect to the
    logit is ``-D(G(z))``, which vanishes, so the generator barely learns
    early in training.
    """
    return -F.softplus(fake_logits).mean()


def non_saturating_generator_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss: minimise ``E_z[-log D(G(z))]``.

    Goodfellow et al. (2014), section 3: same fixed point as the minimax
    game, but its gradient with respect to the logit is ``-(1 - D(G(z)))``,
    which is strongest exactly when D rejects the fakes.
    """
    return F.softplus(-fake_logits).mean()


@dataclass(frozen=True)
class GANLoss:
    """A discriminator loss, a generator loss, an optional discriminator penalty and an optional step hook.

    ``generator_needs_real``: call ``generator_loss(real_logits, fake_logits)``,
    the generator step then also runs D on the real batch; ``False`` (the
    standard losses) calls ``generator_loss(fake_logits)`` and D sees only the
    fakes in that step.  ``critic``: D's output is a Wasserstein critic's score,
    not a logit, so training logs its means (``train/critic_real``,
    ``train/critic_fake``, ``train/wasserstein_estimate``) instead of sigmoids.
    """

    discriminator_loss: DiscriminatorLoss
    generator_loss: GeneratorLoss
    penalty: Optional[Penalty] = None
    generator_needs_real: bool = False
    critic: bool = False
    after_discriminator_step: Optional[StepHook] = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if callable(value):
                object.__setattr__(self, field.name, plain_callable(value))


def plain_callable(fn: Callable) -> Callable:
    """``fn`` as a plain ``functools.partial`` if it is a subclass of one.

    Hydra (1.3) returns ``_partial_: true`` targets as a partial subclass that
    re-checks its target policy on every call, which costs about as much as a
    small GAN's whole step (experiments/benchmarks/README.md, training overhead).  The target was already checked when the config was
    instantiated, so the loss calls the same function through a plain partial.
    """
    if isinstance(fn, functools.partial) and type(fn) is not functools.partial:
        return functools.partial(fn.func, *fn.args, **fn.keywords)
    return fn

