"""Studies: many ordinary training runs, resumable, each recorded with the code, machine and libraries it ran on.

``experiments/mode_collapse/`` and ``experiments/pacgan_table1/`` define their
cells (a list of Hydra overrides each) and their reports; this package runs the
cells (:mod:`studies.runner`) and says where and on what they ran
(:mod:`studies.provenance`).
"""

from studies.provenance import DirtyTreeError, Provenance, current_provenance
from studies.runner import Cell, fingerprint, latest_study_records, read_records, run_cells

__all__ = ["Cell", "DirtyTreeError", "Provenance", "current_provenance", "fingerprint", "latest_study_records",
           "read_records", "run_cells"]
