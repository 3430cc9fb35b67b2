"""Plain ``nn.Module`` networks, chosen by config; the training logic lives in ``gan_lab.module``."""

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
