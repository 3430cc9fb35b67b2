"""GAN variants, each one short file plus one YAML: losses (``configs/loss/``) and models (``configs/model/``).

The worked examples of extending gan_lab (docs/extending.md): a loss is two functions and a
:class:`~gan_lab.training.GANLoss`; a model (cGAN, ACGAN, InfoGAN) subclasses :class:`~gan_lab.training.GANModule`
and overrides its conditioning hooks.  Kept at the top of the package, beside ``training/``, because this is where
a learner adds a file.  Imports ``training``, ``nets`` and ``errors``.
"""
