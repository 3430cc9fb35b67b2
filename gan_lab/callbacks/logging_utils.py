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
    """The step the training scalars are written at: the GAN steps trained so far (``GANModule.steps_done``).

    The module counts them itself and keeps the count in its checkpoints, so a resumed run logs at
    the same steps as an uninterrupted one.  (``trainer.global_step`` counts optimiser steps, two per
    GAN step.)
    """
    return trainer.lightning_module.steps_done
