"""An evaluator for images of another size than it was made for: the samples are resized first.

The shipped digits classifier reads 8x8 digits; a run that trains on digits enlarged to 16x16 or 32x32
(``data.image_size=16``, the DCGAN's usual sizes) is scored by resizing its samples, generated and real
alike, back to 8x8.  Shrinking averages the pixels each output pixel covers (``area``: the exact mean of
each 2x2 or 4x4 block when the factor is whole), enlarging interpolates bilinearly.  Both sides of every
comparison go through the same resize, so the numbers compare; they are logged with the resize named in
``settings/evaluator``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from gan_lab.evaluation.evaluators.base import Evaluator


class Resized(Evaluator):
    """``evaluator`` applied to samples of shape ``sample_shape``, resized to its own input first."""

    def __init__(self, evaluator: Evaluator, sample_shape: tuple[int, ...]) -> None:
        super().__init__(evaluator.batch_size)
        channels, height, width = evaluator.sample_shape
        if len(sample_shape) != 3 or sample_shape[0] != channels:
            raise ValueError(f"{evaluator.name} takes {channels}-channel images; cannot resize samples of shape "
                             f"{list(sample_shape)} to it.")
        self.inner, self.sample_shape, self.size = evaluator, tuple(sample_shape), (height, width)
        self.name = f"{evaluator.name}, resized from {sample_shape[1]}x{sample_shape[2]} to {height}x{width}"
        self.num_features, self.num_classes = evaluator.num_features, evaluator.num_classes
        self.accuracy, self.sha256 = evaluator.accuracy, evaluator.sha256
        self.dataset = getattr(evaluator, "dataset", None)  # a classifier's: what it was trained on
        self.freeze()

    def score_batch(self, x: Tensor) -> tuple[Tensor, Tensor]:
        shrinking = x.shape[-2] >= self.size[0] and x.shape[-1] >= self.size[1]
        if shrinking:
            resized = F.interpolate(x, size=self.size, mode="area")
        else:
            resized = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        return self.inner.features_and_probs(resized)


def fitted(evaluator: Evaluator, sample_shape: tuple[int, ...] | None) -> Evaluator:
    """``evaluator`` itself if it takes ``sample_shape``, else :class:`Resized` around it (images of the same channels)."""
    if sample_shape is None or evaluator.sample_shape is None or tuple(evaluator.sample_shape) == tuple(sample_shape):
        return evaluator
    if len(evaluator.sample_shape) == 3 and len(sample_shape) == 3 and evaluator.sample_shape[0] == sample_shape[0]:
        return Resized(evaluator, tuple(sample_shape))
    return evaluator
