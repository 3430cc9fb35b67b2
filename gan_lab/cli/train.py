"""``gan-lab-train``: train a GAN from the Hydra configs in ``configs/``.

    gan-lab-train                                   # the default: digits, fully connected nets, non-saturating loss
    gan-lab-train data=grid25 loss=minimax
    gan-lab-train -m loss=minimax,non_saturating seed=0,1
    gan-lab-train experiment=mode_collapse_grid25 model=minibatch_gan

Everything is built by ``hydra.utils.instantiate`` from the composed config:
data module, model (networks + loss + optimisers), callbacks, the evaluation
(``configs/evaluation/``), logger, and a ``pytorch_lightning.Trainer`` whose
arguments are the keys of ``trainer``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_only

from gan_lab.callbacks import Evaluation
from gan_lab.cli.checkpoints import CheckpointError, read_checkpoint
from gan_lab.cli.compose import check_overrides
from gan_lab.cli.config_paths import CONFIG_DIR
from gan_lab.cli.resolvers import register_resolvers
from gan_lab.cli.cuda_check import use_fast_cuda_check
from gan_lab.data.vision import DatasetNotFoundError
from gan_lab.errors import ConfigError
from gan_lab.evaluation.evaluators import EvaluatorWeightsError, InceptionWeightsUnavailable
from gan_lab.training.module import NonFiniteLossError
from gan_lab.cli.quiet import ignore_library_noise, quiet_console
from gan_lab.cli.summary import summary_table

T = TypeVar("T")


def evaluation_config(cfg: DictConfig) -> DictConfig | None:
    """The run's ``evaluation`` node, or ``None`` if it is switched off.

    ``evaluation=none`` sets the node to null; an experiment preset's evaluation settings
    (``evaluation.num_samples: 2500``) merged on top of that leave a node without a ``_target_``,
    which is switched off just the same.
    """
    node = cfg.get("evaluation")
    return node if node is not None and node.get("_target_") is not None else None


def build_callbacks(cfg: DictConfig) -> list[pl.Callback]:
    """Instantiate the named callbacks of ``cfg.callbacks`` (skipping those set to null), and the evaluation."""
    callbacks = [instantiate(node) for node in (cfg.get("callbacks") or {}).values() if node is not None]
    evaluation = evaluation_config(cfg)
    if evaluation is not None:
        callbacks.append(instantiate(evaluation))
    return callbacks


def resolve_ckpt_path(ckpt_path: str | None, run_dir: Path) -> str | None:
    """``"last"`` means this run directory's ``checkpoints/last.ckpt``; anything else is a path."""
    if ckpt_path in (None, ""):
        return None
    path = run_dir / "checkpoints" / "last.ckpt" if ckpt_path == "last" else Path(ckpt_path)
    if not path.is_file():
        raise CheckpointError(f"ckpt_path={ckpt_path!r}: no checkpoint file at {path}.")
    read_checkpoint(path)  # a corrupt or foreign file fails here, with a clear message, before training
    return str(path)


#: Trainer arguments that must be whole numbers (or null): Lightning checks some of them only with a bare assert.
WHOLE_NUMBER_TRAINER_KEYS = ("max_epochs", "min_epochs", "max_steps", "min_steps", "check_val_every_n_epoch",
                             "log_every_n_steps", "num_nodes", "accumulate_grad_batches", "num_sanity_val_steps")


def check_trainer_arguments(trainer_cfg: DictConfig) -> None:
    """Raise a :class:`ConfigError` for a trainer argument that is not a whole number where one is needed."""
    for key in WHOLE_NUMBER_TRAINER_KEYS:
        value = trainer_cfg.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"trainer.{key} must be a whole number (or null), got {value!r}.")


def build(cfg: DictConfig) -> tuple[pl.LightningDataModule, pl.LightningModule]:
    """The data module and the GAN of ``cfg``, after seeding: what :func:`train` and the playground fit."""
    register_resolvers()
    use_fast_cuda_check()  # Lightning's NVML check costs every optimiser step on machines without CUDA
    check_trainer_arguments(cfg.trainer)
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model)
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    return datamodule, model


def train(cfg: DictConfig, run_dir: Path) -> dict[str, float | str]:
    """Build everything from ``cfg``, fit, and return the last logged values (the final evaluation's included)."""
    datamodule, model = build(cfg)
    logger = instantiate(cfg.logger) if cfg.get("logger") else False
    callbacks = build_callbacks(cfg)
    trainer = pl.Trainer(**cfg.trainer, callbacks=callbacks, logger=logger)
    trainer.fit(model, datamodule=datamodule, ckpt_path=resolve_ckpt_path(cfg.get("ckpt_path"), run_dir))
    values: dict[str, float | str] = {name: float(value) for name, value in trainer.callback_metrics.items()}
    for callback in callbacks:
        if isinstance(callback, Evaluation):
            values.update(callback.results)
    return values


@rank_zero_only  # one summary, not one per DDP process
def print_summary(run_dir: Path, metrics: dict[str, float | str]) -> None:
    print(f"\nFinished. The last evaluation, beside real data's values with the same settings:\n")
    print(summary_table(metrics))
    print(f"\nRun directory: {run_dir}")
    print(f"TensorBoard logs: {run_dir / 'tensorboard'}")
    print(f"Watch them with:  tensorboard --logdir {run_dir}")


#: Errors that mean "your input is wrong" (or the run diverged): reported as one message, no stack trace.
#: Everything else, a bug in gan_lab or in your own variant, keeps its traceback.
USER_ERRORS = (ConfigError, DatasetNotFoundError, EvaluatorWeightsError, InceptionWeightsUnavailable,
               NonFiniteLossError)


def find_user_error(err: BaseException) -> BaseException | None:
    """``err`` or the user error it wraps (Hydra wraps errors raised while instantiating or interpolating)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, USER_ERRORS):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def user_message(err: BaseException) -> str:
    """The message a user should see for ``err``: the user error inside Hydra's wrappers, if there is one."""
    return str(find_user_error(err) or err)


def is_user_error(err: BaseException) -> bool:
    return find_user_error(err) is not None


def run_reporting_user_errors(program: str, work: Callable[[], T]) -> T:
    """``work()``; a user error (bad input, a NaN loss) ends the program with one line, no stack trace.

    Every other exception, a bug in gan_lab or in your own variant, keeps its traceback.
    """
    try:
        return work()
    except Exception as err:
        if not is_user_error(err):
            raise
        print(f"{program}: error: {user_message(err)}", file=sys.stderr)
        sys.exit(1)


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> Any:
    ignore_library_noise()  # warnings about Lightning's own code, which no user can act on
    quiet_console()  # and its informational lines (accelerators it does not use, advertisements)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    metrics = run_reporting_user_errors("gan-lab-train", lambda: train(cfg, run_dir))
    print_summary(run_dir, metrics)
    return metrics.get("metrics/fid")


def cli() -> Any:
    """The ``gan-lab-train`` command: refuse the overrides Hydra would misread (one line), then :func:`main`."""
    run_reporting_user_errors("gan-lab-train", lambda: check_overrides(a for a in sys.argv[1:] if not a.startswith("-")))
    return main()


if __name__ == "__main__":
    cli()
