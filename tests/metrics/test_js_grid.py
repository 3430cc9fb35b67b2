"""JS by grid (GAN Lab): histograms, exact mixture cell probabilities, the divergence, and the metric object."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import norm

from gan_lab.evaluation import JSGrid
from gan_lab.evaluation.scored import Scored
from gan_lab.metrics import gaussian_mixture_cell_probabilities, histogram_on_grid, js_grid, square_box

BOX = (0.0, 4.0, 0.0, 4.0)


def test_identical_histograms_have_js_zero_and_disjoint_ones_log_2():
    points = torch.tensor([[0.5, 0.5], [1.5, 2.5], [3.5, 3.5]])
    same = histogram_on_grid(points, BOX, bins=4)
    assert js_grid(same, same) == 0.0
    elsewhere = histogram_on_grid(torch.tensor([[2.5, 0.5], [0.5, 3.5]]), BOX, bins=4)
    assert js_grid(same, elsewhere) == pytest.approx(math.log(2), abs=1e-12)
    outside = histogram_on_grid(torch.tensor([[9.0, 9.0]]), BOX, bins=4)  # everything in the outside cell
    assert js_grid(same, outside) == pytest.approx(math.log(2), abs=1e-12)


def test_js_grid_matches_a_hand_computed_value_and_scipy():
    # p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4), JS = (log(4/3) + (log(2/3) + log 2) / 2) / 2.
    p, q = torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5])
    assert js_grid(p, q) == pytest.approx((math.log(4 / 3) + 0.5 * (math.log(2 / 3) + math.log(2))) / 2, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b = rng.random(17), rng.random(17) * (rng.random(17) > 0.3)
        a, b = a / a.sum(), b / b.sum()
        assert js_grid(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(jensenshannon(a, b) ** 2, rel=1e-9)


def test_histogram_counts_each_point_once_edges_included_and_matches_numpy():
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 5, size=(2000, 2))
    points[:4] = [[0.0, 0.0], [4.0, 4.0], [4.0, 0.0], [2.0, 4.0]]  # the box's corners and edges count inside
    cells = histogram_on_grid(torch.from_numpy(points), BOX, bins=8)
    assert cells.shape == (65,) and cells.sum() == pytest.approx(1.0, abs=1e-12)
    inside, _, _ = np.histogram2d(points[:, 0], points[:, 1], bins=8, range=[[0, 4], [0, 4]])
    assert np.allclose(cells[:64].numpy() * len(points), inside.flatten())  # cell (i, j) is entry i * bins + j
    assert cells[64] * len(points) == len(points) - inside.sum()
    assert histogram_on_grid(torch.tensor([[float("nan"), 1.0]]), BOX, 8)[64] == 1.0  # NaN falls outside


def test_exact_cell_probabilities_of_a_mixture_match_a_cell_by_cell_computation():
    centers, std, bins, box = [[1.0, 1.2], [2.5, 3.0]], 0.4, 4, (0.0, 4.0, 0.0, 4.0)
    exact = gaussian_mixture_cell_probabilities(centers, std, box, bins)
    edges = np.linspace(0, 4, bins + 1)
    brute = np.zeros(bins * bins)
    for i in range(bins):
        for j in range(bins):
            for cx, cy in centers:
                mass_x = norm.cdf(edges[i + 1], cx, std) - norm.cdf(edges[i], cx, std)
                mass_y = norm.cdf(edges[j + 1], cy, std) - norm.cdf(edges[j], cy, std)
                brute[i * bins + j] += mass_x * mass_y / len(centers)
    assert np.allclose(exact[:-1].numpy(), brute, rtol=1e-10, atol=1e-15)
    assert exact.sum() == pytest.approx(1.0, abs=1e-12)
    assert exact[-1] == pytest.approx(1 - brute.sum(), abs=1e-12)


def test_half_of_a_gaussian_on_the_box_edge_is_outside():
    cells = gaussian_mixture_cell_probabilities([[0.0, 2.0]], 0.1, BOX, bins=10)
    assert cells[-1] == pytest.approx(0.5, abs=1e-9)


def test_a_large_sample_of_a_mixture_approaches_its_exact_cells():
    centers, std = torch.tensor([[1.0, 1.0], [3.0, 2.5]]), 0.3
    g = torch.Generator().manual_seed(0)
    points = centers[torch.randint(2, (200_000,), generator=g)] + std * torch.randn(200_000, 2, generator=g)
    exact = gaussian_mixture_cell_probabilities(centers, std, BOX, bins=20)
    assert js_grid(histogram_on_grid(points, BOX, 20), exact) < 2e-3
    shifted = histogram_on_grid(points + 0.5, BOX, 20)
    assert js_grid(shifted, exact) > 0.1


def test_square_box_is_centred_square_and_widened_by_the_margin():
    box = square_box(torch.tensor([[0.0, 0.0], [2.0, 1.0]]), margin=0.25)
    assert box == pytest.approx((-0.5, 2.5, -1.0, 2.0))
    with pytest.raises(ValueError):
        square_box(torch.zeros(3, 3))


def mixture_data(centers, std, n, seed):
    g = torch.Generator().manual_seed(seed)
    centers = torch.tensor(centers)
    return centers[torch.randint(len(centers), (n,), generator=g)] + std * torch.randn(n, 2, generator=g)


def scored(samples):
    return Scored(samples, torch.zeros(len(samples), 1), torch.zeros(len(samples), 1))


def test_js_grid_metric_compares_with_exact_cells_for_a_mixture_and_skips_images():
    centers, std = [[-1.0, 0.0], [1.0, 0.0]], 0.05
    datamodule = SimpleNamespace(shape=(2,), centers=torch.tensor(centers), std=std)
    train, held_out = mixture_data(centers, std, 3000, 0), mixture_data(centers, std, 500, 1)
    real = SimpleNamespace(datamodule=datamodule, train=scored(train), held_out=scored(held_out))
    metric = JSGrid(bins=20)
    once = metric.prepare(real)
    assert 0 < once["reference/js_grid"] < 0.05 and once["settings/js_grid_data"].startswith("exact")
    good = metric.compute(scored(mixture_data(centers, std, 3000, 2)), real)["metrics/js_grid"]
    collapsed = metric.compute(scored(mixture_data(centers[:1], std, 3000, 3)), real)["metrics/js_grid"]
    assert good < 0.05 < collapsed <= math.log(2)
    images = SimpleNamespace(datamodule=SimpleNamespace(shape=(1, 8, 8)), train=None, held_out=None)
    assert metric.prepare(images) == {} and metric.compute(scored(torch.zeros(4, 1, 8, 8)), images) == {}


def test_js_grid_metric_uses_the_held_out_split_when_the_distribution_is_unknown():
    datamodule = SimpleNamespace(shape=(2,))  # 2D points without centres: the real sample stands for the data
    train, held_out = mixture_data([[0.0, 0.0]], 1.0, 2000, 0), mixture_data([[0.0, 0.0]], 1.0, 2000, 1)
    real = SimpleNamespace(datamodule=datamodule, train=scored(train), held_out=scored(held_out))
    metric = JSGrid(bins=10)
    once = metric.prepare(real)
    box = square_box(train, 0.25)
    expected = js_grid(histogram_on_grid(train, box, 10), histogram_on_grid(held_out, box, 10))
    assert once["reference/js_grid"] == pytest.approx(expected, rel=1e-12)
    assert metric.compute(scored(train), real)["metrics/js_grid"] == 0.0
