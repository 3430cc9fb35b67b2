"""gan_lab.lessons.theory: the paper's identities hold numerically (Goodfellow et al. 2014, Proposition 1, Theorem 1)."""

import math

import numpy as np
import pytest
import torch

from gan_lab.lessons.theory import (
    gaussian_mixture_on_grid,
    gaussian_on_grid,
    js_divergence,
    kl_divergence,
    optimal_discriminator,
    value_function,
)

LOG2, LOG4 = math.log(2), math.log(4)


def random_distribution(rng, n=50, sparsity=0.0):
    """A random distribution on n points; ``sparsity`` is the chance that a point gets no mass."""
    p = rng.random(n) * (rng.random(n) >= sparsity)
    p[rng.integers(n)] += 1e-3  # never all zero
    return p / p.sum()


@pytest.mark.parametrize("seed", range(10))
def test_value_at_the_optimal_discriminator_is_minus_log4_plus_twice_js(seed):
    rng = np.random.default_rng(seed)
    # Odd seeds leave holes in both supports: points where only one, or neither, distribution has mass.
    sparsity = 0.3 * (seed % 2)
    p_data, p_g = random_distribution(rng, sparsity=sparsity), random_distribution(rng, sparsity=sparsity)
    d_star = optimal_discriminator(p_data, p_g)
    assert value_function(p_data, p_g, d_star) == pytest.approx(-LOG4 + 2 * js_divergence(p_data, p_g), abs=1e-9)


def test_theorem_1_on_gridded_densities_with_a_cell_width():
    grid = np.linspace(-8, 8, 3001)
    dx = grid[1] - grid[0]
    p_data = gaussian_mixture_on_grid(grid, [-1.5, 1.5], [0.5, 0.5], floor=1e-9) / dx  # densities
    p_g = gaussian_on_grid(grid, 0.7, 1.2, floor=1e-9) / dx
    d_star = optimal_discriminator(p_data, p_g, dx=dx)
    js = js_divergence(p_data, p_g, dx=dx)
    assert 0 < js < LOG2
    assert value_function(p_data, p_g, d_star, dx=dx) == pytest.approx(-LOG4 + 2 * js, abs=1e-9)
    # Densities with dx and cell masses without it are the same distributions.
    assert js == pytest.approx(js_divergence(p_data * dx, p_g * dx), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_the_optimal_discriminator_maximises_the_value(seed):
    rng = np.random.default_rng(seed)
    p_data, p_g = random_distribution(rng), random_distribution(rng)
    d_star = optimal_discriminator(p_data, p_g)
    best = value_function(p_data, p_g, d_star)
    for scale in (1e-4, 1e-2, 0.1):
        for _ in range(10):
            d = np.clip(d_star + rng.normal(0, scale, d_star.shape), 1e-9, 1 - 1e-9)
            assert value_function(p_data, p_g, d) < best
    # Changing D at a single point lowers V too: D* is the pointwise maximiser.
    d = d_star.copy()
    d[7] = 0.5 * (d[7] + 1.0)
    assert value_function(p_data, p_g, d) < best


def test_js_is_symmetric_bounded_by_log2_and_zero_only_for_equal_distributions():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p, q = random_distribution(rng, sparsity=0.5), random_distribution(rng, sparsity=0.5)
        assert 0 < js_divergence(p, q) <= LOG2 + 1e-12
        assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), abs=1e-12)
    p = random_distribution(rng)
    assert js_divergence(p, p) == pytest.approx(0, abs=1e-12)


def test_js_is_log2_for_disjoint_supports():
    disjoint_p, disjoint_q = np.array([0.5, 0.5, 0, 0]), np.array([0, 0, 0.3, 0.7])
    assert js_divergence(disjoint_p, disjoint_q) == pytest.approx(LOG2, abs=1e-12)
    # ... and the game's value is then 0: D* = 1 on p_data's support and 0 on p_g's, no mistakes.
    d_star = optimal_discriminator(disjoint_p, disjoint_q)
    assert np.array_equal(d_star, [1, 1, 0, 0])
    assert value_function(disjoint_p, disjoint_q, d_star) == pytest.approx(0, abs=1e-12)


def test_optimal_discriminator_is_one_half_when_the_generator_is_perfect():
    p = random_distribution(np.random.default_rng(1), sparsity=0.3)
    assert np.any(p == 0)  # so that the convention D* = 1/2 where neither has mass is exercised too
    assert np.array_equal(optimal_discriminator(p, p), np.full(p.shape, 0.5))
    assert value_function(p, p, optimal_discriminator(p, p)) == pytest.approx(-LOG4, abs=1e-12)


def test_optimal_discriminator_is_one_half_where_neither_distribution_has_mass():
    d_star = optimal_discriminator([0.5, 0.0, 0.5], [0.25, 0.0, 0.75])
    assert d_star == pytest.approx([2 / 3, 0.5, 0.4])
    assert np.all(np.isfinite(d_star))


