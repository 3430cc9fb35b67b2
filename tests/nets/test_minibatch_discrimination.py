"""MinibatchDiscrimination (Salimans et al. 2016, section 3.2): known answers, a loop reference, gradients, errors.

Every test is small: the whole file runs in a few seconds on a CPU.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

import gan_lab.nets.minibatch_discrimination as mbd
import gan_lab.nets.minibatch_native as native
import gan_lab.nets.minibatch_routes as routes
from helpers.runs import compose_config

from gan_lab.nets import DCGANDiscriminator, MinibatchDiscrimination, MLPDiscriminator

REPO_ROOT = Path(__file__).resolve().parents[2]  # tests/nets/ -> the repository
ROUTE_NAMES = sorted(mbd.ROUTES)  # auto, broadcast, cdist, fused, native
needs_native = pytest.mark.skipif(not native.available(), reason="no C compiler: the native route is unavailable")


def naive_closeness(features: torch.Tensor, T: torch.Tensor, num_kernels: int, kernel_dim: int) -> torch.Tensor:
    """The paper's o(x_i)_b = sum_{j != i} exp(-||M_{i,b} - M_{j,b}||_1), written as plain loops (N, B)."""
    n, a = features.shape
    tensor = T.view(a, num_kernels, kernel_dim)  # the paper's T, (A, B, C)
    rows = []
    for i in range(n):
        m_i = torch.einsum("a,abc->bc", features[i], tensor)  # M_i, (B, C)
        kernels = []
        for b in range(num_kernels):
            total = features.new_zeros(())
            for j in range(n):
                if j != i:
                    m_j = torch.einsum("a,ac->c", features[j], tensor[:, b])
                    total = total + torch.exp(-(m_i[b] - m_j).abs().sum())
            kernels.append(total)
        rows.append(torch.stack(kernels))
    return torch.stack(rows)


def closeness_of(layer: MinibatchDiscrimination, features: torch.Tensor) -> torch.Tensor:
    """The o(x) columns that the layer appends, ``(N, B)``."""
    return layer(features)[:, layer.in_features :]


@pytest.fixture(params=ROUTE_NAMES)
def layer(request):
    """A = 6, B = 4, C = 3 in float64, once per route (the default "auto", the fast and the reference routes)."""
    if request.param == "native" and not native.available():
        pytest.skip("no C compiler: the native route is unavailable")
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=6, num_kernels=4, kernel_dim=3).double()
    layer.route = request.param
    return layer


def test_defaults_widths_and_export():
    import gan_lab.nets

    assert "MinibatchDiscrimination" in gan_lab.nets.__all__
    layer = MinibatchDiscrimination(32)
    assert (layer.in_features, layer.num_kernels, layer.kernel_dim, layer.out_features) == (32, 100, 5, 132)
    assert layer.T.shape == (32, 100 * 5) and layer.route == "auto"
    assert "in_features=32, num_kernels=100, kernel_dim=5" in repr(layer)


def test_output_shape_and_the_input_passes_through(layer):
    x = torch.randn(7, 6, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (7, layer.out_features) == (7, 6 + 4)
    assert torch.equal(out[:, :6], x)


def test_matches_the_formula_written_as_loops_values_and_gradients(layer):
    x = (torch.randn(5, 6, dtype=torch.float64) * 0.5).requires_grad_()
    out = closeness_of(layer, x)
    upstream = torch.randn_like(out)
    grad_x, grad_t = torch.autograd.grad(out, (x, layer.T), upstream)

    x_ref, t_ref = x.detach().clone().requires_grad_(), layer.T.detach().clone().requires_grad_()
    ref = naive_closeness(x_ref, t_ref, layer.num_kernels, layer.kernel_dim)
    ref_grad_x, ref_grad_t = torch.autograd.grad(ref, (x_ref, t_ref), upstream)

    assert ref.min() > 0.01 and ref.max() < 3.9  # neither far apart nor collapsed: every pair counts
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_x, ref_grad_x, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad_t, ref_grad_t, rtol=1e-10, atol=1e-12)


