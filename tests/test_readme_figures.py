"""Every measured figure the README quotes stands in the experiments/ table it comes from: change one, change both."""

from __future__ import annotations

import pytest
from conftest import REPO_ROOT

#: (what the README says, the table that holds the measurement, what that table says)
QUOTED = [
    ("Inception Score of **9.01 against 9.72**", "experiments/default_run/README.md", "| 153e517 | 6 min 19 s (677 s of CPU) | **9.01 (92.7 %)** | 1.28 |"),
    ("(92.7 %) and an FID of 1.3", "experiments/default_run/README.md", "**9.01 (92.7 %)** | 1.28"),
    ("in 6 min 19 s on this project's 2-core AMD EPYC", "experiments/default_run/README.md", "6 min 19 s"),
    ("**99.0 %** of the time (real digits: 99.4 %", "experiments/conditional/README.md", "| 60c8feb | **0.990** |"),
    ("IS 9.59 against 9.72, in 6 min 34 s", "experiments/conditional/README.md", "| 9.59 | 2.01 | 6 min 34 s (744 s) |"),
]


@pytest.mark.parametrize(("quote", "table", "measured"), QUOTED, ids=[q[0][:30] for q in QUOTED])
def test_the_readme_quotes_what_the_table_measured(quote, table, measured):
    readme = (REPO_ROOT / "README.md").read_text()
    assert quote in readme, f"README no longer says {quote!r}: update QUOTED with the figure and its table"
    assert measured in (REPO_ROOT / table).read_text(), f"{table} no longer holds {measured!r}"
