"""Evaluators: what metrics see of a sample (features and class probabilities).

* :class:`MixtureEvaluator`: exact posterior of a 2D Gaussian mixture; features are the points.
* :class:`ClassifierEvaluator`: a small CNN trained once on the data set's labels, read from a
  hash-identified weights file; the digits classifier ships with gan_lab (:mod:`.shipped`), other
  data sets' are made by ``gan-lab-evaluator``.  Evaluation never trains anything.
* :class:`StackedClassifierEvaluator`: Stacked-MNIST-style images scored channel by channel.
* :class:`InceptionEvaluator`: the standard FID Inception-v3 (torch-fidelity's).

Every evaluator has ``name``, ``num_features``, ``num_classes``, ``accuracy`` and ``sha256``
(its weights file's hash, None for the exact mixture posterior).
"""

from gan_lab.evaluation.evaluators.base import Evaluator
from gan_lab.evaluation.evaluators.classifier import (
    ClassifierEvaluator,
    StackedClassifierEvaluator,
    digits_classifier,
    load_sklearn_digits,
)
from gan_lab.evaluation.evaluators.classifier_net import Architecture, SmallCNN, TrainingSettings, holdout_split
from gan_lab.evaluation.evaluators.inception import InceptionEvaluator, InceptionWeightsUnavailable
from gan_lab.evaluation.evaluators.mixture import MixtureEvaluator
from gan_lab.evaluation.evaluators.registry import EVALUATORS, MissingClassifierWeights, build_evaluator, evaluator_for
from gan_lab.evaluation.evaluators.shipped import (
    DIGITS_CLASSIFIER_COMMAND,
    DIGITS_CLASSIFIER_FILE,
    DIGITS_CLASSIFIER_SHA256,
)
from gan_lab.evaluation.evaluators.weights_file import EvaluatorWeightsError, load_classifier_file, train_classifier_file

__all__ = [
    "DIGITS_CLASSIFIER_COMMAND",
    "DIGITS_CLASSIFIER_FILE",
    "DIGITS_CLASSIFIER_SHA256",
    "EVALUATORS",
    "Architecture",
    "ClassifierEvaluator",
    "Evaluator",
    "EvaluatorWeightsError",
    "InceptionEvaluator",
    "InceptionWeightsUnavailable",
    "MissingClassifierWeights",
    "MixtureEvaluator",
    "SmallCNN",
    "StackedClassifierEvaluator",
    "TrainingSettings",
    "build_evaluator",
    "digits_classifier",
    "evaluator_for",
    "holdout_split",
    "load_classifier_file",
    "load_sklearn_digits",
    "train_classifier_file",
]
