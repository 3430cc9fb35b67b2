"""A measured number lives in one table in experiments/, never in the code, where it rots (issue 25).

Docstrings, comments and YAML keep the reason for a choice and link to the table that measured it; this test
refuses timings, speed ratios and machine names under ``gan_lab/`` and ``configs/``.
"""

from __future__ import annotations

import re

import pytest
from helpers.runs import REPO_ROOT

MEASUREMENT = re.compile(
    r"\b\d[\d,.]*\s?(ms|us|µs|ns|seconds?|minutes?|min(?!\())\b"  # a timing
    r"|\b\d[\d.]*\s?x\s(faster|slower|as long|as much)"  # a measured speed ratio
    r"|\b(Xeon|EPYC|Ryzen|Core i\d)\b"  # a machine
    r"|\bmeasured here\b",
    re.IGNORECASE,
)
SOURCES = sorted(p for folder in ("gan_lab", "configs") for p in (REPO_ROOT / folder).rglob("*")
                 if p.suffix in {".py", ".yaml", ".c", ".h"} and "configs" not in p.relative_to(REPO_ROOT).parts[1:])


def test_the_pattern_finds_what_it_should():
    assert MEASUREMENT.search("about 0.1 ms a call") and MEASUREMENT.search("1.8x slower")
    assert MEASUREMENT.search("on the Intel Xeon") and MEASUREMENT.search("2 min 31 s")
    assert not MEASUREMENT.search("min(1, n)") and not MEASUREMENT.search("a learning rate 8 times D's")


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(REPO_ROOT)) for p in SOURCES])
def test_no_measured_number_in_code_or_config(path):
    found = [f"{number}: {line.strip()}" for number, line in enumerate(path.read_text().splitlines(), 1)
             if MEASUREMENT.search(line)]
    assert not found, f"move these figures to a table in experiments/ and link to it: {found}"
