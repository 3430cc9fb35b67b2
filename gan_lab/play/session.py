"""Lightning's own fit loop, paused between steps: how the playground trains with gan-lab-train's code.

Why a paused fit and not a loop of our own: the playground must train exactly what ``gan-lab-train`` trains
(same batches, same noise, same optimiser steps), and then nothing but Lightning's loop can guarantee it.
``trainer.fit`` runs in a worker thread; a callback stops it at the start of every loader batch and serves
requests from the playground until told to let the batch train.  Only one side runs at a time (each request
waits for its answer), so the module is never read and trained at once, and nothing needs a lock.

Requests are functions of the current batch, run on the worker thread between steps (a discriminator step
alone, swapping an optimiser); :meth:`TrainingSession.train` lets one loader batch through.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl


class SessionClosed(RuntimeError):
    """The session's fit loop has ended (closed, or stopped by an error it reported)."""


class _Stop(Exception):
    """Raised inside the fit loop to end it when the session closes."""


class _Pause(pl.Callback):
    """At the start of each loader batch: answer requests until one says "train"."""

    def __init__(self) -> None:
        self.requests: queue.Queue = queue.Queue()
        self.answers: queue.Queue = queue.Queue()
        self.batches_left = 0  # batches to let through before pausing again

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        if self.batches_left > 0:  # within a train(n): no round trip to the caller
            self.batches_left -= 1
            return
        self.answers.put(("ready", None))
        while True:
            kind, work = self.requests.get()
            if kind == "train":
                self.batches_left = work - 1
                return
            if kind == "stop":
                raise _Stop
            try:
                self.answers.put(("done", work(batch)))
            except Exception as error:  # noqa: BLE001 - handed to the caller, who re-raises it
                self.answers.put(("error", error))


class TrainingSession:
    """``trainer.fit(module, datamodule)`` in a worker thread, one loader batch at a time.

    The trainer must train forever (``max_epochs=-1``) or long enough; validation, logging and
    checkpoints are up to it.  :meth:`close` ends the fit (also when the object is collected).
    """

    def __init__(self, trainer: pl.Trainer, module: pl.LightningModule, datamodule: pl.LightningDataModule) -> None:
        self._pause = _Pause()
        trainer.callbacks.append(self._pause)
        self.trainer, self.module = trainer, module
        self._thread = threading.Thread(target=self._fit, args=(datamodule,), name="gan_lab-playground", daemon=True)
        self._closed = False
        self._thread.start()
        self._wait("ready")

    def _fit(self, datamodule) -> None:
        try:
            self.trainer.fit(self.module, datamodule=datamodule)
            self._pause.answers.put(("ended", None))
        except _Stop:
            self._pause.answers.put(("ended", None))
        except BaseException as error:  # noqa: BLE001 - a failure in training reaches the caller
            self._pause.answers.put(("error", error))

    def _wait(self, expected: str) -> Any:
        kind, value = self._pause.answers.get()
        if kind == "error":
            self._closed = True
            raise value
        if kind == "ended":
            self._closed = True
            raise SessionClosed("the training loop has ended (trainer.max_epochs or max_steps reached).")
        assert kind == expected, (kind, expected)
        return value

    def train(self, batches: int = 1) -> None:
        """Let ``batches`` loader batches train (``GANModule.training_step``), and wait until they have."""
        self._check_open()
        if batches < 1:
            return
        self._pause.requests.put(("train", int(batches)))
        self._wait("ready")

    def run(self, work: Callable[[Any], Any]) -> Any:
        """``work(batch)`` on the worker thread between steps (``batch``: the next loader batch); its result."""
        self._check_open()
        self._pause.requests.put(("call", work))
        return self._wait("done")

    def close(self) -> None:
        """End the fit loop and the worker thread."""
        if not self._closed and self._thread.is_alive():
            self._pause.requests.put(("stop", None))
            self._thread.join(timeout=30)
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise SessionClosed("this playground session is closed; reset() starts a new one.")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
