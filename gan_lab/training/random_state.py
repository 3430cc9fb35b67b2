"""The global random state kept in checkpoints, so that a resumed run draws the same noise and batches as an
uninterrupted one (Lightning stores the weights and the loops' progress, not the random generators)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def rng_states() -> dict[str, Any]:
    """Every global random state (torch, CUDA, NumPy, Python) in a form ``weights_only`` loading accepts."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        # NumPy's key array as a tensor: Lightning loads checkpoints with ``weights_only=True``.
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached_gaussian)),
        "python": random.getstate(),  # nested tuples of ints: safe for weights_only loading
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    """Undo :func:`rng_states`: set every global random state back to what it was."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    name, keys, pos, has_gauss, cached_gaussian = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached_gaussian))
    random.setstate(states["python"])
