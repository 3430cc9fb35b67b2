"""``gan-lab-eval``: compute every metric for a checkpoint, print a table, write ``metrics.json``.

    gan-lab-eval ckpt_path=outputs/.../checkpoints/last.ckpt num_samples=10000

The checkpoint carries its training config, so the model and data set are
rebuilt from it alone.  The metrics are the training callbacks' own, run
through one ``Trainer.validate`` pass, so the numbers are those TensorBoard
shows for the same sample count and seed (and it runs under DDP the same way).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from gan_lab.callbacks import FID, BirthdayParadox, InceptionScore, ModeCoverage
from gan_lab.checkpoints import load_model
from gan_lab.config_paths import CONFIG_DIR
from gan_lab.train import is_user_error, user_message


def metric_callbacks(num_samples: int, evaluator: str, seed: int, birthday_batch_size: int) -> list[pl.Callback]:
    shared = dict(num_samples=num_samples, evaluator=evaluator, seed=seed)
    num_trials = max(1, num_samples // birthday_batch_size)
    return [
        InceptionScore(**shared),
        FID(**shared, kid_subset_size=min(1000, num_samples)),
        BirthdayParadox(batch_size=birthday_batch_size, num_trials=num_trials, **shared),
        ModeCoverage(**shared),
    ]


def evaluate(ckpt_path: str, num_samples: int = 5000, evaluator: str = "auto", seed: int = 0,
             birthday_batch_size: int = 50, accelerator: str = "cpu", devices: int = 1) -> dict[str, float]:
    """Every metric of the checkpoint at ``ckpt_path``, as ``{tag: value}``."""
    model, datamodule, _ = load_model(ckpt_path)
    trainer = pl.Trainer(
        accelerator=accelerator, devices=devices, logger=False, enable_progress_bar=False,
        enable_model_summary=False, callbacks=metric_callbacks(num_samples, evaluator, seed, birthday_batch_size),
    )
    trainer.validate(model, datamodule=datamodule, verbose=False)
    return {name: float(value) for name, value in sorted(trainer.callback_metrics.items())}


def format_table(metrics: dict[str, float]) -> str:
    width = max(map(len, metrics), default=10)
    rows = [f"{'metric':<{width}}  value", f"{'-' * width}  {'-' * 12}"]
    rows += [f"{name:<{width}}  {value:.6g}" for name, value in metrics.items()]
    return "\n".join(rows)


@hydra.main(config_path=str(CONFIG_DIR), config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        metrics = evaluate(cfg.ckpt_path, cfg.num_samples, cfg.evaluator, cfg.seed, cfg.birthday_batch_size,
                           cfg.accelerator, cfg.devices)
    except Exception as err:
        if not is_user_error(err):
            raise
        print(f"gan-lab-eval: error: {user_message(err)}", file=sys.stderr)
        sys.exit(1)
    print(format_table(metrics))
    out = run_dir / "metrics.json"
    out.write_text(json.dumps({k: (v if math.isfinite(v) else str(v)) for k, v in metrics.items()}, indent=2))
    print(f"\nWrote {out}")


if __name__ == "__main__":
    main()
