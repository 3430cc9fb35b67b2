"""Kernel Inception Distance (Binkowski, Sutherland, Arbel & Gretton, "Demystifying MMD GANs", ICLR 2018).

KID is the squared maximum mean discrepancy between real and generated
features under the cubic polynomial kernel::

    k(x, y) = (x . y / d + 1)^3

estimated without bias on random subsets of ``subset_size`` real and
generated features (the unbiased MMD^2 drops the k(x_i, x_i) terms), and
reported as the mean and standard deviation over ``num_subsets`` subsets.
Unlike FID it has an unbiased estimator, so small samples do not inflate it
(it can be slightly negative when the two sets match).

Each subset's MMD^2 is the estimator of torchmetrics' ``KernelInceptionDistance`` (its ``poly_mmd``;
100 subsets of 1,000 by default, std with ddof = 0), written once here (:func:`unbiased_mmd2`) and computed
in float64; the tests compare it with torchmetrics on the same subsets.  The
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

Speed: 100 subsets of 1,000 cost 300 kernel matrices of 1,000 x 1,000.  For
up to :data:`FULL_KERNEL_LIMIT` samples per set the whole kernel matrices are
formed once instead, and each subset's three sums are read off them with an
indicator-matrix product (the same sums, in another order: equal to
torchmetrics to rounding); :class:`KIDAgainstReal` also keeps the real side
across evaluations.  The evaluation computes KID's generated side in the pass
it shares with the k-NN metrics (:mod:`gan_lab.metrics.shared_pass`), by row
blocks of the same kernel matrices.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

#: Up to this many samples per set, whole (N, N) kernel matrices are formed (8 N^2 bytes each) and every
#: subset's sums are read off them with one matrix product; above it, each subset's kernels are computed alone.
FULL_KERNEL_LIMIT = 8192


def polynomial_kernel(x: Tensor, y: Tensor) -> Tensor:
    """k(x, y) = (x . y / d + 1)^3 for all pairs: ``(N, d), (M, d) -> (N, M)`` (torchmetrics' and the paper's kernel)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def unbiased_mmd2(real_sums: Tensor, fake_sums: Tensor, cross_sums: Tensor, m: int) -> Tensor:
    """The unbiased MMD^2 estimate of each subset ``(S,)`` from its kernel sums (Binkowski et al. 2018, eq. 3):
    ``k(x, x')`` over pairs i != j of real samples, likewise of generated ones, and ``k(x, y)`` over all m^2 pairs:

        MMD^2_u = (sum k(x_i, x_j) + sum k(y_i, y_j)) / (m (m - 1)) - 2 sum k(x_i, y_j) / m^2

    The one place KID's estimator is written: :class:`KIDAgainstReal` and the shared pass
    (:mod:`gan_lab.metrics.shared_pass`) only differ in how they add up the sums."""
    return (real_sums + fake_sums) / (m * (m - 1)) - 2 * cross_sums / m**2


