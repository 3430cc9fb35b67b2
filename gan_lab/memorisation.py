"""Is the generator copying its training set?  Nearest neighbours, and their limits (lesson 8).

The usual check puts each generated sample beside its nearest training
image.  In pixel space this is a weak test: shifting an image by one or two
pixels changes most of its pixels, so the pixel-nearest neighbour of a
shifted copy is usually a *different* image (``shift_image`` lets notebook 3
show it), while a feature space that ignores small shifts (a classifier's
features) still finds the original.  :func:`memorisation_report` therefore
looks in both spaces.

Distances are Euclidean between flattened samples, computed with
``torch.cdist`` in float64 (exact enough that a copy is at distance 0 up to
rounding), in batches so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

#: Quantile of train-to-train nearest-neighbour distances below which a generated sample counts as a near-copy.
COPY_QUANTILE = 0.01


def _flat(x, name: str) -> Tensor:
    tensor = x.detach() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if tensor.ndim == 0 or len(tensor) == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {tuple(tensor.shape)}.")
    return tensor.reshape(len(tensor), -1).to(torch.float64)


def nearest_neighbours(queries, references, k: int = 1, batch_size: int = 1024,
                       exclude_self: bool = False) -> tuple[Tensor, Tensor]:
    """Distances ``(n, k)`` and indices ``(n, k)`` of each query's ``k`` nearest references, closest first.

    ``exclude_self`` skips reference i for query i (queries == references: the nearest *other* sample).
    """
    q, r = _flat(queries, "queries"), _flat(references, "references")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} values per sample but references have {r.shape[1]}.")
    if not 1 <= k <= len(r) - int(exclude_self):
        raise ValueError(f"k must be between 1 and the number of references ({len(r)}), got {k}.")
    distances, indices = [], []
    for start in range(0, len(q), batch_size):
        d = torch.cdist(q[start : start + batch_size], r)  # (b, m)
        if exclude_self:
            rows = torch.arange(len(d))
            d[rows, rows + start] = float("inf")
        values, index = d.topk(k, dim=1, largest=False)
        distances.append(values)
        indices.append(index)
    return torch.cat(distances), torch.cat(indices)


def shift_image(images: Tensor, dx: int, dy: int, fill: float = -1.0) -> Tensor:
    """Images ``(N, C, H, W)`` moved ``dx`` pixels right and ``dy`` down, uncovered pixels set to ``fill``.

    ``fill=-1`` is the background of images scaled to [-1, 1].
    """
    if images.ndim != 4:
        raise ValueError(f"shift_image needs a batch of images (N, C, H, W), got shape {tuple(images.shape)}.")
    height, width = images.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        raise ValueError(f"a shift of ({dx}, {dy}) moves a {height}x{width} image out of the frame.")
    out = torch.full_like(images, fill)
    source_y, target_y = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
    source_x, target_x = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width - max(0, -dx))
    out[..., target_y, target_x] = images[..., source_y, source_x]
    return out


@dataclass
class SpaceReport:
    """Nearest training sample of each generated sample in one space (pixels or features)."""

    distances: Tensor  # (n,)
    indices: Tensor  # (n,) index into the training set
    copy_threshold: float  # distances at or below this count as near-copies
    copy_fraction: float  # fraction of generated samples at or below it


@dataclass
class MemorisationReport:
    pixels: SpaceReport
    features: SpaceReport | None


def _space_report(generated: Tensor, train: Tensor, threshold: float | None) -> SpaceReport:
    distances, indices = nearest_neighbours(generated, train)
    if threshold is None:
        # Calibrate on the data itself: how close do *distinct* training samples come to each other?
        train_distances, _ = nearest_neighbours(train, train, exclude_self=True)
        threshold = float(torch.quantile(train_distances[:, 0], COPY_QUANTILE))
    distances, indices = distances[:, 0], indices[:, 0]
    return SpaceReport(distances, indices, threshold, float((distances <= threshold).double().mean()))


def memorisation_report(generated, train, features: Callable[[Tensor], Tensor] | None = None,
                        copy_threshold: float | None = None) -> MemorisationReport:
    """Nearest training neighbours of ``generated`` in pixel space and, given ``features``, in feature space.

    Args:
        generated, train: samples (any shape; compared flattened).
        features: e.g. an evaluator's ``features`` method; maps a batch to ``(N, d)``.
        copy_threshold: pixel-space near-copy distance; by default the 1 % quantile of the distance
            between each training sample and its nearest *other* training sample (feature space is
            always calibrated that way).
    """
    generated, train = torch.as_tensor(generated), torch.as_tensor(train)
    pixels = _space_report(generated, train, copy_threshold)
    feature_report = None
    if features is not None:
        with torch.no_grad():
            feature_report = _space_report(features(generated.float()), features(train.float()), None)
    return MemorisationReport(pixels, feature_report)


__all__ = ["MemorisationReport", "SpaceReport", "memorisation_report", "nearest_neighbours", "shift_image"]
