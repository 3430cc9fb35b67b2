"""scikit-learn's handwritten digits, alone and stacked into 1,000 classes.

``load_digits`` ships 1,797 real 8x8 grey-level digits (values 0..16) with
scikit-learn, so these data sets work offline.  ``StackedDigitsDataModule``
is the Stacked-MNIST benchmark (Metz et al. 2017, "Unrolled GANs"; used by
VEEGAN and PacGAN) rebuilt on these digits: each image's three channels are
three independently drawn digits, giving 10^3 = 1,000 classes whose label
is ``100 * c0 + 10 * c1 + c2``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import Tensor

from gan_lab.data.base import TensorDataModule, check_positive

#: load_digits' pixel values run from 0 to 16.
_DIGITS_MAX = 16.0


def load_digit_images() -> tuple[Tensor, Tensor]:
    """All 1,797 digits as ``(N, 1, 8, 8)`` floats in [-1, 1] with labels ``(N,)``."""
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    return images / _DIGITS_MAX * 2 - 1, torch.tensor(digits.target, dtype=torch.long)


class DigitsDataModule(TensorDataModule):
    """The 1,797 scikit-learn digits, 1 x 8 x 8 (or resized to ``image_size``), 10 classes.

    ``image_size`` (e.g. 16) upsamples the digits bilinearly, for networks that
    need larger images; ``None`` keeps the native 8 x 8.
    """

    num_classes = 10

    def __init__(self, image_size: int | None = None, **loader_kwargs) -> None:
        super().__init__(**loader_kwargs)
        if image_size is not None:
            check_positive("data.image_size", image_size)
        self.image_size = None if image_size is None else int(image_size)
        self.shape = self.shape_from_config({"image_size": image_size})

    @classmethod
    def shape_from_config(cls, config) -> tuple[int, ...]:
        side = config.get("image_size") or 8
        return (1, int(side), int(side))

    @property
    def name(self) -> str:
        return "digits"

    def load(self) -> tuple[Tensor, Tensor]:
        images, labels = load_digit_images()
        if self.image_size not in (None, 8):
            size = (self.image_size, self.image_size)
            images = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)
        return images.clamp(-1, 1), labels


def stack_digits(images: Tensor, labels: Tensor, num_samples: int, seed: int) -> tuple[Tensor, Tensor]:
    """Draw three digits independently per sample and stack them as channels.

    Returns ``(num_samples, 3, 8, 8)`` images and labels ``100 * c0 + 10 * c1 + c2``.
    """
    g = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(images), (num_samples, 3), generator=g)  # (N, 3)
    stacked = images[picks, 0]  # (N, 3, 8, 8): one grey digit per channel
    digit_labels = labels[picks]  # (N, 3)
    return stacked, digit_labels[:, 0] * 100 + digit_labels[:, 1] * 10 + digit_labels[:, 2]


class StackedDigitsDataModule(TensorDataModule):
    """Stacked digits: 3 x 8 x 8 images of three independent digits, 1,000 classes.

    The data set is generated deterministically from ``data_seed``; its size is
    ``dataset_size``.  With 1,797 source digits there are far more possible
    images than samples, so real samples rarely repeat.
    """

    shape = (3, 8, 8)
    num_classes = 1000

    def __init__(self, dataset_size: int = 50_000, data_seed: int = 0, **loader_kwargs) -> None:
        super().__init__(**loader_kwargs)
        check_positive("data.dataset_size", dataset_size)
        self.dataset_size = int(dataset_size)
        self.data_seed = int(data_seed)

    @property
    def name(self) -> str:
        return "stacked_digits"

    def load(self) -> tuple[Tensor, Tensor]:
        images, labels = load_digit_images()
        return stack_digits(images, labels, self.dataset_size, self.data_seed)
