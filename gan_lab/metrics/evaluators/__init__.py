"""Evaluators: what metrics see of a sample (features and class probabilities).

* :class:`MixtureEvaluator`: exact posterior of a 2D Gaussian mixture; features are the points.
* :class:`ClassifierEvaluator`: a small CNN trained (and cached) on the data set's own labels.
* :class:`StackedClassifierEvaluator`: Stacked-MNIST-style images scored channel by channel.
* :class:`InceptionEvaluator`: the standard FID Inception-v3 (torch-fidelity's).
"""

from gan_lab.metrics.evaluators.base import Evaluator
from gan_lab.metrics.evaluators.cache import (
    CODE_VERSION,
    CachedClassifier,
    default_cache_dir,
    load_or_train_classifier,
)
from gan_lab.metrics.evaluators.classifier import (
    ClassifierEvaluator,
    StackedClassifierEvaluator,
    digits_classifier,
    load_sklearn_digits,
)
from gan_lab.metrics.evaluators.classifier_net import Architecture, SmallCNN, TrainingSettings, holdout_split
from gan_lab.metrics.evaluators.inception import InceptionEvaluator, InceptionWeightsUnavailable
from gan_lab.metrics.evaluators.mixture import MixtureEvaluator
from gan_lab.metrics.evaluators.registry import EVALUATORS, build_evaluator, evaluator_for

__all__ = [
    "CODE_VERSION",
    "EVALUATORS",
    "Architecture",
    "CachedClassifier",
    "ClassifierEvaluator",
    "Evaluator",
    "InceptionEvaluator",
    "InceptionWeightsUnavailable",
    "MixtureEvaluator",
    "SmallCNN",
    "StackedClassifierEvaluator",
    "TrainingSettings",
    "build_evaluator",
    "default_cache_dir",
    "digits_classifier",
    "evaluator_for",
    "holdout_split",
    "load_or_train_classifier",
    "load_sklearn_digits",
]
