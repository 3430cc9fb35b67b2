"""Metric callbacks end to end: every documented tag at every validation epoch, real-data references, gan-lab-eval."""

from __future__ import annotations

import json

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import SMALL_METRICS, compose_config, run_cli, tiny_overrides
from gan_lab.callbacks import FID, BirthdayParadox
from gan_lab.evaluate import evaluate
from gan_lab.train import train, user_message

METRIC_TAGS = {
    "metrics/inception_score",
    "metrics/inception_score_std",
    "metrics/fid",
    "metrics/kid",
    "metrics/birthday_collision_rate",
    "metrics/birthday_support_size",
    "metrics/modes_covered",
    "metrics/mode_kl",
}
TWO_EPOCHS = ["trainer.max_epochs=2"]


def events(run_dir):
    (path,) = run_dir.rglob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(path))
    accumulator.Reload()
    return accumulator


def train_small(data: str, run_dir, extra=()):
    cfg = compose_config([*tiny_overrides(data), *SMALL_METRICS, *TWO_EPOCHS, *extra], run_dir)
    train(cfg, run_dir)
    return events(run_dir)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("digits_run")
    return run_dir, train_small("digits", run_dir)


def test_digits_run_logs_every_metric_at_every_validation_epoch(digits_run):
    _, accumulator = digits_run
    scalars = set(accumulator.Tags()["scalars"])
    assert METRIC_TAGS <= scalars
    for tag in METRIC_TAGS:
        assert len(accumulator.Scalars(tag)) == 2, tag  # two epochs, validated after each
    assert {"samples/grid", "birthday/closest_pairs"} <= set(accumulator.Tags()["images"])
    assert "settings/evaluator/text_summary" in accumulator.Tags()["tensors"]
    assert {"settings/num_samples", "settings/evaluator_accuracy", "settings/inception_score_splits"} <= scalars


def test_real_digits_reference_values_are_those_of_a_good_generator(digits_run):
    _, accumulator = digits_run
    value = {tag: accumulator.Scalars(tag)[0].value for tag in accumulator.Tags()["scalars"]}
    assert value["settings/evaluator_accuracy"] >= 0.97
    assert value["reference/modes_covered"] == 10
    assert value["reference/mode_kl"] < 0.02
    assert value["reference/inception_score"] > 9.0
    # Fresh real batches collide about as often as the calibration allows (5 %, 10 trials here).
    assert value["reference/birthday_collision_rate"] <= 0.2


def test_grid25_run_logs_the_2d_tags(tmp_path):
    accumulator = train_small("grid25", tmp_path, ["data.num_samples=2000"])
    scalars = set(accumulator.Tags()["scalars"])
    assert METRIC_TAGS | {"metrics/high_quality_fraction"} <= scalars
    assert len(accumulator.Scalars("metrics/high_quality_fraction")) == 2
    reference = {tag: accumulator.Scalars(tag)[0].value for tag in scalars if tag.startswith("reference/")}
    assert reference["reference/modes_covered"] == 25
    assert reference["reference/high_quality_fraction"] > 0.97
    assert "samples/scatter" in accumulator.Tags()["images"]


def test_every_n_epochs_skips_evaluations(tmp_path):
    accumulator = train_small("ring8", tmp_path, ["data.num_samples=1000", "metrics.every_n_epochs=2"])
    assert len(accumulator.Scalars("metrics/fid")) == 1


def test_fid_with_too_few_samples_fails_before_training(tmp_path):
    cfg = compose_config([*tiny_overrides("digits"), "metrics.num_samples=20", "callbacks.birthday.num_trials=1",
                          "callbacks.birthday.batch_size=10"], tmp_path)
    with pytest.raises(Exception) as info:
        train(cfg, tmp_path)
    assert "too small" in user_message(info.value) and "features" in user_message(info.value)
    assert not list(tmp_path.rglob("*.ckpt"))


def test_metric_callback_arguments_are_checked():
    with pytest.raises(ValueError, match="num_samples"):
        FID(num_samples=1)
    with pytest.raises(ValueError, match="valid"):
        BirthdayParadox(space="latent")
    with pytest.raises(ValueError, match="exceeds num_samples"):
        BirthdayParadox(batch_size=50, num_trials=100, num_samples=1000)


def test_eval_reproduces_the_callbacks_numbers(digits_run):
    run_dir, accumulator = digits_run
    metrics = evaluate(str(run_dir / "checkpoints" / "last.ckpt"), num_samples=500, birthday_batch_size=50)
    # Same checkpoint, sample count and latent seed as the last validation epoch: same numbers.
    assert metrics["metrics/fid"] == pytest.approx(accumulator.Scalars("metrics/fid")[-1].value, rel=1e-5)
    assert metrics["metrics/inception_score"] == pytest.approx(
        accumulator.Scalars("metrics/inception_score")[-1].value, rel=1e-5
    )
    assert METRIC_TAGS <= set(metrics)


def test_eval_cli_prints_a_table_and_writes_metrics_json(digits_run, tmp_path):
    run_dir, _ = digits_run
    out = tmp_path / "eval"
    result = run_cli(
        "gan_lab.evaluate",
        [f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}", "num_samples=500", f"hydra.run.dir={out}"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "metrics/fid" in result.stdout
    written = json.loads((out / "metrics.json").read_text())
    assert METRIC_TAGS <= set(written)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not a checkpoint", "is not a readable PyTorch checkpoint"),
        (None, "not a gan_lab checkpoint"),  # a valid torch file without gan_lab's config
    ],
)
def test_eval_cli_rejects_corrupt_and_foreign_checkpoints(tmp_path, content, message):
    path = tmp_path / "bad.ckpt"
    if content is None:
        torch.save({"state_dict": {}}, path)
    else:
        path.write_bytes(content)
    result = run_cli("gan_lab.evaluate", [f"ckpt_path={path}", f"hydra.run.dir={tmp_path / 'eval'}"], tmp_path)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_eval_cli_reports_a_missing_checkpoint(tmp_path):
    result = run_cli("gan_lab.evaluate", [f"ckpt_path={tmp_path / 'nope.ckpt'}", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert result.returncode == 1
    assert "nope.ckpt" in result.stderr and "Traceback" not in result.stderr

