"""Nearest-neighbour memorisation checks, and the one-pixel shift that fools pixel space."""

import pytest
import torch

from gan_lab.data.digits import load_digit_images
from gan_lab.memorisation import memorisation_report, nearest_neighbours, shift_image


@pytest.fixture(scope="module")
def digits():
    return load_digit_images()[0]  # (1797, 1, 8, 8) in [-1, 1]


def test_copies_are_found_at_distance_zero_with_their_index(digits):
    train = digits[:500]
    picks = torch.tensor([3, 77, 499])
    distances, indices = nearest_neighbours(train[picks], train, k=2)
    assert torch.equal(indices[:, 0], picks)
    assert torch.all(distances[:, 0] < 1e-9) and torch.all(distances[:, 1] > 0)


def test_a_one_pixel_shift_makes_the_pixel_nearest_neighbour_another_image(digits):
    train = digits[:1000]
    moved = shift_image(train, dx=1, dy=0)
    distances, indices = nearest_neighbours(moved, train)
    recovered = (indices[:, 0] == torch.arange(len(train))).float().mean().item()
    assert recovered < 0.5, f"the shifted original is still the nearest for {recovered:.0%} of images"


def test_a_shift_invariant_feature_space_recovers_the_original(digits):
    train = digits[:300]

    def pixel_histogram(images):  # a toy shift-invariant feature: the sorted pixel values
        return images.reshape(len(images), -1).sort(dim=1).values

    moved = shift_image(train, dx=1, dy=0)
    # The shift only drops the leftmost column (background on most digits): sorted values barely move.
    _, indices = nearest_neighbours(pixel_histogram(moved), pixel_histogram(train))
    assert (indices[:, 0] == torch.arange(len(train))).float().mean() > 0.5


def test_shift_image_moves_pixels_and_fills_with_background():
    image = torch.full((1, 1, 4, 4), -1.0)
    image[0, 0, 1, 1] = 1.0
    moved = shift_image(image, dx=2, dy=1)
    assert moved[0, 0, 2, 3] == 1.0 and (moved == 1.0).sum() == 1
    assert torch.equal(shift_image(moved, dx=-2, dy=-1), image)
    with pytest.raises(ValueError, match="out of the frame"):
        shift_image(image, dx=4, dy=0)
    with pytest.raises(ValueError, match="N, C, H, W"):
        shift_image(image[0], dx=1, dy=0)


def test_report_flags_copies_in_both_spaces(digits):
    train = digits[:400]
    generated = torch.cat([train[:50], torch.rand(50, 1, 8, 8) * 2 - 1])  # half copies, half noise
    report = memorisation_report(generated, train, features=lambda x: x.reshape(len(x), -1)[:, ::2])
    assert report.pixels.copy_fraction == pytest.approx(0.5)
    assert report.features.copy_fraction >= 0.5
    assert torch.equal(report.pixels.indices[:50], torch.arange(50))


def test_invalid_input_raises():
    with pytest.raises(ValueError, match="values per sample"):
        nearest_neighbours(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(torch.zeros(2, 3), torch.zeros(2, 3), k=3)
