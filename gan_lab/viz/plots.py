"""Figures drawn on ``matplotlib.figure.Figure`` objects: no pyplot state, no backend switching.

Importing gan_lab never changes the user's matplotlib backend: code that
renders off screen (TensorBoard images) draws on a ``Figure`` and renders it
with the Agg canvas explicitly, which works whatever backend is active.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torchvision.utils import make_grid


def image_grid(images: torch.Tensor, nrow: int = 8) -> torch.Tensor:
    """``(N, C, H, W)`` images in [-1, 1] -> one ``(3, H', W')`` grid in [0, 1]."""
    return make_grid(images.clamp(-1, 1).add(1).div(2), nrow=nrow, padding=1, pad_value=1.0)


def scatter_figure(points: torch.Tensor, centers=None, title: str = "") -> Figure:
    """2D ``points`` with the data's mode ``centers`` marked, on a new ``Figure``."""
    fig = Figure(figsize=(4, 4), dpi=80)
    ax = fig.add_subplot()
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, label="generated")
    if centers is not None:
        centers = torch.as_tensor(centers)
        ax.scatter(centers[:, 0], centers[:, 1], s=40, marker="x", color="red", label="modes")
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig


def figure_to_image(fig: Figure) -> torch.Tensor:
    """Render ``fig`` with the Agg canvas: a ``(3, H, W)`` float image in [0, 1] (what ``add_image`` takes)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # (H, W, 4) uint8
    return torch.from_numpy(rgba[..., :3].copy()).permute(2, 0, 1).float().div(255)
