"""Every command of the README's "What you can do" runs, as typed, with a tiny trainer.

The lines are read from the README itself, so a new line is tested the day it is written.  Each runs through
the console scripts' own entry points (``gan_lab.cli.train:cli``, ``gan_lab.cli.evaluate:main``) in one temporary
folder, in the README's order (the resume line continues the run the line before it made), with overrides
that shrink the networks, the steps and the evaluation appended, except where the line sets that key itself.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from helpers.runs import DATA_NETS, REPO_ROOT, SMALL_METRICS, TINY_NETS, TINY_TRAINER
from hydra.core.global_hydra import GlobalHydra

import gan_lab.cli.evaluate
import gan_lab.cli.train

ENTRY_POINTS = {"gan-lab-train": gan_lab.cli.train.cli, "gan-lab-eval": gan_lab.cli.evaluate.main}


def readme_commands() -> list[list[str]]:
    """The gan_lab command lines of "What you can do", comments removed (``tensorboard`` is not ours)."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## What you can do", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.startswith("gan-lab-")]


def key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def tiny(words: list[str], number: int) -> list[str]:
    """What line ``number`` sets, then the tiny settings it does not set itself."""
    program, args = words[0], words[1:]
    if program == "gan-lab-eval":
        return [*args, f"hydra.run.dir=outputs/line{number}"]
    chosen = dict(arg.split("=", 1) for arg in args if "=" in arg and not arg.startswith("-"))
    data, net = chosen.get("data", "digits"), chosen.get("net")
    extra = [*TINY_TRAINER, *TINY_NETS.get(net or DATA_NETS.get(data, "dcgan"), [])]
    if chosen.get("evaluation") != "none":
        extra += SMALL_METRICS
    if "hydra.run.dir" not in chosen:
        extra.append(f"hydra.run.dir=outputs/line{number}")
    extra.append("hydra.sweep.dir=multirun")
    keys = {key(arg) for arg in args}
    # A swept key (a=1,2) and a preset's own choices stay the line's; the tiny settings fill in the rest.
    return [*args, *(o for o in extra if key(o) not in keys and not any(key(o).startswith(k + ".") for k in keys))]


COMMANDS = readme_commands()


def test_the_readme_lists_commands():
    assert len(COMMANDS) >= 10 and {words[0] for words in COMMANDS} == {"gan-lab-train", "gan-lab-eval"}


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for number, words in enumerate(COMMANDS):
        argv = [words[0], *tiny(words, number)]
        monkeypatch.setattr(sys, "argv", argv)
        GlobalHydra.instance().clear()
        try:
            ENTRY_POINTS[words[0]]()
        except SystemExit as exit:  # a user error ends the command with one line and exit status 1
            if exit.code not in (0, None):
                pytest.fail(f"`{shlex.join(words)}` exited with {exit.code} (run as {shlex.join(argv)})")
    assert (Path("runs/mine/checkpoints/last.ckpt")).exists()
    assert len(list(Path("multirun").glob("*/.hydra"))) == 4  # the sweep's four runs
    assert list(Path("outputs").rglob("metrics.json"))  # gan-lab-eval's table, as a file
