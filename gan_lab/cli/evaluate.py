"""``gan-lab-eval``: the evaluation of one checkpoint: a table on screen and ``metrics.json``.

    gan-lab-eval ckpt_path=outputs/.../checkpoints/last.ckpt
    gan-lab-eval ckpt_path=... evaluation.num_samples=10000 evaluation.metrics.kid=null

The checkpoint carries its training config, so the model, the data set and
the evaluation are rebuilt from it alone: the very ``evaluation`` node (see
``configs/evaluation/``) that training logged with, with the command line's
``evaluation.*`` overrides on top.  It runs through one ``Trainer.validate``
pass (so under DDP the same way), and the same checkpoint and settings give
the numbers TensorBoard shows for that step.  ``metrics.json`` maps every tag
(``metrics/...``, ``reference/...``, ``settings/...``, including
``settings/evaluator_sha256``) to its value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.utilities import rank_zero_only

from gan_lab.cli.checkpoints import load_model
from gan_lab.cli.config_paths import CONFIG_DIR
from gan_lab.cli.resolvers import register_resolvers
from gan_lab.cli.quiet import ignore_library_noise, quiet_console
from gan_lab.cli.train import evaluation_config, run_reporting_user_errors

PREFIX = "evaluation."


def evaluation_node(run_cfg: DictConfig, overrides: Sequence[str] = ()) -> DictConfig:
    """A checkpoint config's ``evaluation`` node with ``evaluation.*`` command-line overrides applied.

    A run trained with ``evaluation=none`` (or by an older gan_lab) has no node:
    the shipped default (``configs/evaluation/default.yaml``) stands in.
    """
    node = evaluation_config(run_cfg)
    if node is None:
        node = OmegaConf.load(CONFIG_DIR / "evaluation" / "default.yaml")
    node = OmegaConf.create(OmegaConf.to_container(node, resolve=True))
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if not key.startswith(PREFIX):
            continue
        key = key[len(PREFIX):]
        with open_dict(node):
            if override.is_delete():
                parent, _, leaf = key.rpartition(".")
                target = OmegaConf.select(node, parent) if parent else node
                if target is not None and leaf in target:
                    del target[leaf]
            else:
                OmegaConf.update(node, key, override.value(), merge=True, force_add=True)
    return node


def evaluate(ckpt_path: str, overrides: Sequence[str] = (), accelerator: str = "cpu",
             devices: int = 1) -> dict[str, float | str]:
    """Every value of the checkpoint's evaluation at ``ckpt_path``, as ``{tag: value}``."""
    register_resolvers()
    model, datamodule, run_cfg = load_model(ckpt_path)
    evaluation = instantiate(evaluation_node(run_cfg, overrides))
    trainer = pl.Trainer(accelerator=accelerator, devices=devices, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[evaluation])
    trainer.validate(model, datamodule=datamodule, verbose=False)
    return dict(sorted(evaluation.results.items()))


def format_table(values: dict[str, float | str]) -> str:
    width = max(map(len, values), default=10)
    rows = [f"{'tag':<{width}}  value", f"{'-' * width}  {'-' * 12}"]
    rows += [f"{name:<{width}}  {value if isinstance(value, str) else format(value, '.6g')}"
             for name, value in values.items()]
    return "\n".join(rows)


def as_json(values: dict[str, float | str]) -> str:
    """JSON has no infinity: an infinite value is written as the string ``"inf"``."""
    return json.dumps({k: v if isinstance(v, str) or math.isfinite(v) else str(v) for k, v in values.items()}, indent=2)


@rank_zero_only  # one table and one file, not one per DDP process
def report(values: dict[str, float | str], run_dir: Path) -> None:
    print(format_table(values))
    out = run_dir / "metrics.json"
    out.write_text(as_json(values))
    print(f"\nWrote {out}")


@hydra.main(config_path=str(CONFIG_DIR), config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    ignore_library_noise()
    quiet_console()
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    overrides = HydraConfig.get().overrides.task
    values = run_reporting_user_errors("gan-lab-eval",
                                       lambda: evaluate(cfg.ckpt_path, overrides, cfg.accelerator, cfg.devices))
    report(values, run_dir)


if __name__ == "__main__":
    main()
