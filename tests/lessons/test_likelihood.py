"""Parzen-window log-likelihood (Goodfellow et al. 2014, section 5): known densities, bandwidth, standard error."""

import math
import warnings

import numpy as np
import pytest
import torch

from gan_lab.lessons.likelihood import (
    GOODFELLOW_SIGMAS,
    default_sigmas,
    parzen_estimate,
    parzen_log_likelihood,
    select_bandwidth,
)


def standard_normal_log_density(x):
    """log N(x; 0, I) of each row of x."""
    x = np.asarray(x).reshape(len(x), -1)
    return -0.5 * (x**2).sum(axis=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)


def test_one_sample_gives_exactly_the_gaussian_log_density():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    result = parzen_log_likelihood(np.zeros((1, 2)), x, sigma=0.7)
    expected = -0.5 * (x**2).sum(axis=1) / 0.7**2 - math.log(2 * math.pi * 0.7**2)  # d = 2
    np.testing.assert_allclose(result.per_point, expected, rtol=0, atol=1e-12)
    assert result.sigma == 0.7


@pytest.mark.parametrize("dim, sigma", [(1, 0.1), (2, 0.2)])
def test_many_samples_approach_the_true_mean_log_density(dim, sigma):
    rng = np.random.default_rng(dim)
    test = rng.standard_normal((1000, dim))
    true_log_density = standard_normal_log_density(test)
    errors = {}
    for n in (500, 20_000):
        result = parzen_log_likelihood(rng.standard_normal((n, dim)), test, sigma=sigma)
        errors[n] = abs(result.mean - true_log_density.mean())
    assert errors[20_000] < 0.03  # the estimate is close with many samples...
    assert errors[20_000] < errors[500]  # ... and closer than with few
    # The analytic expectation E[log N(x; 0, I)] = -d (1 + log 2 pi) / 2, within sampling error of the test set.
    assert true_log_density.mean() == pytest.approx(-0.5 * dim * (1 + math.log(2 * math.pi)), abs=0.1)


def test_standard_error_is_std_over_sqrt_n():
    rng = np.random.default_rng(1)
    result = parzen_log_likelihood(rng.standard_normal((300, 3)), rng.standard_normal((400, 3)), sigma=0.5)
    assert result.per_point.shape == (400,)
    assert result.mean == pytest.approx(result.per_point.mean())
    assert result.std_error == pytest.approx(result.per_point.std() / math.sqrt(400))  # ddof=0, as parzen_ll.py


def test_bandwidth_selection_finds_the_known_optimum():
    # Samples from N(0, 0.6^2 I), validation data from N(0, I). With many samples the Parzen window is
    # N(0, (0.36 + sigma^2) I), whose expected log-likelihood under N(0, I) peaks where 0.36 + sigma^2 = 1:
    # the best bandwidth makes up the variance the "generator" lacks, sigma* = 0.8.
    rng = np.random.default_rng(2)
    samples, validation = rng.normal(0, 0.6, (2000, 2)), rng.standard_normal((1000, 2))
    sigmas = np.linspace(0.5, 1.1, 13)
    best, scores = select_bandwidth(samples, validation, sigmas)
    assert best == pytest.approx(0.8, abs=0.051)
    assert scores.shape == (13,) and scores[np.argmax(scores)] == scores.max()
    assert scores[0] < scores.max() and scores[-1] < scores.max()  # an interior optimum
    # The full protocol picks the same bandwidth and reports the score on the test points.
    estimate = parzen_estimate(samples, validation, validation, sigmas)
    assert estimate.sigma == best and estimate.mean == pytest.approx(scores.max())


def test_select_bandwidth_warns_when_the_best_sigma_is_at_the_edge_of_the_grid():
    rng = np.random.default_rng(3)
    samples, validation = rng.standard_normal((500, 1)), rng.standard_normal((200, 1))
    with pytest.warns(UserWarning, match="edge of the grid"):
        best, _ = select_bandwidth(samples, validation, [10.0, 20.0, 40.0])  # all far too wide
    assert best == 10.0


