"""Lightning DDP on 2 CPU processes (gloo): training runs, and every metric equals the 1-process value."""

from __future__ import annotations

import json

import pytest
from helpers.runs import event_files, run_cli, tiny_overrides
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

pytestmark = pytest.mark.slow

SMALL_METRICS = ["evaluation.num_samples=1200", "evaluation.metrics.birthday.num_trials=20"]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """A few steps of `gan-lab-train trainer=ddp` on 2 CPU processes, metric callbacks on."""
    run_dir = tmp_path_factory.mktemp("ddp_run")
    result = run_cli(
        "gan_lab.cli.train",
        ["trainer=ddp", "trainer.accelerator=cpu", *tiny_overrides("digits"), *SMALL_METRICS,
         f"hydra.run.dir={run_dir}"],
        run_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result


def logged_scalars(run_dir) -> dict[str, float]:
    (path,) = event_files(run_dir)
    accumulator = EventAccumulator(str(path))
    accumulator.Reload()
    return {tag: accumulator.Scalars(tag)[-1].value for tag in accumulator.Tags()["scalars"]}


def test_ddp_training_logs_the_metrics_once(ddp_run):
    run_dir, result = ddp_run
    scalars = logged_scalars(run_dir)  # exactly one event file: only rank zero logs
    assert {"metrics/fid", "metrics/inception_score", "metrics/birthday_support_size", "metrics/modes_covered"} <= set(
        scalars
    )
    assert result.stdout.count("Finished.") == 1  # one summary, from rank zero
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()


def eval_metrics(ckpt, run_dir, devices: int) -> dict[str, float]:
    run_dir.mkdir(parents=True)
    result = run_cli(
        "gan_lab.cli.evaluate",
        [f"ckpt_path={ckpt}", "accelerator=cpu", f"devices={devices}", f"hydra.run.dir={run_dir}"],
        run_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((run_dir / "metrics.json").read_text())


def test_two_process_metrics_equal_one_process_metrics(ddp_run, tmp_path):
    run_dir, _ = ddp_run
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    one = eval_metrics(ckpt, tmp_path / "one", devices=1)
    two = eval_metrics(ckpt, tmp_path / "two", devices=2)
    compared = [tag for tag in one if tag.split("/")[0] in ("metrics", "reference", "settings")]
    assert len(compared) > 15
    for tag in compared:
        if isinstance(one[tag], str):  # the evaluator's description and hash
            assert two[tag] == one[tag], tag
        else:
            assert float(two[tag]) == pytest.approx(float(one[tag]), rel=1e-6, abs=1e-9), tag
    # And the DDP training run logged the same numbers for its last checkpoint as one process computes.
    logged = logged_scalars(run_dir)
    for tag in ("metrics/fid", "metrics/inception_score", "metrics/kid", "metrics/mode_kl"):
        assert logged[tag] == pytest.approx(float(one[tag]), rel=1e-5), tag  # TensorBoard stores float32
