"""Samples and features shared by all metric callbacks of one validation epoch.

Every metric callback (IS, FID/KID, birthday paradox, mode coverage) needs
the same thing: generated samples from a fixed latent seed, passed once
through the evaluator.  :class:`SharedEvaluation` does that work once per
validation epoch, for the largest sample count any callback asked for, and
hands every callback the same tensors.  It also computes the real data's
features once per run (the reference the generator is compared against).

Distributed runs: every rank draws the *same* latent noise for all
``num_samples`` (cheap), generates and scores only its own chunks of it, and
the chunks are gathered back into the original order.  So the samples, and
hence every metric, are those of a one-process run, while the work is split.
Chunks have a fixed size, so each sample goes through the networks in a batch
of the same composition as in one process, which keeps results bit-identical.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

import pytorch_lightning as pl
import torch
from torch import Tensor

from gan_lab.callbacks.logging_utils import logging_step
from gan_lab.metrics.evaluators import Evaluator, evaluator_for

#: Samples per generator/evaluator forward; fixed so batch composition never depends on the number of processes.
CHUNK_SIZE = 500


@dataclass
class Scored:
    """Samples with what the evaluator made of them."""

    samples: Tensor  # (N, *shape), on the CPU
    features: Tensor  # (N, d) float64
    probs: Tensor  # (N, K) float64
    labels: Tensor | None = None  # real data only


def score(evaluator: Evaluator, samples: Tensor, device: torch.device) -> tuple[Tensor, Tensor]:
    """Evaluator features and class probabilities of ``samples``, in float64 on the CPU."""
    features, probs = [], []
    for chunk in samples.split(CHUNK_SIZE):
        f, p = evaluator.features_and_probs(chunk.to(device))
        features.append(f.double().cpu())
        probs.append(p.double().cpu())
    return torch.cat(features), torch.cat(probs)


class SharedEvaluation:
    """The per-trainer store behind the metric callbacks; get it with :func:`shared_evaluation`."""

    def __init__(self) -> None:
        self.num_samples = 0
        self.evaluators: dict[str, Evaluator] = {}
        self.described: set[str] = set()  # evaluators whose description is already in TensorBoard
        self._fake: dict[tuple, Scored] = {}
        self._real: dict[tuple, Scored] = {}

    def require(self, num_samples: int) -> None:
        """A callback announces how many samples it will need."""
        self.num_samples = max(self.num_samples, int(num_samples))

    def evaluator(self, kind: str, datamodule) -> Evaluator:
        """The evaluator of ``kind`` for this data set, built (or trained) once per run."""
        if kind not in self.evaluators:
            # Training a classifier draws random numbers, loading a cached one does not: keep the
            # run's random streams out of it, so a run's numbers never depend on the cache.
            with preserved_random_state():
                self.evaluators[kind] = evaluator_for(datamodule, kind)
        return self.evaluators[kind]

    def real(self, evaluator: Evaluator, datamodule, seed: int) -> Scored:
        """Real training samples (without replacement) and their features, computed once per run."""
        key = (evaluator.name, seed, self.num_samples)
        if key not in self._real:
            samples, labels = datamodule.real_samples(self.num_samples, seed=seed)
            features, probs = score(evaluator, samples, torch.device("cpu"))
            self._real[key] = Scored(samples, features, probs, labels)
        return self._real[key]

    def fake(self, trainer: pl.Trainer, pl_module: pl.LightningModule, evaluator: Evaluator, seed: int) -> Scored:
        """This epoch's generated samples and their features, computed once per epoch."""
        key = (logging_step(trainer), trainer.current_epoch, evaluator.name, seed, self.num_samples)
        if key not in self._fake:
            self._fake = {key: self._generate_and_score(trainer, pl_module, evaluator, seed)}  # drop old epochs
        return self._fake[key]

    def _generate_and_score(self, trainer, pl_module, evaluator: Evaluator, seed: int) -> Scored:
        noise = pl_module.sample_latent(self.num_samples, torch.Generator().manual_seed(seed))
        chunks = list(noise.split(CHUNK_SIZE))
        mine = range(trainer.global_rank, len(chunks), trainer.world_size)  # round-robin chunks per rank
        generator = pl_module.sampling_generator
        was_training = generator.training
        generator.eval()
        parts = []
        with torch.no_grad():
            for i in mine:
                samples = generator(chunks[i])
                features, probs = evaluator.features_and_probs(samples)
                parts.append(torch.cat([samples.flatten(1), features, probs], dim=1).double())
        generator.train(was_training)
        width = int(torch.tensor(generator.output_shape).prod()) + evaluator.num_features + evaluator.num_classes
        local = torch.cat(parts) if parts else noise.new_zeros((0, width), dtype=torch.float64)
        rows = gather_chunks(trainer, pl_module, local, [len(c) for c in chunks])
        samples, features, probs = rows.split([width - evaluator.num_features - evaluator.num_classes,
                                               evaluator.num_features, evaluator.num_classes], dim=1)
        return Scored(samples.float().view(-1, *generator.output_shape), features, probs)


def gather_chunks(trainer: pl.Trainer, pl_module: pl.LightningModule, local: Tensor, chunk_sizes: list[int]) -> Tensor:
    """Reassemble rows scored round-robin by chunk on each rank into the one-process order."""
    world = trainer.world_size
    if world == 1:
        return local.cpu()
    # all_gather needs equal shapes: pad every rank's rows to the longest share.
    shares = [sum(chunk_sizes[r::world]) for r in range(world)]
    padded = local.new_zeros((max(shares), local.shape[1]))
    padded[: len(local)] = local
    gathered = pl_module.all_gather(padded).cpu()  # (world, max_share, width)
    per_rank = [list(gathered[r, : shares[r]].split(chunk_sizes[r::world])) for r in range(world)]
    ordered = [per_rank[i % world][i // world] for i in range(len(chunk_sizes))]
    return torch.cat(ordered)


@contextlib.contextmanager
def preserved_random_state() -> Iterator[None]:
    """Restore torch's (CPU and CUDA), NumPy's and Python's global random states on exit."""
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=range(torch.cuda.device_count()) if torch.cuda.is_available() else []):
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def shared_evaluation(trainer: pl.Trainer) -> SharedEvaluation:
    """The :class:`SharedEvaluation` of ``trainer``, created on first use."""
    store = getattr(trainer, "_gan_lab_shared_evaluation", None)
    if store is None:
        store = SharedEvaluation()
        trainer._gan_lab_shared_evaluation = store
    return store
