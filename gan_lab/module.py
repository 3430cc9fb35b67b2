"""``GANModule``: the training logic of a GAN, independent of its networks and loss.

One training step (Goodfellow et al. 2014, Algorithm 1), with Lightning's
manual optimisation because a GAN has two players with two optimisers:

1. discriminator step: ``loss_d = discriminator_loss(D(x), D(G(z)))`` (+ penalty);
2. every ``d_steps_per_g_step``-th batch, generator step:
   ``loss_g = generator_loss(D(G(z')))`` with fresh noise ``z'``.

The networks, the loss and both optimisers come in as arguments (built by
Hydra from ``configs/``), so a new GAN variant needs no change here.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gan_lab.augment import no_augmentation
from gan_lab.cuda_check import use_fast_cuda_check
from gan_lab.losses import GANLoss

# Lightning's import made every optimiser step slower on machines without a GPU (see gan_lab.cuda_check).
use_fast_cuda_check()

OptimizerFactory = Callable[..., Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]

#: Batches between updates of the progress bar's training values (see ``log_training_values``).
PROGRESS_EVERY = 25


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; training stops before the bad step is applied."""


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Stop gradients to ``module``'s parameters for the duration of the block.

    The generator step backpropagates through D to reach G, but D's own weight
    gradients would be thrown away: freezing skips computing them.
    """
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def check_learning_rate(optimizer_name: str, lr: float) -> None:
    if not lr > 0:
        raise ValueError(f"model.{optimizer_name}.lr must be positive, got {lr!r}.")


def gradient_norm(parameters: Iterator[nn.Parameter]) -> Tensor:
    """The Euclidean norm of all gradients together (0 for parameters without one)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def numpy_state_to_plain(state: tuple) -> tuple:
    """NumPy's RNG state with its key array as a tensor: Lightning loads checkpoints with ``weights_only=True``."""
    name, keys, pos, has_gauss, cached_gaussian = state
    return name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached_gaussian)


def numpy_state_from_plain(state: tuple) -> tuple:
    name, keys, pos, has_gauss, cached_gaussian = state
    return name, keys.numpy().astype(np.uint32), pos, has_gauss, cached_gaussian


