"""The classifier's pooling layers: the same bits as nn.MaxPool2d / nn.AdaptiveAvgPool2d, standard under autograd."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lab.evaluation.evaluators import digits_classifier
from gan_lab.evaluation.evaluators.classifier import load_sklearn_digits
from gan_lab.evaluation.evaluators.pooling import AdaptiveAvgPool2, MaxPool2


@pytest.mark.parametrize("size", [(8, 8), (4, 4), (7, 7), (28, 28), (5, 6), (2, 2)])
def test_fast_pooling_gives_the_bits_of_the_standard_layers(size):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 5, *size, generator=g).relu()  # ReLU: many tied zeros, as in the classifier
    x[0, 0, 0, :2] = 3.0  # a tie between two non-zero values
    with torch.no_grad():
        assert torch.equal(MaxPool2()(x), nn.MaxPool2d(2)(x))
        assert torch.equal(AdaptiveAvgPool2()(x), nn.AdaptiveAvgPool2d(2)(x))
    x[1, 1, 1, 1] = torch.nan
    with torch.no_grad():
        assert torch.equal(MaxPool2()(x).isnan(), nn.MaxPool2d(2)(x).isnan())  # NaN propagates alike


def test_autograd_runs_the_standard_layers():
    # nn.MaxPool2d sends a tie's gradient to one element (torch.maximum would split it): trained weights
    # depend on it, so with autograd the standard kernels must run.
    x = torch.zeros(1, 1, 2, 2, requires_grad=True)
    MaxPool2()(x).sum().backward()
    assert x.grad.flatten().tolist().count(1.0) == 1 and x.grad.sum().item() == 1.0


def test_digits_classifier_scores_the_same_with_and_without_autograd():
    evaluator = digits_classifier()
    images = load_sklearn_digits()[0][:500]
    with torch.no_grad():
        fast = evaluator.net(images)
    standard = evaluator.net(images.clone().requires_grad_(True))  # autograd: the standard layers
    assert all(torch.equal(a, b.detach()) for a, b in zip(fast, standard))
