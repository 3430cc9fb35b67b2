"""Build the training config from Python exactly as ``gan-lab-train`` does from the command line.

    from gan_lab.compose import compose_config
    from gan_lab.train import train

    cfg = compose_config(["data=grid25", "loss=minimax", "trainer.max_epochs=5"], run_dir="runs/nb")
    metrics = train(cfg, run_dir="runs/nb")

Notebooks, the experiment scripts and the tests use this, so they train the
very configuration a user gets from ``gan-lab-train <overrides>``.
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from gan_lab.config_paths import CONFIG_DIR
from gan_lab.config_resolvers import register_resolvers


def compose_config(overrides: list[str] | tuple[str, ...] = (), run_dir: str | Path = "outputs/python") -> DictConfig:
    """The config ``gan-lab-train *overrides`` would run, with its run directory set to ``run_dir``.

    ``${hydra:runtime.output_dir}`` (where checkpoints and TensorBoard logs go)
    resolves to ``run_dir``, as ``hydra.run.dir=run_dir`` would make it.
    """
    register_resolvers()
    run_dir = Path(run_dir).resolve()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]  # as in the CLI: the app sees its own config; Hydra's lives in HydraConfig
    return cfg
