"""GAN Lab's picture of the game (Kahng et al., IEEE VIS 2018), drawn on a ``matplotlib.figure.Figure``.

One figure per moment of training: D(x) as a heat map over the view in
bands of 0.1 (GAN Lab's colours: green where D says "real", purple where it
says "fake"), the real and the generated points, the generator's manifold (a
latent grid's image under G, drawn as warped grid lines) and the arrows
-grad_x of the generator's loss at some of the fakes.  The numbers come from
:func:`gan_lab.game.field.game_field`.

Arrow lengths are honest: an arrow is ``scale`` data units long per unit of
gradient, one ``scale`` for a whole run (so lengths compare across time) and
one for every run on the same data (:func:`default_arrow_scale` depends on
the view alone, so minimax and non-saturating runs compare too).  The key
arrow in the corner names the gradient it stands for.  Arrows longer than
``max_arrow`` of the view are shortened to it and drawn in red, and their
number is stated, so nothing leaves the picture unannounced.

No pyplot: the figure is built and rendered explicitly (see :mod:`gan_lab.plots`).
"""

from __future__ import annotations

import math

import matplotlib
import torch
from matplotlib.figure import Figure

from gan_lab.game.field import GameField
from gan_lab.metrics.js_grid import Box

#: Colours: real green and fake purple, as GAN Lab and the PRGn colormap (0 purple, 1 green).
REAL_COLOUR, FAKE_COLOUR, CLIPPED_COLOUR = "#1b7837", "#762a83", "#d62728"
#: Width and height in inches (at 90 dpi: 558 x 495 pixels).
FIGURE_INCHES = (6.2, 5.5)
#: D(x) in ten bands of 0.1, read like contour lines (the few colours also keep an animation's GIF small).
HEAT_COLOURS = matplotlib.colormaps["PRGn"].resampled(10)
#: The heat map is drawn half transparent so that points and arrows stay visible on it.
HEAT_ALPHA = 0.6


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


def field_figure(field: GameField, centers=None, arrow_scale: float | None = None, max_arrow: float = 0.15,
                 title: str = "The game", dpi: int = 90) -> Figure:
    """Draw ``field`` (see :func:`gan_lab.game.field.game_field`) on a new ``Figure`` of fixed pixel size.

    Args:
        centers: ``(K, 2)`` mode centres to mark, if known.
        arrow_scale: data units of arrow per unit of gradient; ``None``: :func:`default_arrow_scale`.
        max_arrow: longest arrow drawn, as a fraction of the view's side; longer ones are shortened, in red.
        title: the first title line (e.g. the training step).
    """
    box = field.box
    side = box[1] - box[0]
    scale = default_arrow_scale(box) if arrow_scale is None else float(arrow_scale)
    width, height = FIGURE_INCHES
    fig = Figure(figsize=FIGURE_INCHES, dpi=dpi)
    # Fixed positions (no tight_layout): every frame has the same layout, so an animation does not jitter.
    left, bottom, side_inches = 0.65, 0.8, 3.8  # the square plot, in inches
    ax = fig.add_axes((left / width, bottom / height, side_inches / width, side_inches / height))
    colour_axes = fig.add_axes(((left + side_inches + 0.2) / width, bottom / height, 0.16 / width, side_inches / height))
    heat = ax.imshow(field.discriminator.numpy(), origin="lower", extent=box, cmap=HEAT_COLOURS, vmin=0.0, vmax=1.0,
                     alpha=HEAT_ALPHA, interpolation="nearest")
    colour_bar = fig.colorbar(heat, cax=colour_axes)
    colour_bar.set_label("D(x) = sigmoid(logit): 0 fake, 1 real", fontsize=8)
    colour_bar.solids.set_alpha(HEAT_ALPHA)
    for family in field.manifold:  # (lines, points, 2): the grid lines of one latent axis
        for line in family:
            ax.plot(line[:, 0], line[:, 1], color="0.2", linewidth=0.5, alpha=0.6)
    ax.plot([], [], color="0.2", linewidth=0.8, label="G's manifold")
    outside = int(((field.fake[:, 0] < box[0]) | (field.fake[:, 0] > box[1])
                   | (field.fake[:, 1] < box[2]) | (field.fake[:, 1] > box[3])).sum())
    fake_label = "generated" if outside == 0 else f"generated ({outside} outside the view)"
    ax.scatter(field.fake[:, 0], field.fake[:, 1], s=5, color=FAKE_COLOUR, linewidths=0, label=fake_label)
    # Real points after the fakes and a little larger: they sit on a few modes and would hide under them.
    ax.scatter(field.real[:, 0], field.real[:, 1], s=7, color=REAL_COLOUR, linewidths=0, label="real")
    if centers is not None:
        centers = torch.as_tensor(centers)
        ax.scatter(centers[:, 0], centers[:, 1], s=14, marker="x", color="black", linewidths=0.7, label="modes")
    clipped = draw_arrows(ax, field, scale, max_arrow * side)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    lines = [title, latent_description(field),
             f"arrows: $-\\nabla_x$ {field.loss_name} at {len(field.arrows)} generated points,",
             f"    {scale:.3g} data units per unit of gradient (fixed for the run)"]
    if clipped:
        lines.append(f"    {clipped} arrows longer than {max_arrow:.0%} of the view shortened to it (red)")
    ax.set_title("\n".join(lines), fontsize=7.5, loc="left")
    fig.legend(*ax.get_legend_handles_labels(), loc="lower left", ncol=4, fontsize=7.5, frameon=False,
               bbox_to_anchor=(0.06, 0.0), markerscale=2)
    return fig


def draw_arrows(ax, field: GameField, scale: float, longest: float) -> int:
    """Arrows ``scale`` data units per unit of gradient, at most ``longest`` long (those in red); a key arrow.

    Returns the number of arrows shortened.
    """
    if len(field.arrows) == 0:
        return 0
    lengths = field.arrows.norm(dim=1) * scale  # (A,) in data units
    too_long = lengths > longest
    shrink = torch.where(too_long, longest / lengths.clamp(min=1e-12), torch.ones_like(lengths))
    drawn = field.arrows * shrink[:, None]
    style = {"angles": "xy", "scale_units": "xy", "scale": 1.0 / scale, "width": 0.004, "headwidth": 4, "headlength": 4.5}
    x, y = field.arrow_points[:, 0], field.arrow_points[:, 1]
    arrows = ax.quiver(x[~too_long], y[~too_long], drawn[~too_long, 0], drawn[~too_long, 1], color="black", **style)
    if too_long.any():
        ax.quiver(x[too_long], y[too_long], drawn[too_long, 0], drawn[too_long, 1], color=CLIPPED_COLOUR, **style)
    key = round_key(0.1 * (field.box[1] - field.box[0]) / scale)  # a key arrow about a tenth of the view long
    ax.quiverkey(arrows, 0.80, 0.035, key, f"$|\\nabla_x|$ = {key:g}", labelpos="W", coordinates="axes",
                 fontproperties={"size": 7})
    return int(too_long.sum())
