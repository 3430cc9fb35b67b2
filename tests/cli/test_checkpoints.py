"""Checkpoints written before a class moved or a setting went away still load and evaluate."""

from __future__ import annotations

import torch
from helpers.runs import SMALL_METRICS, compose_config, tiny_overrides

from gan_lab.cli.checkpoints import current_target, load_model
from gan_lab.cli.evaluate import evaluate
from gan_lab.cli.train import train

#: How the config of a checkpoint written before the package was laid out by purpose named its classes.
OLD_TARGETS = {
    "gan_lab.training.GANModule": "gan_lab.module.GANModule",
    "gan_lab.training.losses.GANLoss": "gan_lab.losses.GANLoss",
    "gan_lab.training.losses.bce_discriminator_loss": "gan_lab.losses.bce_discriminator_loss",
    "gan_lab.training.losses.non_saturating_generator_loss": "gan_lab.losses.non_saturating_generator_loss",
    "gan_lab.viz.game_view.GameView": "gan_lab.evaluation.GameView",
    "gan_lab.viz.animation.Animation": "gan_lab.callbacks.Animation",
}


def as_old(node):
    """A config as an old checkpoint stored it: old class paths (the groups and keys are changed by the test)."""
    if isinstance(node, dict):
        return {key: OLD_TARGETS.get(value, value) if key == "_target_" else as_old(value) for key, value in node.items()}
    if isinstance(node, list):
        return [as_old(value) for value in node]
    return node


def test_an_old_checkpoint_loads_and_evaluates_to_the_same_numbers(tmp_path):
    cfg = compose_config([*tiny_overrides("ring8"), *SMALL_METRICS, "data.dataset_size=2000"], tmp_path / "run")
    train(cfg, tmp_path / "run")
    path = tmp_path / "run" / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(path, weights_only=False)
    old = as_old(checkpoint["gan_lab_config"])
    del old["net"], old["paths"]
    old["evaluation"]["every_n_epochs"] = 10
    old["data"]["num_samples"] = old["data"].pop("dataset_size")
    old["data"]["steps_per_batch"] = old["data"].pop("steps_per_loader_batch")
    old["evaluation"]["num_points"] = old["evaluation"].pop("scatter_points")
    assert old["model"]["_target_"] == "gan_lab.module.GANModule"  # the renames above did apply
    checkpoint["gan_lab_config"] = old
    torch.save(checkpoint, tmp_path / "old.ckpt")

    model, _, config = load_model(tmp_path / "old.ckpt")
    assert type(model).__module__ == "gan_lab.training.module" and "every_n_epochs" not in config.evaluation
    assert config.data.dataset_size == 2000 and config.evaluation.scatter_points == 2000
    assert evaluate(str(tmp_path / "old.ckpt")) == evaluate(str(path))
    assert current_target("gan_lab.losses.minimax_generator_loss") == "gan_lab.training.losses.minimax_generator_loss"
