"""Fréchet distance: known answers and agreement with pytorch-fid's scipy.linalg.sqrtm formulation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_lab.metrics import features_to_statistics, frechet_distance, statistics_to_frechet_distance


def sqrtm_frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """The pytorch-fid formulation (``calculate_frechet_distance``), written out for comparison."""
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    sigma1, sigma2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():  # pytorch-fid's retry with a small ridge
        offset = np.eye(len(sigma1)) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def correlated_features(n: int, d: int, seed: int, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """Gaussian features with a non-trivial, well-conditioned covariance."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) / math.sqrt(d)
    return (rng.normal(size=(n, d)) @ mixing + 0.3 * rng.normal(size=(n, d))) * scale + shift


def test_a_set_with_itself_is_zero():
    x = correlated_features(2000, 32, seed=0, scale=5.0)
    scale = np.trace(np.cov(x, rowvar=False))
    assert abs(frechet_distance(x, x)) < 1e-6 * scale


def test_shifted_unit_gaussians_give_the_squared_mean_difference():
    # FID(N(0, I), N(mu, I)) = ||mu||^2 exactly.  Estimation error at n = 200,000, d = 4: the mean term
    # fluctuates by about 2 ||mu|| sqrt(2 / n) ~ 0.013 (std) and the covariance bias is ~ d^2 / n ~ 1e-4,
    # so 0.1 is more than 7 standard deviations.
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([1.0, -1.0, 0.5, 1.5], dtype=torch.float64)
    x = torch.randn(200_000, 4, generator=g, dtype=torch.float64)
    y = torch.randn(200_000, 4, generator=g, dtype=torch.float64) + mu
    assert frechet_distance(x, y) == pytest.approx(float(mu @ mu), abs=0.1)


@pytest.mark.parametrize("d", [2, 16, 64, 128])
def test_agrees_with_the_sqrtm_formulation(d):
    x = correlated_features(3000, d, seed=1)
    y = correlated_features(3000, d, seed=2, scale=1.3, shift=0.2)
    expected = sqrtm_frechet_distance(x, y)
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(torch.from_numpy(y), torch.from_numpy(x)) == pytest.approx(expected, rel=1e-6)


def test_statistics_route_and_statistics_conventions():
    x, y = correlated_features(500, 8, seed=3), correlated_features(600, 8, seed=4, shift=1.0)
    mu, sigma = features_to_statistics(x)
    assert mu.dtype == torch.float64 and sigma.shape == (8, 8)
    np.testing.assert_allclose(mu.numpy(), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma.numpy(), np.cov(x, rowvar=False), rtol=1e-10)  # ddof = 1, like pytorch-fid
    via_statistics = statistics_to_frechet_distance(mu, sigma, *features_to_statistics(y))
    assert via_statistics == frechet_distance(x, y)
    # Statistics may also be numpy arrays (e.g. loaded from a cache).
    other = (t.numpy() for t in features_to_statistics(y))
    as_numpy = statistics_to_frechet_distance(mu.numpy(), sigma.numpy(), *other)
    assert as_numpy == pytest.approx(via_statistics, rel=1e-12)


def test_float32_features_are_computed_in_float64():
    x, y = correlated_features(2000, 16, seed=5), correlated_features(2000, 16, seed=6, shift=0.1)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    expected = sqrtm_frechet_distance(x32.astype(np.float64), y32.astype(np.float64))
    assert frechet_distance(torch.from_numpy(x32), torch.from_numpy(y32)) == pytest.approx(expected, rel=1e-6)


def test_few_samples_warn_and_never_return_complex_or_nan():
    x, y = correlated_features(10, 20, seed=7), correlated_features(10, 20, seed=8)
    with pytest.warns(UserWarning, match=r"N=10 .*d=20"):
        value = frechet_distance(x, y)
    assert isinstance(value, float) and math.isfinite(value) and value >= 0


def test_singular_covariance_uses_the_eigh_fallback():
    # Features confined to a 5-dimensional subspace of R^12: S_r is singular, Cholesky fails.
    rng = np.random.default_rng(9)
    basis = rng.normal(size=(5, 12))
    x = rng.normal(size=(4000, 5)) @ basis
    y = correlated_features(4000, 12, seed=10)
    sigma_x, sigma_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    # torch-fidelity / torchmetrics style: the trace of the root from the eigenvalues of S_x S_y.
    eigenvalues = np.linalg.eigvals(sigma_x @ sigma_y).real.clip(min=0)
    diff = x.mean(0) - y.mean(0)
    expected = diff @ diff + np.trace(sigma_x) + np.trace(sigma_y) - 2 * np.sqrt(eigenvalues).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # N > d: no rank warning even though S_x is singular
        assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-6)


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="same dimension"):
        frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="2-D"):
        frechet_distance(np.zeros(10), np.zeros(10))
    with pytest.raises(ValueError, match="at least 2 samples"):
        features_to_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="different dimensions"):
        statistics_to_frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((10, 2), np.nan), np.zeros((10, 2)))
