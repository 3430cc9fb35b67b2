"""Trained classifiers cached on disk under a key of everything that changes them.

A cache entry is one file, ``<cache_dir>/classifier-<name>-<key>.pt``,
holding the network's weights, its held-out accuracy and the key's fields
(checked again on load).  The key hashes the data set's name, a fingerprint
of the training tensors, the architecture, every training setting (seed
included) and :data:`CODE_VERSION`, so any change trains a new classifier
instead of silently reusing a stale one.  Files are written atomically (a
temporary file in the same directory, then ``os.replace``), so concurrent
writers (e.g. DDP ranks) and interrupted runs never leave a half-written
entry under the final name; an unreadable entry is ignored with a warning
and retrained.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from gan_lab.metrics.evaluators.classifier_net import Architecture, SmallCNN, TrainingSettings, train_classifier

#: Bump when a change to the network or its training invalidates cached classifiers.
CODE_VERSION = 1
#: Environment variable that overrides the default cache directory.
CACHE_ENV = "GAN_LAB_CACHE"


def default_cache_dir() -> Path:
    """``$GAN_LAB_CACHE`` if set, else ``~/.cache/gan_lab``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_lab").expanduser()


def data_fingerprint(*tensors: Tensor) -> str:
    """SHA-256 of the tensors' shapes, dtypes and contents."""
    digest = hashlib.sha256()
    for tensor in tensors:
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{tuple(array.shape)}|{array.dtype}|".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def cache_fields(x: Tensor, y: Tensor, num_classes: int, name: str, architecture: Architecture,
                 settings: TrainingSettings) -> dict:
    """Everything that changes the trained classifier, as a JSON-able dict."""
    return {
        "code_version": CODE_VERSION,
        "dataset": name,
        "data_sha256": data_fingerprint(x, y),
        "sample_shape": list(x.shape[1:]),
        "num_classes": int(num_classes),
        "architecture": asdict(architecture),
        "training": asdict(settings),
    }


def cache_path(cache_dir: Path, fields: dict) -> Path:
    """``<cache_dir>/classifier-<name>-<16 hex digits of the key>.pt``."""
    key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in fields["dataset"])
    return Path(cache_dir) / f"classifier-{safe_name}-{key}.pt"


@dataclass
class CachedClassifier:
    """A trained classifier and where it came from."""

    net: SmallCNN
    accuracy: float  # held-out accuracy measured after training
    path: Path  # its cache file
    from_cache: bool  # True if loaded, False if trained by this call
    fields: dict  # the cache key's fields


def save_atomically(payload: dict, path: Path) -> None:
    """``torch.save`` to a temporary file next to ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            torch.save(payload, f)
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


def load_cached(path: Path, fields: dict, architecture: Architecture) -> tuple[SmallCNN, float] | None:
    """The network and accuracy stored at ``path``; None if there is no entry; a warning if it is unreadable."""
    if not path.exists():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("fields") != fields:
            raise ValueError("its key fields do not match the requested classifier")
        shape = fields["sample_shape"]
        net = architecture.build(shape[0], shape[-1], fields["num_classes"])
        net.load_state_dict(payload["state_dict"])
        return net.eval(), float(payload["accuracy"])
    except Exception as err:  # any unreadable entry is retrained, never trusted
        warnings.warn(f"Ignoring unreadable classifier cache file {path} ({type(err).__name__}: {err}); retraining.",
                      stacklevel=3)
        return None


def load_or_train_classifier(
    x: Tensor,
    y: Tensor,
    num_classes: int,
    name: str,
    cache_dir: str | os.PathLike | None = None,
    architecture: Architecture = Architecture(),
    settings: TrainingSettings = TrainingSettings(),
    progress: bool = True,
) -> CachedClassifier:
    """Load the classifier for ``(x, y)`` from the cache, or train it (and cache it).

    Args:
        x: ``(N, C, S, S)`` images in [-1, 1]; y: ``(N,)`` labels in ``[0, num_classes)``.
        name: the data set's name, part of the cache key and file name.
        cache_dir: where entries live; default :func:`default_cache_dir`.
        architecture, settings: network and training settings (all part of the key).
        progress: show a progress bar while training.
    """
    check_labelled_images(x, y, num_classes)
    x, y = x.detach().cpu().float(), y.detach().cpu().long()
    fields = cache_fields(x, y, num_classes, name, architecture, settings)
    path = cache_path(Path(cache_dir) if cache_dir is not None else default_cache_dir(), fields)
    cached = load_cached(path, fields, architecture)
    if cached is not None:
        net, accuracy = cached
        return CachedClassifier(net, accuracy, path, True, fields)
    result = train_classifier(x, y, num_classes, architecture, settings, progress,
                              description=f"Training the {name} classifier")
    payload = {"fields": fields, "state_dict": result.net.state_dict(), "accuracy": result.accuracy,
               "train_seconds": result.seconds}
    save_atomically(payload, path)
    return CachedClassifier(result.net, result.accuracy, path, False, fields)


def check_labelled_images(x: Tensor, y: Tensor, num_classes: int) -> None:
    """Raise a ValueError unless ``x`` is ``(N, C, S, S)``, ``y`` ``(N,)`` integer labels in range."""
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"Classifier training images must have shape (N, C, S, S), got {tuple(x.shape)}.")
    if y.shape != (len(x),) or y.is_floating_point():
        raise ValueError(f"Labels must be an integer tensor of shape ({len(x)},), got {y.dtype} {tuple(y.shape)}.")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"Labels must lie in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}].")
