"""Settings checks of ``GANModule``, made before anything trains: the networks' shapes, the data's, the
optimisers' keywords and rates, the update rule."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from gan_lab.errors import ConfigError
from gan_lab.training.packing import check_pack, packed_shape


def check_learning_rate(optimizer_name: str, lr: float) -> None:
    if not lr > 0:
        raise ConfigError(f"model.{optimizer_name}.lr must be positive, got {lr!r}.")


def build_optimizer(name: str, factory: Callable, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """``factory(parameters)``; a keyword the optimiser does not take fails with one line listing those it does."""
    try:
        optimizer = factory(parameters)
    except TypeError as err:
        target = getattr(factory, "func", factory)
        if "unexpected keyword" not in str(err) or not isinstance(target, type):
            raise
        accepted = [p for p in inspect.signature(target).parameters if p not in ("self", "params")]
        raise ConfigError(f"model.{name}: {target.__name__} {str(err).split('() ', 1)[-1]}; it takes {accepted}. "
                          "Choose the optimiser with optimizer=adam|rmsprop|sgd (configs/optimizer/), which sets "
                          "only its own keys.") from err
    for group in optimizer.param_groups:
        check_learning_rate(name, group["lr"])
    return optimizer


#: How a training step moves the two players (``GANModule(updates=...)``).
UPDATE_RULES = ("alternating", "simultaneous")


def check_module_settings(generator: nn.Module, discriminator: nn.Module, optimizer_g: Callable, optimizer_d: Callable,
                          d_steps_per_g_step: int, ema_decay: float | None, pack: int, updates: str,
                          g_steps: int = 1) -> None:
    """Raise a :class:`ConfigError` for ``GANModule`` settings that cannot work, before anything is built."""
    check_pack(pack)
    seen_by_d = packed_shape(generator.output_shape, pack)
    if seen_by_d != tuple(discriminator.input_shape):
        packs = f" (packs of {pack}: {list(seen_by_d)})" if pack > 1 else ""
        raise ConfigError(f"The generator makes samples of shape {list(generator.output_shape)}{packs} but the "
                          f"discriminator expects {list(discriminator.input_shape)}.")
    if ema_decay is not None and not 0.0 < ema_decay < 1.0:
        raise ConfigError(f"model.ema_decay must be in (0, 1) or null, got {ema_decay!r}.")
    if int(d_steps_per_g_step) < 1:
        raise ConfigError(f"model.d_steps_per_g_step must be >= 1, got {d_steps_per_g_step!r}.")
    if int(g_steps) < 1:
        raise ConfigError(f"model.g_steps must be >= 1, got {g_steps!r}.")
    if updates not in UPDATE_RULES:
        raise ConfigError(f"model.updates must be one of {list(UPDATE_RULES)}, got {updates!r}.")
    if updates == "simultaneous" and (int(d_steps_per_g_step), int(g_steps)) != (1, 1):
        raise ConfigError("model.updates=simultaneous moves both players once per step: it needs "
                          f"model.d_steps_per_g_step=1 and model.g_steps=1, got {d_steps_per_g_step} and {g_steps}.")
    for name, factory in (("optimizer_g", optimizer_g), ("optimizer_d", optimizer_d)):
        lr = getattr(factory, "keywords", {}).get("lr")  # Hydra's _partial_ configs are functools.partials
        if lr is not None:
            check_learning_rate(name, lr)


def check_data_fits(datamodule: Any, sample_shape: tuple[int, ...], pack: int) -> None:
    """Raise a :class:`ConfigError` before training if the data's samples or batches do not fit the networks."""
    data_shape = getattr(datamodule, "shape", None)
    if data_shape is not None and tuple(data_shape) != tuple(sample_shape):
        raise ConfigError(
            f"The data set {getattr(datamodule, 'name', '')!r} has samples of shape {list(data_shape)} but the "
            f"networks work on shape {list(sample_shape)}; make the model's image size and channels match the data."
        )
    batch_size = getattr(datamodule, "batch_size", None)
    if batch_size is not None and batch_size % pack:
        raise ConfigError(f"data.batch_size={batch_size} is not a multiple of model.pack={pack}: D judges packs of "
                          f"{pack} samples; make data.batch_size a multiple of {pack}.")
