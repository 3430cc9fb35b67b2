"""Write the PacGAN study's README (our table beside PacGAN's Table 1, learning curves, protocol, provenance).

Called by ``run_study.py`` (``--report-only`` rebuilds it from ``results.jsonl`` alone).  Nothing above the
Discussion section draws a conclusion except the per-cell verdicts, which are computed; the Discussion is
written by a person and kept when the report is rebuilt.
"""

from __future__ import annotations

import sys
import math
import statistics
from collections import defaultdict
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/, where the studies package lives

from studies import Provenance
from studies.tables import summary

VARIANT_NAMES = {"gan": "GAN", "pacgan2": "PacGAN2", "pacgan3": "PacGAN3", "pacgan4": "PacGAN4",
                 "minibatch": "minibatch discrimination (ours, not in Table 1)"}
#: PacGAN Table 1 (Lin et al. 2018, 10 trials, 400 epochs): (modes, high-quality %, reverse KL); means as in
#: ../../shared/REFERENCES.md (the published spreads are not among our checked facts, so verdicts use ours).
PUBLISHED = {
    "grid25": {"gan": (17.3, 94.8, 0.70), "pacgan2": (23.8, 91.3, 0.13), "pacgan3": (24.6, 94.2, 0.06),
               "pacgan4": (24.8, 93.6, 0.04)},
    "ring8": {"gan": (6.3, 98.2, 0.45), "pacgan2": (7.9, 95.6, 0.07)},
}
#: (record key, header, format, scale, published index)
METRICS = [("modes_covered", "modes", "{:.1f}", 1.0, 0), ("high_quality_fraction", "high quality %", "{:.1f}", 100.0, 1),
           ("mode_kl", "reverse KL", "{:.3f}", 1.0, 2)]
DISCUSSION = "## Discussion"
PLACEHOLDER = "TO BE WRITTEN after reading the numbers above (kept when the report is rebuilt)."


def interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """The t-interval of the mean of ``values`` (n >= 2)."""
    mean, sem = statistics.mean(values), statistics.stdev(values) / math.sqrt(len(values))
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * sem
    return mean - half, mean + half


def verdict(values: list[float], published: float, scale: float) -> str:
    """Whether the published mean lies in the 95 % interval of our mean (and if not, on which side we are)."""
    values = [v * scale for v in values if v is not None and math.isfinite(v)]
    if len(values) < 2:
        return "n < 2"
    low, high = interval(values)
    if statistics.stdev(values) == 0:
        low, high = values[0], values[0]
    if low <= published <= high:
        return "consistent"
    return "ours lower" if high < published else "ours higher"


