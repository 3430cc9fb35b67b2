"""Classifier weights files: written once by ``gan-lab-evaluator``, read (hash checked) by every evaluation.

A weights file is one ``torch.save``'d dict that ``torch.load(path,
weights_only=True)`` reads (plain tensors, numbers, strings, lists, dicts):

* ``state_dict``: the :class:`~gan_lab.evaluation.evaluators.classifier_net.SmallCNN` weights;
* ``format`` / ``format_version``: :data:`FORMAT`, :data:`FORMAT_VERSION`;
* ``dataset``, ``num_classes``, ``sample_shape``: what the classifier scores;
* ``architecture``, ``training``: every setting that made it (``Architecture``,
  ``TrainingSettings`` as dicts, seed included);
* ``holdout_accuracy``, ``holdout_size``, ``train_size``: its accuracy on the fixed-seed held-out split;
* ``data_sha256``: a fingerprint of the training images and labels;
* ``torch_version``, ``num_threads``, ``command``: how to reproduce it.

The file holds nothing that varies from run to run (no time stamps, no
training time, no output path: the bytes are serialised in memory under a
fixed archive name), so training twice with the same settings on the same
machine gives byte-identical files, and the file's SHA-256 identifies the
evaluator: it is what runs log, and what :func:`load_classifier_file` checks
against an expected value.  Files are written atomically (a temporary file in
the same directory, then ``os.replace``), so an interrupted write never
leaves a half-written file under the final name.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from gan_lab.evaluation.evaluators.classifier_net import (
    Architecture,
    SmallCNN,
    TrainingSettings,
    holdout_split,
    train_classifier,
)

#: The ``format`` entry of every classifier weights file.
FORMAT = "gan_lab.classifier"
#: Bump when the file layout changes.
FORMAT_VERSION = 1
#: The entries besides ``state_dict`` every file has.
METADATA_KEYS = ("format", "format_version", "dataset", "num_classes", "sample_shape", "architecture", "training",
                 "holdout_accuracy", "holdout_size", "train_size", "data_sha256", "torch_version", "num_threads",
                 "command")


class EvaluatorWeightsError(RuntimeError):
    """A classifier weights file is missing, unreadable, altered, or does not fit the data set."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_fingerprint(*tensors: Tensor) -> str:
    """SHA-256 of the tensors' shapes, dtypes and contents."""
    digest = hashlib.sha256()
    for tensor in tensors:
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{tuple(array.shape)}|{array.dtype}|".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def write_atomically(data: bytes, path: str | os.PathLike) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def payload_bytes(payload: dict) -> bytes:
    """``torch.save(payload)`` in memory: the archive is named ``archive`` whatever the output file is called."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


@dataclass
class ClassifierFile:
    """A classifier read from (or just written to) a weights file."""

    net: SmallCNN  # in eval mode
    metadata: dict  # every entry of the file but the state dict
    sha256: str  # of the file's bytes
    path: Path

    @property
    def dataset(self) -> str:
        return self.metadata["dataset"]

    @property
    def accuracy(self) -> float:
        return float(self.metadata["holdout_accuracy"])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.metadata["sample_shape"])


def load_classifier_file(path: str | os.PathLike, expected_sha256: str | None = None,
                         what: str = "classifier weights file", fix: str = "") -> ClassifierFile:
    """Read a weights file; if ``expected_sha256`` is given, refuse a file whose SHA-256 differs.

    The bytes are hashed and parsed from one read (``torch.load(..., weights_only=True)``), so the
    network is built from exactly the bytes that were checked.  ``what`` names the file and ``fix``
    says how to repair it, in error messages.  Any problem raises :class:`EvaluatorWeightsError`.
    """
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as err:
        raise EvaluatorWeightsError(f"Cannot read the {what} {path}: {err}. {fix}".strip()) from err
    digest = sha256_bytes(data)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise EvaluatorWeightsError(
            f"The {what} {path} has SHA-256 {digest}, but {expected_sha256} is expected: the file is corrupt "
            f"or was changed, and numbers computed with other weights are not comparable. {fix}".strip()
        )
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"not a gan_lab classifier weights file (no format={FORMAT!r} entry)")
        if payload.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {payload.get('format_version')!r}, expected {FORMAT_VERSION}")
        missing = [key for key in (*METADATA_KEYS, "state_dict") if key not in payload]
        if missing:
            raise ValueError(f"missing entries {missing}")
        channels, size, _ = payload["sample_shape"]
        net = Architecture(**payload["architecture"]).build(channels, size, payload["num_classes"])
        net.load_state_dict(payload["state_dict"])
    except Exception as err:
        raise EvaluatorWeightsError(f"The {what} {path} is unreadable ({type(err).__name__}: {err}). "
                                    f"{fix}".strip()) from err
    metadata = {key: value for key, value in payload.items() if key != "state_dict"}
    return ClassifierFile(net.eval(), metadata, digest, path)


def train_classifier_file(
    x: Tensor,
    y: Tensor,
    num_classes: int,
    dataset: str,
    out: str | os.PathLike,
    architecture: Architecture = Architecture(),
    settings: TrainingSettings = TrainingSettings(),
    command: str = "",
    progress: bool = True,
) -> tuple[ClassifierFile, float]:
    """Train a classifier on ``(x, y)`` (see ``train_classifier``), write its weights file to ``out``.

    ``x``: ``(N, C, S, S)`` images in [-1, 1]; ``y``: ``(N,)`` labels in ``[0, num_classes)``;
    ``dataset``: the data set's gan_lab name; ``command``: how it was made (stored in the file).
    Returns the written file, read back, and the training time in seconds (not stored).
    """
    check_labelled_images(x, y, num_classes)
    x, y = x.detach().cpu().float(), y.detach().cpu().long()
    result = train_classifier(x, y, num_classes, architecture, settings, progress,
                              description=f"Training the {dataset} classifier")
    train_idx, holdout_idx = holdout_split(len(x), settings.holdout_fraction, settings.seed)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dataset": dataset,
        "num_classes": int(num_classes),
        "sample_shape": [int(s) for s in x.shape[1:]],
        "architecture": asdict(architecture),
        "training": asdict(settings),
        "holdout_accuracy": float(result.accuracy),
        "holdout_size": len(holdout_idx),
        "train_size": len(train_idx),
        "data_sha256": data_fingerprint(x, y),
        "torch_version": str(torch.__version__),
        "num_threads": torch.get_num_threads(),
        "command": command,
        "state_dict": result.net.state_dict(),
    }
    write_atomically(payload_bytes(payload), out)
    return load_classifier_file(out), result.seconds


def check_labelled_images(x: Tensor, y: Tensor, num_classes: int) -> None:
    """Raise a ValueError unless ``x`` is ``(N, C, S, S)``, ``y`` ``(N,)`` integer labels in range."""
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"Classifier training images must have shape (N, C, S, S), got {tuple(x.shape)}.")
    if y.shape != (len(x),) or y.is_floating_point():
        raise ValueError(f"Labels must be an integer tensor of shape ({len(x)},), got {y.dtype} {tuple(y.shape)}.")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"Labels must lie in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}].")
