"""Every measured figure the README (or a docs/ page) quotes stands in the experiments/ table it comes from:
change one, change both."""

from __future__ import annotations

import pytest
from helpers.runs import REPO_ROOT

#: (what the README says, the table that holds the measurement, what that table says)
QUOTED = [
    ("Inception Score of **8.83 against 9.72**", "experiments/default_run/README.md",
     "| 0782379 | **2 min 37 s** (294 s of CPU) | **8.83 (90.9 %)** | 8.83 "),
    ("(90.9 %) and an FID of 8.83 against real data's 8.96", "experiments/default_run/README.md",
     "**8.83 (90.9 %)** | 8.83 (fid_std 2.41"),
    ("in **2 min\n37 s** on this project's 2-core AMD EPYC", "experiments/default_run/README.md", "**2 min 37 s**"),
    ("**99.6 %** of the time (real digits: 99.4 %", "experiments/conditional/README.md", "| 4d07d0e | **0.996** |"),
    ("IS 9.65 against 9.72, in 6 min 11 s", "experiments/conditional/README.md", "| 9.65 | 2.01 | 6 min 11 s (695 s) |"),
]


@pytest.mark.parametrize(("quote", "table", "measured"), QUOTED, ids=[q[0][:30] for q in QUOTED])
def test_the_readme_quotes_what_the_table_measured(quote, table, measured):
    readme = "\n".join(path.read_text() for path in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))])
    assert quote in readme, f"README and docs/ no longer say {quote!r}: update QUOTED with the figure and its table"
    assert measured in (REPO_ROOT / table).read_text(), f"{table} no longer holds {measured!r}"
