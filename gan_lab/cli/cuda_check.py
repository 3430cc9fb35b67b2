"""Keep Lightning's fork-safe CUDA check only where there is CUDA to protect.

On import, Lightning (``lightning_fabric/__init__.py``) sets
``PYTORCH_NVML_BASED_CUDA_CHECK=1`` for the whole process, so that
``torch.cuda.is_available()`` asks NVML instead of initialising CUDA, which
would stop forked processes from using the GPU (pytorch/pytorch#83973,
Lightning-AI/pytorch-lightning#15110).

That check is not cached, and in torch 2.14 every ``Optimizer.step()``
calls ``torch.cuda.is_available()`` (through
``_accelerator_graph_capture_health_check``).  On a machine without an
NVIDIA driver, with the CUDA build of torch that ``pip install torch`` gives
on Linux, each call tries to load ``libnvidia-ml.so.1`` again, fails and
falls back, twice per GAN step: a large share of a small network's Adam step
(``experiments/benchmarks/training_overhead.py`` prints the step with and
without it; the table is in ``experiments/benchmarks/README.md``).  A plain
PyTorch loop, without Lightning imported, never pays it.

Where no CUDA device exists there is nothing for the NVML check to protect,
so :func:`use_fast_cuda_check` removes the variable; torch's own check then
answers from a cached device count.  With a GPU it leaves Lightning's
setting alone.
"""

from __future__ import annotations

import os

import pytorch_lightning  # noqa: F401  (imported first: its import sets the variable)
import torch

NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


def use_fast_cuda_check() -> bool:
    """Drop ``PYTORCH_NVML_BASED_CUDA_CHECK`` if no CUDA device is visible; return whether it was dropped.

    The decision is made once, with the NVML check itself (so it never
    initialises CUDA): a process that sees no device at start-up cannot
    fork-poison one later.
    """
    if os.environ.get(NVML_CHECK) == "1" and not torch.cuda.is_available():
        del os.environ[NVML_CHECK]
        return True
    return False
