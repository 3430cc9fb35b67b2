"""Plain ``nn.Module`` networks, chosen by the ``net`` config group: MLPs, DCGAN, maxout, minibatch discrimination.

A generator has ``latent_dim`` and ``output_shape``; a discriminator has ``input_shape`` and returns logits ``(N,)``.
The training logic lives in :mod:`gan_lab.training`.  Imports only ``gan_lab.errors``.
"""

from gan_lab.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lab.nets.maxout import Maxout, MaxoutDiscriminator
from gan_lab.nets.minibatch_discrimination import MinibatchDiscrimination
from gan_lab.nets.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "Maxout",
    "MaxoutDiscriminator",
    "MinibatchDiscrimination",
]
