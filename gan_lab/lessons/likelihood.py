"""Parzen-window log-likelihood estimates, and why they mislead (lesson 5).

A GAN has no tractable likelihood.  Goodfellow et al. (2014, section 5,
Table 1), after Breuleux et al. (2011), estimated it by fitting a Gaussian
kernel density to N generated samples s_1..s_N and evaluating it on test
data x of dimension d:

    log p(x) = logsumexp_i( -||x - s_i||^2 / (2 sigma^2) ) - log N - (d / 2) log(2 pi sigma^2)

The authors' ``parzen_ll.py`` (goodfeli/adversarial) draws 10,000 samples,
picks sigma by grid search on 1,000 validation images (10 values from 0.1 to
1, :data:`GOODFELLOW_SIGMAS`), and reports the mean over the test set with
the standard error ``std / sqrt(n)`` (NumPy's std, ddof=0).  This module
follows that protocol.

Theis, van den Oord & Bethge (2016, "A note on the evaluation of generative
models") showed how poor the estimate is in high dimensions: it needs very
many samples, depends strongly on sigma, and can rank models against their
sample quality.  A model that emits noise 99 % of the time loses at most
log 100 ≈ 4.6 nats per point, since its density is at least 0.01 p(x).
Notebook 3 shows these effects on the 8x8 digits.

Samples and points may be tensors or arrays of any shape, flattened per
sample (a 1D array is N scalars); the maths is float64 and batched over test
points so memory stays bounded.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from gan_lab.metrics.inputs import as_sample_matrix

#: The bandwidths ``parzen_ll.py`` tries by default: ``numpy.logspace(-1, 0, 10)``, for pixels in [0, 1].
GOODFELLOW_SIGMAS = np.logspace(-1, 0, 10)

#: Largest number of (test point, sample) distances held in memory at once (2^22 float64 = 32 MiB).
MAX_PAIRS_PER_BATCH = 2**22


@dataclass(frozen=True)
class ParzenResult:
    """Log-likelihood (nats) of test points under a Parzen window fitted to samples."""

    mean: float  # mean log p(x) over the test points
    std_error: float  # std of the per-point values / sqrt(n), as Goodfellow et al. report it
    per_point: np.ndarray  # (n,) log p(x) of each test point
    sigma: float  # the kernel bandwidth used

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.std_error:.2f} nats (sigma={self.sigma:.3g}, {len(self.per_point)} test points)"


def _checked_sigmas(sigmas) -> np.ndarray:
    """One bandwidth or a sequence of them as a float64 1D array, all positive and finite."""
    try:
        sigmas = np.asarray([float(s) for s in (sigmas if np.ndim(sigmas) else [sigmas])], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"sigma must be a number or a sequence of numbers, got {sigmas!r}.") from error
    if sigmas.size == 0:
        raise ValueError("sigmas must list at least one bandwidth.")
    if not (np.all(np.isfinite(sigmas)) and np.all(sigmas > 0)):
        raise ValueError(f"sigma must be positive and finite, got {sigmas.tolist()}.")
    return sigmas


def _rows_per_batch(num_samples: int, batch_size: int | None) -> int:
    if batch_size is None:
        return max(1, MAX_PAIRS_PER_BATCH // num_samples)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    return int(batch_size)


def _log_densities(samples, points, sigmas, batch_size: int | None) -> np.ndarray:
    """``(n_points, n_sigmas)``: log p(x) of each point under the Parzen window of each bandwidth."""
    centres, x = as_sample_matrix(samples, "samples"), as_sample_matrix(points, "test_points")
    if centres.shape[1] != x.shape[1]:
        raise ValueError(f"samples have {centres.shape[1]} values each but test points have {x.shape[1]}.")
    sigmas = _checked_sigmas(sigmas)
    n, d = centres.shape
    centre_norms = centres.square().sum(dim=1)  # (n,)
    out = []
    for chunk in x.split(_rows_per_batch(n, batch_size)):  # (b, d); memory O(b * n)
        # ||x - s||^2 = ||x||^2 + ||s||^2 - 2 x.s: one matrix product instead of a (b, n, d) difference.
        # In float64 the cancellation error (~1e-16 ||x||^2) is negligible; clamp its sign away.
        squared = torch.addmm(chunk.square().sum(dim=1, keepdim=True) + centre_norms, chunk, centres.T, alpha=-2)
        squared.clamp_(min=0)
        columns = []
        for sigma in sigmas:
            log_norm = -math.log(n) - 0.5 * d * math.log(2 * math.pi * sigma**2)
            # logsumexp subtracts the largest term first: exp(-||x - s||^2 / 2 sigma^2) underflows otherwise.
            columns.append(torch.logsumexp(squared / (-2 * sigma**2), dim=1) + log_norm)
        out.append(torch.stack(columns, dim=1))
    return torch.cat(out).cpu().numpy()


def _result(per_point: np.ndarray, sigma: float) -> ParzenResult:
    # ddof=0, as parzen_ll.py's ``ll.std() / numpy.sqrt(n)``.
    std_error = float(per_point.std() / math.sqrt(len(per_point)))
    return ParzenResult(float(per_point.mean()), std_error, per_point, float(sigma))


def parzen_log_likelihood(samples, test_points, sigma: float, batch_size: int | None = None) -> ParzenResult:
    """Log-likelihood of ``test_points`` under a Gaussian kernel density of width ``sigma`` on ``samples``.

    Args:
        samples: ``(N, ...)`` generated samples, the kernel centres.
        test_points: ``(n, ...)`` points to evaluate, with the samples' number of values per point.
        sigma: kernel bandwidth (standard deviation of each Gaussian), > 0.
        batch_size: test points per batch; by default as many as keep about
            :data:`MAX_PAIRS_PER_BATCH` distances in memory.

    Returns:
        A :class:`ParzenResult` with the mean, its standard error and the per-point values.
    """
    (checked,) = _checked_sigmas(sigma)
    per_point = _log_densities(samples, test_points, [checked], batch_size)[:, 0]
    return _result(per_point, checked)


def select_bandwidth(samples, validation_points, sigmas, batch_size: int | None = None) -> tuple[float, np.ndarray]:
    """Grid search of Goodfellow et al.: the sigma with the highest mean validation log-likelihood.

    Returns ``(best_sigma, scores)`` with ``scores[i]`` the mean log-likelihood
    of the validation points for ``sigmas[i]``.  Warns when the best sigma is
    at an end of the grid: the optimum may lie outside it.
    """
    sigmas = _checked_sigmas(sigmas)
    scores = _log_densities(samples, validation_points, sigmas, batch_size).mean(axis=0)
    best = int(np.argmax(scores))
    if sigmas.size > 1 and sigmas[best] in (sigmas.min(), sigmas.max()):
        warnings.warn(f"the best bandwidth {sigmas[best]:.3g} is at the edge of the grid "
                      f"[{sigmas.min():.3g}, {sigmas.max():.3g}]; widen it.", stacklevel=2)
    return float(sigmas[best]), scores


def default_sigmas(samples, num: int = 20) -> np.ndarray:
    """``num`` bandwidths from 0.01 to 10 times the samples' spread, geometrically spaced.

    The spread is the root-mean-square per-value standard deviation, so the
    grid follows the data's scale (GOODFELLOW_SIGMAS suits pixels in [0, 1] only).
    """
    centres = as_sample_matrix(samples, "samples")
    spread = float(centres.var(dim=0, unbiased=False).mean().sqrt())
    return np.geomspace(0.01, 10, num) * (spread if spread > 0 else 1.0)


def parzen_estimate(samples, validation_points, test_points, sigmas=None,
                    batch_size: int | None = None) -> ParzenResult:
    """The whole protocol of Goodfellow et al. 2014: choose sigma on ``validation_points``, report on ``test_points``.

    ``sigmas`` defaults to :func:`default_sigmas` of the samples; pass
    :data:`GOODFELLOW_SIGMAS` to reproduce the paper's grid.
    """
    sigmas = default_sigmas(samples) if sigmas is None else sigmas
    sigma, _ = select_bandwidth(samples, validation_points, sigmas, batch_size)
    return parzen_log_likelihood(samples, test_points, sigma, batch_size)


__all__ = [
    "GOODFELLOW_SIGMAS",
    "ParzenResult",
    "default_sigmas",
    "parzen_estimate",
    "parzen_log_likelihood",
    "select_bandwidth",
]
