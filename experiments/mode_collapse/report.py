"""Write the mode-collapse study's README (tables, published anchors, timing) and sample figure.

Called by ``run_study.py`` (``--report-only`` rebuilds them from ``results.jsonl`` alone).  The
text states what was run and what was measured; it draws no conclusion: the Discussion section is
left for a person to write after reading the numbers, and is kept when the report is rebuilt.
"""

from __future__ import annotations

import sys
import os
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

from gan_lab.cli.checkpoints import load_model  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/, where the studies package lives

from studies import Provenance  # noqa: E402
from studies.tables import summary  # noqa: E402

DATASETS = ("ring8", "grid25", "stacked_digits")
#: Columns of the table: (record key, header, format, scale).
COLUMNS = [
    ("modes_covered", "modes", "{:.1f}", 1.0),
    ("high_quality_fraction", "high quality %", "{:.1f}", 100.0),
    ("mode_kl", "reverse KL", "{:.3f}", 1.0),
    ("inception_score", "IS", "{:.2f}", 1.0),
    ("fid", "FID", "{:.3g}", 1.0),
    ("birthday_support_size", "birthday support", "{:.3g}", 1.0),
    ("birthday_support_size_low", "support 95 % low", "{:.3g}", 1.0),
    ("birthday_collision_rate", "collision rate", "{:.2f}", 1.0),
]
#: Published rows (PacGAN, Lin et al. 2018, Table 1 (2D, 10 trials) and Stacked MNIST; VEEGAN, Srivastava
#: et al. 2017, Tables 1-2): (method, modes, high quality %, reverse KL).  Their networks, data sizes and
#: training lengths, not ours.
PUBLISHED = {
    "grid25": [("GAN (PacGAN Table 1)", "17.3", "94.8", "0.70"), ("PacGAN4 (PacGAN Table 1)", "24.8", "93.6", "0.04"),
               ("VEEGAN (VEEGAN Table 1)", "24.6", "40", "-")],
    "ring8": [("GAN (PacGAN Table 1)", "6.3", "98.2", "0.45"), ("PacGAN2 (PacGAN Table 1)", "7.9", "95.6", "0.07")],
    "stacked_digits": [("DCGAN on Stacked MNIST (PacGAN)", "99", "-", "3.4"),
                       ("PacDCGAN2 on Stacked MNIST (PacGAN)", "1000", "-", "0.06-0.07")],
}
DISCUSSION = "## Discussion"
PLACEHOLDER = ("TO BE WRITTEN after reading the numbers above (nothing above this section draws a conclusion; this "
               "section is kept when the report is rebuilt).")