class KIDAgainstReal:
    """KID of generated feature sets against one fixed real set, the real side computed once.

    Training scores a new generated set at every evaluation against the same
    real features, with the same subsets (same seed): the real-real kernel sums
    of every subset are computed here once, and each call computes only the
    generated side.  Values equal :func:`kernel_inception_distance`'s.

    Args:
        real_features: ``(N, d)`` real features.
        num_fake: size of the generated sets that will be scored (the subsets are drawn for it).
        num_subsets, subset_size, seed: as in :func:`kernel_inception_distance`.
    """

    def __init__(self, real_features, num_fake: int, num_subsets: int = 100, subset_size: int = 1000,
                 seed: int = 0) -> None:
        real = _as_features(real_features, "real_features")
        if num_subsets < 1 or subset_size < 2:
            raise ValueError(f"need num_subsets >= 1 and subset_size >= 2, got {num_subsets} and {subset_size}.")
        available = min(len(real), int(num_fake))
        if available < 2:
            # The unbiased estimator divides by m (m - 1): it needs two samples per set.
            raise ValueError(f"KID needs at least 2 real and 2 fake samples, got {len(real)} and {num_fake}.")
        if subset_size > available:
            warnings.warn(
                f"KID: subset_size={subset_size} capped to {available}, the size of the smaller sample "
                f"({len(real)} real, {num_fake} fake). Values from different subset sizes have different variances.",
                UserWarning,
                stacklevel=2,
            )
            subset_size = available
        self.real, self.num_fake, self.subset_size = real, int(num_fake), int(subset_size)
        generator = torch.Generator().manual_seed(int(seed))  # CPU, private: indices are drawn on the CPU
        real_index, fake_index = [], []
        for _ in range(int(num_subsets)):
            # Same order of draws as torchmetrics' compute: reals, then fakes, for each subset.
            real_index.append(torch.randperm(len(real), generator=generator)[:subset_size])
            fake_index.append(torch.randperm(self.num_fake, generator=generator)[:subset_size])
        self.real_index, self.fake_index = torch.stack(real_index), torch.stack(fake_index)  # (S, m) each
        self.full = max(len(real), self.num_fake) <= FULL_KERNEL_LIMIT
        if self.full:
            self.real_indicator = _indicator(self.real_index, len(real)).to(real)  # (S, N_real)
            self.real_sums = _off_diagonal_block_sums(polynomial_kernel(real, real), self.real_indicator)  # (S,)
        else:  # one subset at a time: (m, m) kernels, never an (N, N) one
            self.real_sums = torch.stack([_off_diagonal_sum(polynomial_kernel(real[r], real[r]))
                                          for r in self.real_index.to(real.device)])  # (S,)

    def __call__(self, fake_features) -> tuple[float, float]:
        """Mean and std (ddof = 0) over the subsets of the unbiased MMD^2 between the real set and ``fake_features``."""
        fake = _as_features(fake_features, "fake_features").to(self.real.device)
        if fake.shape[1] != self.real.shape[1]:
            raise ValueError(
                f"real and fake features must have the same dimension, got {self.real.shape[1]} and {fake.shape[1]}."
            )
        if len(fake) != self.num_fake:
            raise ValueError(f"this KID was set up for {self.num_fake} fake samples, got {len(fake)}.")
        m = self.subset_size
        if self.full:
            fake_indicator = _indicator(self.fake_index, len(fake)).to(fake)  # (S, N_fake)
            fake_sums = _off_diagonal_block_sums(polynomial_kernel(fake, fake), fake_indicator)
            cross = ((self.real_indicator @ polynomial_kernel(self.real, fake)) * fake_indicator).sum(dim=1)  # (S,)
        else:  # one subset at a time: two (m, m) kernels each, the real side's sums already made
            fake_sums, cross = fake.new_empty(len(self.fake_index)), fake.new_empty(len(self.fake_index))  # (S,) each
            for s, (r, f) in enumerate(zip(self.real_index.to(fake.device), self.fake_index.to(fake.device))):
                fake_sums[s] = _off_diagonal_sum(polynomial_kernel(fake[f], fake[f]))
                cross[s] = polynomial_kernel(self.real[r], fake[f]).sum()
        scores = unbiased_mmd2(self.real_sums, fake_sums, cross, m)
        return float(scores.mean()), float(scores.std(unbiased=False))


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
    fake = _as_features(fake_features, "fake_features")
    return KIDAgainstReal(real_features, len(fake), num_subsets, subset_size, seed)(fake)


def _indicator(index: Tensor, size: int) -> Tensor:
    """``(S, m)`` distinct indices per row -> ``(S, size)`` 0/1 float64 rows marking them."""
    rows = torch.zeros(len(index), size, dtype=torch.float64)
    rows.scatter_(1, index, 1.0)
    return rows


def _off_diagonal_sum(kernel: Tensor) -> Tensor:
    """The sum of ``kernel[i, j]`` over i != j of a square kernel matrix: a scalar tensor."""
    return kernel.sum() - kernel.diagonal().sum()


def _off_diagonal_block_sums(kernel: Tensor, indicator: Tensor) -> Tensor:
    """For each subset s, the sum of ``kernel[i, j]`` over i != j both in s: ``1_s^T K 1_s - 1_s . diag(K)``."""
    return ((indicator @ kernel) * indicator).sum(dim=1) - indicator @ kernel.diagonal()


def _as_features(features, name: str) -> Tensor:
    x = features.detach() if isinstance(features, Tensor) else torch.as_tensor(features)
    x = x.to(torch.float64)  # the cubic kernel amplifies rounding: compute in double
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, d) array of feature vectors, got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or infinite values.")
    return x