def test_a_batch_of_one_has_nothing_to_compare_with(layer):
    out = closeness_of(layer, torch.randn(1, 6, dtype=torch.float64))
    assert torch.equal(out, torch.zeros(1, 4, dtype=torch.float64))


@pytest.mark.parametrize("n", [2, 5, 64])
def test_n_identical_rows_give_n_minus_one_in_every_kernel(layer, n):
    out = closeness_of(layer, torch.randn(1, 6, dtype=torch.float64).repeat(n, 1))
    assert torch.equal(out, torch.full((n, 4), n - 1.0, dtype=torch.float64))  # exp(0) = 1, summed exactly


def test_rows_far_apart_give_zero(layer):
    x = torch.randn(8, 6, dtype=torch.float64) * 1000
    assert torch.equal(closeness_of(layer, x), torch.zeros(8, 4, dtype=torch.float64))


def test_permuting_the_batch_permutes_the_output(layer):
    x = torch.randn(10, 6, dtype=torch.float64)
    perm = torch.randperm(10)
    torch.testing.assert_close(layer(x)[perm], layer(x[perm]), rtol=1e-12, atol=1e-12)


def test_o_of_a_sample_depends_on_its_batch_only_through_the_others(layer):
    x = torch.randn(6, 6, dtype=torch.float64)
    out = closeness_of(layer, x)
    # Adding a far-away row changes nothing; adding a copy of row 0 adds exactly 1 to rows 0 and to the copy.
    far = torch.cat([x, torch.full((1, 6), 1e4, dtype=torch.float64)])
    torch.testing.assert_close(closeness_of(layer, far)[:6], out, rtol=0, atol=1e-12)
    with_copy = closeness_of(layer, torch.cat([x, x[:1]]))
    torch.testing.assert_close(with_copy[0], out[0] + 1, rtol=0, atol=1e-12)
    torch.testing.assert_close(with_copy[6], with_copy[0], rtol=0, atol=1e-12)


def test_gradients_reach_t_and_the_input_and_gradcheck_passes(layer):
    x = torch.randn(6, 6, dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()
    assert layer.T.grad is not None and layer.T.grad.abs().sum() > 0
    assert x.grad is not None and x.grad.abs().sum() > 0

    torch.manual_seed(1)
    small = MinibatchDiscrimination(3, num_kernels=2, kernel_dim=2).double()
    small.route = layer.route
    features = (torch.randn(4, 3, dtype=torch.float64) * 0.5).requires_grad_()

    def as_function(features, t):  # gradcheck both inputs: the features and T
        return torch.func.functional_call(small, {"T": t}, (features,))

    assert torch.autograd.gradcheck(as_function, (features, small.T.detach().clone().requires_grad_()))


def test_second_derivatives_for_gradient_penalties(layer):
    """WGAN-GP differentiates D's input gradient (create_graph=True); every route must support it."""
    torch.manual_seed(2)
    small = MinibatchDiscrimination(3, num_kernels=2, kernel_dim=2).double()
    small.route = layer.route
    features = (torch.randn(4, 3, dtype=torch.float64) * 0.5).requires_grad_()
    assert torch.autograd.gradgradcheck(small, (features,))


def test_the_three_routes_agree_also_on_ties_and_across_blocks(monkeypatch):
    """Same values and gradients from every route, with duplicated rows (sign(0) = 0) and a multi-block backward."""
    monkeypatch.setattr(routes, "_BLOCK_ELEMENTS", 2 * 7 * 7)  # fused route in blocks of 2 kernels out of 5
    torch.manual_seed(3)
    m = torch.randn(5, 7, 3, dtype=torch.float64)
    m[:, 4] = m[:, 1]  # a tie between samples 1 and 4 in every kernel and coordinate
    upstream = torch.randn(5, 7, dtype=torch.float64)
    results = {}
    for name, route in mbd.ROUTES.items():
        if name == "native" and not native.available():
            continue
        x = m.clone().requires_grad_()
        out = route(x)
        (grad,) = torch.autograd.grad(out, x, upstream)
        results[name] = (out, grad)
    ref_out, ref_grad = results["broadcast"]
    for name, (out, grad) in results.items():
        torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12, msg=f"route {name}: values")
        torch.testing.assert_close(grad, ref_grad, rtol=1e-10, atol=1e-12, msg=f"route {name}: gradients")


