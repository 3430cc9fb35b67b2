"""Where gan_lab's Hydra configs live, whatever the current directory is."""

from __future__ import annotations

import os
from pathlib import Path

#: ``configs/`` at the top of the repository (an editable install keeps it
#: beside the package); ``$GAN_LAB_CONFIG_DIR`` points elsewhere.
CONFIG_DIR = Path(os.environ.get("GAN_LAB_CONFIG_DIR", Path(__file__).resolve().parent.parent / "configs"))
