"""Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", section 3.2).

A collapsed generator emits near-identical samples, which a discriminator judging each sample
alone cannot tell apart from good ones.  This layer lets D compare each sample with the rest
of its batch, so a batch with too little diversity can be rejected.

Each feature row f(x_i) in R^A is multiplied by a learned tensor T in R^{A x B x C}, giving
M_i in R^{B x C}.  For each of the B kernels the closeness of two samples is

    c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)          (L1 over the C entries)

and the layer appends o(x_i)_b = sum_{j != i} c_b(x_i, x_j) to f(x_i): output [f(x_i), o(x_i)],
width A + B, each o in [0, N - 1] (N - 1 when all N rows are identical).  As in the paper, D
sees real and generated samples in separate batches (``GANModule`` calls D on each), so o
compares a sample only with others from the same source.

Shapes: ``features (N, A) -> (N, A + B)``; internally M is ``(B, N, C)`` and o ``(B, N)``.

Deliberate differences from the authors' code (openai/improved-gan, Lasagne ``MinibatchLayer``;
the history, the init measurements and the speed story are in ``docs/minibatch_discrimination.md``):

* T is a plain parameter, initialised N(0, ``INIT_STD``^2) with ``INIT_STD = 0.1``; no weight
  normalisation and no data-dependent initialisation pass.
* No bias on o: the linear layer that follows (:class:`gan_lab.nets.heads.LogitHead`) absorbs it.
* The self term is exactly 0 (never "sum over all j, minus exp(0) = 1", which cancels
  catastrophically in float32 for a diverse batch), so o = 0 for a batch of one.
* Pairs at L1 distance ``MAX_L1 = 50`` or more count exactly 0 (exp(-50) < 2e-22) instead of
  forming float32 subnormals, which x86 CPUs process many times more slowly.
* float16 / bfloat16 inputs are compared in float32 and o is cast back.

How o is computed is a ``route`` (:mod:`gan_lab.nets.minibatch_routes`): by default compiled
C loops (:mod:`gan_lab.nets.minibatch_native`) where a C compiler is available, else a
pure-PyTorch route; all routes give the same values and gradients, including second
derivatives (``create_graph=True``, for the WGAN-GP penalty).
"""

from __future__ import annotations

import operator

import torch
from torch import Tensor, nn

from gan_lab.nets.minibatch_routes import (  # noqa: F401 - re-exported: the routes belong to this layer
    MAX_L1,
    ROUTES,
    closeness_auto,
    closeness_broadcast,
    closeness_cdist,
    closeness_fused,
    closeness_native,
)

#: Standard deviation of T's initial entries (see the module docstring and docs/minibatch_discrimination.md).
INIT_STD = 0.1


def _positive_int(name: str, value: object) -> int:
    """``value`` as an int if it is a positive integer (Python or NumPy), else a ValueError naming it."""
    try:
        number = operator.index(value)  # accepts int and numpy integers, refuses floats and strings
    except TypeError:
        number = None
    if isinstance(value, bool) or number is None or number < 1:
        raise ValueError(f"MinibatchDiscrimination: {name} must be a positive integer, got {value!r}.")
    return number


class MinibatchDiscrimination(nn.Module):
    """Append to each feature row how close it is to the other rows of its batch.

    Salimans et al. (2016), section 3.2; see the module docstring for the
    maths and the differences from the authors' code, and
    ``docs/minibatch_discrimination.md`` for their code and the measurements.

    Args:
        in_features: A, the width of the incoming features f(x).
        num_kernels: B, the number of closeness values appended.
        kernel_dim: C, the length of the rows M_{i,b} compared in L1.

    Shapes: input ``(N, A)``, output ``(N, A + B)``: the input followed by
    o(x) ``(N, B)``, each value in [0, N - 1].

    Attributes:
        T: the learned tensor, stored as ``(A, B * C)`` so that one matrix
            product gives every M_i; ``T.view(A, B, C)`` is the paper's T.
        route: which of :data:`ROUTES` computes o: ``"auto"`` (compiled C loops
            when available, else pure PyTorch) unless set on an instance, as the
            speed benchmark and the tests do.
    """

    route: str = "auto"

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        sizes = {"in_features": in_features, "num_kernels": num_kernels, "kernel_dim": kernel_dim}
        self.in_features, self.num_kernels, self.kernel_dim = (_positive_int(k, v) for k, v in sizes.items())
        self.out_features = self.in_features + self.num_kernels
        self.T = nn.Parameter(torch.randn(self.in_features, self.num_kernels * self.kernel_dim) * INIT_STD)

    def forward(self, features: Tensor) -> Tensor:
        if features.ndim != 2 or features.shape[1] != self.in_features:
            got = f"width {features.shape[-1]}" if features.ndim == 2 else f"a {features.ndim}-d tensor"
            raise ValueError(
                f"MinibatchDiscrimination(in_features={self.in_features}) expects features of shape "
                f"(N, {self.in_features}), got {got}, shape {tuple(features.shape)}."
            )
        n = features.shape[0]
        m = (features @ self.T).view(n, self.num_kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C): the M_i
        if m.dtype in (torch.float16, torch.bfloat16):
            m = m.float()  # sums of up to N - 1 terms near 1 need float32's resolution
        if self.route not in ROUTES:
            raise ValueError(f"MinibatchDiscrimination.route must be one of {sorted(ROUTES)}, got {self.route!r}.")
        o = ROUTES[self.route](m).transpose(0, 1)  # (N, B)
        return torch.cat([features, o.to(features.dtype)], dim=1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_kernels={self.num_kernels}, kernel_dim={self.kernel_dim}"
