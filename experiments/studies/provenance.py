"""Where a study's numbers come from: the commit, the machine and the library versions, recorded with every run.

A table of results is only meaningful if every row ran the same committed
code on the same kind of machine: a GAN amplifies the rounding differences
between CPU models (the mode-collapse study saw one seed's high-quality
fraction move by several points between an AMD and an Intel CPU), and
uncommitted code cannot be reproduced by anyone.  So a study refuses to start
on a working tree with uncommitted changes (unless told to, and then every
record says ``+modified``), and a record counts towards a table only if its
commit and machine are the study's own (:meth:`Provenance.same_study`).
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

#: The libraries whose versions are recorded with each run.
LIBRARIES = ("torch", "pytorch-lightning", "hydra-core", "torchmetrics", "numpy", "scipy", "scikit-learn")


class DirtyTreeError(RuntimeError):
    """The repository has uncommitted changes and the study was not told to run anyway."""


@dataclass(frozen=True)
class Provenance:
    """The code, machine and libraries of one study process.

    Attributes:
        commit: the repository's HEAD (short hash), ``+modified`` appended if the tree had uncommitted changes.
        cpu: the CPU model name; cores: logical CPUs; gpu: the CUDA device or ``"no GPU"``.
        threads: torch threads per run; python: the Python version; libraries: ``{name: version}``.
    """

    commit: str
    cpu: str
    cores: int
    gpu: str
    threads: int
    python: str
    libraries: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.commit.endswith("+modified")

    def machine(self) -> str:
        """One line naming the machine, e.g. for a README."""
        return f"{self.cpu}, {self.cores} CPU cores, {self.gpu}; {self.threads} torch thread(s) per run"

    def software(self) -> str:
        return f"Python {self.python}, " + ", ".join(f"{name} {version}" for name, version in self.libraries.items())

    def same_study(self, record: dict) -> bool:
        """Whether ``record`` ran on this commit and this kind of machine (and so may share a table with us)."""
        theirs = record.get("provenance") or {}
        return theirs.get("commit") == self.commit and theirs.get("cpu") == self.cpu

    def as_dict(self) -> dict:
        return asdict(self)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def head_commit(repo: Path, allow_dirty: bool = False) -> str:
    """``repo``'s HEAD; a :class:`DirtyTreeError` if tracked files have uncommitted changes, unless ``allow_dirty``."""
    commit = git(repo, "rev-parse", "--short=10", "HEAD")
    changed = git(repo, "status", "--porcelain", "--untracked-files=no")
    if not changed:
        return commit
    if not allow_dirty:
        files = ", ".join(line[3:] for line in changed.splitlines()[:5])
        raise DirtyTreeError(
            f"{repo} has uncommitted changes ({files}{', ...' if len(changed.splitlines()) > 5 else ''}): a study "
            "records the commit it ran, so commit first (or run from a clean worktree: git worktree add). "
            "--allow-dirty runs anyway and marks every record '+modified'."
        )
    return commit + "+modified"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def current_provenance(repo: Path, threads: int, allow_dirty: bool = False) -> Provenance:
    """The provenance of a study about to run from ``repo`` with ``threads`` torch threads per run."""
    import torch  # the study's processes import it anyway; kept local so this module stays light

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return Provenance(commit=head_commit(repo, allow_dirty), cpu=cpu_model(), cores=os.cpu_count() or 1, gpu=gpu,
                      threads=threads, python=platform.python_version(), libraries=library_versions())
