"""``GANModule``: a GAN's training step, independent of its networks and loss.

One GAN step (Goodfellow et al. 2014, Algorithm 1), with Lightning's manual optimisation because a GAN has two
players with two optimisers:

1. **D's step**: fakes ``G(z)`` made without a graph; ``loss_d = discriminator_loss(D(x), D(G(z)))``, plus a
   variant's terms and a penalty; D moves.
2. **G's step**, every ``d_steps_per_g_step``-th step (``g_steps`` times): fresh noise ``z'``;
   ``loss_g = generator_loss(D(G(z')))`` plus a variant's terms, or ``generator_loss(D(x), D(G(z')))`` for a loss
   that compares with real data (``loss.generator_needs_real``); only G moves.

With ``updates="simultaneous"`` both losses come from one forward pass instead, each player takes the gradient of its
own loss before either moves, then both move (the ``ali_algorithm`` of ALI's code, which PacGAN's 2D experiments
train with).  Both rules share the same round of judging (:meth:`GANModule.face_off`), the same two objectives and
the same bookkeeping after a player moves.

Every network call goes through three methods a variant may override (docs/extending.md), so that training,
sampling, the evaluation and the game view all see the same game:

* :meth:`~gan_lab.training.sampling.GeneratorSampling.sample_inputs` draws G's inputs: noise ``z`` and a
  *condition* (``None`` unconditional; a class label for a cGAN; a latent code for InfoGAN);
* :meth:`GANModule.judge` runs D on samples under their condition and returns a :class:`Judgement`;
* :meth:`GANModule.discriminator_terms` / :meth:`GANModule.generator_terms` add named loss terms.

Shapes: a loader batch ``(x, y)`` is ``(B, *shape), (B,)``; a data module with ``steps_per_loader_batch = S`` hands over
``(S, B, *shape), (S, B)``, S steps on S batches (``gan_lab.data.base``).  With ``pack = m`` (PacGAN,
:mod:`gan_lab.training.packing`) D judges ``B / m`` packs of m samples.  The two speed devices that the step needs
on a CPU (a fast attribute path, direct logging) are in :mod:`gan_lab.training.speed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import pytorch_lightning as pl
import torch
from pytorch_lightning.core.optimizer import LightningOptimizer
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gan_lab.training.augment import no_augmentation
from gan_lab.training.checks import build_optimizer, check_data_fits, check_module_settings
from gan_lab.training.losses import GANLoss
from gan_lab.training.packing import pack_samples
from gan_lab.training.random_state import restore_rng_states, rng_states
from gan_lab.training.sampling import GeneratorInputs, GeneratorSampling
from gan_lab.training.speed import PlainAttributes, log_step_scalars

OptimizerFactory = Callable[..., Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]

__all__ = ["DiscriminatorContractError", "GANModule", "GeneratorInputs", "Judgement", "NonFiniteLossError", "Round"]


class Judgement(NamedTuple):
    """What D made of a batch: its logits, any auxiliary outputs, and the condition the batch carried."""

    logits: Tensor  # (N,)
    extras: tuple[Tensor, ...]  # what D returned after the logits, e.g. ACGAN's class logits (N, K)
    condition: Tensor | None  # the batch's labels or codes (None: unconditional)


class Round(NamedTuple):
    """One round of judging: a real and a fake batch as D saw them (augmented, packed), and its verdicts."""

    real_seen: Tensor  # (B / m, m * d0, ...)
    fake_seen: Tensor  # (B / m, m * d0, ...)
    real: Judgement
    fake: Judgement


class DiscriminatorContractError(TypeError):
    """A discriminator returned something the losses cannot take."""


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; training stops before the bad step is applied."""


