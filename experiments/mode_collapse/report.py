"""Write the mode-collapse study's README table and sample figure from ``results.jsonl``."""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

from gan_lab.checkpoints import load_model  # noqa: E402

#: Columns of the table: (record key, header, format).
COLUMNS = [
    ("modes_covered", "modes", "{:.1f}"),
    ("high_quality_fraction", "high quality %", "{:.1f}"),
    ("mode_kl", "reverse KL", "{:.3f}"),
    ("inception_score", "IS", "{:.2f}"),
    ("fid", "FID", "{:.3g}"),
    ("birthday_support_size_low", "birthday support (95 % low)", "{:.3g}"),
]
#: Published rows (PacGAN, Lin et al. 2018, Table 1 and 3; VEEGAN, Srivastava et al. 2017, Tables 1-2).
PUBLISHED = {
    "grid25": [("GAN (PacGAN Table 1)", "17.3", "94.8", "0.70"), ("PacGAN4", "24.8", "93.6", "0.04"),
               ("VEEGAN", "24.6", "40", "-")],
    "ring8": [("GAN (PacGAN Table 1)", "6.3", "98.2", "0.45"), ("PacGAN2", "7.9", "95.6", "0.07")],
    "stacked_digits": [("DCGAN on Stacked MNIST (PacGAN Table 3)", "99", "-", "3.4"),
                       ("PacDCGAN2 on Stacked MNIST", "1000", "-", "0.06-0.07")],
}


def load(results: Path) -> list[dict]:
    return [json.loads(line) for line in results.read_text().splitlines() if line.strip()]


def summary(values: list[float], fmt: str, scale: float = 1.0) -> str:
    """Mean ± std of the finite values; infinite ones (a KL with an empty mode histogram) are counted apart."""
    present = [v for v in values if v is not None and v >= 0]
    finite = [v * scale for v in present if math.isfinite(v)]
    infinite = len(present) - len(finite)
    note = f" (+{infinite} inf)" if infinite else ""
    if not finite:
        return "inf" if infinite else "-"
    if len(finite) == 1:
        return fmt.format(finite[0]) + note
    return f"{fmt.format(statistics.mean(finite))} ± {fmt.format(statistics.stdev(finite))}{note}"


def table(records: list[dict], dataset: str) -> list[str]:
    cells = defaultdict(list)
    for record in records:
        if record["dataset"] == dataset:
            cells[(record["model"], record["loss"])].append(record)
    header = "| model | loss | n | " + " | ".join(h for _, h, _ in COLUMNS) + " | s / run |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for (model, loss), runs in sorted(cells.items()):
        values = [summary([r.get(key) for r in runs], fmt, 100.0 if key == "high_quality_fraction" else 1.0)
                  for key, _, fmt in COLUMNS]
        seconds = statistics.mean(r["seconds"] for r in runs)
        lines.append(f"| {model} | {loss} | {len(runs)} | " + " | ".join(values) + f" | {seconds:.0f} |")
    lines += ["", "Published (their networks, data sizes and training lengths, not ours):", "",
              "| method | modes | high quality % | reverse KL |", "|---|---|---|---|"]
    lines += [f"| {name} | {modes} | {hq} | {kl} |" for name, modes, hq, kl in PUBLISHED[dataset]]
    return lines


def sample_figure(records: list[dict], out: Path, path: Path) -> None:
    """Final samples of seed 0 of every variant: a scatter for 2D data, an image grid for stacked digits."""
    datasets = [d for d in ("ring8", "grid25", "stacked_digits") if any(r["dataset"] == d for r in records)]
    variants = sorted({(r["model"], r["loss"]) for r in records})
    fig, axes = plt.subplots(len(datasets), len(variants), figsize=(3 * len(variants), 3 * len(datasets)), squeeze=False)
    for row, dataset in enumerate(datasets):
        for col, (model, loss) in enumerate(variants):
            ax = axes[row, col]
            ax.axis("off")
            runs = sorted((r for r in records if (r["dataset"], r["model"], r["loss"]) == (dataset, model, loss)),
                          key=lambda r: r["seed"])
            if not runs:
                continue
            trained, datamodule, _ = load_model(out / runs[0]["checkpoint"])
            if dataset == "stacked_digits":
                images = trained.generate(36, seed=0)
                ax.imshow(make_grid((images + 1) / 2, nrow=6, padding=1).permute(1, 2, 0).clamp(0, 1))
            else:
                points = trained.generate(2500, seed=0)
                ax.scatter(points[:, 0], points[:, 1], s=1, alpha=0.3)
                ax.scatter(datamodule.centers[:, 0], datamodule.centers[:, 1], s=8, marker="x", color="red")
                ax.set_aspect("equal")
            ax.set_title(f"{dataset}\n{model}, {loss}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(results: Path, report: Path, out: Path, machine: str) -> None:
    records = load(results)
    total = sum(r["seconds"] for r in records)
    lines = [
        "# Mode collapse: vanilla GAN vs minibatch discrimination",
        "",
        "Every cell is an ordinary `gan-lab-train` run (`configs/experiment/mode_collapse_<data set>.yaml`,"
        " shared by all four variants of a data set), evaluated by the metric callbacks at the end of training.",
        "",
        "Command:",
        "",
        "```",
        "python experiments/mode_collapse/run_study.py",
        "```",
        "",
        f"Machine: {machine}. Total training and evaluation time: {total / 60:.1f} min over {len(records)} runs.",
        "Entries are mean ± standard deviation over seeds (n runs); the birthday column is the 95 % lower"
        " bound of the support size (no collision in any trial gives a finite lower bound only).",
        "",
    ]
    for dataset in ("ring8", "grid25", "stacked_digits"):
        if any(r["dataset"] == dataset for r in records):
            lines += [f"## {dataset}", "", *table(records, dataset), ""]
    figure = report.parent / "samples.png"
    sample_figure(records, out, figure)
    lines += ["## Final samples (seed 0)", "", f"![samples]({figure.name})", "", "## Discussion", "",
              "DISCUSSION (written after reading the numbers above)", ""]
    existing = report.read_text() if report.exists() else ""
    if "## Discussion" in existing:  # keep a discussion already written
        lines = lines[: lines.index("## Discussion")] + existing[existing.index("## Discussion"):].splitlines()
    report.write_text("\n".join(lines) + "\n")
