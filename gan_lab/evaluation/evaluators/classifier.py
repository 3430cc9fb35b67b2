"""Evaluators backed by a small CNN trained once on a data set's labels and read from a weights file.

:class:`ClassifierEvaluator` scores images of the data set its classifier was
trained on (digits, MNIST, Fashion-MNIST, CIFAR-10): probabilities are its
softmax output and features its penultimate layer (128-d by default; see
:mod:`~gan_lab.evaluation.evaluators.classifier_net`).  It is built from a
weights file (:mod:`~gan_lab.evaluation.evaluators.weights_file`) and never
trains anything: the digits classifier ships with gan_lab
(:func:`digits_classifier`, hash-checked against
:data:`~gan_lab.evaluation.evaluators.shipped.DIGITS_CLASSIFIER_SHA256`); for other
data sets ``gan-lab-evaluator --data NAME --out FILE`` trains one once.
:attr:`~ClassifierEvaluator.sha256` is the weights file's SHA-256, which
identifies the evaluator in a run's settings.

:class:`StackedClassifierEvaluator` scores Stacked-MNIST-style images whose
C channels are independent single-channel digits (Metz et al. 2017;
VEEGAN; PacGAN): each channel goes through the 1-channel classifier, the
class probabilities are the outer product of the per-channel distributions,
flattened so that the class of digits ``(c0, c1, c2)`` is
``100 * c0 + 10 * c1 + c2`` (the labels of
:class:`gan_lab.data.StackedDigitsDataModule`), and the features are the
per-channel features concatenated.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from gan_lab.data.digits import load_digit_images
from gan_lab.evaluation.evaluators.base import Evaluator
from gan_lab.evaluation.evaluators.classifier_net import SmallCNN
from gan_lab.evaluation.evaluators.shipped import (
    DIGITS_CLASSIFIER_COMMAND,
    DIGITS_CLASSIFIER_FILE,
    DIGITS_CLASSIFIER_SHA256,
)
from gan_lab.evaluation.evaluators.weights_file import load_classifier_file


def load_sklearn_digits() -> tuple[Tensor, Tensor]:
    """scikit-learn's 1,797 8x8 digits as the digits data module loads them: ``(N, 1, 8, 8)`` in [-1, 1], labels."""
    return load_digit_images()


