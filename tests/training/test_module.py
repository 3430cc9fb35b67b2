"""GANModule's training step: several steps per loader batch are the same steps, and settings are checked."""

from __future__ import annotations

import functools

import pytest
import pytorch_lightning as pl
import torch
from helpers.runs import NO_METRICS, bare_trainer, compose_config, tiny_overrides
from hydra.utils import instantiate

from gan_lab.errors import ConfigError
from gan_lab.training.losses import GANLoss, bce_discriminator_loss, non_saturating_generator_loss
from gan_lab.training.module import GANModule
from gan_lab.nets import MLPDiscriminator, MLPGenerator


class Recorder(pl.Callback):
    def __init__(self) -> None:
        self.steps: list[int] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.steps.append(pl_module.steps_done)


def trained(tmp_path, steps_per_loader_batch: int) -> tuple[GANModule, list[int]]:
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "data.dataset_size=512", "data.batch_size=32",
                          "trainer.limit_train_batches=null", "trainer.max_epochs=2", "net.generator.hidden_dims=[16]",
                          f"data.steps_per_loader_batch={steps_per_loader_batch}"], tmp_path)
    pl.seed_everything(0, verbose=False)
    model, datamodule = instantiate(cfg.model), instantiate(cfg.data)
    recorder = Recorder()
    trainer = bare_trainer(max_epochs=2, callbacks=[recorder])
    trainer.fit(model, datamodule=datamodule)
    return model, recorder.steps


def test_the_step_counter_counts_gan_steps(tmp_path):
    """``steps_done`` (the logging step) grows by S per loader batch of S steps."""
    one, one_steps = trained(tmp_path / "one", 1)
    four, four_steps = trained(tmp_path / "four", 4)
    assert one_steps == list(range(1, len(one_steps) + 1)) and one.steps_done == len(one_steps)
    assert four_steps == list(range(4, 4 * len(four_steps) + 1, 4)) and four.steps_done == 4 * len(four_steps)


@pytest.mark.parametrize("steps", [1, 4])
def test_steps_per_loader_batch_change_nothing_but_the_loader(tmp_path, steps):
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, f"data.steps_per_loader_batch={steps}"], tmp_path)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    x, y = next(iter(datamodule.train_dataloader()))
    batch = cfg.data.batch_size
    assert tuple(x.shape) == ((batch, 2) if steps == 1 else (steps, batch, 2))
    assert tuple(y.shape) == ((batch,) if steps == 1 else (steps, batch))


def test_same_weights_after_the_same_steps(tmp_path):
    """4 steps per loader batch give bit-identical weights to 1 step per batch after 12 steps."""
    weights = []
    for steps in (1, 4):
        cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "data.dataset_size=2000", "data.batch_size=32",
                              f"data.steps_per_loader_batch={steps}"], tmp_path / str(steps))
        pl.seed_everything(0, verbose=False)
        model, datamodule = instantiate(cfg.model), instantiate(cfg.data)
        trainer = bare_trainer(max_steps=2 * 12)
        trainer.fit(model, datamodule=datamodule)
        assert model.steps_done == 12
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_bad_settings_raise_config_errors():
    g = MLPGenerator(latent_dim=4, output_shape=[2], hidden_dims=[8])
    d = MLPDiscriminator(input_shape=[2], hidden_dims=[8])
    loss = GANLoss(bce_discriminator_loss, non_saturating_generator_loss)
    adam = functools.partial(torch.optim.Adam, lr=1e-3)
    with pytest.raises(ConfigError, match="lr must be positive"):
        GANModule(g, d, loss, functools.partial(torch.optim.Adam, lr=0.0), adam)
    with pytest.raises(ConfigError, match="d_steps_per_g_step"):
        GANModule(g, d, loss, adam, adam, d_steps_per_g_step=0)
    with pytest.raises(ConfigError, match="ema_decay"):
        GANModule(g, d, loss, adam, adam, ema_decay=1.0)
    with pytest.raises(ConfigError, match="discriminator expects"):
        GANModule(g, MLPDiscriminator(input_shape=[3], hidden_dims=[8]), loss, adam, adam)


def test_plain_attributes_take_the_fast_path_and_stay_plain():
    """GANModule stores Lightning's hook name and its step counter as plain attributes, as nn.Module would."""
    g = MLPGenerator(latent_dim=4, output_shape=[2], hidden_dims=[8])
    d = MLPDiscriminator(input_shape=[2], hidden_dims=[8])
    adam = functools.partial(torch.optim.Adam, lr=1e-3)
    module = GANModule(g, d, GANLoss(bce_discriminator_loss, non_saturating_generator_loss), adam, adam)
    module._current_fx_name = "training_step"
    module.steps_done = 7
    assert module._current_fx_name == "training_step" and module.steps_done == 7
    assert "steps_done" not in module._parameters and "steps_done" not in module._buffers
    assert module.state_dict().keys() == GANModule(g, d, module.loss, adam, adam).state_dict().keys()
