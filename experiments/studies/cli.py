"""What every study script's command line shares: its own command for the records, a clean stop, provenance."""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path

from studies.provenance import DirtyTreeError, Provenance, current_provenance


def this_command() -> str:
    """The command that started this script, relative to the working directory where possible (for the records)."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(Path.cwd())
    except ValueError:
        pass
    return shlex.join(["python", str(script), *sys.argv[1:]])


def stop_cleanly_on_sigterm() -> None:
    """``kill <pid>`` of a study exits through its ``finally`` blocks, which stop the running cells."""

    def stop(signum, frame) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def provenance_or_exit(repo: Path, threads: int, allow_dirty: bool) -> Provenance:
    """This study's :class:`Provenance`; on a tree with uncommitted changes, exit with the reason (unless allowed)."""
    try:
        return current_provenance(repo, threads, allow_dirty=allow_dirty)
    except DirtyTreeError as err:
        sys.exit(f"{Path(sys.argv[0]).name}: {err}")
