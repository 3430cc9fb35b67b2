"""MNIST, Fashion-MNIST and CIFAR-10 from torchvision, held in memory.

The training split of each data set is read once into one tensor, through
the data set's own ``.data`` / ``.targets`` arrays (no per-image PIL
round trip), optionally resized (e.g. MNIST at 32 x 32 for a DCGAN) and
scaled to [-1, 1].  The files live where torchvision keeps them:

* MNIST:         ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``
* Fashion-MNIST: ``<root>/FashionMNIST/raw/`` (same file names)
* CIFAR-10:      ``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``

Nothing is downloaded unless ``download=True``.  When the files are missing,
or the download fails (no internet access), loading raises one
:class:`DatasetNotFoundError` that names the directory and the files and
says how to get them there.  Files are opened exactly as torchvision opens
them, checks included (CIFAR-10's md5 sums), so a file torchvision would
reject is rejected here with the same explanation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.datasets import CIFAR10, MNIST, FashionMNIST, VisionDataset

from gan_lab.data.base import TensorDataModule, check_positive
from gan_lab.errors import ConfigError


class DatasetNotFoundError(FileNotFoundError):
    """A torchvision data set is not on disk and could not be downloaded."""


@dataclass(frozen=True)
class VisionDatasetSpec:
    """What gan_lab needs to know about one torchvision data set."""

    title: str  # how people write its name, for messages
    dataset_class: type[VisionDataset]
    shape: tuple[int, int, int]  # (C, H, W) as stored

    def files_dir(self, root: Path) -> Path:
        """The directory torchvision reads the files from."""
        if issubclass(self.dataset_class, MNIST):
            return root / self.dataset_class.__name__ / "raw"  # MNIST.raw_folder
        return root / self.dataset_class.base_folder  # CIFAR10.base_folder

    def file_names(self) -> list[str]:
        """The files torchvision requires in :meth:`files_dir` (read from torchvision itself)."""
        cls = self.dataset_class
        if issubclass(cls, MNIST):
            # MNIST._check_exists wants the unpacked idx files of both splits.
            return [os.path.splitext(archive)[0] for archive, _ in cls.resources]
        return [name for name, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]

    def archive_hint(self, root: Path) -> str:
        """Where the original archives go so that ``download=True`` unpacks them offline."""
        cls = self.dataset_class
        if issubclass(cls, MNIST):
            archives = ", ".join(archive for archive, _ in cls.resources)
            where = self.files_dir(root)
        else:
            archives, where = cls.filename, root
        # torchvision's download_url skips any file already present with the right md5.
        return (
            f"If you have the original archives ({archives}), put them in {where}{os.sep} and pass "
            "data.download=true: torchvision unpacks archives whose checksums match without downloading."
        )


#: The data sets TorchvisionDataModule serves, by config name.
VISION_DATASETS: dict[str, VisionDatasetSpec] = {
    "mnist": VisionDatasetSpec("MNIST", MNIST, (1, 28, 28)),
    "fashion_mnist": VisionDatasetSpec("Fashion-MNIST", FashionMNIST, (1, 28, 28)),
    "cifar10": VisionDatasetSpec("CIFAR-10", CIFAR10, (3, 32, 32)),
}


def vision_spec(name: str) -> VisionDatasetSpec:
    """The spec registered under ``name``; unknown names raise a ValueError listing the valid ones."""
    if name not in VISION_DATASETS:
        raise ConfigError(f"Unknown torchvision data set {name!r}; valid names: {sorted(VISION_DATASETS)}.")
    return VISION_DATASETS[name]


def open_torchvision_dataset(spec: VisionDatasetSpec, root: Path, download: bool) -> VisionDataset:
    """The torchvision training split of ``spec``, or a :class:`DatasetNotFoundError` explaining what is missing."""
    try:
        return spec.dataset_class(root=str(root), train=True, download=download)
    # torchvision raises RuntimeError for missing / corrupted files and for
    # failed MNIST downloads; a failed CIFAR download surfaces as URLError
    # (an OSError), as do timeouts and refused connections.
    except (RuntimeError, OSError) as err:
        raise DatasetNotFoundError(not_found_message(spec, root, download, err)) from err


def not_found_message(spec: VisionDatasetSpec, root: Path, download: bool, err: BaseException) -> str:
    """Explain which files are missing where, and the two ways to put them there."""
    root = root.expanduser().resolve()
    files_dir = spec.files_dir(root)
    if download:
        what = f"{spec.title} could not be downloaded into {files_dir}{os.sep} (is there internet access?)."
    else:
        what = f"{spec.title} was not found (or is incomplete) in {files_dir}{os.sep}, and data.download=false."
    return "\n".join(
        [
            what,
            f"torchvision looks there for these files: {', '.join(spec.file_names())}.",
            f"To get them: pass data.download=true on a machine with internet access, or copy the files into "
            f"{files_dir}{os.sep} from a machine that has them (data.root, now {root}, sets the parent directory).",
            spec.archive_hint(root),
            f"torchvision said: {type(err).__name__}: {err}".strip(),
        ]
    )


def images_to_model_range(images: Tensor, image_size: int | None = None) -> Tensor:
    """uint8 images ``(N, C, H, W)`` in 0..255 to float32 in [-1, 1], resized to ``image_size`` if given.

    Resizing is bilinear; shrinking is antialiased (like torchvision's
    ``Resize``), which averages pixels instead of skipping them.
    """
    x = images.to(torch.float32)  # (N, C, H, W), 0..255
    if image_size is not None and tuple(x.shape[-2:]) != (image_size, image_size):
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False, antialias=True)
    return (x / 127.5 - 1).clamp_(-1, 1)


class TorchvisionDataModule(TensorDataModule):
    """The training split of MNIST, Fashion-MNIST or CIFAR-10, in [-1, 1], 10 classes.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        root: the directory torchvision keeps its data sets in.
        download: fetch missing files from the internet (otherwise a missing
            data set raises :class:`DatasetNotFoundError`).
        image_size: resize the square images to this side (e.g. 32 for MNIST
            under a DCGAN); ``None`` keeps 28 (MNIST) or 32 (CIFAR-10).
        max_samples: keep only the first ``max_samples`` images in file
            order (a quick, deterministic smaller data set); ``None`` keeps all.
        batch_size, val_fraction, split_seed, passes_per_epoch, steps_per_loader_batch: see :class:`TensorDataModule`.
    """

    num_classes = 10

    def __init__(
        self,
        name: str,
        root: str | os.PathLike = "data",
        download: bool = False,
        image_size: int | None = None,
        batch_size: int = 64,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        max_samples: int | None = None,
        **loader_kwargs,
    ) -> None:
        super().__init__(batch_size=batch_size, val_fraction=val_fraction, split_seed=split_seed, **loader_kwargs)
        self.spec = vision_spec(name)
        self._dataset_name = name
        self.root = Path(root).expanduser()
        self.download = bool(download)
        if image_size is not None:
            check_positive("data.image_size", image_size)
        if max_samples is not None:
            check_positive("data.max_samples", max_samples)
        self.image_size = None if image_size is None else int(image_size)
        self.max_samples = None if max_samples is None else int(max_samples)
        self.shape = self.shape_from_config({"name": name, "image_size": image_size})

    @classmethod
    def shape_from_config(cls, config) -> tuple[int, ...]:
        channels, height, width = vision_spec(config["name"]).shape
        side = config.get("image_size")
        return (channels, height, width) if side is None else (channels, int(side), int(side))

    @property
    def name(self) -> str:
        return self._dataset_name

    def prepare_data(self) -> None:
        # Lightning calls this on one process per node before `setup` runs on
        # every process, so a download happens once, not once per DDP rank.
        if self.download:
            open_torchvision_dataset(self.spec, self.root, download=True)

    def load(self) -> tuple[Tensor, Tensor]:
        # With download=True torchvision first checks the files and downloads
        # only what is missing, so this is a no-op after `prepare_data`.
        dataset = open_torchvision_dataset(self.spec, self.root, download=self.download)
        images = torch.as_tensor(dataset.data)  # MNIST: (N, H, W) uint8; CIFAR-10: (N, H, W, C) uint8
        labels = torch.as_tensor(dataset.targets, dtype=torch.long)  # (N,)
        if self.max_samples is not None:
            images, labels = images[: self.max_samples], labels[: self.max_samples]
        if images.ndim == 3:
            images = images.unsqueeze(1)  # (N, 1, H, W)
        else:
            images = images.permute(0, 3, 1, 2)  # (N, C, H, W)
        return images_to_model_range(images, self.image_size), labels