def table(records: list[dict], dataset: str, epochs: int) -> list[str]:
    cells = defaultdict(list)
    for record in records:
        if record["dataset"] == dataset and record["epochs"] == epochs and record["status"] == "ok":
            cells[record["variant"]].append(record)
    header = ("| variant | n | " + " | ".join(h for _, h, *_ in METRICS) + " | published (modes / HQ % / KL) "
              "| verdict (modes, HQ, KL) | min / run |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for variant in VARIANT_NAMES:
        runs = cells.get(variant)
        if not runs:
            continue
        ours = [summary([r.get(key) for r in runs], fmt, scale) for key, _, fmt, scale, _ in METRICS]
        published = PUBLISHED.get(dataset, {}).get(variant)
        if published:
            shown = " / ".join(f"{value:g}" for value in published)
            verdicts = ", ".join(verdict([r.get(key) for r in runs], published[i], scale)
                                 for key, _, _, scale, i in METRICS)
        else:
            shown, verdicts = "-", "-"
        minutes = summary([r["seconds"] / 60 for r in runs], "{:.1f}")
        lines.append(f"| {VARIANT_NAMES[variant]} | {len(runs)} | " + " | ".join(ours)
                     + f" | {shown} | {verdicts} | {minutes} |")
    return lines


def seed0_runs(records: list[dict], dataset: str, variant: str) -> list[dict]:
    """Seed 0's runs with a curve (the table run and its continuation), shortest first."""
    return sorted((r for r in records if (r["dataset"], r["variant"], r["seed"]) == (dataset, variant, 0)
                   and r.get("curve")), key=lambda r: r["epochs"])


def updates_per_epoch(run: dict, tag: str) -> float | None:
    """G's updates per epoch, from a run's last curve point (logged at the end of its last epoch)."""
    points = run["curve"].get(tag)
    return points[-1][0] / run["epochs"] if points else None


def curve(records: list[dict], dataset: str, variant: str, tag: str) -> tuple[list[float], list[float], list[int]]:
    """Seed 0's ``tag`` against epochs and against generator updates, the table run and its continuation joined.

    A curve point is (generator updates, value): the runs log at the count of G's updates, and an epoch has
    fewer of them the larger the pack (data size / (batch size x pack)), so the two axes differ by variant.
    """
    runs = seed0_runs(records, dataset, variant)
    per_epoch = updates_per_epoch(runs[0], tag) if runs else None
    if per_epoch is None:
        return [], [], []
    points = {step: value for r in runs for step, value in r["curve"].get(tag, [])}
    updates = sorted(points)
    return [round(u / per_epoch) for u in updates], [points[u] for u in updates], updates


def updates_sentence(records: list[dict], datasets: list[str]) -> str:
    """What an epoch is in G's updates, per variant, as measured in the records (e.g. "GAN 1,000, PacGAN2 500")."""
    parts = []
    for variant, name in VARIANT_NAMES.items():
        counts = set()
        for dataset in datasets:
            runs = seed0_runs(records, dataset, variant)
            per_epoch = updates_per_epoch(runs[0], "metrics/high_quality_fraction") if runs else None
            if per_epoch is not None:
                counts.add(round(per_epoch))
        if counts:
            parts.append(f"{name.split(' (')[0]} {', '.join(f'{c:,}' for c in sorted(counts))}")
    return "; ".join(parts)


#: The learning-curve panels: (tag, y label, scale, x axis).
CURVE_PANELS = [("metrics/modes_covered", "modes covered", 1.0, "epoch"),
                ("metrics/high_quality_fraction", "high-quality samples (%)", 100.0, "epoch"),
                ("metrics/high_quality_fraction", "high-quality samples (%)", 100.0, "generator updates")]


def curve_figure(records: list[dict], datasets: list[str], path: Path, table_epochs: int) -> None:
    """Modes covered and high-quality % of each variant's seed 0 against epochs, and high-quality % against
    generator updates (a pack of m makes an epoch m times shorter in updates), one row per data set."""
    fig = Figure(figsize=(14, 3.4 * len(datasets)), dpi=80)
    axes = fig.subplots(len(datasets), len(CURVE_PANELS), squeeze=False)
    for row, dataset in enumerate(datasets):
        for col, (tag, label, scale, x_axis) in enumerate(CURVE_PANELS):
            ax = axes[row, col]
            for variant, name in VARIANT_NAMES.items():
                epochs, values, updates = curve(records, dataset, variant, tag)
                if epochs:
                    ax.plot(epochs if x_axis == "epoch" else updates, [v * scale for v in values], marker=".",
                            label=name.split(" (")[0])
            if x_axis == "epoch":
                ax.axvline(table_epochs, color="grey", linestyle=":", linewidth=1)
            ax.set_title(f"{dataset}: {label}, seed 0", fontsize=10)
            ax.set_xlabel(x_axis)
            ax.set_ylabel(label)
            ax.legend(fontsize=7)
    fig.tight_layout()
    FigureCanvasAgg(fig).print_png(str(path))


def write_report(records: list[dict], report: Path, out: Path, table_epochs: int, curve_every: int) -> None:
    provenance = Provenance(**records[0]["provenance"]) if records else None
    commands = sorted({r["command"] for r in records if r.get("command")})
    datasets = [d for d in ("grid25", "ring8") if any(r["dataset"] == d for r in records)]
    full = sorted({r["epochs"] for r in records if r["epochs"] != table_epochs})
    hours = sum(r["process_seconds"] for r in records) / 3600
    lines = [
        "# PacGAN's Table 1 under its own protocol",
        "",
        "GAN, PacGAN2, PacGAN3 and PacGAN4 (Lin et al., NeurIPS 2018) on PacGAN's 2D grid of 25 and ring of 8"
        " Gaussians, with PacGAN's networks, optimiser, batch size, data size and evaluation"
        " (`configs/experiment/pacgan_grid25.yaml`, `configs/experiment/pacgan_ring8.yaml`,"
        " `configs/net/pacgan_mlp.yaml`), and minibatch discrimination on the same networks as our extra row."
        f" Each run is an ordinary `gan-lab-train experiment=pacgan_<data set> <variant> trainer.max_epochs={table_epochs}"
        f" seed=<seed>`; seed 0 is evaluated every {curve_every} epochs for the learning curves"
        + (f" and continued from its checkpoint to {', '.join(map(str, full))} epochs (an exact resume)." if full
           else "; no run was continued past the table's epochs in this study."),
        "",
        "Command (from the repository root):",
        "",
        "```",
        *(commands or ["python experiments/pacgan_table1/run_study.py"]),
        "```",
        "",
        f"Code: commit `{provenance.commit if provenance else '?'}`"
        + ("" if provenance is None or provenance.clean else " **with uncommitted changes: not reproducible**")
        + ", the same for every run (the runner refuses uncommitted code and never mixes commits or machines).",
        f"Machine: {provenance.machine() if provenance else '?'}.",
        f"Software: {provenance.software() if provenance else '?'}.",
        f"Compute: {len(records)} runs, {hours:.1f} hours of run time (each run's wall clock, summed). "
        "Raw records: `results/results.jsonl`.",
        "",
        f"Entries: mean ± standard deviation over n seeds after {table_epochs} epochs; *published*: PacGAN's Table 1"
        " (10 trials, 400 epochs). Verdict per metric: *consistent* if the published mean lies in the 95 %"
        " t-interval of our mean, else which side we are on.",
        "",
    ]
    for dataset in datasets:
        lines += [f"## {dataset}", "", *table(records, dataset, table_epochs), ""]
    figure = report.parent / "learning_curves.png"
    if any(r.get("curve") for r in records):
        curve_figure(records, datasets, figure, table_epochs)
        lines += ["## Learning curves", "", f"![learning curves]({figure.name})", "",
                  f"Seed 0 of each variant; the dotted line marks epoch {table_epochs}, where the table's runs stop. The"
                  " right-hand panel puts the same high-quality fractions against the generator's updates; G's updates"
                  f" per epoch: {updates_sentence(records, datasets)}.", ""]
        for epochs in full:
            for dataset in datasets:
                lines += [f"{dataset}, seed 0 after {epochs} epochs (did the {table_epochs}-epoch runs plateau?):", "",
                          *table(records, dataset, epochs), ""]
    lines += [PROTOCOL, ""]
    existing = report.read_text() if report.exists() else ""
    discussion = existing[existing.index(DISCUSSION):].rstrip().splitlines() if DISCUSSION in existing else \
        [DISCUSSION, "", PLACEHOLDER]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines + discussion) + "\n")


