"""Run the lesson notebooks at their full settings and save them with clean outputs, so they read on GitHub.

    python notebooks/execute.py                      # every notebook, in place (about 25 minutes on 2 CPU cores)
    python notebooks/execute.py 05_watch_the_game    # one of them
    python notebooks/execute.py --quick --out /tmp/nb   # the test suite's quick mode, on copies

Each notebook runs top to bottom in a fresh Jupyter kernel whose working
directory is a temporary folder (its training runs are written there, not
into the repository).  Its assertions check the claim each section teaches,
so a notebook whose lesson stopped holding fails here.  The saved outputs are
checked to be clean (:func:`problems`): no terminal escape codes, no
advertisements or warnings a reader cannot act on, every figure a modest PNG.
``GAN_LAB_NOTEBOOK_TEST=1`` (``--quick``) makes the notebooks train briefly.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
#: Text that must not appear in a saved output: escape codes, Lightning's banner lines, warnings.
NOISE = re.compile(r"\x1b\[|Tip:|GPU available|TPU available|Seed set to|Warning|warn\(|LeafSpec|Trainer\.fit. stopped")
#: The largest PNG a figure may be: the notebooks are read on GitHub and kept in git.
MAX_FIGURE_BYTES = 200_000


def notebooks(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("*.ipynb"))
    if not names:
        return found
    chosen = [path for path in found if path.stem in names or path.name in names]
    missing = set(names) - {p.stem for p in chosen} - {p.name for p in chosen}
    if missing:
        sys.exit(f"execute.py: no notebook named {sorted(missing)}; choose from {[p.stem for p in found]}")
    return chosen


def execute(path: Path, quick: bool, timeout: int = 3600) -> nbformat.NotebookNode:
    """``path`` run top to bottom in a fresh kernel, in a temporary working directory."""
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get("GAN_LAB_NOTEBOOK_TEST")
    os.environ["GAN_LAB_NOTEBOOK_TEST"] = "1" if quick else ""
    os.environ["GAN_LAB_REPOSITORY"] = str(HERE.parent)  # where a notebook finds experiments/ from its temporary folder
    try:
        with tempfile.TemporaryDirectory() as workdir:
            client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                                    resources={"metadata": {"path": workdir}})
            client.execute()
        label_widgets(notebook)
    finally:
        if previous is None:
            os.environ.pop("GAN_LAB_NOTEBOOK_TEST", None)
        else:
            os.environ["GAN_LAB_NOTEBOOK_TEST"] = previous
    return notebook


#: What a widget's output says where no kernel runs it (GitHub shows the text, not the widget).
WIDGET_TEXT = "[interactive controls: run this notebook in Jupyter to use them]"


def label_widgets(notebook: nbformat.NotebookNode) -> None:
    """Replace a widget's text fallback (its whole repr) by a line saying what it is."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                data["text/plain"] = WIDGET_TEXT


def output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    return str(output.get("data", {}).get("text/plain", ""))


def problems(notebook: nbformat.NotebookNode) -> list[str]:
    """What is not clean in ``notebook``'s outputs (empty when it reads well)."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is None:
            found.append(f"cell {index} was not executed")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append(f"cell {index} writes to stderr: {output_text(output)[:120]!r}")
            match = NOISE.search(output_text(output))
            if match:
                found.append(f"cell {index} prints noise ({match.group(0)!r})")
            if "text/html" in output.get("data", {}):
                found.append(f"cell {index} has an HTML output (a progress bar?)")
            png = output.get("data", {}).get("image/png")
            if png and len(png) * 3 // 4 > MAX_FIGURE_BYTES:
                found.append(f"cell {index} has a figure of {len(png) * 3 // 4 // 1000} KB")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="short trainings (what the tests run)")
    parser.add_argument("--out", type=Path, help="write the executed notebooks here instead of in place")
    args = parser.parse_args()
    failed = False
    for path in notebooks(args.names):
        start = time.perf_counter()
        notebook = execute(path, args.quick)
        target = (args.out / path.name) if args.out else path
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        issues = problems(notebook)
        failed |= bool(issues)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s, {target.stat().st_size // 1000} KB"
              + "".join(f"\n  not clean: {issue}" for issue in issues), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
