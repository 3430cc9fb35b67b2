"""``Evaluation``: samples and every metric of the generator, from one configuration (``configs/evaluation/``).

At every validation epoch of training (``trainer.check_val_every_n_epoch``: one cadence for validation, the
metrics and checkpoints), and once more at the end of fit if the last epoch was not evaluated, the callback

1. draws ``num_samples`` generated samples from a fixed latent seed and runs
   the evaluator on them **once** (features and class probabilities);
2. hands those to every metric object (IS, FID, KID, birthday paradox, mode
   coverage, precision/recall, density/coverage, JS by grid, and for conditional
   models class accuracy, intra-FID or code-class agreement: ``gan_lab.evaluation``);
3. logs ``metrics/...`` to the loggers, and real data's own values (``reference/...``
   in the results) as a second TensorBoard run, ``real_data/``, under the same
   ``metrics/...`` tags at every evaluation, so each chart draws both (:class:`RealDataRun`);
   what the numbers depend on under ``settings/...`` (text) with a TensorBoard overview (custom-scalars layout and the
   run's config, :mod:`gan_lab.callbacks.run_overview`; once per run), sample
   images (``samples/grid`` or ``samples/scatter``; ``samples/by_class`` for a conditional model), any metric images
   (``birthday/closest_pairs``) and, for 2D data, GAN Lab's view of the game
   (``game/field``, the optional ``game`` entry: :class:`gan_lab.viz.game_view.GameView`);
4. saves the animated images as frames, and at the end of fit turns them into
   ``<run dir>/game.gif`` or ``samples.gif`` (the optional ``animation`` entry:
   :class:`gan_lab.viz.animation.Animation`).

``gan-lab-eval`` instantiates the same node from a checkpoint's own config and
runs it through ``Trainer.validate`` (this callback evaluates at the end of
that validation epoch), so one checkpoint and one setting give one number
everywhere.  Real-data work (the evaluator's features of real samples, FID's
real statistics, the birthday threshold) is done once per run, in ``setup``,
which is also where bad settings fail: before training starts.

Evaluation reads and changes no global random state: latent noise, real
draws and every metric's random part come from their own seeded generators.
Every rank computes the same numbers from the same gathered samples, so
nothing is synchronised inside a rank-zero-only hook (which would hang DDP);
only writing to the loggers is left to rank zero.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.trainer.states import TrainerFn

from gan_lab.viz.animation import Animation
from gan_lab.callbacks.logging_utils import logging_step, tensorboard_writer
from gan_lab.callbacks.run_overview import write_run_overview
from gan_lab.evaluation.conditional import samples_by_condition
from gan_lab.viz.game_view import GameView
from gan_lab.errors import EvaluationError
from gan_lab.evaluation.metric import EvaluationMetric, RealData, Value
from gan_lab.evaluation.scored import Scored, generate_and_score, score
from gan_lab.evaluation.evaluators import Evaluator, evaluator_for
from gan_lab.viz.plots import figure_to_image, image_grid, scatter_figure


#: Columns of ``samples/by_class`` (``samples/by_code``): fixed latents, each shared down its column.
BY_CONDITION_COLUMNS = 8


def save_before_evaluating(trainer: pl.Trainer) -> None:
    """Write the checkpoint callback's ``last.ckpt`` now, so an error in the evaluation that follows loses nothing.

    The evaluation runs at the end of a validation epoch; the checkpoint callback writes later, once the training
    epoch is over.  Without this, an exception in a metric, the game view or a variant's code would end the run
    with the previous checkpoint only.  In a run that goes on, the callback's own checkpoint replaces this one.
    """
    checkpoint = trainer.checkpoint_callback
    if checkpoint is None or not getattr(checkpoint, "save_last", False) or checkpoint.dirpath is None:
        return
    path = os.path.join(checkpoint.dirpath, f"{checkpoint.CHECKPOINT_NAME_LAST}{checkpoint.FILE_EXTENSION}")
    trainer.save_checkpoint(path, weights_only=False)  # the full state: resumable
    checkpoint.last_model_path = path  # the callback's own last.ckpt: it overwrites it rather than writing last-v1.ckpt


class Evaluation(pl.Callback):
    """Generate, score once, and compute every configured metric; see the module docstring.

    Args:
        metrics: ``{name: metric object}``; a ``None`` entry is skipped (``evaluation.metrics.kid=null``).
        evaluator: ``"auto"`` (the natural one for the data set), ``"mixture"``, ``"classifier"``,
            ``"inception"``, or an :class:`~gan_lab.evaluation.evaluators.Evaluator` object (a config node
            with ``_target_``: a user-supplied instrument).
        evaluator_weights: a weights file for the evaluator: a classifier trained by ``gan-lab-evaluator
            --out FILE`` (needed where no weights ship: MNIST, Fashion-MNIST, CIFAR-10), or a local copy of the
            Inception-v3 weights; ``None``: the shipped (or standard) ones.
        num_samples: generated samples scored per evaluation, and real samples compared with them.
        latent_seed: seed of the latent noise: every evaluation scores the same noise, so epochs compare.
        real_seed: seed of the draw of real training samples.
        metric_seed: seed of the metrics' random parts (IS split shuffle, KID subsets, birthday batches).
        grid_images: generated images in ``samples/grid``; scatter_points: points in ``samples/scatter``.
        game: GAN Lab's view of the game (``game/field``), drawn for 2D data only; ``None``: not drawn.
        animation: saves ``game/field`` or ``samples/grid`` frames and writes the run's GIF; ``None``: no GIF.
    """

    def __init__(
        self,
        metrics: Mapping[str, EvaluationMetric | None] | None = None,
        evaluator: str | Evaluator = "auto",
        evaluator_weights: str | None = None,
        num_samples: int = 5000,
        latent_seed: int = 0,
        real_seed: int = 0,
        metric_seed: int = 0,
        grid_images: int = 64,
        scatter_points: int = 2000,
        game: GameView | None = None,
        animation: Animation | None = None,
    ) -> None:
        if num_samples < 2:
            raise EvaluationError(f"evaluation.num_samples must be at least 2, got {num_samples}.")
        self.metrics = {name: metric for name, metric in (metrics or {}).items() if metric is not None}
        for name, metric in self.metrics.items():
            if not isinstance(metric, EvaluationMetric):
                raise EvaluationError(f"evaluation.metrics.{name} is a {type(metric).__name__}, not an EvaluationMetric "
                                      "(give it a _target_ such as gan_lab.evaluation.FID).")
        for name, value, kind in (("game", game, GameView), ("animation", animation, Animation)):
            if value is not None and not isinstance(value, kind):
                raise EvaluationError(f"evaluation.{name} is a {type(value).__name__}, not a {kind.__name__} "
                                      "(give it a _target_, or set it to null).")
        self.game, self.animation = game, animation
        self.evaluator_choice, self.evaluator_weights = evaluator, evaluator_weights
        self.num_samples = int(num_samples)
        self.latent_seed, self.real_seed, self.metric_seed = int(latent_seed), int(real_seed), int(metric_seed)
        self.grid_images, self.scatter_points = int(grid_images), int(scatter_points)
        #: The last evaluation's values: ``metrics/...``, ``reference/...`` and ``settings/...``.
        self.results: dict[str, Value] = {}
        self.evaluator: Evaluator | None = None
        self._real: RealData | None = None
        self._once: dict[str, Value] = {}  # reference/ and settings/ values, computed once per run
        self._game: GameView | None = None  # the game view, if this data can be drawn
        self._last_step: int | None = None  # logging step of the last evaluation (kept in checkpoints)
        self._once_logged = False
        self._real_data: RealDataRun | None = None  # the TensorBoard run of real data's values (rank zero)

    # ------------------------------------------------------------------ Lightning hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._real is None:
            self.prepare(trainer.datamodule, getattr(pl_module, "condition_kind", None))


    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._last_step != logging_step(trainer):  # every fit ends with an evaluation of the final generator
            save_before_evaluating(trainer)
            self.evaluate(trainer, pl_module)
        if self._real_data is not None:
            self._real_data.close()
        if self.animation is not None and trainer.is_global_zero:
            self.animation.write(trainer.default_root_dir)  # from every frame on disk, a resumed run's too

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Every validation epoch of training, and gan-lab-eval's (``Trainer.validate`` on a checkpoint)."""
        if trainer.sanity_checking:
            return
        if trainer.state.fn == TrainerFn.FITTING:
            save_before_evaluating(trainer)
        self.evaluate(trainer, pl_module)

    def state_dict(self) -> dict[str, Any]:
        return {"last_step": self._last_step, "once_logged": self._once_logged}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._last_step = state_dict.get("last_step")
        self._once_logged = bool(state_dict.get("once_logged", False))

    # ------------------------------------------------------------------ the work
    def prepare(self, datamodule, condition_kind: str | None = None) -> None:
        """Build the evaluator, check every metric's settings, and do the real-data work once.

        ``condition_kind``: what the model conditions on (``GANModule.condition_kind``), for the conditional metrics.
        """
        evaluator = self.evaluator_choice
        if not isinstance(evaluator, Evaluator):
            # Building a network draws its initial weights from the global generator before the shipped ones are
            # loaded: fork it, so that a run evaluated and one not evaluated train on the same random numbers.
            with torch.random.fork_rng(devices=[]):
                evaluator = evaluator_for(datamodule, evaluator, weights_path=self.evaluator_weights)
        shape = getattr(datamodule, "shape", None)
        if evaluator.sample_shape is not None and shape is not None and tuple(evaluator.sample_shape) != tuple(shape):
            raise EvaluationError(f"The {evaluator.name} evaluator scores samples of shape {list(evaluator.sample_shape)}, "
                                  f"but {datamodule.name} has samples of shape {list(shape)}.")
        for metric in self.metrics.values():
            metric.check(evaluator, datamodule, self.num_samples)
        samples, labels = datamodule.real_samples(self.num_samples, seed=self.real_seed)
        held_out, held_out_labels = datamodule.val_set.tensors
        real = RealData(evaluator, datamodule, score(evaluator, samples, labels),
                        score(evaluator, held_out[: self.num_samples], held_out_labels[: self.num_samples]),
                        seed=self.metric_seed, condition_kind=condition_kind)
        once: dict[str, Value] = {**self.settings(evaluator)}
        for metric in self.metrics.values():
            once.update(metric.prepare(real))
        self._game = self.game if self.game is not None and self.game.applies(datamodule) else None
        if self._game is not None:
            once.update(self._game.prepare(real))
        once = {tag: value if isinstance(value, str) else float(value) for tag, value in once.items()}
        self.evaluator, self._real, self._once = evaluator, real, once

    def settings(self, evaluator: Evaluator) -> dict[str, Value]:
        """What every number of this evaluation depends on, besides the metrics' own settings."""
        values: dict[str, Value] = {
            "settings/num_samples": self.num_samples,
            "settings/latent_seed": self.latent_seed,
            "settings/evaluator": describe(evaluator),
            "settings/evaluator_sha256": evaluator.sha256 or "none (exact, no weights)",
        }
        if evaluator.accuracy is not None:
            values["settings/evaluator_accuracy"] = evaluator.accuracy
        return values

    def evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Value]:
        """Score the current generator; log on rank zero; return (and keep in :attr:`results`) every value."""
        if self._real is None:
            self.prepare(trainer.datamodule, getattr(pl_module, "condition_kind", None))
        evaluator = self.evaluator.to(pl_module.device)
        fake = generate_and_score(trainer, pl_module, evaluator, self.num_samples, self.latent_seed)
        values: dict[str, Value] = {}
        for metric in self.metrics.values():
            values.update(metric.compute(fake, self._real))
        values = {tag: value if isinstance(value, str) else float(value) for tag, value in values.items()}
        step = logging_step(trainer)
        if trainer.is_global_zero and trainer.state.fn == TrainerFn.FITTING:
            self._log(trainer, pl_module, values, step, fake)
        self._once_logged = True
        self._last_step = step
        self.results = {**self._once, **values}
        return self.results

    # ------------------------------------------------------------------ logging (rank zero)
    def _log(self, trainer: pl.Trainer, pl_module: pl.LightningModule, values: dict[str, Value], step: int,
             fake: Scored) -> None:
        first = not self._once_logged
        # TensorBoard draws an infinite value as a number: those (a birthday bound with no collision, the KL of
        # a generator that misses every mode) are written as text instead, and their charts show a gap.
        numbers = {tag: float(value) for tag, value in values.items() if not isinstance(value, str) and math.isfinite(value)}
        values = {tag: value if isinstance(value, str) or math.isfinite(value) else f"{value} (not drawn as a number)"
                  for tag, value in values.items()}
        if first:  # settings once per run, as text (a number that never changes is not a chart)
            values.update({tag: format_setting(value) for tag, value in self._once.items() if tag.startswith("settings/")})
        for logger in trainer.loggers:
            logger.log_metrics(numbers, step=step)
        writer = tensorboard_writer(trainer)
        if writer is not None:  # real data's values as a second run, under the generator's tags: two colours a chart
            self._real_data_writer(writer).log(self._once, step)
        if writer is None and self.animation is None:
            return
        images = self._images(trainer, pl_module, fake, step)
        if self.animation is not None:
            self.animation.add_frames(trainer.default_root_dir, images, step)
        if writer is None:
            return
        if first:
            settings = {tag: value for tag, value in self._once.items() if tag.startswith("settings/")}
            write_run_overview(writer, getattr(pl_module, "run_config", None), settings, numbers, step)
            self._real_data_writer(writer).flush()
        for tag, value in values.items():
            if isinstance(value, str):
                writer.add_text(tag, value, step)
        for tag, image in images.items():
            writer.add_image(tag, image, step)

    def _real_data_writer(self, writer) -> RealDataRun:
        if self._real_data is None or self._real_data.parent_dir != writer.log_dir:
            self._real_data = RealDataRun(writer.log_dir)
        return self._real_data

    def _images(self, trainer: pl.Trainer, pl_module: pl.LightningModule, fake: Scored, step: int) -> dict:
        images = {}
        if fake.samples.ndim == 4:  # (N, C, H, W)
            images["samples/grid"] = image_grid(fake.samples[: self.grid_images])
        elif fake.samples.ndim == 2 and fake.samples.shape[1] == 2:  # 2D points
            centers = getattr(trainer.datamodule, "centers", None)
            figure = scatter_figure(fake.samples[: self.scatter_points], centers, title="generated samples")
            images["samples/scatter"] = figure_to_image(figure)
        if fake.condition_kind is not None and fake.samples.ndim == 4:  # one row per class (or code value)
            tag = "samples/by_class" if fake.condition_kind == "class" else "samples/by_code"
            images[tag] = image_grid(samples_by_condition(pl_module, BY_CONDITION_COLUMNS, self.latent_seed),
                                     nrow=BY_CONDITION_COLUMNS)
        if self._game is not None:
            images["game/field"] = self._game.image(pl_module, fake.samples, f"The game at step {step}", fake.condition)
        for metric in self.metrics.values():
            images.update(metric.images(fake))
        return images


