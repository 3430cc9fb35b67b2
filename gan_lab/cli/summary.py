"""The end-of-run summary a person reads in the console: each metric beside real data's value, then the training scalars."""

from __future__ import annotations

import math

Value = float | str


def number(value: Value) -> str:
    """A value as the table shows it: 4 significant digits; an infinite estimate as "inf", never as a number."""
    if isinstance(value, str):
        return value
    return "inf" if math.isinf(value) else "n/a" if math.isnan(value) else f"{value:.4g}"


def summary_table(values: dict[str, Value]) -> str:
    """``metrics/X`` beside ``reference/X`` (real data, same evaluation settings), then ``train/...`` and ``val/...``.

    ``settings/...`` are left to TensorBoard's text and ``metrics.json``.
    """
    metrics = sorted(tag.split("/", 1)[1] for tag in values if tag.startswith("metrics/"))
    lines = []
    if metrics:
        width = max(len(name) for name in metrics)
        lines += [f"{'metric':<{width}}  {'generator':>10}  {'real data':>10}", f"{'-' * width}  {'-' * 10}  {'-' * 10}"]
        for name in metrics:
            reference = values.get(f"reference/{name}")
            lines.append(f"{name:<{width}}  {number(values[f'metrics/{name}']):>10}  "
                         f"{'' if reference is None else number(reference):>10}")
    scalars = sorted(tag for tag in values if tag.startswith(("train/", "val/")))
    if scalars:
        lines.append(("\n" if lines else "") + "last training values: "
                     + ", ".join(f"{tag}={number(values[tag])}" for tag in scalars))
    return "\n".join(lines)
