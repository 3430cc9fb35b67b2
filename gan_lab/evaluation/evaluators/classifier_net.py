"""A small CNN classifier for 8x8, 28x28 and 32x32 images, and how it is trained.

The classifier is a measuring instrument, not a research model: it must be
accurate enough that its predictions can stand in for labels (mode counting,
class-conditional Inception Score) and its penultimate layer must give
features that separate the classes (FID on digits).  So it is small, trained
with a fixed seed (bit-identical weights on a given machine and thread count),
and its accuracy on a held-out split is measured and reported next to every
number it produces.

Training draws every random number from its own seeded ``torch.Generator``
(initial weights, dropout masks, batch order, augmentation), never from the
global random state, which it leaves exactly as it found it (CPU and CUDA).
Evaluation never calls it: the digits classifier ships with gan_lab (see
:mod:`~gan_lab.evaluation.evaluators.shipped`), and other data sets' classifiers
are trained once with ``gan-lab-evaluator`` (:mod:`gan_lab.cli.evaluator`).

Architecture (``width`` w, ``feature_dim`` d)::

    (N, C, H, W)
    -> [conv3x3 w, BN, ReLU] x 2, maxpool 2        # H/2
    -> [conv3x3 2w, BN, ReLU] x 2, maxpool 2       # H/4
    (-> [conv3x3 4w, BN, ReLU] x 2, maxpool 2)     # H/8, only for images larger than 16 px
    -> adaptive average pool to 2x2, flatten
    -> linear d, ReLU  = features (N, d)           # the penultimate layer
    -> dropout, linear K = logits (N, K)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.evaluation.evaluators.pooling import AdaptiveAvgPool2, MaxPool2


class SeededDropout(nn.Module):
    """Dropout whose masks come from :attr:`generator` (a ``torch.Generator``) instead of the global RNG.

    Identity in eval mode.  Like ``nn.Dropout`` it has no parameters or buffers, so state dicts
    are unchanged.  With ``generator=None`` masks come from the global RNG.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout must be in [0, 1), got {p!r}.")
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class SmallCNN(nn.Module):
    """``images (N, C, S, S) -> (features (N, feature_dim), logits (N, num_classes))``."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int,
        width: int = 32,
        feature_dim: int = 128,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        if image_size < 8:
            raise ValueError(f"SmallCNN needs images of at least 8x8 pixels, got image_size={image_size}.")
        self.channels, self.image_size, self.num_classes = int(channels), int(image_size), int(num_classes)
        self.feature_dim = int(feature_dim)
        num_stages = 2 if image_size <= 16 else 3  # 8 -> 2; 28 -> 3; 32 -> 4 pixels before pooling to 2x2
        layers: list[nn.Module] = []
        c_in = self.channels
        for stage in range(num_stages):
            c_out = width * 2**stage
            for _ in range(2):
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
                c_in = c_out
            layers.append(MaxPool2())  # nn.MaxPool2d(2), faster when scoring
        layers.append(AdaptiveAvgPool2())  # nn.AdaptiveAvgPool2d(2), likewise
        self.body = nn.Sequential(*layers)
        self.to_features = nn.Sequential(nn.Flatten(), nn.Linear(c_in * 4, self.feature_dim), nn.ReLU())
        self.head = nn.Sequential(SeededDropout(dropout), nn.Linear(self.feature_dim, self.num_classes))

    def reset_parameters(self, generator: torch.Generator) -> SmallCNN:
        """Re-initialise every parameter from ``generator`` (PyTorch's default schemes; BN: 1 and 0).

        Convolutions and linear layers get ``nn.Conv2d`` / ``nn.Linear``'s default initialisation
        (Kaiming-uniform weights with ``a = sqrt(5)``, uniform biases in ``+-1/sqrt(fan_in)``), drawn
        from ``generator`` in module order; the global random state is not touched.
        """
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    bound = 1 / math.sqrt(nn.init._calculate_fan_in_and_fan_out(module.weight)[0])
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()  # deterministic: weight 1, bias 0, running statistics reset
        return self

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features = self.to_features(self.body(x))  # (N, d)
        return features, self.head(features)  # (N, d), (N, K)


@dataclass(frozen=True)
class Architecture:
    """The :class:`SmallCNN` settings that do not follow from the data."""

    width: int = 32
    feature_dim: int = 128
    dropout: float = 0.3

    def build(self, channels: int, image_size: int, num_classes: int) -> SmallCNN:
        return SmallCNN(channels, image_size, num_classes, self.width, self.feature_dim, self.dropout)


@dataclass(frozen=True)
class TrainingSettings:
    """Every training setting that changes the trained classifier (stored in its weights file)."""

    seed: int = 0
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    holdout_fraction: float = 0.2
    max_shift: int = 1  # random translation augmentation, in pixels


#: Data sets larger than this train for :data:`LARGE_DATA_EPOCHS` epochs by default
#: (a few minutes per MNIST epoch on a laptop CPU).
LARGE_DATA = 10_000
SMALL_DATA_EPOCHS, LARGE_DATA_EPOCHS = 15, 3


def default_epochs(num_samples: int) -> int:
    """Epochs used when none are given: 15 for small data sets (digits), 3 for large ones (MNIST, CIFAR-10)."""
    return SMALL_DATA_EPOCHS if num_samples <= LARGE_DATA else LARGE_DATA_EPOCHS


def holdout_split(num_samples: int, holdout_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """``(train_idx, holdout_idx)``: a fixed-seed random split of ``range(num_samples)``."""
    if not 0 < holdout_fraction < 1:
        raise ValueError(f"holdout_fraction must be in (0, 1), got {holdout_fraction!r}.")
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed))
    num_holdout = max(1, int(round(num_samples * holdout_fraction)))
    return order[num_holdout:], order[:num_holdout]


def random_shift(x: Tensor, max_shift: int, generator: torch.Generator) -> Tensor:
    """Translate each image by a random integer offset in [-max_shift, max_shift]^2 (edges replicated)."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, mode="replicate")  # (N, C, H + 2s, W + 2s)
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator)  # (N, 2): top-left corner of the crop
    out = torch.empty_like(x)
    for dy in range(2 * max_shift + 1):
        for dx in range(2 * max_shift + 1):
            chosen = (offsets[:, 0] == dy) & (offsets[:, 1] == dx)
            out[chosen] = padded[chosen, :, dy : dy + h, dx : dx + w]
    return out


