"""Is the generator copying its training set?  Nearest neighbours, and their limits (lesson 8).

The usual check (e.g. Goodfellow et al. 2014, Figure 2, whose rightmost
column shows each sample's nearest training example) puts each generated
sample beside its nearest training image.  In pixel space this is a weak
test: shifting an image by one or two pixels changes most of its pixels, so
the pixel-nearest neighbour of a shifted copy is usually a *different*
training image, and a shifted copy goes unflagged (:func:`shift_image` lets
notebook 3 show it).  A feature space that ignores small shifts, such as a
classifier's features, still finds the original, so :func:`memorisation_report`
looks in both spaces.

Distances are Euclidean between flattened samples.  Candidates are ranked
with the squared-distance identity ||q - r||^2 = ||q||^2 + ||r||^2 - 2 q.r in
float64 (one matrix product, so fast on large training sets; clamped at 0
against rounding), then the k winners' distances are recomputed from the
differences, so an exact copy is at distance exactly 0 (the identity alone
leaves ~1e-7 for float32 data).  Queries are processed in batches so
memory stays bounded.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gan_lab.metrics.inputs import as_sample_matrix

#: Default quantile of the training set's nearest-other-sample distances used as the near-copy threshold.
COPY_QUANTILE = 0.01

#: Training samples whose nearest-other-sample distances calibrate the threshold (a random subset; the
#: neighbours are still searched in the whole training set, so the distances are not inflated).
CALIBRATION_SAMPLES = 2000

#: Largest number of (query, reference) distances held in memory at once (2^22 float64 = 32 MiB).
MAX_PAIRS_PER_BATCH = 2**22


def nearest_neighbours(queries, references, k: int = 1,
                       batch_size: int | None = None) -> tuple[Tensor, Tensor]:
    """The ``k`` nearest references of each query (Euclidean, flattened samples), closest first.

    Args:
        queries: ``(n, ...)`` tensor or array.
        references: ``(m, ...)`` with the same number of values per sample.
        k: neighbours per query, 1 <= k <= m.
        batch_size: queries per batch; by default as many as keep about
            :data:`MAX_PAIRS_PER_BATCH` distances in memory.

    Returns:
        ``(distances, indices)``, both ``(n, k)``: float64 distances and int64 indices into ``references``.
    """
    q, r = as_sample_matrix(queries, "queries"), as_sample_matrix(references, "references")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} values per sample but references have {r.shape[1]}.")
    if not 1 <= k <= len(r):
        raise ValueError(f"k must be between 1 and the number of references ({len(r)}), got {k}.")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    rows = batch_size or max(1, MAX_PAIRS_PER_BATCH // len(r))
    reference_norms = r.square().sum(dim=1)  # (m,)
    distances, indices = [], []
    for chunk in q.split(rows):  # (b, d)
        squared = torch.addmm(chunk.square().sum(dim=1, keepdim=True) + reference_norms, chunk, r.T, alpha=-2)
        candidates = squared.clamp_(min=0).topk(k, dim=1, largest=False).indices  # (b, k)
        exact = (chunk[:, None, :] - r[candidates]).square().sum(dim=2).sqrt()  # (b, k): from the differences
        exact, order = exact.sort(dim=1)  # rounding may have swapped near-ties
        distances.append(exact)
        indices.append(candidates.gather(1, order))
    return torch.cat(distances), torch.cat(indices)


def shift_image(images, dx: int, dy: int, fill: float = -1.0) -> Tensor:
    """Images moved ``dx`` whole pixels right and ``dy`` down (negative: left / up).

    Works on the last two axes, so ``(H, W)``, ``(C, H, W)`` and ``(N, C, H, W)``
    all shift.  Pixels moved out of the frame are lost; the uncovered ones get
    ``fill``, by default -1, the background of images scaled to [-1, 1]
    (use 0 for images in [0, 1]).
    """
    images = torch.as_tensor(images)
    dx, dy = operator.index(dx), operator.index(dy)  # whole pixels only: a TypeError for 0.5
    if images.ndim < 2:
        raise ValueError(f"shift_image needs images (..., H, W), got shape {tuple(images.shape)}.")
    height, width = images.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        raise ValueError(f"a shift of ({dx}, {dy}) moves a {height}x{width} image out of the frame.")
    out = torch.full_like(images, fill)
    source_y, target_y = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
    source_x, target_x = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width - max(0, -dx))
    out[..., target_y, target_x] = images[..., source_y, source_x]
    return out


def nearest_other_distances(samples, max_samples: int | None = CALIBRATION_SAMPLES, seed: int = 0) -> Tensor:
    """Distance from each of (up to ``max_samples`` randomly chosen) samples to its nearest *other* sample.

    Duplicates in ``samples`` count as other samples (distance 0).
    """
    matrix = as_sample_matrix(samples, "samples")
    if len(matrix) < 2:
        raise ValueError("the nearest other sample needs at least two samples.")
    picks = torch.arange(len(matrix))
    if max_samples is not None and len(matrix) > max_samples:
        picks = torch.randperm(len(matrix), generator=torch.Generator().manual_seed(seed))[:max_samples]
    distances, indices = nearest_neighbours(matrix[picks], matrix, k=2)
    # The nearest reference is normally the sample itself; then the second one is the nearest other.
    itself = indices[:, 0] == picks
    return torch.where(itself, distances[:, 1], distances[:, 0])


def calibrated_copy_threshold(train, quantile: float = COPY_QUANTILE,
                              max_samples: int | None = CALIBRATION_SAMPLES) -> float:
    """Near-copy distance: the ``quantile`` of the training set's nearest-other-sample distances.

    A generated sample at or below it is closer to a training sample than
    99 % (for the default 0.01) of training samples are to their nearest
    neighbour: closer than the data set's own "natural" spacing.
    """
    if not 0 <= quantile <= 1:
        raise ValueError(f"quantile must be in [0, 1], got {quantile}.")
    return float(torch.quantile(nearest_other_distances(train, max_samples), quantile))


@dataclass(frozen=True)
class SpaceReport:
    """Nearest training sample of each generated sample in one space (pixels or features)."""

    distances: Tensor  # (n,) float64 distance to the nearest training sample
    indices: Tensor  # (n,) its index in the training set
    copy_threshold: float  # distances at or below this count as near-copies
    is_copy: Tensor  # (n,) bool: distance <= copy_threshold

    @property
    def copy_fraction(self) -> float:
        """Fraction of generated samples that are near-copies."""
        return float(self.is_copy.double().mean())


@dataclass(frozen=True)
class MemorisationReport:
    """Nearest-neighbour check of generated samples against the training set."""

    pixels: SpaceReport
    features: SpaceReport | None  # None when no feature function was given


def _space_report(generated, train, threshold: float | None, quantile: float) -> SpaceReport:
    distances, indices = nearest_neighbours(generated, train)
    if threshold is None:
        threshold = calibrated_copy_threshold(train, quantile)
    distances = distances[:, 0]
    return SpaceReport(distances, indices[:, 0], float(threshold), distances <= threshold)


def _features_of(features: Callable[[Tensor], Tensor], samples: Tensor, name: str) -> Tensor:
    with torch.no_grad():
        # float32, the dtype of evaluator networks (Evaluator.features rejects float64 input to float32 weights).
        out = torch.as_tensor(features(samples.float()))
    if out.ndim < 1 or len(out) != len(samples):
        raise ValueError(f"features must return one row per sample: {len(samples)} {name} samples gave "
                         f"shape {tuple(out.shape)}.")
    return out


def memorisation_report(generated, train, features: Callable[[Tensor], Tensor] | None = None,
                        copy_threshold: float | None = None, feature_copy_threshold: float | None = None,
                        quantile: float = COPY_QUANTILE) -> MemorisationReport:
    """Nearest training neighbours of ``generated`` in pixel space and, given ``features``, in feature space.

    Args:
        generated, train: samples, tensors or arrays of any (equal) shape per sample; compared flattened.
        features: maps a float32 batch ``(N, ...)`` to ``(N, d)``, e.g. an evaluator's ``features``
            method (see :mod:`gan_lab.evaluation.evaluators.base`).
        copy_threshold, feature_copy_threshold: near-copy distances in pixel / feature space.  By default
            each is calibrated on the training set in that space: the ``quantile`` (default 1 %) of the
            distances from training samples to their nearest *other* training sample (see
            :func:`calibrated_copy_threshold`).  Exact duplicates in the training set make it 0; copies
            still count, since the comparison is "at or below".

    Returns:
        A :class:`MemorisationReport`; ``report.pixels.copy_fraction`` is the fraction of near-copies.
    """
    generated, train = torch.as_tensor(generated), torch.as_tensor(train)
    pixels = _space_report(generated, train, copy_threshold, quantile)
    feature_report = None
    if features is not None:
        generated_features = _features_of(features, generated, "generated")
        train_features = _features_of(features, train, "training")
        feature_report = _space_report(generated_features, train_features, feature_copy_threshold, quantile)
    return MemorisationReport(pixels, feature_report)


__all__ = [
    "COPY_QUANTILE",
    "MemorisationReport",
    "SpaceReport",
    "calibrated_copy_threshold",
    "memorisation_report",
    "nearest_neighbours",
    "nearest_other_distances",
    "shift_image",
]
