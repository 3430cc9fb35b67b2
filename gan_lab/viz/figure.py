"""GAN Lab's picture of the game (Kahng et al., IEEE VIS 2018), drawn on a ``matplotlib.figure.Figure``.

One figure per moment of training: D(x) as a heat map over the view in
bands of 0.1 (GAN Lab's colours: green where D says "real", purple where it
says "fake"), the real and the generated points, the generator's manifold (a
latent grid's image under G, drawn as warped grid lines) and the arrows
-grad_x of the generator's loss at some of the fakes.  The numbers come from
:func:`gan_lab.viz.field.game_field`.

Arrow lengths are honest: an arrow is ``scale`` data units long per unit of
gradient, one ``scale`` for a whole run (so lengths compare across time) and
one for every run on the same data (:func:`default_arrow_scale` depends on
the view alone, so minimax and non-saturating runs compare too).  The key
arrow in the corner names the gradient it stands for.  Arrows longer than
``max_arrow`` of the view are shortened to it and drawn in red, and their
number is stated, so nothing leaves the picture unannounced.

:class:`FieldView` draws on any matplotlib ``Axes`` and keeps its artists, so
that a new moment of the game updates them in place (the playground redraws
ten times a second; a notebook puts several views in one figure);
:func:`field_figure` is one view on a figure of its own, with its titles,
legend and colour bar, as TensorBoard and the GIF show it.  No pyplot: the
figure is built and rendered explicitly (see :mod:`gan_lab.viz.plots`).
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gan_lab.viz.field import GameField
from gan_lab.metrics.js_grid import Box

#: Colours: real green and fake purple, as GAN Lab and the PRGn colormap (0 purple, 1 green).
REAL_COLOUR, FAKE_COLOUR, CLIPPED_COLOUR = "#1b7837", "#762a83", "#d62728"
#: Width and height in inches (at 90 dpi: 558 x 495 pixels).
FIGURE_INCHES = (6.2, 5.5)
#: D(x) in ten bands of 0.1, read like contour lines (the few colours also keep an animation's GIF small).
HEAT_COLOURS = matplotlib.colormaps["PRGn"].resampled(10)
#: The heat map is drawn half transparent so that points and arrows stay visible on it.
HEAT_ALPHA = 0.6
#: The layers a view draws, each of which can be hidden (GAN Lab's toggles).
LAYERS = ("heat_map", "manifold", "real", "fake", "arrows")


def default_arrow_scale(box: Box, fraction: float = 0.015) -> float:
    """Data units of arrow per unit of gradient: ``fraction * side**2`` for a view of side ``side``.

    Why ``side**2``: a discriminator whose logit changes by O(1) across the view has gradients of
    O(1 / side), so ``side * |grad|`` is the gradient in units of the view, and ``fraction`` of the
    side per such unit keeps arrows of every data set at a similar size.  It depends on the view
    only, never on the loss or the moment of training.
    """
    side = box[1] - box[0]
    return fraction * side * side


def round_key(value: float) -> float:
    """A round number (1, 2 or 5 times a power of ten) at most ``value``, for the key arrow."""
    power = 10 ** math.floor(math.log10(value))
    return max(step * power for step in (1, 2, 5) if step * power <= value)


def latent_description(field: GameField) -> str:
    """What the manifold lines are the image of, in words."""
    square = f"$[-{field.latent_extent:g}, {field.latent_extent:g}]^2$"
    if field.latent_dim == 1:
        return f"G's manifold: the latent line $[-{field.latent_extent:g}, {field.latent_extent:g}]$ mapped by G"
    if field.latent_dim == 2:
        return f"G's manifold: a grid over the latent square {square} mapped by G"
    others = "$z_3$" if field.latent_dim == 3 else f"$z_3 \\dots z_{{{field.latent_dim}}}$"
    return f"G's manifold: a grid over {square} in the latent plane of $z_1, z_2$ ({others} = 0) mapped by G"


class FieldView:
    """One :class:`GameField` drawn on ``ax``; :meth:`update` moves its artists to a new field in place.

    Args:
        ax: the matplotlib axes to draw on (its limits, aspect and labels are set here).
        field: the first moment to draw; later ones must have the same box, grid and manifold shape.
        centers: ``(K, 2)`` mode centres to mark, if known.
        arrow_scale: data units of arrow per unit of gradient; ``None``: :func:`default_arrow_scale`.
            Fixed for the view's life, so arrow lengths compare from one moment to the next.
        max_arrow: longest arrow drawn, as a fraction of the view's side; longer ones are shortened, in red.
        layers: the layers shown (see :data:`LAYERS`); the others are drawn hidden, ready to show.
    """

    def __init__(self, ax: Axes, field: GameField, centers=None, arrow_scale: float | None = None,
                 max_arrow: float = 0.15, layers=LAYERS) -> None:
        unknown = set(layers) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)}; the layers are {list(LAYERS)}.")
        box = field.box
        self.ax, self.box = ax, box
        self.scale = default_arrow_scale(box) if arrow_scale is None else float(arrow_scale)
        self.longest = max_arrow * (box[1] - box[0])
        self.heat_map = ax.imshow(field.discriminator.numpy(), origin="lower", extent=box, cmap=HEAT_COLOURS,
                                  vmin=0.0, vmax=1.0, alpha=HEAT_ALPHA, interpolation="nearest")
        self.manifold = [ax.plot(line[:, 0], line[:, 1], color="0.2", linewidth=0.5, alpha=0.6)[0]
                         for family in field.manifold for line in family]
        self.fake = ax.scatter(field.fake[:, 0], field.fake[:, 1], s=5, color=FAKE_COLOUR, linewidths=0)
        # Real points after the fakes and a little larger: they sit on a few modes and would hide under them.
        self.real = ax.scatter(field.real[:, 0], field.real[:, 1], s=7, color=REAL_COLOUR, linewidths=0)
        if centers is not None:
            centers = torch.as_tensor(centers)
            ax.scatter(centers[:, 0], centers[:, 1], s=14, marker="x", color="black", linewidths=0.7, label="modes")
        self.arrows, self.key, self.clipped = None, None, 0
        self.visible: dict[str, bool] = dict.fromkeys(LAYERS, True)  # what show() last set
        self._draw_arrows(field)
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        self.show(**{layer: layer in layers for layer in LAYERS})

    def legend_handles(self) -> tuple[list, list[str]]:
        """Handles and labels for a legend of the layers, to place outside the data (the points are tiny)."""
        handles = [Line2D([], [], color="0.2", linewidth=0.8),
                   Line2D([], [], color=FAKE_COLOUR, marker="o", linestyle="", markersize=4),
                   Line2D([], [], color=REAL_COLOUR, marker="o", linestyle="", markersize=4)]
        labels = ["G's manifold", "generated", "real"]
        for handle, label in zip(*self.ax.get_legend_handles_labels()):  # the modes, if marked
            handles.append(handle)
            labels.append(label)
        return handles, labels

    def update(self, field: GameField) -> None:
        """Show ``field`` instead: new heat map, manifold, points and arrows; same scale and layers."""
        self.heat_map.set_data(field.discriminator.numpy())
        lines = [line for family in field.manifold for line in family]
        if len(lines) != len(self.manifold):
            raise ValueError(f"the manifold has {len(lines)} lines, the view was drawn with {len(self.manifold)}.")
        for artist, line in zip(self.manifold, lines):
            artist.set_data(line[:, 0].numpy(), line[:, 1].numpy())
        self.fake.set_offsets(field.fake.numpy())
        self.real.set_offsets(field.real.numpy())
        self._draw_arrows(field)

    def show(self, **layers: bool) -> None:
        """Show or hide layers by name, e.g. ``show(arrows=False, heat_map=True)``."""
        unknown = set(layers) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)}; the layers are {list(LAYERS)}.")
        self.visible.update(layers)
        for name, visible in layers.items():
            for artist in self._artists(name):
                artist.set_visible(visible)

    def _artists(self, layer: str) -> list:
        return {"heat_map": [self.heat_map], "manifold": self.manifold, "real": [self.real], "fake": [self.fake],
                "arrows": [self.arrows, self.key] if self.arrows is not None else []}[layer]

    def _draw_arrows(self, field: GameField) -> None:
        """Arrows ``scale`` data units per unit of gradient, at most ``longest`` (those in red), and a key arrow."""
        lengths = field.arrows.norm(dim=1) * self.scale  # (A,) in data units
        too_long = lengths > self.longest
        shrink = torch.where(too_long, self.longest / lengths.clamp(min=1e-12), torch.ones_like(lengths))
        drawn = (field.arrows * shrink[:, None]).numpy()
        colours = np.where(too_long.numpy()[:, None], to_rgba_array(CLIPPED_COLOUR),
                           to_rgba_array("black"))
        self.clipped = int(too_long.sum())
        if self.arrows is not None and len(self.arrows.U) == len(drawn):  # same count: move them in place
            self.arrows.set_offsets(field.arrow_points.numpy())
            self.arrows.set_UVC(drawn[:, 0], drawn[:, 1])
            self.arrows.set_color(colours)
            return
        if self.arrows is not None:
            self.arrows.remove()
            self.key.remove()
        style = {"angles": "xy", "scale_units": "xy", "scale": 1.0 / self.scale, "width": 0.004, "headwidth": 4,
                 "headlength": 4.5}
        points = field.arrow_points.numpy() if len(drawn) else np.zeros((0, 2))
        self.arrows = self.ax.quiver(points[:, 0], points[:, 1], drawn[:, 0], drawn[:, 1], color=colours, **style)
        key = round_key(0.1 * (self.box[1] - self.box[0]) / self.scale)  # a key arrow about a tenth of the view
        self.key = self.ax.quiverkey(self.arrows, 0.80, 0.035, key, f"$|\\nabla_x|$ = {key:g}", labelpos="W",
                                     coordinates="axes", color="black", fontproperties={"size": 7})
        self.show(arrows=self.visible["arrows"])  # new arrows keep the layer's setting


def field_figure(field: GameField, centers=None, arrow_scale: float | None = None, max_arrow: float = 0.15,
                 title: str = "The game", dpi: int = 90) -> Figure:
    """Draw ``field`` (see :func:`gan_lab.viz.field.game_field`) on a new ``Figure`` of fixed pixel size.

    Args:
        centers: ``(K, 2)`` mode centres to mark, if known.
        arrow_scale: data units of arrow per unit of gradient; ``None``: :func:`default_arrow_scale`.
        max_arrow: longest arrow drawn, as a fraction of the view's side; longer ones are shortened, in red.
        title: the first title line (e.g. the training step).
    """
    width, height = FIGURE_INCHES
    fig = Figure(figsize=FIGURE_INCHES, dpi=dpi)
    # Fixed positions (no tight_layout): every frame has the same layout, so an animation does not jitter.
    left, bottom, side_inches = 0.65, 0.8, 3.8  # the square plot, in inches
    ax = fig.add_axes((left / width, bottom / height, side_inches / width, side_inches / height))
    colour_axes = fig.add_axes(((left + side_inches + 0.2) / width, bottom / height, 0.16 / width, side_inches / height))
    view = FieldView(ax, field, centers=centers, arrow_scale=arrow_scale, max_arrow=max_arrow)
    add_colour_bar(fig, view, colour_axes)
    handles, labels = view.legend_handles()
    outside = int(((field.fake[:, 0] < view.box[0]) | (field.fake[:, 0] > view.box[1])
                   | (field.fake[:, 1] < view.box[2]) | (field.fake[:, 1] > view.box[3])).sum())
    if outside:
        labels[1] = f"generated ({outside} outside the view)"
    lines = [title, latent_description(field),
             f"arrows: $-\\nabla_x$ {field.loss_name} at {len(field.arrows)} generated points,",
             f"    {view.scale:.3g} data units per unit of gradient (fixed for the run)"]
    if view.clipped:
        lines.append(f"    {view.clipped} arrows longer than {max_arrow:.0%} of the view shortened to it (red)")
    ax.set_title("\n".join(lines), fontsize=7.5, loc="left")
    fig.legend(handles, labels, loc="lower left", ncol=4, fontsize=7.5, frameon=False, bbox_to_anchor=(0.06, 0.0),
               markerscale=1.5)
    return fig


def add_colour_bar(fig: Figure, view: FieldView, cax=None, **kwargs):
    """The heat map's key: D(x) from 0 (fake, purple) to 1 (real, green)."""
    colour_bar = fig.colorbar(view.heat_map, cax=cax, **kwargs)
    colour_bar.set_label("D(x) = sigmoid(logit): 0 fake, 1 real", fontsize=8)
    colour_bar.solids.set_alpha(HEAT_ALPHA)
    return colour_bar
