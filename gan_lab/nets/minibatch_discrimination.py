"""Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", section 3.2).

A collapsed generator emits near-identical samples, and a discriminator that
judges each sample alone cannot tell: every one of them looks plausible.
Minibatch discrimination lets D look at the whole batch.  Each sample's
feature row f(x_i) in R^A is projected by a learned tensor T in R^{A x B x C}
to a matrix M_i in R^{B x C}; for each of the B "kernels" the closeness of two
samples is

    c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)          (L1 over the C entries)

and the layer appends to f(x_i) the B values

    o(x_i)_b = sum_{j != i} c_b(x_i, x_j),

so its output is [f(x_i), o(x_i)] of width A + B.  In a batch of N identical
rows every o(x_i)_b = N - 1; in a diverse batch they are close to 0, so D can
reject a collapsed batch and the generator is pushed to diversify.

As in the paper, D sees real and generated samples in separate batches, so
o(x) compares a sample only with others from the same source (the
``GANModule`` calls D on the two batches separately).

Deliberate differences from the authors' code (openai/improved-gan, whose
layer initialises T from N(0, 0.05^2) inside weight-normalised networks):

* T starts as N(0, 0.1^2) and there is no weight normalisation: gan_lab's
  discriminators use plain layers, and 0.1 keeps exp(-L1) away from 0 at
  the start for the feature scales of our MLP and DCGAN discriminators;
* the sum includes no self term: we sum over all j and subtract exp(0) = 1,
  which is exactly the sum over j != i.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

#: Standard deviation of T's initial entries (see the module docstring).
INIT_STD = 0.1


class MinibatchDiscrimination(nn.Module):
    """Append to each feature row how close it is to the other rows of its batch.

    Args:
        in_features: A, the width of the incoming features f(x).
        num_kernels: B, the number of closeness values appended.
        kernel_dim: C, the length of the rows M_{i,b} compared in L1.

    Shapes: input ``(N, A)``, output ``(N, A + B)``.
    """

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("num_kernels", num_kernels), ("kernel_dim", kernel_dim)):
            if int(value) < 1:
                raise ValueError(f"MinibatchDiscrimination: {name} must be a positive integer, got {value!r}.")
        self.in_features, self.num_kernels, self.kernel_dim = int(in_features), int(num_kernels), int(kernel_dim)
        self.out_features = self.in_features + self.num_kernels
        # T stored as (A, B * C): one matrix product gives every M_i at once.
        self.T = nn.Parameter(torch.randn(self.in_features, self.num_kernels * self.kernel_dim) * INIT_STD)

    def forward(self, features: Tensor) -> Tensor:
        if features.ndim != 2 or features.shape[1] != self.in_features:
            raise ValueError(
                f"MinibatchDiscrimination expects features of shape (N, {self.in_features}), "
                f"got {tuple(features.shape)}."
            )
        n = len(features)
        m = (features @ self.T).view(n, self.num_kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C): the M_i
        # All pairwise L1 distances per kernel, (B, N, N). torch.cdist(p=1) is up to 3x faster than
        # broadcasting |M_i - M_j| here (experiments/benchmarks/minibatch_discrimination_speed.py).
        l1 = torch.cdist(m, m, p=1)
        closeness = (torch.exp(-l1).sum(dim=2) - 1.0).T  # (N, B); minus the j = i term, exp(0) = 1
        return torch.cat([features, closeness], dim=1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_kernels={self.num_kernels}, kernel_dim={self.kernel_dim}"
