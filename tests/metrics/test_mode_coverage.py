"""Mode coverage (VEEGAN/PacGAN protocol) and class coverage (Stacked MNIST): known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_lab.metrics import class_coverage, mode_coverage

GRID = np.array([[x, y] for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0)])  # (25, 2)
GRID_STD = 0.05


@pytest.mark.parametrize("m", [1, 7, 25])
def test_points_on_m_centres_cover_m_modes(m):
    chosen = np.random.default_rng(m).choice(25, size=m, replace=False)
    samples = np.repeat(GRID[chosen], 10, axis=0)
    coverage = mode_coverage(samples, GRID, GRID_STD)
    assert coverage.modes_covered == m
    assert coverage.num_modes == 25
    assert coverage.high_quality_fraction == 1.0
    assert coverage.counts.sum() == 10 * m and set(np.flatnonzero(coverage.counts)) == set(chosen)


def test_collapsed_generator_covers_one_mode_with_maximal_kl():
    samples = np.tile(GRID[12], (2500, 1)) + 0.01
    coverage = mode_coverage(samples, GRID, GRID_STD)
    assert coverage.modes_covered == 1
    assert coverage.reverse_kl == pytest.approx(math.log(25))


def test_uniform_perfect_samples_have_zero_kl():
    rng = np.random.default_rng(0)
    # 100 samples per mode, within 2 std of the centre: all high quality, perfectly balanced.
    noise = rng.uniform(-1, 1, size=(2500, 2)) * GRID_STD * math.sqrt(2)
    samples = np.repeat(GRID, 100, axis=0) + noise
    coverage = mode_coverage(torch.from_numpy(samples).float(), torch.from_numpy(GRID).float(), GRID_STD)
    assert coverage.modes_covered == 25
    assert coverage.high_quality_fraction == 1.0
    assert coverage.reverse_kl == pytest.approx(0.0, abs=1e-12)


def test_true_distribution_scores_like_the_papers_real_data():
    # Samples from the mixture itself: ~98.9 % within 3 std (P(chi2_2 <= 9) = 1 - exp(-4.5)), KL ~ 0.
    rng = np.random.default_rng(1)
    samples = GRID[rng.integers(25, size=25_000)] + rng.normal(scale=GRID_STD, size=(25_000, 2))
    coverage = mode_coverage(samples, GRID, GRID_STD)
    assert coverage.modes_covered == 25
    assert coverage.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.005)
    assert coverage.reverse_kl < 0.01


def test_high_quality_threshold_and_its_histogram():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.3, 0.0], [0.30001, 0.0], [10.0, 0.0], [5.1, 0.0]])  # 3 std = 0.3 exactly, inclusive
    coverage = mode_coverage(samples, centres, std=0.1)
    np.testing.assert_array_equal(coverage.counts, [1, 1])  # the point at 0.30001 and the one at 5.1 are not HQ
    assert coverage.high_quality_fraction == 0.5
    assert coverage.modes_covered == 2
    # Only high-quality samples enter the histogram (PacGAN's convention).
    assert coverage.reverse_kl == pytest.approx(0.0, abs=1e-12)


def test_no_high_quality_sample_gives_infinite_kl():
    coverage = mode_coverage(np.full((10, 2), 1.0), GRID, GRID_STD)  # midway between grid points
    assert coverage.modes_covered == 0 and coverage.high_quality_fraction == 0.0
    assert coverage.reverse_kl == math.inf


def test_class_coverage_of_uniform_digits():
    labels = torch.arange(1000) % 10
    coverage = class_coverage(labels, 10)
    assert coverage.modes_covered == 10
    assert coverage.reverse_kl == pytest.approx(0.0, abs=1e-12)
    assert coverage.high_quality_fraction == 1.0


def test_class_coverage_of_stacked_digits():
    # 1,000 triples, but the generator only produces 100 of them, evenly: KL = log(1000 / 100).
    labels = np.random.default_rng(2).permutation(np.repeat(np.arange(0, 1000, 10), 26))
    coverage = class_coverage(labels, 1000)
    assert coverage.modes_covered == 100 and coverage.num_modes == 1000
    assert coverage.reverse_kl == pytest.approx(math.log(10))


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="same D"):
        mode_coverage(np.zeros((5, 3)), GRID, GRID_STD)
    with pytest.raises(ValueError, match="positive"):
        mode_coverage(np.zeros((5, 2)), GRID, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        class_coverage(np.array([0, 10]), 10)
    with pytest.raises(ValueError, match="integer"):
        class_coverage(np.array([0.5, 1.0]), 10)
