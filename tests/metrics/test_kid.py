"""KID: a hand-written unbiased MMD^2, torchmetrics' class, determinism without global RNG, small samples."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torchmetrics.image.kid import KernelInceptionDistance

from gan_lab.metrics import kernel_inception_distance


def unbiased_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD^2 with the cubic kernel k(a, b) = (a.b / d + 1)^3 (Binkowski et al. 2018, eq. 2)."""
    d = x.shape[1]
    m, n = len(x), len(y)
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))  # i != j only
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


class Identity(nn.Module):
    """torchmetrics' "feature extractor" for precomputed features."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def torchmetrics_kid(x: torch.Tensor, y: torch.Tensor, num_subsets: int, subset_size: int) -> tuple[float, float]:
    """torchmetrics' ``KernelInceptionDistance`` on features; its subsets come from the global RNG."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = KernelInceptionDistance(feature=Identity(), subsets=num_subsets, subset_size=subset_size)
    metric.update(x, real=True)
    metric.update(y, real=False)
    mean, std = metric.compute()
    return float(mean), float(std)


def test_matches_hand_written_unbiased_mmd_on_a_subset_covering_all_samples():
    # With subset_size = N every subset is a permutation of all samples: MMD^2 does not depend on the order.
    x, y = gaussian(300, 8, seed=0), gaussian(300, 8, seed=1, shift=0.3)
    mean, std = kernel_inception_distance(x, y, num_subsets=3, subset_size=300)
    assert mean == pytest.approx(unbiased_mmd2(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_matches_torchmetrics_on_subsets_covering_all_samples():
    # One subset of all samples: the permutation cannot matter, so this compares the maths alone.
    x, y = gaussian(250, 8, seed=12), gaussian(250, 8, seed=13, shift=0.2)
    assert kernel_inception_distance(x, y, num_subsets=1, subset_size=250) == pytest.approx(
        torchmetrics_kid(x, y, num_subsets=1, subset_size=250), rel=1e-12, abs=1e-15
    )


def test_matches_torchmetrics_on_the_same_random_subsets():
    # torchmetrics draws randperm(N_real), randperm(N_fake) per subset from the global CPU generator; a
    # private generator with the same seed yields the same permutations, so the subsets are identical.
    x, y = gaussian(400, 6, seed=14), gaussian(300, 6, seed=15, shift=0.3)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)  # the test, not the code under test, seeds the global RNG (inside a fork)
        expected = torchmetrics_kid(x, y, num_subsets=10, subset_size=120)
    got = kernel_inception_distance(x, y, num_subsets=10, subset_size=120, seed=7)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got[1] > 0  # different subsets really were drawn


def test_a_set_with_itself_is_about_zero():
    x, far = gaussian(400, 8, seed=2), gaussian(400, 8, seed=3, shift=0.5)
    mean_self, _ = kernel_inception_distance(x, x, num_subsets=3, subset_size=400)
    # Not exactly 0: the cross term keeps k(x_i, x_i), the within terms drop it, which leaves
    # -2/m^2 sum_i k(x_i, x_i) + 2/(m^2 (m-1)) sum_{i != j} k(x_i, x_j) = O(1/m).
    assert mean_self == pytest.approx(unbiased_mmd2(x, x), rel=1e-10)
    assert abs(mean_self) < 0.05 * kernel_inception_distance(x, far, num_subsets=3, subset_size=400)[0]


def test_independent_samples_of_one_distribution_are_about_zero():
    mean, std = kernel_inception_distance(gaussian(2000, 8, seed=4), gaussian(2000, 8, seed=5), 20, 500)
    shifted, _ = kernel_inception_distance(gaussian(2000, 8, seed=4), gaussian(2000, 8, seed=5, shift=0.3), 20, 500)
    assert abs(mean) < 3 * std
    assert shifted > 10 * abs(mean)


def test_deterministic_and_leaves_the_global_rng_alone():
    x, y = gaussian(500, 4, seed=6), gaussian(500, 4, seed=7, shift=0.2)
    torch.manual_seed(123)
    first = kernel_inception_distance(x, y, num_subsets=10, subset_size=100, seed=0)
    after_call = torch.rand(1)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), after_call)  # the call did not consume or reseed the caller's RNG
    assert kernel_inception_distance(x, y, num_subsets=10, subset_size=100, seed=0) == first
    assert kernel_inception_distance(x, y, num_subsets=10, subset_size=100, seed=1) != first


def test_never_touches_a_global_generator(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("kernel_inception_distance touched a global random generator")

    for module, name in (
        (torch, "manual_seed"), (torch.random, "manual_seed"), (torch, "seed"), (torch.random, "seed"),
        (torch, "set_rng_state"), (torch.random, "set_rng_state"), (torch.random, "fork_rng"),
        (torch.cuda, "manual_seed"), (torch.cuda, "manual_seed_all"), (torch.cuda, "seed"), (torch.cuda, "seed_all"),
    ):
        monkeypatch.setattr(module, name, forbidden)
    x, y = gaussian(300, 4, seed=16), gaussian(300, 4, seed=17, shift=0.2)
    cpu_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    first = kernel_inception_distance(x, y, num_subsets=8, subset_size=100, seed=3)
    assert torch.equal(torch.get_rng_state(), cpu_state)
    if cuda_states:
        assert all(torch.equal(a, b) for a, b in zip(torch.cuda.get_rng_state_all(), cuda_states))
    assert kernel_inception_distance(x, y, num_subsets=8, subset_size=100, seed=3) == first


def test_numpy_and_float32_inputs():
    x, y = gaussian(200, 4, seed=8), gaussian(200, 4, seed=9, shift=0.2)
    expected = kernel_inception_distance(x.float().double(), y.float().double(), num_subsets=5, subset_size=50)
    assert kernel_inception_distance(x.float().numpy(), y.float(), num_subsets=5, subset_size=50) == expected


def test_subset_size_is_clipped_with_a_warning():
    x, y = gaussian(50, 4, seed=10), gaussian(80, 4, seed=11)
    with pytest.warns(UserWarning, match="subset_size=1000 capped to 50"):
        clipped = kernel_inception_distance(x, y, num_subsets=4)
    assert clipped == kernel_inception_distance(x, y, num_subsets=4, subset_size=50)


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same dimension"):
        kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="2-D"):
        kernel_inception_distance(np.zeros(5), np.zeros(5))


def test_full_kernel_route_equals_the_per_subset_route(monkeypatch):
    import gan_lab.metrics.kid as kid

    x, y = gaussian(600, 8, seed=1), gaussian(500, 8, seed=2, shift=0.2)
    full = kernel_inception_distance(x, y, num_subsets=7, subset_size=300, seed=3)
    monkeypatch.setattr(kid, "FULL_KERNEL_LIMIT", 0)  # every subset's kernels on their own
    per_subset = kernel_inception_distance(x, y, num_subsets=7, subset_size=300, seed=3)
    assert full == pytest.approx(per_subset, rel=1e-12, abs=1e-15)


def test_kid_against_real_scores_several_fake_sets_like_the_function():
    from gan_lab.metrics.kid import KIDAgainstReal

    real = gaussian(400, 6, seed=4)
    estimator = KIDAgainstReal(real, num_fake=300, num_subsets=5, subset_size=200, seed=9)
    for seed in (5, 6):
        fake = gaussian(300, 6, seed=seed, shift=0.1 * seed)
        assert estimator(fake) == pytest.approx(kernel_inception_distance(real, fake, 5, 200, seed=9), rel=1e-12)
    with pytest.raises(ValueError, match="set up for 300 fake samples"):
        estimator(gaussian(299, 6, seed=7))
