"""The mode-collapse study (issue 4): {minimax, non_saturating} x {gan, minibatch_gan} on ring8, grid25, stacked digits.

    python experiments/mode_collapse/run_study.py                  # the whole study (5, 5 and 3 seeds), then the report
    python experiments/mode_collapse/run_study.py --quick          # smoke test: 1 seed, 2D only, 5 short epochs
    python experiments/mode_collapse/run_study.py --datasets grid25 --seeds-2d 10
    python experiments/mode_collapse/run_study.py --report-only    # rebuild README.md and samples.png from the results
    python experiments/mode_collapse/run_study.py --datasets ring8 -- trainer.max_epochs=2   # extra Hydra overrides

Every cell (data set, loss, model, seed) is one ordinary training run, the one
``gan-lab-train experiment=mode_collapse_<data set> loss=<loss> model=<model> seed=<seed>``
does: its config is composed from gan_lab's own Hydra configs by
:func:`gan_lab.compose.compose_config` (what the CLI composes) and trained by
:func:`gan_lab.train.train`, whose metric callbacks evaluate the final
generator under the published protocol (configs/experiment/mode_collapse_*.yaml).

Why not a subprocess of the CLI: ``train`` returns the final metrics as floats,
where the CLI only prints them rounded to 4 digits.  Why not simply in this
process, one run after the other: the first version did that, and its process
grew from 1.6 to 4.4 GB over its last dozen runs (measured); nor should a cell
inherit another's state.  So each cell runs in a fresh process forked from a
fork server that has imported gan_lab once: isolated, without paying the ~5 s
import per cell.  Stopping the study (Ctrl-C, ``kill <pid>``) stops its cells.

Threads: each cell runs with ``--threads`` torch threads (default 1; 0 for
torch's default, 2 on a 2-core machine).  Measured on the project's 2-core
machine: next to another busy process a grid25 step took 82 ms with two threads
and 7.6 ms with one; on a quieter machine a stacked-digits run took 182 s with
one thread against 111 s with two.  ``--jobs 2`` (one thread each) keeps both
cores busy without oversubscribing them.

Results: each finished cell appends one JSON line to ``<out>/results.jsonl``
(final metrics, wall time, settings fingerprint, command, machine).  A cell is
done when a line with the same data set, loss, model, seed *and settings
fingerprint* is there; the fingerprint is a hash of the cell's fully composed
config, seed, run directory and logging aside (lines written before lines
carried one get it from their checkpoint's stored config).  So an interrupted
study resumes where it stopped, and after a change of settings the cells run
again instead of old numbers being mixed with new ones: old lines stay in the
file but are neither skipped nor reported.  A run whose loss becomes NaN is
recorded as diverged and counted in the report; any other error stops the study.
The report (:mod:`report`) is written from that file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from itertools import product
from multiprocessing.connection import wait
from pathlib import Path

import torch
from omegaconf import OmegaConf

from gan_lab.checkpoints import CheckpointError, read_checkpoint
from gan_lab.compose import compose_config
from gan_lab.module import NonFiniteLossError
from gan_lab.train import train

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
LOSSES = ("minimax", "non_saturating")
MODELS = ("gan", "minibatch_gan")
DATASETS = ("ring8", "grid25", "stacked_digits")
TWO_D = ("ring8", "grid25")
#: Overrides every cell gets: no progress bar (not even Lightning's default one) or model summary in the log.
QUIET = ["callbacks.progress_bar=null", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
#: --quick: a smoke test of the whole pipeline (every 2D variant, the metrics, the report), not a result.
QUICK = ["trainer.max_epochs=5", "data.num_samples=6000"]
#: Config keys that change what is shown or logged, not what is trained or measured: outside the fingerprint.
NOT_SETTINGS = ("callbacks.progress_bar", "trainer.enable_model_summary", "trainer.enable_progress_bar",
                "trainer.log_every_n_steps", "logger")
#: What each cell records: the metric callbacks' final values.
RECORDED = (
    "metrics/modes_covered",
    "metrics/high_quality_fraction",
    "metrics/mode_kl",
    "metrics/inception_score",
    "metrics/fid",
    "metrics/birthday_support_size",
    "metrics/birthday_support_size_low",
    "metrics/birthday_collision_rate",
)
#: The settings the report lists for each data set (from its minibatch_gan cells, which have them all).
SHOWN_SETTINGS = (
    "data.num_samples", "data.val_fraction", "data.batch_size", "trainer.max_epochs",
    "model.optimizer_g.lr", "model.optimizer_d.lr", "model.optimizer_g.betas", "model.d_steps_per_g_step",
    "model.ema_decay", "model.generator.latent_dim", "model.generator.hidden_dims", "model.generator.base_width",
    "model.discriminator.hidden_dims", "model.discriminator.base_width", "model.discriminator.minibatch",
    "trainer.check_val_every_n_epoch", "evaluation.num_samples", "evaluation.metrics.birthday.batch_size",
    "evaluation.metrics.birthday.num_trials",
)


# ---------------------------------------------------------------------- cells and their settings
def cell_overrides(dataset: str, loss: str, model: str, extra: list[str]) -> list[str]:
    """The Hydra overrides of a cell, seed aside."""
    # The 2D MLPs take minibatch discrimination at the size documented in configs/model/minibatch_gan_2d.yaml.
    preset = f"{model}_2d" if model == "minibatch_gan" and dataset in TWO_D else model
    return [f"experiment=mode_collapse_{dataset}", f"loss={loss}", f"model={preset}", *QUIET, *extra]


def settings_hash(config: dict, run_dir: str | Path) -> str:
    """A short hash of a resolved run config without its seed, run directory and logging: same hash, same settings."""
    config = json.loads(json.dumps(config))  # a deep copy
    config.pop("seed", None)
    for key in NOT_SETTINGS:
        *parents, last = key.split(".")
        node = config
        for parent in parents:
            node = node.get(parent) or {}
        node.pop(last, None)
    text = json.dumps(config, sort_keys=True).replace(str(Path(run_dir).resolve()), "<run dir>")
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def fingerprint(overrides: list[str]) -> str:
    """The settings hash of the config ``overrides`` compose (the config ``train`` stores in the checkpoint)."""
    run_dir = Path("/nonexistent/fingerprint")
    cfg = compose_config(overrides, run_dir)
    return settings_hash(OmegaConf.to_container(cfg, resolve=True), run_dir)


def checkpoint_fingerprint(out: Path, record: dict) -> str | None:
    """The settings hash of a record written before records carried one, from its checkpoint's stored config."""
    if not record.get("checkpoint") or not (out / record["checkpoint"]).is_file():
        return None
    path = out / record["checkpoint"]
    try:
        config = read_checkpoint(path)["gan_lab_config"]
    except CheckpointError:
        return None
    return settings_hash(config, path.parent.parent)


