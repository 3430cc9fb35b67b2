"""How a GAN trains: the Lightning module and its step, the losses, and what changes what D sees.

:class:`GANModule` (:mod:`~gan_lab.training.module`) runs the game; :class:`GANLoss` (:mod:`~gan_lab.training.losses`)
is the game's objective; packing (PacGAN) and differentiable augmentation change what D judges.  Variants
(``gan_lab/variants/``) subclass these.  May import ``nets`` and ``errors``, not ``evaluation`` or ``cli``.
"""

from gan_lab.training.losses import GANLoss
from gan_lab.training.module import GANModule, Judgement
from gan_lab.training.sampling import GeneratorInputs

__all__ = ["GANLoss", "GANModule", "GeneratorInputs", "Judgement"]
