"""Kernel Inception Distance (Binkowski, Sutherland, Arbel & Gretton, "Demystifying MMD GANs", ICLR 2018).

KID is the squared maximum mean discrepancy between real and generated
features under the cubic polynomial kernel::

    k(x, y) = (x . y / d + 1)^3

estimated without bias on random subsets of ``subset_size`` real and
generated features (the unbiased MMD^2 drops the k(x_i, x_i) terms), and
reported as the mean and standard deviation over ``num_subsets`` subsets.
Unlike FID it has an unbiased estimator, so small samples do not inflate it
(it can be slightly negative when the two sets match).

Each subset's MMD^2 is torchmetrics' own maths (``poly_mmd`` from
``torchmetrics.image.kid``, the function its ``KernelInceptionDistance``
calls; 100 subsets of 1,000 by default, std with ddof = 0), in float64.  The
subsets are drawn as torchmetrics draws them -- per subset one
``randperm`` of the reals then one of the fakes, first ``subset_size`` of
each, so no sample repeats within a subset -- but from a private
``torch.Generator`` seeded with ``seed`` rather than the global RNG.
Seeding the global RNG instead, even inside ``fork_rng(devices=[])``, is
not clean: ``torch.manual_seed`` re-seeds every CUDA generator too, and
that fork does not restore them.  A private CPU generator reads and changes
no global state, and with the same seed its Mersenne Twister yields the
permutations the seeded global CPU generator would, so the values equal
torchmetrics' class run after ``torch.manual_seed(seed)``.  Small samples
get a capped subset size (torchmetrics raises instead).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torchmetrics.image.kid import poly_mmd


def kernel_inception_distance(
    real_features, fake_features, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Mean and std (ddof = 0) of the unbiased polynomial-kernel MMD^2 over random subsets.

    Args:
        real_features, fake_features: ``(N, d)`` feature arrays (tensors or arrays), already
            gathered from every process (no distributed sync happens here).
        num_subsets: number of random subsets (100 in torchmetrics and the paper's code).
        subset_size: samples per subset, capped (with a warning) at the smaller set's size.
        seed: seed of the private generator that draws the subsets; the same inputs and seed
            give the same result, and no global random state is read or changed.
    """
    real, fake = _as_features(real_features, "real_features"), _as_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and fake features must have the same dimension, got {real.shape[1]} and {fake.shape[1]}."
        )
    if num_subsets < 1 or subset_size < 2:
        raise ValueError(f"need num_subsets >= 1 and subset_size >= 2, got {num_subsets} and {subset_size}.")
    available = min(len(real), len(fake))
    if available < 2:
        # The unbiased estimator divides by m (m - 1): it needs two samples per set.
        raise ValueError(f"KID needs at least 2 real and 2 fake samples, got {len(real)} and {len(fake)}.")
    if subset_size > available:
        warnings.warn(
            f"KID: subset_size={subset_size} capped to {available}, the size of the smaller sample "
            f"({len(real)} real, {len(fake)} fake). Values from different subset sizes have different variances.",
            UserWarning,
            stacklevel=2,
        )
        subset_size = available

    fake = fake.to(real.device)
    generator = torch.Generator().manual_seed(int(seed))  # CPU, private: indices are drawn on the CPU
    scores = torch.empty(int(num_subsets), dtype=torch.float64, device=real.device)  # (num_subsets,)
    for subset in range(int(num_subsets)):
        # Same order of draws as torchmetrics' compute: reals, then fakes, for each subset.
        real_index = torch.randperm(len(real), generator=generator)[:subset_size]  # (m,)
        fake_index = torch.randperm(len(fake), generator=generator)[:subset_size]  # (m,)
        # Kernel (x . y / d + 1)^3, torchmetrics' (and the paper's) defaults, spelled out.
        scores[subset] = poly_mmd(
            real[real_index.to(real.device)], fake[fake_index.to(real.device)], degree=3, gamma=None, coef=1.0
        )
    return float(scores.mean()), float(scores.std(unbiased=False))


def _as_features(features, name: str) -> Tensor:
    x = features.detach() if isinstance(features, Tensor) else torch.as_tensor(features)
    x = x.to(torch.float64)  # the cubic kernel amplifies rounding: compute in double
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, d) array of feature vectors, got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or infinite values.")
    return x
