"""MinibatchDiscrimination (Salimans et al. 2016, section 3.2): known answers, equivariance, gradients."""

import pytest
import torch

from gan_lab.nets import MinibatchDiscrimination, MLPDiscriminator


def naive(layer: MinibatchDiscrimination, features: torch.Tensor) -> torch.Tensor:
    """The paper's formula with explicit loops: o(x_i)_b = sum_{j != i} exp(-||M_i,b - M_j,b||_1)."""
    m = (features @ layer.T).view(len(features), layer.num_kernels, layer.kernel_dim)
    o = torch.zeros(len(features), layer.num_kernels, dtype=features.dtype)
    for i in range(len(features)):
        for j in range(len(features)):
            if i != j:
                o[i] += torch.exp(-(m[i] - m[j]).abs().sum(dim=1))
    return torch.cat([features, o], dim=1)


@pytest.fixture
def layer():
    torch.manual_seed(0)
    return MinibatchDiscrimination(in_features=6, num_kernels=4, kernel_dim=3).double()


def test_output_shape_and_width(layer):
    out = layer(torch.randn(7, 6, dtype=torch.float64))
    assert out.shape == (7, 6 + 4) and layer.out_features == 10


def test_matches_the_formula_written_as_loops(layer):
    x = torch.randn(9, 6, dtype=torch.float64) * 0.3
    assert torch.allclose(layer(x), naive(layer, x), atol=1e-12)


def test_a_batch_of_one_has_nothing_to_compare_with(layer):
    out = layer(torch.randn(1, 6, dtype=torch.float64))
    assert torch.equal(out[:, 6:], torch.zeros(1, 4, dtype=torch.float64))


def test_n_identical_rows_give_n_minus_one_in_every_kernel(layer):
    out = layer(torch.randn(1, 6, dtype=torch.float64).repeat(5, 1))
    assert torch.allclose(out[:, 6:], torch.full((5, 4), 4.0, dtype=torch.float64))


def test_rows_far_apart_give_about_zero(layer):
    out = layer(torch.randn(8, 6, dtype=torch.float64) * 1000)
    assert out[:, 6:].abs().max() < 1e-6


def test_permuting_the_batch_permutes_the_output(layer):
    x = torch.randn(10, 6, dtype=torch.float64)
    perm = torch.randperm(10)
    assert torch.allclose(layer(x)[perm], layer(x[perm]), atol=1e-12)


def test_gradients_reach_t_and_the_input(layer):
    x = torch.randn(6, 6, dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()
    assert layer.T.grad is not None and layer.T.grad.abs().sum() > 0
    assert x.grad is not None and x.grad.abs().sum() > 0
    small = MinibatchDiscrimination(3, num_kernels=2, kernel_dim=2).double()
    assert torch.autograd.gradcheck(small, (torch.randn(4, 3, dtype=torch.float64, requires_grad=True),))


def test_a_collapsed_batch_stands_out_to_the_discriminator():
    torch.manual_seed(0)
    d = MLPDiscriminator(input_shape=[2], hidden_dims=[32], minibatch={"num_kernels": 10, "kernel_dim": 3})
    diverse = torch.randn(64, 2) * 3
    collapsed = torch.randn(1, 2).repeat(64, 1) + 1e-3 * torch.randn(64, 2)

    def closeness(batch):  # the o(x) columns the layer appends inside D
        with torch.no_grad():
            return d.head.minibatch(d.features(batch))[:, d.head.minibatch.in_features :]

    # Even at initialisation (D has not learnt T yet) the collapsed batch is near the maximum N - 1.
    assert closeness(collapsed).min() > 62.5
    assert closeness(diverse).mean() < 0.5 * closeness(collapsed).mean()


@pytest.mark.parametrize("kwargs", [{"in_features": 0}, {"in_features": 4, "num_kernels": 0},
                                    {"in_features": 4, "kernel_dim": -1}])
def test_invalid_sizes_raise(kwargs):
    with pytest.raises(ValueError, match="must be a positive integer"):
        MinibatchDiscrimination(**kwargs)


def test_wrong_input_width_names_both_widths(layer):
    with pytest.raises(ValueError, match=r"\(N, 6\).*\(3, 5\)"):
        layer(torch.randn(3, 5, dtype=torch.float64))
