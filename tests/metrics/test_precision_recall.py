"""Precision/recall and density/coverage: known answers, a brute-force reference, chunking, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.runs import integer_grid_points

from helpers.metrics import brute_force_prdc

from gan_lab.metrics import density_coverage, precision_recall
from gan_lab.metrics.precision_recall import BLOCK_BYTES, _block_rows


def mixture(n: int, means: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """n samples of an equal-weight Gaussian mixture with unit covariance around ``means`` (K, d)."""
    return means[rng.integers(len(means), size=n)] + rng.standard_normal((n, means.shape[1]))


def test_identical_sets():
    x = np.random.default_rng(0).standard_normal((300, 6))
    assert precision_recall(x, x) == (1.0, 1.0)
    density, coverage = density_coverage(x, x)
    assert coverage == 1.0
    # Without ties, the open ball of x_i holds x_i and its k-1 nearer neighbours, exactly k of the
    # N fakes; summed over the N balls and divided by kN this is exactly 1.
    assert density == pytest.approx(1.0, abs=1e-12)


def test_far_apart_sets_score_zero():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((200, 6)), rng.standard_normal((150, 6)) + 100.0
    assert precision_recall(real, fake) == (0.0, 0.0)
    assert density_coverage(real, fake) == (0.0, 0.0)


def test_dropping_half_the_modes_halves_recall_and_coverage_but_not_precision():
    # 10 well-separated unit Gaussians in 8-d; the "generator" samples only the first 5.  Compared with a
    # generator of all 10 modes, fidelity (precision, density) is unchanged and diversity (recall,
    # coverage) halves.
    rng = np.random.default_rng(2)
    means = 8.0 * rng.standard_normal((10, 8))
    real, half, full = mixture(2000, means, rng), mixture(2000, means[:5], rng), mixture(2000, means, rng)
    precision, recall = precision_recall(real, half)
    density, coverage = density_coverage(real, half)
    full_precision, full_recall = precision_recall(real, full)
    full_density, full_coverage = density_coverage(real, full)
    # Not 1 even for the right distribution: in 8-d, 3-NN balls of 200 samples per mode miss about
    # 14 % of a mode's mass (the underestimation Naeem et al. point out; density/coverage fix it).
    assert 0.8 < full_precision < 0.9 and 0.8 < full_recall < 0.9
    assert precision == pytest.approx(full_precision, abs=0.03)
    assert recall == pytest.approx(full_recall / 2, abs=0.03)
    # Density averages over fakes: every fake still sits among reals of its mode, about k balls each.
    assert density == pytest.approx(1.0, abs=0.1) and full_density == pytest.approx(1.0, abs=0.1)
    assert full_coverage > 0.95
    assert coverage == pytest.approx(full_coverage / 2, abs=0.03)


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_on_continuous_data(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((60, 5)), 1.2 * rng.standard_normal((45, 5)) + 0.3
    for k_pr, k_dc in ((1, 1), (3, 5), (7, 2)):
        expected = brute_force_prdc(real, fake, k_pr, k_dc)
        assert precision_recall(real, fake, k=k_pr) + density_coverage(real, fake, k=k_dc) == pytest.approx(
            expected, abs=1e-12
        )


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_with_duplicates_and_ties(seed):
    real, fake = integer_grid_points(seed)  # exact duplicates, radii of 0, tied distances
    for k_pr, k_dc in ((1, 1), (3, 5), (6, 6)):
        expected = brute_force_prdc(real, fake, k_pr, k_dc)
        assert precision_recall(real, fake, k=k_pr) + density_coverage(real, fake, k=k_dc) == pytest.approx(
            expected, abs=1e-12
        )


def test_ties_follow_each_reference_code():
    # Reals at 0, 1, 2, 3 and fakes at 4, 5, 10, 11 on a line: with k = 1 every ball has radius exactly 1.
    # The fake at 4 and the real at 3 lie on each other's ball boundary: inside a closed ball (kynkaat, <=),
    # outside an open one (clovaai, <).  No other real-fake pair is within 1.
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[4.0], [5.0], [10.0], [11.0]])
    assert precision_recall(real, fake, k=1) == (0.25, 0.25)
    assert density_coverage(real, fake, k=1) == (0.0, 0.0)


def test_chunk_size_does_not_change_the_result():
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((97, 4)), rng.standard_normal((83, 4)) + 0.5
    expected = precision_recall(real, fake), density_coverage(real, fake)
    for chunk_size in (1, 7, 64, 97, 500):
        got = precision_recall(real, fake, chunk_size=chunk_size), density_coverage(real, fake, chunk_size=chunk_size)
        assert got == expected


def test_automatic_blocks_stay_small():
    assert _block_rows(10_000) * 10_000 * 8 <= BLOCK_BYTES
    assert _block_rows(10**9) == 1  # more columns than the budget: one row at a time


def test_swapping_the_sets_swaps_precision_and_recall():
    rng = np.random.default_rng(4)
    real, fake = rng.standard_normal((120, 5)), 0.7 * rng.standard_normal((90, 5))
    precision, recall = precision_recall(real, fake)
    assert precision_recall(fake, real) == (recall, precision)
    assert precision > recall  # a narrower "generator": faithful but not diverse


def test_tensor_numpy_and_float32_inputs_agree():
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal((80, 4)).astype(np.float32), rng.standard_normal((70, 4)).astype(np.float32)
    for function in (precision_recall, density_coverage):
        assert function(torch.from_numpy(real), torch.from_numpy(fake)) == function(real, fake)
        assert function(real, fake) == function(real.astype(np.float64), fake.astype(np.float64))


def test_invalid_inputs_raise():
    good = np.zeros((10, 3))
    for function in (precision_recall, density_coverage):
        with pytest.raises(ValueError, match="2-D"):
            function(np.zeros(10), good)
        with pytest.raises(ValueError, match="2-D"):
            function(good, np.zeros((2, 5, 3)))
        with pytest.raises(ValueError, match="same dimension"):
            function(good, np.zeros((10, 4)))
        for bad in (np.nan, np.inf):
            with pytest.raises(ValueError, match="NaN or infinite"):
                function(np.full((10, 3), bad), good)
        for k in (0, -1):
            with pytest.raises(ValueError, match="positive integer"):
                function(good, good, k=k)
        with pytest.raises(ValueError, match="positive integer"):
            function(good, good, k=2.5)
        with pytest.raises(ValueError, match="k=10 needs more than k real"):
            function(good, good, k=10)
        with pytest.raises(ValueError, match="chunk_size"):
            function(good, good, chunk_size=0)
    # Precision/recall builds balls on the fakes too; density/coverage does not.
    with pytest.raises(ValueError, match="k=3 needs more than k fake"):
        precision_recall(good, np.zeros((3, 3)), k=3)
    assert density_coverage(good, np.zeros((1, 3)), k=3) == (0.0, 0.0)  # all points equal: radius 0, open balls empty
    with pytest.raises(ValueError, match="empty"):
        density_coverage(good, np.zeros((0, 3)))


def test_precomputed_real_radii_give_the_same_values():
    from gan_lab.metrics.precision_recall import kth_neighbour_squared_distances

    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(300, 5)), rng.normal(size=(200, 5)) + 0.3
    radii3 = kth_neighbour_squared_distances(torch.as_tensor(real), 3)
    radii5 = kth_neighbour_squared_distances(torch.as_tensor(real), 5)
    assert precision_recall(real, fake, k=3, real_radii2=radii3) == precision_recall(real, fake, k=3)
    assert density_coverage(real, fake, k=5, real_radii2=radii5) == density_coverage(real, fake, k=5)
    with pytest.raises(ValueError, match="real_radii2 must have shape"):
        density_coverage(real, fake, k=5, real_radii2=radii5[:10])
