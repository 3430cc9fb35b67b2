"""Formatting a study's numbers for its README: mean ± std over seeds, infinities counted apart."""

from __future__ import annotations

import math
import statistics


def number(value) -> float | None:
    """A recorded metric as a float; the evaluation logs an infinite estimate (e.g. no birthday collision) as -1."""
    if value is None:
        return None
    return math.inf if value == -1 else float(value)


def summary(values: list, fmt: str, scale: float = 1.0) -> str:
    """Mean ± sample std of the finite values (``fmt`` each, times ``scale``); infinite ones are counted apart."""
    present = [number(v) for v in values if v is not None]
    finite = [v * scale for v in present if math.isfinite(v)]
    infinite = len(present) - len(finite)
    note = f" (+{infinite} inf)" if infinite else ""
    if not finite:
        return "inf" if infinite else "-"
    if len(finite) == 1:
        return fmt.format(finite[0]) + note
    return f"{fmt.format(statistics.mean(finite))} ± {fmt.format(statistics.stdev(finite))}{note}"
