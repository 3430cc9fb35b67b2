"""Long runs: resume after a SIGKILL gives the uninterrupted run's numbers; a NaN loss stops cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from helpers.runs import NO_METRICS, REPO_ROOT, SMALL_METRICS, event_files, run_cli, tiny_overrides
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

FOUR_EPOCHS = [*tiny_overrides("digits"), *NO_METRICS, "trainer.max_epochs=4"]
#: The resume test also compares metrics: on, but small, and every second epoch.
#: A learning-rate schedule too: the resumed run must continue it where it stopped.
LINEAR_DECAY = ("model.lr_scheduler={_target_:torch.optim.lr_scheduler.LinearLR,_partial_:true,"
                "start_factor:1.0,end_factor:0.1,total_iters:4}")
FOUR_EPOCHS_WITH_METRICS = [*tiny_overrides("digits"), *SMALL_METRICS, "trainer.check_val_every_n_epoch=2", "trainer.max_epochs=4",
                            LINEAR_DECAY]


def scalars(run_dir: Path, tag: str) -> dict[int, float]:
    """step -> value of ``tag`` over all event files of a run (a resumed run appends a second file)."""
    values: dict[int, float] = {}
    for events in event_files(run_dir):
        accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
        accumulator.Reload()
        if tag in accumulator.Tags()["scalars"]:
            values.update({event.step: event.value for event in accumulator.Scalars(tag)})
    return values


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    env_path = {"PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "tests"), str(REPO_ROOT)])}
    whole = run_cli("gan_lab.cli.train", [*FOUR_EPOCHS_WITH_METRICS, f"hydra.run.dir={tmp_path / 'whole'}"], tmp_path)
    assert whole.returncode == 0, whole.stderr[-2000:]

    crashed_dir = tmp_path / "crashed"
    kill = "+callbacks.kill={_target_: helpers.callbacks.KillAfterEpoch, epoch: 1}"
    crashed = run_cli("gan_lab.cli.train", [*FOUR_EPOCHS_WITH_METRICS, kill, f"hydra.run.dir={crashed_dir}"], tmp_path, env=env_path)
    assert crashed.returncode == -9  # SIGKILL
    assert (crashed_dir / "checkpoints" / "last.ckpt").is_file()
    assert torch.load(crashed_dir / "checkpoints" / "last.ckpt", weights_only=False)["epoch"] == 1

    resumed = run_cli("gan_lab.cli.train", [*FOUR_EPOCHS_WITH_METRICS, "ckpt_path=last", f"hydra.run.dir={crashed_dir}"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    for tag in ("train/loss_d", "train/loss_g", "train/grad_norm_g", "val/d_real", "metrics/fid", "metrics/inception_score",
                "metrics/birthday_collision_rate"):
        expected, got = scalars(tmp_path / "whole", tag), scalars(crashed_dir, tag)
        assert len(expected) >= 2 and expected.keys() == got.keys(), tag
        for step in expected:
            assert got[step] == expected[step], (tag, step)


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path):
    poison = "+callbacks.poison={_target_: helpers.callbacks.PoisonWeightsAt, epoch: 2, batch: 1}"
    result = run_cli(
        "gan_lab.cli.train", [*FOUR_EPOCHS, poison, f"hydra.run.dir={tmp_path / 'run'}"], tmp_path,
        env={"PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "tests"), str(REPO_ROOT)])},
    )
    assert result.returncode == 1
    assert "train/loss_d became nan at global step" in result.stderr
    assert "Traceback" not in result.stderr
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["epoch"] == 1  # the end of the last good epoch
    assert all(torch.isfinite(v).all() for v in checkpoint["state_dict"].values() if v.is_floating_point())