@torch.no_grad()
def accuracy(net: SmallCNN, x: Tensor, y: Tensor, batch_size: int = 500) -> float:
    """Fraction of ``x`` that ``net`` (in eval mode) classifies as ``y``."""
    was_training = net.training
    net.eval()
    correct = sum(int((net(xb)[1].argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch_size), y.split(batch_size)))
    net.train(was_training)
    return correct / len(x)


class _EpochProgress:
    """A rich progress bar over epochs (rich is one of gan_lab's dependencies), removed once done; or nothing."""

    def __init__(self, enabled: bool, description: str, epochs: int) -> None:
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), transient=True)
            self.task = self.bar.add_task(description, total=epochs, status="")

    def __enter__(self) -> _EpochProgress:
        if self.bar:
            self.bar.start()
        return self

    def epoch_done(self, loss: float) -> None:
        if self.bar:
            self.bar.update(self.task, advance=1, status=f"loss {loss:.3f}")

    def __exit__(self, *exc) -> None:
        if self.bar:
            self.bar.stop()


@dataclass
class TrainingResult:
    net: SmallCNN
    accuracy: float  # on the held-out split
    seconds: float


def train_classifier(
    x: Tensor,
    y: Tensor,
    num_classes: int,
    architecture: Architecture = Architecture(),
    settings: TrainingSettings = TrainingSettings(),
    progress: bool = True,
    description: str = "Training classifier",
) -> TrainingResult:
    """Build a :class:`SmallCNN` for ``x`` and train it on a fixed-seed split of ``(x, y)``.

    ``x`` is ``(N, C, S, S)`` in [-1, 1] and ``y`` ``(N,)`` in ``[0, num_classes)``.
    Cross-entropy, Adam with a one-cycle learning-rate schedule, minibatches
    with random shifts of up to ``settings.max_shift`` pixels, on the CPU.
    Returns the network (in eval mode) with its accuracy on the held-out split.

    Every random number comes from two generators seeded from ``settings.seed``
    (``seed``: initial weights and dropout; ``seed + 1``: batches and
    augmentation), so the result does not depend on the caller's global random
    state, and that state (CPU and every CUDA device) is left untouched:
    training an evaluator in the middle of a seeded GAN run does not change
    that run.  Bit-identical results need the same machine, PyTorch version
    and thread count (``gan-lab-evaluator`` trains on one thread).
    """
    start = time.perf_counter()
    train_idx, holdout_idx = holdout_split(len(x), settings.holdout_fraction, settings.seed)
    x_train, y_train = x[train_idx], y[train_idx]
    steps_per_epoch = max(1, len(x_train) // settings.batch_size)  # the last partial batch is dropped
    init = torch.Generator().manual_seed(settings.seed)  # initial weights, then dropout masks
    g = torch.Generator().manual_seed(settings.seed + 1)  # batches and augmentation
    # Constructing the modules runs PyTorch's default initialisation on the global CPU generator;
    # fork it so those draws leave no trace (nothing is seeded, so no CUDA generator is touched),
    # then draw the actual initial weights from `init`.
    with torch.random.fork_rng(devices=[]):
        net = architecture.build(x.shape[1], x.shape[-1], num_classes)
    net.reset_parameters(init).train()
    dropouts = [m for m in net.modules() if isinstance(m, SeededDropout)]
    for dropout in dropouts:
        dropout.generator = init
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    total_steps = settings.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, settings.lr, total_steps=total_steps)
    try:
        with _EpochProgress(progress, description, settings.epochs) as bar:
            for _ in range(settings.epochs):
                batches = torch.randperm(len(x_train), generator=g)[: steps_per_epoch * settings.batch_size]
                total_loss = 0.0
                for idx in batches.split(settings.batch_size):
                    logits = net(random_shift(x_train[idx], settings.max_shift, g))[1]
                    loss = F.cross_entropy(logits, y_train[idx])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    schedule.step()
                    total_loss += loss.item()
                bar.epoch_done(total_loss / steps_per_epoch)
    finally:
        for dropout in dropouts:
            dropout.generator = None  # the trained network holds no reference to training state
    net.eval()
    held_out = accuracy(net, x[holdout_idx], y[holdout_idx])
    seconds = time.perf_counter() - start
    if progress:
        from rich.console import Console

        Console(stderr=True).print(f"{description}: done in {seconds:.1f} s, held-out accuracy {held_out:.4f}")
    return TrainingResult(net, held_out, seconds)
