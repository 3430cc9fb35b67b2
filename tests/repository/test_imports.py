"""Importing gan_lab has no side effects: the environment and matplotlib's backend stay as the user set them."""

from __future__ import annotations

import subprocess
import sys


def test_importing_gan_lab_changes_neither_the_environment_nor_the_backend():
    code = (
        # The libraries' own imports set variables (Lightning: PYTORCH_NVML_BASED_CUDA_CHECK): gan_lab's must add none.
        "import os, matplotlib, pytorch_lightning, torch, torchvision, torchmetrics, hydra, sklearn.datasets, scipy.stats; "
        "before = dict(os.environ); "
        "import gan_lab, gan_lab.training.module, gan_lab.callbacks, gan_lab.cli.train, gan_lab.cli.evaluate, gan_lab.viz.plots, "
        "gan_lab.viz, gan_lab.evaluation, gan_lab.metrics.js_grid, gan_lab.callbacks.run_overview; "
        "assert dict(os.environ) == before, set(before.items()) ^ set(os.environ.items()); "
        "print(matplotlib.get_backend())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**__import__("os").environ, "MPLBACKEND": "svg"}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "svg"
