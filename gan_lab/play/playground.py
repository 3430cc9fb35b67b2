"""GAN Lab's game, played live on gan_lab's own training code (Kahng et al., IEEE VIS 2018).

GAN Lab lets a learner press play, step one player at a time, change the loss or a learning rate while the
game runs, and watch D's heat map, G's manifold and the gradient arrows move.  :class:`Playground` does the
same on the ``GANModule`` that ``gan-lab-train`` trains, built from the same Hydra config::

    pg = Playground(data="ring8", loss="minimax")
    pg.step(200)                        # 200 GAN steps of Lightning's own fit loop
    pg.step_discriminator()             # D alone, on the next real batch
    pg.set_loss("non_saturating")       # the weights stay; the game changes
    pg.set_learning_rate("generator", 1e-3)
    pg.figure()                         # the current view, a matplotlib Figure
    pg.to_overrides()                   # the gan-lab-train line that trains these settings from scratch
    pg.widget()                         # in Jupyter: play, pause, step, change settings (gan_lab.play.widget)

Training goes through :class:`gan_lab.play.session.TrainingSession`: the real fit loop, paused between steps,
with one GAN step per loader batch (``data.steps_per_loader_batch=1``).  So ``gan-lab-train <pg.to_overrides()>``
with the same seed ends with the same weights, bit for bit, as long as only steps were taken since the
last :meth:`reset` (a one-player step, or a change of loss, rate or optimiser mid-game, is a history the
command line cannot replay: :attr:`replayable` says whether the line reproduces the weights).

Settings that keep the networks (loss, learning rates, optimisers, steps per player) apply at once, as in
GAN Lab; the data, the model and the seed need new networks: :meth:`reset`.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf
from PIL import Image

from gan_lab.cli.compose import compose_config
from gan_lab.data.toy2d import PointSetDataModule
from gan_lab.errors import ConfigError
from gan_lab.viz.field import game_field
from gan_lab.viz.figure import LAYERS, FieldView, add_colour_bar
from gan_lab.metrics.js_grid import gaussian_mixture_cell_probabilities, histogram_on_grid, js_grid, square_box
from gan_lab.metrics.mode_coverage import mode_coverage
from gan_lab.play.session import TrainingSession
from gan_lab.cli.quiet import ignore_library_noise, quiet_console
from gan_lab.training.checks import build_optimizer

#: The two players, as the methods name them (``"g"`` and ``"d"`` are accepted too).
PLAYERS = {"generator": 0, "discriminator": 1, "g": 0, "d": 1}
#: What the playground adds to every config: one GAN step per loader batch, no metrics callback, no files.
PLAYGROUND_OVERRIDES = ("data.steps_per_loader_batch=1", "evaluation=none")
#: The curves of the strip under the view (what GAN Lab plots, plus D's two verdicts).
CURVES = ("loss_d", "loss_g", "d_real", "d_fake", "js_grid", "modes")


@dataclass
class History:
    """What was played: the step counts and the curves' values at each view update."""

    steps: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in CURVES})