class GANModule(PlainAttributes, GeneratorSampling, pl.LightningModule):
    """A generator and a discriminator trained against each other.

    Args:
        generator: maps noise ``(N, latent_dim)`` (and a condition, for a conditional variant) to samples;
            must have ``latent_dim`` and ``output_shape`` attributes.
        discriminator: maps samples to logits ``(N,)`` (or a tuple starting with them); must have ``input_shape``.
        loss: a :class:`gan_lab.training.losses.GANLoss`.
        optimizer_g, optimizer_d: factories ``params -> Optimizer`` (the ``optimizer`` config group).
        d_steps_per_g_step: discriminator updates per generator update.
        g_steps: generator updates each time the generator moves (GAN Lab's "G steps per round"), 1 as usual.
        ema_decay: if set (e.g. 0.999), keep an exponential moving average of the generator's weights and sample
            from it (Yazici et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"), which smooths
            out the oscillation of the game at no training cost.  ``None`` samples from the generator itself.
        augment: a differentiable augmentation applied to real and generated batches alike whenever D sees them
            in training (e.g. :class:`gan_lab.training.augment.DiffAugment`); ``None`` for none.
        lr_scheduler: a factory ``optimizer -> LRScheduler`` (a Hydra ``_partial_: true`` config) for both
            players, stepped at the end of every training epoch, e.g. ``LinearLR`` down to 0 over the run.
        lr_scheduler_g, lr_scheduler_d: one player's scheduler, in place of ``lr_scheduler`` for it.
        pack: m, the samples D judges together (PacGAN, Lin et al. 2018); D's input shape is the samples'
            with its first axis m times longer.  1: no packing.
        updates: ``"alternating"`` (D's step, then G's) or ``"simultaneous"`` (both from one forward pass);
            simultaneous needs ``d_steps_per_g_step = g_steps = 1``.
    """

    #: Whether D takes the condition as a second argument, ``D(x, c)`` (a cGAN's projection discriminator);
    #: ``False``: ``D(x)``, whatever G was conditioned on (ACGAN and InfoGAN recover it from x instead).
    discriminator_is_conditional = False
    #: Set at every step (see :class:`~gan_lab.training.speed.PlainAttributes`).
    plain_attributes = PlainAttributes.plain_attributes | {"steps_done", "last_values"}

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
        lr_scheduler_g: SchedulerFactory | None = None,
        lr_scheduler_d: SchedulerFactory | None = None,
        g_steps: int = 1,
    ) -> None:
        super().__init__()
        check_module_settings(generator, discriminator, optimizer_g, optimizer_d, d_steps_per_g_step, ema_decay,
                              pack, updates, g_steps)
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.optimizer_g = optimizer_g
        self.optimizer_d = optimizer_d
        self.d_steps_per_g_step, self.g_steps = int(d_steps_per_g_step), int(g_steps)
        self.pack, self.updates = int(pack), updates
        self.augment = augment if augment is not None else no_augmentation
        self.lr_scheduler_g = lr_scheduler_g or lr_scheduler
        self.lr_scheduler_d = lr_scheduler_d or lr_scheduler
        self.latent_dim = int(generator.latent_dim)
        #: GAN steps trained so far (one D update, and a G update every d_steps_per_g_step-th): the step
        #: training scalars and evaluations are logged at. Kept in checkpoints, so a resumed run continues it.
        self.steps_done = 0
        #: The last GAN step's training scalars (detached tensors), for code that steps the module itself.
        self.last_values: dict[str, Tensor] = {}
        self.generator_ema = None
        if ema_decay is not None:
            # torch's AveragedModel keeps the average (and averages batch-norm buffers too).
            self.generator_ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
            self.generator_ema.requires_grad_(False)  # updated by averaging, never by an optimiser
        #: The resolved run config, stored in checkpoints so that ``gan-lab-eval`` can rebuild the model from a
        #: checkpoint alone. Set by ``gan_lab.cli.train``.
        self.run_config: dict[str, Any] | None = None
        self.save_hyperparameters(ignore=["generator", "discriminator", "loss", "optimizer_g", "optimizer_d",
                                          "augment", "lr_scheduler", "lr_scheduler_g", "lr_scheduler_d"])

    # ================================================================== the GAN step
    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, labels = batch  # (B, *shape), (B,); or (S, B, *shape), (S, B): S steps
        if real.ndim == len(self.generator.output_shape) + 1:
            real, labels = real.unsqueeze(0), labels.unsqueeze(0)  # (1, B, *shape), (1, B)
        opt_g, opt_d = self.optimizers()
        epoch_ends = batch_idx + 1 == self.trainer.num_training_batches
        for step, (real_batch, label_batch) in enumerate(zip(real.unbind(0), labels.unbind(0)), 1):
            self.gan_step(real_batch, self.real_condition(label_batch), opt_g, opt_d,
                          last_of_epoch=epoch_ends and step == len(real))

    def gan_step(self, real: Tensor, condition: Tensor | None, opt_g: LightningOptimizer, opt_d: LightningOptimizer,
                 last_of_epoch: bool = False) -> None:
        """One step of the game on a real batch ``(B, *shape)``: D moves, then (on its turns) G; or both at once."""
        if self.updates == "simultaneous":
            values = self.simultaneous_step(real, condition, opt_g, opt_d)
        else:
            values, real_seen = self.discriminator_step(real, condition, opt_d)
            if (self.steps_done + 1) % self.d_steps_per_g_step == 0:
                for _ in range(self.g_steps):
                    values.update(self.generator_step(len(real), real_seen, condition, opt_g))
        log_step_scalars(self, self.steps_done, values, last_of_epoch)
        self.last_values = values
        self.steps_done += 1

    def discriminator_step(self, real: Tensor, condition: Tensor | None,
                           opt_d: LightningOptimizer) -> tuple[dict[str, Tensor], Tensor]:
        """D moves on a real batch and as many fakes; returns the step's scalars and the real batch as D saw it."""
        with torch.no_grad():  # these fakes need no graph back to G: no gradient reaches G in this step
            inputs = self.sample_inputs(len(real))
            fake = self.generate_from(self.generator, inputs)  # (B, *shape)
        judged = self.face_off(real, condition, fake, inputs.condition)
        loss_d, terms = self.discriminator_objective(judged.real, judged.fake, judged.real_seen, judged.fake_seen)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()
        self.discriminator_moved()
        return self.discriminator_values(loss_d, judged, terms), judged.real_seen

    def generator_step(self, batch_size: int, real_seen: Tensor, condition: Tensor | None,
                       opt_g: LightningOptimizer) -> dict[str, Tensor]:
        """G moves on fresh inputs, against a frozen D: only G's parameters get gradients."""
        with frozen(self.discriminator):
            inputs = self.sample_inputs(batch_size)
            fake = self.generate_from(self.generator, inputs)  # (B, *shape), with G's graph
            fake_judged = self.judge(self.seen_by_discriminator(fake), inputs.condition)
            real_judged = None
            if self.loss.generator_needs_real:
                with torch.no_grad():  # no gradient reaches G through D(x)
                    real_judged = self.judge(real_seen, condition)
            loss_g, terms = self.generator_objective(fake_judged, real_judged)
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss_g)
            grad_norm = gradient_norm(self.generator.parameters())
            opt_g.step()
        self.generator_moved()
        return self.generator_values(loss_g, grad_norm, terms)

    def simultaneous_step(self, real: Tensor, condition: Tensor | None, opt_g: LightningOptimizer,
                          opt_d: LightningOptimizer) -> dict[str, Tensor]:
        """Both losses from one round (same real batch, same fakes); each player's gradient of its own loss,
        taken before either moves; then both move."""
        inputs = self.sample_inputs(len(real))
        fake = self.generate_from(self.generator, inputs)  # (B, *shape), with G's graph
        judged = self.face_off(real, condition, fake, inputs.condition)
        loss_d, terms_d = self.discriminator_objective(judged.real, judged.fake, judged.real_seen,
                                                       judged.fake_seen.detach())
        loss_g, terms_g = self.generator_objective(judged.fake, judged.real)
        opt_d.zero_grad(set_to_none=True)
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_d, retain_graph=True, inputs=list(self.discriminator.parameters()))
        self.manual_backward(loss_g, inputs=list(self.generator.parameters()))
        grad_norm = gradient_norm(self.generator.parameters())
        opt_d.step()
        opt_g.step()
        self.discriminator_moved()
        self.generator_moved()
        return {**self.discriminator_values(loss_d, judged, terms_d), **self.generator_values(loss_g, grad_norm, terms_g)}

    # ================================================================== what the steps share
    def seen_by_discriminator(self, samples: Tensor) -> Tensor:
        """What D judges of a batch ``(B, *shape)``: the samples augmented, then in packs ``(B / m, m * d0, ...)``."""
        return pack_samples(self.augment(samples), self.pack)

    def face_off(self, real: Tensor, condition: Tensor | None, fake: Tensor, fake_condition: Tensor | None) -> Round:
        """D judges a real batch under its condition and a fake batch under the one it was made with."""
        real_seen, fake_seen = self.seen_by_discriminator(real), self.seen_by_discriminator(fake)
        return Round(real_seen, fake_seen, self.judge(real_seen, condition), self.judge(fake_seen, fake_condition))

    def discriminator_objective(self, real: Judgement, fake: Judgement, real_seen: Tensor,
                                fake_seen: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss on one real and one fake batch, and its extra terms (detached, for logging)."""
        loss = self.loss.discriminator_loss(real.logits, fake.logits)
        terms = self.discriminator_terms(real, fake)
        if self.loss.penalty is not None:  # e.g. WGAN-GP's gradient penalty, on D's logits under the real condition
            terms = {**terms, "train/penalty": self.loss.penalty(self.logits_under(real.condition), real_seen, fake_seen)}
        for term in terms.values():
            loss = loss + term
        self.check_finite("loss_d", loss)
        return loss, {name: term.detach() for name, term in terms.items()}

    def generator_objective(self, fake: Judgement, real: Judgement | None) -> tuple[Tensor, dict[str, Tensor]]:
        """G's loss on a fake batch (and the real one, for losses that compare), and its extra terms (detached)."""
        if self.loss.generator_needs_real:
            loss = self.loss.generator_loss(real.logits, fake.logits)
        else:
            loss = self.loss.generator_loss(fake.logits)
        terms = self.generator_terms(fake, real)
        for term in terms.values():
            loss = loss + term
        self.check_finite("loss_g", loss)
        return loss, {name: term.detach() for name, term in terms.items()}

    def discriminator_moved(self) -> None:
        """After D's update: the loss's own rule, if any (WGAN's weight clipping)."""
        if self.loss.after_discriminator_step is not None:
            self.loss.after_discriminator_step(self.discriminator)

    def generator_moved(self) -> None:
        """After G's update: the weight average follows it (when ``ema_decay`` is set)."""
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)

    def discriminator_values(self, loss_d: Tensor, judged: Round, terms: dict[str, Tensor]) -> dict[str, Tensor]:
        """D's step's scalars: its loss, its verdicts (D(x) and D(G(z)) as probabilities, or a critic's scores), terms."""
        real_logits, fake_logits = judged.real.logits.detach(), judged.fake.logits.detach()
        if self.loss.critic:  # a Wasserstein critic's output is a score, not a logit: its means and their gap
            critic_real, critic_fake = real_logits.mean(), fake_logits.mean()
            verdicts = {"train/critic_real": critic_real, "train/critic_fake": critic_fake,
                        "train/wasserstein_estimate": critic_real - critic_fake}
        else:
            verdicts = {"train/d_real": torch.sigmoid(real_logits).mean(), "train/d_fake": torch.sigmoid(fake_logits).mean()}
        return {"train/loss_d": loss_d.detach(), **verdicts, **terms}

    @staticmethod
    def generator_values(loss_g: Tensor, grad_norm: Tensor, terms: dict[str, Tensor]) -> dict[str, Tensor]:
        """G's step's scalars: the norm of its gradient, its loss and its extra terms."""
        return {"train/grad_norm_g": grad_norm, "train/loss_g": loss_g.detach(), **terms}

    def logits_under(self, condition: Tensor | None) -> Callable[[Tensor], Tensor]:
        """D as a function ``samples -> logits`` under a fixed condition: what a penalty differentiates."""
        return lambda samples: self.judge(samples, condition).logits

    def check_finite(self, name: str, loss: Tensor) -> None:
        """Stop with :class:`NonFiniteLossError` before a NaN or infinite loss is applied."""
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"train/{name} became {loss.item()} at global step {self.global_step} (GAN step {self.steps_done}, "
                f"epoch {self.current_epoch}); stopping before this step is applied. The last checkpoint written "
                "before it is kept. Try a smaller learning rate."
            )

    # ================================================================== what a variant may override
    def real_condition(self, labels: Tensor) -> Tensor | None:
        """The condition a real batch is judged under, from its labels ``(B,)``: ``None`` (labels unused)."""
        return None

    def judge(self, samples: Tensor, condition: Tensor | None) -> Judgement:
        """D's verdict on ``samples`` as D sees them (augmented, packed), under ``condition``."""
        output = self.discriminator(samples, condition) if self.discriminator_is_conditional else self.discriminator(samples)
        return as_judgement(output, condition, len(samples))

    def discriminator_terms(self, real: Judgement, fake: Judgement) -> dict[str, Tensor]:
        """Named terms added to D's loss, e.g. ``{"train/class_loss_d": ...}`` (ACGAN). None by default."""
        return {}

    def generator_terms(self, fake: Judgement, real: Judgement | None) -> dict[str, Tensor]:
        """Named terms added to G's loss (ACGAN's class loss, InfoGAN's code loss). None by default."""
        return {}

    # ================================================================== Lightning's other hooks
    def setup(self, stage: str) -> None:
        check_data_fits(getattr(self.trainer, "datamodule", None), self.generator.output_shape, self.pack)

    def configure_optimizers(self) -> list[Optimizer] | tuple[list[Optimizer], list[LRScheduler]]:
        optimizers = [build_optimizer("optimizer_g", self.optimizer_g, self.generator.parameters()),
                      build_optimizer("optimizer_d", self.optimizer_d, self.discriminator.parameters())]
        schedulers = [(self.lr_scheduler_g, optimizers[0]), (self.lr_scheduler_d, optimizers[1])]
        if all(factory is None for factory, _ in schedulers):
            return optimizers
        # Returned to Lightning so that it saves and restores their state with the checkpoint (exact resume).
        return optimizers, [factory(optimizer) for factory, optimizer in schedulers if factory is not None]

    def on_train_epoch_end(self) -> None:
        schedulers = self.lr_schedulers()  # manual optimisation: Lightning leaves the stepping to the module
        if schedulers is None:  # constant rates
            return
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:  # one player's, or both
            scheduler.step()

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, labels = batch
        keep = len(real) - len(real) % self.pack  # whole packs (the last batch may be short)
        if keep:  # mean D(x) on held-out real data: far below train/d_real means D memorises the training set
            condition = self.real_condition(labels[:keep])
            judged = self.judge(pack_samples(real[:keep], self.pack), condition)
            self.log("val/d_real", torch.sigmoid(judged.logits).mean(), batch_size=keep, sync_dist=True)

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