def format_setting(value: Value) -> str:
    return value if isinstance(value, str) else f"{value:.6g}"


class RealDataRun:
    """Real data's values as a TensorBoard run of their own, ``<run's log dir>/real_data``.

    Each ``reference/X`` is written as ``metrics/X`` at every evaluation step: TensorBoard then draws the
    generator's curve and real data's line on one chart, in the two runs' colours, and either can be
    switched off in the run selector.  The values are the same ``reference/...`` that ``gan-lab-eval`` and the
    run's summary report (computed with the evaluation's own sample counts: README, "What TensorBoard shows").
    """

    def __init__(self, parent_dir: str) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.parent_dir = parent_dir
        self.writer = SummaryWriter(os.path.join(parent_dir, "real_data"))

    def log(self, once: dict[str, Value], step: int) -> None:
        for tag, value in once.items():
            if tag.startswith("reference/") and not isinstance(value, str) and math.isfinite(value):
                self.writer.add_scalar("metrics/" + tag.split("/", 1)[1], value, step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def describe(evaluator: Evaluator) -> str:
    """One line naming the evaluator and what its numbers rest on."""
    text = f"{evaluator.name}: {evaluator.num_features}-d features, {evaluator.num_classes} classes"
    accuracy = evaluator.accuracy
    text = text if accuracy is None else f"{text}, held-out accuracy {accuracy:.2%}"
    return text if evaluator.sha256 is None else f"{text}, weights sha256 {evaluator.sha256}"
