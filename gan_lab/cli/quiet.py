"""Quiet training for notebooks, studies and scripts: only what the reader can act on is printed.

Lightning prints, for every ``Trainer``, lines about accelerators, a seed, an
advertisement and a model summary, and a progress bar whose escape codes
clutter a notebook; and some library warnings are about the libraries' own
code (a deprecation inside Lightning).  ``QUIET_TRAINING`` are the overrides
that switch off the bar and the summary; :func:`quiet_libraries` lowers
Lightning's loggers to warnings and ignores the warnings no user can act on.
Nothing here runs at import: call it from the notebook or script that wants
it (it changes logging levels and warning filters, nothing else).
"""

from __future__ import annotations

import logging
import warnings

#: Overrides for a run without progress bar or model summary (e.g. ``compose_config([..., *QUIET_TRAINING])``).
QUIET_TRAINING = ["callbacks.progress_bar=null", "trainer.enable_progress_bar=false",
                  "trainer.enable_model_summary=false"]

#: Warnings about libraries' own code, or settings a short demonstration chooses on purpose.
NOISE = (
    r".*isinstance\(treespec, LeafSpec\).*",  # Lightning 2.6 calling a deprecated torch API itself
    r".*does not have many workers.*",  # in-memory tensors need no loader workers
    r".*smaller than the logging interval.*",  # a short run logs fewer points, as intended
)


#: Warnings a demonstration triggers on purpose: resuming into the run's own folder, a collapsed early generator.
DEMONSTRATION_NOISE = (
    r".*Checkpoint directory .* exists and is not empty.*",
    r".*birthday paradox: all \d+ batches .* collide.*",
)


def quiet_console() -> None:
    """Lightning's informational lines off: accelerators the run does not use, the seed, advertisements.

    What a user can act on stays: warnings, errors, the progress bar, the model summary and gan_lab's own summary.
    """
    for name in ("pytorch_lightning", "lightning", "lightning_fabric", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)


def ignore_library_noise() -> None:
    """Ignore the warnings of :data:`NOISE` (what ``gan-lab-train`` does too)."""
    for pattern in NOISE:
        warnings.filterwarnings("ignore", message=pattern)


def quiet_libraries() -> None:
    """Lightning's informational lines off (accelerators, seed, tips), :func:`ignore_library_noise`, and the
    warnings of :data:`DEMONSTRATION_NOISE` (for notebooks that stop and resume runs on purpose)."""
    quiet_console()
    ignore_library_noise()
    for pattern in DEMONSTRATION_NOISE:
        warnings.filterwarnings("ignore", message=pattern)
