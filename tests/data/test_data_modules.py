import math

import pytest
import torch

from gan_lab.data import (
    DigitsDataModule,
    GaussianMixtureDataModule,
    StackedDigitsDataModule,
    grid_centers,
    ring_centers,
)


def test_ring_and_grid_centres():
    ring = torch.tensor(ring_centers(8, 1.0))
    assert ring.shape == (8, 2)
    torch.testing.assert_close(ring.norm(dim=1), torch.ones(8))
    grid = torch.tensor(grid_centers(5, 2.0))
    assert grid.shape == (25, 2)
    assert sorted(set(grid[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]


@pytest.mark.parametrize("centers,std", [(ring_centers(), 0.01), (grid_centers(), 0.05)])
def test_mixture_samples_lie_near_their_modes(centers, std):
    dm = GaussianMixtureDataModule(centers, std, dataset_size=5000, batch_size=100)
    x, y = dm.load()
    assert x.shape == (5000, 2) and dm.num_classes == len(centers)
    offsets = x - torch.tensor(centers)[y]
    assert offsets.std().item() == pytest.approx(std, rel=0.05)
    assert torch.bincount(y, minlength=len(centers)).min() > 5000 / len(centers) * 0.7


def test_digits_shape_range_and_classes():
    dm = DigitsDataModule(batch_size=32)
    dm.setup()
    x, y = dm.train_set.tensors
    assert x.shape[1:] == (1, 8, 8) and x.min() >= -1 and x.max() <= 1
    assert len(dm.train_set) + len(dm.val_set) == 1797
    assert set(y.tolist()) == set(range(10))
    batch_x, batch_y = next(iter(dm.train_dataloader()))
    assert batch_x.shape == (32, 1, 8, 8) and batch_y.shape == (32,)


def test_split_is_fixed_by_seed():
    a, b = DigitsDataModule(split_seed=3), DigitsDataModule(split_seed=3)
    assert torch.equal(a.val_set.tensors[0], b.val_set.tensors[0])
    assert not torch.equal(a.val_set.tensors[0], DigitsDataModule(split_seed=4).val_set.tensors[0])


def test_stacked_digits_labels_match_channels():
    dm = StackedDigitsDataModule(dataset_size=2000, data_seed=1)
    x, y = dm.load()
    assert x.shape == (2000, 3, 8, 8) and y.max() < 1000
    assert len(torch.unique(y)) > 800  # 2,000 draws over 1,000 classes hit most of them
    # Each channel is a real digit: find it among the source digits and check its label digit.
    from gan_lab.data.digits import load_digit_images

    images, labels = load_digit_images()
    first = x[0]
    for channel, place in zip(first, (100, 10, 1)):
        match = (images[:, 0] == channel).flatten(1).all(1).nonzero()[0, 0]
        assert labels[match] == (y[0] // place) % 10
    assert torch.equal(x, StackedDigitsDataModule(dataset_size=2000, data_seed=1).load()[0])


def test_real_samples_without_replacement_are_distinct():
    dm = DigitsDataModule()
    x, _ = dm.real_samples(500, seed=0)
    assert len(torch.unique(x.flatten(1), dim=0)) >= 495  # the digits set has a handful of exact duplicates
    assert torch.equal(x, dm.real_samples(500, seed=0)[0])


def test_bad_data_arguments_fail_clearly():
    with pytest.raises(ValueError, match="batch_size must be positive"):
        DigitsDataModule(batch_size=0)
    with pytest.raises(ValueError, match="image_size must be positive"):
        DigitsDataModule(image_size=0)
    with pytest.raises(ValueError, match="larger than the training set"):
        DigitsDataModule(batch_size=5000).setup()
    with pytest.raises(ValueError, match="std must be positive"):
        GaussianMixtureDataModule(ring_centers(), std=-1)
    assert math.isclose(ring_centers(4, 2.0)[1][1], 2.0)


def test_digits_resize_to_the_asked_image_size():
    dm = DigitsDataModule(image_size=16)
    x, _ = dm.load()
    assert dm.shape == (1, 16, 16) == DigitsDataModule.shape_from_config({"image_size": 16})
    assert x.shape == (1797, 1, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert DigitsDataModule().shape == (1, 8, 8)
