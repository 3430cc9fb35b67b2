"""Metrics of conditional models: does G draw the class it is asked for, and does InfoGAN's code find the classes?

Each is configured in ``configs/evaluation/default.yaml`` and logs nothing for
an unconditional model (``RealData.condition_kind`` says what the run's model
conditions on; ``Scored.requested`` holds the class or code value each
generated sample was asked for).

* :class:`ClassAccuracy` (``condition_kind == "class"``): ``metrics/class_accuracy``, how often the
  evaluator's class equals the requested one (StudioGAN's classifier accuracy); ``reference/class_accuracy``
  is the evaluator's accuracy on held-out real data, what a perfect conditional generator would score.
* :class:`IntraFID` (``"class"``): ``metrics/intra_fid``, the mean over classes of the FID between the
  real training samples of a class and the generated samples asked for it (Miyato & Koyama 2018; StudioGAN).
* :class:`CodeClassAgreement` (``condition_kind == "code"``): ``metrics/code_class_agreement``, the
  fraction of samples whose evaluator class is the majority class of their code value, beside
  ``metrics/code_class_chance``, what a code independent of the class would score on the same samples.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from gan_lab.errors import EvaluationError
from gan_lab.evaluation.metric import EvaluationMetric, disjoint_subsets
from gan_lab.metrics import features_to_statistics, statistics_to_frechet_distance
from gan_lab.training.sampling import GeneratorInputs


def predicted_classes(probs: Tensor) -> Tensor:
    return probs.argmax(dim=1)


def within_class_fid(mean: Tensor, covariance: Tensor, features: Tensor) -> float:
    """The FID of ``features`` against one class's statistics, at a sample size matched to its reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the low-rank warning: the reference shares the bias
        return statistics_to_frechet_distance(mean, covariance, *features_to_statistics(features))


class ClassAccuracy(EvaluationMetric):
    """``metrics/class_accuracy``: the fraction of generated samples the evaluator assigns to their requested class."""

    def prepare(self, real):
        if real.condition_kind != "class" or real.held_out.labels is None or not len(real.held_out.labels):
            return {}
        correct = predicted_classes(real.held_out.probs) == real.held_out.labels
        return {"reference/class_accuracy": correct.double().mean().item()}

    def compute(self, fake, real):
        if fake.condition_kind != "class":
            return {}
        return {"metrics/class_accuracy": (predicted_classes(fake.probs) == fake.requested).double().mean().item()}


class IntraFID(EvaluationMetric):
    """``metrics/intra_fid``: the mean over classes of the within-class FID, with a reference that compares.

    A FID's bias grows as its sample shrinks, so a class's value compares only with one made from as many
    samples.  The reference (``reference/intra_fid``) is each class's held-out real samples against its
    training samples; the generated samples asked for that class are scored the same way, in disjoint
    subsets of the held-out class's size (at most ``max_subsets``), and averaged: the value beside the
    reference.  ``metrics/intra_fid_all_samples`` uses all the class's generated samples (lower: do not
    compare it with the reference).  Classes with fewer than 2 held-out samples are left out.

    A small held-out class (the digits': about 18) gives a covariance of low rank and a strongly biased
    distance; the FID's warning about it is silenced here because the reference carries the same bias,
    which is the point of computing both at one size.
    """

    def __init__(self, max_subsets: int = 10) -> None:
        if max_subsets < 1:
            raise EvaluationError(f"evaluation.metrics.intra_fid.max_subsets must be >= 1, got {max_subsets}.")
        self.max_subsets = int(max_subsets)
        self._classes: dict[int, tuple[Tensor, Tensor, int]] = {}  # class -> (mean, covariance, held-out count)

    def prepare(self, real):
        self._classes = {}
        if real.condition_kind != "class" or real.train.labels is None or real.held_out.labels is None:
            return {}
        references = []
        for label in torch.unique(real.train.labels).tolist():
            train = real.train.features[real.train.labels == label]
            held_out = real.held_out.features[real.held_out.labels == label]
            if len(train) < 2 or len(held_out) < 2:
                continue
            statistics = features_to_statistics(train)
            self._classes[label] = (*statistics, len(held_out))
            references.append(within_class_fid(*statistics, held_out))
        if not references:
            return {}
        return {"reference/intra_fid": sum(references) / len(references), "settings/intra_fid_classes": len(references)}

    def compute(self, fake, real):
        if fake.condition_kind != "class" or not self._classes:
            return {}
        matched, full = [], []
        for label, (mean, covariance, size) in self._classes.items():
            features = fake.features[fake.requested == label]
            if len(features) < max(size, 2):
                continue
            values = [within_class_fid(mean, covariance, subset)
                      for subset in disjoint_subsets(features, size, self.max_subsets)]
            matched.append(sum(values) / len(values))
            full.append(within_class_fid(mean, covariance, features))
        if not matched:
            return {}
        return {"metrics/intra_fid": sum(matched) / len(matched), "metrics/intra_fid_all_samples": sum(full) / len(full)}


class CodeClassAgreement(EvaluationMetric):
    """``metrics/code_class_agreement``: how well InfoGAN's categorical code determines the evaluator's class.

    For each code value, the share of its samples in its most common class; summed over values (weighted
    by their counts).  1: every code value draws one class.  ``metrics/code_class_chance`` is the share of
    the most common class overall, what a code that ignores the class would score (about 1/K when the
    classes are even).
    """

    def compute(self, fake, real):
        if fake.condition_kind != "code":
            return {}
        classes = predicted_classes(fake.probs)
        num_classes = fake.probs.shape[1]
        counts = torch.zeros(int(fake.requested.max()) + 1, num_classes, dtype=torch.long)
        counts.index_put_((fake.requested, classes), torch.ones_like(classes), accumulate=True)  # (codes, classes)
        total = counts.sum()
        return {"metrics/code_class_agreement": (counts.max(dim=1).values.sum() / total).item(),
                "metrics/code_class_chance": (counts.sum(dim=0).max() / total).item()}


@torch.no_grad()
def samples_by_condition(module, columns: int = 8, seed: int = 0, max_rows: int = 10) -> Tensor:
    """A conditional model's samples, one row per class (or code value), one fixed latent per column.

    Returns ``(rows * columns, *shape)``, row-major: a column shares its noise, so it shares its style
    and only the condition changes down it.  At most ``max_rows`` values (the first ones).
    """
    rows = min(module.condition_values, max_rows)
    z = module.sample_latent(columns, torch.Generator().manual_seed(seed)).repeat(rows, 1)  # (R * C, latent_dim)
    values = torch.arange(rows, device=module.device).repeat_interleave(columns)  # (R * C,)
    generator = module.sampling_generator
    was_training = generator.training
    generator.eval()
    try:
        return module.generate_from(generator, GeneratorInputs(z, module.condition_for(values))).cpu()
    finally:
        generator.train(was_training)
