"""``GANModule``: the training logic of a GAN, independent of its networks and loss.

One training step (Goodfellow et al. 2014, Algorithm 1), with Lightning's
manual optimisation because a GAN has two players with two optimisers:

1. discriminator step: ``loss_d = discriminator_loss(D(x), D(G(z)))`` (+ penalty);
2. every ``d_steps_per_g_step``-th step, generator step with fresh noise ``z'``:
   ``loss_g = generator_loss(D(G(z')))``, or ``generator_loss(D(x), D(G(z')))``
   for a loss that compares fakes with real data (``loss.generator_needs_real``).

A loader batch of shape ``(B, *shape)`` is one such step; a data module with
``steps_per_batch = S`` hands over ``(S, B, *shape)``, S steps on S different
batches of B real samples (see ``gan_lab.data.base``).  With ``pack = m``
(PacGAN, :mod:`gan_lab.packing`) D judges packs of m samples: B / m per batch.

The networks, the loss and both optimisers come in as arguments (built by
Hydra from ``configs/``), so a new GAN variant needs no change here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.core.optimizer import LightningOptimizer
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gan_lab.augment import no_augmentation
from gan_lab.losses import GANLoss
from gan_lab.packing import pack_samples
from gan_lab.sampling import GeneratorSampling
from gan_lab.training_utils import (
    NonFiniteLossError,
    check_data_fits,
    check_finite,
    check_learning_rate,
    check_module_settings,
    gradient_norm,
    restore_rng_states,
    rng_states,
)

OptimizerFactory = Callable[..., Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]

#: Steps between updates of the progress bar's training values (see ``log_training_values``).
PROGRESS_EVERY = 25

__all__ = ["GANModule", "NonFiniteLossError"]


class GANModule(GeneratorSampling, pl.LightningModule):
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
            run, so the players' oscillation dies down and samples settle onto the
            modes (experiments/mode_collapse/).  ``None``: constant rates.
        pack: m, the samples D judges together (PacGAN, Lin et al. 2018); D's input
            shape is the samples' with its first axis m times longer.  1: no packing.
        updates: ``"alternating"`` (the steps above) or ``"simultaneous"``: both
            players' gradients from one forward pass on the same batch and noise,
            applied together (the ``ali_algorithm`` of ALI's code, which PacGAN's
            2D experiments train with); needs ``d_steps_per_g_step = 1``.
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
        pack: int = 1,
        updates: str = "alternating",
    ) -> None:
        super().__init__()
        check_module_settings(generator, discriminator, optimizer_g, optimizer_d, d_steps_per_g_step, ema_decay,
                              pack, updates)
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.optimizer_g = optimizer_g
        self.optimizer_d = optimizer_d
        self.d_steps_per_g_step = int(d_steps_per_g_step)
        self.pack, self.updates = int(pack), updates
        self.augment = augment if augment is not None else no_augmentation
        self.lr_scheduler = lr_scheduler
        self.latent_dim = int(generator.latent_dim)
        #: GAN steps trained so far (one D update, and a G update every d_steps_per_g_step-th): the step
        #: training scalars and evaluations are logged at. Kept in checkpoints, so a resumed run continues it.
        self.steps_done = 0
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

    #: Plain attributes set at every step: Lightning's ``_current_fx_name`` around each hook call (about 30 times
    #: a GAN step) and our step counter.  ``nn.Module.__setattr__`` ends in ``object.__setattr__`` for them after
    #: about 2.5 us of checks for parameters, buffers and submodules: ~70 us a step, a quarter of Lightning's
    #: overhead on the grid25 MLP (experiments/benchmarks/README.md).  Tensors and modules take the general path.
    _PLAIN_ATTRIBUTES = frozenset({"_current_fx_name", "steps_done"})

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._PLAIN_ATTRIBUTES and not isinstance(value, (Tensor, nn.Module)):
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    # ------------------------------------------------------------------ training
    def setup(self, stage: str) -> None:
        check_data_fits(getattr(self.trainer, "datamodule", None), self.generator.output_shape, self.pack)

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
        real, _ = batch  # (B, *shape), or (S, B, *shape): S steps
        if real.ndim == len(self.generator.output_shape) + 1:
            real = real.unsqueeze(0)  # (1, B, *shape)
        opt_g, opt_d = self.optimizers()
        epoch_ends = batch_idx + 1 == self.trainer.num_training_batches
        for step, real_batch in enumerate(real, 1):
            self.gan_step(real_batch, opt_g, opt_d, last_of_epoch=epoch_ends and step == len(real))

    def gan_step(self, real: Tensor, opt_g: LightningOptimizer, opt_d: LightningOptimizer, last_of_epoch: bool) -> None:
        """One discriminator update and, every ``d_steps_per_g_step``-th step, one generator update."""
        if self.updates == "simultaneous":
            values = self.simultaneous_step(real, opt_g, opt_d)
        else:
            values, real_seen = self.discriminator_step(real, opt_d)
            if (self.steps_done + 1) % self.d_steps_per_g_step == 0:
                values.update(self.generator_step(len(real), real_seen, opt_g))
        self.log_training_values(values, last_of_epoch)
        self.steps_done += 1

    def seen_by_discriminator(self, samples: Tensor) -> Tensor:
        """What D judges of a batch ``(B, *shape)``: the samples augmented, then in packs ``(B / m, m * d0, ...)``."""
        return pack_samples(self.augment(samples), self.pack)

    def discriminator_step(self, real: Tensor, opt_d: LightningOptimizer) -> tuple[dict[str, Tensor], Tensor]:
        """Update D on a real batch and as many fakes; returns the step's scalars and the real batch as D saw it."""
        with torch.no_grad():  # these fakes need no graph back to G: no gradient reaches G in this step
            fake = self.generator(self.sample_latent(len(real)))
        real, fake = self.seen_by_discriminator(real), self.seen_by_discriminator(fake)
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)  # (B / m,), (B / m,)
        loss_d = self.loss.discriminator_loss(real_logits, fake_logits)
        if self.loss.penalty is not None:
            loss_d = loss_d + self.loss.penalty(self.discriminator, real, fake)
        check_finite("loss_d", loss_d, self.where)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        values = {
            "train/loss_d": loss_d.detach(),
            "train/d_real": torch.sigmoid(real_logits.detach()).mean(),
            "train/d_fake": torch.sigmoid(fake_logits.detach()).mean(),
        }
        return values, real

    def generator_step(self, batch_size: int, real_seen: Tensor, opt_g: LightningOptimizer) -> dict[str, Tensor]:
        """Update G on fresh noise; only G's parameters get gradients (Lightning's optimizer toggle)."""
        with self.toggled_optimizer(opt_g):
            fake_logits = self.discriminator(self.seen_by_discriminator(self.generator(self.sample_latent(batch_size))))
            if self.loss.generator_needs_real:
                with torch.no_grad():  # no gradient reaches G through D(x)
                    real_logits = self.discriminator(real_seen)
                loss_g = self.loss.generator_loss(real_logits, fake_logits)
            else:
                loss_g = self.loss.generator_loss(fake_logits)
            check_finite("loss_g", loss_g, self.where)
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss_g)
            grad_norm = gradient_norm(self.generator.parameters())
            opt_g.step()
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)
        return {"train/grad_norm_g": grad_norm, "train/loss_g": loss_g.detach()}

    def simultaneous_step(self, real: Tensor, opt_g: LightningOptimizer, opt_d: LightningOptimizer) -> dict[str, Tensor]:
        """Both losses from one forward pass (same real batch, same noise); each player's gradient of its own
        loss, taken before either moves; then both updates."""
        real_seen = self.seen_by_discriminator(real)
        fake_seen = self.seen_by_discriminator(self.generator(self.sample_latent(len(real))))
        real_logits, fake_logits = self.discriminator(real_seen), self.discriminator(fake_seen)
        loss_d = self.loss.discriminator_loss(real_logits, fake_logits)
        if self.loss.penalty is not None:
            loss_d = loss_d + self.loss.penalty(self.discriminator, real_seen, fake_seen.detach())
        loss_g = (self.loss.generator_loss(real_logits, fake_logits) if self.loss.generator_needs_real
                  else self.loss.generator_loss(fake_logits))
        check_finite("loss_d", loss_d, self.where)
        check_finite("loss_g", loss_g, self.where)
        opt_d.zero_grad(set_to_none=True)
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_d, retain_graph=True, inputs=list(self.discriminator.parameters()))
        self.manual_backward(loss_g, inputs=list(self.generator.parameters()))
        grad_norm = gradient_norm(self.generator.parameters())
        opt_d.step()
        opt_g.step()
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)
        return {"train/loss_d": loss_d.detach(), "train/d_real": torch.sigmoid(real_logits.detach()).mean(),
                "train/d_fake": torch.sigmoid(fake_logits.detach()).mean(), "train/grad_norm_g": grad_norm,
                "train/loss_g": loss_g.detach()}

    def log_training_values(self, values: dict[str, Tensor], last_of_epoch: bool) -> None:
        """Write this step's training scalars to the loggers, every ``trainer.log_every_n_steps`` steps.

        They go to the loggers directly (``logger.log_metrics``, at ``steps_done``) rather than through
        ``self.log``: on a CPU, ``self.log`` costs about 2 ms a call (it walks Lightning's result
        collection each time), which for five scalars a step is a third of a small GAN's step.
        Per-step values need none of what it adds (no epoch reduction, no cross-process sync:
        Lightning loggers write on rank zero only).  The progress bar and ``trainer.callback_metrics``
        still get them through ``self.log``, every ``PROGRESS_EVERY`` steps and at the end of each epoch.
        """
        trainer = self.trainer
        if self.steps_done % trainer.log_every_n_steps == 0 and self.loggers:
            scalars = dict(zip(values, torch.stack(list(values.values())).tolist()))
            for logger in self.loggers:
                logger.log_metrics(scalars, step=self.steps_done)
        shown = self.steps_done % PROGRESS_EVERY == 0 and trainer.progress_bar_callback is not None
        if shown or last_of_epoch:  # the bar when there is one; callback_metrics (the run's summary) at epoch end
            self.log_dict(values, prog_bar=True, logger=False, batch_size=1)

    def where(self) -> str:
        return f"global step {self.global_step} (GAN step {self.steps_done}, epoch {self.current_epoch})"

    # ------------------------------------------------------------------ validation
    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, _ = batch
        real = real[: len(real) - len(real) % self.pack]  # whole packs (the last batch may be short)
        if len(real):  # mean D(x) on held-out real data: far below train/d_real means D memorises the training set
            d_real = torch.sigmoid(self.discriminator(pack_samples(real, self.pack)))
            self.log("val/d_real", d_real.mean(), batch_size=len(real), sync_dist=True)

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.run_config is not None:
            checkpoint["gan_lab_config"] = self.run_config
        checkpoint["gan_lab_steps_done"] = self.steps_done
        # The random state too, so that a resumed run draws the same noise and batch
        # order as an uninterrupted one (Lightning does not store it).
        checkpoint["rng_states"] = rng_states()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.run_config = checkpoint.get("gan_lab_config", self.run_config)
        self.steps_done = int(checkpoint.get("gan_lab_steps_done", self.steps_done))
        if "rng_states" in checkpoint:
            restore_rng_states(checkpoint["rng_states"])
