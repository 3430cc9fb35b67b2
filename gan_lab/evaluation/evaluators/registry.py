"""Evaluators by name, and the right evaluator for a gan_lab data module.

Nothing here trains a network: classifier evaluators are read from weights
files (the shipped digits classifier, or a file made by ``gan-lab-evaluator``).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable

from gan_lab.evaluation.evaluators.resize import fitted
from gan_lab.errors import ConfigError
from gan_lab.evaluation.evaluators.base import Evaluator
from gan_lab.evaluation.evaluators.classifier import ClassifierEvaluator, StackedClassifierEvaluator, digits_classifier
from gan_lab.evaluation.evaluators.inception import InceptionEvaluator
from gan_lab.evaluation.evaluators.mixture import MixtureEvaluator
from gan_lab.evaluation.evaluators.weights_file import EvaluatorWeightsError

#: Evaluator constructors by kind; ``build_evaluator(kind, **kwargs)`` calls ``EVALUATORS[kind](**kwargs)``.
EVALUATORS: dict[str, Callable[..., Evaluator]] = {
    "mixture": MixtureEvaluator,  # centers, std
    "classifier": ClassifierEvaluator.from_file,  # path, sha256, batch_size
    "stacked_classifier": StackedClassifierEvaluator.from_file,  # path (None: shipped digits), channels, ...
    "inception": InceptionEvaluator,  # weights_path
}

#: Data sets whose classifier ships with gan_lab (stacked digits use the digits classifier per channel).
SHIPPED_CLASSIFIERS = ("digits", "stacked_digits")


class MissingClassifierWeights(EvaluatorWeightsError):
    """A classifier evaluator was asked for on a data set whose classifier gan_lab does not ship."""


def check_kind(kind: str, valid) -> None:
    if kind not in valid:
        raise ConfigError(f"Unknown evaluator {kind!r}; valid evaluators: {sorted(valid)}.")


def build_evaluator(kind: str, **kwargs) -> Evaluator:
    """The evaluator of ``kind`` (one of :data:`EVALUATORS`), built from ``kwargs``."""
    check_kind(kind, EVALUATORS)
    return EVALUATORS[kind](**kwargs)


def training_command(datamodule, out: str | None = None) -> str:
    """The ``gan-lab-evaluator`` command that trains the classifier for ``datamodule``'s images."""
    args = ["gan-lab-evaluator", "--data", datamodule.name]
    root = getattr(datamodule, "root", None)
    if root is not None:
        args += ["--root", str(root)]
    image_size = getattr(datamodule, "image_size", None)
    if image_size is not None:
        args += ["--image-size", str(image_size)]
    suffix = "" if image_size is None else f"_{image_size}px"
    args += ["--out", out or f"{datamodule.name}{suffix}_classifier.pt"]
    return shlex.join(args)


def missing_weights_message(datamodule) -> str:
    return "\n".join([
        f"The classifier evaluator for {datamodule.name} needs a trained classifier's weights file: gan_lab ships "
        f"one only for {' and '.join(SHIPPED_CLASSIFIERS)}, and evaluation never trains one behind your back "
        "(two machines would train two different classifiers, and their IS / FID would not be comparable).",
        "Train it once (a few minutes per epoch on a CPU), keep the file and share it with whoever compares numbers:",
        f"    {training_command(datamodule)}",
        "then pass the file as the evaluator's weights_path (its SHA-256 is logged with every run); "
        "or use evaluator=inception (the standard FID Inception-v3, comparable with papers).",
    ])


def check_fits(evaluator: ClassifierEvaluator, dataset: str, shape: tuple[int, ...], num_classes: int) -> None:
    """Raise an EvaluatorWeightsError unless the classifier was trained on ``dataset`` images of ``shape``."""
    problems = []
    if evaluator.dataset != dataset:
        problems.append(f"it was trained on {evaluator.dataset}, not {dataset}")
    if tuple(evaluator.sample_shape) != tuple(shape):
        problems.append(f"it takes images of shape {tuple(evaluator.sample_shape)}, not {tuple(shape)}")
    if evaluator.num_classes != num_classes:
        problems.append(f"it has {evaluator.num_classes} classes, not {num_classes}")
    if problems:
        raise EvaluatorWeightsError(f"The classifier weights file {evaluator.weights_path} does not fit the data: "
                                    f"{'; '.join(problems)}.")


