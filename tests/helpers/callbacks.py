"""Test-only callbacks, instantiated in real CLI runs to simulate accidents."""

from __future__ import annotations

import os
import signal

import pytorch_lightning as pl


class KillAfterEpoch(pl.Callback):
    """SIGKILL this process once epoch ``epoch`` is over and its checkpoint is written: a crash, not a clean stop."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch + 1:
            os.kill(os.getpid(), signal.SIGKILL)


class PoisonWeightsAt(pl.Callback):
    """Set the generator's weights to NaN before batch ``batch`` of epoch ``epoch``: the next loss is NaN."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            for p in pl_module.generator.parameters():
                p.data.fill_(float("nan"))
