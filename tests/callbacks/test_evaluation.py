"""The evaluation layer end to end: every documented tag, the final evaluation, gan-lab-eval's equality, RNG hygiene."""

from __future__ import annotations

import json

import pytest
import pytorch_lightning as pl
import torch
from helpers.runs import NO_METRICS, SMALL_METRICS, compose_config, events, run_cli, tiny_overrides
from hydra.utils import instantiate

from gan_lab.cli.checkpoints import load_model
from gan_lab.cli.evaluate import evaluate, evaluation_node
from gan_lab.evaluation import FID, KID, BirthdayParadox, EvaluationError, InceptionScore, PrecisionRecall
from gan_lab.cli.train import train, user_message

METRIC_TAGS = {
    "metrics/inception_score",
    "metrics/inception_score_std",
    "metrics/fid",
    "metrics/kid",
    "metrics/kid_std",
    "metrics/birthday_collision_rate",
    "metrics/birthday_support_size",
    "metrics/birthday_support_size_low",
    "metrics/birthday_support_size_high",
    "metrics/modes_covered",
    "metrics/mode_kl",
    "metrics/precision",
    "metrics/recall",
    "metrics/density",
    "metrics/coverage",
}
REFERENCE_TAGS = {
    "reference/inception_score",
    "reference/fid",
    "reference/kid",
    "reference/birthday_collision_rate",
    "reference/modes_covered",
    "reference/precision",
    "reference/recall",
    "reference/density",
    "reference/coverage",
}
TWO_EPOCHS = ["trainer.max_epochs=2"]


def train_small(data: str, run_dir, extra=()):
    cfg = compose_config([*tiny_overrides(data), *SMALL_METRICS, *TWO_EPOCHS, *extra], run_dir)
    values = train(cfg, run_dir)
    return events(run_dir), values


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("digits_run")
    accumulator, values = train_small("digits", run_dir)
    return run_dir, accumulator, values


def test_digits_run_logs_every_metric_at_every_evaluation(digits_run):
    _, accumulator, _ = digits_run
    scalars = set(accumulator.Tags()["scalars"])
    assert METRIC_TAGS <= scalars
    for tag in METRIC_TAGS:
        assert len(accumulator.Scalars(tag)) == 2, tag  # two epochs, evaluated after each
    assert not any(tag.startswith(("reference/", "settings/")) for tag in scalars)
    # Real data is a second run under the generator's tags, a constant line at every evaluation.
    real = events(digits_run[0], real_data=True)
    as_metrics = {tag.replace("reference/", "metrics/") for tag in REFERENCE_TAGS}
    assert as_metrics <= set(real.Tags()["scalars"])
    for tag in as_metrics:
        assert len(real.Scalars(tag)) == 2 and real.Scalars(tag)[0].value == real.Scalars(tag)[1].value, tag
    assert {"samples/grid", "birthday/closest_pairs"} <= set(accumulator.Tags()["images"])
    texts = {tag.rsplit("/text_summary", 1)[0] for tag in accumulator.Tags()["tensors"]}
    assert {"settings/evaluator", "settings/evaluator_sha256", "settings/num_samples", "settings/evaluator_accuracy",
            "settings/inception_score_splits", "settings/kid_subset_size", "settings/birthday_threshold"} <= texts


def test_real_digits_reference_values_are_those_of_a_good_generator(digits_run):
    run_dir, _, values = digits_run
    real = events(run_dir, real_data=True)
    value = {tag.replace("metrics/", "reference/"): real.Scalars(tag)[0].value for tag in real.Tags()["scalars"]}
    assert values["settings/evaluator_accuracy"] >= 0.97
    assert value["reference/modes_covered"] == 10
    assert value["reference/mode_kl"] < 0.02
    assert value["reference/inception_score"] > 9.0
    assert value["reference/precision"] > 0.5 and value["reference/recall"] > 0.5
    assert value["reference/coverage"] > 0.5
    assert value["reference/birthday_collision_rate"] <= 0.3  # fresh real batches at the calibrated threshold


def test_training_returns_the_final_evaluation_with_the_evaluators_hash(digits_run):
    _, accumulator, values = digits_run
    assert values["metrics/fid"] == pytest.approx(accumulator.Scalars("metrics/fid")[-1].value, rel=1e-6)
    assert isinstance(values["settings/evaluator_sha256"], str) and len(values["settings/evaluator_sha256"]) == 64


