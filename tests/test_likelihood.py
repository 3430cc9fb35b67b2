"""Parzen-window log-likelihood: known densities, bandwidth selection, standard error, bad input."""

import math

import numpy as np
import pytest
import torch

from gan_lab.likelihood import parzen_estimate, parzen_log_likelihood, select_bandwidth


def test_one_sample_gives_the_gaussian_log_density():
    x = np.array([[0.3, -1.2]])
    result = parzen_log_likelihood(np.zeros((1, 2)), x, sigma=0.7)
    expected = -0.5 * (0.3**2 + 1.2**2) / 0.7**2 - math.log(2 * math.pi * 0.7**2)
    assert result.mean == pytest.approx(expected, abs=1e-12)


def test_many_samples_approach_the_true_mean_log_density():
    rng = np.random.default_rng(0)
    samples, test = rng.standard_normal((20000, 1)), rng.standard_normal((2000, 1))
    result = parzen_log_likelihood(samples, test, sigma=0.1)
    # E[log N(x; 0, 1)] under N(0, 1) = -(1 + log 2 pi) / 2 ≈ -1.419
    assert result.mean == pytest.approx(-0.5 * (1 + math.log(2 * math.pi)), abs=0.03)


def test_standard_error_is_std_over_sqrt_n():
    rng = np.random.default_rng(1)
    result = parzen_log_likelihood(rng.standard_normal((300, 3)), rng.standard_normal((400, 3)), sigma=0.5)
    assert result.std_error == pytest.approx(result.per_point.std() / math.sqrt(400))
    assert result.per_point.shape == (400,)


def test_bandwidth_selection_finds_the_interior_optimum():
    rng = np.random.default_rng(2)
    samples, validation = rng.standard_normal((2000, 1)), rng.standard_normal((1000, 1))
    sigmas = np.geomspace(0.01, 10, 25)
    best, scores = select_bandwidth(samples, validation, sigmas)
    assert 0.1 < best < 1.0  # far from both ends of the grid: too narrow overfits, too wide blurs
    assert scores.argmax() not in (0, len(sigmas) - 1)
    assert parzen_estimate(samples, validation, validation).mean == pytest.approx(scores.max(), abs=0.05)


def test_noise_99_percent_of_the_time_loses_only_log_100_nats():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(1000)
    log_p = -0.5 * x**2 - 0.5 * math.log(2 * math.pi)
    noise_density = 1e-9  # noise puts (almost) no mass on real data
    log_mixture = np.log(0.01 * np.exp(log_p) + 0.99 * noise_density)
    assert (log_p - log_mixture).max() <= math.log(100) + 1e-9
    assert (log_p - log_mixture).mean() == pytest.approx(math.log(100), abs=0.01)


def test_tensors_of_any_shape_are_flattened():
    images = torch.randn(50, 1, 4, 4)
    flat = images.reshape(50, -1).numpy()
    assert parzen_log_likelihood(images, images[:5], 1.0).mean == pytest.approx(
        parzen_log_likelihood(flat, flat[:5], 1.0).mean
    )


@pytest.mark.parametrize(
    "samples, points, sigma, message",
    [
        (np.zeros((0, 2)), np.zeros((1, 2)), 1.0, "at least one sample"),
        (np.zeros((3, 2)), np.zeros((1, 3)), 1.0, "dimensions"),
        (np.zeros((3, 2)), np.zeros((1, 2)), 0.0, "sigma must be positive"),
    ],
)
def test_invalid_input_raises(samples, points, sigma, message):
    with pytest.raises(ValueError, match=message):
        parzen_log_likelihood(samples, points, sigma)