def current_fingerprints(extra: list[str], requested: list[str]) -> dict[tuple[str, str, str], str]:
    """The settings fingerprint of every (data set, loss, model) under the present configs and ``extra`` overrides.

    A data set that was not ``requested`` and that the extra overrides do not fit (say MLP widths on
    stacked_digits) gets none: none of its records is current.
    """
    fingerprints = {}
    for dataset, loss, model in product(DATASETS, LOSSES, MODELS):
        try:
            fingerprints[(dataset, loss, model)] = fingerprint(cell_overrides(dataset, loss, model, extra))
        except Exception:  # noqa: BLE001 - Hydra raises several kinds of composition errors
            if dataset in requested:
                raise
    return fingerprints


def shown_settings(dataset: str, extra: list[str]) -> dict[str, str]:
    """The main training and evaluation settings of ``dataset``'s cells, as text."""
    cfg = compose_config(cell_overrides(dataset, "non_saturating", "minibatch_gan", extra), "/nonexistent/settings")
    values = {key: OmegaConf.select(cfg, key, default=None) for key in SHOWN_SETTINGS}
    return {key: json.dumps(OmegaConf.to_container(v) if OmegaConf.is_config(v) else v)
            for key, v in values.items() if v is not None}


def read_records(results: Path) -> list[dict]:
    """The records of ``results``; those written before records carried a fingerprint get it from their checkpoint."""
    if not results.exists():
        return []
    records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    for record in records:
        if "fingerprint" not in record:
            record["fingerprint"] = checkpoint_fingerprint(results.parent, record)
    return records


def is_current(record: dict, fingerprints: dict[tuple[str, str, str], str]) -> bool:
    key = (record.get("dataset"), record.get("loss"), record.get("model"))
    return record.get("fingerprint") is not None and record.get("fingerprint") == fingerprints.get(key)