def test_grid25_run_logs_the_2d_tags(tmp_path):
    accumulator, values = train_small("grid25", tmp_path, ["data.dataset_size=2000"])
    scalars = set(accumulator.Tags()["scalars"])
    infinite = {tag for tag, value in values.items() if not isinstance(value, str) and value == float("inf")}
    on_points = {"metrics/fid", "metrics/kid", "metrics/kid_std"}  # not computed on raw 2D points: settings/ says why
    assert (METRIC_TAGS - infinite - on_points) | {"metrics/high_quality_fraction"} <= scalars
    assert not on_points & set(values) and "compares only means and covariances" in values["settings/fid"]
    # An infinite estimate (no birthday collision) is never drawn as a number: a text entry says so instead.
    texts = {tag.rsplit("/text_summary", 1)[0] for tag in accumulator.Tags()["tensors"]}
    assert not infinite & scalars and infinite <= texts
    assert len(accumulator.Scalars("metrics/high_quality_fraction")) == 2
    real = events(tmp_path, real_data=True)
    assert real.Scalars("metrics/modes_covered")[0].value == 25 == values["reference/modes_covered"]
    assert real.Scalars("metrics/high_quality_fraction")[0].value > 0.97
    assert "samples/scatter" in accumulator.Tags()["images"]


def test_a_one_epoch_run_ends_with_an_evaluation(tmp_path):
    # The default cadence (a validation every 10 epochs) never fires in one epoch: the end of fit evaluates anyway.
    cfg = compose_config([*tiny_overrides("digits"), "evaluation.num_samples=500",
                          "evaluation.metrics.birthday.num_trials=10", "trainer.check_val_every_n_epoch=10"], tmp_path)
    assert compose_config([], tmp_path).trainer.check_val_every_n_epoch == 10
    train(cfg, tmp_path)
    accumulator = events(tmp_path)
    assert len(accumulator.Scalars("metrics/fid")) == 1
    assert "samples/grid" in accumulator.Tags()["images"]


def test_cadence_evaluates_every_n_epochs_and_at_the_end(tmp_path):
    accumulator, _ = train_small("ring8", tmp_path, ["data.dataset_size=1000", "trainer.check_val_every_n_epoch=2",
                                                     "trainer.max_epochs=3"])
    steps = [event.step for event in accumulator.Scalars("metrics/modes_covered")]
    assert len(steps) == 2 and steps[0] < steps[1]  # after epoch 2, and the final one after epoch 3


def test_evaluation_none_logs_no_metrics(tmp_path):
    cfg = compose_config([*tiny_overrides("ring8"), "data.dataset_size=1000", *NO_METRICS], tmp_path)
    values = train(cfg, tmp_path)
    assert not any(tag.startswith("metrics/") for tag in events(tmp_path).Tags()["scalars"])
    assert not any(tag.startswith("metrics/") for tag in values)


def test_fid_with_too_few_samples_fails_before_training(tmp_path):
    cfg = compose_config([*tiny_overrides("digits"), "evaluation.num_samples=20",
                          "evaluation.metrics.birthday.num_trials=1", "evaluation.metrics.birthday.batch_size=10"],
                         tmp_path)
    with pytest.raises(Exception) as info:
        train(cfg, tmp_path)
    assert "too small" in user_message(info.value) and "features" in user_message(info.value)
    assert not list(tmp_path.rglob("*.ckpt"))


def test_birthday_trials_beyond_the_sample_fail_before_training(tmp_path):
    cfg = compose_config([*tiny_overrides("ring8"), "data.dataset_size=1000", "evaluation.num_samples=500"], tmp_path)
    with pytest.raises(Exception) as info:
        train(cfg, tmp_path)  # the default 100 trials of 50 need 5,000 samples
    assert "exceeds evaluation.num_samples=500" in user_message(info.value)


def test_metric_arguments_are_checked():
    with pytest.raises(EvaluationError, match="splits"):
        InceptionScore(splits=0)
    with pytest.raises(EvaluationError, match="valid"):
        BirthdayParadox(space="latent")
    with pytest.raises(EvaluationError, match="subset_size"):
        KID(subset_size=1)
    with pytest.raises(EvaluationError, match="k must be"):
        PrecisionRecall(k=0)
    FID()  # no settings to get wrong


def test_a_metric_entry_without_a_target_is_reported(tmp_path):
    from gan_lab.callbacks import Evaluation

    with pytest.raises(EvaluationError, match="not an EvaluationMetric"):
        Evaluation(metrics={"fid": {"k": 3}})


