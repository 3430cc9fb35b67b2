"""What many tests share: the real Hydra config shrunk to a few steps, running the CLI, small data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
from omegaconf import DictConfig

import gan_lab.cli.compose

REPO_ROOT = Path(__file__).resolve().parents[2]

#: A few steps of tiny networks: what every end-to-end test trains.
TINY_TRAINER = [
    "data.steps_per_loader_batch=1",  # one step per loader batch: a few steps even on a small data set
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=1",
    "trainer.check_val_every_n_epoch=1",
    "callbacks.progress_bar=null",
]
TINY_NETS = {
    "dcgan": ["net.generator.base_width=8", "net.discriminator.base_width=8", "net.generator.latent_dim=8"],
    "mlp": ["net.generator.hidden_dims=[16]", "net.discriminator.hidden_dims=[16]"],
    "mlp_image": ["net.generator.hidden_dims=[16]", "net.discriminator.hidden_dims=[16]",
                  "net.generator.latent_dim=8"],
}
#: The network each data set trains by default (the ``net`` choice in its configs/data file).
DATA_NETS = {"ring8": "mlp", "grid25": "mlp", "digits": "mlp_image"}  # every other data set: dcgan

#: Switch the evaluation off (tests of training alone).
NO_METRICS = ["evaluation=none"]
#: The evaluation on a small sample after every epoch (tests that need it, kept fast).
SMALL_METRICS = ["evaluation.num_samples=500", "evaluation.metrics.birthday.num_trials=10",
                 "evaluation.metrics.kid.subset_size=200"]


def event_files(run_dir: Path, real_data: bool = False) -> list[Path]:
    """A run's TensorBoard event files: the generator's (default), or those of its ``real_data`` run."""
    return sorted(p for p in Path(run_dir).rglob("events.out.tfevents.*") if ("real_data" in p.parts) == real_data)


def events(run_dir, real_data: bool = False):
    """The run's one TensorBoard event file (or its real-data run's), loaded whole."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (path,) = event_files(run_dir, real_data)
    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def tiny_overrides(data: str) -> list[str]:
    return [f"data={data}", *TINY_TRAINER, *TINY_NETS[DATA_NETS.get(data, "dcgan")]]


def bare_trainer(**settings) -> pl.Trainer:
    """A CPU trainer that only trains: no logger, checkpoints, progress bar, model summary or validation."""
    return pl.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0, **settings)


def compose_config(overrides: list[str], run_dir: Path) -> DictConfig:
    """The config the CLI would build for ``overrides``, with its run directory at ``run_dir``."""
    return gan_lab.cli.compose.compose_config(overrides, run_dir)


def run_cli(
    module: str, args: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` like a user would, from ``cwd``."""
    env = dict(os.environ, PYTHONWARNINGS="ignore", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def integer_grid_points(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """50 real and 40 fake points of a small integer grid in 3D: exact duplicates (one real point has 5 copies,
    so its k-NN radius is 0 for k <= 5) and exactly tied distances, all squared distances integers, so the Gram
    formula is exact and ``<=`` versus ``<`` decides the ties."""
    rng = np.random.default_rng(10 + seed)
    real, fake = rng.integers(0, 3, size=(50, 3)).astype(float), rng.integers(0, 4, size=(40, 3)).astype(float)
    real[:5] = real[5]
    return real, fake
