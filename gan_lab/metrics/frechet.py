"""Fréchet distance between Gaussians fitted to features (FID: Heusel et al., NeurIPS 2017).

Fit N(mu_r, S_r) to real features and N(mu_g, S_g) to generated ones; the
Fréchet (2-Wasserstein) distance between the two Gaussians is::

    FID = ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^{1/2})

With Inception-v3 pool features (d = 2048) this is the FID; here the
features can come from any evaluator.  Conventions follow pytorch-fid
(``calculate_frechet_distance``): float64 statistics, covariance with
ddof = 1 (``np.cov(rowvar=False)``).  The functions are named like
torch-fidelity's: features -> statistics -> distance, so callers can cache
the real statistics.

Computing Tr((S_r S_g)^{1/2}).  pytorch-fid and clean-fid take
``scipy.linalg.sqrtm(S_r @ S_g)`` (a complex Schur decomposition of a
non-symmetric matrix) and keep the real part of its trace; torch-fidelity and
torchmetrics sum the square roots of the eigenvalues of the non-symmetric
S_r S_g.  We use a similar *symmetric* matrix instead: with the Cholesky
factor S_r = L L^T,

    S_r S_g = L (L^T S_g L) L^{-1},

so S_r S_g has the same eigenvalues as the symmetric positive semi-definite
M = L^T S_g L (more generally, AB and BA share their non-zero eigenvalues),
and Tr((S_r S_g)^{1/2}) = sum_i sqrt(lambda_i(M)).  That is one Cholesky
(d^3/3 flops), two matrix products and one eigenvalue-only symmetric
decomposition: at d = 2048 much faster than ``sqrtm`` (see
``experiments/benchmarks/metrics_speed.py``), with real eigenvalues by
construction (only rounding can make the smallest ones slightly negative;
they are clipped at 0, so the result is never complex).  It agrees with the
``sqrtm`` formulation to ~1e-10 relative on well-conditioned covariances.  If
S_r is singular (fewer samples than dimensions) Cholesky may fail; then
L is replaced by a factor F with F F^T = S_r from ``eigh`` (eigenvalues
clipped at 0), and the AB/BA argument still holds.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from gan_lab.metrics.inputs import as_float64


def frechet_distance(real_features, fake_features) -> float:
    """FID between two ``(N, d)`` feature sets (tensors or arrays); see the module docstring."""
    real, fake = _as_features(real_features, "real_features"), _as_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and fake features must have the same dimension, got {real.shape[1]} and {fake.shape[1]}."
        )
    return statistics_to_frechet_distance(*features_to_statistics(real), *features_to_statistics(fake))


def features_to_statistics(features) -> tuple[Tensor, Tensor]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (ddof = 1) of ``(N, d)`` features, in float64.

    Warns when N < d + 1: the covariance then has rank at most N - 1 < d.
    """
    x = _as_features(features, "features")  # (N, d) float64
    n, d = x.shape
    if n < 2:
        # One sample has no spread: a covariance with ddof = 1 would be 0/0.
        raise ValueError(f"need at least 2 samples to estimate a covariance, got N={n} (d={d}).")
    if n < d + 1:
        warnings.warn(
            f"Fréchet distance from N={n} samples of d={d}-dimensional features: the covariance has rank at most "
            f"N-1={n - 1} < d, so the distance is unreliable and strongly biased. Use more than {d} samples "
            "(the FID authors recommend at least 10,000).",
            UserWarning,
            stacklevel=2,
        )
    mu = x.mean(dim=0)  # (d,)
    centered = x - mu  # (N, d)
    if centered.device.type == "cpu":
        # numpy turns ``a.T @ a`` into one BLAS syrk (half the flops of a general product), faster than
        # torch's matmul at Inception's sizes; this product is most of the cost of FID (metrics_speed.py).
        array = centered.numpy()
        sigma = torch.from_numpy(array.T @ array) / (n - 1)  # (d, d)
    else:
        sigma = centered.T @ centered / (n - 1)  # (d, d)
    if not (torch.isfinite(mu).all() and torch.isfinite(sigma).all()):
        # Checked on the statistics, O(d^2), rather than on all N x d features: NaN and inf propagate.
        raise ValueError("features contain NaN or infinite values (or values so large that the covariance overflows).")
    return mu, sigma


def statistics_to_frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}) for Gaussian statistics (float64)."""
    mu1 = as_float64(mu1)
    mu2, sigma1, sigma2 = (as_float64(v).to(mu1.device) for v in (mu2, sigma1, sigma2))
    for name, mu, sigma in (("1", mu1, sigma1), ("2", mu2, sigma2)):
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
            raise ValueError(
                f"statistics {name}: expected mu of shape (d,) and sigma of shape (d, d), "
                f"got {tuple(mu.shape)} and {tuple(sigma.shape)}."
            )
        if not (torch.isfinite(mu).all() and torch.isfinite(sigma).all()):
            raise ValueError(f"statistics {name} contain NaN or infinite values.")
    if mu1.shape != mu2.shape:
        raise ValueError(f"the two sets of statistics have different dimensions: {mu1.shape[0]} and {mu2.shape[0]}.")
    mean_term = (mu1 - mu2).square().sum()
    trace_term = torch.trace(sigma1) + torch.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    # FID is a squared distance: a negative value can only be rounding (identical inputs give ~ -1e-12).
    return max(float(mean_term + trace_term), 0.0)


def trace_sqrt_product(sigma1: Tensor, sigma2: Tensor) -> Tensor:
    """Tr((S1 S2)^{1/2}) for symmetric PSD S1, S2, from the eigenvalues of a similar symmetric matrix."""
    # Cholesky and eigh read only the lower triangle of S1; an asymmetric S2 is symmetrised below through M.
    factor, info = torch.linalg.cholesky_ex(sigma1)  # S1 = L L^T; info > 0 when S1 is not positive definite
    if int(info) != 0:
        eigenvalues, eigenvectors = torch.linalg.eigh(sigma1)
        factor = eigenvectors * eigenvalues.clamp_min(0).sqrt()  # F F^T = S1 (a PSD "square root", not triangular)
    # S1 S2 = F (F^T S2) and (F^T S2) F share their non-zero eigenvalues (AB and BA do), so this symmetric
    # PSD matrix has the spectrum of S1 S2 whether or not F is invertible.
    similar = factor.T @ sigma2 @ factor  # (d, d)
    similar = (similar + similar.T) / 2  # = F^T sym(S2) F: removes rounding asymmetry before eigvalsh
    eigenvalues = torch.linalg.eigvalsh(similar).clamp_min(0)  # tiny negatives are rounding of PSD matrices
    return eigenvalues.sqrt().sum()


def _as_features(features, name: str) -> Tensor:
    x = as_float64(features)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, d) array of feature vectors, got shape {tuple(x.shape)}.")
    return x
