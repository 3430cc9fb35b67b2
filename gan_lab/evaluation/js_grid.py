"""GAN Lab's "JS by grid" as an evaluation metric (Kahng et al., IEEE VIS 2018), for 2D data."""

from __future__ import annotations

from gan_lab.evaluation.metric import EvaluationError, EvaluationMetric, RealData
from gan_lab.metrics.js_grid import gaussian_mixture_cell_probabilities, histogram_on_grid, js_grid, square_box


def is_2d(datamodule) -> bool:
    """Whether the data set's samples are 2D points (shape ``(2,)``)."""
    return tuple(getattr(datamodule, "shape", ())) == (2,)


class JSGrid(EvaluationMetric):
    """``metrics/js_grid``: JS divergence (nats, in [0, log 2]) between data and generator on ``bins`` x ``bins`` cells.

    The cells cover a square box around the real training sample (its bounding box widened by
    ``margin`` on each side, fixed once per run so that evaluations compare), plus one cell for
    everything outside it; see :mod:`gan_lab.metrics.js_grid`.

    What the generated histogram is compared with, and the reference:

    * a known Gaussian mixture (the data module has ``centers`` and ``std``: ring8, grid25): the
      data's **exact** cell probabilities (normal CDFs per cell).  ``reference/js_grid`` is the
      estimate for the real training sample (``evaluation.num_samples`` points) against those
      exact probabilities: the value a perfect generator would get with the same number of
      points, which is above 0 only because a histogram of finitely many points is noisy.
      (Comparing with exact probabilities removes the data side's sampling noise from every
      value, so the curve and its floor depend on the generator's sample alone.)
    * any other 2D data: the real training sample's histogram stands for the data, and
      ``reference/js_grid`` compares it with the held-out split's, as FID's reference does.

    Data that is not 2D (images) logs nothing: the grid needs points in the plane.
    """

    def __init__(self, bins: int = 50, margin: float = 0.25) -> None:
        if bins < 1:
            raise EvaluationError(f"js_grid: bins must be >= 1, got {bins}.")
        if not margin >= 0:
            raise EvaluationError(f"js_grid: margin must be >= 0, got {margin}.")
        self.bins, self.margin = int(bins), float(margin)
        self._box = None
        self._data_cells = None  # the data's cell probabilities, once per run

    def prepare(self, real: RealData):
        if not is_2d(real.datamodule):
            self._box = self._data_cells = None
            return {}
        datamodule = real.datamodule
        train_points = real.train.samples
        self._box = square_box(train_points, self.margin)
        train_cells = histogram_on_grid(train_points, self._box, self.bins)
        centers, std = getattr(datamodule, "centers", None), getattr(datamodule, "std", None)
        if centers is not None and std is not None:
            self._data_cells = gaussian_mixture_cell_probabilities(centers, std, self._box, self.bins)
            reference, target = js_grid(train_cells, self._data_cells), "exact Gaussian-mixture cell probabilities"
        else:
            self._data_cells = train_cells
            held_out = histogram_on_grid(real.held_out.samples, self._box, self.bins)
            reference, target = js_grid(train_cells, held_out), "the real training sample's histogram"
        return {"reference/js_grid": reference, "settings/js_grid_bins": self.bins,
                "settings/js_grid_box_side": self._box[1] - self._box[0], "settings/js_grid_data": target}

    def compute(self, fake, real):
        if self._data_cells is None:
            return {}
        return {"metrics/js_grid": js_grid(histogram_on_grid(fake.samples, self._box, self.bins), self._data_cells)}
