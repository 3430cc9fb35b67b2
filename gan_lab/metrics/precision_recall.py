"""k-NN manifold metrics: precision/recall and density/coverage of generated features.

Both pairs estimate the support of a feature set with k-nearest-neighbour
balls: around each feature x_i, the ball B(x_i) of radius NND_k(x_i), its
Euclidean distance to its k-th nearest *other* feature of the same set.

* Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen &
  Aila, "Improved precision and recall metric for assessing generative
  models", NeurIPS 2019).  Precision is the fraction of fakes inside at least
  one real ball (fidelity); recall is the fraction of reals inside at least
  one fake ball, the balls now built on the fakes (diversity).  k = 3.
* Density and coverage (Naeem, Oh, Uh, Choi & Yoo, "Reliable fidelity and
  diversity metrics for generative models", ICML 2020).  Balls on the reals
  only, which an outlying fake cannot inflate::

      density  = 1 / (k M) sum_j sum_i 1[Y_j in B(X_i)]      (can exceed 1)
      coverage = 1 / N     sum_i 1[some Y_j in B(X_i)]

  with N reals X_i and M fakes Y_j.  k = 5.

Ball membership follows each metric's reference code: ``<=`` (closed balls)
for precision/recall as in kynkaat/improved-precision-and-recall-metric
(``ManifoldEstimator.evaluate``: ``distance_batch <= self.D``), strict ``<``
(open balls) for density/coverage as in clovaai/generative-evaluation-prdc
(``compute_prdc``).  The two codes agree on the radius: they sort each row
of the set-to-itself distance matrix *with* the zero self-distance and take
the (k+1)-th smallest (``np.partition(..)[:, k]``; ``get_kth_value(.., k + 1)``),
which is the k-th smallest of the other points.  We drop the self entry by
index instead, which gives the same radius (the self-distance is the row's
minimum) and stays exact when points are duplicated: a duplicate is a
neighbour at distance 0, so a point with k duplicates has radius 0.  A
closed ball of radius 0 still holds the point itself and its copies (so
precision/recall count them), an open one holds nothing.

Computation.  Squared distances come from the Gram formula
``||a||^2 + ||b||^2 - 2 a.b`` in float64, clamped at 0 (rounding can make it
slightly negative, as the kynkaat code also clamps), and are compared with
squared radii, like the kynkaat code: squaring is monotone, so the ball
tests are unchanged and no square root is taken.  The distance matrices are
never materialised: rows are processed in blocks of about
``BLOCK_BYTES`` (8 MB: 104 rows against 10,000 columns, instead of the
800 MB of a full float64 matrix), the k-th neighbour of each row of a block
found with ``torch.topk``.  An evaluation computes both pairs, and KID, from
one shared pass over the same blocks (:mod:`gan_lab.metrics.shared_pass`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator

import torch
from torch import Tensor

#: Target size of one float64 distance block (rows x columns x 8 bytes).  Peak memory is about
#: this plus a boolean mask of an eighth of it.  Small blocks stay in cache: at 10k x 10k, 128-d,
#: larger blocks leave the cache and ran slower (experiments/benchmarks/metrics_speed.py).
BLOCK_BYTES = 8 * 2**20


def precision_recall(real_features, fake_features, k: int = 3, *, chunk_size: int | None = None,
                     real_radii2: Tensor | None = None) -> tuple[float, float]:
    """Improved precision and recall of Kynkäänniemi et al. (NeurIPS 2019), with closed balls (``<=``).

    Args:
        real_features, fake_features: ``(N, d)`` and ``(M, d)`` feature arrays (tensors or arrays).
        k: neighbourhood size of the balls (3 in the paper); needs k < N and k < M.
        chunk_size: rows per distance block; ``None`` picks blocks of about ``BLOCK_BYTES``.
            The result does not depend on it.
        real_radii2: ``kth_neighbour_squared_distances(real_features, k)``, if already computed
            (an evaluation scores many generated sets against the same reals).

    Returns:
        ``(precision, recall)``: the fraction of fakes inside at least one real ball, and
        of reals inside at least one fake ball.  Precision and recall swap when the two
        sets swap.
    """
    real, fake = _as_feature_pair(real_features, fake_features)
    k = _check_k(k, real, fake, both_sets=True)
    real_radii2 = _real_radii2(real, k, chunk_size, real_radii2)  # (N,)
    fake_radii2 = kth_neighbour_squared_distances(fake, k, chunk_size)  # (M,)
    fake_in_real_ball = torch.zeros(len(fake), dtype=torch.bool, device=real.device)  # (M,)
    reals_in_fake_ball = 0
    for start, distances2 in _squared_distance_blocks(real, fake, chunk_size):  # (B, M): reals start.. vs all fakes
        radii2 = real_radii2[start : start + len(distances2), None]  # (B, 1)
        fake_in_real_ball |= (distances2 <= radii2).any(dim=0)
        reals_in_fake_ball += int((distances2 <= fake_radii2[None, :]).any(dim=1).sum())
    precision = fake_in_real_ball.sum().item() / len(fake)
    return precision, reals_in_fake_ball / len(real)


def density_coverage(real_features, fake_features, k: int = 5, *, chunk_size: int | None = None,
                     real_radii2: Tensor | None = None) -> tuple[float, float]:
    """Density and coverage of Naeem et al. (ICML 2020), with open balls (``<``) on the reals only.

    Args:
        real_features, fake_features: ``(N, d)`` and ``(M, d)`` feature arrays (tensors or arrays).
        k: neighbourhood size of the real balls (5 in the paper); needs k < N.
        chunk_size: rows per distance block; ``None`` picks blocks of about ``BLOCK_BYTES``.
            The result does not depend on it.
        real_radii2: ``kth_neighbour_squared_distances(real_features, k)``, if already computed.

    Returns:
        ``(density, coverage)``: density is the mean number of real balls holding a fake,
        divided by k (about 1 when the fakes follow the real distribution; above 1 when
        they crowd into dense real regions); coverage is the fraction of real balls that
        hold at least one fake.
    """
    real, fake = _as_feature_pair(real_features, fake_features)
    k = _check_k(k, real, fake, both_sets=False)
    real_radii2 = _real_radii2(real, k, chunk_size, real_radii2)  # (N,)
    memberships = 0  # sum_i sum_j 1[Y_j in B(X_i)]: counted per real row, same total as the paper's sum over j
    covered = 0
    for start, distances2 in _squared_distance_blocks(real, fake, chunk_size):  # (B, M)
        inside = distances2 < real_radii2[start : start + len(distances2), None]  # (B, M)
        memberships += int(inside.sum())
        covered += int(inside.any(dim=1).sum())
    return memberships / (k * len(fake)), covered / len(real)


def _real_radii2(real: Tensor, k: int, chunk_size: int | None, given: Tensor | None) -> Tensor:
    if given is None:
        return kth_neighbour_squared_distances(real, k, chunk_size)
    given = torch.as_tensor(given, dtype=torch.float64, device=real.device)
    if given.shape != (len(real),):
        raise ValueError(f"real_radii2 must have shape ({len(real)},), got {tuple(given.shape)}.")
    return given


def kth_neighbour_squared_distances(features: Tensor, k: int, chunk_size: int | None = None) -> Tensor:
    """Squared distance of each row of ``(N, d)`` float64 features to its k-th nearest other row, ``(N,)``.

    The point itself is excluded by index, not by distance, so duplicates count as neighbours
    at distance 0 (the convention of both reference codes, see the module docstring).
    """
    radii2 = torch.empty(len(features), dtype=features.dtype, device=features.device)  # (N,)
    for start, distances2 in _squared_distance_blocks(features, features, chunk_size):  # (B, N)
        # Row r of the block is point start + r: its self-distance sits on the offset diagonal.
        distances2.diagonal(offset=start).fill_(torch.inf)
        # topk of a few smallest values is a partial selection per row, like np.partition.
        radii2[start : start + len(distances2)] = distances2.topk(k, dim=1, largest=False).values[:, -1]
    return radii2


def _squared_distance_blocks(rows: Tensor, columns: Tensor, chunk_size: int | None) -> Iterator[tuple[int, Tensor]]:
    """Yield ``(start, D2)`` with ``D2[r, c] = ||rows[start + r] - columns[c]||^2``, ``(B, C)``, block by block."""
    block = _block_rows(len(columns)) if chunk_size is None else _check_chunk_size(chunk_size)
    column_norms2 = columns.square().sum(dim=1)  # (C,)
    for start in range(0, len(rows), block):
        part = rows[start : start + block]  # (B, d)
        # ||a||^2 + ||b||^2 - 2 a.b, built in place in one (B, C) buffer.
        distances2 = torch.addmm(column_norms2[None, :], part, columns.T, alpha=-2)  # (B, C)
        distances2.add_(part.square().sum(dim=1, keepdim=True))
        # Cancellation can leave about -1e-16 ||a||^2 where the true value is 0 (e.g. duplicates).
        yield start, distances2.clamp_min_(0)


def _block_rows(num_columns: int) -> int:
    return max(1, BLOCK_BYTES // (8 * max(num_columns, 1)))


def _check_chunk_size(chunk_size) -> int:
    try:
        chunk_size = operator.index(chunk_size)
    except TypeError:
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}.") from None
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size}.")
    return chunk_size


def _check_k(k, real: Tensor, fake: Tensor, both_sets: bool) -> int:
    try:
        k = operator.index(k)  # accepts numpy integers, rejects floats
    except TypeError:
        raise ValueError(f"k must be a positive integer, got {k!r}.") from None
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}.")
    # The k-th nearest *other* point needs at least k + 1 points in each set that gets balls.
    sets = (("real", real), ("fake", fake)) if both_sets else (("real", real),)
    for name, features in sets:
        if k >= len(features):
            raise ValueError(
                f"k={k} needs more than k {name} features to find each one's k-th nearest other, got {len(features)}."
            )
    if len(fake) == 0:
        raise ValueError("fake_features is empty.")
    return k


def _as_feature_pair(real_features, fake_features) -> tuple[Tensor, Tensor]:
    real, fake = _as_features(real_features, "real_features"), _as_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and fake features must have the same dimension, got {real.shape[1]} and {fake.shape[1]}."
        )
    return real, fake.to(real.device)


def _as_features(features, name: str) -> Tensor:
    x = features.detach() if isinstance(features, Tensor) else torch.as_tensor(features)
    # float64: the Gram formula subtracts large norms, and ties against radii should not hinge on float32 rounding.
    x = x.to(torch.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, d) array of feature vectors, got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or infinite values.")
    return x
