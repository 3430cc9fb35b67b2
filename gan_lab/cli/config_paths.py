"""Where gan_lab's Hydra configs live, whatever the current directory is.

One set of files: ``configs/`` at the top of the repository, where users read and edit them.  A built
wheel carries the same files inside the package, as ``gan_lab/configs/`` (``setup.py`` maps them), so an
installed gan_lab finds them there; a source checkout (an editable install) finds them beside the package.
``$GAN_LAB_CONFIG_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # gan_lab/


def config_dir() -> Path:
    """``$GAN_LAB_CONFIG_DIR``, else the configs installed in the package, else the checkout's ``configs/``."""
    if os.environ.get("GAN_LAB_CONFIG_DIR"):
        return Path(os.environ["GAN_LAB_CONFIG_DIR"])
    installed = PACKAGE_DIR / "configs"
    return installed if (installed / "config.yaml").is_file() else PACKAGE_DIR.parent / "configs"


CONFIG_DIR = config_dir()
