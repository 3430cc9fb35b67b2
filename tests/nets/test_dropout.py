"""gan_lab.nets.dropout.Dropout: nn.Dropout's layer with a cheaper mask draw on the CPU."""

from __future__ import annotations

import torch
from torch import nn

from gan_lab.nets import MLPDiscriminator
from gan_lab.nets.dropout import Dropout


def test_keeps_each_value_with_probability_one_minus_p_and_scales_it():
    torch.manual_seed(0)
    layer = Dropout(0.4)
    x = torch.full((400, 500), 3.0, requires_grad=True)
    y = layer(x)
    kept = y != 0
    # 200,000 independent draws: the kept share is 0.6 to within 5 standard errors (0.0011 each)
    assert abs(kept.double().mean().item() - 0.6) < 5 * (0.6 * 0.4 / kept.numel()) ** 0.5
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 3.0 / 0.6))
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(grad, kept.float() / 0.6)  # the same mask and scale for the gradient
    # rows and columns are not correlated: every column keeps about 60 % of its 400 values
    assert kept.float().mean(0).sub(0.6).abs().max() < 0.12


def test_same_seed_same_mask_and_evaluation_passes_values_through():
    layer = Dropout(0.3)
    x = torch.randn(64, 32)
    torch.manual_seed(5)
    first = layer(x)
    torch.manual_seed(5)
    assert torch.equal(first, layer(x))
    layer.eval()
    assert torch.equal(layer(x), x)
    assert repr(layer) == repr(nn.Dropout(0.3)) and not list(layer.state_dict())


def test_the_networks_use_it():
    net = MLPDiscriminator([2], [8, 8], dropout=0.2)
    assert sum(isinstance(m, Dropout) for m in net.modules()) == 2
