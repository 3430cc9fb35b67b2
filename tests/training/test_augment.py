"""DiffAugment policies: what they do to images, that gradients pass, and that points pass untouched."""

import pytest
import torch

from gan_lab.training.augment import BACKGROUND, DiffAugment, cutout, translation


def test_translation_shifts_each_image_by_at_most_the_ratio():
    torch.manual_seed(0)
    images = torch.full((64, 1, 8, 8), BACKGROUND)
    images[:, :, 3, 4] = 1.0  # one bright pixel in the middle
    shifted = translation(images, ratio=0.125)  # at most 1 pixel on 8x8
    assert shifted.shape == images.shape
    for image in shifted[:, 0]:
        (y,), (x,) = torch.nonzero(image == 1.0, as_tuple=True)
        assert abs(int(y) - 3) <= 1 and abs(int(x) - 4) <= 1
    moved = [(shifted[i] != images[i]).any() for i in range(64)]
    assert 30 < sum(moved) < 64  # 8 of 9 shifts move the pixel


def test_translation_fills_with_background_and_keeps_values():
    torch.manual_seed(1)
    images = torch.rand(16, 3, 8, 8) * 2 - 1
    shifted = translation(images, ratio=0.25)
    values = set(images.flatten().tolist()) | {BACKGROUND}
    assert set(shifted.flatten().tolist()) <= values


def test_cutout_blanks_a_square_of_the_ratio():
    torch.manual_seed(0)
    images = torch.ones(8, 1, 8, 8)
    out = cutout(images, ratio=0.5)
    assert ((out == BACKGROUND).sum(dim=(1, 2, 3)) == 16).all()  # a 4x4 square each


def test_gradients_reach_the_generated_images():
    images = torch.randn(4, 1, 8, 8, requires_grad=True)
    DiffAugment(["translation", "cutout"])(images).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_same_seed_same_augmentation_and_points_untouched():
    images = torch.randn(4, 1, 8, 8)
    augment = DiffAugment(["translation"])
    torch.manual_seed(3)
    first = augment(images)
    torch.manual_seed(3)
    assert torch.equal(first, augment(images))
    points = torch.randn(10, 2)
    assert augment(points) is points


def test_unknown_policy_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid: \\['cutout', 'translation'\\]"):
        DiffAugment(["flip"])


def test_augment_group_trains_a_few_steps(tmp_path):
    from helpers.runs import NO_METRICS, compose_config, tiny_overrides

    from gan_lab.cli.train import train

    cfg = compose_config([*tiny_overrides("digits"), *NO_METRICS, "augment=translation_cutout"], tmp_path)
    assert cfg.model.augment.policies == ["translation", "cutout"]
    assert "train/loss_g" in train(cfg, tmp_path)