def test_eval_reproduces_the_final_evaluation(digits_run):
    run_dir, accumulator, _ = digits_run
    values = evaluate(str(run_dir / "checkpoints" / "last.ckpt"))
    # The checkpoint's own evaluation node: same samples, same settings, same numbers as TensorBoard's last ones.
    assert METRIC_TAGS | REFERENCE_TAGS <= set(values)
    real = events(run_dir, real_data=True)
    for tag in METRIC_TAGS | REFERENCE_TAGS:
        run, name = (real, tag.replace("reference/", "metrics/")) if tag.startswith("reference/") else (accumulator, tag)
        logged = run.Scalars(name)[-1].value  # TensorBoard stores float32
        assert values[tag] == pytest.approx(logged, rel=1e-6, abs=1e-6), tag
    assert values["settings/num_samples"] == 500 and values["settings/kid_subset_size"] == 200


def test_eval_overrides_change_the_checkpoints_settings(digits_run):
    run_dir, _, _ = digits_run
    values = evaluate(str(run_dir / "checkpoints" / "last.ckpt"),
                      ["evaluation.num_samples=600", "evaluation.metrics.kid=null", "seed=5"])
    assert values["settings/num_samples"] == 600
    assert "metrics/kid" not in values and "metrics/fid" in values


def test_evaluation_node_applies_only_evaluation_overrides():
    from omegaconf import OmegaConf

    run_cfg = OmegaConf.create({"evaluation": {"num_samples": 10, "metrics": {"fid": {"_target_": "x"}}}, "seed": 1})
    node = evaluation_node(run_cfg, ["evaluation.num_samples=20", "seed=3", "~evaluation.metrics.fid",
                                     "+evaluation.metrics.kid={_target_: y}"])
    assert node.num_samples == 20 and "fid" not in node.metrics and node.metrics.kid._target_ == "y"
    assert evaluation_node(OmegaConf.create({"seed": 0})).num_samples == 5000  # no node: the shipped default


def test_eval_cli_prints_a_table_and_writes_metrics_json(digits_run, tmp_path):
    run_dir, _, _ = digits_run
    out = tmp_path / "eval"
    result = run_cli("gan_lab.cli.evaluate", [f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}",
                                          "evaluation.num_samples=500", f"hydra.run.dir={out}"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "metrics/fid" in result.stdout
    written = json.loads((out / "metrics.json").read_text())
    assert METRIC_TAGS | REFERENCE_TAGS <= set(written)
    assert len(written["settings/evaluator_sha256"]) == 64


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
    result = run_cli("gan_lab.cli.evaluate", [f"ckpt_path={path}", f"hydra.run.dir={tmp_path / 'eval'}"], tmp_path)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_eval_cli_reports_a_missing_checkpoint(tmp_path):
    result = run_cli("gan_lab.cli.evaluate", [f"ckpt_path={tmp_path / 'nope.ckpt'}", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert result.returncode == 1
    assert "nope.ckpt" in result.stderr and "Traceback" not in result.stderr


def final_weights(run_dir):
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    return {name: value for name, value in state.items() if value.is_floating_point()}


@pytest.mark.parametrize("data", ["grid25", "digits"])  # digits: an evaluator network is built (and loaded)
def test_evaluation_does_not_change_training(tmp_path, data):
    # Evaluating after every epoch must leave every random stream of training alone: same final weights.
    common = [*tiny_overrides(data), "trainer.max_epochs=3", *(["data.dataset_size=2000"] if data == "grid25" else [])]
    for name, extra in (("evaluated", SMALL_METRICS), ("plain", NO_METRICS)):
        train(compose_config([*common, *extra], tmp_path / name), tmp_path / name)
    if data == "grid25":
        assert "game/field" in events(tmp_path / "evaluated").Tags()["images"]  # the game view was drawn, too
    evaluated, plain = final_weights(tmp_path / "evaluated"), final_weights(tmp_path / "plain")
    assert evaluated.keys() == plain.keys()
    for name in plain:
        assert torch.equal(evaluated[name], plain[name]), name


class RandomState(pl.Callback):
    """Records torch's global random state when its validation-epoch-end hook runs."""

    def __init__(self) -> None:
        self.state = None

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        self.state = torch.get_rng_state()


def test_an_evaluation_leaves_the_global_random_state_alone(digits_run, monkeypatch):
    run_dir, _, _ = digits_run
    model, datamodule, run_cfg = load_model(run_dir / "checkpoints" / "last.ckpt")
    evaluation = instantiate(evaluation_node(run_cfg))
    before, after = RandomState(), RandomState()  # hooks run in list order: around the evaluation's

    def refuse(*args, **kwargs):
        raise AssertionError("evaluation must not re-seed a global generator")

    monkeypatch.setattr(torch, "manual_seed", refuse)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", refuse)
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[before, evaluation, after])
    trainer.validate(model, datamodule=datamodule, verbose=False)
    assert "metrics/fid" in evaluation.results
    assert torch.equal(before.state, after.state)
