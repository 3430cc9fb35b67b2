"""Parzen-window log-likelihood estimates, and why they mislead (lesson 5).

A GAN has no tractable likelihood.  Goodfellow et al. (2014, section 5,
Table 1), after Breuleux et al. (2011), estimated it by fitting a Gaussian
kernel density to generated samples s_1..s_N and evaluating it on test data:

    log p(x) = logsumexp_i( -||x - s_i||^2 / (2 sigma^2) ) - log N - (d / 2) log(2 pi sigma^2)

with the bandwidth sigma chosen by grid search on a validation set, and
reported the mean over test points with its standard error (std / sqrt(n)),
as the authors' ``parzen_ll.py`` (goodfeli/adversarial) does.  Theis, van den
Oord & Bethge (2016, "A note on the evaluation of generative models") showed
how poor this estimate is in high dimensions: it needs very many samples, it
depends strongly on sigma, and it can rank models against their sample
quality.  Notebook 3 shows these effects on the 8x8 digits.

Samples and points may be tensors or arrays of any shape (flattened per
sample); the maths is float64 and batched so memory stays bounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass
class ParzenResult:
    """Mean log-likelihood (nats per point) of test points under a Parzen window."""

    mean: float
    std_error: float  # std of the per-point values / sqrt(n), as reported by Goodfellow et al. 2014
    per_point: np.ndarray  # (n,) log p(x) of each test point
    sigma: float


def _flat(x, name: str) -> Tensor:
    tensor = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).detach().to(torch.float64)
    if tensor.ndim == 0 or len(tensor) == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {tuple(tensor.shape)}.")
    return tensor.reshape(len(tensor), -1)


def parzen_log_likelihood(samples, test_points, sigma: float, batch_size: int = 256) -> ParzenResult:
    """Log-likelihood of ``test_points`` under a Gaussian kernel density of width ``sigma`` on ``samples``."""
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    centres, points = _flat(samples, "samples"), _flat(test_points, "test_points")
    if centres.shape[1] != points.shape[1]:
        raise ValueError(f"samples have {centres.shape[1]} dimensions but test_points have {points.shape[1]}.")
    n, d = centres.shape
    log_norm = -math.log(n) - 0.5 * d * math.log(2 * math.pi * sigma**2)
    values = []
    for chunk in points.split(batch_size):  # (b, d): memory O(b * n)
        squared = torch.cdist(chunk, centres).square()  # (b, n)
        values.append(torch.logsumexp(-squared / (2 * sigma**2), dim=1) + log_norm)
    per_point = torch.cat(values).numpy()
    std_error = float(per_point.std() / math.sqrt(len(per_point)))
    return ParzenResult(float(per_point.mean()), std_error, per_point, float(sigma))


def select_bandwidth(samples, validation_points, sigmas) -> tuple[float, np.ndarray]:
    """The sigma in ``sigmas`` with the highest mean validation log-likelihood, and every sigma's score."""
    sigmas = np.asarray(list(sigmas), dtype=np.float64)
    if sigmas.size == 0:
        raise ValueError("sigmas must list at least one bandwidth.")
    scores = np.array([parzen_log_likelihood(samples, validation_points, s).mean for s in sigmas])
    return float(sigmas[int(np.argmax(scores))]), scores


def parzen_estimate(samples, validation_points, test_points, sigmas=None) -> ParzenResult:
    """Goodfellow et al.'s protocol: choose sigma on ``validation_points``, report on ``test_points``.

    The default grid is 20 bandwidths from 0.01 to 10 times the root-mean-square
    feature spread of the samples, geometrically spaced.
    """
    if sigmas is None:
        spread = float(_flat(samples, "samples").std(dim=0).square().mean().sqrt())
        sigmas = np.geomspace(0.01, 10, 20) * max(spread, 1e-12)
    sigma, _ = select_bandwidth(samples, validation_points, sigmas)
    return parzen_log_likelihood(samples, test_points, sigma)


__all__ = ["ParzenResult", "parzen_estimate", "parzen_log_likelihood", "select_bandwidth"]