def table(records: list[dict], dataset: str) -> list[str]:
    """Our cells (mean ± std over seeds) with the published rows beneath, in one table."""
    cells = defaultdict(list)
    for record in records:
        if record["dataset"] == dataset:
            cells[(record["model"], record["loss"])].append(record)
    header = "| model | loss | n | " + " | ".join(h for _, h, _, _ in COLUMNS) + " | s / run |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for (model, loss), runs in sorted(cells.items()):
        finished = [r for r in runs if r.get("status", "ok") == "ok"]
        diverged = len(runs) - len(finished)
        n = f"{len(runs)}" + (f" ({diverged} diverged)" if diverged else "")
        values = [summary([r.get(key) for r in finished], fmt, scale) for key, _, fmt, scale in COLUMNS]
        seconds = summary([r["seconds"] for r in runs], "{:.0f}")
        lines.append(f"| {model} | {loss} | {n} | " + " | ".join(values) + f" | {seconds} |")
    for name, modes, hq, kl in PUBLISHED[dataset]:
        cells = [f"*published:* {name}", "", "", modes, hq, kl] + [""] * (len(COLUMNS) - 3) + [""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def settings_table(settings: dict[str, str]) -> list[str]:
    lines = ["| setting | value |", "|---|---|"]
    return lines + [f"| `{key}` | `{value}` |" for key, value in settings.items()]


def timing(records: list[dict]) -> list[str]:
    total = sum(r["seconds"] for r in records)
    wall = sum(r.get("process_seconds", r["seconds"]) for r in records)
    lines = [f"Total: {total / 60:.1f} min of training and final evaluation over {len(records)} runs "
             f"({wall / 60:.1f} min including each run's process start).", "",
             "| data set | runs | s / run (mean ± std) | fastest | slowest |", "|---|---|---|---|---|"]
    for dataset in DATASETS:
        seconds = [r["seconds"] for r in records if r["dataset"] == dataset]
        if seconds:
            lines.append(f"| {dataset} | {len(seconds)} | {summary(seconds, '{:.0f}')} | {min(seconds):.0f} | "
                         f"{max(seconds):.0f} |")
    loads = [v for r in records for v in r.get("load_average", [])]
    if loads:
        jobs = max(r.get("jobs", 1) for r in records)
        noted = sum("load_average" in r for r in records)
        lines += ["", f"1-minute load average at the start and end of the {noted} runs that noted it: "
                  f"{min(loads):.1f} to {max(loads):.1f} "
                  f"on {os.cpu_count()} cores, the study's own runs counting for {jobs} (runs at a time). A higher "
                  "load means other jobs shared the machine and made runs slower."]
    return lines


def sample_figure(records: list[dict], out: Path, path: Path) -> None:
    """Final samples of the lowest seed of each variant whose checkpoint is on disk: points over the centres (2D),
    an image grid (images)."""
    datasets = [d for d in DATASETS if any(r["dataset"] == d and "checkpoint" in r for r in records)]
    variants = sorted({(r["model"], r["loss"]) for r in records})
    fig, axes = plt.subplots(len(datasets), len(variants), figsize=(2.6 * len(variants), 3.0 * len(datasets)),
                             squeeze=False)
    for row, dataset in enumerate(datasets):
        for col, (model, loss) in enumerate(variants):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            # Checkpoints live outside git (results/runs/): a fresh clone has only the records.
            runs = sorted((r for r in records if (r["dataset"], r["model"], r["loss"]) == (dataset, model, loss)
                           and "checkpoint" in r and (out / r["checkpoint"]).exists()), key=lambda r: r["seed"])
            if not runs:
                ax.set_title(f"{dataset}: {model}, {loss}\nno checkpoint on disk", fontsize=7)
                continue
            trained, datamodule, _ = load_model(out / runs[0]["checkpoint"])
            title = f"{dataset}: {model}, {loss}\nseed {runs[0]['seed']}"
            if dataset == "stacked_digits":
                images = trained.generate(64, seed=0)
                ax.imshow(make_grid((images + 1) / 2, nrow=8, padding=1).permute(1, 2, 0).clamp(0, 1))
            else:
                points = trained.generate(2500, seed=0)
                centres = datamodule.centers
                low, high = centres.min(0).values, centres.max(0).values
                margin = 0.3 * (high - low).max()
                low, high = low - margin, high + margin
                inside = ((points >= low) & (points <= high)).all(1)
                ax.scatter(points[inside, 0], points[inside, 1], s=1, alpha=0.3, rasterized=True)
                ax.scatter(centres[:, 0], centres[:, 1], s=10, marker="x", color="red", linewidths=0.8)
                ax.set_xlim(low[0], high[0])
                ax.set_ylim(low[1], high[1])
                ax.set_aspect("equal")
                outside = 1 - inside.float().mean().item()
                if outside > 0:
                    share = f"{outside:.0%}" if outside >= 0.005 else "under 1%"  # never "0%" for a few points
                    title += f", {share} outside the frame"
            ax.set_title(title, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_report(records: list[dict], report: Path, out: Path, settings: dict[str, dict[str, str]],
                 stale: int = 0) -> None:
    """Write ``report`` (Markdown) and ``samples.png`` beside it from the current ``records`` (one commit, one machine)."""
    commands = sorted({r["command"] for r in records if r.get("command")})
    provenance = Provenance(**records[0]["provenance"]) if records else None
    code = "unknown" if provenance is None else f"commit `{provenance.commit}`" + (
        "" if provenance.clean else " **with uncommitted changes: not reproducible**")
    try:
        results_name = (out / "results.jsonl").resolve().relative_to(report.parent.resolve())
    except ValueError:
        results_name = out / "results.jsonl"
    lines = [
        "# Mode collapse: vanilla GAN vs minibatch discrimination",
        "",
        "{minimax, non_saturating} loss x {`model=gan`, `model=minibatch_gan`} on `ring8`, `grid25` and"
        " `stacked_digits`. Every run is an ordinary `gan-lab-train` run of"
        " `experiment=mode_collapse_<data set> loss=<loss> model=<model> seed=<seed>`"
        " (`configs/experiment/mode_collapse_<data set>.yaml`: one set of training settings shared by all four"
        " variants of a data set), evaluated once, at the end of training, by the metric callbacks:"
        " 2D data by the VEEGAN/PacGAN protocol (2,500 samples; a sample is high quality within 3 std of its"
        " nearest centre; a mode is covered if it has a high-quality sample; reverse KL of the high-quality mode"
        " histogram to uniform), stacked digits by the Stacked-MNIST protocol (26,000 samples, each channel"
        " classified by the digits evaluator; KL of the 1,000-class histogram to uniform).",
        "",
        "Command (from the repository root; a resumed study lists every invocation):",
        "",
        "```",
        *(commands or ["python experiments/mode_collapse/run_study.py"]),
        "```",
        "",
        f"Code: {code}, the same for every run (the runner refuses a tree with uncommitted changes).",
        f"Machine: {provenance.machine() if provenance else 'unknown'}.",
        f"Software: {provenance.software() if provenance else 'unknown'}.",
        f"Raw records: `{results_name}`, one JSON line per run.",
        "",
        "Entries are mean ± standard deviation over seeds (n runs). *published* rows come from the papers, with"
        " their networks, data sizes and training lengths, not ours. Birthday support: estimated support size from"
        " the birthday-paradox test (batches of `evaluation.metrics.birthday.batch_size` samples; inf: no near-duplicate pair"
        " in any batch), and its 95 % lower bound.",
        "",
    ]
    if stale:
        lines += [f"({stale} older records in the results file, run with other settings, code or machines, are not in "
                  "these tables.)", ""]
    for dataset in DATASETS:
        if any(r["dataset"] == dataset for r in records):
            lines += [f"## {dataset}", "", *table(records, dataset), ""]
            if dataset in settings:
                lines += ["Settings shared by the four variants (the minibatch layer only in `minibatch_gan`):", "",
                          *settings_table(settings[dataset]), ""]
    lines += ["## Run time", "", *timing(records), ""]
    figure = report.parent / "samples.png"
    sample_figure(records, out, figure)
    lines += ["## Final samples", "",
              "2,500 samples (latent seed 0) of the lowest-seed run of each variant over the mixture centres (red),"
              " and 64 stacked-digit samples.", "", f"![final samples]({figure.name})", ""]
    existing = report.read_text() if report.exists() else ""
    discussion = existing[existing.index(DISCUSSION):].rstrip().splitlines() if DISCUSSION in existing else \
        [DISCUSSION, "", PLACEHOLDER]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines + discussion) + "\n")
