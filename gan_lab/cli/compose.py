"""Build the training config from Python exactly as ``gan-lab-train`` does from the command line.

    from gan_lab.cli.compose import compose_config
    from gan_lab.cli.train import train

    cfg = compose_config(["data=grid25", "loss=minimax", "trainer.max_epochs=5"], run_dir="runs/nb")
    metrics = train(cfg, run_dir="runs/nb")

Notebooks, the experiment scripts and the tests use this, so they train the
very configuration a user gets from ``gan-lab-train <overrides>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from gan_lab.cli.config_paths import CONFIG_DIR
from gan_lab.cli.resolvers import register_resolvers
from gan_lab.errors import ConfigError

#: Settings renamed so that one word means one thing (a loader batch is not a GAN step's batch; the data set's
#: size is not the evaluation's sample): old checkpoints' configs are read with the new names too.
RENAMED_SETTINGS = {
    "data.num_samples": "data.dataset_size",
    "data.steps_per_batch": "data.steps_per_loader_batch",
    "evaluation.num_points": "evaluation.scatter_points",
    "evaluation.num_images": "evaluation.grid_images",
}
#: Every setting that moved or was renamed, by its old spelling (a prefix where it ends with "."): an override
#: that uses one fails with the new spelling.
MOVED_SETTINGS = {
    "model.generator.": "net.generator.",
    "model.discriminator.": "net.discriminator.",
    "evaluation.every_n_epochs": "trainer.check_val_every_n_epoch",
    **RENAMED_SETTINGS,
}
_OVERRIDE = re.compile(r"^(?P<prefix>[+~]*)(?P<key>[^=]*)(?P<rest>=.*)?$")


def check_overrides(overrides: Iterable[str]) -> None:
    """Refuse overrides of settings that moved, with the spelling that works (a :class:`ConfigError`).

    The networks are the ``net`` group's (``net.discriminator.dropout=0.3``); the model only refers to them
    (``model.discriminator: ${network:discriminator}``), so Hydra would misread ``model.discriminator.dropout=0.3``.
    The evaluation runs at every validation epoch, so its cadence is ``trainer.check_val_every_n_epoch``.
    """
    for override in overrides:
        match = _OVERRIDE.match(override)
        key = match["key"] if match else ""
        for old, new in MOVED_SETTINGS.items():
            if key == old or (old.endswith(".") and key.startswith(old)):
                fix = f"{match['prefix']}{new}{key[len(old):]}{match['rest'] or ''}"
                raise ConfigError(f"{override}: this setting is now {new.rstrip('.')}; write {fix}")


def compose_config(overrides: list[str] | tuple[str, ...] = (), run_dir: str | Path = "outputs/python") -> DictConfig:
    """The config ``gan-lab-train *overrides`` would run, with its run directory set to ``run_dir``.

    ``${hydra:runtime.output_dir}`` (where checkpoints and TensorBoard logs go)
    resolves to ``run_dir``, as ``hydra.run.dir=run_dir`` would make it.
    """
    overrides = list(overrides)
    check_overrides(overrides)
    register_resolvers()
    run_dir = Path(run_dir).resolve()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]  # as in the CLI: the app sees its own config; Hydra's lives in HydraConfig
    return cfg
