"""The one interface every gan_lab data set implements.

A data module holds its whole data set as tensors in memory (all the embedded
data sets are small), already scaled to the range the networks work in:
images in [-1, 1] as ``(C, H, W)``, 2D points as ``(2,)``.  It splits them
once, with a fixed seed, into train and validation parts, and it tells the
rest of the framework what it knows about the data:

* ``shape``: the shape of one sample.  The data module is its one owner: the
  network configs read it through the ``${data_shape:}`` resolver
  (:mod:`gan_lab.cli.resolvers`), which asks the data module class
  (:meth:`TensorDataModule.shape_from_config`) what shape its config gives;
* ``num_classes``: how many labelled classes (modes) exist, or ``None``;
* ``real_samples(n, seed)``: a deterministic draw of real samples, the
  reference the metric callbacks compare the generator against.

Batches are ``(x, y)`` pairs, ``y`` being the class (or mixture component)
of each sample: ``x`` of shape ``(B, *shape)``.  With ``steps_per_loader_batch = S > 1``
a training batch holds S batches at once, ``x`` of shape ``(S, B, *shape)``
(``y``: ``(S, B)``), and the GAN module takes S training steps on it, one per
batch of B: the same steps on the same data as S loader batches of B, with
Lightning's per-batch work (loop, hooks, data fetching) paid once per S steps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from gan_lab.errors import ConfigError


def check_positive(name: str, value: float) -> None:
    """Raise a :class:`ConfigError` naming ``name`` unless ``value > 0``."""
    if not value > 0:
        raise ConfigError(f"{name} must be positive, got {value!r}.")



def is_2d(datamodule) -> bool:
    """Whether a data set's samples are 2D points (shape ``(2,)``): what JS by grid and the game view need."""
    return tuple(getattr(datamodule, "shape", ())) == (2,)

class StackedBatches(TensorDataset):
    """A ``TensorDataset`` indexed by a whole block of indices at once: ``(S * B)`` indices give
    tensors of shape ``(S, B, ...)``, S batches of B."""

    def __init__(self, dataset: TensorDataset, steps: int) -> None:
        super().__init__(*dataset.tensors)
        self.steps = steps

    def __getitem__(self, indices):
        return tuple(t[indices].unflatten(0, (self.steps, -1)) for t in self.tensors)


