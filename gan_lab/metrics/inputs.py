"""Input conversion shared by the metric and diagnostic functions: arrays or tensors in, float64 tensors out."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def as_float64(values) -> Tensor:
    """A tensor, array or nested list as a float64 tensor (detached; a tensor stays on its device)."""
    if isinstance(values, Tensor):
        return values.detach().to(torch.float64)
    return torch.as_tensor(np.asarray(values), dtype=torch.float64)


def as_sample_matrix(x, name: str) -> Tensor:
    """``x`` as a float64 ``(n, d)`` tensor, one flattened sample per row; at least one finite sample."""
    tensor = as_float64(x)
    if tensor.ndim == 0 or len(tensor) == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {tuple(tensor.shape)}.")
    matrix = tensor.reshape(len(tensor), -1)
    if matrix.shape[1] == 0:
        raise ValueError(f"{name} has samples without values, got shape {tuple(tensor.shape)}.")
    if not torch.isfinite(matrix).all():
        raise ValueError(f"{name} must hold finite values, got shape {tuple(tensor.shape)}.")
    return matrix