@needs_native
def test_native_float32_matches_float64_reference_with_ties_and_far_pairs():
    """The float32 kernels (the fixture checks float64): ties, far pairs exactly 0, odd sizes."""
    torch.manual_seed(6)
    m = torch.randn(9, 37, 5, dtype=torch.float64) * 0.7
    m[:, 3] = m[:, 30]  # ties in every coordinate
    m[:, 7] += 40.0  # row 7 is far from every other: its pairs count exactly 0
    upstream = torch.randn(9, 37, dtype=torch.float64)
    x64, x32 = m.clone().requires_grad_(), m.float().requires_grad_()
    ref = mbd.closeness_broadcast(x64)
    out = mbd.closeness_native(x32)
    (ref_grad,) = torch.autograd.grad(ref, x64, upstream)
    (grad,) = torch.autograd.grad(out, x32, upstream.float())
    assert out.dtype == grad.dtype == torch.float32 and torch.equal(out[:, 7], torch.zeros(9))
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad.double(), ref_grad, rtol=1e-4, atol=1e-5)


@needs_native
def test_native_threads_split_the_kernels_without_changing_a_bit(monkeypatch):
    monkeypatch.setattr(native, "_THREAD_MIN_WORK", 0)  # split even this small work
    m = torch.randn(7, 10, 3).requires_grad_()  # 7 kernels over 3 threads: chunks of 2, 2 and 3
    upstream = torch.randn(7, 10)
    threads = torch.get_num_threads()
    results = []
    try:
        for count in (1, 3):
            torch.set_num_threads(count)
            out = mbd.closeness_native(m)
            results.append((out, *torch.autograd.grad(out, m, upstream)))
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip(*results))


@needs_native
def test_native_without_openmp_splits_the_kernels_over_python_threads(monkeypatch):
    """Where the compiler has no -fopenmp (e.g. Apple's clang) the kernels go to Python threads: same bits."""
    monkeypatch.setattr(native, "_THREAD_MIN_WORK", 0)
    torch.manual_seed(1)
    m = torch.randn(5, 19, 5).requires_grad_()  # 19 rows: two vectors of 8 and a part of one
    upstream = torch.randn(5, 19)
    threads = torch.get_num_threads()
    results = []
    try:
        torch.set_num_threads(2)
        for openmp in (True, False):
            if not openmp:
                monkeypatch.setattr(native.library(), "mbd_openmp", lambda: 0)
            out = mbd.closeness_native(m)
            results.append((out, *torch.autograd.grad(out, m, upstream)))
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip(*results))
    torch.testing.assert_close(results[0][0], mbd.closeness_broadcast(m.detach()), rtol=1e-5, atol=1e-6)


@needs_native
def test_native_float32_vector_code_matches_the_reference_for_every_dim_and_size():
    """The float32 vector kernels (dims 1-8) and the plain loops (dim 9): rows that fill part of a vector, one, several."""
    torch.manual_seed(2)
    for dim in (1, 2, 5, 8, 9):
        for n in (1, 2, 7, 8, 9, 16, 33):
            m = (torch.randn(3, n, dim, dtype=torch.float64) * 0.6).requires_grad_()
            upstream = torch.randn(3, n, dtype=torch.float64)
            m32 = m.detach().float().requires_grad_()
            out = mbd.closeness_native(m32)
            ref = mbd.closeness_broadcast(m)
            torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-6, msg=f"values, C={dim}, N={n}")
            (grad,) = torch.autograd.grad(out, m32, upstream.float())
            (ref_grad,) = torch.autograd.grad(ref, m, upstream)
            torch.testing.assert_close(grad.double(), ref_grad, rtol=1e-4, atol=1e-5, msg=f"grads, C={dim}, N={n}")
    # The rows that pad a batch to whole vectors are placed relative to the data: even rows at 1e30 (all
    # equal, so o = N - 1) are not mistaken for padding.
    huge = torch.full((2, 5, 5), 1e30).requires_grad_()
    out = mbd.closeness_native(huge)
    assert torch.equal(out, torch.full((2, 5), 4.0))
    assert torch.equal(torch.autograd.grad(out.sum(), huge)[0], torch.zeros(2, 5, 5))