class GANModule(pl.LightningModule):
    """A generator and a discriminator trained against each other.

    Args:
        generator: maps ``(N, latent_dim)`` noise to samples; must have
            ``latent_dim`` and ``output_shape`` attributes.
        discriminator: maps samples to logits ``(N,)``; must have ``input_shape``.
        loss: a :class:`gan_lab.losses.GANLoss`.
        optimizer_g, optimizer_d: factories ``params -> Optimizer`` (Hydra
            ``_partial_: true`` configs).
        d_steps_per_g_step: discriminator updates per generator update.
        ema_decay: if set (e.g. 0.999), keep an exponential moving average of
            the generator's weights and sample from it (Yazici et al. 2019,
            "The Unusual Effectiveness of Averaging in GAN Training"), which
            smooths out the oscillation of the game at no training cost.
            ``None`` samples from the trained generator itself.
        augment: a differentiable augmentation applied to real and generated
            batches alike whenever D sees them in training (e.g.
            :class:`gan_lab.augment.DiffAugment`); ``None`` for none.
        lr_scheduler: a factory ``optimizer -> LRScheduler`` (a Hydra
            ``_partial_: true`` config) applied to both optimisers and stepped at
            the end of every training epoch, e.g. ``LinearLR`` down to 0 over the
            run: as the steps shrink, the players' oscillation around the
            equilibrium dies down and samples settle onto the modes (measured
            in experiments/mode_collapse/README.md).  ``None`` keeps the
            learning rates constant.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: GANLoss,
        optimizer_g: OptimizerFactory,
        optimizer_d: OptimizerFactory,
        d_steps_per_g_step: int = 1,
        ema_decay: float | None = None,
        augment: Callable[[Tensor], Tensor] | None = None,
        lr_scheduler: SchedulerFactory | None = None,
    ) -> None:
        super().__init__()
        if tuple(generator.output_shape) != tuple(discriminator.input_shape):
            raise ValueError(
                f"The generator makes samples of shape {list(generator.output_shape)} but the discriminator "
                f"expects {list(discriminator.input_shape)}."
            )
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"model.ema_decay must be in (0, 1) or null, got {ema_decay!r}.")
        if int(d_steps_per_g_step) < 1:
            raise ValueError(f"model.d_steps_per_g_step must be >= 1, got {d_steps_per_g_step!r}.")
        for name, factory in (("optimizer_g", optimizer_g), ("optimizer_d", optimizer_d)):
            lr = getattr(factory, "keywords", {}).get("lr")  # Hydra's _partial_ configs are functools.partials
            if lr is not None:
                check_learning_rate(name, lr)
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.optimizer_g = optimizer_g
        self.optimizer_d = optimizer_d
        self.d_steps_per_g_step = int(d_steps_per_g_step)
        self.augment = augment if augment is not None else no_augmentation
        self.lr_scheduler = lr_scheduler
        self.latent_dim = int(generator.latent_dim)
        self.generator_ema = None
        if ema_decay is not None:
            # torch's AveragedModel keeps the average (and averages batch-norm buffers too).
            self.generator_ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
            self.generator_ema.requires_grad_(False)  # updated by averaging, never by an optimiser
        #: The resolved run config, stored in checkpoints so that ``gan-lab-eval``
        #: can rebuild the model from a checkpoint alone. Set by ``gan_lab.train``.
        self.run_config: dict[str, Any] | None = None
        self.save_hyperparameters(
            ignore=["generator", "discriminator", "loss", "optimizer_g", "optimizer_d", "augment", "lr_scheduler"]
        )

    # ------------------------------------------------------------------ sampling
    @property
    def sampling_generator(self) -> nn.Module:
        """The network samples are drawn from: the weight average if ``ema_decay`` is set, else the generator."""
        return self.generator if self.generator_ema is None else self.generator_ema.module

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Standard normal noise ``(n, latent_dim)`` on the module's device."""
        return torch.randn(n, self.latent_dim, generator=generator).to(self.device)

    @torch.no_grad()
    def generate(self, n: int, seed: int = 0, batch_size: int = 1024) -> Tensor:
        """``n`` samples from noise drawn with ``seed``: the same seed gives the same samples.

        The generator runs in eval mode, so batch-norm layers use their running
        statistics and a sample does not depend on the others in its batch.
        """
        z = self.sample_latent(n, torch.Generator().manual_seed(seed))
        generator = self.sampling_generator
        was_training = generator.training
        generator.eval()
        try:
            return torch.cat([generator(chunk) for chunk in z.split(batch_size)])
        finally:
            generator.train(was_training)

    def forward(self, z: Tensor) -> Tensor:
        return self.sampling_generator(z)

    # ------------------------------------------------------------------ training
    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        data_shape = getattr(datamodule, "shape", None)
        if data_shape is not None and tuple(data_shape) != tuple(self.generator.output_shape):
            raise ValueError(
                f"The data set {getattr(datamodule, 'name', '')!r} has samples of shape {list(data_shape)} but the "
                f"networks work on shape {list(self.generator.output_shape)}; make the model's image size and "
                "channels match the data."
            )

    def configure_optimizers(self) -> list[Optimizer] | tuple[list[Optimizer], list[LRScheduler]]:
        optimizers = [self.optimizer_g(self.generator.parameters()), self.optimizer_d(self.discriminator.parameters())]
        for name, optimizer in zip(("optimizer_g", "optimizer_d"), optimizers):
            for group in optimizer.param_groups:
                check_learning_rate(name, group["lr"])
        if self.lr_scheduler is None:
            return optimizers
        # Returned to Lightning so that it saves and restores their state with the checkpoint (exact resume).
        return optimizers, [self.lr_scheduler(optimizer) for optimizer in optimizers]

    def on_train_epoch_end(self) -> None:
        if self.lr_scheduler is not None:  # manual optimisation: Lightning leaves the stepping to the module
            for scheduler in self.lr_schedulers():  # one per optimiser
                scheduler.step()

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, _ = batch  # (B, *shape)
        opt_g, opt_d = self.optimizers()
        batch_size = len(real)

        # Discriminator step. Its fakes need no graph back to G (no gradient reaches G in this step).
        real = self.augment(real)
        with torch.no_grad():
            fake = self.generator(self.sample_latent(batch_size))
        fake = self.augment(fake)
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        loss_d = self.loss.discriminator_loss(real_logits, fake_logits)
        if self.loss.penalty is not None:
            loss_d = loss_d + self.loss.penalty(self.discriminator, real, fake)
        self._check_finite("loss_d", loss_d)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        values = {
            "train/loss_d": loss_d.detach(),
            "train/d_real": torch.sigmoid(real_logits.detach()).mean(),
            "train/d_fake": torch.sigmoid(fake_logits.detach()).mean(),
        }
        if (batch_idx + 1) % self.d_steps_per_g_step:
            self.log_training_values(values, batch_idx)
            return
        # Generator step, with fresh noise, through a frozen discriminator.
        with frozen(self.discriminator):
            fake = self.augment(self.generator(self.sample_latent(batch_size)))
            loss_g = self.loss.generator_loss(self.discriminator(fake))
            self._check_finite("loss_g", loss_g)
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss_g)
        values["train/grad_norm_g"] = gradient_norm(self.generator.parameters())
        opt_g.step()
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)
        values["train/loss_g"] = loss_g.detach()
        self.log_training_values(values, batch_idx)

    def log_training_values(self, values: dict[str, Tensor], batch_idx: int) -> None:
        """Write this batch's training scalars to the loggers, every ``trainer.log_every_n_steps`` batches.

        They go to the loggers directly rather than through ``self.log``: on a CPU,
        ``self.log`` costs about 2 ms a call (it walks Lightning's result collection
        each time), which for five scalars a step is a third of a small GAN's step.
        Per-step values need none of what it adds (no epoch reduction, no
        cross-process sync: Lightning loggers write on rank zero only).  The progress
        bar and ``trainer.callback_metrics`` still get them through ``self.log``, every
        ``PROGRESS_EVERY`` batches and at the end of each epoch.
        """
        trainer = self.trainer
        step = trainer.fit_loop.epoch_loop._batches_that_stepped  # the step self.log would write at
        if step % trainer.log_every_n_steps == 0 and self.loggers:
            scalars = dict(zip(values, torch.stack(list(values.values())).tolist()))
            for logger in self.loggers:
                logger.log_metrics(scalars, step=step)
        epoch_end = batch_idx + 1 == trainer.num_training_batches
        shown = trainer.progress_bar_callback is not None and batch_idx % PROGRESS_EVERY == 0
        if shown or epoch_end:  # the bar when there is one; callback_metrics (the run's summary) at epoch end
            self.log_dict(values, prog_bar=True, logger=False)

    def _check_finite(self, name: str, value: Tensor) -> None:
        if not torch.isfinite(value):
            raise NonFiniteLossError(
                f"train/{name} became {value.item()} at global step {self.global_step} "
                f"(epoch {self.current_epoch}); stopping before this step is applied. The last checkpoint "
                "written before it is kept. Try a smaller learning rate."
            )

    # ------------------------------------------------------------------ validation
    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, _ = batch
        # Mean D(x) on held-out real data: far below train/d_real means D memorises the training set.
        d_real = torch.sigmoid(self.discriminator(real))
        self.log("val/d_real", d_real.mean(), batch_size=len(real), sync_dist=True)

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.run_config is not None:
            checkpoint["gan_lab_config"] = self.run_config
        # The random state too, so that a resumed run draws the same noise and batch
        # order as an uninterrupted one (Lightning does not store it).
        checkpoint["rng_states"] = {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": numpy_state_to_plain(np.random.get_state()),
            "python": random.getstate(),  # nested tuples of ints: safe for weights_only loading
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.run_config = checkpoint.get("gan_lab_config", self.run_config)
        states = checkpoint.get("rng_states")
        if states is not None:
            torch.set_rng_state(states["torch"])
            if states["cuda"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(states["cuda"])
            np.random.set_state(numpy_state_from_plain(states["numpy"]))
            random.setstate(states["python"])
