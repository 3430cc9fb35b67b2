"""Dropout whose mask costs less on a CPU: the same layer as ``nn.Dropout``, a faster random draw.

``nn.Dropout`` draws its keep-mask with ``bernoulli_``, which is slow on a CPU: in the default digits
run its six calls per GAN step were a large share of the step (``experiments/default_run/README.md``
has the measurement).  Comparing uniform draws with p, ``torch.rand(...) >= p``, gives the same mask
distribution (each value kept with probability 1 - p, independently) at a fraction of the cost.  Values are scaled by 1 / (1 - p)
when training and passed through unchanged in evaluation, as in ``nn.Dropout`` (Srivastava et al.
2014, with the inverted scaling of PyTorch's implementation).  The draws differ from
``nn.Dropout``'s, so the same seed gives other masks, not another distribution.  On other devices
(where ``bernoulli_`` is fast) it is ``nn.Dropout``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Dropout(nn.Dropout):
    """``nn.Dropout(p)`` with the mask drawn as ``rand >= p`` on the CPU; same arguments, state and repr."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or not 0.0 < self.p < 1.0 or self.inplace or x.device.type != "cpu":
            return super().forward(x)
        scaled_keep = (torch.rand_like(x) >= self.p).to(x.dtype).mul_(1.0 / (1.0 - self.p))
        return x * scaled_keep  # autograd masks and scales the gradient the same way
