"""Evaluators by name, and the right evaluator for a gan_lab data module."""

from __future__ import annotations

import os
from collections.abc import Callable

from gan_lab.metrics.evaluators.base import Evaluator
from gan_lab.metrics.evaluators.classifier import ClassifierEvaluator, StackedClassifierEvaluator, digits_classifier
from gan_lab.metrics.evaluators.inception import InceptionEvaluator
from gan_lab.metrics.evaluators.mixture import MixtureEvaluator

#: Evaluator constructors by kind; ``build_evaluator(kind, **kwargs)`` calls ``EVALUATORS[kind](**kwargs)``.
EVALUATORS: dict[str, Callable[..., Evaluator]] = {
    "mixture": MixtureEvaluator,  # centers, std
    "classifier": ClassifierEvaluator.for_data,  # x, y, num_classes, name, cache_dir, seed, ...
    "stacked_classifier": StackedClassifierEvaluator.for_data,  # x, y (1-channel), num_classes, name, channels, ...
    "inception": InceptionEvaluator,  # weights_path
}


def check_kind(kind: str, valid) -> None:
    if kind not in valid:
        raise ValueError(f"Unknown evaluator {kind!r}; valid evaluators: {sorted(valid)}.")


def build_evaluator(kind: str, **kwargs) -> Evaluator:
    """The evaluator of ``kind`` (one of :data:`EVALUATORS`), built from ``kwargs``."""
    check_kind(kind, EVALUATORS)
    return EVALUATORS[kind](**kwargs)


def _show_progress() -> bool:
    """Only one process of a distributed run draws the training progress bar."""
    return os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("RANK", "0") == "0"


def evaluator_for(datamodule, kind: str = "auto", cache_dir: str | os.PathLike | None = None, **kwargs) -> Evaluator:
    """The evaluator of ``kind`` for a gan_lab data module; ``"auto"`` picks the natural one.

    * Gaussian mixtures (``centers``, ``std`` attributes): ``"mixture"`` (exact posterior).
    * ``stacked_digits``: ``"classifier"`` means the per-channel digits classifier
      (:class:`StackedClassifierEvaluator`), trained on scikit-learn's digits.
    * Other labelled images: ``"classifier"``, trained on all of ``datamodule.load()``
      (with its own fixed held-out split), cached under ``cache_dir``.
    * ``"inception"``: the FID Inception-v3 for any images (``kwargs`` go to :class:`InceptionEvaluator`).
    """
    check_kind(kind, ["auto", *EVALUATORS])
    is_mixture = hasattr(datamodule, "centers") and hasattr(datamodule, "std")
    if kind == "auto":
        kind = "mixture" if is_mixture else "classifier"
    if kind == "mixture":
        if not is_mixture:
            raise ValueError(f"The mixture evaluator needs a Gaussian mixture data set, not {datamodule.name}.")
        return MixtureEvaluator(datamodule.centers, datamodule.std, **kwargs)
    if kind == "inception":
        return InceptionEvaluator(**kwargs)
    if is_mixture or getattr(datamodule, "num_classes", None) is None:
        raise ValueError(f"A classifier evaluator needs labelled images; {datamodule.name} is not. "
                         "Use evaluator=mixture for 2D mixtures or evaluator=inception for unlabelled images.")
    kwargs = {"progress": _show_progress(), **kwargs}
    if kind == "stacked_classifier" or datamodule.name == "stacked_digits":
        channels = datamodule.shape[0]
        return StackedClassifierEvaluator(digits_classifier(cache_dir, **kwargs), channels=channels)
    x, y = datamodule.load()
    return ClassifierEvaluator.for_data(x, y, datamodule.num_classes, datamodule.name, cache_dir=cache_dir, **kwargs)
