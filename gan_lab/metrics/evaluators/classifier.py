"""Evaluators backed by a small CNN trained on the data set's own labels.

:class:`ClassifierEvaluator` scores images the classifier was trained on
(digits, MNIST, Fashion-MNIST, CIFAR-10): probabilities are its softmax
output and features its penultimate layer (128-d by default; see
:mod:`~gan_lab.metrics.evaluators.classifier_net`).

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

import torch
from torch import Tensor

from gan_lab.metrics.evaluators.base import Evaluator
from gan_lab.metrics.evaluators.cache import load_or_train_classifier
from gan_lab.metrics.evaluators.classifier_net import Architecture, SmallCNN, TrainingSettings

#: Data sets larger than this train for :data:`LARGE_DATA_EPOCHS` epochs by default
#: (MNIST: about 2 minutes per epoch on 2 CPU cores).
LARGE_DATA = 10_000
SMALL_DATA_EPOCHS, LARGE_DATA_EPOCHS = 15, 3


def default_epochs(num_samples: int) -> int:
    """Epochs used when none are given: 15 for small data sets (digits), 3 for large ones (MNIST, CIFAR-10)."""
    return SMALL_DATA_EPOCHS if num_samples <= LARGE_DATA else LARGE_DATA_EPOCHS


def load_sklearn_digits() -> tuple[Tensor, Tensor]:
    """scikit-learn's 1,797 8x8 digits: ``(N, 1, 8, 8)`` floats ``pixel / 16 * 2 - 1`` in [-1, 1], labels ``(N,)``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    return images / 16.0 * 2 - 1, torch.tensor(digits.target, dtype=torch.long)


class ClassifierEvaluator(Evaluator):
    """Features (penultimate layer) and class probabilities of a trained :class:`SmallCNN`.

    Build one with :meth:`for_data` (trains or loads from the cache).
    ``accuracy`` is the held-out accuracy measured after training.
    """

    def __init__(self, net: SmallCNN, dataset: str, accuracy: float | None, batch_size: int = 500) -> None:
        super().__init__(batch_size)
        self.net = net
        self.dataset = dataset
        self.name = f"classifier:{dataset}"
        self.num_features = net.feature_dim
        self.num_classes = net.num_classes
        self.accuracy = accuracy
        self.sample_shape = (net.channels, net.image_size, net.image_size)
        self.cache_path: os.PathLike | None = None  # set by for_data
        self.from_cache: bool | None = None  # set by for_data: True if loaded, False if trained
        self.freeze()

    @classmethod
    def for_data(
        cls,
        x: Tensor,
        y: Tensor,
        num_classes: int,
        name: str,
        cache_dir: str | os.PathLike | None = None,
        seed: int = 0,
        epochs: int | None = None,
        width: int = 32,
        feature_dim: int = 128,
        holdout_fraction: float = 0.2,
        progress: bool = True,
        batch_size: int = 500,
    ) -> ClassifierEvaluator:
        """The classifier of labelled images ``(x, y)``, loaded from the cache or trained (then cached).

        ``x``: ``(N, C, S, S)`` in [-1, 1]; ``y``: ``(N,)`` in ``[0, num_classes)``; ``name`` names the
        data set (cache key and :attr:`name`).  A fixed-seed ``holdout_fraction`` of the samples is held
        out to measure :attr:`accuracy`.  ``epochs=None`` picks :func:`default_epochs`.
        ``batch_size`` is the evaluation batch size.
        """
        num_train = len(x) - int(round(len(x) * holdout_fraction))
        settings = TrainingSettings(
            seed=seed, epochs=epochs or default_epochs(num_train), holdout_fraction=holdout_fraction
        )
        cached = load_or_train_classifier(
            x, y, num_classes, name, cache_dir, Architecture(width=width, feature_dim=feature_dim), settings, progress
        )
        evaluator = cls(cached.net, name, cached.accuracy, batch_size)
        evaluator.cache_path, evaluator.from_cache = cached.path, cached.from_cache
        return evaluator

    def score_batch(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features, logits = self.net(x.float())  # (B, d), (B, K); half-precision samples are scored in float32
        return features, torch.softmax(logits.float(), dim=1)


class StackedClassifierEvaluator(Evaluator):
    """Scores C-channel images of independent digits with a 1-channel classifier, channel by channel.

    With K classes per channel there are K^C classes; the class of per-channel
    classes ``(c0, ..., c_{C-1})`` is ``sum_i c_i * K^(C-1-i)`` (``100 c0 + 10 c1 + c2``
    for 3 channels of 10 digits).  ``accuracy`` estimates the probability that all
    channels are right as ``per_channel.accuracy ** C`` (channels are independent digits).
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
        self.sample_shape = (self.channels, *per_channel.sample_shape[1:])
        self.freeze()

    @classmethod
    def for_data(cls, x: Tensor, y: Tensor, num_classes: int, name: str, channels: int = 3, batch_size: int = 500,
                 **classifier_kwargs) -> StackedClassifierEvaluator:
        """Train (or load) the 1-channel classifier of ``(x, y)`` with ``ClassifierEvaluator.for_data``; stack it."""
        per_channel = ClassifierEvaluator.for_data(x, y, num_classes, name, **classifier_kwargs)
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


def digits_classifier(cache_dir: str | os.PathLike | None = None, seed: int = 0, **kwargs) -> ClassifierEvaluator:
    """The classifier of scikit-learn's digits (``name="digits"``), loaded from the cache or trained."""
    x, y = load_sklearn_digits()
    return ClassifierEvaluator.for_data(x, y, 10, "digits", cache_dir=cache_dir, seed=seed, **kwargs)