PROTOCOL = """## Protocol: PacGAN's code and ours

| | PacGAN's code (`synthetic_data_experiments/`) | here |
|---|---|---|
| data | 100,000 points; grid: means {-4,-2,0,2,4}^2, std 0.05; ring: radius 1, std 0.01 | the same (105,000 drawn, 5,000 held out for `reference/` values) |
| generator | 2 -> 400 x 4 -> 2, batch norm + ReLU, no hidden bias | the same (`MLPGenerator`, `batch_norm_momentum: 0.05` as their population update) |
| discriminator | 3 maxout layers, 200 units x 5 pieces, linear logit; input 2m | the same (`MaxoutDiscriminator`) |
| initialisation | weights N(0, 0.02^2), biases 0 | the same |
| optimiser | Adam, lr 1e-4, beta1 0.8, both players; simultaneous updates (ALI's `ali_algorithm`) | the same (`model.updates: simultaneous`) |
| batch | 100 items, each a pack of m points, real and fake | the same (`data.batch_size: 100 m`) |
| generator's batch norm | statistics over each of the m latent batches of 100 | over the whole 100 m batch |
| epochs | 400 | 100 for the table (CPU budget); seed 0 continued to 400 |
| trials | 10 | 5 |
| evaluation | 2,500 samples of a fixed latent draw, population batch-norm statistics; high quality within 3 std (strict) | the same (`evaluation.num_samples: 2500`, eval mode), `<=` 3 std (equal up to a null set) |
| reverse KL | logged as the entropy H of the mode histogram; Table 1 reports log K - H | `metrics/mode_kl` = log K - H |"""