class TensorDataModule(pl.LightningDataModule, ABC):
    """A data set kept in memory as ``(x, y)`` tensors, split with a fixed seed.

    Subclasses implement :meth:`load`, which returns every sample of the data
    set; this class splits, batches and serves them.  Batches are gathered with
    one tensor index per batch (no per-sample Python collation), which keeps the
    data path far cheaper than the networks even for 2D points.
    """

    #: The shape of one sample, e.g. ``(2,)`` or ``(1, 8, 8)``. Set by subclasses.
    shape: tuple[int, ...]
    #: The number of classes / modes the labels ``y`` range over, if known.
    num_classes: int | None = None

    def __init__(
        self,
        batch_size: int = 64,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        passes_per_epoch: int = 1,
        steps_per_loader_batch: int = 1,
    ) -> None:
        super().__init__()
        check_positive("data.batch_size", batch_size)
        check_positive("data.passes_per_epoch", passes_per_epoch)
        check_positive("data.steps_per_loader_batch", steps_per_loader_batch)
        if not 0 < val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in (0, 1), got {val_fraction!r}.")
        self.batch_size = int(batch_size)
        # A tiny data set (1,617 training digits: 25 batches of 64) makes epochs so short that
        # Lightning's per-epoch work (hooks, a new loader iterator) and a
        # thousand-epoch config would follow; several shuffled passes make one epoch instead.
        self.passes_per_epoch = int(passes_per_epoch)
        # Training steps per loader batch (see the module docstring): Lightning's fixed work per loader
        # batch is shared by this many steps of a small network (experiments/benchmarks/README.md).
        self.steps_per_loader_batch = int(steps_per_loader_batch)
        self.val_fraction = float(val_fraction)
        self.split_seed = int(split_seed)
        self._train: TensorDataset | None = None
        self._val: TensorDataset | None = None

    # ------------------------------------------------------------------ subclass API
    @abstractmethod
    def load(self) -> tuple[Tensor, Tensor]:
        """Return all samples ``x`` (N, *shape) in model range and labels ``y`` (N,)."""

    @property
    def name(self) -> str:
        """A short name of the data set, used in cache keys and log text."""
        return type(self).__name__

    # ------------------------------------------------------------------ splitting
    def validation_size(self, num_samples: int) -> int:
        """How many of ``num_samples`` samples the held-out split takes (at least one)."""
        return max(1, int(round(num_samples * self.val_fraction)))

    def setup(self, stage: str | None = None) -> None:
        if self._train is not None:
            return
        x, y = self.load()
        if tuple(x.shape[1:]) != tuple(self.shape):
            raise RuntimeError(f"{self.name} loaded samples of shape {tuple(x.shape[1:])}, expected {self.shape}.")
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.split_seed))
        num_val = self.validation_size(len(x))
        val_idx, train_idx = order[:num_val], order[num_val:]
        if self.batch_size > len(train_idx):
            raise ConfigError(
                f"data.batch_size={self.batch_size} is larger than the training set of {self.name} "
                f"({len(train_idx)} samples); choose data.batch_size <= {len(train_idx)}."
            )
        per_loader_batch = self.steps_per_loader_batch * self.batch_size
        if per_loader_batch > self.passes_per_epoch * len(train_idx):
            raise ConfigError(
                f"A loader batch holds data.steps_per_loader_batch={self.steps_per_loader_batch} batches of data.batch_size="
                f"{self.batch_size}, {per_loader_batch} samples: more than an epoch of {self.name} has "
                f"({self.passes_per_epoch * len(train_idx)}), so no step would run; choose data.steps_per_loader_batch <= "
                f"{max(1, self.passes_per_epoch * len(train_idx) // self.batch_size)}."
            )
        self._train = TensorDataset(x[train_idx], y[train_idx])
        self._val = TensorDataset(x[val_idx], y[val_idx])

    @classmethod
    def shape_from_config(cls, config: Mapping[str, Any]) -> tuple[int, ...]:
        """The shape of one sample that a data config of this class gives (networks are sized from it).

        ``config`` holds the constructor's arguments, unresolved where they are nested
        configs; the default is the class's fixed :attr:`shape`.
        """
        return tuple(cls.shape)

    @property
    def train_set(self) -> TensorDataset:
        self.setup()
        assert self._train is not None
        return self._train

    @property
    def val_set(self) -> TensorDataset:
        self.setup()
        assert self._val is not None
        return self._val

    # ------------------------------------------------------------------ loaders
    def train_dataloader(self) -> DataLoader:
        # A batch sampler over a TensorDataset yields whole batches by fancy
        # indexing; batch_size=None tells the DataLoader not to collate again.
        # Without replacement, RandomSampler draws passes_per_epoch fresh permutations one after the other.
        passes = RandomSampler(self.train_set, num_samples=self.passes_per_epoch * len(self.train_set))
        sampler = BatchSampler(passes, self.steps_per_loader_batch * self.batch_size, drop_last=True)
        data = self.train_set if self.steps_per_loader_batch == 1 else StackedBatches(self.train_set, self.steps_per_loader_batch)
        return DataLoader(data, sampler=sampler, batch_size=None)

    def val_dataloader(self) -> DataLoader:
        sampler = BatchSampler(SequentialSampler(self.val_set), self.batch_size, drop_last=False)
        return DataLoader(self.val_set, sampler=sampler, batch_size=None)

    # ------------------------------------------------------------------ evaluation
    def real_samples(self, n: int, seed: int = 0, split: str = "train") -> tuple[Tensor, Tensor]:
        """``n`` real samples and their labels, drawn without replacement when possible.

        Deterministic for a given ``seed``.  Metrics compare the generator
        against these; drawing without replacement matters for the birthday
        test, where a repeated real sample would look like a collision.
        """
        data = self.train_set if split == "train" else self.val_set
        x, y = data.tensors
        g = torch.Generator().manual_seed(seed)
        if n <= len(x):
            idx = torch.randperm(len(x), generator=g)[:n]
        else:
            idx = torch.randint(len(x), (n,), generator=g)
        return x[idx], y[idx]
