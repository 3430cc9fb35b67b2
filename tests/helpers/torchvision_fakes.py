"""Tiny MNIST / CIFAR-10 files in torchvision's real on-disk formats, for offline tests.

* MNIST and Fashion-MNIST: the idx ("SN3 Pascal Vincent") files under
  ``<root>/<ClassName>/raw/``: a big-endian magic number ``0x0000 <type> <ndim>``
  (type 0x08 = unsigned byte), one big-endian int32 per dimension, then the data.
* CIFAR-10: the python pickles under ``<root>/cifar-10-batches-py/``, each a
  dict with ``data`` (N, 3072) uint8 rows in CHW order and a ``labels`` list.

torchvision checks the md5 sum of every CIFAR-10 file against the official
release, which tiny fakes cannot match; :func:`trust_fake_cifar10` tells
torchvision the fakes' own sums for the duration of one test, so the code
under test runs torchvision's unmodified loading path, checks included.
"""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
from torchvision.datasets import CIFAR10

_IDX_UBYTE = 0x08


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the idx format MNIST ships in."""
    assert array.dtype == np.uint8
    header = struct.pack(">I", (_IDX_UBYTE << 8) | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def write_fake_mnist(root: Path, folder: str = "MNIST", num_train: int = 12, num_test: int = 3, seed: int = 0):
    """Write train and t10k idx files (torchvision wants both); return the train ``(images, labels)``."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    train = None
    for split, n in (("train", num_train), ("t10k", num_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255  # make sure both ends of the range occur
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
        if split == "train":
            train = images, labels
    return train


def write_fake_cifar10(root: Path, per_batch: int = 3, seed: int = 0):
    """Write data_batch_1..5, test_batch and batches.meta; return the train ``(images (N,3,32,32), labels)``."""
    rng = np.random.default_rng(seed)
    folder = root / CIFAR10.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = [], []
    for index, (name, _) in enumerate(CIFAR10.train_list + CIFAR10.test_list):
        images = rng.integers(0, 256, size=(per_batch, 3, 32, 32), dtype=np.uint8)
        labels = [(index * per_batch + i) % 10 for i in range(per_batch)]
        batch = {"batch_label": name.encode(), "data": images.reshape(per_batch, -1), "labels": labels}
        (folder / name).write_bytes(pickle.dumps(batch))
        if name.startswith("data_batch"):
            train_images.append(images)
            train_labels += labels
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}
    (folder / CIFAR10.meta["filename"]).write_bytes(pickle.dumps(meta))
    return np.concatenate(train_images), np.array(train_labels)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def trust_fake_cifar10(monkeypatch, root: Path) -> None:
    """Make torchvision's CIFAR10 integrity checks expect the md5 sums of the fake files under ``root``."""
    folder = root / CIFAR10.base_folder
    monkeypatch.setattr(CIFAR10, "train_list", [[name, md5(folder / name)] for name, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[name, md5(folder / name)] for name, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5(folder / CIFAR10.meta["filename"])})
