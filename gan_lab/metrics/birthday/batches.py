"""The birthday test's batches and exact closest pairs (see :mod:`gan_lab.metrics.birthday`)."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

#: A callable ``sample(n, generator) -> n samples``, or a tensor/array of samples split into consecutive batches.
Sampler = Callable[[int, torch.Generator], object] | Tensor | np.ndarray

#: At most this many candidate pairs per trial are recomputed exactly (ties within rounding beyond it are dropped).
MAX_EXACT_PAIRS = 4096


class ClosestPair(NamedTuple):
    """A close pair: distance, positions ``i < j`` within the batch of trial ``trial``."""

    distance: float
    i: int
    j: int
    trial: int


def check_sizes(batch_size: int, num_trials: int) -> None:
    if batch_size < 2 or num_trials < 1:
        raise ValueError(f"need batch_size >= 2 and num_trials >= 1, got {batch_size} and {num_trials}.")


def stream_seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for the sampler's and the reference's generators."""
    sample_seed, reference_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    return sample_seed, reference_seed


def _check_sampler_signature(source, name: str) -> None:
    """Fail clearly on the old one-argument protocol ``sample(n)``."""
    try:
        inspect.signature(source).bind(1, None)
    except TypeError:
        raise TypeError(
            f"{name} must be called as {name}(n, generator) and draw its randomness from the torch.Generator it "
            "is given (birthday_paradox no longer seeds torch's or numpy's global generators)."
        ) from None
    except ValueError:  # no signature available (some builtins): just call it
        pass


def draw_batches(
    source: Sampler, batch_size: int, num_trials: int, generator: torch.Generator, name: str
) -> Iterator[Tensor]:
    """Yield ``num_trials`` batches of ``batch_size`` samples as they came, (s, *sample_shape)."""
    if callable(source):
        _check_sampler_signature(source, name)
        for _ in range(num_trials):
            batch = _as_tensor(source(batch_size, generator))
            if batch.ndim == 0 or len(batch) != batch_size:
                raise ValueError(
                    f"{name}({batch_size}, generator) returned shape {tuple(batch.shape)}, not {batch_size} samples."
                )
            yield batch
        return
    samples = _as_tensor(source)
    needed = batch_size * num_trials
    if samples.ndim == 0 or len(samples) < needed:
        raise ValueError(
            f"{name} holds {0 if samples.ndim == 0 else len(samples)} samples, but batch_size * num_trials = {needed}."
        )
    for trial in range(num_trials):
        yield samples[trial * batch_size : (trial + 1) * batch_size]


def random_subsets(source, batch_size: int, num_batches: int, generator: torch.Generator) -> Iterator[Tensor]:
    """``num_batches`` random subsets of ``batch_size`` distinct samples of a tensor/array."""
    samples = _as_tensor(source)
    for _ in range(num_batches):
        yield samples[torch.randperm(len(samples), generator=generator)[:batch_size]]


def scan_batches(batches, num_pairs: int) -> tuple[np.ndarray, list[ClosestPair], np.ndarray]:
    """Per-trial minimum distances, and the ``num_pairs`` closest pairs over all trials with their samples."""
    minima = []
    best: list[tuple[ClosestPair, np.ndarray]] = []  # running top num_pairs: memory stays O(num_pairs)
    sample_shape: tuple[int, ...] = ()
    for trial, batch in enumerate(batches):
        sample_shape = tuple(batch.shape[1:])
        points = batch.reshape(len(batch), -1).to(torch.float64)  # (s, D)
        distances, i, j = closest_pairs_in_batch(points, max(num_pairs, 1))
        minima.append(float(distances[0]))
        for k in range(min(num_pairs, len(distances))):
            if len(best) == num_pairs and float(distances[k]) >= best[-1][0].distance:
                break  # ascending: no later pair of this trial can enter the running top list
            pair = ClosestPair(float(distances[k]), int(i[k]), int(j[k]), trial)
            best.append((pair, torch.stack([batch[pair.i], batch[pair.j]]).to(torch.float64).cpu().numpy()))
        best.sort(key=lambda entry: (entry[0].distance, entry[0].trial, entry[0].i, entry[0].j))
        del best[num_pairs:]
    pairs = [pair for pair, _ in best]
    pair_samples = np.stack([s for _, s in best]) if best else np.zeros((0, 2, *sample_shape))
    return np.asarray(minima, dtype=np.float64), pairs, pair_samples


def closest_pairs_in_batch(points: Tensor, k: int) -> tuple[Tensor, Tensor, Tensor]:
    """The ``k`` closest pairs (i < j) of ``(s, D)`` float64 points: exact distances, ascending, and indices.

    Screening uses the Gram matrix (one matrix product); the candidates are recomputed as ||a - b||.
    Rounding bound: each Gram squared distance is within ``bound`` of the exact one (dot products of
    length D are accurate to ~D eps |a||b|), so every pair of the true top k has a Gram value at most
    (k-th smallest Gram value) + 2 bound, and only those pairs need exact distances.
    """
    s, dim = points.shape
    k = min(k, s * (s - 1) // 2)
    squared_norms = points.square().sum(dim=1)  # (s,)
    d2 = points @ points.T  # (s, s)
    d2.mul_(-2).add_(squared_norms[:, None]).add_(squared_norms[None, :])
    d2.fill_diagonal_(math.inf)
    bound = 4 * (dim + 3) * torch.finfo(torch.float64).eps * float(squared_norms.max())
    row_min = d2.amin(dim=1)  # (s,): each row's nearest neighbour
    if 2 * k <= s:
        # The 2k smallest row minima name at least k distinct pairs (a pair is at most two rows' minimum),
        # so the k-th smallest pair is no farther than the 2k-th smallest row minimum.
        kth = torch.kthvalue(row_min, 2 * k).values
    else:
        kth = d2[torch.isfinite(d2)].max()  # few points: every pair is a candidate
    cutoff = kth + 2 * bound
    rows = torch.nonzero(row_min <= cutoff).squeeze(1)  # only rows with a candidate
    local_i, j = torch.nonzero(d2[rows] <= cutoff, as_tuple=True)
    i = rows[local_i]
    keep = i < j  # each unordered pair once
    i, j = i[keep], j[keep]
    if len(i) > MAX_EXACT_PAIRS:
        # Thousands of pairs tied within rounding (e.g. a collapsed generator): keep the Gram-closest ones.
        order = torch.topk(d2[i, j], MAX_EXACT_PAIRS, largest=False).indices
        i, j = i[order], j[order]
    exact = (points[i] - points[j]).square().sum(dim=1).sqrt()  # identical vectors give exactly 0
    order = torch.argsort(exact, stable=True)[:k]
    return exact[order].cpu(), i[order].cpu(), j[order].cpu()


def _as_tensor(values) -> Tensor:
    if isinstance(values, Tensor):
        return values.detach()
    return torch.as_tensor(np.asarray(values))