def evaluator_for(datamodule, kind: str = "auto", weights_path: str | os.PathLike | None = None,
                  **kwargs) -> Evaluator:
    """The evaluator of ``kind`` for a gan_lab data module; ``"auto"`` picks the natural one.

    * Gaussian mixtures (``centers``, ``std`` attributes): ``"mixture"`` (exact posterior).
    * Other labelled images: ``"classifier"``, read from a weights file, never trained here:

      - ``digits``: the shipped digits classifier (hash-checked), unless ``weights_path`` names another file;
      - ``stacked_digits`` (or ``kind="stacked_classifier"``): the same classifier, channel by channel
        (:class:`StackedClassifierEvaluator`);
      - ``mnist``, ``fashion_mnist``, ``cifar10``: the file at ``weights_path`` (made by
        ``gan-lab-evaluator --data NAME --out FILE``); without one, a :class:`MissingClassifierWeights`
        error names that command.

      A file trained on another data set or image size is refused (:class:`EvaluatorWeightsError`).
    * ``"inception"``: the FID Inception-v3 for any images; ``weights_path`` is its local weights file.

    Args:
        weights_path: the evaluator's weights file (classifier or Inception); None: the shipped digits
            classifier, or torch-fidelity's Inception weights.  Not allowed for ``"mixture"``.
        kwargs: go to the evaluator's constructor (e.g. ``batch_size``).
    """
    check_kind(kind, ["auto", *EVALUATORS])
    is_mixture = hasattr(datamodule, "centers") and hasattr(datamodule, "std")
    if kind == "auto":
        kind = "mixture" if is_mixture else "classifier"
    if kind == "mixture":
        if not is_mixture:
            raise ConfigError(f"The mixture evaluator needs a Gaussian mixture data set, not {datamodule.name}.")
        if weights_path is not None:
            raise ConfigError(f"The mixture evaluator is exact and has no weights; got weights_path={weights_path!r}.")
        return MixtureEvaluator(datamodule.centers, datamodule.std, **kwargs)
    if kind == "inception":
        return InceptionEvaluator(weights_path=weights_path, **kwargs)
    if is_mixture or getattr(datamodule, "num_classes", None) is None:
        raise ConfigError(f"A classifier evaluator needs labelled images; {datamodule.name} is not. "
                         "Use evaluator=mixture for 2D mixtures or evaluator=inception for unlabelled images.")
    batch_size = kwargs.pop("batch_size", 500)
    if kwargs:
        raise TypeError(f"Unexpected arguments for the classifier evaluator: {sorted(kwargs)}.")
    if kind == "stacked_classifier" or datamodule.name == "stacked_digits":
        channels, *image = datamodule.shape
        per_channel = digits_classifier(batch_size) if weights_path is None else \
            ClassifierEvaluator.from_file(weights_path, batch_size=batch_size)
        per_channel = fitted(per_channel, (1, *image))  # enlarged digits: resized back to the classifier's input
        check_fits(per_channel, "digits", (1, *image), round(datamodule.num_classes ** (1 / channels)))
        return StackedClassifierEvaluator(per_channel, channels=channels, batch_size=batch_size)
    if weights_path is None:
        if datamodule.name != "digits":
            raise MissingClassifierWeights(missing_weights_message(datamodule))
        evaluator = digits_classifier(batch_size)
    else:
        evaluator = ClassifierEvaluator.from_file(weights_path, batch_size=batch_size)
    evaluator = fitted(evaluator, datamodule.shape)  # e.g. data.image_size=16: resized to the classifier's 8x8
    check_fits(evaluator, datamodule.name, datamodule.shape, datamodule.num_classes)
    return evaluator
