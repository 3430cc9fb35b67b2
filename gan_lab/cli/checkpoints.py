"""Loading gan_lab checkpoints, with clear errors for files that are not one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_lab.cli.compose import RENAMED_SETTINGS
from gan_lab.errors import ConfigError


class CheckpointError(ConfigError):
    """The file is missing, unreadable, or not a gan_lab checkpoint."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint dict at ``path``; raise :class:`CheckpointError` for anything else."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint file at {path}.")
    try:
        # weights_only: our checkpoints hold tensors and plain containers only (the run config is
        # stored as a dict), so nothing in them needs unpickling arbitrary code.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt file can fail anywhere inside the unpickler
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint (corrupt, truncated, or holding objects other than "
            f"tensors and plain containers): {first_line}"
        ) from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint or "gan_lab_config" not in checkpoint:
        raise CheckpointError(
            f"{path} is a PyTorch file but not a gan_lab checkpoint (it has no 'state_dict' and 'gan_lab_config'); "
            "use a checkpoint written by gan-lab-train, e.g. <run dir>/checkpoints/last.ckpt."
        )
    return checkpoint


#: Classes and functions that moved since a checkpoint may have been written: its config names them by the
#: old path, which :func:`run_config` rewrites (the longest matching prefix wins), so old checkpoints still load.
MOVED_TARGETS = {
    "gan_lab.module.": "gan_lab.training.module.",
    "gan_lab.losses.": "gan_lab.training.losses.",
    "gan_lab.augment.": "gan_lab.training.augment.",
    "gan_lab.evaluation.GameView": "gan_lab.viz.game_view.GameView",
    "gan_lab.callbacks.Animation": "gan_lab.viz.animation.Animation",
}


def current_target(target: str) -> str:
    """``target`` as it is named today (see :data:`MOVED_TARGETS`)."""
    for old in sorted(MOVED_TARGETS, key=len, reverse=True):
        if target.startswith(old):
            return MOVED_TARGETS[old] + target[len(old):]
    return target


def with_current_targets(node: Any) -> Any:
    """A copy of a config (dicts and lists) whose ``_target_`` entries name today's paths."""
    if isinstance(node, dict):
        return {key: current_target(value) if key == "_target_" and isinstance(value, str)
                else with_current_targets(value) for key, value in node.items()}
    if isinstance(node, list):
        return [with_current_targets(value) for value in node]
    return node


#: Settings that no longer exist (the evaluation now runs at every validation epoch): dropped from old configs.
REMOVED_SETTINGS = ("evaluation.every_n_epochs",)


def run_config(checkpoint: dict[str, Any]) -> DictConfig:
    """The resolved training config stored in a gan_lab checkpoint, in today's terms: moved ``_target_``s renamed
    (:func:`current_target`), renamed settings under their new names, removed settings dropped."""
    config = with_current_targets(checkpoint["gan_lab_config"])
    for old, new in RENAMED_SETTINGS.items():
        parent, key = _parent(config, old)
        if parent is not None and key in parent:
            new_parent, new_key = _parent(config, new)
            new_parent[new_key] = parent.pop(key)
    for removed in REMOVED_SETTINGS:
        parent, key = _parent(config, removed)
        if parent is not None:
            parent.pop(key, None)
    return OmegaConf.create(config)


def _parent(config: dict[str, Any], dotted: str) -> tuple[dict[str, Any] | None, str]:
    """The dict that holds the dotted key ``a.b.c`` (``config["a"]["b"]``), if there is one, and the last part."""
    *parents, last = dotted.split(".")
    node: Any = config
    for parent in parents:
        node = node.get(parent) if isinstance(node, dict) else None
    return (node if isinstance(node, dict) else None), last


def load_model(path: str | Path):
    """``(model, datamodule, config)`` rebuilt from a gan_lab checkpoint alone."""
    checkpoint = read_checkpoint(path)
    cfg = run_config(checkpoint)
    model = instantiate(cfg.model)
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"The weights in {path} do not fit the networks of its own config: {err}") from err
    model.run_config = OmegaConf.to_container(cfg)
    return model, instantiate(cfg.data), cfg
