"""Precision/recall, density/coverage and KID of one generated set in one pass over its Gram matrices.

The three metrics read the same two matrices of dot products: the generated
features against the real ones (``R F^T``) and against themselves
(``F F^T``).  Squared distances are ``||a||^2 + ||b||^2 - 2 a.b``
(:mod:`gan_lab.metrics.precision_recall`) and KID's cubic kernel is
``(a.b / d + 1)^3`` (:mod:`gan_lab.metrics.kid`).  Computed metric by metric,
an evaluation of 5,000 generated against 5,000 real 128-d features formed
five 5,000 x 5,000 products; :class:`SharedFeaturePass` forms each product
once, row block by row block (memory stays about ``BLOCK_BYTES`` a block
however many samples there are), and updates every registered metric's
running counts and sums from each block:

1. generated rows against all generated features: the generated points'
   k-th-neighbour radii (recall's balls) and KID's generated-generated
   subset sums;
2. real rows against all generated features: precision, recall, density,
   coverage, and KID's real-generated subset sums.

The real side is computed once: the real radii when a metric is registered, KID's subsets and real-real
sums by its :class:`~gan_lab.metrics.kid.KIDAgainstReal`.

Same numbers as the metrics computed alone.  Each block's dot products and
squared distances are formed with the same operations, in the same
orientation (rows, then columns), as :func:`~gan_lab.metrics.precision_recall`'s
and :class:`~gan_lab.metrics.kid.KIDAgainstReal`'s, so ball tests see the
same values, and precision, recall, density and coverage are equal.  KID's
subset sums are added up in another order (by row blocks), so KID agrees to
rounding (``tests/metrics/test_shared_pass.py``: 1e-12 relative).  Two shortcuts,
both exact: the clamp of squared distances at 0 is dropped for the ``<=``
tests (radii are >= 0, so a clamped and an unclamped negative value pass
alike), and for density/coverage's open balls a radius of 0 (a real point
with k duplicates: its open ball holds nothing) becomes ``-inf``; the
generated radii are clamped after ``topk`` (clamping commutes with taking
the k-th smallest).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lab.metrics.kid import KIDAgainstReal, _indicator, unbiased_mmd2
from gan_lab.metrics.precision_recall import _as_features, _check_k, kth_neighbour_squared_distances

#: Target size of one float64 block of dot products (rows x columns x 8 bytes): 52 rows against 5,000
#: columns.  Each block goes through about ten element-wise passes, so it should stay near the 2 MB L2
#: cache of a laptop core: smaller blocks pay more per-call overhead, larger ones leave the cache
#: (experiments/benchmarks/metrics_speed.py).
BLOCK_BYTES = 2 * 2**20

#: Keys of :meth:`SharedFeaturePass.__call__`'s results.
Key = tuple[str, int]


class SharedFeaturePass:
    """Every registered metric of generated features against one fixed real set, from one blocked pass.

    Register metrics once per run (:meth:`add_precision_recall`, :meth:`add_density_coverage`,
    :meth:`add_kid`: each does its real-side work then), then call the object on each
    generated set: it returns ``{key: (value, value)}`` for every registered metric.

    Args:
        real_features: ``(N, d)`` real features (tensor or array; used in float64).
        chunk_size: rows per block; ``None`` picks blocks of about ``BLOCK_BYTES``.  Precision,
            recall, density and coverage do not depend on it; KID only to rounding.
    """

    def __init__(self, real_features, chunk_size: int | None = None) -> None:
        self.real = _as_features(real_features, "real_features")  # (N, d) float64
        self.real_norms2 = self.real.square().sum(dim=1)  # (N,)
        self.chunk_size = chunk_size
        self._closed: dict[int, Tensor] = {}  # precision/recall's k -> real radii^2 (closed balls, <=)
        self._open: dict[int, Tensor] = {}  # density/coverage's k -> real radii^2, 0 -> -inf (open balls, <)
        self._radii: dict[int, Tensor] = {}  # k -> real radii^2, computed once for both
        self._kid: KIDAgainstReal | None = None
        self._kid_real_sums: Tensor | None = None

    # ------------------------------------------------------------------ registration (once per run)
    def real_radii2(self, k: int) -> Tensor:
        """Squared k-th-neighbour radii of the real features, ``(N,)`` (computed once per k)."""
        if k not in self._radii:
            self._radii[k] = kth_neighbour_squared_distances(self.real, k, self.chunk_size)
        return self._radii[k]

    def add_precision_recall(self, k: int = 3) -> Key:
        """Register Kynkäänniemi et al.'s precision and recall (closed balls); returns its key."""
        self._closed[k] = self.real_radii2(k)
        return ("precision_recall", k)

    def add_density_coverage(self, k: int = 5) -> Key:
        """Register Naeem et al.'s density and coverage (open balls on the reals); returns its key."""
        radii2 = self.real_radii2(k)
        self._open[k] = torch.where(radii2 > 0, radii2, -torch.inf)  # an open ball of radius 0 holds nothing
        return ("density_coverage", k)

    def add_kid(self, estimator: KIDAgainstReal) -> Key:
        """Register KID with ``estimator``'s subsets (one KID per pass); returns its key."""
        if estimator.real.shape != self.real.shape or not torch.equal(estimator.real, self.real):
            raise ValueError("the KID estimator was set up on other real features than this pass.")
        self._kid = estimator
        indicator = _indicator(estimator.real_index, len(self.real)).to(self.real)  # (S, N)
        self._kid_real_sums, self._kid_real_indicator = estimator.real_sums, indicator
        return ("kid", 0)

    def without_kid(self) -> "SharedFeaturePass":
        """A pass over the same real side with the same k-NN metrics registered, but no KID.

        For scoring generated sets of another size (KID's subsets are fixed to one size): the real radii are
        shared, not recomputed.
        """
        other = SharedFeaturePass.__new__(SharedFeaturePass)
        other.real, other.real_norms2, other.chunk_size = self.real, self.real_norms2, self.chunk_size
        other._closed, other._open, other._radii = dict(self._closed), dict(self._open), self._radii
        other._kid, other._kid_real_sums = None, None
        return other

    # ------------------------------------------------------------------ one generated set
    def __call__(self, fake_features) -> dict[Key, tuple[float, float]]:
        """``{key: pair}`` for every registered metric: see each ``add_*`` method for what the pair is."""
        fake = _as_features(fake_features, "fake_features").to(self.real.device)  # (M, d)
        if fake.shape[1] != self.real.shape[1]:
            raise ValueError(f"real and fake features must have the same dimension, got {self.real.shape[1]} "
                             f"and {fake.shape[1]}.")
        for k in self._closed:
            _check_k(k, self.real, fake, both_sets=True)
        kid = self._kid
        if kid is not None and len(fake) != kid.num_fake:
            raise ValueError(f"this KID was set up for {kid.num_fake} fake samples, got {len(fake)}.")
        fake_norms2 = fake.square().sum(dim=1)  # (M,)
        # KID: row j marks the subsets that hold generated sample j, (M, S), contiguous for the matrix products.
        subsets = None if kid is None else _indicator(kid.fake_index, len(fake)).to(fake).T.contiguous()
        fake_radii2, fake_sums = self._generated_rows(fake, fake_norms2, subsets)
        results, cross = self._real_rows(fake, fake_norms2, fake_radii2, subsets)
        if kid is not None:
            m = kid.subset_size
            scores = unbiased_mmd2(self._kid_real_sums, fake_sums, cross, m)
            results[("kid", 0)] = (float(scores.mean()), float(scores.std(unbiased=False)))
        return results

    def _generated_rows(self, fake: Tensor, fake_norms2: Tensor, subsets: Tensor | None):
        """Pass 1, generated rows against all generated features: recall's radii, KID's generated sums (S,)."""
        ks, dim = sorted(self._closed), fake.shape[1]
        fake_radii2 = {k: fake.new_empty(len(fake)) for k in ks}
        fake_sums = None if subsets is None else fake.new_zeros(subsets.shape[1])  # (S,)
        if not ks and subsets is None:
            return fake_radii2, fake_sums
        for start, gram in self._gram_blocks(fake, fake):  # (B, M)
            stop = start + len(gram)
            if ks:
                distances2 = torch.add(fake_norms2[None, :], gram, alpha=-2).add_(fake_norms2[start:stop, None])
                distances2.diagonal(offset=start).fill_(torch.inf)  # each point's own distance
                nearest = distances2.topk(ks[-1], dim=1, largest=False).values.clamp_min_(0)  # (B, k_max)
                for k in ks:
                    fake_radii2[k][start:stop] = nearest[:, k - 1]
            if subsets is not None:
                kernel, own = _kernel_(gram, dim), subsets[start:stop]  # (B, M), (B, S)
                fake_sums += ((kernel @ subsets) * own).sum(dim=0)
                fake_sums -= (kernel.diagonal(offset=start)[:, None] * own).sum(dim=0)  # the i = j terms
        return fake_radii2, fake_sums

    def _real_rows(self, fake: Tensor, fake_norms2: Tensor, fake_radii2: dict[int, Tensor], subsets: Tensor | None):
        """Pass 2, real rows against all generated features: the k-NN metrics' values, and KID's cross sums (S,)."""
        inside_real_ball = {k: torch.zeros(len(fake), dtype=torch.bool, device=fake.device) for k in fake_radii2}
        reals_in_fake_ball = dict.fromkeys(fake_radii2, 0)
        memberships, covered = dict.fromkeys(self._open, 0), dict.fromkeys(self._open, 0)
        cross = None if subsets is None else fake.new_zeros(subsets.shape[1])  # (S,)
        for start, gram in self._gram_blocks(self.real, fake):  # (B, M)
            stop = start + len(gram)
            # ||f||^2 - 2 r.f first, then ||r||^2: the order (and rounding) of precision_recall's blocks.
            distances2 = torch.add(fake_norms2[None, :], gram, alpha=-2).add_(self.real_norms2[start:stop, None])
            for k, radii2 in fake_radii2.items():
                inside_real_ball[k] |= (distances2 <= self._closed[k][start:stop, None]).any(dim=0)
                reals_in_fake_ball[k] += int((distances2 <= radii2[None, :]).any(dim=1).sum())
            for k, real_radii2 in self._open.items():
                inside = distances2 < real_radii2[start:stop, None]  # (B, M)
                memberships[k] += int(inside.sum())
                covered[k] += int(inside.any(dim=1).sum())
            if subsets is not None:
                kernel, own = _kernel_(gram, fake.shape[1]), self._kid_real_indicator[:, start:stop].T  # (B, S)
                cross += ((kernel @ subsets) * own).sum(dim=0)
        results: dict[Key, tuple[float, float]] = {}
        for k in fake_radii2:
            results[("precision_recall", k)] = (inside_real_ball[k].sum().item() / len(fake),
                                                reals_in_fake_ball[k] / len(self.real))
        for k in self._open:
            results[("density_coverage", k)] = (memberships[k] / (k * len(fake)), covered[k] / len(self.real))
        return results, cross

    # ------------------------------------------------------------------ helpers
    def _gram_blocks(self, rows: Tensor, columns: Tensor):
        """Yield ``(start, rows[start : start + B] @ columns.T)``, ``(B, C)``, block by block."""
        block = self.chunk_size or max(1, BLOCK_BYTES // (8 * max(len(columns), 1)))
        for start in range(0, len(rows), block):
            yield start, rows[start : start + block] @ columns.T


def _kernel_(gram: Tensor, dim: int) -> Tensor:
    """KID's cubic kernel ``(a.b / d + 1)^3`` from a block of d-dimensional dot products, in place.

    The operations of :func:`gan_lab.metrics.kid.polynomial_kernel`, in its order, so the values are the same;
    except that for d a power of two (128, 2048) it multiplies by 1/d, which is exact and so gives the same
    values as dividing, and a multiplication is cheaper than a division.
    """
    scaled = gram.mul_(1.0 / dim) if dim & (dim - 1) == 0 else gram.div_(dim)
    return scaled.add_(1.0).pow_(3)
