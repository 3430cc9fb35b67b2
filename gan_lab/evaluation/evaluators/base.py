"""The evaluator interface: what the metrics see of a sample.

Every sample-quality metric in gan_lab works on one of two things an
evaluator computes for a batch of samples:

* ``features(x) -> (N, d)``: an embedding (FID, KID, birthday paradox);
* ``probs(x) -> (N, K)``: class probabilities p(y | x) (Inception Score, mode
  coverage).

``features_and_probs(x)`` returns both from one forward pass; metric callbacks
use it so that samples go through the network once per epoch.

An evaluator is a frozen ``nn.Module``: ``.to(device)`` moves it, it never
leaves eval mode, and its parameters never require gradients.  Each DDP rank
builds its own (from the same weights file, so that is cheap; nothing is trained).  Inputs are processed in
batches of ``batch_size`` under ``torch.no_grad()`` on the device of ``x``
(the evaluator moves itself there if needed), and the outputs are on that
device too.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn


class Evaluator(nn.Module, ABC):
    """Base class of the feature / class-probability extractors the metrics use.

    Subclasses set ``name``, ``num_features``, ``num_classes``, ``accuracy``,
    ``sha256`` and ``sample_shape`` in ``__init__`` and implement :meth:`score_batch`.
    """

    #: Short, unique description, e.g. ``"mixture"``, ``"classifier:digits"``, ``"inception-v3"``.
    name: str
    #: Dimension d of :meth:`features`.
    num_features: int
    #: Number K of classes of :meth:`probs`.
    num_classes: int
    #: Held-out accuracy of the classifier behind :meth:`probs`, or None when there is none to measure.
    accuracy: float | None = None
    #: SHA-256 (hex) of the weights file behind the evaluator, which identifies it in a run's settings;
    #: None when there is none (the exact mixture posterior) or it cannot be hashed.
    sha256: str | None = None
    #: Shape of one sample, e.g. ``(2,)`` or ``(1, 8, 8)``; None for any image ``(C, H, W)``.
    sample_shape: tuple[int, ...] | None = None

    def __init__(self, batch_size: int = 500) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.batch_size = int(batch_size)

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def score_batch(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Features ``(B, d)`` and class probabilities ``(B, K)`` of one checked batch (no grad, eval mode)."""

    def check_input(self, x: Tensor) -> None:
        """Raise a ValueError unless ``x`` is a float batch of samples of :attr:`sample_shape`."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise ValueError(f"{self.name} evaluator expects a float tensor, got {type(x).__name__} "
                             f"{getattr(x, 'dtype', '')}.")
        if self.sample_shape is not None and tuple(x.shape[1:]) != tuple(self.sample_shape):
            expected = ", ".join(map(str, self.sample_shape))
            raise ValueError(f"{self.name} evaluator expects samples of shape (N, {expected}), got {tuple(x.shape)}.")

    # ------------------------------------------------------------------ public API
    def features_and_probs(self, x: Tensor, batch_size: int | None = None) -> tuple[Tensor, Tensor]:
        """``(features (N, d), probs (N, K))`` of ``x``, computed in batches on ``x.device``."""
        self.check_input(x)
        self._follow(x.device)
        batch_size = batch_size or self.batch_size
        features, probs = [], []
        with torch.no_grad():
            for chunk in x.split(batch_size):
                f, p = self.score_batch(chunk)
                features.append(f)
                probs.append(p)
        if not features:  # an empty batch
            return x.new_zeros((0, self.num_features)), x.new_zeros((0, self.num_classes))
        return torch.cat(features), torch.cat(probs)

    def features(self, x: Tensor, batch_size: int | None = None) -> Tensor:
        """Features ``(N, d)`` of ``x``."""
        return self.features_and_probs(x, batch_size)[0]

    def probs(self, x: Tensor, batch_size: int | None = None) -> Tensor:
        """Class probabilities ``(N, K)`` of ``x``; every row sums to 1."""
        return self.features_and_probs(x, batch_size)[1]

    def forward(self, x: Tensor) -> Tensor:
        """Features, so that an evaluator can serve as torchmetrics' ``feature=`` module."""
        return self.features(x)

    # ------------------------------------------------------------------ frozen module
    def train(self, mode: bool = True) -> Evaluator:
        """Evaluators never leave eval mode (batch norm statistics and dropout stay fixed)."""
        return super().train(False)

    def freeze(self) -> Evaluator:
        """Eval mode and no gradients; subclasses call this at the end of ``__init__``."""
        self.requires_grad_(False)
        return self.train(False)

    def _follow(self, device: torch.device) -> None:
        """Move to ``device`` if the parameters / buffers live elsewhere."""
        tensor = next(itertools.chain(self.parameters(), self.buffers()), None)
        if tensor is not None and tensor.device != device:
            self.to(device)

    def extra_repr(self) -> str:
        accuracy = "n/a" if self.accuracy is None else f"{self.accuracy:.4f}"
        sha256 = "n/a" if self.sha256 is None else self.sha256[:16]
        return (f"name={self.name!r}, num_features={self.num_features}, num_classes={self.num_classes}, "
                f"accuracy={accuracy}, sha256={sha256}")
