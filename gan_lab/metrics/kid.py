"""Kernel Inception Distance (Binkowski, Sutherland, Arbel & Gretton, "Demystifying MMD GANs", ICLR 2018).

KID is the squared maximum mean discrepancy between real and generated
features under the cubic polynomial kernel::

    k(x, y) = (x . y / d + 1)^3

estimated without bias on random subsets of ``subset_size`` real and
generated features (the unbiased MMD^2 drops the k(x_i, x_i) terms), and
reported as the mean and standard deviation over ``num_subsets`` subsets.
Unlike FID it has an unbiased estimator, so small samples do not inflate it
(it can be slightly negative when the two sets match).

The computation is torchmetrics' ``KernelInceptionDistance`` itself (100
subsets of 1,000 by default, std with ddof = 0), fed with precomputed
features through an identity "feature extractor", so no Inception network is
built.  Two things are added: determinism (torchmetrics draws the subsets
with the global ``torch.randperm``; we fork the RNG and seed it) and a
clipped subset size for small samples (torchmetrics raises instead).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torchmetrics.image.kid import KernelInceptionDistance


class PrecomputedFeatures(nn.Module):
    """Identity "feature extractor": the metric receives features, not images.

    torchmetrics passes a custom module's inputs through unchanged.  The int
    ``num_features`` attribute is what its ``FrechetInceptionDistance`` reads
    to learn the feature size without a dummy forward pass; KID does not need
    it, but with it the same module serves both.
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = int(num_features)

    def forward(self, features: Tensor) -> Tensor:
        return features


def kernel_inception_distance(
    real_features, fake_features, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Mean and std (ddof = 0) of the unbiased polynomial-kernel MMD^2 over random subsets.

    Args:
        real_features, fake_features: ``(N, d)`` feature arrays (tensors or arrays), already
            gathered from every process (no distributed sync happens here).
        num_subsets: number of random subsets (100 in torchmetrics and the paper's code).
        subset_size: samples per subset, clipped (with a warning) to the smaller set's size.
        seed: seed of the subset draws; the same inputs and seed give the same result.
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
            f"KID: subset_size={subset_size} is larger than the smaller sample ({len(real)} real, {len(fake)} fake); "
            f"using subsets of {available}. Values from different subset sizes have different variances.",
            UserWarning,
            stacklevel=2,
        )
        subset_size = available

    with warnings.catch_warnings():
        # torchmetrics warns that it stores every feature: that is exactly what we hand it.
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = KernelInceptionDistance(
            feature=PrecomputedFeatures(real.shape[1]),
            subsets=int(num_subsets),
            subset_size=int(subset_size),
            sync_on_compute=False,  # callers pass gathered features; syncing again would duplicate them
        ).to(real.device)
    metric.update(real, real=True)
    metric.update(fake.to(real.device), real=False)
    # The subsets come from the global torch.randperm: fork the CPU RNG so that seeding here
    # neither depends on nor disturbs the caller's random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def _as_features(features, name: str) -> Tensor:
    x = features.detach() if isinstance(features, Tensor) else torch.as_tensor(features)
    x = x.to(torch.float64)  # the cubic kernel amplifies rounding: compute in double
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, d) array of feature vectors, got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or infinite values.")
    return x
