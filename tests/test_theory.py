"""gan_lab.theory: the paper's identities hold numerically (Goodfellow et al. 2014, Proposition 1, Theorem 1)."""

import math

import numpy as np
import pytest

from gan_lab.theory import js_divergence, kl_divergence, optimal_discriminator, value_function


def random_distribution(rng, n=50, sparsity=0.0):
    p = rng.random(n) * (rng.random(n) >= sparsity)
    p[rng.integers(n)] += 1e-3  # never all zero
    return p / p.sum()


@pytest.mark.parametrize("seed", range(10))
def test_value_at_the_optimal_discriminator_is_minus_log4_plus_twice_js(seed):
    rng = np.random.default_rng(seed)
    p_data, p_g = random_distribution(rng, sparsity=0.3 * (seed % 2)), random_distribution(rng)
    d_star = optimal_discriminator(p_data, p_g)
    assert value_function(p_data, p_g, d_star) == pytest.approx(-math.log(4) + 2 * js_divergence(p_data, p_g), abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_the_optimal_discriminator_maximises_the_value(seed):
    rng = np.random.default_rng(seed)
    p_data, p_g = random_distribution(rng), random_distribution(rng)
    d_star = optimal_discriminator(p_data, p_g)
    best = value_function(p_data, p_g, d_star)
    for _ in range(20):
        d = np.clip(d_star + rng.normal(0, 0.05, d_star.shape), 1e-6, 1 - 1e-6)
        assert value_function(p_data, p_g, d) < best


def test_js_is_bounded_by_log2_and_zero_only_for_equal_distributions():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p, q = random_distribution(rng, sparsity=0.5), random_distribution(rng, sparsity=0.5)
        assert 0 <= js_divergence(p, q) <= math.log(2) + 1e-12
        assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), abs=1e-12)
    p = random_distribution(rng)
    assert js_divergence(p, p) == pytest.approx(0, abs=1e-12)
    disjoint_p, disjoint_q = np.array([0.5, 0.5, 0, 0]), np.array([0, 0, 0.3, 0.7])
    assert js_divergence(disjoint_p, disjoint_q) == pytest.approx(math.log(2), abs=1e-12)


def test_optimal_discriminator_is_one_half_when_the_generator_is_perfect():
    p = random_distribution(np.random.default_rng(1), sparsity=0.3)
    assert np.allclose(optimal_discriminator(p, p), 0.5)
    assert value_function(p, p, optimal_discriminator(p, p)) == pytest.approx(-math.log(4), abs=1e-12)


def test_kl_is_asymmetric_and_infinite_off_support():
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    forward, reverse = kl_divergence(p, q), kl_divergence(q, p)
    assert forward == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert reverse == pytest.approx(0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5))
    assert forward != pytest.approx(reverse)
    assert kl_divergence(p, np.array([1.0, 0.0])) == math.inf
    assert kl_divergence(np.array([1.0, 0.0]), p) == pytest.approx(math.log(2))


def test_densities_on_a_grid_with_a_cell_width():
    grid = np.linspace(-8, 8, 4001)
    dx = grid[1] - grid[0]

    def normal(mean, std):
        return np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))

    # KL between unit-variance Gaussians is (mu1 - mu2)^2 / 2.
    assert kl_divergence(normal(0, 1), normal(1.5, 1), dx=dx) == pytest.approx(1.125, rel=1e-6)


@pytest.mark.parametrize(
    "p, q, message",
    [
        ([0.5, 0.6], [0.5, 0.5], "must sum to 1"),
        ([1.5, -0.5], [0.5, 0.5], "non-negative"),
        ([1.0], [0.5, 0.5], "same shape"),
        ([[1.0]], [[1.0]], "1D array"),
    ],
)
def test_invalid_distributions_raise(p, q, message):
    with pytest.raises(ValueError, match=message):
        js_divergence(p, q)


def test_invalid_discriminator_raises():
    p = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        value_function(p, p, np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="shape"):
        value_function(p, p, np.array([0.5]))
