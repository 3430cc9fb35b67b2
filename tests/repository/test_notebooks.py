"""The lesson notebooks: committed executed with clean outputs (they read on GitHub), and re-run here in quick mode,
where their assertions check the claim each section teaches."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from helpers.runs import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "notebooks"))
import execute  # noqa: E402 - notebooks/execute.py: the one command that runs them

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
#: What the committed outputs may add to the repository, all notebooks together.
MAX_TOTAL_BYTES = 3_000_000


def test_every_lesson_is_committed_executed_with_clean_outputs():
    assert [path.stem[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        assert not execute.problems(notebook), (path.name, execute.problems(notebook))
        figures = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
                   if "image/png" in o.get("data", {})]
        assert figures, f"{path.name} shows no figure"
    assert sum(path.stat().st_size for path in NOTEBOOKS) < MAX_TOTAL_BYTES


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_teaches_its_lessons_in_quick_mode(path: Path, tmp_path):
    """Runs on a copy, in a temporary working directory; a failing assertion in a cell fails the test."""
    notebook = execute.execute(path, quick=True, timeout=600)
    nbformat.write(notebook, tmp_path / path.name)  # the executed copy, never the committed file
