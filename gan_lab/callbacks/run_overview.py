"""A run at a glance in TensorBoard: the charts that put several series together, and the config.

Every metric already has its own chart in the SCALARS tab, where real data's value is a second run
(``real_data``, :class:`gan_lab.callbacks.evaluation.RealDataRun`) under the same tag: generator and real
data in two colours.  Written once per run, with the evaluation's first values:

* a custom-scalars layout (CUSTOM SCALARS tab) only for what a single chart cannot show: precision with
  recall, density with coverage, the birthday support size with its 95 % interval, and the training curves;
* ``config/run``: the run's resolved config as YAML (the one ``gan-lab-eval``
  rebuilds the run from), and ``config/evaluation``: the evaluation's
  settings as a table (TEXT tab).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from omegaconf import OmegaConf

#: (category, chart title, tags): each tag a line of the chart (each run its colour); a chart is shown if
#: any of its tags is logged.
MULTILINE_CHARTS = [
    ("Metrics", "Precision and recall", ["metrics/precision", "metrics/recall"]),
    ("Metrics", "Density and coverage", ["metrics/density", "metrics/coverage"]),
    ("Metrics", "Class accuracy and code-class agreement (conditional models)",
     ["metrics/class_accuracy", "metrics/code_class_agreement", "metrics/code_class_chance"]),
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
        if any(tag in logged for tag in tags):
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
