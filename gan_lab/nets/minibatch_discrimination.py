"""Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", section 3.2).

Why
---
A collapsed generator emits near-identical samples, and a discriminator that
judges each sample alone cannot tell: every one of them looks plausible.
Minibatch discrimination lets D look at the whole batch, so a batch with too
little diversity can be rejected and the generator is pushed to diversify.

What (section 3.2 of the paper)
-------------------------------
Each sample's feature row f(x_i) in R^A is multiplied by a learned tensor
T in R^{A x B x C}, giving a matrix M_i in R^{B x C}.  For each of the B
"kernels" the closeness of two samples is

    c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)          (L1 over the C entries)

and the layer appends to f(x_i) the B values

    o(x_i)_b = sum_{j != i} c_b(x_i, x_j)

(the paper's o(x_i): for each kernel, the sum of c_b(x_i, x_j) over the
other samples x_j of the minibatch), so its output is [f(x_i), o(x_i)] of
width A + B.  Each o(x_i)_b lies in [0, N - 1]: N - 1 when all N rows of
the batch are identical, about 0 when every row is far from the others.

As in the paper, D sees real and generated samples in separate batches, so
o(x) compares a sample only with others from the same source (the
``GANModule`` calls D on the two batches separately).

Shapes: ``features (N, A) -> (N, A + B)``; internally M is ``(B, N, C)``
and the pairwise table of closeness values ``(B, N, N)``.

The authors' code
-----------------
openai/improved-gan: the Lasagne/Theano ``MinibatchLayer`` in
``mnist_svhn_cifar10/nn.py`` (CIFAR-10 and SVHN models) and the TensorFlow
discriminator in ``imagenet/discriminator.py``.  In the Lasagne layer:

* T is weight-normalised: a raw tensor ``theta ~ N(0, 0.05^2)`` is divided,
  for every (b, c), by the L2 norm of its A entries and multiplied by a
  learned scale ``exp(log_weight_scale)``.  The 0.05 therefore never reaches
  the forward pass; what sets the scale is a data-dependent initialisation
  pass that sets ``log_weight_scale`` so that, for each kernel, half the
  batch-mean distance to the nearest other sample is 1.
* a learned bias per kernel (initialised to -1, then by the data-dependent
  pass to minus the batch mean of o) is added to o;
* the self term is removed by adding 1e6 to the diagonal distances, so that
  exp(-1e6) = 0.

The ImageNet code uses a plain linear layer for T (300 kernels of 50), masks
the self term with ``1 - I`` and, since it feeds real and generated samples in
one batch, averages the closeness over each half separately.

Deliberate differences (this layer)
-----------------------------------
* **Initialisation and no weight normalisation.**  T starts as
  N(0, ``INIT_STD``^2) with ``INIT_STD = 0.1`` and is a plain parameter:
  gan_lab's discriminators use plain layers (optionally spectral norm, which
  leaves T alone), and there is no data-dependent initialisation pass to
  set a weight-norm scale.  0.1 is not the authors' 0.05, which only scaled
  the raw ``theta`` before normalisation.  It was chosen by measuring o at
  initialisation for gan_lab's discriminators (default PyTorch init): on
  real batches of 64 the mean o is about 28 of 63 (grid25 MLP) and 21 of 63
  (digits DCGAN); std 0.05 gives 41 and 35, and std 1/sqrt(A) (unit-norm
  columns, where the authors' weight normalisation starts) gives 31 and 43.
  A generator at initialisation, whose samples are all alike, scores 56-63
  with any of them, so 0.1 leaves real batches the furthest from looking
  collapsed and D can tell the two apart from its first step.
* **No bias on o.**  A constant added to o is absorbed by the bias of the
  linear layer that follows in :class:`gan_lab.nets.heads.LogitHead`.
* **The self term** is removed by zeroing the diagonal of the (B, N, N) table
  of closeness values, which gives exactly the sum over j != i.  Summing over
  all j and subtracting exp(0) = 1 afterwards is equal in exact arithmetic
  but cancels catastrophically in floating point: for a diverse batch
  1 + o rounds to 1 when o < 6e-8 in float32 (and when o < 4e-3 in
  bfloat16), so o collapses to 0.
* **Far pairs count exactly 0.**  Pairs with an L1 distance above
  ``MAX_L1 = 50`` contribute 0 instead of exp(-50) < 2e-22.  Without this
  cut, distances between 87 and 104 give float32 subnormals, which x86 CPUs
  process much more slowly (measured on this project's 2-core machine: exp
  10x, multiply 7x slower); a discriminator that learns to push its samples
  apart can produce such distances in bulk.
* **float16 / bfloat16** inputs are compared in float32 (the sum of up to
  N - 1 terms near 1 would lose its small differences), and o is cast back.

Speed (experiments/benchmarks/minibatch_discrimination_speed.py)
-----------------------------------------------------------------
The cost is the (B, N, N, C) work of the pairwise L1 distances, forward and
backward.  Three routes give the same values and gradients:

* ``"cdist"``: ``torch.cdist(p=1)`` with autograd;
* ``"broadcast"``: |M_i - M_j| by broadcasting, with autograd; it keeps a
  (B, N, N, C) tensor for its backward, C times the (B, N, N) table;
* ``"fused"`` (the layer's default ``route``): the forward uses
  ``torch.cdist(p=1)`` and turns the distances into the closeness table in
  place, kept for the backward, which is written out by hand,

      dL/dM_{i,b,c} = -sum_j (g_{i,b} + g_{j,b}) c_b(x_i, x_j) sign(M_{i,b,c} - M_{j,b,c}),

  with g = dL/do, computed a few kernels at a time so that each (k, N, N)
  block stays in the CPU cache.  It replaces torch's own backward of
  ``cdist(p=1)``, which here takes about 4x as long as the forward.  When a
  second derivative is needed (``create_graph=True``, e.g. the WGAN-GP
  gradient penalty), the backward recomputes the closeness through the
  ``"cdist"`` route and differentiates that, so double backward is exact
  as well.

Measured on 2 CPU cores (B x C = 100 x 5, N = 64..256, A = 64..512), forward
+ backward of the layer: "fused" is 1.6-2.6x faster than "cdist", which is
1.7-4x faster than "broadcast"; for its backward "fused" keeps about half
of what "cdist" keeps and a sixth of what "broadcast" keeps
(experiments/benchmarks/README.md).
"""

