"""Run a study's cells: each an ordinary ``gan-lab-train`` run, in a fresh process, recorded as one JSON line.

A *cell* is a list of Hydra overrides (what ``gan-lab-train <overrides>``
runs, composed by :func:`gan_lab.cli.compose.compose_config` and trained by
:func:`gan_lab.cli.train.train`) and a key naming it in the records (data set,
variant, seed, ...).  :func:`run_cells` trains cells ``jobs`` at a time and
appends each one's record to ``<out>/results.jsonl`` as soon as it ends: its
key, final metrics, optionally the metrics of every evaluation (a learning
curve), wall time, settings fingerprint, command and :class:`Provenance`.

Resuming: a cell is done when a record with its key, its settings fingerprint
(a hash of its fully composed config, seed, run directory and logging aside)
and this study's commit and machine is in the file.  So a stopped study
resumes where it stopped, while a change of settings, code or machine runs
the cells again instead of mixing old numbers with new ones (old records stay
in the file, neither skipped nor reported).

Why a fresh process per cell: one process training cell after cell grew from
gigabytes over a dozen runs, and no cell should inherit
another's state.  Cells are forked from a fork server that imported gan_lab
once, which saves the imports of every cell.  Stopping the study (Ctrl-C,
``kill <pid>``) stops its cells.  A run whose loss becomes NaN is recorded as
diverged; any other error stops the study.

Threads: each cell runs with ``threads`` torch threads.  On a 2-core machine
two cells of one thread each keep both cores busy without oversubscribing them
(two-thread cells next to another busy process were many times slower than one-thread ones).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from gan_lab.cli.quiet import QUIET_TRAINING
from studies.provenance import Provenance

#: Config keys that change what is shown or logged, not what is trained or measured: outside the fingerprint.
NOT_SETTINGS = ("callbacks.progress_bar", "trainer.enable_model_summary", "trainer.enable_progress_bar",
                "trainer.log_every_n_steps", "logger", "trainer.check_val_every_n_epoch", "ckpt_path")
#: Overrides every cell gets: no progress bar or model summary in the study's log.
QUIET = QUIET_TRAINING


def settings_hash(config: dict, run_dir: str | Path) -> str:
    """A short hash of a resolved run config without its seed, run directory and logging: same hash, same settings.

    ``trainer.check_val_every_n_epoch`` is left out too: evaluating more often changes no trained weight and no final
    metric (tested in tests/callbacks/test_evaluation.py), so a learning-curve run is the same cell as a plain one; and
    ``ckpt_path``, where a run continues from (its cell key says what it is).
    """
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
    from gan_lab.cli.compose import compose_config

    run_dir = Path("/nonexistent/fingerprint")
    return settings_hash(OmegaConf.to_container(compose_config(overrides, run_dir), resolve=True), run_dir)


@dataclass
class Cell:
    """One training run of a study.

    Attributes:
        key: names the cell in the records, e.g. ``{"dataset": "grid25", "variant": "pacgan4", "seed": 0}``.
        overrides: the Hydra overrides of ``gan-lab-train``, seed included.
        run_dir: where its checkpoints and TensorBoard logs go (relative to the study's output folder).
        curve_tags: tags whose value at every evaluation is recorded (``curve``: ``{tag: [[step, value], ...]}``).
    """

    key: dict[str, Any]
    overrides: list[str]
    run_dir: Path
    curve_tags: tuple[str, ...] = ()
    fingerprint: str = field(init=False, default="")

    def __str__(self) -> str:
        return " ".join(str(value) for value in self.key.values())


def read_records(results: Path) -> list[dict]:
    """Every record of ``results`` (none if the file does not exist)."""
    if not results.exists():
        return []
    return [json.loads(line) for line in results.read_text().splitlines() if line.strip()]


def is_current(record: dict, cell: Cell, provenance: Provenance) -> bool:
    """Whether ``record`` is ``cell``'s, with its settings, on this study's commit and machine."""
    return (all(record.get(k) == v for k, v in cell.key.items()) and record.get("fingerprint") == cell.fingerprint
            and provenance.same_study(record))


def latest_study_records(records: list[dict], keys: list[dict[str, Any]]) -> list[dict]:
    """The records of the cells named by ``keys``, from the commit and machine of the newest of them.

    For rebuilding a report from the records alone (no config is composed, so later edits to the configs do
    not matter): per cell, the settings fingerprint of its newest record wins.  Records of other commits,
    machines or settings are left out, so a table never mixes them.
    """
    def key_of(record: dict) -> dict[str, Any] | None:
        return next((k for k in keys if all(record.get(f) == v for f, v in k.items())), None)

    ours = [r for r in records if r.get("provenance") and key_of(r) is not None]
    if not ours:
        return []
    newest = Provenance(**ours[-1]["provenance"])
    ours = [r for r in ours if newest.same_study(r)]
    fingerprint_of = {json.dumps(key_of(r), sort_keys=True): r.get("fingerprint") for r in ours}  # the newest wins
    return [r for r in ours if r.get("fingerprint") == fingerprint_of[json.dumps(key_of(r), sort_keys=True)]]


def curves(run_dir: Path, tags: tuple[str, ...]) -> dict[str, list[list[float]]]:
    """``{tag: [[step, value], ...]}`` of every evaluation, read back from the run's TensorBoard events."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found = {tag: [] for tag in tags}
    for path in sorted(run_dir.rglob("events.out.tfevents.*")):
        if "real_data" in path.parts:  # real data's values, a TensorBoard run of their own: not the generator's curve
            continue
        events = EventAccumulator(str(path), size_guidance={"scalars": 0})
        events.Reload()
        for tag in tags:
            if tag in events.Tags()["scalars"]:
                found[tag] += [[event.step, event.value] for event in events.Scalars(tag)]
    return found


def _train_cell(conn, overrides: list[str], run_dir: str, threads: int, curve_tags: tuple[str, ...]) -> None:
    """Child process: compose, train, send back ``(status, metrics or error, seconds, curves)``."""
    import torch

    from gan_lab.cli.compose import compose_config
    from gan_lab.training.module import NonFiniteLossError
    from gan_lab.cli.train import train

    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        cfg = compose_config(overrides, run_dir)
        start = time.perf_counter()
        metrics = train(cfg, Path(run_dir))
        seconds = time.perf_counter() - start
        conn.send(("ok", metrics, seconds, curves(Path(run_dir), curve_tags) if curve_tags else None))
    except Exception as err:  # noqa: BLE001 - reported to the parent, which decides
        diverged = isinstance(err, NonFiniteLossError) or isinstance(err.__cause__, NonFiniteLossError)
        payload = str(err) if diverged else traceback.format_exc()
        conn.send(("diverged" if diverged else "error", payload, time.perf_counter() - start, None))
    finally:
        conn.close()


def process_context(preload: list[str]):
    """A fork server that has imported gan_lab once; every cell is forked from it."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["gan_lab.cli.train", "gan_lab.cli.compose", *preload])
    return ctx


class _Running:
    """A cell in its child process, turned into a record when it ends."""

    def __init__(self, cell: Cell, ctx, out: Path, threads: int) -> None:
        self.cell, self.run_dir = cell, out / cell.run_dir
        if self.run_dir.exists():  # left by an interrupted attempt at this very cell: start clean
            shutil.rmtree(self.run_dir)
        self.load_before = os.getloadavg()[0]
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.clock = time.perf_counter()
        self.receive, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_train_cell, daemon=True,
                                   args=(send, cell.overrides, str(self.run_dir), threads, cell.curve_tags))
        self.process.start()
        send.close()

    def record(self, out: Path, recorded: tuple[str, ...], common: dict) -> dict:
        try:
            message = self.receive.recv()
        except EOFError:  # the child died without a word (killed, out of memory)
            message = None
        self.process.join()
        if message is None:
            raise RuntimeError(f"The process training {self.cell} ended (exit code {self.process.exitcode}), no result.")
        status, payload, seconds, curve = message
        if status == "error":
            raise RuntimeError(f"Cell {self.cell} failed:\n{payload}")
        record = {**self.cell.key, "fingerprint": self.cell.fingerprint, "status": status, "seconds": round(seconds, 2),
                  "process_seconds": round(time.perf_counter() - self.clock, 2), "started": self.started,
                  "load_average": [round(self.load_before, 2), round(os.getloadavg()[0], 2)],
                  "overrides": self.cell.overrides, **common}
        if status == "ok":
            record["checkpoint"] = str((self.run_dir / "checkpoints" / "last.ckpt").relative_to(out))
            record.update({tag.split("/", 1)[1]: payload[tag] for tag in recorded if tag in payload})
            if curve is not None:
                record["curve"] = curve
        else:
            record["error"] = payload
        return record


def run_cells(cells: list[Cell], out: Path, provenance: Provenance, recorded: tuple[str, ...], jobs: int = 1,
              command: str = "", preload: list[str] | None = None) -> list[dict]:
    """Train ``cells`` not yet done (``jobs`` at a time), appending each record to ``<out>/results.jsonl``.

    Fills in each cell's fingerprint.  Returns the current records of all ``cells`` (done before and now).
    """
    for cell in cells:
        cell.fingerprint = fingerprint(cell.overrides)
    results = out / "results.jsonl"
    records = read_records(results)
    done = [c for c in cells if any(is_current(r, c, provenance) for r in records)]
    waiting = [c for c in cells if c not in done]
    stale = sum(not any(is_current(r, c, provenance) for c in cells) for r in records)
    print(f"{len(waiting)} cells to run, {len(done)} done already"
          + (f"; {stale} records in {results} are from other settings, code or machines and are ignored" if stale
             else "") + ".", flush=True)
    common = {"command": command, "jobs": jobs, "provenance": provenance.as_dict()}
    ctx, running, finished = process_context(preload or []), {}, 0
    out.mkdir(parents=True, exist_ok=True)
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                started = _Running(waiting.pop(0), ctx, out, provenance.threads)
                running[started.receive] = started
            for receive in wait(list(running)):
                cell_run = running.pop(receive)
                record = cell_run.record(out, recorded, common)
                with results.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                finished += 1
                print(f"[{finished}/{finished + len(waiting) + len(running)}] {cell_run.cell}: {record['seconds']:.1f} s, "
                      f"{record['status']}", flush=True)
    finally:  # stopped (an error, Ctrl-C, SIGTERM): no training process may outlive the study
        for cell_run in running.values():
            cell_run.process.terminate()
            cell_run.process.join()
    records = read_records(results)
    return [r for r in records if any(is_current(r, c, provenance) for c in cells)]
