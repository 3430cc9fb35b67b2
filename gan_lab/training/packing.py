"""Packing (Lin et al., "PacGAN: The power of two samples in generative adversarial networks", NeurIPS 2018).

With packing degree m the discriminator judges *packs* of m samples at once:
m real samples against m generated ones, concatenated into one input.  A
generator that has dropped modes produces packs whose m members are too
alike, and a discriminator that sees them together can tell; PacGAN shows
this penalises mode collapse more the larger m is, with the loss, the
networks' hidden layers and the training loop unchanged.

Samples are concatenated along their first axis: 2D points ``(2,)`` become
``(2m,)`` vectors, images ``(C, H, W)`` become ``(mC, H, W)`` (PacDCGAN stacks
the m images as channels).  A batch of B samples is B / m packs, members
k*m, ..., k*m + m - 1 forming pack k: a view, no copy.  ``m = 1`` is the
unpacked GAN exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from gan_lab.errors import ConfigError


def packed_shape(sample_shape: Sequence[int], pack: int) -> tuple[int, ...]:
    """The shape the discriminator sees for samples of ``sample_shape``: the first axis ``pack`` times longer."""
    first, *rest = (int(s) for s in sample_shape)
    return (first * int(pack), *rest)


def pack_samples(samples: Tensor, pack: int) -> Tensor:
    """``(B, d0, *rest)`` samples -> ``(B / pack, pack * d0, *rest)`` packs (consecutive samples together)."""
    if pack == 1:
        return samples
    batch, first, *rest = samples.shape
    if batch % pack:
        raise ConfigError(f"A batch of {batch} samples cannot be split into packs of model.pack={pack}; "
                          f"make data.batch_size a multiple of {pack}.")
    return samples.reshape(batch // pack, pack * first, *rest)


def check_pack(pack: int) -> int:
    """``pack`` as an int, or a :class:`ConfigError` unless it is a positive whole number."""
    if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
        raise ConfigError(f"model.pack must be a positive whole number (1: no packing), got {pack!r}.")
    return pack
