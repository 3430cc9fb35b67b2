"""The classifier's pooling layers, with a faster forward for scoring that gives the same bits.

Scoring 5,000 digits (8x8) spent a large share of the classifier's time in
``nn.MaxPool2d(2)`` (PyTorch's contiguous-layout CPU kernel) and more in
``nn.AdaptiveAvgPool2d(2)`` on maps that are already 2x2.  Without autograd
these layers take shortcuts that are exact:

* a 2x2 max pool is the element-wise maximum of the four strided quarter-maps
  (``x[..., 0::2, 0::2]``, ...): the same maximum of the same four numbers,
  several times faster at these sizes;
* averaging a 2x2 map into 2x2 cells averages one number per cell: the map itself.

With autograd (training a classifier) the standard layers run, so gradients,
and hence trained weights, are those of ``nn.MaxPool2d`` (which sends a tie's
gradient to one element where ``torch.maximum`` would split it).  Neither
layer has parameters or buffers, so state dicts and weights files are unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _needs_autograd(x: Tensor) -> bool:
    return torch.is_grad_enabled() and x.requires_grad


class MaxPool2(nn.MaxPool2d):
    """``nn.MaxPool2d(2)`` (floor mode: an odd last row or column is dropped), fast without autograd."""

    def __init__(self) -> None:
        super().__init__(2)

    def forward(self, x: Tensor) -> Tensor:
        if _needs_autograd(x) or x.ndim != 4:
            return super().forward(x)
        h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
        rows = torch.maximum(x[..., 0:h:2, :w], x[..., 1:h:2, :w])  # (N, C, H/2, W)
        return torch.maximum(rows[..., 0::2], rows[..., 1::2])  # (N, C, H/2, W/2)


class AdaptiveAvgPool2(nn.AdaptiveAvgPool2d):
    """``nn.AdaptiveAvgPool2d(2)``; a 2x2 map is returned as it is (without autograd)."""

    def __init__(self) -> None:
        super().__init__(2)

    def forward(self, x: Tensor) -> Tensor:
        if not _needs_autograd(x) and x.ndim == 4 and tuple(x.shape[-2:]) == (2, 2):
            return x
        return super().forward(x)