def test_default_grid_follows_the_data_scale():
    rng = np.random.default_rng(4)
    samples = rng.normal(0, 5.0, (1000, 3))
    sigmas = default_sigmas(samples)
    assert sigmas[0] == pytest.approx(0.05, rel=0.1) and sigmas[-1] == pytest.approx(50, rel=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimum must lie inside the default grid
        result = parzen_estimate(samples, rng.normal(0, 5.0, (300, 3)), rng.normal(0, 5.0, (300, 3)))
    assert sigmas[0] < result.sigma < sigmas[-1]
    assert GOODFELLOW_SIGMAS[0] == pytest.approx(0.1) and GOODFELLOW_SIGMAS[-1] == pytest.approx(1.0)
    assert len(GOODFELLOW_SIGMAS) == 10


def test_noise_99_percent_of_the_time_loses_only_log_100_nats():
    # The maths: a model emitting noise 99 % of the time has density q = 0.01 p + 0.99 noise >= 0.01 p,
    # so log q(x) >= log p(x) - log 100 ≈ log p(x) - 4.6 nats, with equality where the noise puts no mass.
    rng = np.random.default_rng(5)
    log_p = standard_normal_log_density(rng.standard_normal((1000, 1)))
    assert np.allclose(np.log(0.01 * np.exp(log_p)), log_p - math.log(100))
    assert math.log(100) == pytest.approx(4.6, abs=0.01)
    # The same through the estimator: 99 noise samples per good one, far from the test data, cost
    # exactly log 100 per test point (the far kernels add nothing; N grows 100-fold).
    good = rng.standard_normal((50, 2))
    noise = rng.uniform(1000, 2000, (99 * 50, 2))
    test = rng.standard_normal((200, 2))
    clean = parzen_log_likelihood(good, test, sigma=0.5)
    noisy = parzen_log_likelihood(np.concatenate([good, noise]), test, sigma=0.5)
    np.testing.assert_allclose(clean.per_point - noisy.per_point, math.log(100), rtol=0, atol=1e-9)


def test_tensors_of_any_shape_are_flattened_and_batching_does_not_change_the_result():
    images = torch.randn(50, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    flat = images.reshape(50, -1).numpy()
    reference = parzen_log_likelihood(flat, flat[:7], 1.0)
    np.testing.assert_allclose(parzen_log_likelihood(images, images[:7], 1.0).per_point, reference.per_point)
    np.testing.assert_allclose(parzen_log_likelihood(flat, flat[:7], 1.0, batch_size=2).per_point,
                               reference.per_point, rtol=0, atol=1e-12)
    # A 1D array is a set of scalar samples.
    assert parzen_log_likelihood(np.zeros(3), np.zeros(1), 1.0).mean == pytest.approx(-0.5 * math.log(2 * math.pi))


@pytest.mark.parametrize(
    "samples, points, sigma, message",
    [
        (np.zeros((0, 2)), np.zeros((1, 2)), 1.0, "at least one sample"),
        (np.zeros((3, 2)), np.zeros((0, 2)), 1.0, "at least one sample"),
        (np.zeros((3, 0)), np.zeros((1, 0)), 1.0, "without values"),
        (np.zeros((3, 2)), np.zeros((1, 3)), 1.0, "values each"),
        (np.zeros((3, 2)), np.full((1, 2), np.nan), 1.0, "finite"),
        (np.zeros((3, 2)), np.zeros((1, 2)), 0.0, "sigma must be positive"),
        (np.zeros((3, 2)), np.zeros((1, 2)), -1.0, "sigma must be positive"),
        (np.zeros((3, 2)), np.zeros((1, 2)), math.inf, "sigma must be positive"),
    ],
)
def test_invalid_input_raises(samples, points, sigma, message):
    with pytest.raises(ValueError, match=message):
        parzen_log_likelihood(samples, points, sigma)


def test_invalid_bandwidth_grids_and_batch_sizes_raise():
    samples = np.zeros((3, 2))
    with pytest.raises(ValueError, match="at least one bandwidth"):
        select_bandwidth(samples, samples, [])
    with pytest.raises(ValueError, match="sigma must be positive"):
        select_bandwidth(samples, samples, [0.5, 0.0])
    with pytest.raises(ValueError, match="batch_size"):
        parzen_log_likelihood(samples, samples, 1.0, batch_size=0)