@needs_native
def test_native_build_is_cached_per_directory(tmp_path):
    path = native.build(tmp_path)  # the one compile in the tests: about a second
    assert path.parent == tmp_path and path.suffix == ".so"
    assert native.build(tmp_path) == path and len(list(tmp_path.iterdir())) == 1  # found, not rebuilt


@needs_native
def test_loading_the_native_kernels_keeps_subnormals():
    """The library is compiled with -ffast-math but linked without: the process must not switch to flush-to-zero."""
    assert native.available()
    tiny = torch.tensor([1e-40])  # a float32 subnormal
    assert (tiny * 1.0).item() > 0 and (tiny + 0.0).item() > 0


def test_without_a_compiler_the_default_route_is_pure_pytorch(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv("GAN_LAB_CACHE", str(tmp_path))  # an empty cache: nothing built to fall back on
    native.library.cache_clear()
    try:
        with pytest.warns(UserWarning, match="compiled kernels unavailable"):
            assert not native.available()
        torch.manual_seed(7)
        layer = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3).double()
        x = torch.randn(5, 6, dtype=torch.float64)
        expected = layer(x)  # route "auto"
        layer.route = "fused"
        torch.testing.assert_close(expected, layer(x), rtol=0, atol=0)
        layer.route = "native"
        with pytest.raises(RuntimeError, match="'native' route is unavailable"):
            layer(x)
    finally:
        monkeypatch.undo()
        native.library.cache_clear()


def test_small_closeness_is_not_lost_to_cancellation():
    """o far below float32's resolution of 1 must keep its relative accuracy (no 'sum over all j, minus 1')."""
    torch.manual_seed(4)
    layer = MinibatchDiscrimination(1, num_kernels=1, kernel_dim=1)
    with torch.no_grad():
        layer.T.fill_(1.0)
    out = closeness_of(layer, torch.tensor([[0.0], [20.0]]))  # L1 distance 20: o = exp(-20) = 2.1e-9
    torch.testing.assert_close(out, torch.full((2, 1), math.exp(-20.0)), rtol=1e-5, atol=0)


def test_far_pairs_count_exactly_zero_and_nan_propagates():
    layer = MinibatchDiscrimination(1, num_kernels=1, kernel_dim=1)
    with torch.no_grad():
        layer.T.fill_(1.0)
    below, beyond = mbd.MAX_L1 - 1, mbd.MAX_L1 + 40  # exp(-(MAX_L1 + 40)) would be a float32 subnormal
    out = closeness_of(layer, torch.tensor([[0.0], [below], [below + beyond]]))
    torch.testing.assert_close(out[:, 0], torch.tensor([math.exp(-below), math.exp(-below), 0.0]), rtol=1e-5, atol=0)
    assert torch.isnan(closeness_of(layer, torch.tensor([[0.0], [float("nan")]]))).all()


def test_half_precision_features_are_compared_in_float32():
    torch.manual_seed(5)
    layer = MinibatchDiscrimination(8, num_kernels=6, kernel_dim=3)
    x = torch.randn(16, 8) * 0.3
    layer, x = layer.bfloat16(), x.bfloat16()
    out = layer(x)
    assert out.dtype == torch.bfloat16 and out.shape == (16, 14)
    m = (x @ layer.T).view(16, 6, 3).transpose(0, 1).double()  # the layer's own bf16 M, then exact maths
    expected = mbd.closeness_broadcast(m).T
    torch.testing.assert_close(out[:, 8:].double(), expected, rtol=8e-3, atol=1e-6)  # only the output's bf16 rounding


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"in_features": 0}, "in_features"),
        ({"in_features": -3}, "in_features"),
        ({"in_features": 4, "num_kernels": 0}, "num_kernels"),
        ({"in_features": 4, "kernel_dim": -1}, "kernel_dim"),
        ({"in_features": 4, "kernel_dim": 2.5}, "kernel_dim"),
        ({"in_features": 4, "num_kernels": True}, "num_kernels"),
        ({"in_features": "8"}, "in_features"),
    ],
)
def test_invalid_sizes_raise_a_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer, got"):
        MinibatchDiscrimination(**kwargs)


