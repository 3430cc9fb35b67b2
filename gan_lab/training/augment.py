"""Differentiable augmentation for small data sets (Zhao et al. 2020, "Differentiable Augmentation
for Data-Efficient GAN Training", NeurIPS; reference code: mit-han-lab/data-efficient-gans, DiffAugment).

With 1,617 training digits a discriminator soon memorises the training set
(``val/d_real`` falls below ``train/d_real``) and stops giving the generator
useful gradients.  Augmenting only the real images would teach the generator
to produce augmented images; DiffAugment applies the *same kind* of random,
differentiable transformation to real and generated images alike, every time
either is shown to D (in both players' steps), so D sees more varied data and
the generator's gradient flows through the transformation.

Policies here work on image batches ``(N, C, H, W)`` in [-1, 1]:

* ``translation``: shift each image by up to ``ratio`` of its size in x and y,
  filling with the background value -1 (the reference pads with zeros on
  images whose background is 0 after its own scaling; ours is -1);
* ``cutout``: blank a square of ``ratio`` of the image size at a random place.

2D points are never augmented (the policies need images).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lab.errors import ConfigError

Augmentation = Callable[[Tensor], Tensor]

#: Background value of images scaled to [-1, 1].
BACKGROUND = -1.0


def translation(images: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by a random whole number of pixels, at most ``ratio`` of its size, per axis."""
    n, _, height, width = images.shape
    max_dy, max_dx = int(height * ratio + 0.5), int(width * ratio + 0.5)
    if max_dx == 0 and max_dy == 0:
        return images
    dy = torch.randint(-max_dy, max_dy + 1, (n,), device=images.device)
    dx = torch.randint(-max_dx, max_dx + 1, (n,), device=images.device)
    padded = F.pad(images, (max_dx, max_dx, max_dy, max_dy), value=BACKGROUND)
    # Gather the shifted window of every image with index arithmetic: differentiable, no loop over images.
    rows = (torch.arange(height, device=images.device)[None, :] + max_dy - dy[:, None])  # (N, H)
    cols = (torch.arange(width, device=images.device)[None, :] + max_dx - dx[:, None])  # (N, W)
    batch = torch.arange(n, device=images.device)[:, None, None]
    shifted = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return shifted.permute(0, 3, 1, 2)


def cutout(images: Tensor, ratio: float = 0.5) -> Tensor:
    """Set a random square of side ``ratio`` x image size to the background, per image."""
    n, _, height, width = images.shape
    size_y, size_x = max(1, int(height * ratio + 0.5)), max(1, int(width * ratio + 0.5))
    top = torch.randint(0, height - size_y + 1, (n, 1, 1), device=images.device)
    left = torch.randint(0, width - size_x + 1, (n, 1, 1), device=images.device)
    y = torch.arange(height, device=images.device)[None, :, None]
    x = torch.arange(width, device=images.device)[None, None, :]
    inside = (y >= top) & (y < top + size_y) & (x >= left) & (x < left + size_x)  # (N, H, W)
    return torch.where(inside[:, None], torch.full_like(images, BACKGROUND), images)


def no_augmentation(batch: Tensor) -> Tensor:
    """The identity: what D sees when no augmentation is configured."""
    return batch


POLICIES: dict[str, Augmentation] = {"translation": translation, "cutout": cutout}


class DiffAugment:
    """Apply the named policies, in order, to a batch of images (identity on non-image batches).

    Args:
        policies: names from :data:`POLICIES`, e.g. ``["translation"]`` or ``["translation", "cutout"]``.
    """

    def __init__(self, policies: list[str] | tuple[str, ...] = ("translation",)) -> None:
        unknown = [name for name in policies if name not in POLICIES]
        if unknown:
            raise ConfigError(f"Unknown augmentation policy {unknown}; valid: {sorted(POLICIES)}.")
        self.policies = list(policies)

    def __call__(self, batch: Tensor) -> Tensor:
        if batch.ndim != 4:
            return batch
        for name in self.policies:
            batch = POLICIES[name](batch)
        return batch

    def __repr__(self) -> str:
        return f"DiffAugment({self.policies})"
