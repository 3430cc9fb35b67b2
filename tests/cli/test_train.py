"""The Hydra training app end to end: tiny nets, a few steps, every data set, multirun, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from helpers.runs import NO_METRICS, TINY_NETS, TINY_TRAINER, compose_config, run_cli, tiny_overrides
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.errors import ConfigError
from gan_lab.cli.train import train, user_message

TRAIN_TAGS = {"train/loss_d", "train/loss_g", "train/d_real", "train/d_fake", "train/grad_norm_g"}


def logged_tags(run_dir: Path, kind: str) -> set[str]:
    """The ``kind`` tags ("scalars", "images") of every TensorBoard event file under ``run_dir``."""
    tags: set[str] = set()
    for events in run_dir.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags |= set(accumulator.Tags()[kind])
    return tags


def scalar_tags(run_dir: Path) -> set[str]:
    return logged_tags(run_dir, "scalars")


def image_tags(run_dir: Path) -> set[str]:
    return logged_tags(run_dir, "images")


@pytest.mark.parametrize("data", ["digits", "stacked_digits", "ring8", "grid25"])
def test_short_run_per_data_set_logs_training_tags(tmp_path, data):
    # Sample images without metrics: the evaluation with an empty metric list.
    cfg = compose_config([*tiny_overrides(data), "data.dataset_size=2000" if data != "digits" else "seed=0",
                          "evaluation.metrics=null"], tmp_path)
    train(cfg, tmp_path)
    assert TRAIN_TAGS <= scalar_tags(tmp_path)
    assert "val/d_real" in scalar_tags(tmp_path)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    expected_image = "samples/scatter" if data in ("ring8", "grid25") else "samples/grid"
    assert expected_image in image_tags(tmp_path)


def test_same_seed_same_losses(tmp_path):
    losses = []
    for run in ("a", "b"):
        cfg = compose_config([*tiny_overrides("digits"), *NO_METRICS, "callbacks.checkpoint=null"], tmp_path / run)
        losses.append(train(cfg, tmp_path / run))
    assert losses[0]["train/loss_d"] == losses[1]["train/loss_d"]
    assert losses[0]["train/loss_g"] == losses[1]["train/loss_g"]


def test_cli_prints_where_the_logs_are(tmp_path):
    result = run_cli("gan_lab.cli.train", [*tiny_overrides("grid25"), *NO_METRICS, f"hydra.run.dir={tmp_path / 'run'}"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"tensorboard --logdir {tmp_path / 'run'}" in result.stdout
    assert TRAIN_TAGS <= scalar_tags(tmp_path / "run")


def test_multirun_over_losses(tmp_path):
    args = ["-m", "loss=minimax,non_saturating", *tiny_overrides("ring8"), *NO_METRICS, f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    result = run_cli("gan_lab.cli.train", args, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = sorted(p for p in (tmp_path / "sweep").iterdir() if p.is_dir() and p.name.isdigit())
    assert len(runs) == 2
    for run in runs:
        assert TRAIN_TAGS <= scalar_tags(run)


def test_unknown_config_choice_lists_valid_names(tmp_path):
    with pytest.raises(Exception, match="Available options in 'loss'"):
        compose_config(["loss=wasserstein_typo"], tmp_path)
    result = run_cli("gan_lab.cli.train", ["data=mnst", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert result.returncode != 0
    assert "Could not find 'data/mnst'" in result.stderr
    for name in ("digits", "grid25", "ring8", "stacked_digits"):
        assert name in result.stderr


#: Digits (the default data) with the tiny DCGAN and with the tiny fully connected networks (its default).
DCGAN_DIGITS = ["net=dcgan", *TINY_NETS["dcgan"]]
MLP_DIGITS = TINY_NETS["mlp_image"]
BAD_INPUTS = [
    ([*MLP_DIGITS, "net.discriminator.input_shape=[3,8,8]"],
     "generator makes samples of shape [1, 8, 8] but the discriminator expects [3, 8, 8]"),
    ([*DCGAN_DIGITS, "net.generator.image_size=28", "net.discriminator.image_size=28"],
     "shape [1, 8, 8] but the networks work on shape [1, 28, 28]"),
    ([*DCGAN_DIGITS, "net.discriminator.channels=3"],
     "generator makes samples of shape [1, 8, 8] but the discriminator expects [3, 8, 8]"),
    ([*MLP_DIGITS, "data.batch_size=0"], "data.batch_size must be positive"),
    ([*MLP_DIGITS, "data.batch_size=100000"], "larger than the training set"),
    ([*MLP_DIGITS, "data.passes_per_epoch=0"], "data.passes_per_epoch must be positive"),
    ([*MLP_DIGITS, "data.passes_per_epoch=1", "data.steps_per_loader_batch=30"],
     "A loader batch holds data.steps_per_loader_batch=30 batches of data.batch_size=64, 1920 samples: more than an epoch "
     "of digits has (1617), so no step would run; choose data.steps_per_loader_batch <= 25."),
    ([*MLP_DIGITS, "model.optimizer_g.lr=0"], "model.optimizer_g.lr must be positive"),
    ([*MLP_DIGITS, "model.optimizer_d.lr=-1e-3"], "model.optimizer_d.lr must be positive"),
    ([*MLP_DIGITS, "net.discriminator.dropout=1.5"], "dropout must be in [0, 1)"),
]


@pytest.mark.parametrize("overrides,message", BAD_INPUTS)
def test_bad_input_fails_before_training_with_a_clear_message(tmp_path, overrides, message):
    cfg = compose_config([*TINY_TRAINER, *NO_METRICS, *overrides], tmp_path)
    with pytest.raises(Exception) as info:
        train(cfg, tmp_path)
    assert message in user_message(info.value)
    assert not list(tmp_path.rglob("*.ckpt"))


def test_cli_reports_bad_input_without_a_stack_trace(tmp_path):
    overrides, message = BAD_INPUTS[0]
    result = run_cli("gan_lab.cli.train", [*TINY_TRAINER, *overrides, f"hydra.run.dir={tmp_path}"], tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_checkpoint_to_resume_from_fails_clearly(tmp_path):
    bad = tmp_path / "last.ckpt"
    bad.write_bytes(b"\x00 truncated download")
    result = run_cli("gan_lab.cli.train", [*tiny_overrides("ring8"), *NO_METRICS, f"ckpt_path={bad}",
                                       f"hydra.run.dir={tmp_path / 'run'}"], tmp_path)
    assert result.returncode == 1
    assert "is not a readable PyTorch checkpoint" in result.stderr and "Traceback" not in result.stderr


def test_swapping_the_network_and_resizing_the_data(tmp_path):
    # net is a top-level group, and every network follows the data's shape (the data module owns it).
    cfg = compose_config([*TINY_TRAINER, *NO_METRICS, "data=digits", "data.image_size=16", "net=dcgan",
                          *TINY_NETS["dcgan"]], tmp_path)
    assert cfg.model.generator.image_size == 16 and cfg.model.discriminator.channels == 1
    train(cfg, tmp_path)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()


def test_the_net_group_owns_the_network_settings_and_the_old_spelling_names_the_new_one():
    cfg = compose_config(["data=digits", "net.discriminator.dropout=0.3", "net.generator.latent_dim=32"], "unused")
    assert cfg.model.discriminator.dropout == 0.3 and cfg.model.generator.latent_dim == 32  # the model refers to net
    for override, fix in [("model.generator.latent_dim=32", "net.generator.latent_dim=32"),
                          ("+model.discriminator.minibatch.num_kernels=8", "+net.discriminator.minibatch.num_kernels=8"),
                          ("evaluation.every_n_epochs=2", "trainer.check_val_every_n_epoch=2"),
                          ("data.num_samples=100", "data.dataset_size=100"), ("data.steps_per_batch=1", "data.steps_per_loader_batch=1")]:
        with pytest.raises(ConfigError, match=f"write {re.escape(fix)}$"):
            compose_config([override], "unused")
    assert compose_config(["net=dcgan", "data.image_size=16"], "unused").model.generator.image_size == 16  # a choice


def test_a_network_setting_trains_from_the_command_line(tmp_path):
    """``gan-lab-train net.discriminator.dropout=0.3 debug=tiny`` (with the evaluation off: the test is about training)."""
    result = run_cli("gan_lab.cli.train", ["net.discriminator.dropout=0.3", "debug=tiny", "evaluation=none",
                                           f"hydra.run.dir={tmp_path}"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    config = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["gan_lab_config"]
    assert config["net"]["discriminator"]["dropout"] == config["model"]["discriminator"]["dropout"] == 0.3


def test_minibatch_presets_carry_their_sizes():
    authors = compose_config(["data=digits", "model=minibatch_gan"], "unused").model.discriminator.minibatch
    small = compose_config(["data=grid25", "model=minibatch_gan_2d"], "unused").model.discriminator.minibatch
    assert (authors.num_kernels, authors.kernel_dim) == (100, 5)
    assert (small.num_kernels, small.kernel_dim) == (10, 5)
    assert compose_config(["data=grid25"], "unused").model.discriminator.minibatch is None


@pytest.mark.parametrize("overrides, message", [
    (["data=grid25", "net=dcgan"], "data=grid25 has samples of shape [2]. Choose a network that fits it: net=mlp or net=pacgan_mlp."),
    (["trainer.max_epochs=abc"], "trainer.max_epochs must be a whole number (or null), got 'abc'."),
    # Hydra's own message would not say where the setting went
    (["model.discriminator.dropout=0.3"], "this setting is now net.discriminator; write net.discriminator.dropout=0.3"),
])
def test_config_mistakes_give_one_clear_line(tmp_path, overrides, message):
    result = run_cli("gan_lab.cli.train", [*overrides, f"hydra.run.dir={tmp_path}"], tmp_path)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_bug_in_a_variant_keeps_its_traceback(tmp_path):
    # Only gan_lab's own ConfigError is shortened: a ValueError from user code is a bug, shown in full.
    bad_loss = "loss.generator_loss={_target_: math.log, _partial_: true}"  # math.log(tensor) raises a TypeError
    result = run_cli("gan_lab.cli.train", [*tiny_overrides("ring8"), *NO_METRICS, "data.dataset_size=1000", bad_loss,
                                       f"hydra.run.dir={tmp_path}"], tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_digits_pick_their_own_gan_settings_and_model_gan_swaps_them(tmp_path):
    # The default run (configs/model/digits_gan.yaml, experiments/default_run/): G 8x faster than D, EMA,
    # batch norm in G. model=gan gives the plain settings back; other data sets never get the digits' ones.
    default = compose_config([], tmp_path).model
    assert (default.optimizer_g.lr, default.optimizer_d.lr, default.ema_decay) == (1.6e-3, 2.0e-4, 0.999)
    assert default.generator.batch_norm is True
    for overrides in (["model=gan"], ["data=grid25"], ["model=minibatch_gan"]):
        model = compose_config(overrides, tmp_path).model
        assert (model.optimizer_g.lr, model.ema_decay) == (2.0e-4, None), overrides
    # The default game is the course's: the non-saturating loss, on every data set; loss=... swaps it, and
    # the best digits recipe found so far (the hinge loss) is a preset.
    def loss_of(overrides):
        return compose_config(overrides, tmp_path).loss.generator_loss._target_.rsplit(".", 1)[1]
    assert loss_of([]) == loss_of(["data=grid25"]) == loss_of(["data=stacked_digits"]) == "non_saturating_generator_loss"
    assert loss_of(["loss=minimax"]) == "minimax_generator_loss"
    assert loss_of(["experiment=digits_best"]) == "hinge_generator_loss"
    best = compose_config(["experiment=digits_best"], tmp_path).model
    assert {k: v for k, v in best.items() if k != "loss"} == {k: v for k, v in default.items() if k != "loss"}


def test_debug_tiny_runs_any_config_in_a_few_steps(tmp_path):
    """`debug=tiny`: five CPU steps and a 500-sample evaluation, whatever the rest of the config says."""
    cfg = compose_config(["model=acgan", "debug=tiny", *TINY_NETS["mlp_image"]], tmp_path)
    assert (cfg.trainer.max_epochs, cfg.trainer.limit_train_batches, cfg.evaluation.num_samples) == (1, 5, 500)
    metrics = train(cfg, tmp_path)
    assert metrics["step"] == 5 and "metrics/class_accuracy" in metrics
    assert compose_config(["debug=tiny", "evaluation=none"], tmp_path).evaluation is None
