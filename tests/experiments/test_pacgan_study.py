"""The PacGAN study's runner and report on its quick setting (the real study is run by hand)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers.runs import REPO_ROOT

STUDY = REPO_ROOT / "experiments" / "pacgan_table1" / "run_study.py"


def run_study(out):
    # --allow-dirty: the tests run in working trees with changes too (CI's clone is clean).
    return subprocess.run([sys.executable, str(STUDY), "--quick", "--out", str(out), "--allow-dirty",
                           "--datasets", "ring8", "--variants", "gan", "pacgan2"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_quick_study_records_curves_continues_and_reports(tmp_path):
    first = run_study(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "4 cells to run, 0 done already" in first.stdout
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    by_key = {(r["variant"], r["epochs"]): r for r in records}
    assert set(by_key) == {("gan", 2), ("gan", 4), ("pacgan2", 2), ("pacgan2", 4)}
    table_run, continued = by_key[("pacgan2", 2)], by_key[("pacgan2", 4)]
    assert "model.pack=2" in table_run["overrides"] and table_run["provenance"]["commit"]
    # The continuation resumes the table run's checkpoint: its curve goes on where the first one ends.
    assert any(o.startswith("ckpt_path=") and "seed0-epochs2" in o for o in continued["overrides"])
    first_steps = [step for step, _ in table_run["curve"]["metrics/modes_covered"]]
    later_steps = [step for step, _ in continued["curve"]["metrics/modes_covered"]]
    assert len(first_steps) == 2 and min(later_steps) > max(first_steps) and len(later_steps) == 2
    report = (tmp_path / "README.md").read_text()
    assert "| PacGAN2 | 1 |" in report and "7.9 / 95.6 / 0.07" in report and "## Protocol" in report
    assert (tmp_path / "learning_curves.png").stat().st_size > 0

    again = run_study(tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 cells to run, 4 done already" in again.stdout
