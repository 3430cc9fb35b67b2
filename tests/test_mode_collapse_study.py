"""The mode-collapse study's runner and report, on tiny cells (the real study is run by hand)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO_ROOT

STUDY = REPO_ROOT / "experiments" / "mode_collapse" / "run_study.py"
TINY = ["trainer.max_epochs=1", "data.num_samples=1000", "model.generator.hidden_dims=[16]",
        "model.discriminator.hidden_dims=[16]", "metrics.num_samples=500", "callbacks.birthday.num_trials=10"]


def run_study(out, *extra):
    return subprocess.run(
        [sys.executable, str(STUDY), "--out", str(out), "--report", str(out / "README.md"), "--datasets", "ring8",
         "--seeds", "1", *extra, *TINY],
        capture_output=True, text=True, timeout=600,
    )


def test_study_writes_results_and_report_and_resumes(tmp_path):
    first = run_study(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert {(r["loss"], r["model"]) for r in records} == {
        ("minimax", "gan"), ("minimax", "minibatch_gan"), ("non_saturating", "gan"), ("non_saturating", "minibatch_gan")
    }
    assert all("modes_covered" in r and "high_quality_fraction" in r and r["seconds"] > 0 for r in records)
    report = (tmp_path / "README.md").read_text()
    assert "| minibatch_gan | minimax | 1 |" in report and "PacGAN2" in report
    assert (tmp_path / "samples.png").stat().st_size > 0

    again = run_study(tmp_path)  # every cell is done: nothing retrains
    assert again.returncode == 0, again.stderr[-3000:]
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 4
    assert "seed 0:" not in again.stdout
