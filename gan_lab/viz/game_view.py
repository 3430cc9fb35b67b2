"""``evaluation.game``: GAN Lab's view of the game, drawn at each evaluation of a 2D run (tag ``game/field``).

Metric objects see only scored samples; this view also needs the players
(D, G and the loss), so it is an entry of its own in the evaluation node
(``configs/evaluation/default.yaml``), called by
:class:`gan_lab.callbacks.Evaluation` on rank zero when it writes images.
It is skipped for data that is not 2D, and ``evaluation.game=null`` turns it
off.  The numbers and the figure are in :mod:`gan_lab.viz`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor

from gan_lab.data.base import is_2d
from gan_lab.errors import EvaluationError
from gan_lab.viz.field import game_field
from gan_lab.viz.figure import default_arrow_scale, field_figure
from gan_lab.metrics.js_grid import square_box
from gan_lab.viz.plots import figure_to_image

if TYPE_CHECKING:  # the evaluation hands the view its real data; viz imports nothing else of it
    from gan_lab.evaluation.metric import RealData, Value


class GameView:
    """D(x) over the plane, real and generated points, G's manifold and -grad_x of G's loss (Kahng et al. 2018).

    Everything it draws is fixed per run except the networks: the real points are the
    evaluation's real draw, the generated ones its fixed-latent samples, the view a square around
    the real data (``margin`` of its extent on each side), the arrow scale fixed by the view (or
    ``arrow_scale``), so the frames of a run, and the runs on one data set, compare.

    Args:
        grid_size: cells per side of the D(x) heat map.
        num_points: real and generated points drawn (each).
        num_arrows: generated points that carry an arrow.
        manifold_lines: latent grid lines per latent axis; points_per_line: points along each.
        latent_extent: the latent grid spans [-latent_extent, latent_extent] (in standard deviations of z).
        margin: view margin on each side, as a fraction of the real data's extent.
        arrow_scale: data units of arrow per unit of gradient; ``None``: from the view
            (:func:`gan_lab.viz.figure.default_arrow_scale`), the same for every run on the data set.
        max_arrow: longest arrow, as a fraction of the view; longer ones are shortened and drawn in red.
        dpi: resolution of the figure (90: 576 x 540 pixels).
    """

    def __init__(self, grid_size: int = 64, num_points: int = 500, num_arrows: int = 100, manifold_lines: int = 11,
                 points_per_line: int = 40, latent_extent: float = 2.0, margin: float = 0.25,
                 arrow_scale: float | None = None, max_arrow: float = 0.15, dpi: int = 90) -> None:
        for name, value in (("grid_size", grid_size), ("num_points", num_points), ("manifold_lines", manifold_lines),
                            ("points_per_line", points_per_line), ("dpi", dpi)):
            if int(value) < 1:
                raise EvaluationError(f"evaluation.game.{name} must be >= 1, got {value}.")
        if num_arrows < 0 or not latent_extent > 0 or not margin >= 0 or not max_arrow > 0:
            raise EvaluationError("evaluation.game: need num_arrows >= 0, latent_extent > 0, margin >= 0 and "
                                  f"max_arrow > 0, got {num_arrows}, {latent_extent}, {margin}, {max_arrow}.")
        if arrow_scale is not None and not arrow_scale > 0:
            raise EvaluationError(f"evaluation.game.arrow_scale must be positive or null, got {arrow_scale}.")
        self.grid_size, self.num_points, self.num_arrows = int(grid_size), int(num_points), int(num_arrows)
        self.manifold_lines, self.points_per_line = int(manifold_lines), int(points_per_line)
        self.latent_extent, self.margin, self.max_arrow = float(latent_extent), float(margin), float(max_arrow)
        self.arrow_scale, self.dpi = arrow_scale, int(dpi)
        self._box = None
        self._real: Tensor | None = None
        self._real_labels: Tensor | None = None
        self._centers = None
        self._scale: float | None = None  # arrow_scale, or the view's default once the view is known

    def applies(self, datamodule) -> bool:
        """Whether this data set can be drawn: 2D points."""
        return is_2d(datamodule)

    def prepare(self, real: RealData) -> dict[str, Value]:
        """Fix the view, the real points and the arrow scale for the run; returns ``settings/game_...``."""
        self._real = real.train.samples[: self.num_points]
        self._real_labels = None if real.train.labels is None else real.train.labels[: self.num_points]
        self._box = square_box(real.train.samples, self.margin)
        self._centers = getattr(real.datamodule, "centers", None)
        self._scale = default_arrow_scale(self._box) if self.arrow_scale is None else float(self.arrow_scale)
        return {"settings/game_arrow_scale": self._scale}

    def image(self, pl_module, fake_samples: Tensor, title: str, fake_condition: Tensor | None = None) -> Tensor:
        """The ``game/field`` image ``(3, H, W)`` in [0, 1] for the module's current players.

        ``fake_condition``: a conditional model's conditions of ``fake_samples`` (their arrows use them)."""
        if self._box is None:
            raise RuntimeError("GameView.prepare must run before GameView.image.")
        shown = slice(0, self.num_points)
        field = game_field(pl_module, self._real, fake_samples[shown], box=self._box,
                           grid_size=self.grid_size, num_arrows=self.num_arrows, manifold_lines=self.manifold_lines,
                           points_per_line=self.points_per_line, latent_extent=self.latent_extent,
                           fake_condition=None if fake_condition is None else fake_condition[shown],
                           real_labels=self._real_labels)
        figure = field_figure(field, centers=self._centers, arrow_scale=self._scale, max_arrow=self.max_arrow,
                              title=title, dpi=self.dpi)
        return figure_to_image(figure)
