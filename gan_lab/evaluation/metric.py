"""The interface of one evaluation metric, and the real data every metric compares against.

An :class:`EvaluationMetric` is configured once (its settings are its
constructor's arguments, from ``configs/evaluation/``), checked before
training starts, prepared once per run on the real data (where it computes
its ``reference/...`` values: what a perfect generator would score with the
same settings), and then computes its ``metrics/...`` values from the
generated samples of each evaluation.  The maths lives in
:mod:`gan_lab.metrics` (functional, float64, tested against known answers);
a metric object only decides what to feed it and under which tags.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from gan_lab.evaluation.scored import Scored
from gan_lab.evaluation.evaluators import Evaluator
from gan_lab.metrics.shared_pass import Key, SharedFeaturePass

#: A logged value: a number (a TensorBoard scalar) or a string (TensorBoard text, e.g. a hash).
Value = float | str


@dataclass
class RealData:
    """What every metric compares the generator against, computed once per run.

    Attributes:
        evaluator: the instrument (features and class probabilities).
        datamodule: the run's data module (``train_set``, ``val_set``; ``centers`` and ``std`` for mixtures).
        train: ``num_samples`` real training samples, drawn without replacement where possible, scored.
        held_out: the held-out split (at most ``num_samples`` of it), scored.
        seed: the evaluation's seed; metrics with random parts (IS splits, KID subsets) derive theirs from it.
        condition_kind: what the run's model conditions on: ``None``, ``"class"`` (cGAN, ACGAN) or ``"code"``
            (InfoGAN); the conditional metrics log nothing for an unconditional model.

    The k-NN metrics and KID register with :meth:`shared_pass` in ``prepare`` and read their values with
    :meth:`shared_values` in ``compute``: one blocked pass over the generated features' Gram matrices
    per evaluation serves them all (:mod:`gan_lab.metrics.shared_pass`).  :meth:`subset_values` gives
    the k-NN metrics at the held-out split's size (see :func:`held_out_sized`).
    """

    evaluator: Evaluator
    datamodule: Any
    train: Scored
    held_out: Scored
    seed: int
    condition_kind: str | None = None
    _shared: SharedFeaturePass | None = field(default=None, repr=False)
    _shared_for_subsets: SharedFeaturePass | None = field(default=None, repr=False)

    def shared_pass(self) -> SharedFeaturePass:
        """The pass of generated against real training features that the k-NN metrics and KID share."""
        if self._shared is None:
            self._shared = SharedFeaturePass(self.train.features)
        return self._shared

    def shared_values(self, fake: Scored, key: Key) -> tuple[float, float]:
        """The registered metric ``key`` of ``fake``: the first call per evaluation runs the pass for all of them."""
        shared = self.shared_pass()
        results = fake.cache.get(shared)
        if results is None or key not in results:
            results = fake.cache[shared] = shared(fake.features)
        return results[key]

    def subset_values(self, fake: Scored, key: Key) -> tuple[float, float]:
        """The registered k-NN metric ``key`` of ``fake``, averaged over its subsets of the held-out size.

        The values to put beside ``reference/...``, which compares the same real training features with the
        held-out split: recall and coverage grow with the number of generated samples, so only a value from
        as many samples compares (:func:`held_out_sized`).  One pass over every subset serves all registered
        k-NN metrics (not KID, whose estimator is unbiased at any size).
        """
        results = fake.cache.get("held_out_sized")
        if results is None:
            if self._shared_for_subsets is None:
                self._shared_for_subsets = self.shared_pass().without_kid()
            per_subset = [self._shared_for_subsets(subset) for subset in held_out_sized(fake.features, self)]
            results = fake.cache["held_out_sized"] = {
                name: tuple(sum(values[name][i] for values in per_subset) / len(per_subset) for i in range(2))
                for name in per_subset[0]}
        return results[key]

    @property
    def held_out_is_smaller(self) -> bool:
        """Whether the held-out split has fewer samples than are generated (then references need subsets)."""
        return len(self.held_out.features) < len(self.train.features)


def held_out_sized(generated: Tensor, real: RealData) -> list[Tensor]:
    """``generated`` cut into disjoint consecutive subsets of the held-out split's size (a remainder is dropped).

    Why: a ``reference/...`` value compares the real training sample with the held-out split, so it is made
    from as many samples as the held-out split has; on digits that is 180 against 5,000 generated.  A FID,
    a recall or a coverage from 5,000 samples is not comparable with one from 180 (Chong & Forsyth 2020
    show FID's bias falls as 1/N), so the generated samples are scored at the reference's size, subset by
    subset, and the values averaged.  The samples come from a fixed latent draw in no particular order, so
    consecutive subsets are independent draws.
    """
    return disjoint_subsets(generated, len(real.held_out.features))


def disjoint_subsets(samples: Tensor, size: int, limit: int | None = None) -> list[Tensor]:
    """``samples`` cut into consecutive subsets of ``size`` (at most ``limit`` of them; a remainder is dropped)."""
    count = len(samples) // size if limit is None else min(limit, len(samples) // size)
    return list(samples[: count * size].split(size))


class EvaluationMetric(ABC):
    """One metric of an evaluation; subclasses are small and name the paper they follow."""

    def check(self, evaluator: Evaluator, datamodule: Any, num_samples: int) -> None:
        """Raise :class:`EvaluationError` if these settings cannot give a meaningful number."""

    def prepare(self, real: RealData) -> dict[str, Value]:
        """Real-data work done once per run; returns the ``reference/...`` and ``settings/...`` values."""
        return {}

    @abstractmethod
    def compute(self, fake: Scored, real: RealData) -> dict[str, Value]:
        """The ``metrics/...`` values of one evaluation's generated samples."""

    def images(self, fake: Scored) -> dict[str, Tensor]:
        """Images to log with this evaluation, ``{tag: (3, H, W) in [0, 1]}`` (drawn on rank zero only)."""
        return {}