class Playground:
    """A GAN on 2D data that a learner steps, changes and watches, trained by gan-lab-train's own code.

    Args:
        data: ``"ring8"``, ``"grid25"`` (any 2D data config), or an ``(N, 2)`` array of points to learn
            (GAN Lab's "draw your own"; such a game has no command line to replay it).
        loss: a ``loss`` config choice (``non_saturating``, ``minimax``, ``least_squares``, ``hinge``, ...).
        model: a ``model`` config choice (``gan``, ``minibatch_gan_2d``, ``pacgan``...), ``None`` for the default.
        overrides: further Hydra overrides, exactly as after ``gan-lab-train``.
        seed: the run's seed.
        num_points: real and generated points drawn in the view (and scored for the curves).
        grid_size: cells a side of D's heat map.
    """

    def __init__(self, data: str | np.ndarray | torch.Tensor = "ring8", loss: str = "non_saturating",
                 model: str | None = None, overrides: Sequence[str] = (), seed: int = 0, num_points: int = 500,
                 grid_size: int = 48) -> None:
        quiet_console()  # no Lightning banners under a learner's cell,
        ignore_library_noise()  # nor warnings about Lightning's own code
        self.num_points, self.grid_size = int(num_points), int(grid_size)
        self._session: TrainingSession | None = None
        self._figure: Figure | None = None
        self._view: FieldView | None = None
        self.reset(data=data, loss=loss, model=model, overrides=overrides, seed=seed)

    # ------------------------------------------------------------------ building a game
    def reset(self, **changes) -> None:
        """New networks and a new game; ``changes`` may set ``data``, ``loss``, ``model``, ``overrides``, ``seed``."""
        unknown = set(changes) - {"data", "loss", "model", "overrides", "seed"}
        if unknown:
            raise TypeError(f"reset() takes data, loss, model, overrides and seed, not {sorted(unknown)}.")
        previous = getattr(self, "_choices", {})
        self._choices = {**previous, **changes}
        self._choices["overrides"] = list(self._choices.get("overrides") or ())
        self._changes: dict[str, str] = {}  # override key -> value, for settings changed since the reset
        self.replayable = True
        self.close()
        points = self._choices["data"]
        self.drawn_points = None if isinstance(points, str) else torch.as_tensor(np.asarray(points), dtype=torch.float32)
        self._folder = tempfile.TemporaryDirectory(prefix="gan_lab_play_")  # the trainer's root; nothing is written
        self._cfg = compose_config(self._base_overrides(), Path(self._folder.name))
        from gan_lab.cli.train import build  # the CLI's own build: seeding, data, model (imported late: it imports Hydra's app)

        datamodule, module = build(self._cfg)
        if self.drawn_points is not None:
            datamodule = PointSetDataModule(self.drawn_points, batch_size=self._cfg.data.batch_size, steps_per_loader_batch=1)
        settings = {**self._cfg.trainer, "max_epochs": -1, "max_steps": -1, "enable_checkpointing": False,
                    "enable_progress_bar": False, "enable_model_summary": False, "limit_val_batches": 0,
                    "num_sanity_val_steps": 0}  # the game runs until closed, writes nothing, validates nothing
        trainer = pl.Trainer(**settings, logger=False, callbacks=[])
        self.module, self.datamodule, self.trainer = module, datamodule, trainer
        self._session = TrainingSession(trainer, module, datamodule)  # fit has set the data up by now
        self.real = datamodule.real_samples(self.num_points, seed=1)[0]
        self.box = square_box(datamodule.train_set.tensors[0])
        self._data_cells = self._cell_probabilities()
        self.history = History()
        self._figure, self._view, self._background = None, None, None  # a new game, a new view
        self._frames: list[Image.Image] = []
        self._record()

    def _base_overrides(self) -> list[str]:
        data = self._choices["data"] if isinstance(self._choices["data"], str) else "ring8"
        words = [f"data={data}", f"loss={self._choices['loss']}"]
        if self._choices.get("model"):
            words.append(f"model={self._choices['model']}")
        return [*words, *PLAYGROUND_OVERRIDES, *self._choices["overrides"], f"seed={self._choices.get('seed', 0)}"]

    def close(self) -> None:
        """End the training loop's worker thread (a new :meth:`reset` starts another)."""
        if self._session is not None:
            self._session.close()
            self._session = None
            self._folder.cleanup()

    # ------------------------------------------------------------------ playing
    @property
    def steps_done(self) -> int:
        """GAN steps trained since the reset (one D update and, as configured, G updates each)."""
        return int(self.module.steps_done)

    def step(self, n: int = 1) -> None:
        """``n`` GAN steps of the fit loop: each one D update, then G's, as ``gan-lab-train`` trains."""
        self._session.train(int(n))

    def step_discriminator(self) -> dict[str, float]:
        """One discriminator update alone, on the next real batch; returns its scalars (``loss_d``, ``d_real``...)."""
        self.replayable = False

        def update(batch):
            real, labels = batch
            values, _ = self.module.discriminator_step(real, self.module.real_condition(labels), self._optimizer(1))
            return values

        return {name.split("/", 1)[-1]: float(value) for name, value in self._session.run(update).items()}

    def step_generator(self) -> dict[str, float]:
        """One generator update alone (a real batch only for losses that compare with it); returns its scalars
        (``loss_g``, ``grad_norm_g``: the norm of G's gradient before the update)."""
        self.replayable = False

        def update(batch):
            real, labels = batch
            seen = self.module.seen_by_discriminator(real)
            return self.module.generator_step(len(real), seen, self.module.real_condition(labels), self._optimizer(0))

        return {name.split("/", 1)[-1]: float(value) for name, value in self._session.run(update).items()}

    def _optimizer(self, index: int):
        return self.module.optimizers()[index]

    # ------------------------------------------------------------------ changing the game mid-play
    def set_loss(self, name: str) -> None:
        """Play on with another loss (``loss=name``); the networks and optimisers stay as they are."""
        cfg = self._compose(f"loss={name}")
        self._same_except(cfg, "loss")
        loss = instantiate(cfg.loss)
        self._session.run(lambda batch: setattr(self.module, "loss", loss))
        self._choices["loss"] = name
        self.replayable = self.replayable and self.steps_done == 0

    def set_learning_rate(self, player: str, lr: float) -> None:
        """Set ``player``'s learning rate (``"generator"`` or ``"discriminator"``) for the next steps."""
        index = self._player(player)
        if not (lr > 0 and math.isfinite(lr)):
            raise ConfigError(f"a learning rate must be a positive number, got {lr!r}.")

        def apply(batch):
            for group in self._optimizer(index).param_groups:
                group["lr"] = float(lr)

        self._session.run(apply)
        self._note(f"model.optimizer_{'gd'[index]}.lr", repr(float(lr)))

    def learning_rate(self, player: str) -> float:
        return float(self._optimizer(self._player(player)).param_groups[0]["lr"])

    def set_optimizer(self, player: str, name: str) -> None:
        """Give ``player`` a fresh optimiser of the ``optimizer`` group's choice ``name``, at its current rate."""
        index = self._player(player)
        key = f"optimizer_{'gd'[index]}"
        node = self._compose(f"optimizer={name}").model[key]
        node = OmegaConf.merge(node, {"lr": self.learning_rate(player)})
        network = self.module.generator if index == 0 else self.module.discriminator
        optimizer = build_optimizer(key, instantiate(node), network.parameters())

        def swap(batch):
            optimizers = list(self.trainer.strategy.optimizers)
            optimizers[index] = optimizer
            self.trainer.strategy.optimizers = optimizers  # re-wraps them for module.optimizers()

        self._session.run(swap)
        flat = ",".join(f"{k}:{v}" for k, v in OmegaConf.to_container(node).items())
        self._note(f"~model.{key}", None)
        self._note(f"+model.{key}", "{" + flat + "}")

    def set_steps(self, d: int | None = None, g: int | None = None) -> None:
        """Discriminator updates per generator move (``d``) and generator updates per move (``g``)."""
        for value, name in ((d, "d"), (g, "g")):
            if value is not None and int(value) < 1:
                raise ConfigError(f"set_steps: {name} must be >= 1, got {value}.")
        if d is not None:
            self.module.d_steps_per_g_step = int(d)
            self._note("model.d_steps_per_g_step", str(int(d)))
        if g is not None:
            self.module.g_steps = int(g)
            self._note("model.g_steps", str(int(g)))

    def _player(self, player: str) -> int:
        if player not in PLAYERS:
            raise ValueError(f"unknown player {player!r}; the players are 'generator' and 'discriminator'.")
        return PLAYERS[player]

    def _note(self, key: str, value: str | None) -> None:
        self._changes.pop(key, None)  # the latest change last: Hydra applies overrides in order
        self._changes[key] = value
        self.replayable = self.replayable and self.steps_done == 0

    def _compose(self, *extra: str) -> DictConfig:
        return compose_config([*self._base_overrides(), *extra], Path(tempfile.gettempdir()))

    def _same_except(self, cfg: DictConfig, changed: str) -> None:
        """Refuse a change that needs other settings than the running game's (a user's loss file that sets model.*): reset."""
        now = OmegaConf.to_container(self._cfg.model, resolve=True)
        then = OmegaConf.to_container(cfg.model, resolve=True)
        differing = sorted(key for key in set(now) | set(then) if key != changed and now.get(key) != then.get(key))
        if differing:
            raise ConfigError(f"this {changed} also changes model.{', model.'.join(differing)}: "
                              f"use reset({changed}=...) to start over with it.")

    # ------------------------------------------------------------------ the command line
    def to_overrides(self) -> list[str]:
        """The ``gan-lab-train`` overrides that train these settings from scratch for as many steps.

        With only :meth:`step` since the reset (:attr:`replayable`), the run ends with this game's weights.
        """
        if self.drawn_points is not None:
            raise ValueError("a game on drawn points has no gan-lab-train config; save the points and write a "
                             "data config for them (README: Add your own GAN variant, data sets).")
        words = [w for w in self._base_overrides() if w != "evaluation=none"]
        words += [k if v is None else f"{k}={v}" for k, v in self._changes.items()]
        return [*words, "trainer.max_epochs=-1", f"trainer.max_steps={self.trainer.global_step}"]

    # ------------------------------------------------------------------ the view
    def field(self):
        """The game now: D on a grid, G's manifold, arrows of G's loss (:func:`gan_lab.viz.game_field`)."""
        fake = self.module.generate(self.num_points, seed=0)
        return game_field(self.module, self.real, fake, box=self.box, grid_size=self.grid_size, num_arrows=60)

    def figure(self, layers: Sequence[str] = LAYERS) -> Figure:
        """The current view (one ``Figure``, updated in place at each call) and the curves under it."""
        field_now = self.field()
        if self._figure is None:
            self._build_figure(field_now, layers)
        else:
            self._view.update(field_now)
        self._record(fake=field_now.fake)
        self._draw_curves()
        self._title()
        return self._figure

    def show_layers(self, **layers: bool) -> None:
        """Show or hide the view's layers (``heat_map``, ``manifold``, ``real``, ``fake``, ``arrows``)."""
        if self._view is None:
            self.figure()
        self._view.show(**layers)
        self._background = None  # the arrows' key is drawn with the background

    def render(self, blit: bool = True) -> bytes:
        """The current view as PNG bytes (what the widget shows), also kept as a frame for :meth:`save_gif`.

        ``blit=False`` draws the whole figure again (what a plain ``savefig`` costs; the benchmark compares).
        """
        figure = self.figure(self._view.visible if self._view is not None else LAYERS)
        if blit:
            self._draw_frame()
        else:
            figure.canvas.draw()
        frame = Image.frombuffer("RGBA", figure.canvas.get_width_height(), figure.canvas.buffer_rgba()).convert("RGB")
        self._frames.append(frame)
        out = io.BytesIO()
        frame.save(out, format="PNG", compress_level=1)
        return out.getvalue()

    def save_gif(self, path: str | Path, frame_ms: int = 150, width: int | None = None, colors: int = 128) -> Path:
        """What was played (every :meth:`render` since the reset) as an animated GIF, ``width`` pixels wide."""
        if not self._frames:
            self.render()
        path = Path(path)
        frames = self._frames
        if width is not None:
            frames = [frame.resize((int(width), round(frame.height * width / frame.width)), Image.Resampling.LANCZOS)
                      for frame in frames]
        frames = [frame.convert("P", palette=Image.Palette.ADAPTIVE, colors=int(colors)) for frame in frames]
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(frame_ms), loop=0)
        return path

    def _build_figure(self, field_now, layers) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        figure = Figure(figsize=(9.6, 4.8), dpi=80, layout="constrained")
        FigureCanvasAgg(figure)
        grid = figure.add_gridspec(3, 2, width_ratios=(1.1, 1))
        view_axes = figure.add_subplot(grid[:, 0])
        self._view = FieldView(view_axes, field_now, centers=getattr(self.datamodule, "centers", None), layers=layers)
        add_colour_bar(figure, self._view, ax=view_axes, location="left", shrink=0.6)
        view_axes.legend(*self._view.legend_handles(), loc="upper left", bbox_to_anchor=(0, -0.08), ncol=4,
                         fontsize=7, frameon=False)
        self._curve_axes = [figure.add_subplot(grid[row, 1]) for row in range(3)]
        pairs = [("loss_d", "loss_g"), ("d_real", "d_fake"), ("js_grid", "modes")]
        titles = ["losses", "mean D(x): real and fake", "JS by grid (left), modes covered (right)"]
        self._lines = {}
        for ax, (first, second), title in zip(self._curve_axes, pairs, titles):
            ax.set_title(title, fontsize=9)
            (self._lines[first],) = ax.plot([], [], label=first.replace("_", " "))
            target = ax.twinx() if second == "modes" else ax
            (self._lines[second],) = target.plot([], [], color="C1", label=second.replace("_", " "))
            if second == "modes":
                self._modes_axes = target
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=7, loc="upper right")
        self._curve_axes[-1].set_xlabel("GAN step", fontsize=8)
        self._curve_axes[1].set_ylim(0, 1)  # D's mean verdicts are probabilities
        self._curve_axes[2].set_ylim(0, math.log(2) * 1.05)  # JS in nats is at most log 2
        centers = getattr(self.datamodule, "centers", None)
        self._modes_axes.set_ylim(0, (len(centers) if centers is not None else 1) + 0.5)
        self._figure, self._background, self._x_max = figure, None, 0

    def _dynamic_artists(self) -> list:
        """What changes from frame to frame: the view's data, the curves and the title."""
        view = self._view
        return [view.heat_map, *view.manifold, view.fake, view.real, view.arrows, *self._lines.values(),
                view.ax.title]

    def _draw_frame(self) -> None:
        """Draw the figure for a frame by blitting: the axes, ticks and labels are drawn once (again only when a
        curve outgrows its axes or a layer is toggled) and kept as a background; each frame restores it and draws
        the artists that move on it (matplotlib's blitting; a full draw is mostly text and costs many times more).
        """
        figure, canvas = self._figure, self._figure.canvas
        dynamic = self._dynamic_artists()
        if self._background is None:
            for artist in dynamic:
                artist.set_animated(True)
            canvas.draw()
            figure.set_layout_engine("none")  # laid out once: later frames keep the positions
            self._background = canvas.copy_from_bbox(figure.bbox)
            for artist in dynamic:  # a plain savefig() of the figure still draws everything
                artist.set_animated(False)
        else:
            canvas.restore_region(self._background)
        for artist in dynamic:
            if artist.get_visible():
                figure.draw_artist(artist)

    def _draw_curves(self) -> None:
        """Curves on limits that only grow (in steps of doubling), so that most frames keep the background."""
        steps = self.history.steps
        for name, line in self._lines.items():
            line.set_data(steps, self.history.values[name])
        x_max = max(64, 2 ** math.ceil(math.log2(max(steps[-1], 1))))
        limits = {ax: ax.get_ylim() for ax in [*self._curve_axes, self._modes_axes]}
        for ax in self._curve_axes:
            ax.set_xlim(0, x_max)
        for ax, names in ((self._curve_axes[0], ("loss_d", "loss_g")),):
            values = [v for name in names for v in self.history.values[name] if math.isfinite(v)]
            if values:
                low, high = ax.get_ylim()
                if min(values) < low or max(values) > high or self._background is None:
                    span = max(values) - min(values) or 1.0
                    ax.set_ylim(min(values) - 0.25 * span, max(values) + 0.25 * span)
        if any(ax.get_ylim() != limits[ax] for ax in limits) or x_max != self._x_max:
            self._background, self._x_max = None, x_max

    def _title(self) -> None:
        loss = self._choices["loss"]
        self._view.ax.set_title(f"step {self.steps_done}, loss={loss}: D(x) heat map, arrows -grad_x of G's loss",
                                fontsize=9)

    def measure(self) -> dict[str, float]:
        """Add the curves' values now to :attr:`history` (as :meth:`figure` does) and return them."""
        self._record()
        return {name: values[-1] for name, values in self.history.values.items()}

    def _record(self, fake: torch.Tensor | None = None) -> None:
        """The curves' values now: the last step's scalars, JS by grid and the modes of the view's fakes."""
        if fake is None:
            fake = self.module.generate(self.num_points, seed=0)
        last = {name.split("/")[1]: float(value) for name, value in self.module.last_values.items()}
        if self.history.steps and self.history.steps[-1] == self.steps_done:
            return
        fake_cells = histogram_on_grid(fake, self.box, 50)
        centers = getattr(self.datamodule, "centers", None)
        modes = math.nan if centers is None else mode_coverage(fake, centers, self.datamodule.std).modes_covered
        values = {**{name: last.get(name, math.nan) for name in ("loss_d", "loss_g", "d_real", "d_fake")},
                  "js_grid": js_grid(self._data_cells, fake_cells), "modes": modes}
        self.history.steps.append(self.steps_done)
        for name in CURVES:
            self.history.values[name].append(float(values[name]))

    def _cell_probabilities(self) -> torch.Tensor:
        centers = getattr(self.datamodule, "centers", None)
        if centers is not None:
            return gaussian_mixture_cell_probabilities(centers, self.datamodule.std, self.box, 50)
        return histogram_on_grid(self.datamodule.train_set.tensors[0], self.box, 50)

    # ------------------------------------------------------------------ slow mode
    def step_in_parts(self) -> Iterator[str]:
        """One GAN step shown in its parts: after each ``yield`` (the part's name) the view shows that part.

        generate (G's fakes), classify (D's heat map), gradients (the arrows of G's loss), update (the step).
        """
        if self._view is None:
            self.figure()
        view = self._view
        shown = dict(view.visible)
        parts = [("generate: G maps its noise to fakes", {"fake": True, "real": True}),
                 ("classify: D's verdict on the plane", {"fake": True, "real": True, "heat_map": True}),
                 ("gradients: where G's loss pushes each fake", {"fake": True, "heat_map": True, "arrows": True})]
        self.figure()
        for title, layers in parts:
            view.show(**{layer: layers.get(layer, False) for layer in LAYERS})
            view.ax.set_title(f"step {self.steps_done + 1}, {title}", fontsize=9)
            yield title
        self.step(1)
        view.show(**shown)
        self.figure()
        view.ax.set_title(f"step {self.steps_done}, update: D, then G, took their step", fontsize=9)
        yield "update"

    def widget(self):
        """The interactive controls in Jupyter (needs ipywidgets): see :func:`gan_lab.play.widget.playground_widget`."""
        from gan_lab.play.widget import playground_widget

        return playground_widget(self)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
