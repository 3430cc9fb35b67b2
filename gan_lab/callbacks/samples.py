"""Show what the generator makes: an image grid, or a scatter plot over the known modes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

from gan_lab.callbacks.logging_utils import logging_step, tensorboard_writer  # noqa: E402


def image_grid(images: torch.Tensor, nrow: int = 8) -> torch.Tensor:
    """``(N, C, H, W)`` images in [-1, 1] -> one ``(3, H', W')`` grid in [0, 1]."""
    return make_grid(images.clamp(-1, 1).add(1).div(2), nrow=nrow, padding=1, pad_value=1.0)


def scatter_figure(points: torch.Tensor, centers: torch.Tensor | None = None, title: str = ""):
    """A matplotlib figure of 2D ``points`` with the data's mode ``centers`` marked."""
    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, label="generated")
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], s=40, marker="x", color="red", label="modes")
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig


class LogSamples(pl.Callback):
    """At each validation epoch, log samples from a fixed latent batch.

    Images go to ``samples/grid``; 2D points to ``samples/scatter`` (a plot
    over the data module's ``centers``).  The latent batch comes from ``seed``,
    so successive epochs show the same noise vectors and can be compared.
    """

    def __init__(self, num_samples: int = 64, seed: int = 1234, num_points: int = 2000) -> None:
        self.num_samples = num_samples
        self.num_points = num_points
        self.seed = seed

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        writer = tensorboard_writer(trainer)
        if trainer.sanity_checking or writer is None or not trainer.is_global_zero:
            return
        step = logging_step(trainer)
        if len(pl_module.generator.output_shape) == 3:
            samples = pl_module.generate(self.num_samples, seed=self.seed).cpu()
            writer.add_image("samples/grid", image_grid(samples), step)
        else:
            points = pl_module.generate(self.num_points, seed=self.seed).cpu()
            centers = getattr(trainer.datamodule, "centers", None)
            fig = scatter_figure(points, centers, title=f"epoch {trainer.current_epoch}")
            writer.add_figure("samples/scatter", fig, step, close=True)
