"""The game view, JS by grid, the GIFs and the TensorBoard overview in real (tiny) runs."""

from __future__ import annotations

import math

import pytest
import pytorch_lightning as pl
import torch
from helpers.runs import SMALL_METRICS, compose_config, event_files, tiny_overrides
from hydra.utils import instantiate
from PIL import Image
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.cli.evaluate import evaluate
from gan_lab.cli.train import train

RING8 = [*tiny_overrides("ring8"), *SMALL_METRICS, "data.dataset_size=1000"]


def events(run_dir) -> EventAccumulator:
    (path,) = event_files(run_dir)
    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def gif_frames(path) -> int:
    with Image.open(path) as gif:
        return gif.n_frames


@pytest.fixture(scope="module")
def ring8_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("ring8_run")
    train(compose_config([*RING8, "trainer.max_epochs=2"], run_dir), run_dir)
    return run_dir, events(run_dir)


def test_a_ring8_run_logs_the_game_and_js_grid_at_every_evaluation(ring8_run):
    _, accumulator = ring8_run
    assert len(accumulator.Images("game/field")) == 2  # two epochs, evaluated after each
    run_dir, _ = ring8_run
    real = EventAccumulator(str(event_files(run_dir, real_data=True)[0]))
    real.Reload()
    for run in (accumulator, real):  # the generator's, and real data's run under the same tag
        values = [event.value for event in run.Scalars("metrics/js_grid")]
        assert len(values) == 2 and all(0 <= value <= math.log(2) + 1e-6 for value in values)
    reference = real.Scalars("metrics/js_grid")
    assert reference[0].value == reference[1].value < 0.05  # a constant: the real sample against the exact cells


def test_a_ring8_run_writes_one_gif_frame_per_evaluation(ring8_run):
    run_dir, _ = ring8_run
    assert len(list((run_dir / "frames" / "game_field").glob("*.png"))) == 2
    assert gif_frames(run_dir / "game.gif") == 2
    assert not (run_dir / "samples.gif").exists()


def test_a_run_has_its_custom_scalars_layout_and_config_text(ring8_run):
    _, accumulator = ring8_run
    texts = set(accumulator.Tags()["tensors"])
    assert {"config/run/text_summary", "config/evaluation/text_summary", "custom_scalars__config__"} <= texts
    config = accumulator.Tensors("config/run/text_summary")[0].tensor_proto.string_val[0].decode()
    assert config.startswith("```yaml\n") and "name: ring8" in config
    assert len(accumulator.Tensors("config/run/text_summary")) == 1  # once per run


def test_eval_of_a_2d_checkpoint_writes_no_frames(ring8_run):
    run_dir, accumulator = ring8_run
    before = (run_dir / "game.gif").stat().st_mtime_ns
    values = evaluate(str(run_dir / "checkpoints" / "last.ckpt"))
    assert values["metrics/js_grid"] == pytest.approx(accumulator.Scalars("metrics/js_grid")[-1].value, rel=1e-6)
    assert len(list((run_dir / "frames" / "game_field").glob("*.png"))) == 2
    assert (run_dir / "game.gif").stat().st_mtime_ns == before


def test_a_resumed_run_animates_the_frames_of_both_sessions(tmp_path):
    train(compose_config([*RING8, "trainer.max_epochs=1"], tmp_path), tmp_path)
    assert gif_frames(tmp_path / "game.gif") == 1
    train(compose_config([*RING8, "trainer.max_epochs=2", "ckpt_path=last"], tmp_path), tmp_path)
    assert gif_frames(tmp_path / "game.gif") == 2


def test_a_digits_run_animates_its_samples_and_draws_no_game(tmp_path):
    cfg = compose_config([*tiny_overrides("digits"), *SMALL_METRICS, "trainer.max_epochs=2"], tmp_path)
    train(cfg, tmp_path)
    accumulator = events(tmp_path)
    assert "game/field" not in accumulator.Tags()["images"]
    assert "metrics/js_grid" not in accumulator.Tags()["scalars"]
    assert gif_frames(tmp_path / "samples.gif") == 2 and not (tmp_path / "game.gif").exists()
    with Image.open(tmp_path / "samples.gif") as gif:
        assert gif.width >= 320  # the 8x8 digit grid, enlarged


def test_game_and_animation_can_be_switched_off(tmp_path):
    cfg = compose_config([*RING8, "evaluation.game=null", "evaluation.animation=null"], tmp_path)
    train(cfg, tmp_path)
    assert "game/field" not in events(tmp_path).Tags()["images"]
    assert not (tmp_path / "frames").exists() and not list(tmp_path.glob("*.gif"))


class AroundTheEvaluation(pl.Callback):
    """Records, at each training epoch's end, the global random state, the players' weights and their modes."""

    def __init__(self) -> None:
        self.records = []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        weights = {name: value.clone() for name, value in pl_module.state_dict().items()}
        modes = [module.training for module in pl_module.modules()]
        self.records.append((torch.get_rng_state(), weights, modes))


def test_an_evaluation_with_the_game_view_leaves_random_state_weights_and_modes_alone(tmp_path, monkeypatch):
    cfg = compose_config(RING8, tmp_path)
    datamodule, model, evaluation = instantiate(cfg.data), instantiate(cfg.model), instantiate(cfg.evaluation)
    before, after = AroundTheEvaluation(), AroundTheEvaluation()  # hooks run in list order: around the evaluation's

    def refuse(*args, **kwargs):
        raise AssertionError("evaluation must not re-seed a global generator")

    monkeypatch.setattr(torch, "manual_seed", refuse)
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=0, logger=TensorBoardLogger(tmp_path),
                         default_root_dir=tmp_path, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[before, evaluation, after])
    trainer.fit(model, datamodule=datamodule)
    assert "game/field" in events(tmp_path).Tags()["images"]  # the view was drawn in between
    (state_before, weights_before, modes_before), (state_after, weights_after, modes_after) = before.records + after.records
    assert torch.equal(state_before, state_after)
    assert modes_before == modes_after and all(modes_before)
    for name, value in weights_before.items():
        assert torch.equal(value, weights_after[name]), name
