"""The playground, driven as a learner drives it: steps, changes mid-game, the command line, the widget."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch
from helpers.runs import compose_config

from gan_lab.cli.checkpoints import load_model
from gan_lab.errors import ConfigError
from gan_lab.play import Playground
from gan_lab.cli.train import train

#: Small networks: the tests are about the game's mechanics, not its quality.
SMALL = ["net.generator.hidden_dims=[16]", "net.discriminator.hidden_dims=[16]"]


@pytest.fixture
def pg():
    playground = Playground(data="ring8", overrides=SMALL, num_points=200, grid_size=16)
    yield playground
    playground.close()


def weights(network: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in network.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_each_player_steps_alone(pg):
    g, d = weights(pg.module.generator), weights(pg.module.discriminator)
    pg.step_discriminator()
    assert same(weights(pg.module.generator), g) and not same(weights(pg.module.discriminator), d)
    d = weights(pg.module.discriminator)
    pg.step_generator()
    assert not same(weights(pg.module.generator), g) and same(weights(pg.module.discriminator), d)
    assert pg.steps_done == 0 and not pg.replayable  # one-player steps are not GAN steps the CLI can replay
    pg.step(3)
    assert pg.steps_done == 3 and pg.trainer.global_step == 6  # each GAN step: one D and one G update


def test_settings_change_mid_game_and_keep_the_weights(pg):
    pg.step(5)
    g, d = weights(pg.module.generator), weights(pg.module.discriminator)
    pg.set_loss("minimax")
    pg.set_learning_rate("discriminator", 1e-3)
    pg.set_optimizer("generator", "sgd")
    pg.set_steps(d=2, g=1)
    assert same(weights(pg.module.generator), g) and same(weights(pg.module.discriminator), d)
    assert pg.module.loss.generator_loss.func.__name__ == "minimax_generator_loss"
    assert pg.learning_rate("discriminator") == 1e-3
    assert isinstance(pg.module.optimizers()[0].optimizer, torch.optim.SGD)
    pg.step(4)  # D twice per G move: 4 D updates, 2 G updates
    assert pg.trainer.global_step == 10 + 6
    pg.set_loss("wgan_clip")  # a loss preset sets the loss alone (experiment=wgan_clip adds the paper's schedule)
    assert pg.module.loss.after_discriminator_step.func.__name__ == "clip_weights"
    pg.step(2)
    with pytest.raises(ConfigError, match="reset"):  # a change that needs other settings than the game's: a new game
        pg._same_except(pg._compose("model.ema_decay=0.5"), "loss")
    with pytest.raises(ValueError, match="the players are"):
        pg.set_learning_rate("critic", 1e-3)


def test_the_command_line_replays_the_game_bit_for_bit(pg, tmp_path):
    pg.set_learning_rate("discriminator", 5e-4)  # settings chosen before the first step are replayable
    pg.set_learning_rate("generator", 5e-4)
    pg.set_optimizer("generator", "sgd")
    pg.set_learning_rate("generator", 2e-3)  # after the swap: the new optimiser's rate, last in the overrides
    pg.step(40)
    assert pg.replayable
    overrides = pg.to_overrides()
    assert "trainer.max_steps=80" in overrides and "data.steps_per_loader_batch=1" in overrides
    assert overrides.index("model.optimizer_g.lr=0.002") > overrides.index("~model.optimizer_g")
    run_dir = tmp_path / "cli"
    train(compose_config([*overrides, "evaluation=none", "callbacks.progress_bar=null"], run_dir), run_dir)
    replayed, _, _ = load_model(run_dir / "checkpoints" / "last.ckpt")
    assert same(weights(replayed.generator), weights(pg.module.generator))
    assert same(weights(replayed.discriminator), weights(pg.module.discriminator))


def test_the_view_updates_in_place_and_plays_back(pg, tmp_path):
    figure = pg.figure()
    artists = (pg._view.heat_map, pg._view.fake)
    first = pg.render()
    pg.step(20)
    assert pg.figure() is figure and (pg._view.heat_map, pg._view.fake) == artists
    assert pg.render() != first and pg.history.steps[-1] == 20
    pg.show_layers(arrows=False)
    assert not pg._view.arrows.get_visible()
    parts = list(pg.step_in_parts())
    assert parts[-1] == "update" and len(parts) == 4 and pg.steps_done == 21
    assert pg.save_gif(tmp_path / "game.gif").stat().st_size > 0


def test_a_drawn_point_set_is_a_game_without_a_command_line():
    angle = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    points = np.stack([np.cos(angle), np.sin(angle)], axis=1) * (1 + 0.3 * (angle > np.pi))[:, None]
    pg = Playground(data=points, overrides=SMALL, num_points=100, grid_size=16)
    try:
        pg.step(5)
        pg.figure()
        assert np.isnan(pg.history.values["modes"][-1]) and 0 <= pg.history.values["js_grid"][-1] <= np.log(2) + 1e-12
        with pytest.raises(ValueError, match="no gan-lab-train config"):
            pg.to_overrides()
    finally:
        pg.close()


def test_the_widget_controls_call_what_they_say(pg):
    pytest.importorskip("ipywidgets")
    box = pg.widget()
    controls = box.controls
    d = weights(pg.module.discriminator)
    controls["step_d"].click()
    assert not same(weights(pg.module.discriminator), d) and pg.steps_done == 0
    controls["step"].click()
    assert pg.steps_done == 1
    controls["loss"].value = "minimax"
    assert pg._choices["loss"] == "minimax"
    controls["lr_g"].value = 1e-3
    assert pg.learning_rate("generator") == pytest.approx(1e-3)
    controls["optimizer_d"].value = "rmsprop"
    assert isinstance(pg.module.optimizers()[1].optimizer, torch.optim.RMSprop)
    controls["d_steps"].value = 3
    assert pg.module.d_steps_per_g_step == 3
    controls["layer_heat_map"].value = False
    assert not pg._view.heat_map.get_visible()

    async def play_a_little():
        controls["steps_per_frame"].value = 2
        controls["play"].value = True
        await asyncio.sleep(0.5)
        controls["play"].value = False
        await asyncio.sleep(0.2)  # the running frame ends

    before = pg.steps_done
    asyncio.run(play_a_little())
    assert pg.steps_done > before and (pg.steps_done - before) % 2 == 0
