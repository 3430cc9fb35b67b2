"""The ways to compute minibatch discrimination's o from M, all with the same values and gradients.

Each route maps M ``(B, N, C)`` (B kernels, N samples, C coordinates) to o ``(B, N)``,
o_{b,i} = sum_{j != i} c_b(i, j), c_b(i, j) = exp(-||M_{b,i} - M_{b,j}||_1), with the self
term exactly 0 and pairs at L1 distance ``MAX_L1`` or more counting exactly 0
(see :mod:`gan_lab.nets.minibatch_discrimination` for the maths and
``docs/minibatch_discrimination.md`` for the measurements behind the choices):

* ``"native"``: the pairwise loops in C (:mod:`gan_lab.nets.minibatch_native`), each pair once,
  forward and hand-written backward; CPU, float32/float64.
* ``"fused"``: pure PyTorch, ``torch.cdist(p=1)`` forward, hand-written cache-blocked backward.
* ``"auto"`` (the layer's default): ``"native"`` where it applies and was built, else ``"fused"``.
* ``"cdist"`` and ``"broadcast"``: plain autograd references, used by the tests and, for second
  derivatives (``create_graph=True``, e.g. the WGAN-GP penalty), by the two hand-written backwards.

M with a NaN or an infinity (a diverged discriminator) goes to ``"cdist"``, whose NaN
propagation is exact; the fast routes assume finite values.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lab.nets import minibatch_native

#: L1 distances at or above this contribute exactly 0 (exp(-50) < 2e-22): keeps exp and the backward
#: away from float32 subnormals, which are slow on CPUs.
MAX_L1 = 50.0

#: The fused route works on blocks of (k, N, N) values with k * N * N at most this, 512 KB in
#: float32: small enough for a core's L2 cache (2 MB here), large enough for few Python steps.
#: Chunks small enough to stay in cache and large enough to amortise each call (minibatch_discrimination_speed.py).
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
    """o ``(B, N)`` from M ``(B, N, C)``: L1 distances by ``torch.cdist(p=1)``, autograd backward."""
    return _self_and_far_pairs_to_zero(torch.cdist(m, m, p=1)).sum(dim=2)


def closeness_broadcast(m: Tensor) -> Tensor:
    """o ``(B, N)`` from M ``(B, N, C)``: L1 distances by broadcasting |M_i - M_j|, autograd backward."""
    l1 = (m.unsqueeze(2) - m.unsqueeze(1)).abs().sum(dim=3)  # (B, N, 1, C) - (B, 1, N, C) -> (B, N, N)
    return _self_and_far_pairs_to_zero(l1).sum(dim=2)


def _second_order_backward(m: Tensor, grad_o: Tensor) -> Tensor:
    """dL/dM through the ``"cdist"`` route, differentiable again: for backward with ``create_graph=True``.

    The hand-written backwards are not differentiable in M (they run without autograd), so when a
    second derivative is asked for, differentiate the autograd route instead; M is still in the graph.
    """
    with torch.enable_grad():
        (grad_m,) = torch.autograd.grad(closeness_cdist(m), m, grad_o, create_graph=True)
    return grad_m


class _FusedCloseness(torch.autograd.Function):
    """cdist forward turned into the closeness table in place, kept for a hand-written cache-blocked backward."""

    @staticmethod
    def forward(ctx, m: Tensor) -> Tensor:
        num_kernels, n, _ = m.shape
        closeness = torch.cdist(m, m, p=1)  # autograd is off in here: the distances can be overwritten
        o = m.new_empty(num_kernels, n)
        block = _kernels_per_block(num_kernels, n)
        for start in range(0, num_kernels, block):  # a few kernels at a time, so the passes stay in cache
            table = closeness[start : start + block]
            # -d kept where d < MAX_L1, else -inf: exp gives exactly 0, never a subnormal.  (threshold_ is one
            # pass; the ge + masked_fill_ it replaced cost far more: their bool kernels are not vectorised.)
            F.threshold_(table.neg_(), -MAX_L1, -math.inf).exp_()
            table.diagonal(dim1=1, dim2=2).zero_()  # the self term, exactly
            torch.sum(table, dim=2, out=o[start : start + block])
        ctx.save_for_backward(m, closeness)
        return o

    @staticmethod
    def backward(ctx, grad_o: Tensor) -> Tensor:
        m, closeness = ctx.saved_tensors
        if torch.is_grad_enabled():
            return _second_order_backward(m, grad_o)
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


class _NativeCloseness(torch.autograd.Function):
    """The C kernels of :mod:`gan_lab.nets.minibatch_native`: each pair i < j once; the backward recomputes it."""

    @staticmethod
    def forward(ctx, m: Tensor) -> Tensor:
        planes = m.transpose(1, 2).contiguous()  # (B, C, N): the C loops run along contiguous coordinate planes
        ctx.save_for_backward(m, planes)  # only M: B C N values, not a table of the B N^2 / 2 pairs
        return minibatch_native.forward(planes, MAX_L1)

    @staticmethod
    def backward(ctx, grad_o: Tensor) -> Tensor:
        m, planes = ctx.saved_tensors
        if torch.is_grad_enabled():
            return _second_order_backward(m, grad_o)
        return minibatch_native.backward(planes, grad_o, MAX_L1).transpose(1, 2)


def _finite(m: Tensor) -> bool:
    """No NaN or infinity in M.  One sum instead of ``isfinite(m).all()``, which makes four passes;
    a sum that overflows from finite values only sends a (huge) batch to the exact route needlessly."""
    return math.isfinite(m.sum().item())


def closeness_fused(m: Tensor) -> Tensor:
    """o ``(B, N)`` from M ``(B, N, C)``: cdist forward and a cache-blocked hand-written backward."""
    return _FusedCloseness.apply(m.contiguous()) if _finite(m) else closeness_cdist(m)


def closeness_native(m: Tensor) -> Tensor:
    """o ``(B, N)`` from M ``(B, N, C)`` (CPU, float32 or float64) by the compiled kernels."""
    if not minibatch_native.available():
        raise RuntimeError("MinibatchDiscrimination: the 'native' route is unavailable (see the warning); use 'auto'.")
    if m.device.type != "cpu" or m.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"the 'native' route takes float32/float64 CPU tensors, got {m.dtype} on {m.device}.")
    return _NativeCloseness.apply(m) if _finite(m) else closeness_cdist(m)


def closeness_auto(m: Tensor) -> Tensor:
    """``"native"`` for float32/float64 on the CPU when the kernels are available, else ``"fused"``."""
    if m.device.type == "cpu" and m.dtype in (torch.float32, torch.float64) and minibatch_native.available():
        return closeness_native(m)
    return closeness_fused(m)


#: The interchangeable ways to compute o ``(B, N)`` from M ``(B, N, C)``; same values and gradients.
ROUTES: dict[str, Callable[[Tensor], Tensor]] = {
    "auto": closeness_auto,
    "native": closeness_native,
    "fused": closeness_fused,
    "cdist": closeness_cdist,
    "broadcast": closeness_broadcast,
}