def as_judgement(output: Any, condition: Tensor | None, batch_size: int) -> Judgement:
    """D's output as a :class:`Judgement`; anything but logits ``(N,)``, or a tuple starting with them, fails here."""
    if type(output) is Tensor and output.ndim == 1 and len(output) == batch_size:  # the common case, checked first
        return Judgement(output, (), condition)
    if isinstance(output, Tensor):
        logits, extras = output, ()
    elif isinstance(output, (tuple, list)) and output and isinstance(output[0], Tensor):
        logits, extras = output[0], tuple(output[1:])
    else:
        logits, extras = None, ()
    if logits is None or logits.shape != (batch_size,):
        got = tuple(logits.shape) if logits is not None else type(output).__name__
        raise DiscriminatorContractError(
            f"The discriminator must return its logits as a tensor of shape ({batch_size},), one per sample (or "
            f"pack), or a tuple (logits, *auxiliary outputs); it returned {got}. Auxiliary outputs reach a "
            "variant's discriminator_terms/generator_terms through Judgement.extras (docs/extending.md)."
        )
    return Judgement(logits, extras, condition)


def gradient_norm(parameters: Iterable[nn.Parameter]) -> Tensor:
    """The Euclidean norm of all gradients together (0 for parameters without one)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


@contextmanager
def frozen(network: nn.Module) -> Iterator[None]:
    """Inside the block, ``network``'s parameters get no gradient; those that had one get it back after."""
    trainable = [p for p in network.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in trainable:
            p.requires_grad_(True)
