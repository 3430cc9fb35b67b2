"""gan_lab.cli.cuda_check: Lightning's NVML-based CUDA check is dropped only where no CUDA device exists."""

import os
import subprocess
import sys

import torch

from gan_lab.cli.cuda_check import NVML_CHECK, use_fast_cuda_check


def test_the_nvml_check_is_dropped_without_a_cuda_device(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")  # what importing Lightning does
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert use_fast_cuda_check() is True
    assert NVML_CHECK not in os.environ


def test_the_nvml_check_stays_where_there_is_a_gpu(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert use_fast_cuda_check() is False
    assert os.environ[NVML_CHECK] == "1"


def test_building_a_run_drops_the_check_on_this_cpu_machine(tmp_path):
    """In a fresh process (so no earlier test has touched the variable): Lightning sets it, building a run drops it."""
    if torch.cuda.is_available():
        return
    script = (
        "import os, pytorch_lightning\n"
        f"print(os.environ.get({NVML_CHECK!r}))\n"
        "from gan_lab.cli.compose import compose_config\n"
        "from gan_lab.cli.train import build\n"
        f"build(compose_config(['data=ring8', 'evaluation=none'], {str(tmp_path)!r}))\n"
        f"print(os.environ.get({NVML_CHECK!r}))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != NVML_CHECK}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "None"]