def test_kl_is_asymmetric_and_infinite_off_support():
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    forward, reverse = kl_divergence(p, q), kl_divergence(q, p)
    assert forward == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert reverse == pytest.approx(0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5))
    assert forward != pytest.approx(reverse)
    assert kl_divergence(p, np.array([1.0, 0.0])) == math.inf  # p has mass where q has none
    assert kl_divergence(np.array([1.0, 0.0]), p) == pytest.approx(LOG2)  # 0 log 0 = 0
    assert kl_divergence(p, p) == 0


def test_kl_between_gridded_gaussians_matches_the_closed_form():
    grid = np.linspace(-16, 16, 6401)  # wide: q = N(1.5, 2^2) must not lose tail mass
    dx = grid[1] - grid[0]
    # KL(N(0, 1) || N(1.5, 2^2)) = log(2) + (1 + 1.5^2) / (2 * 2^2) - 1/2
    expected = math.log(2) + (1 + 1.5**2) / 8 - 0.5
    p, q = gaussian_on_grid(grid, 0, 1), gaussian_on_grid(grid, 1.5, 2)
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-6)
    assert kl_divergence(p / dx, q / dx, dx=dx) == pytest.approx(expected, rel=1e-6)


def test_gaussian_helpers_are_normalised_on_the_grid():
    grid = np.linspace(-6, 6, 1201)
    dx = grid[1] - grid[0]
    single = gaussian_on_grid(grid, 1.0, 0.5)
    assert single.sum() == pytest.approx(1, abs=1e-12)
    assert np.sum(grid * single) == pytest.approx(1.0, abs=1e-9)  # the mean
    assert single.max() / dx == pytest.approx(1 / (0.5 * math.sqrt(2 * math.pi)), rel=1e-6)  # the peak density
    mixture = gaussian_mixture_on_grid(grid, [-2, 2], [0.5, 0.5], weights=[3, 1])
    assert mixture.sum() == pytest.approx(1, abs=1e-12)
    assert mixture[grid < 0].sum() == pytest.approx(0.75, abs=1e-4)  # tails cross 0: Phi(-4) ~ 3e-5
    floored = gaussian_on_grid(grid, 0, 0.1, floor=1e-6)
    assert floored.sum() == pytest.approx(1, abs=1e-12) and floored.min() >= 1e-6 / grid.size
    # A Gaussian far outside the grid is still a distribution on it (its truncation).
    assert gaussian_on_grid(grid, 100, 0.1).sum() == pytest.approx(1)


def test_torch_tensors_are_accepted():
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float32, requires_grad=True)
    q = torch.tensor([0.5, 0.3, 0.2])
    assert js_divergence(p, q) == pytest.approx(js_divergence(p.detach().numpy(), q.numpy()))
    assert isinstance(optimal_discriminator(p, q), np.ndarray)


@pytest.mark.parametrize(
    "p, q, dx, message",
    [
        ([0.5, 0.6], [0.5, 0.5], 1.0, "must sum to 1"),
        ([1.5, -0.5], [0.5, 0.5], 1.0, "non-negative"),
        ([0.5, float("nan")], [0.5, 0.5], 1.0, "finite"),
        ([1.0], [0.5, 0.5], 1.0, "same shape"),
        ([[1.0]], [[1.0]], 1.0, "1D array"),
        ([], [], 1.0, "non-empty"),
        ([0.5, 0.5], [0.5, 0.5], 0.0, "dx must be"),
        ([0.5, 0.5], [0.5, 0.5], 0.5, "times dx"),  # masses sum to 1, so as densities with dx=0.5 they do not
    ],
)
def test_invalid_distributions_raise(p, q, dx, message):
    for function in (js_divergence, kl_divergence, optimal_discriminator):
        with pytest.raises(ValueError, match=message):
            function(p, q, dx=dx)


def test_invalid_discriminator_raises():
    p = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        value_function(p, p, np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        value_function(p, p, np.array([0.5, float("nan")]))
    with pytest.raises(ValueError, match="shape"):
        value_function(p, p, np.array([0.5]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"grid": [0.0, 1.0, 3.0]}, "evenly spaced"),
        ({"grid": [1.0, 0.0]}, "increasing"),
        ({"grid": [0.0]}, "at least 2"),
        ({"std": 0.0}, "stds positive"),
        ({"floor": 1.0}, "floor"),
    ],
)
def test_invalid_grid_gaussians_raise(kwargs, message):
    arguments = {"grid": np.linspace(-1, 1, 11), "mean": 0.0, "std": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        gaussian_on_grid(**arguments)
    with pytest.raises(ValueError, match="weights"):
        gaussian_mixture_on_grid(np.linspace(-1, 1, 11), [0, 1], [1, 1], weights=[0, 0])
