"""``gan-lab-check``: prove that an install trains and measures on this machine's own devices as on a CPU.

    gan-lab-check                              # every device found: the CPU, each CUDA GPU, Apple's MPS
    gan-lab-check --devices cpu --out report.json
    gan-lab-check --devices cuda --cases mlp   # one device kind, one network

For each device and each precision it supports (float32, and mixed precision through Lightning's
``precision`` setting: bf16 on the CPU and on GPUs that have it, fp16 on CUDA), it trains each case
(the default run's networks on the digits, and the DCGAN on digits enlarged to 32x32) for a fixed number
of steps, twice: once evaluating after every epoch and once not evaluating at all.  Then it checks

* **the evaluation leaves training alone**: both runs end with the same weights (the evaluation draws from
  its own seeded generators, on every device);
* **the metrics agree across devices**: the same checkpoint evaluated on the CPU and on the device gives the
  same values, within :data:`TOLERANCE` (float32 evaluation on both: only the order of floating-point
  operations differs);
* **several processes measure what one does**: the checkpoint evaluated by DDP on all GPUs found (at least
  2), else on 2 CPU processes, gives the one-process values.

It prints a table (device, precision, case, steps per second, peak memory, metric agreement, pass or fail),
writes it as JSON with ``--out``, and exits non-zero with one line naming what failed.  Nothing is
downloaded: the data and the evaluator ship with gan_lab.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

#: Metrics agree across devices when ``|a - b| <= ABS + REL * |b|`` (float32 features; sums in another order).
TOLERANCE = {"rel": 1e-3, "abs": 1e-4}
#: The networks each device trains: the default run's, and the DCGAN at 32x32 (digits enlarged, evaluated resized).
CASES = {"mlp": [], "dcgan32": ["net=dcgan", "data.image_size=32", "net.generator.base_width=16",
                                "net.discriminator.base_width=16"]}
#: The evaluation of a check: small but with every metric.
EVALUATION = ["evaluation.num_samples=1000", "evaluation.metrics.birthday.num_trials=20",
              "evaluation.metrics.kid.subset_size=200", "trainer.check_val_every_n_epoch=1", "evaluation.animation=null"]
QUIET = ["callbacks.progress_bar=null", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
         "~logger"]


@dataclass
class Device:
    """One device a run can use, as Lightning names it."""

    kind: str  # "cpu", "cuda" or "mps"
    name: str
    index: int | None = None
    memory_gb: float | None = None

    @property
    def label(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"

    def trainer_overrides(self) -> list[str]:
        """The ``trainer.accelerator`` / ``trainer.devices`` that put a run on this device alone."""
        accelerator = {"cpu": "cpu", "cuda": "gpu", "mps": "mps"}[self.kind]
        devices = f"[{self.index}]" if self.index is not None else "1"
        return [f"trainer.accelerator={accelerator}", f"trainer.devices={devices}"]

    @property
    def accelerator(self) -> str:
        return {"cpu": "cpu", "cuda": "gpu", "mps": "mps"}[self.kind]


def find_devices(kinds: list[str] | None = None) -> list[Device]:
    """The CPU, each CUDA GPU (name and memory) and MPS, as far as they are available and among ``kinds``."""
    found = [Device("cpu", platform.processor() or platform.machine() or "cpu")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            found.append(Device("cuda", properties.name, index, round(properties.total_memory / 2**30, 1)))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append(Device("mps", "Apple MPS"))
    return [device for device in found if kinds is None or device.kind in kinds]


def precisions_for(device: Device) -> list[str]:
    """Lightning ``precision`` settings to check on ``device``: float32, and the mixed precisions it supports."""
    if device.kind == "cpu":
        return ["32-true", "bf16-mixed"]
    if device.kind == "cuda":
        bf16 = torch.cuda.is_bf16_supported() if torch.cuda.is_available() else False
        return ["32-true", "16-mixed", *(["bf16-mixed"] if bf16 else [])]
    return ["32-true", "16-mixed"]


def versions() -> dict[str, str]:
    """The libraries whose versions decide a run's numbers."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("torch", "pytorch-lightning", "hydra-core", "torchmetrics", "gan_lab"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def disagreements(values: dict, reference: dict, tolerance: dict[str, float] = TOLERANCE) -> dict[str, tuple]:
    """The ``metrics/`` and ``reference/`` tags where ``values`` and ``reference`` differ beyond ``tolerance``."""
    found = {}
    for tag, expected in reference.items():
        if not tag.startswith(("metrics/", "reference/")) or isinstance(expected, str):
            continue
        got = values.get(tag)
        if got is None:
            found[tag] = (None, expected)
        elif math.isinf(expected) or math.isinf(got):
            if got != expected:
                found[tag] = (got, expected)
        elif not abs(got - expected) <= tolerance["abs"] + tolerance["rel"] * abs(expected):
            found[tag] = (got, expected)
    return found


