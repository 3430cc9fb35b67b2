"""The standard FID / IS Inception-v3, through torch-fidelity.

This is the network every published FID and Inception Score is computed
with: the TensorFlow "2015-12-05" Inception-v3 graph, converted to PyTorch
by torch-fidelity (``FeatureExtractorInceptionV3``, the same module
torchmetrics' ``FrechetInceptionDistance`` and ``InceptionScore`` use).
Features are the 2048-d ``pool3`` activations (FID, KID); probabilities
are the softmax of its 1008 ``logits_unbiased`` (the logits without the
final bias, as in the original IS code), which is what torch-fidelity's IS uses.

Input convention: samples in [-1, 1] are mapped to bytes like saving a PNG,
``round((x + 1) * 127.5)`` clipped to 0..255 (1-channel images are repeated
to 3 channels), and handed to the extractor as ``uint8``.  The extractor
then resizes to 299x299 with torch-fidelity's TensorFlow-1.x-compatible
bilinear interpolation (no antialiasing) and scales to [-1, 1] itself.  That
is the resize published FIDs used; it equals torchmetrics'
``FrechetInceptionDistance(antialias=False)``, not its default
(``antialias=True`` since torchmetrics 1.8), whose numbers are not comparable
with published ones.  (torchmetrics' ``normalize=True`` truncates
``x * 255`` instead of rounding; that moves FID slightly.)

Weights (about 100 MB) are downloaded by torch-fidelity on first use into
torch.hub's cache, or read from a local file: ``weights_path=...`` or the
environment variable ``GAN_LAB_INCEPTION_WEIGHTS``.  Without internet
access and without a local copy, construction raises one
:class:`InceptionWeightsUnavailable` that says where to put the file.

:attr:`InceptionEvaluator.sha256` is the SHA-256 of the weights file that
was read (the local file, or torch.hub's cached copy after a download), so
runs log which weights they used; None if no such file can be found.

Upsampling tiny images (8x8 digits) to 299x299 gives numbers that mean
little: use the data set's own classifier there.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from gan_lab.evaluation.evaluators.base import Evaluator
from gan_lab.evaluation.evaluators.weights_file import sha256_file

#: Environment variable naming a local copy of the weights file.
WEIGHTS_ENV = "GAN_LAB_INCEPTION_WEIGHTS"
#: torch-fidelity's name for the feature extractor (also the cache-key text of our features).
EXTRACTOR_NAME = "inception-v3-compat"
FEATURES, LOGITS = "2048", "logits_unbiased"


class InceptionWeightsUnavailable(RuntimeError):
    """The Inception-v3 weights could be neither downloaded nor read from a local file."""


def _torch_fidelity_inception():
    """torch-fidelity's Inception module, or an ImportError saying how to install it."""
    try:
        from torch_fidelity import feature_extractor_inceptionv3
    except ImportError as err:
        raise ImportError(
            "The Inception evaluator needs torch-fidelity: pip install torch-fidelity (or gan_lab[inception])."
        ) from err
    return feature_extractor_inceptionv3


def inception_weights_url() -> str:
    """Where torch-fidelity downloads the weights from."""
    return _torch_fidelity_inception().URL_INCEPTION_V3


def inception_weights_filename() -> str:
    """The weights file's name, e.g. ``weights-inception-2015-12-05-6726825d.pth``."""
    return inception_weights_url().rsplit("/", 1)[-1]


def hub_cache_path() -> Path:
    """Where torch.hub (and so torch-fidelity) keeps the downloaded weights, and looks for them first."""
    return Path(torch.hub.get_dir()) / "checkpoints" / inception_weights_filename()


def unavailable_message(weights_path: str | None, err: BaseException) -> str:
    """One message saying what failed and the two ways to provide the weights."""
    name = inception_weights_filename()
    if weights_path is None:
        what = f"The Inception-v3 weights ({name}) could not be downloaded from {inception_weights_url()} " \
               "(is there internet access?)."
    else:
        what = f"The Inception-v3 weights could not be read from weights_path={weights_path!r}."
    return "\n".join([
        what,
        f"Download {name} from {inception_weights_url()} on a machine with internet access, then either",
        f"  - put it at {hub_cache_path()} (torch.hub's cache, checked before any download; $TORCH_HOME moves it), or",
        f"  - pass its path as weights_path=... (InceptionEvaluator) or in the environment variable {WEIGHTS_ENV}.",
        f"Cause: {type(err).__name__}: {err}",
    ])


def resolve_weights_path(weights_path: str | os.PathLike | None) -> str | None:
    """``weights_path``, else ``$GAN_LAB_INCEPTION_WEIGHTS``, else None (torch.hub's cache or a download)."""
    if weights_path is None:
        weights_path = os.environ.get(WEIGHTS_ENV) or None
    return None if weights_path is None else str(Path(weights_path).expanduser())


def load_inception_extractor(weights_path: str | os.PathLike | None = None):
    """torch-fidelity's ``FeatureExtractorInceptionV3`` giving pool3 features and unbiased logits.

    ``weights_path=None`` uses ``$GAN_LAB_INCEPTION_WEIGHTS`` if set, else torch.hub's cache or a download.
    """
    module = _torch_fidelity_inception()
    weights_path = resolve_weights_path(weights_path)
    try:
        if weights_path is not None and not Path(weights_path).is_file():
            raise FileNotFoundError(f"no such file: {weights_path}")
        return module.FeatureExtractorInceptionV3(EXTRACTOR_NAME, [FEATURES, LOGITS],
                                                  feature_extractor_weights_path=weights_path)
    # Offline downloads fail with URLError / socket errors (OSError subclasses); a corrupt or
    # wrong file fails in torch.load or load_state_dict (RuntimeError, pickle errors, ...).
    except Exception as err:
        raise InceptionWeightsUnavailable(unavailable_message(weights_path, err)) from err


def to_inception_bytes(x: Tensor) -> Tensor:
    """``(N, 1|3, H, W)`` floats in [-1, 1] -> ``(N, 3, H, W)`` uint8, rounded like a saved PNG."""
    images = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


class InceptionEvaluator(Evaluator):
    """FID Inception-v3: 2048-d pool3 features, softmax of the 1008 unbiased logits.

    Args:
        weights_path: a local copy of the weights file; None: ``$GAN_LAB_INCEPTION_WEIGHTS``,
            else torch.hub's cache, else download.
        batch_size: images per forward pass (each is resized to 299x299).

    ``accuracy`` is None (not measured on the data set at hand).  ``sha256`` is the SHA-256 of the
    weights file read (the local file, else torch.hub's cached copy), None if there is none to hash.
    """

    def __init__(self, weights_path: str | os.PathLike | None = None, batch_size: int = 64) -> None:
        super().__init__(batch_size)
        self.extractor = load_inception_extractor(weights_path)
        local = resolve_weights_path(weights_path)
        read_from = Path(local) if local is not None else hub_cache_path()  # the hub copy, just downloaded or not
        self.weights_path = read_from if read_from.is_file() else None
        self.sha256 = None if self.weights_path is None else sha256_file(self.weights_path)
        self.name = "inception-v3"
        self.num_features = 2048
        self.num_classes = self.extractor.fc.out_features  # 1008
        self.accuracy = None
        self.freeze()

    def check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"The Inception evaluator expects float images (N, 1 or 3, H, W) in [-1, 1], got "
                             f"{getattr(x, 'dtype', type(x).__name__)} {tuple(getattr(x, 'shape', ()))}.")

    def score_batch(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features, logits = self.extractor(to_inception_bytes(x))  # (B, 2048), (B, 1008)
        return features, torch.softmax(logits.double(), dim=1).float()
