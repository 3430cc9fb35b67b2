"""A run at a glance in TensorBoard: each metric on one chart with its real-data reference, and the config.

Written once per run, with the evaluation's first values:

* a custom-scalars layout (TensorBoard's CUSTOM SCALARS tab): IS beside the
  real data's IS, FID beside the reference FID, modes covered beside the
  real data's count, ... (``reference/...`` is logged at every evaluation, so
  it draws as a line), the birthday support size with its 95 % interval, and
  the training curves;
* ``config/run``: the run's resolved config as YAML (the one ``gan-lab-eval``
  rebuilds the run from), and ``config/evaluation``: the evaluation's
  settings as a table (TEXT tab).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from omegaconf import OmegaConf

#: (category, chart title, tags): each tag a line of the chart, the metric first (a chart is shown if it is logged).
MULTILINE_CHARTS = [
    ("Metrics vs real data", "Inception Score (reference: real data)", ["metrics/inception_score", "reference/inception_score"]),
    ("Metrics vs real data", "FID (reference: real training vs held-out)", ["metrics/fid", "reference/fid"]),
    ("Metrics vs real data", "KID (reference: real training vs held-out)", ["metrics/kid", "reference/kid"]),
    ("Metrics vs real data", "Precision and recall", ["metrics/precision", "reference/precision", "metrics/recall",
                                                      "reference/recall"]),
    ("Metrics vs real data", "Density and coverage", ["metrics/density", "reference/density", "metrics/coverage",
                                                      "reference/coverage"]),
    ("Modes", "Modes covered (reference: real data)", ["metrics/modes_covered", "reference/modes_covered"]),
    ("Modes", "High-quality fraction (2D)", ["metrics/high_quality_fraction", "reference/high_quality_fraction"]),
    ("Modes", "Mode KL to uniform", ["metrics/mode_kl", "reference/mode_kl"]),
    ("Modes", "JS by grid, nats (reference: real sample)", ["metrics/js_grid", "reference/js_grid"]),
    ("Birthday paradox", "Collision rate (reference: real batches)", ["metrics/birthday_collision_rate",
                                                                      "reference/birthday_collision_rate"]),
]
#: (category, chart title, (value, lower, upper)): a value with its interval.
MARGIN_CHARTS = [
    ("Birthday paradox", "Support size, 95 % interval (an infinite bound is not drawn)",
     ("metrics/birthday_support_size", "metrics/birthday_support_size_low", "metrics/birthday_support_size_high")),
]
#: The training curves GANModule always logs.
TRAINING_CHARTS = [
    ("Training", "Losses", ["train/loss_d", "train/loss_g"]),
    ("Training", "Mean D on real and generated samples", ["train/d_real", "train/d_fake", "val/d_real"]),
    ("Training", "Generator gradient norm", ["train/grad_norm_g"]),
]


def exactly(tag: str) -> str:
    """A multiline chart's tags are regular expressions matched at the start: anchor both ends."""
    return f"^{re.escape(tag)}$"


def custom_scalars_layout(logged_tags: Iterable[str]) -> dict[str, dict[str, list]]:
    """``{category: {title: ["Multiline", regexes] | ["Margin", [value, lower, upper]]}}`` for ``add_custom_scalars``.

    Charts whose metric is not among ``logged_tags`` (e.g. a metric switched off) are left out.
    """
    logged = set(logged_tags)
    layout: dict[str, dict[str, list]] = {}
    for category, title, tags in MULTILINE_CHARTS:
        if tags[0] in logged:
            layout.setdefault(category, {})[title] = ["Multiline", [exactly(tag) for tag in tags if tag in logged]]
    for category, title, series in MARGIN_CHARTS:
        if all(tag in logged for tag in series):
            layout.setdefault(category, {})[title] = ["Margin", list(series)]
    for category, title, tags in TRAINING_CHARTS:
        layout.setdefault(category, {})[title] = ["Multiline", [exactly(tag) for tag in tags]]
    return layout


def config_markdown(run_config: Mapping[str, Any]) -> str:
    """The run's config as YAML in a Markdown code block (TensorBoard renders text as Markdown)."""
    return f"```yaml\n{OmegaConf.to_yaml(OmegaConf.create(dict(run_config)))}```"


def settings_markdown(settings: Mapping[str, Any]) -> str:
    """The evaluation's ``settings/...`` values as a Markdown table."""
    rows = [f"| `{tag}` | {value:.6g} |" if isinstance(value, float) else f"| `{tag}` | {value} |"
            for tag, value in sorted(settings.items())]
    return "\n".join(["| setting | value |", "|---|---|", *rows])


def write_run_overview(writer, run_config: Mapping[str, Any] | None, settings: Mapping[str, Any],
                       logged_tags: Iterable[str], step: int) -> None:
    """Write the custom-scalars layout, ``config/run`` (if the module has a run config) and ``config/evaluation``."""
    writer.add_custom_scalars(custom_scalars_layout(logged_tags))
    if run_config is not None:
        writer.add_text("config/run", config_markdown(run_config), step)
    writer.add_text("config/evaluation", settings_markdown(settings), step)
