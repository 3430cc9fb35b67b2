"""Minibatch discrimination (Salimans et al. 2016, section 3.2)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """Append to each feature row how close it is to the other rows of its batch.

    ``M_i = f(x_i) T`` with ``T`` of shape (A, B, C); ``c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_1)``;
    ``o(x_i)_b = sum_{j != i} c_b(x_i, x_j)``; output ``[f(x_i), o(x_i)]`` of width A + B.
    """

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        self.out_features = in_features + num_kernels
        self.T = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) * 0.1)

    def forward(self, features: Tensor) -> Tensor:
        m = (features @ self.T).view(len(features), self.num_kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        closeness = torch.exp(-torch.cdist(m, m, p=1)).sum(dim=2) - 1  # (B, N): minus the self term exp(0)
        return torch.cat([features, closeness.T], dim=1)