def largest_difference(values: dict, reference: dict) -> float:
    """The largest relative difference over the numeric ``metrics/`` and ``reference/`` tags both have (0 if none)."""
    differences = [abs(values[tag] - value) / max(abs(value), 1e-12) for tag, value in reference.items()
                   if tag.startswith(("metrics/", "reference/")) and not isinstance(value, str)
                   and isinstance(values.get(tag), float) and math.isfinite(value) and math.isfinite(values[tag])]
    return max(differences, default=0.0)


@dataclass
class Row:
    """One line of the report."""

    device: str
    precision: str
    case: str
    steps_per_second: float | None = None
    peak_memory_mb: float | None = None
    metric_agreement: str = ""
    passed: bool = True
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.passed = False
        self.failures.append(what)


def train_run(overrides: list[str], run_dir: Path) -> tuple[dict, float, int]:
    """Train one run; returns its values, wall seconds and GAN steps."""
    from gan_lab.cli.compose import compose_config
    from gan_lab.cli.train import train

    config = compose_config(overrides, run_dir)
    start = time.perf_counter()
    values = train(config, run_dir)
    seconds = time.perf_counter() - start
    steps = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["gan_lab_steps_done"]
    return values, seconds, int(steps)


def same_weights(first: Path, second: Path) -> bool:
    a = torch.load(first, map_location="cpu", weights_only=False)["state_dict"]
    b = torch.load(second, map_location="cpu", weights_only=False)["state_dict"]
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def peak_memory_mb(device: Device) -> float:
    """The device's allocation high-water mark (CUDA), or the process's resident high-water mark (CPU, MPS)."""
    if device.kind == "cuda":
        return torch.cuda.max_memory_allocated(device.index) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_device(device: Device, precision: str, case: str, steps: int, work: Path) -> tuple[Row, Path]:
    """Train ``case`` on ``device`` twice (with and without evaluations), compare weights and metrics."""
    from gan_lab.cli.evaluate import evaluate

    row = Row(device.label, precision, case)
    base = ["data=digits", *CASES[case], *QUIET, *device.trainer_overrides(), f"trainer.precision={precision}",
            "trainer.max_epochs=2", f"trainer.limit_train_batches={steps // 2}", "data.steps_per_loader_batch=1",
            "trainer.check_val_every_n_epoch=1", "trainer.limit_val_batches=1", "seed=0"]
    if device.kind == "cuda":
        torch.cuda.reset_peak_memory_stats(device.index)
    evaluated_dir, plain_dir = work / f"{row.device}-{precision}-{case}", work / f"{row.device}-{precision}-{case}-plain"
    values, _, _ = train_run([*base, *EVALUATION], evaluated_dir)
    _, seconds, done = train_run([*base, "evaluation=none"], plain_dir)
    row.steps_per_second, row.peak_memory_mb = round(done / seconds, 1), round(peak_memory_mb(device), 1)
    checkpoint = evaluated_dir / "checkpoints" / "last.ckpt"
    if not same_weights(checkpoint, plain_dir / "checkpoints" / "last.ckpt"):
        row.fail("evaluating changed training (different weights with and without evaluations)")
    on_cpu = evaluate(str(checkpoint), accelerator="cpu")
    logged = disagreements(values, on_cpu)
    if logged:
        row.fail(f"gan-lab-eval on the CPU differs from the training run's evaluation: {sorted(logged)}")
    if device.kind == "cpu":
        row.metric_agreement = "reference device"
    else:
        on_device = evaluate(str(checkpoint), accelerator=device.accelerator, devices=[device.index] if device.index
                             is not None else 1)
        differing = disagreements(on_device, on_cpu)
        row.metric_agreement = f"max rel. diff {largest_difference(on_device, on_cpu):.1e}"
        if differing:
            row.fail(f"metrics on {device.label} differ from the CPU's beyond {TOLERANCE}: {sorted(differing)}")
    return row, checkpoint