class ClassifierEvaluator(Evaluator):
    """Features (penultimate layer) and class probabilities of a trained :class:`SmallCNN`.

    Build one from a weights file with :meth:`from_file` (or :func:`digits_classifier` for the
    shipped digits classifier).  ``accuracy`` is the held-out accuracy measured after training
    (stored in the file), ``sha256`` the weights file's SHA-256 and ``weights_path`` its path
    (both None for a network handed over directly).
    """

    def __init__(self, net: SmallCNN, dataset: str, accuracy: float | None, batch_size: int = 500,
                 sha256: str | None = None, weights_path: str | os.PathLike | None = None) -> None:
        super().__init__(batch_size)
        self.net = net
        self.dataset = dataset
        self.name = f"classifier:{dataset}"
        self.num_features = net.feature_dim
        self.num_classes = net.num_classes
        self.accuracy = accuracy
        self.sha256 = sha256
        self.weights_path = None if weights_path is None else Path(weights_path)
        self.sample_shape = (net.channels, net.image_size, net.image_size)
        self.freeze()

    @classmethod
    def from_file(cls, path: str | os.PathLike, sha256: str | None = None, batch_size: int = 500,
                  what: str = "classifier weights file", fix: str = "") -> ClassifierEvaluator:
        """The classifier stored in the weights file ``path`` (written by ``gan-lab-evaluator``).

        ``sha256``: if given, a file with any other SHA-256 is refused with an
        :class:`~gan_lab.evaluation.evaluators.weights_file.EvaluatorWeightsError` (so is an unreadable
        file).  ``what`` and ``fix`` name the file and say how to repair it in that error.
        """
        loaded = load_classifier_file(path, sha256, what=what, fix=fix)
        return cls(loaded.net, loaded.dataset, loaded.accuracy, batch_size, sha256=loaded.sha256,
                   weights_path=loaded.path)

    def score_batch(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features, logits = self.net(x.float())  # (B, d), (B, K); half-precision samples are scored in float32
        return features, torch.softmax(logits.float(), dim=1)


class StackedClassifierEvaluator(Evaluator):
    """Scores C-channel images of independent digits with a 1-channel classifier, channel by channel.

    With K classes per channel there are K^C classes; the class of per-channel
    classes ``(c0, ..., c_{C-1})`` is ``sum_i c_i * K^(C-1-i)`` (``100 c0 + 10 c1 + c2``
    for 3 channels of 10 digits).  ``accuracy`` estimates the probability that all
    channels are right as ``per_channel.accuracy ** C`` (channels are independent digits).
    ``sha256`` is the per-channel classifier's (the network is the same).
    """

    def __init__(self, per_channel: ClassifierEvaluator, channels: int = 3, batch_size: int = 500) -> None:
        super().__init__(batch_size)
        if per_channel.sample_shape[0] != 1:
            raise ValueError(f"The per-channel classifier must take 1-channel images, got {per_channel.sample_shape}.")
        self.per_channel = per_channel
        self.channels = int(channels)
        self.name = f"stacked_classifier:{per_channel.dataset}"
        self.num_features = per_channel.num_features * self.channels
        self.num_classes = per_channel.num_classes**self.channels
        self.accuracy = None if per_channel.accuracy is None else per_channel.accuracy**self.channels
        self.sha256 = per_channel.sha256
        self.sample_shape = (self.channels, *per_channel.sample_shape[1:])
        self.freeze()

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None, channels: int = 3, batch_size: int = 500,
                  sha256: str | None = None) -> StackedClassifierEvaluator:
        """Stack the 1-channel classifier of the weights file ``path`` (None: the shipped digits classifier)."""
        per_channel = digits_classifier(batch_size) if path is None else \
            ClassifierEvaluator.from_file(path, sha256, batch_size)
        return cls(per_channel, channels, batch_size)

    def score_batch(self, x: Tensor) -> tuple[Tensor, Tensor]:
        b, c, h, w = x.shape
        features, probs = self.per_channel.score_batch(x.reshape(b * c, 1, h, w))  # (B*C, d), (B*C, K)
        features = features.reshape(b, c * features.shape[1])  # (B, C*d): channel 0's features first
        probs = probs.reshape(b, c, -1)  # (B, C, K)
        joint = probs[:, 0]  # (B, K)
        for i in range(1, c):
            # (B, K^i, 1) * (B, 1, K) -> (B, K^i, K): the earlier channels are the more significant digits
            joint = (joint[:, :, None] * probs[:, i, None, :]).reshape(b, -1)
        return features, joint  # (B, C*d), (B, K^C)


def digits_classifier(batch_size: int = 500) -> ClassifierEvaluator:
    """The classifier of scikit-learn's digits that ships with gan_lab, its file's SHA-256 checked.

    Raises an :class:`~gan_lab.evaluation.evaluators.weights_file.EvaluatorWeightsError` if the file is
    missing, unreadable or not the one whose hash is ``DIGITS_CLASSIFIER_SHA256``.
    """
    fix = ("Reinstall gan_lab (or, in a clone, `git checkout -- gan_lab/evaluation/evaluators/weights/`). "
           f"The file was made by `{DIGITS_CLASSIFIER_COMMAND}`; if you retrained it on purpose, set "
           "DIGITS_CLASSIFIER_SHA256 in gan_lab/evaluation/evaluators/shipped.py to its new hash.")
    return ClassifierEvaluator.from_file(DIGITS_CLASSIFIER_FILE, DIGITS_CLASSIFIER_SHA256, batch_size,
                                         what="shipped digits classifier weights file", fix=fix)
