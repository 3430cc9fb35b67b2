"""TorchvisionDataModule on tiny files in torchvision's real formats; nothing is ever downloaded."""

from __future__ import annotations

import socket
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision.datasets.cifar
import torchvision.datasets.mnist
from torchvision.transforms.v2.functional import resize
from helpers.torchvision_fakes import trust_fake_cifar10, write_fake_cifar10, write_fake_mnist

from gan_lab.data.vision import DatasetNotFoundError, TorchvisionDataModule


@pytest.fixture(autouse=True)
def no_dns(monkeypatch):
    """On top of conftest's refused connections: no name lookups either."""

    def refuse(*args, **kwargs):
        raise OSError("gan_lab tests must not use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def downloads_fail(monkeypatch):
    """Replace torchvision's downloader by one that fails like a machine without internet; count the calls."""
    calls = []

    def no_internet(url, *args, **kwargs):
        calls.append(url)
        raise URLError("[Errno -3] Temporary failure in name resolution")

    # mnist.py and cifar.py import the function into their own namespaces.
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", no_internet)
    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", no_internet)
    return calls


def to_model_range(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float() / 127.5 - 1


def test_the_network_is_cut():
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 80), timeout=1)
    with pytest.raises(OSError):
        socket.getaddrinfo("example.com", 80)


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_like_sets_load_exactly(tmp_path, name, folder):
    images, labels = write_fake_mnist(tmp_path, folder=folder, num_train=12)
    dm = TorchvisionDataModule(name, root=tmp_path, batch_size=4)
    x, y = dm.load()
    assert dm.name == name and dm.shape == (1, 28, 28) and dm.num_classes == 10
    assert x.shape == (12, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.tolist() == labels.tolist()
    assert x.min() == -1 and x.max() == 1  # 0 and 255 both occur in the fake images
    torch.testing.assert_close(x[:, 0], to_model_range(images))


def test_cifar10_loads_exactly_through_torchvisions_checks(tmp_path, monkeypatch):
    images, labels = write_fake_cifar10(tmp_path, per_batch=3)
    trust_fake_cifar10(monkeypatch, tmp_path)
    dm = TorchvisionDataModule("cifar10", root=tmp_path, batch_size=4)
    x, y = dm.load()
    assert dm.shape == (3, 32, 32) and x.shape == (15, 3, 32, 32) and x.dtype == torch.float32
    assert y.tolist() == labels.tolist()  # the five training batches, in order; not the test batch
    torch.testing.assert_close(x, to_model_range(images))  # channels first, in their original order


def test_cifar10_files_that_fail_the_md5_check_are_rejected(tmp_path):
    write_fake_cifar10(tmp_path)  # not trusted: their md5 sums differ from the official release
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py"):
        TorchvisionDataModule("cifar10", root=tmp_path).load()


def test_resizing_mnist_to_32(tmp_path):
    write_fake_mnist(tmp_path)
    dm = TorchvisionDataModule("mnist", root=tmp_path, image_size=32, batch_size=4)
    x, _ = dm.load()
    assert dm.shape == (1, 32, 32) and x.shape == (12, 1, 32, 32)
    assert x.min() >= -1 and x.max() <= 1


def test_shrinking_matches_torchvisions_resize(tmp_path, monkeypatch):
    images, _ = write_fake_cifar10(tmp_path, per_batch=1)
    trust_fake_cifar10(monkeypatch, tmp_path)
    x, _ = TorchvisionDataModule("cifar10", root=tmp_path, image_size=12, batch_size=1).load()
    assert x.shape == (5, 3, 12, 12)
    # The reference: torchvision's Resize (bilinear, antialiased) on the 0..255 images.
    expected = resize(torch.from_numpy(images).float(), [12, 12], antialias=True) / 127.5 - 1
    torch.testing.assert_close(x, expected)
    assert x.std() < to_model_range(images).std() * 0.5  # antialiasing averages away the pixel noise


def test_max_samples_keeps_the_first_images(tmp_path):
    images, labels = write_fake_mnist(tmp_path, num_train=12)
    x, y = TorchvisionDataModule("mnist", root=tmp_path, max_samples=5, batch_size=2).load()
    assert x.shape == (5, 1, 28, 28) and y.tolist() == labels[:5].tolist()
    torch.testing.assert_close(x[:, 0], to_model_range(images[:5]))


def test_split_and_batches_come_from_the_base_class(tmp_path):
    write_fake_mnist(tmp_path, num_train=20)
    dm = TorchvisionDataModule("mnist", root=tmp_path, image_size=32, val_fraction=0.25, batch_size=5)
    dm.setup()
    assert len(dm.train_set) == 15 and len(dm.val_set) == 5
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (5, 1, 32, 32) and y.shape == (5,)
    again = TorchvisionDataModule("mnist", root=tmp_path, image_size=32, val_fraction=0.25, batch_size=5)
    assert torch.equal(again.val_set.tensors[1], dm.val_set.tensors[1])


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match=r"'cifar10', 'fashion_mnist', 'mnist'"):
        TorchvisionDataModule("svhn")
    with pytest.raises(ValueError, match="data.image_size"):
        TorchvisionDataModule("mnist", image_size=0)
    with pytest.raises(ValueError, match="data.max_samples"):
        TorchvisionDataModule("mnist", max_samples=0)


@pytest.mark.parametrize(
    "name,where,a_file",
    [
        ("mnist", "MNIST/raw", "train-images-idx3-ubyte"),
        ("fashion_mnist", "FashionMNIST/raw", "t10k-labels-idx1-ubyte"),
        ("cifar10", "cifar-10-batches-py", "data_batch_5"),
    ],
)
def test_missing_files_raise_one_clear_error(tmp_path, name, where, a_file, downloads_fail):
    dm = TorchvisionDataModule(name, root=tmp_path / "data")
    with pytest.raises(DatasetNotFoundError) as info:
        dm.setup()
    message = str(info.value)
    assert str(tmp_path / "data" / where) in message and a_file in message
    assert "data.download=true" in message and "copy the files" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value.__cause__, RuntimeError)
    assert downloads_fail == []  # download=False never tries


@pytest.mark.parametrize("name,where", [("mnist", "MNIST/raw"), ("cifar10", "cifar-10-batches-py")])
def test_a_failed_download_raises_the_same_clear_error(tmp_path, name, where, downloads_fail):
    dm = TorchvisionDataModule(name, root=tmp_path, download=True)
    with pytest.raises(DatasetNotFoundError, match="could not be downloaded") as info:
        dm.prepare_data()
    assert str(tmp_path / where) in str(info.value) and "data.download=true" in str(info.value)
    assert downloads_fail  # torchvision did try, and its error is chained, not lost
    assert isinstance(info.value.__cause__, (RuntimeError, URLError))


def test_a_download_cut_at_the_socket_also_ends_in_the_clear_error(tmp_path):
    # No patched downloader: torchvision's real urllib path runs into the refused connection.
    with pytest.raises(DatasetNotFoundError, match="could not be downloaded"):
        TorchvisionDataModule("cifar10", root=tmp_path, download=True).load()


def test_download_true_does_not_download_files_that_are_there(tmp_path, downloads_fail):
    write_fake_mnist(tmp_path)
    dm = TorchvisionDataModule("mnist", root=tmp_path, download=True, batch_size=4)
    dm.prepare_data()
    dm.setup()
    assert downloads_fail == [] and len(dm.train_set) + len(dm.val_set) == 12