# ---------------------------------------------------------------------- one cell, in its own process
def _train_cell(conn, overrides: list[str], run_dir: str, threads: int | None) -> None:
    """Child process: compose, train, send back ``(status, payload, seconds)``."""
    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        cfg = compose_config(overrides, run_dir)
        start = time.perf_counter()
        metrics = train(cfg, Path(run_dir))
        conn.send(("ok", metrics, time.perf_counter() - start))
    except Exception as err:  # noqa: BLE001 - reported to the parent, which decides
        diverged = isinstance(err, NonFiniteLossError) or isinstance(err.__cause__, NonFiniteLossError)
        payload = str(err) if diverged else traceback.format_exc()
        conn.send(("diverged" if diverged else "error", payload, time.perf_counter() - start))
    finally:
        conn.close()


def process_context():
    """A fork server that has imported gan_lab (and this script) once; every cell is forked from it."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "gan_lab.train", "gan_lab.compose"])
    return ctx


class Cell:
    """One (data set, loss, model, seed) run: started in a child process, turned into a record when it ends."""

    def __init__(self, dataset: str, loss: str, model: str, seed: int) -> None:
        self.dataset, self.loss, self.model, self.seed = dataset, loss, model, seed

    def __str__(self) -> str:
        return f"{self.dataset} {self.loss} {self.model} seed {self.seed}"

    def start(self, ctx, out: Path, extra: list[str], fp: str, threads: int | None):
        self.fp = fp
        self.run_dir = out / "runs" / f"{self.dataset}-{fp}" / f"{self.model}-{self.loss}-seed{self.seed}"
        if self.run_dir.exists():  # left by an interrupted attempt at this very cell: start clean
            shutil.rmtree(self.run_dir)
        self.overrides = [*cell_overrides(self.dataset, self.loss, self.model, extra), f"seed={self.seed}"]
        self.load_before = os.getloadavg()[0]
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.clock = time.perf_counter()
        receive, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_train_cell, args=(send, self.overrides, str(self.run_dir), threads),
                                   daemon=True)
        self.process.start()
        send.close()
        return receive

    def finish(self, receive, out: Path, command: str, machine_text: str) -> dict:
        try:
            message = receive.recv()
        except EOFError:  # the child died without a word (killed, out of memory)
            message = None
        self.process.join()
        if message is None:
            raise RuntimeError(f"The process training {self} ended (exit code {self.process.exitcode}), no result.")
        status, payload, seconds = message
        if status == "error":
            raise RuntimeError(f"Cell {self} failed:\n{payload}")
        record = {
            "dataset": self.dataset, "loss": self.loss, "model": self.model, "seed": self.seed,
            "fingerprint": self.fp, "status": status, "seconds": round(seconds, 2),
            "process_seconds": round(time.perf_counter() - self.clock, 2), "started": self.started,
            "load_average": [round(self.load_before, 2), round(os.getloadavg()[0], 2)],
            "overrides": self.overrides, "command": command, "machine": machine_text, "git_commit": git_commit(),
        }
        if status == "ok":
            record["checkpoint"] = str((self.run_dir / "checkpoints" / "last.ckpt").relative_to(out))
            record.update({tag.split("/", 1)[1]: payload[tag] for tag in RECORDED if tag in payload})
        else:
            record["error"] = payload
        return record


def run_cells(cells: list[Cell], out: Path, extra: list[str], fingerprints: dict, jobs: int, threads: int | None,
              command: str) -> None:
    """Run ``cells``, ``jobs`` at a time, appending each record to ``<out>/results.jsonl`` as soon as it ends."""
    ctx = process_context()
    machine_text = machine(threads)
    waiting, running, finished = list(cells), {}, 0
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                cell = waiting.pop(0)
                fp = fingerprints[(cell.dataset, cell.loss, cell.model)]
                running[cell.start(ctx, out, extra, fp, threads)] = cell
            for receive in wait(list(running)):
                cell = running.pop(receive)
                record = {**cell.finish(receive, out, command, machine_text), "jobs": jobs}
                with (out / "results.jsonl").open("a") as f:
                    f.write(json.dumps(record) + "\n")
                finished += 1
                outcome = f"modes {record.get('modes_covered')}" if record["status"] == "ok" else "diverged"
                print(f"[{finished}/{len(cells)}] {cell}: {record['seconds']:.1f} s, {outcome}", flush=True)
    finally:  # stopped (an error, Ctrl-C, SIGTERM): no training process may outlive the study
        for cell in running.values():
            cell.process.terminate()
            cell.process.join()


# ---------------------------------------------------------------------- provenance
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(threads: int | None = None) -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu_model()}, {os.cpu_count()} CPU cores, {gpu}; torch threads per run: "
            f"{threads or torch.get_num_threads()}; Python {platform.python_version()}, torch {torch.__version__}")


def git_commit() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True)
    except OSError:
        return None
    if head.returncode:
        return None
    return head.stdout.strip() + ("+modified" if dirty.stdout.strip() else "")


def this_command() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(Path.cwd())
    except ValueError:
        pass
    return shlex.join(["python", str(script), *sys.argv[1:]])


# ---------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path,
                        help="where runs/ and results.jsonl go (default: results/ here; quick/ with --quick)")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS,
                        help="default: all three (ring8 and grid25 with --quick)")
    parser.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds-2d", "--seeds", dest="seeds_2d", type=int,
                        help="seeds 0..N-1 per cell on ring8 and grid25 (default 5; 1 with --quick)")
    parser.add_argument("--seeds-stacked", "--stacked-seeds", dest="seeds_stacked", type=int, default=3,
                        help="seeds 0..N-1 per cell on stacked_digits (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 seed, 2D only, " + " ".join(QUICK))
    parser.add_argument("--jobs", type=int, default=1, help="cells run at once (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell (default 1; 0: torch's default)")
    parser.add_argument("--report", type=Path,
                        help="the report (default: README.md here; <out>/README.md with --out or --quick)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the report from results.jsonl")
    parser.add_argument("--no-report", action="store_true", help="run the cells, write no report")
    parser.add_argument("overrides", nargs="*",
                        help="extra Hydra overrides for every cell (after --), e.g. trainer.max_epochs=2")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.threads < 0:
        parser.error("--jobs must be at least 1 and --threads at least 0.")
    # The committed report (README.md beside this script) is only written for the default results.
    study = args.out is None and not args.quick
    args.out = args.out or HERE / ("quick" if args.quick else "results")
    args.report = args.report or (HERE / "README.md" if study else args.out / "README.md")
    args.datasets = args.datasets or list(TWO_D if args.quick else DATASETS)
    args.seeds_2d = args.seeds_2d if args.seeds_2d is not None else (1 if args.quick else 5)
    args.extra = (QUICK if args.quick else []) + list(args.overrides)
    return args


def stop_on_sigterm(signum, frame) -> None:
    """``kill <pid>`` of the study: exit through the ``finally`` blocks, which stop the running cells."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    fingerprints = current_fingerprints(args.extra, [] if args.report_only else args.datasets)
    records = read_records(results)
    stale = sum(not is_current(r, fingerprints) for r in records)
    if stale:
        print(f"{results}: {stale} of {len(records)} records were run with other settings than the present configs "
              "and overrides; they are neither skipped nor reported.", flush=True)
    if not args.report_only:
        done = {(r["dataset"], r["loss"], r["model"], r["seed"]) for r in records if is_current(r, fingerprints)}
        cells = [Cell(d, loss, m, s) for d in args.datasets for loss, m in product(args.losses, args.models)
                 for s in range(args.seeds_stacked if d == "stacked_digits" else args.seeds_2d)
                 if (d, loss, m, s) not in done]
        print(f"{len(cells)} cells to run, {len(done)} done already.", flush=True)
        run_cells(cells, args.out, args.extra, fingerprints, args.jobs, args.threads or None, this_command())
    if args.no_report:
        return
    sys.path.insert(0, str(HERE))
    from report import write_report  # noqa: E402 - beside this script

    current = [r for r in read_records(results) if is_current(r, fingerprints)]
    settings = {d: shown_settings(d, args.extra) for d in DATASETS if any(r["dataset"] == d for r in current)}
    write_report(current, args.report, args.out, settings=settings, stale=stale, machine=machine(args.threads or None))
    print(f"Wrote {args.report}")


if __name__ == "__main__":
    main()
