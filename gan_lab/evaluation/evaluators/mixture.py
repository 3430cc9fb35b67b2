"""The exact Bayes "classifier" of a 2D Gaussian mixture (ring of 8, grid of 25).

For an equal-weight mixture of isotropic Gaussians N(c_k, std^2 I), Bayes'
rule gives the posterior of component k in closed form::

    p(k | x) = exp(-||x - c_k||^2 / (2 std^2)) / sum_j exp(-||x - c_j||^2 / (2 std^2))

(the normalising constants and equal weights cancel), i.e. a softmax of the
scaled negative squared distances, which is numerically stable even when
every exponent is hugely negative (std = 0.01 makes them around -10^4).
With these probabilities the Inception Score of a mixture is exact: no
trained network stands between the samples and the number.  The features
are the points themselves (d = 2).

``accuracy`` is None: there is no trained model whose accuracy could be
measured (the posterior is exact; a sample's true component is only
ambiguous where the Gaussians overlap, which at these stds is nowhere).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from gan_lab.evaluation.evaluators.base import Evaluator


class MixtureEvaluator(Evaluator):
    """Posterior ``p(component | x)`` of an equal-weight isotropic Gaussian mixture; features = ``x``.

    Args:
        centers: ``(K, 2)`` component means (a tensor or nested sequence).
        std: the shared standard deviation of every component.
    """

    sample_shape = (2,)

    def __init__(self, centers: Tensor | Sequence[Sequence[float]], std: float, batch_size: int = 10_000) -> None:
        super().__init__(batch_size)
        centers = torch.as_tensor(centers, dtype=torch.float64).clone()
        if centers.ndim != 2 or centers.shape[1] != 2 or len(centers) == 0:
            raise ValueError(f"centers must have shape (K, 2) with K >= 1, got {tuple(centers.shape)}.")
        if not std > 0:
            raise ValueError(f"std must be positive, got {std!r}.")
        self.register_buffer("centers", centers)  # (K, 2), float64: distances are computed in double
        self.std = float(std)
        self.name = "mixture"
        self.num_features = 2
        self.num_classes = len(centers)
        self.accuracy = None
        self.sha256 = None  # no weights: the posterior is exact
        self.freeze()

    def score_batch(self, x: Tensor) -> tuple[Tensor, Tensor]:
        points = x.to(torch.float64)  # (B, 2)
        squared_distances = (points[:, None, :] - self.centers[None, :, :]).pow(2).sum(-1)  # (B, K)
        posterior = torch.softmax(-squared_distances / (2 * self.std**2), dim=1)  # (B, K)
        return x, posterior.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, std={self.std}"
