"""The two speed devices of ``GANModule``'s step, kept here so that the step itself reads as the algorithm.

A small GAN's step is short on a CPU, so the framework's bookkeeping around it is a large share of its time.  Two
devices remove the largest parts; the training-overhead benchmark (``experiments/benchmarks/README.md``, "Training
overhead") measures gan_lab's steps against a plain PyTorch loop doing the same work, and is why both stay.

* :class:`PlainAttributes`: ``nn.Module.__setattr__`` checks every assignment against the module's parameters,
  buffers and submodules before storing it.  Lightning sets ``_current_fx_name`` around each hook it calls (many
  times a GAN step), and the step updates its counter and its scalars; those names skip the checks.
* :func:`log_step_scalars`: the step's scalars go to the loggers directly (``logger.log_metrics``) rather than through
  ``LightningModule.log``, which walks Lightning's result collection at every call.  Per-step values need none of
  what it adds (no epoch reduction; no cross-process sync, since Lightning's loggers write on rank zero only).  The
  progress bar and ``trainer.callback_metrics`` (the run's summary) still get them through ``log``, every
  :data:`PROGRESS_EVERY` steps and at the end of each epoch.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

#: GAN steps between updates of the progress bar's training values.
PROGRESS_EVERY = 25


class PlainAttributes:
    """A mixin for an ``nn.Module``: names in :attr:`plain_attributes` are stored without ``nn.Module``'s checks
    (unless the value is a tensor or a module, which must be registered as usual)."""

    plain_attributes: frozenset[str] = frozenset({"_current_fx_name"})

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.plain_attributes and not isinstance(value, (Tensor, nn.Module)):
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


def log_step_scalars(module: pl.LightningModule, step: int, values: dict[str, Tensor], last_of_epoch: bool) -> None:
    """Write one GAN step's scalars (``train/...``) to the loggers every ``trainer.log_every_n_steps`` steps, at ``step``."""
    trainer = module.trainer
    if step % trainer.log_every_n_steps == 0 and module.loggers:
        scalars = dict(zip(values, torch.stack(list(values.values())).tolist()))  # one device-to-host copy
        for logger in module.loggers:
            logger.log_metrics(scalars, step=step)
    shown = step % PROGRESS_EVERY == 0 and trainer.progress_bar_callback is not None
    if shown or last_of_epoch:  # the bar when there is one; callback_metrics (the run's summary) at epoch end
        module.log_dict(values, prog_bar=True, logger=False, batch_size=1)
    if last_of_epoch:  # checkpoint names count GAN steps, as TensorBoard's x axis does (not optimiser steps)
        module.log("step", float(step + 1), logger=False, batch_size=1)
