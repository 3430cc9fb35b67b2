"""Nearest-neighbour memorisation checks, and the one-pixel shift that fools pixel space (lesson 8)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gan_lab.data.digits import load_digit_images
from gan_lab.metrics.near_copies import (
    calibrated_copy_threshold,
    memorisation_report,
    nearest_neighbours,
    nearest_other_distances,
    shift_image,
)

SHIFTS = [(1, 0), (0, 1), (-1, 0), (1, 1), (2, 0), (0, -2)]


@pytest.fixture(scope="module")
def digits():
    return load_digit_images()[0]  # (1797, 1, 8, 8) in [-1, 1], background -1


@pytest.fixture(scope="module")
def typical_gap(digits):
    """Median distance from a digit to its nearest other digit (about 2.0 in pixel space)."""
    return nearest_other_distances(digits, max_samples=None).median()


@pytest.fixture(scope="module")
def padded_digits(digits):
    """The digits on a 12x12 canvas: shifts of up to 2 pixels then never push ink out of the frame."""
    return F.pad(digits, (2, 2, 2, 2), value=-1.0)


def sorted_pixels(images):
    """A toy shift-invariant feature: the sorted pixel values (a histogram knows nothing of position)."""
    return images.reshape(len(images), -1).sort(dim=1).values


def test_copies_are_found_at_distance_exactly_zero_with_their_index():
    train = torch.randn(500, 3, 4, 4, generator=torch.Generator().manual_seed(0))  # float32, not dyadic
    picks = torch.tensor([3, 77, 499])
    distances, indices = nearest_neighbours(train[picks], train, k=2)
    assert torch.equal(indices[:, 0], picks)
    assert torch.all(distances[:, 0] == 0) and torch.all(distances[:, 1] > 0)
    assert distances.dtype == torch.float64 and indices.dtype == torch.int64


def test_neighbours_match_brute_force_in_any_batch_size():
    rng = np.random.default_rng(1)
    queries, references = rng.normal(size=(37, 5)), rng.normal(size=(101, 5))
    brute = np.linalg.norm(queries[:, None] - references[None], axis=2)
    expected_indices = np.argsort(brute, axis=1)[:, :3]
    for batch_size in (None, 1, 8):
        distances, indices = nearest_neighbours(queries, references, k=3, batch_size=batch_size)
        np.testing.assert_array_equal(indices.numpy(), expected_indices)
        np.testing.assert_allclose(distances.numpy(), np.take_along_axis(brute, expected_indices, 1), atol=1e-12)


@pytest.mark.parametrize("dx, dy", SHIFTS)
def test_a_small_shift_makes_the_pixel_nearest_neighbour_another_image(digits, typical_gap, dx, dy):
    moved = shift_image(digits, dx, dy)
    distances, indices = nearest_neighbours(moved, digits)
    originals = torch.arange(len(digits))
    another_image = (indices[:, 0] != originals).double().mean().item()
    print(f"shift ({dx:+d}, {dy:+d}): the pixel-nearest training image is another image for {another_image:.1%}")
    assert another_image > 0.9  # measured 98.6-100 % on the 1,797 digits
    # The shifted copy is far from its original: farther than the typical gap between two different digits.
    to_original = (moved.double() - digits.double()).reshape(len(digits), -1).norm(dim=1)
    assert (to_original > typical_gap).double().mean() > 0.95
    assert torch.all(distances[:, 0] <= to_original + 1e-9)  # (the nearest is never farther than the original)


@pytest.mark.parametrize("dx, dy", [(1, 0), (0, -2), (2, 1)])
def test_a_shift_invariant_feature_space_recovers_the_original(padded_digits, dx, dy):
    moved = shift_image(padded_digits, dx, dy)
    originals = torch.arange(len(padded_digits))
    _, pixel_indices = nearest_neighbours(moved, padded_digits)
    _, feature_indices = nearest_neighbours(sorted_pixels(moved), sorted_pixels(padded_digits))
    assert (pixel_indices[:, 0] == originals).double().mean() < 0.1  # the lesson holds on the canvas too
    assert torch.equal(feature_indices[:, 0], originals)  # ... and the features find every original


def test_report_flags_exact_copies_in_pixel_space(digits):
    train = digits[:400]
    noise = torch.rand(50, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    generated = torch.cat([train[:50], noise])  # half copies, half noise
    report = memorisation_report(generated, train)
    assert report.features is None
    assert report.pixels.copy_fraction == pytest.approx(0.5)
    assert torch.equal(report.pixels.is_copy, torch.arange(100) < 50)
    assert torch.equal(report.pixels.indices[:50], torch.arange(50))
    assert torch.all(report.pixels.distances[:50] == 0)


def test_report_misses_shifted_copies_in_pixel_space_but_not_in_feature_space(padded_digits):
    train = padded_digits[:600]
    generated = shift_image(train[:100], dx=1, dy=-1)  # a "generator" that memorised, then shifted by a pixel
    report = memorisation_report(generated, train, features=sorted_pixels)
    pixels, features = report.pixels.copy_fraction, report.features.copy_fraction
    print(f"near-copies flagged: pixels {pixels:.0%}, features {features:.0%}")
    assert report.pixels.copy_fraction < 0.05
    assert report.features.copy_fraction == 1.0
    assert torch.equal(report.features.indices, torch.arange(100))


def test_default_threshold_is_a_small_quantile_of_nearest_other_training_distances():
    train = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])  # nearest-other distances 1, 1, 2, 3, 4
    assert torch.equal(nearest_other_distances(train), torch.tensor([1.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    assert calibrated_copy_threshold(train, quantile=0.0) == 1.0
    assert calibrated_copy_threshold(train, quantile=0.5) == 2.0
    report = memorisation_report(torch.tensor([[0.5], [7.0], [20.0]]), train)
    assert report.pixels.copy_threshold == pytest.approx(1.0)  # 1 % quantile of [1, 1, 2, 3, 4]
    assert report.pixels.is_copy.tolist() == [True, True, False]  # at distances 0.5, 1 and 10
    # Duplicates in the training set count as each other's nearest other sample.
    assert nearest_other_distances(torch.tensor([[0.0], [0.0], [5.0]])).tolist() == [0.0, 0.0, 5.0]
    # An explicit threshold overrides the calibration.
    assert memorisation_report(torch.tensor([[0.5]]), train, copy_threshold=0.1).pixels.copy_fraction == 0.0


def test_shift_image_moves_pixels_and_fills_with_the_background():
    image = torch.full((1, 1, 4, 4), -1.0)
    image[0, 0, 1, 1] = 1.0
    moved = shift_image(image, dx=2, dy=1)
    assert moved[0, 0, 2, 3] == 1.0 and (moved == 1.0).sum() == 1
    assert torch.equal(shift_image(moved, dx=-2, dy=-1), image)
    assert torch.equal(shift_image(image, 0, 0), image)
    assert torch.equal(shift_image(image[0, 0], 2, 1), moved[0, 0])  # a single (H, W) image
    on_black = shift_image(torch.ones(2, 3, 3), dx=1, dy=0, fill=0.0)  # images in [0, 1]
    assert torch.equal(on_black[:, :, 0], torch.zeros(2, 3)) and torch.equal(on_black[:, :, 1:], torch.ones(2, 3, 2))


def test_invalid_input_raises():
    with pytest.raises(ValueError, match="values per sample"):
        nearest_neighbours(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(torch.zeros(2, 3), torch.zeros(2, 3), k=3)
    with pytest.raises(ValueError, match="at least one sample"):
        nearest_neighbours(torch.zeros(0, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="finite"):
        nearest_neighbours(torch.full((1, 3), float("nan")), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="batch_size"):
        nearest_neighbours(torch.zeros(1, 3), torch.zeros(2, 3), batch_size=0)
    with pytest.raises(ValueError, match="two samples"):
        memorisation_report(torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="quantile"):
        calibrated_copy_threshold(torch.randn(5, 2), quantile=1.5)
    with pytest.raises(ValueError, match="one row per sample"):
        memorisation_report(torch.zeros(2, 3), torch.randn(4, 3), features=lambda x: x[:1])
    image = torch.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="out of the frame"):
        shift_image(image, dx=4, dy=0)
    with pytest.raises(ValueError, match="H, W"):
        shift_image(torch.zeros(4), dx=1, dy=0)
    with pytest.raises(TypeError):
        shift_image(image, dx=0.5, dy=0)  # whole pixels only
