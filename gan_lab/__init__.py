"""gan_lab: train, watch, measure and extend GANs (PyTorch Lightning + Hydra)."""

__version__ = "0.1.0"
