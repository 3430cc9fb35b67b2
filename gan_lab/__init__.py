"""gan_lab: train, watch, measure and extend GANs (PyTorch Lightning + Hydra).

What a notebook or a script needs to train as ``gan-lab-train`` does, importable from the top::

    from gan_lab import compose_config, load_model, train
    cfg = compose_config(["data=ring8", "trainer.max_epochs=5"], run_dir="runs/nb")
    train(cfg, "runs/nb")
    model, datamodule, cfg = load_model("runs/nb/checkpoints/last.ckpt")

They live in :mod:`gan_lab.cli` (with ``quiet_libraries`` and ``QUIET_TRAINING``, for quiet notebooks) and are
imported on first use, so that ``import gan_lab`` stays light.  The package's layout: docs/architecture.md.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: The top-level names, and the module each comes from.
_EXPORTS = {
    "compose_config": "gan_lab.cli.compose",
    "train": "gan_lab.cli.train",
    "load_model": "gan_lab.cli.checkpoints",
    "quiet_libraries": "gan_lab.cli.quiet",
    "QUIET_TRAINING": "gan_lab.cli.quiet",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gan_lab' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
