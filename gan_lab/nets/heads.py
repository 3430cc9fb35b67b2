"""The last layers every discriminator shares: optional minibatch features, then one logit."""

from __future__ import annotations

from typing import Mapping

from torch import Tensor, nn

from gan_lab.nets.minibatch_discrimination import MinibatchDiscrimination


class LogitHead(nn.Module):
    """Map features ``(N, A)`` to one logit per sample ``(N,)``.

    With ``minibatch`` (a mapping with ``num_kernels`` and ``kernel_dim``), a
    :class:`MinibatchDiscrimination` layer sits before the last linear layer,
    as in Salimans et al. (2016), so the logit of each sample can depend on
    how similar it is to the rest of its batch.
    """

    def __init__(self, in_features: int, minibatch: Mapping[str, int] | None = None) -> None:
        super().__init__()
        if minibatch:
            self.minibatch = MinibatchDiscrimination(in_features, **dict(minibatch))
            in_features = self.minibatch.out_features
        else:
            self.minibatch = None
        self.linear = nn.Linear(in_features, 1)

    def forward(self, features: Tensor) -> Tensor:
        if self.minibatch is not None:
            features = self.minibatch(features)  # (N, A + B)
        return self.linear(features).squeeze(1)  # (N,)
