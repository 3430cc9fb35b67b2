"""The package's layout is its architecture (docs/architecture.md): few top-level modules, a docstring in every
folder saying what lives there, and imports that only go the documented ways."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers.runs import REPO_ROOT

PACKAGE = REPO_ROOT / "gan_lab"

#: What each folder of gan_lab may import from the others (besides itself and ``errors``): the layers of
#: docs/architecture.md, from the bottom (data, nets, metrics) to the front ends (cli, play).
MAY_IMPORT = {
    "data": set(),
    "nets": set(),
    "metrics": set(),
    "training": {"nets"},
    "variants": {"training", "nets"},
    "lessons": {"metrics"},
    "evaluation": {"metrics", "data", "training", "viz.plots"},
    "viz": {"metrics", "data", "training", "nets", "evaluation.metric"},  # evaluation.metric: type hints only
    "callbacks": {"evaluation", "viz", "metrics", "data", "training"},
    "play": {"cli", "data", "viz", "metrics", "training"},
    "cli": {"callbacks", "evaluation", "viz", "metrics", "data", "training", "nets", "variants", "lessons"},
}


def gan_lab_imports(path: Path) -> set[str]:
    """The ``gan_lab.x.y`` names a module imports (module level, functions and ``TYPE_CHECKING`` blocks alike)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name.removeprefix("gan_lab.") for name in names if name.startswith("gan_lab.")}


def test_at_most_eight_modules_sit_at_the_top_of_the_package():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    assert not (PACKAGE / "studies").exists()  # research tooling lives beside the experiments that use it


def test_every_folder_says_what_lives_there():
    for init in PACKAGE.rglob("__init__.py"):
        tree = ast.parse(init.read_text())
        assert ast.get_docstring(tree), f"{init.relative_to(REPO_ROOT)} has no docstring"


def test_imports_follow_the_layers():
    assert set(MAY_IMPORT) == {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file() and p.name != "configs"}
    wrong = []
    for folder, allowed in MAY_IMPORT.items():
        for path in (PACKAGE / folder).rglob("*.py"):
            for name in gan_lab_imports(path):
                if name == "errors" or name.split(".")[0] == folder:
                    continue
                if not any(name == rule or name.startswith(rule + ".") for rule in allowed):
                    wrong.append(f"{path.relative_to(REPO_ROOT)} imports gan_lab.{name}")
    assert not wrong, "\n".join(wrong)


def test_the_tests_mirror_the_package():
    folders = {p.name for p in (REPO_ROOT / "tests").iterdir() if p.is_dir() and p.name not in ("helpers", "__pycache__")}
    assert set(MAY_IMPORT) <= folders
    assert folders - set(MAY_IMPORT) == {"repository", "experiments"}
    assert not list((REPO_ROOT / "tests").glob("test_*.py"))  # no flat files left at the top
