"""The mode-collapse study's runner and report on one tiny cell (the real study is run by hand), and provenance."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers.runs import REPO_ROOT, SMALL_METRICS, TINY_NETS

from studies.provenance import DirtyTreeError, head_commit

STUDY = REPO_ROOT / "experiments" / "mode_collapse" / "run_study.py"
#: One ring8 cell of tiny networks, a few steps, small metric samples.
TINY = ["trainer.max_epochs=1", "data.dataset_size=1000", "data.batch_size=100", *TINY_NETS["mlp"], *SMALL_METRICS]
CELL = ["--datasets", "ring8", "--losses", "non_saturating", "--models", "minibatch_gan", "--seeds-2d", "1"]


def run_study(out, *overrides):
    return subprocess.run(
        # --allow-dirty: the tests run in working trees with changes too (CI's clone is clean).
        [sys.executable, str(STUDY), "--out", str(out), "--report", str(out / "README.md"), "--allow-dirty", *CELL,
         "--", *TINY, *overrides],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )


def records(out):
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_study_records_reports_and_resumes(tmp_path):
    # A record of the same cell under other settings: it must neither count as done nor be reported.
    stale = {"dataset": "ring8", "loss": "non_saturating", "model": "minibatch_gan", "seed": 0, "fingerprint": "old",
             "status": "ok", "seconds": 1.0, "modes_covered": 1.0}
    (tmp_path / "results.jsonl").write_text(json.dumps(stale) + "\n")

    first = run_study(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "1 cells to run" in first.stdout
    new = records(tmp_path)[1:]
    assert len(new) == 1
    record = new[0]
    assert (record["dataset"], record["loss"], record["model"], record["seed"]) == ("ring8", "non_saturating",
                                                                                  "minibatch_gan", 0)
    assert record["status"] == "ok" and record["seconds"] > 0 and record["fingerprint"] != "old"
    for key in ("modes_covered", "high_quality_fraction", "mode_kl", "inception_score",
                "birthday_support_size", "birthday_collision_rate"):
        assert isinstance(record[key], float), key
    assert "fid" not in record  # not computed on raw 2D points (the report shows "-")
    assert (tmp_path / record["checkpoint"]).is_file()
    assert "data.dataset_size=1000" in record["overrides"] and "run_study.py" in record["command"]
    provenance = record["provenance"]
    assert provenance["commit"] and provenance["cpu"] and provenance["libraries"]["torch"]

    report = (tmp_path / "README.md").read_text()
    assert "| minibatch_gan | non_saturating | 1 |" in report
    assert "PacGAN2" in report and "run_study.py" in report and "torch" in report
    assert "1 older records" in report  # the stale line is announced, not averaged in
    assert "## Discussion" in report
    assert (tmp_path / "samples.png").stat().st_size > 0

    # A discussion written into the report survives a rebuild; a finished cell is not trained again.
    (tmp_path / "README.md").write_text(report.replace(report[report.index("## Discussion"):],
                                                       "## Discussion\n\nOur reading.\n"))
    again = run_study(tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 cells to run, 1 done already" in again.stdout
    assert len(records(tmp_path)) == 2
    assert "Our reading." in (tmp_path / "README.md").read_text()

    # The same cell recorded on another machine is not this study's: it runs again rather than mixing machines.
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    moved = json.loads(lines[1])
    moved["provenance"]["cpu"] = "Another CPU"
    (tmp_path / "results.jsonl").write_text("\n".join([lines[0], json.dumps(moved)]) + "\n")
    third = run_study(tmp_path)
    assert third.returncode == 0, third.stderr[-3000:]
    assert "1 cells to run, 0 done already" in third.stdout


def test_a_study_refuses_uncommitted_code(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "code.py").write_text("x = 1\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "code.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "code"], check=True)
    clean = head_commit(tmp_path)
    assert clean and "+modified" not in clean
    (tmp_path / "code.py").write_text("x = 2\n")
    with pytest.raises(DirtyTreeError, match="uncommitted changes"):
        head_commit(tmp_path)
    assert head_commit(tmp_path, allow_dirty=True) == clean + "+modified"
