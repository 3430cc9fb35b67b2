"""Samples with what the evaluator made of them, generated once per evaluation.

Every metric needs the same thing: generated samples from a fixed latent seed,
passed once through the evaluator (features and class probabilities).  G's
inputs come from the module's own ``sample_inputs`` (so a conditional variant's
labels or codes are drawn there, with the evaluation's seed) and G is called
through its ``generate_from``; a conditional model's samples keep the class or
code value each was asked for (``Scored.requested``).
:func:`generate_and_score` does that work once per evaluation and every
metric reads the same :class:`Scored` tensors.

Distributed runs: every rank draws the *same* latent noise for all
``num_samples`` (cheap), generates and scores only its own chunks of it, and
the chunks are gathered back into the original order.  So the samples, and
hence every metric, are those of a one-process run, while the work is split.
Chunks have a fixed size, so each sample goes through the networks in a batch
of the same composition as in one process, which keeps results bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from gan_lab.evaluation.evaluators import Evaluator
from gan_lab.training.sampling import split_inputs

#: Samples per generator/evaluator forward; fixed so batch composition never depends on the number of processes.
CHUNK_SIZE = 500


@dataclass
class Scored:
    """Samples with what the evaluator made of them."""

    samples: Tensor  # (N, *shape), on the CPU
    features: Tensor  # (N, d) float64
    probs: Tensor  # (N, K) float64
    labels: Tensor | None = None  # real data only
    #: Conditional models: the class (``condition_kind == "class"``) or code value (``"code"``) each sample was
    #: asked for, ``(N,)`` on the CPU; ``None`` for unconditional models and real data.
    requested: Tensor | None = None
    condition_kind: str | None = None
    condition: Tensor | None = None  # the conditions themselves, as G was given them (on the CPU)
    #: Work several metrics share, done once per evaluation by the first that needs it (e.g. the
    #: :class:`~gan_lab.metrics.shared_pass.SharedFeaturePass` results, keyed by the pass).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


def score(evaluator: Evaluator, samples: Tensor, labels: Tensor | None = None,
          device: torch.device | str = "cpu") -> Scored:
    """``samples`` with their evaluator features and class probabilities, in float64 on the CPU."""
    features, probs = [], []
    for chunk in samples.split(CHUNK_SIZE):
        f, p = evaluator.features_and_probs(chunk.to(device))
        features.append(f.double().cpu())
        probs.append(p.double().cpu())
    if not features:
        return Scored(samples, torch.zeros(0, evaluator.num_features, dtype=torch.float64),
                      torch.zeros(0, evaluator.num_classes, dtype=torch.float64), labels)
    return Scored(samples.cpu(), torch.cat(features), torch.cat(probs), labels)


def generate_and_score(trainer: pl.Trainer, pl_module: pl.LightningModule, evaluator: Evaluator,
                       num_samples: int, seed: int) -> Scored:
    """``num_samples`` generated samples from inputs drawn with ``seed`` (its own generator), scored.

    The sampling network (the weight average if the module keeps one) runs in
    eval mode under ``no_grad``; no global random state is read or changed.
    """
    inputs = pl_module.sample_inputs(num_samples, torch.Generator().manual_seed(seed))  # noise (N, latent_dim), condition
    chunks = split_inputs(inputs, CHUNK_SIZE)
    mine = range(trainer.global_rank, len(chunks), trainer.world_size)  # round-robin chunks per rank
    generator = pl_module.sampling_generator
    was_training = generator.training
    generator.eval()
    parts = []
    try:
        with torch.no_grad():
            for i in mine:
                samples = pl_module.generate_from(generator, chunks[i])
                features, probs = evaluator.features_and_probs(samples)
                parts.append(torch.cat([samples.flatten(1), features, probs], dim=1).double())
    finally:
        generator.train(was_training)
    sample_size = int(torch.tensor(generator.output_shape).prod())
    widths = [sample_size, evaluator.num_features, evaluator.num_classes]
    local = torch.cat(parts) if parts else inputs.z.new_zeros((0, sum(widths)), dtype=torch.float64)
    rows = gather_chunks(trainer, pl_module, local, [len(c.z) for c in chunks])
    samples, features, probs = rows.split(widths, dim=1)
    # Every rank drew the same inputs, so the requested values need no gathering.
    requested = None if inputs.condition is None else pl_module.condition_value(inputs.condition).long().cpu()
    return Scored(samples.float().view(-1, *generator.output_shape), features, probs, requested=requested,
                  condition_kind=pl_module.condition_kind if requested is not None else None,
                  condition=None if inputs.condition is None else inputs.condition.cpu())


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