def test_numpy_integer_sizes_are_accepted():
    np = pytest.importorskip("numpy")
    layer = MinibatchDiscrimination(np.int64(4), num_kernels=np.int32(3), kernel_dim=np.int64(2))
    assert (layer.in_features, layer.out_features) == (4, 7) and type(layer.in_features) is int


def test_wrong_input_width_names_both_widths(layer):
    with pytest.raises(ValueError, match=r"in_features=6.*\(N, 6\).*width 5.*\(3, 5\)"):
        layer(torch.randn(3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(N, 6\).*3-d tensor"):
        layer(torch.randn(3, 2, 3, dtype=torch.float64))


def test_unknown_route_is_a_clear_error(layer):
    layer.route = "magic"
    with pytest.raises(ValueError, match="route must be one of"):
        layer(torch.randn(3, 6, dtype=torch.float64))


def minibatch_config() -> dict:
    """The layer's settings in model=minibatch_gan (num_kernels, kernel_dim)."""
    config = compose_config(["model=minibatch_gan", "data=ring8"], "unused")
    return dict(OmegaConf.to_container(config.model.discriminator.minibatch))


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
def test_a_collapsed_batch_stands_out_to_the_discriminator(net):
    """With model=minibatch_gan's layer, D sees a collapsed batch as one: larger o, and different logits."""
    torch.manual_seed(0)
    settings = minibatch_config()
    if net == "mlp":  # grid25-like 2D points, the MLP of configs/net/mlp.yaml
        build = lambda mb: MLPDiscriminator(input_shape=[2], hidden_dims=[128, 128, 128], minibatch=mb)  # noqa: E731
        diverse = torch.randint(-2, 3, (64, 2)) * 2.0 + 0.05 * torch.randn(64, 2)
        collapsed = diverse[:1] + 1e-3 * torch.randn(64, 2)
    else:  # 8x8 grey images, the DCGAN of configs/net/dcgan.yaml
        build = lambda mb: DCGANDiscriminator(8, 1, 32, minibatch=mb)  # noqa: E731
        diverse = torch.rand(64, 1, 8, 8) * 2 - 1
        collapsed = diverse[:1] + 1e-3 * torch.randn(64, 1, 8, 8)
    d = build(settings)
    layer = d.head.minibatch
    assert (layer.num_kernels, layer.kernel_dim) == (settings["num_kernels"], settings["kernel_dim"])

    with torch.no_grad():
        o_collapsed = closeness_of(layer, d.features(collapsed))
        o_diverse = closeness_of(layer, d.features(diverse))
        # Even at initialisation (T not yet learnt) the collapsed batch is near the maximum N - 1 = 63.
        assert o_collapsed.min() > 62.0
        assert o_diverse.mean() < 0.8 * o_collapsed.mean()

        # The same sample gets a different logit in a collapsed batch than among diverse samples ...
        in_collapsed = d(torch.cat([collapsed[:1], collapsed[1:]]))[0]
        in_diverse = d(torch.cat([collapsed[:1], diverse[1:]]))[0]
        assert (in_collapsed - in_diverse).abs() > 1e-3
        # ... which a discriminator without the layer cannot do: its logit ignores the rest of the batch.
        plain = build(None)
        torch.testing.assert_close(plain(torch.cat([collapsed[:1], collapsed[1:]]))[0],
                                   plain(torch.cat([collapsed[:1], diverse[1:]]))[0])
