"""KID through torchmetrics: a hand-written unbiased MMD^2, determinism, and small-sample handling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

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


def test_matches_hand_written_unbiased_mmd_on_a_subset_covering_all_samples():
    # With subset_size = N every subset is a permutation of all samples: MMD^2 does not depend on the order.
    x, y = gaussian(300, 8, seed=0), gaussian(300, 8, seed=1, shift=0.3)
    mean, std = kernel_inception_distance(x, y, num_subsets=3, subset_size=300)
    assert mean == pytest.approx(unbiased_mmd2(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


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


def test_numpy_and_float32_inputs():
    x, y = gaussian(200, 4, seed=8), gaussian(200, 4, seed=9, shift=0.2)
    expected = kernel_inception_distance(x.float().double(), y.float().double(), num_subsets=5, subset_size=50)
    assert kernel_inception_distance(x.float().numpy(), y.float(), num_subsets=5, subset_size=50) == expected


def test_subset_size_is_clipped_with_a_warning():
    x, y = gaussian(50, 4, seed=10), gaussian(80, 4, seed=11)
    with pytest.warns(UserWarning, match="subset_size=1000"):
        clipped = kernel_inception_distance(x, y, num_subsets=4)
    assert clipped == kernel_inception_distance(x, y, num_subsets=4, subset_size=50)


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same dimension"):
        kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="2-D"):
        kernel_inception_distance(np.zeros(5), np.zeros(5))