from __future__ import annotations

import math
import operator
from typing import Callable

import torch
from torch import Tensor, nn

#: Standard deviation of T's initial entries (see the module docstring).
INIT_STD = 0.1

#: L1 distances above this contribute exactly 0 (exp(-50) < 2e-22): keeps exp and the backward
#: away from float32 subnormals, which are slow on CPUs.
MAX_L1 = 50.0

#: The fused route works on blocks of (k, N, N) values with k * N * N at most this, 512 KB in
#: float32: small enough for a core's L2 cache (2 MB here), large enough for few Python steps.
#: Measured with one thread at N = 256: 2^15 to 2^18 are within 10% of each other, 2^21 is 25% slower.
_BLOCK_ELEMENTS = 1 << 17


def _kernels_per_block(num_kernels: int, n: int) -> int:
    """How many kernels' (N, N) tables fit in ``_BLOCK_ELEMENTS`` (at least 1)."""
    return max(1, min(num_kernels, _BLOCK_ELEMENTS // max(1, n * n)))


def _self_and_far_pairs_to_zero(l1: Tensor) -> Tensor:
    """Closeness exp(-l1) from distances ``(B, N, N)``, with the diagonal and far pairs exactly 0.

    Out of place, so autograd can differentiate it (the ``"cdist"`` and ``"broadcast"`` routes).
    Setting those distances to +inf before exp (rather than exp then zero) never forms a slow subnormal;
    the filled entries get zero gradient, and a NaN distance stays NaN (NaN >= MAX_L1 is false).
    """
    self_pairs = torch.eye(l1.shape[-1], dtype=torch.bool, device=l1.device)
    return torch.exp(-l1.masked_fill(self_pairs | (l1 >= MAX_L1), math.inf))


def closeness_cdist(m: Tensor) -> Tensor:
    """o for M of shape ``(B, N, C)``: ``(B, N)``, L1 distances by ``torch.cdist(p=1)``, autograd backward."""
    return _self_and_far_pairs_to_zero(torch.cdist(m, m, p=1)).sum(dim=2)


def closeness_broadcast(m: Tensor) -> Tensor:
    """o for M of shape ``(B, N, C)``: ``(B, N)``, L1 distances by broadcasting |M_i - M_j|, autograd backward."""
    l1 = (m.unsqueeze(2) - m.unsqueeze(1)).abs().sum(dim=3)  # (B, N, 1, C) - (B, 1, N, C) -> (B, N, N)
    return _self_and_far_pairs_to_zero(l1).sum(dim=2)


class _FusedCloseness(torch.autograd.Function):
    """o for M ``(B, N, C)``: cdist forward, hand-written cache-blocked backward (see the module docstring)."""

    @staticmethod
    def forward(ctx, m: Tensor) -> Tensor:
        num_kernels, n, _ = m.shape
        # Autograd is off in here, so the (B, N, N) distances can become the closeness table in place.
        closeness = torch.cdist(m, m, p=1)
        o = m.new_empty(num_kernels, n)
        block = _kernels_per_block(num_kernels, n)
        far_buf = torch.empty(block, n, n, dtype=torch.bool, device=m.device)
        for start in range(0, num_kernels, block):  # a few kernels at a time, so the passes stay in cache
            stop = min(num_kernels, start + block)
            table, far = closeness[start:stop], far_buf[: stop - start]
            torch.ge(table, MAX_L1, out=far)
            table.masked_fill_(far, math.inf).neg_().exp_()  # far pairs: exp(-inf) = 0 exactly, never subnormal
            table.diagonal(dim1=1, dim2=2).zero_()  # the self term, exactly
            torch.sum(table, dim=2, out=o[start:stop])
        ctx.save_for_backward(m, closeness)
        return o

    @staticmethod
    def backward(ctx, grad_o: Tensor) -> Tensor:
        m, closeness = ctx.saved_tensors
        if torch.is_grad_enabled():
            # create_graph=True: the loop below is not differentiable in m (the saved table was built
            # without autograd), so differentiate the autograd route instead; m is still in the graph.
            with torch.enable_grad():
                (grad_m,) = torch.autograd.grad(closeness_cdist(m), m, grad_o, create_graph=True)
            return grad_m
        return _fused_backward(m, closeness, grad_o)


def _fused_backward(m: Tensor, closeness: Tensor, grad_o: Tensor) -> Tensor:
    """dL/dM ``(B, N, C)`` from M, the closeness table ``(B, N, N)`` and g = dL/do ``(B, N)``.

    o_{i,b} and o_{j,b} both contain c_b(x_i, x_j), hence the weight (g_i + g_j) c_b(x_i, x_j) on
    d|M_{i,b,c} - M_{j,b,c}| / dM_{i,b,c} = sign(M_{i,b,c} - M_{j,b,c}) (0 for ties, as in autograd).
    """
    num_kernels, n, dim = m.shape
    grad_o = grad_o.contiguous()
    planes = m.permute(2, 0, 1).contiguous()  # (C, B, N): each coordinate c is a contiguous (B, N) plane
    grad_planes = torch.empty_like(planes)
    block = _kernels_per_block(num_kernels, n)
    # Two buffers shared by all blocks, rather than two new (k, N, N) tensors per block.
    weight_buf = m.new_empty(block, n, n)
    sign_buf = m.new_empty(block, n, n)
    for start in range(0, num_kernels, block):
        stop = min(num_kernels, start + block)
        weight, signs, g = weight_buf[: stop - start], sign_buf[: stop - start], grad_o[start:stop]
        torch.add(g.unsqueeze(2), g.unsqueeze(1), out=weight).mul_(closeness[start:stop])  # (g_i + g_j) c_ij
        for c in range(dim):
            x = planes[c, start:stop]
            torch.sub(x.unsqueeze(2), x.unsqueeze(1), out=signs).sign_().mul_(weight)
            torch.sum(signs, dim=2, out=grad_planes[c, start:stop])
    return grad_planes.neg_().permute(1, 2, 0)


def closeness_fused(m: Tensor) -> Tensor:
    """o for M of shape ``(B, N, C)``: ``(B, N)``, cdist forward and a cache-blocked hand-written backward."""
    return _FusedCloseness.apply(m.contiguous())


#: The interchangeable ways to compute o ``(B, N)`` from M ``(B, N, C)``; same values and gradients.
ROUTES: dict[str, Callable[[Tensor], Tensor]] = {
    "fused": closeness_fused,
    "cdist": closeness_cdist,
    "broadcast": closeness_broadcast,
}


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
    maths, the authors' code and the differences from it.

    Args:
        in_features: A, the width of the incoming features f(x).
        num_kernels: B, the number of closeness values appended.
        kernel_dim: C, the length of the rows M_{i,b} compared in L1.

    Shapes: input ``(N, A)``, output ``(N, A + B)``: the input followed by
    o(x) ``(N, B)``, each value in [0, N - 1].

    Attributes:
        T: the learned tensor, stored as ``(A, B * C)`` so that one matrix
            product gives every M_i; ``T.view(A, B, C)`` is the paper's T.
        route: which of :data:`ROUTES` computes o; ``"fused"`` (the fastest on
            CPU, see the module docstring) unless set on an instance, as the
            speed benchmark and the tests do.
    """

    route: str = "fused"

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