def check_ddp(checkpoint: Path, devices: list[Device], work: Path) -> Row:
    """Evaluate ``checkpoint`` with DDP (all GPUs if at least 2, else 2 CPU processes) against one process."""
    from gan_lab.cli.evaluate import evaluate

    gpus = [d for d in devices if d.kind == "cuda"]
    accelerator, count = ("gpu", len(gpus)) if len(gpus) >= 2 else ("cpu", 2)
    row = Row(f"ddp: {count} x {accelerator}", "32-true", "mlp", metric_agreement="")
    one = evaluate(str(checkpoint), accelerator=accelerator, devices=1)
    run_dir = work / "ddp"
    run_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([sys.executable, "-m", "gan_lab.cli.evaluate", f"ckpt_path={checkpoint}",
                             f"accelerator={accelerator}", f"devices={count}", f"hydra.run.dir={run_dir}"],
                            cwd=run_dir, capture_output=True, text=True, timeout=900,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    if result.returncode != 0:
        row.fail(f"DDP evaluation failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else '?'}")
        return row
    several = {k: (float(v) if isinstance(v, (int, float)) or v in ("inf", "-inf") else v)
               for k, v in json.loads((run_dir / "metrics.json").read_text()).items()}
    differing = disagreements(several, one)
    row.metric_agreement = f"max rel. diff {largest_difference(several, one):.1e}"
    if differing:
        row.fail(f"{count}-process metrics differ from one process's: {sorted(differing)}")
    return row


def format_report(rows: list[Row]) -> str:
    header = ["device", "precision", "case", "steps/s", "peak memory (MB)", "metric agreement", "result"]
    lines = [[r.device, r.precision, r.case, "" if r.steps_per_second is None else f"{r.steps_per_second:g}",
              "" if r.peak_memory_mb is None else f"{r.peak_memory_mb:.0f}", r.metric_agreement,
              "pass" if r.passed else "FAIL"] for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    show = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([show(header), show(["-" * w for w in widths]), *map(show, lines)])


def run_check(kinds: list[str] | None, cases: list[str], steps: int, precisions: list[str] | None,
              ddp: bool, work: Path) -> dict:
    """Every check on every device found; returns the report (``passed``, ``rows``, devices and versions)."""
    devices = find_devices(kinds)
    rows, checkpoint = [], None
    for device in devices:
        for precision in precisions_for(device):
            if precisions and precision not in precisions:
                continue
            for case in cases:
                try:
                    row, trained = check_device(device, precision, case, steps, work)
                except Exception as err:  # one failing device or precision does not hide the others
                    row, trained = Row(device.label, precision, case), None
                    row.fail(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
                rows.append(row)
                if checkpoint is None and trained is not None and case == "mlp" and precision == "32-true":
                    checkpoint = trained
    if ddp and checkpoint is not None:
        rows.append(check_ddp(checkpoint, devices, work))
    return {"passed": all(r.passed for r in rows) and bool(rows), "devices": [asdict(d) for d in devices],
            "versions": versions(), "tolerance": TOLERANCE, "steps": steps, "rows": [asdict(r) for r in rows]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gan-lab-check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", default="all", help="all, or a comma list of cpu, cuda, mps (default: all)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma list of {list(CASES)} (default: all)")
    parser.add_argument("--precisions", default=None, help="only these Lightning precisions, e.g. 32-true")
    parser.add_argument("--steps", type=int, default=100, help="GAN steps per training run (default 100)")
    parser.add_argument("--no-ddp", action="store_true", help="skip the multi-process check")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    kinds = None if args.devices == "all" else args.devices.split(",")
    unknown = sorted(set(kinds or []) - {"cpu", "cuda", "mps"}) + sorted(set(args.cases.split(",")) - set(CASES))
    if unknown or args.steps < 2:
        parser.error(f"unknown choice(s) {unknown}: --devices takes cpu, cuda, mps; --cases takes {list(CASES)}; "
                     "--steps at least 2" if unknown else "--steps must be at least 2")
    if kinds and not find_devices(kinds):
        parser.error(f"no {'/'.join(kinds)} device on this machine; found: {[d.label for d in find_devices()]}")
    import pytorch_lightning  # noqa: F401 - imported first: importing it sets its loggers' levels, which we then lower

    from gan_lab.cli.quiet import quiet_libraries

    quiet_libraries()
    print("Devices: " + "; ".join(f"{d.label} ({d.name}" + (f", {d.memory_gb} GB)" if d.memory_gb else ")")
                                  for d in find_devices(kinds)))
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    with tempfile.TemporaryDirectory(prefix="gan-lab-check-") as work:
        report = run_check(kinds, args.cases.split(","), args.steps,
                           args.precisions.split(",") if args.precisions else None, not args.no_ddp, Path(work))
    rows = [Row(**row) for row in report["rows"]]
    print("\n" + format_report(rows))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
        print(f"\nWrote {args.out}")
    if not report["passed"]:
        failures = [f"{r.device} {r.precision} {r.case}: {f}" for r in rows for f in r.failures] or ["no check ran"]
        print(f"\ngan-lab-check: FAILED: {failures[0]}" + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""),
              file=sys.stderr)
        sys.exit(1)
    print(f"\ngan-lab-check: passed ({len(rows)} checks).")


if __name__ == "__main__":
    main()
