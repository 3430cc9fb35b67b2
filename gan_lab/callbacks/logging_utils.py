"""Small helpers the callbacks share: where to write images, and at which step."""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.loggers import TensorBoardLogger


def tensorboard_writer(trainer: pl.Trainer):
    """The ``SummaryWriter`` of the first TensorBoard logger, or ``None`` if there is none."""
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None


def logging_step(trainer: pl.Trainer) -> int:
    """The step scalars logged with ``self.log`` are written at: the number of training batches so far.

    (``trainer.global_step`` counts optimiser steps, two per batch in a GAN.)
    """
    return trainer.fit_loop.epoch_loop._batches_that_stepped
